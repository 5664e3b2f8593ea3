"""Helpers of the accounts tests."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def path_of(link: str) -> str:
    """``http://localhost/acme/verify/abc`` → ``/acme/verify/abc``: what the test client asks for."""
    return re.sub(r"^https?://[^/]+", "", link)


def last_mail(box, address: str):
    found = box.to(address)
    assert found, f"no mail to {address}; mail received: {[m['To'] for m in box.messages]}"
    return found[-1]


def csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def audit_actions(app, slug: str) -> list[str]:
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def expire_tokens(app, slug: str, purpose: str) -> None:
    """Move every ``purpose`` link of ``slug`` into the past."""
    from blueprints.accounts.models import AccountToken
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope(slug, app):
        for token in db.session.scalars(select(AccountToken).where(AccountToken.purpose == purpose)):
            token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def user_named(app, slug: str, email: str):
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user

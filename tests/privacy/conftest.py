"""Privacy tests: pages in English, a staff member, the visitor's consent."""

from __future__ import annotations

import secrets

import pytest


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def make_staff(app, email: str = "sam@emarge.fr", role: str = "platform-admin") -> int:
    import pyotp

    from blueprints.staff.models import Staff
    from blueprints.staff.totp import encrypt_secret
    from tenants.db import db

    with app.app_context():
        staff = Staff(
            email=email,
            name="Sam Support",
            password_hash="x",
            totp_secret=encrypt_secret(pyotp.random_base32()),
            role=role,
        )
        db.session.add(staff)
        db.session.commit()
        return staff.id


def sign_in_staff(app, client, *, email: str = "sam@emarge.fr", role: str = "platform-admin") -> int:
    """Put a staff login in ``client``'s session (the login form itself is tested by the staff area)."""
    from blueprints.accounts.logins import open_staff_login
    from tenants.db import db

    staff_id = make_staff(app, email, role)
    with app.app_context():
        opened = open_staff_login(staff_id, {"ip": "127.0.0.1", "user_agent": "pytest"})
        db.session.commit()
    with client.session_transaction() as session:
        session["staff_login"] = f"{opened.login_id}:{opened.key}"
    return staff_id


@pytest.fixture
def staff_client(app):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, c)
    return c


def text(response) -> str:
    import html

    return html.unescape(response.get_data(as_text=True))


def consent_rows(app):
    from sqlalchemy import select

    from blueprints.privacy.models import ConsentProof
    from tenants.db import db

    with app.app_context():
        rows = db.session.scalars(select(ConsentProof).order_by(ConsentProof.id)).all()
        db.session.expunge_all()
        return rows


def view_event(page: str = "/", view: str | None = None, **extra) -> dict:
    return {
        "type": "view",
        "view": view or secrets.token_hex(16),
        "path": page,
        "language": "en-GB",
        "width": 1280,
        "referrer": "",
        **extra,
    }

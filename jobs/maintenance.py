"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from jobs import platform_job
from tenants import all_tenants, tenant_scope
from tenants.db import db, utcnow


@platform_job
def purge_expired_tokens() -> None:
    """One-time links are kept a week past their expiry (to tell "expired" from "unknown"), then deleted."""
    from blueprints.accounts.models import AccountToken

    for tenant in all_tenants():
        with tenant_scope(tenant):
            db.session.execute(
                delete(AccountToken).where(AccountToken.expires_at < utcnow() - timedelta(days=7))
            )
            db.session.commit()

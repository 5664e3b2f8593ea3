"""The staff directory of organizations: a search by name, web address, billing address or admin email (the
platform's index of hashed account emails, never a scan of the tenants), a filter by state, pages of 50, and
each organization's figures from the platform's statistics table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from tenants.db import db
from tenants.models import STATES, AccountEmail, BillingProfile, Tenant, TenantStats, state_clause

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    rows: list  # (Tenant, TenantStats | None)
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(text: str | None = None, state: str | None = None, page: int = 1) -> Page:
    """One page of organizations matching ``text`` (an admin's email when it holds an @) in ``state``."""
    from blueprints.accounts.email_index import email_hash
    from blueprints.accounts.services import normalize_email

    query = select(Tenant.id)
    text = " ".join((text or "").split())[:200]
    if "@" in text:
        admins = select(AccountEmail.tenant_id).where(
            AccountEmail.email_hash == email_hash(normalize_email(text)), AccountEmail.is_admin.is_(True)
        )
        query = query.where(Tenant.id.in_(admins))
    elif text:
        pattern = _like(text)
        query = query.outerjoin(BillingProfile, BillingProfile.tenant_id == Tenant.id).where(
            or_(
                func.lower(Tenant.name).like(pattern, escape="\\"),
                func.lower(Tenant.slug).like(pattern, escape="\\"),
                func.lower(BillingProfile.billing_address).like(pattern, escape="\\"),
                func.lower(BillingProfile.billing_name).like(pattern, escape="\\"),
            )
        )
    if state in STATES:
        query = query.where(state_clause(state))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, min(page, max(1, -(-total // PAGE_SIZE))))
    ids = query.order_by(Tenant.name, Tenant.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE).subquery()
    rows = db.session.execute(
        select(Tenant, TenantStats)
        .join(ids, ids.c.id == Tenant.id)
        .outerjoin(TenantStats, TenantStats.tenant_id == Tenant.id)
        .order_by(Tenant.name, Tenant.id)
    ).all()
    return Page([tuple(r) for r in rows], total, page)

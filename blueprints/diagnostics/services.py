"""Reading the platform's diagnostics for staff: the groups, one group's reports, a reference looked up, the
"resolved" mark; and the retention purge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select

from blueprints.diagnostics.models import ErrorGroup, ErrorReport
from tenants.db import db, utcnow
from tenants.retention import DIAGNOSTICS

PAGE_SIZE = 50
OPEN, RESOLVED = "open", "resolved"


@dataclass(frozen=True)
class Groups:
    rows: list[ErrorGroup]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def groups(state: str | None = OPEN, page: int = 1) -> Groups:
    """The groups, the most recently seen first: open ones (the default), resolved ones, or all."""
    query = select(ErrorGroup)
    if state == OPEN:
        query = query.where(ErrorGroup.resolved_at.is_(None))
    elif state == RESOLVED:
        query = query.where(ErrorGroup.resolved_at.is_not(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, min(page, max(1, -(-total // PAGE_SIZE))))
    rows = db.session.scalars(
        query.order_by(ErrorGroup.last_seen.desc(), ErrorGroup.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return Groups(list(rows), total, page)


def reports_of(group_id: int, limit: int = 20) -> list[ErrorReport]:
    return list(
        db.session.scalars(
            select(ErrorReport)
            .where(ErrorReport.group_id == group_id)
            .order_by(ErrorReport.occurred_at.desc(), ErrorReport.id.desc())
            .limit(limit)
        )
    )


def find_reference(reference: str) -> ErrorReport | None:
    code = "".join(reference.split()).upper()[:12]
    return db.session.scalar(select(ErrorReport).where(ErrorReport.reference == code)) if code else None


def resolve(group: ErrorGroup, staff_id: int) -> None:
    """Mark ``group`` resolved (the caller commits); its next occurrence reopens it."""
    group.resolved_at = utcnow()
    group.resolved_by = staff_id


def reopen(group: ErrorGroup) -> None:
    group.resolved_at = None
    group.resolved_by = None


def slug_of(tenant_id: int) -> str | None:
    from tenants.models import Tenant

    return db.session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))


def purge(now=None) -> dict:
    limit = (now or utcnow()) - DIAGNOSTICS
    reports = db.session.execute(delete(ErrorReport).where(ErrorReport.occurred_at < limit)).rowcount
    groups_left = db.session.execute(
        delete(ErrorGroup).where(
            ErrorGroup.last_seen < limit,
            ~select(ErrorReport.id).where(ErrorReport.group_id == ErrorGroup.id).exists(),
        )
    ).rowcount
    db.session.commit()
    return {"reports": reports, "groups": groups_left}

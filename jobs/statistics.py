"""The platform's figures per organization, for the staff directory: counted in each tenant by an hourly job,
written to the platform's ``tenant_stats`` (counts only, nothing personal)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select

from blueprints.web.audit_guard import writes
from jobs import tenant_job
from tenants import current_tenant
from tenants.db import bind_schema, db, utcnow


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def count_tenant(now: datetime | None = None) -> dict:
    """The figures of the tenant in scope."""
    from blueprints.accounts.models import User, organization
    from blueprints.documents.models import Document
    from blueprints.participants.models import Participant
    from blueprints.signing.models import Attendance
    from blueprints.trainings.models import TrainingSession

    now = now or utcnow()

    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "users": count(User, User.active.is_(True)),
        "participants": count(Participant),
        "sessions": count(TrainingSession),
        "signatures_this_month": count(Attendance, Attendance.signed_at >= month_start(now)),
        "documents": count(Document),
        "support_access": organization().support_access,
    }


def store(tenant_id: int, figures: dict, now: datetime | None = None) -> None:
    """Replace the tenant's line of ``tenant_stats``, on a connection of the platform's own."""
    from tenants.models import TenantStats

    table = TenantStats.__table__
    with db.engine.begin() as connection:
        bind_schema(connection, None)
        connection.execute(delete(table).where(table.c.tenant_id == tenant_id))
        connection.execute(insert(table).values(tenant_id=tenant_id, refreshed_at=now or utcnow(), **figures))


@tenant_job
@writes(none="the platform's figures of the organization: counts, nothing personal")
def refresh_stats() -> dict:
    """Hourly: count the organization's users, participants, sessions, signatures this month and documents."""
    figures = count_tenant()
    store(current_tenant().id, figures)
    return figures

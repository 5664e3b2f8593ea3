"""The retention engine's decisions and its one destructive step. ``plan`` says which organizations are due to be
dropped (the deletion their admins asked for, once its grace is over; or 3 years after their end of service) and
which admins are due a warning (30 and 7 days before the 3 years); ``retire`` drops one organization: its
schema or file with every blob, its platform rows, but not the billing record the law requires nor the
verification index of the documents it issued, which keeps their type, dates and fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from tenants import TenantRef, tenant_scope
from tenants.db import db, utcnow
from tenants.models import DELETED, Tenant
from tenants.retention import DELETION_GRACE, END_OF_SERVICE, END_OF_SERVICE_WARNINGS_DAYS, add_months


def end_of_keeping(tenant) -> datetime | None:
    """When the data of a closed organization goes: 3 years after its end of service, or the shorter period its
    admins chose (``keep_months``)."""
    if tenant.end_of_service_at is None:
        return None
    if tenant.keep_months:
        return add_months(tenant.end_of_service_at, tenant.keep_months)
    return END_OF_SERVICE.after(tenant.end_of_service_at)


def drop_due_at(tenant) -> datetime | None:
    """When the organization is to be dropped: the sooner of its deletion's grace and its period."""
    moments = [m for m in (end_of_keeping(tenant),) if m is not None]
    if tenant.deletion_requested_at is not None:
        moments.append(tenant.deletion_requested_at + DELETION_GRACE)
    return min(moments) if moments else None


@dataclass(frozen=True)
class Plan:
    drops: list[tuple[TenantRef, datetime]]
    warnings: list[tuple[TenantRef, int, datetime]]  # (organization, days before, drop moment)


def warning_notice(days: int) -> str:
    return f"retention_warning_{days}"


def plan(now: datetime | None = None) -> Plan:
    from blueprints.staff.models import PlatformMail

    now = now or utcnow()
    drops, warnings = [], []
    rows = db.session.scalars(
        select(Tenant).where(
            Tenant.status != DELETED,
            or_(Tenant.end_of_service_at.is_not(None), Tenant.deletion_requested_at.is_not(None)),
        )
    ).all()
    for tenant in rows:
        due = drop_due_at(tenant)
        if due <= now:
            drops.append((tenant.ref(), due))
            continue
        kept_until = end_of_keeping(tenant)
        if kept_until is None or kept_until != due:
            continue  # a deletion asked for has emails of its own
        for days in sorted(END_OF_SERVICE_WARNINGS_DAYS):  # the nearest first
            if kept_until - timedelta(days=days) <= now:
                told = db.session.scalar(
                    select(PlatformMail.id)
                    .where(PlatformMail.tenant_id == tenant.id, PlatformMail.notice == warning_notice(days))
                    .limit(1)
                )
                if told is None:
                    warnings.append((tenant.ref(), days, kept_until))
                break  # the nearest warning only: a 30-day one late is not sent after the 7-day one
    return Plan(drops, warnings)


def retire(ref: TenantRef, now: datetime | None = None) -> None:
    """Drop the organization (once due; the caller checked). Idempotent: a dropped one is left alone."""
    from blueprints.accounts.models import organization
    from blueprints.changelog.models import ChangelogRead
    from blueprints.documents.models import Document, DocumentCode
    from blueprints.privacy.models import PolicyAcknowledgement, PolicyNotification
    from blueprints.staff.models import PlatformMail
    from blueprints.support.models import (
        SupportRequest,
        SupportRequestMessage,
        SupportSession,
        SupportSessionEvent,
    )
    from blueprints.trainings.models import TrainingSession
    from tenants.models import AccountEmail, TenantStats, TenantWork
    from tenants.provisioning import drop

    now = now or utcnow()
    row = db.session.get(Tenant, ref.id)
    if row is None or row.status == DELETED:
        return
    with tenant_scope(ref):
        org = organization()
        legal_name = org.name if org else ref.name
        issued = {
            d.verification_code: {
                "kind": d.kind,
                "sha256": d.sha256,
                "size": d.size,
                "content_type": d.content_type,
                "issued_at": d.created_at,
                "start_date": s.start_date,
                "end_date": s.end_date,
                "version": d.version,
            }
            for d, s in db.session.execute(
                select(Document, TrainingSession).join(
                    TrainingSession, TrainingSession.id == Document.session_id
                )
            ).all()
        }
        db.session.commit()
    for code, values in issued.items():
        db.session.execute(update(DocumentCode).where(DocumentCode.code == code).values(**values))
    requests = select(SupportRequest.id).where(SupportRequest.tenant_id == ref.id)
    sessions = select(SupportSession.id).where(SupportSession.tenant_id == ref.id)
    for statement in (
        delete(SupportRequestMessage).where(SupportRequestMessage.request_id.in_(requests)),
        delete(SupportRequest).where(SupportRequest.tenant_id == ref.id),
        delete(SupportSessionEvent).where(SupportSessionEvent.support_session_id.in_(sessions)),
        delete(SupportSession).where(SupportSession.tenant_id == ref.id),
        delete(PlatformMail).where(PlatformMail.tenant_id == ref.id),
        delete(PolicyAcknowledgement).where(PolicyAcknowledgement.tenant_id == ref.id),
        delete(PolicyNotification).where(PolicyNotification.tenant_id == ref.id),
        delete(ChangelogRead).where(ChangelogRead.tenant_id == ref.id),
        delete(AccountEmail).where(AccountEmail.tenant_id == ref.id),
        delete(TenantStats).where(TenantStats.tenant_id == ref.id),
        delete(TenantWork).where(TenantWork.tenant_id == ref.id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()
    drop(ref, keep_row={"status": DELETED, "name": legal_name[:200]})

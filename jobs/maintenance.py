"""Housekeeping jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update

from blueprints.web.audit_guard import writes
from jobs import platform_job, tenant_job, while_closed
from tenants import tenant_scope
from tenants.db import db, utcnow
from tenants.retention import (
    ACCOUNT_TOKENS_PAST_EXPIRY,
    IMPORT_UPLOAD,
    PERIODS,
    SIGN_IN_LINKS_PAST_EXPIRY,
    TASK_FILES,
)

logger = logging.getLogger(__name__)


@tenant_job
@while_closed
@writes(none="retention: one-time links and personal signing links past their period")
def purge_expired_tokens() -> dict:
    """One-time links are kept a week past their expiry, personal signing links 30 days past their expiry or
    withdrawal (a late click hears "expired" rather than "unknown", and a trainee can ask for a new one), then
    deleted."""
    from blueprints.accounts.models import AccountToken
    from blueprints.signing.models import SignInLink

    now = utcnow()
    tokens = db.session.execute(
        delete(AccountToken).where(AccountToken.expires_at < now - ACCOUNT_TOKENS_PAST_EXPIRY)
    ).rowcount
    cutoff = now - SIGN_IN_LINKS_PAST_EXPIRY
    links = db.session.execute(
        delete(SignInLink).where(or_(SignInLink.expires_at < cutoff, SignInLink.revoked_at < cutoff))
    ).rowcount
    db.session.commit()
    return {"tokens": tokens, "sign_in_links": links}


@tenant_job
@while_closed
@writes(none="retention: audit trail events and message log entries past their 12 months")
def purge_logs(now: str | None = None) -> dict:
    """Daily: the organization's audit trail and its log of emails and text messages keep 12 months; older
    entries are deleted (a message still waiting to be sent is never one of them)."""
    from datetime import datetime

    from blueprints.audit.models import AuditEvent
    from blueprints.messages.models import PENDING, QUEUED, SENDING, DevSms, Message

    moment = datetime.fromisoformat(now) if now else utcnow()
    audit_cutoff = PERIODS["audit_trail"].before(moment)
    message_cutoff = PERIODS["message_log"].before(moment)
    old_messages = select(Message.id).where(
        Message.created_at < message_cutoff, Message.status.not_in((PENDING, QUEUED, SENDING))
    )
    counts = {
        "audit_events": db.session.execute(
            delete(AuditEvent).where(AuditEvent.occurred_at < audit_cutoff)
        ).rowcount,
        "dev_sms": db.session.execute(delete(DevSms).where(DevSms.created_at < message_cutoff)).rowcount,
    }
    counts["messages"] = db.session.execute(
        delete(Message).where(Message.id.in_(old_messages)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return counts


@platform_job
@writes(none="retention: the platform's technical logs and consent proofs past their period")
def purge_platform_logs(now: str | None = None) -> dict:
    """Daily: staff actions and ended support access (12 months), cookie-choice proofs (13 months)."""
    from datetime import datetime

    from blueprints.privacy.models import ConsentProof
    from blueprints.staff.models import StaffEvent
    from blueprints.support.models import SupportSession, SupportSessionEvent

    moment = datetime.fromisoformat(now) if now else utcnow()
    logs_cutoff = PERIODS["platform_logs"].before(moment)
    ended = select(SupportSession.id).where(SupportSession.ended_at < logs_cutoff)
    counts = {
        "staff_events": db.session.execute(delete(StaffEvent).where(StaffEvent.at < logs_cutoff)).rowcount,
        "support_session_events": db.session.execute(
            delete(SupportSessionEvent)
            .where(SupportSessionEvent.support_session_id.in_(ended))
            .execution_options(synchronize_session=False)
        ).rowcount,
    }
    counts["support_sessions"] = db.session.execute(
        delete(SupportSession).where(SupportSession.ended_at < logs_cutoff)
    ).rowcount
    counts["consent_proofs"] = db.session.execute(
        delete(ConsentProof).where(ConsentProof.created_at < PERIODS["consent_proofs"].before(moment))
    ).rowcount
    db.session.commit()
    return counts


@tenant_job
@while_closed
@writes(none="retention: unconfirmed uploads and export files past their period")
def purge_stale_files() -> dict:
    """Delete the files nobody needs any more: CSV uploads of imports never confirmed (their preview link has
    expired) and the files exports made, a week after. Both hold personal data; neither is a record."""
    from blueprints.audit.models import AuditEvent
    from blueprints.tasks.models import Task
    from tenants.storage import Blob, storage

    counts = {"uploads": 0, "task_files": 0}
    now = utcnow()
    # An upload is recorded when it is made; a confirmed import deletes its own file once imported.
    uploads = db.session.scalars(
        select(Blob.id)
        .join(AuditEvent, AuditEvent.object_id == Blob.id)
        .where(
            AuditEvent.action == "participants.import_uploaded",
            AuditEvent.object_type == "blobs",
            AuditEvent.occurred_at < now - IMPORT_UPLOAD - timedelta(hours=1),
        )
    ).all()
    for blob_id in uploads:
        storage().delete(str(blob_id))
    counts["uploads"] += len(uploads)
    finished = db.session.scalars(select(Task).where(Task.finished_at < now - TASK_FILES)).all()
    for task in finished:
        key = (task.result or {}).get("blob")
        if key:
            storage().delete(key)
            task.result = {**task.result, "blob": None, "file_deleted": True}
            counts["task_files"] += 1
    db.session.commit()
    return counts


@platform_job
@writes(none="retention: organizations whose address was never confirmed")
def drop_unconfirmed_organizations() -> list[str]:
    """Daily: an organization whose account holder never confirmed the address is deleted, schema and all,
    ``UNCONFIRMED_ORGANIZATION`` after it signed up. One whose address was confirmed without the platform row
    hearing of it (a crash between the two) is marked confirmed instead."""
    from blueprints.accounts.models import User
    from tenants.models import Tenant
    from tenants.provisioning import drop
    from tenants.retention import UNCONFIRMED_ORGANIZATION

    cutoff = utcnow() - UNCONFIRMED_ORGANIZATION
    candidates = [
        tenant.ref()
        for tenant in db.session.scalars(
            select(Tenant).where(Tenant.confirmed_at.is_(None), Tenant.created_at < cutoff)
        )
    ]
    db.session.commit()
    dropped = []
    for ref in candidates:
        with tenant_scope(ref):
            verified = db.session.scalars(
                select(func.min(User.email_verified_at)).where(User.email_verified_at.is_not(None))
            ).first()
            db.session.commit()
        if verified is not None:
            db.session.execute(update(Tenant).where(Tenant.id == ref.id).values(confirmed_at=verified))
            db.session.commit()
            continue
        drop(ref)
        dropped.append(ref.slug)
        logger.info("organization %s dropped: its address was never confirmed", ref.slug)
    return dropped


@platform_job
@writes(none="retention: ended staff login records")
def purge_ended_staff_logins() -> dict:
    """Daily: the records of staff logins that ended by themselves."""
    from blueprints.accounts.logins import purge_expired_staff_logins

    counts = {"staff_logins": purge_expired_staff_logins()}
    db.session.commit()
    return counts


@tenant_job
@while_closed
@writes(none="retention: ended login records")
def purge_ended_logins() -> dict:
    """Daily: the records of logins that ended by themselves, and SMS receipts past their replay window."""
    from blueprints.accounts.logins import purge_expired_logins
    from blueprints.messages.models import SmsReceipt
    from tenants.retention import SMS_RECEIPTS

    counts = {
        "logins": purge_expired_logins(),
        "sms_receipts": db.session.execute(
            delete(SmsReceipt).where(SmsReceipt.received_at < utcnow() - SMS_RECEIPTS)
        ).rowcount,
    }
    db.session.commit()
    return counts

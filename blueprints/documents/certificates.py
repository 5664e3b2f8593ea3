"""Certificates by email: the latest certificate of a participant, sent once per session with its PDF."""

from __future__ import annotations

from sqlalchemy import func, select

from blueprints.documents.models import (
    CERTIFICATE,
    Document,
    subject_key,
)
from blueprints.documents.services import verify_url
from blueprints.participants.models import Participant
from blueprints.trainings.models import Slot, TrainingSession
from tenants import TenantRef
from tenants.db import db

# --- certificates by email -----------------------------------------------------------------------------------


def latest_certificate(session_id: int, participant_id: int) -> Document | None:
    return db.session.scalars(
        select(Document)
        .where(
            Document.kind == CERTIFICATE,
            Document.subject_key == subject_key(session_id, participant_id=participant_id),
        )
        .order_by(Document.version.desc())
    ).first()


def email_certificate(
    document: Document, participant: Participant, session: TrainingSession, *, dedupe_key, tenant: TenantRef
):
    """Queue the certificate to its trainee, attached; None when not sent (restricted, no address, sent)."""
    from blueprints.messages.services import N_, queue_email

    if participant.processing_restricted or not participant.email:
        return None
    return queue_email(
        "certificate",
        tenant=tenant,
        to=participant.email,
        name=participant.full_name,
        language=participant.language or tenant.language,
        subject=N_("Your certificate of completion: %(training)s"),
        context={
            "training": session.training.title,
            "start_date": session.start_date,
            "end_date": session.end_date,
            "code": document.verification_code,
            "verify_url": verify_url(document.verification_code),
        },
        session_id=session.id,
        participant_id=participant.id,
        dedupe_key=dedupe_key,
        attachment_document_id=document.id,
    )


def certificate_sent(session_id: int, participant_id: int) -> bool:
    """Whether the automatic sending already happened (any version)."""
    from blueprints.messages.models import Message

    prefix = f"certificate:{session_id}:{participant_id}:"
    return (
        db.session.scalar(
            select(Message.id).where(
                Message.dedupe_key.like(prefix + "%"), ~Message.dedupe_key.like("%:manual:%")
            )
        )
        is not None
    )


def attended_minutes(session_id: int) -> dict[int, int]:
    """Minutes attended per participant of a session."""
    from blueprints.signing.models import Attendance

    rows = db.session.execute(
        select(Attendance.participant_id, func.sum(Attendance.attended_minutes))
        .join(Slot, Slot.id == Attendance.slot_id)
        .where(Slot.session_id == session_id)
        .group_by(Attendance.participant_id)
    )
    return {participant_id: int(total or 0) for participant_id, total in rows}

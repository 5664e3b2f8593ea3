"""Justifications of absences: sent by the trainee from their page or recorded by an admin, before or after the
half-day; accepted (the half-day becomes "excused") or refused by an admin, with a reason the trainee is told.

The proof (PDF, PNG or JPEG, 5 MB at most, checked by ``blueprints/shared/uploads``) may be health data: only
admins open it, never facilitators, and it is masked in support sessions. Plain functions: values in, the
caller commits."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.audit.services import Actor, record
from blueprints.participants.models import Enrollment, Participant
from blueprints.shared import uploads
from blueprints.shared.problems import FieldProblem
from blueprints.signing.models import LATE, PRESENT, Attendance
from blueprints.tracking.models import ACCEPTED, ASKED, PENDING, REASONS, REFUSED, WARNED, Justification
from blueprints.trainings.models import Slot
from tenants import TenantRef
from tenants.db import db, utcnow
from tenants.storage import storage

MAX_PROOF_BYTES = 5 * 1024 * 1024
PROOF_TYPES = (uploads.PDF, uploads.PNG, uploads.JPEG)
MAX_TEXT = 2000
SUBMITTED, DECIDED = "justification.submitted", "justification.decided"


class JustificationProblem(FieldProblem):
    """A justification refused, with the form field to show the message at."""


def _proof_problem(reason: str) -> JustificationProblem:
    if reason == uploads.TOO_LARGE:
        return JustificationProblem("proof", _("The proof is larger than 5 MB: send a smaller file."))
    if reason == uploads.EMPTY:
        return JustificationProblem("proof", _("The proof file is empty."))
    return JustificationProblem("proof", _("The proof must be a PDF, PNG or JPEG file that opens."))


def of_slot(slot_id: int, participant_id: int) -> Justification | None:
    return db.session.scalars(
        select(Justification).where(
            Justification.slot_id == slot_id, Justification.participant_id == participant_id
        )
    ).first()


def submit(
    participant: Participant,
    slot: Slot | None,
    actor: Actor,
    *,
    reason: str,
    text: str = "",
    proof: bytes | None = None,
    recorded_by_user_id: int | None = None,
    now: datetime | None = None,
) -> Justification:
    """Record a justification for ``slot``, one of the trainee's half-days they did not sign."""
    now = now or utcnow()
    enrolled = slot is not None and db.session.scalar(
        select(Enrollment.id).where(
            Enrollment.session_id == slot.session_id, Enrollment.participant_id == participant.id
        )
    )
    if not enrolled:
        raise JustificationProblem("slot", _("This half-day is not one of this trainee's."))
    existing = of_slot(slot.id, participant.id)
    if existing is not None:
        raise JustificationProblem(
            "slot",
            _(
                "A justification was already sent for this half-day: it is %(status)s.",
                status=_status(existing),
            ),
        )
    attended = db.session.scalar(
        select(Attendance.status).where(
            Attendance.slot_id == slot.id, Attendance.participant_id == participant.id
        )
    )
    if attended in (PRESENT, LATE):
        raise JustificationProblem("slot", _("This half-day is signed: there is no absence to justify."))
    if reason not in REASONS:
        raise JustificationProblem("reason", _("Pick the reason from the list."))
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise JustificationProblem("text", _("Keep the explanation under %(num)d characters.", num=MAX_TEXT))
    checked = None
    if proof:
        try:
            checked = uploads.check_file(proof, accept=PROOF_TYPES, max_bytes=MAX_PROOF_BYTES)
        except uploads.UploadProblem as problem:
            raise _proof_problem(problem.reason) from None
    row = Justification(
        slot_id=slot.id,
        participant_id=participant.id,
        reason=reason,
        text=text,
        recorded_by_user_id=recorded_by_user_id,
        submitted_at=now,
        status=PENDING,
    )
    if checked is not None:
        blob = storage().put(
            checked.data, content_type=checked.content_type, filename=f"proof-{slot.id}.{checked.extension}"
        )
        row.proof_blob_id, row.proof_content_type = int(blob.key), checked.content_type
    db.session.add(row)
    db.session.flush()
    record(
        actor,
        SUBMITTED,
        row,
        slot_id=slot.id,
        participant_id=participant.id,
        reason=reason,
        proof=checked is not None,
        by_admin=recorded_by_user_id is not None,
    )
    return row


def _status(row: Justification) -> str:
    return str(STATUS_LABELS[row.status])


def decide(
    row: Justification,
    actor: Actor,
    user,
    *,
    accept: bool,
    reason: str = "",
    tenant: TenantRef,
    now: datetime | None = None,
) -> Justification:
    """Accept (the half-day becomes "excused") or refuse, with the reason the trainee is told."""
    from blueprints.signing import services as signing

    now = now or utcnow()
    if row.status != PENDING:
        raise JustificationProblem(
            "decision", _("This justification is already %(status)s.", status=_status(row))
        )
    reason = (reason or "").strip()
    if not accept and not reason:
        raise JustificationProblem("decision_reason", _("Say why it is refused: the trainee is told."))
    slot = db.session.get(Slot, row.slot_id)
    participant = db.session.get(Participant, row.participant_id)
    if accept:
        try:
            signing.mark(
                slot,
                participant,
                "excused",
                actor,
                user,
                reason=_("Justification accepted: %(reason)s", reason=reason_label(row.reason)),
                now=now,
            )
        except signing.SigningError as problem:
            raise JustificationProblem("decision", str(problem.message)) from None
    row.status = ACCEPTED if accept else REFUSED
    row.decision_reason = reason or None
    row.decided_at, row.decided_by_user_id = now, user.id
    db.session.flush()
    record(actor, DECIDED, row, slot_id=row.slot_id, participant_id=row.participant_id, status=row.status)
    _tell_trainee(row, slot, participant, tenant)
    return row


def _tell_trainee(row: Justification, slot: Slot, participant: Participant, tenant: TenantRef) -> None:
    from blueprints.messages.services import N_, queue_email

    if not participant.email:
        return
    queue_email(
        "justification_decided",
        tenant=tenant,
        to=participant.email,
        name=participant.full_name,
        language=participant.language or tenant.language,
        subject=(
            N_("Your justification of absence is accepted")
            if row.status == ACCEPTED
            else N_("Your justification of absence is refused")
        ),
        context={
            "accepted": row.status == ACCEPTED,
            "training": slot.session.training.title,
            "starts_at": slot.starts_at,
            "zone": slot.session.timezone,
            "decision_reason": row.decision_reason or "",
        },
        session_id=slot.session_id,
        participant_id=participant.id,
        slot_id=slot.id,
        dedupe_key=f"justification:{row.id}:{row.status}",
    )


def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))


def proof(row: Justification) -> tuple[str, bytes] | None:
    if row.proof_blob_id is None or row.proof_purged_at is not None:
        return None
    found = storage().get(str(row.proof_blob_id))
    return (row.proof_content_type, found[1]) if found is not None else None


# A justification's state, and a follow-up step, as every page and the follow-up record name them.
STATUS_LABELS = {PENDING: _l("waiting for a decision"), ACCEPTED: _l("accepted"), REFUSED: _l("refused")}
STEP_LABELS = {ASKED: _l("asked for a justification"), WARNED: _l("admins and employer contact warned")}

REASON_LABELS = {
    "illness": _l("Illness"),
    "family": _l("Family reasons"),
    "work": _l("Work obligations"),
    "transport": _l("Transport problem"),
    "force_majeure": _l("Force majeure"),
    "other": _l("Other reason"),
}

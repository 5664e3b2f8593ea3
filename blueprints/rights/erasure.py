"""Erasure of a participant, by category, never by deleting their row (documents, messages and evidence refer
to it). What each category becomes:

- ``contact``: identity, contact and profile fields blanked (the person is "#id" from then on), their requests'
  texts, the names their own actions left in the audit trail, their exports' files; their links stop working;
- ``messages``: recipients and texts of every message and text message sent to them;
- ``evidence``: their attendance evidence (signature images, IP address, browser, reasons) and their funder file
  reference. It may be kept under a legal obligation the admin records (their funders require 3, 6 or 10 years
  after the session), until a date: anonymised then, by the daily pass (``anonymise_expired``).

Documents already issued stay as issued (a sealed sheet is evidence too); ``/verify`` shows nothing personal.
Every erasure is written in the ledger (``ledger.py``) before it commits, so a restored backup gets it again.
``apply`` is the data change alone: the erasure, its replay and the daily pass share it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from blueprints.audit.models import AuditEvent
from blueprints.audit.services import Actor, record
from blueprints.messages.models import DevSms, Message
from blueprints.participants.models import Enrollment, Participant
from blueprints.rights import holdings, ledger
from blueprints.rights.models import RightsRequest
from blueprints.shared.problems import FieldProblem
from blueprints.signing.models import Attendance, SignInLink
from blueprints.trainings.models import TrainingSession
from tenants import TenantRef
from tenants.db import db, utcnow
from tenants.retention import EVIDENCE_HOLD_YEARS
from tenants.storage import storage

CONTACT = "contact"
MESSAGES = "messages"
EVIDENCE = "evidence"
CATEGORIES = (CONTACT, MESSAGES, EVIDENCE)
# How long the evidence may be kept, as the funders require (tenants/retention.py).
KEEP_YEARS = EVIDENCE_HOLD_YEARS
ERASED_ACTION = "participant.erased"
ERASED_SUBJECT = "(erased)"


class ErasureProblem(FieldProblem):
    """An erasure that cannot be done as asked, with the form field to show the message at."""


@dataclass(frozen=True)
class Preview:
    """What the admin is shown before confirming: the figures of each category, and any running session."""

    messages: int
    text_messages: int
    attendance: int
    signatures: int
    documents: int
    requests: int
    running: list[TrainingSession]
    last_session_end: date | None

    def kept_until(self, years: int, today: date) -> date:
        start = self.last_session_end or today
        try:
            return start.replace(year=start.year + years)
        except ValueError:  # 29 February
            return start.replace(year=start.year + years, day=28)


def preview(participant: Participant, today: date) -> Preview:
    held = holdings.of_participant(participant)
    message_ids = [m.id for m in held.messages]
    sms = (
        db.session.scalar(select(func.count()).select_from(DevSms).where(DevSms.message_id.in_(message_ids)))
        if message_ids
        else 0
    )
    sessions = [s for _, s in held.enrollments]
    return Preview(
        messages=len(held.messages),
        text_messages=sms or 0,
        attendance=len(held.attendance),
        signatures=sum(1 for a, _ in held.attendance if a.signature_blob_id is not None),
        documents=len(held.documents),
        requests=len(held.requests),
        running=[s for s in sessions if s.end_date >= today],
        last_session_end=max((s.end_date for s in sessions), default=None),
    )


def erase(
    participant: Participant,
    actor: Actor,
    *,
    tenant: TenantRef,
    categories: list[str],
    keep_years: int | None,
    basis: str,
    confirm_running: bool,
    today: date,
) -> date | None:
    """Erase the categories asked for. ``keep_years``: the attendance evidence is kept that long after the last
    session, under ``basis`` (the obligation); None with ``evidence``: erased now. Returns the keeping date."""
    chosen = tuple(c for c in CATEGORIES if c in set(categories or ()))
    if not chosen:
        raise ErasureProblem("categories", _("Tick what to erase."))
    if participant.erased_at is not None and CONTACT in chosen:
        raise ErasureProblem("categories", _("This person was already erased."))
    found = preview(participant, today)
    if found.running and not confirm_running:
        raise ErasureProblem(
            "confirm_running",
            _(
                "%(name)s is enrolled in a session running until %(day)s: their link stops working now. Tick to "
                "confirm.",
                name=participant.full_name,
                day=found.running[0].end_date.strftime("%d/%m/%Y"),
            ),
        )
    kept_until = None
    if EVIDENCE in chosen and keep_years is not None:
        if keep_years not in KEEP_YEARS:
            raise ErasureProblem(
                "keep_years", _("Pick how long the funders require the evidence: 3, 6 or 10 years.")
            )
        basis = (basis or "").strip()
        if not basis:
            raise ErasureProblem("basis", _("Name the obligation (the funder and its rule): it is recorded."))
        kept_until = found.kept_until(keep_years, today)
    now = utcnow()
    # The ledger first: an erasure is never done without its line (a replay applies a line again harmlessly).
    ledger.write(tenant.id, participant.id, chosen, kept_until, now, actor.user_id)
    apply(participant, chosen, kept_until=kept_until, basis=basis[:200] if kept_until else None, now=now)
    record(
        actor,
        ERASED_ACTION,
        participant,
        categories=list(chosen),
        evidence_kept_until=kept_until.isoformat() if kept_until else None,
    )
    return kept_until


def apply(
    participant: Participant,
    categories: tuple[str, ...],
    *,
    kept_until: date | None,
    basis: str | None = None,
    now: datetime | None = None,
) -> None:
    """The data change of an erasure, idempotent (a replay after a restore runs it again)."""
    now = now or utcnow()
    pid = participant.id
    if CONTACT in categories:
        for field in ("civility", "email", "mobile", "company", "job_title", "notes"):
            setattr(participant, field, None)
        participant.first_name = participant.last_name = ""
        participant.sms_consent = False
        participant.processing_restricted = True
        participant.archived_at = participant.archived_at or now
        participant.erased_at = participant.erased_at or now
        db.session.execute(
            update(RightsRequest)
            .where(RightsRequest.participant_id == pid)
            .values(message="", answer=None, extension_reason=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.actor_participant_id == pid)
            .values(actor_label=f"participant#{pid}")
            .execution_options(synchronize_session=False)
        )
        # Rectifications keep which fields changed, not the values any more.
        for event in db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == Participant.__tablename__,
                AuditEvent.object_id == pid,
                AuditEvent.action == "participant.updated",
            )
        ):
            if "changes" in (event.details or {}):
                event.details = {k: v for k, v in event.details.items() if k != "changes"}
        db.session.execute(
            update(SignInLink)
            .where(SignInLink.participant_id == pid, SignInLink.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        for task in holdings.exports_of(pid, limit=1000):
            key = (task.result or {}).get("blob")
            if key:
                storage().delete(key)
                task.result = {**task.result, "blob": None, "file_deleted": True}
    if MESSAGES in categories:
        ids = list(db.session.scalars(select(Message.id).where(Message.participant_id == pid)))
        if ids:
            db.session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(
                    recipient="",
                    recipient_name=None,
                    subject=ERASED_SUBJECT,
                    body_text=None,
                    body_html=None,
                    provider_answer=None,
                )
                .execution_options(synchronize_session=False)
            )
            db.session.execute(
                update(DevSms)
                .where(DevSms.message_id.in_(ids))
                .values(recipient="", body="")
                .execution_options(synchronize_session=False)
            )
    if EVIDENCE in categories:
        if kept_until is not None and kept_until > now.date():
            participant.evidence_kept_until, participant.evidence_basis = kept_until, basis
        else:
            _anonymise_evidence(participant)
    db.session.flush()


def _anonymise_evidence(participant: Participant) -> None:
    for attendance in db.session.scalars(
        select(Attendance).where(Attendance.participant_id == participant.id)
    ):
        for column in ("signature_blob_id", "thumbnail_blob_id"):
            blob_id = getattr(attendance, column)
            if blob_id is not None:
                storage().delete(str(blob_id))
                setattr(attendance, column, None)
        attendance.ip = attendance.user_agent = attendance.language = attendance.reason = None
    db.session.execute(
        update(Enrollment)
        .where(Enrollment.participant_id == participant.id)
        .values(funder_reference=None)
        .execution_options(synchronize_session=False)
    )
    participant.evidence_kept_until = participant.evidence_basis = None


def anonymise_expired(today: date) -> int:
    """The daily pass: evidence kept under an obligation whose date has passed is anonymised."""
    due = list(
        db.session.scalars(
            select(Participant).where(
                Participant.erased_at.is_not(None), Participant.evidence_kept_until < today
            )
        )
    )
    for participant in due:
        _anonymise_evidence(participant)
        record(Actor.system("daily pass"), "participant.evidence_anonymised", participant)
    db.session.flush()
    return len(due)


def replay(tenant: TenantRef) -> int:
    """Apply again every erasure the ledger holds for ``tenant`` (after a restore). How many matched a row."""
    entries = ledger.entries(tenant.id)
    if not entries:
        return 0
    subjects = ledger.match(tenant.id, list(db.session.scalars(select(Participant.id))))
    applied = 0
    for entry in entries:
        pid = subjects.get(entry.subject)
        participant = db.session.get(Participant, pid) if pid else None
        if participant is None:
            continue
        apply(participant, entry.categories, kept_until=entry.evidence_kept_until, now=entry.erased_at)
        applied += 1
    return applied

"""Documents are made here, never in a request: PDFs, the ZIP of a session, attendance exports, certificates
sent by email. Each job reports on its Task (the self-updating bar) and, failing, leaves a "retry" behind.

A job is safe to run twice: a finished task is not run again, and a retried one does not issue again what it
already issued (documents carry the id of the task that made them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select, update

from blueprints.audit.services import Actor
from blueprints.signing.roster import roster_of_session
from blueprints.tasks.models import Task
from blueprints.tasks.services import Progress
from blueprints.web.audit_guard import writes
from jobs import DOCUMENTS, enqueue, tenant_job
from tenants import current_tenant
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)

# The automatic sending of certificates looks at sessions that ended this long ago at most: turning the feature
# on never mails trainees of sessions long past.
CERTIFICATES_WITHIN = timedelta(days=7)


def _live_progress(progress: Progress) -> Callable[[int, int], None] | None:
    # SQLite has one writer per file: a progress write while the job's transaction is open would lock it.
    return progress.update if db.session.get_bind().dialect.name != "sqlite" else None


def _run(task_id: int, work: Callable[[Progress], dict]) -> None:
    """Run ``work`` for the task, then mark it done with the result ``work`` returns, or failed."""
    from blueprints.documents.services import DocumentError

    task = db.session.get(Task, task_id)
    if task is None or task.finished:
        return  # run twice: the first run did it (or reported why not)
    retry = {k: v for k, v in (task.result or {}).items() if k == "page_url"}
    language = _language_of(task.created_by_user_id)
    db.session.commit()  # end the read, so the progress writes never meet an older snapshot (SQLite)
    progress = Progress(task_id, current_tenant().schema)
    # Labels, notes and email subjects are translated: in the organization's language (the job's scope).
    try:
        result = work(progress)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        logger.exception("documents task %s failed", task_id)
        shown = None
        if isinstance(error, DocumentError):
            with force_locale(language):  # the reason is read by the person who clicked
                shown = str(error)
        progress.fail(f"{type(error).__name__}: {error}")
        # Kept for the bar: the retry button, and the reason when the person can act on it.
        db.session.execute(update(Task).where(Task.id == task_id).values(result={**retry, "reason": shown}))
        db.session.commit()
        raise
    progress.finish({**retry, **result})


def _language_of(user_id: int | None) -> str:
    from blueprints.accounts.models import User

    user = db.session.get(User, user_id) if user_id else None
    return (user.language if user else None) or current_tenant().language


def _session(session_id: int):
    from blueprints.documents.services import DocumentError
    from blueprints.trainings.models import TrainingSession

    session = db.session.get(TrainingSession, session_id)
    if session is None:
        raise DocumentError("the session no longer exists", 404)
    return session


@tenant_job
@writes("document.issued")
def generate_documents(task_id: int, session_id: int, items: list[dict], actor: dict) -> None:
    """Issue each document described in ``items`` ({kind, participant_id?, slot_id?}), one commit each."""
    from blueprints.documents import services

    def work(progress: Progress) -> dict:
        issued = []
        for index, item in enumerate(items):
            progress.update(index, len(items))
            session = _session(session_id)
            document = services.already_issued(task_id, item, session_id)
            if document is None:
                document = services.issue_item(
                    session,
                    item,
                    tenant=current_tenant(),
                    actor=Actor(**actor),
                    task_id=task_id,
                    progress=_live_progress(progress) if len(items) == 1 else None,
                )
            issued.append(document.id)
            db.session.commit()
        return {"documents": issued, "summary_template": "documents/_task_summary.html"}

    _run(task_id, work)


@tenant_job
@writes("document.issued")
def build_archive(task_id: int, session_id: int, actor: dict) -> None:
    """The ZIP of every document of a session; the session's documents are issued first if none exists."""
    from blueprints.documents import services
    from blueprints.documents.models import SESSION_SHEET

    def work(progress: Progress) -> dict:
        session = _session(session_id)
        items = (
            []
            if services.latest_documents(session_id, kinds=[SESSION_SHEET])
            else services.session_batch(session)
        )
        db.session.commit()
        for index, item in enumerate(items):
            progress.update(index, len(items) + 1)
            session = _session(session_id)
            if services.already_issued(task_id, item, session_id) is None:
                services.issue_item(
                    session, item, tenant=current_tenant(), actor=Actor(**actor), task_id=task_id
                )
            db.session.commit()
        progress.update(len(items), len(items) + 1)
        archive = services.issue_archive(
            _session(session_id), tenant=current_tenant(), actor=Actor(**actor), task_id=task_id
        )
        db.session.commit()
        return {"documents": [archive.id], "summary_template": "documents/_task_summary.html"}

    _run(task_id, work)


@tenant_job
@writes("attendance.exported")
def export_attendance(
    task_id: int, session_id: int, fmt: str, actor: dict, language: str | None = None
) -> None:
    """Attendance of a session as CSV or XLSX, one row per participant × slot, left in storage."""
    from blueprints.audit.services import record
    from blueprints.documents import exports
    from blueprints.shared.cells import safe_cell
    from tenants.storage import storage

    def work(progress: Progress) -> dict:
        session = _session(session_id)
        with force_locale(language or current_tenant().language):
            rows = list(exports.attendance_rows(session))
            if fmt == "xlsx":
                data = exports.attendance_xlsx(rows, safe_cell)
                content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            else:
                data = exports.attendance_csv(rows, safe_cell)
                content_type = "text/csv"
        progress_total = len(rows)
        filename = exports.export_filename(
            session, "xlsx" if fmt == "xlsx" else "csv", current_tenant().language
        )
        # End the reading transaction before writing (SQLite: see jobs/exports.py).
        db.session.rollback()
        blob = storage().put(data, content_type=content_type, filename=filename)
        record(
            Actor(**actor),
            "attendance.exported",
            object_type="training_sessions",
            object_id=session_id,
            format=fmt,
            rows=progress_total,
        )
        db.session.commit()
        return {"blob": blob.key, "rows": progress_total}

    _run(task_id, work)


@tenant_job
@writes("document.issued")
def email_certificates(task_id: int, session_id: int, participant_ids: list[int] | None, actor: dict) -> None:
    """Email each participant (all, or those given) their newest certificate, issuing one if none exists."""
    from blueprints.documents import certificates, services
    from blueprints.documents.models import CERTIFICATE
    from blueprints.participants.models import Participant

    def work(progress: Progress) -> dict:
        session = _session(session_id)
        people = roster_of_session(session)
        if participant_ids is not None:
            people = [p for p in people if p.id in set(participant_ids)]
        ids = [p.id for p in people]
        db.session.commit()
        sent, skipped = 0, 0
        for index, participant_id in enumerate(ids):
            progress.update(index, len(ids))
            session = _session(session_id)
            participant = db.session.get(Participant, participant_id)
            if participant is None or participant.processing_restricted or not participant.email:
                skipped += 1
                continue
            document = certificates.latest_certificate(session_id, participant_id)
            if document is None:
                document = services.issue_item(
                    session,
                    {"kind": CERTIFICATE, "participant_id": participant_id},
                    tenant=current_tenant(),
                    actor=Actor(**actor),
                    task_id=task_id,
                )
            key = f"certificate:{session_id}:{participant_id}:{document.version}:manual:{task_id}"
            if (
                certificates.email_certificate(
                    document, participant, session, dedupe_key=key, tenant=current_tenant()
                )
                is not None
            ):
                sent += 1
            db.session.commit()
        return {"sent": sent, "skipped": skipped, "summary_template": "documents/_emails_summary.html"}

    _run(task_id, work)


@tenant_job
@writes(none="hands each ended session to send_session_certificates")
def send_due_certificates() -> int:
    """Hourly, for each organization (jobs/fanout.py): the sessions that ended lately get their certificates
    sent, once. Returns how many sessions were handed on."""
    from sqlalchemy import func

    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import current_tenant

    now = utcnow()
    ended = (
        select(Slot.session_id)
        .group_by(Slot.session_id)
        .having(func.max(Slot.ends_at) < now, func.max(Slot.ends_at) > now - CERTIFICATES_WITHIN)
    )
    ids = list(
        db.session.scalars(
            select(TrainingSession.id).where(
                TrainingSession.id.in_(ended), TrainingSession.archived_at.is_(None)
            )
        )
    )
    db.session.commit()
    tenant = current_tenant()
    for session_id in ids:
        enqueue(send_session_certificates, tenant.id, session_id, queue=DOCUMENTS)
    return len(ids)


@tenant_job
@writes("document.issued")
def send_session_certificates(session_id: int) -> int:
    """Send each attending participant of an ended session their certificate, once whatever the version."""
    from blueprints.documents import certificates, services
    from blueprints.documents.models import CERTIFICATE
    from blueprints.participants.models import Participant

    actor = Actor.system("end of session")
    session = db.session.get(services.TrainingSession, session_id)
    if session is None or session.archived_at is not None:
        return 0
    attended = certificates.attended_minutes(session_id)
    ids = [
        p.id
        for p in roster_of_session(session)
        if attended.get(p.id, 0) > 0
        and p.email
        and not p.processing_restricted
        and not certificates.certificate_sent(session_id, p.id)
    ]
    db.session.commit()
    sent = 0
    for participant_id in ids:
        session = db.session.get(services.TrainingSession, session_id)
        participant = db.session.get(Participant, participant_id)
        document = certificates.latest_certificate(session_id, participant_id)
        if document is None:
            document = services.issue_item(
                session,
                {"kind": CERTIFICATE, "participant_id": participant_id},
                tenant=current_tenant(),
                actor=actor,
                task_id=None,
            )
        key = f"certificate:{session_id}:{participant_id}:{document.version}"
        if (
            certificates.email_certificate(
                document, participant, session, dedupe_key=key, tenant=current_tenant()
            )
            is not None
        ):
            sent += 1
        db.session.commit()
    return sent

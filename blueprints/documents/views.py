"""Documents pages: a session's and a participant's documents, downloads, the jobs that make them, paper sheets,
attendance exports; the trainee's own downloads; and the public verification page (outside ``/<org>/``)."""

from __future__ import annotations

import dataclasses
import io
from collections import OrderedDict

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.documents import paper_sheets, services
from blueprints.documents.models import (
    ADMIN_KINDS,
    BLANK_SLOT_SHEET,
    CERTIFICATE,
    FOLLOWUP_RECORD,
    PARTICIPANT_SHEET,
    SESSION_ARCHIVE,
    SESSION_SHEET,
    SLOT_SHEET,
    Document,
    PaperSheet,
)
from blueprints.documents.services import DocumentError
from blueprints.participants.models import Participant
from blueprints.privacy.measurement import never_measured
from blueprints.signing.roster import roster_of_session
from blueprints.signing.services import is_enrolled
from blueprints.tasks.models import Task
from blueprints.tasks.services import launch, start_task
from blueprints.trainings.access import participant_or_404, session_or_404, sessions_query
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request
from blueprints.web.urls import external_url
from jobs import DOCUMENTS
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("documents", __name__, url_prefix="/<org>")
KIND_ORDER = (
    SESSION_SHEET,
    CERTIFICATE,
    PARTICIPANT_SHEET,
    SLOT_SHEET,
    BLANK_SLOT_SHEET,
    SESSION_ARCHIVE,
    FOLLOWUP_RECORD,
)


@bp.app_template_global()
def document_kind_label(kind: str) -> str:
    return services.kind_label(kind)


@bp.app_template_global()
def document_notes(document: Document) -> list[str]:
    return services.document_notes(document)


@bp.app_template_global()
def task_documents(task: Task) -> list[Document]:
    ids = (task.result or {}).get("documents") or []
    return (
        list(db.session.scalars(select(Document).where(Document.id.in_(ids)).order_by(Document.id)))
        if ids
        else []
    )


@bp.app_template_global()
def trainee_documents(session_id: int, participant_id: int) -> list[Document]:
    """The newest certificate and sheet of a participant in a session: what their signing page lists."""
    key = services.subject_key(session_id, participant_id=participant_id)
    found = {}
    for document in db.session.scalars(
        select(Document)
        .where(Document.subject_key == key, Document.kind.in_(services.TRAINEE_KINDS))
        .order_by(Document.version)
    ):
        found[document.kind] = document
    return [found[k] for k in services.TRAINEE_KINDS if k in found]


# --- tasks ---------------------------------------------------------------------------------------------------


def _actor() -> dict:
    return dataclasses.asdict(request_actor())


def _start(job: str, label: str, session: TrainingSession, *args) -> Task:
    """A task row, and the job that fills it once this request commits."""
    task = start_task(f"documents.{job}", label[:200], current_user.id)
    task.result = {"page_url": url_for("documents.session_documents", session_id=session.id)}
    launch(task, f"jobs.documents.{job}", session.id, *args, queue=DOCUMENTS, tenant=current_tenant())
    return task


def _started(task: Task, session: TrainingSession, slot_id: int | None = None):
    db.session.commit()
    if is_fragment_request():
        return render_template("tasks/_task.html", task=task)
    if slot_id is not None:  # asked from the slot's paper page: back there, where the bar shows
        return redirect(url_for("documents.paper", slot_id=slot_id, task=task.id), 303)
    return redirect(url_for("documents.session_documents", session_id=session.id, task=task.id), 303)


def _task_of_page() -> Task | None:
    task_id = request.args.get("task", type=int)
    task = db.session.get(Task, task_id) if task_id else None
    if task is not None and task.created_by_user_id != current_user.id and not current_user.is_admin:
        return None
    return task


# --- a session's documents -----------------------------------------------------------------------------------


def _grouped(documents: list[Document]) -> list[tuple[str, list[list[Document]]]]:
    """By kind (in a fixed order), then by subject, newest version first."""
    by_kind: dict[str, OrderedDict] = {}
    for document in documents:
        by_kind.setdefault(document.kind, OrderedDict()).setdefault(document.subject_key, []).append(document)
    groups = []
    for kind in KIND_ORDER:
        if kind in by_kind:
            subjects = [sorted(v, key=lambda d: -d.version) for v in by_kind[kind].values()]
            groups.append((kind, subjects))
    return groups


def _session_context(session: TrainingSession) -> dict:
    query = select(Document).where(Document.session_id == session.id)
    if not current_user.is_admin:
        query = query.where(Document.kind.not_in(ADMIN_KINDS))
    documents = list(db.session.scalars(query.order_by(Document.subject_key, Document.id)))
    return dict(
        session=session,
        training=session.training,
        groups=_grouped(documents),
        participants={p.id: p for p in roster_of_session(session)},
        slots={s.id: s for s in session.slots},
        paper=paper_sheets.paper_slot_ids([s.id for s in session.slots]),
        task=_task_of_page(),
        verify_start=external_url("verify.start"),
    )


@bp.get("/sessions/<int:session_id>/documents")
@login_required
def session_documents(session_id: int):
    session = session_or_404(current_user, session_id)
    return render_template("documents/session.html", **_session_context(session))


@bp.post("/sessions/<int:session_id>/documents/generate")
@login_required
@writes(none="starts a task; its job audits each document it issues")
def generate(session_id: int):
    session = session_or_404(current_user, session_id)
    kind = request.form.get("kind", "")
    if kind in ADMIN_KINDS and not current_user.is_admin:
        abort(403)
    if kind == "all":
        items = services.session_batch(session)
        label = _("All documents of the session")
    else:
        item = {"kind": kind}
        participant_id = request.form.get("participant_id", type=int)
        slot_id = request.form.get("slot_id", type=int)
        if participant_id is not None:
            item["participant_id"] = participant_id
        if slot_id is not None:
            item["slot_id"] = slot_id
        participant = db.session.get(Participant, participant_id) if participant_id is not None else None
        slot = db.session.get(Slot, slot_id) if slot_id is not None else None
        try:
            services.check_subject(kind, session, participant, slot)
        except DocumentError as error:
            abort(error.status if error.status in (400, 404) else 400)
        if participant is not None and participant.processing_restricted:
            flash(
                _("%(name)s's data is restricted: no new document is made.", name=participant.full_name),
                "error",
            )
            return redirect(url_for("documents.session_documents", session_id=session.id), 303)
        items = [item]
        label = services.kind_label(kind) + (f" — {participant.full_name}" if participant else "")
    task = _start("generate_documents", label, session, items, _actor())
    back = request.form.get("slot_id", type=int) if request.form.get("back") == "paper" else None
    return _started(task, session, back)


@bp.post("/sessions/<int:session_id>/documents/archive")
@login_required
@writes(none="starts a task; its job audits each document it issues")
def archive(session_id: int):
    session = session_or_404(current_user, session_id)
    return _started(_start("build_archive", services.kind_label(SESSION_ARCHIVE), session, _actor()), session)


@bp.post("/sessions/<int:session_id>/documents/export")
@login_required
@writes(none="starts a task; its job audits the export it writes")
def export(session_id: int):
    session = session_or_404(current_user, session_id)
    fmt = request.form.get("format", "")
    if fmt not in ("csv", "xlsx"):
        abort(400)
    label = _("Attendance export (%(format)s)", format=fmt.upper())
    # In the language of who asks: the headers and statuses are words.
    language = str(get_locale() or current_tenant().language)
    return _started(_start("export_attendance", label, session, fmt, _actor(), language), session)


@bp.post("/sessions/<int:session_id>/documents/email")
@login_required
@writes(none="starts a task; its job audits each certificate it issues and sends")
def email(session_id: int):
    session = session_or_404(current_user, session_id)
    participant_id = request.form.get("participant_id", type=int)
    if participant_id is not None:
        participant = db.session.get(Participant, participant_id)
        if participant is None or not is_enrolled(session, participant):
            abort(404)
        if participant.processing_restricted or not participant.email:
            flash(
                _(
                    "No email is sent to %(name)s: their data is restricted or they have no address.",
                    name=participant.full_name,
                ),
                "error",
            )
            return redirect(url_for("documents.session_documents", session_id=session.id), 303)
        label = _("Certificate emailed to %(name)s", name=participant.full_name)
        ids = [participant_id]
    else:
        label, ids = _("Certificates emailed to the participants"), None
    return _started(_start("email_certificates", label, session, ids, _actor()), session)


# --- downloads -----------------------------------------------------------------------------------------------


def _send(blob_key: str, filename: str, content_type: str):
    from tenants.storage import storage

    found = storage().get(blob_key)
    if found is None:
        abort(404)
    response = send_file(
        io.BytesIO(found[1]), mimetype=content_type, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/documents/<int:document_id>/download")
@login_required
def download(document_id: int):
    document = db.session.get(Document, document_id) or abort(404)
    session_or_404(current_user, document.session_id)
    if document.kind in ADMIN_KINDS and not current_user.is_admin:
        abort(404)
    return _send(document.blob_key, document.filename, document.content_type)


@bp.get("/participants/<int:participant_id>/documents")
@login_required
def participant_documents(participant_id: int):
    participant = participant_or_404(current_user, participant_id)
    visible = sessions_query(current_user).with_only_columns(TrainingSession.id)
    documents = list(
        db.session.scalars(
            select(Document)
            .where(Document.participant_id == participant.id, Document.session_id.in_(visible))
            .order_by(Document.session_id, Document.kind, Document.version.desc())
        )
    )
    sessions = {d.session_id: db.session.get(TrainingSession, d.session_id) for d in documents}
    return render_template(
        "documents/participant.html",
        participant=participant,
        groups=_grouped(documents),
        sessions=sessions,
    )


# --- paper fallback ------------------------------------------------------------------------------------------


def _slot_or_404(slot_id: int) -> Slot:
    slot = db.session.get(Slot, slot_id) or abort(404)
    session_or_404(current_user, slot.session_id)
    return slot


@bp.route("/slots/<int:slot_id>/paper", methods=["GET", "POST"])
@login_required
@writes("paper_sheet.uploaded")
def paper(slot_id: int):
    slot = _slot_or_404(slot_id)
    error, status = None, 200
    if request.method == "POST":
        if (request.content_length or 0) > services.MAX_UPLOAD_BYTES + 64 * 1024:
            error, status = services.too_large_message(), 413
        else:
            upload = request.files.get("scan")
            data = upload.read(services.MAX_UPLOAD_BYTES + 1) if upload else b""
            try:
                paper_sheets.upload_paper_sheet(
                    slot,
                    data,
                    upload.filename if upload else "",
                    confirmed=request.form.get("confirm") == "1",
                    user=current_user._get_current_object(),
                    actor=request_actor(),
                    note=request.form.get("note"),
                )
            except DocumentError as refusal:
                db.session.rollback()
                error, status = refusal.message, refusal.status
            else:
                db.session.commit()
                flash(_("The signed sheet is attached to the slot, which is now locked."), "success")
                return redirect(url_for("documents.paper", slot_id=slot.id), 303)
    blank = [
        d
        for d in services.latest_documents(slot.session_id, kinds=[BLANK_SLOT_SHEET])
        if d.slot_id == slot.id
    ]
    return render_template(
        "documents/paper.html",
        slot=slot,
        session=slot.session,
        sheets=paper_sheets.paper_sheets(slot.id),
        blank=blank[0] if blank else None,
        error=error,
        tz=slot.session.timezone,
        task=_task_of_page(),
    ), status


@bp.get("/paper-sheets/<int:paper_sheet_id>")
@login_required
def paper_download(paper_sheet_id: int):
    sheet = db.session.get(PaperSheet, paper_sheet_id) or abort(404)
    _slot_or_404(sheet.slot_id)
    return _send(sheet.blob_key, sheet.filename, sheet.content_type)


# --- the trainee's own documents -----------------------------------------------------------------------------


@bp.get("/sign/<token>/documents/<int:document_id>")
@never_measured
def trainee_download(token: str, document_id: int):
    from blueprints.signing import services as signing
    from blueprints.signing import signin_links
    from blueprints.signing.models import TRAINEE

    try:
        link = signin_links.resolve_link(token, TRAINEE, tenant=current_tenant())
    except signing.LinkProblem:
        abort(404)
    document = db.session.get(Document, document_id)
    # Only their own sheet and certificate, of the session the link is for.
    if (
        document is None
        or document.participant_id != link.participant_id
        or document.session_id != link.session_id
        or document.kind not in services.TRAINEE_KINDS
    ):
        abort(404)
    response = _send(document.blob_key, document.filename, document.content_type)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- the public verification page ----------------------------------------------------------------------------

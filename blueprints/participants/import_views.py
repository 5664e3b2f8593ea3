"""Importing participants from a spreadsheet: upload (kept a short while, never in the session), preview with the
columns guessed and each line's problems, confirm (a background task with its progress bar).

Its routes are on the participants blueprint."""

from __future__ import annotations

import logging
from dataclasses import asdict

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from blueprints.accounts.auth import admin_required
from blueprints.audit.services import record
from blueprints.participants import imports, services
from blueprints.participants.enrollment_views import session_page_url
from blueprints.participants.forms import (
    ImportUploadForm,
)
from blueprints.participants.views import bp
from blueprints.tasks.services import launch, start_task
from blueprints.trainings.access import session_or_404, sessions_query
from blueprints.trainings.models import TrainingSession
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from blueprints.web.errors import render_error
from blueprints.web.htmx import render
from blueprints.web.i18n import format_date
from blueprints.web.keys import secret_keys
from jobs import MAINTENANCE
from tenants import current_tenant
from tenants.db import db
from tenants.retention import IMPORT_UPLOAD
from tenants.storage import storage

logger = logging.getLogger(__name__)

IMPORT_SALT = "participants-import"


# --- CSV import --------------------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_keys(current_app.config), salt=IMPORT_SALT)


def _import_token(blob_key: str, session_id: int | None, funder: str) -> str:
    return _serializer().dumps(
        {"t": current_tenant().id, "u": current_user.id, "b": blob_key, "s": session_id, "f": funder}
    )


def _read_token(token: str | None) -> dict | None:
    """The upload behind ``token`` if it was made in this organization by this user, and is still fresh."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=int(IMPORT_UPLOAD.total_seconds()))
    except BadSignature:
        return None
    if data.get("t") != current_tenant().id or data.get("u") != current_user.id:
        return None
    return data


def _session_choices() -> list[tuple[str, str]]:
    sessions = db.session.scalars(
        sessions_query(current_user)
        .options(joinedload(TrainingSession.training))
        .where(TrainingSession.archived_at.is_(None))
        .order_by(TrainingSession.start_date.desc())
        .limit(200)
    ).all()
    return [("", _("No, only the directory"))] + [
        (str(s.id), f"{s.training.title} — {format_date(s.start_date)}") for s in sessions
    ]


@bp.route("/participants/import", methods=["GET", "POST"])
@admin_required
@writes("participants.import_uploaded")
def import_upload():
    form = ImportUploadForm()
    form.session_id.choices = choices(_session_choices())
    if request.method == "GET":
        form.session_id.data = request.args.get("session_id", "")
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(imports.MAX_BYTES + 1)
        problem = None
        if len(data) > imports.MAX_BYTES:
            problem = _(
                "This file is larger than 5 MB. Split it into smaller files and import them one by one."
            )
        else:
            try:
                imports.parse(data)
            except imports.ImportProblem as error:
                problem = str(error)
        if problem is None:
            session_id = int(form.session_id.data) if form.session_id.data else None
            filename = (upload.filename or "import.csv")[-200:]
            blob = storage().put(data, content_type="text/csv", filename=filename)
            record(
                request_actor(),
                "participants.import_uploaded",
                object_type="blobs",
                object_id=int(blob.key),
                filename=filename,
                size=len(data),
            )
            db.session.commit()
            token = _import_token(blob.key, session_id, form.funder.data)
            return redirect(url_for("participants.import_preview", t=token), 303)
        form.file.errors.append(problem)
    task_id = request.args.get("task", type=int)
    status = 422 if form.errors else 200
    return render_template("participants/import.html", form=form, task_id=task_id), status


def _mapping_from(args, header_len: int, guessed: dict[int, str]) -> dict[int, str]:
    if not any(key.startswith("map-") for key in args):
        return guessed
    mapping = {}
    for index in range(header_len):
        name = args.get(f"map-{index}", "")
        if name in imports.FIELDS:
            mapping[index] = name
    return mapping


def _load_upload(args):
    """The upload of the token in ``args``, parsed, with its mapping; or a response that sends the user back."""
    token = _read_token(args.get("t"))
    found = storage().get(token["b"]) if token else None
    if found is None:
        flash(_("This import has expired or is not yours. Send the file again."), "error")
        return None, redirect(url_for("participants.import_upload"), 303)
    meta, data = found
    try:
        parsed = imports.parse(data)
    except imports.ImportProblem as error:
        flash(str(error), "error")
        return None, redirect(url_for("participants.import_upload"), 303)
    session = session_or_404(current_user, token["s"]) if token.get("s") else None
    mapping = _mapping_from(args, len(parsed.header), imports.guess_mapping(parsed.header))
    return (token, meta, parsed, session, mapping), None


@bp.get("/participants/import/preview")
@admin_required
def import_preview():
    loaded, response = _load_upload(request.args)
    if response is not None:
        return response
    return _preview(*loaded)


def _preview(token, meta, parsed, session, mapping, status=None, failure=None):
    problems = imports.mapping_problems(mapping)
    checked = imports.check(parsed, mapping) if not problems else None
    context = {
        "token": request.values.get("t"),
        "filename": meta.filename,
        "parsed": parsed,
        "mapping": mapping,
        "labels": imports.field_labels(),
        "problems": problems,
        "checked": checked,
        "session": session,
        "funder": token.get("f"),
        "failure": failure,
        "in_background": bool(checked) and len(checked.valid) > imports.IN_REQUEST_ROWS,
    }
    return render(
        "participants/import_preview.html",
        "participants/_import_preview.html",
        status=status or (422 if problems else 200),
        **context,
    )


@bp.post("/participants/import/confirm")
@admin_required
@writes(
    "enrollment.created",
    "participant.created",
    "participant.updated",
    "participants.import_started",
    "participants.imported",
    "signin_link.issued",
)
def import_confirm():
    loaded, response = _load_upload(request.form)
    if response is not None:
        return response
    token, meta, parsed, session, mapping = loaded
    if imports.mapping_problems(mapping):
        return _preview(*loaded)
    checked = imports.check(parsed, mapping)
    actor = request_actor()
    funder = token.get("f") or "employer"
    if len(checked.valid) > imports.IN_REQUEST_ROWS:
        task = start_task("participants-import", _("Import of %(file)s", file=meta.filename), current_user.id)
        record(
            actor,
            "participants.import_started",
            object_type="tasks",
            object_id=task.id,
            rows=len(checked.valid),
        )
        launch(
            task,
            "jobs.imports.import_participants",
            token["b"],
            {str(k): v for k, v in mapping.items()},
            session.id if session else None,
            funder,
            asdict(actor),
            queue=MAINTENANCE,
            tenant=current_tenant(),
        )
        db.session.commit()
        return redirect(url_for("participants.import_upload", task=task.id), 303)
    try:
        outcome = imports.run_import(
            checked.valid,
            actor,
            session=session,
            funder=funder,
            skipped=len(checked.invalid),
            language=services.default_language(current_tenant()),
        )
        storage().delete(token["b"])
        db.session.commit()
    except Exception:
        # One transaction: whatever went wrong, nothing of this import stays.
        db.session.rollback()
        logger.exception("participants import failed")
        return render_error(
            500, _("The import failed and nothing was changed in the directory. Try again in a moment.")
        )
    flash(_("Import done: %(summary)s", summary=imports.summary(outcome)), "success")
    if session is not None:
        return redirect(session_page_url(session), 303)
    return redirect(url_for("participants.index"), 303)

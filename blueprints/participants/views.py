"""The participants directory, session rosters (enrollments) and the CSV import."""

from __future__ import annotations

import logging
from dataclasses import asdict

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.accounts.auth import admin_required
from blueprints.audit.services import record
from blueprints.participants import imports, services
from blueprints.participants.forms import (
    EnrollmentAddForm,
    EnrollmentEditForm,
    ImportUploadForm,
    ParticipantEditForm,
)
from blueprints.participants.models import Participant
from blueprints.participants.services import ParticipantError
from blueprints.tasks.services import launch, start_task
from blueprints.trainings.access import participant_or_404, participants_query, session_or_404, sessions_query
from blueprints.trainings.models import Enrollment, TrainingSession
from blueprints.web.actor import request_actor
from blueprints.web.choices import choices
from blueprints.web.errors import render_error
from blueprints.web.htmx import is_fragment_request, render
from blueprints.web.keys import secret_keys
from jobs import MAINTENANCE
from tenants import current_tenant
from tenants.db import db
from tenants.retention import IMPORT_UPLOAD
from tenants.storage import storage

logger = logging.getLogger(__name__)

bp = Blueprint("participants", __name__, url_prefix="/<org>")

PAGE = 25
CANDIDATES = 20
IMPORT_SALT = "participants-import"


@bp.app_template_filter("phone")
def _phone_filter(value):
    return services.format_phone(value)


@bp.app_template_filter("funder")
def _funder_filter(code):
    return services.funder_labels().get(code, code)


@bp.app_template_filter("civility")
def _civility_filter(code):
    return services.civility_labels().get(code or "", "")


@bp.app_template_global("roster_enrollments")
def _roster_enrollments(session):
    """The roster of ``session``: the session page includes the roster fragment with only the session."""
    return services.roster(session)


@bp.app_template_global("funder_choices")
def _funder_choices():
    return services.funder_choices()


def _csv_response(data: bytes, filename: str):
    response = current_app.response_class(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the directory -----------------------------------------------------------------------------------------


def _directory_page():
    q = (request.args.get("q") or "").strip()
    archived = request.args.get("archived") == "1"
    query = participants_query(current_user)
    query = query.where(
        Participant.archived_at.is_not(None) if archived else Participant.archived_at.is_(None)
    )
    query = services.ordered(services.search(query, q))
    page = db.paginate(query, per_page=PAGE, error_out=False)
    return {"results": page, "q": q, "archived": archived}


@bp.get("/participants/")
@login_required
def index():
    return render("participants/index.html", "participants/_results.html", **_directory_page())


@bp.get("/participants/new")
@admin_required
def new():
    return render_template("participants/new.html", form=ParticipantEditForm())


@bp.post("/participants/")
@admin_required
def create():
    form = ParticipantEditForm()
    if form.validate_on_submit():
        try:
            participant = services.create_participant(
                form.data_for_service(), request_actor(), restricted=form.processing_restricted.data
            )
            db.session.commit()
        except ParticipantError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        except IntegrityError:  # the same address added at the same moment by someone else
            db.session.rollback()
            form.email.errors.append(_("This email address is already in the directory."))
        else:
            flash(_("%(name)s is in the directory.", name=participant.full_name), "success")
            return redirect(url_for("participants.index"), 303)
    return render_template("participants/new.html", form=form), 422


@bp.get("/participants/<int:participant_id>")
@login_required
def show(participant_id: int):
    participant = participant_or_404(current_user, participant_id)
    enrollments = db.session.scalars(
        select(Enrollment)
        .join(TrainingSession, TrainingSession.id == Enrollment.session_id)
        .where(
            Enrollment.participant_id == participant.id,
            TrainingSession.id.in_(sessions_query(current_user).with_only_columns(TrainingSession.id)),
        )
        .order_by(TrainingSession.start_date.desc())
    ).all()
    return render(
        "participants/show.html", "participants/_row.html", participant=participant, enrollments=enrollments
    )


@bp.get("/participants/<int:participant_id>/edit")
@admin_required
def edit(participant_id: int):
    participant = participant_or_404(current_user, participant_id)
    form = ParticipantEditForm(obj=participant)
    form.mobile.data = services.format_phone(participant.mobile)
    return render("participants/edit.html", "participants/_row_form.html", participant=participant, form=form)


@bp.post("/participants/<int:participant_id>")
@admin_required
def update(participant_id: int):
    participant = participant_or_404(current_user, participant_id)
    form = ParticipantEditForm()
    if form.validate_on_submit():
        actor = request_actor()
        try:
            services.update_participant(participant, form.data_for_service(), actor)
            services.set_restricted(participant, form.processing_restricted.data, actor)
            db.session.commit()
        except ParticipantError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        except IntegrityError:
            db.session.rollback()
            form.email.errors.append(_("This email address is already in the directory."))
        else:
            if is_fragment_request():
                return render_template("participants/_row.html", participant=participant)
            flash(_("Changes saved."), "success")
            return redirect(url_for("participants.show", participant_id=participant.id), 303)
        participant = participant_or_404(current_user, participant_id)
    return render(
        "participants/edit.html",
        "participants/_row_form.html",
        status=422,
        participant=participant,
        form=form,
    )


def _archive_toggle(participant_id: int, archived: bool):
    participant = participant_or_404(current_user, participant_id)
    (services.archive if archived else services.unarchive)(participant, request_actor())
    db.session.commit()
    if is_fragment_request():
        return render_template("participants/_row.html", participant=participant)
    if archived:
        flash(_("%(name)s is archived.", name=participant.full_name), "success")
    else:
        flash(_("%(name)s is back in the directory.", name=participant.full_name), "success")
    return redirect(url_for("participants.index", archived="1" if archived else None), 303)


@bp.post("/participants/<int:participant_id>/archive")
@admin_required
def archive(participant_id: int):
    return _archive_toggle(participant_id, True)


@bp.post("/participants/<int:participant_id>/unarchive")
@admin_required
def unarchive(participant_id: int):
    return _archive_toggle(participant_id, False)


@bp.post("/participants/export")
@admin_required
def export():
    data = services.export_directory(participants_query(current_user), request_actor())
    db.session.commit()
    return _csv_response(data, "participants.csv")


# --- rosters and enrollments -------------------------------------------------------------------------------


def _roster_fragment(session: TrainingSession, status: int = 200, **extra):
    return render_template(
        "participants/_roster.html", session=session, can_edit=current_user.is_admin, **extra
    ), status


@bp.app_template_global("session_page_url")
def _session_page(session: TrainingSession) -> str:
    """Where a roster change sends the browser back: the session's own page, or the roster page alone."""
    if "trainings.session" in current_app.view_functions:
        return url_for("trainings.session", session_id=session.id)
    return url_for("participants.roster", session_id=session.id)


def _enrollment_or_404(session: TrainingSession, enrollment_id: int) -> Enrollment:
    enrollment = db.session.scalars(
        select(Enrollment).where(Enrollment.id == enrollment_id, Enrollment.session_id == session.id)
    ).first()
    if enrollment is None:
        abort(404)
    return enrollment


@bp.get("/sessions/<int:session_id>/roster")
@login_required
def roster(session_id: int):
    session = session_or_404(current_user, session_id)
    return render(
        "participants/roster.html",
        "participants/_roster.html",
        session=session,
        can_edit=current_user.is_admin,
    )


@bp.post("/sessions/<int:session_id>/roster/export")
@login_required
def export_roster(session_id: int):
    session = session_or_404(current_user, session_id)
    data = services.export_roster(session, request_actor())
    db.session.commit()
    return _csv_response(data, f"session-{session.id}-participants.csv")


def _candidates(session: TrainingSession, q: str, limit: int = CANDIDATES):
    query = services.not_enrolled(participants_query(current_user), session)
    return db.session.scalars(services.ordered(services.search(query, q)).limit(limit)).all()


@bp.get("/sessions/<int:session_id>/enrollments/new")
@admin_required
def enroll_form(session_id: int):
    session = session_or_404(current_user, session_id)
    q = (request.args.get("q") or "").strip()
    return render(
        "participants/enroll.html",
        "participants/_candidates.html",
        session=session,
        q=q,
        candidates=_candidates(session, q, limit=100),
        form=EnrollmentAddForm(),
    )


@bp.post("/sessions/<int:session_id>/enrollments")
@admin_required
def enroll(session_id: int):
    session = session_or_404(current_user, session_id)
    form = EnrollmentAddForm()
    ids = [i for i in request.form.getlist("participant_id", type=int)][:1000]
    problems: list[str] = []
    if not ids:
        problems.append(_("Tick at least one participant to add."))
    if form.validate_on_submit() and ids:
        actor = request_actor()
        people = db.session.scalars(participants_query(current_user).where(Participant.id.in_(ids))).all()
        added = []
        try:
            for participant in people:
                if services.enroll(session, participant, form.funder.data, form.funder_reference.data, actor):
                    added.append(participant)
        except ParticipantError as error:
            db.session.rollback()
            problems.append(str(error))
        else:
            db.session.commit()
            message = (
                ngettext(
                    "%(num)d participant added to the session.",
                    "%(num)d participants added to the session.",
                    len(added),
                )
                if added
                else _("These participants were already enrolled.")
            )
            if is_fragment_request():
                return _roster_fragment(session, notice=message)
            flash(message, "success")
            return redirect(_session_page(session), 303)
    if is_fragment_request():
        return _roster_fragment(session, 422, problems=problems + _errors(form))
    return render_template(
        "participants/enroll.html",
        session=session,
        q="",
        candidates=_candidates(session, "", limit=100),
        form=form,
        problems=problems,
    ), 422


def _errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


@bp.get("/sessions/<int:session_id>/enrollments/<int:enrollment_id>")
@login_required
def enrollment(session_id: int, enrollment_id: int):
    session = session_or_404(current_user, session_id)
    item = _enrollment_or_404(session, enrollment_id)
    return render(
        "participants/roster.html",
        "participants/_enrollment_row.html",
        session=session,
        enrollment=item,
        can_edit=current_user.is_admin,
    )


@bp.get("/sessions/<int:session_id>/enrollments/<int:enrollment_id>/edit")
@admin_required
def edit_enrollment(session_id: int, enrollment_id: int):
    session = session_or_404(current_user, session_id)
    item = _enrollment_or_404(session, enrollment_id)
    form = EnrollmentEditForm(obj=item)
    return render(
        "participants/enrollment_edit.html",
        "participants/_enrollment_form.html",
        session=session,
        enrollment=item,
        form=form,
        can_edit=True,
    )


@bp.post("/sessions/<int:session_id>/enrollments/<int:enrollment_id>")
@admin_required
def update_enrollment(session_id: int, enrollment_id: int):
    session = session_or_404(current_user, session_id)
    item = _enrollment_or_404(session, enrollment_id)
    form = EnrollmentEditForm()
    if form.validate_on_submit():
        try:
            services.update_enrollment(item, form.funder.data, form.funder_reference.data, request_actor())
        except ParticipantError as error:
            form.funder.errors.append(str(error))
        else:
            db.session.commit()
            if is_fragment_request():
                return render_template(
                    "participants/_enrollment_row.html", session=session, enrollment=item, can_edit=True
                )
            flash(_("Changes saved."), "success")
            return redirect(_session_page(session), 303)
    return render(
        "participants/enrollment_edit.html",
        "participants/_enrollment_form.html",
        status=422,
        session=session,
        enrollment=item,
        form=form,
        can_edit=True,
    )


@bp.route("/sessions/<int:session_id>/enrollments/<int:enrollment_id>/remove", methods=["GET", "POST"])
@admin_required
def remove_enrollment(session_id: int, enrollment_id: int):
    session = session_or_404(current_user, session_id)
    item = _enrollment_or_404(session, enrollment_id)
    consequences = services.removal_consequences(item)
    if request.method == "POST":
        name = item.participant.full_name
        try:
            services.remove_enrollment(item, request_actor())
        except ParticipantError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("%(name)s is no longer enrolled in this session.", name=name), "success")
        return redirect(_session_page(session), 303)
    return render_template(
        "participants/remove.html", session=session, enrollment=item, consequences=consequences
    )


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
        .where(TrainingSession.archived_at.is_(None))
        .order_by(TrainingSession.start_date.desc())
        .limit(200)
    ).all()
    return [("", _("No, only the directory"))] + [
        (str(s.id), f"{s.training.title} — {format_date(s.start_date)}") for s in sessions
    ]


@bp.route("/participants/import", methods=["GET", "POST"])
@admin_required
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
        )
        db.session.commit()
        return redirect(url_for("participants.import_upload", task=task.id), 303)
    try:
        outcome = imports.run_import(
            checked.valid, actor, session=session, funder=funder, skipped=len(checked.invalid)
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
        return redirect(_session_page(session), 303)
    return redirect(url_for("participants.index"), 303)

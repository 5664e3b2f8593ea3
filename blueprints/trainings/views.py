"""Trainings, sessions, slots and the week calendar. Admins plan; facilitators see the sessions assigned to them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import User
from blueprints.trainings import services, timetable
from blueprints.trainings.access import session_or_404, sessions_query, trainings_query
from blueprints.trainings.forms import (
    MODALITY_CHOICES,
    NATURE_CHOICES,
    SessionDuplicateForm,
    SessionEditForm,
    SlotsGenerateForm,
    TrainingEditForm,
    timezone_choices,
)
from blueprints.trainings.models import Training, TrainingSession
from blueprints.trainings.services import ConfirmationNeeded, PlanningError, SessionData, SlotOptions
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from blueprints.web.htmx import render
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("trainings", __name__, url_prefix="/<org>")

RESULTS_LIMIT = 200


@bp.app_template_filter("format_hours")
def format_hours(value) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.##")


@bp.app_template_global()
def modality_label(code: str) -> str:
    return str(dict(MODALITY_CHOICES).get(code, code))


@bp.app_template_global()
def nature_label(code: str) -> str:
    return str(dict(NATURE_CHOICES).get(code, code))


def page_language() -> str:
    return str(get_locale() or "fr")


def invalid_page(template: str, **context):
    return render_template(template, **context), 422


def field_error(form, error: PlanningError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    (target.errors if target is not None else form.form_errors).append(str(error))


# --- trainings -----------------------------------------------------------------------------------------------


def _trainings_query():
    return trainings_query(current_user)


def _training_or_404(training_id: int) -> Training:
    training = db.session.scalars(_trainings_query().where(Training.id == training_id)).first()
    if training is None:
        abort(404)
    return training


def _training_data(form: TrainingEditForm) -> services.TrainingData:
    return services.TrainingData(**{name: getattr(form, name).data for name in services.TRAINING_FIELDS})


@bp.get("/trainings")
@login_required
def index():
    text = request.args.get("q", "").strip()[:100]
    archived = request.args.get("archived") == "1"
    query = services.search_trainings(_trainings_query(), text, archived=archived).limit(RESULTS_LIMIT)
    trainings = db.session.scalars(query).all()
    return render(
        "trainings/index.html", "trainings/_results.html", trainings=trainings, q=text, archived=archived
    )


@bp.route("/trainings/new", methods=["GET", "POST"])
@admin_required
@writes("training.created")
def create():
    form = TrainingEditForm()
    if form.validate_on_submit():
        try:
            training = services.create_training(_training_data(form), request_actor())
        except PlanningError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Training created. Add its first session."), "success")
            return redirect(url_for("trainings.show", training_id=training.id), 303)
    if form.errors:
        return invalid_page("trainings/training_form.html", form=form, training=None)
    return render_template("trainings/training_form.html", form=form, training=None)


@bp.get("/trainings/<int:training_id>")
@login_required
def show(training_id: int):
    training = _training_or_404(training_id)
    sessions = db.session.scalars(
        sessions_query(current_user)
        .options(selectinload(TrainingSession.facilitators), selectinload(TrainingSession.slots))
        .where(TrainingSession.training_id == training.id)
        .order_by(TrainingSession.start_date.desc(), TrainingSession.id)
    ).all()
    return render_template("trainings/training.html", training=training, sessions=sessions)


@bp.route("/trainings/<int:training_id>/edit", methods=["GET", "POST"])
@admin_required
@writes("training.updated")
def edit(training_id: int):
    training = _training_or_404(training_id)
    form = TrainingEditForm(obj=training)
    if form.validate_on_submit():
        try:
            services.update_training(training, _training_data(form), request_actor())
        except PlanningError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("trainings.show", training_id=training.id), 303)
    if form.errors:
        return invalid_page("trainings/training_form.html", form=form, training=training)
    return render_template("trainings/training_form.html", form=form, training=training)


@bp.post("/trainings/<int:training_id>/archive")
@admin_required
@writes("training.archived", "training.unarchived")
def archive(training_id: int):
    training = _training_or_404(training_id)
    archived = request.form.get("archived", "1") == "1"
    services.set_training_archived(training, archived, request_actor())
    db.session.commit()
    flash(_("Training archived.") if archived else _("Training restored."), "success")
    return redirect(url_for("trainings.show", training_id=training.id), 303)


@bp.post("/trainings/<int:training_id>/duplicate")
@admin_required
@writes("training.duplicated")
def duplicate(training_id: int):
    training = _training_or_404(training_id)
    copy = services.duplicate_training(
        training, request_actor(), title=_("%(title)s (copy)", title=training.title)
    )
    db.session.commit()
    flash(_("Training duplicated. Check its title and details."), "success")
    return redirect(url_for("trainings.edit", training_id=copy.id), 303)


# --- sessions ------------------------------------------------------------------------------------------------


def _session_form(session: TrainingSession | None = None) -> SessionEditForm:
    form = SessionEditForm(obj=session)
    people = db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.last_name, User.first_name)
    ).all()
    assigned = {u.id for u in session.facilitators} if session else set()
    # An inactive user still assigned stays listed, so saving the form does not silently drop them.
    extra = [u for u in (session.facilitators if session else []) if not u.active]
    form.facilitators.choices = choices((u.id, u.full_name) for u in [*people, *extra])
    form.timezone.choices = timezone_choices()
    if request.method == "GET":
        form.facilitators.data = sorted(assigned)
        if session is None:
            form.timezone.data = current_tenant().timezone
    return form


def _session_data(form: SessionEditForm) -> SessionData:
    return SessionData(
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        location_name=form.location_name.data,
        location_address=form.location_address.data,
        remote_url=form.remote_url.data,
        capacity=form.capacity.data,
        timezone=form.timezone.data,
        room_code_required=form.room_code_required.data,
        facilitator_ids=list(form.facilitators.data or []),
    )


def slot_options(form) -> SlotOptions:
    return SlotOptions(
        include_holidays=form.include_holidays.data,
        alsace_moselle=form.alsace_moselle.data,
        language=page_language(),
    )


@bp.route("/trainings/<int:training_id>/sessions/new", methods=["GET", "POST"])
@admin_required
@writes("session.created")
def create_session(training_id: int):
    training = _training_or_404(training_id)
    form = _session_form()
    if form.validate_on_submit():
        try:
            session, skipped = services.create_session(
                training, _session_data(form), request_actor(), slot_options(form)
            )
        except PlanningError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Session created with %(count)d slots; %(skipped)d days left out.",
                    count=len(session.slots),
                    skipped=len(skipped),
                ),
                "success",
            )
            return redirect(url_for("trainings.session", session_id=session.id), 303)
    context = {"form": form, "training": training, "session": None}
    if form.errors:
        return invalid_page("trainings/session_form.html", **context)
    return render_template("trainings/session_form.html", **context)


def session_page_context(session: TrainingSession) -> dict:
    return {
        "session": session,
        "training": session.training,
        "can_edit": current_user.is_admin,
        "days_off": timetable.days_without_slots(session, language=page_language()),
        "generate_form": SlotsGenerateForm(),
    }


@bp.get("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    session = session_or_404(current_user, session_id)
    return render_template("trainings/session.html", **session_page_context(session))


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@admin_required
@writes("session.dates_changed", "session.updated")
def edit_session(session_id: int):
    session = session_or_404(current_user, session_id)
    form = _session_form(session)
    if form.validate_on_submit():
        actor = request_actor()
        try:
            services.update_session(session, _session_data(form), actor)
            dates = (form.start_date.data, form.end_date.data)
            change = None
            if dates != (session.start_date, session.end_date):
                change = services.apply_new_dates(
                    session, *dates, actor, confirm=form.confirm.data == "1", options=slot_options(form)
                )
        except ConfirmationNeeded as needed:
            db.session.rollback()
            return render_template(
                "trainings/dates_preview.html", session=session, form=form, change=needed.change
            )
        except PlanningError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            if change is not None:
                flash(
                    _(
                        "Changes saved: %(added)d slots added, %(removed)d removed.",
                        added=len(change.added),
                        removed=len(change.removed),
                    ),
                    "success",
                )
            else:
                flash(_("Changes saved."), "success")
            return redirect(url_for("trainings.session", session_id=session.id), 303)
    context = {"form": form, "training": session.training, "session": session}
    if form.errors:
        return invalid_page("trainings/session_form.html", **context)
    return render_template("trainings/session_form.html", **context)


@bp.route("/sessions/<int:session_id>/duplicate", methods=["GET", "POST"])
@admin_required
@writes("session.duplicated")
def duplicate_session(session_id: int):
    session = session_or_404(current_user, session_id)
    form = SessionDuplicateForm()
    if form.validate_on_submit():
        try:
            copy = services.duplicate_session(session, form.start_date.data, request_actor())
        except PlanningError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Session duplicated, without its participants."), "success")
            return redirect(url_for("trainings.session", session_id=copy.id), 303)
    if form.errors:
        return invalid_page("trainings/session_duplicate.html", form=form, session=session)
    return render_template("trainings/session_duplicate.html", form=form, session=session)


@bp.post("/sessions/<int:session_id>/archive")
@admin_required
@writes("session.archived", "session.unarchived")
def archive_session(session_id: int):
    session = session_or_404(current_user, session_id)
    archived = request.form.get("archived", "1") == "1"
    services.set_session_archived(session, archived, request_actor())
    db.session.commit()
    flash(_("Session archived.") if archived else _("Session restored."), "success")
    return redirect(url_for("trainings.session", session_id=session.id), 303)

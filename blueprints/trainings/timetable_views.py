"""A session's timetable pages: generating its half-days, adding, editing and deleting one, and the week's
calendar. Its routes are on the trainings blueprint."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.accounts.auth import admin_required
from blueprints.trainings import planning, services, timetable
from blueprints.trainings.access import session_or_404, sessions_query
from blueprints.trainings.forms import (
    SlotEditForm,
    SlotsGenerateForm,
)
from blueprints.trainings.models import Slot
from blueprints.trainings.services import PlanningError
from blueprints.trainings.timetable import SlotData
from blueprints.trainings.views import (
    bp,
    field_error,
    invalid_page,
    page_language,
    session_page_context,
    slot_options,
)
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.errors import render_error
from blueprints.web.htmx import is_fragment_request, render
from tenants import current_tenant
from tenants.db import db, utcnow

# --- slots ---------------------------------------------------------------------------------------------------


@bp.post("/sessions/<int:session_id>/slots/generate")
@admin_required
@writes("session.slots_generated")
def generate_slots(session_id: int):
    """Plan the half-days missing from the session's own dates (nothing is removed)."""
    session = session_or_404(current_user, session_id)
    form = SlotsGenerateForm()
    if not form.validate_on_submit():
        abort(400)
    change = services.apply_new_dates(
        session,
        session.start_date,
        session.end_date,
        request_actor(),
        confirm=False,
        options=slot_options(form),
    )
    db.session.commit()
    if change.added:
        flash(_("%(count)d slots added.", count=len(change.added)), "success")
    else:
        flash(_("No half-day was missing: nothing added."), "success")
    return redirect(url_for("trainings.session", session_id=session.id, _anchor="slots"), 303)


def _slot_data(form: SlotEditForm) -> SlotData:
    return SlotData(
        day=form.day.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        label=form.label.data,
        modality=form.modality.data,
    )


@bp.route("/sessions/<int:session_id>/slots/new", methods=["GET", "POST"])
@admin_required
@writes("slot.created")
def create_slot(session_id: int):
    session = session_or_404(current_user, session_id)
    form = SlotEditForm()
    if request.method == "GET":
        form.day.data = session.start_date
        form.modality.data = planning.slot_modality(session.training.modality)
    if form.validate_on_submit():
        try:
            timetable.add_slot(session, _slot_data(form), request_actor())
        except PlanningError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Slot added."), "success")
            return redirect(url_for("trainings.session", session_id=session.id, _anchor="slots"), 303)
    context = {"form": form, "session": session, "slot": None}
    if form.errors:
        return invalid_page("trainings/slot_form.html", **context)
    return render_template("trainings/slot_form.html", **context)


def _slot_or_404(slot_id: int) -> Slot:
    slot = db.session.get(Slot, slot_id) or abort(404)
    session_or_404(current_user, slot.session_id)
    return slot


@bp.route("/slots/<int:slot_id>", methods=["GET", "POST"])
@admin_required
@writes("slot.updated")
def edit_slot(slot_id: int):
    slot = _slot_or_404(slot_id)
    session = slot.session
    form = SlotEditForm(obj=slot)
    if request.method == "GET":
        form.start_time.data = planning.local(slot.starts_at, session.timezone).time()
        form.end_time.data = planning.local(slot.ends_at, session.timezone).time()
    if form.validate_on_submit():
        try:
            timetable.update_slot(slot, _slot_data(form), request_actor())
        except PlanningError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Slot saved."), "success")
            return redirect(url_for("trainings.session", session_id=session.id, _anchor="slots"), 303)
    context = {"form": form, "session": session, "slot": slot}
    if form.errors:
        return invalid_page("trainings/slot_form.html", **context)
    return render_template("trainings/slot_form.html", **context)


@bp.post("/slots/<int:slot_id>/delete")
@admin_required
@writes("slot.deleted")
def delete_slot(slot_id: int):
    slot = _slot_or_404(slot_id)
    session = slot.session
    try:
        timetable.delete_slot(slot, request_actor())
    except PlanningError as error:
        db.session.rollback()
        if is_fragment_request():
            return render_error(409, str(error))
        flash(str(error), "error")
        return redirect(url_for("trainings.session", session_id=session.id, _anchor="slots"), 303)
    db.session.commit()
    if is_fragment_request():
        response = render("trainings/session.html", "trainings/_slots.html", **session_page_context(session))
        return response
    flash(_("Slot deleted."), "success")
    return redirect(url_for("trainings.session", session_id=session.id, _anchor="slots"), 303)


# --- calendar ------------------------------------------------------------------------------------------------


def _monday(week: str | None) -> date:
    """``YYYY-Www`` (what <input type=week> sends) to its Monday; this week's when missing or wrong."""
    if week:
        try:
            year, number = week.split("-W")
            return date.fromisocalendar(int(year), int(number), 1)
        except ValueError:
            pass
    today = planning.local(utcnow(), current_tenant().timezone).date()
    return today - timedelta(days=today.weekday())


def _week_label(day: date) -> str:
    year, number, _weekday = day.isocalendar()
    return f"{year}-W{number:02d}"


@bp.get("/calendar")
@login_required
def calendar():
    monday = _monday(request.args.get("week"))
    slots = timetable.week_slots(sessions_query(current_user), monday)
    days = [monday + timedelta(days=n) for n in range(7)]
    by_day = {day: [s for s in slots if s.day == day] for day in days}
    # Weekend columns only when something happens then: a phone shows five days, not seven.
    shown = [d for d in days if d.weekday() < 5 or by_day[d]]
    closed = planning.public_holidays(days[0], days[-1], language=page_language())
    return render_template(
        "trainings/calendar.html",
        monday=monday,
        days=shown,
        by_day=by_day,
        holidays=closed,
        week=_week_label(monday),
        previous_week=_week_label(monday - timedelta(days=7)),
        next_week=_week_label(monday + timedelta(days=7)),
    )

"""A session's roster: enrolling participants (found or created on the spot), editing an enrollment (funder,
funding file), removing one, exporting the roster.

Its routes are on the participants blueprint."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.accounts.auth import admin_required
from blueprints.participants import services
from blueprints.participants.forms import (
    EnrollmentAddForm,
    EnrollmentEditForm,
)
from blueprints.participants.models import Enrollment, Participant
from blueprints.participants.services import ParticipantError
from blueprints.participants.views import bp, csv_response
from blueprints.shared.filenames import file_name
from blueprints.trainings.access import participants_query, session_or_404
from blueprints.trainings.models import TrainingSession
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request, render
from tenants import current_tenant
from tenants.db import db

logger = logging.getLogger(__name__)

CANDIDATES = 20


# --- rosters and enrollments -------------------------------------------------------------------------------


def _roster_fragment(session: TrainingSession, status: int = 200, **extra):
    return render_template(
        "participants/_roster.html", session=session, can_edit=current_user.is_admin, **extra
    ), status


@bp.app_template_global("session_page_url")
def session_page_url(session: TrainingSession) -> str:
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
@writes("session.roster_exported")
def export_roster(session_id: int):
    session = session_or_404(current_user, session_id)
    data = services.export_roster(session, request_actor())
    db.session.commit()
    return csv_response(
        data,
        file_name(
            "roster",
            session.training.title,
            session.start_date.isoformat(),
            extension="csv",
            language=current_tenant().language,
        ),
    )


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
@writes("enrollment.created", "participant.created", "signin_link.issued")
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
            return redirect(session_page_url(session), 303)
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
@writes("enrollment.updated")
def update_enrollment(session_id: int, enrollment_id: int):
    session = session_or_404(current_user, session_id)
    item = _enrollment_or_404(session, enrollment_id)
    form = EnrollmentEditForm()
    if form.validate_on_submit():
        try:
            services.update_enrollment(
                item,
                form.funder.data,
                form.funder_reference.data,
                request_actor(),
                contact_name=form.employer_contact_name.data,
                contact_email=form.employer_contact_email.data,
            )
        except services.ContactProblem as error:
            form.employer_contact_email.errors.append(str(error))
        except ParticipantError as error:
            form.funder.errors.append(str(error))
        else:
            db.session.commit()
            if is_fragment_request():
                return render_template(
                    "participants/_enrollment_row.html", session=session, enrollment=item, can_edit=True
                )
            flash(_("Changes saved."), "success")
            return redirect(session_page_url(session), 303)
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
@writes("enrollment.removed")
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
        return redirect(session_page_url(session), 303)
    return render_template(
        "participants/remove.html", session=session, enrollment=item, consequences=consequences
    )

"""The participants directory, session rosters (enrollments) and the CSV import."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from blueprints.accounts.auth import admin_required
from blueprints.participants import services
from blueprints.participants.forms import (
    ParticipantEditForm,
)
from blueprints.participants.models import Enrollment, Participant
from blueprints.participants.services import ParticipantError
from blueprints.shared.filenames import file_name
from blueprints.trainings.access import participant_or_404, participants_query, sessions_query
from blueprints.trainings.models import TrainingSession
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request, render
from tenants import current_tenant
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("participants", __name__, url_prefix="/<org>")

PAGE = 25


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


def csv_response(data: bytes, filename: str):
    response = current_app.response_class(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the directory -----------------------------------------------------------------------------------------


def _directory_page():
    q = (request.args.get("q") or "").strip()
    archived = request.args.get("archived") == "1"
    unreachable = request.args.get("reach") == "none" and not archived
    query = participants_query(current_user)
    query = query.where(
        Participant.archived_at.is_not(None) if archived else Participant.archived_at.is_(None)
    )
    if unreachable:
        query = query.where(services.unreachable())
    query = services.ordered(services.search(query, q))
    page = db.paginate(query, per_page=PAGE, error_out=False)
    return {"results": page, "q": q, "archived": archived, "unreachable": unreachable}


@bp.get("/participants/")
@login_required
def index():
    return render("participants/index.html", "participants/_results.html", **_directory_page())


@bp.get("/participants/new")
@admin_required
def new():
    return render_template(
        "participants/new.html",
        form=ParticipantEditForm(language=services.default_language(current_tenant())),
    )


@bp.post("/participants/")
@admin_required
@writes("participant.created", "participant.processing_restricted")
def create():
    form = ParticipantEditForm()
    if form.validate_on_submit():
        try:
            participant = services.create_participant(
                form.data_for_service(),
                request_actor(),
                language=services.default_language(current_tenant()),
                restricted=form.processing_restricted.data,
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
        .options(contains_eager(Enrollment.session).joinedload(TrainingSession.training))
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
@writes("participant.processing_restricted", "participant.processing_unrestricted", "participant.updated")
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
@writes("participant.archived")
def archive(participant_id: int):
    return _archive_toggle(participant_id, True)


@bp.post("/participants/<int:participant_id>/unarchive")
@admin_required
@writes("participant.unarchived")
def unarchive(participant_id: int):
    return _archive_toggle(participant_id, False)


@bp.post("/participants/export")
@admin_required
@writes("participants.exported")
def export():
    data = services.export_directory(participants_query(current_user), request_actor())
    db.session.commit()
    return csv_response(
        data,
        file_name(
            "directory", utcnow().date().isoformat(), extension="csv", language=current_tenant().language
        ),
    )

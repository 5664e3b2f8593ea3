"""An admin's side of the justifications of absences: record one for a trainee, accept or refuse one, open its
proof (admins only: it may be health data; never in a support session)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.accounts.auth import admin_required
from blueprints.participants.models import Participant
from blueprints.tracking import justifications
from blueprints.tracking.forms import DecisionForm, JustificationForm
from blueprints.tracking.models import Justification
from blueprints.tracking.views import bp, session_page
from blueprints.trainings.access import session_or_404
from blueprints.trainings.models import Slot
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from tenants import current_tenant
from tenants.db import db


def _number(value) -> int | None:
    return int(value) if (value or "").isdigit() else None


@bp.post("/sessions/<int:session_id>/justifications")
@admin_required
@writes(justifications.SUBMITTED)
def record_justification(session_id: int):
    session = session_or_404(current_user, session_id)
    form = JustificationForm()
    if not form.validate_on_submit():
        return session_page(session, justification_form=form, status=422)
    participant = db.session.get(Participant, _number(request.form.get("participant")) or 0)
    slot = db.session.get(Slot, _number(form.slot.data) or 0)
    if slot is not None and slot.session_id != session.id:
        slot = None
    upload = request.files.get("proof")
    try:
        if participant is None:
            raise justifications.JustificationProblem("slot", _("Pick the trainee."))
        justifications.submit(
            participant,
            slot,
            request_actor(),
            reason=form.reason.data or "",
            text=form.text.data or "",
            proof=upload.read() if upload and upload.filename else None,
            recorded_by_user_id=current_user.id,
        )
    except justifications.JustificationProblem as problem:
        db.session.rollback()
        getattr(form, problem.field).errors.append(str(problem))
        return session_page(session, justification_form=form, status=422)
    db.session.commit()
    flash(_("The justification is recorded: accept or refuse it below."), "success")
    return redirect(url_for("tracking.session_attendance", session_id=session.id) + "#justifications", 303)


@bp.post("/justifications/<int:justification_id>/decide")
@admin_required
@writes(justifications.DECIDED, "attendance.excused", "attendance.changed_after_sign_off")
def decide(justification_id: int):
    row = db.session.get(Justification, justification_id) or abort(404)
    slot = db.session.get(Slot, row.slot_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            if form.decision.data not in ("accept", "refuse"):
                raise justifications.JustificationProblem("decision", _("Accept or refuse it."))
            justifications.decide(
                row,
                request_actor(),
                current_user,
                accept=form.decision.data == "accept",
                reason=form.decision_reason.data or "",
                tenant=current_tenant(),
            )
        except justifications.JustificationProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
            return session_page(slot.session, decision_forms={row.id: form}, status=422)
        db.session.commit()
        flash(_("Decision saved: the trainee is told by email."), "success")
    return redirect(
        url_for("tracking.session_attendance", session_id=slot.session_id) + "#justifications", 303
    )


@bp.get("/justifications/<int:justification_id>/proof")
@admin_required
def proof(justification_id: int):
    row = db.session.get(Justification, justification_id) or abort(404)
    found = justifications.proof(row)
    if found is None:
        abort(404)
    content_type, data = found
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="proof-{row.id}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

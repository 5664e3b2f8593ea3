"""A trainee's absences, from their personal sign-in link (the token is the credential, as on the signing
page): the session's half-days they did not sign, each with its justification, and the form to send one,
before or after the half-day, with an optional proof."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from blueprints.accounts.models import organization
from blueprints.participants.models import Participant
from blueprints.privacy.measurement import never_measured
from blueprints.signing import signin_links
from blueprints.signing.models import TRAINEE
from blueprints.signing.services import LinkProblem
from blueprints.signing.views import _link_problem, _trainee_actor, _trainee_headers
from blueprints.tracking import justifications, loading
from blueprints.tracking.figures import ABSENT, NOT_SIGNED, PLANNED
from blueprints.tracking.forms import JustificationForm
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.web import csrf
from blueprints.web.audit_guard import writes
from tenants import current_tenant, refine_scope
from tenants.db import db, utcnow

bp = Blueprint("tracking_trainee", __name__, url_prefix="/<org>/sign/<token>/absences")

JUSTIFIABLE = (ABSENT, NOT_SIGNED, PLANNED)


def _open(token: str):
    link = signin_links.resolve_link(token, TRAINEE, tenant=current_tenant())
    participant = db.session.get(Participant, link.participant_id)
    refine_scope(language=participant.language)
    return link, participant, db.session.get(TrainingSession, link.session_id)


def _page(token, participant, session, form, status=200):
    lines = [
        line
        for line in loading.participant_sessions(participant, organization(), utcnow())
        if line.session.id == session.id
    ]
    rows = []
    if lines:
        line = lines[0]
        rows = list(zip(line.slots, line.figures.states, strict=True))
    open_slots = (
        [slot for slot, state in rows if state in JUSTIFIABLE and slot.id not in lines[0].justifications]
        if lines
        else []
    )
    form.slot.choices = [(str(slot.id), slot.starts_at) for slot in open_slots]
    response = make_response(
        render_template(
            "tracking/trainee.html",
            token=token,
            participant=participant,
            session=session,
            rows=rows,
            justifications=lines[0].justifications if lines else {},
            form=form,
            open_slots=open_slots,
            reasons=justifications.REASON_LABELS,
        ),
        status,
    )
    return _trainee_headers(response)


@bp.get("/")
@never_measured
def page(token: str):
    try:
        _link, participant, session = _open(token)
    except LinkProblem as problem:
        return _link_problem(problem, token)
    return _page(token, participant, session, JustificationForm(formdata=None))


@bp.post("/")
@never_measured
@csrf.exempt  # the unguessable token in the URL is the credential; no cookie exists to forge a request with
@writes(justifications.SUBMITTED)
def justify(token: str):
    try:
        _link, participant, session = _open(token)
    except LinkProblem as problem:
        return _link_problem(problem, token)
    form = JustificationForm(meta={"csrf": False})
    form.validate()  # nothing to refuse here (the service decides); it readies each field's errors list
    slot = db.session.get(Slot, int(form.slot.data)) if (form.slot.data or "").isdigit() else None
    if slot is not None and slot.session_id != session.id:
        slot = None
    upload = request.files.get("proof")
    try:
        justifications.submit(
            participant,
            slot,
            _trainee_actor(participant),
            reason=form.reason.data or "",
            text=form.text.data or "",
            proof=upload.read() if upload and upload.filename else None,
        )
    except justifications.JustificationProblem as problem:
        db.session.rollback()
        getattr(form, problem.field).errors.append(str(problem))
        return _page(token, participant, session, form, 422)
    db.session.commit()
    return _trainee_headers(redirect(url_for("tracking_trainee.page", token=token, done="sent"), 303))

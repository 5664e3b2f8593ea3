"""The facilitator's pages while a half-day runs: the live roster, marks (absent, excused, times, paper), the
room code, closing and signing off, the facilitator's device (kiosk), and the change check the live page polls.

Its routes are on the signing blueprint; the change check has a blueprint of its own (no organization in the
URL: the token names it)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from blueprints.audit.services import record
from blueprints.participants.models import Participant
from blueprints.privacy.measurement import never_measured
from blueprints.signing import access, live, roomcodes, roster, services, signoffs
from blueprints.signing.models import FACILITATOR_DEVICE
from blueprints.signing.services import SigningError
from blueprints.signing.tokens import live_token, read_live_token
from blueprints.signing.views import Refused, bp, qr_svg, record_signature
from blueprints.trainings.models import Slot
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request, render
from blueprints.web.keys import secret_keys
from tenants import current_tenant
from tenants.db import db, utcnow

poll_bp = Blueprint("signing_live", __name__)


# --- facilitator: live page, marks, closing, sign-off ------------------------------------------------------


@bp.get("/sessions/<int:session_id>/live")
def session_live(session_id: int):
    access.guard_login()
    training_session, _who = access.facilitated_session(session_id)
    now = utcnow()
    slots = list(training_session.slots)
    states = services.states_of(slots)
    rows = [(slot, services.window(slot, states.get(slot.id), now), roster.counts(slot)) for slot in slots]
    return render_template(
        "signing/session_live.html",
        training_session=training_session,
        rows=rows,
        tz=training_session.timezone,
    )


def _live_context(slot: Slot, who, *, error=None):
    # The version is read before the roster: a change landing in between makes the page fetch again.
    version = live.version(current_app, current_tenant().schema, slot.id)
    now = utcnow()
    state = services.state_of(slot)
    lines = roster.roster(slot)
    return dict(
        slot=slot,
        training_session=slot.session,
        state=state,
        window=services.window(slot, state, now),
        ended=slot.ends_at <= now,
        lines=lines,
        signed=sum(
            1
            for line in lines
            if line.attendance is not None and line.attendance.status in ("present", "late")
        ),
        expected=len(lines),
        version=version,
        poll_url=url_for(
            "signing_live.poll",
            token=live_token(secret_keys(current_app.config), current_tenant().schema, slot.id),
        ),
        tz=slot.session.timezone,
        user=who.user,
        error=error,
        code_needed=services.room_code_needed(slot),
        **(_code_context(slot) if services.room_code_needed(slot) and not is_fragment_request() else {}),
    )


@bp.get("/slots/<int:slot_id>/live")
def slot_live(slot_id: int):
    access.guard_login()
    slot, who = access.facilitated_slot(slot_id)
    return render("signing/live.html", "signing/_roster.html", **_live_context(slot, who))


@bp.get("/slots/<int:slot_id>/code")
def room_code(slot_id: int):
    access.guard_login()
    slot, _who = access.facilitated_slot(slot_id)
    context = _code_context(slot)
    return render_template("signing/_code.html", slot=slot, **context)


def _code_context(slot: Slot) -> dict:
    now = utcnow()
    code = services.room_code(slot, now)
    return dict(
        code=code,
        code_qr=qr_svg(code, scale=8, title=_("Room code")),
        refresh_ms=int(roomcodes.seconds_left(now) * 1000),
    )


@bp.post("/slots/<int:slot_id>/attendance/<int:participant_id>")
@writes(
    "attendance.absent",
    "attendance.excused",
    "attendance.arrival",
    "attendance.departure",
    "attendance.paper",
    "attendance.clear_departure",
    "attendance.changed_after_sign_off",
)
def mark(slot_id: int, participant_id: int):
    access.guard_login()
    slot, who = access.facilitated_slot(slot_id)
    participant = db.session.get(Participant, participant_id) or abort(404)
    at = roster.parse_local_time(slot, request.form.get("time", "")) if request.form.get("time") else None
    error = None
    try:
        services.mark(
            slot,
            participant,
            request.form.get("action", ""),
            who.actor,
            who.user,
            reason=request.form.get("reason"),
            at=at,
        )
    except SigningError as refusal:
        db.session.rollback()
        error = str(refusal.message)
        status = refusal.status
    else:
        db.session.commit()
        status = 200
    if is_fragment_request():
        response = render(
            "signing/live.html",
            "signing/_roster.html",
            status=status,
            **_live_context(slot, who, error=error),
        )
        return response
    if error:
        flash(error, "error")
    return redirect(url_for("signing.slot_live", slot_id=slot_id), 303)


@bp.post("/slots/<int:slot_id>/close")
@writes("slot.signing_closed")
def close(slot_id: int):
    access.guard_login()
    slot, who = access.facilitated_slot(slot_id)
    signoffs.close_slot(slot, who.actor)
    db.session.commit()
    flash(_("Signing is closed for this slot."), "success")
    return redirect(url_for("signing.slot_live", slot_id=slot_id), 303)


@bp.route("/slots/<int:slot_id>/signoff", methods=["GET", "POST"])
@writes("slot.signed_off")
def signoff(slot_id: int):
    access.guard_login()
    slot, who = access.facilitated_slot(slot_id)
    state = services.state_of(slot)
    db.session.commit()
    error, status = None, 200
    if request.method == "POST":
        if who.user not in slot.session.facilitators:
            error, status = _("Only a facilitator of this session signs its slots."), 403
        else:
            try:
                record_signature(lambda data: signoffs.sign_off(slot, data, who.user, who.actor))
            except Refused as refusal:
                error, status = refusal.message, refusal.status
            else:
                flash(_("The slot is signed off and locked."), "success")
                return redirect(url_for("signing.slot_live", slot_id=slot_id), 303)
    lines = roster.roster(slot)
    return render_template(
        "signing/signoff.html",
        slot=slot,
        state=state,
        ended=slot.ends_at <= utcnow(),
        lines=lines,
        error=error,
        tz=slot.session.timezone,
        training_session=slot.session,
    ), status


# --- facilitator's device (kiosk) ------------------------------------------------------------------------------


@bp.route("/slots/<int:slot_id>/kiosk", methods=["GET", "POST"])
@never_measured
@writes("slot.kiosk_closed", "slot.kiosk_opened")
def kiosk(slot_id: int):
    access.guard_login()
    slot, who = access.facilitated_slot(slot_id)
    if request.method == "POST":
        if request.form.get("action") == "close":
            access.close_kiosk()
            record(who.actor, "slot.kiosk_closed", object_type="slots", object_id=slot.id)
            db.session.commit()
            return redirect(url_for("signing.slot_live", slot_id=slot_id), 303)
        access.open_kiosk(slot)
        record(who.actor, "slot.kiosk_opened", object_type="slots", object_id=slot.id)
        db.session.commit()
        return redirect(url_for("signing.kiosk", slot_id=slot_id), 303)
    if not access.kiosk_open(slot):
        return render_template(
            "signing/kiosk_start.html", slot=slot, training_session=slot.session, tz=slot.session.timezone
        )
    now = utcnow()
    state = services.state_of(slot)
    return render_template(
        "signing/kiosk.html",
        slot=slot,
        training_session=slot.session,
        lines=roster.roster(slot),
        window=services.window(slot, state, now),
        tz=slot.session.timezone,
    )


@bp.route("/slots/<int:slot_id>/kiosk/<int:participant_id>", methods=["GET", "POST"])
@never_measured
@writes("attendance.signed")
def kiosk_sign(slot_id: int, participant_id: int):
    access.guard_login()
    slot, who = access.facilitated_slot(slot_id)
    participant = db.session.get(Participant, participant_id) or abort(404)
    if not services.is_enrolled(slot.session, participant):
        abort(404)
    if not access.kiosk_open(slot):
        return redirect(url_for("signing.kiosk", slot_id=slot_id), 303)
    if participant.processing_restricted:
        flash(
            _("%(name)s cannot be asked to sign: their data is restricted.", name=participant.full_name),
            "error",
        )
        return redirect(url_for("signing.kiosk", slot_id=slot_id), 303)
    error, status = None, 200
    existing = services.attendance_of(slot, participant.id)
    if existing is not None and existing.signed:
        flash(_("%(name)s has already signed this slot.", name=participant.full_name), "success")
        return redirect(url_for("signing.kiosk", slot_id=slot_id), 303)
    if request.method == "POST":
        try:
            record_signature(
                lambda data: services.sign(slot, participant, data, who.actor, method=FACILITATOR_DEVICE)
            )
        except Refused as refusal:
            error, status = refusal.message, refusal.status
        else:
            flash(
                _("Thank you, %(name)s: your signature is recorded.", name=participant.first_name), "success"
            )
            return redirect(url_for("signing.kiosk", slot_id=slot_id), 303)
    return render_template(
        "signing/kiosk_sign.html",
        slot=slot,
        participant=participant,
        error=error,
        training_session=slot.session,
        tz=slot.session.timezone,
    ), status


# --- the change check ------------------------------------------------------------------------------------------


@poll_bp.get("/live/<token>")
def poll(token: str):
    """204 while the slot's version is the one the page holds; else 200 with the new version.

    Touches no ORM session, no user loader and no translation: a signed token, one Redis GET (or one indexed
    SELECT without Redis). Thousands of open pages polling every second cost little.
    """
    secret = secret_keys(current_app.config)
    parsed = read_live_token(secret, token)
    if parsed is None:
        return current_app.response_class(status=404)
    current = live.version(current_app, parsed[0], parsed[1])
    headers = {"Cache-Control": "no-store"}
    if request.args.get("v") == current:
        return current_app.response_class(status=204, headers=headers)
    return current_app.response_class(current, status=200, mimetype="text/plain", headers=headers)

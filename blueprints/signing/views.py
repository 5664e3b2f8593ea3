"""Signing pages: the trainee's (token in the URL, no login), the facilitator's live page, kiosk and sign-off,
staff's links, and the live pages' change check."""

from __future__ import annotations

import base64
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from blueprints.accounts import throttle
from blueprints.audit.services import TRAINEE, Actor, record
from blueprints.participants.models import Participant
from blueprints.privacy.measurement import never_measured
from blueprints.signing import access, images, roster, services, signin_links
from blueprints.signing.models import FACILITATOR, OWN_LINK
from blueprints.signing.models import TRAINEE as TRAINEE_LINK
from blueprints.signing.services import LinkProblem, SigningError
from blueprints.trainings.models import Slot
from blueprints.web import csrf
from blueprints.web.actor import request_origin
from blueprints.web.audit_guard import writes
from blueprints.web.urls import external_url
from tenants import current_tenant, refine_scope
from tenants.db import db, utcnow

bp = Blueprint("signing", __name__, url_prefix="/<org>")

# The sign form's body: a 200 KB PNG as base64 plus a few fields.
MAX_SIGN_BODY = 400 * 1024


def qr_svg(data: str, *, scale: int = 6, title: str = "") -> Markup:
    import segno

    # No width/height, a viewBox only: the CSS sizes it (big on a projector, small on a phone).
    svg = segno.make(data, error="m").svg_inline(
        scale=scale, border=2, title=title or None, dark="#000", light="#fff", omitsize=True
    )
    return Markup(svg)


def _png_data_url(data: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(data).decode() if data else None


def _trainee_headers(response):
    # The token is in the URL: no referrer carries it away, no cache keeps the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- trainee pages -------------------------------------------------------------------------------------------


def _trainee_actor(participant: Participant) -> Actor:
    return Actor(kind=TRAINEE, label=participant.full_name, participant_id=participant.id, **request_origin())


def _link_problem(problem: LinkProblem, token: str):
    response = make_response(
        render_template(
            "signing/link_problem.html",
            problem=problem.message,
            renewable=problem.status == 410,
            token=token,
        ),
        problem.status,
    )
    return _trainee_headers(response)


def _sign_context(link, participant, *, now: datetime, error=None, code_error=False):
    training_session = db.session.get(services.TrainingSession, link.session_id)
    slot, win = services.slot_to_sign(training_session, now)
    attendance = services.attendance_of(slot, participant.id) if slot else None
    return dict(
        link=link,
        participant=participant,
        training_session=training_session,
        training=training_session.training,
        slot=slot,
        window=win,
        attendance=attendance,
        thumbnail=_png_data_url(roster.thumbnail_data(attendance)) if attendance else None,
        code_needed=bool(slot) and services.room_code_needed(slot),
        history=roster.history(training_session, participant),
        error=error,
        code_error=code_error,
        tz=training_session.timezone,
        restricted=participant.processing_restricted,
        staff_device=access.signed_in_here(),
    )


@bp.get("/sign/<token>")
@never_measured
def sign_page(token: str):
    try:
        link = signin_links.resolve_link(token, TRAINEE_LINK, tenant=current_tenant())
    except LinkProblem as problem:
        return _link_problem(problem, token)
    participant = db.session.get(Participant, link.participant_id)
    refine_scope(language=participant.language)
    context = _sign_context(link, participant, now=utcnow())
    return _trainee_headers(make_response(render_template("signing/sign.html", token=token, **context)))


class Refused(Exception):
    """A signature that was not recorded: the message to show and the HTTP status."""

    def __init__(self, message: str, status: int, field: str | None = None):
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


def record_signature(action):
    """Decode the drawn signature, hand it to ``action`` and commit; roll back and raise ``Refused`` if refused."""
    try:
        result = action(images.from_data_url(request.form.get("signature")))
    except images.ImageProblem as problem:
        db.session.rollback()
        raise Refused(str(problem.message), 422) from problem
    except SigningError as refusal:
        db.session.rollback()
        raise Refused(str(refusal.message), refusal.status, refusal.context.get("field")) from refusal
    db.session.commit()
    return result


@bp.post("/sign/<token>")
@never_measured
@csrf.exempt  # the unguessable token in the URL is the credential; no cookie exists to forge a request with
@writes("attendance.signed")
def sign(token: str):
    try:
        link = signin_links.resolve_link(token, TRAINEE_LINK, tenant=current_tenant())
    except LinkProblem as problem:
        return _link_problem(problem, token)
    participant = db.session.get(Participant, link.participant_id)
    refine_scope(language=participant.language)
    now = utcnow()
    status, error, code_error = 200, None, False
    if access.signed_in_here():
        status, error = (
            403,
            _(
                "This device is signed in to the organization's staff account: a trainee's signature cannot be "
                "sent from it. Use the facilitator's device mode, or log out first."
            ),
        )
    elif (request.content_length or 0) > MAX_SIGN_BODY:
        status, error = 413, _("The signature image is too large (200 KB at most).")
    else:
        slot = db.session.get(
            Slot, request.form.get("slot", type=int) or 0, options=[joinedload(Slot.session)]
        )
        if slot is None or slot.session_id != link.session_id:
            status, error = 409, _("This slot is not part of your session. Reload the page.")
        else:
            try:
                result = record_signature(
                    lambda data: services.sign(
                        slot,
                        participant,
                        data,
                        _trainee_actor(participant),
                        method=OWN_LINK,
                        code=request.form.get("code"),
                        language=str(participant.language),
                        now=now,
                    )
                )
            except Refused as refusal:
                status, error, code_error = refusal.status, refusal.message, refusal.field == "code"
            else:
                flash_key = "signed" if result.created else "already"
                return _trainee_headers(
                    redirect(url_for("signing.sign_page", token=token, done=flash_key), 303)
                )
    context = _sign_context(link, participant, now=now, error=error, code_error=code_error)
    # A refused code, or another refusal the trainee can put right, keeps the drawn signature: they fix the
    # code and send again, without drawing again.
    response = make_response(
        render_template("signing/sign.html", token=token, kept_signature=kept_signature(), **context), status
    )
    return _trainee_headers(response)


def kept_signature() -> str | None:
    """The signature just posted, to draw back on the pad: a PNG data URL of a sensible size, or nothing."""
    posted = request.form.get("signature") or ""
    if posted.startswith("data:image/png;base64,") and len(posted) <= MAX_SIGN_BODY:
        return posted
    return None


@bp.post("/sign/<token>/renew")
@never_measured
@csrf.exempt  # answers the same whatever is posted; it sends a link only to the address on file
@writes("signin_link.reissued", "signin_link.renewal_refused")
def renew(token: str):
    try:
        link = signin_links.resolve_link(token, TRAINEE_LINK, tenant=current_tenant(), allow_dead=True)
    except LinkProblem as problem:
        return _link_problem(problem, token)
    email = (request.form.get("email") or "").strip()[:254]
    ip = request.remote_addr or "?"
    subject = f"{current_tenant().slug}:{link.id}"
    wait = throttle.blocked(throttle.RESET_ACCOUNT, subject) or throttle.blocked(throttle.RESET_IP, ip)
    if not wait and email:
        throttle.hit(throttle.RESET_ACCOUNT, subject)
        throttle.hit(throttle.RESET_IP, ip)
        participant = db.session.get(Participant, link.participant_id)
        actor = Actor(kind="anonymous", label="link renewal form", participant_id=None, **request_origin())
        if participant is not None:
            refine_scope(language=participant.language)
        signin_links.request_fresh_link(link, email, actor, tenant=current_tenant())
        db.session.commit()
    # The same page whether the address matched, did not, or the form was throttled.
    return _trainee_headers(make_response(render_template("signing/renew_sent.html"), 200))


# --- staff: links ----------------------------------------------------------------------------------------------


@bp.get("/sessions/<int:session_id>/links")
def links(session_id: int):
    access.guard_login()
    training_session, who = access.facilitated_session(session_id)
    tenant = current_tenant()
    issued = signin_links.links_of(training_session)
    lines = []
    for line in roster.roster_of_session(training_session):
        link = issued.get(("participant", line.id))
        path = url_for("signing.sign_page", token=signin_links.token_of(link, tenant)) if link else None
        lines.append((line, link, path))
    own = None
    own_link = issued.get(("user", who.user.id))
    if who.user in training_session.facilitators and own_link is not None:
        own = url_for("signing.facilitator_entry", token=signin_links.token_of(own_link, tenant))
    facilitators = []
    if who.user.is_admin:
        for person in training_session.facilitators:
            flink = issued.get(("user", person.id))
            path = (
                url_for("signing.facilitator_entry", token=signin_links.token_of(flink, tenant))
                if flink
                else None
            )
            facilitators.append((person, path))
    missing = sum(1 for _line, link, _path in lines if link is None) + sum(
        1 for _person, path in facilitators if path is None
    )
    if who.user in training_session.facilitators and own_link is None and not who.user.is_admin:
        missing += 1
    return render_template(
        "signing/links.html",
        training_session=training_session,
        lines=lines,
        own=own,
        facilitators=facilitators,
        missing=missing,
        base=current_app.config["PUBLIC_BASE_URL"],
    )


@bp.post("/sessions/<int:session_id>/links")
@writes("signin_link.issued")
def links_issue(session_id: int):
    """Issue the links still missing (people enrolled or assigned before links were issued with them)."""
    access.guard_login()
    training_session, who = access.facilitated_session(session_id)
    users = training_session.facilitators if who.user.is_admin else [who.user]
    issued = signin_links.issue_links(
        training_session,
        who.actor,
        participant_ids=[p.id for p in roster.roster_of_session(training_session)],
        user_ids=[u.id for u in users if u in training_session.facilitators],
    )
    db.session.commit()
    flash(ngettext("%(num)d link issued.", "%(num)d links issued.", len(issued)), "success")
    return redirect(url_for("signing.links", session_id=session_id), 303)


@bp.get("/sessions/<int:session_id>/links/<int:participant_id>/qr")
def link_qr(session_id: int, participant_id: int):
    training_session, who, participant, link = _participant_link(session_id, participant_id, issue=False)
    url = external_url("signing.sign_page", token=signin_links.token_of(link, current_tenant()))
    return render_template(
        "signing/qr.html",
        training_session=training_session,
        participant=participant,
        url=url,
        qr=qr_svg(url, scale=5, title=_("Sign-in link of %(name)s", name=participant.full_name)),
    )


@bp.post("/sessions/<int:session_id>/links/<int:participant_id>/revoke")
@writes("signin_link.revoked", "signin_link.issued")
def link_revoke(session_id: int, participant_id: int):
    return _link_change(session_id, participant_id, "revoke")


@bp.post("/sessions/<int:session_id>/links/<int:participant_id>/reissue")
@writes("signin_link.reissued", "signin_link.issued")
def link_reissue(session_id: int, participant_id: int):
    return _link_change(session_id, participant_id, "reissue")


def _participant_link(session_id: int, participant_id: int, *, issue: bool = True):
    """The session, who facilitates it, the participant and their link; 404 when any is not theirs to see.
    ``issue``: a change (POST) issues a link still missing; a page only reads, and a missing link is a 404."""
    access.guard_login()
    training_session, who = access.facilitated_session(session_id)
    participant = db.session.get(Participant, participant_id) or abort(404)
    if not issue:
        link = signin_links.find_trainee_link(training_session, participant)
        return training_session, who, participant, link or abort(404)
    try:
        link = signin_links.trainee_link(training_session, participant, who.actor)
    except SigningError:
        abort(404)
    return training_session, who, participant, link


def _link_change(session_id: int, participant_id: int, action: str):
    _session, who, participant, link = _participant_link(session_id, participant_id)
    if action == "revoke":
        signin_links.revoke_link(link, who.actor)
        flash(_("The link of %(name)s no longer works.", name=participant.full_name), "success")
    else:
        signin_links.reissue_link(link, who.actor)
        flash(
            _(
                "A new link was made for %(name)s; the previous one no longer works.",
                name=participant.full_name,
            ),
            "success",
        )
    db.session.commit()
    return redirect(url_for("signing.links", session_id=session_id), 303)


@bp.route("/facilitate/<token>", methods=["GET", "POST"])
@never_measured
@writes("signin_link.facilitator_used")
def facilitator_entry(token: str):
    """The page says whose link it is; its button opens the live pages. Opening the link changes nothing,
    so a mail scanner that follows it neither uses it nor writes it in the audit trail."""
    try:
        link = signin_links.resolve_link(token, FACILITATOR, tenant=current_tenant())
    except LinkProblem as problem:
        return _link_problem(problem, token)
    if request.method == "GET":
        page = render_template(
            "signing/facilitator_entry.html",
            training_session=db.session.get(services.TrainingSession, link.session_id),
            user=db.session.get(services.User, link.user_id),
        )
        return _trainee_headers(make_response(page, 200))
    access.add_grant(link)
    link.last_used_at = utcnow()
    user = db.session.get(services.User, link.user_id)
    record(
        Actor(kind="user", label=f"{user.email} (personal link)", user_id=user.id, **request_origin()),
        "signin_link.facilitator_used",
        link,
    )
    db.session.commit()
    return _trainee_headers(redirect(url_for("signing.session_live", session_id=link.session_id), 303))

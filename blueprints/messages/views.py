"""The delivery log, the development SMS outbox, and the session page's invitations.

Need-to-know: admins see every message; a facilitator sees the messages of the sessions they facilitate.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

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
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import User
from blueprints.messages import outreach
from blueprints.messages.models import CHANNELS, FAILED, STATUSES, DevSms, Message
from blueprints.messages.services import can_resend, resend, resend_failed
from blueprints.shared.mail import OUTBOX_ANSWER
from blueprints.trainings.access import participant_or_404, session_or_404, sessions_query
from blueprints.trainings.models import Training, TrainingSession
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request, render
from blueprints.web.i18n import format_date
from jobs import waiting_for_service
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("messages", __name__, url_prefix="/<org>")

PAGE = 50
SESSION_CHOICES = 300

TEMPLATE_LABELS = {
    outreach.INVITATION: _l("Invitation with the sign-in link"),
    outreach.REMINDER_BEFORE: _l("Reminder before a slot"),
    outreach.REMINDER_LATE: _l("Reminder: not signed yet"),
    outreach.FACILITATOR_LINK: _l("Facilitator's personal link"),
    outreach.SLOT_SUMMARY: _l("End-of-slot summary"),
    "signin_link": _l("New sign-in link"),
    "invitation": _l("Account invitation"),
    "reset_password": _l("Password reset"),
    "verify_email": _l("Email address confirmation"),
    "policy_change": _l("Policy change"),
    "certificate": _l("Certificate of completion"),
}

STATUS_LABELS = {
    "pending": _l("Pending"),
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
    "unknown": _l("Unknown: check, then resend"),
}

CHANNEL_LABELS = {"email": _l("Email"), "sms": _l("SMS")}


@bp.app_template_global()
def message_template_label(name: str) -> str:
    return str(TEMPLATE_LABELS.get(name, name))


@bp.app_template_global()
def message_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


_GAVE_UP = re.compile(r"^gave up after (\d+) attempts: (.*)$", re.S)
_DEV_SMS = re.compile(r"^kept in the development outbox \((\d+) part\(s\)\)$")


@bp.app_template_global()
def provider_answer_text(answer: str | None) -> str:
    """What a provider answered, for the reader: Emarge's own notes in their language (a local outbox, a worker
    that stopped, a receipt); a mail server's or gateway's own words as it wrote them."""
    if not answer:
        return ""
    if answer.startswith((OUTBOX_ANSWER, "written to ")):
        name = os.path.basename(answer.removeprefix(OUTBOX_ANSWER).removeprefix("written to "))
        return _("Kept in the local outbox, as no mail server is set up (file %(name)s).", name=name)
    if answer == "outcome unknown: the worker stopped while sending":
        return _("Outcome unknown: the worker stopped while sending.")
    if answer.startswith("outcome unknown: "):
        return _("Outcome unknown: %(detail)s", detail=answer.removeprefix("outcome unknown: "))
    if answer == "receipt: delivered":
        return _("Delivered, says the provider's receipt.")
    if answer.startswith("receipt: "):
        return _("The provider's receipt says: %(detail)s", detail=answer.removeprefix("receipt: "))
    dev_sms = _DEV_SMS.match(answer)
    if dev_sms:
        parts = int(dev_sms.group(1))
        return ngettext(
            "Kept in the development outbox of text messages (%(num)d part).",
            "Kept in the development outbox of text messages (%(num)d parts).",
            parts,
        )
    gave_up = _GAVE_UP.match(answer)
    if gave_up:
        return _("Gave up after %(num)s attempts: %(detail)s", num=gave_up.group(1), detail=gave_up.group(2))
    return answer


@bp.app_template_global()
def message_channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


@bp.app_template_global("invitation_lines")
def _invitation_lines(session: TrainingSession):
    """The session page includes the invitations fragment with only the session."""
    return outreach.invitation_lines(session)


# --- the log -------------------------------------------------------------------------------------------------


def visible_messages(user: User) -> Select:
    """The messages ``user`` may see."""
    query = select(Message)
    if not user.is_admin:
        query = query.where(
            Message.session_id.in_(sessions_query(user).with_only_columns(TrainingSession.id))
        )
    return query


def message_or_404(user: User, message_id: int) -> Message:
    found = db.session.scalars(visible_messages(user).where(Message.id == message_id)).first()
    if found is None:
        abort(404)
    return found


@dataclass(frozen=True)
class Filters:
    session_id: int | None = None
    status: str | None = None
    channel: str | None = None

    @classmethod
    def read(cls, values) -> Filters:
        status = values.get("status") or None
        channel = values.get("channel") or None
        return cls(
            session_id=values.get("session", type=int),
            status=status if status in STATUSES else None,
            channel=channel if channel in CHANNELS else None,
        )

    def apply(self, query: Select) -> Select:
        if self.session_id is not None:
            query = query.where(Message.session_id == self.session_id)
        if self.status:
            query = query.where(Message.status == self.status)
        if self.channel:
            query = query.where(Message.channel == self.channel)
        return query

    def args(self) -> dict:
        """For links that keep the filters (the pager, the redirect after a resend)."""
        found = {"session": self.session_id, "status": self.status, "channel": self.channel}
        return {k: v for k, v in found.items() if v is not None}


def _session_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sessions_query(current_user)
        .join(Training, Training.id == TrainingSession.training_id)
        .with_only_columns(TrainingSession.id, Training.title, TrainingSession.start_date)
        .order_by(TrainingSession.start_date.desc(), TrainingSession.id.desc())
        .limit(SESSION_CHOICES)
    )
    return [(row.id, f"{row.title} — {format_date(row.start_date)}") for row in rows]


def _log_context(filters: Filters) -> dict:
    query = filters.apply(visible_messages(current_user)).order_by(Message.id.desc())
    page = db.paginate(query, per_page=PAGE, error_out=False)
    failed = db.session.scalar(
        filters.apply(visible_messages(current_user))
        .where(Message.status == FAILED)
        .with_only_columns(Message.id)
        .limit(1)
    )
    return {
        "page": page,
        "filters": filters,
        "session_choices": _session_choices(),
        "statuses": STATUSES,
        "channels": CHANNELS,
        "any_failed": failed is not None,
        "can_resend": can_resend,
    }


@bp.get("/messages")
@login_required
def index():
    return render("messages/index.html", "messages/_log.html", **_log_context(Filters.read(request.args)))


@bp.get("/messages/<int:message_id>")
@login_required
def show(message_id: int):
    message = message_or_404(current_user, message_id)
    resends = db.session.scalars(
        visible_messages(current_user).where(Message.resend_of_id == message.id).order_by(Message.id)
    ).all()
    return render_template(
        "messages/show.html", message=message, resends=resends, can_resend=can_resend(message)
    )


def _back_to_log(filters: Filters):
    return redirect(url_for("messages.index", **filters.args()), 303)


@bp.post("/messages/<int:message_id>/resend")
@login_required
@writes("message.resent")
def resend_one(message_id: int):
    message = message_or_404(current_user, message_id)
    filters = Filters.read(request.form)
    if not can_resend(message):
        flash(
            _("This message cannot be sent again (it is on its way, or its content was not kept)."), "error"
        )
        return _back_to_log(filters)
    resend(message, request_actor(), tenant=current_tenant())
    db.session.commit()
    flash(_("The message to %(recipient)s is queued again.", recipient=message.recipient), "success")
    return _back_to_log(filters)


@bp.post("/messages/resend-failed")
@login_required
@writes("message.resent")
def resend_all_failed():
    filters = Filters.read(request.form)
    failed = db.session.scalars(
        filters.apply(visible_messages(current_user)).where(Message.status == FAILED).order_by(Message.id)
    ).all()
    count = resend_failed(failed, request_actor(), tenant=current_tenant()) if failed else 0
    db.session.commit()
    if count:
        flash(
            ngettext(
                "%(num)d failed message is queued again.", "%(num)d failed messages are queued again.", count
            ),
            "success",
        )
    else:
        flash(_("No failed message to send again among those shown."), "info")
    return _back_to_log(filters)


@bp.get("/messages/sms-outbox")
@admin_required
def sms_outbox():
    # Only the development adapter keeps what it "sends"; with a real gateway there is nothing to show.
    if current_app.config.get("SMS_GATEWAY_URL"):
        abort(404)
    page = db.paginate(select(DevSms).order_by(DevSms.id.desc()), per_page=PAGE, error_out=False)
    return render_template("messages/sms_outbox.html", page=page)


# --- the session page: invitations and facilitators' links ------------------------------------------------


def _invitations_fragment(session: TrainingSession, status: int = 200, **extra):
    return make_response(
        render_template(
            "messages/_invitations.html", session=session, can_edit=current_user.is_admin, **extra
        ),
        status,
    )


@bp.get("/sessions/<int:session_id>/invitations")
@login_required
def invitations(session_id: int):
    session = session_or_404(current_user, session_id)
    return render(
        "messages/invitations.html",
        "messages/_invitations.html",
        session=session,
        can_edit=current_user.is_admin,
    )


def _after_sending(session: TrainingSession, notice: str, problems: list[str]):
    """The refreshed fragment for htmx; otherwise back to the session page, the outcome flashed."""
    if is_fragment_request():
        return _invitations_fragment(session, invitation_notice=notice, invitation_problems=problems)
    if notice:
        flash(notice, "success")
    for problem in problems:
        flash(problem, "error")
    return redirect(
        url_for("trainings.session", session_id=session.id, _anchor=f"invitations-{session.id}"), 303
    )


def _skipped(skipped) -> list[str]:
    return [
        _("Not sent to %(name)s: %(reason)s.", name=participant.full_name, reason=reason)
        for participant, reason in skipped
    ]


@bp.post("/sessions/<int:session_id>/invitations")
@login_required
@writes("session.invitations_sent", "signin_link.issued", "signin_link.reissued")
def send_invitations(session_id: int):
    session = session_or_404(current_user, session_id)
    again = request.form.get("again") == "1"
    outcome = outreach.invite_all(session, request_actor(), tenant=current_tenant(), again=again)
    db.session.commit()
    parts = []
    if outcome.sent and waiting_for_service():
        parts.append(
            ngettext(
                "Invitation queued for %(num)d participant: it goes out as soon as the sending service is back.",
                "Invitations queued for %(num)d participants: they go out as soon as the sending service is back.",
                len(outcome.sent),
            )
        )
    elif outcome.sent:
        parts.append(
            ngettext(
                "Invitation sent to %(num)d participant.",
                "Invitations sent to %(num)d participants.",
                len(outcome.sent),
            )
        )
    if outcome.already:
        parts.append(
            ngettext(
                "%(num)d participant already had one: choose “Send again to everyone” to send a new one.",
                "%(num)d participants already had one: choose “Send again to everyone” to send them a new one.",
                len(outcome.already),
            )
        )
    if not parts and not outcome.skipped:
        parts.append(_("Nobody is enrolled in this session."))
    return _after_sending(session, " ".join(parts), _skipped(outcome.skipped))


@bp.post("/sessions/<int:session_id>/invitations/<int:participant_id>")
@login_required
@writes("session.invitation_sent", "signin_link.issued", "signin_link.reissued")
def send_invitation(session_id: int, participant_id: int):
    session = session_or_404(current_user, session_id)
    participant = participant_or_404(current_user, participant_id)
    channel = request.form.get("channel") or None
    if channel not in (None, *outreach.PREFERENCES):
        if is_fragment_request():
            return _invitations_fragment(session, 422, invitation_problems=[_("Choose email or SMS.")])
        flash(_("Choose email or SMS."), "error")
        return redirect(url_for("trainings.session", session_id=session.id), 303)
    found = outreach.invite(session, participant, request_actor(), tenant=current_tenant(), channel=channel)
    db.session.commit()
    if found.reachable:
        labels = ", ".join(message_channel_label(ch) for ch in found.channels)
        if waiting_for_service():
            notice = _(
                "Invitation to %(name)s (%(channels)s) queued: it goes out as soon as the sending service is back.",
                name=participant.full_name,
                channels=labels,
            )
        else:
            notice = _(
                "Invitation sent to %(name)s (%(channels)s).", name=participant.full_name, channels=labels
            )
        return _after_sending(session, notice, [])
    return _after_sending(session, "", _skipped([(participant, found.reason)]))


@bp.post("/sessions/<int:session_id>/facilitator-links")
@admin_required
@writes("session.facilitator_links_sent", "signin_link.issued")
def send_facilitator_links(session_id: int):
    session = session_or_404(current_user, session_id)
    emailed = outreach.send_facilitator_links(session, request_actor(), tenant=current_tenant())
    db.session.commit()
    if emailed:
        notice = _("Personal link emailed to %(names)s.", names=", ".join(user.full_name for user in emailed))
        return _after_sending(session, notice, [])
    return _after_sending(session, "", [_("This session has no active facilitator to email.")])

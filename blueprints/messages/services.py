"""Writing messages: render in the recipient's language, keep a row, send through the messaging jobs.

``queue_email`` and ``queue_sms`` write the row in the caller's transaction; the ids written in one transaction
go to the messaging queue when it commits, in jobs of at most ``BATCH`` messages (jobs/messages.py sends
them). A message that must not or cannot go out (malformed address, a landline, a participant whose processing
is restricted or who gave no SMS consent) is still written, as "failed" with ``skipped: <reason>``, so the log
says why, and never reaches a job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message as Message_
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.orm import Session

from blueprints.messages.models import EMAIL, FAILED, PENDING, QUEUED, SENDING, SMS, UNKNOWN, Message
from jobs import MESSAGING, JobCall, dispatch, on_commit
from tenants import TenantRef
from tenants.db import bind_schema, db, utcnow
from tenants.sql import insert_or_nothing
from tenants.work import declare

logger = logging.getLogger(__name__)

BATCH = 100  # messages per job
SKIPPED = "skipped: "
_OUTBOX = "emarge_outbox"
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable source, no over-long lines


# A claim is taken just before one exchange, bounded by the SMTP/HTTP timeouts: a row "sending" for longer was
# left by a worker that died.
STUCK_AFTER = timedelta(minutes=10)
# A pending row this old never reached a queue (Redis was down); a queued one this long past due lost its job.
PENDING_AFTER = timedelta(minutes=1)
QUEUED_AFTER = timedelta(minutes=10)


def next_repair(session: Session, now: datetime) -> datetime | None:
    """When the repair sweep (jobs.messages.sweep_tenant_messages) next has a message to look at: the soonest
    moment a "sending" one counts as stuck, a "pending" one as never queued, a "queued" one as lost."""
    due = func.coalesce(Message.not_before, Message.created_at)
    sending, pending, queued = session.execute(
        select(
            func.min(
                case((Message.status == SENDING, func.coalesce(Message.last_attempt_at, Message.created_at)))
            ),
            func.min(case((Message.status == PENDING, due))),
            func.min(case((Message.status == QUEUED, due))),
        ).where(Message.status.in_((SENDING, PENDING, QUEUED)))
    ).one()
    moments = [
        moment + delay
        for moment, delay in ((sending, STUCK_AFTER), (pending, PENDING_AFTER), (queued, QUEUED_AFTER))
        if moment is not None
    ]
    return min(moments) if moments else None


MESSAGE_REPAIRS = declare("message-repairs", {Message.__tablename__}, next_repair)


class CannotResend(ValueError):
    pass


def N_(message: str) -> str:
    """Mark a string for the catalog; it is translated later, in the recipient's language."""
    return message


# --- writing -------------------------------------------------------------------------------------------------


def queue_email(
    template: str,
    *,
    tenant: TenantRef,
    to: str,
    name: str | None,
    language: str,
    subject: str,
    context: dict,
    user_id: int | None = None,
    sensitive: bool = False,
    session_id: int | None = None,
    participant_id: int | None = None,
    slot_id: int | None = None,
    dedupe_key: str | None = None,
    attachment_document_id: int | None = None,
    about_their_rights: bool = False,
) -> Message | None:
    """Render ``email/<template>.txt`` and ``.html`` and queue the message; it goes out when the caller commits.

    ``subject`` is an untranslated string, translated here in the recipient's language. Returns None, writing
    nothing, when ``dedupe_key`` was already used. ``about_their_rights``: the answer to the person's own
    request, sent even when their processing is restricted (the restriction does not silence the answer).
    """
    address, reason = email_address(to)
    with force_locale(language):
        context = {"organization": tenant.name, "recipient_name": name, **context}
        values = {
            "subject": gettext(subject, **context)[:300],
            "body_text": render_template(f"email/{template}.txt", **context),
            "body_html": render_template(f"email/{template}.html", **context),
        }
    return _write(
        EMAIL,
        template,
        tenant=tenant,
        recipient=address or (to or "").strip()[:254],
        reason=reason,
        participant_id=participant_id,
        recipient_name=name,
        user_id=user_id,
        sensitive=sensitive,
        session_id=session_id,
        slot_id=slot_id,
        dedupe_key=dedupe_key,
        attachment_document_id=attachment_document_id,
        about_their_rights=about_their_rights,
        **values,
    )


def queue_sms(
    template: str,
    *,
    tenant: TenantRef,
    to: str,
    name: str | None,
    language: str,
    context: dict,
    user_id: int | None = None,
    session_id: int | None = None,
    participant_id: int | None = None,
    slot_id: int | None = None,
    dedupe_key: str | None = None,
    about_their_rights: bool = False,
) -> Message | None:
    """Render ``sms/<template>.txt`` and queue the SMS to a mobile number; as ``queue_email`` otherwise."""
    from blueprints.shared.phones import mobile_number
    from blueprints.shared.sms import MAX_SEGMENTS, segments

    number, reason = mobile_number(to)
    with force_locale(language):
        context = {"organization": tenant.name, "recipient_name": name, **context}
        body = " ".join(render_template(f"sms/{template}.txt", **context).split())
    if reason is None and segments(body) > MAX_SEGMENTS:
        reason = f"text too long ({segments(body)} SMS parts, at most {MAX_SEGMENTS})"
    return _write(
        SMS,
        template,
        tenant=tenant,
        recipient=number or (to or "").strip()[:254],
        reason=reason,
        participant_id=participant_id,
        recipient_name=name,
        user_id=user_id,
        subject=body[:300],
        body_text=body,
        body_html=None,
        session_id=session_id,
        slot_id=slot_id,
        dedupe_key=dedupe_key,
        about_their_rights=about_their_rights,
    )


def email_address(value: str | None) -> tuple[str | None, str | None]:
    """``(address, None)`` when ``value`` is a well-formed address, ``(None, reason)`` otherwise (no DNS)."""
    value = (value or "").strip()
    if not value:
        return None, "no address"
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError as error:
        return None, f"malformed address ({error})"


def participant_refusal(channel: str, participant_id: int | None) -> str | None:
    """Why this participant must not get a message on ``channel``, or None. A second line of defence: those
    who choose the recipients (blueprints/messages/outreach.py) already leave these people out."""
    if participant_id is None:
        return None
    from blueprints.participants.models import Participant

    participant = db.session.get(Participant, participant_id)
    if participant is None:
        return "participant not found"
    if participant.processing_restricted:
        return "processing restricted"
    if channel == SMS and not participant.sms_consent:
        return "no SMS consent"
    return None


def _write(
    channel: str,
    template: str,
    *,
    tenant: TenantRef,
    recipient: str,
    reason: str | None,
    about_their_rights: bool = False,
    **values,
) -> Message | None:
    participant_id = values.get("participant_id")
    refusal = None if about_their_rights else participant_refusal(channel, participant_id)
    if refusal:
        # Nothing of a person who objected is kept beyond the fact that nothing was sent.
        values.update(body_text=None, body_html=None, subject=f"({template})")
    reason = refusal or reason
    row = {
        "channel": channel,
        "template": template,
        "recipient": recipient,
        "status": FAILED if reason else PENDING,
        "provider_answer": f"{SKIPPED}{reason}"[:500] if reason else None,
        "created_at": utcnow(),
        "attempts": 0,
        **values,
    }
    if reason:
        logger.info("message %s to a %s skipped: %s", template, channel, reason)
    # ON CONFLICT (dedupe_key) DO NOTHING: the caller's transaction survives a duplicate.
    message = insert_or_nothing(db.session, Message, row, ["dedupe_key"], returning_row=True)
    if message is not None and not reason:
        send_at_commit(message.id, tenant)
    return message


# --- handing messages to the jobs ----------------------------------------------------------------------------


def send_at_commit(message_id: int, tenant: TenantRef) -> None:
    """Send ``message_id`` of ``tenant`` once the current transaction commits, batched with every other
    message of it."""
    session = db.session()
    if not session.in_transaction():
        dispatch_messages(tenant, [message_id])
        return
    root = session.get_transaction()
    outbox = session.info.get(_OUTBOX)
    if outbox is None or outbox[0] is not root:
        outbox = session.info[_OUTBOX] = (root, tenant, [])
    outbox[2].append(message_id)
    # One callback per message, so that a savepoint rolled back does not take the others' with it; the first
    # that runs sends the whole batch. Ids of rows a savepoint undid are harmless: the job finds nothing.
    on_commit(lambda: _flush_outbox(session, root))


def _flush_outbox(session, root) -> None:
    outbox = session.info.get(_OUTBOX)
    if outbox is None or outbox[0] is not root:
        return
    del session.info[_OUTBOX]
    dispatch_messages(outbox[1], outbox[2])


def dispatch_messages(tenant: TenantRef, ids: list[int], *, delay: float = 0) -> bool:
    """Enqueue jobs of at most ``BATCH`` of these messages; those enqueued turn from "pending" to "queued".

    When Redis cannot be reached the rows stay "pending" and the periodic sweep enqueues them later: the
    caller's action succeeds all the same. False when some could not be enqueued.
    """
    ids = list(dict.fromkeys(ids))
    handed: list[int] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        if dispatch(JobCall("jobs.messages.send_messages", (tenant.id, chunk), MESSAGING, delay)):
            handed += chunk
    if handed:
        _mark_queued(tenant, handed, utcnow() + timedelta(seconds=delay))
    return len(handed) == len(ids)


def _mark_queued(tenant: TenantRef, ids: list[int], due) -> None:
    """pending → queued, on a connection of its own (the caller's transaction has just committed). The sweep
    takes a queued row back when it has waited too long past ``not_before`` (its job was lost)."""
    try:
        with db.engine.begin() as connection:
            bind_schema(connection, tenant.schema)
            for start in range(0, len(ids), 1000):
                connection.execute(
                    update(Message)
                    .where(Message.id.in_(ids[start : start + 1000]), Message.status == PENDING)
                    .values(
                        status=QUEUED,
                        not_before=case(
                            (or_(Message.not_before.is_(None), Message.not_before < due), due),
                            else_=Message.not_before,
                        ),
                    )
                )
    except Exception:
        # They stay pending: the sweep enqueues them again, and the job's claim keeps them from going twice.
        logger.warning("could not mark %d message(s) queued", len(ids), exc_info=True)


# --- resending -----------------------------------------------------------------------------------------------


def can_resend(message: Message) -> bool:
    """Failed or unknown, and its text still kept (sensitive bodies are wiped once sent; a message refused
    because of the person's choices keeps none)."""
    return message.status in (FAILED, UNKNOWN) and message.body_text is not None


def resend(message: Message, actor, *, tenant: TenantRef) -> Message:
    """A new message repeating ``message`` (``resend_of_id``), queued; to the participant's current address
    when the message was theirs, so a corrected address is used. The audit trail records who asked."""
    from blueprints.audit.services import record

    if not can_resend(message):
        raise CannotResend(_l("This message cannot be sent again."))
    recipient = message.recipient
    if message.participant_id is not None:
        from blueprints.participants.models import Participant

        participant = db.session.get(Participant, message.participant_id)
        current = participant and (participant.mobile if message.channel == SMS else participant.email)
        recipient = current or recipient
    if message.channel == SMS:
        from blueprints.shared.phones import mobile_number

        number, reason = mobile_number(recipient)
    else:
        number, reason = email_address(recipient)
    copy = _write(
        message.channel,
        message.template,
        tenant=tenant,
        recipient=number or recipient,
        reason=reason,
        recipient_name=message.recipient_name,
        user_id=message.user_id,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        sensitive=message.sensitive,
        session_id=message.session_id,
        participant_id=message.participant_id,
        slot_id=message.slot_id,
        attachment_document_id=message.attachment_document_id,
        resend_of_id=message.id,
    )
    record(actor, "message.resent", message, new_message_id=copy.id, channel=message.channel)
    return copy


def resend_failed(messages: Select | list[Message], actor, *, tenant: TenantRef) -> int:
    """Resend each failed or unknown message given that can be and was not resent already; how many were."""
    if isinstance(messages, Select):
        messages = list(db.session.scalars(messages))
    candidates = [m for m in messages if can_resend(m)]
    done = set()
    for start in range(0, len(candidates), 500):
        chunk = [m.id for m in candidates[start : start + 500]]
        done.update(db.session.scalars(select(Message.resend_of_id).where(Message.resend_of_id.in_(chunk))))
    count = 0
    for message in candidates:
        if message.id not in done:
            resend(message, actor, tenant=tenant)
            count += 1
    return count


# --- building ------------------------------------------------------------------------------------------------


def build_email(
    *,
    to: str,
    to_name: str | None,
    subject: str,
    text: str,
    html: str | None,
    sender_name: str,
    reply_to: str | None = None,
    attachments: tuple[tuple[bytes, str, str], ...] = (),
) -> Message_:
    """The platform address sends; the organization's name is the display name and its contact the reply-to.

    Text and HTML as alternatives, then ``attachments`` (data, content type, file name). Built with the
    compat32 MIME classes, about three times cheaper than ``EmailMessage`` for the same bytes on the wire:
    the messaging worker builds one per message.
    """
    _, sender = parseaddr(current_app.config["MAIL_FROM"])
    body: Message_ = MIMEText(text, "plain", _UTF8)
    if html:
        body = MIMEMultipart("alternative", _subparts=[body, MIMEText(html, "html", _UTF8)])
    email = body
    if attachments:
        email = MIMEMultipart("mixed", _subparts=[body])
        for data, content_type, filename in attachments:
            maintype, _, subtype = content_type.partition("/")
            part = MIMEApplication(data, subtype or "octet-stream") if maintype == "application" else None
            if part is None:
                part = MIMEBase(maintype, subtype or "octet-stream")
                part.set_payload(data)
                encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
            email.attach(part)
    email["From"] = formataddr((sender_name, sender))
    email["To"] = formataddr((to_name or "", to))
    if reply_to:
        email["Reply-To"] = reply_to
    email["Subject"] = Header(subject, "utf-8")
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    return email

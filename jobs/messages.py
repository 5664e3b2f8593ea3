"""Messaging jobs: send queued messages, sweep what was left behind, the "find my organization" email.

The row's status decides, never the job's memory: each message is claimed (pending|queued → sending, one more
attempt) in a commit just before its exchange with the SMTP server or the SMS gateway; its outcome is committed
with the next message's claim (or at the end). A job run twice finds nothing left to claim; a worker killed
mid-exchange leaves one message "sending", which the sweep marks "unknown" for a person to resend, never resent
blindly.
"""

from __future__ import annotations

import functools
import logging
from contextlib import ExitStack
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import Boolean, bindparam, case, func, or_, select, update

from blueprints.accounts.models import organization as the_organization
from blueprints.messages.models import (
    DELIVERED,
    EMAIL,
    FAILED,
    PENDING,
    QUEUED,
    SENDING,
    SENT,
    SMS,
    UNKNOWN,
    Message,
)
from blueprints.messages.services import (
    MESSAGE_REPAIRS,
    PENDING_AFTER,
    QUEUED_AFTER,
    STUCK_AFTER,
    build_email,
    dispatch_messages,
)
from blueprints.shared.mail import (
    ConnectionLost,
    PermanentFailure,
    TemporaryFailure,
    UncertainFailure,
    mailer,
)
from blueprints.web.audit_guard import writes
from jobs import JobFailure, on_job_failure, path_of, platform_job, tenant_job
from tenants import current_tenant, tenant_scope, work
from tenants.db import db, parse_moment, utcnow
from tenants.models import ACTIVE, Tenant

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = (30, 120, 600, 1800)  # seconds before attempts 2, 3, 4, 5
EARLY = timedelta(seconds=5)  # a delayed job may start a little before its row's not_before


@tenant_job
@writes(none="sends queued messages; the message log is their record")
def send_messages(message_ids: list[int]) -> dict:
    """Send these messages: the emails over one SMTP connection, the SMS through the gateway.

    One message's failure never stops the others: a refusal (5xx, 4xx from the gateway) fails it for good; a
    temporary failure puts it back to "pending" with a later ``not_before`` and a delayed job, until
    ``MAX_ATTEMPTS``; a connection lost after the message was handed over makes it "unknown".
    """
    batch = _Batch()
    rows = db.session.execute(
        select(Message.id, Message.channel)
        .where(Message.id.in_(message_ids), Message.status.in_((PENDING, QUEUED)))
        .order_by(Message.id)
    ).all()
    db.session.commit()
    try:
        _send_emails(batch, [i for i, channel in rows if channel == EMAIL])
        _send_texts(batch, [i for i, channel in rows if channel == SMS])
    finally:
        batch.finish()
    for delay, ids in sorted(batch.retry.items()):
        dispatch_messages(current_tenant(), ids, delay=delay)
    return batch.outcome


@functools.cache
def _statements() -> dict:
    """The two statements of the sending loop, built once (the loop runs them for every message)."""
    t = Message.__table__
    returned = ("id", "recipient", "recipient_name", "subject", "body_text", "body_html", "sensitive")
    returned += ("attempts", "attachment_document_id")
    claim = (
        update(t)
        .where(
            t.c.id == bindparam("b_id"),
            t.c.status.in_((PENDING, QUEUED)),
            or_(t.c.not_before.is_(None), t.c.not_before <= bindparam("b_due", type_=t.c.not_before.type)),
        )
        .values(status=SENDING, attempts=t.c.attempts + 1, last_attempt_at=bindparam("b_now"))
        .returning(*(t.c[name] for name in returned))
    )
    wipe = bindparam("b_wipe", type_=Boolean())
    outcome = (
        update(t)
        .where(t.c.id == bindparam("b_done_id"))
        .values(
            # A delivery receipt may have come first (the gateway is fast): delivered stays delivered.
            status=case((t.c.status == DELIVERED, t.c.status), else_=bindparam("b_status")),
            provider_answer=bindparam("b_answer"),
            not_before=bindparam("b_not_before", type_=t.c.not_before.type),
            sent_at=func.coalesce(bindparam("b_sent_at", type_=t.c.sent_at.type), t.c.sent_at),
            provider_id=func.coalesce(
                bindparam("b_provider_id", type_=t.c.provider_id.type), t.c.provider_id
            ),
            body_text=case((wipe, None), else_=t.c.body_text),
            body_html=case((wipe, None), else_=t.c.body_html),
        )
    )
    # PostgreSQL runs a data-modifying CTE even when the main statement does not read it: the previous
    # message's outcome and the next claim in one round trip.
    both = claim.add_cte(outcome.cte("done"))
    return {"claim": claim, "outcome": outcome, "outcome_and_claim": both}


class _Batch:
    """What became of a job's messages.

    One commit per message: the outcome of the message just sent is committed with the claim of the next
    one, so at any moment at most one message of the batch is "sending" with an uncertain outcome. Plain
    table statements (no ORM unit of work) keep the worker's share of each message small.
    """

    def __init__(self):
        self.outcome = {"sent": 0, "failed": 0, "retry": 0, "unknown": 0}
        self.retry: dict[int, list[int]] = {}
        self._unwritten: dict | None = None
        self.postgresql = db.session.get_bind().dialect.name == "postgresql"

    def claim(self, message_id: int):
        """pending|queued (and due) → sending, one more attempt; committed before the exchange (with the
        previous message's outcome). The row, or None when another job has it or had it, or it is not due."""
        now = utcnow()
        params = {"b_id": message_id, "b_now": now, "b_due": now + EARLY}
        if self._unwritten is not None and self.postgresql:
            params.update(self._unwritten)
            self._unwritten = None
            row = db.session.connection().execute(_statements()["outcome_and_claim"], params).first()
        else:
            self._write()
            row = db.session.connection().execute(_statements()["claim"], params).first()
        db.session.commit()
        return row

    def finish(self) -> None:
        self._write()
        db.session.commit()

    def _write(self) -> None:
        if self._unwritten is not None:
            db.session.connection().execute(_statements()["outcome"], self._unwritten)
            self._unwritten = None

    def _record(self, row, outcome: str, **values) -> None:
        self._write()
        self._unwritten = {
            "b_done_id": row.id,
            "b_not_before": None,
            "b_sent_at": None,
            "b_provider_id": None,
            "b_wipe": False,
            **values,
        }
        self.outcome[outcome] += 1
        logger.debug("message %s: %s (attempt %s)", row.id, outcome, row.attempts)

    def sent(self, row, answer: str, provider_id: str | None = None) -> None:
        self._record(
            row,
            "sent",
            b_status=SENT,
            b_sent_at=utcnow(),
            b_answer=answer[:500],
            b_provider_id=provider_id,
            b_wipe=bool(row.sensitive),
        )

    def failed(self, row, error) -> None:
        self._record(row, "failed", b_status=FAILED, b_answer=str(error)[:500])

    def unknown(self, row, error) -> None:
        self._record(row, "unknown", b_status=UNKNOWN, b_answer=f"outcome unknown: {error}"[:500])

    def again(self, row, error) -> None:
        """Back to pending with a backoff, or failed for good after the last attempt."""
        if row.attempts >= MAX_ATTEMPTS:
            answer = f"gave up after {row.attempts} attempts: {error}"[:500]
            self._record(row, "failed", b_status=FAILED, b_answer=answer)
            return
        delay = BACKOFF[min(row.attempts, len(BACKOFF)) - 1]
        self.retry.setdefault(delay, []).append(row.id)
        self._record(
            row,
            "retry",
            b_status=PENDING,
            b_answer=str(error)[:500],
            b_not_before=utcnow() + timedelta(seconds=delay),
        )


def _send_emails(batch: _Batch, ids: list[int]) -> None:
    if not ids:
        return
    organization = the_organization()
    sender_name = organization.name if organization else current_tenant().name
    reply_to = organization.contact_email if organization else None
    smtp, down = None, None
    with ExitStack() as connection:
        for message_id in ids:
            message = batch.claim(message_id)
            if message is None:
                continue
            if down is not None:  # no connection could be made for this batch: the rest wait too
                batch.again(message, down)
                continue
            try:
                email = _email_of(message, sender_name, reply_to)
            except PermanentFailure as error:
                batch.failed(message, error)
                continue
            except Exception as error:  # a bug must not stop the batch: this one was not sent
                logger.exception("message %s could not be built", message.id)
                batch.failed(message, f"could not be built: {type(error).__name__}")
                continue
            try:
                if smtp is None:
                    smtp = connection.enter_context(mailer(current_app).connection())
            except TemporaryFailure as error:
                down = error
                batch.again(message, error)
                continue
            try:
                answer = smtp.send(email)
            except UncertainFailure as error:
                batch.unknown(message, error)
                smtp = _reconnect_later(connection)
            except ConnectionLost as error:
                batch.again(message, error)
                smtp = _reconnect_later(connection)
            except TemporaryFailure as error:
                batch.again(message, error)
            except PermanentFailure as error:
                batch.failed(message, error)
            else:
                batch.sent(message, answer)


def _reconnect_later(connection: ExitStack) -> None:
    """Close a broken connection; the next message opens a new one."""
    connection.close()
    return None


def _email_of(message, sender_name: str, reply_to: str | None):
    attachments = ()
    if message.attachment_document_id is not None:
        from blueprints.documents.models import Document
        from tenants.storage import storage

        document = db.session.get(Document, message.attachment_document_id)
        stored = storage().get(document.blob_key) if document else None
        if stored is None:
            raise PermanentFailure("attachment missing: the document was deleted")
        attachments = ((stored[1], document.content_type or "application/pdf", document.filename),)
    return build_email(
        to=message.recipient,
        to_name=message.recipient_name,
        subject=message.subject,
        text=message.body_text or "",
        html=message.body_html,
        sender_name=sender_name,
        reply_to=reply_to,
        attachments=attachments,
    )


def _send_texts(batch: _Batch, ids: list[int]) -> None:
    if not ids:
        return
    from blueprints.messages.sms_outbox import sms_gateway
    from blueprints.shared.sms import sms_sender
    from blueprints.web.urls import external_url

    gateway, sender = sms_gateway(current_app), sms_sender(current_app)
    tenant = current_tenant()
    callback = external_url("message_hooks.sms_receipt", org=tenant.slug)
    for message_id in ids:
        message = batch.claim(message_id)
        if message is None:
            continue
        try:
            result = gateway.send(
                message.recipient,
                sender,
                message.body_text or "",
                reference=f"{tenant.id}-{message.id}",
                callback_url=callback,
            )
        except TemporaryFailure as error:
            batch.again(message, error)
        except PermanentFailure as error:
            batch.failed(message, error)
        except Exception as error:
            logger.exception("SMS %s: unexpected failure", message.id)
            batch.unknown(message, type(error).__name__)
        else:
            batch.sent(message, result.answer, result.provider_id)


@on_job_failure
def batch_job_failed(failure: JobFailure) -> None:
    """A sending job whose worker died: the message it was sending becomes "unknown" (a person checks it; sending
    it again could send it twice), and the rest of the batch goes out again at once, not at the next sweep."""
    if failure.func != path_of(send_messages) or not failure.abandoned or len(failure.args) < 2:
        return
    from tenants import find_tenant

    ref = find_tenant(tenant_id=failure.args[0])
    if ref is None or not ref.active:
        return
    ids = [int(i) for i in failure.args[1]]
    with tenant_scope(ref):
        db.session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == SENDING)
            .values(status=UNKNOWN, provider_answer="outcome unknown: the worker stopped while sending")
            .execution_options(synchronize_session=False)
        )
        left = list(
            db.session.scalars(
                select(Message.id)
                .where(Message.id.in_(ids), Message.status.in_((PENDING, QUEUED)))
                .order_by(Message.id)
            )
        )
        db.session.commit()
        if left:
            logger.warning("%d message(s) of a dead worker's batch enqueued again", len(left))
            dispatch_messages(ref, left)


@tenant_job
@writes(none="hands waiting messages to the queue again")
def sweep_tenant_messages(now: str | None = None) -> dict:
    """When the work index says so (jobs/fanout.py): flag what a crash left uncertain, and enqueue what never
    reached a worker or lost its job, in the tenant in scope.

    - "sending" for longer than ``STUCK_AFTER``: its worker died mid-exchange → "unknown" (never resent);
    - "pending" past its ``not_before`` (or created) by ``PENDING_AFTER``: Redis was unreachable → enqueued;
    - "queued" past due by ``QUEUED_AFTER``: its job was lost (a flushed Redis, a dead worker) → enqueued.
    A row whose ``not_before`` is still ahead is left alone. The tenant's next moment is written after.
    ``now`` (ISO 8601, UTC) stands for the present in tests and replays.
    """
    tenant, now = current_tenant(), parse_moment(now)
    unknown = db.session.execute(
        update(Message)
        .where(
            Message.status == SENDING,
            func.coalesce(Message.last_attempt_at, Message.created_at) < now - STUCK_AFTER,
        )
        .values(status=UNKNOWN, provider_answer="outcome unknown: the worker stopped while sending")
        .execution_options(synchronize_session=False)
    ).rowcount
    due = func.coalesce(Message.not_before, Message.created_at)
    waiting = list(
        db.session.scalars(
            select(Message.id)
            .where(
                or_(
                    (Message.status == PENDING) & (due < now - PENDING_AFTER),
                    (Message.status == QUEUED) & (due < now - QUEUED_AFTER),
                )
            )
            .order_by(Message.id)
        )
    )
    db.session.commit()
    if waiting:
        dispatch_messages(tenant, waiting)
    work.settle(tenant, [MESSAGE_REPAIRS], now=now)
    return {"unknown": unknown, "enqueued": len(waiting)}


@platform_job
@writes(none="emails the login links of an address; changes nothing")
def send_organization_finder(email: str, language: str) -> int:
    """Email ``email`` the login links of every organization where it has an active account (maybe none).

    The platform's index of account emails names the organizations; no tenant is scanned."""
    from blueprints.accounts.email_index import tenants_of
    from blueprints.web.urls import external_url

    ids = set(tenants_of(db.session, email))
    rows = db.session.execute(
        select(Tenant.name, Tenant.slug)
        .where(Tenant.id.in_(ids), Tenant.status == ACTIVE)
        .order_by(Tenant.name, Tenant.id)
    ).all()
    found = [(name, external_url("accounts.login", org=slug)) for name, slug in rows] if ids else []
    if not found:
        logger.info("organization finder: no account for the address given")
        return 0
    with force_locale(language):
        context = {"organizations": found, "recipient_name": None}
        message = build_email(
            to=email,
            to_name=None,
            subject=gettext("Your Emarge organizations"),
            text=render_template("email/find_organization.txt", **context),
            html=render_template("email/find_organization.html", **context),
            sender_name="Emarge",
        )
    with mailer(current_app).connection() as smtp:
        smtp.send(message)
    return len(found)

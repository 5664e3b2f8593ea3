"""Messaging jobs: send queued messages, sweep what was left behind, the "find my organization" email."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from blueprints.messages.models import FAILED, PENDING, QUEUED, SENT, UNKNOWN, Message
from blueprints.messages.services import build_email
from jobs import MESSAGING, enqueue, platform_job, tenant_job
from jobs.mailer import PermanentFailure, TemporaryFailure, mailer
from tenants import all_tenants, current_tenant, tenant_scope
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)

SENDING = "sending"
MAX_ATTEMPTS = 5
BACKOFF = (30, 120, 600, 1800)  # seconds before attempts 2, 3, 4, 5
STUCK_AFTER = timedelta(minutes=10)
PENDING_AFTER = timedelta(minutes=1)


def _organization():
    from blueprints.accounts.models import Organization

    return db.session.scalars(select(Organization).limit(1)).first()


@tenant_job
def send_messages(message_ids: list[int]) -> dict:
    """Send these messages over one SMTP connection.

    The row's status decides, not the job: a message is claimed (pending → sending) in its own commit before
    the SMTP exchange, so a job run twice sends it once, and one left "sending" by a crash becomes "unknown"
    for a person to resend, never resent blindly.
    """
    outcome = {"sent": 0, "failed": 0, "retry": 0}
    organization = _organization()
    sender_name = organization.name if organization else current_tenant().name
    reply_to = organization.contact_email if organization else None
    to_send = []
    for message_id in message_ids:
        claimed = db.session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status.in_((PENDING, QUEUED)))
            .values(status=SENDING, attempts=Message.attempts + 1)
        ).rowcount
        db.session.commit()
        if claimed:
            to_send.append(message_id)
    if not to_send:
        return outcome
    retry = []
    try:
        with mailer(current_app).connection() as smtp:
            for message in db.session.scalars(select(Message).where(Message.id.in_(to_send))):
                email = build_email(
                    to=message.recipient,
                    to_name=message.recipient_name,
                    subject=message.subject,
                    text=message.body_text or "",
                    html=message.body_html,
                    sender_name=sender_name,
                    reply_to=reply_to,
                )
                try:
                    message.provider_answer = smtp.send(email)[:500]
                    message.status, message.sent_at = SENT, utcnow()
                    if message.sensitive:
                        message.body_text = message.body_html = None
                    outcome["sent"] += 1
                except PermanentFailure as error:
                    message.status, message.provider_answer = FAILED, str(error)[:500]
                    outcome["failed"] += 1
                except TemporaryFailure as error:
                    message.provider_answer = str(error)[:500]
                    retry.append(message)
                db.session.commit()
    except TemporaryFailure as error:
        # No connection at all: every claimed message goes back for a retry.
        retry = list(
            db.session.scalars(select(Message).where(Message.id.in_(to_send), Message.status == SENDING))
        )
        for message in retry:
            message.provider_answer = str(error)[:500]
    by_delay: dict[int, list[int]] = {}
    for message in retry:
        if message.attempts >= MAX_ATTEMPTS:
            message.status = FAILED
            outcome["failed"] += 1
        else:
            message.status = PENDING
            outcome["retry"] += 1
            by_delay.setdefault(BACKOFF[min(message.attempts, len(BACKOFF)) - 1], []).append(message.id)
    for delay, ids in by_delay.items():
        # Enqueued when the commit below succeeds.
        enqueue(send_messages, current_tenant().id, ids, queue=MESSAGING, delay=delay)
    db.session.commit()
    return outcome


@platform_job
def sweep_pending() -> None:
    """Enqueue messages that never reached a worker (Redis was down) and flag those a crash left uncertain."""
    now = utcnow()
    for tenant in all_tenants():
        with tenant_scope(tenant):
            db.session.execute(
                update(Message)
                .where(Message.status == SENDING, Message.created_at < now - STUCK_AFTER)
                .values(status=UNKNOWN)
            )
            waiting = list(
                db.session.scalars(
                    select(Message.id).where(
                        Message.status == PENDING, Message.created_at < now - PENDING_AFTER
                    )
                )
            )
            db.session.commit()
            if waiting:
                enqueue(send_messages, tenant.id, waiting, queue=MESSAGING)


@platform_job
def send_organization_finder(email: str, language: str) -> int:
    """Email ``email`` the login links of every organization where it has an active account (maybe none)."""
    from blueprints.accounts.models import User
    from blueprints.web.urls import external_url

    found = []
    for tenant in all_tenants():
        with tenant_scope(tenant):
            if db.session.scalars(select(User.id).where(User.email == email, User.active.is_(True))).first():
                found.append((tenant.name, external_url("accounts.login", org=tenant.slug)))
    if not found:
        logger.info("organization finder: no account for the address given")
        return 0
    with current_app.test_request_context(), force_locale(language):
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

"""Writing messages: render in the recipient's language, keep a row, send through the messaging jobs."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale

from blueprints.messages.models import PENDING, Message
from jobs import MESSAGING, enqueue
from tenants import current_tenant
from tenants.db import db


def N_(message: str) -> str:
    """Mark a string for the catalog; it is translated later, in the recipient's language."""
    return message


def queue_email(
    template: str,
    *,
    to: str,
    name: str | None,
    language: str,
    subject: str,
    context: dict,
    user_id: int | None = None,
    sensitive: bool = False,
) -> Message:
    """Render ``email/<template>.txt`` and ``.html`` and queue the message; it goes out when the caller commits.

    ``subject`` is an untranslated string, translated here in the recipient's language.
    """
    from flask_babel import gettext

    with force_locale(language):
        context = {"organization": current_tenant().name, "recipient_name": name, **context}
        message = Message(
            channel="email",
            template=template,
            recipient=to,
            recipient_name=name,
            user_id=user_id,
            subject=gettext(subject, **context),
            body_text=render_template(f"email/{template}.txt", **context),
            body_html=render_template(f"email/{template}.html", **context),
            sensitive=sensitive,
            status=PENDING,
        )
    db.session.add(message)
    db.session.flush()
    enqueue("jobs.messaging.send_messages", current_tenant().id, [message.id], queue=MESSAGING)
    return message


def build_email(
    *,
    to: str,
    to_name: str | None,
    subject: str,
    text: str,
    html: str | None,
    sender_name: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """The platform address sends; the organization's name is the display name and its contact the reply-to."""
    _, sender = parseaddr(current_app.config["MAIL_FROM"])
    email = EmailMessage()
    email["From"] = formataddr((sender_name, sender))
    email["To"] = str(Address(display_name=to_name or "", addr_spec=to))
    if reply_to:
        email["Reply-To"] = reply_to
    email["Subject"] = subject
    email.set_content(text)
    if html:
        email.add_alternative(html, subtype="html")
    return email

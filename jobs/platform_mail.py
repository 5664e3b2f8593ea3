"""The platform's mail: notices to an organization's admins and support's replies to users.

Every email the platform itself sends (not an organization's messages to its trainees) goes through here and is a
line of the platform's delivery log (``platform_mails``), sent or failed, which staff read in the console.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import select

from blueprints.messages.services import build_email
from blueprints.shared.mail import (
    ConnectionLost,
    PermanentFailure,
    TemporaryFailure,
    UncertainFailure,
    mailer,
)
from blueprints.web.audit_guard import writes
from jobs import platform_job
from tenants import tenant_scope
from tenants.db import db


def _deliver(message, *, tenant_id: int, notice: str, recipient: str) -> bool:
    """Send one email and log its delivery (committed): True if the SMTP server took it."""
    from blueprints.staff.models import PlatformMail

    status, error = "sent", None
    try:
        with mailer(current_app).connection() as smtp:
            smtp.send(message)
    except (ConnectionLost, PermanentFailure, TemporaryFailure, UncertainFailure, OSError) as failure:
        status, error = "failed", str(failure)[:300]
    db.session.add(
        PlatformMail(tenant_id=tenant_id, notice=notice, recipient=recipient, status=status, error=error)
    )
    db.session.commit()
    return status == "sent"


# Notice → (subject, template): every email the platform sends an organization's admins is one of these.
NOTICES = {
    "support_session_started": (
        lambda: gettext("Emarge support opened a support session in your organization"),
        "email/support_session_started",
    ),
}


@platform_job
@writes(none="emails an organization's admins a platform notice; the platform's delivery log is its record")
def notify_admins(tenant_id: int, notice: str, params: dict) -> int:
    """Email a platform notice to every active admin of the organization, each delivery logged."""
    from blueprints.accounts.models import ADMIN, User
    from blueprints.web.urls import external_url
    from tenants import find_tenant

    subject, template = NOTICES[notice]
    ref = find_tenant(tenant_id=tenant_id)
    if ref is None:
        return 0
    with tenant_scope(ref, job=notify_admins):
        admins = [
            (u.email, u.full_name, u.language or ref.language)
            for u in db.session.scalars(
                select(User).where(User.role == ADMIN, User.active.is_(True)).order_by(User.id)
            )
        ]
        page = external_url("settings.support", org=ref.slug)
    sent = 0
    context = {**params, "organization": ref.name, "page": page}
    for email, name, language in admins:
        with force_locale(language):
            message = build_email(
                to=email,
                to_name=name,
                subject=subject(),
                text=render_template(f"{template}.txt", recipient_name=name, **context),
                html=render_template(f"{template}.html", recipient_name=name, **context),
                sender_name="Emarge",
            )
        sent += _deliver(message, tenant_id=tenant_id, notice=notice, recipient=email)
    return sent


@platform_job
@writes(none="emails a support reply to the user who asked; the platform's delivery log is its record")
def send_support_reply(message_id: int) -> bool:
    """Email support's reply to the request's author, in their language, the delivery logged."""
    from blueprints.accounts.models import User
    from blueprints.support.models import SupportRequest, SupportRequestMessage
    from blueprints.web.urls import external_url
    from tenants import find_tenant

    message = db.session.get(SupportRequestMessage, message_id)
    row = db.session.get(SupportRequest, message.request_id) if message else None
    ref = find_tenant(tenant_id=row.tenant_id) if row else None
    if ref is None:
        return False
    with tenant_scope(ref, job=send_support_reply):
        user = db.session.get(User, row.user_id)
        language = (user.language if user else None) or ref.language
        page = external_url("support_requests.show", org=ref.slug, request_id=row.id)
    with force_locale(language):
        context = {
            "recipient_name": row.user_name,
            "subject": row.subject,
            "reply": message.body,
            "page": page,
        }
        email = build_email(
            to=row.user_email,
            to_name=row.user_name,
            subject=gettext("Emarge support answered: %(subject)s", subject=row.subject),
            text=render_template("email/support_reply.txt", **context),
            html=render_template("email/support_reply.html", **context),
            sender_name="Emarge",
        )
    return _deliver(email, tenant_id=row.tenant_id, notice="support_reply", recipient=row.user_email)

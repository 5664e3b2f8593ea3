"""The platform's mail: notices to an organization's admins and support's replies to users.

Every email the platform itself sends (not an organization's messages to its trainees) goes through here and is a
line of the platform's delivery log (``platform_mails``), sent or failed, which staff read in the console.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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
from jobs import MESSAGING, enqueue, platform_job
from tenants import tenant_scope
from tenants.db import db, utcnow


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
        "settings.support",
    ),
    "deletion_requested": (
        lambda: gettext("Your organization's deletion is asked for"),
        "email/deletion_requested",
        "settings.closing_page",
    ),
    "retention_warning_30": (
        lambda: gettext("Your organization's data is deleted in 30 days"),
        "email/retention_warning",
        "settings.archive",
    ),
    "retention_warning_7": (
        lambda: gettext("Your organization's data is deleted in 7 days"),
        "email/retention_warning",
        "settings.archive",
    ),
    "deletion_tomorrow": (
        lambda: gettext("Your organization is deleted tomorrow"),
        "email/deletion_tomorrow",
        "settings.closing_page",
    ),
}


@platform_job
@writes(none="emails an organization's admins a platform notice; the platform's delivery log is its record")
def notify_admins(tenant_id: int, notice: str, params: dict) -> int:
    """Email a platform notice to every active admin of the organization, each delivery logged."""
    from blueprints.accounts.models import ADMIN, User
    from blueprints.web.urls import external_url
    from tenants import find_tenant

    subject, template, endpoint = NOTICES[notice]
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
        page = external_url(endpoint, org=ref.slug)
        archive = external_url("settings.archive", org=ref.slug)
    sent = 0
    context = {**params, "organization": ref.name, "page": page, "archive": archive, "zone": ref.timezone}
    if "due" in context:
        context["due"] = datetime.fromisoformat(context["due"])
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


# Why a breach notice is not (yet) delivered to every admin: shown to staff on the incident's page.
ORGANIZATION_GONE = "organization_gone"
NO_ADMIN = "no_admin"
DELIVERY_FAILED = "delivery_failed"
# A notice not delivered to every admin is tried again by the sweep, this long after its last try, this often.
BREACH_RETRY = timedelta(minutes=10)
BREACH_ATTEMPTS = 6
# How long a run holds its claim on a notice: another run (the sweep's) waits that long before taking it over.
BREACH_HOLD = timedelta(minutes=5)


@platform_job
@writes(
    none="emails a security incident's notice to an organization's admins; the notice and the delivery log record it"
)
def send_breach_notice(notice_id: int, now: str | None = None) -> int:
    """Email one step of an incident to every active admin of one organization, in their language, each
    delivery logged. The notice is claimed first (two runs at once: one sends), and an admin who already has it
    is skipped: run again, the job sends only what is missing. ``now``: the moment it runs (ISO), for the sweep."""
    from blueprints.accounts.models import ADMIN, User
    from blueprints.breaches import services as breaches
    from blueprints.breaches.models import Breach, BreachNotice
    from blueprints.staff.models import PlatformMail
    from blueprints.web.urls import external_url
    from tenants import find_tenant

    moment = datetime.fromisoformat(now) if now else utcnow()
    if not breaches.claim(notice_id, moment, hold=BREACH_HOLD):
        return 0  # sent already, or another run has it in hand
    db.session.commit()
    notice = db.session.get(BreachNotice, notice_id)
    breach = db.session.get(Breach, notice.breach_id)
    steps = [u for u in breaches.updates_of(breach.id) if u.seq <= notice.seq]
    update = steps[-1] if notice.seq else None
    people, records = breaches.figures(breach, steps)
    key = f"breach_notice:{notice.id}"
    ref = find_tenant(tenant_id=notice.tenant_id)
    if ref is None:
        notice.problem = ORGANIZATION_GONE
        db.session.commit()
        return 0
    with tenant_scope(ref, job=send_breach_notice):
        admins = [
            (u.email, u.full_name, u.language or ref.language)
            for u in db.session.scalars(
                select(User).where(User.role == ADMIN, User.active.is_(True)).order_by(User.id)
            )
        ]
        page = external_url("security_notices.show", org=ref.slug, breach_id=breach.id)
    already = set(
        db.session.scalars(
            select(PlatformMail.recipient).where(PlatformMail.notice == key, PlatformMail.status == "sent")
        )
    )
    context = {
        "organization": ref.name,
        "breach": breach,
        "update": update,
        "people": people,
        "records": records,
        "deadline": breaches.deadline_of(breach),
        "zone": ref.timezone,
        "natures": breaches.NATURE_NAMES,
        "page": page,
    }
    db.session.commit()  # ends the reads before the deliveries, which commit each
    sent = failed = 0
    for email, name, language in admins:
        if email in already:
            continue
        with force_locale(language):
            subject = (
                gettext(
                    "Update on a security incident affecting %(organization)s on Emarge",
                    organization=ref.name,
                )
                if update
                else gettext("Security incident affecting %(organization)s on Emarge", organization=ref.name)
            )
            message = build_email(
                to=email,
                to_name=name,
                subject=subject,
                text=render_template("email/breach_notice.txt", recipient_name=name, **context),
                html=render_template("email/breach_notice.html", recipient_name=name, **context),
                sender_name="Emarge",
            )
        if _deliver(message, tenant_id=ref.id, notice=key, recipient=email):
            sent += 1
        else:
            failed += 1
    notice = db.session.get(BreachNotice, notice_id)
    notice.recipients = sum(1 for email, *_ in admins if email in already) + sent
    if not admins:
        notice.problem = NO_ADMIN
    elif failed:
        notice.problem = DELIVERY_FAILED
    else:
        notice.problem, notice.sent_at = None, max(moment, notice.queued_at)
    db.session.commit()
    return sent


@platform_job
@writes(none="hands undelivered breach notices to the messaging jobs again; their rows record each try")
def sweep_breach_notices(now: str | None = None) -> int:
    """Try again the breach notices not delivered to every admin (Redis was down, SMTP refused for a while)."""
    from blueprints.breaches import services as breaches

    moment = datetime.fromisoformat(now) if now else utcnow()
    due = breaches.due_notices(moment, retry_after=BREACH_RETRY, max_attempts=BREACH_ATTEMPTS)
    db.session.commit()
    for notice_id in due:
        enqueue("jobs.platform_mail.send_breach_notice", notice_id, moment.isoformat(), queue=MESSAGING)
    return len(due)


@platform_job
@writes(none="emails the admins of an organization deleted tomorrow; the platform's delivery log records it")
def remind_deletions(now: str | None = None) -> int:
    """Hourly: the day before a deletion asked for, its admins are told once more (they can still undo it)."""
    from blueprints.settings.closing import DELETION_GRACE
    from blueprints.staff.models import PlatformMail
    from tenants.models import Tenant

    moment = datetime.fromisoformat(now) if now else utcnow()
    due = db.session.execute(
        select(Tenant.id, Tenant.deletion_requested_at).where(
            Tenant.deletion_requested_at.is_not(None),
            Tenant.deletion_requested_at <= moment - DELETION_GRACE + timedelta(days=1),
            Tenant.deletion_requested_at > moment - DELETION_GRACE,
        )
    ).all()
    sent = 0
    for tenant_id, asked in due:
        told = db.session.scalar(
            select(PlatformMail.id)
            .where(
                PlatformMail.tenant_id == tenant_id,
                PlatformMail.notice == "deletion_tomorrow",
                PlatformMail.at >= asked,
            )
            .limit(1)
        )
        if told is None:
            sent += notify_admins(
                tenant_id, "deletion_tomorrow", {"due": (asked + DELETION_GRACE).isoformat()}
            )
    return sent

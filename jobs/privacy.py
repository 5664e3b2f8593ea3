"""A substantial policy change, emailed to every organization's account holders."""

from __future__ import annotations

import logging

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import select

from blueprints.messages.services import build_email
from blueprints.shared.mail import PermanentFailure, TemporaryFailure, mailer
from blueprints.web.audit_guard import writes
from blueprints.web.i18n import format_date
from jobs import platform_job
from tenants import all_tenants, tenant_scope
from tenants.db import db

logger = logging.getLogger(__name__)


def _account_holders() -> tuple[str, list[tuple[str, str | None]]]:
    """In the tenant in scope: its name and its active administrators (address, language); the organization's
    contact address when it has no administrator."""
    from blueprints.accounts.models import ADMIN, User
    from blueprints.accounts.models import organization as the_organization

    organization = the_organization()
    admins = db.session.execute(
        select(User.email, User.language).where(
            User.role == ADMIN, User.active.is_(True), User.email_verified_at.is_not(None)
        )
    ).all()
    people = [(email, language) for email, language in admins]
    if not people and organization is not None:
        people = [(organization.contact_email, None)]
    return (organization.name if organization else ""), people


@platform_job
@writes(none="emails a new policy version; whom it told is kept in its own log")
def notify_policy_version(version_id: int) -> int:
    """Email every account holder of every active organization, once each: safe to run twice."""
    from blueprints.privacy.models import PolicyNotification, PolicyVersion
    from blueprints.web.urls import external_url

    version = db.session.get(PolicyVersion, version_id)
    if version is None or not version.substantial:
        return 0
    kind, number, published_at = version.kind, version.number, version.published_at
    summaries = {"fr": version.summary_fr, "en": version.summary_en}
    done = set(
        db.session.execute(
            select(PolicyNotification.tenant_id, PolicyNotification.recipient).where(
                PolicyNotification.version_id == version_id
            )
        ).all()
    )
    db.session.commit()
    link = external_url("privacy.policy_version", kind=kind, number=number)
    sent = 0
    for tenant in all_tenants():
        with tenant_scope(tenant):
            name, people = _account_holders()
        todo = [(email, language) for email, language in people if (tenant.id, email) not in done]
        if not todo:
            continue
        try:
            with mailer(current_app).connection() as smtp:
                for email, language in todo:
                    language = language if language in ("fr", "en") else tenant.language
                    with force_locale(language):
                        policy_name = (
                            gettext("privacy policy") if kind == "privacy" else gettext("cookie policy")
                        )
                        context = {
                            "policy_name": policy_name,
                            "published": format_date(published_at, "long"),
                            "summary": summaries["en" if language == "en" else "fr"],
                            "link": link,
                            "organization": name,
                        }
                        message = build_email(
                            to=email,
                            to_name=None,
                            subject=gettext("Emarge: our %(policy)s changes", policy=policy_name),
                            text=render_template("email/policy_change.txt", **context),
                            html=render_template("email/policy_change.html", **context),
                            sender_name="Emarge",
                        )
                    try:
                        smtp.send(message)
                    except PermanentFailure:
                        logger.warning("policy change refused for an address of tenant %s", tenant.id)
                        continue
                    db.session.add(
                        PolicyNotification(version_id=version_id, tenant_id=tenant.id, recipient=email)
                    )
                    db.session.commit()
                    sent += 1
        except TemporaryFailure:
            # The rows written so far stand; run the job again to send the rest.
            logger.warning("policy change: mail server unavailable for tenant %s", tenant.id, exc_info=True)
            raise
    return sent

"""The public changelog: a page at ``/changelog`` and an Atom feed at ``/changelog/feed.atom``, in the reader's language (or ``?lang=``)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.changelog import services
from blueprints.changelog.models import FIXED, IMPROVED, NEW, SECURITY
from blueprints.changelog.rendering import render, to_html
from blueprints.web.audit_guard import writes
from tenants import current_tenant
from tenants.db import db, utcnow

bp = Blueprint("changelog", __name__)


def category_names() -> dict[str, str]:
    return {NEW: _("New"), IMPROVED: _("Improved"), FIXED: _("Fixed"), SECURITY: _("Security")}


def _language() -> str:
    asked = request.args.get("lang")
    if asked in ("fr", "en"):
        return asked
    return "en" if str(get_locale()) == "en" else "fr"


def _today():
    return utcnow().astimezone(services.SERVICE_ZONE).date()


@bp.get("/changelog")
def index():
    language = _language()
    entries = [(e, render(e.body(language))) for e in services.published(_today())]
    return render_template(
        "changelog/index.html", entries=entries, language=language, categories=category_names()
    )


@bp.get("/changelog/feed.atom")
def feed():
    language = _language()
    entries = services.published(_today(), limit=services.FEED_SIZE)
    body = render_template(
        "changelog/feed.xml",
        entries=[(e, to_html(e.body(language)), _moment(e)) for e in entries],
        language=language,
        updated=max((_moment(e) for e in entries), default=_moment(None)),
        page=url_for("changelog.index", lang=language, _external=True),
        self_url=url_for("changelog.feed", lang=language, _external=True),
        categories=category_names(),
    )
    return Response(body, mimetype="application/atom+xml")


def _moment(entry) -> str:
    """An Atom date: the entry's last change (or midnight of its day, Paris, if it was dated later)."""
    if entry is None:
        return datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    return services.shown_from(entry).astimezone(UTC).isoformat(timespec="seconds")


@bp.app_context_processor
def _whats_new():
    """The "What's new" mark in the app's menu: for a signed-in user of an organization, until they open it."""

    def whats_new() -> bool:
        tenant = current_tenant()
        if tenant is None or not current_user.is_authenticated:
            return False
        return services.has_news(tenant.id, current_user.id, _today())

    return {"whats_new": whats_new}


@bp.post("/<org>/whats-new")
@login_required
@writes(
    none="when the user last opened the changelog: the mark's bookkeeping, the platform's (changelog_reads)"
)
def open_from_app():
    services.mark_read(current_tenant().id, current_user.id)
    db.session.commit()
    return redirect(url_for("changelog.index"), 303)

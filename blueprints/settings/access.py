"""Read-only once closed: in a closed organization, admins may sign in, read every page, take the full archive
and undo a deletion asked for; the others are told the account is closed; personal links open nothing."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_login import current_user

from blueprints.web.audit_guard import SAFE_METHODS
from tenants import current_tenant

# Changes still possible once closed: signing in and out, the archive, asking for the deletion (or a shorter
# period before it) and undoing it, a failed task's retry, the cookie choice and the language.
ALLOWED = frozenset(
    {
        "accounts.login",
        "accounts.logout",
        "settings.make_archive",
        "settings.delete_account",
        "settings.choose_keeping",
        "settings.undo_deletion",
        "settings.closing_page",
        "tasks.retry",
        "privacy.consent",
        "public.set_language",
    }
)
# Pages a personal link opens (its token is the credential): nothing opens once closed. The organization's own
# signing pages (a half-day's live roster, the links of a session) stay readable for its admins.
LINK_PAGES = frozenset(
    {
        "signing.sign_page",
        "signing.sign",
        "signing.renew",
        "signing.facilitator_entry",
        "documents.trainee_download",
        "rights.my_link",
    }
)


def _closed_page(status: int):
    return render_template("settings/closed.html"), status


def check():
    tenant = current_tenant()
    if tenant is None or not tenant.closed or request.endpoint is None:
        return None
    endpoint = request.endpoint
    if endpoint in LINK_PAGES or endpoint.startswith(("my_data.", "tracking_trainee.")):
        return _closed_page(410)
    if current_user.is_authenticated and not current_user.is_admin and endpoint not in ("accounts.logout",):
        return _closed_page(403)
    if request.method not in SAFE_METHODS and endpoint not in ALLOWED:
        return _closed_page(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(check)

    @app.context_processor
    def _closed_banner():
        tenant = current_tenant()
        return {"account_closed": bool(tenant and tenant.closed)}

"""A support session on the organization's pages: found from its own cookie on every request, checked again,
enforced (read only, the never-actions), logged page by page, and shown in a banner on every page and fragment.

The browser holds the staff member's own login (``staff_login`` in the session) and the support cookie; the
organization's pages then see the user acted as, never a tenant role from the staff login alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from blueprints.accounts.models import User, organization
from blueprints.privacy.cookies import cookie_attributes
from blueprints.support import sessions
from blueprints.support.models import CHANGED, REFUSED, VIEWED
from blueprints.web.audit_guard import SAFE_METHODS
from tenants import current_tenant
from tenants.db import db, utcnow

COOKIE = "emarge_support"


def ended_sentence(reason: str | None) -> str:
    sentences = {
        "ended": _("You ended the support session."),
        "idle": _("The support session ended after 10 minutes without activity."),
        "expired": _("The support session ended: it lasts 30 minutes at most."),
        "revoked": _("The support session ended: the organization's access was revoked or ran out."),
        "access-off": _("The support session ended: the organization turned support access off."),
        "gone": _("The support session ended: the account or your staff login is no longer active."),
    }
    return sentences.get(reason or "", _("This support session is over."))


@dataclass(frozen=True)
class Banner:
    live: sessions.Live
    staff_name: str
    user_name: str
    minutes_left: int


def cookie_value() -> tuple[int, str] | None:
    try:
        ident, key = (request.cookies.get(COOKIE) or "").split(":", 1)
        return int(ident), key
    except ValueError:
        return None


def live_in_browser() -> sessions.Live | None:
    """The live support session this browser carries, whatever page it is on (nesting is refused with it)."""
    parsed = cookie_value()
    return sessions.check(*parsed)[0] if parsed else None


def set_cookie(response, value: str | None):
    attributes = cookie_attributes(current_app.config)
    if value is None:
        response.delete_cookie(COOKIE, **attributes)
    else:
        response.set_cookie(COOKIE, value, max_age=int(sessions.LONGEST.total_seconds()), **attributes)
    return response


def _refuse(live: sessions.Live, why: str, status: int = 403):
    sessions.log(live.id, REFUSED, request.method, request.full_path.rstrip("?"), status, why)
    response = current_app.make_response((render_template("support/refused.html", why=why), status))
    g.support_refused = True
    return response


def _ended(reason: str | None):
    response = current_app.make_response(
        (render_template("support/ended.html", sentence=ended_sentence(reason)), 410)
    )
    return set_cookie(response, None)


def enter():
    """Before the request: a live support session for this organization acts as its user, or ends here."""
    parsed = cookie_value()
    tenant = current_tenant()
    if parsed is None or tenant is None:
        return None
    from blueprints.staff.views import current_staff

    now = utcnow()
    live, reason = sessions.check(*parsed, now)
    if live is None:
        return _ended(reason)
    if live.tenant_id != tenant.id:
        return None  # the cookie opens nothing in another organization: there the browser is a stranger
    staff = current_staff()
    user = db.session.get(User, live.user_id)
    why = sessions.GONE if staff is None or staff.id != live.staff_id else None
    why = why or sessions.still_allowed(live, organization(), user, now)
    if why:
        db.session.rollback()
        sessions.end(live.id, why, now)
        return _ended(why)
    user.login_id, user.login_ref = None, None
    g._login_user = user  # Flask-Login's current user for this request: the user acted as
    g.support = live
    g.support_banner = Banner(live, staff.name, user.full_name, live.minutes_left(now))
    kind = sessions.NEVER.get(request.endpoint or "")
    if kind and (kind in sessions.ANY_METHOD or request.method not in SAFE_METHODS):
        return _refuse(live, _("Support never does this, even in write mode: %(what)s.", what=_never(kind)))
    if request.method not in SAFE_METHODS and not live.write:
        return _refuse(live, _("This support session is read only: nothing can be changed."))
    return None


def _never(kind: str) -> str:
    return {
        sessions.SIGN: _("signing or marking attendance as anyone, signing a half-day off"),
        sessions.DOCUMENT: _("issuing or regenerating a sealed document"),
        sessions.ACCOUNT: _("changing a password, an email, a role, an authenticator or a login"),
        sessions.EXPORT: _("downloading an export or a person's data"),
        sessions.LINK: _("opening a trainee's or a facilitator's personal link"),
        sessions.NOTICE: _("acknowledging a security notice on behalf of the organization's admins"),
        sessions.ERASE: _("erasing a person's data"),
        sessions.HEALTH: _("opening or deciding on the proof of an absence, which may be health data"),
    }[kind]


def after(response):
    """Log the request, refuse a download that slipped through, and put the banner on an htmx fragment."""
    live = g.get("support")
    if live is None:
        return response
    if g.get("support_refused"):
        return response
    if (
        response.mimetype in sessions.EXPORT_TYPES
        or "attachment" in (response.headers.get("Content-Disposition") or "")
        and not (response.mimetype or "").startswith(("application/pdf", "image/"))
    ):
        return _refuse(
            live, _("Support never does this, even in write mode: %(what)s.", what=_never(sessions.EXPORT))
        )
    kind = VIEWED if request.method in SAFE_METHODS else CHANGED
    sessions.log(live.id, kind, request.method, request.full_path.rstrip("?"), response.status_code)
    if (
        request.headers.get("HX-Request")
        and response.mimetype == "text/html"
        and not response.direct_passthrough
    ):
        banner = render_template("support/_banner.html", banner=g.support_banner, oob=True)
        response.set_data(response.get_data() + banner.encode())
    return response


def masked(value, kind: str, ref) -> Markup | str:
    """``value`` as is, or hidden in a support session until the staff member reveals it (a logged act)."""
    live = g.get("support")
    if live is None or not value:
        return value or ""
    key = f"{kind}:{ref}"
    if key in _revealed(live.id):
        return value
    return Markup(render_template("support/_masked.html", key=key))


def hidden(kind: str, ref) -> bool:
    """Whether a field that cannot be shown as text (a signature image) is hidden in this support session."""
    live = g.get("support")
    return live is not None and f"{kind}:{ref}" not in _revealed(live.id)


def _revealed(session_id: int) -> set[str]:
    if "support_revealed" not in g:
        g.support_revealed = sessions.revealed(session_id)
    return g.support_revealed


def init_app(app: Flask) -> None:
    app.before_request(enter)
    app.after_request(after)
    app.add_template_global(masked, "masked")
    app.add_template_global(hidden, "hidden")

    @app.context_processor
    def _banner():
        return {"support_banner": g.get("support_banner")}

"""Public policy pages, the cookie choice, the measurement endpoint, the login acknowledgement and the staff
pages (policies, sub-processors, audience)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from blueprints.privacy import consents, measurement, policy_versions
from blueprints.privacy.cookies import (
    AUDIENCE,
    AUDIENCE_COOKIE,
    CATEGORIES,
    CONSENT_COOKIE,
    CONSENT_LIFETIME,
    OPTIONAL,
    REGISTRY,
    cookie_attributes,
)
from blueprints.privacy.forms import AcknowledgeForm
from blueprints.privacy.models import COOKIES, LEGAL, PRIVACY, TITLES
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request, render
from blueprints.web.keys import secret_keys
from blueprints.web.redirects import redirect_or_hx, safe_next
from tenants import current_tenant
from tenants.db import db

logger = logging.getLogger(__name__)

bp = Blueprint("privacy", __name__)

MAX_EVENT_BYTES = 4096
HEX32 = re.compile(r"^[0-9a-f]{32}$")
MARKER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "fr"


def _local_next(target: str | None) -> str:
    return safe_next(target, url_for("public.home"))


def _cookie_options(max_age: int | None) -> dict:
    return {"max_age": max_age, **cookie_attributes(current_app.config)}


def _delete_audience_cookie(response) -> None:
    if AUDIENCE_COOKIE in request.cookies:
        response.delete_cookie(AUDIENCE_COOKIE, **cookie_attributes(current_app.config))


# --- the visitor's consent, as this request sees it ----------------------------------------------------------


def _cookie_policy_number() -> int | None:
    try:
        return policy_versions.cookie_policy_number()
    except Exception:  # noqa: BLE001 - no banner rather than no page
        logger.warning("cookie policy version unavailable", exc_info=True)
        return None


@dataclass
class ConsentState:
    previous: consents.Consent | None  # what the cookie holds, current or not
    current: bool  # given under the policy in force, less than 6 months ago
    signal: bool  # the browser sends a refusal signal (GPC, DNT)
    available: bool  # the policy version could be read

    @property
    def needed(self) -> bool:
        return self.available and not self.current and not self.signal

    @property
    def audience(self) -> bool:
        return self.current and not self.signal and self.previous.allows(AUDIENCE)

    def chosen(self, category: str) -> bool:
        return self.current and self.previous.allows(category)


def consent_state() -> ConsentState:
    if "privacy_consent" not in g:
        previous = consents.decode_consent(
            secret_keys(current_app.config), request.cookies.get(CONSENT_COOKIE)
        )
        number = _cookie_policy_number()
        g.privacy_consent = ConsentState(
            previous=previous,
            current=number is not None and consents.is_current(previous, number),
            signal=consents.refusal_signal(request.headers),
            available=number is not None,
        )
    return g.privacy_consent


class _LazyConsent:
    """Templates ask ``privacy.needed``: nothing is read unless a page asks (emails rendered by jobs never do)."""

    def __getattr__(self, name):
        return getattr(consent_state(), name)


@bp.app_context_processor
def _privacy_context():
    return {"privacy": _LazyConsent(), "cookie_categories": CATEGORIES}


# --- public pages ---------------------------------------------------------------------------------------------

ENDPOINTS = {
    PRIVACY: "privacy.privacy_policy",
    COOKIES: "privacy.cookie_policy",
    LEGAL: "privacy.legal_notice",
}


def _policy_page(kind: str, number: int | None = None):
    current = policy_versions.latest(kind)
    shown = policy_versions.version(kind, number) if number is not None else current
    if shown is None:
        abort(404)
    return render_template(
        "privacy/policy.html",
        kind=kind,
        title=_(TITLES[kind]),
        shown=shown,
        current=current,
        versions=policy_versions.history(kind),
        language=_language(),
        cookies=REGISTRY if kind == COOKIES else (),
        current_endpoint=ENDPOINTS[kind],
    )


@bp.get("/privacy")
def privacy_policy():
    return _policy_page(PRIVACY)


@bp.get("/privacy/cookies")
def cookie_policy():
    return _policy_page(COOKIES)


@bp.get("/legal")
def legal_notice():
    return _policy_page(LEGAL)


@bp.get("/privacy/<any(privacy, cookies, legal):kind>/v<int:number>")
def policy_version(kind: str, number: int):
    return _policy_page(kind, number)


@bp.get("/privacy/sub-processors")
def sub_processors():
    return render_template(
        "privacy/sub_processors.html", rows=policy_versions.sub_processors(), language=_language()
    )


# --- the cookie choice ----------------------------------------------------------------------------------------


@bp.get("/privacy/retention")
def retention():
    """Every retention period, from the registry the policy and the records of processing are written from."""
    from tenants import retention as periods

    return render_template(
        "privacy/retention.html", groups=periods.by_group(), language=_language(), schedule=_schedule()
    )


def _schedule() -> dict[str, int]:
    """How often each periodic job runs, in seconds, by name."""
    from jobs import SCHEDULE

    return {job.name: job.every for job in SCHEDULE}


@bp.get("/privacy/choices")
def choices():
    """The banner opened on the choice of categories: a whole page without JavaScript, the fragment with HTMX."""
    return render(
        "privacy/choices.html",
        "privacy/_consent.html",
        consent_mode="choose",
        next_url=_local_next(request.args.get("next")),
    )


@bp.post("/privacy/consent")
@writes(none="the consent proof is a record of its own")
def consent():
    choice = request.form.get("choice")
    if choice == "accept":
        action, categories = "accept", set(OPTIONAL)
    elif choice in ("refuse", "close"):
        action, categories = choice, set()
    elif choice == "save":
        action, categories = "choose", {c for c in OPTIONAL if request.form.get(c) in ("on", "1", "y")}
    else:
        abort(400)
    state = consent_state()
    given, _proof = consents.record_choice(
        state.previous,
        action,
        categories,
        request.remote_addr,
        banner=request.form.get("banner", consents.FULL),
    )
    db.session.commit()
    audience = AUDIENCE in categories and not state.signal
    if is_fragment_request():
        response = make_response(
            render_template("privacy/_consent.html", consent_mode="saved", saved_audience=audience)
        )
        response.vary.add("HX-Request")
        # Tells audience.js to start or stop at once, without a reload.
        response.headers["HX-Trigger"] = json.dumps({"emarge-consent": {"audience": audience}})
    else:
        flash(_saved_message(audience), "success")
        response = redirect(_local_next(request.form.get("next")), 303)
    response.set_cookie(
        CONSENT_COOKIE,
        consents.encode_consent(secret_keys(current_app.config), given),
        **_cookie_options(int(CONSENT_LIFETIME.total_seconds())),
    )
    if AUDIENCE not in categories:
        _delete_audience_cookie(response)
    return response


def _saved_message(audience: bool) -> str:
    if audience:
        return _(
            "Your choice is saved: audience measurement is on. Change it at any time with “Cookie settings”."
        )
    return _("Your choice is saved: no audience measurement. Change it at any time with “Cookie settings”.")


# --- the measurement endpoint ---------------------------------------------------------------------------------


def _refused():
    response = make_response("", 403)
    _delete_audience_cookie(response)
    return response


def _page_of(path: str) -> str | None:
    """The URL rule behind ``path`` (never the path itself: no ids, no tokens), None for a page never measured."""
    adapter = current_app.url_map.bind(request.host)
    try:
        rule, _args = adapter.match(path, method="GET", return_rule=True)
    except HTTPException:
        return None
    view = current_app.view_functions.get(rule.endpoint)
    if view is None or getattr(view, "never_measured", False) or rule.endpoint == "static":
        return None
    return rule.rule


@bp.post("/privacy/collect")
@writes(none="audience events of a visitor who consented: measurement, not an organization's data")
def collect():
    if consents.refusal_signal(request.headers):
        return _refused()
    given = consents.decode_consent(secret_keys(current_app.config), request.cookies.get(CONSENT_COOKIE))
    if not consents.consent_on_record(given, AUDIENCE):
        return _refused()
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        abort(413)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    kind, view_id = data.get("type"), data.get("view")
    if kind not in ("view", "time", "click") or not isinstance(view_id, str) or not HEX32.match(view_id):
        abort(400)
    page = _page_of(str(data.get("path") or "")[:300]) if kind != "time" else ""
    if page is None:
        return _refused()
    secret = secret_keys(current_app.config)
    visitor = consents.read_visitor(secret, request.cookies.get(AUDIENCE_COOKIE))
    new_cookie = None
    if visitor is None:
        if kind == "time":
            return "", 204
        visitor, value, max_age = consents.new_visitor(secret)
        new_cookie = (value, max_age)
    if kind == "view":
        width = data.get("width")
        measurement.record_view(
            visitor,
            view_id,
            page,
            referrer=str(data.get("referrer") or "")[:500],
            own_host=request.host,
            language=str(data.get("language") or "")[:20],
            width=width if isinstance(width, int) else None,
        )
    elif kind == "time":
        seconds = data.get("seconds")
        if not isinstance(seconds, int):
            abort(400)
        measurement.record_time(visitor, view_id, seconds)
    else:
        target = data.get("target")
        if not isinstance(target, str) or not MARKER.match(target):
            abort(400)
        measurement.record_click(visitor, view_id, page, target)
    db.session.commit()
    response = make_response("", 204)
    if new_cookie:
        # Set once, from the first measured page; never extended afterwards.
        response.set_cookie(AUDIENCE_COOKIE, new_cookie[0], **_cookie_options(new_cookie[1]))
    return response


# --- substantial changes: acknowledged at the next login ------------------------------------------------------

ACK_FREE = {"accounts.login", "accounts.logout", "public.set_language", "static"}


@bp.before_app_request
def _require_acknowledgement():
    tenant = current_tenant()
    endpoint = request.endpoint or ""
    if tenant is None or endpoint in ACK_FREE or endpoint.startswith("privacy."):
        return None
    if not current_user.is_authenticated or g.get("support") is not None:
        return None
    latest = policy_versions.latest_substantial_id()
    if latest is None or session.get("privacy_ack") == latest:
        return None
    if not policy_versions.pending_acknowledgements(tenant.id, current_user.id, current_user.created_at):
        session["privacy_ack"] = latest
        return None
    # An HTMX request gets HX-Redirect on an empty answer: a 303 would be followed by the XHR and the whole
    # acknowledgement page swapped into a fragment.
    return redirect_or_hx(url_for("privacy.acknowledge", next=request.full_path.rstrip("?")))


@bp.route("/<org>/privacy/acknowledge", methods=["GET", "POST"])
@login_required
@writes(none="an acknowledgement of a policy version is a record of its own")
def acknowledge():
    tenant = current_tenant()
    pending = policy_versions.pending_acknowledgements(tenant.id, current_user.id, current_user.created_at)
    home = url_for("today.index")
    target = safe_next(request.args.get("next"), home, within=f"/{tenant.slug}/")
    if target.startswith(url_for("privacy.acknowledge")):
        target = home
    if not pending:
        return redirect(target, 303)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        policy_versions.acknowledge(tenant.id, current_user.id, pending)
        db.session.commit()
        session["privacy_ack"] = policy_versions.latest_substantial_id()
        return redirect(target, 303)
    return render_template(
        "privacy/acknowledge.html", pending=pending, form=form, language=_language(), endpoints=ENDPOINTS
    )

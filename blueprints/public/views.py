from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from blueprints.accounts import services as accounts
from blueprints.accounts import throttle
from blueprints.accounts.forms import EmailForm, SignUpForm
from blueprints.accounts.passwords import hash_password
from blueprints.audit.services import Actor
from blueprints.web.actor import request_origin
from blueprints.web.audit_guard import writes
from blueprints.web.redirects import safe_next
from jobs import MESSAGING, enqueue
from tenants.db import db, ping
from tenants.provisioning import ProvisioningError, slug_problem, suggest_slug
from tenants.scope import request_tenant

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("public/home.html")


def _slug_from(text: str) -> str:
    """ "acme", or the organization's part of a pasted address ("https://emarge.fr/acme/login")."""
    parts = [part for part in text.strip().lower().split("://", 1)[-1].split("/") if part]
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0]):
        parts = parts[1:]
    return parts[0][:60] if parts else ""


@bp.get("/login")
def go():
    """The home page's direct login: someone who knows their organization's address goes to its login page."""
    slug = _slug_from(request.args.get("org") or "")
    tenant = request_tenant(slug) if slug and slug_problem(slug) is None else None
    if tenant is None or not tenant.active:
        message = _(
            "No organization uses the address “%(slug)s”. Check it, or have your links emailed to you.",
            slug=slug,
        )
        return render_template("public/home.html", go_error=message, go_value=slug), 404
    return redirect(url_for("accounts.login", org=tenant.slug), 303)


@bp.get("/signup/address")
def suggest_address():
    """The address suggested from the organization's name, as one types it (an HTMX fragment)."""
    suggestion = suggest_slug((request.args.get("organization_name") or "")[:200])
    return render_template("public/_slug_suggestion.html", suggestion=suggestion)


@bp.route("/signup", methods=["GET", "POST"])
@writes("organization.created")
def signup():
    # The language the visitor reads the page in: their browser's, or the one they picked.
    form = SignUpForm(language=str(get_locale()))
    if request.method == "POST" and not (form.slug.data or "").strip() and form.organization_name.data:
        suggestion = suggest_slug(form.organization_name.data)
        if suggestion:
            form.slug.data = suggestion
            form.slug.errors = [
                _("We suggest this address: keep it or change it, then create your organization.")
            ]
            return render_template("public/signup.html", form=form, suggestion=suggestion), 422
    if form.validate_on_submit():
        throttle.check(
            (throttle.SIGNUP_IP, request.remote_addr or "?"),
            (throttle.SIGNUP_EMAIL, accounts.normalize_email(form.email.data)),
        )
        data = accounts.SignUp(
            organization_name=form.organization_name.data.strip(),
            slug=form.slug.data,
            first_name=form.first_name.data.strip(),
            last_name=form.last_name.data.strip(),
            email=form.email.data,
            phone=form.phone.data.strip(),
            address=form.address.data.strip(),
            postal_code=form.postal_code.data.strip(),
            city=form.city.data.strip(),
            billing_name=form.billing_name.data.strip(),
            billing_address=form.billing_address.data.strip(),
            vat_number=(form.vat_number.data or "").strip() or None,
            password_hash=hash_password(form.password.data),
            language=form.language.data,
        )
        try:
            tenant = accounts.sign_up(data, Actor(kind="anonymous", label=data.email, **request_origin()))
        except ProvisioningError:
            # Taken between the form check and the insert.
            form.slug.errors.append(_("This address is already taken. Choose another one."))
        else:
            return render_template("public/signup_done.html", tenant=tenant, email=data.email)
    return render_template("public/signup.html", form=form), 200 if not form.errors else 422


@bp.route("/find", methods=["GET", "POST"])
@writes(none="queues an email listing the address's organizations; changes nothing")
def find_organization():
    form = EmailForm()
    if form.validate_on_submit():
        throttle.check(
            (throttle.FIND_IP, request.remote_addr or "?"),
            (throttle.FIND_EMAIL, accounts.normalize_email(form.email.data)),
        )
        enqueue(
            "jobs.messages.send_organization_finder",
            accounts.normalize_email(form.email.data),
            str(get_locale()),
            queue=MESSAGING,
        )
        return render_template("public/find_sent.html", email=form.email.data)
    return render_template("public/find.html", form=form), 200 if not form.errors else 422


@bp.post("/language")
@writes(none="the language is kept in the visitor's session cookie")
def set_language():
    language = request.form.get("language")
    if language in current_app.config["LANGUAGES"]:
        session["language"] = language
    return redirect(safe_next(request.form.get("next"), "/"), 303)


@bp.get("/healthz")
def healthz():
    checks = {}
    try:
        ping(db.engine)
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure is a failed check
        checks["database"] = f"error: {type(error).__name__}"
    backend = current_app.extensions["emarge.jobs"]
    redis = getattr(backend, "redis", None)
    if redis is None:
        checks["redis"] = "not configured (jobs run in the web process)"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["redis"] = f"error: {type(error).__name__}"
    healthy = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    degraded = []
    if checks["redis"].startswith("error"):
        # What still works without Redis, and how: the database stands in.
        degraded = [
            "jobs: kept in the database, handed over by the sweep once Redis is back",
            "live pages: versions read from the database",
            "throttling: counted in the database",
        ]
    if checks["database"].startswith("error"):
        degraded.insert(0, "pages: answered 503 with Retry-After until the database is back")
    return jsonify(
        status="ok" if healthy else "degraded", degraded=degraded, **checks
    ), 200 if healthy else 503

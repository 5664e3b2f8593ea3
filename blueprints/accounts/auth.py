"""Who is signed in. A session is tied to one organization and to a login record (blueprints/accounts/logins.py):
the session cookie holds ``<org>:<login id>:<key>``, the remember-me cookie ``<org>:<login id>:<secret>``."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, g, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from blueprints.accounts import logins
from blueprints.accounts.models import User
from blueprints.privacy.cookies import REMEMBER_COOKIE, cookie_attributes
from blueprints.web.redirects import redirect_or_hx
from tenants import current_tenant
from tenants.db import db, utcnow

login_manager = LoginManager()
login_manager.session_protection = "basic"


def _parse(value: str) -> tuple[str, int, str] | None:
    try:
        slug, ident, secret = value.split(":", 2)
        return slug, int(ident), secret
    except ValueError:
        return None


def _bind(user: User, slug: str, opened: logins.Opened) -> User:
    user.login_id = opened.login_id
    user.login_ref = f"{slug}:{opened.login_id}:{opened.key}"
    return user


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    parsed = _parse(user_id)
    tenant = current_tenant()
    if parsed is None or tenant is None or parsed[0] != tenant.slug:
        return None
    _, login_id, key = parsed
    found = logins.find_login(tenant.schema, login_id, key)
    user = db.session.get(User, found) if found else None
    if user is None or not user.active:
        return None
    user.login_id, user.login_ref = login_id, user_id
    return user


@login_manager.request_loader
def load_remembered(request) -> User | None:
    """No live session: a remember-me cookie, spent and replaced, opens a new one."""
    value = request.cookies.get(REMEMBER_COOKIE)
    tenant = current_tenant()
    parsed = _parse(value) if value else None
    if parsed is None or tenant is None or parsed[0] != tenant.slug:
        return None
    from blueprints.web.actor import request_origin

    restored = logins.restore_login(tenant.schema, parsed[1], parsed[2], request_origin())
    user = db.session.get(User, restored[0]) if restored else None
    if user is None or not user.active:
        forget_remembered()
        return None
    opened = restored[1]
    _bind(user, tenant.slug, opened)
    session["_user_id"], session["_fresh"] = user.get_id(), False
    _remember(tenant.slug, opened)
    return user


def sign_in(user: User, *, remember: bool, origin: dict) -> None:
    """A fresh session bound to a new login record (committed by the caller)."""
    slug = current_tenant().slug
    opened = logins.open_login(user, origin, remember=remember)
    # Nothing from before survives into the signed-in session.
    session.clear()
    login_user(_bind(user, slug, opened))
    if opened.remember_secret:
        _remember(slug, opened)
    elif REMEMBER_COOKIE in request.cookies:
        forget_remembered()


def sign_out() -> None:
    """End this browser's login: its record is deleted (committed by the caller), its cookies cleared."""
    if current_user.is_authenticated and current_user.login_id:
        logins.end_login(current_user.id, current_user.login_id)
    session.clear()
    logout_user()
    if REMEMBER_COOKIE in request.cookies:
        forget_remembered()


# --- the remember-me cookie, set and deleted with the same attributes ------------------------------------------


def _remember(slug: str, opened: logins.Opened) -> None:
    max_age = int((opened.expires_at - utcnow()).total_seconds())
    g.emarge_remember = (f"{slug}:{opened.login_id}:{opened.remember_secret}", max(max_age, 0))


def forget_remembered() -> None:
    g.emarge_remember = None


def _write_remember_cookie(response):
    if "emarge_remember" not in g:
        return response
    if g.emarge_remember is None:
        response.delete_cookie(REMEMBER_COOKIE, **cookie_attributes(current_app.config))
    else:
        value, max_age = g.emarge_remember
        response.set_cookie(REMEMBER_COOKIE, value, max_age=max_age, **cookie_attributes(current_app.config))
    return response


def signed_in_elsewhere() -> bool:
    """The browser holds a login of another organization."""
    parsed = _parse(session.get("_user_id") or "")
    tenant = current_tenant()
    return bool(parsed and tenant and parsed[0] != tenant.slug)


@login_manager.unauthorized_handler
def _unauthorized():
    # Another organization's page is a 404 for a user signed in elsewhere: it neither exists nor leaks.
    if signed_in_elsewhere() or current_tenant() is None:
        abort(404)
    return redirect_or_hx(url_for("accounts.login", next=request.full_path.rstrip("?")), 302)


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    from blueprints.support import access

    # A support session, from its own cookie, comes first: its user is the request's, and no login is read.
    access.init_app(app)

    @app.before_request
    def _load_login_first():
        # The login is checked (and touched) on its own connection before the request's transaction begins.
        if current_tenant() is not None:
            current_user._get_current_object()

    app.after_request(_write_remember_cookie)

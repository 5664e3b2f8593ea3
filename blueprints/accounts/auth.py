"""Who is signed in. A session is tied to one organization and to the user's session token."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, make_response, redirect, request, session, url_for
from flask_login import LoginManager, current_user

from blueprints.accounts.models import User
from tenants.db import db

login_manager = LoginManager()
login_manager.session_protection = "basic"


def _parse(user_id: str) -> tuple[str, int, str] | None:
    try:
        slug, ident, token = user_id.split(":", 2)
        return slug, int(ident), token
    except ValueError:
        return None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    parsed = _parse(user_id)
    tenant = g.get("tenant")
    if parsed is None or tenant is None or parsed[0] != tenant.slug:
        return None
    _, ident, token = parsed
    user = db.session.get(User, ident)
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def signed_in_elsewhere() -> bool:
    """The browser holds a login of another organization."""
    parsed = _parse(session.get("_user_id") or "")
    tenant = g.get("tenant")
    return bool(parsed and tenant and parsed[0] != tenant.slug)


@login_manager.unauthorized_handler
def _unauthorized():
    # Another organization's page is a 404 for a user signed in elsewhere: it neither exists nor leaks.
    if signed_in_elsewhere() or g.get("tenant") is None:
        abort(404)
    return redirect_or_hx(url_for("accounts.login", next=request.full_path.rstrip("?")), 302)


def redirect_or_hx(target: str, code: int = 303):
    """A redirect; for HTMX, an empty answer whose HX-Redirect header makes the browser load ``target``.

    The XHR under HTMX follows a 30x itself, so HTMX never sees a header on it and swaps the whole page it lands
    on into the element that asked: a page inside the page.
    """
    if request.headers.get("HX-Request"):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
    else:
        response = redirect(target, code)
    response.vary.add("HX-Request")
    return response


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped

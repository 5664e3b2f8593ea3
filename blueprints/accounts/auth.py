"""Who is signed in. A session is tied to one organization and to the user's session token."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, session, url_for
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
    if request.headers.get("HX-Request"):
        response = redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        response.headers["HX-Redirect"] = response.location
        return response
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped

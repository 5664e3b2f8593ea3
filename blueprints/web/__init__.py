"""What every page shares: CSRF, sessions, languages and times, HTMX, security headers, error pages."""

from __future__ import annotations

from flask import Flask
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
hx = HTMX()


def init_web(app: Flask) -> None:
    from blueprints.accounts import auth
    from blueprints.web import errors, i18n, security

    csrf.init_app(app)
    hx.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)

"""What every page shares: CSRF, sessions, languages and times, HTMX, security headers, error pages."""

from __future__ import annotations

from flask import Flask

from blueprints.web import audit_guard, errors, i18n, security
from blueprints.web.extensions import csrf, hx

__all__ = ["csrf", "hx", "init_web"]


def init_web(app: Flask) -> None:
    csrf.init_app(app)
    hx.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    audit_guard.init_app(app)

"""Security headers on every response, whatever answers it; the CSP allows no inline script and no other host.
Requests carrying a NUL character are refused before anything reads them."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import UnprocessableEntity

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(config: Mapping) -> list[tuple[str, str]]:
    """The headers every response carries: Flask's after_request and the WSGI fast paths add the same."""
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "geolocation=(), microphone=(), payment=(), camera=(self)"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if config.get("SESSION_COOKIE_SECURE"):
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def has_nul() -> bool:
    """A NUL in the path, the query string or a form field (a file's bytes may hold any byte)."""
    if "\x00" in request.path:
        return True
    for values in (request.args, request.form if request.method in ("POST", "PUT", "PATCH") else {}):
        for key, value in values.items(multi=True) if values else ():
            if "\x00" in key or "\x00" in value:
                return True
    return False


def refuse_nul(endpoint, values) -> None:
    # A url value preprocessor, registered before the tenant's: the organization is looked up from the URL.
    if has_nul():
        error = UnprocessableEntity()
        error.emarge_detail = _(
            "The request contains a character that is not allowed (NUL). Remove it and send again."
        )
        raise error


def init_app(app: Flask) -> None:
    app.url_value_preprocessors.setdefault(None, []).insert(0, refuse_nul)

    @app.after_request
    def _headers(response):
        headers = response.headers
        for name, value in security_headers(app.config):
            headers.setdefault(name, value)
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response

"""Error pages: a whole page on navigation, a fragment that HTMX swaps in otherwise."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from blueprints.web.htmx import render

logger = logging.getLogger(__name__)


def _messages():
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You do not have access to this page.")),
        404: (_("Page not found"), _("This page does not exist, or you do not have access to it.")),
        405: (_("Not allowed"), _("This action is not available here.")),
        409: (_("Cannot be done"), _("This change conflicts with what is already recorded.")),
        410: (_("No longer available"), _("This link or page is no longer valid.")),
        413: (_("File too large"), _("The file sent is larger than this page accepts.")),
        422: (
            _("Cannot be accepted"),
            _("Some of what was sent cannot be accepted. Check it and try again."),
        ),
        429: (
            _("Too many attempts"),
            _("Too many attempts in a short time. Wait a few minutes, then try again."),
        ),
        500: (
            _("Something went wrong"),
            _("An error occurred on our side. It has been recorded; please try again."),
        ),
        503: (
            _("Temporarily unavailable"),
            _("Emarge cannot reach its database for a moment. Nothing you sent was lost: try again shortly."),
        ),
    }


RETRY_AFTER = 30  # seconds, when the database cannot be reached


def database_unavailable(error: BaseException) -> bool:
    """The database could not be reached (down, restarting, the pool exhausted), as opposed to a bug."""
    if isinstance(error, (OperationalError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def render_error(code: int, detail: str | None = None, reference: str | None = None):
    title, text = _messages().get(code, (_("Error"), _("An error occurred.")))
    return render(
        "errors/error.html",
        "errors/_error.html",
        status=code,
        code=code,
        title=title,
        text=detail or text,
        reference=reference,
    )


# Who keeps an unhandled error (the diagnostics area registers itself at start-up: the web floor knows no area).
# Called with the error and what the request may give; returns the reference the page shows.
_reporters: list[Callable[..., str | None]] = []


def on_unhandled_error(reporter: Callable[..., str | None]) -> Callable[..., str | None]:
    if reporter not in _reporters:  # every app of a process registers the same one
        _reporters.append(reporter)
    return reporter


def report_request_error(error: Exception) -> str | None:
    """Hand the error to the reporters with what the request may give: its URL rule (never its URL), method,
    tenant, user id and headers (the reporter keeps an allow-list); no form, no cookie. Never raises."""
    from tenants import current_tenant

    try:
        tenant = current_tenant()
        user = g.get("_login_user")
        user_id = getattr(user, "id", None) if user is not None and user.is_authenticated else None
        where = request.url_rule.rule if request.url_rule is not None else "(no route)"
        headers = dict(request.headers)
    except Exception:
        tenant, user_id, where, headers = None, None, "(unknown)", {}
    reference = None
    for reporter in _reporters:
        try:
            reference = (
                reporter(
                    error,
                    where=where,
                    method=request.method,
                    tenant_slug=tenant.slug if tenant else None,
                    user_id=user_id,
                    headers=headers,
                )
                or reference
            )
        except Exception:
            logger.error("an error reporter failed (%s)", type(error).__name__)
    if not _reporters:
        logger.error("unhandled %s in %s", type(error).__name__, where)
    return reference


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(
            400, _("This form has expired or was not sent from Emarge. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        response = render_error(error.code, getattr(error, "emarge_detail", None))
        if error.code == 429 and getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return _http(error)
        if database_unavailable(error):
            logger.warning("database unavailable: %s", error)
            # The page must not reach for the database again (the signed-in user, say).
            g._login_user = AnonymousUserMixin()
            response = render_error(503)
            response.headers["Retry-After"] = str(RETRY_AFTER)
            return response
        # Logged by the capture, scrubbed: the raw message may carry what a user typed.
        return render_error(500, reference=report_request_error(error))

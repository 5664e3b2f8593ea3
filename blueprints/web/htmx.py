"""One URL, a whole page or the fragment asked for."""

from __future__ import annotations

from flask import make_response, render_template, request

from blueprints.web.extensions import hx


def is_fragment_request() -> bool:
    # A boosted navigation wants the whole page, and so does htmx restoring a pushed URL from history (it
    # sends HX-Request too); any other HTMX request wants its fragment.
    return bool(hx) and not hx.boosted and not request.headers.get("HX-History-Restore-Request")


def render(page: str, fragment: str, /, status: int = 200, **context):
    """Render ``page`` (which includes ``fragment``) or, for an HTMX request, ``fragment`` alone."""
    response = make_response(render_template(fragment if is_fragment_request() else page, **context), status)
    response.vary.add("HX-Request")
    return response

"""Where to send the browser next: one rule for every ``next`` parameter, one redirect that HTMX understands."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import make_response, redirect, request


def safe_next(target: str | None, default: str, *, within: str | None = None) -> str:
    """``target`` when it is a path of this site (under ``within`` when given), else ``default``.

    Only a path: no scheme, no host, no ``//`` or ``\\`` that a browser would read as another host, and no
    control character (browsers drop a tab or a newline, so ``/\\t/evil.example`` becomes ``//evil.example``;
    a CR/LF would also break the Location header).
    """
    if not target or not isinstance(target, str):
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    if within is not None and not target.startswith(within):
        return default
    return target


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

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email or an SMS, always on ``PUBLIC_BASE_URL``: the same from a request (whatever
    host it came through) as from a job."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    current_app.inject_url_defaults(endpoint, values)  # the organization in scope, as url_for does
    return adapter.build(endpoint, values, force_external=True)

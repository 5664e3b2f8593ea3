from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email or an SMS: on ``PUBLIC_BASE_URL``, from a request as from a job."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, _external=False, **values)

from __future__ import annotations

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an email or an SMS, always on ``PUBLIC_BASE_URL`` (the app's adapter outside a
    request): the same from a request, whatever host it came through, as from a job."""
    adapter = current_app.create_url_adapter(None)
    current_app.inject_url_defaults(endpoint, values)  # the organization in scope, as url_for does
    return adapter.build(endpoint, values, force_external=True)

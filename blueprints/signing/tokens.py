"""Signed tokens for the personal links and the live pages' change check.

A link token carries (tenant slug, link id, nonce): the signature stops forgery and guessing, the slug makes
another organization's token a 404 here, and the nonce ties the token to the row's current issue, so
re-issuing or revoking the row ends it. Expiry is the row's, not the token's.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

from blueprints.web.keys import secret_keys

# A salt per purpose: a trainee's token never opens a facilitator's page, nor a live poll.
SALTS = {
    "trainee": "emarge.signin.trainee",
    "facilitator": "emarge.signin.facilitator",
}
LIVE_SALT = "emarge.live.poll"
LIVE_MAX_AGE = 24 * 3600


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_keys(current_app.config), salt=SALTS[kind])


def link_token(kind: str, slug: str, link_id: int, nonce: str) -> str:
    return _serializer(kind).dumps([slug, link_id, nonce])


def read_link_token(kind: str, token: str) -> tuple[str, int, str] | None:
    """(slug, link id, nonce), or None when the token was not made by us for this purpose."""
    try:
        slug, link_id, nonce = _serializer(kind).loads(token)
    except (BadData, ValueError, TypeError):
        return None
    if not isinstance(slug, str) or not isinstance(link_id, int) or not isinstance(nonce, str):
        return None
    return slug, link_id, nonce


# A page watching several half-days (the home page) holds one token for all of them, up to this many.
LIVE_MAX_SLOTS = 200


def live_token(secret_key: str | list[str], schema: str, slot_id: int | list[int]) -> str:
    """The change check of one half-day (the live page) or of several (the home page)."""
    return URLSafeTimedSerializer(secret_key, salt=LIVE_SALT).dumps([schema, slot_id])


def read_live_token(secret_key: str | list[str], token: str) -> tuple[str, int | tuple[int, ...]] | None:
    try:
        schema, watched = URLSafeTimedSerializer(secret_key, salt=LIVE_SALT).loads(
            token, max_age=LIVE_MAX_AGE
        )
    except (BadData, ValueError, TypeError):
        return None
    return checked_watch(schema, watched)


def checked_watch(schema, watched) -> tuple[str, int | tuple[int, ...]] | None:
    """(schema, slot id or ids) from a token's payload, or None when it is not one of ours."""
    if not isinstance(schema, str):
        return None
    if isinstance(watched, list):
        if len(watched) > LIVE_MAX_SLOTS or not all(type(item) is int for item in watched):
            return None
        return schema, tuple(watched)
    if type(watched) is not int:
        return None
    return schema, watched

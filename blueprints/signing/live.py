"""The live pages' change check: a version per slot, bumped by every change, read without the ORM.

A row of ``slot_versions`` is bumped inside the change's transaction, always; with Redis a key is also bumped
(INCR once the change commits, so a page never fetches a roster older than the version it was told) and the
poll reads the key. While Redis cannot be reached the poll falls back to the row, its value marked ``d`` so
that it never equals a Redis value a page holds: the page reloads once on each switch and misses nothing.
Either way any web process sees every change, and the poll costs one Redis GET or one primary-key SELECT.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy import select

from blueprints.signing.models import SlotVersion
from blueprints.web.keys import secret_keys
from blueprints.web.security import security_headers
from jobs import on_commit
from tenants.db import TENANT, bind_schema, db, real_schema
from tenants.sql import dialect_insert

logger = logging.getLogger(__name__)

KEY = "emarge:live:{schema}:{slot_id}"
KEY_TTL = 14 * 86400


def _redis(app: Flask):
    backend = app.extensions["emarge.jobs"]
    return backend.redis if getattr(backend, "url", None) else None


def touch(slot_id: int) -> None:
    """Note that ``slot_id``'s attendance changed in the current transaction."""
    statement = dialect_insert(db.session.get_bind().dialect.name)(SlotVersion).values(
        slot_id=slot_id, version=1
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["slot_id"], set_={"version": SlotVersion.__table__.c.version + 1}
        )
    )
    if _redis(current_app) is None:
        return
    # The schema the change is written to: the one this transaction's connection is bound to.
    key = KEY.format(schema=real_schema(db.session.connection(), TENANT), slot_id=slot_id)
    app = current_app._get_current_object()
    # Bumped once the change commits, so a page is never told of a roster it cannot read yet.
    on_commit(lambda: _bump(app, {key}))


def keys(schema: str, watched: int | tuple[int, ...]) -> list[str]:
    ids = watched if isinstance(watched, tuple) else (watched,)
    return [KEY.format(schema=schema, slot_id=slot_id) for slot_id in ids]


def joined(values) -> str:
    """One slot's version as text ("0" before any change); several slots' versions joined by dots."""
    return ".".join(value.decode() if isinstance(value, bytes) else str(value or 0) for value in values)


def version(app: Flask, schema: str, watched: int | tuple[int, ...]) -> str:
    """The current version of one slot, or of several (one GET, or one MGET)."""
    redis = _redis(app)
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            return joined(redis.mget(keys(schema, watched)))
        except RedisError:
            logger.warning("Redis unreachable: live version read from the database")
            return "d" + _row_version(schema, watched)
    return _row_version(schema, watched)


def _row_version(schema: str, watched: int | tuple[int, ...]) -> str:
    ids = watched if isinstance(watched, tuple) else (watched,)
    with db.engine.connect() as connection:
        bind_schema(connection, schema)
        found = dict(
            connection.execute(
                select(SlotVersion.slot_id, SlotVersion.version).where(SlotVersion.slot_id.in_(ids))
            ).all()
        )
    return joined(found.get(slot_id) for slot_id in ids)


def _bump(app: Flask, keys: set[str]) -> None:
    try:
        with _redis(app).pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key).expire(key, KEY_TTL)
            pipe.execute()
    except Exception:
        # The change is committed; the pages catch up with the next change or a reload.
        logger.warning("live version not bumped for %s", sorted(keys), exc_info=True)


def init_live(app: Flask) -> None:
    if app.config.get("REDIS_URL"):
        app.wsgi_app = PollFastPath(app.wsgi_app, app)


class PollFastPath:
    """WSGI middleware answering ``GET /live/<token>`` before Flask when Redis holds the versions.

    The change check is the request thousands of open live pages make every second: here it costs a token
    check and one Redis GET, with no request context, no session, no user, no translation. Anything it does
    not recognise (another path, another method, a bad token, no Redis) goes on to Flask, whose
    ``signing_live.poll`` view gives the same answers.
    """

    PREFIX = "/live/"

    def __init__(self, wsgi_app, app: Flask):
        from itsdangerous import URLSafeTimedSerializer

        from blueprints.signing.tokens import LIVE_MAX_AGE, LIVE_SALT, checked_watch

        self.checked_watch = checked_watch

        self.wsgi_app = wsgi_app
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret_keys(app.config), salt=LIVE_SALT)
        self.max_age = LIVE_MAX_AGE
        # The same security headers as every answer of Flask's (HSTS included where cookies are Secure).
        self.headers = [("Cache-Control", "no-store"), *security_headers(app.config)]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        redis = _redis(self.app) if path.startswith(self.PREFIX) else None
        if redis is None or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        from urllib.parse import parse_qs

        from itsdangerous import BadData

        try:
            watch = self.checked_watch(*self.serializer.loads(path[len(self.PREFIX) :], max_age=self.max_age))
        except (BadData, ValueError, TypeError):
            return self.wsgi_app(environ, start_response)
        if watch is None:
            return self.wsgi_app(environ, start_response)
        try:
            current = joined(redis.mget(keys(*watch)))
        except Exception:
            return self.wsgi_app(environ, start_response)
        held = parse_qs(environ.get("QUERY_STRING", "")).get("v", [None])[0]
        if held == current:
            start_response("204 No Content", list(self.headers))
            return []
        body = current.encode()
        start_response(
            "200 OK",
            [
                *self.headers,
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

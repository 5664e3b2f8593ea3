"""Throttling of login and reset attempts, per account and per IP, shared by every web process.

Redis counts when it is configured; otherwise a platform table does. Fixed windows: simple, and enough to turn
a password-guessing run into a crawl.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import TooManyRequests

from tenants.db import PlatformBase, db


class ThrottleCounter(PlatformBase):
    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window: Mapped[int]
    count: Mapped[int]


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    seconds: int


LOGIN_ACCOUNT = Limit("login-account", 5, 15 * 60)
LOGIN_IP = Limit("login-ip", 50, 15 * 60)
RESET_ACCOUNT = Limit("reset-account", 3, 60 * 60)
RESET_IP = Limit("reset-ip", 20, 60 * 60)
STAFF_LOGIN = Limit("staff-login", 5, 15 * 60)


def _key(limit: Limit, subject: str) -> str:
    # Hashed: the table and Redis hold no email address or IP in clear.
    return limit.name + ":" + hashlib.sha256(subject.encode()).hexdigest()[:40]


def blocked(limit: Limit, subject: str) -> int:
    """Seconds until ``subject`` may try again (0: it may)."""
    now = int(time.time())
    window = now // limit.seconds
    key = _key(limit, subject)
    redis = _redis()
    if redis is not None:
        count = int(redis.get(f"emarge:throttle:{key}:{window}") or 0)
    else:
        with db.engine.connect() as connection:
            from tenants.db import bind_schema

            bind_schema(connection, None)
            row = connection.execute(
                select(ThrottleCounter.count).where(
                    ThrottleCounter.key == key, ThrottleCounter.window == window
                )
            ).first()
        count = row[0] if row else 0
    return (window + 1) * limit.seconds - now if count >= limit.attempts else 0


def hit(limit: Limit, subject: str) -> None:
    window = int(time.time()) // limit.seconds
    key = _key(limit, subject)
    redis = _redis()
    if redis is not None:
        name = f"emarge:throttle:{key}:{window}"
        with redis.pipeline() as pipe:
            pipe.incr(name).expire(name, limit.seconds).execute()
        return
    from tenants.db import bind_schema

    with db.engine.begin() as connection:
        bind_schema(connection, None)
        changed = connection.execute(
            update(ThrottleCounter)
            .where(ThrottleCounter.key == key, ThrottleCounter.window == window)
            .values(count=ThrottleCounter.count + 1)
        ).rowcount
        if not changed:
            connection.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))
            try:
                with connection.begin_nested():
                    connection.execute(
                        ThrottleCounter.__table__.insert().values(key=key, window=window, count=1)
                    )
            except IntegrityError:
                connection.execute(
                    update(ThrottleCounter)
                    .where(ThrottleCounter.key == key)
                    .values(count=ThrottleCounter.count + 1)
                )


def clear(limit: Limit, subject: str) -> None:
    key = _key(limit, subject)
    redis = _redis()
    if redis is not None:
        redis.delete(f"emarge:throttle:{key}:{int(time.time()) // limit.seconds}")
        return
    from tenants.db import bind_schema

    with db.engine.begin() as connection:
        bind_schema(connection, None)
        connection.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))


def _redis():
    backend = current_app.extensions["emarge.jobs"]
    return getattr(backend, "redis", None)


def too_many(seconds: int) -> TooManyRequests:
    """The 429 to raise while blocked: with Retry-After, and the wait in words for the error page."""
    error = TooManyRequests()
    error.retry_after = seconds
    error.emarge_detail = _(
        "Too many attempts. Try again in %(minutes)d minutes.", minutes=max(1, round(seconds / 60))
    )
    return error

"""Throttling of login, reset, sign-up and "find my organization" attempts, shared by every web process.

Redis counts when it is configured and answers; otherwise (or while Redis is down) a platform table does, so a
Redis outage neither opens the door nor breaks the login page. Fixed windows: simple, and enough to turn a
password-guessing run into a crawl.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import TooManyRequests

from tenants.db import PlatformBase, bind_schema, db

logger = logging.getLogger(__name__)


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


HOUR, DAY = 3600, 86400
LOGIN_ACCOUNT = Limit("login-account", 5, 15 * 60)
LOGIN_IP = Limit("login-ip", 50, 15 * 60)
RESET_ACCOUNT = Limit("reset-account", 3, HOUR)
RESET_IP = Limit("reset-ip", 20, HOUR)
STAFF_LOGIN = Limit("staff-login", 5, 15 * 60)
# A sign-up provisions a whole schema; "find my organization" looks in every tenant and emails.
SIGNUP_IP = Limit("signup-ip", 5, HOUR)
SIGNUP_EMAIL = Limit("signup-email", 3, DAY)
FIND_IP = Limit("find-ip", 5, HOUR)
FIND_EMAIL = Limit("find-email", 3, HOUR)


def _key(limit: Limit, subject: str) -> str:
    # Hashed: the table and Redis hold no email address or IP in clear.
    return limit.name + ":" + hashlib.sha256(subject.encode()).hexdigest()[:40]


def _redis_or_table(with_redis: Callable, with_table: Callable):
    redis = _redis()
    if redis is not None:
        from redis.exceptions import RedisError

        try:
            return with_redis(redis)
        except RedisError:
            logger.warning("Redis unreachable: throttling counts in the database", exc_info=True)
    return with_table()


def _count(key: str, window: int) -> int:
    def with_redis(redis):
        return int(redis.get(f"emarge:throttle:{key}:{window}") or 0)

    def with_table():
        with db.engine.connect() as connection:
            bind_schema(connection, None)
            row = connection.execute(
                select(ThrottleCounter.count).where(
                    ThrottleCounter.key == key, ThrottleCounter.window == window
                )
            ).first()
        return row[0] if row else 0

    return _redis_or_table(with_redis, with_table)


def blocked(limit: Limit, subject: str) -> int:
    """Seconds until ``subject`` may try again (0: it may)."""
    now = int(time.time())
    window = now // limit.seconds
    count = _count(_key(limit, subject), window)
    return (window + 1) * limit.seconds - now if count >= limit.attempts else 0


def hit(limit: Limit, subject: str) -> None:
    window = int(time.time()) // limit.seconds
    key = _key(limit, subject)

    def with_redis(redis):
        name = f"emarge:throttle:{key}:{window}"
        with redis.pipeline() as pipe:
            pipe.incr(name).expire(name, limit.seconds).execute()

    def with_table():
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

    _redis_or_table(with_redis, with_table)


def clear(limit: Limit, subject: str) -> None:
    key = _key(limit, subject)

    def with_redis(redis):
        redis.delete(f"emarge:throttle:{key}:{int(time.time()) // limit.seconds}")

    def with_table():
        with db.engine.begin() as connection:
            bind_schema(connection, None)
            connection.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key))

    _redis_or_table(with_redis, with_table)


def check(*limits: tuple[Limit, str]) -> None:
    """Count one attempt under each (limit, subject), or raise the 429 if any is already used up."""
    wait = max((blocked(limit, subject) for limit, subject in limits), default=0)
    if wait:
        raise too_many(wait)
    for limit, subject in limits:
        hit(limit, subject)


def _redis():
    backend = current_app.extensions["emarge.jobs"]
    return getattr(backend, "redis", None)


def too_many(seconds: int) -> TooManyRequests:
    """The 429 to raise while blocked: with Retry-After, and the wait in words for the error page."""
    error = TooManyRequests()
    error.retry_after = seconds
    minutes = max(1, round(seconds / 60))
    if minutes >= 120:
        error.emarge_detail = _("Too many attempts. Try again in %(hours)d hours.", hours=round(minutes / 60))
    else:
        error.emarge_detail = _("Too many attempts. Try again in %(minutes)d minutes.", minutes=minutes)
    return error

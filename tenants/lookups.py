"""Per-process copies of the few platform rows every request reads: the organization named in the URL, the
policy versions in force.

Copies belong to a family named after what they copy ("tenants", "policies"), declared with the tables they
come from. A transaction that changes one of those tables makes the family stale once it commits: this
process drops its copies at once and bumps the family's version in Redis for the others. The first lookup of a
request (of an app context: a job too) reads every family's version in one ``MGET`` and drops the families
whose version moved, so a suspension or a rename takes effect at the next request in every process. Without
Redis (the embedded set-up, or Redis unreachable) a copy is kept ``MAX_AGE`` seconds at most, and a copy is
never older than that even with Redis (a bump lost while Redis restarts heals by itself).

A write that bypasses the session (a tenant dropped on a connection of its own) calls ``stale`` itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_app_context

from tenants.changes import after_commit_of

logger = logging.getLogger(__name__)

MAX_AGE = 30.0
KEY = "emarge:lookups:{family}"
REDIS_TIMEOUT = 0.5
EXTENSION = "emarge.lookups"

# family → the tables its copies are read from
FAMILIES: dict[str, frozenset[str]] = {}


def family(name: str, *tables: str) -> str:
    """Declare a family of copies read from ``tables``; returns its name."""
    FAMILIES[name] = frozenset(tables)
    return name


class Lookups:
    """One app's copies, with the version of each family they were read under."""

    def __init__(self, redis_url: str | None, *, clock: Callable[[], float] = time.monotonic):
        self.redis_url = redis_url
        self.clock = clock
        self._redis = None
        self._lock = threading.Lock()
        self._copies: dict[str, dict[Any, tuple[Any, float]]] = {}
        self._versions: dict[str, bytes | None] = {}
        # Counted up on every drop: a value loaded across a drop is not kept (it may predate the change).
        self._generation: dict[str, int] = {}

    @property
    def redis(self):
        if self._redis is None and self.redis_url:
            from redis import Redis

            self._redis = Redis.from_url(
                self.redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
        return self._redis

    def drop(self, name: str) -> None:
        with self._lock:
            self._copies.pop(name, None)
            self._generation[name] = self._generation.get(name, 0) + 1

    def check_versions(self) -> None:
        """Drop the families whose version moved in Redis since their copies were read."""
        if self.redis is None or not FAMILIES:
            return
        from redis.exceptions import RedisError

        names = sorted(FAMILIES)
        try:
            versions = self.redis.mget([KEY.format(family=name) for name in names])
        except RedisError:
            logger.warning("Redis unreachable: platform copies kept %d s at most", MAX_AGE)
            return
        for name, version in zip(names, versions, strict=True):
            if self._versions.get(name, version) != version:
                self.drop(name)
            self._versions[name] = version

    def get(self, name: str, key, load: Callable[[], Any], *, keep_none: bool) -> Any:
        now = self.clock()
        found = self._copies.get(name, {}).get(key)
        if found is not None and now - found[1] < MAX_AGE:
            return found[0]
        generation = self._generation.get(name, 0)
        value = load()
        if value is None and not keep_none:
            return None
        with self._lock:
            if self._generation.get(name, 0) == generation:
                self._copies.setdefault(name, {})[key] = (value, now)
        return value

    def bump(self, names) -> None:
        """Drop ``names`` here and tell the other processes."""
        for name in names:
            self.drop(name)
        if self.redis is None:
            return
        from redis.exceptions import RedisError

        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.incr(KEY.format(family=name))
                pipe.execute()
        except RedisError:
            # Committed all the same: the other processes catch up within MAX_AGE.
            logger.warning("platform copies of %s not announced: Redis unreachable", sorted(names))


def _lookups(app: Flask | None = None) -> Lookups | None:
    app = app or (current_app._get_current_object() if has_app_context() else None)
    return app.extensions.get(EXTENSION) if app is not None else None


def cached(name: str, key, load: Callable[[], Any], *, keep_none: bool = True) -> Any:
    """``load()``'s value, from this process's copy when it is current. ``keep_none=False``: a None (a slug
    nobody holds) is not kept, so an organization made a moment later is found at once."""
    lookups = _lookups()
    if lookups is None:
        return load()
    if not g.get("emarge_lookups_checked"):
        g.emarge_lookups_checked = True
        lookups.check_versions()
    return lookups.get(name, key, load, keep_none=keep_none)


def stale(*names: str, app: Flask | None = None) -> None:
    """Announce that ``names``' rows changed outside a session's transaction (already committed)."""
    lookups = _lookups(app)
    if lookups is not None:
        lookups.bump(names)


def _committed(changed: set[str]) -> None:
    names = [name for name, tables in FAMILIES.items() if tables & changed]
    if names:
        stale(*names)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Lookups(app.config.get("REDIS_URL"))


# Families are declared by the modules that read them, after this one is imported: each commit is matched
# against the families known by then.
after_commit_of(None, _committed)

"""Logins: a server-side record for each signed-in browser, which its cookies are bound to.

A user's session cookie holds ``<org>:<login id>:<key>`` and a remember-me cookie ``<org>:<login id>:<secret>``;
the record keeps only their SHA-256. Logging out deletes the record, and a cookie whose record is gone is a
stranger: a copy taken before opens nothing. The remember-me secret is single-use: each time it restores a
session it is replaced, atomically, so of two requests presenting the same secret only one gets in.

Records are read (and their last-seen time written, at most every ``TOUCH_EVERY``) on a connection of their own,
before the request's transaction begins: the check never waits for the request, and on SQLite the request's
snapshot is never older than the write.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from blueprints.accounts.models import User, UserLogin
from blueprints.privacy.cookies import REMEMBER_LIFETIME
from blueprints.staff.models import StaffLogin
from tenants.db import bind_schema, db, utcnow
from tenants.retention import LOGIN_IDLE, STAFF_LOGIN_IDLE

TOUCH_EVERY = timedelta(minutes=5)

# Browser and system from the user agent: enough for a person to recognise their devices in a list. Order
# matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"(?:OPR|Opera)/(\d+)"),
    ("Samsung Internet", r"SamsungBrowser/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[\d.]* (?:Mobile/\S+ )?Safari/"),
)
_SYSTEMS = (
    ("iPadOS", r"iPad"),
    ("iOS", r"iPhone|iPod"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux"),
)


def describe_agent(user_agent: str | None) -> tuple[str, str]:
    """(browser with its major version, system), "?" for what cannot be told."""
    agent = user_agent or ""
    browser = next(
        (f"{name} {match.group(1)}" for name, pattern in _BROWSERS if (match := re.search(pattern, agent))),
        "?",
    )
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, agent)), "?")
    return browser[:60], system[:60]


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _same(raw: str, hashed: str | None) -> bool:
    return hashed is not None and hmac.compare_digest(_hash(raw), hashed)


@dataclass(frozen=True)
class Opened:
    login_id: int
    key: str
    remember_secret: str | None = None
    expires_at: datetime | None = None


def _origin_columns(origin: dict) -> dict:
    browser, system = describe_agent(origin.get("user_agent"))
    return {"ip": (origin.get("ip") or None), "browser": browser, "system": system}


def open_login(user: User, origin: dict, *, remember: bool) -> Opened:
    """A new login for ``user`` in the current transaction; the caller commits and sets the cookies."""
    now = utcnow()
    key = secrets.token_urlsafe(32)
    secret = secrets.token_urlsafe(32) if remember else None
    record = UserLogin(
        user_id=user.id,
        key_hash=_hash(key),
        remember_hash=_hash(secret) if secret else None,
        expires_at=now + REMEMBER_LIFETIME if secret else None,
        created_at=now,
        last_seen_at=now,
        **_origin_columns(origin),
    )
    db.session.add(record)
    db.session.flush()
    return Opened(record.id, key, secret, record.expires_at)


def _alive(expires_at: datetime | None, last_seen_at: datetime, now: datetime, idle: timedelta) -> bool:
    if expires_at is not None:
        return expires_at > now
    return last_seen_at > now - idle


def _find(table, owner, login_id: int, key: str, schema: str | None, idle: timedelta) -> int | None:
    """The owner's id of the live record ``login_id`` whose key is ``key``; its last-seen time kept fresh."""
    now = utcnow()
    expires = table.c.expires_at if "expires_at" in table.c else None
    with db.engine.begin() as connection:
        bind_schema(connection, schema)
        row = connection.execute(
            select(
                owner, table.c.key_hash, table.c.last_seen_at, *([expires] if expires is not None else [])
            ).where(table.c.id == login_id)
        ).first()
        if row is None or not _same(key, row.key_hash):
            return None
        if not _alive(row.expires_at if expires is not None else None, row.last_seen_at, now, idle):
            return None
        if row.last_seen_at < now - TOUCH_EVERY:
            connection.execute(update(table).where(table.c.id == login_id).values(last_seen_at=now))
    return row[0]


def find_login(schema: str, login_id: int, key: str) -> int | None:
    """The user id of the live login ``login_id`` whose key is ``key``."""
    t = UserLogin.__table__
    return _find(t, t.c.user_id, login_id, key, schema, LOGIN_IDLE)


def restore_login(schema: str, login_id: int, secret: str, origin: dict) -> tuple[int, Opened] | None:
    """Spend a remember-me secret: (user id, the login with a new key and a new secret), or None.

    The secret is replaced by a compare-and-set on its hash: a copy presented after the browser used it, or
    a second request racing with the first, finds another hash and gets nothing.
    """
    t = UserLogin.__table__
    now = utcnow()
    with db.engine.begin() as connection:
        bind_schema(connection, schema)
        row = connection.execute(
            select(t.c.user_id, t.c.remember_hash, t.c.expires_at).where(t.c.id == login_id)
        ).first()
        if (
            row is None
            or row.expires_at is None
            or row.expires_at <= now
            or not _same(secret, row.remember_hash)
        ):
            return None
        key, new_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        changed = connection.execute(
            update(t)
            .where(t.c.id == login_id, t.c.remember_hash == row.remember_hash)
            .values(
                key_hash=_hash(key),
                remember_hash=_hash(new_secret),
                last_seen_at=now,
                **_origin_columns(origin),
            )
        ).rowcount
    if changed != 1:
        return None
    return row.user_id, Opened(login_id, key, new_secret, row.expires_at)


def active_logins(user_id: int) -> list[UserLogin]:
    now = utcnow()
    rows = db.session.scalars(
        select(UserLogin).where(UserLogin.user_id == user_id).order_by(UserLogin.last_seen_at.desc())
    ).all()
    return [r for r in rows if _alive(r.expires_at, r.last_seen_at, now, LOGIN_IDLE)]


def end_login(user_id: int, login_id: int) -> bool:
    """Sign one browser of ``user_id`` out. False when there was no such login (already ended)."""
    return bool(
        db.session.execute(
            delete(UserLogin).where(UserLogin.id == login_id, UserLogin.user_id == user_id)
        ).rowcount
    )


def end_logins(user_id: int, *, keep: int | None = None) -> int:
    """Sign ``user_id`` out everywhere (but on the login ``keep``); the number of logins ended."""
    statement = delete(UserLogin).where(UserLogin.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserLogin.id != keep)
    return db.session.execute(statement).rowcount


def purge_expired_logins() -> int:
    """Delete the records of logins that ended by themselves (the tenant in scope)."""
    now = utcnow()
    return db.session.execute(
        delete(UserLogin).where(
            or_(
                UserLogin.expires_at <= now,
                UserLogin.expires_at.is_(None) & (UserLogin.last_seen_at <= now - LOGIN_IDLE),
            )
        )
    ).rowcount


# --- staff -----------------------------------------------------------------------------------------------------


def open_staff_login(staff_id: int, origin: dict) -> Opened:
    now = utcnow()
    key = secrets.token_urlsafe(32)
    record = StaffLogin(
        staff_id=staff_id, key_hash=_hash(key), created_at=now, last_seen_at=now, **_origin_columns(origin)
    )
    db.session.add(record)
    db.session.flush()
    return Opened(record.id, key)


def find_staff_login(login_id: int, key: str) -> int | None:
    """The staff id of the live staff login ``login_id`` whose key is ``key``."""
    t = StaffLogin.__table__
    return _find(t, t.c.staff_id, login_id, key, None, STAFF_LOGIN_IDLE)


def end_staff_login(login_id: int) -> None:
    db.session.execute(delete(StaffLogin).where(StaffLogin.id == login_id))


def purge_expired_staff_logins() -> int:
    return db.session.execute(
        delete(StaffLogin).where(StaffLogin.last_seen_at <= utcnow() - STAFF_LOGIN_IDLE)
    ).rowcount

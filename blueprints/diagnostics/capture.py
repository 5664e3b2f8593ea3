"""Capture an unhandled error, scrubbed, into its group: the one way a malfunction is kept.

What is kept: the exception's type, its message with anything personal replaced, the traceback's frames (file,
line, function, source line: never a local variable), the URL rule (never the URL, so no path token and no
query string), the method, the tenant's slug, the user's id, the release, the time, and a short allow-list of
headers. What never is: form values, cookies, other headers, query strings, tokens, email addresses.

The report is written on a platform connection of its own, so the failed request's transaction cannot take it
down with it. When even that fails (the database is down), the report goes to the log, whole but ungrouped;
capturing never raises, and never calls itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import secrets
import threading
import traceback
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from blueprints.diagnostics.models import REQUEST, ErrorGroup, ErrorReport
from tenants.db import bind_schema, db, utcnow

logger = logging.getLogger(__name__)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADERS = ("User-Agent", "Accept", "Accept-Language", "Content-Type", "Content-Length", "HX-Request")
MESSAGE_LIMIT = 2000

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Single quotes hold values; double quotes hold SQL identifiers (a constraint's name), which are kept.
_QUOTED = re.compile(r"'[^']*'")
# A value in parentheses after "=", as PostgreSQL's DETAIL line and SQLAlchemy's parameters print them.
_KEY_VALUE = re.compile(r"=\s*\(([^)]*)\)")
_PARAMETERS = re.compile(r"\[parameters: .*?\]", re.S)
_TOKEN = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}\b")
_DIGITS = re.compile(r"\d{6,}")

# Set while this thread captures: an error raised by the capture itself is not captured again.
_local = threading.local()


def scrub(text: str) -> str:
    """``text`` with emails, quoted values, ``=(values)``, SQL parameters, token-like runs and long digit runs
    replaced: what a database error's DETAIL line or an application message may carry."""
    text = _PARAMETERS.sub("[parameters]", text or "")
    text = _EMAIL.sub("[email]", text)
    text = _KEY_VALUE.sub("=([value])", text)
    text = _QUOTED.sub("'[value]'", text)
    text = _TOKEN.sub("[token]", text)
    text = _DIGITS.sub("[number]", text)
    return text[:MESSAGE_LIMIT]


def _own(filename: str) -> bool:
    return (
        filename.startswith(ROOT + os.sep)
        and f"{os.sep}.venv{os.sep}" not in filename
        and ("site-packages" not in filename)
    )


def _short(filename: str) -> str:
    if filename.startswith(ROOT + os.sep):
        return os.path.relpath(filename, ROOT)
    marker = filename.rfind("site-packages" + os.sep)
    return filename[marker + len("site-packages") + 1 :] if marker >= 0 else os.path.basename(filename)


def frames_of(error: BaseException) -> list[traceback.FrameSummary]:
    return list(traceback.extract_tb(error.__traceback__)) if error.__traceback__ else []


def exception_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def fingerprint(kind: str, name: str, where: str, frames: list[traceback.FrameSummary]) -> str:
    """The exception's type and the project's own frames (file and function, not line numbers, so that an edit
    elsewhere in the file keeps the group); where it happened when no frame of ours is in the traceback."""
    own = [f"{_short(f.filename)}:{f.name}" for f in frames if _own(f.filename)]
    parts = [kind, name, *(own or [where])]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def format_traceback(name: str, message: str, frames: list[traceback.FrameSummary]) -> str:
    lines = ["Traceback (most recent call last):"]
    for f in frames:
        lines.append(f'  File "{_short(f.filename)}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {scrub(f.line.strip())}")
    lines.append(f"{name}: {message}" if message else name)
    return "\n".join(lines)


@functools.cache
def release() -> str:
    """``EMARGE_RELEASE``, else the checkout's commit, else the package's version."""
    if os.environ.get("EMARGE_RELEASE"):
        return os.environ["EMARGE_RELEASE"][:40]
    try:
        with open(os.path.join(ROOT, ".git", "HEAD")) as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            path = os.path.join(ROOT, ".git", ref)
            if os.path.exists(path):
                with open(path) as f:
                    return f.read().strip()[:12]
            with open(os.path.join(ROOT, ".git", "packed-refs")) as f:
                for line in f:
                    if line.strip().endswith(" " + ref):
                        return line.split()[0][:12]
        return head[:12]
    except OSError:
        pass
    try:
        from importlib.metadata import version

        return f"emarge {version('emarge')}"
    except Exception:
        return "unknown"


def new_reference() -> str:
    return secrets.token_hex(4).upper()


def capture(
    error: BaseException,
    *,
    kind: str,
    where: str,
    method: str | None = None,
    tenant_slug: str | None = None,
    user_id: int | None = None,
    headers: dict | None = None,
    now: datetime | None = None,
) -> str:
    """Keep ``error`` in its group and return the reference to show; never raises."""
    reference = new_reference()
    if getattr(_local, "capturing", False):
        return reference  # an error inside the capture itself: nothing loops
    _local.capturing = True
    try:
        name = exception_name(error)
        message = scrub(str(error))
        frames = frames_of(error)
        report = {
            "reference": reference,
            "occurred_at": now or utcnow(),
            "kind": kind,
            "where": (where or "?")[:300],
            "method": method,
            "tenant_slug": tenant_slug,
            "user_id": user_id,
            "release": release(),
            "message": message,
            "traceback": format_traceback(name, message, frames),
            "headers": json.dumps({k: str(v)[:200] for k, v in (headers or {}).items() if k in HEADERS}),
        }
        key = fingerprint(kind, name, report["where"], frames)
        # The log says that it happened and where, scrubbed like the report (never the raw message).
        logger.error("error %s in %s %s: %s: %s", reference, kind, report["where"], name, message[:300])
        try:
            try:
                _store(key, name, report)
            except IntegrityError:  # the same new group, written by another process meanwhile
                _store(key, name, report)
        except Exception as failure:
            logger.error(
                "error report %s could not be stored (%s: %s); the report: %s",
                reference,
                type(failure).__name__,
                scrub(str(failure))[:300],
                json.dumps({**report, "occurred_at": report["occurred_at"].isoformat()}),
            )
        return reference
    except Exception:
        logger.exception("the error capture failed on reference %s", reference)
        return reference
    finally:
        _local.capturing = False


def _store(key: str, name: str, report: dict) -> None:
    groups, reports = ErrorGroup.__table__, ErrorReport.__table__
    at = report["occurred_at"]
    with db.engine.begin() as connection:
        bind_schema(connection, None)
        group_id = connection.scalar(select(groups.c.id).where(groups.c.fingerprint == key))
        if group_id is None:
            group_id = connection.execute(
                groups.insert().values(
                    fingerprint=key,
                    kind=report["kind"],
                    exception=name[:200],
                    where=report["where"],
                    message=report["message"],
                    count=1,
                    first_seen=at,
                    last_seen=at,
                )
            ).inserted_primary_key[0]
        else:
            connection.execute(
                update(groups)
                .where(groups.c.id == group_id)
                .values(
                    count=groups.c.count + 1,
                    last_seen=at,
                    message=report["message"],
                    resolved_at=None,
                    resolved_by=None,
                )
            )
        connection.execute(reports.insert().values(group_id=group_id, **report))


def capture_request(error: BaseException, **context) -> str:
    """The web floor's reporter of unhandled errors (``blueprints.web.errors.on_unhandled_error``)."""
    return capture(error, kind=REQUEST, **context)


def init_app(app) -> None:
    from blueprints.web.errors import on_unhandled_error

    on_unhandled_error(capture_request)

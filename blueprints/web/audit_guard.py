"""Every change is audited, by construction: a transaction that changes an organization's data commits only with
an audit event of an action its route (or job) declared.

Each state-changing route and job says what it writes with ``@writes("participant.created", ...)``, or why it
writes no audit event with ``@writes(none="...")`` (a sign-in, a consent proof that is its own record). At every
commit the guard compares what the transaction changed (rows added, changed or deleted, bulk statements
included) with the audit events it holds. A change without an event, or an event of an action the route did not
declare, or any write at all from a GET, is refused where ``AUDIT_GUARD`` is "raise" (the test suite), logged otherwise: a user's action is never
lost to a missing declaration in production. tests/architecture/test_audit.py walks every POST route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, g, has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event

from tenants import current_scope
from tenants.changes import changed_tables

logger = logging.getLogger(__name__)

AUDIT_TABLE = "audit_events"
# Rows that are records of their own, or the machinery's bookkeeping, not an organization's data: a message is
# its own log line; a login, a consent proof, an acknowledgement, a policy notice sent, a throttle count, a live
# counter, a task's progress bar, a receipt already applied, an audience figure; a half-day's live state (its
# room secret, made on first view: closing and signing it off are audited where they happen); a stored file,
# which is data only through the row that refers to it (an attendance, a document, the settings), tracked.
BOOKKEEPING = frozenset(
    {
        "messages",
        "dev_sms",
        "user_logins",
        "staff_logins",
        "throttle_counters",
        "slot_versions",
        "tasks",
        "sms_receipts",
        "consent_proofs",
        "audience_events",
        "audience_daily",
        "policy_acknowledgements",
        "policy_notifications",
        "slot_states",
        "blobs",
    }
)
_ACTIONS = "emarge_audited_actions"
# Requests that only read: they change no row at all (tests/architecture/test_reads.py walks them).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unaudited(RuntimeError):
    pass


def writes(*actions: str, none: str | None = None) -> Callable:
    """Declare the audit actions a route or a job writes; ``none``: why it writes none (it changes no data)."""
    if bool(actions) == bool(none):
        raise ValueError("declare the actions written, or none with the reason")

    def declare(func: Callable) -> Callable:
        func.audit_actions = frozenset(actions)
        func.audit_none = none
        return func

    return declare


def declaration(func: Callable | None):
    """``(actions, reason)`` declared on ``func`` (through its wrappers), or None when it declares nothing."""
    while func is not None:
        if hasattr(func, "audit_actions"):
            return func.audit_actions, func.audit_none
        func = getattr(func, "__wrapped__", None)
    return None


def _after_flush(session, flush_context) -> None:
    actions = [obj.action for obj in session.new if getattr(obj, "__tablename__", None) == AUDIT_TABLE]
    session.info.setdefault(_ACTIONS, []).extend(actions)


def _forget(session, *args) -> None:
    session.info.pop(_ACTIONS, None)


def _where() -> tuple[str, Callable | None]:
    # A request being dispatched (a test's request context for a fixture is not one: it runs no view).
    if has_request_context() and request.endpoint and g.get("emarge_dispatching"):
        return f"route {request.endpoint}", current_app.view_functions.get(request.endpoint)
    scope = current_scope()
    job = scope.job if scope else None
    if job is not None:
        return f"job {job.__module__}.{job.__name__}", job
    return "", None


def _reading() -> bool:
    """A GET (or HEAD) being dispatched: it reads, it never writes, bookkeeping included."""
    return has_request_context() and bool(g.get("emarge_dispatching")) and request.method in SAFE_METHODS


def _before_commit(session) -> None:
    # What the commit is about to flush counts too (the audit event is often the last thing added).
    session.flush()
    touched = changed_tables(session) - {AUDIT_TABLE}
    changed = touched - BOOKKEEPING
    actions = set(session.info.get(_ACTIONS, []))
    _forget(session)
    if not touched and not actions:
        return
    where, func = _where()
    if not where:
        return  # a command or a test fixture: the operator's own act
    declared = declaration(func)
    problem = None
    if _reading():
        problem = f"{where} is a {request.method}, yet it writes {sorted(touched | actions)}"
    elif not changed and not actions:
        return
    elif declared is None:
        problem = f"{where} changes {sorted(changed or actions)} but declares no audit action (@writes)"
    elif declared[1] is not None:
        if actions:
            problem = f"{where} declares it writes no audit event, yet wrote {sorted(actions)}"
    elif changed and not actions:
        problem = f"{where} changed {sorted(changed)} without an audit event"
    elif actions - declared[0]:
        problem = f"{where} wrote undeclared audit action(s) {sorted(actions - declared[0])}"
    if problem is None:
        return
    if current_app.config.get("AUDIT_GUARD") == "raise":
        raise Unaudited(problem)
    logger.error("audit guard: %s", problem)


def _dispatching() -> None:
    g.emarge_dispatching = True


def init_app(app: Flask) -> None:
    app.config.setdefault("AUDIT_GUARD", "log")
    app.before_request(_dispatching)
    if not event.contains(FlaskSession, "after_flush", _after_flush):
        event.listen(FlaskSession, "after_flush", _after_flush)
        event.listen(FlaskSession, "before_commit", _before_commit)
        event.listen(FlaskSession, "after_soft_rollback", _forget)

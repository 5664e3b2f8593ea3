"""Which tables a session's transaction changed, kept until it ends: rows the ORM flushes and bulk statements
(``session.execute(update(...))``) alike.

Two readers: the audit guard (``blueprints/web/audit_guard.py``) compares them with the audit events before the
commit; the per-process copies of platform rows (``tenants/lookups.py``) learn after the commit that theirs
are stale. A statement whose effect only its caller knows (an insert that may insert nothing) carries
``NOTED_BY_CALLER`` and the caller calls ``note_change`` when it did change something.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event

CHANGED_TABLES = "emarge_changed_tables"
NOTED_BY_CALLER = "emarge_noted_by_caller"

# (tables, callback): called with the session's changed tables once a transaction that touched any commits
# (any table at all for None).
_WATCHERS: list[tuple[frozenset[str] | None, Callable[[set[str]], None]]] = []


def note_change(session, *tables: str) -> None:
    session.info.setdefault(CHANGED_TABLES, set()).update(tables)


def changed_tables(session) -> set[str]:
    return set(session.info.get(CHANGED_TABLES, ()))


def after_commit_of(tables, callback: Callable[[set[str]], None]) -> None:
    """Call ``callback(changed)`` after every commit that changed one of ``tables`` (None: any table), never
    on a rollback."""
    _WATCHERS.append((None if tables is None else frozenset(tables), callback))


@event.listens_for(FlaskSession, "after_flush")
def _after_flush(session, flush_context) -> None:
    tables = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table and (obj not in session.dirty or session.is_modified(obj)):
            tables.add(table)
    note_change(session, *tables)


@event.listens_for(FlaskSession, "do_orm_execute")
def _orm_execute(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if not name or state.execution_options.get(NOTED_BY_CALLER):
        return None
    if state.is_insert:
        note_change(state.session, name)
        return None
    # An UPDATE or DELETE that matched no row changed nothing (a submit that lost a race, say).
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:
        note_change(state.session, name)
    return result


@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session) -> None:
    changed = session.info.pop(CHANGED_TABLES, None)
    if not changed:
        return
    for tables, callback in _WATCHERS:
        if tables is None or tables & changed:
            callback(changed)


@event.listens_for(FlaskSession, "after_soft_rollback")
def _forget(session, previous_transaction) -> None:
    session.info.pop(CHANGED_TABLES, None)

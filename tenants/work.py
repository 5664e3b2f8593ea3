"""Which tenants have periodic work due: the platform's index that the minute's passes read.

An area declares a kind of work (``declare``): the tenant tables whose changes may move it, and a function that
gives, from a session bound to one tenant and a moment, when that tenant next has such work (None: nothing
ahead). The passes (``jobs/fanout.py``) read ``tenant_work`` for the tenants whose moment has come and hand each
one small job: an idle tenant costs nothing, not even an ATTACH on SQLite.

The index is written after the tenant's transaction commits, on connections of its own, never inside it (a
tenant may live on another database node than the platform). Two kinds of writes:

- ``note``, after a commit that changed a kind's tables: the moment can only come forward (a new row, or the
  earlier of the two). Racing commits cannot lose work; at worst a tenant runs once for nothing.
- ``settle``, by the tenant's own job after its run and by the hourly reconcile: the exact moment, or no row,
  unless a commit noted one after the settling read began (that commit knows rows the read did not see).

A write lost between a commit and its note (a crash, the database briefly away) is repaired by the hourly
reconcile (``jobs.fanout.reconcile``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, select
from sqlalchemy.orm import Session

from tenants.changes import after_commit_of
from tenants.db import bind_schema, db, utcnow
from tenants.models import ACTIVE, Tenant, TenantRef, TenantWork
from tenants.scope import current_tenant
from tenants.sql import dialect_insert

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    name: str
    tables: frozenset[str]
    due: Callable[[Session, datetime], datetime | None]


KINDS: dict[str, Kind] = {}


def declare(name: str, tables: Iterable[str], due: Callable[[Session, datetime], datetime | None]) -> str:
    """A kind of periodic work: ``due(session, now)`` is when a tenant next has some (None: nothing ahead)."""
    KINDS[name] = Kind(name, frozenset(tables), due)
    return name


def next_due(tenant: TenantRef, names: Iterable[str], now: datetime) -> dict[str, datetime | None]:
    """Each kind's next moment in ``tenant``, read on a connection of its own."""
    with db.engine.connect() as connection:
        bind_schema(connection, tenant.schema)
        with Session(bind=connection) as session:
            return {name: KINDS[name].due(session, now) for name in names}


def _write(tenant_id: int, moments: dict[str, datetime | None], noted_at: datetime, *, exact: bool) -> None:
    table = TenantWork.__table__
    with db.engine.begin() as connection:
        bind_schema(connection, None)
        insert = dialect_insert(connection.dialect.name)
        for kind, due in moments.items():
            mine = (table.c.tenant_id == tenant_id) & (table.c.kind == kind)
            if due is None:
                if exact:
                    connection.execute(delete(table).where(mine, table.c.noted_at <= noted_at))
                continue
            statement = insert(table).values(tenant_id=tenant_id, kind=kind, due_at=due, noted_at=noted_at)
            if exact:
                statement = statement.on_conflict_do_update(
                    index_elements=["tenant_id", "kind"],
                    set_={"due_at": statement.excluded.due_at, "noted_at": statement.excluded.noted_at},
                    where=table.c.noted_at <= statement.excluded.noted_at,
                )
            else:
                earlier = case(
                    (table.c.due_at <= statement.excluded.due_at, table.c.due_at),
                    else_=statement.excluded.due_at,
                )
                later = case(
                    (table.c.noted_at >= statement.excluded.noted_at, table.c.noted_at),
                    else_=statement.excluded.noted_at,
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["tenant_id", "kind"], set_={"due_at": earlier, "noted_at": later}
                )
            connection.execute(statement)


def note(tenant: TenantRef, names: Iterable[str]) -> None:
    """After a commit of ``tenant`` that may have moved ``names``: bring their moments forward if need be."""
    now = utcnow()
    _write(tenant.id, next_due(tenant, names, now), now, exact=False)


def settle(tenant: TenantRef, names: Iterable[str] | None = None, *, now: datetime | None = None) -> dict:
    """Write the exact next moment of ``names`` (all kinds by default) for ``tenant``; returns them."""
    started = utcnow()
    moments = next_due(tenant, KINDS if names is None else names, now or started)
    _write(tenant.id, moments, started, exact=True)
    return moments


def due_tenants(kind: str, now: datetime | None = None) -> list[int]:
    """The active tenants whose ``kind`` of work is due at ``now``, soonest first."""
    table = TenantWork.__table__
    with db.engine.connect() as connection:
        bind_schema(connection, None)
        return list(
            connection.scalars(
                select(table.c.tenant_id)
                .join(Tenant.__table__, Tenant.__table__.c.id == table.c.tenant_id)
                .where(table.c.kind == kind, table.c.due_at <= (now or utcnow()))
                .where(Tenant.__table__.c.status == ACTIVE)
                .order_by(table.c.due_at, table.c.tenant_id)
            )
        )


def _committed(changed: set[str]) -> None:
    tenant = current_tenant()
    if tenant is None:
        return
    names = [kind.name for kind in KINDS.values() if kind.tables & changed]
    if not names:
        return
    try:
        note(tenant, names)
    except Exception:
        # The tenant's change is committed; the hourly reconcile writes what this could not.
        logger.warning("work index not updated for %s (%s)", tenant.slug, ", ".join(names), exc_info=True)


after_commit_of(None, _committed)

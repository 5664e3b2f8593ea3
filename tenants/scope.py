"""The scope: for which organization, as whom, in which language and timezone, and by which clock work is done.

A view, a job and a CLI command enter a scope the same way (``entered``); services are handed what they need of
it (the tenant, the actor, the language) as arguments. The scope lives in the application context and is read
here only: every session transaction begun under it is bound to the tenant's schema (``tenants/db.py``), so
tenant scoping stays automatic and fails closed (no scope: no tenant table can be reached).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import Flask, current_app, g, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, select

from tenants.db import bind_schema, utcnow
from tenants.db import db as sqla
from tenants.lookups import cached, family
from tenants.models import TENANT_ID, Tenant, TenantRef

USER = "user"
STAFF = "staff"
TRAINEE = "trainee"
SYSTEM = "system"

_KEY = "_emarge_scope"


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where. Built by the view (from the request) or the job, handed to services."""

    kind: str
    label: str
    user_id: int | None = None
    staff_id: int | None = None
    participant_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    language: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=SYSTEM, label=label)

    @classmethod
    def for_user(cls, user, **where) -> Actor:
        return cls(kind=USER, label=user.email, user_id=user.id, **where)

    def as_user(self, user) -> Actor:
        """The same origin, now known as ``user`` (after a login, a password reset)."""
        return replace(self, kind=USER if self.kind != STAFF else STAFF, label=user.email, user_id=user.id)


@dataclass(frozen=True)
class Scope:
    """Plain values, safe across sessions and threads. ``language``/``timezone`` None: the tenant's."""

    tenant: TenantRef | None
    actor: Actor = field(default_factory=Actor.system)
    language: str | None = None
    timezone: str | None = None
    clock: Callable[[], datetime] = utcnow
    # The job this scope runs (its audit declaration is the one checked), None for a request or a command.
    job: Callable | None = None

    def now(self) -> datetime:
        return self.clock()

    @property
    def tenant_timezone(self) -> str | None:
        return self.timezone or (self.tenant.timezone if self.tenant else None)


def current_scope() -> Scope | None:
    """The scope entered for this request, job or command; None outside any."""
    if not has_app_context():
        return None
    return g.get(_KEY)


def current_tenant() -> TenantRef | None:
    scope = current_scope()
    return scope.tenant if scope else None


def set_scope(scope: Scope | None) -> None:
    """Enter ``scope`` in the current app context (a request's, once its tenant is known from the URL)."""
    if scope is None:
        g.pop(_KEY, None)
    else:
        setattr(g, _KEY, scope)


def refine_scope(**changes) -> Scope | None:
    """The request's scope with what became known later (the signed-in actor, the trainee's language)."""
    scope = current_scope()
    if scope is not None:
        scope = replace(scope, **changes)
        set_scope(scope)
    return scope


@event.listens_for(FlaskSession, "after_begin")
def _scope_session_connection(session, transaction, connection):
    # Only the request/job session follows the scope; a Session bound by hand to a connection keeps the
    # schema its owner gave that connection (provisioning, migrations).
    tenant = current_tenant()
    bind_schema(connection, tenant.schema if tenant else None)
    # Flush hooks that keep platform rows about the tenant (the account emails) read its id here.
    session.info[TENANT_ID] = tenant.id if tenant else None


@contextmanager
def entered(scope: Scope, app: Flask | None = None) -> Iterator[Scope]:
    """Work in ``scope`` until the block ends: a fresh app context, so a session of its own bound to the
    tenant's schema; leaving it closes that session, and the outer scope, if any, is untouched."""
    app = app or current_app._get_current_object()
    with app.app_context():
        set_scope(scope)
        yield scope


def find_tenant(*, slug: str | None = None, tenant_id: int | None = None) -> TenantRef | None:
    """Look a tenant up on a connection of its own, so no session is bound before the tenant is known."""
    table = Tenant.__table__
    where = table.c.slug == slug if slug is not None else table.c.id == tenant_id
    with sqla.engine.connect() as connection:
        bind_schema(connection, None)
        row = connection.execute(select(table).where(where)).mappings().first()
    if row is None:
        return None
    return TenantRef(**{field: row[field] for field in TenantRef.__dataclass_fields__})


TENANT_ROWS = family("tenants", Tenant.__tablename__)


def request_tenant(slug: str) -> TenantRef | None:
    """The tenant a URL names, from this process's copy while it is current (``tenants/lookups.py``): a
    request costs no query for it, and a suspension is seen at the next request."""
    return cached(TENANT_ROWS, slug, lambda: find_tenant(slug=slug), keep_none=False)


def all_tenants(*, active_only: bool = True) -> list[TenantRef]:
    table = Tenant.__table__
    query = select(table).order_by(table.c.id)
    if active_only:
        query = query.where(table.c.status == "active")
    with sqla.engine.connect() as connection:
        bind_schema(connection, None)
        rows = connection.execute(query).mappings().all()
    return [TenantRef(**{f: row[f] for f in TenantRef.__dataclass_fields__}) for row in rows]


@contextmanager
def tenant_scope(
    tenant: TenantRef | int | str, app: Flask | None = None, *, actor: Actor | None = None, job=None
) -> Iterator[TenantRef]:
    """Work as ``tenant`` (a ref, an id or a slug), for ``actor`` (the system by default), until the block ends."""
    app = app or current_app._get_current_object()
    if not isinstance(tenant, TenantRef):
        with app.app_context():
            ref = find_tenant(tenant_id=tenant) if isinstance(tenant, int) else find_tenant(slug=tenant)
        if ref is None:
            raise LookupError(f"no tenant {tenant!r}")
        tenant = ref
    with entered(Scope(tenant, actor or Actor.system(), job=job), app):
        yield tenant

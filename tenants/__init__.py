"""Tenancy: which organization a request or a job works for, and the database scope that follows from it.

A request finds its tenant in the URL (``/<org>/...``); a job or a CLI command enters ``tenant_scope``. Either
way the tenant sits in ``g.tenant`` and every session transaction begun under it is bound to its schema, so no
handler has to remember to scope anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, abort, current_app, g, has_app_context
from sqlalchemy import select

from tenants.db import bind_schema, current_tenant
from tenants.db import db as sqla
from tenants.models import Tenant, TenantRef

__all__ = ["current_tenant", "find_tenant", "init_app", "tenant_scope", "TenantRef"]

URL_ARG = "org"


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
def tenant_scope(tenant: TenantRef | int | str, app: Flask | None = None) -> Iterator[TenantRef]:
    """Work as ``tenant`` (a ref, an id or a slug) until the block ends, then return to the previous scope.

    A fresh application context gives the block its own session, bound to the tenant's schema; leaving it
    closes that session and the outer one, if any, is untouched.
    """
    app = app or current_app._get_current_object()
    with app.app_context():
        if isinstance(tenant, TenantRef):
            ref = tenant
        else:
            ref = find_tenant(tenant_id=tenant) if isinstance(tenant, int) else find_tenant(slug=tenant)
            if ref is None:
                raise LookupError(f"no tenant {tenant!r}")
        g.tenant = ref
        yield ref


def _pull_tenant(endpoint, values):
    if not values or URL_ARG not in values:
        return
    slug = values.pop(URL_ARG)
    if "tenant" not in g or g.tenant.slug != slug:
        ref = find_tenant(slug=slug)
        if ref is None or not ref.active:
            abort(404)
        g.tenant = ref


def _push_tenant(endpoint, values):
    if URL_ARG in values or not has_app_context():
        return
    tenant = g.get("tenant")
    if tenant is not None and current_app.url_map.is_endpoint_expecting(endpoint, URL_ARG):
        values[URL_ARG] = tenant.slug


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_pull_tenant)
    app.url_defaults(_push_tenant)
    from tenants import cli

    app.cli.add_command(cli.tenants_cli)
    app.cli.add_command(cli.platform_cli)

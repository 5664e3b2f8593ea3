"""Tenancy: which organization a request or a job works for, and the database scope that follows from it.

A request finds its tenant in the URL (``/<org>/...``) and enters its scope; a job or a CLI command enters one
with ``tenant_scope`` (``tenants/scope.py``). Every session transaction begun under a scope is bound to its
tenant's schema, so no handler has to remember to scope anything.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, has_app_context

from tenants import (
    changes,  # noqa: F401 - its listeners track what every transaction changes
    lookups,
    work,  # noqa: E402, F401 - its listener keeps the work index in step with commits
)
from tenants.models import TenantRef
from tenants.scope import (
    Actor,
    Scope,
    all_tenants,
    current_scope,
    current_tenant,
    entered,
    find_tenant,
    refine_scope,
    request_tenant,
    set_scope,
    tenant_scope,
)

__all__ = [
    "Actor",
    "Scope",
    "TenantRef",
    "all_tenants",
    "current_scope",
    "current_tenant",
    "entered",
    "find_tenant",
    "init_app",
    "refine_scope",
    "tenant_scope",
]

URL_ARG = "org"


def _pull_tenant(endpoint, values):
    if not values or URL_ARG not in values:
        return
    slug = values.pop(URL_ARG)
    tenant = current_tenant()
    if tenant is None or tenant.slug != slug:
        ref = request_tenant(slug)
        if ref is None or not ref.active:
            abort(404)
        set_scope(Scope(ref))


def _push_tenant(endpoint, values):
    if URL_ARG in values or not has_app_context():
        return
    tenant = current_tenant()
    if tenant is not None and current_app.url_map.is_endpoint_expecting(endpoint, URL_ARG):
        values[URL_ARG] = tenant.slug


def init_app(app: Flask) -> None:
    lookups.init_app(app)
    app.url_value_preprocessor(_pull_tenant)
    app.url_defaults(_push_tenant)
    from tenants import cli

    app.cli.add_command(cli.tenants_cli)
    app.cli.add_command(cli.platform_cli)

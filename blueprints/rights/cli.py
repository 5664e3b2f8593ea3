"""``flask privacy replay-erasures``: after a database restore, every erasure of the ledger is applied again,
before the app serves (the README's restore procedure says so)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from blueprints.rights import erasure
from tenants import all_tenants, tenant_scope
from tenants.db import db


@click.group("privacy")
def privacy_cli():
    """Personal-data operations."""


@privacy_cli.command("replay-erasures")
@with_appcontext
def replay_erasures():
    """Apply again every erasure of the ledger (ERASURE_LEDGER_URL) to the organizations' data."""
    total = organizations = 0
    for ref in all_tenants(active_only=False):
        with tenant_scope(ref):
            applied = erasure.replay(ref)
            db.session.commit()
        total += applied
        organizations += bool(applied)
    click.echo(f"{total} erasure(s) applied again in {organizations} organization(s).")

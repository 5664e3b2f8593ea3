"""Operators' commands: ``flask platform upgrade`` and ``flask tenants list|create|drop|migrate``."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from tenants.db import db
from tenants.migrate import migrate_tenants, upgrade_platform
from tenants.provisioning import NewTenant, ProvisioningError, drop, provision
from tenants.schema import run_seeds
from tenants.scope import all_tenants, find_tenant

tenants_cli = AppGroup("tenants", help="Create, list, drop and migrate tenants.")
platform_cli = AppGroup("platform", help="The shared platform schema.")


@platform_cli.command("upgrade")
def platform_upgrade():
    """Bring the platform schema to the latest migration."""
    with db.engine.begin() as connection:
        upgrade_platform(connection)
    run_seeds("platform", db.session)
    db.session.commit()
    click.echo("platform schema at head")


@tenants_cli.command("list")
def list_tenants():
    for t in all_tenants(active_only=False):
        click.echo(f"{t.id}\t{t.slug}\t{t.schema}\t{t.status}\t{t.name}")


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--language", default="fr", type=click.Choice(["fr", "en"]))
def create(slug: str, name: str, language: str):
    """Create an empty tenant (no user: invite one, or use sign-up)."""
    try:
        ref = provision(NewTenant(slug=slug, name=name, language=language))
    except ProvisioningError as error:
        raise click.ClickException(f"cannot create {slug}: {error}") from error
    click.echo(f"created {ref.slug} ({ref.schema})")


@tenants_cli.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def drop_tenant(slug: str, yes: bool):
    """Delete a tenant and all its data."""
    ref = find_tenant(slug=slug)
    if ref is None:
        raise click.ClickException(f"no tenant {slug}")
    if not yes:
        click.confirm(f"Delete {slug} and all its data?", abort=True)
    drop(ref)
    click.echo(f"dropped {slug}")


@tenants_cli.command("migrate")
@click.option(
    "--jobs", "-j", type=int, default=None, help="Tenants migrated at once (default MIGRATE_JOBS, 4)."
)
def migrate(jobs: int | None):
    """Upgrade every tenant schema not at head; stop at the first failure and name it."""
    started = time.perf_counter()
    report = migrate_tenants(all_tenants(active_only=False), jobs=jobs or current_app.config["MIGRATE_JOBS"])
    elapsed = time.perf_counter() - started
    click.echo(f"{report.at_head} already at head, {len(report.upgraded)} upgraded in {elapsed:.2f} s")
    if report.failed:
        click.echo(f"FAILED on tenant {report.failed}: {report.error}", err=True)
        click.echo(f"not started: {len(report.not_started)} tenant(s), left as they were", err=True)
        sys.exit(1)


@tenants_cli.command("draft-migration")
@click.argument("kind", type=click.Choice(["platform", "tenant"]))
@click.option("-m", "--message", required=True)
@click.option(
    "--scratch-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/emarge_scratch", show_default=True
)
def draft(kind: str, message: str, scratch_url: str):
    """Developers: write a migration for model changes (needs a scratch PostgreSQL database)."""
    from tenants.migrate import draft_migration

    draft_migration(kind, message, scratch_url)

"""``flask demo``: the demo organization, and in development the demo staff, with the logins to use."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from blueprints.demo.seed import PEOPLE, SLUG, ensure_demo
from blueprints.demo.support import DEMO_STAFF, ensure_demo_staff
from jobs.statistics import count_tenant, store
from tenants import current_tenant, tenant_scope


@click.command("demo")
@with_appcontext
def demo_command():
    """Create the demo organization once and print where to log in."""
    created = ensure_demo()
    _settle()
    with tenant_scope(SLUG):  # the staff directory's figures, before the hourly job first counts them
        store(current_tenant().id, count_tenant())
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo("")
    click.echo("Demo organization created." if created else "Demo organization ready.")
    click.echo(f"  Open      {base}/{SLUG}/login")
    for email, _first, _last, role, password in PEOPLE:
        click.echo(f"  {role:<12}{email}  /  {password}")
    if current_app.config["EMARGE_ENV"] != "production":
        ensure_demo_staff()
        _settle()
        click.echo(f"  Staff     {base}/staff/login  (authenticator secrets: development only)")
        for person in DEMO_STAFF:
            click.echo(f"  {person['role']:<15}{person['email']}  /  {person['password']}")
            click.echo(f"              authenticator secret {person['secret']}")
    click.echo("")


def _settle() -> None:
    """Let the embedded job thread send what the demo queued (its emails) before writing more: on SQLite, one
    file per organization takes one writer at a time. With Redis the workers do it, and nothing waits here."""
    drain = getattr(current_app.extensions.get("emarge.jobs"), "drain", None)
    if drain is not None:
        drain(timeout=120)

"""The retention engine, daily (once per day whatever the number of workers: the schedule's Redis key per
period): one small job per organization due to be dropped, and the warnings to admins 30 and 7 days before
the 3 years after their end of service. ``flask retention run --dry-run`` lists the same without doing it."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from flask.cli import with_appcontext

from blueprints.web.audit_guard import writes
from jobs import MAINTENANCE, enqueue, platform_job
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)


@platform_job
@writes(none="hands each organization due to its own job; writes nothing itself")
def run_retention(now: str | None = None) -> dict:
    from blueprints.settings import retirement
    from blueprints.staff.notices import notify_admins

    moment = datetime.fromisoformat(now) if now else utcnow()
    due = retirement.plan(moment)
    db.session.commit()
    for ref, _ in due.drops:
        enqueue("jobs.retention.retire_organization", ref.id, moment.isoformat(), queue=MAINTENANCE)
    for ref, days, drop_at in due.warnings:
        notify_admins(ref.id, retirement.warning_notice(days), days=days, due=drop_at.isoformat())
    return {"drops": len(due.drops), "warnings": len(due.warnings)}


@platform_job
@writes(
    none="retention: drops one organization whose period is over (its billing record and verification index stay)"
)
def retire_organization(tenant_id: int, now: str | None = None) -> bool:
    """Drop one organization, if it is still due (two runs, or an undo in between, change nothing)."""
    from blueprints.settings import retirement
    from tenants.models import DELETED, Tenant

    moment = datetime.fromisoformat(now) if now else utcnow()
    row = db.session.get(Tenant, tenant_id)
    due = retirement.drop_due_at(row) if row is not None and row.status != DELETED else None
    if due is None or due > moment:
        db.session.commit()
        return False
    ref = row.ref()
    db.session.commit()
    retirement.retire(ref, moment)
    logger.info("organization %s dropped: its retention period is over", ref.slug)
    return True


@click.group("retention")
def retention_cli():
    """The retention engine."""


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="List what would be dropped and warned; change nothing.")
@with_appcontext
def run(dry_run: bool):
    from blueprints.settings import retirement

    due = retirement.plan()
    db.session.commit()
    for ref, moment in due.drops:
        click.echo(f"drop    {ref.slug}  (due {moment:%Y-%m-%d %H:%M} UTC)")
    for ref, days, moment in due.warnings:
        click.echo(f"warn    {ref.slug}  ({days} days before {moment:%Y-%m-%d})")
    if dry_run:
        click.echo(f"Dry run: {len(due.drops)} organization(s) would be dropped, {len(due.warnings)} warned.")
        return
    for ref, _ in due.drops:
        retire_organization(ref.id)
    click.echo(f"{len(due.drops)} organization(s) dropped.")

"""Periodic work in proportion to work: the passes hand each tenant that has something to do a small job.

Two ways to fan out, and every periodic job that concerns tenants goes through one of them:

- ``fan_out(kind)``, each minute: the tenants whose ``kind`` of work is due according to the platform's index
  (``tenants/work.py``) get one job each. An idle tenant costs nothing: its schema is never opened.
- ``every_tenant(job)``, hourly or daily (retention, certificates): every active tenant, in jobs of
  ``CHUNK`` tenants, one tenant's trouble never stopping the others'.

The hourly reconcile is ``every_tenant("jobs.fanout.settle_work")``: every tenant's exact moments written
again, repairing an index write that was lost.
"""

from __future__ import annotations

import logging
from collections import Counter

from blueprints.messages.reminders import REMINDERS
from blueprints.messages.services import MESSAGE_REPAIRS
from blueprints.tasks.services import TASK_CHECKS
from blueprints.web.audit_guard import writes
from jobs import MAINTENANCE, MESSAGING, JobCall, dispatch, platform_job, resolve, tenant_job, while_closed
from tenants import all_tenants, current_tenant, work
from tenants.db import parse_moment

logger = logging.getLogger(__name__)

# kind of work → (the tenant job that does it, its queue)
MINUTE_WORK = {
    MESSAGE_REPAIRS: ("jobs.messages.sweep_tenant_messages", MESSAGING),
    TASK_CHECKS: ("jobs.tasks.sweep_tenant_tasks", MAINTENANCE),
    REMINDERS: ("jobs.reminders.send_tenant_reminders", MESSAGING),
}
CHUNK = 100  # tenants per job of an every-tenant pass


@platform_job
@writes(none="hands each tenant with work due to its job")
def fan_out(kind: str, now: str | None = None) -> int:
    """One job for each active tenant whose ``kind`` of work is due at ``now`` (ISO 8601, UTC; default: the
    present, which the job is then left to read itself). Returns how many tenants were handed out."""
    job, queue = MINUTE_WORK[kind]
    moment = parse_moment(now) if now else None
    due = work.due_tenants(kind, moment)
    for tenant_id in due:
        dispatch(JobCall(job, (tenant_id, now) if now else (tenant_id,), queue))
    return len(due)


@platform_job
@writes(none="hands every tenant, in chunks, to a periodic job")
def every_tenant(job: str, queue: str = MAINTENANCE) -> int:
    """``job`` (a tenant job's dotted path) for every active tenant, ``CHUNK`` tenants per job."""
    ids = [tenant.id for tenant in all_tenants()]
    for start in range(0, len(ids), CHUNK):
        dispatch(JobCall("jobs.fanout.run_for_tenants", (job, ids[start : start + CHUNK]), queue))
    return len(ids)


@platform_job
@writes(none="runs a tenant job for each tenant of a chunk")
def run_for_tenants(job: str, tenant_ids: list[int]) -> dict:
    """Run the tenant job ``job`` for each of ``tenant_ids``; numeric results are added up."""
    run, totals = resolve(job), Counter()
    for tenant_id in tenant_ids:
        try:
            result = run(tenant_id)
        except Exception:
            # Logged with its tenant; the next pass tries again.
            logger.exception("%s failed for tenant %s", job, tenant_id)
            continue
        if isinstance(result, dict):
            totals.update({k: v for k, v in result.items() if isinstance(v, int)})
    return dict(totals)


@tenant_job
@while_closed
@writes(none="writes the tenant's moments in the platform's work index")
def settle_work() -> dict:
    """Every kind's exact next moment for the tenant in scope (the hourly reconcile)."""
    return {kind: moment is not None for kind, moment in work.settle(current_tenant()).items()}

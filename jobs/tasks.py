"""Tasks that never get stuck: every task ends done, or failed with a retry.

Two ways a task learns its job will not finish it:

- the failure hook (``jobs.on_job_failure``): a job that raised before it could report (the database was down
  when it started), or whose worker died under it (killed, out of memory), fails its task at once;
- the sweep, every minute, for what the hook could not write (the database was down then too) or never heard
  of: a task whose job never reached the job service is handed over again; one whose job the service lost
  (Redis restarted empty) is handed over again; one whose job failed, or that has not moved for
  ``RUNNING_STALE`` while no job of it runs, fails with a retry.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select, update

from blueprints.tasks.models import FAILED, QUEUED, RUNNING, Task
from blueprints.tasks.services import (
    EMBEDDED_LOST_AFTER,
    QUEUED_CHECK_AFTER,
    RUNNING_STALE,
    TASK_CHECKS,
    UNSENT_AFTER,
    hand_over,
)
from blueprints.web.audit_guard import writes
from jobs import SERIALIZER, JobFailure, on_job_failure, tenant_job
from tenants import current_tenant, find_tenant, tenant_scope, work
from tenants.db import db, parse_moment, utcnow

logger = logging.getLogger(__name__)

STOPPED = "the job stopped before it finished (its worker stopped or the database was unreachable)"


def fail_task(task_id: int, error: str) -> bool:
    """Mark the task failed (a person can retry it), unless it already finished."""
    changed = db.session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status.in_((QUEUED, RUNNING)))
        .values(status=FAILED, error=error[:2000], finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(changed)


@on_job_failure
def task_job_failed(failure: JobFailure) -> None:
    task_id, tenant_id = failure.meta.get("task_id"), failure.meta.get("tenant_id")
    if not task_id or not tenant_id:
        return
    ref = find_tenant(tenant_id=tenant_id)
    if ref is None:
        return
    with tenant_scope(ref):
        if fail_task(task_id, f"{STOPPED}: {failure.error}"):
            logger.warning("task %s of %s failed: %s", task_id, ref.slug, failure.error)
        db.session.commit()


def _job_state(redis, job_id: str | None) -> str | None:
    """The job's status in RQ, or None when RQ does not know it (lost, or never there)."""
    if redis is None or not job_id:
        return None
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(job_id, connection=redis, serializer=SERIALIZER).get_status()
    except NoSuchJobError:
        return None


@tenant_job
@writes(none="hands stuck tasks over again or marks them failed (the task is its own record)")
def sweep_tenant_tasks(now: str | None = None) -> dict:
    """When the work index says so (jobs/fanout.py): hand over again what the job service never took or lost,
    fail what will never finish, in the tenant in scope; then write the tenant's next moment."""
    from flask import current_app

    backend = current_app.extensions["emarge.jobs"]
    redis = getattr(backend, "redis", None) if getattr(backend, "url", None) else None
    tenant, now = current_tenant(), parse_moment(now)
    counts = {"handed_over": 0, "failed": 0}
    tasks = db.session.scalars(
        select(Task).where(
            Task.job.is_not(None),
            or_(
                (Task.status == QUEUED) & Task.enqueued_at.is_(None) & (Task.updated_at < now - UNSENT_AFTER),
                (Task.status == QUEUED) & (Task.enqueued_at < now - QUEUED_CHECK_AFTER),
                Task.status == RUNNING,
            ),
        )
    ).all()
    for task in tasks:
        state = _job_state(redis, task.job_id)
        if task.status == QUEUED and task.enqueued_at is None:
            hand_over(task, tenant.schema)
            counts["handed_over"] += 1
        elif state in ("failed", "stopped", "canceled"):
            counts["failed"] += fail_task(task.id, STOPPED)
        elif task.status == QUEUED and redis is not None and state is None:
            hand_over(task, tenant.schema)  # the job service lost it
            counts["handed_over"] += 1
        elif task.status == QUEUED and redis is None and task.enqueued_at < now - EMBEDDED_LOST_AFTER:
            hand_over(task, tenant.schema)  # the embedded runner lost it (a restart)
            counts["handed_over"] += 1
        elif task.status == RUNNING and task.updated_at < now - RUNNING_STALE and state != "started":
            counts["failed"] += fail_task(task.id, STOPPED)
    db.session.commit()
    work.settle(tenant, [TASK_CHECKS], now=now)
    return counts

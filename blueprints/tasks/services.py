"""Progress rows: a job reports, a page shows a bar that updates itself."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from blueprints.tasks.models import DONE, FAILED, QUEUED, RUNNING, Task
from jobs import enqueue
from tenants import TenantRef
from tenants.db import bind_schema, db, utcnow
from tenants.work import declare

# A task waiting this long for the job service to take its job is handed over again.
UNSENT_AFTER = timedelta(seconds=30)
# A task whose job the service took this long ago is checked against the service (lost? failed?); a running
# one, this long after it last moved.
QUEUED_CHECK_AFTER = timedelta(minutes=2)
# A running task that has not moved for this long, with no live job behind it, failed.
RUNNING_STALE = timedelta(minutes=15)
# Without Redis the jobs wait in the web process's memory: one still queued this long was lost with a restart.
EMBEDDED_LOST_AFTER = timedelta(minutes=10)


def next_check(session: Session, now: datetime) -> datetime | None:
    """When the task sweep (jobs.tasks.sweep_tenant_tasks) next has a task to look at: one the job service has
    not taken yet, one it took a while ago, one running that stopped moving."""
    unsent = (Task.status == QUEUED) & Task.enqueued_at.is_(None)
    moments = session.execute(
        select(
            func.min(case((unsent, Task.updated_at))),
            func.min(case(((Task.status == QUEUED) & Task.enqueued_at.is_not(None), Task.enqueued_at))),
            func.min(case((Task.status == RUNNING, Task.updated_at))),
        ).where(Task.job.is_not(None), Task.status.in_((QUEUED, RUNNING)))
    ).one()
    found = [
        moment + delay
        for moment, delay in zip(moments, (UNSENT_AFTER, QUEUED_CHECK_AFTER, QUEUED_CHECK_AFTER), strict=True)
        if moment is not None
    ]
    return min(found) if found else None


TASK_CHECKS = declare("task-checks", {Task.__tablename__}, next_check)


def start_task(kind: str, label: str, user_id: int | None) -> Task:
    task = Task(kind=kind, label=label, created_by_user_id=user_id)
    db.session.add(task)
    db.session.flush()
    return task


def launch(task: Task, func: str, *args, queue: str, tenant: TenantRef) -> None:
    """Run ``func(tenant id, task id, *args)`` for ``task`` of ``tenant`` once the caller commits.

    The job is kept on the task with an id of its own, so the sweep (jobs/tasks.py) can hand it over again
    while the job service was unreachable, and tell a lost or dead job from one still waiting its turn.
    """
    task.job = {"func": func, "args": [tenant.id, task.id, *args], "queue": queue}
    hand_over(task, tenant.schema)


def hand_over(task: Task, schema: str) -> None:
    """Enqueue the task's job again (a retry, or the sweep): a new job id, the bar back to "waiting"."""
    task.status, task.done, task.error, task.finished_at, task.enqueued_at = QUEUED, 0, None, None, None
    task.updated_at = utcnow()
    task.job_id = f"task-{schema}-{task.id}-{secrets.token_hex(4)}"
    job = task.job
    enqueue(
        job["func"],
        *job["args"],
        queue=job["queue"],
        job_id=task.job_id,
        meta={"tenant_id": job["args"][0], "task_id": task.id},
        then=lambda handed, task_id=task.id, job_id=task.job_id: (
            handed and _mark_enqueued(schema, task_id, job_id)
        ),
    )


def _mark_enqueued(schema: str, task_id: int, job_id: str) -> None:
    with db.engine.begin() as connection:
        bind_schema(connection, schema)
        connection.execute(
            update(Task)
            .where(Task.id == task_id, Task.job_id == job_id, Task.enqueued_at.is_(None))
            .values(enqueued_at=utcnow())
        )


class Progress:
    """Written on a connection of its own, so the bar moves while the job's own transaction is still open."""

    def __init__(self, task_id: int, schema: str):
        self.task_id = task_id
        self.schema = schema

    def _write(self, **values) -> None:
        values["updated_at"] = utcnow()
        with db.engine.begin() as connection:
            bind_schema(connection, self.schema)
            connection.execute(update(Task).where(Task.id == self.task_id).values(**values))

    def update(self, done: int, total: int, message: str | None = None) -> None:
        self._write(status=RUNNING, done=done, total=total, message=message)

    def finish(self, result: dict | None = None, message: str | None = None) -> None:
        # Done means all of it, even where the last updates could not be written on the way (SQLite).
        self._write(status=DONE, done=Task.total, result=result or {}, message=message, finished_at=utcnow())

    def fail(self, error: str) -> None:
        self._write(status=FAILED, error=error[:2000], finished_at=utcnow())

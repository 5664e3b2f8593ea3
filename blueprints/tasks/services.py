"""Progress rows: a job reports, a page shows a bar that updates itself."""

from __future__ import annotations

from sqlalchemy import update

from blueprints.tasks.models import DONE, FAILED, RUNNING, Task
from tenants import current_tenant
from tenants.db import bind_schema, db, utcnow


def start_task(kind: str, label: str, user_id: int | None) -> Task:
    task = Task(kind=kind, label=label, created_by_user_id=user_id)
    db.session.add(task)
    db.session.flush()
    return task


class Progress:
    """Written on a connection of its own, so the bar moves while the job's own transaction is still open."""

    def __init__(self, task_id: int):
        self.task_id = task_id
        self.schema = current_tenant().schema

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

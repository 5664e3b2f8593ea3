"""Imports too big for a request: they report progress on their Task and run in one transaction."""

from __future__ import annotations

import logging

from blueprints.audit.services import Actor
from blueprints.tasks.models import Task
from blueprints.tasks.services import Progress
from blueprints.web.audit_guard import writes
from jobs import tenant_job
from tenants import current_tenant
from tenants.db import db
from tenants.storage import storage

logger = logging.getLogger(__name__)


@tenant_job
@writes(
    "enrollment.created",
    "participant.created",
    "participant.updated",
    "participants.imported",
    "signin_link.issued",
)
def import_participants(
    task_id: int,
    blob_key: str,
    mapping: dict,
    session_id: int | None,
    funder: str,
    actor: dict,
) -> None:
    task = db.session.get(Task, task_id)
    if task is None or task.finished:
        return  # run twice: the first run did it (or reported why not)
    db.session.commit()  # end the read, so the progress writes never meet an older snapshot (SQLite)
    # Messages (reasons of invalid lines) are translated: in the organization's language (the job's scope).
    _import(task_id, blob_key, mapping, session_id, funder, actor)


def _import(task_id, blob_key, mapping, session_id, funder, actor) -> None:
    from blueprints.participants import imports
    from blueprints.participants import services as participants_services
    from blueprints.trainings.models import TrainingSession

    progress = Progress(task_id, current_tenant().schema)
    try:
        found = storage().get(blob_key)
        if found is None:
            raise imports.ImportProblem("the uploaded file is gone")
        _meta, data = found
        parsed = imports.parse(data)
        checked = imports.check(parsed, {int(k): v for k, v in mapping.items()})
        db.session.commit()  # nothing written yet; the import below is one transaction of its own
        progress.update(0, len(checked.valid))
        session = db.session.get(TrainingSession, session_id) if session_id else None
        # SQLite has one writer per file: the bar cannot move while this transaction writes, so it jumps at
        # the end there. PostgreSQL shows every batch.
        live = db.session.get_bind().dialect.name != "sqlite"
        outcome = imports.run_import(
            checked.valid,
            Actor(**actor),
            session=session,
            funder=funder,
            skipped=len(checked.invalid),
            language=participants_services.default_language(current_tenant()),
            progress=progress.update if live else None,
        )
        storage().delete(blob_key)
        db.session.commit()
    except Exception as error:
        # Nothing of the import stays: the directory is as it was, and the Task says it failed.
        db.session.rollback()
        logger.exception("participants import %s failed", task_id)
        progress.fail(f"{type(error).__name__}: {error}")
        raise
    # The bar names a fragment that tells what was done (tasks/_task.html includes it).
    progress.finish(
        {**outcome.as_dict(), "summary_template": "participants/_import_summary.html"},
        message=f"{outcome.created}",
    )

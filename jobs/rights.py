"""Personal-data jobs: the export of one person's data (a ZIP in storage, left on its task and kept a week, as
every task's file), and the daily pass that anonymises evidence whose keeping period has ended."""

from __future__ import annotations

from collections.abc import Callable

from blueprints.accounts.models import User
from blueprints.participants.models import Participant
from blueprints.rights import export, holdings
from blueprints.shared.filenames import file_name
from blueprints.tasks.services import Progress
from blueprints.web.audit_guard import writes
from jobs import tenant_job, while_closed
from tenants import current_tenant
from tenants.db import db, utcnow
from tenants.storage import storage


def _export(task_id: int, person, build: Callable[[object], bytes], result: dict) -> None:
    progress = Progress(task_id, current_tenant().schema)
    try:
        if person is None:
            progress.fail("the person is no longer on file")
            return
        data = build(person)
        name = file_name(
            "personal_data",
            person.full_name,
            utcnow().date().isoformat(),
            extension="zip",
            language=current_tenant().language,
        )
        db.session.rollback()  # end the reading transaction before writing (SQLite: see jobs/exports.py)
        blob = storage().put(data, content_type="application/zip", filename=name)
        db.session.commit()
        progress.finish({"blob": blob.key, **result})
    except Exception as error:
        db.session.rollback()
        progress.fail(f"{type(error).__name__}: {error}")
        raise


@tenant_job
@while_closed
@writes(none="writes the export file of its task; the export was audited when it was asked for")
def export_person(task_id: int, participant_id: int) -> None:
    _export(
        task_id,
        db.session.get(Participant, participant_id),
        lambda p: export.build(holdings.of_participant(p), exported_at=utcnow()),
        {"participant_id": participant_id},
    )


@tenant_job
@while_closed
@writes(none="writes the export file of its task; the export was audited when it was asked for")
def export_user(task_id: int, user_id: int) -> None:
    _export(
        task_id,
        db.session.get(User, user_id),
        lambda u: export.build_user(holdings.of_user(u, current_tenant().id), exported_at=utcnow()),
        {},
    )


@tenant_job
@while_closed
@writes("participant.evidence_anonymised")
def anonymise_kept_evidence() -> int:
    """Daily: attendance evidence kept under a legal obligation whose date has passed is anonymised."""
    from zoneinfo import ZoneInfo

    from blueprints.rights import erasure

    today = utcnow().astimezone(ZoneInfo(current_tenant().timezone)).date()
    count = erasure.anonymise_expired(today)
    db.session.commit()
    return count

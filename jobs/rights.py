"""The export of one person's data: a ZIP in storage, left on its task (kept a week, as every task's file)."""

from __future__ import annotations

from blueprints.participants.models import Participant
from blueprints.rights import export, holdings
from blueprints.shared.filenames import file_name
from blueprints.tasks.services import Progress
from blueprints.web.audit_guard import writes
from jobs import tenant_job
from tenants import current_tenant
from tenants.db import db, utcnow
from tenants.storage import storage


@tenant_job
@writes(none="writes the export file of its task; the export was audited when it was asked for")
def export_person(task_id: int, participant_id: int) -> None:
    progress = Progress(task_id, current_tenant().schema)
    try:
        participant = db.session.get(Participant, participant_id)
        if participant is None:
            progress.fail("the person is no longer on file")
            return
        data = export.build(holdings.of_participant(participant), exported_at=utcnow())
        name = file_name(
            "personal_data",
            participant.full_name,
            utcnow().date().isoformat(),
            extension="zip",
            language=current_tenant().language,
        )
        db.session.rollback()  # end the reading transaction before writing (SQLite: see jobs/exports.py)
        blob = storage().put(data, content_type="application/zip", filename=name)
        db.session.commit()
        progress.finish({"blob": blob.key, "participant_id": participant_id})
    except Exception as error:
        db.session.rollback()
        progress.fail(f"{type(error).__name__}: {error}")
        raise


@tenant_job
@writes("participant.evidence_anonymised")
def anonymise_kept_evidence() -> int:
    """Daily: attendance evidence kept under a legal obligation whose date has passed is anonymised."""
    from zoneinfo import ZoneInfo

    from blueprints.rights import erasure

    today = utcnow().astimezone(ZoneInfo(current_tenant().timezone)).date()
    count = erasure.anonymise_expired(today)
    db.session.commit()
    return count


@tenant_job
@writes(none="writes the export file of its task; the export was audited when it was asked for")
def export_user(task_id: int, user_id: int) -> None:
    from blueprints.accounts.models import User

    progress = Progress(task_id, current_tenant().schema)
    try:
        user = db.session.get(User, user_id)
        if user is None:
            progress.fail("the user is no longer on file")
            return
        data = export.build_user(holdings.of_user(user, current_tenant().id), exported_at=utcnow())
        name = file_name(
            "personal_data",
            user.full_name,
            utcnow().date().isoformat(),
            extension="zip",
            language=current_tenant().language,
        )
        db.session.rollback()  # end the reading transaction before writing (SQLite: see jobs/exports.py)
        blob = storage().put(data, content_type="application/zip", filename=name)
        db.session.commit()
        progress.finish({"blob": blob.key})
    except Exception as error:
        db.session.rollback()
        progress.fail(f"{type(error).__name__}: {error}")
        raise

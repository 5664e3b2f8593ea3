"""The organization's full archive (blueprints/settings/archive.py), built with a progress bar and left on its
task: downloaded by admins for 7 days, then deleted like every task's file."""

from __future__ import annotations

from blueprints.settings import archive
from blueprints.shared.filenames import file_name
from blueprints.tasks.services import Progress
from blueprints.web.audit_guard import writes
from jobs import tenant_job, while_closed
from tenants import current_tenant
from tenants.db import db, utcnow
from tenants.storage import MAX_BLOB_BYTES, storage


@tenant_job
@while_closed
@writes(none="writes the archive file of its task; the archive was audited when it was asked for")
def build_archive(task_id: int) -> None:
    tenant = current_tenant()
    progress = Progress(task_id, tenant.schema)
    try:
        data = archive.build(organization=tenant.name, language=tenant.language, progress=progress.update)
        db.session.rollback()  # end the reading transaction before writing (SQLite: see jobs/exports.py)
        if len(data) > MAX_BLOB_BYTES:
            progress.fail(
                f"the archive is {len(data) // (1024 * 1024)} MB, more than the {MAX_BLOB_BYTES // (1024 * 1024)} MB "
                "a stored file may be"
            )
            return
        name = file_name(
            "archive", tenant.slug, utcnow().date().isoformat(), extension="zip", language=tenant.language
        )
        blob = storage().put(data, content_type="application/zip", filename=name)
        db.session.commit()
        progress.finish({"blob": blob.key})
    except Exception as error:
        db.session.rollback()
        progress.fail(f"{type(error).__name__}: {error}")
        raise

"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from jobs import platform_job
from tenants import all_tenants, tenant_scope
from tenants.db import db, utcnow


@platform_job
def purge_expired_tokens() -> None:
    """One-time links are kept a week past their expiry (to tell "expired" from "unknown"), then deleted."""
    from blueprints.accounts.models import AccountToken

    for tenant in all_tenants():
        with tenant_scope(tenant):
            db.session.execute(
                delete(AccountToken).where(AccountToken.expires_at < utcnow() - timedelta(days=7))
            )
            db.session.commit()


# A file a task made (an export) can be downloaded this long after the task finished, then it is deleted.
TASK_FILES_KEPT = timedelta(days=7)


@platform_job
def purge_stale_files() -> dict:
    """Delete the files nobody needs any more: CSV uploads of imports never confirmed (their preview link has
    expired) and the files exports made, a week after. Both hold personal data; neither is a record."""
    from blueprints.audit.models import AuditEvent
    from blueprints.participants.views import IMPORT_MAX_AGE
    from blueprints.tasks.models import Task
    from tenants.storage import Blob, storage

    counts = {"uploads": 0, "task_files": 0}
    now = utcnow()
    for tenant in all_tenants():
        with tenant_scope(tenant):
            # An upload is recorded when it is made; a confirmed import deletes its own file once imported.
            uploads = db.session.scalars(
                select(Blob.id)
                .join(AuditEvent, AuditEvent.object_id == Blob.id)
                .where(
                    AuditEvent.action == "participants.import_uploaded",
                    AuditEvent.object_type == "blobs",
                    AuditEvent.occurred_at < now - timedelta(seconds=IMPORT_MAX_AGE) - timedelta(hours=1),
                )
            ).all()
            for blob_id in uploads:
                storage().delete(str(blob_id))
            counts["uploads"] += len(uploads)
            finished = db.session.scalars(select(Task).where(Task.finished_at < now - TASK_FILES_KEPT)).all()
            for task in finished:
                key = (task.result or {}).get("blob")
                if key:
                    storage().delete(key)
                    task.result = {**task.result, "blob": None, "file_deleted": True}
                    counts["task_files"] += 1
            db.session.commit()
    return counts

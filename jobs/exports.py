"""Exports that take a while: they report progress and leave a file in storage."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from blueprints.audit.models import AuditEvent
from blueprints.shared.cells import safe_cell
from blueprints.shared.filenames import file_name
from blueprints.tasks.services import Progress
from blueprints.web.audit_guard import writes
from jobs import tenant_job
from tenants import current_tenant
from tenants.db import db, utcnow
from tenants.storage import storage

BATCH = 500


@tenant_job
@writes(none="writes the export file of its task; the export was audited when it was asked for")
def export_audit(task_id: int) -> None:
    progress = Progress(task_id, current_tenant().schema)
    try:
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "id",
                "occurred_at_utc",
                "actor_kind",
                "actor",
                "action",
                "object_type",
                "object_id",
                "ip",
                "user_agent",
                "language",
                "details",
            ]
        )
        done, last_id = 0, 0
        while True:
            rows = db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(BATCH)
            ).all()
            if not rows:
                break
            for e in rows:
                writer.writerow(
                    [
                        safe_cell(v)
                        for v in (
                            e.id,
                            e.occurred_at.isoformat(),
                            e.actor_kind,
                            e.actor_label,
                            e.action,
                            e.object_type,
                            e.object_id,
                            e.ip,
                            e.user_agent,
                            e.language,
                            e.details,
                        )
                    ]
                )
            done += len(rows)
            last_id = rows[-1].id
            progress.update(done, total)
        # End the reading transaction before writing: on SQLite a read snapshot cannot become a write once
        # another connection (Progress) has written to the file ("database is locked", whatever the timeout).
        db.session.rollback()
        blob = storage().put(
            out.getvalue().encode("utf-8-sig"),
            content_type="text/csv",
            filename=file_name(
                "audit", utcnow().date().isoformat(), extension="csv", language=current_tenant().language
            ),
        )
        db.session.commit()
        progress.finish({"blob": blob.key}, message=f"{done}")
    except Exception as error:
        db.session.rollback()
        progress.fail(f"{type(error).__name__}: {error}")
        raise

"""A person's data as one ZIP: ``data.json`` (everything, machine-readable, for portability), the same as CSV
files a spreadsheet opens, their signature images and the documents issued to them. Built from the holdings
(``holdings.py``): only rows that name them, nothing of anyone else."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from blueprints.audit.services import record
from blueprints.rights.holdings import EXPORT_KIND, Holdings
from blueprints.shared.cells import write_csv
from blueprints.tasks.services import launch, start_task
from jobs import MAINTENANCE
from tenants.db import db
from tenants.storage import storage

USER_EXPORT_KIND = "user-export"
PERSON_FIELDS = (
    "id",
    "civility",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "company",
    "job_title",
    "language",
    "sms_consent",
    "processing_restricted",
    "notes",
    "archived_at",
    "created_at",
    "updated_at",
)
ENROLLMENT_FIELDS = (
    "training",
    "session_start",
    "session_end",
    "location",
    "funder",
    "funder_reference",
    "enrolled_at",
)
ATTENDANCE_FIELDS = (
    "half_day_start",
    "half_day_end",
    "status",
    "reason",
    "signed_at",
    "arrived_at",
    "late_minutes",
    "left_at",
    "early_minutes",
    "attended_minutes",
    "method",
    "ip",
    "user_agent",
    "signature_file",
)
MESSAGE_FIELDS = (
    "created_at",
    "channel",
    "recipient",
    "subject",
    "body",
    "status",
    "sent_at",
    "delivered_at",
)
DOCUMENT_FIELDS = ("kind", "version", "issued_at", "verification_code", "file")
REQUEST_FIELDS = ("kind", "channel", "message", "received_on", "deadline", "status", "answer", "answered_at")


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _table(fields, rows) -> list[dict]:
    return [{f: _plain(v) for f, v in zip(fields, row, strict=True)} for row in rows]


def _messages(messages) -> list[dict]:
    return _table(
        MESSAGE_FIELDS,
        (
            (
                m.created_at,
                m.channel,
                m.recipient,
                m.subject,
                m.body_text,
                m.status,
                m.sent_at,
                m.delivered_at,
            )
            for m in messages
        ),
    )


def _requests(requests) -> list[dict]:
    return _table(
        REQUEST_FIELDS,
        (
            (r.kind, r.channel, r.message, r.received_on, r.deadline, r.status, r.answer, r.answered_at)
            for r in requests
        ),
    )


def _zip(data: dict, first: tuple[str, tuple, dict], tables: tuple, files: dict[str, bytes]) -> bytes:
    """``data.json``, the one-row CSV of ``first`` (name, fields, row), a CSV per table, then the files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        name, fields, row = first
        archive.writestr(f"{name}.csv", write_csv(list(fields), [list(row.values())]))
        for table, table_fields in tables:
            archive.writestr(
                f"{table}.csv", write_csv(list(table_fields), [list(r.values()) for r in data[table]])
            )
        for file_name, content in files.items():
            archive.writestr(file_name, content)
    return out.getvalue()


def build(held: Holdings, *, exported_at: datetime) -> bytes:
    p = held.participant
    files: dict[str, bytes] = {}
    attendance = []
    for a, slot in held.attendance:
        name = None
        if a.signature_blob_id is not None:
            found = storage().get(str(a.signature_blob_id))
            if found is not None:
                name = f"signatures/{slot.starts_at:%Y-%m-%d-%H%M}-{a.id}.png"
                files[name] = found[1]
        attendance.append(
            (
                slot.starts_at,
                slot.ends_at,
                a.status,
                a.reason,
                a.signed_at,
                a.arrived_at,
                a.late_minutes,
                a.left_at,
                a.early_minutes,
                a.attended_minutes,
                a.method,
                a.ip,
                a.user_agent,
                name,
            )
        )
    documents = []
    for d in held.documents:
        found = storage().get(d.blob_key)
        name = f"documents/{d.id}-{d.filename}" if found else None
        if found:
            files[name] = found[1]
        documents.append((d.kind, d.version, d.created_at, d.verification_code, name))
    data = {
        "exported_at": exported_at.isoformat(),
        "person": {f: _plain(getattr(p, f)) for f in PERSON_FIELDS},
        "enrollments": _table(
            ENROLLMENT_FIELDS,
            (
                (
                    s.training.title,
                    s.start_date,
                    s.end_date,
                    s.location_name,
                    e.funder,
                    e.funder_reference,
                    e.created_at,
                )
                for e, s in held.enrollments
            ),
        ),
        "attendance": _table(ATTENDANCE_FIELDS, attendance),
        "messages": _messages(held.messages),
        "documents": _table(DOCUMENT_FIELDS, documents),
        "requests": _requests(held.requests),
    }
    tables = (
        ("enrollments", ENROLLMENT_FIELDS),
        ("attendance", ATTENDANCE_FIELDS),
        ("messages", MESSAGE_FIELDS),
        ("documents", DOCUMENT_FIELDS),
        ("requests", REQUEST_FIELDS),
    )
    return _zip(data, ("person", PERSON_FIELDS, data["person"]), tables, files)


def start(participant, actor, *, tenant, user_id: int | None):
    """Ask for the person's export (an admin, or the person from their page): a task whose job builds the ZIP,
    audited now. Its file is kept a week (``tenants/retention.TASK_FILES``), then deleted."""
    task = start_task(EXPORT_KIND, _("Export of personal data"), user_id)
    record(actor, "participant.data_exported", participant, task_id=task.id)
    launch(task, "jobs.rights.export_person", participant.id, queue=MAINTENANCE, tenant=tenant)
    return task


USER_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "role",
    "language",
    "active",
    "created_at",
    "last_login_at",
)
LOGIN_FIELDS = ("created_at", "last_seen_at", "ip", "browser", "system")
ACTION_FIELDS = ("occurred_at", "action", "object_type", "object_id", "ip", "user_agent")
SUPPORT_FIELDS = ("id", "subject", "state", "created_at", "messages")


def build_user(held, *, exported_at: datetime) -> bytes:
    """A user's data as one ZIP: their account, logins, what they did (the audit trail's lines about them),
    messages to them, their requests about their data and to Emarge support."""
    from blueprints.support.models import SupportRequestMessage

    u = held.user
    threads = {
        r.id: [
            {"at": _plain(m.created_at), "from_support": m.staff_id is not None, "body": m.body}
            for m in db.session.scalars(
                select(SupportRequestMessage)
                .where(SupportRequestMessage.request_id == r.id)
                .order_by(SupportRequestMessage.id)
            )
        ]
        for r in held.support_requests
    }
    data = {
        "exported_at": exported_at.isoformat(),
        "account": {f: _plain(getattr(u, f)) for f in USER_FIELDS},
        "logins": _table(
            LOGIN_FIELDS,
            ((x.created_at, x.last_seen_at, x.ip, x.browser, x.system) for x in held.logins),
        ),
        "actions": _table(
            ACTION_FIELDS,
            ((e.occurred_at, e.action, e.object_type, e.object_id, e.ip, e.user_agent) for e in held.actions),
        ),
        "messages": _messages(held.messages),
        "requests": _requests(held.requests),
        "support_requests": _table(
            SUPPORT_FIELDS,
            ((r.id, r.subject, r.state, r.created_at, threads[r.id]) for r in held.support_requests),
        ),
    }
    tables = (
        ("logins", LOGIN_FIELDS),
        ("actions", ACTION_FIELDS),
        ("messages", MESSAGE_FIELDS),
        ("requests", REQUEST_FIELDS),
    )
    return _zip(data, ("account", USER_FIELDS, data["account"]), tables, {})


def start_user(user, actor, *, tenant):
    """A user asks for their own data: a task whose job builds the ZIP, audited now; theirs alone to download."""
    task = start_task(USER_EXPORT_KIND, _("Export of personal data"), user.id)
    record(actor, "user.data_exported", user, task_id=task.id)
    launch(task, "jobs.rights.export_user", user.id, queue=MAINTENANCE, tenant=tenant)
    return task

"""The organization's full archive: everything it holds, to take with it before it leaves (or any day). One ZIP:

- ``README.txt``: what each file is, in the organization's language;
- ``tables/<table>.csv`` and ``tables/<table>.json``: every table of the organization, one row per line, the
  audit trail included (credentials are left out: password and token hashes, login keys, link nonces, room
  secrets; they open nothing outside Emarge and would only be a risk);
- ``signatures/<attendance id>.png``: every signature image;
- ``documents/<id>-<file name>``: every document issued; ``documents/SHA256SUMS`` to check them with
  ``sha256sum -c``, and ``documents/index.csv`` with each one's fingerprint and verification code (/verify).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import LargeBinary, select

from blueprints.documents.models import Document
from blueprints.shared.cells import safe_cell, write_csv
from blueprints.signing.models import Attendance
from tenants.db import db
from tenants.schema import metadata
from tenants.storage import storage

# Columns that are credentials, never archived (nor the table that holds only those).
LEFT_OUT = {
    "users": {"password_hash"},
    "user_logins": {"key_hash", "remember_hash"},
    "sign_in_links": {"nonce"},
    "slot_states": {"room_secret"},
    "account_tokens": "*",
    "blobs": {"data"},  # the files themselves are under signatures/ and documents/
}
ARCHIVE_KIND = "organization-archive"


def _plain(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def _tables():
    for table in metadata("tenant").sorted_tables:
        left_out = LEFT_OUT.get(table.name, set())
        if left_out == "*":
            continue
        columns = [c for c in table.columns if c.name not in left_out and not isinstance(c.type, LargeBinary)]
        yield table, columns


def build(*, organization: str, language: str, progress: Callable[[int, int], None]) -> bytes:
    """The archive's bytes. ``progress(done, total)`` is told as tables and files are written."""
    tables = list(_tables())
    attendances = list(
        db.session.execute(
            select(Attendance.id, Attendance.signature_blob_id).where(
                Attendance.signature_blob_id.is_not(None)
            )
        )
    )
    documents = list(db.session.scalars(select(Document).order_by(Document.id)))
    total, done = len(tables) + len(attendances) + len(documents), 0
    out = io.BytesIO()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, columns in tables:
            rows = [
                {c.name: _plain(row[c.name]) for c in columns}
                for row in db.session.execute(select(*columns)).mappings()
            ]
            counts[table.name] = len(rows)
            text = io.StringIO()
            writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
            writer.writerow([c.name for c in columns])
            for row in rows:
                writer.writerow([safe_cell(v) for v in row.values()])
            archive.writestr(f"tables/{table.name}.csv", text.getvalue().encode("utf-8-sig"))
            archive.writestr(f"tables/{table.name}.json", json.dumps(rows, ensure_ascii=False, indent=1))
            done += 1
            progress(done, total)
        for attendance_id, blob_id in attendances:
            found = storage().get(str(blob_id))
            if found is not None:
                archive.writestr(f"signatures/{attendance_id}.png", found[1])
            done += 1
            if done % 50 == 0:
                progress(done, total)
        sums, index = [], []
        for document in documents:
            found = storage().get(document.blob_key)
            if found is not None:
                name = f"documents/{document.id}-{document.filename}"
                archive.writestr(name, found[1])
                digest, short = hashlib.sha256(found[1]).hexdigest(), name.split("/", 1)[1]
                sums.append(f"{digest}  {short}")
                index.append(
                    [
                        document.id,
                        short,
                        document.kind,
                        document.version,
                        _plain(document.created_at),
                        digest,
                        document.verification_code,
                    ]
                )
            done += 1
            if done % 20 == 0:
                progress(done, total)
        archive.writestr("documents/SHA256SUMS", "\n".join(sums) + ("\n" if sums else ""))
        archive.writestr(
            "documents/index.csv",
            write_csv(["id", "file", "kind", "version", "issued_at", "sha256", "verification_code"], index),
        )
        with force_locale(language):
            readme = render_template(
                "settings/archive_readme.txt",
                organization=organization,
                counts=counts,
                documents=len(sums),
                signatures=len(attendances),
                left_out=LEFT_OUT,
            )
        archive.writestr("README.txt", readme)
    progress(total, total)
    return out.getvalue()

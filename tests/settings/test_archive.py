"""The organization's full archive: every table (CSV and JSON), every signature image, every document with a
SHA-256 that matches, a README; made by a job, downloaded by admins only, gone after 7 days."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import login, run_jobs
from tests.rights.test_export import add_rows
from tests.signing.conftest import build_world, data_url, link_path, png


def browser(app, slug: str, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, slug, email).status_code == 303
    return client


def test_the_archive_holds_every_table_and_every_document_with_its_fingerprint(app, make_tenant):
    from blueprints.documents.models import Document
    from blueprints.signing.models import Attendance
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.schema import metadata

    world = build_world(app, make_tenant)
    for participant in (world.paul, world.zoe):
        app.test_client().post(
            link_path(app, world, participant),
            data={"slot": str(world.remote_slot), "signature": data_url(png())},
        )
    add_rows(app, world)
    admin = browser(app, world.slug, world.admin)
    assert admin.post("/acme/settings/archive").status_code == 303
    run_jobs(app)
    page = admin.get("/acme/settings/archive").get_data(as_text=True)
    task_id = int(re.search(r'id="task-(\d+)"', page).group(1))
    download = admin.get(f"/acme/tasks/{task_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}

    with tenant_scope(world.slug, app):
        for table in metadata("tenant").sorted_tables:
            if table.name == "account_tokens":
                assert f"tables/{table.name}.csv" not in files  # credentials only
                continue
            count = db.session.scalar(select(func.count()).select_from(table))
            if table.name == "blobs":
                count -= 1  # the archive's own file, stored once the archive was made
            lines = list(
                csv.reader(io.StringIO(files[f"tables/{table.name}.csv"].decode("utf-8-sig")), delimiter=";")
            )
            assert len(lines) - 1 == count, table.name
            assert len(json.loads(files[f"tables/{table.name}.json"])) == count, table.name
        documents = db.session.scalars(select(Document)).all()
        signatures = db.session.scalars(
            select(Attendance).where(Attendance.signature_blob_id.is_not(None))
        ).all()
        assert len(documents) == 2 and len(signatures) == 2
        sums = files["documents/SHA256SUMS"].decode()
        for document in documents:
            content = files[f"documents/{document.id}-{document.filename}"]
            assert hashlib.sha256(content).hexdigest() == document.sha256
            assert f"{document.sha256}  {document.id}-{document.filename}" in sums.splitlines()
            index = files["documents/index.csv"].decode("utf-8-sig")
            assert f"{document.sha256};{document.verification_code}" in index
        for attendance in signatures:
            assert files[f"signatures/{attendance.id}.png"].startswith(b"\x89PNG")
    users_header = files["tables/users.csv"].decode("utf-8-sig").splitlines()[0]
    assert "email" in users_header and "password_hash" not in users_header
    assert "audit_events" in files["README.txt"].decode() and "SHA256SUMS" in files["README.txt"].decode()

    # A facilitator neither sees the page nor downloads the file.
    fred = browser(app, world.slug, world.facilitator)
    assert fred.get("/acme/settings/archive").status_code == 403
    assert fred.get(f"/acme/tasks/{task_id}/download").status_code == 404

    # Eight days later the file is gone, and the page says so.
    from blueprints.tasks.models import Task
    from jobs.maintenance import purge_stale_files

    with tenant_scope(world.slug, app):
        task = db.session.get(Task, task_id)
        task.finished_at = task.finished_at - timedelta(days=8)
        db.session.commit()
    with app.app_context():
        purge_stale_files(make_tenant_id(app, world.slug))
    assert admin.get(f"/acme/tasks/{task_id}/download").status_code == 404
    assert "deleted a week after it was made" in admin.get("/acme/settings/archive").get_data(as_text=True)


def make_tenant_id(app, slug: str) -> int:
    from tenants import find_tenant

    with app.app_context():
        return find_tenant(slug=slug).id

"""A person's data export: a ZIP made by a job that holds every row about them (identity, enrolment,
attendance with their signature image, messages, documents, requests) and nothing about anyone else of the same
session; the admin's download, and the trainee's own through their link only, for 7 days."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import login, run_jobs
from tests.signing.conftest import data_url, link_path, png

OTHERS = ("Rita", "Bernard", "rita@acme-client.fr", "Zoe", "Petit", "zoe@acme-client.fr", "ZOE-SECRET")


def add_rows(app, world) -> dict:
    """A message and a document for Paul and for Zoe (Zoe's carry a marker that must not leave with Paul's)."""
    from blueprints.documents.models import CERTIFICATE, Document, subject_key
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    with tenant_scope(world.slug, app):
        made = {}
        for who, pid, marker in (("paul", world.paul, "PAUL-DOC"), ("zoe", world.zoe, "ZOE-SECRET")):
            db.session.add(
                Message(
                    channel="email",
                    template="invitation_signin",
                    recipient=f"{who}@acme-client.fr",
                    subject=f"Your link, {who}",
                    body_text=f"Body for {marker}",
                    status="sent",
                    participant_id=pid,
                )
            )
            blob = storage().put(
                f"%PDF-1.4 {marker}".encode(), content_type="application/pdf", filename="c.pdf"
            )
            db.session.add(
                Document(
                    kind=CERTIFICATE,
                    subject_key=subject_key(world.session_id, participant_id=pid),
                    session_id=world.session_id,
                    participant_id=pid,
                    blob_key=blob.key,
                    filename=f"certificate-{who}.pdf",
                    content_type="application/pdf",
                    size=blob.size,
                    sha256=blob.sha256,
                    verification_code=f"{who.upper():A<4}-3333",
                )
            )
            made[who] = blob.key
        db.session.commit()
        return made


def signature_bytes(app, world, participant_id: int) -> bytes:
    from blueprints.signing.models import Attendance
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    with tenant_scope(world.slug, app):
        attendance = db.session.scalars(
            select(Attendance).where(Attendance.participant_id == participant_id)
        ).one()
        return storage().get(str(attendance.signature_blob_id))[1]


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_export_holds_every_row_about_the_person_and_nothing_about_others(app, world):
    paul_link, zoe_link = link_path(app, world, world.paul), link_path(app, world, world.zoe)
    client = app.test_client()
    for path, width in ((paul_link, 600), (zoe_link, 500)):
        signed = client.post(path, data={"slot": str(world.remote_slot), "signature": data_url(png(width))})
        assert signed.status_code in (200, 303)
    add_rows(app, world)
    client.post(
        f"{paul_link}/my-data/", data={"kind": "portability", "message": "A copy for my new employer."}
    )

    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(admin, "acme", world.admin).status_code == 303
    assert admin.post(f"/acme/rights/participants/{world.paul}/export").status_code == 303
    run_jobs(app)
    page = admin.get(f"/acme/rights/participants/{world.paul}/export").get_data(as_text=True)
    task_id = int(page.split('id="task-')[1].split('"')[0])
    download = admin.get(f"/acme/tasks/{task_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "personal-data-paul-martin" in download.headers["Content-Disposition"]
    files = unzip(download.data)

    data = json.loads(files["data.json"])
    assert data["person"]["email"] == "paul@acme-client.fr" and data["person"]["first_name"] == "Paul"
    assert [e["training"] for e in data["enrollments"]] == ["Safety at work"]
    (attended,) = data["attendance"]
    assert attended["status"] == "present" and attended["method"] and attended["signature_file"]
    assert files[attended["signature_file"]] == signature_bytes(app, world, world.paul)
    assert [m["body"] for m in data["messages"]] == ["Body for PAUL-DOC"]
    (document,) = data["documents"]
    assert files[document["file"]] == b"%PDF-1.4 PAUL-DOC"
    assert [r["message"] for r in data["requests"]] == ["A copy for my new employer."]
    for name in (
        "person.csv",
        "enrollments.csv",
        "attendance.csv",
        "messages.csv",
        "documents.csv",
        "requests.csv",
    ):
        assert name in files
    assert "paul@acme-client.fr" in files["person.csv"].decode("utf-8-sig")

    # Nothing of the other trainees of the same session, in any file, text or binary.
    zoe_signature = signature_bytes(app, world, world.zoe)
    for name, content in files.items():
        assert zoe_signature not in content, name
        for other in OTHERS:
            assert other.encode() not in content, (name, other)


def test_a_trainee_downloads_their_own_export_for_7_days_only_through_their_link(app, world):
    from blueprints.tasks.models import Task
    from tenants import tenant_scope
    from tenants.db import db

    paul_link, zoe_link = link_path(app, world, world.paul), link_path(app, world, world.zoe)
    trainee = app.test_client()
    trainee.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    asked = trainee.post(f"{paul_link}/my-data/export")
    assert asked.status_code == 303 and asked.headers["Location"].endswith("?done=export")
    run_jobs(app)
    page = trainee.get(f"{paul_link}/my-data/").get_data(as_text=True)
    task_id = int(page.split('data-export="')[1].split('"')[0])
    got = trainee.get(f"{paul_link}/my-data/exports/{task_id}")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert json.loads(unzip(got.data)["data.json"])["person"]["first_name"] == "Paul"
    # Someone else's link does not open it; nor does a made-up number.
    assert trainee.get(f"{zoe_link}/my-data/exports/{task_id}").status_code == 404
    assert trainee.get(f"{paul_link}/my-data/exports/{task_id + 100}").status_code == 404
    # Eight days later: gone, with a page that says so and how to get a new one.
    with tenant_scope(world.slug, app):
        task = db.session.get(Task, task_id)
        task.finished_at = task.finished_at - timedelta(days=8)
        db.session.commit()
    late = trainee.get(f"{paul_link}/my-data/exports/{task_id}")
    assert late.status_code == 410 and "no longer available" in late.get_data(as_text=True)

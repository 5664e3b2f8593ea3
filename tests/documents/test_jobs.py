"""The job path: the user clicks, the bar fills by itself, the document appears; a failure shows a retry.

Also the ZIP of a session and the certificates sent by email (on request and at the end of a session).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from tests.documents.conftest import pdf_text
from tests.documents.plumbing import SLUG, english_world, fake_renderer, signed_in, task_id_of, text


@pytest.fixture
def app(make_app, smtp_server):
    """Mail goes to a real local SMTP server (certificates are emailed)."""
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


def documents_of(app, **where) -> list[dict]:
    from blueprints.documents.models import Document
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(SLUG, app):
        rows = db.session.scalars(select(Document).filter_by(**where).order_by(Document.id)).all()
        return [{c.name: getattr(d, c.name) for c in d.__table__.columns} for d in rows]


def bar(client, task_id: int) -> str:
    return text(client.get(f"/{SLUG}/tasks/{task_id}", headers={"HX-Request": "true"}))


def test_a_sheet_is_made_in_a_job_with_its_bar_then_listed(app, make_tenant, jobs):
    """End to end with the real renderer: request, bar, job, download, and the stamp printed in the PDF."""
    world = english_world(app, make_tenant)
    admin = signed_in(app)
    page_url = f"/{SLUG}/sessions/{world.session_id}/documents"
    assert "No document issued yet" in text(admin.get(page_url))

    response = admin.post(f"{page_url}/generate", data={"kind": "session_sheet"})
    assert response.status_code == 303
    task_id = task_id_of(response)
    page = text(admin.get(response.headers["Location"]))
    # The bar is on the page, and asks for itself again until the task is finished.
    assert f'id="task-{task_id}"' in page and f'id="task-{task_id}-bar"' in page
    assert "Attendance sheet of the session" in page

    jobs()
    fragment = bar(admin, task_id)
    (document,) = documents_of(app, kind="session_sheet")
    assert "Done." in fragment and "hx-get" not in fragment
    assert f"/{SLUG}/documents/{document['id']}/download" in fragment
    assert document["task_id"] == task_id and document["version"] == 1

    page = text(admin.get(page_url))
    assert page.count(f"/{SLUG}/documents/{document['id']}/download") == 1
    download = admin.get(f"/{SLUG}/documents/{document['id']}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert hashlib.sha256(download.data).hexdigest() == document["sha256"]
    printed = "\n".join(pdf_text(download.data))
    assert document["verification_code"] in printed
    # The task is finished: running the job again issues nothing more.
    from jobs import enqueue
    from tenants import tenant_scope

    with tenant_scope(SLUG, app) as tenant:
        enqueue(
            "jobs.documents.generate_documents",
            tenant.id,
            task_id,
            world.session_id,
            [{"kind": "session_sheet"}],
            {"kind": "user", "label": "x"},
        )
    jobs()
    assert len(documents_of(app, kind="session_sheet")) == 1


def test_a_failure_is_shown_with_a_retry_that_then_succeeds(app, make_tenant, jobs, monkeypatch):
    from blueprints.documents import services

    world = english_world(app, make_tenant)
    admin = signed_in(app)
    participant = world.participant_ids[0]

    def broken(*args, **kwargs):
        raise RuntimeError("the renderer fell over")

    monkeypatch.setattr(services, "render_document", broken)
    response = admin.post(
        f"/{SLUG}/sessions/{world.session_id}/documents/generate",
        data={"kind": "certificate", "participant_id": participant},
    )
    task_id = task_id_of(response)
    jobs()
    fragment = bar(admin, task_id)
    assert "This task failed." in fragment
    retry_url = f"/{SLUG}/tasks/{task_id}/retry"
    assert f'action="{retry_url}"' in fragment and "Retry" in fragment
    assert "fell over" not in fragment  # internals stay in the log
    assert documents_of(app) == []

    fake_renderer(monkeypatch)
    response = admin.post(retry_url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and f'id="task-{task_id}"' in text(response)
    jobs()
    fragment = bar(admin, task_id)
    (document,) = documents_of(app, kind="certificate")
    assert "Done." in fragment and f"/documents/{document['id']}/download" in fragment
    assert document["participant_id"] == participant and document["version"] == 1
    # A finished task is not retried; someone else's task is none of a facilitator's business.
    admin.post(retry_url)
    jobs()
    assert len(documents_of(app)) == 1
    assert signed_in(app, f"fred@{SLUG}.fr").post(retry_url).status_code == 404


def test_a_reason_the_user_can_act_on_is_shown(app, make_tenant, monkeypatch):
    from sqlalchemy import delete

    from blueprints.participants.models import Enrollment
    from blueprints.tasks.services import start_task
    from jobs.documents import generate_documents
    from tenants import tenant_scope
    from tenants.db import db

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    admin = signed_in(app)
    # The participant was taken off the session between the click and the job.
    item = {"kind": "participant_sheet", "participant_id": world.participant_ids[0]}
    actor = {"kind": "user", "label": "ada"}
    with tenant_scope(SLUG, app) as tenant:
        task = start_task("documents.generate_documents", "Individual sheet", 1)
        task.job = {
            "func": "jobs.documents.generate_documents",
            "args": [tenant.id, task.id, world.session_id, [item], actor],
            "queue": "documents",
        }
        db.session.execute(delete(Enrollment).where(Enrollment.participant_id == world.participant_ids[0]))
        db.session.commit()
        task_id = task.id
    # Read in English: outside any scope the reason is in the default language (French).
    with app.app_context(), force_locale("en"), pytest.raises(Exception, match="not enrolled"):
        generate_documents(tenant.id, task_id, world.session_id, [item], actor)
    fragment = bar(admin, task_id)
    assert "This task failed. This participant is not enrolled in the session." in fragment
    assert "Retry" in fragment
    assert documents_of(app) == []


def test_make_all_then_the_zip(app, make_tenant, jobs, monkeypatch):
    from blueprints.documents.models import CERTIFICATE, PARTICIPANT_SHEET, SESSION_ARCHIVE, SESSION_SHEET

    calls = []
    fake_renderer(monkeypatch, calls)
    world = english_world(app, make_tenant)
    admin = signed_in(app)
    url = f"/{SLUG}/sessions/{world.session_id}/documents"
    task_id = task_id_of(admin.post(f"{url}/generate", data={"kind": "all"}))
    jobs()
    count = 1 + 2 * len(world.participant_ids)
    assert len(calls) == count
    assert "Done." in bar(admin, task_id)
    assert len(documents_of(app, kind=CERTIFICATE)) == len(world.participant_ids)
    assert len(documents_of(app, kind=PARTICIPANT_SHEET)) == len(world.participant_ids)

    task_id = task_id_of(admin.post(f"{url}/archive"))
    jobs()
    (archive,) = documents_of(app, kind=SESSION_ARCHIVE)
    assert len(calls) == count  # the ZIP holds what was issued; nothing rendered again
    assert f"/documents/{archive['id']}/download" in bar(admin, task_id)
    data = admin.get(f"/{SLUG}/documents/{archive['id']}/download").data
    assert hashlib.sha256(data).hexdigest() == archive["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        names = zipped.namelist()
        manifest = zipped.read("MANIFEST.txt").decode()
        assert len(names) == count + 1
        for document in documents_of(app, kind=SESSION_SHEET) + documents_of(app, kind=CERTIFICATE):
            assert document["filename"] in names
            assert hashlib.sha256(zipped.read(document["filename"])).hexdigest() == document["sha256"]
            assert f"{document['verification_code']}\t{document['sha256']}" in manifest
    assert archive["verification_code"] in manifest
    # The ZIP verifies like any document.
    public = app.test_client()
    public.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = public.post(
        f"/verify/{archive['verification_code']}",
        data={"document": (io.BytesIO(data), "all.zip")},
        content_type="multipart/form-data",
    )
    assert "byte-for-byte identical" in text(response)


def test_exports_and_archive_of_a_session_without_documents_first_issue_them(
    app, make_tenant, jobs, monkeypatch
):
    from blueprints.documents.models import SESSION_ARCHIVE, SESSION_SHEET

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant, participants=2, slots=2)
    admin = signed_in(app)
    admin.post(f"/{SLUG}/sessions/{world.session_id}/documents/archive")
    jobs()
    assert len(documents_of(app, kind=SESSION_SHEET)) == 1
    assert len(documents_of(app, kind=SESSION_ARCHIVE)) == 1


def test_certificates_emailed_on_request_never_to_a_restricted_participant(
    app, make_tenant, jobs, monkeypatch, smtp_server
):
    from sqlalchemy import update

    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant, participants=3, slots=2)
    emails = [f"p{i}@client.fr" for i in range(3)]
    with tenant_scope(SLUG, app):
        for pid, email in zip(world.participant_ids, emails, strict=True):
            db.session.execute(
                update(Participant).where(Participant.id == pid).values(email=email, language="en")
            )
        db.session.execute(
            update(Participant)
            .where(Participant.id == world.participant_ids[2])
            .values(processing_restricted=True)
        )
        db.session.commit()
    admin = signed_in(app)
    url = f"/{SLUG}/sessions/{world.session_id}/documents/email"
    # One participant, restricted: refused at once, nothing queued.
    response = admin.post(url, data={"participant_id": world.participant_ids[2]})
    assert response.status_code == 303 and "task=" not in response.headers["Location"]
    task_id = task_id_of(admin.post(url))
    jobs()
    jobs()  # the messages the job queued
    fragment = bar(admin, task_id)
    assert "2 certificate(s) queued for sending; 1 participant(s) skipped" in fragment
    assert smtp_server.to(emails[2]) == []
    for email, pid in zip(emails[:2], world.participant_ids[:2], strict=True):
        (message,) = smtp_server.to(email)
        assert "certificate of completion" in message["Subject"].lower()
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        (document,) = documents_of(app, kind="certificate", participant_id=pid)
        assert hashlib.sha256(attachment.get_content()).hexdigest() == document["sha256"]
        assert document["verification_code"] in message.get_body(("plain",)).get_content()


def test_certificates_go_out_once_at_the_end_of_the_session(app, make_tenant, jobs, monkeypatch, smtp_server):
    from sqlalchemy import update

    from blueprints.documents.models import CERTIFICATE
    from blueprints.messages.models import Message
    from blueprints.participants.models import Participant
    from jobs import DOCUMENTS, enqueue
    from tenants import tenant_scope
    from tenants.db import db

    def hourly_pass():
        """The scheduled pass: every tenant, in chunks, through the job runner (jobs/fanout.py)."""
        with app.app_context():
            enqueue(
                "jobs.fanout.every_tenant", "jobs.documents.send_due_certificates", DOCUMENTS, queue=DOCUMENTS
            )
        for _ in range(3):  # the pass, the tenant's chunk, the session's certificates (and their emails)
            jobs()

    fake_renderer(monkeypatch)
    # Ended two days ago; participant 0 attended, the others' cells are absent for every slot.
    world = english_world(
        app,
        make_tenant,
        participants=3,
        slots=2,
        first_day=date.today() - timedelta(days=2),
        pattern=lambda i, j: "signed" if i == 0 else "absent",
    )
    with tenant_scope(SLUG, app):
        for i, pid in enumerate(world.participant_ids):
            db.session.execute(
                update(Participant).where(Participant.id == pid).values(email=f"p{i}@client.fr")
            )
        db.session.commit()
    hourly_pass()
    assert len(smtp_server.to("p0@client.fr")) == 1
    assert smtp_server.to("p1@client.fr") == [] and smtp_server.to("p2@client.fr") == []
    (certificate,) = documents_of(app, kind=CERTIFICATE)
    # Once: the next hour, and after a new version, nothing more goes out.
    hourly_pass()
    assert len(smtp_server.to("p0@client.fr")) == 1
    with tenant_scope(SLUG, app):
        keys = list(db.session.scalars(select(Message.dedupe_key).where(Message.template == "certificate")))
    assert keys == [f"certificate:{world.session_id}:{world.participant_ids[0]}:{certificate['version']}"]
    assert re.fullmatch(r"certificate:\d+:\d+:1", keys[0])


@pytest.mark.slow
def test_every_kind_through_the_real_renderer_then_verified(app, make_tenant, jobs):
    """No stand-in: each kind made by its job, its code printed in it, the file accepted by the public page."""
    world = english_world(app, make_tenant, participants=2, slots=2)
    admin = signed_in(app)
    url = f"/{SLUG}/sessions/{world.session_id}/documents/generate"
    admin.post(url, data={"kind": "all"})
    for kind in ("slot_sheet", "blank_slot_sheet"):
        admin.post(url, data={"kind": kind, "slot_id": world.slot_ids[0]})
    jobs()
    made = documents_of(app)
    assert sorted(d["kind"] for d in made) == sorted(
        ["session_sheet", "participant_sheet", "participant_sheet", "certificate", "certificate"]
        + ["slot_sheet", "blank_slot_sheet"]
    )
    public = app.test_client()
    public.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for document in made:
        data = admin.get(f"/{SLUG}/documents/{document['id']}/download").data
        assert document["verification_code"] in "\n".join(pdf_text(data)), document["kind"]
        response = public.post(
            f"/verify/{document['verification_code']}",
            data={"document": (io.BytesIO(data), document["filename"])},
            content_type="multipart/form-data",
        )
        assert "byte-for-byte identical" in text(response), document["kind"]

"""The paper fallback: a blank sheet to print, the signed scan attached with the facilitator's confirmation."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from tests.documents.plumbing import (
    FACILITATOR,
    SLUG,
    english_world,
    fake_renderer,
    signed_in,
    text,
    tiny_pdf,
)
from tests.signing.conftest import png


@pytest.fixture
def world(app, make_tenant):
    """A session whose half-days hold no attendance yet (the network failed): nothing locks them."""
    return english_world(
        app, make_tenant, participants=2, slots=2, pattern=lambda i, j: None, signed_off=False
    )


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(out, format="JPEG")
    return out.getvalue()


def send(client, slot_id: int, data: bytes, name: str, *, confirm: bool = True, note: str = ""):
    form = {"scan": (io.BytesIO(data), name), "note": note}
    if confirm:
        form["confirm"] = "1"
    return client.post(f"/{SLUG}/slots/{slot_id}/paper", data=form, content_type="multipart/form-data")


def sheets(app) -> list[dict]:
    from blueprints.documents.models import PaperSheet
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(SLUG, app):
        rows = db.session.scalars(select(PaperSheet).order_by(PaperSheet.id)).all()
        return [{c.name: getattr(r, c.name) for c in r.__table__.columns} for r in rows]


def test_pdf_and_images_are_attached_with_an_audit_event(app, world):
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    facilitator = signed_in(app, FACILITATOR)
    slot = world.slot_ids[0]
    page = text(facilitator.get(f"/{SLUG}/slots/{slot}/paper"))
    assert "I confirm this is the sheet signed in the room on 2 November 2026." in page

    scans = [(tiny_pdf("signed in the room"), "sheet.pdf"), (png(), "photo.png"), (jpeg(), "scan.JPG")]
    for data, name in scans:
        response = send(facilitator, slot, data, name, note="Wi-Fi down all morning")
        assert response.status_code == 303, text(response)
    found = sheets(app)
    assert [s["content_type"] for s in found] == ["application/pdf", "image/png", "image/jpeg"]
    assert [s["filename"] for s in found] == ["sheet.pdf", "photo.png", "scan.jpg"]
    for sheet, (data, _name) in zip(found, scans, strict=True):
        assert sheet["sha256"] == hashlib.sha256(data).hexdigest() and sheet["size"] == len(data)
        assert sheet["confirmed_by_name"] == "Fred Acme" and sheet["note"] == "Wi-Fi down all morning"
        download = facilitator.get(f"/{SLUG}/paper-sheets/{sheet['id']}")
        assert download.status_code == 200 and download.data == data
    with tenant_scope(SLUG, app):
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "paper_sheet.uploaded")
        ).all()
    assert [(e.object_id, e.details["slot_id"], e.actor_label) for e in events] == [
        (s["id"], slot, FACILITATOR) for s in found
    ]
    page = text(facilitator.get(f"/{SLUG}/slots/{slot}/paper"))
    assert "sheet.pdf" in page and "confirmed by Fred Acme" in page
    assert "Signed on paper" in text(facilitator.get(f"/{SLUG}/sessions/{world.session_id}/documents"))


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"Name;Signature\nPaul;yes\n", "sheet.txt", "This file is not a PDF, PNG or JPEG scan"),
        (b"%PDF-1.4 but nothing after", "broken.pdf", "This PDF cannot be read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", "This image cannot be read"),
        (b"", "empty.pdf", "Choose the file of the scanned sheet"),
    ],
)
def test_what_is_not_a_scan_is_refused_clearly(app, world, data, name, message):
    facilitator = signed_in(app, FACILITATOR)
    response = send(facilitator, world.slot_ids[0], data, name)
    assert response.status_code == 422
    assert message in text(response)
    assert sheets(app) == []


def test_the_confirmation_is_required_and_size_is_bounded(app, world, monkeypatch):
    from blueprints.documents import services

    facilitator = signed_in(app, FACILITATOR)
    response = send(facilitator, world.slot_ids[0], tiny_pdf("x"), "sheet.pdf", confirm=False)
    assert response.status_code == 422
    assert "Tick the box to confirm that this is the sheet signed in the room." in text(response)
    big = b"%PDF-1.4\n" + b"0" * (services.MAX_UPLOAD_BYTES + 100 * 1024)
    response = send(facilitator, world.slot_ids[0], big, "huge.pdf")
    assert response.status_code == 413 and "too large: 20 MB at most" in text(response)
    assert sheets(app) == []


def test_a_slot_signed_on_paper_is_locked(app, world):
    from datetime import time, timedelta

    from blueprints.audit.services import Actor
    from blueprints.trainings import services, timetable
    from blueprints.trainings.models import Slot, TrainingSession
    from blueprints.trainings.services import PlanningError
    from blueprints.trainings.timetable import SlotData
    from tenants import tenant_scope
    from tenants.db import db

    admin = signed_in(app)
    locked, free = world.slot_ids
    assert send(admin, locked, tiny_pdf("signed"), "sheet.pdf").status_code == 303
    # Deleting it is refused; the free one goes.
    response = admin.post(f"/{SLUG}/slots/{locked}/delete")
    assert response.status_code == 303
    assert "it cannot be deleted" in text(admin.get(response.headers["Location"]))
    with tenant_scope(SLUG, app), app.test_request_context(headers={"Accept-Language": "en"}):
        slot = db.session.get(Slot, locked)
        assert slot is not None
        with pytest.raises(PlanningError, match="can no longer change"):
            timetable.update_slot(
                slot,
                SlotData(day=slot.day, start_time=time(10), end_time=time(12, 30), modality=slot.modality),
                Actor.system(),
            )
        db.session.rollback()
        session = db.session.get(TrainingSession, world.session_id)
        # New dates that would drop the slot: refused, confirmed or not.
        with pytest.raises(PlanningError, match="Attendance is already recorded"):
            services.apply_new_dates(
                session,
                session.start_date + timedelta(days=14),
                session.end_date + timedelta(days=14),
                Actor.system(),
                confirm=True,
            )
        db.session.rollback()
    assert admin.post(f"/{SLUG}/slots/{free}/delete").status_code == 303
    with tenant_scope(SLUG, app):
        assert db.session.get(Slot, locked) is not None and db.session.get(Slot, free) is None


def test_blank_sheet_is_issued_for_the_slot_and_others_cannot_upload(app, world, jobs, monkeypatch):
    from blueprints.accounts.models import FACILITATOR as FACILITATOR_ROLE
    from blueprints.accounts.models import User
    from blueprints.accounts.passwords import hash_password
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tests.conftest import PASSWORD

    calls = []
    fake_renderer(monkeypatch, calls)
    facilitator = signed_in(app, FACILITATOR)
    slot = world.slot_ids[0]
    response = facilitator.post(
        f"/{SLUG}/sessions/{world.session_id}/documents/generate",
        data={"kind": "blank_slot_sheet", "slot_id": slot, "back": "paper"},
    )
    # Back on the paper page, where the bar of the job shows.
    assert response.status_code == 303 and f"/{SLUG}/slots/{slot}/paper?task=" in response.headers["Location"]
    task_id = int(response.headers["Location"].rsplit("=", 1)[1])
    assert f'id="task-{task_id}"' in text(facilitator.get(response.headers["Location"]))
    jobs()
    assert calls == [("blank_slot_sheet", None, slot)]
    page = text(facilitator.get(f"/{SLUG}/slots/{slot}/paper"))
    assert "Download the blank sheet (version 1)" in page

    with tenant_scope(SLUG, app):
        db.session.add(
            User(
                email=f"olga@{SLUG}.fr",
                first_name="Olga",
                last_name="Other",
                role=FACILITATOR_ROLE,
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow(),
                language="en",
            )
        )
        db.session.commit()
    other = signed_in(app, f"olga@{SLUG}.fr")
    assert other.get(f"/{SLUG}/slots/{slot}/paper").status_code == 404
    assert send(other, slot, tiny_pdf("x"), "sheet.pdf").status_code == 404
    assert sheets(app) == []

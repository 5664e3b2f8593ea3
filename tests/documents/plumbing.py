"""Helpers of the issuing, job, verification, paper and export tests (the renderer's own tests are elsewhere)."""

from __future__ import annotations

import io
import re

from tests.conftest import login
from tests.documents.conftest import build_sheet_world

SLUG = "acme"
ADMIN = f"ada@{SLUG}.fr"
FACILITATOR = f"fred@{SLUG}.fr"


def english_world(app, make_tenant, **options):
    """The renderer tests' session (4 participants × 4 half-days, signed, late, absent…), its people in English."""
    from sqlalchemy import update

    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    world = build_sheet_world(app, make_tenant, slug=SLUG, **options)
    with tenant_scope(SLUG, app):
        db.session.execute(update(User).values(language="en"))
        db.session.commit()
    return world


def signed_in(app, email: str = ADMIN):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, SLUG, email).status_code == 303
    return client


def tiny_pdf(text: str) -> bytes:
    """A real one-page PDF holding ``text`` (reportlab): stands in for the renderer where only plumbing is tested."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


def fake_renderer(monkeypatch, calls: list | None = None):
    """Replace the PDF renderer by ``tiny_pdf`` of the stamp: plumbing tests stay fast."""
    from blueprints.documents import services
    from blueprints.documents.render import Rendered

    def render(kind, *, session, participant=None, slot=None, stamp, language="fr", progress=None):
        if calls is not None:
            calls.append((kind, participant.id if participant else None, slot.id if slot else None))
        who = participant.full_name if participant else ""
        return Rendered(tiny_pdf(f"{kind} {who} {stamp.code} v{stamp.version} {stamp.verify_url}"), 1, [])

    monkeypatch.setattr(services, "render_document", render)


def issue(app, kind: str, session_id: int, participant_id=None, slot_id=None) -> dict:
    """Issue a document as the admin would through a job; its row as a dict."""
    from blueprints.audit.services import Actor
    from blueprints.documents import services
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(SLUG, app) as tenant:
        session = db.session.get(TrainingSession, session_id)
        item = {"kind": kind, "participant_id": participant_id, "slot_id": slot_id}
        document = services.issue_item(
            session, item, tenant=tenant, actor=Actor(kind="user", label=ADMIN, user_id=1), task_id=None
        )
        db.session.commit()
        return {c.name: getattr(document, c.name) for c in document.__table__.columns}


def stored(app, blob_key: str) -> bytes:
    from tenants import tenant_scope
    from tenants.storage import storage

    with tenant_scope(SLUG, app):
        return storage().get(blob_key)[1]


def task_id_of(response) -> int:
    return int(re.search(r"task=(\d+)", response.headers["Location"]).group(1))


def text(response) -> str:
    return response.get_data(as_text=True)

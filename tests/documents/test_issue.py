"""Issuing: versions, verification codes, the seal, the platform index, need-to-know downloads."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from sqlalchemy import select

from tenants import current_tenant
from tests.documents.plumbing import (
    ADMIN,
    FACILITATOR,
    SLUG,
    english_world,
    fake_renderer,
    issue,
    signed_in,
    stored,
)


def test_codes_are_short_unambiguous_and_typed_any_way():
    from blueprints.documents.services import CODE_ALPHABET, new_code, normalise_code

    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
        assert not set(code) & set("01OIL")
        assert normalise_code(code.lower().replace("-", " ")) == code
    assert set(CODE_ALPHABET).isdisjoint("01OIL")
    assert normalise_code("7KQ2-M9X") is None  # too short
    assert normalise_code("7KQ2-M9X0") is None  # a zero is never printed
    assert normalise_code("") is None and normalise_code(None) is None


def test_regenerating_makes_a_new_version_and_keeps_the_old(app, make_tenant, monkeypatch):
    from blueprints.audit.models import AuditEvent
    from blueprints.documents.models import CERTIFICATE, DocumentCode
    from tenants import tenant_scope
    from tenants.db import db

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    paul = world.participant_ids[0]
    first = issue(app, CERTIFICATE, world.session_id, participant_id=paul)
    second = issue(app, CERTIFICATE, world.session_id, participant_id=paul)
    assert (first["version"], second["version"]) == (1, 2)
    assert first["verification_code"] != second["verification_code"]
    assert first["subject_key"] == second["subject_key"] == f"s{world.session_id}-p{paul}"
    for document in (first, second):
        data = stored(app, document["blob_key"])
        # The seal: the hash on record is the hash of the bytes stored, and the stamp is printed in them.
        assert hashlib.sha256(data).hexdigest() == document["sha256"]
        assert document["size"] == len(data)
        assert document["filename"].endswith(f"v{document['version']}.pdf")
    with app.app_context():
        index = {c.code: (c.tenant_id, c.document_id) for c in db.session.scalars(select(DocumentCode))}
    with tenant_scope(SLUG, app) as tenant:
        assert index == {
            first["verification_code"]: (tenant.id, first["id"]),
            second["verification_code"]: (tenant.id, second["id"]),
        }
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "document.issued")).all()
        assert [(e.object_id, e.details["version"]) for e in events] == [(first["id"], 1), (second["id"], 2)]

    admin = signed_in(app)
    for document in (first, second):
        response = admin.get(f"/{SLUG}/documents/{document['id']}/download")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert hashlib.sha256(response.data).hexdigest() == document["sha256"]
        assert document["filename"] in response.headers["Content-Disposition"]
    page = admin.get(f"/{SLUG}/sessions/{world.session_id}/documents").get_data(as_text=True)
    assert "Version 1" in page and "Version 2" in page
    assert first["verification_code"] in page and second["verification_code"] in page


def test_a_document_about_someone_not_enrolled_is_refused(app, make_tenant, monkeypatch):
    from blueprints.documents.models import CERTIFICATE, SLOT_SHEET
    from blueprints.documents.services import DocumentError

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    for kind, participant_id, slot_id in ((CERTIFICATE, 999, None), (SLOT_SHEET, None, 999)):
        try:
            issue(app, kind, world.session_id, participant_id=participant_id, slot_id=slot_id)
        except DocumentError as error:
            assert error.status == 404
        else:
            raise AssertionError("issued a document about nobody")
    admin = signed_in(app)
    response = admin.post(
        f"/{SLUG}/sessions/{world.session_id}/documents/generate",
        data={"kind": "certificate", "participant_id": 999},
    )
    assert response.status_code == 404
    response = admin.post(
        f"/{SLUG}/sessions/{world.session_id}/documents/generate", data={"kind": "nonsense"}
    )
    assert response.status_code == 400


def test_downloads_follow_need_to_know(app, make_tenant, monkeypatch):
    from blueprints.accounts.models import FACILITATOR as FACILITATOR_ROLE
    from blueprints.accounts.models import User
    from blueprints.accounts.passwords import hash_password
    from blueprints.documents.models import SESSION_SHEET
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tests.conftest import PASSWORD

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    sheet = issue(app, SESSION_SHEET, world.session_id)
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
    # The session's facilitator may; a facilitator of other sessions gets a 404, as for the session itself.
    assert signed_in(app, FACILITATOR).get(f"/{SLUG}/documents/{sheet['id']}/download").status_code == 200
    other = signed_in(app, f"olga@{SLUG}.fr")
    assert other.get(f"/{SLUG}/documents/{sheet['id']}/download").status_code == 404
    assert other.get(f"/{SLUG}/sessions/{world.session_id}/documents").status_code == 404
    assert (
        other.post(
            f"/{SLUG}/sessions/{world.session_id}/documents/generate", data={"kind": "all"}
        ).status_code
        == 404
    )
    # Logged out: to the login page.
    anonymous = app.test_client()
    assert anonymous.get(f"/{SLUG}/documents/{sheet['id']}/download").status_code in (302, 303, 401)


def test_participant_page_lists_their_documents_and_the_trainee_downloads_their_own(
    app, make_tenant, monkeypatch
):
    from blueprints.audit.services import Actor
    from blueprints.documents.models import CERTIFICATE, SESSION_SHEET
    from blueprints.participants.models import Participant
    from blueprints.signing import signin_links
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    fake_renderer(monkeypatch)
    # A session of today: the trainee's link still opens (it expires a week after the session).
    world = english_world(app, make_tenant, first_day=date.today())
    paul, other = world.participant_ids[0], world.participant_ids[1]
    certificate = issue(app, CERTIFICATE, world.session_id, participant_id=paul)
    theirs = issue(app, CERTIFICATE, world.session_id, participant_id=other)
    sheet = issue(app, SESSION_SHEET, world.session_id)
    admin = signed_in(app)
    # The participant's own page leads there.
    assert f'href="/{SLUG}/participants/{paul}/documents"' in admin.get(
        f"/{SLUG}/participants/{paul}"
    ).get_data(as_text=True)
    page = admin.get(f"/{SLUG}/participants/{paul}/documents").get_data(as_text=True)
    assert certificate["verification_code"] in page
    assert theirs["verification_code"] not in page and sheet["verification_code"] not in page

    with tenant_scope(SLUG, app):
        session = db.session.get(TrainingSession, world.session_id)
        link = signin_links.trainee_link(session, db.session.get(Participant, paul), Actor.system())
        token = signin_links.token_of(link, current_tenant())
        db.session.commit()
    trainee = app.test_client()
    trainee.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    signing_page = trainee.get(f"/{SLUG}/sign/{token}").get_data(as_text=True)
    assert f"/{SLUG}/sign/{token}/documents/{certificate['id']}" in signing_page
    assert f"/documents/{theirs['id']}" not in signing_page
    own = trainee.get(f"/{SLUG}/sign/{token}/documents/{certificate['id']}")
    assert own.status_code == 200 and hashlib.sha256(own.data).hexdigest() == certificate["sha256"]
    # Someone else's certificate, the session's sheet, a bad token: all 404.
    assert trainee.get(f"/{SLUG}/sign/{token}/documents/{theirs['id']}").status_code == 404
    assert trainee.get(f"/{SLUG}/sign/{token}/documents/{sheet['id']}").status_code == 404
    assert trainee.get(f"/{SLUG}/sign/not-a-token/documents/{certificate['id']}").status_code == 404
    assert ADMIN  # the admin issued them; the trainee needs no account


def test_no_new_personal_document_for_a_restricted_participant(app, make_tenant, monkeypatch):
    from sqlalchemy import update

    from blueprints.documents.models import CERTIFICATE, Document
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    calls = []
    fake_renderer(monkeypatch, calls)
    world = english_world(app, make_tenant, participants=2, slots=2)
    restricted = world.participant_ids[1]
    with tenant_scope(SLUG, app):
        db.session.execute(
            update(Participant).where(Participant.id == restricted).values(processing_restricted=True)
        )
        db.session.commit()
    admin = signed_in(app)
    url = f"/{SLUG}/sessions/{world.session_id}/documents/generate"
    response = admin.post(url, data={"kind": CERTIFICATE, "participant_id": restricted})
    assert response.status_code == 303 and "task=" not in response.headers["Location"]
    assert "data is restricted: no new document is made" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    # "Make all" leaves them out too; the session's own sheet is made.
    admin.post(url, data={"kind": "all"})
    from tests.conftest import run_jobs

    run_jobs(app)
    assert restricted not in {participant for _kind, participant, _slot in calls}
    assert ("session_sheet", None, None) in calls
    with tenant_scope(SLUG, app):
        assert db.session.scalars(select(Document).where(Document.participant_id == restricted)).all() == []

"""Absence follow-up: a trainee justifies an absence from their page (bad files, someone else's half-day and a
second justification refused plainly); an admin accepts it (the half-day becomes excused, the trainee is told
through the real SMTP server) or refuses it with a reason; the proof is for admins only; the follow-up rule asks
the absent trainee, then warns the admins and the employer contact, never anyone present or restricted, once."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import run_jobs
from tests.tracking.conftest import client_of, tracked


def _pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _pdf()


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


def three_days(app, admin_client, **extra):
    from tenants import find_tenant

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    today = date.today()
    days = [today - timedelta(days=3), today - timedelta(days=2), today + timedelta(days=1)]
    return client, acme, days


def token_for(app, acme, session_id: int, participant_id: int) -> str:
    from blueprints.signing.models import SignInLink
    from blueprints.signing.signin_links import issue_links, token_of
    from blueprints.trainings.models import TrainingSession
    from tenants import Actor, tenant_scope
    from tenants.db import db

    with tenant_scope(acme, app):
        issue_links(
            db.session.get(TrainingSession, session_id),
            Actor.system("test"),
            participant_ids=[participant_id],
        )
        db.session.commit()
        link = db.session.scalars(select(SignInLink).where(SignInLink.participant_id == participant_id)).one()
        return token_of(link, acme)


def test_a_trainee_justifies_an_absence_and_an_admin_decides(app, admin_client, smtp_server):
    from blueprints.signing.models import Attendance
    from blueprints.tracking.models import Justification
    from tenants import tenant_scope
    from tenants.db import db

    admin, acme, days = three_days(app, admin_client)
    world = tracked(
        app,
        acme,
        days=days,
        people=["Alice", "Bruno"],
        facilitator_email="fred@acme.fr",
        marks={("Alice", 0): ("present", 180, 0, 0), ("Alice", 1): ("absent", 0, 0, 0)},
    )
    other = tracked(app, acme, days=days, people=["Carla"], marks={}, title="Other")
    token = token_for(app, acme, world.session_id, world.people["Alice"])
    trainee = app.test_client()
    trainee.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = trainee.get(f"/acme/sign/{token}/absences/")
    assert page.status_code == 200 and "Justify an absence" in page.get_data(as_text=True)

    def send(slot_id, proof=None, reason="illness", **more):
        data = {"slot": str(slot_id), "reason": reason, "text": "Flu", **more}
        if proof is not None:
            data["proof"] = proof
        return trainee.post(f"/acme/sign/{token}/absences/", data=data, content_type="multipart/form-data")

    import io

    # Bad input: a half-day she signed, someone else's session, a reason off the list, a file that is not a
    # PDF or an image, one too large: each refused where she can act, nothing kept.
    refused = [
        send(world.slot_ids[0]),
        send(other.slot_ids[0]),
        send(world.slot_ids[1], reason="holidays"),
        send(world.slot_ids[1], proof=(io.BytesIO(b"MZ\x90\x00 not a pdf"), "proof.pdf")),
        send(world.slot_ids[1], proof=(io.BytesIO(b"%PDF-1.4" + b"0" * (5 * 1024 * 1024)), "big.pdf")),
    ]
    assert [r.status_code for r in refused] == [422] * 5
    texts = [r.get_data(as_text=True) for r in refused]
    assert "there is no absence to justify" in texts[0]
    assert "not one of this trainee" in texts[1]
    assert "Pick the reason" in texts[2]
    assert "PDF, PNG or JPEG" in texts[3] and "larger than 5 MB" in texts[4]
    with tenant_scope(acme, app):
        assert db.session.scalars(select(Justification)).all() == []

    assert send(world.slot_ids[1], proof=(io.BytesIO(PDF), "certificate.pdf")).status_code == 303
    second = send(world.slot_ids[1])
    assert second.status_code == 422 and "already sent for this half-day" in second.get_data(as_text=True)
    with tenant_scope(acme, app):
        (row,) = db.session.scalars(select(Justification)).all()
        row_id = row.id

    # The proof: the organization's admins alone.
    assert admin.get(f"/acme/justifications/{row_id}/proof").data == PDF
    fred = client_of(app, "acme", "fred@acme.fr")
    assert fred.get(f"/acme/justifications/{row_id}/proof").status_code == 403
    grid = fred.get(f"/acme/sessions/{world.session_id}/attendance").get_data(as_text=True)
    assert "Open the proof" not in grid and "/proof" not in grid

    # Refusing needs a reason; accepting makes the half-day excused and tells her.
    no_reason = admin.post(f"/acme/justifications/{row_id}/decide", data={"decision": "refuse"})
    assert no_reason.status_code == 422 and "Say why" in no_reason.get_data(as_text=True)
    assert admin.post(f"/acme/justifications/{row_id}/decide", data={"decision": "accept"}).status_code == 303
    with tenant_scope(acme, app):
        status = db.session.scalars(
            select(Attendance.status).where(
                Attendance.slot_id == world.slot_ids[1], Attendance.participant_id == world.people["Alice"]
            )
        ).one()
        assert status == "excused"
    again = admin.post(
        f"/acme/justifications/{row_id}/decide", data={"decision": "refuse", "decision_reason": "x"}
    )
    assert again.status_code == 422 and "already accepted" in again.get_data(as_text=True)
    run_jobs(app)
    (told,) = [m for m in smtp_server.to("alice@trainee.fr") if "justification" in m["Subject"]]
    assert "accepted" in told["Subject"] and "recorded as excused" in told.get_body(("plain",)).get_content()

    # An admin records one for Bruno, for a half-day to come, and refuses it with a reason he is told.
    recorded = admin.post(
        f"/acme/sessions/{world.session_id}/justifications",
        data={
            "participant": str(world.people["Bruno"]),
            "slot": str(world.slot_ids[4]),
            "reason": "work",
            "text": "",
        },
        content_type="multipart/form-data",
    )
    assert recorded.status_code == 303
    with tenant_scope(acme, app):
        bruno = db.session.scalars(
            select(Justification).where(Justification.participant_id == world.people["Bruno"])
        ).one()
        bruno_id = bruno.id
    assert (
        admin.post(
            f"/acme/justifications/{bruno_id}/decide",
            data={"decision": "refuse", "decision_reason": "No proof of the meeting"},
        ).status_code
        == 303
    )
    run_jobs(app)
    (refusal,) = smtp_server.to("bruno@trainee.fr")
    assert (
        "refused" in refusal["Subject"]
        and "No proof of the meeting" in refusal.get_body(("plain",)).get_content()
    )


def test_the_follow_up_rule_asks_then_warns_the_right_people_once(app, admin_client, smtp_server):
    from blueprints.tracking.models import FollowupStep
    from jobs.tracking import run_followup
    from tenants import tenant_scope
    from tenants.db import db

    admin, acme, days = three_days(app, admin_client)
    world = tracked(
        app,
        acme,
        days=days,
        people=["Alice", "Bruno", "Carla", "Dora"],
        restricted={"Carla"},
        employer={"Alice": "boss@employer.fr"},
        marks={
            ("Bruno", 0): ("present", 180, 0, 0),
            ("Bruno", 1): ("present", 180, 0, 0),
            ("Bruno", 2): ("present", 180, 0, 0),
            ("Bruno", 3): ("present", 180, 0, 0),
            ("Dora", 0): ("present", 180, 0, 0),
            ("Dora", 1): ("present", 180, 0, 0),
            ("Dora", 2): ("present", 180, 0, 0),
        },
    )
    for name in ("Alice", "Dora"):
        token_for(app, acme, world.session_id, world.people[name])
    with app.app_context():
        result = run_followup(acme.id)
    # Alice missed all four half-days signed off; Dora one; Bruno none; Carla four, but restricted.
    assert result == {"sessions": 1, "asked": 2, "warned": 1}
    run_jobs(app)
    (asked,) = [m for m in smtp_server.to("alice@trainee.fr") if "tell us why" in m["Subject"]]
    assert "tell us why" in asked["Subject"]
    link = re.search(r"http://\S+/absences/", asked.get_body(("plain",)).get_content()).group(0)
    assert app.test_client().get(link[link.index("/acme/") :]).status_code == 200
    assert len([m for m in smtp_server.to("dora@trainee.fr") if "tell us why" in m["Subject"]]) == 1
    assert smtp_server.to("bruno@trainee.fr") == [] and smtp_server.to("carla@trainee.fr") == []
    (warned_admin,) = smtp_server.to("ada@acme.fr")
    body = warned_admin.get_body(("plain",)).get_content()
    assert "Alice Doe has 4 unjustified absences" in body and days[0].strftime("%Y") in body
    (warned_boss,) = smtp_server.to("boss@employer.fr")
    assert "employer contact" in warned_boss.get_body(("plain",)).get_content()
    assert (
        "/attendance" not in warned_boss.get_body(("plain",)).get_content()
    )  # no link into the organization

    # Run again: nothing more is sent; each step is kept, and listed on the session.
    with app.app_context():
        assert run_followup(acme.id) == {"sessions": 1, "asked": 0, "warned": 0}
    run_jobs(app)
    assert len([m for m in smtp_server.to("alice@trainee.fr") if "tell us why" in m["Subject"]]) == 1
    assert len(smtp_server.to("ada@acme.fr")) == 1
    with tenant_scope(acme, app):
        steps = {(s.participant_id, s.kind): s.told for s in db.session.scalars(select(FollowupStep))}
    assert steps == {
        (world.people["Alice"], "asked"): ["trainee"],
        (world.people["Alice"], "warned"): ["admins", "employer"],
        (world.people["Dora"], "asked"): ["trainee"],
    }
    page = admin.get(f"/acme/sessions/{world.session_id}/attendance").get_data(as_text=True)
    assert (
        page.count("admins and employer contact warned") == 1 and page.count("asked for a justification") == 2
    )


def test_a_session_of_two_days_or_a_rule_turned_off_asks_nobody(app, admin_client, smtp_server):
    from jobs.tracking import run_followup
    from tenants import tenant_scope
    from tenants.db import db

    admin, acme, days = three_days(app, admin_client)
    tracked(app, acme, days=days[:2], people=["Alice"], marks={})
    with app.app_context():
        assert run_followup(acme.id)["asked"] == 0
    tracked(app, acme, days=days, people=["Eve"], marks={})
    from blueprints.accounts.models import organization

    with tenant_scope(acme, app):
        organization().followup_enabled = False
        db.session.commit()
    with app.app_context():
        assert run_followup(acme.id) == {"sessions": 0, "asked": 0, "warned": 0}


def test_proofs_are_deleted_a_year_after_their_session_and_the_justification_stays(app, admin_client):
    from blueprints.tracking.models import Justification
    from jobs.tracking import purge_absence_proofs
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tenants.storage import storage

    admin, acme, _ = three_days(app, admin_client)
    old_days = [date.today() - timedelta(days=400)]
    recent_days = [date.today() - timedelta(days=300)]
    old = tracked(app, acme, days=old_days, people=["Olga"], marks={}, title="Old")
    recent = tracked(app, acme, days=recent_days, people=["Rita"], marks={}, title="Recent")
    with tenant_scope(acme, app):
        for world, name in ((old, "Olga"), (recent, "Rita")):
            blob = storage().put(PDF, content_type="application/pdf", filename="p.pdf")
            db.session.add(
                Justification(
                    slot_id=world.slot_ids[0],
                    participant_id=world.people[name],
                    reason="illness",
                    text="",
                    proof_blob_id=int(blob.key),
                    proof_content_type="application/pdf",
                )
            )
        db.session.commit()
    with app.app_context():
        assert purge_absence_proofs(acme.id, utcnow().isoformat()) == 1
        assert purge_absence_proofs(acme.id, utcnow().isoformat()) == 0
    with tenant_scope(acme, app):
        rows = {j.participant_id: j for j in db.session.scalars(select(Justification))}
        assert rows[old.people["Olga"]].proof_blob_id is None and rows[old.people["Olga"]].proof_purged_at
        assert rows[recent.people["Rita"]].proof_blob_id is not None


def test_the_follow_up_record_is_a_sealed_pdf_for_admins_only(app, admin_client, smtp_server):
    import io

    from pypdf import PdfReader

    from blueprints.documents.models import FOLLOWUP_RECORD, Document
    from jobs.tracking import run_followup
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    admin, acme, days = three_days(app, admin_client)
    world = tracked(
        app,
        acme,
        days=days,
        people=["Alice"],
        facilitator_email="fred@acme.fr",
        marks={("Alice", 0): ("late", 150, 30, 0)},
    )
    token_for(app, acme, world.session_id, world.people["Alice"])
    with app.app_context():
        run_followup(acme.id)
    fred = client_of(app, "acme", "fred@acme.fr")
    assert (
        fred.post(
            f"/acme/sessions/{world.session_id}/documents/generate", data={"kind": FOLLOWUP_RECORD}
        ).status_code
        == 403
    )
    made = admin.post(f"/acme/sessions/{world.session_id}/documents/generate", data={"kind": FOLLOWUP_RECORD})
    assert made.status_code in (302, 303)
    run_jobs(app)
    with tenant_scope(acme, app):
        document = db.session.scalars(select(Document).where(Document.kind == FOLLOWUP_RECORD)).one()
        document_id, code = document.id, document.verification_code
        _blob, data = storage().get(document.blob_key)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Absence follow-up record" in text and "Alice Doe" in text and "asked for a justification" in text
    assert "+30 min" in text and code in text
    assert admin.get(f"/acme/documents/{document_id}/download").status_code == 200
    assert fred.get(f"/acme/documents/{document_id}/download").status_code == 404
    assert "followup_record" not in fred.get(f"/acme/sessions/{world.session_id}/documents").get_data(
        as_text=True
    )


def test_a_facilitator_sees_that_an_absence_is_justified_not_why(app, admin_client, smtp_server):
    from tenants import tenant_scope
    from tenants.db import db

    admin, acme, days = three_days(app, admin_client)
    world = tracked(app, acme, days=days, people=["Alice"], facilitator_email="fred@acme.fr", marks={})
    with tenant_scope(acme, app):
        from blueprints.tracking.models import Justification

        db.session.add(
            Justification(
                slot_id=world.slot_ids[0],
                participant_id=world.people["Alice"],
                reason="illness",
                text="Migraine",
            )
        )
        db.session.commit()
    fred = client_of(app, "acme", "fred@acme.fr")
    for path in (
        f"/acme/sessions/{world.session_id}/attendance",
        f"/acme/participants/{world.people['Alice']}/attendance",
    ):
        page = fred.get(path).get_data(as_text=True)
        assert "Migraine" not in page and "Illness" not in page, path
        assert "Illness" in admin.get(path).get_data(as_text=True)
    assert "1 justification sent" in fred.get(f"/acme/sessions/{world.session_id}/attendance").get_data(
        as_text=True
    )

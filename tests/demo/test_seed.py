"""The demo organization of ``./dev run``: a showcase made once, through the real services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# A Wednesday at 15:00 in Paris: last week's session is Monday and Tuesday the 16th and 17th; this week's is
# today and tomorrow, its morning over and its afternoon under way.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def demo(app):
    from blueprints.demo.seed import ensure_demo

    with app.app_context():
        assert ensure_demo(now=NOW) is True
    return app


def _counts(app) -> dict:
    from sqlalchemy import func, select

    from blueprints.accounts.models import Organization, User
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing.models import Attendance, SlotState
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import Blob

    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    with tenant_scope("demo", app):
        return {
            "organizations": count(Organization),
            "users": count(User),
            "trainings": count(Training),
            "sessions": count(TrainingSession),
            "slots": count(Slot),
            "participants": count(Participant),
            "enrollments": count(Enrollment),
            "attendances": count(Attendance),
            "signed_off": count(SlotState, SlotState.signed_off_at.is_not(None)),
            "blobs": count(Blob),
        }


def test_the_demo_holds_a_showcase(demo):
    from sqlalchemy import select

    from blueprints.accounts.models import Organization
    from blueprints.demo.seed import TRAINING_TITLE
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.settings.services import activity_number_valid, siret_valid
    from blueprints.signing.models import ABSENT, EXCUSED, FACILITATOR_DEVICE, LATE, ROOM_CODE, Attendance
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    counts = _counts(demo)
    # Last week's session, today's, and last month's three days (the follow-up of absences).
    assert counts["trainings"] == 1 and counts["sessions"] == 3 and counts["slots"] == 14
    assert counts["participants"] == 8 and counts["enrollments"] == 24
    assert counts["signed_off"] == 10  # every slot of last week's session and of last month's
    with tenant_scope("demo", demo):
        org = db.session.scalars(select(Organization)).one()
        assert siret_valid(org.siret) and activity_number_valid(org.activity_number)
        assert (org.representative_name, org.representative_title) == ("Alice Martin", "Directrice")
        assert org.logo_blob_id and org.representative_signature_blob_id
        from blueprints.support.models import SupportGrant

        assert org.support_access == "on-request"
        assert [g.scope for g in db.session.scalars(select(SupportGrant))] == ["read"]
        _month_ago, past, current = db.session.scalars(
            select(TrainingSession).order_by(TrainingSession.start_date)
        )
        assert past.training.title == TRAINING_TITLE
        assert [u.email for u in past.facilitators] == ["formateur@emarge-demo.fr"]
        assert [str(d) for d in (past.start_date, past.end_date)] == ["2026-11-16", "2026-11-17"]
        assert [str(d) for d in (current.start_date, current.end_date)] == ["2026-11-25", "2026-11-26"]

        rows = db.session.scalars(
            select(Attendance).where(Attendance.slot_id.in_([s.id for s in past.slots]))
        ).all()
        assert len(rows) == 32
        by_status = [r.status for r in rows]
        assert by_status.count(ABSENT) == 1 and by_status.count(EXCUSED) == 1 and by_status.count(LATE) == 1
        assert next(r for r in rows if r.status == EXCUSED).reason
        signed = [r for r in rows if r.signed]
        assert len(signed) == 30
        assert {r.method for r in signed} == {ROOM_CODE, FACILITATOR_DEVICE}
        assert len({r.signature_sha256 for r in signed}) == 30  # each drawing its own
        assert any(r.early_minutes for r in signed)

        morning, afternoon, *tomorrow = current.slots
        today = db.session.scalars(
            select(Attendance.slot_id).where(Attendance.slot_id.in_([s.id for s in current.slots]))
        ).all()
        assert today.count(morning.id) == 6  # the morning is over: six of eight signed
        assert 0 < today.count(afternoon.id) <= 6  # under way: the early ones have signed
        assert not any(s.id in today for s in tomorrow)

        people = db.session.scalars(select(Participant)).all()
        assert any(p.mobile == "+33612345678" and p.sms_consent for p in people)
        assert sum(p.company is None for p in people) == 1
        assert {p.language for p in people} == {"fr", "en"}
        assert any(any("\u0370" <= ch <= "\u04ff" for ch in p.last_name) for p in people)
        opco = db.session.scalars(select(Enrollment).filter_by(funder="opco")).all()
        assert opco and all(e.funder_reference for e in opco)


def test_a_second_run_changes_nothing(demo):
    from blueprints.demo.seed import ensure_demo

    before = _counts(demo)
    with demo.app_context():
        assert ensure_demo(now=NOW) is False
    assert _counts(demo) == before


def test_the_demo_admin_sees_the_session_pages(demo):
    from sqlalchemy import select

    from blueprints.demo.seed import PEOPLE
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("demo", demo):
        ids = db.session.scalars(select(TrainingSession.id).order_by(TrainingSession.start_date)).all()
    email, *_, password = PEOPLE[0]
    client = demo.test_client()
    assert client.post("/demo/login", data={"email": email, "password": password}).status_code == 303
    for session_id in ids:
        for page in ("", "/live", "/documents"):
            response = client.get(f"/demo/sessions/{session_id}{page}")
            assert response.status_code == 200, (session_id, page)
    assert "Παπαδοπούλου" in client.get("/demo/participants/").get_data(as_text=True)


def test_flask_demo_says_ready_the_second_time(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "Demo organization created." in first.output
    second = runner.invoke(args=["demo"])
    assert "Demo organization ready." in second.output


@pytest.mark.parametrize(
    ("role", "page"), [("platform-admin", "/staff/team"), ("support", "/staff/requests")]
)
def test_flask_demo_prints_staff_logins_that_work(app, role, page):
    import re

    import pyotp

    out = app.test_cli_runner().invoke(args=["demo"]).output
    found = re.search(rf"{role}\s+(\S+@\S+)\s+/\s+(\S+)\s+authenticator secret ([A-Z2-7]+)", out)
    email, password, secret = found.groups()
    assert "development only" in out
    client = app.test_client()
    signed = client.post(
        "/staff/login", data={"email": email, "password": password, "code": pyotp.TOTP(secret).now()}
    )
    assert signed.status_code == 303
    assert client.get(page).status_code == 200


def test_the_demo_shows_what_support_did(app):
    """A closed request with its reply, the handler's grant, a past support session and its log."""
    from blueprints.support.models import SupportGrant, SupportRequest, SupportRequestMessage, SupportSession
    from tenants import tenant_scope
    from tenants.db import db

    app.test_cli_runner().invoke(args=["demo"])
    with app.app_context():
        (row,) = db.session.scalars(db.select(SupportRequest)).all()
        messages = db.session.scalars(
            db.select(SupportRequestMessage).order_by(SupportRequestMessage.id)
        ).all()
        (past,) = db.session.scalars(db.select(SupportSession)).all()
        assert row.state == "closed" and [m.staff_id is not None for m in messages] == [False, True]
        assert (
            past.ended_at is not None and past.end_reason == "ended" and past.reason == f"Demande #{row.id}"
        )
        with tenant_scope("demo"):
            grant = db.session.get(SupportGrant, row.grant_id)
            assert grant.support_request_id == row.id and grant.staff_id == row.assigned_staff_id
    client = app.test_client()
    from tests.conftest import login

    login(client, "demo", "admin@emarge-demo.fr", "demo-admin-2026!")
    log = client.get(f"/demo/settings/support/sessions/{past.id}").get_data(as_text=True)
    assert "Camille Aide" in log and "/demo/trainings/" in log
    assert "Attestations" in client.get(f"/demo/support/requests/{row.id}").get_data(as_text=True)


def test_the_demo_has_a_changelog(app):
    app.test_cli_runner().invoke(args=["demo"])
    page = app.test_client().get("/changelog", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The changelog" in page and "Clearer attendance sheets" in page
    assert "<strong>the time of each signature</strong>" in page and "Draft: export" not in page


def test_production_has_no_demo_staff(app, monkeypatch):
    from blueprints.demo.support import ensure_demo_staff
    from blueprints.staff.models import Staff
    from tenants.db import db

    monkeypatch.setitem(app.config, "EMARGE_ENV", "production")  # the app is pooled: given back as it was
    with app.app_context():
        assert ensure_demo_staff() is False
        assert db.session.scalars(db.select(Staff)).first() is None


def test_the_demo_has_a_breach_register(app):
    from tests.conftest import login
    from tests.privacy.conftest import sign_in_staff

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, (result.output, result.exception)
    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(admin, "demo", "admin@emarge-demo.fr", "demo-admin-2026!").status_code == 303
    # The follow-up is not acknowledged yet: the admin sees the banner, then the notice with its update.
    assert "security-notice-banner" in admin.get("/demo/").get_data(as_text=True)
    notices = admin.get("/demo/security-notices/").get_data(as_text=True)
    assert "mauvaise adresse" in notices and "Sauvegarde chiffr" not in notices
    staff = app.test_client()
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, staff, email="root@emarge.fr")
    register = staff.get("/staff/breaches").get_data(as_text=True)
    assert "mauvaise adresse" in register and "Notified 20 h 00 min after discovery" in register
    assert "Sauvegarde chiffr" in register and "Not notified" in register


def test_the_demo_has_personal_data_requests(demo):
    from sqlalchemy import select

    from blueprints.rights.models import RightsRequest
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("demo", demo):
        rows = db.session.scalars(select(RightsRequest).order_by(RightsRequest.id)).all()
        assert [(r.kind, r.channel, r.status) for r in rows] == [
            ("access", "letter", "open"),
            ("objection", "email", "answered"),
        ]


def test_the_demo_shows_tracking_with_a_justification_an_anomaly_and_a_follow_up(demo):
    from sqlalchemy import select

    from blueprints.accounts.models import organization
    from blueprints.tracking import anomalies
    from blueprints.tracking.models import FollowupStep, Justification
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("demo", demo):
        statuses = sorted(j.status for j in db.session.scalars(select(Justification)))
        assert statuses == ["accepted", "pending"]
        steps = {(s.kind, tuple(s.told)) for s in db.session.scalars(select(FollowupStep))}
        assert steps == {("asked", ("trainee",)), ("warned", ("admins", "employer"))}
        long = db.session.scalars(select(TrainingSession).order_by(TrainingSession.start_date)).first()
        codes = {f.code for f in anomalies.of_sessions([long.id], organization())[long.id]}
        assert "same_image" in codes

"""Every period defined once (tenants/retention.py) and applied: each purge deletes what is a day past its period
and keeps what is a day younger; the registry is what the retention page, the privacy policy and the record of
processing say, and a period changed in the code publishes a new version of the policy; an organization may
choose a shorter period after its end of service, and the retention engine drops it at its end."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import login, run_jobs

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


def text(response) -> str:
    return response.get_data(as_text=True)


def count(app, model, tenant=None) -> int:
    from tenants import tenant_scope
    from tenants.db import db

    if tenant is None:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(model))
    with tenant_scope(tenant, app):
        return db.session.scalar(select(func.count()).select_from(model))


# --- each purge on its own schedule ----------------------------------------------------------------------------


def test_audit_trail_and_message_log_keep_12_months_and_sign_in_links_30_days_past_expiry(app, make_tenant):
    from blueprints.audit.models import AuditEvent
    from blueprints.messages.models import Message
    from blueprints.participants.models import Participant
    from blueprints.signing.models import TRAINEE, SignInLink
    from blueprints.trainings.models import Training, TrainingSession
    from jobs.maintenance import purge_expired_tokens, purge_logs
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.retention import PERIODS

    acme = make_tenant("acme", admin="ada@acme.fr")
    year = PERIODS["audit_trail"].before(NOW)
    with tenant_scope(acme, app):
        for label, moment in (("old", year - timedelta(days=1)), ("young", year + timedelta(days=1))):
            db.session.add(
                AuditEvent(
                    actor_kind="system", actor_label=label, action="participant.created", occurred_at=moment
                )
            )
            for status in ("sent", "pending"):
                db.session.add(
                    Message(template="t", recipient="p@x.fr", subject=label, status=status, created_at=moment)
                )
        training = Training(title="Excel", planned_hours=7)
        session = TrainingSession(training=training, start_date=date(2025, 1, 6), end_date=date(2025, 1, 7))
        people = [Participant(first_name=f"P{n}", last_name="Doe", email=f"p{n}@x.fr") for n in range(3)]
        db.session.add_all([training, session, *people])
        db.session.flush()
        kept_id = people[1].id
        for person, expired, revoked in (
            (people[0], NOW - timedelta(days=31), None),  # expired a month ago: gone
            (people[1], NOW - timedelta(days=29), None),  # expired 29 days ago: still says "expired"
            (people[2], NOW + timedelta(days=60), NOW - timedelta(days=31)),  # withdrawn a month ago: gone
        ):
            db.session.add(
                SignInLink(
                    kind=TRAINEE,
                    session_id=session.id,
                    participant_id=person.id,
                    nonce="n" * 32,
                    expires_at=expired,
                    revoked_at=revoked,
                )
            )
        db.session.commit()
    before = count(app, AuditEvent, acme)

    with app.app_context():
        assert purge_logs(acme.id, NOW.isoformat()) == {"audit_events": 1, "dev_sms": 0, "messages": 1}
        assert purge_expired_tokens(acme.id)["sign_in_links"] == 2
        assert purge_logs(acme.id, NOW.isoformat())["audit_events"] == 0  # twice the same day: nothing more
    with tenant_scope(acme, app):
        labels = db.session.scalars(select(AuditEvent.actor_label)).all()
        assert "old" not in labels and "young" in labels and len(labels) == before - 1
        left = db.session.execute(select(Message.subject, Message.status).order_by(Message.id)).all()
        # The old sent message is gone; one still waiting to be sent is never purged.
        assert sorted(left) == [("old", "pending"), ("young", "pending"), ("young", "sent")]
        (link,) = db.session.scalars(select(SignInLink)).all()
        assert link.participant_id == kept_id


def test_the_platform_logs_keep_12_months_and_consent_proofs_13(app, make_tenant):
    from blueprints.privacy.models import ConsentProof
    from blueprints.staff.models import StaffEvent
    from blueprints.support.models import SupportSession, SupportSessionEvent
    from jobs.maintenance import purge_platform_logs
    from tenants.db import db
    from tenants.retention import PERIODS
    from tests.privacy.conftest import make_staff

    acme = make_tenant("acme", admin="ada@acme.fr")
    staff_id = make_staff(app)
    year = PERIODS["platform_logs"].before(NOW)
    thirteen = PERIODS["consent_proofs"].before(NOW)
    with app.app_context():
        for n, moment in enumerate((year - timedelta(days=1), year + timedelta(days=1))):
            db.session.add(StaffEvent(staff_id=staff_id, action="staff.test", at=moment))
            support = SupportSession(
                staff_id=staff_id,
                tenant_id=acme.id,
                user_id=1,
                reason="help",
                key_hash=f"{n}" * 64,
                started_at=moment - timedelta(hours=1),
                expires_at=moment,
                ended_at=moment,
            )
            db.session.add(support)
            db.session.flush()
            db.session.add(
                SupportSessionEvent(support_session_id=support.id, kind="view", method="GET", path="/")
            )
        for n, moment in enumerate((thirteen - timedelta(days=1), thirteen + timedelta(days=1))):
            db.session.add(
                ConsentProof(
                    consent_id=f"{n}" * 32,
                    action="refuse",
                    policy_version=1,
                    banner_version="1",
                    created_at=moment,
                )
            )
        db.session.commit()
        events_before = db.session.scalar(select(func.count()).select_from(StaffEvent))

        assert purge_platform_logs(NOW.isoformat()) == {
            "staff_events": 1,
            "support_session_events": 1,
            "support_sessions": 1,
            "consent_proofs": 1,
        }
        assert db.session.scalar(select(func.count()).select_from(StaffEvent)) == events_before - 1
        assert db.session.scalars(select(SupportSession.ended_at)).one() == year + timedelta(days=1)
        assert db.session.scalar(select(func.count()).select_from(SupportSessionEvent)) == 1
        assert db.session.scalars(select(ConsentProof.created_at)).one() == thirteen + timedelta(days=1)
        assert set(purge_platform_logs(NOW.isoformat()).values()) == {0}


# --- one registry, said everywhere -----------------------------------------------------------------------------


def test_every_period_is_enforced_by_a_scheduled_job_and_listed_on_the_retention_page(app, client):
    from jobs import SCHEDULE
    from tenants.retention import PERIODS

    scheduled = {job.name for job in SCHEDULE}
    assert {p.key: p.job for p in PERIODS.values() if p.job not in scheduled} == {}
    for language, sample in (("fr", "12\u00a0mois"), ("en", "12\u00a0months")):
        page = text(client.get("/privacy/retention", headers={"Accept-Language": language}))
        assert set(re.findall(r'<tr data-period="([a-z_]+)"', page)) == set(PERIODS)
        assert sample in page
    policy = text(client.get("/privacy", headers={"Accept-Language": "en"}))
    assert set(re.findall(r'data-period="([a-z_]+)"', policy)) == set(PERIODS)
    assert 'href="/privacy/retention"' in policy


def test_a_period_changed_in_the_code_publishes_a_new_version_of_the_policy_once(app, client, monkeypatch):
    from blueprints.privacy import policy_versions
    from tenants import retention
    from tenants.db import db

    with app.app_context():
        before = policy_versions.latest("privacy")
        assert policy_versions.ensure_defaults(db.session) is False  # the registry as published
        longer = dataclasses.replace(retention.PERIODS["audit_trail"], amount=18)
        monkeypatch.setitem(retention.PERIODS, "audit_trail", longer)
        assert policy_versions.ensure_defaults(db.session) is True
        db.session.commit()
        after = policy_versions.latest("privacy")
        assert after.number == before.number + 1
        assert (
            "12\u00a0months → 18\u00a0months" in after.summary_en
            and "12\u00a0mois → 18\u00a0mois" in after.summary_fr
        )
        assert policy_versions.ensure_defaults(db.session) is False  # once
        # The earlier version still reads as it was published.
        assert "12\u00a0months after each event" in policy_versions.version("privacy", before.number).body_en
    page = text(client.get("/privacy", headers={"Accept-Language": "en"}))
    assert "18\u00a0months after each event" in page and "12\u00a0months after each event" not in page
    assert text(client.get(f"/privacy/privacy/v{before.number}")).count("data-period=") == len(
        retention.PERIODS
    )


# --- the record of processing -----------------------------------------------------------------------------------


def test_the_record_of_processing_is_written_from_the_periods_and_the_sub_processors(app, make_tenant):
    from blueprints.privacy import policy_versions, processing
    from tenants.db import db

    make_tenant(
        "acme", admin="ada@acme.fr", facilitators=("fay@acme.fr",), name="Acme Formation", language="en"
    )
    with app.app_context():
        policy_versions.save_sub_processor(
            None,
            name="Far Cloud",
            role_fr="Sauvegardes",
            role_en="Backups",
            country="Canada",
            leaves_eu=True,
            safeguards="adequacy decision",
            position=9,
        )
        db.session.commit()
    facilitator = app.test_client()
    login(facilitator, "acme", "fay@acme.fr")
    assert facilitator.get("/acme/settings/processing").status_code == 403
    assert facilitator.get("/acme/settings/processing.csv").status_code == 403

    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(admin, "acme", "ada@acme.fr")
    page = text(admin.get("/acme/settings/processing"))
    assert set(re.findall(r'data-activity="([a-z]+)"', page)) == {a.key for a in processing.ACTIVITIES}
    assert "Acme Formation" in page and "OVHcloud" in page and "Far Cloud" in page
    assert "Far Cloud (Canada, adequacy decision)" in page  # its transfer outside the EU
    assert "Legal obligation (GDPR, art. 6(1)(c))" in page and "L6353-1" in page
    assert "12\u00a0months after each event" in page
    assert "3\u00a0years" in re.search(r"data-keeping>(.*?)</dd>", page, re.S).group(1)

    # The period the organization chose is the one its record states.
    assert admin.post("/acme/settings/keeping", data={"keep_months": "12"}).status_code == 303
    page = text(admin.get("/acme/settings/processing"))
    assert "12\u00a0months" in re.search(r"data-keeping>(.*?)</dd>", page, re.S).group(1)
    assert "12\u00a0months after the end of the service" in page
    sheet = admin.get("/acme/settings/processing.csv")
    assert sheet.headers["Content-Disposition"].endswith('acme-record-of-processing.csv"')
    lines = sheet.get_data().decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("Processing;Purpose;Legal basis") and len(lines) == 1 + len(
        processing.ACTIVITIES
    )


# --- a shorter period, chosen by the organization ---------------------------------------------------------------


def test_an_organization_chooses_a_shorter_period_and_is_dropped_at_its_end(app, make_tenant, smtp_server):
    from blueprints.audit.models import AuditEvent
    from jobs.retention import run_retention
    from tenants import find_tenant, tenant_scope
    from tenants.db import db
    from tenants.models import Tenant
    from tenants.retention import add_months

    acme = make_tenant("acme", admin="ada@acme.fr", language="en")
    soon = make_tenant("soon", admin="sue@soon.fr", language="en")
    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(admin, "acme", "ada@acme.fr")

    # Bad input: a period not offered, or no number at all, is refused where it was typed; nothing changes.
    for value in ("7", "abc", "-12"):
        refused = admin.post("/acme/settings/keeping", data={"keep_months": value})
        assert refused.status_code == 422
    with app.app_context():
        assert find_tenant(slug="acme").keep_months is None
    assert admin.post("/acme/settings/keeping", data={"keep_months": "6"}).status_code == 303
    with tenant_scope(acme, app):
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "organization.keeping_chosen")
        ).one()
        assert event.details["months"] == 6 and event.details["previous"] == 36

    # Closed 6 months and a day ago with 6 months chosen: dropped. Closed with 6 months to run and a month
    # chosen, less than 7 days away: refused, it is a deletion.
    with app.app_context():
        db.session.execute(
            update(Tenant)
            .where(Tenant.slug == "acme")
            .values(end_of_service_at=add_months(NOW, -6) - timedelta(days=1))
        )
        db.session.execute(
            update(Tenant)
            .where(Tenant.slug == "soon")
            .values(end_of_service_at=add_months(NOW, -1) + timedelta(days=3))
        )
        db.session.commit()
    closed = app.test_client()
    closed.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(closed, "soon", "sue@soon.fr")
    refused = closed.post("/soon/settings/keeping", data={"keep_months": "1"})
    assert refused.status_code == 422 and "less than 7 days from now" in text(refused)
    # A closed organization's admin may still choose a shorter period, or ask for the deletion.
    assert closed.post("/soon/settings/keeping", data={"keep_months": "3"}).status_code == 303
    assert "Closed on" in text(closed.get("/soon/settings/closing"))

    with app.app_context():
        assert run_retention(NOW.isoformat()) == {"drops": 1, "warnings": 0}
    run_jobs(app)
    with app.app_context():
        assert find_tenant(slug="acme").status == "deleted"
        assert find_tenant(slug="soon").status != "deleted"
    assert closed.post("/soon/settings/delete", data={"typed": "soon"}).status_code == 303
    with app.app_context():
        assert find_tenant(slug=soon.slug).deletion_requested_at is not None

"""Reminders before and after each slot's start, the facilitators' end-of-slot summary, and their settings."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import dates

from tenants import current_tenant
from tests.conftest import login
from tests.messages.outreach_world import build_outreach_world, dev_sms, english, messages, text


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def client(app):
    return english(app.test_client())


def _run(app, world, at) -> dict:
    """The reminder job for ``world``'s tenant, as if it were ``at``: straight, in this process."""
    from jobs.reminders import send_tenant_reminders

    with app.app_context():
        return send_tenant_reminders(world.tenant_id, at.isoformat())


def _run_in_worker(app, world, at, jobs) -> None:
    """The minute's pass, through the job runner (a real RQ worker on PostgreSQL): the tenants the work index
    says are due at ``at`` get their job."""
    from jobs import MESSAGING, enqueue

    with app.app_context():
        enqueue("jobs.fanout.fan_out", "reminders", at.isoformat(), queue=MESSAGING)
    jobs()


def _record(app, world, person: str, status: str, slot_id=None) -> None:
    from blueprints.signing.models import Attendance
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        db.session.add(
            Attendance(
                slot_id=slot_id or world.slot_id,
                participant_id=world.people[person],
                status=status,
                signed_at=world.start + timedelta(minutes=2) if status in ("present", "late") else None,
                signature_sha256="0" * 64 if status in ("present", "late") else None,
                reason="doctor" if status == "excused" else None,
            )
        )
        db.session.commit()


def _recipients(app, world, template: str) -> list[str]:
    return sorted(m.recipient for m in messages(app, world.slug, template=template, slot_id=world.slot_id))


def _invite(app, world, person: str):
    """A person sends ``person`` their invitation, as the session page does; how they were reached."""
    from blueprints.audit.services import Actor
    from blueprints.messages import outreach
    from blueprints.participants.models import Participant
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        session = db.session.get(TrainingSession, world.session_id)
        participant = db.session.get(Participant, world.people[person])
        reached = outreach.invite(session, participant, Actor.system(), tenant=current_tenant())
        db.session.commit()
        return reached


def _settings(app, **values) -> None:
    from blueprints.accounts.models import organization
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("acme", app):
        org = organization()
        for name, value in values.items():
            setattr(org, name, value)
        db.session.commit()


def test_reminder_before_the_slot_at_the_right_moment_once(app, make_tenant, smtp_server, jobs):
    world = build_outreach_world(
        app, make_tenant, channels="both", invited=True
    )  # defaults: 60 min before, 15 after
    start = world.start

    # Too early: nothing.
    assert _run(app, world, start - timedelta(minutes=61))["before"] == 0
    # In the hour before: everyone expected, by each of their channels; never the restricted or archived.
    _run_in_worker(app, world, start - timedelta(minutes=59), jobs)
    expected = ["+33612345678", "+33612345679", "ann@client.fr", "bob@client.fr", "dan@client.fr"]
    assert _recipients(app, world, "reminder_before") == expected
    # Run again, and again later in the window: nobody gets a second one.
    assert _run(app, world, start - timedelta(minutes=30))["before"] == 0
    _run_in_worker(app, world, start - timedelta(minutes=1), jobs)
    assert _recipients(app, world, "reminder_before") == expected
    jobs()
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_server.messages) == expected[2:]
    body = smtp_server.to("ann@client.fr")[0].get_body(("plain",)).get_content()
    # The start in the session's zone (Paris), the personal link, the organization and the reason.
    # English writes times and dates as British English does (24-hour clock, day before month).
    assert dates.format_time(start, "short", tzinfo=ZoneInfo("Europe/Paris"), locale="en_GB") in body
    assert "http://localhost/acme/sign/" in body
    assert "you are enrolled in Safety at work with Acme Formation" in body
    assert sorted(s.recipient for s in dev_sms(app, "acme")) == expected[:2]


def test_no_reminder_reaches_a_participant_before_their_first_invitation(app, make_tenant, jobs):
    from sqlalchemy import delete

    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    world = build_outreach_world(app, make_tenant, invited=True)
    with tenant_scope("acme", app):  # Dan was enrolled after the invitations went out: none for him yet
        db.session.execute(delete(Message).where(Message.participant_id == world.people["dan"]))
        db.session.commit()
    _run(app, world, world.start - timedelta(minutes=50))
    assert _recipients(app, world, "reminder_before") == ["ann@client.fr", "bob@client.fr"]
    # Once invited, the next run reminds him too.
    assert _invite(app, world, "dan").reachable
    _run(app, world, world.start - timedelta(minutes=40))
    assert _recipients(app, world, "reminder_before") == ["ann@client.fr", "bob@client.fr", "dan@client.fr"]


def test_a_before_reminder_whose_moment_passed_is_not_sent_late(app, make_tenant, jobs):
    world = build_outreach_world(app, make_tenant)
    # The app was down for the whole hour before the slot: at the start, it is too late for "before".
    result = _run(app, world, world.start + timedelta(minutes=1))
    assert result["before"] == 0 and result["late"] == 0
    # Turned off (0): nothing either, even at the right moment.
    _settings(app, reminder_before_minutes=0)
    assert _run(app, world, world.start - timedelta(minutes=10))["before"] == 0
    assert messages(app, "acme") == []


def test_late_reminder_only_to_those_who_have_not_signed(app, make_tenant, smtp_server, jobs):
    world = build_outreach_world(app, make_tenant, channels="email", invited=True)
    _settings(app, reminder_before_minutes=0)
    start = world.start
    _record(app, world, "ann", "present")  # signed
    _record(app, world, "dan", "excused")  # marked by the facilitator: handled
    # Before reminder_after_minutes: nothing yet.
    assert _run(app, world, start + timedelta(minutes=14))["late"] == 0
    # After: only Bob (Cid and Eve have no address; Rita and Arch are never messaged).
    _run_in_worker(app, world, start + timedelta(minutes=16), jobs)
    assert _recipients(app, world, "reminder_late") == ["bob@client.fr"]
    # Twice, or later while the slot is open: once.
    assert _run(app, world, start + timedelta(minutes=17))["late"] == 0
    assert _run(app, world, start + timedelta(minutes=90))["late"] == 0
    jobs()
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == ["bob@client.fr"]
    assert "not signed yet" in smtp_server.messages[0].get_body(("plain",)).get_content()

    # The next slot: closed by the facilitator before the reminder moment, nobody is reminded.
    from blueprints.audit.services import Actor
    from blueprints.signing import signoffs
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db

    next_start = start + timedelta(days=1)
    with tenant_scope("acme", app):
        signoffs.close_slot(db.session.get(Slot, world.next_slot_id), Actor.system(), now=next_start)
        db.session.commit()
    assert _run(app, world, next_start + timedelta(minutes=20))["late"] == 0
    # And after a slot has ended, no late reminder at all.
    assert _run(app, world, next_start + timedelta(hours=3, minutes=5))["late"] == 0


def test_slot_summary_once_to_the_sessions_facilitators(app, make_tenant, smtp_server, jobs):
    world = build_outreach_world(app, make_tenant)
    _settings(app, reminder_before_minutes=0, reminder_after_minutes=0)
    _record(app, world, "ann", "present")
    _record(app, world, "bob", "late")
    _record(app, world, "dan", "excused")
    _record(app, world, "cid", "absent")
    end = world.start + timedelta(hours=3)
    # Not before the slot ends.
    assert _run(app, world, end - timedelta(minutes=1))["summaries"] == 0
    _run_in_worker(app, world, end + timedelta(minutes=1), jobs)
    _run_in_worker(app, world, end + timedelta(minutes=3), jobs)
    jobs()
    # Fred facilitates the session; Olga does not.
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [world.facilitator]
    body = smtp_server.messages[0].get_body(("plain",)).get_content().replace("\r\n", "\n")
    for line in (
        "Signed: 1\n- Ann Client",
        "Late: 1\n- Bob Client",
        "Absent: 1\n- Cid Client",
        "Excused: 1\n- Dan Client (doctor)",
        "Not recorded: 3",
        f"http://localhost/acme/slots/{world.slot_id}/live",
    ):
        assert line in body, line
    # Summaries long overdue (the app was down) are not sent; turned off, none at all.
    assert _run(app, world, end + timedelta(hours=5))["summaries"] == 0
    _settings(app, slot_summary=False)
    next_end = world.start + timedelta(days=1, hours=3)
    assert _run(app, world, next_end + timedelta(minutes=1))["summaries"] == 0


VALID = {
    "name": "Acme Formation",
    "address": "1 rue X",
    "postal_code": "75001",
    "city": "Paris",
    "contact_email": "ada@acme.fr",
    "morning_start": "09:00",
    "morning_end": "12:30",
    "afternoon_start": "13:30",
    "afternoon_end": "17:00",
    "late_tolerance_minutes": "10",
    "language": "en",
    "timezone": "Europe/Paris",
    "signin_channels": "email",
    "reminder_before_minutes": "30",
    "reminder_after_minutes": "0",
}


def test_reminder_settings_are_checked(app, client, make_tenant):
    from blueprints.accounts.models import organization
    from tenants import tenant_scope

    make_tenant("acme", admin="ada@acme.fr", language="en")
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    page = text(client.get("/acme/settings/"))
    assert "Reminder before each slot (minutes)" in page and 'name="slot_summary"' in page

    for field, value, message in (
        ("reminder_before_minutes", "-5", "Between 0 and 1440 minutes (24 hours)."),
        ("reminder_after_minutes", "100000", "Between 0 and 1440 minutes (24 hours)."),
        ("reminder_before_minutes", "", "Enter a number of minutes (0 turns the reminder off)."),
        ("reminder_after_minutes", "ten", "Not a valid integer value."),
    ):
        refused = client.post("/acme/settings/", data={**VALID, field: value})
        assert refused.status_code == 422, (field, value)
        assert message in text(refused), (field, value)
    with tenant_scope("acme", app):
        org = organization()
        assert (org.reminder_before_minutes, org.reminder_after_minutes, org.slot_summary) == (60, 15, True)

    saved = client.post("/acme/settings/", data=VALID)  # slot_summary unticked
    assert saved.status_code == 303
    with tenant_scope("acme", app):
        org = organization()
        assert (org.reminder_before_minutes, org.reminder_after_minutes, org.slot_summary) == (30, 0, False)
    client.post("/acme/settings/", data={**VALID, "slot_summary": "y", "reminder_after_minutes": "1440"})
    with tenant_scope("acme", app):
        org = organization()
        assert (org.reminder_after_minutes, org.slot_summary) == (1440, True)


def test_a_withdrawn_link_is_not_sent_by_the_job_but_an_invitation_renews_it(app, make_tenant, jobs):
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Participant
    from blueprints.signing import signin_links
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    world = build_outreach_world(app, make_tenant, invited=True)
    with tenant_scope("acme", app):
        session = db.session.get(TrainingSession, world.session_id)
        bob = db.session.get(Participant, world.people["bob"])
        signin_links.revoke_link(signin_links.trainee_link(session, bob, Actor.system()), Actor.system())
        db.session.commit()
    _run(app, world, world.start - timedelta(minutes=30))
    assert _recipients(app, world, "reminder_before") == ["ann@client.fr", "dan@client.fr"]

    # A person sending the invitation means Bob should have a working link: a new one is made.
    assert _invite(app, world, "bob").channels == ("email",)
    invitation = messages(app, "acme", template="invitation_signin", participant_id=world.people["bob"])[-1]
    path = re.search(r"http://localhost(/acme/sign/\S+)", invitation.body_text).group(1)
    assert english(app.test_client()).get(path).status_code == 200

"""The home page: today's and the next working day's half-days, and what needs action, on hand-built cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import login

PARIS = ZoneInfo("Europe/Paris")
# A Thursday morning in Paris: the next working day is Friday.
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=PARIS).astimezone(UTC)
TODAY = date(2026, 12, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def test_the_next_working_day_skips_weekends_and_public_holidays():
    from blueprints.today.services import working_days

    assert working_days(date(2026, 12, 3)) == (date(2026, 12, 3), date(2026, 12, 4))
    assert working_days(date(2026, 12, 4)) == (date(2026, 12, 4), date(2026, 12, 7))  # Friday → Monday
    assert working_days(date(2026, 12, 5)) == (date(2026, 12, 5), date(2026, 12, 7))  # Saturday → Monday
    assert working_days(date(2026, 12, 24)) == (date(2026, 12, 24), date(2026, 12, 28))  # Christmas, weekend


def real_today() -> date:
    return datetime.now(PARIS).date()


def _org(app, make_tenant, today: date = TODAY):
    """Acme: Fred runs "Safety" (today and the next day), Olga runs "Excel" (today)."""
    TODAY = today  # noqa: N806 - the cases read as the module's fixed day
    from blueprints.accounts.models import User
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr", "olga@acme.fr"), language="en")
    with tenant_scope("acme", app):
        users = {u.email: u for u in db.session.query(User)}

        def session(title, facilitator, start, end):
            found = TrainingSession(
                training=Training(title=title, planned_hours=14),
                start_date=start,
                end_date=end,
                timezone="Europe/Paris",
                location_name="Room 4",
            )
            found.facilitators = [users[facilitator]]
            db.session.add(found)
            return found

        safety = session("Safety", "fred@acme.fr", TODAY, TODAY + timedelta(days=1))
        excel = session("Excel", "olga@acme.fr", TODAY, TODAY)
        slots = {}
        for name, s, day, hour in (
            ("safety-am", safety, TODAY, 9),
            ("safety-pm", safety, TODAY, 14),
            ("safety-fri", safety, TODAY + timedelta(days=1), 9),
            ("excel-am", excel, TODAY, 9),
        ):
            slots[name] = Slot(session=s, day=day, starts_at=at(day, hour), ends_at=at(day, hour + 3))
            db.session.add(slots[name])
        people = {
            name: Participant(
                first_name=name, last_name="Durand", email=f"{name.lower()}@client.fr", language="en"
            )
            for name in ("Ines", "Paul", "Zoe")
        }
        db.session.add_all(people.values())
        db.session.flush()
        for p in people.values():
            db.session.add(Enrollment(session_id=safety.id, participant_id=p.id))
        db.session.add(Enrollment(session_id=excel.id, participant_id=people["Zoe"].id))
        db.session.commit()
        return {
            "users": {k: v.id for k, v in users.items()},
            "slots": {k: v.id for k, v in slots.items()},
            "people": {k: v.id for k, v in people.items()},
            "sessions": {"safety": safety.id, "excel": excel.id},
        }


def _sign(app, slot_id: int, participant_id: int):
    """A signature lands (recorded as the paper mark records one: the half-day's version moves)."""
    from blueprints.signing import live
    from blueprints.signing.models import PAPER, PRESENT, Attendance
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("acme", app):
        db.session.add(
            Attendance(
                slot_id=slot_id, participant_id=participant_id, status=PRESENT, signed_at=NOW, method=PAPER
            )
        )
        live.touch(slot_id)
        db.session.commit()


def _agenda(app, email: str, now=NOW, shown=20):
    from blueprints.accounts.models import User
    from blueprints.today import services
    from blueprints.trainings.access import sessions_query
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("acme", app):
        user = db.session.query(User).filter_by(email=email).one()
        page = services.page_of_half_days(sessions_query(user), services.working_days(TODAY), shown=shown)
        found = services.agenda(page, now)
        return [
            (h.session.training.title, h.slot.day, h.signed, h.expected, [p.first_name for p in h.unsigned])
            for h in found.half_days
        ], found.total


def _actions(app, email: str, now=NOW):
    from blueprints.accounts.models import User
    from blueprints.today import services
    from blueprints.trainings.access import sessions_query
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("acme", app):
        user = db.session.query(User).filter_by(email=email).one()
        found = services.needs_action(sessions_query(user), TODAY, now, admin=user.is_admin)
        return {
            a.kind: (a.count, [getattr(i, "id", None) or (i[0].id, i[1]) for i in a.items]) for a in found
        }


def test_a_facilitator_sees_their_half_days_with_who_has_not_signed(app, make_tenant):
    ids = _org(app, make_tenant)
    _sign(app, ids["slots"]["safety-am"], ids["people"]["Paul"])
    fred, total = _agenda(app, "fred@acme.fr")
    assert total == 3
    assert fred == [
        ("Safety", TODAY, 1, 3, ["Ines", "Zoe"]),
        ("Safety", TODAY, 0, 3, ["Ines", "Paul", "Zoe"]),
        ("Safety", TODAY + timedelta(days=1), 0, 3, ["Ines", "Paul", "Zoe"]),
    ]
    olga, _ = _agenda(app, "olga@acme.fr")
    assert olga == [("Excel", TODAY, 0, 1, ["Zoe"])]
    admin, total = _agenda(app, "ada@acme.fr")
    assert total == 4 and [row[0] for row in admin] == ["Safety", "Excel", "Safety", "Safety"]


def test_an_organization_with_nothing_to_do_sees_no_action(app, make_tenant):
    _org(app, make_tenant)
    # Nothing ended yet, no message, every participant reachable: only the invitations are still to send.
    assert set(_actions(app, "ada@acme.fr", now=at(TODAY, 8))) == {"uninvited"}
    from blueprints.audit.services import Actor
    from blueprints.messages import outreach
    from blueprints.trainings.models import TrainingSession
    from tenants import current_tenant, tenant_scope
    from tenants.db import db

    with tenant_scope("acme", app):
        for session in db.session.query(TrainingSession):
            outreach.invite_all(session, Actor.system(), tenant=current_tenant())
        db.session.commit()
    assert _actions(app, "ada@acme.fr", now=at(TODAY, 8)) == {}
    assert _actions(app, "fred@acme.fr", now=at(TODAY, 8)) == {}


def test_what_needs_action_on_hand_built_cases(app, make_tenant):
    from blueprints.documents.models import CERTIFICATE, Document
    from blueprints.messages.models import FAILED, SENT, Message
    from blueprints.messages.outreach import INVITATION
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing.models import SlotState
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    ids = _org(app, make_tenant)
    with tenant_scope("acme", app):
        # A past session, ended two days ago: one half-day signed off, one not; Paul has his certificate.
        past = TrainingSession(
            training=Training(title="First aid", planned_hours=7),
            start_date=TODAY - timedelta(days=2),
            end_date=TODAY - timedelta(days=2),
            timezone="Europe/Paris",
        )
        db.session.add(past)
        day = TODAY - timedelta(days=2)
        signed_off = Slot(session=past, day=day, starts_at=at(day, 9), ends_at=at(day, 12))
        forgotten = Slot(session=past, day=day, starts_at=at(day, 14), ends_at=at(day, 17))
        db.session.add_all([signed_off, forgotten])
        db.session.flush()
        db.session.get(SlotState, signed_off.id).signed_off_at = NOW - timedelta(days=2)
        for name in ("Paul", "Zoe"):
            db.session.add(Enrollment(session_id=past.id, participant_id=ids["people"][name]))
        db.session.add(
            Document(
                kind=CERTIFICATE,
                subject_key="x",
                session_id=past.id,
                participant_id=ids["people"]["Paul"],
                blob_key="k",
                filename="c.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                verification_code="ABCD-EFGH",
            )
        )
        # Safety starts today: Ines was invited, Paul's invitation failed, Zoe was never invited.
        for name, status in (("Ines", SENT), ("Paul", FAILED)):
            db.session.add(
                Message(
                    template=INVITATION,
                    recipient=f"{name.lower()}@client.fr",
                    subject="Invitation",
                    status=status,
                    session_id=ids["sessions"]["safety"],
                    participant_id=ids["people"][name],
                )
            )
        # A failed message sent again does not need action; the failed invitation above does.
        old = Message(template="reminder_before", recipient="x@client.fr", subject="R", status=FAILED)
        db.session.add(old)
        db.session.flush()
        db.session.add(
            Message(template="reminder_before", recipient="x@client.fr", subject="R", resend_of_id=old.id)
        )
        # Someone nobody can reach.
        db.session.add(Participant(first_name="Noah", last_name="Sans", language="en"))
        db.session.commit()
        past_id, forgotten_id = past.id, forgotten.id

    found = _actions(app, "ada@acme.fr")
    assert found["unsigned_off"] == (1, [forgotten_id])
    # Excel (today, Zoe) and Safety (today: Paul failed, Zoe never invited).
    assert found["uninvited"] == (2, [(ids["sessions"]["safety"], 2), (ids["sessions"]["excel"], 1)])
    assert found["failed_messages"][0] == 1
    assert found["certificates_due"] == (1, [(past_id, 1)])
    assert found["unreachable"][0] == 1
    # A facilitator is only told of their own half-days waiting for a sign-off: Fred does not run First aid.
    assert _actions(app, "fred@acme.fr") == {}


def test_a_large_organization_sees_the_first_twenty_half_days_and_more(app, make_tenant, client):
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    ids = _org(app, make_tenant)
    with tenant_scope("acme", app):
        excel = db.session.get(TrainingSession, ids["sessions"]["excel"])
        for n in range(22):
            start = at(TODAY, 8) + timedelta(minutes=n)
            db.session.add(
                Slot(session=excel, day=TODAY, starts_at=start, ends_at=start + timedelta(hours=1))
            )
        db.session.commit()
    shown, total = _agenda(app, "ada@acme.fr")
    assert len(shown) == 20 and total == 26
    assert len(_agenda(app, "ada@acme.fr", shown=40)[0]) == 26


@pytest.fixture
def english_client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_home_page_lists_the_half_days_and_refreshes_when_a_signature_lands(
    app, make_tenant, english_client
):
    from tests.signing.conftest import private_redis  # noqa: F401 - the page reads the live versions

    ids = _org(app, make_tenant, real_today())
    # Who has not signed shows once the half-day's signing window is open: this morning's opens now, whatever
    # the hour the suite runs at (before 9:00 in Paris its window would not be open yet).
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope("acme", app):
        slot = db.session.get(Slot, ids["slots"]["safety-am"])
        midnight = datetime.combine(real_today(), datetime.min.time(), PARIS)
        slot.starts_at = max(utcnow() - timedelta(minutes=1), midnight)
        slot.ends_at = slot.starts_at + timedelta(minutes=30)
        db.session.commit()
    client = english_client
    login(client, "acme", "fred@acme.fr")
    page = client.get("/acme/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Safety" in text and "Excel" not in text
    assert f"/acme/slots/{ids['slots']['safety-am']}/live" in text
    assert "Ines Durand, Paul Durand, Zoe Durand" in text

    import re

    poll = re.search(r'data-poll-url="([^"]+)" data-version="([^"]*)"', text)
    url, version = poll.group(1), poll.group(2)
    assert client.get(f"{url}?v={version}").status_code == 204
    _sign(app, ids["slots"]["safety-am"], ids["people"]["Paul"])
    changed = client.get(f"{url}?v={version}")
    assert changed.status_code == 200 and changed.get_data(as_text=True) != version
    # The list the page then fetches is the fragment alone, with the new count.
    fragment = client.get("/acme/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="today"' in fragment and "<html" not in fragment
    assert "Ines Durand, Zoe Durand" in fragment


def test_the_admin_home_page_says_what_needs_action_in_french(app, make_tenant):
    from blueprints.accounts.models import User
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    _org(app, make_tenant, real_today())
    with tenant_scope("acme", app):
        db.session.add(Participant(first_name="Noah", last_name="Sans", language="fr"))
        db.session.query(User).filter_by(email="ada@acme.fr").one().language = "fr"
        db.session.commit()
    client = app.test_client()
    login(client, "acme", "ada@acme.fr")
    text = client.get("/acme/").get_data(as_text=True)
    assert "À faire" in text
    assert "1 participant n’a ni adresse e-mail ni numéro de mobile" in text
    assert "/acme/participants/?reach=none" in text
    directory = client.get("/acme/participants/?reach=none").get_data(as_text=True)
    assert "Noah Sans" in directory and "Ines Durand" not in directory

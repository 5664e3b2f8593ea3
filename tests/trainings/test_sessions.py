"""Sessions: creation with their slots, dates changed with a preview, duplicates, need-to-know."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import login
from tests.trainings.conftest import (
    FLO_ID,
    FRED,
    FRED_ID,
    audit_actions,
    in_acme,
    new_session,
    new_training,
    slots_of,
    text,
)


def _session(app, session_id):
    from blueprints.trainings.models import TrainingSession
    from tenants.db import db

    with in_acme(app):
        s = db.session.get(TrainingSession, session_id)
        return {
            "dates": (s.start_date.isoformat(), s.end_date.isoformat()),
            "facilitators": sorted(u.id for u in s.facilitators),
            "archived": s.archived_at is not None,
            "capacity": s.capacity,
            "timezone": s.timezone,
        }


def test_a_session_gets_half_days_without_weekends_and_holidays(app, admin):
    training = new_training(admin)
    # From Friday 28 April to Tuesday 2 May 2028: a weekend, then Labour Day on Monday.
    session_id = new_session(admin, training, "2028-04-28", "2028-05-02", facilitators=[FRED_ID, FLO_ID])
    assert [s[:2] for s in slots_of(app, session_id)] == [
        ("2028-04-28", "09:00"),
        ("2028-04-28", "13:30"),
        ("2028-05-02", "09:00"),
        ("2028-05-02", "13:30"),
    ]
    assert _session(app, session_id)["facilitators"] == [FRED_ID, FLO_ID]
    page = text(admin.get(f"/acme/sessions/{session_id}"))
    assert "Monday, 1 May 2028 — Labor Day" in page
    assert "Saturday, 29 April 2028 — weekend" in page
    assert "Salle 2" in page and "Fred Acme" in page
    events = audit_actions(app)
    assert events[-1] == "session.created"


def test_local_times_across_summer_time_holiday_options_and_bad_dates(app, admin):
    training = new_training(admin)
    session_id = new_session(admin, training, "2028-03-24", "2028-03-27")
    assert slots_of(app, session_id) == [
        ("2028-03-24", "09:00", "08:00", "morning"),
        ("2028-03-24", "13:30", "12:30", "afternoon"),
        ("2028-03-27", "09:00", "07:00", "morning"),
        ("2028-03-27", "13:30", "11:30", "afternoon"),
    ]
    page = text(admin.get(f"/acme/sessions/{session_id}"))
    assert page.count('data-label="Time">09:00–12:30</td>') == 2

    # Options: Alsace-Moselle's calendar, and days off included.
    alsace = new_session(admin, training, "2028-04-13", "2028-04-14", alsace_moselle="y")
    assert {s[0] for s in slots_of(app, alsace)} == {"2028-04-13"}
    assert "Friday, 14 April 2028 — Good Friday" in text(admin.get(f"/acme/sessions/{alsace}"))
    everything = new_session(admin, training, "2028-07-14", "2028-07-15", include_holidays="y")
    assert len(slots_of(app, everything)) == 4

    # An end before the start saves nothing.
    response = admin.post(
        f"/acme/trainings/{training}/sessions/new",
        data={"start_date": "2028-03-10", "end_date": "2028-03-06", "timezone": "Europe/Paris"},
    )
    assert response.status_code == 422
    assert "The end date must be on or after the start date." in text(response)
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants.db import db

    with in_acme(app):
        assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 3
        assert db.session.scalar(select(func.count()).select_from(Slot)) == 4 + 2 + 4
    assert audit_actions(app).count("session.created") == 3


def test_new_dates_show_a_preview_and_delete_only_when_confirmed(app, admin):
    training = new_training(admin)
    session_id = new_session(admin, training, "2028-03-06", "2028-03-08", facilitators=[FRED_ID])
    form = {
        "start_date": "2028-03-07",
        "end_date": "2028-03-09",
        "location_name": "Salle 3",
        "timezone": "Europe/Paris",
        "facilitators": [str(FRED_ID)],
        "room_code_required": "y",
    }
    preview = admin.post(f"/acme/sessions/{session_id}/edit", data=form)
    assert preview.status_code == 200
    page = text(preview)
    assert "2 slots would be deleted" in page and "Monday, 6 March 2028" in page
    assert "2 slots would be added" in page and 'name="confirm" value="1"' in page
    # Nothing changed yet, not even the other fields.
    assert _session(app, session_id)["dates"] == ("2028-03-06", "2028-03-08")
    assert len(slots_of(app, session_id)) == 6
    assert "session.updated" not in audit_actions(app)

    done = admin.post(f"/acme/sessions/{session_id}/edit", data={**form, "confirm": "1"})
    assert done.status_code == 303
    assert _session(app, session_id)["dates"] == ("2028-03-07", "2028-03-09")
    assert sorted({s[0] for s in slots_of(app, session_id)}) == ["2028-03-07", "2028-03-08", "2028-03-09"]
    assert audit_actions(app)[-2:] == ["session.updated", "session.dates_changed"]

    # Widening the dates removes nothing: no confirmation needed.
    widened = admin.post(f"/acme/sessions/{session_id}/edit", data={**form, "end_date": "2028-03-10"})
    assert widened.status_code == 303
    assert len(slots_of(app, session_id)) == 8


def test_duplicate_a_session_to_new_dates(app, admin):
    training = new_training(admin)
    # Across the change to summer time: the copy keeps 09:00 local.
    source = new_session(admin, training, "2028-03-20", "2028-03-21", facilitators=[FRED_ID])
    admin.post(
        f"/acme/sessions/{source}/slots/new",
        data={
            "day": "2028-03-21",
            "start_time": "17:30",
            "end_time": "18:30",
            "label": "Bilan",
            "modality": "remote",
        },
    )
    response = admin.post(f"/acme/sessions/{source}/duplicate", data={"start_date": "2028-03-27"})
    assert response.status_code == 303
    copy = int(response.headers["Location"].rsplit("/", 1)[1])
    assert _session(app, copy)["dates"] == ("2028-03-27", "2028-03-28")
    assert _session(app, copy)["facilitators"] == [FRED_ID]
    assert slots_of(app, copy) == [
        ("2028-03-27", "09:00", "07:00", "morning"),
        ("2028-03-27", "13:30", "11:30", "afternoon"),
        ("2028-03-28", "09:00", "07:00", "morning"),
        ("2028-03-28", "13:30", "11:30", "afternoon"),
        ("2028-03-28", "17:30", "15:30", "custom"),
    ]
    assert audit_actions(app)[-1] == "session.duplicated"

    assert admin.post(f"/acme/sessions/{copy}/archive", data={"archived": "1"}).status_code == 303
    assert _session(app, copy)["archived"]
    admin.post(f"/acme/sessions/{copy}/archive", data={"archived": "0"})
    assert not _session(app, copy)["archived"]
    assert audit_actions(app)[-2:] == ["session.archived", "session.unarchived"]


def test_a_facilitator_sees_only_the_sessions_assigned_to_them(app, client, admin):
    assert admin.get("/acme/sessions/999").status_code == 404
    assert admin.get("/acme/trainings/999").status_code == 404
    assert admin.get("/acme/slots/999").status_code == 404
    training = new_training(admin, title="Premiers secours")
    mine = new_session(admin, training, "2028-03-06", "2028-03-07", facilitators=[FRED_ID])
    theirs = new_session(
        admin, training, "2028-03-08", "2028-03-09", facilitators=[FLO_ID], location_name="Salle Flo"
    )
    admin.post("/acme/logout")
    login(client, "acme", FRED)
    page = client.get(f"/acme/sessions/{mine}")
    assert page.status_code == 200
    assert "Premiers secours" in text(page) and f"/acme/sessions/{mine}/edit" not in text(page)
    assert client.get(f"/acme/sessions/{theirs}").status_code == 404
    training_page = text(client.get(f"/acme/trainings/{training}"))
    assert f"/acme/sessions/{mine}" in training_page and f"/acme/sessions/{theirs}" not in training_page
    # Planning stays with administrators.
    assert client.get(f"/acme/sessions/{mine}/edit").status_code == 403
    assert (
        client.post(f"/acme/sessions/{mine}/duplicate", data={"start_date": "2028-04-03"}).status_code == 403
    )
    week = text(client.get("/acme/calendar?week=2028-W10"))
    assert f"/acme/sessions/{mine}" in week and f"/acme/sessions/{theirs}" not in week
    assert "Salle Flo" not in week

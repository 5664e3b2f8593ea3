"""Slots: add, edit, delete; times that run backwards, overlap or leave the session are refused."""

from __future__ import annotations

from tests.trainings.conftest import audit_actions, new_session, new_training, slots_of, text


def _slot_ids(app, session_id):
    from blueprints.trainings.models import TrainingSession
    from tenants.db import db
    from tests.trainings.conftest import in_acme

    with in_acme(app):
        return [s.id for s in db.session.get(TrainingSession, session_id).slots]


def test_add_edit_and_delete_slots(app, admin):
    training = new_training(admin, modality="blended")
    session_id = new_session(admin, training, "2028-03-06", "2028-03-07")
    form = admin.get(f"/acme/sessions/{session_id}/slots/new")
    assert (
        form.status_code == 200
        and '<input checked id="modality-0" name="modality" type="radio" value="in_person">' in text(form)
    )

    added = admin.post(
        f"/acme/sessions/{session_id}/slots/new",
        data={
            "day": "2028-03-07",
            "start_time": "17:15",
            "end_time": "18:00",
            "label": "Bilan",
            "modality": "remote",
        },
    )
    assert added.status_code == 303
    assert slots_of(app, session_id)[-1] == ("2028-03-07", "17:15", "16:15", "custom")

    morning = _slot_ids(app, session_id)[0]
    page = admin.get(f"/acme/slots/{morning}")
    assert 'value="09:00"' in text(page) and 'value="12:30"' in text(page)
    edited = admin.post(
        f"/acme/slots/{morning}",
        data={
            "day": "2028-03-06",
            "start_time": "08:30",
            "end_time": "12:00",
            "label": "",
            "modality": "remote",
        },
    )
    assert edited.status_code == 303
    assert slots_of(app, session_id)[0] == ("2028-03-06", "08:30", "07:30", "morning")

    # Deleting from the page swaps the slots fragment; the last one is gone.
    last = _slot_ids(app, session_id)[-1]
    deleted = admin.post(f"/acme/slots/{last}/delete", headers={"HX-Request": "true"})
    assert deleted.status_code == 200
    body = text(deleted)
    assert body.lstrip().startswith('<section id="slots"') and "<html" not in body and "Bilan" not in body
    assert len(slots_of(app, session_id)) == 4
    assert audit_actions(app)[-3:] == ["slot.created", "slot.updated", "slot.deleted"]


def test_bad_slots_are_refused_with_a_clear_message(app, admin):
    session_id = new_session(admin, new_training(admin), "2028-03-06", "2028-03-07")
    before = slots_of(app, session_id)
    events = audit_actions(app)
    cases = [
        (
            {"day": "2028-03-06", "start_time": "15:00", "end_time": "14:00"},
            "The slot must end after it starts.",
        ),
        (
            {"day": "2028-03-06", "start_time": "12:00", "end_time": "14:00"},
            "This slot overlaps another one: Monday, 6 March 2028, 09:00–12:30.",
        ),
        (
            {"day": "2028-03-09", "start_time": "09:00", "end_time": "10:00"},
            "The slot must fall within the session's dates, from 6 March 2028 to 7 March 2028.",
        ),
    ]
    for data, message in cases:
        response = admin.post(
            f"/acme/sessions/{session_id}/slots/new", data={**data, "modality": "in_person"}
        )
        assert response.status_code == 422, data
        assert message in text(response).replace("&#39;", "'")
    # Editing into an overlap is refused too.
    afternoon = _slot_ids(app, session_id)[1]
    response = admin.post(
        f"/acme/slots/{afternoon}",
        data={"day": "2028-03-06", "start_time": "11:00", "end_time": "17:00", "modality": "in_person"},
    )
    assert response.status_code == 422 and "overlaps another one" in text(response)
    assert slots_of(app, session_id) == before
    assert audit_actions(app) == events


def test_generate_fills_missing_half_days_and_the_calendar_shows_them(app, admin):
    session_id = new_session(admin, new_training(admin, title="Anglais B2"), "2028-07-13", "2028-07-14")
    assert {s[0] for s in slots_of(app, session_id)} == {"2028-07-13"}  # 14 July is a holiday
    response = admin.post(f"/acme/sessions/{session_id}/slots/generate", data={"include_holidays": "y"})
    assert response.status_code == 303
    assert len(slots_of(app, session_id)) == 4
    assert audit_actions(app)[-1] == "session.slots_generated"

    week = admin.get("/acme/calendar?week=2028-W28")
    page = text(week)
    assert week.status_code == 200 and "Anglais B2" in page and "09:00–12:30" in page
    assert "?week=2028-W27" in page and "?week=2028-W29" in page
    assert "Public holiday: National Day" in page
    assert "Anglais B2" not in text(admin.get("/acme/calendar?week=2028-W29"))
    assert admin.get("/acme/calendar?week=nonsense").status_code == 200

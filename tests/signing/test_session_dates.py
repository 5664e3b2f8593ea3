"""The test the trainings issue deferred: changing a session's dates when signed slots exist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.signing.conftest import png


def test_new_dates_never_remove_a_signed_slot(app, world):
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Participant
    from blueprints.signing import services as signing
    from blueprints.trainings import services as trainings
    from blueprints.trainings import timetable
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with app.test_request_context(headers={"Accept-Language": "en"}), tenant_scope(world.slug, app):
        admin = db.session.scalars(select(User).where(User.email == world.admin)).one()
        actor = Actor.for_user(admin)
        session = db.session.get(TrainingSession, world.session_id)
        today = db.session.get(Slot, world.open_slot)
        signing.sign(
            today,
            db.session.get(Participant, world.paul),
            png(),
            actor,
            method="facilitator_device",
            now=today.starts_at,
        )
        db.session.commit()
        slots_before = sorted(s.id for s in session.slots)
        dates_before = (session.start_date, session.end_date)

        # Moving the session past today would remove today's signed slot: refused, even when confirmed.
        later = today.day + timedelta(days=1)
        for confirm in (False, True):
            with pytest.raises(trainings.PlanningError) as refused:
                trainings.apply_new_dates(session, later, later + timedelta(days=1), actor, confirm=confirm)
            assert "Attendance is already recorded" in str(refused.value)
            db.session.rollback()
        session = db.session.get(TrainingSession, world.session_id)
        assert (session.start_date, session.end_date) == dates_before
        assert sorted(s.id for s in session.slots) == slots_before

        # Dates that keep it may remove the unsigned slot of yesterday, once confirmed.
        with pytest.raises(trainings.ConfirmationNeeded):
            trainings.apply_new_dates(session, today.day, dates_before[1], actor, confirm=False)
        db.session.rollback()
        session = db.session.get(TrainingSession, world.session_id)
        change = trainings.apply_new_dates(session, today.day, dates_before[1], actor, confirm=True)
        assert [s.id for s in change.removed] == [world.past_slot]
        db.session.commit()
        assert db.session.get(Slot, world.open_slot) is not None

        # Nor is a signed slot deleted on its own.
        with pytest.raises(trainings.PlanningError):
            timetable.delete_slot(db.session.get(Slot, world.open_slot), actor)
        db.session.rollback()
        assert db.session.get(Slot, world.open_slot) is not None

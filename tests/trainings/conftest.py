"""Trainings tests: an organization with an admin and two facilitators; pages answer in English."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login

ADMIN, FRED, FLO = "ada@acme.fr", "fred@acme.fr", "flo@acme.fr"
# User ids as make_tenant creates them: the admin first, then the facilitators in order.
FRED_ID, FLO_ID = 2, 3


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme", admin=ADMIN, facilitators=(FRED, FLO), language="en")


@pytest.fixture
def admin(client, acme):
    assert login(client, "acme", ADMIN).status_code == 303
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def created_id(response, kind: str) -> int:
    assert response.status_code == 303, text(response)
    return int(re.search(rf"/{kind}/(\d+)", response.headers["Location"]).group(1))


def new_training(client, **fields) -> int:
    data = {
        "title": "Excel avancé",
        "planned_hours": "14",
        "modality": "in_person",
        "nature": "training_action",
    }
    data.update(fields)
    return created_id(client.post("/acme/trainings/new", data=data), "trainings")


def new_session(client, training_id: int, start: str, end: str, facilitators=(), **fields) -> int:
    data = {
        "start_date": start,
        "end_date": end,
        "location_name": "Salle 2",
        "capacity": "12",
        "timezone": "Europe/Paris",
        "room_code_required": "y",
        "facilitators": [str(f) for f in facilitators],
    }
    data.update(fields)
    return created_id(client.post(f"/acme/trainings/{training_id}/sessions/new", data=data), "sessions")


def in_acme(app):
    from tenants import tenant_scope

    return tenant_scope("acme", app)


def audit_actions(app) -> list[str]:
    from sqlalchemy import select

    from blueprints.audit.models import AuditEvent
    from tenants.db import db

    with in_acme(app):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def slots_of(app, session_id: int):
    """[(local day, local start HH:MM, UTC start HH:MM, kind)] of a session's slots."""
    from zoneinfo import ZoneInfo

    from blueprints.trainings.models import TrainingSession
    from tenants.db import db

    with in_acme(app):
        session = db.session.get(TrainingSession, session_id)
        tz = ZoneInfo(session.timezone)
        return [
            (
                s.day.isoformat(),
                s.starts_at.astimezone(tz).strftime("%H:%M"),
                s.starts_at.strftime("%H:%M"),
                s.kind,
            )
            for s in session.slots
        ]

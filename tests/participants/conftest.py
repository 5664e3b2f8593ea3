"""Participants tests: one organization (an admin, two facilitators), pages in English, helpers that put
trainings, sessions and participants straight into its schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import login

SLUG = "acme"
ADMIN = "ada@acme.fr"
FRED = "fred@acme.fr"
FAY = "fay@acme.fr"


@pytest.fixture
def org(app, make_tenant):
    return make_tenant(SLUG, admin=ADMIN, facilitators=(FRED, FAY), language="en")


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin(client, org):
    assert login(client, SLUG, ADMIN).status_code == 303
    return client


def make_session(app, *, facilitators=(), title="Excel avancé", slug=SLUG) -> int:
    from blueprints.accounts.models import User
    from blueprints.trainings.models import Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        training = Training(title=title, planned_hours=Decimal("14"))
        session = TrainingSession(training=training, start_date=date(2026, 12, 1), end_date=date(2026, 12, 2))
        session.facilitators = list(db.session.scalars(select(User).where(User.email.in_(facilitators))))
        db.session.add(session)
        db.session.commit()
        return session.id


def add_participant(app, slug=SLUG, **fields) -> int:
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    fields.setdefault("first_name", "Jean")
    fields.setdefault("last_name", "Dupont")
    with tenant_scope(slug, app):
        participant = Participant(**fields)
        db.session.add(participant)
        db.session.commit()
        return participant.id


def enroll(app, session_id: int, participant_id: int, funder="opco", slug=SLUG) -> int:
    from blueprints.participants.models import Enrollment
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        enrollment = Enrollment(session_id=session_id, participant_id=participant_id, funder=funder)
        db.session.add(enrollment)
        db.session.commit()
        return enrollment.id


def participants(app, slug=SLUG) -> list[dict]:
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        rows = db.session.scalars(select(Participant).order_by(Participant.id)).all()
        return [
            {c.name: getattr(p, c.name) for c in Participant.__table__.columns if c.name != "updated_at"}
            for p in rows
        ]


def enrollments(app, slug=SLUG) -> list[tuple]:
    from blueprints.participants.models import Enrollment
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        rows = db.session.scalars(select(Enrollment).order_by(Enrollment.id)).all()
        return [(e.session_id, e.participant_id, e.funder, e.funder_reference) for e in rows]


def audit(app, slug=SLUG) -> list[tuple[str, str | None, int | None, dict]]:
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        return [
            (e.action, e.object_type, e.object_id, e.details)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def actions(app, slug=SLUG) -> list[str]:
    return [a for a, *_ in audit(app, slug)]


def text(response) -> str:
    return response.get_data(as_text=True)

"""Fixtures of the signing tests: an organization with a session whose first slot is open now."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tenants import current_tenant

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class World:
    slug: str
    session_id: int
    open_slot: int  # started 5 minutes ago, ends in 3 hours
    future_slot: int  # tomorrow
    past_slot: int  # yesterday, closed
    remote_slot: int  # open now too, remote: no room code
    paul: int
    rita: int  # processing restricted
    zoe: int
    admin: str = "ada@acme.fr"
    facilitator: str = "fred@acme.fr"
    other_facilitator: str = "olga@acme.fr"


def png(width: int = 600, height: int = 240, *, ink: bool = True, mode: str = "RGBA") -> bytes:
    """A drawn-looking signature (or a blank canvas)."""
    from PIL import Image, ImageDraw

    image = Image.new(mode, (width, height), (0, 0, 0, 0) if mode == "RGBA" else "white")
    if ink:
        draw = ImageDraw.Draw(image)
        points = [(20 + i * (width - 40) // 12, height // 3 + (i % 3) * height // 6) for i in range(13)]
        draw.line(points, fill=(10, 10, 10, 255) if mode == "RGBA" else "black", width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(data).decode()


def build_world(app, make_tenant, slug: str = "acme", now: datetime | None = None) -> World:
    from blueprints.accounts.models import User
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.trainings.models import IN_PERSON, REMOTE, Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    now = (now or datetime.now(UTC)).replace(microsecond=0)

    def local_day(moment: datetime):
        # The session's days are Paris days, as every page reads them: between 23:00 and midnight UTC (or
        # 22:00 in summer) the UTC date is already yesterday there.
        return moment.astimezone(PARIS).date()

    make_tenant(
        slug, admin=f"ada@{slug}.fr", facilitators=(f"fred@{slug}.fr", f"olga@{slug}.fr"), language="en"
    )
    with tenant_scope(slug, app):
        fred = db.session.query(User).filter_by(email=f"fred@{slug}.fr").one()
        training = Training(title="Safety at work", planned_hours=14)
        session = TrainingSession(
            training=training,
            start_date=local_day(now - timedelta(days=1)),
            end_date=local_day(now + timedelta(days=1)),
            timezone="Europe/Paris",
            room_code_required=True,
            location_name="Room 4",
        )
        session.facilitators = [fred]
        db.session.add_all([training, session])

        def slot(start, hours=3, modality=IN_PERSON, label=None):
            s = Slot(
                session=session,
                day=local_day(start),
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                modality=modality,
                label=label,
            )
            db.session.add(s)
            return s

        # Opened 5 minutes ago, but never before the Paris midnight: the half-day open now is one of today's, as
        # the home page lists them, even in the first minutes of a Paris day.
        midnight = datetime.combine(local_day(now), time(0), PARIS).astimezone(UTC)
        opened = max(now - timedelta(minutes=5), midnight)
        open_slot = slot(opened, label="Now")
        future = slot(now + timedelta(days=1), label="Tomorrow")
        past = slot(now - timedelta(days=1), label="Yesterday")
        remote = slot(opened, modality=REMOTE, label="Remote")
        people = [
            Participant(first_name="Paul", last_name="Martin", email=f"paul@{slug}-client.fr", language="en"),
            Participant(
                first_name="Rita",
                last_name="Bernard",
                email=f"rita@{slug}-client.fr",
                language="en",
                processing_restricted=True,
            ),
            Participant(first_name="Zoe", last_name="Petit", email=f"zoe@{slug}-client.fr", language="fr"),
        ]
        db.session.add_all(people)
        db.session.flush()
        for p in people:
            db.session.add(Enrollment(session_id=session.id, participant_id=p.id))
        db.session.commit()
        return World(slug, session.id, open_slot.id, future.id, past.id, remote.id, *(p.id for p in people))


# The live pages' versions live in Redis: these tests keep theirs in a database of their own, so that the
# FLUSHDB every other test does on the shared one (tests/conftest.py) cannot wipe a version mid-test.
PRIVATE_REDIS_DB = 12


def private_redis(url: str | None) -> str | None:
    if not url:
        return None
    from redis import Redis

    private = url.rsplit("/", 1)[0] + f"/{PRIVATE_REDIS_DB}"
    Redis.from_url(private).flushdb()
    return private


@pytest.fixture
def app(make_app, app_config):
    return make_app(REDIS_URL=private_redis(app_config.get("REDIS_URL")))


@pytest.fixture
def world(app, make_tenant) -> World:
    return build_world(app, make_tenant)


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    return english(app.test_client())


def link_path(app, world: World, participant_id: int) -> str:
    """The participant's signing page, as staff would copy it."""
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Participant
    from blueprints.signing import signin_links
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        session = db.session.get(TrainingSession, world.session_id)
        link = signin_links.trainee_link(session, db.session.get(Participant, participant_id), Actor.system())
        token = signin_links.token_of(link, current_tenant())
        db.session.commit()
    return f"/{world.slug}/sign/{token}"


def room_code(app, world: World, slot_id: int, at: datetime | None = None) -> str:
    from blueprints.signing import services
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        slot = db.session.get(Slot, slot_id)
        code = services.room_code(slot, at or datetime.now(UTC))
        db.session.commit()
    return code


def attendances(app, world: World):
    from sqlalchemy import select

    from blueprints.signing.models import Attendance
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        rows = db.session.scalars(select(Attendance).order_by(Attendance.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def audit_actions(app, slug: str) -> list[str]:
    from sqlalchemy import select

    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))

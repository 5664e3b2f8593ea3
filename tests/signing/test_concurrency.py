"""Exactly one attendance per participant and slot, with many submits at the same instant on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.signing.conftest import attendances, audit_actions, data_url, link_path, png, room_code

pytestmark = pytest.mark.slow

THREADS = 12


def test_simultaneous_submits_give_one_record(app, world):
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Participant
    from blueprints.signing import services
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tenants.storage import Blob

    now = utcnow()
    barrier = threading.Barrier(THREADS)
    image = png()

    def submit(i: int):
        with tenant_scope(world.slug, app):
            slot = db.session.get(Slot, world.open_slot)
            paul = db.session.get(Participant, world.paul)
            code = services.room_code(slot, now)
            db.session.commit()
            barrier.wait(timeout=20)
            result = services.sign(
                slot,
                paul,
                image,
                Actor(kind="trainee", label=f"tab {i}", participant_id=paul.id),
                method="own_link",
                code=code,
                now=now,
            )
            db.session.commit()
            return result.attendance.id, result.created

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(submit, range(THREADS)))

    assert len({attendance_id for attendance_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(attendances(app, world)) == 1
    assert audit_actions(app, world.slug).count("attendance.signed") == 1
    with tenant_scope(world.slug, app):
        assert db.session.scalar(select(func.count()).select_from(Blob)) == 2  # the image and its thumbnail


def test_simultaneous_http_posts_and_different_trainees(app, world):
    """Two tabs of Paul's and Zoe's at once, over HTTP: every request answered, two rows, no deadlock."""
    paths = {pid: link_path(app, world, pid) for pid in (world.paul, world.zoe)}
    code = room_code(app, world, world.open_slot)
    body = data_url(png())
    barrier = threading.Barrier(THREADS)

    def post(i: int):
        pid = world.paul if i % 2 else world.zoe
        client = app.test_client()
        barrier.wait(timeout=20)
        return client.post(
            paths[pid], data={"slot": world.open_slot, "code": code, "signature": body}
        ).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(post, range(THREADS)))
    assert statuses == [303] * THREADS
    rows = attendances(app, world)
    assert sorted(r.participant_id for r in rows) == sorted([world.paul, world.zoe])
    assert audit_actions(app, world.slug).count("attendance.signed") == 2

"""Periodic work in proportion to work: the platform's index of tenants with work due (tenants/work.py) and the
passes that fan out from it (jobs/fanout.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from blueprints.web.audit_guard import writes
from jobs import tenant_job
from tenants import current_tenant
from tests.conftest import run_jobs
from tests.messages.outreach_world import build_outreach_world


def _index(app) -> dict[tuple[int, str], datetime]:
    from tenants.db import db
    from tenants.models import TenantWork

    with app.app_context():
        rows = db.session.scalars(select(TenantWork)).all()
        return {(row.tenant_id, row.kind): row.due_at for row in rows}


def _add_slot(app, slug: str, start: datetime, hours: int = 3) -> None:
    """A session with one half-day at ``start``, committed as the app would (the index hears of it)."""
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        training = Training(title="First aid", planned_hours=3)
        session = TrainingSession(training=training, start_date=start.date(), end_date=start.date())
        db.session.add(
            Slot(session=session, day=start.date(), starts_at=start, ends_at=start + timedelta(hours=hours))
        )
        db.session.commit()


def _minute(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


def test_a_commit_that_plans_a_half_day_puts_its_tenant_in_the_index(app, make_tenant):
    acme, idle = make_tenant("acme"), make_tenant("idle")
    start = _minute(datetime.now(UTC) + timedelta(days=3))
    _add_slot(app, "acme", start)
    # Reminders begin an hour before (the default lead); the idle organization has no row at all.
    assert _index(app) == {(acme.id, "reminders"): start - timedelta(minutes=60)}
    assert idle.id not in {tenant_id for tenant_id, _ in _index(app)}


def test_a_rolled_back_change_writes_nothing(app, make_tenant):
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    make_tenant("acme")
    start = _minute(datetime.now(UTC) + timedelta(days=3))
    with tenant_scope("acme", app):
        training = Training(title="First aid", planned_hours=3)
        session = TrainingSession(training=training, start_date=start.date(), end_date=start.date())
        db.session.add(
            Slot(session=session, day=start.date(), starts_at=start, ends_at=start + timedelta(hours=1))
        )
        db.session.flush()
        db.session.rollback()
    assert _index(app) == {}


def test_the_minutes_pass_hands_out_only_the_tenants_with_work_and_opens_no_other_schema(
    app, make_tenant, monkeypatch
):
    from jobs import fanout
    from tenants.db import db

    busy = [make_tenant(f"busy{n}") for n in range(2)]
    idle = [make_tenant(f"idle{n}") for n in range(3)]
    soon = _minute(datetime.now(UTC) + timedelta(minutes=30))  # within the hour's lead: due now
    for tenant in busy:
        _add_slot(app, tenant.slug, soon)
    _add_slot(app, idle[0].slug, soon + timedelta(days=5))  # planned, not due for days
    handed, statements = [], []
    monkeypatch.setattr(fanout, "dispatch", lambda call, app=None: handed.append(call) or True)

    def sent(connection, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", sent)
    try:
        with app.app_context():
            assert fanout.fan_out("reminders") == 2
    finally:
        event.remove(engine, "before_cursor_execute", sent)
    assert sorted(call.args[0] for call in handed) == sorted(t.id for t in busy)
    assert {call.func for call in handed} == {"jobs.reminders.send_tenant_reminders"}
    # One statement, on the platform: no tenant's schema (or file) was opened to find who has work.
    assert len(statements) == 1 and not any(t.schema in statements[0] for t in busy + idle)


def test_a_suspended_tenant_is_not_handed_out(app, make_tenant):
    from jobs import fanout
    from tenants.db import db
    from tenants.models import SUSPENDED, Tenant
    from tenants.work import due_tenants

    acme = make_tenant("acme")
    _add_slot(app, "acme", _minute(datetime.now(UTC) + timedelta(minutes=10)))
    with app.app_context():
        assert due_tenants("reminders") == [acme.id]
        db.session.execute(update(Tenant).where(Tenant.id == acme.id).values(status=SUSPENDED))
        db.session.commit()
        assert due_tenants("reminders") == []
        assert fanout.fan_out("reminders") == 0


def test_the_tenants_run_writes_its_next_moment_and_clears_it_when_nothing_is_ahead(app, make_tenant):
    from jobs.reminders import send_tenant_reminders

    world = build_outreach_world(app, make_tenant)  # a half-day at ``start`` and the next one a day later
    later = world.start + timedelta(days=1)
    lead = timedelta(minutes=60)
    assert _index(app)[(world.tenant_id, "reminders")] == world.start - lead
    with app.app_context():
        # During the first half-day: still due (late reminders, then the summary at its end).
        send_tenant_reminders(world.tenant_id, (world.start + timedelta(minutes=5)).isoformat())
        assert _index(app)[(world.tenant_id, "reminders")] == world.start - lead
        # After its end: the next half-day's lead.
        send_tenant_reminders(world.tenant_id, (world.start + timedelta(hours=3, minutes=1)).isoformat())
        assert _index(app)[(world.tenant_id, "reminders")] == later - lead
        # After the last one: no row, the tenant costs nothing until a new half-day is planned.
        send_tenant_reminders(world.tenant_id, (later + timedelta(hours=3, minutes=1)).isoformat())
    assert (world.tenant_id, "reminders") not in _index(app)


def test_an_organization_that_sends_no_reminder_has_no_reminder_work(app, make_tenant):
    from blueprints.accounts.models import organization
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme")
    _add_slot(app, "acme", _minute(datetime.now(UTC) + timedelta(days=2)))
    with tenant_scope("acme", app):
        org = organization()
        org.reminder_before_minutes, org.reminder_after_minutes, org.slot_summary = 0, 0, False
        db.session.commit()
    with app.app_context():
        from jobs.fanout import settle_work

        settle_work(acme.id)
    assert (acme.id, "reminders") not in _index(app)


def test_a_note_after_the_runs_read_is_not_overwritten_by_the_run(app, make_tenant):
    """The race the two kinds of writes are made for: a commit notes work while a tenant's run settles."""
    from tenants.work import _write

    acme = make_tenant("acme")
    t0 = _minute(datetime.now(UTC))
    with app.app_context():
        _write(acme.id, {"reminders": t0 + timedelta(hours=1)}, t0 + timedelta(seconds=2), exact=False)
        # The run read before that commit (at t0 + 1 s): it saw nothing ahead, and must not delete the note.
        _write(acme.id, {"reminders": None}, t0 + timedelta(seconds=1), exact=True)
        assert _index(app) == {(acme.id, "reminders"): t0 + timedelta(hours=1)}
        # A note never puts work later than it was; a later settle does.
        _write(acme.id, {"reminders": t0 + timedelta(hours=5)}, t0 + timedelta(seconds=3), exact=False)
        assert _index(app) == {(acme.id, "reminders"): t0 + timedelta(hours=1)}
        _write(acme.id, {"reminders": t0 + timedelta(hours=5)}, t0 + timedelta(seconds=4), exact=True)
        assert _index(app) == {(acme.id, "reminders"): t0 + timedelta(hours=5)}
        _write(acme.id, {"reminders": None}, t0 + timedelta(seconds=5), exact=True)
    assert _index(app) == {}


def test_a_lost_index_write_is_repaired_by_the_hourly_reconcile(app, make_tenant, monkeypatch, jobs):
    """The platform's write fails after the tenant committed (the platform node away): the change stands, the
    index misses it, and the reconcile pass finds it."""
    from jobs import MAINTENANCE, enqueue
    from tenants import work

    acme = make_tenant("acme")
    start = _minute(datetime.now(UTC) + timedelta(days=3))

    def unreachable(*args, **kwargs):
        raise ConnectionError("the platform's database is unreachable")

    monkeypatch.setattr(work, "_write", unreachable)
    _add_slot(app, "acme", start)  # commits: the slot is there
    monkeypatch.undo()
    assert _index(app) == {}
    with app.app_context():
        enqueue("jobs.fanout.every_tenant", "jobs.fanout.settle_work", MAINTENANCE, queue=MAINTENANCE)
    jobs()
    jobs()
    assert _index(app) == {(acme.id, "reminders"): start - timedelta(minutes=60)}


@tenant_job
@writes(none="a test's job: counts the tenants it ran in, fails in one")
def count_tenant() -> dict:
    if current_tenant().slug == "org0":
        raise RuntimeError("this tenant's schema is broken")
    return {"tenants": 1, "note": "not a number"}


def test_every_tenant_runs_in_chunks_and_one_failure_stops_no_other(app, make_tenant, monkeypatch, caplog):
    from jobs import MAINTENANCE, fanout

    tenants = [make_tenant(f"org{n}") for n in range(5)]
    monkeypatch.setattr(fanout, "CHUNK", 2)
    handed = []
    monkeypatch.setattr(fanout, "dispatch", lambda call, app=None: handed.append(call) or True)
    with app.app_context():
        assert fanout.every_tenant("tests.jobs.test_fanout.count_tenant", MAINTENANCE) == 5
    assert [call.args[1] for call in handed] == [[t.id for t in tenants[i : i + 2]] for i in (0, 2, 4)]
    assert {call.func for call in handed} == {"jobs.fanout.run_for_tenants"}
    # The first chunk holds the broken tenant: it is logged, its neighbour still runs.
    with app.app_context():
        assert fanout.run_for_tenants(*handed[0].args) == {"tenants": 1}
    assert f"failed for tenant {tenants[0].id}" in caplog.text


@pytest.mark.slow
def test_through_rq_one_small_job_runs_per_tenant_with_work(app, make_tenant, backend, smtp_server):
    """On PostgreSQL with a real RQ worker: the minute's pass enqueues one job per tenant with work, each in
    its own tenant, and the reminders go out."""
    if backend != "postgresql":
        pytest.skip("RQ workers exist only with Redis: the SQLite set-up runs jobs in a thread")
    from jobs import MESSAGING, enqueue

    worlds = [build_outreach_world(app, make_tenant, slug=slug, invited=True) for slug in ("north", "south")]
    make_tenant("idle")
    at = worlds[0].start - timedelta(minutes=30)
    with app.app_context():
        queue = app.extensions["emarge.jobs"].queue(MESSAGING)
    from jobs.worker import SimpleWorker

    with app.app_context():
        queue.empty()  # what building the worlds queued (the facilitators' links): only the pass is looked at
        enqueue("jobs.fanout.fan_out", "reminders", at.isoformat(), queue=MESSAGING)
        SimpleWorker([MESSAGING], connection=app.extensions["emarge.jobs"].redis).work(
            burst=True, max_jobs=1, logging_level="WARNING"
        )
        # (The worker also enqueued the schedule's passes, as an idle worker does.)
        handed = [(job.func_name, job.args[0]) for job in queue.get_jobs() if "reminders" in job.func_name]
    assert sorted(handed) == sorted(("jobs.reminders.send_tenant_reminders", w.tenant_id) for w in worlds)
    run_jobs(app)
    from tests.messages.outreach_world import messages

    for world in worlds:
        assert {m.template for m in messages(app, world.slug)} >= {"reminder_before"}

"""Background jobs: enqueued with the transaction, scoped to a live tenant, periodic once, progress as it goes."""

from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select, update

from jobs import enqueue, tenant_job
from tests.conftest import REDIS_URL, login

# What the jobs below saw. They run in this process (the embedded thread, or RQ's SimpleWorker), so a list will
# do; on RQ an assertion failing inside a job would only mark the job failed, hence the tests assert here.
seen: list = []


@pytest.fixture(autouse=True)
def _clear_seen():
    seen.clear()
    yield
    seen.clear()


def note(value) -> None:
    seen.append(value)


@tenant_job
def see_task(task_id: int) -> None:
    from blueprints.tasks.models import Task
    from tenants import current_tenant
    from tenants.db import db

    task = db.session.get(Task, task_id)
    seen.append((current_tenant().slug, task_id, task.label if task else None))


def _read_elsewhere(schema: str, task_id: int) -> tuple:
    """The task as another connection sees it."""
    from blueprints.tasks.models import Task
    from tenants.db import bind_schema, db

    with db.engine.connect() as connection:
        bind_schema(connection, schema)
        return tuple(
            connection.execute(select(Task.status, Task.done, Task.total).where(Task.id == task_id)).one()
        )


@tenant_job
def count_to(task_id: int, total: int) -> None:
    from blueprints.audit.models import AuditEvent
    from blueprints.tasks.services import Progress
    from tenants import current_tenant
    from tenants.db import db

    schema = current_tenant().schema
    progress = Progress(task_id, current_tenant().schema)
    db.session.scalar(select(func.count()).select_from(AuditEvent))  # the job's own transaction is open
    for done in range(1, total + 1):
        progress.update(done, total)
        seen.append(("running", db.session().in_transaction(), _read_elsewhere(schema, task_id)))
    progress.finish({"counted": total})
    seen.append(("finished", _read_elsewhere(schema, task_id)))


def _queued_count(app) -> int:
    """Jobs waiting (RQ) or not yet run (embedded runner)."""
    backend = app.extensions["emarge.jobs"]
    if getattr(backend, "url", None):
        from jobs import QUEUES

        return sum(backend.queue(name).count for name in QUEUES)
    return backend.calls.unfinished_tasks


def _new_task(label: str, user_id: int | None = None) -> int:
    from blueprints.tasks.services import start_task

    return start_task("test", label, user_id).id


# --- enqueue follows the transaction ----------------------------------------------------------------------


def test_a_job_enqueued_in_a_transaction_runs_after_commit_one_outside_at_once(app, make_tenant, jobs):
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme", admin="ada@acme.fr")
    with tenant_scope(acme, app):
        task_id = _new_task("made in the same transaction")
        enqueue(see_task, acme.id, task_id)
        jobs()
        assert seen == [] and _queued_count(app) == 0  # held by the session, not handed over yet
        db.session.commit()
    jobs()
    assert seen == [("acme", task_id, "made in the same transaction")]
    # No transaction open: handed over at once.
    with app.app_context():
        enqueue(note, "at once")
        assert _queued_count(app) == 1 or seen[-1] == "at once"  # queued, or already run by the thread
    jobs()
    assert seen[-1] == "at once"


def test_a_job_enqueued_in_a_rolled_back_transaction_is_dropped(app, make_tenant, jobs):
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme", admin="ada@acme.fr")
    with tenant_scope(acme, app):
        task_id = _new_task("rolled back")
        enqueue(see_task, acme.id, task_id)
        enqueue(note, "rolled back")
        db.session.rollback()
        # The next transaction of the same session commits without bringing the dropped jobs back.
        _new_task("committed")
        enqueue(note, "committed")
        db.session.commit()
    jobs()
    assert seen == ["committed"]


def test_a_job_enqueued_in_a_transaction_closed_without_commit_is_dropped(app, make_tenant, jobs):
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme", admin="ada@acme.fr")
    with tenant_scope(acme, app):
        _new_task("abandoned")
        enqueue(note, "abandoned")
        db.session.close()  # an implicit rollback
        _new_task("committed")
        enqueue(note, "committed")
        db.session.commit()
    jobs()
    assert seen == ["committed"]


def test_a_job_enqueued_in_a_savepoint_follows_the_savepoint(app, make_tenant, jobs):
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme", admin="ada@acme.fr")
    with tenant_scope(acme, app):
        _new_task("outer")
        enqueue(note, "outer")
        with db.session.begin_nested() as savepoint:
            _new_task("undone")
            enqueue(note, "undone")
            savepoint.rollback()
        with db.session.begin_nested():
            _new_task("kept")
            enqueue(note, "kept")
        jobs()
        assert seen == []
        db.session.commit()
    jobs()
    assert seen == ["outer", "kept"]


# --- tenant jobs need a live tenant ------------------------------------------------------------------------


def test_a_tenant_job_for_an_unknown_or_inactive_tenant_is_skipped(app, make_tenant, jobs):
    from tenants import tenant_scope
    from tenants.db import bind_schema, db
    from tenants.models import SUSPENDED, Tenant
    from tenants.provisioning import drop

    acme = make_tenant("acme", admin="ada@acme.fr")
    gone = make_tenant("gone", admin="gus@gone.fr")
    with tenant_scope(acme, app):
        task_id = _new_task("acme's")
        db.session.commit()
    with app.app_context():
        assert see_task(acme.id, task_id) is None and seen == [("acme", task_id, "acme's")]
        seen.clear()
        drop(gone)
        with db.engine.begin() as connection:
            bind_schema(connection, None)
            table = Tenant.__table__
            connection.execute(update(table).where(table.c.id == acme.id).values(status=SUSPENDED))
        assert see_task(acme.id, task_id) is None
        assert see_task(gone.id, task_id) is None
        assert see_task(10_000, task_id) is None
        # Through the queue as well: skipped, not failed.
        for tenant_id in (acme.id, gone.id, 10_000):
            enqueue(see_task, tenant_id, task_id)
    jobs()
    assert seen == []
    backend = app.extensions["emarge.jobs"]
    if getattr(backend, "url", None):
        from rq.registry import FailedJobRegistry

        from jobs import MAINTENANCE

        assert FailedJobRegistry(queue=backend.queue(MAINTENANCE)).count == 0


# --- periodic jobs -----------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """jobs' notion of now, moved by hand; it starts at the beginning of an hour, so of every period."""
    import jobs as jobs_module

    now = SimpleNamespace(value=float((int(time.time()) // 3600 + 1) * 3600))
    fake = SimpleNamespace(time=lambda: now.value, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(jobs_module, "time", fake)
    return now


def test_periodic_jobs_are_enqueued_once_per_period_by_racing_workers(app, backend, clock):
    if backend != "postgresql":
        pytest.skip(
            "once-per-period across workers is decided in Redis (SET NX per period); the embedded runner "
            "has one thread and no Redis, so there is no race to test on SQLite"
        )
    from redis import Redis

    from jobs import SCHEDULE, tick_periodic

    submitted: list[str] = []
    lock = threading.Lock()

    def submit(call):
        with lock:
            submitted.append(call.func)
        return True

    def two_workers(rounds: int = 5) -> list[str]:
        submitted.clear()
        barrier = threading.Barrier(2)

        def worker():
            redis = Redis.from_url(REDIS_URL)  # a connection each, as two worker processes would have
            barrier.wait()
            for _ in range(rounds):
                tick_periodic(redis, submit)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(submitted)

    def due(before: float, after: float) -> list[str]:
        return sorted(p.func for p in SCHEDULE if int(before // p.every) != int(after // p.every))

    assert two_workers() == sorted(p.func for p in SCHEDULE)
    for step in (1, 59, 3600 - 60, 1, 86400):
        before = clock.value
        clock.value += step
        assert two_workers() == due(before, clock.value), f"after {step} s"


def test_idle_rq_workers_enqueue_each_periodic_job_once(app, backend, clock):
    if backend != "postgresql":
        pytest.skip("RQ workers exist only with Redis: the SQLite set-up runs jobs in a thread")
    from redis import Redis

    from jobs import SCHEDULE
    from jobs.worker import Worker

    backend_ = app.extensions["emarge.jobs"]
    with app.app_context():
        workers = [Worker(["maintenance"], connection=Redis.from_url(REDIS_URL)) for _ in range(2)]
        for _ in range(3):
            for worker in workers:
                worker._tick()
    for periodic in SCHEDULE:
        queue = backend_.queue(periodic.queue)
        calls = [(job.func_name, tuple(job.args)) for job in queue.get_jobs()]
        assert calls.count((periodic.func, periodic.args)) == 1, periodic.name


# --- progress ----------------------------------------------------------------------------------------------


def test_progress_is_visible_from_another_connection_while_the_job_runs(app, make_tenant, jobs):
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme", admin="ada@acme.fr")
    with tenant_scope(acme, app):
        task_id = _new_task("counting", 1)
        enqueue(count_to, acme.id, task_id, 3)
        db.session.commit()
    jobs()
    assert seen == [
        ("running", True, ("running", 1, 3)),
        ("running", True, ("running", 2, 3)),
        ("running", True, ("running", 3, 3)),
        ("finished", ("done", 3, 3)),
    ]


def test_the_task_fragment_polls_until_done_then_offers_the_download(app, client, make_tenant, jobs, backend):
    from blueprints.tasks.services import Progress
    from tenants import tenant_scope
    from tenants.db import db

    acme = make_tenant("acme", admin="ada@acme.fr")
    assert login(client, "acme", "ada@acme.fr").status_code == 303

    # Unfinished: a bar at its value, and HTMX asked to fetch the fragment again.
    with tenant_scope(acme, app):
        task_id = _new_task("counting", 1)
        db.session.commit()
        Progress(task_id, acme.schema).update(2, 10)
    running = client.get(f"/acme/tasks/{task_id}")
    html = running.get_data(as_text=True)
    assert "<progress" in html and 'value="20"' in html
    assert "hx-trigger=" in html and f'hx-get="/acme/tasks/{task_id}"' in html
    assert "HX-Trigger" not in running.headers

    response = client.post("/acme/audit/export")
    assert response.status_code == 303
    export_id = int(parse_qs(urlparse(response.location).query)["task"][0])
    page = client.get(response.location).get_data(as_text=True)
    assert f'hx-get="/acme/tasks/{export_id}"' in page
    if backend == "postgresql":
        # With RQ nothing runs before a worker takes it (the embedded thread may already have run it).
        queued = client.get(f"/acme/tasks/{export_id}").get_data(as_text=True)
        assert "<progress" in queued and 'value="0"' in queued and "hx-trigger=" in queued
    jobs()

    finished = client.get(f"/acme/tasks/{export_id}")
    # The last answer tells the page, which may refresh what the task made.
    assert finished.headers["HX-Trigger"] == "task-finished"
    done = finished.get_data(as_text=True)
    assert "<progress" in done and 'value="100"' in done
    assert "hx-trigger" not in done and "hx-get" not in done
    assert f'href="/acme/tasks/{export_id}/download"' in done
    download = client.get(f"/acme/tasks/{export_id}/download")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert re.search(r"journal-audit-\d{4}-\d\d-\d\d\.csv", download.headers["Content-Disposition"])
    csv = download.get_data().decode("utf-8-sig")
    assert csv.startswith("id,occurred_at_utc,")
    assert "user.login" in csv and "audit.exported" in csv


def test_an_exports_file_is_deleted_a_week_after_the_task(app, client, make_tenant):
    from datetime import timedelta

    from sqlalchemy import update

    from blueprints.tasks.models import DONE, Task
    from jobs.maintenance import purge_stale_files
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tenants.storage import storage

    acme = make_tenant("acme", admin="ada@acme.fr")
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    made = {}
    with tenant_scope("acme", app):
        for name, age in (("old", timedelta(days=8)), ("recent", timedelta(days=1))):
            task_id = _new_task(f"{name} export", 1)
            blob = storage().put(b"id,name\n", content_type="text/csv", filename=f"{name}.csv")
            db.session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(status=DONE, result={"blob": blob.key}, finished_at=utcnow() - age)
            )
            made[name] = (task_id, blob.key)
        db.session.commit()
    with app.app_context():
        assert purge_stale_files(acme.id)["task_files"] == 1
    old, recent = made["old"][0], made["recent"][0]
    with tenant_scope("acme", app):
        assert storage().get(made["old"][1]) is None and storage().get(made["recent"][1]) is not None
    assert client.get(f"/acme/tasks/{old}/download").status_code == 404
    # In the admin's language (French by default).
    assert "supprimé une semaine après sa création" in client.get(f"/acme/tasks/{old}").get_data(as_text=True)
    assert client.get(f"/acme/tasks/{recent}/download").status_code == 200
    with app.app_context():
        assert purge_stale_files(acme.id) == {"uploads": 0, "task_files": 0}

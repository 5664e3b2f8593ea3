"""Jobs that never get stuck, proven by causing the fault for real: a worker SIGKILLed mid-batch and mid-task,
PostgreSQL unreachable when a job starts (a port that refuses connections), Redis stopped under the web app (a
redis-server of the test's own). Never the shared servers. They run once, on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import Counter

import pytest

from tests.conftest import _free_port, login, run_jobs
from tests.messages.test_delivery import queue, rows, world_of
from tests.messages.test_reliability import ROOT, RQ, _wait, _worker_env, own_redis, sink  # noqa: F401

pytestmark = pytest.mark.slow


def _needs_services(backend):
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL and Redis: RQ worker processes and a redis-server of its own")


def _worker(app, *queues: str) -> subprocess.Popen:
    """A real forking worker (``jobs.worker.Worker``), not in burst mode: it looks for abandoned jobs when idle."""
    return subprocess.Popen(
        [RQ, "worker", "-w", "jobs.worker.Worker", "-S", "rq.serializers.JSONSerializer"]
        + ["-u", app.config["REDIS_URL"], *queues],
        cwd=ROOT,
        env={name: value for name, value in _worker_env(app).items() if value is not None},
        stdout=open(os.environ["EMARGE_WORKER_LOG"], "a")
        if os.environ.get("EMARGE_WORKER_LOG")
        else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse at once, as a crash of the machine's process would. The horse runs
    in a session of its own (RQ calls setsid in it), so it is killed by its own group."""
    horses = _children(worker.pid)
    os.killpg(worker.pid, signal.SIGKILL)
    for horse in horses:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(horse, signal.SIGKILL)
    worker.wait(10)


def slow_task(tenant_id: int, task_id: int) -> None:
    """A task job that reports, then works for long enough to be killed in the middle."""
    from blueprints.tasks.services import Progress
    from jobs import job_app
    from tenants import tenant_scope

    with tenant_scope(tenant_id, job_app()) as tenant:
        progress = Progress(task_id, tenant.schema)
        progress.update(1, 3)
        marker = os.environ.get("EMARGE_TEST_SLOW_TASK")
        if marker and not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(120)
        progress.finish({"ok": True})


def _launch_task(app, slug: str, user_id: int | None = None) -> int:
    from blueprints.tasks.services import launch, start_task
    from jobs import MAINTENANCE
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app) as tenant:
        task = start_task("test", "slow", user_id)
        launch(task, "tests.jobs.test_faults.slow_task", queue=MAINTENANCE, tenant=tenant)
        db.session.commit()
        return task.id


def _task(app, slug: str, task_id: int):
    from blueprints.tasks.models import Task
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        task = db.session.get(Task, task_id)
        db.session.expunge(task)
        return task


def test_a_worker_killed_mid_batch_its_unsent_messages_go_out_within_a_minute(
    make_app,
    make_tenant,
    sink,  # noqa: F811
    backend,
):
    _needs_services(backend)
    app = make_app(MAIL_SERVER=sink.host, MAIL_PORT=sink.port)
    world_of(app, make_tenant)
    people = [(f"p{i}@acme-client.fr", f"Person {i}", "en") for i in range(6)]
    sink.stall_after = 3  # the fourth is taken by the server, which never answers
    ids = queue(app, "acme", people)
    first = _worker(app, "messaging")
    try:
        _wait(sink.stalled.is_set, 60, "the worker to reach the fourth message")
    finally:
        _kill(first)
    sink.release()
    killed_at = time.monotonic()
    second = _worker(app, "messaging")
    try:
        # No backdating and no sweep called by hand: the second worker notices the dead one's batch.
        def settled():
            found = rows(app, "acme", ids)
            return [found[i].status for i in ids] == ["sent"] * 3 + ["unknown"] + ["sent"] * 2

        _wait(settled, 75, "the rest of the batch to be sent and the one in flight flagged")
    finally:
        _kill(second)
    assert time.monotonic() - killed_at < 75
    assert "worker stopped" in rows(app, "acme", ids)[ids[3]].provider_answer
    received = Counter(m["To"].addresses[0].addr_spec for m in sink.messages)
    assert received == Counter(address for address, _, _ in people)  # each once, the unknown one included


def test_a_dead_workers_batch_flags_the_message_in_flight_and_sends_the_rest_at_once(
    make_app,
    make_tenant,
    sink,  # noqa: F811
    backend,
):
    """What the failure hook does when a worker dies mid-batch (the death itself is caused for real in the
    task test below and in tests/messages/test_reliability.py)."""
    from sqlalchemy import update

    from blueprints.messages.models import Message
    from jobs import JobFailure, job_failed
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    _needs_services(backend)
    app = make_app(MAIL_SERVER=sink.host, MAIL_PORT=sink.port)
    world_of(app, make_tenant)
    people = [(f"p{i}@acme-client.fr", f"Person {i}", "en") for i in range(4)]
    ids = queue(app, "acme", people)
    with tenant_scope("acme", app):
        # As the dead worker left them: two sent, one in flight, one not reached.
        db.session.execute(update(Message).where(Message.id.in_(ids[:2])).values(status="sent"))
        db.session.execute(update(Message).where(Message.id == ids[2]).values(status="sending"))
        db.session.commit()
    with app.app_context():
        tenant_id = find_tenant(slug="acme").id
        failure = JobFailure("jobs.messages.send_messages", (tenant_id, ids), "messaging", {}, "killed", True)
        job_failed(failure, app)
    run_jobs(app)
    found = rows(app, "acme", ids)
    assert [found[i].status for i in ids] == ["sent", "sent", "unknown", "sent"]
    assert "worker stopped" in found[ids[2]].provider_answer
    assert [m["To"].addresses[0].addr_spec for m in sink.messages] == ["p3@acme-client.fr"]


def test_a_worker_killed_mid_task_fails_the_task_with_a_retry_that_works(
    make_app, make_tenant, backend, tmp_path, monkeypatch
):
    _needs_services(backend)
    marker = tmp_path / "slow-task-started"
    monkeypatch.setenv("EMARGE_TEST_SLOW_TASK", str(marker))
    app = make_app()
    make_tenant("acme", admin="ada@acme.fr")
    task_id = _launch_task(app, "acme", user_id=1)
    first = _worker(app, "maintenance")
    try:
        _wait(
            lambda: _task(app, "acme", task_id).status == "running" and marker.exists(), 60, "the task to run"
        )
    finally:
        _kill(first)
    assert _task(app, "acme", task_id).status == "running"
    second = _worker(app, "maintenance")
    try:
        _wait(lambda: _task(app, "acme", task_id).status == "failed", 75, "the dead worker's task to fail")
        failed = _task(app, "acme", task_id)
        assert "stopped before it finished" in failed.error and failed.job is not None
        client = app.test_client()
        assert login(client, "acme", "ada@acme.fr").status_code == 303
        assert "retry" in client.get(f"/acme/tasks/{task_id}").get_data(as_text=True)
        assert client.post(f"/acme/tasks/{task_id}/retry").status_code == 303
        _wait(lambda: _task(app, "acme", task_id).status == "done", 60, "the retried task to finish")
    finally:
        _kill(second)


def _sweep_tasks(app, slug: str = "acme") -> dict | None:
    """The minute's pass of task checks for ``slug``: its job runs here, only if the platform's work index says
    the tenant is due (None otherwise, as the pass would skip it)."""
    from jobs.tasks import sweep_tenant_tasks
    from tenants import find_tenant, work

    with app.app_context():
        ref = find_tenant(slug=slug)
        if ref.id not in work.due_tenants("task-checks"):
            return None
        return sweep_tenant_tasks(ref.id)


def test_a_job_that_starts_while_postgresql_is_down_ends_failed_and_retryable(make_app, make_tenant, backend):
    from sqlalchemy.engine import make_url

    from jobs.worker import SimpleWorker

    _needs_services(backend)
    app = make_app()
    make_tenant("acme", admin="ada@acme.fr")
    task_id = _launch_task(app, "acme", user_id=1)
    # The worker's database is a port where nothing listens: the job fails before it can report anything.
    down = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(port=_free_port())
    unreachable = make_app(SQLALCHEMY_DATABASE_URI=down.render_as_string(hide_password=False))
    with unreachable.app_context():
        SimpleWorker(["maintenance"], connection=unreachable.extensions["emarge.jobs"].redis).work(
            burst=True, logging_level="CRITICAL"
        )
    assert _task(app, "acme", task_id).status == "queued"  # nobody could write it down
    assert _sweep_tasks(app) is None  # not due: too soon to tell a lost job
    with app.app_context():
        from sqlalchemy import update

        from blueprints.tasks.models import Task
        from tenants import tenant_scope
        from tenants.db import db, utcnow

        with tenant_scope("acme", app):
            from datetime import timedelta

            db.session.execute(update(Task).values(enqueued_at=utcnow() - timedelta(minutes=3)))
            db.session.commit()
    assert _sweep_tasks(app) == {"handed_over": 0, "failed": 1}
    assert _task(app, "acme", task_id).status == "failed"
    client = app.test_client()
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.post(f"/acme/tasks/{task_id}/retry").status_code == 303
    run_jobs(app)
    assert _task(app, "acme", task_id).status == "done"


def test_with_redis_down_login_live_polls_and_tasks_keep_working_from_the_database(
    make_app,
    make_tenant,
    backend,
    own_redis,  # noqa: F811
):
    from blueprints.signing.tokens import live_token
    from blueprints.web.keys import secret_keys

    _needs_services(backend)
    app = make_app(REDIS_URL=own_redis.url)
    ref = make_tenant("acme", admin="ada@acme.fr", language="en")
    with app.app_context():
        token = live_token(secret_keys(app.config), ref.schema, 1)
    client = app.test_client()
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.get(f"/live/{token}?v=0").status_code == 204  # Redis answers, on the fast path
    own_redis.stop()
    # Login is throttled through the database now, and still works (wrong passwords still count).
    other = app.test_client()
    for _ in range(5):
        assert login(other, "acme", "ada@acme.fr", "not-the-password").status_code == 422
    assert login(other, "acme", "ada@acme.fr").status_code == 429
    assert login(app.test_client(), "acme", "ada@acme.fr").status_code == 429  # the account, whatever browser
    # The live poll answers from the version row.
    poll = client.get(f"/live/{token}?v=0")
    assert poll.status_code == 200 and poll.get_data(as_text=True) == "d0"
    assert client.get(f"/live/{token}?v=d0").status_code == 204
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["redis"].startswith("error")
    assert any("live pages" in line for line in health.json["degraded"])
    # A task asked for now waits, and says so, instead of showing a bar that never moves.
    task_id = _launch_task(app, "acme", user_id=1)
    assert _task(app, "acme", task_id).enqueued_at is None
    assert "Waiting for the job service" in client.get(f"/acme/tasks/{task_id}").get_data(as_text=True)
    own_redis.start()
    with app.app_context():
        from sqlalchemy import update

        from blueprints.tasks.models import Task
        from tenants import tenant_scope
        from tenants.db import db, utcnow

        with tenant_scope("acme", app):
            from datetime import timedelta

            db.session.execute(update(Task).values(updated_at=utcnow() - timedelta(minutes=1)))
            db.session.commit()
    assert _sweep_tasks(app)["handed_over"] == 1
    run_jobs(app)
    assert _task(app, "acme", task_id).status == "done"

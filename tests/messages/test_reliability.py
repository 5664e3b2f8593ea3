"""Nothing sent twice, nothing lost: a worker killed mid-batch, and Redis unreachable when a message is queued.

Both run real processes (an ``rq worker`` process, a ``redis-server`` of the test's own on a free port: never
the shared one), so they run once, on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest

from tests.conftest import _free_port, login, run_jobs
from tests.messages import test_delivery
from tests.messages.test_delivery import backdate, queue, rows, sweep_messages, world_of

sink = test_delivery.sink  # the SMTP sink fixture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RQ = os.path.join(os.path.dirname(sys.executable), "rq")


def _needs_redis(backend):
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL and Redis: RQ workers and a redis-server process")


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _worker_env(app) -> dict:
    c = app.config
    return {
        **os.environ,
        "EMARGE_ENV": "test",
        "SECRET_KEY": c["SECRET_KEY"],
        "EMARGE_INSTANCE": app.instance_path,
        "DATABASE_URL": c["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": c["REDIS_URL"],
        "MAIL_SERVER": c["MAIL_SERVER"],
        "MAIL_PORT": str(c["MAIL_PORT"]),
        "MAIL_TIMEOUT": "60",
        "PUBLIC_BASE_URL": c["PUBLIC_BASE_URL"],
        # A dead worker noticed in seconds, not the production default's half-minute: the tests wait for it.
        "WORKER_TICK": "1",
        "WORKER_MONITORING_INTERVAL": "1",
        "WORKER_HEARTBEAT_GRACE": "4",
    }


@pytest.mark.slow
def test_a_worker_killed_mid_batch_sends_nothing_twice(make_app, make_tenant, sink, backend):
    _needs_redis(backend)
    app = make_app(MAIL_SERVER=sink.host, MAIL_PORT=sink.port)
    world_of(app, make_tenant)
    people = [(f"p{i}@acme-client.fr", f"Person {i}", "en") for i in range(6)]
    ids = queue(app, "acme", people)  # one job of six
    sink.stall_after = 3  # the fourth is taken by the server, which never answers
    worker = subprocess.Popen(
        [RQ, "worker", "--burst", "-w", "jobs.worker.SimpleWorker", "-S", "rq.serializers.JSONSerializer"]
        + ["-u", app.config["REDIS_URL"], "messaging"],
        cwd=ROOT,
        env=_worker_env(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(sink.stalled.is_set, 60, "the worker to reach the fourth message")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    sink.release()
    statuses = [rows(app, "acme", ids)[i].status for i in ids]
    assert statuses == ["sent"] * 3 + ["sending"] + ["queued"] * 2

    # Ten minutes later: the sweep flags the one in flight and enqueues the two whose job died with the worker.
    backdate(app, "acme", ids[3:4], last_attempt_at=timedelta(minutes=11))
    backdate(app, "acme", ids[4:], not_before=timedelta(minutes=11))
    assert sweep_messages(app) == {"unknown": 1, "enqueued": 2}
    run_jobs(app)  # a new worker
    found = rows(app, "acme", ids)
    assert [found[i].status for i in ids] == ["sent"] * 3 + ["unknown"] + ["sent"] * 2
    assert "worker stopped" in found[ids[3]].provider_answer
    received = Counter(m["To"].addresses[0].addr_spec for m in sink.messages)
    assert received == Counter(address for address, _, _ in people)  # each once, the unknown one included


@pytest.fixture
def own_redis():
    """A redis-server of this test's own, on a free port, that the test may stop and start again."""
    port = _free_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ]
                + ["--daemonize", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            from redis import Redis

            def up():
                try:
                    return Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                except Exception:
                    return False

            _wait(up, 10, "redis-server to start")

        def stop(self):
            if self.process and self.process.poll() is None:
                self.process.terminate()
                self.process.wait(10)

    server = Server()
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_with_redis_unreachable_the_message_waits_pending_then_the_sweep_sends_it(
    make_app, make_tenant, sink, backend, own_redis
):
    from sqlalchemy import select

    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    _needs_redis(backend)
    app = make_app(REDIS_URL=own_redis.url, MAIL_SERVER=sink.host, MAIL_PORT=sink.port)
    world_of(app, make_tenant)
    client = app.test_client()
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    own_redis.stop()
    answer = client.post(
        "/acme/users",
        data={"first_name": "Nina", "last_name": "Roux", "email": "nina@acme.fr", "role": "facilitator"}
        | {"language": "en"},
    )
    assert answer.status_code == 303  # the invitation is made, whatever Redis
    with tenant_scope("acme", app):
        message = db.session.scalars(select(Message).where(Message.recipient == "nina@acme.fr")).one()
        message_id = message.id
        assert message.status == "pending"
    own_redis.start()
    assert sweep_messages(app) is None  # not due yet: it might still be on its way
    backdate(app, "acme", [message_id], created_at=timedelta(minutes=2))
    assert sweep_messages(app) == {"unknown": 0, "enqueued": 1}
    run_jobs(app)
    assert rows(app, "acme", [message_id])[message_id].status == "sent"
    (invitation,) = sink.to("nina@acme.fr")
    assert "http://localhost/acme/invitation/" in invitation.get_body(("plain",)).get_content()

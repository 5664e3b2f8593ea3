"""Safe behind PgBouncer in transaction mode: two organizations' traffic at once, through a PgBouncer the test
starts itself (as the postgres user: it refuses root) with fewer server connections than client ones, so each
transaction may land on a connection the other organization's last one used. No page ever shows the other's
rows, every write lands in its own schema, and nothing fails for want of session state or of a statement
prepared on another connection (``DATABASE_TRANSACTION_POOLER``: psycopg prepares none)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import REQUIRE, login

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
)


WORKERS_PER_ORGANIZATION = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bouncer(backend):
    if backend != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections: PostgreSQL only")
    if PGBOUNCER is None:
        if REQUIRE:
            pytest.fail(
                "EMARGE_REQUIRE_SERVICES=1 but pgbouncer is not installed (apt-get install pgbouncer)"
            )
        pytest.skip("pgbouncer is not installed: the transaction-pooling test did not run")
    port = _free_port()
    # Under /tmp itself: the postgres user cannot enter pytest's own temporary folders.
    folder = Path(tempfile.mkdtemp(prefix="emarge-pgbouncer-"))
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                "* = host=127.0.0.1 port=5432",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {folder / 'users.txt'}",
                "pool_mode = transaction",
                # A request in flight may hold two server connections at once (its transaction, and a read made on
                # a connection of its own: the cookie policy's number): with one more server connection than
                # requests at a time, one of them always gets its second; the clients still hold up to 8.
                f"default_pool_size = {2 * WORKERS_PER_ORGANIZATION + 1}",
                "query_wait_timeout = 20",
                "max_client_conn = 200",
                "ignore_startup_parameters = extra_float_digits,options",
                f"logfile = {folder / 'pgbouncer.log'}",
                f"pidfile = {folder / 'pgbouncer.pid'}",
                "",
            ]
        )
    )
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        for path in (folder, *folder.iterdir()):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None:
            raise AssertionError(f"pgbouncer did not start: {process.stderr.read().decode()}")
        time.sleep(0.05)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_two_organizations_through_transaction_pooling_never_see_each_other(
    app, make_app, make_tenant, bouncer
):
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    for slug in ("alpha", "beta"):
        make_tenant(slug, admin=f"ada@{slug}.fr", language="en")
        with tenant_scope(slug, app):
            db.session.add_all(
                Participant(first_name=f"{slug.title()}{n}", last_name="Only", email=f"p{n}@{slug}.fr")
                for n in range(3)
            )
            db.session.commit()
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=bouncer)
    pooled = make_app(
        SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False), DATABASE_TRANSACTION_POOLER=True
    )
    with pooled.app_context():
        assert db.engine.dialect.name == "postgresql" and db.engine.url.port == bouncer

    clients = {}
    for slug in ("alpha", "beta"):
        client = pooled.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert login(client, slug, f"ada@{slug}.fr").status_code == 303
        clients[slug] = client

    problems: list[str] = []
    created = {"alpha": [], "beta": []}

    def traffic(slug: str, other: str, worker: int) -> None:
        client = pooled.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if login(client, slug, f"ada@{slug}.fr").status_code != 303:
            problems.append(f"{slug}: login failed")
            return
        for n in range(15):  # past psycopg's default threshold of 5, where it would prepare statements
            page = client.get(f"/{slug}/participants/")
            text = page.get_data(as_text=True)
            if page.status_code != 200:
                problems.append(f"{slug}: {page.status_code}")
            elif f"{slug.title()}0" not in text or f"{other.title()}0" in text:
                problems.append(f"{slug} saw the wrong rows")
            if n % 5 == 0:
                name = f"{slug.title()}W{worker}N{n}"
                made = client.post(
                    f"/{slug}/participants/",
                    data={
                        "first_name": name,
                        "last_name": "Made",
                        "email": f"{name.lower()}@{slug}.fr",
                        "language": "en",
                        "civility": "",
                    },
                )
                if made.status_code not in (302, 303):
                    problems.append(f"{slug}: create answered {made.status_code}")
                created[slug].append(name)

    threads = [
        threading.Thread(target=traffic, args=(slug, other, worker))
        for slug, other in (("alpha", "beta"), ("beta", "alpha"))
        for worker in range(WORKERS_PER_ORGANIZATION)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert problems == []
    # Every write landed in its own organization's schema, and only there.
    for slug, other in (("alpha", "beta"), ("beta", "alpha")):
        with tenant_scope(slug, app):
            names = set(db.session.scalars(select(Participant.first_name)))
        assert set(created[slug]) <= names and not any(n.startswith(other.title()) for n in names)
    # Nothing prepared server-side: the pooled app's connections were told not to.
    with pooled.app_context(), db.engine.connect() as connection:
        assert connection.connection.driver_connection.prepare_threshold is None

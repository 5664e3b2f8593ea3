"""Test harness: the same tests on SQLite (embedded jobs) and, where reachable, PostgreSQL with Redis and RQ.

Each test gets its own database: a fresh SQLite instance folder, or a PostgreSQL database copied from a
template built once per run, so nothing depends on what a previous test or run left behind.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import smtplib
import socket
from dataclasses import dataclass, field

import pytest

PG_URL = os.environ.get("EMARGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("EMARGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
REQUIRE = os.environ.get("EMARGE_REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _postgres_up() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=2):
            return True
    except Exception:
        return False


def _redis_up() -> bool:
    try:
        from redis import Redis

        return bool(Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


HAVE_PG = _postgres_up()
HAVE_REDIS = _redis_up()
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
BACKENDS = ["sqlite"] + (["postgresql"] if HAVE_PG and HAVE_REDIS else [])


def pytest_configure(config):
    if REQUIRE and not (HAVE_PG and HAVE_REDIS and HAVE_CHROMIUM):
        missing = [
            n
            for n, ok in (("PostgreSQL", HAVE_PG), ("Redis", HAVE_REDIS), ("Chromium", HAVE_CHROMIUM))
            if not ok
        ]
        raise pytest.UsageError(f"EMARGE_REQUIRE_SERVICES=1 but not reachable: {', '.join(missing)}")


def coverage_line() -> str:
    parts = ["SQLite with the embedded job thread"]
    if "postgresql" in BACKENDS:
        parts.append("PostgreSQL with Redis and a real RQ worker")
    else:
        parts.append("NOT PostgreSQL/Redis (not reachable here: start them to cover them)")
    parts.append(
        "Chromium browser tests" if HAVE_CHROMIUM else "NOT the browser tests (no /usr/bin/chromium)"
    )
    return "Emarge back ends covered: " + "; ".join(parts)


def pytest_report_header(config):
    return coverage_line()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(coverage_line())
    artifacts = os.path.join(os.path.dirname(os.path.dirname(__file__)), "artifacts")
    if os.path.isdir(artifacts) and os.listdir(artifacts):
        terminalreporter.write_line(f"Rendered pages to look at: {artifacts}")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        # Heavy tests run once, on PostgreSQL where it is available.
        heavy = metafunc.definition.get_closest_marker("slow") is not None
        params = ["postgresql"] if heavy and "postgresql" in BACKENDS else BACKENDS[:1] if heavy else BACKENDS
        metafunc.parametrize("backend", params, indirect=False)


# --- mail never leaves the machine -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _mail_stays_local(monkeypatch):
    real_connect = smtplib.SMTP.connect

    def connect(self, host="localhost", port=0, source_address=None):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"a test tried to send mail to {host}")
        return real_connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list = field(default_factory=list)

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]

    def link(self, message, pattern: str = r"https?://\S+") -> str:
        body = message.get_body(("plain",)).get_content()
        return re.search(pattern, body).group(0)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- databases -----------------------------------------------------------------------------------------------

_counter = itertools.count()


def _base_config(instance: str) -> dict:
    return {
        "TESTING": True,
        "SKIP_ENV": True,
        "INSTANCE_PATH": instance,
        "SECRET_KEY": "test-secret",
        "EMARGE_ENV": "test",
        "PUBLIC_BASE_URL": "http://localhost",
        "PASSWORD_HASH_FAST": True,
        "WTF_CSRF_ENABLED": False,
        # A change without its audit event fails the test that makes it (blueprints/web/audit_guard.py).
        "AUDIT_GUARD": "raise",
        "REDIS_URL": None,
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_FROM": "Emarge <no-reply@emarge.localhost>",
        "MAIL_TIMEOUT": 5,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "MIGRATE_JOBS": 2,
    }


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    from app import create_app
    from tenants.db import db
    from tenants.migrate import build_platform

    folder = tmp_path_factory.mktemp("sqlite-template")
    app = create_app(
        {**_base_config(str(folder)), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/platform.db"}
    )
    with app.app_context(), db.engine.begin() as connection:
        build_platform(connection)
    with app.app_context():
        db.engine.dispose()
    return folder / "platform.db"


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True)


@pytest.fixture(scope="session")
def _pg_template(tmp_path_factory):
    if not HAVE_PG:
        pytest.skip("PostgreSQL not reachable")
    from sqlalchemy.engine import make_url

    from app import create_app
    from tenants.db import db
    from tenants.migrate import build_platform

    name = f"emarge_tpl_{os.getpid()}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {**_base_config(str(tmp_path_factory.mktemp("pg-template"))), "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        with db.engine.begin() as connection:
            build_platform(connection)
        db.engine.dispose()
    yield name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backend():  # replaced by pytest_generate_tests; here so the name resolves in tests that do not ask for it
    return BACKENDS[0]


@pytest.fixture
def app_config(backend, tmp_path, request):
    """The config of a fresh, empty Emarge (platform schema at head) on ``backend``."""
    instance = tmp_path / "instance"
    instance.mkdir()
    config = _base_config(str(instance))
    if backend == "sqlite":
        shutil.copy(request.getfixturevalue("_sqlite_template"), instance / "platform.db")
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance}/platform.db"
        yield config
        return
    from redis import Redis
    from sqlalchemy.engine import make_url

    template = request.getfixturevalue("_pg_template")
    name = f"emarge_t_{os.getpid()}_{next(_counter)}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    Redis.from_url(REDIS_URL).flushdb()
    config["SQLALCHEMY_DATABASE_URI"] = (
        make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    )
    config["REDIS_URL"] = REDIS_URL
    yield config
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_app(app_config):
    """Build the app, with config overrides (a mail server, CSRF on…). Engines are disposed at teardown."""
    from app import create_app
    from tenants.db import db

    made = []

    def build(**overrides):
        app = create_app({**app_config, **overrides})
        made.append(app)
        return app

    yield build
    for app in made:
        # Stop the embedded job thread and its delayed jobs: none may run into the next test.
        backend = app.extensions.get("emarge.jobs")
        if hasattr(backend, "close"):
            backend.close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# --- tenants and people --------------------------------------------------------------------------------------

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_tenant(app):
    """Create a tenant with users: make_tenant("acme", admin="a@acme.fr", facilitators=["f@acme.fr"])."""
    from blueprints.accounts.models import ADMIN, FACILITATOR, Organization, User
    from blueprints.accounts.passwords import hash_password
    from tenants.db import utcnow
    from tenants.provisioning import NewTenant, provision

    def build(
        slug: str,
        *,
        admin: str | None = None,
        facilitators: tuple[str, ...] = (),
        name: str | None = None,
        language: str = "fr",
    ):
        with app.app_context():
            hashed = hash_password(PASSWORD)

            def populate(session, ref):
                session.add(
                    Organization(
                        name=name or slug.title(),
                        address="1 rue X",
                        postal_code="75001",
                        city="Paris",
                        contact_email=admin or f"contact@{slug}.fr",
                    )
                )
                people = ([(admin, ADMIN)] if admin else []) + [(f, FACILITATOR) for f in facilitators]
                for email, role in people:
                    session.add(
                        User(
                            email=email,
                            first_name=email.split("@")[0].title(),
                            last_name=slug.title(),
                            role=role,
                            password_hash=hashed,
                            email_verified_at=utcnow(),
                            language=language,
                        )
                    )

            return provision(NewTenant(slug=slug, name=name or slug.title(), language=language), populate)

    return build


def login(client, slug: str, email: str, password: str = PASSWORD, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post(f"/{slug}/login", data=data)


def run_jobs(app) -> None:
    """Run every queued job to the end: a burst RQ worker on Redis, or the embedded thread."""
    backend = app.extensions["emarge.jobs"]
    if getattr(backend, "url", None):
        from jobs import QUEUES
        from jobs.worker import SimpleWorker

        with app.app_context():
            worker = SimpleWorker(list(QUEUES), connection=backend.redis)
            worker.work(burst=True, logging_level="WARNING")
    else:
        backend.drain()


@pytest.fixture
def jobs(app):
    return lambda: run_jobs(app)


@pytest.fixture
def browser():
    if not HAVE_CHROMIUM:
        pytest.skip("Chromium is not installed (/usr/bin/chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()

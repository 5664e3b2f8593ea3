"""Test harness: the same tests on SQLite (embedded jobs) and, where reachable, PostgreSQL with Redis and RQ.

Each test gets its own database in the state a new installation has: a SQLite platform file copied from a
template, or the run's PostgreSQL database put back (below); and an app made as new, kept from an earlier test
when one with the same settings exists (``_AppPool``). Nothing depends on what a previous test or run left.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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


@pytest.fixture(scope="session")
def _smtp_controller():
    """One real SMTP server (aiosmtpd) for the run, on a free local port; each test gets its mailbox empty."""
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


@pytest.fixture
def smtp_server(_smtp_controller):
    """The run's SMTP server, keeping what it receives during this test."""
    _smtp_controller.messages.clear()
    yield _smtp_controller
    _smtp_controller.messages.clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- databases -----------------------------------------------------------------------------------------------
#
# Built once per run: the platform schema at head (seeded), and blank tenant schemas at head. Each test then gets
# a database in that state without rebuilding it. On SQLite: a copy of the platform file in the test's own
# instance folder, and tenant files copied from a blank one instead of made by DDL. On PostgreSQL: one database
# for the run, put back before each test: every schema a test used is emptied (TRUNCATE) and becomes a spare
# again, unless its structure changed (a migration test), which drops it; the platform is emptied and reseeded.
# Provisioning then adopts a spare (a rename) instead of running the DDL. A test marked ``fresh_schema`` gets
# the real DDL. Per-test rollback is not used: nearly every test commits through the app's own sessions, and many
# from other threads or processes (live servers, RQ workers), which one outer transaction cannot hold.


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


@dataclass
class SqliteTemplate:
    platform: str
    blank_tenant: str


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> SqliteTemplate:
    from app import create_app
    from tenants.db import db, detach_all, tenant_file
    from tenants.migrate import build_platform, build_tenant

    folder = tmp_path_factory.mktemp("sqlite-template")
    app = create_app(
        {**_base_config(str(folder)), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/platform.db"}
    )
    with app.app_context():
        with db.engine.begin() as connection:
            build_platform(connection)
        with db.engine.connect() as connection:
            with connection.begin():
                build_tenant(connection, "tenant_blank")
            detach_all(connection)
        db.engine.dispose()
    return SqliteTemplate(str(folder / "platform.db"), tenant_file(str(folder), "tenant_blank"))


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True)


SPARE = "spare_"
SPARES = 4
# The structure of a schema (tables, columns and types, indexes, constraints), without its name.
_FINGERPRINTS = """
SELECT n.nspname, md5(coalesce((
    SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || coalesce((
        SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text,
                          ',' ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), ''), ';'
        ORDER BY c.relname)
    FROM pg_class c WHERE c.relnamespace = n.oid), '') || '|' || coalesce((
    SELECT string_agg(k.conname || ':' || k.contype::text, ';' ORDER BY k.conname)
    FROM pg_constraint k WHERE k.connamespace = n.oid), ''))
FROM pg_namespace n WHERE n.nspname = ANY(%s)
"""
_SCHEMAS = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%%' AND nspname NOT IN ('information_schema', 'public', 'pristine_platform')
"""


class PgDatabase:
    """The run's PostgreSQL database, put back to its built state before each test (see above)."""

    def __init__(self, name: str):
        from sqlalchemy.engine import make_url

        self.name = name
        self.url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        self.spares = 0

    def _connect(self):
        import psycopg

        return psycopg.connect(self.url.replace("+psycopg", ""), autocommit=True)

    def build(self, tmp_path) -> None:
        from sqlalchemy import text

        from app import create_app
        from tenants.db import db
        from tenants.migrate import build_platform, build_tenant

        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.name}"')
        app = create_app({**_base_config(str(tmp_path)), "SQLALCHEMY_DATABASE_URI": self.url})
        with app.app_context():
            with db.engine.begin() as connection:
                build_platform(connection)
            with db.engine.begin() as connection:
                build_tenant(connection, f"{SPARE}0")
                connection.execute(text("CREATE SCHEMA pristine_platform"))
            db.engine.dispose()
        with self._connect() as conn:
            self.tenant_print, self.platform_print = (
                dict(conn.execute(_FINGERPRINTS, ([f"{SPARE}0", "platform"],)).fetchall())[k]
                for k in (f"{SPARE}0", "platform")
            )
            self.platform_tables = self._tables(conn, "platform")
            self.seeded = [
                table
                for table in self.platform_tables
                if conn.execute(f'SELECT EXISTS (SELECT 1 FROM platform."{table}")').fetchone()[0]
            ]
            for table in self.seeded:
                conn.execute(f'CREATE TABLE pristine_platform."{table}" AS TABLE platform."{table}"')
            self.sequences = conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'platform' "
                "AND last_value IS NOT NULL"
            ).fetchall()
        self.spares = 1
        self.reset(minimum=SPARES)

    @staticmethod
    def _tables(conn, schema: str) -> list[str]:
        return [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'alembic_version'",
                (schema,),
            )
        ]

    def reset(self, minimum: int = 0) -> None:
        """Back to the built state: what the last test left is emptied or dropped; the platform reseeded."""
        from app import create_app
        from tenants.db import db
        from tenants.migrate import build_tenant

        with self._connect() as conn:
            # Whatever the last test left connected (a worker it killed, a pool it did not dispose) lets go.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            used = [row[0] for row in conn.execute(_SCHEMAS) if not row[0].startswith(SPARE)]
            prints = dict(conn.execute(_FINGERPRINTS, (used,)).fetchall()) if used else {}
            if prints.get("platform") != self.platform_print:
                raise _Rebuild()
            keep = [s for s in used if s != "platform" and prints[s] == self.tenant_print]
            versions = self._versions(conn, keep)
            keep = [s for s in keep if versions.get(s) == self.tenant_version]
            tables = [f'platform."{t}"' for t in self.platform_tables]
            for schema in keep:
                tables += [f'"{schema}"."{t}"' for t in self._tables(conn, schema)]
            with conn.transaction():
                conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
                for table in self.seeded:
                    conn.execute(f'INSERT INTO platform."{table}" SELECT * FROM pristine_platform."{table}"')
                for sequence, value in self.sequences:
                    conn.execute("SELECT setval(%s, %s)", (f"platform.{sequence}", value))
                for schema in used:
                    if schema == "platform":
                        continue
                    if schema in keep:
                        conn.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{SPARE}{self.spares}"')
                        self.spares += 1
                    else:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        missing = minimum - sum(1 for _ in self._spare_names())
        if missing > 0:
            app = create_app({**_base_config("/nonexistent"), "SQLALCHEMY_DATABASE_URI": self.url})
            with app.app_context():
                for _ in range(missing):
                    with db.engine.begin() as connection:
                        build_tenant(connection, f"{SPARE}{self.spares}")
                    self.spares += 1
                db.engine.dispose()

    @property
    def tenant_version(self) -> str:
        from tenants.schema import head

        return head("tenant")

    @staticmethod
    def _versions(conn, schemas: list[str]) -> dict[str, str]:
        present = [
            row[0]
            for row in conn.execute(
                "SELECT schemaname FROM pg_tables WHERE tablename = 'alembic_version' AND schemaname = ANY(%s)",
                (schemas,),
            )
        ]
        if not present:
            return {}
        union = " UNION ALL ".join(f"SELECT '{s}', version_num FROM \"{s}\".alembic_version" for s in present)
        return dict(conn.execute(union).fetchall())

    def _spare_names(self):
        with self._connect() as conn:
            return [
                row[0]
                for row in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%'")
            ]

    def drop(self) -> None:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class _Rebuild(Exception):
    """A test changed the platform's structure: the database is built again."""


@pytest.fixture(scope="session")
def _pg_database(tmp_path_factory):
    if not HAVE_PG:
        pytest.skip("PostgreSQL not reachable")
    database = PgDatabase(f"emarge_t_{os.getpid()}")
    database.build(tmp_path_factory.mktemp("pg-template"))
    yield database
    database.drop()


def _adopt_spare(connection, schema: str) -> bool:
    """Rename a spare blank schema to ``schema`` in the provisioning transaction; False if none is free."""
    from sqlalchemy import text

    from tenants.db import bind_schema

    spares = connection.execute(
        text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\\_%' ORDER BY nspname")
    ).scalars()
    for spare in list(spares):
        # Two sign-ups at once never take the same one.
        if connection.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:s))"), {"s": spare}).scalar():
            connection.execute(text(f'ALTER SCHEMA "{spare}" RENAME TO "{schema}"'))
            bind_schema(connection, schema)
            return True
    return False


@pytest.fixture(autouse=True)
def _tenants_from_templates(request, monkeypatch):
    """Provisioning takes a ready blank tenant schema (or file) instead of running the DDL, unless the test
    is marked ``fresh_schema``."""
    if request.node.get_closest_marker("fresh_schema"):
        return
    import tenants.provisioning
    from tenants.db import bind_schema, tenant_file
    from tenants.migrate import build_tenant

    def build(connection, schema):
        if connection.dialect.name == "sqlite":
            from flask import current_app

            blank = request.getfixturevalue("_sqlite_template").blank_tenant
            target = tenant_file(current_app.instance_path, schema)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(blank, target)
            bind_schema(connection, schema)
            return
        if not _adopt_spare(connection, schema):
            build_tenant(connection, schema)

    monkeypatch.setattr(tenants.provisioning, "build_tenant", build)


@pytest.fixture
def backend():  # replaced by pytest_generate_tests; here so the name resolves in tests that do not ask for it
    return BACKENDS[0]


@pytest.fixture(scope="session")
def _instance(tmp_path_factory) -> str:
    """The run's instance folder, which every app of a test shares and ``app_config`` empties."""
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture
def app_config(backend, tmp_path, request, _instance):
    """The config of a fresh, empty Emarge (platform schema at head) on ``backend``."""
    for name in os.listdir(_instance):
        if name != "translations":  # compiled once, from files no test changes
            path = os.path.join(_instance, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    config = _base_config(_instance)
    if backend == "sqlite":
        shutil.copy(
            request.getfixturevalue("_sqlite_template").platform, os.path.join(_instance, "platform.db")
        )
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{_instance}/platform.db"
        return config
    from redis import Redis

    database = request.getfixturevalue("_pg_database")
    try:
        database.reset()
    except _Rebuild:
        database.build(tmp_path / "rebuild")
    Redis.from_url(REDIS_URL).flushdb()
    config["SQLALCHEMY_DATABASE_URI"] = database.url
    config["REDIS_URL"] = REDIS_URL
    return config


class _AppPool:
    """Apps kept from one test to the next: building one costs a quarter of a second (120 URL rules compiled,
    the blueprints registered, the catalogs read), more than most tests take.

    An app is handed to one test at a time; a test asking twice gets two apps (two "processes") on the same
    database. When a test ends its job runner is stopped and its engine's connections closed; before the next
    gets it, it has a fresh job runner and fresh per-process copies (``tenants/lookups.py``). The database is
    put back by ``app_config``. An app whose URL map a test changed is not kept.
    """

    def __init__(self, factory):
        self.factory = factory
        self.free: dict[tuple, list] = {}
        self.rules: dict[int, int] = {}

    def take(self, key: tuple, config: dict):
        from app import create_app

        waiting = self.free.get(key)
        if not waiting:
            app = create_app(config)
            self.rules[id(app)] = len(list(app.url_map.iter_rules()))
            return app
        app = waiting.pop()
        _renew(app)
        return app

    def give_back(self, key: tuple, app) -> None:
        _stop(app)
        if len(list(app.url_map.iter_rules())) == self.rules.get(id(app)):
            self.free.setdefault(key, []).append(app)


def _stop(app) -> None:
    """No job of this test may run into the next; no connection outlives its database's reset."""
    from tenants.db import db

    backend = app.extensions.get("emarge.jobs")
    if hasattr(backend, "close"):
        backend.close()
    with app.app_context():
        db.engine.dispose()


def _renew(app) -> None:
    from jobs import init_jobs
    from tenants import lookups

    init_jobs(app)
    lookups.init_app(app)
    app._got_first_request = False  # a test may add a rule before its first request (the app is then dropped)


@pytest.fixture(scope="session")
def _app_pool(tmp_path_factory):
    return _AppPool(tmp_path_factory)


# Settings that make an app of their own: a test that names its database or folder gets a new app.
_UNPOOLED = ("INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI")


@pytest.fixture
def make_app(app_config, backend, _app_pool):
    """The app, with config overrides (a mail server, CSRF on…): one kept from an earlier test with the same
    overrides when there is one (``_AppPool``), else a new one. Engines are disposed at teardown."""
    from app import create_app

    made, pooled = [], []

    def build(**overrides):
        config = {**app_config, **overrides}
        if any(name in overrides for name in _UNPOOLED):
            app = create_app(config)
            made.append(app)
            return app
        key = (backend, repr(sorted(overrides.items())))
        app = _app_pool.take(key, config)
        pooled.append((key, app))
        return app

    yield build
    for app in made:
        _stop(app)
    for key, app in pooled:
        _app_pool.give_back(key, app)


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


@pytest.fixture(scope="session")
def _chromium():
    """One Chromium for the whole run; each test gets its own contexts (``browser``), closed after it."""
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


@pytest.fixture
def browser(_chromium):
    yield _chromium
    # Cookies, storage and pages of one test never reach the next.
    for context in list(_chromium.contexts):
        context.close()


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` served over real HTTP on a free local port, in a thread, for as long as the block lasts."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(make_app):
    """``live_server(app)`` or ``live_server(**config)``: the base URL of an app served until the test ends
    (CSRF on, as in production, unless the config says otherwise)."""
    with ExitStack() as stack:

        def serve(app=None, **overrides):
            if app is None:
                app = make_app(**{"WTF_CSRF_ENABLED": True, **overrides})
            return stack.enter_context(serving(app))

        yield serve

"""What the benchmarks in bench/ share: the PostgreSQL server they work on, a database of their own on it, the
machine they ran on, child processes, and their section of docs/performance.md.

The scripts run as ``.venv/bin/python bench/<name>.py``, so this directory is first on ``sys.path`` and they
``import common``. Nothing here runs at import: the environment is read when a function asks for it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "performance.md")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret-key-not-for-production"


def pg_url() -> str:
    """The bench server's maintenance database, as psycopg spells it.

    ``EMARGE_BENCH_PG_URL`` or ``BENCH_PG_URL`` points elsewhere (both names are in use; either may carry the
    SQLAlchemy ``+psycopg`` driver).
    """
    url = os.environ.get("EMARGE_BENCH_PG_URL") or os.environ.get("BENCH_PG_URL") or DEFAULT_PG_URL
    return url.replace("+psycopg", "")


def sqlalchemy_url(url: str) -> str:
    """``url`` with the psycopg 3 driver named, for a config that bypasses the app's own reading of it."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}" if scheme in ("postgres", "postgresql") else url


def _admin():
    import psycopg

    return psycopg.connect(pg_url(), autocommit=True)


def create_database(name: str) -> str:
    """A fresh, empty database ``name`` (one a killed run left behind is dropped first): its URL."""
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(pg_url())
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(name: str) -> None:
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch(database: str, redis_url: str | None = None):
    """For one run: a database ``database`` of its own, an instance folder and, with ``redis_url``, that Redis
    database emptied; all three undone afterwards. Yields the database's URL and the folder."""

    def flush() -> None:
        if redis_url is not None:
            import redis

            redis.Redis.from_url(redis_url).flushdb()

    instance = tempfile.mkdtemp(prefix="emarge-bench-")
    flush()
    try:
        yield create_database(database), instance
    finally:
        drop_database(database)
        flush()
        shutil.rmtree(instance, ignore_errors=True)


def production_env(url: str, instance: str, redis_url: str) -> dict:
    """The environment the app reads in production, for the processes a benchmark starts and its seeding."""
    return {
        "EMARGE_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "EMARGE_INSTANCE": instance,
        "PUBLIC_BASE_URL": "http://127.0.0.1",
    }


def production_app(env: dict):
    """The app made in this process from ``env`` (see ``production_env``), its platform schema at head."""
    os.environ.update(env)
    from app import create_app
    from tenants.db import db
    from tenants.migrate import upgrade_platform

    app = create_app()
    with app.app_context(), db.engine.begin() as connection:
        upgrade_platform(connection)
    return app


def _schema_ddl(template: str = "tenant_bulk_template") -> tuple[str, list[str]]:
    """The statements ``build_tenant`` sends to build a schema (recorded on a rolled-back build)."""
    from sqlalchemy import event

    from tenants.db import db
    from tenants.migrate import build_tenant

    recorded: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "COMMENT")):
            recorded.append(statement.strip().rstrip(";"))

    connection = db.engine.connect()
    event.listen(connection, "before_cursor_execute", record)
    try:
        with connection.begin() as transaction:
            build_tenant(connection, template)
            transaction.rollback()
    finally:
        event.remove(connection, "before_cursor_execute", record)
        connection.close()
    return template, recorded


def bulk_create(first: int, last: int, batch: int = 50, prefix: str = "bulk") -> list[str]:
    """Tenants ``<prefix><n>`` for n in ``first``..``last``-1 at head, ``batch`` per transaction and per round
    trip, in the app context of the caller; returns their slugs.

    The very DDL ``build_tenant`` sends, recorded once and replayed with each schema's name, and the same
    stamp: only a way to get a thousand tenants quickly on a busy machine, not what is measured.
    """
    from sqlalchemy import insert

    from tenants.db import bind_schema, db
    from tenants.models import Tenant
    from tenants.provisioning import schema_for
    from tenants.schema import head

    template, ddl = _schema_ddl()
    script = (
        ";\n".join(ddl)
        + f";\nINSERT INTO \"{template}\".alembic_version (version_num) VALUES ('{head('tenant')}')"
    )
    made: list[str] = []
    for start in range(first, last, batch):
        slugs = [f"{prefix}{n:04d}" for n in range(start, min(start + batch, last))]
        made.extend(slugs)
        with db.engine.begin() as connection:
            bind_schema(connection, None)
            connection.execute(
                insert(Tenant.__table__),
                [{"slug": s, "schema": schema_for(s), "name": s, "status": "active"} for s in slugs],
            )
            connection.exec_driver_sql(
                ";\n".join(script.replace(template, schema_for(slug)) for slug in slugs)
            )
    return made


def load() -> str:
    """The load average over 1, 5 and 15 minutes, as the sections print it."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(redis_url: str | None = None) -> dict:
    """CPU, RAM, kernel, the PostgreSQL server's version, Python's, and Redis's when ``redis_url`` is given."""

    def read(path: str) -> str:
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    cpu = re.search(r"model name\s*:\s*(.+)", read("/proc/cpuinfo"))
    mem = re.search(r"MemTotal:\s*(\d+) kB", read("/proc/meminfo"))
    with _admin() as admin:
        postgresql = admin.execute("SHOW server_version").fetchone()[0]
    info = {
        "cpus": os.cpu_count(),
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or "unknown",
        "ram": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "postgresql": postgresql,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    if redis_url is not None:
        import redis

        info["redis"] = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    return info


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """End ``process`` and its session (started with ``start_new_session=True``): TERM, then KILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return  # already gone, children included
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def write_section(text: str) -> None:
    """Put ``text`` in docs/performance.md in place of the section it heads (its first line, ``## Name``),
    or at the end when there is none yet; the other sections are left as they are."""
    heading = text.split("\n", 1)[0]
    current = "# Performance\n"
    if os.path.exists(DOC):
        with open(DOC) as f:
            current = f.read()
    block = text.rstrip() + "\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current, count=1)
    else:
        updated = current.rstrip() + "\n\n" + block
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    with open(DOC, "w") as f:
        f.write(updated.rstrip() + "\n")


def main(doc: str, run, section, **sizes: int) -> None:
    """The command line of a benchmark whose options are whole numbers (``sizes``: name=default) and
    ``--no-docs``: ``run(args)``, then ``section(results)`` printed and written in docs/performance.md."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in sizes.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    text = section(run(args))
    print(text)
    if not args.no_docs:
        write_section(text)

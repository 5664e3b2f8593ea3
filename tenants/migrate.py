"""Schema histories: build a schema at head, upgrade one, upgrade all tenants, draft a migration.

Raw SQL lives here and in provisioning only.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tenants.db import PLATFORM, TENANT, begin_ddl, bind_schema, db, tenant_file
from tenants.schema import alembic_config, head, metadata, run_seeds

logger = logging.getLogger(__name__)


def create_platform_schema(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{PLATFORM}"'))


def upgrade_platform(connection: Connection, revision: str = "head") -> None:
    begin_ddl(connection)
    create_platform_schema(connection)
    bind_schema(connection, None)
    _run_alembic("platform", connection, lambda cfg: command.upgrade(cfg, revision))


def build_platform(connection: Connection) -> None:
    """The platform schema from metadata, stamped at head (tests and first start)."""
    begin_ddl(connection)
    create_platform_schema(connection)
    bind_schema(connection, None)
    metadata("platform").create_all(connection)
    stamp(connection, "platform", PLATFORM)
    with Session(bind=connection) as session:
        run_seeds("platform", session)
        session.commit()


def upgrade_tenant(connection: Connection, schema: str, revision: str = "head") -> None:
    begin_ddl(connection)
    bind_schema(connection, schema)
    _run_alembic("tenant", connection, lambda cfg: command.upgrade(cfg, revision))


def build_tenant(connection: Connection, schema: str) -> None:
    """A tenant schema from metadata, stamped at head: what provisioning does, far faster than a replay."""
    begin_ddl(connection)
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    bind_schema(connection, schema, create=True)
    metadata("tenant").create_all(connection)
    stamp(connection, "tenant", TENANT)


def stamp(connection: Connection, kind: str, placeholder: str) -> None:
    translate = connection.get_execution_options().get("schema_translate_map", {})
    context = MigrationContext.configure(
        connection, opts={"version_table_schema": translate.get(placeholder, placeholder)}
    )
    context.stamp(ScriptDirectory.from_config(alembic_config(kind)), "head")


def _run_alembic(kind: str, connection: Connection, action: Callable) -> None:
    config = alembic_config(kind)
    config.attributes["connection"] = connection
    try:
        return action(config)
    finally:
        config.attributes.pop("connection", None)


def tenant_versions(schemas: list[str]) -> dict[str, str | None]:
    """The revision of each tenant schema, None where it has none: one query on PostgreSQL."""
    versions: dict[str, str | None] = dict.fromkeys(schemas)
    if not schemas:
        return versions
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            present = set(
                connection.execute(
                    text(
                        "SELECT table_schema FROM information_schema.tables "
                        "WHERE table_name = 'alembic_version' AND table_schema = ANY(:schemas)"
                    ),
                    {"schemas": schemas},
                ).scalars()
            )
            # Schema names come from the tenants table, validated at provisioning; quoted all the same.
            union = " UNION ALL ".join(
                f"SELECT '{schema}' AS schema, version_num FROM \"{schema}\".alembic_version"
                for schema in schemas
                if schema in present
            )
            if union:
                versions.update(dict(connection.execute(text(union)).all()))
        return versions
    for schema in schemas:
        path = tenant_file(current_app.instance_path, schema)
        if not os.path.exists(path):
            continue
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
            try:
                row = raw.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError:
                row = None
        versions[schema] = row[0] if row else None
    return versions


@dataclass
class MigrateReport:
    at_head: int = 0
    upgraded: list[str] = field(default_factory=list)
    failed: str | None = None
    error: str | None = None
    not_started: list[str] = field(default_factory=list)


_worker_app: Flask | None = None


def _init_worker(app: Flask) -> None:
    global _worker_app
    _worker_app = app
    with app.app_context():
        # Connections inherited through fork belong to the parent: open our own.
        db.engine.dispose(close=False)


def _upgrade_one(schema: str) -> str:
    with _worker_app.app_context(), db.engine.begin() as connection:
        upgrade_tenant(connection, schema)
    return schema


def migrate_tenants(
    tenants: list, *, jobs: int = 4, on_progress: Callable[[str], None] | None = None
) -> MigrateReport:
    """Bring every tenant schema to head, ``jobs`` at a time, stopping at the first failure.

    Alembic keeps its context in module globals, so the parallelism is across processes, not threads. Each
    tenant migrates in its own transaction: a failed one is rolled back and no new one is started.
    """
    target = head("tenant")
    versions = tenant_versions([t.schema for t in tenants])
    todo = [t for t in tenants if versions[t.schema] != target]
    report = MigrateReport(at_head=len(tenants) - len(todo))
    if not todo:
        return report
    by_schema = {t.schema: t for t in todo}
    app = current_app._get_current_object()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=max(1, jobs), mp_context=context, initializer=_init_worker, initargs=(app,)
    ) as pool:
        pending = {pool.submit(_upgrade_one, t.schema): t.schema for t in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                schema = pending.pop(future)
                error = future.exception()
                if error is None:
                    report.upgraded.append(by_schema[schema].slug)
                    if on_progress:
                        on_progress(by_schema[schema].slug)
                elif report.failed is None:
                    report.failed = by_schema[schema].slug
                    report.error = f"{type(error).__name__}: {error}"
            if report.failed:
                for future, schema in pending.items():
                    if future.cancel():
                        report.not_started.append(by_schema[schema].slug)
                wait(pending)
                for future, schema in pending.items():
                    if not future.cancelled() and future.exception() is None:
                        report.upgraded.append(by_schema[schema].slug)
                break
    return report


def draft_migration(kind: str, message: str, database_url: str) -> None:
    """Autogenerate a migration of ``kind`` by comparing the models with a scratch PostgreSQL database at head.

    The scratch database holds schemas literally named ``platform`` and ``tenant``, so the comparison needs no
    schema translation. Development only: review what it writes.
    """
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    placeholder = PLATFORM if kind == "platform" else TENANT
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{placeholder}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{placeholder}"'))
        connection.execution_options(schema_translate_map={placeholder: placeholder})
        _run_alembic(kind, connection, lambda cfg: command.upgrade(cfg, "head"))
        scripts = _run_alembic(
            kind, connection, lambda cfg: command.revision(cfg, message=message, autogenerate=True)
        )
        connection.execute(text(f'DROP SCHEMA "{placeholder}" CASCADE'))
    engine.dispose()
    for script in scripts if isinstance(scripts, list) else [scripts]:
        # Name the schema through the variable the template defines, never the placeholder literally.
        with open(script.path) as f:
            source = f.read()
        with open(script.path, "w") as f:
            source = source.replace(f"schema='{placeholder}'", "schema=schema")
            f.write(re.sub(rf"\['{placeholder}\.(\w+\.\w+)'\]", r"[fk_target(schema, '\1')]", source))

"""The database: one engine, two kinds of tables, one code path for PostgreSQL and SQLite.

Platform tables are declared in the schema ``platform``; tenant tables in the placeholder schema ``tenant``.
Every connection gets a ``schema_translate_map`` when its transaction begins: ``tenant`` becomes the schema of
the tenant in scope (``tenant_<slug>``). On PostgreSQL that is a real schema; on SQLite it is a database file
attached under that name, and ``platform`` is the main database file.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

PLATFORM = "platform"
TENANT = "tenant"
# A schema that never exists: tenant tables touched outside a tenant scope fail loudly instead of leaking.
UNSCOPED = "tenant_unscoped"

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Big-integer keys everywhere; SQLite only autoincrements a column declared INTEGER PRIMARY KEY.
BigID = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on both back ends (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_moment(text: str | None) -> datetime:
    """A moment a job was handed as ISO 8601 text (UTC when it names no zone); the present when None."""
    if not text:
        return utcnow()
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PlatformBase(DeclarativeBase):
    metadata = MetaData(schema=PLATFORM, naming_convention=NAMING)


class TenantBase(DeclarativeBase):
    metadata = MetaData(schema=TENANT, naming_convention=NAMING)


db = SQLAlchemy(engine_options={"pool_pre_ping": True})


def translate_map(dialect_name: str, schema: str | None) -> dict:
    return {
        PLATFORM: None if dialect_name == "sqlite" else PLATFORM,
        TENANT: schema or UNSCOPED,
    }


def tenant_file(instance_path: str, schema: str) -> str:
    return os.path.join(instance_path, "tenants", f"{schema}.db")


def bind_schema(connection: Connection, schema: str | None, *, create: bool = False) -> None:
    """Point ``connection`` at the tenant schema (None: platform only), attaching its file on SQLite.

    ``create`` lets provisioning attach a tenant file that does not exist yet.
    """
    dialect = connection.dialect.name
    connection.execution_options(schema_translate_map=translate_map(dialect, schema))
    if dialect == "sqlite" and schema:
        _attach(connection, schema, create)


def _attach(connection: Connection, schema: str, create: bool) -> None:
    attached = connection.info.setdefault("emarge_attached", set())
    if schema in attached:
        return
    raw = connection.connection.driver_connection
    # SQLite caps attached databases (10 by default): a connection keeps only the tenant in scope attached.
    # Pooled connections are emptied when returned; SQLite refuses to detach inside a transaction, so a
    # connection that switches tenant mid-transaction (provisioning) keeps both until then.
    if not raw.in_transaction:
        for other in list(attached):
            raw.execute(f'DETACH DATABASE "{other}"')
            attached.discard(other)
    path = tenant_file(current_app.instance_path, schema)
    if not create and not os.path.exists(path):
        # ATTACH would silently create an empty file; an unknown tenant is an error, not a new database.
        raise LookupError(f"no database file for {schema}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    raw.execute(f'ATTACH DATABASE ? AS "{schema}"', (path,))
    attached.add(schema)


def real_schema(connection: Connection, placeholder: str) -> str | None:
    """The schema ``placeholder`` stands for on this connection (migrations name it in ALTER statements,
    which Alembic renders without the schema translation)."""
    return connection.get_execution_options().get("schema_translate_map", {}).get(placeholder, placeholder)


def fk_target(schema: str | None, target: str) -> str:
    """A foreign key target in the migration's real schema: ``users.id`` → ``tenant_acme.users.id``.

    Naming the placeholder instead would make SQLite drop the constraint (it sees another schema).
    """
    return f"{schema}.{target}" if schema else target


def begin_ddl(connection: Connection) -> None:
    """Make the schema changes that follow part of one transaction, on SQLite too.

    The SQLite driver opens a transaction only before INSERT/UPDATE/DELETE, so DDL would commit statement by
    statement and a failed migration or provisioning would stay half-made. Its lazy transactions are kept for
    everyday work (a read-then-write transaction begun early would fail under concurrent writers instead of
    waiting); DDL work takes the write lock at once instead, before its first statement.
    """
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def configure_engine(engine) -> None:
    """Per-connection settings, once per engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _detach_on_checkin(dbapi_connection, record):
        attached = record.info.get("emarge_attached")
        while attached:
            schema = attached.pop()
            try:
                dbapi_connection.execute(f'DETACH DATABASE "{schema}"')
            except Exception:  # noqa: BLE001 - a connection that cannot detach is dropped from the pool
                record.invalidate()
                return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def detach_all(connection: Connection) -> None:
    """Forget every attached tenant file (before a file is deleted)."""
    attached = connection.info.get("emarge_attached", set())
    raw = connection.connection.driver_connection
    for schema in list(attached):
        raw.execute(f'DETACH DATABASE "{schema}"')
        attached.discard(schema)


def ping(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))

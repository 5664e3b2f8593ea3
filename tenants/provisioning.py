"""Creating and dropping tenants: all or nothing."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from tenants.db import begin_ddl, bind_schema, db, detach_all, tenant_file, utcnow
from tenants.lookups import stale
from tenants.migrate import build_tenant
from tenants.models import TENANT_ID, Tenant, TenantRef
from tenants.schema import run_seeds
from tenants.scope import TENANT_ROWS

logger = logging.getLogger(__name__)

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SLUG_MIN, SLUG_MAX = 3, 40
# First path segments the application itself uses, and names that would mislead.
RESERVED_SLUGS = frozenset(
    [
        "about",
        "account",
        "accounts",
        "admin",
        "api",
        "app",
        "assets",
        "auth",
        "billing",
        "blog",
        "cdn",
        "changelog",
        "contact",
        "cookies",
        "dashboard",
        "docs",
        "emarge",
        "find",
        "healthz",
        "help",
        "home",
        "hooks",
        "language",
        "legal",
        "live",
        "login",
        "logout",
        "mail",
        "media",
        "new",
        "org",
        "organization",
        "organizations",
        "platform",
        "privacy",
        "public",
        "register",
        "root",
        "security",
        "settings",
        "signup",
        "sign-in",
        "sign-up",
        "static",
        "staff",
        "status",
        "subprocessors",
        "support",
        "system",
        "tenant",
        "tenants",
        "terms",
        "test",
        "verify",
        "www",
    ]
)


class ProvisioningError(Exception):
    """A reason the tenant cannot be created, meant for the person signing up."""


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot name a tenant, or None. Messages are plain English, translated by the caller."""
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return "length"
    if not SLUG_RE.fullmatch(slug):  # match() would let a trailing newline through ($)
        return "charset"
    if slug in RESERVED_SLUGS:
        return "reserved"
    return None


def schema_for(slug: str) -> str:
    return "tenant_" + slug.replace("-", "_")


@dataclass
class NewTenant:
    slug: str
    name: str
    language: str = "fr"
    timezone: str = "Europe/Paris"
    # Self-service sign-ups wait for the account holder to confirm their address; what an operator or the demo
    # creates is confirmed at once.
    confirmed: bool = True


def slug_taken(slug: str) -> bool:
    with db.engine.connect() as connection:
        bind_schema(connection, None)
        table = Tenant.__table__
        return bool(
            connection.execute(
                select(func.count()).select_from(table).where(table.c.schema == schema_for(slug))
            ).scalar()
        )


# Left out of a suggested address: a leading article, and legal forms wherever they stand.
_ARTICLES = frozenset({"l", "la", "le", "les", "the"})
_LEGAL_FORMS = frozenset({"sarl", "sas", "sasu", "eurl", "sa", "scop", "ltd"})


def suggest_slug(name: str) -> str | None:
    """A free address made from an organization's name ("L'École des Métiers" → "ecole-des-metiers"), with a
    number when it is taken; None when the name gives nothing to make one from."""
    import unicodedata

    letters = []
    for char in unicodedata.normalize("NFKD", (name or "").lower()):
        if unicodedata.category(char) == "Mn":
            continue  # an accent, folded away
        letters.append(char if char.isascii() and char.isalnum() else " ")
    words = [w for w in "".join(letters).split() if w not in _LEGAL_FORMS]
    while len(words) > 1 and words[0] in _ARTICLES:
        words.pop(0)
    base = ""
    for word in words:
        if len(base) + len(word) + 1 > SLUG_MAX - 3:
            break
        base = f"{base}-{word}" if base else word
    base = base.lstrip("0123456789-")
    if base and len(base) < SLUG_MIN:
        base = f"{base}-formation"
    if not base or slug_problem(base) == "charset":
        return None
    for n in range(1, 50):
        candidate = base if n == 1 else f"{base}-{n}"
        if slug_problem(candidate) is None and not slug_taken(candidate):
            return candidate
    return None


def provision(new: NewTenant, populate: Callable[[Session, TenantRef], None] | None = None) -> TenantRef:
    """Create the tenant row, its schema at head and what ``populate`` adds (its first admin), at once.

    On PostgreSQL it is one transaction, DDL included. On SQLite the tenant file is attached to the same
    connection and deleted if anything fails. Either way a failure leaves no row, no schema and no file.
    """
    problem = slug_problem(new.slug)
    if problem:
        raise ProvisioningError(problem)
    if slug_taken(new.slug):
        raise ProvisioningError("taken")
    schema = schema_for(new.slug)
    engine = db.engine
    path = tenant_file(current_app.instance_path, schema) if engine.dialect.name == "sqlite" else None
    if path and os.path.exists(path):
        # A file nobody owns (a crash mid-provisioning before this code existed): never adopt it silently.
        raise ProvisioningError("taken")
    connection = engine.connect()
    created_file = False
    try:
        with connection.begin():
            begin_ddl(connection)
            bind_schema(connection, None)
            table = Tenant.__table__
            tenant_id = connection.execute(
                insert(table)
                .values(
                    slug=new.slug,
                    schema=schema,
                    name=new.name,
                    language=new.language,
                    timezone=new.timezone,
                    status="active",
                    confirmed_at=utcnow() if new.confirmed else None,
                )
                .returning(table.c.id)
            ).scalar_one()
            # The row is inserted first: a concurrent sign-up for the same slug blocks on it, then fails on the
            # unique constraint before it could touch this tenant's file.
            created_file = path is not None
            build_tenant(connection, schema)
            ref = TenantRef(tenant_id, new.slug, schema, new.name, "active", new.language, new.timezone)
            # Flush hooks that keep platform rows about the tenant (the account emails) read its id here.
            with Session(bind=connection, info={TENANT_ID: tenant_id}) as session:
                run_seeds("tenant", session)
                if populate:
                    populate(session, ref)
                session.flush()
    except BaseException:
        _forget_file(connection, path if created_file else None)
        raise
    finally:
        if not connection.closed:
            connection.close()
    if path:
        _use_wal(path)
    logger.info("provisioned tenant %s", new.slug)
    return ref


def _use_wal(path: str) -> None:
    # Persistent in the file; SQLite refuses to switch inside a transaction, so it is done once, after.
    import sqlite3

    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode=WAL")


def _forget_file(connection, path: str | None) -> None:
    if path is None:
        return
    try:
        detach_all(connection)
    finally:
        connection.close()
        _remove_file(path)


def _remove_file(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def drop(ref: TenantRef, *, keep_row: dict | None = None) -> None:
    """Remove a tenant: its row and its schema (or file). ``keep_row``: the row stays, with these values (the
    retention engine keeps it for the billing record and the verification index)."""
    engine = db.engine
    with engine.begin() as connection:
        bind_schema(connection, None)
        table = Tenant.__table__
        if keep_row is None:
            connection.execute(table.delete().where(table.c.id == ref.id))
        else:
            connection.execute(table.update().where(table.c.id == ref.id).values(**keep_row))
        if engine.dialect.name == "postgresql":
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{ref.schema}" CASCADE'))
    stale(TENANT_ROWS)
    if engine.dialect.name == "sqlite":
        # Pooled connections may still hold the file attached.
        engine.dispose()
        _remove_file(tenant_file(current_app.instance_path, ref.schema))

"""The erasure ledger: every erasure, without any personal data, in a store a database restore does not roll back
(its own database, ``ERASURE_LEDGER_URL``; by default an SQLite file under ``instance/``). After a restore,
``flask privacy replay-erasures`` applies each of them again before the app serves.

The person is an HMAC of their id under a key of their organization (derived from ``SECRET_KEY``; the former
keys of ``SECRET_KEY_FALLBACKS`` still match): the ledger names nobody, and finds them again only where their
row is.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table, create_engine, insert, select

LEDGER = MetaData()
erasures = Table(
    "erasures",
    LEDGER,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, nullable=False, index=True),
    Column("subject", String(64), nullable=False),
    Column("categories", String(100), nullable=False),
    Column("evidence_kept_until", Date),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("erased_by", Integer),
)
EXTENSION = "emarge.erasure_ledger"


@dataclass(frozen=True)
class Entry:
    tenant_id: int
    subject: str
    categories: tuple[str, ...]
    evidence_kept_until: date | None
    erased_at: datetime


def _engine():
    url = current_app.config.get("ERASURE_LEDGER_URL") or "sqlite:///" + os.path.join(
        current_app.instance_path, "erasure-ledger.db"
    )
    engines = current_app.extensions.setdefault(EXTENSION, {})
    if url not in engines:
        pooled = current_app.config.get("DATABASE_TRANSACTION_POOLER") and url.startswith("postgresql")
        # Behind PgBouncer in transaction mode, no prepared statement (see app._behind_transaction_pooler).
        engine = create_engine(
            url, pool_pre_ping=True, connect_args={"prepare_threshold": None} if pooled else {}
        )
        LEDGER.create_all(engine)
        engines[url] = engine
    return engines[url]


def _keys() -> list[str]:
    return [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", [])]


def subject_of(tenant_id: int, participant_id: int, secret: str | None = None) -> str:
    org_key = hmac.new(
        (secret or _keys()[0]).encode(), f"erasure-ledger:{tenant_id}".encode(), hashlib.sha256
    )
    return hmac.new(org_key.digest(), f"participant:{participant_id}".encode(), hashlib.sha256).hexdigest()


def write(
    tenant_id: int,
    participant_id: int,
    categories: tuple[str, ...],
    evidence_kept_until: date | None,
    erased_at: datetime,
    erased_by: int | None,
) -> None:
    """Record an erasure, committed in the ledger at once: written before the erasure commits, so that an
    erasure is never done without its line (a line whose erasure then failed is applied again by a replay)."""
    with _engine().begin() as connection:
        connection.execute(
            insert(erasures).values(
                tenant_id=tenant_id,
                subject=subject_of(tenant_id, participant_id),
                categories=",".join(sorted(categories)),
                evidence_kept_until=evidence_kept_until,
                erased_at=erased_at,
                erased_by=erased_by,
            )
        )


def entries(tenant_id: int) -> list[Entry]:
    with _engine().connect() as connection:
        rows = connection.execute(
            select(erasures).where(erasures.c.tenant_id == tenant_id).order_by(erasures.c.id)
        ).all()
    return [
        Entry(
            r.tenant_id, r.subject, tuple(r.categories.split(",")), r.evidence_kept_until, _utc(r.erased_at)
        )
        for r in rows
    ]


def _utc(moment: datetime) -> datetime:
    # SQLite gives the moment back without its zone: it was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def match(tenant_id: int, participant_ids: list[int]) -> dict[str, int]:
    """Subject → participant id, for the ids given, under the current key and every former one."""
    return {subject_of(tenant_id, pid, secret): pid for secret in _keys() for pid in participant_ids}

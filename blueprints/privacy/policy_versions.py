"""The platform's policies (privacy, cookies, terms…): versions published with a summary of what changed,
the defaults every new platform starts with, acknowledgements asked at login after a substantial change, and the
list of sub-processors.

Plain functions: they take values (never the request) and flush; the caller commits."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blueprints.privacy import defaults, retention_text
from blueprints.privacy.models import (
    ACKNOWLEDGED_KINDS,
    COOKIES,
    POLICY_KINDS,
    PRIVACY,
    PolicyAcknowledgement,
    PolicyVersion,
    SubProcessor,
)
from tenants.db import bind_schema, db, utcnow
from tenants.lookups import cached, family

logger = logging.getLogger(__name__)

# The versions in force, read by every signed-in request and every page with the cookie banner: copied per
# process and dropped when a version is published (tenants/lookups.py).
POLICY_ROWS = family("policies", PolicyVersion.__tablename__)


# --- policies -------------------------------------------------------------------------------------------------


def latest(kind: str, session: Session | None = None) -> PolicyVersion | None:
    session = session or db.session
    return session.scalars(
        select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.number.desc()).limit(1)
    ).first()


def version(kind: str, number: int) -> PolicyVersion | None:
    return db.session.scalars(
        select(PolicyVersion).where(PolicyVersion.kind == kind, PolicyVersion.number == number)
    ).first()


def history(kind: str) -> list[PolicyVersion]:
    return list(
        db.session.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.number.desc())
        )
    )


def cookie_policy_number() -> int:
    """The number of the cookie policy in force (0 before any), which a consent is given under. Read on a
    connection of its own (a page, an error page too, must not depend on the request's transaction) and copied
    per process."""
    return cached(POLICY_ROWS, "cookie_policy_number", _read_cookie_policy_number)


def _read_cookie_policy_number() -> int:
    with db.engine.connect() as connection:
        bind_schema(connection, None)
        return (
            connection.execute(
                select(func.max(PolicyVersion.number)).where(PolicyVersion.kind == COOKIES)
            ).scalar()
            or 0
        )


def publish(
    kind: str,
    *,
    body_fr: str,
    body_en: str,
    summary_fr: str = "",
    summary_en: str = "",
    substantial: bool = False,
    staff_id: int | None = None,
) -> PolicyVersion:
    """A new version of ``kind``. A substantial privacy or cookie policy is emailed to every account holder
    (once the caller commits) and acknowledged by users at their next login."""
    if kind not in POLICY_KINDS:
        raise ValueError(f"unknown policy {kind}")
    current = latest(kind)
    row = PolicyVersion(
        kind=kind,
        number=(current.number + 1) if current else 1,
        published_at=utcnow(),
        substantial=bool(substantial and kind in ACKNOWLEDGED_KINDS),
        summary_fr=summary_fr.strip(),
        summary_en=summary_en.strip(),
        body_fr=body_fr,
        body_en=body_en,
        published_by=staff_id,
    )
    db.session.add(row)
    db.session.flush()
    if row.substantial:
        from jobs import MESSAGING, enqueue

        enqueue("jobs.privacy.notify_policy_version", row.id, queue=MESSAGING)
    return row


def ensure_defaults(session: Session) -> bool:
    """The first version of each policy and the sub-processor list, on a fresh install, then the later
    revisions and the retention periods of the registry (``sync_retention``). Safe to call again: only what
    was never seeded is added. True when something was added."""
    added = False
    fresh = latest("privacy", session) is None
    for kind, (body_fr, body_en) in defaults.POLICIES.items():
        if latest(kind, session) is None:
            body_fr, body_en = body_fr.strip(), body_en.strip()
            if kind == PRIVACY:
                body_fr, body_en = (
                    retention_text.with_block(body_fr, "fr"),
                    retention_text.with_block(body_en, "en"),
                )
            session.add(PolicyVersion(kind=kind, number=1, body_fr=body_fr, body_en=body_en))
            added = True
    # Seeded with the first privacy policy only: a list staff later empty stays empty.
    if fresh:
        for position, (name, role_fr, role_en, country, leaves_eu, safeguards) in enumerate(
            defaults.SUB_PROCESSORS
        ):
            session.add(
                SubProcessor(
                    name=name,
                    role_fr=role_fr,
                    role_en=role_en,
                    country=country,
                    leaves_eu=leaves_eu,
                    safeguards=safeguards,
                    position=position,
                )
            )
    session.flush()
    revised = apply_revisions(session)
    return sync_retention(session) or revised or added


def _insert(body: str, paragraph: str) -> str:
    at = body.find("<h2>6.")
    return f"{body.rstrip()}\n\n{paragraph}" if at < 0 else f"{body[:at]}{paragraph}\n\n{body[at:]}"


def apply_revisions(session: Session) -> bool:
    """Publish each of ``defaults.REVISIONS`` not yet published on this platform (no version holds its marker),
    as a new version of the text in force. True when one was published."""
    published = False
    for kind, marker, summary_fr, summary_en, paragraph_fr, paragraph_en in defaults.REVISIONS:
        current = latest(kind, session)
        if current is None:
            continue
        already = session.scalar(
            select(func.count())
            .select_from(PolicyVersion)
            .where(PolicyVersion.kind == kind, PolicyVersion.body_fr.contains(marker))
        )
        if already:
            continue
        session.add(
            PolicyVersion(
                kind=kind,
                number=current.number + 1,
                published_at=utcnow(),
                substantial=False,
                summary_fr=summary_fr,
                summary_en=summary_en,
                body_fr=_insert(current.body_fr, paragraph_fr),
                body_en=_insert(current.body_en, paragraph_en),
            )
        )
        session.flush()
        published = True
    return published


def sync_retention(session: Session) -> bool:
    """Publish a new version of the privacy policy if its list of retention periods is not the registry's
    (``blueprints/privacy/retention_text.py``). True when one was published."""
    current = latest(PRIVACY, session)
    if current is None:
        return False
    if retention_text.block("fr") in current.body_fr and retention_text.block("en") in current.body_en:
        return False
    session.add(
        PolicyVersion(
            kind=PRIVACY,
            number=current.number + 1,
            published_at=utcnow(),
            substantial=False,
            summary_fr=retention_text.changes(current.body_fr, "fr"),
            summary_en=retention_text.changes(current.body_en, "en"),
            body_fr=retention_text.with_block(current.body_fr, "fr"),
            body_en=retention_text.with_block(current.body_en, "en"),
        )
    )
    session.flush()
    return True


# --- acknowledgements at login --------------------------------------------------------------------------------


def pending_acknowledgements(tenant_id: int, user_id: int, since: datetime | None) -> list[PolicyVersion]:
    """The latest substantial version of each acknowledged policy, published after ``since`` (the user's
    creation) and not yet acknowledged by this user."""
    pending = []
    for kind in ACKNOWLEDGED_KINDS:
        row = db.session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind, PolicyVersion.substantial.is_(True))
            .order_by(PolicyVersion.number.desc())
            .limit(1)
        ).first()
        if row is None or (since is not None and row.published_at <= since):
            continue
        done = db.session.scalars(
            select(PolicyAcknowledgement.id).where(
                PolicyAcknowledgement.tenant_id == tenant_id,
                PolicyAcknowledgement.user_id == user_id,
                PolicyAcknowledgement.version_id == row.id,
            )
        ).first()
        if done is None:
            pending.append(row)
    return pending


def latest_substantial_id() -> int | None:
    """What a session remembers having checked: a new substantial version changes it."""
    return cached(
        POLICY_ROWS,
        "latest_substantial_id",
        lambda: db.session.scalar(
            select(func.max(PolicyVersion.id)).where(PolicyVersion.substantial.is_(True))
        ),
    )


def acknowledge(tenant_id: int, user_id: int, versions: list[PolicyVersion]) -> None:
    for row in versions:
        db.session.add(PolicyAcknowledgement(tenant_id=tenant_id, user_id=user_id, version_id=row.id))
    db.session.flush()


# --- sub-processors -------------------------------------------------------------------------------------------


def sub_processors() -> list[SubProcessor]:
    return list(db.session.scalars(select(SubProcessor).order_by(SubProcessor.position, SubProcessor.name)))


def save_sub_processor(row: SubProcessor | None, **values) -> SubProcessor:
    row = row or SubProcessor()
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    return row


def remove_sub_processor(row: SubProcessor) -> None:
    db.session.delete(row)
    db.session.flush()

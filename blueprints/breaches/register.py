"""What the breach register shows: the incidents with their figures (staff), and the notices an organization
received, viewed and acknowledged (its admins). Plain functions; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from blueprints.breaches.models import Breach, BreachNotice, BreachOrganization, BreachUpdate
from blueprints.breaches.services import INITIAL, Countdown, countdown
from tenants.db import db, utcnow

# --- the register ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where one step stands over its organizations."""

    organizations: int
    sent: int
    viewed: int
    acknowledged: int
    problems: int


def progress(breach_id: int) -> dict[int, Progress]:
    """Step → its notices' progress."""
    rows = db.session.execute(
        select(
            BreachNotice.seq,
            func.count(),
            func.count(BreachNotice.sent_at),
            func.count(BreachNotice.viewed_at),
            func.count(BreachNotice.acknowledged_at),
            func.count(BreachNotice.problem),
        )
        .where(BreachNotice.breach_id == breach_id)
        .group_by(BreachNotice.seq)
    )
    return {seq: Progress(*counts) for seq, *counts in rows}


def notices_of(breach_id: int) -> dict[tuple[int, int], BreachNotice]:
    """(tenant id, step) → notice, for the incident's page."""
    return {
        (n.tenant_id, n.seq): n
        for n in db.session.scalars(select(BreachNotice).where(BreachNotice.breach_id == breach_id))
    }


@dataclass(frozen=True)
class Entry:
    breach: Breach
    organizations: int
    updates: int
    notified_at: datetime | None
    acknowledged: int

    def countdown(self, now: datetime | None = None) -> Countdown:
        return countdown(self.breach, self.notified_at, now)


def register() -> list[Entry]:
    """Every incident, the latest discovered first, with its figures for the list and the CSV."""
    breaches = list(
        db.session.scalars(select(Breach).order_by(Breach.discovered_at.desc(), Breach.id.desc()))
    )
    orgs = dict(
        db.session.execute(
            select(BreachOrganization.breach_id, func.count()).group_by(BreachOrganization.breach_id)
        ).all()
    )
    updates = dict(
        db.session.execute(
            select(BreachUpdate.breach_id, func.count()).group_by(BreachUpdate.breach_id)
        ).all()
    )
    initial = {
        breach_id: (first, acknowledged)
        for breach_id, first, acknowledged in db.session.execute(
            select(
                BreachNotice.breach_id,
                func.min(BreachNotice.queued_at),
                func.count(BreachNotice.acknowledged_at),
            )
            .where(BreachNotice.seq == INITIAL)
            .group_by(BreachNotice.breach_id)
        )
    }
    return [
        Entry(
            b,
            orgs.get(b.id, 0),
            updates.get(b.id, 0),
            initial.get(b.id, (None, 0))[0],
            initial.get(b.id, (None, 0))[1],
        )
        for b in breaches
    ]


# --- the organization's side -------------------------------------------------------------------------------


def notices_for(tenant_id: int) -> list[tuple[Breach, list[BreachNotice]]]:
    """The incidents the organization was notified of, the latest first, each with its notices in order."""
    by_breach: dict[int, list[BreachNotice]] = {}
    for notice in db.session.scalars(
        select(BreachNotice).where(BreachNotice.tenant_id == tenant_id).order_by(BreachNotice.seq)
    ):
        by_breach.setdefault(notice.breach_id, []).append(notice)
    if not by_breach:
        return []
    breaches = db.session.scalars(
        select(Breach).where(Breach.id.in_(by_breach)).order_by(Breach.discovered_at.desc(), Breach.id.desc())
    )
    return [(b, by_breach[b.id]) for b in breaches]


def notices_of_tenant(breach_id: int, tenant_id: int) -> list[BreachNotice]:
    return list(
        db.session.scalars(
            select(BreachNotice)
            .where(BreachNotice.breach_id == breach_id, BreachNotice.tenant_id == tenant_id)
            .order_by(BreachNotice.seq)
        )
    )


def unacknowledged(tenant_id: int) -> int:
    """How many notices the organization's admins have not acknowledged yet (the banner shows while any)."""
    return db.session.scalar(
        select(func.count())
        .select_from(BreachNotice)
        .where(BreachNotice.tenant_id == tenant_id, BreachNotice.acknowledged_at.is_(None))
    )


def mark_viewed(notices: list[BreachNotice], user_id: int, now: datetime | None = None) -> int:
    """The first admin to open the notices in the app: recorded once per notice. How many were new."""
    now, fresh = now or utcnow(), 0
    for notice in notices:
        if notice.viewed_at is None:
            notice.viewed_at, notice.viewed_by, fresh = now, user_id, fresh + 1
    db.session.flush()
    return fresh


def acknowledge(notices: list[BreachNotice], user_id: int, name: str, now: datetime | None = None) -> int:
    """An admin acknowledges the notices shown to them; each keeps its first acknowledgement. How many were new."""
    now, fresh = now or utcnow(), 0
    for notice in notices:
        if notice.viewed_at is None:
            notice.viewed_at, notice.viewed_by = now, user_id
        if notice.acknowledged_at is None:
            notice.acknowledged_at, notice.acknowledged_by = now, user_id
            notice.acknowledged_by_name, fresh = name[:200], fresh + 1
    db.session.flush()
    return fresh

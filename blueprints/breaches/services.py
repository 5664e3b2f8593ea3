"""The breach register's rules. Plain functions: they take values (never the request) and flush; the caller
commits. Every time is UTC here; pages show it in the staff member's timezone beside UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.breaches.models import (
    AVAILABILITY,
    CONFIDENTIALITY,
    INTEGRITY,
    NATURES,
    Breach,
    BreachNotice,
    BreachOrganization,
    BreachUpdate,
)
from blueprints.shared.problems import FieldProblem
from jobs import MESSAGING, enqueue
from tenants.db import db, utcnow
from tenants.models import Tenant

# The policy's promise: affected organizations are told within 72 hours of the discovery.
DEADLINE = timedelta(hours=72)
# A count above this is surely a typing slip (there are not that many people in the world's training records).
MAX_COUNT = 100_000_000
INITIAL = 0
NATURE_NAMES = {
    CONFIDENTIALITY: _l("Confidentiality: data seen or taken by someone who should not have it"),
    INTEGRITY: _l("Integrity: data changed or corrupted"),
    AVAILABILITY: _l("Availability: data lost or out of reach"),
}

# Countdown states
OPEN = "open"
OVERDUE = "overdue"
NOTIFIED = "notified"
NOT_NOTIFIED = "not_notified"


class BreachProblem(FieldProblem):
    """What cannot be recorded or done, with the form field to show the message at."""


# --- time --------------------------------------------------------------------------------------------------


def local_to_utc(value: datetime, zone_name: str) -> datetime:
    """The UTC moment of a wall-clock time read in ``zone_name``; a time the clocks skip (spring forward) or
    show twice (fall back) is refused with a message saying what to enter instead."""
    zone = ZoneInfo(zone_name)
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # In a gap both folds round-trip to another wall time; in an overlap both are real.
        if first.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != value:
            raise BreachProblem(
                "discovered_at",
                _(
                    "%(time)s does not exist in %(zone)s: the clocks went forward then. Check the time.",
                    time=value.strftime("%H:%M"),
                    zone=zone_name,
                ),
            )
        raise BreachProblem(
            "discovered_at",
            _(
                "%(time)s happened twice in %(zone)s (the clocks went back): enter the time in UTC instead.",
                time=value.strftime("%H:%M"),
                zone=zone_name,
            ),
        )
    return first.astimezone(ZoneInfo("UTC"))


def deadline_of(breach: Breach) -> datetime:
    """72 hours of elapsed time after the discovery: computed in UTC, so a clock change in between moves the
    local hour of the deadline, never its moment."""
    return breach.discovered_at + DEADLINE


@dataclass(frozen=True)
class Countdown:
    state: str
    deadline: datetime
    # Time left (OPEN), or past the deadline (OVERDUE); for NOTIFIED, how long after the discovery it was.
    delta: timedelta
    notified_at: datetime | None = None

    @property
    def on_time(self) -> bool:
        return self.notified_at is not None and self.notified_at <= self.deadline

    @property
    def hours(self) -> int:
        return int(self.delta.total_seconds() // 3600)

    @property
    def minutes(self) -> int:
        return int(self.delta.total_seconds() % 3600 // 60)


def countdown(breach: Breach, notified_at: datetime | None, now: datetime | None = None) -> Countdown:
    now = now or utcnow()
    deadline = deadline_of(breach)
    if notified_at is not None:
        return Countdown(NOTIFIED, deadline, notified_at - breach.discovered_at, notified_at)
    if breach.not_notified_reason:
        return Countdown(NOT_NOTIFIED, deadline, timedelta(0))
    if now <= deadline:
        return Countdown(OPEN, deadline, deadline - now)
    return Countdown(OVERDUE, deadline, now - deadline)


# --- recording ---------------------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return (value or "").strip()


def _count(field: str, value: int | None) -> int | None:
    if value is not None and not 0 <= value <= MAX_COUNT:
        raise BreachProblem(
            field, _("Give a number between 0 and 100,000,000, or leave it empty if unknown.")
        )
    return value


def parse_slugs(text: str) -> list[str]:
    """Organization addresses typed one per line or separated by commas or spaces, "/acme/" accepted."""
    seen: dict[str, None] = {}
    for word in text.replace(",", " ").split():
        slug = word.strip().strip("/").lower()
        if slug:
            seen.setdefault(slug)
    return list(seen)


def record(
    staff_id: int,
    *,
    title: str,
    discovered_at: datetime,
    nature: list[str],
    data_categories: str,
    people_count: int | None,
    records_count: int | None,
    all_organizations: bool,
    slugs: list[str],
    consequences: str,
    measures_taken: str,
    measures_proposed: str,
    contact: str,
    now: datetime | None = None,
) -> Breach:
    """Record an incident with the organizations it affects (every one existing now when ``all_organizations``).
    Checked whole before anything is written: a refused incident leaves no row."""
    now = now or utcnow()
    values = {
        "title": _text(title),
        "data_categories": _text(data_categories),
        "consequences": _text(consequences),
        "measures_taken": _text(measures_taken),
        "contact": _text(contact),
    }
    for field, value in values.items():
        if not value:
            raise BreachProblem(field, _("This is part of every notice: write it (what is known so far)."))
    if discovered_at > now:
        raise BreachProblem(
            "discovered_at", _("The discovery cannot be in the future: give when it was found.")
        )
    nature = [n for n in NATURES if n in set(nature or ())]
    if not nature:
        raise BreachProblem("nature", _("Tick what the incident touched: at least one."))
    people_count = _count("people_count", people_count)
    records_count = _count("records_count", records_count)
    if all_organizations:
        affected = list(db.session.execute(select(Tenant.id, Tenant.slug, Tenant.name).order_by(Tenant.id)))
    else:
        if not slugs:
            raise BreachProblem(
                "organizations", _("Name the organizations affected, or tick “every organization”.")
            )
        affected = list(
            db.session.execute(
                select(Tenant.id, Tenant.slug, Tenant.name).where(Tenant.slug.in_(slugs)).order_by(Tenant.id)
            )
        )
        unknown = sorted(set(slugs) - {row.slug for row in affected})
        if unknown:
            raise BreachProblem(
                "organizations",
                _(
                    "No organization has the address %(slugs)s: check it in the directory.",
                    slugs=", ".join(f"/{s}/" for s in unknown),
                ),
            )
    breach = Breach(
        **values,
        discovered_at=discovered_at,
        recorded_at=now,
        recorded_by=staff_id,
        nature=nature,
        people_count=people_count,
        records_count=records_count,
        all_organizations=bool(all_organizations),
        measures_proposed=_text(measures_proposed),
    )
    db.session.add(breach)
    db.session.flush()
    db.session.add_all(
        BreachOrganization(breach_id=breach.id, tenant_id=row.id, slug=row.slug, name=row.name)
        for row in affected
    )
    db.session.flush()
    return breach


def add_update(
    breach: Breach,
    staff_id: int,
    *,
    body: str,
    people_count: int | None = None,
    records_count: int | None = None,
    now: datetime | None = None,
) -> BreachUpdate:
    """Append what was learnt or done since; the next number in the incident's sequence."""
    body = _text(body)
    if not body:
        raise BreachProblem("body", _("Write what was learnt or done since."))
    last = db.session.scalar(select(func.max(BreachUpdate.seq)).where(BreachUpdate.breach_id == breach.id))
    update = BreachUpdate(
        breach_id=breach.id,
        seq=(last or 0) + 1,
        body=body,
        people_count=_count("people_count", people_count),
        records_count=_count("records_count", records_count),
        staff_id=staff_id,
        at=now or utcnow(),
    )
    db.session.add(update)
    db.session.flush()
    return update


def updates_of(breach_id: int) -> list[BreachUpdate]:
    return list(
        db.session.scalars(
            select(BreachUpdate).where(BreachUpdate.breach_id == breach_id).order_by(BreachUpdate.seq)
        )
    )


def organizations_of(breach_id: int) -> list[BreachOrganization]:
    return list(
        db.session.scalars(
            select(BreachOrganization)
            .where(BreachOrganization.breach_id == breach_id)
            .order_by(BreachOrganization.name, BreachOrganization.tenant_id)
        )
    )


def figures(breach: Breach, updates: list[BreachUpdate]) -> tuple[int | None, int | None]:
    """The latest estimate of people and records: the last update that revised each, else the first record."""
    people, records = breach.people_count, breach.records_count
    for step in updates:
        people = step.people_count if step.people_count is not None else people
        records = step.records_count if step.records_count is not None else records
    return people, records


# --- notifying ---------------------------------------------------------------------------------------------


def notified_at(breach_id: int, seq: int = INITIAL) -> datetime | None:
    """When the step was notified (its notices queued), None if it was not."""
    return db.session.scalar(
        select(func.min(BreachNotice.queued_at)).where(
            BreachNotice.breach_id == breach_id, BreachNotice.seq == seq
        )
    )


def notify(breach: Breach, seq: int, staff_id: int, now: datetime | None = None) -> list[BreachNotice]:
    """Queue the email of step ``seq`` (0: the incident, n: update n) to every affected organization's admins:
    once per step, never twice (refused with when it was done)."""
    now = now or utcnow()
    if seq != INITIAL:
        if (
            db.session.scalar(
                select(BreachUpdate.id).where(BreachUpdate.breach_id == breach.id, BreachUpdate.seq == seq)
            )
            is None
        ):
            raise BreachProblem("seq", _("This incident has no update %(seq)d.", seq=seq))
        if notified_at(breach.id) is None:
            raise BreachProblem("seq", _("Notify the incident itself first: an update follows it."))
    done = notified_at(breach.id, seq)
    if done is not None:
        raise BreachProblem(
            "seq",
            _(
                "Already notified on %(when)s UTC: each organization is told once.",
                when=done.strftime("%d/%m/%Y %H:%M"),
            ),
        )
    tenant_ids = list(
        db.session.scalars(
            select(BreachOrganization.tenant_id).where(BreachOrganization.breach_id == breach.id)
        )
    )
    if not tenant_ids:
        raise BreachProblem("seq", _("No organization is affected: there is nobody to notify."))
    notices = [
        BreachNotice(breach_id=breach.id, seq=seq, tenant_id=tenant_id, queued_at=now, queued_by=staff_id)
        for tenant_id in tenant_ids
    ]
    db.session.add_all(notices)
    try:
        db.session.flush()
    except (
        IntegrityError
    ):  # another staff member's click in the same instant: one wins (the caller rolls back)
        raise BreachProblem("seq", _("Already notified: each organization is told once.")) from None
    for notice in notices:
        enqueue("jobs.platform_mail.send_breach_notice", notice.id, queue=MESSAGING)
    return notices


def decide_not_to_notify(breach: Breach, staff_id: int, reason: str, now: datetime | None = None) -> None:
    """Record that the incident is not notified, and why: it stays in the register with its reason."""
    reason = _text(reason)
    if not reason:
        raise BreachProblem("reason", _("Give the reason: the register keeps it for the authority."))
    if notified_at(breach.id) is not None:
        raise BreachProblem("reason", _("The organizations were already notified."))
    if breach.not_notified_reason:
        raise BreachProblem("reason", _("The decision not to notify is already recorded."))
    breach.not_notified_reason, breach.not_notified_at, breach.not_notified_by = (
        reason,
        now or utcnow(),
        staff_id,
    )
    db.session.flush()


def claim(notice_id: int, now: datetime, *, hold: timedelta) -> bool:
    """Take a notice in hand to email it: False if it was sent, or another run took it less than ``hold`` ago.
    One conditional UPDATE, so two runs at once cannot both send. The try is stamped with the clock's time (a
    run given a past ``now``, the demo's, still holds it against a run of the present)."""
    clock = utcnow()
    cutoff = max(now, clock) - hold
    taken = db.session.execute(
        update(BreachNotice)
        .where(
            BreachNotice.id == notice_id,
            BreachNotice.sent_at.is_(None),
            or_(BreachNotice.attempted_at.is_(None), BreachNotice.attempted_at <= cutoff),
        )
        .values(attempted_at=clock, attempts=BreachNotice.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def due_notices(now: datetime, *, retry_after: timedelta, max_attempts: int) -> list[int]:
    """Notices not yet delivered to every admin whose last try is old enough: the sweep tries them again
    (a job lost with Redis down, an SMTP server that refused for a while)."""
    return list(
        db.session.scalars(
            select(BreachNotice.id)
            .where(
                BreachNotice.sent_at.is_(None),
                BreachNotice.attempts < max_attempts,
                func.coalesce(BreachNotice.attempted_at, BreachNotice.queued_at) <= now - retry_after,
            )
            .order_by(BreachNotice.id)
        )
    )

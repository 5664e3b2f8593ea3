"""What a Monday morning asks: the half-days of today and the next working day, and what needs someone's action.

Every list is read in a fixed number of statements, whatever the organization's size: the half-days (a page of
them), their states, their rosters and their attendances are four queries; each "needs action" line is one.
Who may see what is the caller's: it passes the sessions its user may see (``trainings/access.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import aliased, contains_eager

from blueprints.documents.models import CERTIFICATE, Document
from blueprints.messages.models import FAILED, Message
from blueprints.messages.outreach import INVITATION
from blueprints.participants import services as participants
from blueprints.participants.models import Enrollment, Participant
from blueprints.signing import services as signing
from blueprints.signing.models import LATE, PRESENT, Attendance, SlotState
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.trainings.planning import public_holidays
from tenants.db import db

PAGE = 20
# Sessions starting within this many days whose invitations have not all gone out need action.
INVITE_AHEAD_DAYS = 7
# Each "needs action" line names its first few objects; the count says how many there are.
FIRST = 5


def working_days(today: date) -> tuple[date, date]:
    """Today and the next working day: not a weekend, not a French public holiday (Monday after a Friday)."""
    closed = public_holidays(today, today + timedelta(days=14))
    following = today + timedelta(days=1)
    while following.weekday() >= 5 or following in closed:
        following += timedelta(days=1)
    return today, following


def local_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


@dataclass
class HalfDay:
    slot: Slot
    state: SlotState | None
    window: signing.Window
    signed: int
    expected: int
    unsigned: list[Participant]

    @property
    def session(self) -> TrainingSession:
        return self.slot.session

    @property
    def ended(self) -> bool:
        return self.window.status in (signing.CLOSED, signing.LOCKED)


@dataclass
class Agenda:
    days: tuple[date, date]
    half_days: list[HalfDay]
    total: int

    @property
    def more(self) -> bool:
        return self.total > len(self.half_days)

    def on(self, day: date) -> list[HalfDay]:
        return [h for h in self.half_days if h.slot.day == day]


@dataclass
class Page:
    days: tuple[date, date]
    slots: list[Slot]
    total: int


def page_of_half_days(visible: Select, days: tuple[date, date], *, shown: int = PAGE) -> Page:
    """Which half-days of ``days`` are listed: the first ``shown`` by start time, in the sessions ``visible``
    selects (those not archived)."""
    sessions = visible.where(TrainingSession.archived_at.is_(None)).with_only_columns(TrainingSession.id)
    where = (Slot.day.in_(days), Slot.session_id.in_(sessions.scalar_subquery()))
    total = db.session.scalar(select(func.count()).select_from(Slot).where(*where)) or 0
    slots = list(
        db.session.scalars(
            select(Slot)
            .join(Slot.session)
            .options(
                contains_eager(Slot.session).joinedload(TrainingSession.training),
                contains_eager(Slot.session).selectinload(TrainingSession.facilitators),
            )
            .where(*where)
            .order_by(Slot.starts_at, Slot.id)
            .limit(shown)
        ).unique()
    )
    return Page(days=days, slots=slots, total=total)


def agenda(page: Page, now: datetime) -> Agenda:
    """The listed half-days with their counts and who has not signed."""
    slots = page.slots
    states = signing.states_of(slots)
    people: dict[int, list[Participant]] = defaultdict(list)
    for session_id, participant in db.session.execute(
        select(Enrollment.session_id, Participant)
        .join(Participant, Participant.id == Enrollment.participant_id)
        .where(Enrollment.session_id.in_({s.session_id for s in slots}))
        .order_by(Participant.first_name, Participant.last_name, Participant.id)
    ):
        people[session_id].append(participant)
    signed: dict[int, set[int]] = defaultdict(set)
    for slot_id, participant_id in db.session.execute(
        select(Attendance.slot_id, Attendance.participant_id).where(
            Attendance.slot_id.in_([s.id for s in slots]), Attendance.status.in_((PRESENT, LATE))
        )
    ):
        signed[slot_id].add(participant_id)
    half_days = []
    for slot in slots:
        roster = people[slot.session_id]
        done = signed[slot.id]
        half_days.append(
            HalfDay(
                slot=slot,
                state=states.get(slot.id),
                window=signing.window(slot, states.get(slot.id), now),
                signed=sum(1 for p in roster if p.id in done),
                expected=len(roster),
                # Nobody is chased whose processing is restricted: they cannot sign, by their own request.
                unsigned=[p for p in roster if p.id not in done and not p.processing_restricted],
            )
        )
    return Agenda(days=page.days, half_days=half_days, total=page.total)


# --- what needs action -----------------------------------------------------------------------------------------


@dataclass
class Action:
    """One line of "needs action": how many, the first few, and where to act."""

    kind: str
    count: int
    items: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.items)


def unsigned_off(visible: Select, now: datetime) -> Action:
    """Half-days that ended but were not signed off, the latest first."""
    sessions = visible.where(TrainingSession.archived_at.is_(None)).with_only_columns(TrainingSession.id)
    where = (
        Slot.ends_at <= now,
        Slot.session_id.in_(sessions.scalar_subquery()),
        ~exists().where(SlotState.slot_id == Slot.id, SlotState.signed_off_at.is_not(None)),
    )
    count = db.session.scalar(select(func.count()).select_from(Slot).where(*where)) or 0
    items = list(
        db.session.scalars(
            select(Slot)
            .join(Slot.session)
            .options(contains_eager(Slot.session).joinedload(TrainingSession.training))
            .where(*where)
            .order_by(Slot.ends_at.desc(), Slot.id.desc())
            .limit(FIRST)
        ).unique()
    )
    return Action("unsigned_off", count, items)


def uninvited(today: date) -> Action:
    """Sessions starting within ``INVITE_AHEAD_DAYS`` with participants no invitation went out to."""
    invited = exists().where(
        Message.session_id == Enrollment.session_id,
        Message.participant_id == Enrollment.participant_id,
        Message.template == INVITATION,
        Message.status != FAILED,
    )
    waiting = func.count(Enrollment.id).label("waiting")
    rows = db.session.execute(
        select(TrainingSession, waiting)
        .join(Enrollment, Enrollment.session_id == TrainingSession.id)
        .where(
            TrainingSession.archived_at.is_(None),
            TrainingSession.start_date.between(today, today + timedelta(days=INVITE_AHEAD_DAYS)),
            ~invited,
        )
        .group_by(TrainingSession.id)
        .order_by(TrainingSession.start_date, TrainingSession.id)
    ).all()
    return Action("uninvited", len(rows), [(row[0], row.waiting) for row in rows[:FIRST]])


def failed_messages() -> Action:
    """Messages that failed and were not sent again."""
    resend = aliased(Message)
    where = (Message.status == FAILED, ~exists().where(resend.resend_of_id == Message.id))
    count = db.session.scalar(select(func.count()).select_from(Message).where(*where)) or 0
    return Action("failed_messages", count)


def certificates_due(today: date) -> Action:
    """Ended sessions with enrolled participants who have no certificate yet."""
    issued = exists().where(
        Document.kind == CERTIFICATE,
        Document.session_id == Enrollment.session_id,
        Document.participant_id == Enrollment.participant_id,
    )
    missing = func.count(Enrollment.id).label("missing")
    rows = db.session.execute(
        select(TrainingSession, missing)
        .join(Enrollment, Enrollment.session_id == TrainingSession.id)
        .where(TrainingSession.archived_at.is_(None), TrainingSession.end_date < today, ~issued)
        .group_by(TrainingSession.id)
        .order_by(TrainingSession.end_date.desc(), TrainingSession.id)
    ).all()
    return Action("certificates_due", len(rows), [(row[0], row.missing) for row in rows[:FIRST]])


def unreachable() -> Action:
    count = (
        db.session.scalar(select(func.count()).select_from(Participant).where(participants.unreachable()))
        or 0
    )
    return Action("unreachable", count)


def needs_action(visible: Select, today: date, now: datetime, *, admin: bool) -> list[Action]:
    """The lines that have something to do, in the order a morning takes them; empty when all is done."""
    found = [unsigned_off(visible, now)]
    if admin:
        found += [uninvited(today), failed_messages(), certificates_due(today), unreachable()]
    return [action for action in found if action.count]

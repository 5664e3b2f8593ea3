"""Trainings, their sessions and slots. Plain functions that take the actor; they flush, the caller commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.models import User, organization
from blueprints.audit.services import Actor, record
from blueprints.trainings import planning
from blueprints.trainings.models import (
    MODALITIES,
    NATURES,
    Slot,
    Training,
    TrainingSession,
)
from blueprints.trainings.planning import HalfDays, PlannedSlot, SkippedDay
from blueprints.web.i18n import format_date
from tenants.db import db, utcnow


class PlanningError(Exception):
    """A refusal the person can act on; ``str()`` is the message, ``field`` the form field it belongs to."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- trainings -----------------------------------------------------------------------------------------------

TRAINING_FIELDS = (
    "title",
    "reference",
    "objectives",
    "planned_hours",
    "modality",
    "nature",
    "attendance_threshold",
)


@dataclass
class TrainingData:
    title: str
    reference: str | None
    objectives: str | None
    planned_hours: Decimal
    modality: str
    nature: str
    # The rate its trainees must reach, when not the organization's (blueprints/tracking/).
    attendance_threshold: int | None = None


def _check_training(data: TrainingData) -> None:
    if data.modality not in MODALITIES:
        raise PlanningError(_l("Unknown modality."), "modality")
    if data.attendance_threshold is not None and not 1 <= data.attendance_threshold <= 100:
        raise PlanningError(
            _l("A threshold between 1 and 100 %, or empty for the organization's."), "attendance_threshold"
        )
    if data.nature not in NATURES:
        raise PlanningError(_l("Unknown nature of action."), "nature")


def _changes(obj, data, names) -> dict:
    """{field: [before, after]} for what differs, as JSON-friendly strings."""
    changes = {}
    for name in names:
        before, after = getattr(obj, name), getattr(data, name)
        if before != after:
            changes[name] = [_plain(before), _plain(after)]
    return changes


def _plain(value):
    if isinstance(value, (date, datetime, time, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def create_training(data: TrainingData, actor: Actor) -> Training:
    _check_training(data)
    training = Training(**{name: getattr(data, name) for name in TRAINING_FIELDS})
    db.session.add(training)
    db.session.flush()
    record(actor, "training.created", training, title=training.title)
    return training


def update_training(training: Training, data: TrainingData, actor: Actor) -> None:
    _check_training(data)
    changes = _changes(training, data, TRAINING_FIELDS)
    if not changes:
        return
    for name in changes:
        setattr(training, name, getattr(data, name))
    db.session.flush()
    record(actor, "training.updated", training, changes=changes)


def set_training_archived(training: Training, archived: bool, actor: Actor) -> None:
    if archived == (training.archived_at is not None):
        return
    training.archived_at = utcnow() if archived else None
    record(actor, "training.archived" if archived else "training.unarchived", training)


def duplicate_training(training: Training, actor: Actor, *, title: str) -> Training:
    """A copy of the programme, under ``title`` (the view translates "(copy)"); its sessions stay behind."""
    copy = Training(
        title=title[:200],
        reference=training.reference,
        objectives=training.objectives,
        planned_hours=training.planned_hours,
        modality=training.modality,
        nature=training.nature,
    )
    db.session.add(copy)
    db.session.flush()
    record(actor, "training.duplicated", copy, source_id=training.id)
    return copy


def search_trainings(query, text: str | None, *, archived: bool = False):
    """``query`` narrowed to a search on title or reference, archived ones or not."""
    query = query.where(Training.archived_at.is_not(None) if archived else Training.archived_at.is_(None))
    text = (text or "").strip()
    if text:
        query = query.where(
            Training.title.icontains(text, autoescape=True)
            | Training.reference.icontains(text, autoescape=True)
        )
    return query.order_by(Training.title, Training.id)


# --- sessions ------------------------------------------------------------------------------------------------

SESSION_FIELDS = (
    "start_date",
    "end_date",
    "location_name",
    "location_address",
    "remote_url",
    "capacity",
    "timezone",
    "room_code_required",
)


@dataclass
class SessionData:
    start_date: date
    end_date: date
    location_name: str | None = None
    location_address: str | None = None
    remote_url: str | None = None
    capacity: int | None = None
    timezone: str = "Europe/Paris"
    room_code_required: bool = True
    facilitator_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SlotOptions:
    """How slots are generated: public holidays and weekends included or not, Alsace-Moselle's calendar or not."""

    include_holidays: bool = False
    alsace_moselle: bool = False
    language: str = "en"


def _check_dates(start: date, end: date) -> None:
    if end < start:
        raise PlanningError(_l("The end date must be on or after the start date."), "end_date")
    if (end - start).days + 1 > planning.MAX_DAYS:
        raise PlanningError(_l("A session lasts at most %(days)d days.", days=planning.MAX_DAYS), "end_date")


def _facilitators(ids: list[int], already: list[User] = ()) -> list[User]:
    """The users behind ``ids``: active ones, or ones ``already`` assigned (a deactivated facilitator stays on
    the sessions they ran until someone unticks them)."""
    if not ids:
        return []
    kept = {u.id for u in already}
    users = db.session.scalars(
        select(User).where(User.id.in_(ids), User.active.is_(True) | User.id.in_(kept))
    ).all()
    if len(users) != len(set(ids)):
        raise PlanningError(_l("Choose facilitators among the active users."), "facilitators")
    return list(users)


def _plan(session: TrainingSession, start: date, end: date, options: SlotOptions):
    return planning.plan(
        start,
        end,
        tz=session.timezone,
        half_days=HalfDays.of(organization()),
        training_modality=session.training.modality,
        include_holidays=options.include_holidays,
        alsace_moselle=options.alsace_moselle,
        language=options.language,
    )


def _add_planned(session: TrainingSession, planned: list[PlannedSlot]) -> list[Slot]:
    slots = [
        Slot(day=p.day, kind=p.kind, starts_at=p.starts_at, ends_at=p.ends_at, modality=p.modality)
        for p in planned
    ]
    session.slots.extend(slots)
    return slots


def create_session(
    training: Training, data: SessionData, actor: Actor, options: SlotOptions = SlotOptions()
) -> tuple[TrainingSession, list[SkippedDay]]:
    """The session and its half-day slots; returns the days left without slots, with why."""
    _check_dates(data.start_date, data.end_date)
    facilitators = _facilitators(data.facilitator_ids)
    session = TrainingSession(training=training, **{name: getattr(data, name) for name in SESSION_FIELDS})
    session.facilitators = facilitators
    db.session.add(session)
    planned, skipped = _plan(session, data.start_date, data.end_date, options)
    _add_planned(session, planned)
    db.session.flush()
    record(
        actor,
        "session.created",
        session,
        training_id=training.id,
        start_date=str(session.start_date),
        end_date=str(session.end_date),
        facilitators=[u.id for u in facilitators],
        slots=len(planned),
        skipped=[str(s.day) for s in skipped],
    )
    return session, skipped


def update_session(session: TrainingSession, data: SessionData, actor: Actor) -> None:
    """Everything but the dates, which go through ``apply_new_dates`` (it may remove slots)."""
    facilitators = _facilitators(data.facilitator_ids, session.facilitators)
    names = [n for n in SESSION_FIELDS if n not in ("start_date", "end_date")]
    changes = _changes(session, data, names)
    before = sorted(u.id for u in session.facilitators)
    after = sorted(u.id for u in facilitators)
    if before != after:
        changes["facilitators"] = [before, after]
    if not changes:
        return
    for name in names:
        setattr(session, name, getattr(data, name))
    session.facilitators = facilitators
    if "timezone" in changes:
        _move_to_zone(session, changes["timezone"][0])
    db.session.flush()
    record(actor, "session.updated", session, changes=changes)


def _move_to_zone(session: TrainingSession, old_tz: str) -> None:
    """Keep each slot's local day and time when the session changes timezone."""
    for slot in session.slots:
        begins, ends = planning.local(slot.starts_at, old_tz), planning.local(slot.ends_at, old_tz)
        slot.starts_at = planning.to_utc(begins.date(), begins.time(), session.timezone)
        slot.ends_at = planning.to_utc(ends.date(), ends.time(), session.timezone)


@dataclass
class DatesChange:
    """What new dates would do to a session's slots."""

    start_date: date
    end_date: date
    removed: list[Slot]
    added: list[PlannedSlot]
    skipped: list[SkippedDay]

    @property
    def empty(self) -> bool:
        return not self.removed and not self.added


def preview_new_dates(
    session: TrainingSession, start: date, end: date, options: SlotOptions = SlotOptions()
) -> DatesChange:
    """Slots outside the new dates go; half-days of the new dates that have no slot of their kind come.

    Slots kept keep their own times, labels and modality (someone may have edited them).
    """
    _check_dates(start, end)
    planned, skipped = _plan(session, start, end, options)
    removed = [s for s in session.slots if not start <= s.day <= end]
    present = {(s.day, s.kind) for s in session.slots if start <= s.day <= end}
    added = [p for p in planned if (p.day, p.kind) not in present]
    return DatesChange(start, end, removed, added, skipped)


def apply_new_dates(
    session: TrainingSession,
    start: date,
    end: date,
    actor: Actor,
    *,
    confirm: bool,
    options: SlotOptions = SlotOptions(),
) -> DatesChange:
    """Move the session to new dates and regenerate its slots.

    Nothing is deleted without ``confirm``: a change that would remove slots raises ``ConfirmationNeeded``
    carrying the preview. A slot whose attendance was recorded (signed, marked or signed off) is evidence: it
    is never removed, confirmed or not (``PlanningError`` naming them).
    """
    change = preview_new_dates(session, start, end, options)
    refuse_recorded(change.removed)
    if change.removed and not confirm:
        raise ConfirmationNeeded(change)
    before = (str(session.start_date), str(session.end_date))
    removed = [
        {
            "id": s.id,
            "day": str(s.day),
            "starts_at": s.starts_at.isoformat(),
            "ends_at": s.ends_at.isoformat(),
        }
        for s in change.removed
    ]
    for slot in change.removed:
        session.slots.remove(slot)
    session.start_date, session.end_date = start, end
    _add_planned(session, change.added)
    db.session.flush()
    record(
        actor,
        "session.dates_changed" if before != (str(start), str(end)) else "session.slots_generated",
        session,
        before=list(before),
        after=[str(start), str(end)],
        removed=removed,
        added=len(change.added),
    )
    return change


class ConfirmationNeeded(Exception):
    def __init__(self, change: DatesChange):
        super().__init__("confirmation needed")
        self.change = change


def set_session_archived(session: TrainingSession, archived: bool, actor: Actor) -> None:
    if archived == (session.archived_at is not None):
        return
    session.archived_at = utcnow() if archived else None
    record(actor, "session.archived" if archived else "session.unarchived", session)


def duplicate_session(session: TrainingSession, start: date, actor: Actor) -> TrainingSession:
    """The same session from ``start``: slots shifted by the same number of days at the same local times,
    facilitators copied, enrolments not."""
    shift = start - session.start_date
    copy = TrainingSession(
        training=session.training,
        start_date=session.start_date + shift,
        end_date=session.end_date + shift,
        **{n: getattr(session, n) for n in SESSION_FIELDS if n not in ("start_date", "end_date")},
    )
    _check_dates(copy.start_date, copy.end_date)
    # In the session before the originals' relationships load: their autoflush then has the copy to write.
    db.session.add(copy)
    copy.facilitators = list(session.facilitators)
    tz = session.timezone
    for slot in session.slots:
        begins, ends = planning.local(slot.starts_at, tz), planning.local(slot.ends_at, tz)
        copy.slots.append(
            Slot(
                day=slot.day + shift,
                kind=slot.kind,
                label=slot.label,
                modality=slot.modality,
                starts_at=planning.to_utc(begins.date() + shift, begins.time(), tz),
                ends_at=planning.to_utc(ends.date() + shift, ends.time(), tz),
            )
        )
    db.session.flush()
    record(
        actor,
        "session.duplicated",
        copy,
        source_id=session.id,
        start_date=str(copy.start_date),
        shift=shift.days,
    )
    return copy


def refuse_recorded(slots: list[Slot], message=None) -> None:
    # Imported here: signing builds on trainings, not the other way round.
    from blueprints.documents.paper_sheets import paper_slot_ids
    from blueprints.signing.signoffs import recorded_slot_ids

    # A slot signed on paper (its scan attached) is evidence too.
    recorded = recorded_slot_ids([s.id for s in slots]) | paper_slot_ids([s.id for s in slots])
    if recorded and message is not None:
        raise PlanningError(message, "start_time")
    if recorded:
        days = ", ".join(sorted({format_date(s.day, "short") for s in slots if s.id in recorded}))
        raise PlanningError(
            _l(
                "Attendance is already recorded for slots that these dates would remove (%(days)s): "
                "keep dates that include them.",
                days=days,
            ),
            "start_date",
        )

"""A session's timetable of half-days (slots): adding, moving and deleting one by hand (never one that holds records), the days of a
session without any, and the week's calendar.

Plain functions that take the actor; they flush, the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.audit.services import Actor, record
from blueprints.trainings import planning
from blueprints.trainings.models import (
    CUSTOM,
    SLOT_MODALITIES,
    Slot,
    TrainingSession,
)
from blueprints.trainings.planning import SkippedDay
from blueprints.trainings.services import PlanningError, refuse_recorded
from blueprints.web.i18n import format_date
from tenants.db import db

# --- slots ---------------------------------------------------------------------------------------------------


@dataclass
class SlotData:
    day: date
    start_time: time
    end_time: time
    label: str | None = None
    modality: str = "in_person"


def _when(session: TrainingSession, slot: Slot) -> str:
    tz = session.timezone
    begins = planning.local(slot.starts_at, tz).strftime("%H:%M")
    ends = planning.local(slot.ends_at, tz).strftime("%H:%M")
    return f"{format_date(slot.day, 'full')}, {begins}–{ends}"


def _place_slot(session: TrainingSession, data: SlotData, slot: Slot | None) -> tuple[datetime, datetime]:
    if data.modality not in SLOT_MODALITIES:
        raise PlanningError(_l("Choose in person or remote."), "modality")
    if data.end_time <= data.start_time:
        raise PlanningError(_l("The slot must end after it starts."), "end_time")
    if not session.start_date <= data.day <= session.end_date:
        raise PlanningError(
            _l(
                "The slot must fall within the session's dates, from %(start)s to %(end)s.",
                start=format_date(session.start_date, "long"),
                end=format_date(session.end_date, "long"),
            ),
            "day",
        )
    starts_at = planning.to_utc(data.day, data.start_time, session.timezone)
    ends_at = planning.to_utc(data.day, data.end_time, session.timezone)
    for other in session.slots:
        if other is slot:
            continue
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise PlanningError(
                _l("This slot overlaps another one: %(when)s.", when=_when(session, other)), "start_time"
            )
    return starts_at, ends_at


def add_slot(session: TrainingSession, data: SlotData, actor: Actor) -> Slot:
    starts_at, ends_at = _place_slot(session, data, None)
    slot = Slot(
        day=data.day,
        kind=CUSTOM,
        label=data.label,
        modality=data.modality,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.slots.append(slot)
    db.session.flush()
    record(
        actor,
        "slot.created",
        slot,
        session_id=session.id,
        starts_at=starts_at.isoformat(),
        ends_at=ends_at.isoformat(),
    )
    return slot


def update_slot(slot: Slot, data: SlotData, actor: Actor) -> None:
    session = slot.session
    starts_at, ends_at = _place_slot(session, data, slot)
    before = {
        "day": str(slot.day),
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "label": slot.label,
        "modality": slot.modality,
    }
    after = {
        "day": str(data.day),
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat(),
        "label": data.label,
        "modality": data.modality,
    }
    if before == after:
        return
    if (before["day"], before["starts_at"], before["ends_at"]) != (
        after["day"],
        after["starts_at"],
        after["ends_at"],
    ):
        # Signed times are evidence: a slot with attendance keeps its day and hours (label and modality may change).
        refuse_recorded(
            [slot],
            _l("Attendance is already recorded for this slot: its day and times can no longer change."),
        )
    slot.day, slot.starts_at, slot.ends_at = data.day, starts_at, ends_at
    slot.label, slot.modality = data.label, data.modality
    db.session.flush()
    record(actor, "slot.updated", slot, session_id=session.id, before=before, after=after)


def delete_slot(slot: Slot, actor: Actor) -> None:
    refuse_recorded([slot], _l("Attendance is already recorded for this slot: it cannot be deleted."))
    session = slot.session
    record(
        actor,
        "slot.deleted",
        slot,
        session_id=session.id,
        day=str(slot.day),
        starts_at=slot.starts_at.isoformat(),
        ends_at=slot.ends_at.isoformat(),
    )
    session.slots.remove(slot)
    db.session.flush()


def days_without_slots(
    session: TrainingSession, *, language: str = "en"
) -> list[tuple[date, SkippedDay | None]]:
    """Each day of the session with no slot, and why when the calendar explains it."""
    taken = {s.day for s in session.slots}
    return [
        (day, planning.why_closed(day, language=language))
        for day in planning.days(session.start_date, session.end_date)
        if day not in taken
    ]


# --- calendar ------------------------------------------------------------------------------------------------


def week_slots(sessions_query, monday: date) -> list[Slot]:
    """The slots of the week starting ``monday`` of the sessions ``sessions_query`` lets one see."""
    visible = sessions_query.where(TrainingSession.archived_at.is_(None)).with_only_columns(
        TrainingSession.id
    )
    return list(
        db.session.scalars(
            select(Slot)
            .options(joinedload(Slot.session).joinedload(TrainingSession.training))
            .where(Slot.session_id.in_(visible), Slot.day >= monday, Slot.day < monday + timedelta(days=7))
            .order_by(Slot.starts_at, Slot.id)
        )
    )

"""Reading attendance: the roster of a half-day, a participant's history, the counts shown live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from blueprints.participants.models import Enrollment, Participant
from blueprints.signing.models import (
    LATE,
    PRESENT,
    Attendance,
)
from blueprints.trainings.models import Slot, TrainingSession
from tenants.db import db
from tenants.storage import storage

# --- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    participant: Participant
    attendance: Attendance | None


def roster(slot: Slot) -> list[RosterLine]:
    people = db.session.scalars(
        select(Participant)
        .join(Enrollment, Enrollment.participant_id == Participant.id)
        .where(Enrollment.session_id == slot.session_id)
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    found = {
        a.participant_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.slot_id == slot.id))
    }
    return [RosterLine(p, found.get(p.id)) for p in people]


def history(session: TrainingSession, participant: Participant) -> list[tuple[Slot, Attendance | None]]:
    found = {
        a.slot_id: a
        for a in db.session.scalars(
            select(Attendance)
            .join(Slot, Slot.id == Attendance.slot_id)
            .where(Slot.session_id == session.id, Attendance.participant_id == participant.id)
        )
    }
    return [(slot, found.get(slot.id)) for slot in session.slots]


def thumbnail_data(attendance: Attendance) -> bytes | None:
    if attendance is None or attendance.thumbnail_blob_id is None:
        return None
    found = storage().get(str(attendance.thumbnail_blob_id))
    return found[1] if found else None


def iso_or_none(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def parse_local_time(slot: Slot, text: str) -> datetime | None:
    """ "HH:MM" on the slot's local day, in its session's timezone, as UTC."""
    try:
        hours, minutes = (int(part) for part in (text or "").split(":")[:2])
        local = datetime.combine(slot.day, time(hours, minutes), tzinfo=ZoneInfo(slot.session.timezone))
    except (ValueError, TypeError):
        return None
    return local.astimezone(UTC)


def roster_of_session(session: TrainingSession) -> list[Participant]:
    return list(
        db.session.scalars(
            select(Participant)
            .join(Enrollment, Enrollment.participant_id == Participant.id)
            .where(Enrollment.session_id == session.id)
            .order_by(Participant.last_name, Participant.first_name, Participant.id)
        )
    )


def counts(slot: Slot) -> tuple[int, int]:
    """(present or late, expected) for ``slot``."""
    expected = db.session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.session_id == slot.session_id)
    )
    present = db.session.scalar(
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.slot_id == slot.id, Attendance.status.in_((PRESENT, LATE)))
    )
    return present or 0, expected or 0

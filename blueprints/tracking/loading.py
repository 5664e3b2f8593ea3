"""The rows the tracking pages need, in a few statements whatever their size: a session's grid (its slots,
enrolments, marks and justifications: four queries), a trainee's sessions (four). Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from blueprints.participants.models import Enrollment, Participant
from blueprints.signing.models import Attendance, SlotState
from blueprints.tracking.figures import Figures, Mark, SlotFacts, figures, slot_rate
from blueprints.tracking.models import Justification
from blueprints.trainings.models import Slot, Training, TrainingSession
from tenants.db import db


def threshold_of(org, training: Training | None) -> int:
    """The rate a training's trainees must reach: its own, else the organization's."""
    if training is not None and training.attendance_threshold is not None:
        return training.attendance_threshold
    return org.attendance_threshold if org is not None else 80


def slot_facts(session_ids) -> dict[int, list[SlotFacts]]:
    """The slots of the sessions, in time order, with whether each is signed off: one query."""
    rows = db.session.execute(
        select(Slot.id, Slot.session_id, Slot.day, Slot.starts_at, Slot.ends_at, SlotState.signed_off_at)
        .outerjoin(SlotState, SlotState.slot_id == Slot.id)
        .where(Slot.session_id.in_(session_ids))
        .order_by(Slot.starts_at, Slot.id)
    )
    result: dict[int, list[SlotFacts]] = defaultdict(list)
    for slot_id, session_id, day, starts, ends, signed_off in rows:
        result[session_id].append(SlotFacts(slot_id, session_id, day, starts, ends, signed_off is not None))
    return result


def marks_of(slot_ids, participant_id: int | None = None) -> dict[tuple[int, int], Mark]:
    """(slot id, participant id) → mark: one query."""
    query = select(
        Attendance.slot_id,
        Attendance.participant_id,
        Attendance.status,
        Attendance.attended_minutes,
        Attendance.late_minutes,
        Attendance.early_minutes,
        Attendance.signature_sha256,
        Attendance.method,
    ).where(Attendance.slot_id.in_(slot_ids))
    if participant_id is not None:
        query = query.where(Attendance.participant_id == participant_id)
    return {
        (slot_id, pid): Mark(status, attended, late, early, bool(sha) or method is not None)
        for slot_id, pid, status, attended, late, early, sha, method in db.session.execute(query)
    }


@dataclass
class Row:
    participant: Participant
    enrollment: Enrollment
    figures: Figures
    marks: list[Mark | None]
    justifications: dict[int, Justification] = field(default_factory=dict)
    risk: list[str] = field(default_factory=list)


@dataclass
class Grid:
    session: TrainingSession
    slots: list[SlotFacts]
    rows: list[Row]
    slot_rates: list[int | None]
    threshold: int
    consecutive: int
    now: datetime

    @property
    def at_risk(self) -> list[Row]:
        return [row for row in self.rows if row.risk]

    @property
    def rate_past(self) -> int | None:
        from blueprints.tracking.figures import rate

        return rate(
            sum(r.figures.attended_minutes for r in self.rows), sum(r.figures.past_minutes for r in self.rows)
        )


def session_grid(session: TrainingSession, org, now: datetime) -> Grid:
    """Every enrolled trainee × every slot of ``session``, with figures, slot rates and who is at risk."""
    threshold = threshold_of(org, session.training)
    consecutive = org.risk_absences if org is not None else 2
    slots = slot_facts([session.id]).get(session.id, [])
    ids = [s.id for s in slots]
    people = db.session.execute(
        select(Enrollment, Participant)
        .join(Participant, Participant.id == Enrollment.participant_id)
        .where(Enrollment.session_id == session.id)
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all()
    marks = marks_of(ids) if ids else {}
    justifications: dict[int, dict[int, Justification]] = defaultdict(dict)
    if ids:
        for j in db.session.scalars(select(Justification).where(Justification.slot_id.in_(ids))):
            justifications[j.participant_id][j.slot_id] = j
    rows = []
    for enrollment, participant in people:
        own = {s.id: marks.get((s.id, participant.id)) for s in slots}
        result = figures(slots, {k: v for k, v in own.items() if v is not None}, now, threshold)
        row = Row(
            participant,
            enrollment,
            result,
            [own[s.id] for s in slots],
            justifications.get(participant.id, {}),
        )
        row.risk = result.at_risk(consecutive)
        rows.append(row)
    enrolled = len(rows)
    slot_rates = [
        slot_rate(slot, [row.marks[index] for row in rows], enrolled, now) for index, slot in enumerate(slots)
    ]
    return Grid(session, slots, rows, slot_rates, threshold, consecutive, now)


@dataclass
class SessionLine:
    session: TrainingSession
    title: str  # the training's, read with the session (a page renders after its rows may have expired)
    enrollment: Enrollment
    slots: list[SlotFacts]
    marks: list[Mark | None]
    figures: Figures
    justifications: dict[int, Justification]


def participant_sessions(participant: Participant, org, now: datetime, visible=None) -> list[SessionLine]:
    """The trainee's sessions (those ``visible`` selects, for a facilitator), latest first, with figures."""
    query = (
        select(Enrollment, TrainingSession, Training)
        .join(TrainingSession, TrainingSession.id == Enrollment.session_id)
        .join(Training, Training.id == TrainingSession.training_id)
        .where(Enrollment.participant_id == participant.id)
        .order_by(TrainingSession.start_date.desc(), TrainingSession.id.desc())
    )
    if visible is not None:
        query = query.where(TrainingSession.id.in_(visible))
    found = db.session.execute(query).all()
    slots = slot_facts([s.id for _e, s, _t in found]) if found else {}
    ids = [slot.id for group in slots.values() for slot in group]
    marks = marks_of(ids, participant.id) if ids else {}
    justifications: dict[int, Justification] = {}
    if ids:
        justifications = {
            j.slot_id: j
            for j in db.session.scalars(
                select(Justification).where(
                    Justification.slot_id.in_(ids), Justification.participant_id == participant.id
                )
            )
        }
    lines = []
    for enrollment, session, training in found:
        own_slots = slots.get(session.id, [])
        own = {s.id: marks[(s.id, participant.id)] for s in own_slots if (s.id, participant.id) in marks}
        lines.append(
            SessionLine(
                session,
                training.title,
                enrollment,
                own_slots,
                [own.get(s.id) for s in own_slots],
                figures(own_slots, own, now, threshold_of(org, training)),
                {s.id: justifications[s.id] for s in own_slots if s.id in justifications},
            )
        )
    return lines


def overall(lines: list[SessionLine], threshold: int) -> Figures:
    """A trainee's figures over all their sessions (the sums; the threshold is the organization's)."""
    total = Figures(threshold=threshold)
    for line in lines:
        f = line.figures
        for name in (
            "planned_slots",
            "past_slots",
            "signed_slots",
            "planned_minutes",
            "past_minutes",
            "attended_minutes",
            "open_minutes",
            "late_count",
            "late_minutes",
            "early_count",
            "early_minutes",
            "justified",
            "unjustified",
            "not_signed",
        ):
            setattr(total, name, getattr(total, name) + getattr(f, name))
    return total

"""The organization's attendance over a period, by week, month, training, facilitator and funder, and each
enrolment's completion as funders are told it. A fixed number of queries whatever the number of sessions,
half-days or trainees: sums by half-day and funder in SQL, the rest in memory. Nothing here writes.

A rate here, as everywhere, is attended minutes over planned minutes (a half-day's minutes for each trainee
enrolled), over the half-days that have ended, rounded down."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, distinct, exists, func, select

from blueprints.accounts.models import User
from blueprints.participants.models import Enrollment, Participant
from blueprints.signing.models import LATE, PRESENT, Attendance
from blueprints.tracking import loading
from blueprints.tracking.figures import Completion, completion, figures, rate
from blueprints.tracking.models import ACCEPTED, FORCE_MAJEURE, Justification
from blueprints.trainings.models import Slot, Training, TrainingSession, session_facilitators
from blueprints.trainings.planning import public_holidays
from tenants.db import db

DECLARATION_WORKING_DAYS = 3


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    training_id: int | None = None
    facilitator_id: int | None = None
    funder: str | None = None


@dataclass
class Bucket:
    key: object
    label: str
    planned: int = 0
    attended: int = 0

    @property
    def rate(self) -> int | None:
        return rate(self.attended, self.planned)


@dataclass
class SessionFigure:
    session_id: int
    training_id: int
    title: str
    start_date: date
    end_date: date
    slots: int = 0
    trainees: int = 0
    planned: int = 0
    attended: int = 0

    @property
    def rate(self) -> int | None:
        return rate(self.attended, self.planned)


@dataclass
class Report:
    filters: Filters
    total: Bucket
    weeks: list[Bucket] = field(default_factory=list)
    months: list[Bucket] = field(default_factory=list)
    trainings: list[Bucket] = field(default_factory=list)
    facilitators: list[Bucket] = field(default_factory=list)
    funders: list[Bucket] = field(default_factory=list)
    sessions: list[SessionFigure] = field(default_factory=list)
    trainees: int = 0
    signatures: int = 0

    @property
    def empty(self) -> bool:
        return not self.sessions


def _slots_query(filters: Filters):
    query = (
        select(Slot.id, Slot.session_id, TrainingSession.training_id, Slot.day, Slot.starts_at, Slot.ends_at)
        .join(TrainingSession, TrainingSession.id == Slot.session_id)
        .where(Slot.day >= filters.start, Slot.day <= filters.end)
    )
    if filters.training_id:
        query = query.where(TrainingSession.training_id == filters.training_id)
    if filters.facilitator_id:
        query = query.where(
            exists().where(
                session_facilitators.c.session_id == TrainingSession.id,
                session_facilitators.c.user_id == filters.facilitator_id,
            )
        )
    return query


def _enrolled_filter(query, filters: Filters):
    return query.where(Enrollment.funder == filters.funder) if filters.funder else query


def organization_report(filters: Filters, now: datetime) -> Report:
    slot_rows = db.session.execute(_slots_query(filters).order_by(Slot.starts_at)).all()
    report = Report(filters=filters, total=Bucket("total", ""))
    if not slot_rows:
        return report
    in_period = _slots_query(filters).with_only_columns(Slot.id).scalar_subquery()
    session_ids = sorted({row.session_id for row in slot_rows})
    enrolled: dict[tuple[int, str], int] = {}
    for session_id, funder, count in db.session.execute(
        _enrolled_filter(
            select(Enrollment.session_id, Enrollment.funder, func.count())
            .where(Enrollment.session_id.in_(session_ids))
            .group_by(Enrollment.session_id, Enrollment.funder),
            filters,
        )
    ):
        enrolled[(session_id, funder)] = count
    attended: dict[tuple[int, str], int] = defaultdict(int)
    for slot_id, funder, minutes, signed in db.session.execute(
        _enrolled_filter(
            select(
                Attendance.slot_id,
                Enrollment.funder,
                func.sum(Attendance.attended_minutes),
                func.count(Attendance.signature_sha256),
            )
            .join(Slot, Slot.id == Attendance.slot_id)
            .join(
                Enrollment,
                and_(
                    Enrollment.session_id == Slot.session_id,
                    Enrollment.participant_id == Attendance.participant_id,
                ),
            )
            .where(Attendance.slot_id.in_(in_period), Attendance.status.in_((PRESENT, LATE)))
            .group_by(Attendance.slot_id, Enrollment.funder),
            filters,
        )
    ):
        attended[(slot_id, funder)] += int(minutes or 0)
        report.signatures += int(signed or 0)
    facilitators: dict[int, list[int]] = defaultdict(list)
    for session_id, user_id in db.session.execute(
        select(session_facilitators.c.session_id, session_facilitators.c.user_id).where(
            session_facilitators.c.session_id.in_(session_ids)
        )
    ):
        facilitators[session_id].append(user_id)
    sessions = {
        s.id: s
        for s in db.session.execute(
            select(
                TrainingSession.id,
                TrainingSession.training_id,
                TrainingSession.start_date,
                TrainingSession.end_date,
            ).where(TrainingSession.id.in_(session_ids))
        )
    }
    titles = dict(
        db.session.execute(
            select(Training.id, Training.title).where(
                Training.id.in_({s.training_id for s in sessions.values()})
            )
        ).all()
    )
    user_ids = {u for users in facilitators.values() for u in users}
    names = {}
    if user_ids:
        names = {
            uid: f"{first} {last}"
            for uid, first, last in db.session.execute(
                select(User.id, User.first_name, User.last_name).where(User.id.in_(user_ids))
            )
        }
    report.trainees = db.session.scalar(
        _enrolled_filter(
            select(func.count(distinct(Enrollment.participant_id))).where(
                Enrollment.session_id.in_(session_ids)
            ),
            filters,
        )
    )
    funders_of = defaultdict(list)
    for (session_id, funder), count in enrolled.items():
        funders_of[session_id].append((funder, count))

    weeks, months, trainings, people, funders = {}, {}, {}, {}, {}
    per_session = {
        sid: SessionFigure(sid, s.training_id, titles.get(s.training_id, ""), s.start_date, s.end_date)
        for sid, s in sessions.items()
    }
    for sid, figure in per_session.items():
        figure.trainees = sum(count for _funder, count in funders_of[sid])
    for row in slot_rows:
        per_session[row.session_id].slots += 1
        if row.ends_at > now:
            continue  # only half-days that have ended count
        minutes = int((row.ends_at - row.starts_at).total_seconds() // 60)
        monday = row.day - timedelta(days=row.day.weekday())
        month = row.day.replace(day=1)
        for funder, count in funders_of[row.session_id]:
            planned, done = minutes * count, attended.get((row.id, funder), 0)
            buckets = [
                report.total,
                weeks.setdefault(monday, Bucket(monday, monday.isoformat())),
                months.setdefault(month, Bucket(month, month.strftime("%Y-%m"))),
                trainings.setdefault(
                    row.training_id, Bucket(row.training_id, titles.get(row.training_id, ""))
                ),
                funders.setdefault(funder, Bucket(funder, funder)),
            ]
            buckets += [
                people.setdefault(uid, Bucket(uid, names.get(uid, f"#{uid}")))
                for uid in facilitators[row.session_id]
            ]
            for bucket in buckets:
                bucket.planned += planned
                bucket.attended += done
            per_session[row.session_id].planned += planned
            per_session[row.session_id].attended += done
    report.weeks = [weeks[k] for k in sorted(weeks)]
    report.months = [months[k] for k in sorted(months)]
    report.trainings = sorted(trainings.values(), key=lambda b: b.label.lower())
    report.facilitators = sorted(people.values(), key=lambda b: b.label.lower())
    report.funders = sorted(funders.values(), key=lambda b: b.key)
    report.sessions = sorted(per_session.values(), key=lambda s: (s.start_date, s.session_id))
    return report


# --- what funders are told: one line per enrolment ------------------------------------------------------------


def add_working_days(day: date, count: int) -> date:
    """``count`` working days after ``day`` (weekends and French public holidays skipped)."""
    holidays = public_holidays(day, day + timedelta(days=count * 3 + 10))
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            count -= 1
    return day


@dataclass
class FunderLine:
    enrollment: Enrollment
    participant: Participant
    session_id: int
    title: str
    start_date: date
    end_date: date
    completion: Completion
    entry_due: date
    exit_due: date


def funder_lines(filters: Filters, now: datetime, org) -> list[FunderLine]:
    """Every enrolment in a session with half-days in the period: planned hours (the sum of the session's
    half-days), attended hours, the completion rate as CPF declares it, why it is partial, force majeure, the
    payment band (an estimate) and the 3-working-day declaration deadlines."""
    session_ids = sessions_in(filters)
    if not session_ids:
        return []
    slots = loading.slot_facts(session_ids)
    slot_ids = [s.id for group in slots.values() for s in group]
    marks = loading.marks_of(slot_ids) if slot_ids else {}
    found = db.session.execute(
        _enrolled_filter(
            select(Enrollment, Participant, TrainingSession, Training)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .join(TrainingSession, TrainingSession.id == Enrollment.session_id)
            .join(Training, Training.id == TrainingSession.training_id)
            .where(Enrollment.session_id.in_(session_ids))
            .order_by(
                TrainingSession.start_date, Training.title, Participant.last_name, Participant.first_name
            ),
            filters,
        )
    ).all()
    force = set()
    if slot_ids:
        force = set(
            db.session.execute(
                select(Justification.slot_id, Justification.participant_id).where(
                    Justification.slot_id.in_(slot_ids),
                    Justification.status == ACCEPTED,
                    Justification.reason == FORCE_MAJEURE,
                )
            ).all()
        )
    present_in = defaultdict(int)
    for (slot_id, _pid), mark in marks.items():
        if mark.status in (PRESENT, LATE):
            present_in[slot_id] += 1
    enrolled = defaultdict(int)
    for _enrollment, _participant, session, _training in found:
        enrolled[session.id] += 1
    # Interrupted by the organization: a half-day signed off with nobody present, in a session of several
    # trainees (with one, it is that trainee's absence).
    interrupted = {
        session_id
        for session_id, group in slots.items()
        if enrolled[session_id] > 1 and any(s.signed_off and present_in[s.id] == 0 for s in group)
    }
    lines = []
    for enrollment, participant, session, training in found:
        group = slots.get(session.id, [])
        own = {s.id: marks[(s.id, participant.id)] for s in group if (s.id, participant.id) in marks}
        result = figures(group, own, now, loading.threshold_of(org, training))
        lines.append(
            FunderLine(
                enrollment=enrollment,
                participant=participant,
                session_id=session.id,
                title=training.title,
                start_date=session.start_date,
                end_date=session.end_date,
                completion=completion(
                    result,
                    force_majeure=any((s.id, participant.id) in force for s in group),
                    interrupted=session.id in interrupted,
                ),
                entry_due=add_working_days(session.start_date, DECLARATION_WORKING_DAYS),
                exit_due=add_working_days(session.end_date, DECLARATION_WORKING_DAYS),
            )
        )
    return lines


def sessions_in(filters: Filters) -> list[int]:
    return sorted(
        set(db.session.scalars(_slots_query(filters).with_only_columns(Slot.session_id).distinct()))
    )

"""Everything the organization holds about one participant, gathered in one place: what their own page shows
(right of access) and what an export of their data is made from. Only rows that name them: a session or a
training appears as the title and dates of what they attended, never with anyone else in it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from blueprints.documents.models import Document
from blueprints.messages.models import Message
from blueprints.participants.models import Enrollment, Participant
from blueprints.rights.models import RightsRequest
from blueprints.signing.models import Attendance
from blueprints.trainings.models import Slot, TrainingSession
from tenants.db import db

# The task kind of a person's data export (jobs/rights.py).
EXPORT_KIND = "person-export"


@dataclass(frozen=True)
class Holdings:
    participant: Participant
    enrollments: list[tuple[Enrollment, TrainingSession]]
    attendance: list[tuple[Attendance, Slot]]
    messages: list[Message]
    documents: list[Document]
    requests: list[RightsRequest]


def of_participant(participant: Participant) -> Holdings:
    enrollments = list(
        db.session.execute(
            select(Enrollment, TrainingSession)
            .join(TrainingSession, TrainingSession.id == Enrollment.session_id)
            .where(Enrollment.participant_id == participant.id)
            .order_by(TrainingSession.start_date.desc(), Enrollment.id)
        ).all()
    )
    attendance = list(
        db.session.execute(
            select(Attendance, Slot)
            .join(Slot, Slot.id == Attendance.slot_id)
            .where(Attendance.participant_id == participant.id)
            .order_by(Slot.starts_at.desc())
        ).all()
    )
    messages = list(
        db.session.scalars(
            select(Message)
            .where(Message.participant_id == participant.id)
            .order_by(Message.created_at.desc())
        )
    )
    documents = list(
        db.session.scalars(
            select(Document)
            .where(Document.participant_id == participant.id)
            .order_by(Document.created_at.desc(), Document.id.desc())
        )
    )
    requests = list(
        db.session.scalars(
            select(RightsRequest)
            .where(RightsRequest.participant_id == participant.id)
            .order_by(RightsRequest.id.desc())
        )
    )
    return Holdings(participant, enrollments, attendance, messages, documents, requests)


def exports_of(participant_id: int, limit: int = 10) -> list:
    """The person's recent data exports (tasks), newest first: whoever asked for them, admin or themselves."""
    from blueprints.tasks.models import Task

    tasks = db.session.scalars(
        select(Task).where(Task.kind == EXPORT_KIND).order_by(Task.id.desc()).limit(200)
    )
    return [t for t in tasks if exported_person(t) == participant_id][:limit]


def exported_person(task) -> int | None:
    """Whose data an export task holds (its job's last argument)."""
    args = (task.job or {}).get("args") or []
    return args[2] if task.kind == EXPORT_KIND and len(args) == 3 else None

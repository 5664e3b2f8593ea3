"""Everything the organization holds about one participant, gathered in one place: what their own page shows
(right of access) and what an export of their data is made from. Only rows that name them: a session or a
training appears as the title and dates of what they attended, never with anyone else in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from blueprints.documents.models import Document
from blueprints.messages.models import Message
from blueprints.participants.models import Enrollment, Participant
from blueprints.rights.models import RightsRequest
from blueprints.signing.models import Attendance
from blueprints.trainings.models import Slot, TrainingSession
from tenants.db import db, utcnow
from tenants.retention import TASK_FILES

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

    # An export's file lives a week (tenants/retention.TASK_FILES): older tasks hold nothing to show or erase.
    since = utcnow() - TASK_FILES - timedelta(days=1)
    tasks = db.session.scalars(
        select(Task).where(Task.kind == EXPORT_KIND, Task.created_at >= since).order_by(Task.id.desc())
    )
    return [t for t in tasks if exported_person(t) == participant_id][:limit]


def exported_person(task) -> int | None:
    """Whose data an export task holds (its job's last argument)."""
    args = (task.job or {}).get("args") or []
    return args[2] if task.kind == EXPORT_KIND and len(args) == 3 else None


@dataclass(frozen=True)
class UserHoldings:
    """What the organization (and Emarge, for its support) holds about one of its users."""

    user: object
    logins: list
    actions: list
    messages: list[Message]
    requests: list[RightsRequest]
    support_requests: list


def of_user(user, tenant_id: int) -> UserHoldings:
    from blueprints.accounts.models import UserLogin
    from blueprints.audit.models import AuditEvent
    from blueprints.support.models import SupportRequest

    return UserHoldings(
        user=user,
        logins=list(
            db.session.scalars(
                select(UserLogin).where(UserLogin.user_id == user.id).order_by(UserLogin.id.desc())
            )
        ),
        actions=list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.actor_user_id == user.id).order_by(AuditEvent.id.desc())
            )
        ),
        messages=list(
            db.session.scalars(select(Message).where(Message.user_id == user.id).order_by(Message.id.desc()))
        ),
        requests=list(
            db.session.scalars(
                select(RightsRequest)
                .where(RightsRequest.user_id == user.id)
                .order_by(RightsRequest.id.desc())
            )
        ),
        support_requests=list(
            db.session.scalars(
                select(SupportRequest)
                .where(SupportRequest.tenant_id == tenant_id, SupportRequest.user_id == user.id)
                .order_by(SupportRequest.id.desc())
            )
        ),
    )

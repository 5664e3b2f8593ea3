"""Need-to-know: a facilitator sees the sessions assigned to them and their participants; admins see all.

Every view that loads a session or a participant goes through here, so the rule lives in one place.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, exists, select

from blueprints.accounts.models import User
from blueprints.participants.models import Enrollment, Participant
from blueprints.trainings.models import Training, TrainingSession, session_facilitators
from tenants.db import db


def sessions_query(user: User) -> Select:
    """The sessions ``user`` may see."""
    query = select(TrainingSession)
    if not user.is_admin:
        query = query.where(
            exists().where(
                session_facilitators.c.session_id == TrainingSession.id,
                session_facilitators.c.user_id == user.id,
            )
        )
    return query


def session_or_404(user: User, session_id: int) -> TrainingSession:
    session = db.session.scalars(sessions_query(user).where(TrainingSession.id == session_id)).first()
    if session is None:
        abort(404)
    return session


def trainings_query(user: User) -> Select:
    """The trainings ``user`` may see: all for an admin, those of their sessions for a facilitator."""
    query = select(Training)
    if not user.is_admin:
        query = query.where(
            Training.id.in_(sessions_query(user).with_only_columns(TrainingSession.training_id))
        )
    return query


def participants_query(user: User) -> Select:
    """The participants ``user`` may see: all for an admin, those enrolled in their sessions for a facilitator."""
    query = select(Participant)
    if not user.is_admin:
        query = query.where(
            exists().where(
                Enrollment.participant_id == Participant.id,
                session_facilitators.c.session_id == Enrollment.session_id,
                session_facilitators.c.user_id == user.id,
            )
        )
    return query


def participant_or_404(user: User, participant_id: int) -> Participant:
    participant = db.session.scalars(participants_query(user).where(Participant.id == participant_id)).first()
    if participant is None:
        abort(404)
    return participant

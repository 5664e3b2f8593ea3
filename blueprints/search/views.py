"""The header's search: as one types, the first participants, trainings, sessions (and users, for admins) whose
name matches, through the same need-to-know queries as the lists (``trainings/access.py``): a facilitator finds
only the people and sessions they may see. Without JavaScript, the form opens the same results as a page."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, request
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import User
from blueprints.participants import services as participants
from blueprints.trainings import services as trainings
from blueprints.trainings.access import participants_query, sessions_query, trainings_query
from blueprints.trainings.models import Training, TrainingSession
from blueprints.web.htmx import render
from tenants.db import db

bp = Blueprint("search", __name__, url_prefix="/<org>")

# Per kind: a handful as one types, more on the results page.
AS_YOU_TYPE, ON_THE_PAGE = 5, 25
MAX_TEXT = 100


@dataclass
class Found:
    text: str
    participants: list = field(default_factory=list)
    trainings: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    users: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.participants or self.trainings or self.sessions or self.users)


def _every_word(query, text: str, *columns):
    """``query`` narrowed to rows where each word of ``text`` is in one of ``columns`` (a typed % is a %)."""
    for word in text.split()[:6]:
        query = query.where(or_(*(column.icontains(word, autoescape=True) for column in columns)))
    return query


def find(text: str, limit: int) -> Found:
    found = Found(text=text)
    if len(text) < 2:
        return found
    user = current_user
    people = participants.search(participants_query(user), text)
    found.participants = db.session.scalars(participants.ordered(people).limit(limit)).all()
    found.trainings = db.session.scalars(
        trainings.search_trainings(trainings_query(user), text).limit(limit)
    ).all()
    sessions = (
        sessions_query(user).join(TrainingSession.training).options(joinedload(TrainingSession.training))
    )
    sessions = _every_word(sessions, text, Training.title, Training.reference, TrainingSession.location_name)
    found.sessions = db.session.scalars(
        sessions.where(TrainingSession.archived_at.is_(None))
        .order_by(TrainingSession.start_date.desc(), TrainingSession.id.desc())
        .limit(limit)
    ).all()
    if user.is_admin:
        users = _every_word(select(User), text, User.first_name, User.last_name, User.email)
        found.users = db.session.scalars(users.order_by(User.last_name, User.first_name).limit(limit)).all()
    return found


@bp.get("/search")
@login_required
def index():
    text = (request.args.get("q") or "").strip()[:MAX_TEXT]
    as_you_type = request.args.get("live") == "1"
    found = find(text, AS_YOU_TYPE if as_you_type else ON_THE_PAGE)
    return render("search/index.html", "search/_results.html", found=found, live=as_you_type)

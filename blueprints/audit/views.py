"""The audit trail's page: every event in words, filtered by person, user, action and period, paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, and_, or_, select

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import User
from blueprints.audit import readable
from blueprints.audit.models import AuditEvent
from blueprints.audit.services import record
from blueprints.participants import services as participants
from blueprints.participants.models import Participant
from blueprints.signing.models import SignInLink
from blueprints.tasks.services import launch, start_task
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import render
from jobs import MAINTENANCE
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("audit", __name__, url_prefix="/<org>/audit")

PAGE = 50
# A person's name matches at most this many participants: enough for a homonym or two, never a scan.
PEOPLE = 200
SYSTEM_ACTOR = "system"


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    person: str = ""
    user: str = ""  # a user's id, or "system"
    action: str = ""  # an action, or "family:<name>"
    start: date | None = None
    end: date | None = None

    @classmethod
    def read(cls, values) -> Filters:
        action = values.get("action") or ""
        if action not in readable.ACTIONS and action.removeprefix("family:") not in readable.FAMILIES:
            action = ""
        user = values.get("user") or ""
        if user != SYSTEM_ACTOR and not user.isdigit():
            user = ""
        start, end = _day(values.get("from")), _day(values.get("to"))
        if start and end and end < start:
            start, end = end, start
        return cls(
            person=(values.get("person") or "").strip()[:100], user=user, action=action, start=start, end=end
        )

    @property
    def active(self) -> bool:
        return any((self.person, self.user, self.action, self.start, self.end))

    def args(self) -> dict:
        found = {
            "person": self.person,
            "user": self.user,
            "action": self.action,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }
        return {k: v for k, v in found.items() if v}

    def apply(self, query: Select, timezone: str) -> Select:
        if self.person:
            query = query.where(_about_people(self.person))
        if self.user == SYSTEM_ACTOR:
            query = query.where(AuditEvent.actor_kind == "system")
        elif self.user:
            query = query.where(AuditEvent.actor_user_id == int(self.user))
        if self.action.startswith("family:"):
            query = query.where(
                AuditEvent.action.startswith(self.action.removeprefix("family:") + ".", autoescape=True)
            )
        elif self.action:
            query = query.where(AuditEvent.action == self.action)
        zone = ZoneInfo(timezone)
        if self.start:
            query = query.where(AuditEvent.occurred_at >= datetime.combine(self.start, time(), tzinfo=zone))
        if self.end:
            following = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone)
            query = query.where(AuditEvent.occurred_at < following)
        return query


def _about_people(text: str):
    """Events about the participants whose name, email or company match ``text``: their own record, what the
    details say they concern, their sign-in links, what they did themselves."""
    people = participants.search(select(Participant.id), text).limit(PEOPLE).scalar_subquery()
    links = select(SignInLink.id).where(SignInLink.participant_id.in_(people)).scalar_subquery()
    return or_(
        and_(AuditEvent.object_type == "participants", AuditEvent.object_id.in_(people)),
        and_(AuditEvent.object_type == "sign_in_links", AuditEvent.object_id.in_(links)),
        AuditEvent.details["participant_id"].as_integer().in_(people),
        AuditEvent.actor_participant_id.in_(people),
    )


@bp.get("/")
@admin_required
def index():
    filters = Filters.read(request.args)
    query = filters.apply(select(AuditEvent), current_tenant().timezone)
    page = db.paginate(query.order_by(AuditEvent.id.desc()), per_page=PAGE, error_out=False)
    users = db.session.scalars(select(User).order_by(User.last_name, User.first_name)).all()
    return render(
        "audit/index.html",
        "audit/_results.html",
        page=page,
        lines=readable.describe(list(page.items)),
        filters=filters,
        users=users,
        actions=readable.action_choices(),
        task_id=request.args.get("task", type=int),
    )


@bp.post("/export")
@admin_required
@writes("audit.exported")
def export():
    task = start_task("audit-export", _("Audit trail export"), current_user.id)
    record(request_actor(), "audit.exported", object_type="tasks", object_id=task.id)
    launch(task, "jobs.exports.export_audit", queue=MAINTENANCE, tenant=current_tenant())
    db.session.commit()
    return redirect(url_for("audit.index", task=task.id), 303)

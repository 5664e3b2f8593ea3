"""The audit trail: one helper, called in the transaction of the change it records."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from blueprints.audit.models import AuditEvent
from tenants.db import db

USER = "user"
STAFF = "staff"
TRAINEE = "trainee"
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where. Built by the view (from the request) or the job, handed to services."""

    kind: str
    label: str
    user_id: int | None = None
    staff_id: int | None = None
    participant_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    language: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=SYSTEM, label=label)

    @classmethod
    def for_user(cls, user, **where) -> Actor:
        return cls(kind=USER, label=user.email, user_id=user.id, **where)

    def as_user(self, user) -> Actor:
        """The same origin, now known as ``user`` (after a login, a password reset)."""
        return replace(self, kind=USER if self.kind != STAFF else STAFF, label=user.email, user_id=user.id)


def record(
    actor: Actor,
    action: str,
    obj=None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    session: Session | None = None,
    **details,
) -> AuditEvent:
    """Add an audit event to the current transaction: it commits, or rolls back, with the change."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    event = AuditEvent(
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_staff_id=actor.staff_id,
        actor_participant_id=actor.participant_id,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:400] or None,
        language=(actor.language or "")[:40] or None,
    )
    (session or db.session).add(event)
    return event

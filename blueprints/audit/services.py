"""The audit trail: one helper, called in the transaction of the change it records."""

from __future__ import annotations

from sqlalchemy.orm import Session

from blueprints.audit.models import AuditEvent
from tenants.db import db
from tenants.scope import STAFF, SYSTEM, TRAINEE, USER, Actor

__all__ = ["STAFF", "SYSTEM", "TRAINEE", "USER", "Actor", "record"]


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

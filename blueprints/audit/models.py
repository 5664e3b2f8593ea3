from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow


class AuditEvent(TenantBase):
    """Who did what, to which object, when, from where. Written in the transaction of the change itself."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = mapped_column(BigID)
    actor_staff_id: Mapped[int | None] = mapped_column(BigID)
    actor_participant_id: Mapped[int | None] = mapped_column(BigID)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigID)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    language: Mapped[str | None] = mapped_column(String(40))

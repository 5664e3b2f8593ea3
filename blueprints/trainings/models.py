"""What an organization teaches, when and where: trainings, their sessions, and the slots that are signed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

IN_PERSON, REMOTE, BLENDED = "in_person", "remote", "blended"
MODALITIES = (IN_PERSON, REMOTE, BLENDED)
SLOT_MODALITIES = (IN_PERSON, REMOTE)

# Nature of the action, as article L6313-1 of the French Labour Code lists them.
TRAINING_ACTION = "training_action"
SKILLS_ASSESSMENT = "skills_assessment"
PRIOR_LEARNING = "prior_learning_validation"
APPRENTICESHIP = "apprenticeship"
NATURES = (TRAINING_ACTION, SKILLS_ASSESSMENT, PRIOR_LEARNING, APPRENTICESHIP)

MORNING, AFTERNOON, CUSTOM = "morning", "afternoon", "custom"


class Training(TenantBase):
    __tablename__ = "trainings"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(60), index=True)
    objectives: Mapped[str | None] = mapped_column(Text)
    planned_hours: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    modality: Mapped[str] = mapped_column(String(20), default=IN_PERSON)
    nature: Mapped[str] = mapped_column(String(40), default=TRAINING_ACTION)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The attendance rate its trainees must reach, when not the organization's (blueprints/tracking/).
    attendance_threshold: Mapped[int | None] = mapped_column()

    sessions: Mapped[list[TrainingSession]] = relationship(
        back_populates="training", order_by="TrainingSession.start_date"
    )


session_facilitators = Table(
    "session_facilitators",
    TenantBase.metadata,
    Column("session_id", BigID, ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class TrainingSession(TenantBase):
    """One run of a training: dates, place, room, facilitators, enrolled participants, timezone."""

    __tablename__ = "training_sessions"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="RESTRICT"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    location_name: Mapped[str | None] = mapped_column(String(200))
    location_address: Mapped[str | None] = mapped_column(String(300))
    remote_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # In-room proof of presence for in-person slots (the signing feature reads it).
    room_code_required: Mapped[bool] = mapped_column(default=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    training: Mapped[Training] = relationship(back_populates="sessions")
    facilitators = relationship("User", secondary=session_facilitators, order_by="User.last_name")
    slots: Mapped[list[Slot]] = relationship(
        back_populates="session", order_by="Slot.starts_at", cascade="all, delete-orphan"
    )


class Slot(TenantBase):
    """A span each participant signs once, by default a half-day. Times in UTC; shown in the session's zone."""

    __tablename__ = "slots"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="times_in_order"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20), default=CUSTOM)
    label: Mapped[str | None] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    modality: Mapped[str] = mapped_column(String(20), default=IN_PERSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[TrainingSession] = relationship(back_populates="slots")

    @property
    def planned_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

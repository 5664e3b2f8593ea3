"""The organization's directory of trainees."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.trainings.models import TrainingSession
from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

CIVILITIES = ("mme", "m", "")


class Participant(TenantBase):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    civility: Mapped[str | None] = mapped_column(String(10))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Stored lower-cased: no two participants share an address, whatever its case.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(20))  # E.164
    company: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    sms_consent: Mapped[bool] = mapped_column(default=False)
    # Set by an admin on a restriction request: no message, no new signature.
    processing_restricted: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Erased at the person's request (blueprints/rights/erasure.py): the row stays, for the evidence and the
    # documents that refer to it, with nothing that names the person. Their attendance evidence may be kept
    # until a date, under the legal obligation the admin recorded (``evidence_basis``).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence_kept_until: Mapped[date | None] = mapped_column(Date)
    evidence_basis: Mapped[str | None] = mapped_column(String(200))

    @property
    def full_name(self) -> str:
        if self.erased_at is not None:
            return f"#{self.id}"
        return f"{self.first_name} {self.last_name}"


class Enrollment(TenantBase):
    """A participant planned in a session, with who pays and the funder's file reference."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="RESTRICT"), index=True
    )
    funder: Mapped[str] = mapped_column(String(20), default="employer")
    funder_reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The trainee's employer contact, optional, for one purpose only: to be warned of repeated unjustified
    # absences by the follow-up rule (blueprints/tracking/followup.py).
    employer_contact_name: Mapped[str | None] = mapped_column(String(200))
    employer_contact_email: Mapped[str | None] = mapped_column(String(254))

    session: Mapped[TrainingSession] = relationship()
    participant = relationship("Participant")


FUNDERS = ("opco", "cpf", "employer", "region", "personal", "other")

"""Absence follow-up: the justifications of absences, and each step of the follow-up rule, kept as Qualiopi
evidence (indicator 12: a systematic procedure for absences and lateness)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

# Why a trainee was absent (the list a justification picks from).
ILLNESS = "illness"
FAMILY = "family"
WORK = "work"
TRANSPORT = "transport"
FORCE_MAJEURE = "force_majeure"
OTHER = "other"
REASONS = (ILLNESS, FAMILY, WORK, TRANSPORT, FORCE_MAJEURE, OTHER)

PENDING = "pending"
ACCEPTED = "accepted"
REFUSED = "refused"
DECISIONS = (PENDING, ACCEPTED, REFUSED)


class Justification(TenantBase):
    """A trainee's reason for missing one slot, sent by them or recorded by an admin, before or after it; an
    admin accepts it (the slot becomes "excused") or refuses it, with a reason the trainee is told. One per
    slot and trainee. Its proof may be health data: admins alone open it."""

    __tablename__ = "absence_justifications"
    __table_args__ = (UniqueConstraint("slot_id", "participant_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    proof_blob_id: Mapped[int | None] = mapped_column(BigID)
    proof_content_type: Mapped[str | None] = mapped_column(String(40))
    # The trainee from their page, or the admin who recorded it (None: the trainee).
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigID)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_user_id: Mapped[int | None] = mapped_column(BigID)
    # When its proof was deleted at the end of its period (tenants/retention.py, absence_proofs).
    proof_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The follow-up rule's steps.
ASKED = "asked"  # the trainee asked for a justification, after the first unjustified absence
WARNED = "warned"  # the admins (and the employer contact) warned, after N unjustified absences
STEPS = (ASKED, WARNED)


class FollowupStep(TenantBase):
    """One step of the follow-up of a trainee's absences in a session: whom it told, about which slots. Once per
    kind and trainee and session (the rule's job may run any number of times)."""

    __tablename__ = "followup_steps"
    __table_args__ = (UniqueConstraint("session_id", "participant_id", "kind"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    slot_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Who was told: "trainee", "admins", "employer" (the addresses are in the message log).
    told: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

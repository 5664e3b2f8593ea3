"""Sign-in links, attendances and the signing state of each slot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.signing.roomcodes import new_secret
from blueprints.trainings.models import Slot
from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

# Link kinds.
TRAINEE, FACILITATOR = "trainee", "facilitator"

# Attendance statuses.
PRESENT, LATE, ABSENT, EXCUSED = "present", "late", "absent", "excused"
STATUSES = (PRESENT, LATE, ABSENT, EXCUSED)

# How a presence was recorded.
OWN_LINK, ROOM_CODE, FACILITATOR_DEVICE, PAPER = "own_link", "room_code", "facilitator_device", "paper"
METHODS = (OWN_LINK, ROOM_CODE, FACILITATOR_DEVICE, PAPER)


class SignInLink(TenantBase):
    """A personal link: a trainee's to sign a session's slots, or a facilitator's to run its live pages.

    The token carries the row id and ``nonce``; re-issuing draws a new nonce, so every earlier token of the
    row stops working. One row per person and session (NULLs are distinct, so both constraints hold).
    """

    __tablename__ = "sign_in_links"
    __table_args__ = (
        UniqueConstraint("session_id", "participant_id"),
        UniqueConstraint("session_id", "user_id"),
        CheckConstraint("(participant_id IS NULL) <> (user_id IS NULL)", name="one_holder"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Loaded with the link: the signing page needs both, in one query.
    participant = relationship("Participant", lazy="joined")


class SlotState(TenantBase):
    """What signing adds to a slot: its room-code secret, closing, the facilitator's sign-off, a version."""

    __tablename__ = "slot_states"

    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True)
    room_secret: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_user_id: Mapped[int | None] = mapped_column(BigID)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_user_id: Mapped[int | None] = mapped_column(BigID)
    signed_off_by_name: Mapped[str | None] = mapped_column(String(200))
    signature_blob_id: Mapped[int | None] = mapped_column(BigID)
    signature_sha256: Mapped[str | None] = mapped_column(String(64))

    @property
    def locked(self) -> bool:
        return self.signed_off_at is not None


@event.listens_for(Slot, "after_insert")
def _state_with_the_slot(mapper, connection, slot: Slot) -> None:
    """A slot is made with its signing state (its room secret), in the same flush: pages only read it."""
    connection.execute(insert(SlotState.__table__).values(slot_id=slot.id, room_secret=new_secret()))


class SlotVersion(TenantBase):
    """Bumped by every change of a slot's attendance: the live pages' change check when Redis is absent.

    A row of its own, not a column of ``slot_states``: signatures hold a share lock on the state row (so the
    sign-off waits for them), and bumping a column of that row from two of them at once would deadlock.
    """

    __tablename__ = "slot_versions"

    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class Attendance(TenantBase):
    """One participant in one slot: exactly one row, whoever records it and however many times they tap."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("slot_id", "participant_id"),
        CheckConstraint("status IN ('present', 'late', 'absent', 'excused')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # RESTRICT: a slot that holds attendance is evidence and cannot be deleted under it.
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_minutes: Mapped[int] = mapped_column(default=0)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    early_minutes: Mapped[int] = mapped_column(default=0)
    attended_minutes: Mapped[int] = mapped_column(default=0)
    method: Mapped[str | None] = mapped_column(String(30))
    signature_blob_id: Mapped[int | None] = mapped_column(BigID)
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    thumbnail_blob_id: Mapped[int | None] = mapped_column(BigID)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    language: Mapped[str | None] = mapped_column(String(40))
    recorded_by_user_id: Mapped[int | None] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    participant = relationship("Participant", lazy="joined")

    @property
    def signed(self) -> bool:
        return self.signature_sha256 is not None

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

# Statuses. "sending" is the claim taken just before the exchange with the server: a row left in it by a crash
# becomes "unknown", for a person to resend, never resent blindly.
PENDING = "pending"
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
UNKNOWN = "unknown"
STATUSES = (PENDING, QUEUED, SENDING, SENT, DELIVERED, FAILED, UNKNOWN)

EMAIL, SMS = "email", "sms"
CHANNELS = (EMAIL, SMS)


class Message(TenantBase):
    """An email or SMS and what became of it: the delivery log."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default="email")
    template: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(BigID, index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Account emails carry a live one-time link: their bodies are wiped once sent.
    sensitive: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    provider_answer: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # What the message is about, for the log's filters and the session page.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="SET NULL"), index=True
    )
    # A participant's messages are their personal data: erased with them.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    # Set on messages that must exist once (a reminder per slot, participant and channel): a second insert of
    # the same key is ignored, however many times the job that writes it runs.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True, index=True)
    # The gateway's id for an SMS, which its delivery receipts quote.
    provider_id: Mapped[str | None] = mapped_column(String(100), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A retry waits until then; the sweep leaves it alone before.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A resend is a new row pointing at the one it repeats: the log keeps both.
    resend_of_id: Mapped[int | None] = mapped_column(BigID)
    # A document (certificate) attached to the email, read from storage when it is sent.
    attachment_document_id: Mapped[int | None] = mapped_column(BigID)


class DevSms(TenantBase):
    """What the development SMS adapter "sent": read in the app instead of reaching a phone."""

    __tablename__ = "dev_sms"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(BigID, index=True)
    recipient: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(11))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsReceipt(TenantBase):
    """A delivery receipt already applied, by the gateway's message id and status: the same one again is a
    replay and is refused. Kept for ``tenants.retention.SMS_RECEIPTS``."""

    __tablename__ = "sms_receipts"
    __table_args__ = (UniqueConstraint("provider_id", "status"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

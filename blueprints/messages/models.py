from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

PENDING = "pending"
QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
UNKNOWN = "unknown"


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

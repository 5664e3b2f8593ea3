from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

# What the person asks for (GDPR articles 15 to 21).
ACCESS = "access"
RECTIFICATION = "rectification"
ERASURE = "erasure"
RESTRICTION = "restriction"
OBJECTION = "objection"
PORTABILITY = "portability"
KINDS = (ACCESS, RECTIFICATION, ERASURE, RESTRICTION, OBJECTION, PORTABILITY)

# How it reached the organization: from the person's own page, or entered by an admin.
IN_APP = "app"
EMAIL = "email"
LETTER = "letter"
PHONE = "phone"
IN_PERSON = "in_person"
CHANNELS = (IN_APP, EMAIL, LETTER, PHONE, IN_PERSON)
BY_HAND = (EMAIL, LETTER, PHONE, IN_PERSON)

OPEN = "open"
ANSWERED = "answered"
REFUSED = "refused"
STATUSES = (OPEN, ANSWERED, REFUSED)


class RightsRequest(TenantBase):
    """One request by a trainee or a user of the organization, with its legal deadline and its answer."""

    __tablename__ = "rights_requests"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The person: a participant or one of the organization's users (exactly one of the two).
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default=IN_APP)
    # The person's own words (or the admin's note of a letter or a call).
    message: Mapped[str] = mapped_column(Text, default="")
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # Extended once, by two months, with the reason the person is told.
    extended_due_on: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=OPEN, index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigID)  # the admin who entered it; None: the person did
    # Two admins on the same request: the second one's change is refused, not written over the first.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def deadline(self) -> date:
        return self.extended_due_on or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

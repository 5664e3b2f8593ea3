"""The platform's error reports: one group per fingerprint (the exception's type and the frames of the project's
own code), one report per occurrence. Scrubbed before they are written: see ``capture``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow

REQUEST = "request"
JOB = "job"


class ErrorGroup(PlatformBase):
    __tablename__ = "error_groups"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    exception: Mapped[str] = mapped_column(String(200))
    # The URL rule (never the URL) or the job's function.
    where: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Marked resolved by staff; a new occurrence reopens the group.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(BigID)


class ErrorReport(PlatformBase):
    __tablename__ = "error_reports"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("error_groups.id", ondelete="CASCADE"), index=True)
    # The short code the user's error page shows, for support to look up.
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    where: Mapped[str] = mapped_column(String(300))
    method: Mapped[str | None] = mapped_column(String(8))
    tenant_slug: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(BigID)
    release: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    traceback: Mapped[str] = mapped_column(Text, default="")
    # A short allow-list of request headers, as JSON.
    headers: Mapped[str] = mapped_column(Text, default="{}")

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

# The organization's setting (Organization.support_access).
OFF = "off"
ON_REQUEST = "on-request"
ALWAYS = "always"
SETTINGS = (OFF, ON_REQUEST, ALWAYS)

# What a grant allows: seeing pages, or also changing what support may change (never the never-actions).
READ = "read"
WRITE = "write"
SCOPES = (READ, WRITE)


class SupportGrant(TenantBase):
    """An admin's permission for Emarge support to see the organization's pages until ``ends_at``."""

    __tablename__ = "support_grants"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), default=READ)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.ends_at

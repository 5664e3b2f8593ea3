from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, TenantBase, UTCDateTime, utcnow

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
    # A grant a support request made: for its handler only (a staff id of the platform), read only.
    staff_id: Mapped[int | None] = mapped_column(BigID)
    support_request_id: Mapped[int | None] = mapped_column(BigID)

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.ends_at


# --- support sessions: the platform's own records ---------------------------------------------------------------

# How a support session ended.
ENDED = "ended"  # by the staff member
IDLE = "idle"  # 10 minutes without a request
EXPIRED = "expired"  # 30 minutes after it started
REVOKED = "revoked"  # the organization revoked the grant, or it expired
ACCESS_OFF = "access-off"  # the organization turned support access off
GONE = "gone"  # the user or the staff account was deactivated, or the staff login ended
END_REASONS = (ENDED, IDLE, EXPIRED, REVOKED, ACCESS_OFF, GONE)

# What a support session's log holds.
VIEWED = "viewed"
REFUSED = "refused"
CHANGED = "changed"
REVEALED = "revealed"
EVENT_KINDS = (VIEWED, REFUSED, CHANGED, REVEALED)


class SupportSession(PlatformBase):
    """A staff member acting as a user of an organization: a login record of its own, bound to its own cookie
    (``<id>:<key>``, the record keeps the key's SHA-256), never a copy of the user's. Append-only once ended."""

    __tablename__ = "support_sessions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(BigID, index=True)
    # The organization's user acted as, and the grant that allowed it (None: the setting is "always").
    user_id: Mapped[int] = mapped_column(BigID)
    grant_id: Mapped[int | None] = mapped_column(BigID)
    mode: Mapped[str] = mapped_column(String(10), default=READ)
    reason: Mapped[str] = mapped_column(String(300))
    write_reason: Mapped[str | None] = mapped_column(String(300))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))


class SupportSessionEvent(PlatformBase):
    """One page viewed, change made, request refused or masked field revealed during a support session."""

    __tablename__ = "support_session_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    support_session_id: Mapped[int] = mapped_column(
        ForeignKey("support_sessions.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int | None] = mapped_column()
    detail: Mapped[str | None] = mapped_column(String(200))


# --- support requests: a user writes to Emarge support (the platform keeps them: Emarge is their recipient) -----

# New: waiting for support. Waiting: support replied, waiting for the user. Closed.
NEW = "new"
WAITING = "waiting"
CLOSED = "closed"
REQUEST_STATES = (NEW, WAITING, CLOSED)
# The read access a request gives its handler, once a staff member takes it.
REQUEST_GRANT_DAYS = 7


class SupportRequest(PlatformBase):
    __tablename__ = "support_requests"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigID, index=True)
    user_id: Mapped[int] = mapped_column(BigID)
    # Who wrote, as they were when they wrote: support answers them by email.
    user_name: Mapped[str] = mapped_column(String(200))
    user_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default=NEW, index=True)
    assigned_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="RESTRICT"), index=True
    )
    # The organization's grant made for the handler when the request was taken (its id in the tenant).
    grant_id: Mapped[int | None] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SupportRequestMessage(PlatformBase):
    """One message of a request's thread: the user's (with an optional screenshot) or a staff member's reply."""

    __tablename__ = "support_request_messages"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="RESTRICT")
    )  # None: the user
    body: Mapped[str] = mapped_column(Text)
    screenshot: Mapped[bytes | None] = mapped_column(LargeBinary)
    screenshot_type: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

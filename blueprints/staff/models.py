from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow

# Support staff help organizations (the directory, support sessions, support requests); platform admins also
# run the platform itself: staff accounts, the policy, sub-processor and audience pages.
SUPPORT = "support"
PLATFORM_ADMIN = "platform-admin"
ROLES = (SUPPORT, PLATFORM_ADMIN)


class Staff(PlatformBase):
    """A person of the platform's team: password and a time-based second factor, a role, a timezone."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Encrypted with a key derived from SECRET_KEY (blueprints/staff/totp.py), never stored in clear.
    totp_secret: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last authenticator time step accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(20), default=SUPPORT)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")

    @property
    def is_platform_admin(self) -> bool:
        return self.role == PLATFORM_ADMIN


class StaffLogin(PlatformBase):
    """One signed-in browser of a staff member; the session cookie is bound to it (see UserLogin)."""

    __tablename__ = "staff_logins"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    browser: Mapped[str] = mapped_column(String(60))
    system: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffEvent(PlatformBase):
    """The platform's own append-only log: what staff did to staff accounts, and their support sessions."""

    __tablename__ = "staff_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who acted: None for the command line (the first account is made there).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    target_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    tenant_id: Mapped[int | None] = mapped_column(BigID, index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))


class PlatformMail(PlatformBase):
    """The platform's delivery log: each email the platform sent an organization's admins (a notice)."""

    __tablename__ = "platform_mails"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    tenant_id: Mapped[int | None] = mapped_column(BigID, index=True)
    notice: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(300))

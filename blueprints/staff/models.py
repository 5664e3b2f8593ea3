from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow


class Staff(PlatformBase):
    """A person of the platform's support team: password and a time-based second factor."""

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

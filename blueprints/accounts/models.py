"""People who log in to an organization, and the one-time links sent to them."""

from __future__ import annotations

from datetime import datetime, time

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Time, false, select, true
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

ADMIN = "admin"
FACILITATOR = "facilitator"
ROLES = (ADMIN, FACILITATOR)


class User(UserMixin, TenantBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20), default=FACILITATOR)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    # Set by the login loader (blueprints/accounts/auth.py) for the request's own login; not a column.
    login_ref = None
    login_id = None

    def __eq__(self, other):
        # Flask-Login's compares get_id(), which only the signed-in user has: the same row is the same user.
        if isinstance(other, User):
            return self.id is not None and self.id == other.id
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # as UserMixin's: users are compared, never kept in sets

    def get_id(self) -> str:
        """What the session cookie holds: the organization, the login record and its key."""
        if self.login_ref is None:
            raise RuntimeError("get_id() of a user not signed in through a login record")
        return self.login_ref


class UserLogin(TenantBase):
    """One signed-in browser. The session and remember-me cookies are bound to it: deleting it signs that browser
    out, and a copy of its cookies opens nothing. Only hashes of the cookies' secrets are kept."""

    __tablename__ = "user_logins"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Remember me": the hash of the single-use secret of the cookie, replaced each time it restores a session.
    remember_hash: Mapped[str | None] = mapped_column(String(64))
    # A remembered login ends with its cookie; one that is not ends after LOGIN_IDLE without a request.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    browser: Mapped[str] = mapped_column(String(60))
    system: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountToken(TenantBase):
    """A link sent by email: verify an address, reset a password, accept an invitation. Stored hashed."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Organization(TenantBase):
    """The organization's own description and settings, kept in its schema (one row)."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # legal name
    address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(12))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="FR")
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    siret: Mapped[str | None] = mapped_column(String(14))
    # Numéro de déclaration d'activité (11 digits).
    activity_number: Mapped[str | None] = mapped_column(String(11))
    logo_blob_id: Mapped[int | None] = mapped_column(BigID)
    representative_name: Mapped[str | None] = mapped_column(String(200))
    representative_title: Mapped[str | None] = mapped_column(String(200))
    representative_signature_blob_id: Mapped[int | None] = mapped_column(BigID)
    # Server defaults too: these columns were added to organizations that already existed.
    morning_start: Mapped[time] = mapped_column(Time, default=time(9, 0), server_default="09:00:00")
    morning_end: Mapped[time] = mapped_column(Time, default=time(12, 30), server_default="12:30:00")
    afternoon_start: Mapped[time] = mapped_column(Time, default=time(13, 30), server_default="13:30:00")
    afternoon_end: Mapped[time] = mapped_column(Time, default=time(17, 0), server_default="17:00:00")
    late_tolerance_minutes: Mapped[int] = mapped_column(default=10, server_default="10")
    signin_channels: Mapped[str] = mapped_column(
        String(10), default="email", server_default="email"
    )  # email, sms, both
    # Reminders: minutes before a slot to those expected, minutes after its start to those who have not
    # signed; 0 turns either off.
    reminder_before_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    reminder_after_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # The facilitator gets a summary of who signed when a slot ends.
    slot_summary: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Whether Emarge support may see the organization's pages: off, on-request (an admin's grant is needed,
    # blueprints/support/) or always.
    support_access: Mapped[str] = mapped_column(String(20), default="on-request", server_default="on-request")
    # Attendance tracking (blueprints/tracking/): the rate a trainee must reach (80 %, the CPF full-payment
    # line; a training may set its own), the consecutive absences that put a trainee "at risk", the follow-up
    # rule (on for sessions over 2 days: a justification asked after the first unjustified absence, the admins
    # and the employer contact warned after this many), whether the Alsace-Moselle public holidays apply, and
    # how long absence proofs are kept after their session (tenants/retention.py, absence_proofs).
    attendance_threshold: Mapped[int] = mapped_column(default=80, server_default="80")
    risk_absences: Mapped[int] = mapped_column(default=2, server_default="2")
    followup_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    followup_absences: Mapped[int] = mapped_column(default=2, server_default="2")
    alsace_moselle: Mapped[bool] = mapped_column(default=False, server_default=false())
    proof_keep_months: Mapped[int] = mapped_column(default=12, server_default="12")


def organization() -> Organization | None:
    """The organization's own row in the tenant in scope (there is one; None only mid-provisioning)."""
    from tenants.db import db

    return db.session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()

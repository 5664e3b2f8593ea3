"""Platform-side rows about tenants, and the one place an organization's states are written down.

An organization is in exactly one of these states (``state_of``), derived from its row:

- **unverified**: signed up, the account holder has not confirmed their email yet (``confirmed_at`` unset);
  dropped after ``tenants.retention.UNCONFIRMED_ORGANIZATION``.
- **active**: confirmed, ``status`` active, no end of service: everything works.
- **suspended**: ``status`` suspended by the platform (unpaid, abuse): nobody signs in, no job runs for it.
- **closed**: an end of service is set (``end_of_service_at``): admins sign in read-only to take their archive;
  everything is deleted 3 years after it (the retention issue).
- **deletion requested**: an admin asked for immediate deletion (``deletion_requested_at``); any admin can undo
  it during the grace period, after which it is dropped.

Transitions: unverified → active (confirmation); active ⇄ suspended (the platform); active → closed (an admin
closes the account); active or closed → deletion requested → (undo) the state before, or gone. The retention
issue adds the transitions it needs here, and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow

ACTIVE = "active"
SUSPENDED = "suspended"
# Dropped by the retention engine: the schema is gone; the row stays for the billing record the law requires
# and the verification index of the documents it issued.
DELETED = "deleted"

# The states of ``state_of`` (``status`` holds only active or suspended).
UNVERIFIED = "unverified"
CLOSED = "closed"
DELETION_REQUESTED = "deletion-requested"
STATES = (UNVERIFIED, ACTIVE, SUSPENDED, CLOSED, DELETION_REQUESTED, DELETED)

# The key of a session's info naming the tenant it works in when no scope does (provisioning).
TENANT_ID = "emarge_tenant_id"


class Tenant(PlatformBase):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    schema: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    language: Mapped[str] = mapped_column(String(5), default="fr")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the account holder confirmed their email address; an organization never confirmed is deleted after
    # tenants.retention.UNCONFIRMED_ORGANIZATION.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The end of the service (the account was closed); the data goes 3 years after it.
    end_of_service_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A shorter period than the 3 years after the end of service, in months, if its admins chose one
    # (tenants.retention.END_OF_SERVICE_CHOICES_MONTHS).
    keep_months: Mapped[int | None] = mapped_column()

    billing: Mapped[BillingProfile | None] = relationship(back_populates="tenant", uselist=False)

    def ref(self) -> TenantRef:
        return TenantRef(
            id=self.id,
            slug=self.slug,
            schema=self.schema,
            name=self.name,
            status=self.status,
            language=self.language,
            timezone=self.timezone,
            end_of_service_at=self.end_of_service_at,
            deletion_requested_at=self.deletion_requested_at,
            keep_months=self.keep_months,
        )


def state_of(tenant) -> str:
    """The organization's state (see the module's docstring); ``tenant`` is a row or a result row."""
    if tenant.status == DELETED:
        return DELETED
    if tenant.deletion_requested_at is not None:
        return DELETION_REQUESTED
    if tenant.status == SUSPENDED:
        return SUSPENDED
    if tenant.end_of_service_at is not None:
        return CLOSED
    if tenant.confirmed_at is None:
        return UNVERIFIED
    return ACTIVE


def state_clause(state: str):
    """The SQL condition of ``state`` on ``tenants``: the same rules as ``state_of``, for a directory filter."""
    from sqlalchemy import and_

    t = Tenant.__table__.c
    not_deleting = and_(t.status != DELETED, t.deletion_requested_at.is_(None))
    not_suspended = t.status != SUSPENDED
    return {
        DELETED: t.status == DELETED,
        DELETION_REQUESTED: and_(t.status != DELETED, t.deletion_requested_at.is_not(None)),
        SUSPENDED: and_(not_deleting, t.status == SUSPENDED),
        CLOSED: and_(not_deleting, not_suspended, t.end_of_service_at.is_not(None)),
        UNVERIFIED: and_(
            not_deleting, not_suspended, t.end_of_service_at.is_(None), t.confirmed_at.is_(None)
        ),
        ACTIVE: and_(not_deleting, not_suspended, t.end_of_service_at.is_(None), t.confirmed_at.is_not(None)),
    }[state]


class TenantStats(PlatformBase):
    """An organization's figures for the staff directory, refreshed hourly by a job in each tenant (so that the
    directory never opens 5,000 schemas). Counts only: nothing personal."""

    __tablename__ = "tenant_stats"

    tenant_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    users: Mapped[int] = mapped_column(default=0)
    participants: Mapped[int] = mapped_column(default=0)
    sessions: Mapped[int] = mapped_column(default=0)
    signatures_this_month: Mapped[int] = mapped_column(default=0)
    documents: Mapped[int] = mapped_column(default=0)
    support_access: Mapped[str] = mapped_column(String(20), default="on-request")
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccountEmail(PlatformBase):
    """Which organizations an email address has an active account in, by the address's hash only.

    Kept by the flush of the users' own rows (blueprints/accounts/email_index.py), in the same transaction;
    read by "find my organization" instead of a scan of every tenant.
    """

    __tablename__ = "account_emails"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_admin: Mapped[bool] = mapped_column(default=False)


class BillingProfile(PlatformBase):
    __tablename__ = "billing_profiles"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True)
    billing_name: Mapped[str] = mapped_column(String(200))
    billing_address: Mapped[str] = mapped_column(Text)
    vat_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="billing")


class TenantWork(PlatformBase):
    """When a tenant next has periodic work of one kind to do (``tenants/work.py``); no row: nothing ahead."""

    __tablename__ = "tenant_work"
    __table_args__ = (Index("ix_tenant_work_kind_due_at", "kind", "due_at"),)

    tenant_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the value was computed: the tenant's own run does not overwrite a value noted after it read.
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class TenantRef:
    """What a request or a job keeps of its tenant: plain values, safe across sessions and threads."""

    id: int
    slug: str
    schema: str
    name: str
    status: str
    language: str
    timezone: str
    # Closed by its admins (read-only until it is dropped), and the moment they asked for its deletion.
    end_of_service_at: datetime | None = None
    deletion_requested_at: datetime | None = None
    keep_months: int | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def closed(self) -> bool:
        """Closed or being deleted: its admins may read and take the archive, nothing else happens."""
        return self.end_of_service_at is not None or self.deletion_requested_at is not None

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow

# What the incident touched (the three classic properties of security).
CONFIDENTIALITY = "confidentiality"
INTEGRITY = "integrity"
AVAILABILITY = "availability"
NATURES = (CONFIDENTIALITY, INTEGRITY, AVAILABILITY)


class Breach(PlatformBase):
    """One security incident as first recorded: never changed afterwards (updates are ``BreachUpdate`` rows)."""

    __tablename__ = "breaches"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The moment the platform became aware of it: the 72-hour deadline runs from here.
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    nature: Mapped[list] = mapped_column(JSON, default=list)
    data_categories: Mapped[str] = mapped_column(Text)
    # Approximate figures, as known when recorded (an update may revise them).
    people_count: Mapped[int | None] = mapped_column(Integer)
    records_count: Mapped[int | None] = mapped_column(Integer)
    # Every organization at the time of recording; the list itself is in ``breach_organizations`` either way.
    all_organizations: Mapped[bool] = mapped_column(default=False)
    consequences: Mapped[str] = mapped_column(Text)
    measures_taken: Mapped[str] = mapped_column(Text)
    measures_proposed: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)
    # Decided not to notify, and why (e.g. no risk to anyone's rights): it stays in the register.
    not_notified_reason: Mapped[str | None] = mapped_column(Text)
    not_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_notified_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))


class BreachUpdate(PlatformBase):
    """What was learnt or done after the first record, appended in order (``seq`` 1, 2, …), never changed."""

    __tablename__ = "breach_updates"
    __table_args__ = (UniqueConstraint("breach_id", "seq"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    breach_id: Mapped[int] = mapped_column(ForeignKey("breaches.id", ondelete="RESTRICT"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    people_count: Mapped[int | None] = mapped_column(Integer)
    records_count: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BreachOrganization(PlatformBase):
    """An organization the incident affects, frozen when it was recorded (name and address as they were then:
    the register outlives an organization that is later deleted)."""

    __tablename__ = "breach_organizations"

    breach_id: Mapped[int] = mapped_column(
        ForeignKey("breaches.id", ondelete="RESTRICT"), primary_key=True, autoincrement=False
    )
    tenant_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))


class BreachNotice(PlatformBase):
    """One organization told of one step of an incident (``seq`` 0: the incident, n: its update n): queued,
    emailed to its admins, viewed and acknowledged by an admin in the app. Once per step per organization."""

    __tablename__ = "breach_notices"
    __table_args__ = (
        UniqueConstraint("breach_id", "seq", "tenant_id"),
        Index("ix_breach_notices_tenant_acknowledged", "tenant_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    breach_id: Mapped[int] = mapped_column(ForeignKey("breaches.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    tenant_id: Mapped[int] = mapped_column(BigID)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_by: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    # The email job's last attempt, and what it reached: sent once every active admin has it.
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    problem: Mapped[str | None] = mapped_column(String(300))
    # In the organization's app: the first admin who opened it, and the one who acknowledged it.
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    viewed_by: Mapped[int | None] = mapped_column(BigID)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(BigID)
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(200))

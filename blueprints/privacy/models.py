"""Platform-schema rows of the privacy layer.

Policies and sub-processors are what the public site shows; consent proofs show how each cookie choice was
collected; audience events are raw measurement (13 months at most) and daily aggregates what is kept after.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow

PRIVACY = "privacy"
COOKIES = "cookies"
LEGAL = "legal"
# The policies by kind, as their pages title them (translated where shown).
TITLES = {PRIVACY: "Privacy policy", COOKIES: "Cookie policy", LEGAL: "Legal notice"}
POLICY_KINDS = (PRIVACY, COOKIES, LEGAL)
# Kinds whose substantial changes are emailed and acknowledged at login.
ACKNOWLEDGED_KINDS = (PRIVACY, COOKIES)


class PolicyVersion(PlatformBase):
    """One published version of a policy, in both languages. Never edited once published: a change is a new row."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("kind", "number"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    substantial: Mapped[bool] = mapped_column(default=False)
    summary_fr: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    body_fr: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    published_by: Mapped[int | None] = mapped_column(BigID)  # staff id; None for the initial versions

    def body(self, language: str) -> str:
        return self.body_en if language == "en" else self.body_fr

    def summary(self, language: str) -> str:
        return self.summary_en if language == "en" else self.summary_fr


class PolicyNotification(PlatformBase):
    """A substantial change emailed to one address of one tenant: the job that sends them is safe to run twice."""

    __tablename__ = "policy_notifications"
    __table_args__ = (UniqueConstraint("version_id", "tenant_id", "recipient"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(BigID)
    recipient: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyAcknowledgement(PlatformBase):
    """A user of a tenant has read a substantial policy version. Kept on the platform: the policy is ours."""

    __tablename__ = "policy_acknowledgements"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "version_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigID)
    user_id: Mapped[int] = mapped_column(BigID)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubProcessor(PlatformBase):
    __tablename__ = "sub_processors"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role_fr: Mapped[str] = mapped_column(String(300))
    role_en: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(100))
    leaves_eu: Mapped[bool] = mapped_column(default=False)
    safeguards: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def role(self, language: str) -> str:
        return self.role_en if language == "en" else self.role_fr


class ConsentProof(PlatformBase):
    """How one cookie choice was collected: enough to prove it, nothing more (no full IP, no browser string)."""

    __tablename__ = "consent_proofs"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    consent_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(20))  # accept, refuse, choose, close
    categories: Mapped[str] = mapped_column(String(100), default="")  # space-separated optional categories
    policy_version: Mapped[int] = mapped_column(Integer)  # the cookie policy's number
    banner_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ip_truncated: Mapped[str | None] = mapped_column(String(45))


VIEW = "view"
CLICK = "click"


class AudienceEvent(PlatformBase):
    """A raw measurement event, for 13 months at most. No IP, no browser string, no query string."""

    __tablename__ = "audience_events"
    __table_args__ = (Index("ix_audience_events_visitor_created", "visitor_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    visitor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(10))  # view, click
    view_id: Mapped[str | None] = mapped_column(String(32), index=True)
    page: Mapped[str] = mapped_column(String(200))  # the URL rule, never the raw path: no ids, no tokens
    target: Mapped[str | None] = mapped_column(String(60))  # the clicked button's marker
    visit_start: Mapped[bool] = mapped_column(default=False)
    # direct, search, social or site; on the first view of a visit only
    arrival: Mapped[str | None] = mapped_column(String(10))
    referrer_domain: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(10))
    device: Mapped[str | None] = mapped_column(String(10))  # mobile, tablet, desktop
    seconds: Mapped[int] = mapped_column(Integer, default=0)  # visible time on the page (views)


class AudienceDaily(PlatformBase):
    """A day's figures, kept after the raw events are gone: (day, dimension, key) → count and seconds."""

    __tablename__ = "audience_daily"
    __table_args__ = (UniqueConstraint("day", "dimension", "key"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    dimension: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(Integer, default=0)

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, UTCDateTime, utcnow

# What kind of change an entry announces.
NEW = "new"
IMPROVED = "improved"
FIXED = "fixed"
SECURITY = "security"
CATEGORIES = (NEW, IMPROVED, FIXED, SECURITY)


class ChangelogEntry(PlatformBase):
    """One change announced to every user: in French and English, a draft until published; shown from its date."""

    __tablename__ = "changelog_entries"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), default=NEW)
    published_on: Mapped[date] = mapped_column(Date, index=True)
    published: Mapped[bool] = mapped_column(default=False)
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # Markdown, rendered through the sanitizer (blueprints/changelog/rendering.py) wherever it is shown.
    body_fr: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_fr

    def body(self, language: str) -> str:
        return self.body_en if language == "en" else self.body_fr


class ChangelogRead(PlatformBase):
    """When a user last opened the changelog from the app: the "What's new" mark shows until then."""

    __tablename__ = "changelog_reads"

    tenant_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

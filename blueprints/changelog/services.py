"""Changelog entries: written and published by staff, read by everyone. Plain functions: they take values (never
the request) and flush; the caller commits."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from blueprints.changelog.models import CATEGORIES, ChangelogEntry, ChangelogRead
from blueprints.shared.problems import FieldProblem
from tenants.db import db, utcnow
from tenants.lookups import cached, family

FEED_SIZE = 50
# The service's own day: an entry dated today in Paris is shown from midnight in Paris.
SERVICE_ZONE = ZoneInfo("Europe/Paris")
# When the newest entry became news, read by every signed-in page for its "What's new" mark: copied per process
# and dropped when an entry is saved (tenants/lookups.py).
ENTRY_ROWS = family("changelog", ChangelogEntry.__tablename__)


class EntryProblem(FieldProblem):
    """An entry that cannot be saved, with the form field to show the message at."""


def published(today: date, limit: int | None = None) -> list[ChangelogEntry]:
    """Published entries whose date has come, newest first (an entry dated later appears on its day)."""
    query = (
        select(ChangelogEntry)
        .where(ChangelogEntry.published.is_(True), ChangelogEntry.published_on <= today)
        .order_by(ChangelogEntry.published_on.desc(), ChangelogEntry.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def every_entry() -> list[ChangelogEntry]:
    """Drafts and published entries, for staff, newest first."""
    return list(
        db.session.scalars(
            select(ChangelogEntry).order_by(ChangelogEntry.published_on.desc(), ChangelogEntry.id.desc())
        )
    )


def save(
    entry: ChangelogEntry | None,
    *,
    staff_id: int,
    category: str,
    published_on: date,
    published: bool,
    title_fr: str,
    title_en: str,
    body_fr: str,
    body_en: str,
) -> ChangelogEntry:
    """Create ``entry`` (None) or change it; both languages are required, French first."""
    if category not in CATEGORIES:
        raise EntryProblem("category", _("Pick a category from the list."))
    values = {
        "title_fr": (title_fr or "").strip(),
        "title_en": (title_en or "").strip(),
        "body_fr": (body_fr or "").strip(),
        "body_en": (body_en or "").strip(),
    }
    for field, value in values.items():
        if not value:
            raise EntryProblem(field, _("Write it in both languages: users read the changelog in theirs."))
    if entry is None:
        entry = ChangelogEntry(created_by=staff_id)
        db.session.add(entry)
    for field, value in values.items():
        setattr(entry, field, value)
    entry.category, entry.published_on, entry.published = category, published_on, bool(published)
    entry.updated_at = utcnow()
    db.session.flush()
    return entry


def shown_from(entry: ChangelogEntry) -> datetime:
    """When an entry became news: its last change, or the start of its day if it was dated later."""
    day = datetime.combine(entry.published_on, time(0), SERVICE_ZONE)
    return max(day, entry.updated_at)


def has_news(tenant_id: int, user_id: int, today: date) -> bool:
    """Whether a published entry became news after the user last opened the changelog (never: any entry)."""
    newest = cached(ENTRY_ROWS, ("newest", today), lambda: _newest_moment(today))
    if newest is None:
        return False
    read = db.session.get(ChangelogRead, (tenant_id, user_id))
    return read is None or newest > read.seen_at


def _newest_moment(today: date) -> datetime | None:
    # An entry dated later can be news before one dated sooner that was edited since: look at a few.
    return max((shown_from(e) for e in published(today, limit=10)), default=None)


def mark_read(tenant_id: int, user_id: int) -> None:
    read = db.session.get(ChangelogRead, (tenant_id, user_id))
    if read is None:
        db.session.add(ChangelogRead(tenant_id=tenant_id, user_id=user_id, seen_at=utcnow()))
    else:
        read.seen_at = utcnow()
    db.session.flush()

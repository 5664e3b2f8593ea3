"""Audience measurement, for visitors who consented: page views, time on page and clicks, kept raw for a few
months then aggregated per day; the figures the staff read; the views that are never measured.

Plain functions: they take values (never the request) and flush; the caller commits."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update

from blueprints.privacy.models import (
    CLICK,
    VIEW,
    AudienceDaily,
    AudienceEvent,
)
from tenants.db import db, utcnow
from tenants.retention import PERIODS

logger = logging.getLogger(__name__)


# Days (figures, aggregation) are counted in the platform's timezone.
TIMEZONE = ZoneInfo("Europe/Paris")
VISIT_GAP = timedelta(minutes=30)
MAX_VIEW_SECONDS = 4 * 3600


# --- audience events ------------------------------------------------------------------------------------------

SEARCH_ENGINES = (
    "google.",
    "bing.com",
    "duckduckgo.com",
    "qwant.com",
    "ecosia.org",
    "search.yahoo.",
    "yahoo.com",
    "yandex.",
    "baidu.com",
    "startpage.com",
    "search.brave.com",
    "lilo.org",
)
SOCIAL_NETWORKS = (
    "facebook.com",
    "fb.com",
    "instagram.com",
    "linkedin.com",
    "lnkd.in",
    "twitter.com",
    "x.com",
    "t.co",
    "youtube.com",
    "tiktok.com",
    "pinterest.",
    "reddit.com",
    "mastodon.",
    "bsky.app",
    "threads.net",
    "whatsapp.com",
)
ARRIVALS = ("direct", "search", "social", "site")


def _matches(domain: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.endswith("."):
            if domain.startswith(pattern) or f".{pattern}" in f".{domain}":
                return True
        elif domain == pattern or domain.endswith("." + pattern):
            return True
    return False


def classify_referrer(referrer: str | None, own_host: str) -> tuple[str, str | None]:
    """How a visitor arrived: ("internal", None) from our own pages, else direct, search, social or site,
    with the referring domain (never the full address)."""
    if not referrer:
        return "direct", None
    try:
        host = (urlsplit(referrer).hostname or "").lower()
    except ValueError:
        return "direct", None
    if not host:
        return "direct", None
    if host == own_host.split(":")[0].lower():
        return "internal", None
    domain = host[4:] if host.startswith("www.") else host
    if _matches(domain, SEARCH_ENGINES):
        return "search", domain[:100]
    if _matches(domain, SOCIAL_NETWORKS):
        return "social", domain[:100]
    return "site", domain[:100]


def device_class(width: int | None) -> str | None:
    if not width or width <= 0:
        return None
    if width < 768:
        return "mobile"
    if width < 1100:
        return "tablet"
    return "desktop"


def language_of(value: str | None) -> str | None:
    match = re.match(r"^([A-Za-z]{2,3})(?:[-_]|$)", value or "")
    return match.group(1).lower() if match else None


def local_day(moment: datetime) -> date:
    return moment.astimezone(TIMEZONE).date()


def record_view(
    visitor: str,
    view_id: str,
    page: str,
    *,
    referrer: str | None,
    own_host: str,
    language: str | None,
    width: int | None,
    now: datetime | None = None,
) -> AudienceEvent | None:
    now = now or utcnow()
    if db.session.scalars(select(AudienceEvent.id).where(AudienceEvent.view_id == view_id)).first():
        return None  # sent twice
    arrival, domain = classify_referrer(referrer, own_host)
    recent = db.session.scalars(
        select(AudienceEvent.id).where(
            AudienceEvent.visitor_id == visitor,
            AudienceEvent.kind == VIEW,
            AudienceEvent.created_at > now - VISIT_GAP,
        )
    ).first()
    # A visit starts after 30 minutes without a page, or when the visitor comes back from elsewhere.
    visit_start = recent is None or arrival != "internal"
    event = AudienceEvent(
        created_at=now,
        day=local_day(now),
        visitor_id=visitor,
        kind=VIEW,
        view_id=view_id,
        page=page[:200],
        visit_start=visit_start,
        arrival=("direct" if arrival == "internal" else arrival) if visit_start else None,
        referrer_domain=domain if visit_start else None,
        language=language_of(language),
        device=device_class(width),
    )
    db.session.add(event)
    db.session.flush()
    return event


def record_time(visitor: str, view_id: str, seconds: int) -> None:
    """The visible time of a page so far; only ever grows (the browser sends its running total)."""
    seconds = max(0, min(int(seconds), MAX_VIEW_SECONDS))
    db.session.execute(
        update(AudienceEvent)
        .where(
            AudienceEvent.view_id == view_id,
            AudienceEvent.visitor_id == visitor,
            AudienceEvent.kind == VIEW,
            AudienceEvent.seconds < seconds,
        )
        .values(seconds=seconds)
    )


def record_click(
    visitor: str, view_id: str | None, page: str, target: str, now: datetime | None = None
) -> None:
    now = now or utcnow()
    db.session.add(
        AudienceEvent(
            created_at=now,
            day=local_day(now),
            visitor_id=visitor,
            kind=CLICK,
            view_id=None,
            page=page[:200],
            target=target[:60],
        )
    )
    db.session.flush()


# --- figures --------------------------------------------------------------------------------------------------

MARKER = "day"  # a row of this dimension marks a day as aggregated (even with no visit)


def _raw_rows(days: list[date]) -> list[tuple[date, str, str, int, int]]:
    """(day, dimension, key, count, seconds) computed from raw events of ``days``."""
    if not days:
        return []
    e = AudienceEvent
    in_days = e.day.in_(days)
    views, visits = e.kind == VIEW, (e.kind == VIEW) & e.visit_start.is_(True)
    rows: list[tuple[date, str, str, int, int]] = [(d, MARKER, "", 0, 0) for d in days]
    queries = (
        ("views", None, views),
        ("visits", None, visits),
        ("page", e.page, views),
        ("click", e.target, e.kind == CLICK),
        ("arrival", e.arrival, visits),
        ("referrer", e.referrer_domain, visits & e.referrer_domain.is_not(None)),
        ("language", e.language, visits),
        ("device", e.device, visits),
    )
    for dimension, key, where in queries:
        columns = [e.day, func.count(e.id), func.coalesce(func.sum(e.seconds), 0)]
        group = [e.day]
        if key is not None:
            columns.insert(1, key)
            group.append(key)
        statement = select(*columns).where(in_days, where).group_by(*group)
        for row in db.session.execute(statement):
            if key is None:
                day, count, seconds = row
                rows.append((day, dimension, "", int(count), int(seconds)))
            else:
                day, value, count, seconds = row
                rows.append((day, dimension, value or "", int(count), int(seconds)))
    return rows


def aggregate_days(days: list[date]) -> int:
    """Store the figures of ``days`` (replacing any stored before): what is kept once raw events are purged."""
    if not days:
        return 0
    db.session.execute(delete(AudienceDaily).where(AudienceDaily.day.in_(days)))
    rows = _raw_rows(days)
    for day, dimension, key, count, seconds in rows:
        db.session.add(AudienceDaily(day=day, dimension=dimension, key=key, count=count, seconds=seconds))
    db.session.flush()
    return len(days)


def days_to_aggregate(today: date) -> list[date]:
    """Every day before today with raw events and no stored figures, plus the last two (late time reports)."""
    stored = set(db.session.scalars(select(AudienceDaily.day).where(AudienceDaily.dimension == MARKER)))
    raw = set(db.session.scalars(select(AudienceEvent.day).where(AudienceEvent.day < today).distinct()))
    recent = {today - timedelta(days=1), today - timedelta(days=2)}
    return sorted((raw - stored) | (recent & raw))


def purge_raw_events(now: datetime | None = None) -> int:
    """Raw events older than 13 months go; their days' figures are stored first."""
    now = now or utcnow()
    cutoff = PERIODS["audience_raw_events"].before(now)
    old_days = sorted(
        set(db.session.scalars(select(AudienceEvent.day).where(AudienceEvent.created_at < cutoff).distinct()))
    )
    stored = set(db.session.scalars(select(AudienceDaily.day).where(AudienceDaily.dimension == MARKER)))
    aggregate_days([d for d in old_days if d not in stored])
    return db.session.execute(delete(AudienceEvent).where(AudienceEvent.created_at < cutoff)).rowcount


@dataclass
class Figures:
    start: date
    end: date
    visits: int = 0
    views: int = 0
    seconds: int = 0
    by_day: list[tuple[date, int, int]] = field(default_factory=list)  # day, visits, views
    pages: list[tuple[str, int]] = field(default_factory=list)
    clicks: list[tuple[str, int]] = field(default_factory=list)
    arrivals: list[tuple[str, int]] = field(default_factory=list)
    referrers: list[tuple[str, int]] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)
    devices: list[tuple[str, int]] = field(default_factory=list)

    @property
    def visits_series(self) -> list[tuple[str, int]]:
        return [(day.strftime("%d/%m"), visits) for day, visits, _views in self.by_day]

    @property
    def average_seconds(self) -> int:
        return round(self.seconds / self.visits) if self.visits else 0


def figures(start: date, end: date, top: int = 10) -> Figures:
    """The period's figures: stored days as stored, the others (today, days not aggregated yet) from raw events."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    stored_rows = db.session.execute(
        select(
            AudienceDaily.day,
            AudienceDaily.dimension,
            AudienceDaily.key,
            AudienceDaily.count,
            AudienceDaily.seconds,
        ).where(AudienceDaily.day.between(start, end))
    ).all()
    stored_days = {row[0] for row in stored_rows if row[1] == MARKER}
    rows = [tuple(r) for r in stored_rows] + _raw_rows([d for d in days if d not in stored_days])
    result = Figures(start=start, end=end)
    per_day: dict[date, list[int]] = {d: [0, 0] for d in days}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, dimension, key, count, seconds in rows:
        if dimension == "views":
            result.views += count
            result.seconds += seconds
            per_day[day][1] += count
        elif dimension == "visits":
            result.visits += count
            per_day[day][0] += count
        elif dimension != MARKER:
            totals[dimension][key] += count

    def ranked(dimension: str) -> list[tuple[str, int]]:
        return sorted(totals[dimension].items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    result.by_day = [(d, v[0], v[1]) for d, v in sorted(per_day.items())]
    result.pages, result.clicks = ranked("page"), ranked("click")
    result.arrivals = [(kind, totals["arrival"].get(kind, 0)) for kind in ARRIVALS]
    result.referrers, result.languages, result.devices = (
        ranked("referrer"),
        ranked("language"),
        ranked("device"),
    )
    return result


def never_measured(view):
    """Mark a view whose pages are never measured (trainees' signing pages): the collection endpoint refuses
    events for them even if a script sent some."""
    view.never_measured = True
    return view

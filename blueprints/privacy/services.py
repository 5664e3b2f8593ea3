"""Privacy services: policies, sub-processors, consent and its proof, audience measurement and its figures.

Plain functions: they take values (never the request) and flush; the caller commits.
"""

from __future__ import annotations

import calendar
import ipaddress
import logging
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from blueprints.privacy import defaults
from blueprints.privacy.cookies import AUDIENCE_LIFETIME, CONSENT_LIFETIME, OPTIONAL
from blueprints.privacy.models import (
    ACKNOWLEDGED_KINDS,
    CLICK,
    COOKIES,
    POLICY_KINDS,
    VIEW,
    AudienceDaily,
    AudienceEvent,
    ConsentProof,
    PolicyAcknowledgement,
    PolicyVersion,
    SubProcessor,
)
from tenants.db import db, utcnow
from tenants.retention import AUDIENCE_RAW_EVENTS_MONTHS

logger = logging.getLogger(__name__)

# Bump when the banner's wording or buttons change: the proof says which banner the visitor saw.
BANNER_VERSION = "2026-11.1"
# Days (figures, aggregation) are counted in the platform's timezone.
TIMEZONE = ZoneInfo("Europe/Paris")
VISIT_GAP = timedelta(minutes=30)
MAX_VIEW_SECONDS = 4 * 3600


# --- policies -------------------------------------------------------------------------------------------------


def latest(kind: str, session: Session | None = None) -> PolicyVersion | None:
    session = session or db.session
    return session.scalars(
        select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.number.desc()).limit(1)
    ).first()


def version(kind: str, number: int) -> PolicyVersion | None:
    return db.session.scalars(
        select(PolicyVersion).where(PolicyVersion.kind == kind, PolicyVersion.number == number)
    ).first()


def history(kind: str) -> list[PolicyVersion]:
    return list(
        db.session.scalars(
            select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.number.desc())
        )
    )


def cookie_policy_number() -> int:
    current = latest(COOKIES)
    return current.number if current else 0


def publish(
    kind: str,
    *,
    body_fr: str,
    body_en: str,
    summary_fr: str = "",
    summary_en: str = "",
    substantial: bool = False,
    staff_id: int | None = None,
) -> PolicyVersion:
    """A new version of ``kind``. A substantial privacy or cookie policy is emailed to every account holder
    (once the caller commits) and acknowledged by users at their next login."""
    if kind not in POLICY_KINDS:
        raise ValueError(f"unknown policy {kind}")
    current = latest(kind)
    row = PolicyVersion(
        kind=kind,
        number=(current.number + 1) if current else 1,
        published_at=utcnow(),
        substantial=bool(substantial and kind in ACKNOWLEDGED_KINDS),
        summary_fr=summary_fr.strip(),
        summary_en=summary_en.strip(),
        body_fr=body_fr,
        body_en=body_en,
        published_by=staff_id,
    )
    db.session.add(row)
    db.session.flush()
    if row.substantial:
        from jobs import MESSAGING, enqueue

        enqueue("jobs.privacy.notify_policy_version", row.id, queue=MESSAGING)
    return row


def ensure_defaults(session: Session) -> bool:
    """The first version of each policy and the sub-processor list, on a fresh install. Safe to call again:
    only what was never seeded is added. True when something was added."""
    added = False
    fresh = latest("privacy", session) is None
    for kind, (body_fr, body_en) in defaults.POLICIES.items():
        if latest(kind, session) is None:
            session.add(PolicyVersion(kind=kind, number=1, body_fr=body_fr.strip(), body_en=body_en.strip()))
            added = True
    # Seeded with the first privacy policy only: a list staff later empty stays empty.
    if fresh:
        for position, (name, role_fr, role_en, country, leaves_eu, safeguards) in enumerate(
            defaults.SUB_PROCESSORS
        ):
            session.add(
                SubProcessor(
                    name=name,
                    role_fr=role_fr,
                    role_en=role_en,
                    country=country,
                    leaves_eu=leaves_eu,
                    safeguards=safeguards,
                    position=position,
                )
            )
    session.flush()
    return added


# --- acknowledgements at login --------------------------------------------------------------------------------


def pending_acknowledgements(tenant_id: int, user_id: int, since: datetime | None) -> list[PolicyVersion]:
    """The latest substantial version of each acknowledged policy, published after ``since`` (the user's
    creation) and not yet acknowledged by this user."""
    pending = []
    for kind in ACKNOWLEDGED_KINDS:
        row = db.session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind, PolicyVersion.substantial.is_(True))
            .order_by(PolicyVersion.number.desc())
            .limit(1)
        ).first()
        if row is None or (since is not None and row.published_at <= since):
            continue
        done = db.session.scalars(
            select(PolicyAcknowledgement.id).where(
                PolicyAcknowledgement.tenant_id == tenant_id,
                PolicyAcknowledgement.user_id == user_id,
                PolicyAcknowledgement.version_id == row.id,
            )
        ).first()
        if done is None:
            pending.append(row)
    return pending


def latest_substantial_id() -> int | None:
    """What a session remembers having checked: a new substantial version changes it."""
    return db.session.scalar(select(func.max(PolicyVersion.id)).where(PolicyVersion.substantial.is_(True)))


def acknowledge(tenant_id: int, user_id: int, versions: list[PolicyVersion]) -> None:
    for row in versions:
        db.session.add(PolicyAcknowledgement(tenant_id=tenant_id, user_id=user_id, version_id=row.id))
    db.session.flush()


# --- sub-processors -------------------------------------------------------------------------------------------


def sub_processors() -> list[SubProcessor]:
    return list(db.session.scalars(select(SubProcessor).order_by(SubProcessor.position, SubProcessor.name)))


def save_sub_processor(row: SubProcessor | None, **values) -> SubProcessor:
    row = row or SubProcessor()
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    return row


def remove_sub_processor(row: SubProcessor) -> None:
    db.session.delete(row)
    db.session.flush()


# --- consent --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """A visitor's cookie choice as their consent cookie carries it."""

    consent_id: str
    categories: frozenset[str] = field(default_factory=frozenset)
    policy: int = 0
    given_at: datetime | None = None

    def allows(self, category: str) -> bool:
        return category in self.categories


def _serializer(secret: str | list[str]) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="emarge-consent")


def encode_consent(secret: str | list[str], consent: Consent) -> str:
    return _serializer(secret).dumps(
        {
            "i": consent.consent_id,
            "c": sorted(consent.categories),
            "v": consent.policy,
            "t": int(consent.given_at.timestamp()),
        }
    )


def decode_consent(secret: str | list[str], value: str | None) -> Consent | None:
    """The consent in a cookie, whatever its age or version (``is_current`` says whether it still holds)."""
    if not value:
        return None
    try:
        data = _serializer(secret).loads(value)
        return Consent(
            consent_id=str(data["i"])[:32],
            categories=frozenset(c for c in data["c"] if c in OPTIONAL),
            policy=int(data["v"]),
            given_at=datetime.fromtimestamp(int(data["t"]), UTC),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def is_current(consent: Consent | None, policy: int, now: datetime | None = None) -> bool:
    """Given under the cookie policy in force, less than 6 months ago."""
    now = now or utcnow()
    return (
        consent is not None
        and consent.policy == policy
        and consent.given_at is not None
        and now - CONSENT_LIFETIME < consent.given_at <= now + timedelta(minutes=5)
    )


def refusal_signal(headers) -> bool:
    """Global Privacy Control or Do Not Track: the browser already said no."""
    return headers.get("Sec-GPC", "").strip() == "1" or headers.get("DNT", "").strip() == "1"


def truncate_ip(ip: str | None) -> str | None:
    """Keep the network, drop the host: /24 in IPv4, /48 in IPv6."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


ACTIONS = ("accept", "refuse", "choose", "close")


def record_choice(
    previous: Consent | None, action: str, categories: set[str], ip: str | None, now: datetime | None = None
) -> tuple[Consent, ConsentProof]:
    """Write the proof of a choice and return the consent to keep in the visitor's cookie.

    The consent id stays the same while the browser keeps its cookie, so a withdrawal sits next to the consent
    it withdraws."""
    if action not in ACTIONS:
        raise ValueError(f"unknown consent action {action}")
    now = now or utcnow()
    kept = frozenset(c for c in categories if c in OPTIONAL)
    consent = Consent(
        consent_id=previous.consent_id if previous else secrets.token_hex(16),
        categories=kept,
        policy=cookie_policy_number(),
        given_at=now,
    )
    proof = ConsentProof(
        consent_id=consent.consent_id,
        action=action,
        categories=" ".join(sorted(kept)),
        policy_version=consent.policy,
        banner_version=BANNER_VERSION,
        created_at=now,
        ip_truncated=truncate_ip(ip),
    )
    db.session.add(proof)
    db.session.flush()
    return consent, proof


def consent_on_record(consent: Consent | None, category: str) -> bool:
    """The cookie's consent is current and the latest proof of that consent id grants ``category``: a cookie
    we never wrote, or one overtaken by a withdrawal elsewhere, grants nothing."""
    if not is_current(consent, cookie_policy_number()) or not consent.allows(category):
        return False
    proof = db.session.scalars(
        select(ConsentProof)
        .where(ConsentProof.consent_id == consent.consent_id)
        .order_by(ConsentProof.created_at.desc(), ConsentProof.id.desc())
        .limit(1)
    ).first()
    return proof is not None and category in proof.categories.split()


# --- the visitor id of audience measurement -------------------------------------------------------------------


def _visitor_serializer(secret: str | list[str]) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="emarge-audience")


def new_visitor(secret: str | list[str], now: datetime | None = None) -> tuple[str, str, int]:
    """A fresh visitor id, its cookie value and the cookie's max-age in seconds."""
    now = now or utcnow()
    visitor = secrets.token_hex(16)
    value = _visitor_serializer(secret).dumps([visitor, int(now.timestamp())])
    return visitor, value, int(AUDIENCE_LIFETIME.total_seconds())


def read_visitor(secret: str | list[str], value: str | None, now: datetime | None = None) -> str | None:
    """The visitor id in a measurement cookie still within its lifetime (the cookie is never extended)."""
    if not value:
        return None
    now = now or utcnow()
    try:
        visitor, created = _visitor_serializer(secret).loads(value)
        created_at = datetime.fromtimestamp(int(created), UTC)
    except (BadSignature, TypeError, ValueError):
        return None
    if not (now - AUDIENCE_LIFETIME < created_at <= now + timedelta(minutes=5)):
        return None
    return str(visitor)[:32] if re.fullmatch(r"[0-9a-f]{32}", str(visitor)) else None


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


def months_ago(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + year, month + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def purge_raw_events(now: datetime | None = None) -> int:
    """Raw events older than 13 months go; their days' figures are stored first."""
    now = now or utcnow()
    cutoff = months_ago(now, AUDIENCE_RAW_EVENTS_MONTHS)
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

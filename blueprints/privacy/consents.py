"""Cookie consent and its proof: the choice kept in a signed cookie, a proof row per choice (with the banner's
version and a truncated IP), the browser's refusal signal honoured, and the visitor id of audience measurement.

Plain functions: they take values (never the request) and flush; the caller commits."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from blueprints.privacy.cookies import AUDIENCE_LIFETIME, CONSENT_LIFETIME, OPTIONAL
from blueprints.privacy.models import (
    ConsentProof,
)
from blueprints.privacy.policy_versions import cookie_policy_number
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)


# Bump when a banner's wording or buttons change: the proof says which banner the visitor saw. Visitors see the
# full banner; signed-in staff a compact bar that never covers their work (the same three choices).
FULL, COMPACT = "full", "compact"
BANNER_VERSIONS = {FULL: "2026-11.1", COMPACT: "2026-12.1-compact"}
BANNER_VERSION = BANNER_VERSIONS[FULL]


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
    previous: Consent | None,
    action: str,
    categories: set[str],
    ip: str | None,
    now: datetime | None = None,
    *,
    banner: str = FULL,
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
        banner_version=BANNER_VERSIONS.get(banner, BANNER_VERSION),
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

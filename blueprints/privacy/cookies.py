"""Every cookie Emarge sets, in one place: the cookie policy page is drawn from it and a test checks the app
against it. A cookie missing here, or living longer than said here, fails that test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l

TECHNICAL = "technical"
AUDIENCE = "audience"
CATEGORIES = {
    TECHNICAL: _l("Technical (always on: the site cannot work without them)"),
    AUDIENCE: _l("Audience measurement (only with your consent)"),
}
# Optional categories a visitor can accept or refuse.
OPTIONAL = (AUDIENCE,)

# No cookie lives longer than 13 months. The shortest span of 13 calendar months is 393 days.
THIRTEEN_MONTHS = timedelta(days=393)
SIX_MONTHS = timedelta(days=182)

SESSION_COOKIE = "emarge_session"
REMEMBER_COOKIE = "emarge_remember"
CONSENT_COOKIE = "emarge_consent"
AUDIENCE_COOKIE = "emarge_audience"

CONSENT_LIFETIME = SIX_MONTHS
AUDIENCE_LIFETIME = timedelta(days=390)
REMEMBER_LIFETIME = timedelta(days=365)


def cookie_attributes(config) -> dict:
    """The attributes every cookie of Emarge is set, and deleted, with: a deletion without them would be
    refused by the browser for a Secure cookie, or leave a cookie readable by scripts."""
    return {
        "secure": bool(config.get("SESSION_COOKIE_SECURE")),
        "httponly": True,
        "samesite": "Lax",
        "path": "/",
    }


@dataclass(frozen=True)
class Cookie:
    name: str
    category: str
    purpose: object  # a lazy string
    lifetime: timedelta | None  # None: deleted when the browser closes
    lifetime_text: object
    http_only: bool = True


REGISTRY = (
    Cookie(
        SESSION_COOKIE,
        TECHNICAL,
        _l(
            "Keeps you signed in while you use Emarge, protects forms against forgery and remembers the "
            "language you chose."
        ),
        None,
        _l("Until you close your browser"),
    ),
    Cookie(
        REMEMBER_COOKIE,
        TECHNICAL,
        _l(
            'Set only if you tick "Remember me" when logging in: keeps you signed in on this device. It does '
            "not end when you close the browser; logging out or changing your password ends it."
        ),
        REMEMBER_LIFETIME,
        _l("365 days from your login, never extended"),
    ),
    Cookie(
        CONSENT_COOKIE,
        TECHNICAL,
        _l(
            "Remembers your choice about optional cookies, so that we do not ask at every page. Holds a random "
            "consent number, the categories you accepted and the version of this policy."
        ),
        CONSENT_LIFETIME,
        _l("6 months, then we ask again (and as soon as this policy changes)"),
    ),
    Cookie(
        AUDIENCE_COOKIE,
        AUDIENCE,
        _l(
            "A random visitor number, to count visits and time on site ourselves. Set only after you accept "
            "audience measurement; deleted as soon as you withdraw. Nothing is shared with anyone."
        ),
        AUDIENCE_LIFETIME,
        _l("390 days from your first measured visit (under 13 months), never extended"),
    ),
)

BY_NAME = {cookie.name: cookie for cookie in REGISTRY}

"""Languages and times: the user's choice, else the browser's, else the organization's; UTC in storage."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel import dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, get_locale, get_timezone
from flask_login import current_user

from tenants import current_scope, current_tenant
from tenants.schema import ROOT

babel = Babel()


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    scope = current_scope()
    # Set by whoever entered the scope and knows better: a job writing to a trainee, a trainee's own page.
    if scope is not None and scope.language in languages:
        return scope.language
    if has_request_context():
        # A page: the signed-in person's choice, else the one kept in the session, else the browser's.
        if (
            getattr(current_user, "is_authenticated", False)
            and getattr(current_user, "language", None) in languages
        ):
            return current_user.language
        if session.get("language") in languages:
            return session["language"]
        best = request.accept_languages.best_match(languages)
        if best:
            return best
    tenant = current_tenant()
    return tenant.language if tenant else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    # A staff page shows times in the staff member's own timezone (set when their login was checked).
    staff = g.get("staff") if has_request_context() else None
    if staff is not None:
        return staff.timezone
    scope = current_scope()
    return (scope and scope.tenant_timezone) or current_app.config["BABEL_DEFAULT_TIMEZONE"]


# One date style per language, Babel's: English writes dates as British English does ("2 December 2026"), in
# the day-month order of the French pages and of every document, never the US "December 2, 2026". French
# months and days stay lower-case ("lundi 30 novembre").
DATE_LOCALES = {"en": "en_GB", "fr": "fr_FR"}
DATE_STYLES = {f"{style}_date": style for style in ("short", "medium", "long", "full")}
# A day named in full without its year: "lundi 30 novembre", "Monday 30 November".
DAY = "EEEE d MMMM"


def date_locale(language: str | None = None) -> str:
    language = language or str(get_locale() or "fr")
    return DATE_LOCALES.get(language, language)


def format_date(value: date | datetime | None, fmt: str = "medium", language: str | None = None) -> str:
    """A calendar date (a datetime's date in UTC: use ``local_datetime`` for a moment)."""
    if value is None:
        return ""
    return dates.format_date(value, fmt, locale=date_locale(language))


def local_datetime(
    value: datetime | None, fmt: str = "medium", tz: str | None = None, language: str | None = None
) -> str:
    """Show a UTC datetime in ``tz`` (a session's own timezone) or the organization's. ``fmt`` is a Babel
    style or pattern, or a style of the local date alone ("long_date": "2 December 2026")."""
    if value is None:
        return ""
    if value.tzinfo is None:  # naive means UTC here, as in flask_babel; not the machine's local time
        value = value.replace(tzinfo=UTC)
    zone = ZoneInfo(tz) if tz else get_timezone()
    if fmt in DATE_STYLES:
        return format_date(value.astimezone(zone).date(), DATE_STYLES[fmt], language)
    # Formatted with the zone itself, so "long" and "full" name it instead of calling it UTC.
    return dates.format_datetime(value, fmt, tzinfo=zone, locale=date_locale(language))


def day_label(value: date | datetime | None, tz: str | None = None) -> str:
    """ "lundi 30 novembre": a date, or a moment's local day."""
    if isinstance(value, datetime):
        return local_datetime(value, DAY, tz)
    return format_date(value, DAY)


def compile_catalogs(source: str, target: str) -> None:
    """Compile the .po catalogs into ``target`` when they changed (compiled files are not versioned)."""
    for language in os.listdir(source):
        po = os.path.join(source, language, "LC_MESSAGES", "messages.po")
        if not os.path.exists(po):
            continue
        mo = os.path.join(target, language, "LC_MESSAGES", "messages.mo")
        if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
            continue
        os.makedirs(os.path.dirname(mo), exist_ok=True)
        with open(po, "rb") as f:
            catalog = read_po(f, locale=language)
        # Written aside then renamed: several workers may start at once.
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(mo))
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)


# French writes "d'Inès", not "de Inès": before a vowel or a mute h, "de" loses its vowel.
_ELIDING = frozenset("aàâäeéèêëiîïoôöuùûüyhAÀÂÄEÉÈÊËIÎÏOÔÖUÙÛÜYH")


def elides(name: str | None) -> bool:
    """Whether a word before ``name`` elides in French ("Documents d'Inès Benali"): templates then pick the
    message with the context "before a vowel", which says so in the French catalog (the same in English)."""
    return bool(name) and name[0] in _ELIDING


def init_app(app: Flask) -> None:
    compiled = os.path.join(app.instance_path, "translations")
    compile_catalogs(os.path.join(ROOT, "translations"), compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compiled
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["local_dt"] = local_datetime
    # Flask-Babel's filters, in the one date style per language.
    app.jinja_env.filters["dateformat"] = format_date
    app.jinja_env.filters["datetimeformat"] = local_datetime
    app.jinja_env.filters["day_label"] = day_label
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["elides"] = elides
    # The organization in scope, for page headers and mail ("Log in to Acme").
    app.context_processor(lambda: {"scope_tenant": current_tenant()})

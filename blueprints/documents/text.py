"""Text on documents: every user-supplied text checked against the font's character map (a name the font cannot
draw is flagged and listed in the notes, never printed as empty boxes), and the formats (dates, hours, methods)
in the document's language."""

from __future__ import annotations

import logging
import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import dates, numbers
from flask_babel import gettext as _

from blueprints.signing.models import (
    FACILITATOR_DEVICE,
    OWN_LINK,
    PAPER,
    ROOM_CODE,
)
from blueprints.trainings.models import (
    APPRENTICESHIP,
    PRIOR_LEARNING,
    SKILLS_ASSESSMENT,
    TRAINING_ACTION,
)
from blueprints.web.i18n import date_locale
from tenants.schema import ROOT

logger = logging.getLogger(__name__)


FONTS_DIR = os.path.join(ROOT, "static", "fonts")
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


# Shortened on the grids (the participant's own sheet and certificate carry the whole name).
GRID_NAME_CHARS = 60
REASON_CHARS = 40


# --- the font ------------------------------------------------------------------------------------------------


@cache
def font_codepoints() -> frozenset[int]:
    """The characters both faces of the vendored font can draw."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    faces = [set(TTFontFile(os.path.join(FONTS_DIR, name)).charToGlyph) for name in FONT_FILES]
    return frozenset(set.intersection(*faces))


def clean_text(text: str | None) -> str:
    """NFC (so an accent is one glyph, not a combining mark drawn apart), without control characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs"))


def unprintable(text: str | None) -> set[str]:
    """The characters of ``text`` the document font cannot draw."""
    drawable = font_codepoints()
    return {c for c in clean_text(text) if not c.isspace() and ord(c) not in drawable}


def printable_part(text: str) -> str:
    """What of ``text`` the font can draw, when it holds a letter: a Latin transliteration typed alongside."""
    drawable = font_codepoints()
    kept = " ".join("".join(c if ord(c) in drawable else " " for c in clean_text(text)).split())
    return kept if any(c.isalpha() for c in kept) else ""


class Notes:
    """What a document says is missing or flagged: collected while it is gathered, printed at its end."""

    def __init__(self):
        self.items: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.items:
            self.items.append(message)

    def name(self, text: str | None) -> str:
        """A person's name, or the flag that stands for it when the font cannot draw it."""
        text = clean_text(text).strip()
        if not unprintable(text):
            return text
        latin = printable_part(text)
        marker = _("[name in a script the document font cannot print]")
        shown = f"{marker} ({latin})" if latin else marker
        self.add(
            _("A name is in a script the document font cannot print; it is shown as: %(shown)s.", shown=shown)
        )
        return shown

    def text(self, text: str | None, what: str) -> str:
        """Any other text typed by a user (a title, a company, an address…), flagged the same way."""
        text = clean_text(text).strip()
        if not unprintable(text):
            return text
        latin = printable_part(text)
        marker = _("[text in a script the document font cannot print]")
        self.add(_("%(what)s is in a script the document font cannot print.", what=what))
        return f"{marker} ({latin})" if latin else marker


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- formatting ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    language: str
    timezone: str

    def local(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(ZoneInfo(self.timezone))

    def date(self, value: date | datetime, fmt: str = "long") -> str:
        if isinstance(value, datetime):
            value = self.local(value).date()
        return dates.format_date(value, fmt, locale=date_locale(self.language))

    def time(self, value: datetime) -> str:
        return dates.format_time(self.local(value), "HH:mm", locale=date_locale(self.language))

    def datetime(self, value: datetime) -> str:
        return f"{self.date(value, 'short')} {self.time(value)}"

    def hours(self, minutes: int | float) -> str:
        """7 h, 3 h 30: what attendance sheets usually print, and exact where decimals are not."""
        whole, rest = divmod(int(round(minutes)), 60)
        hours = numbers.format_decimal(whole, "#,##0", locale=self.language)
        return f"{hours} h {rest:02d}" if rest else f"{hours} h"

    def span(self, first: date, last: date) -> str:
        if first == last:
            return self.date(first)
        return _("from %(start)s to %(end)s", start=self.date(first), end=self.date(last))


def method_label(method: str | None) -> str:
    return {
        OWN_LINK: _("own link"),
        ROOM_CODE: _("own link + in-room code"),
        FACILITATOR_DEVICE: _("facilitator's device"),
        PAPER: _("paper sheet"),
    }.get(method or "", "")


def method_codes() -> dict[str, tuple[str, str]]:
    """Short codes for the grids, where a cell has room for a word, with the legend that explains them."""
    return {
        OWN_LINK: (_("L"), _("own link")),
        ROOM_CODE: (_("L+C"), _("own link + in-room code")),
        FACILITATOR_DEVICE: (_("D"), _("facilitator's device")),
        PAPER: (_("P"), _("paper sheet")),
    }


def nature_labels() -> dict[str, str]:
    """The natures of the action as the ministry's certificate lists them, in its order."""
    return {
        TRAINING_ACTION: _("Training action"),
        SKILLS_ASSESSMENT: _("Skills assessment"),
        PRIOR_LEARNING: _("Validation of prior learning"),
        APPRENTICESHIP: _("Apprenticeship"),
    }

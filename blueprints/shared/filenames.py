"""One pattern for every file Emarge hands out, PDFs, CSV, XLSX and ZIP alike, in the organization's language:

    <what>-<training or subject>-<date>[-<time>][-<person>][-v<version>].<extension>

"feuille-emargement-sst-2026-12-03-v1.pdf", "attendance-sheet-sst-2026-12-03-v1.pdf". ASCII only: every
system, mail client and archive tool keeps such a name as it is.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import force_locale
from flask_babel import lazy_pgettext as _p

# What the file is, as its name says it (lower-case words joined by hyphens, in each language).
WHAT = {
    "session_sheet": _p("file name", "attendance-sheet"),
    "participant_sheet": _p("file name", "participant-sheet"),
    "slot_sheet": _p("file name", "half-day-sheet"),
    "blank_slot_sheet": _p("file name", "blank-half-day-sheet"),
    "certificate": _p("file name", "certificate"),
    "session_archive": _p("file name", "documents"),
    "followup_record": _p("file name", "absence-follow-up"),
    "attendance_export": _p("file name", "attendance"),
    "roster": _p("file name", "roster"),
    "directory": _p("file name", "participants"),
    "audit": _p("file name", "audit-trail"),
    "personal_data": _p("file name", "personal-data"),
    "archive": _p("file name", "archive"),
}


def ascii_slug(text: str | None, limit: int = 40) -> str:
    """Lower-case ASCII words joined by hyphens: accents dropped, other scripts left out."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:limit].rstrip("-")


def file_name(
    what: str, *parts: str | None, extension: str, language: str, version: int | None = None
) -> str:
    """The name of a file of kind ``what``; ``parts`` are its subject, dates and person, in that order;
    ``language`` is the organization's."""
    with force_locale(language):
        pieces = [str(WHAT[what])]
    pieces += [slug for slug in (ascii_slug(part) for part in parts) if slug]
    if version is not None:
        pieces.append(f"v{version}")
    return "-".join(pieces) + "." + extension

"""The documents themselves: what an attendance sheet or a certificate shows, and the PDF of it.

Three steps, each usable alone: gather what the document shows (``facts.py``, with ``text.py`` and
``pictures.py``), lay it out with the templates under ``templates/pdf/``, draw it with xhtml2pdf and the
vendored DejaVu Sans (``static/fonts/``). Nothing here writes: the issuing code (versions, storage, codes)
calls ``render_document`` inside a tenant scope and keeps what it returns.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from blueprints.documents.facts import Column, Facts, Person, RenderError, as_utc, gather
from blueprints.documents.models import (
    BLANK_SLOT_SHEET,
    CERTIFICATE,
    FOLLOWUP_RECORD,
    PARTICIPANT_SHEET,
    SESSION_SHEET,
    SLOT_SHEET,
)
from blueprints.documents.pictures import qr_data_uri
from blueprints.documents.text import FONTS_DIR, Formats, method_codes, nature_labels
from blueprints.participants.models import Participant
from blueprints.shared.filenames import ascii_slug, file_name
from blueprints.trainings.models import (
    Slot,
    TrainingSession,
)

logger = logging.getLogger(__name__)


KINDS = (SESSION_SHEET, PARTICIPANT_SHEET, SLOT_SHEET, BLANK_SLOT_SHEET, CERTIFICATE, FOLLOWUP_RECORD)
TEMPLATES = {kind: f"pdf/{kind}.html" for kind in KINDS}

# The session sheet's grid: slot columns and participant rows per page, so 60 × 20 stays legible.
SLOTS_PER_PAGE = 6
PARTICIPANTS_PER_PAGE = 8


@dataclass(frozen=True)
class Stamp:
    """What makes this issued copy verifiable; the issuing code fills it."""

    code: str  # short verification code, e.g. "7KQ2-M9XD"
    verify_url: str  # absolute URL of the public verification page for this code (put in the QR)
    version: int
    issued_at: datetime  # UTC
    issued_by: str | None


@dataclass
class Rendered:
    pdf: bytes
    pages: int
    notes: list[str]  # what the document says is missing or flagged, in its language (also printed in it)


# --- pages of the session sheet ------------------------------------------------------------------------------


def groups(items: list, size: int) -> list[list]:
    """``items`` in consecutive groups of at most ``size``, as even as possible (5 + 5, not 6 + 4)."""
    if not items:
        return [[]]
    count = -(-len(items) // size)
    base, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


@dataclass
class GridPage:
    people: list[Person]
    columns: list[Column]
    first_row: int  # 1-based position of the page's first participant
    last_columns: bool  # the page holding the last slot group: it carries the attended hours
    first_column: int


def grid_pages(facts: Facts) -> list[GridPage]:
    """Row groups of participants, each across the column groups of slots: one page each."""
    pages = []
    column_groups = groups(facts.columns, SLOTS_PER_PAGE)
    row = 0
    for people in groups(facts.people, PARTICIPANTS_PER_PAGE):
        col = 0
        for index, columns in enumerate(column_groups):
            pages.append(GridPage(people, columns, row + 1, index == len(column_groups) - 1, col + 1))
            col += len(columns)
        row += len(people)
    return pages


# --- the API -------------------------------------------------------------------------------------------------


def _check_subject(kind: str, participant, slot) -> None:
    if kind not in KINDS:
        raise RenderError(f"unknown document kind {kind!r}")
    if kind in (PARTICIPANT_SHEET, CERTIFICATE) and participant is None:
        raise RenderError(f"a {kind} is about one participant")
    if kind in (SLOT_SHEET, BLANK_SLOT_SHEET) and slot is None:
        raise RenderError(f"a {kind} is about one slot")


def _followup(session, now):
    from blueprints.accounts.models import organization
    from blueprints.tracking.record import followup_record

    return followup_record(session, organization(), now)


def _build(
    kind, *, session, participant=None, slot=None, stamp: Stamp, language: str
) -> tuple[str, list[str]]:
    _check_subject(kind, participant, slot)
    with force_locale(language):
        facts = gather(
            session,
            language=language,
            now=stamp.issued_at,
            participant=participant,
            slot=slot,
            signatures=kind != BLANK_SLOT_SHEET,
            attendance_notes=kind != CERTIFICATE,
        )
        fmt = Formats(language, session.timezone or "Europe/Paris")
        issued_by = facts.notes.name(stamp.issued_by) if stamp.issued_by else ""
        person = facts.people[0] if participant is not None and facts.people else None
        if kind == CERTIFICATE and person is not None and not person.company:
            facts.notes.add(_("The employer of %(name)s is not stated.", name=person.name))
        if kind == CERTIFICATE and not facts.org["representative_name"]:
            facts.notes.add(_("The representative's name is not stated in the organization's settings."))
        if kind == CERTIFICATE and not facts.org["representative_signature"]:
            facts.notes.add(_("The representative's signature is missing from the organization's settings."))
        html = render_template(
            TEMPLATES[kind],
            kind=kind,
            language=language,
            facts=facts,
            org=facts.org,
            training=facts.training,
            session_info=facts.session,
            columns=facts.columns,
            column=facts.columns[0] if slot is not None else None,
            people=facts.people,
            person=person,
            pages=grid_pages(facts) if kind == SESSION_SHEET else [],
            natures=nature_labels(),
            legend=" · ".join(f"{code} = {label}" for code, label in method_codes().values()),
            attended=lambda p: fmt.hours(facts.attended.get(p.id, 0)),
            hours=fmt.hours,
            stamp=stamp,
            issued=f"{fmt.datetime(stamp.issued_at)} ({session.timezone})",
            issued_on=fmt.date(stamp.issued_at),
            issued_by=issued_by,
            qr=qr_data_uri(stamp.verify_url),
            fonts=FONTS_DIR,
            page_number=Markup("<pdf:pagenumber />"),
            page_count=Markup("<pdf:pagecount />"),
            notes=facts.notes.items,
            followup=_followup(session, stamp.issued_at) if kind == FOLLOWUP_RECORD else None,
        )
    return html, list(facts.notes.items)


def document_html(kind, *, session, participant=None, slot=None, stamp: Stamp, language: str = "fr") -> str:
    """The HTML of a document, before it is drawn."""
    html, _notes = _build(
        kind, session=session, participant=participant, slot=slot, stamp=stamp, language=language
    )
    return html


def _policy():
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    # The HTML is ours, but names in it are not: reads stay in the font folder, nothing leaves the machine.
    return ResourceAccessPolicy.server(
        FONTS_DIR,
        allow_remote=False,
        max_document_bytes=64 * 1024 * 1024,  # a 60 × 20 sheet holds 1,200 signature thumbnails
        max_render_seconds=600,
    )


def html_to_pdf(html: str) -> bytes:
    """Draw ``html`` with xhtml2pdf; fonts and images come from the font folder and data: URIs only."""
    from xhtml2pdf import pisa

    out = io.BytesIO()
    result = pisa.CreatePDF(
        html,
        dest=out,
        encoding="utf-8",
        path=os.path.join(FONTS_DIR, "document.html"),
        resource_policy=_policy(),
    )
    if result.err:
        logger.error("xhtml2pdf reported %s error(s) drawing a document", result.err)
        raise RuntimeError(f"xhtml2pdf reported {result.err} error(s)")
    return out.getvalue()


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def render_document(
    kind: str,
    *,
    session: TrainingSession,
    participant: Participant | None = None,
    slot: Slot | None = None,
    stamp: Stamp,
    language: str = "fr",
    progress: Callable[[int, int], None] | None = None,
) -> Rendered:
    """The PDF of one document: gathered, laid out and drawn. ``progress(done, total)`` follows the steps."""

    def step(done: int) -> None:
        if progress is not None:
            progress(done, 3)

    step(0)
    html, notes = _build(
        kind, session=session, participant=participant, slot=slot, stamp=stamp, language=language
    )
    step(1)
    pdf = html_to_pdf(html)
    step(2)
    pages = page_count(pdf)
    step(3)
    return Rendered(pdf=pdf, pages=pages, notes=notes)


# --- file names ----------------------------------------------------------------------------------------------


def filename_for(kind, *, session, participant=None, slot=None, version: int, language: str) -> str:
    """An ASCII file name that says what the document is: kind, training, date, whose, version."""
    _check_subject(kind, participant, slot)
    if slot is not None:
        local = as_utc(slot.starts_at).astimezone(ZoneInfo(session.timezone or "Europe/Paris"))
        when = f"{local:%Y-%m-%d-%H%M}"
    else:
        when = f"{session.start_date:%Y-%m-%d}"
    person = None
    if participant is not None:
        person = (
            participant.full_name if ascii_slug(participant.full_name) else f"participant-{participant.id}"
        )
    return file_name(
        kind,
        session.training.title or f"session-{session.id}",
        when,
        person,
        extension="pdf",
        language=language,
        version=version,
    )

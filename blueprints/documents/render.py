"""The documents themselves: what an attendance sheet or a certificate shows, and the PDF of it.

Three steps, each usable alone: gather what the document shows in a few queries (a 60 × 20 sheet runs about
ten, not one per cell), lay it out with the templates under ``templates/pdf/``, draw it with xhtml2pdf and the
vendored DejaVu Sans (``static/fonts/``). Nothing here writes: the issuing code (versions, storage, codes)
calls ``render_document`` inside a tenant scope and keeps what it returns.

Every user-supplied text goes through one check against the font's character map, so a name in a script the
font cannot draw is flagged on the paper and listed in the notes instead of printed as empty boxes.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import dates, numbers
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from blueprints.accounts.models import Organization
from blueprints.accounts.models import organization as the_organization
from blueprints.documents.models import (
    BLANK_SLOT_SHEET,
    CERTIFICATE,
    PARTICIPANT_SHEET,
    SESSION_SHEET,
    SLOT_SHEET,
    PaperSheet,
)
from blueprints.participants.models import Participant
from blueprints.signing.models import (
    ABSENT,
    EXCUSED,
    FACILITATOR_DEVICE,
    LATE,
    OWN_LINK,
    PAPER,
    ROOM_CODE,
    Attendance,
    SlotState,
)
from blueprints.trainings.models import (
    APPRENTICESHIP,
    NATURES,
    PRIOR_LEARNING,
    REMOTE,
    SKILLS_ASSESSMENT,
    TRAINING_ACTION,
    Enrollment,
    Slot,
    TrainingSession,
)
from tenants.db import db
from tenants.schema import ROOT
from tenants.storage import Blob

logger = logging.getLogger(__name__)

FONTS_DIR = os.path.join(ROOT, "static", "fonts")
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")

KINDS = (SESSION_SHEET, PARTICIPANT_SHEET, SLOT_SHEET, BLANK_SLOT_SHEET, CERTIFICATE)
TEMPLATES = {kind: f"pdf/{kind}.html" for kind in KINDS}

# The session sheet's grid: slot columns and participant rows per page, so 60 × 20 stays legible.
SLOTS_PER_PAGE = 6
PARTICIPANTS_PER_PAGE = 8
# Shortened on the grids (the participant's own sheet and certificate carry the whole name).
GRID_NAME_CHARS = 60
REASON_CHARS = 40
# Images drawn larger than this are scaled down first: the PDF stays small and the render quick.
LOGO_BOX = (480, 160)
SIGNATURE_BOX = (480, 192)
THUMBNAIL_BOX = (240, 120)
BLOB_CHUNK = 500


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


class RenderError(ValueError):
    """A document asked for without what it is about (a slot sheet without its slot…): a caller's mistake."""


# --- the font ------------------------------------------------------------------------------------------------


@cache
def font_codepoints() -> frozenset[int]:
    """The characters both faces of the vendored font can draw."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    faces = [set(TTFontFile(os.path.join(FONTS_DIR, name)).charToGlyph) for name in FONT_FILES]
    return frozenset(set.intersection(*faces))


def _clean(text: str | None) -> str:
    """NFC (so an accent is one glyph, not a combining mark drawn apart), without control characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs"))


def unprintable(text: str | None) -> set[str]:
    """The characters of ``text`` the document font cannot draw."""
    drawable = font_codepoints()
    return {c for c in _clean(text) if not c.isspace() and ord(c) not in drawable}


def printable_part(text: str) -> str:
    """What of ``text`` the font can draw, when it holds a letter: a Latin transliteration typed alongside."""
    drawable = font_codepoints()
    kept = " ".join("".join(c if ord(c) in drawable else " " for c in _clean(text)).split())
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
        text = _clean(text).strip()
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
        text = _clean(text).strip()
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
        return dates.format_date(value, fmt, locale=self.language)

    def time(self, value: datetime) -> str:
        return dates.format_time(self.local(value), "HH:mm", locale=self.language)

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


# --- images --------------------------------------------------------------------------------------------------


def data_uri(data: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64," + base64.b64encode(data).decode("ascii")


def _fit(data: bytes, box: tuple[int, int], *, crop: bool = False) -> str | None:
    """A stored image as a PNG data URI no larger than ``box``; None when it cannot be read.

    ``crop`` trims a signature to its ink, so a small box on a grid shows the signature, not the empty pad.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if crop:
                image.load()
                if "A" in image.getbands():
                    bbox = image.getbbox(alpha_only=True)
                else:
                    bbox = ImageOps.invert(image.convert("L")).point(lambda v: 255 if v > 24 else 0).getbbox()
                if bbox:
                    pad = 2
                    image = image.crop(
                        (
                            max(0, bbox[0] - pad),
                            max(0, bbox[1] - pad),
                            min(image.width, bbox[2] + pad),
                            min(image.height, bbox[3] + pad),
                        )
                    )
            elif image.width <= box[0] and image.height <= box[1] and image.format == "PNG":
                return data_uri(data)
            image.thumbnail(box)
            out = io.BytesIO()
            # Fast compression: a grid holds hundreds of these, and the PDF deflates them again anyway.
            image.save(out, format="PNG", compress_level=1)
            return data_uri(out.getvalue())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def qr_data_uri(url: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=1)
    return data_uri(out.getvalue())


def _blobs(ids: Iterable[int | None]) -> dict[int, bytes]:
    """Blob contents by id, a few hundred per query."""
    wanted = sorted({i for i in ids if i})
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), BLOB_CHUNK):
        chunk = wanted[start : start + BLOB_CHUNK]
        rows = db.session.execute(select(Blob.id, Blob.data).where(Blob.id.in_(chunk)))
        found.update({row.id: row.data for row in rows})
    return found


# --- what a document shows -----------------------------------------------------------------------------------


@dataclass
class Person:
    id: int
    name: str  # as printed (flagged when the font cannot draw it)
    grid_name: str  # shortened for the grids
    company: str
    funder: str
    reference: str
    archived: bool
    enrolled: bool
    sort_key: tuple = ()


@dataclass
class Signoff:
    name: str
    time: str
    image: str | None


@dataclass
class Column:
    """A slot as the documents show it."""

    id: int
    day: str
    hours: str
    label: str
    planned_minutes: int
    ended: bool
    paper: bool
    remote: bool
    signoff: Signoff | None


@dataclass
class Mark:
    """What one participant × slot cell shows."""

    tone: str  # signed, late, paper, absent, excused, unsigned, missing, empty
    image: str | None = None
    time: str = ""  # when it was signed, in the session's zone
    method: str = ""  # how, in words
    code: str = ""  # how, in the grid's short code (see method_codes)
    status: list[str] = field(default_factory=list)  # late, early departure, absence, what is missing
    minutes: int = 0

    @property
    def lines(self) -> list[str]:
        """The cell's text on a grid: time and method code, then the status."""
        first = " · ".join(part for part in (self.time, self.code) if part)
        return ([first] if first else []) + self.status

    @property
    def long_lines(self) -> list[str]:
        """The same with the method in words, where a column has room for them."""
        first = " · ".join(part for part in (self.time, self.method) if part)
        return ([first] if first else []) + self.status


@dataclass
class Facts:
    """Everything a document of a session shows, ready for the templates."""

    org: dict
    training: dict
    session: dict
    columns: list[Column]
    people: list[Person]
    marks: dict[tuple[int, int], Mark]
    attended: dict[int, int]  # participant id → attended minutes
    planned_minutes: int
    notes: Notes

    def mark(self, person: Person, column: Column) -> Mark:
        return self.marks.get((person.id, column.id)) or Mark("empty")


def _organization(org: Organization, notes: Notes, images: dict[int, bytes]) -> dict:
    if not org.siret:
        notes.add(_("The organization's SIRET is not stated in its settings."))
    if not org.activity_number:
        notes.add(_("The organization's declaration of activity number is not stated in its settings."))
    logo = _fit(images[org.logo_blob_id], LOGO_BOX) if org.logo_blob_id in images else None
    signature = None
    if org.representative_signature_blob_id in images:
        signature = _fit(images[org.representative_signature_blob_id], SIGNATURE_BOX, crop=True)
    name = notes.text(org.name, _("The organization's name"))
    return {
        "name": name,
        "address": notes.text(org.address, _("The organization's address")),
        "city_line": notes.text(f"{org.postal_code} {org.city}", _("The organization's address")),
        "city": notes.text(org.city, _("The organization's address")),
        "siret": org.siret or "",
        "activity_number": org.activity_number or "",
        "logo": logo,
        "representative_name": notes.name(org.representative_name),
        "representative_title": notes.text(org.representative_title, _("The representative's title")),
        "representative_signature": signature,
    }


def _column(slot: Slot, state: SlotState | None, paper: bool, fmt: Formats, now: datetime, notes, images):
    signoff = None
    if state is not None and state.signed_off_at is not None:
        image = images.get(state.signature_blob_id)
        signoff = Signoff(
            name=notes.name(state.signed_off_by_name),
            time=fmt.datetime(state.signed_off_at),
            image=_fit(image, THUMBNAIL_BOX, crop=True) if image else None,
        )
    return Column(
        id=slot.id,
        day=fmt.date(slot.starts_at, "EEE d MMM y"),
        hours=f"{fmt.time(slot.starts_at)}–{fmt.time(slot.ends_at)}",
        label=notes.text(slot.label, _("A half-day's label")),
        planned_minutes=slot.planned_minutes,
        ended=_utc(slot.ends_at) <= now,
        paper=paper,
        remote=slot.modality == REMOTE,
        signoff=signoff,
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Words:
    """The fixed words of a grid's cells, translated once per document rather than once per cell."""

    def __init__(self):
        self.not_recorded = _("Not recorded")
        self.absent = _("Absent")
        self.excused = _("Excused absence")
        self.image_missing = _("signature image missing")
        self.unsigned = _("no signature")
        self.methods = {
            method: method_label(method) for method in (OWN_LINK, ROOM_CODE, FACILITATOR_DEVICE, PAPER)
        }
        self.codes = {method: code for method, (code, _label) in method_codes().items()}


def _mark(attendance: Attendance | None, column: Column, fmt: Formats, images, counts, words: Words) -> Mark:
    if attendance is None:
        if column.ended:
            counts["missing"] += 1
            return Mark("missing", status=[words.not_recorded])
        return Mark("empty")
    if attendance.status == ABSENT:
        return Mark("absent", status=[words.absent])
    if attendance.status == EXCUSED:
        reason = shorten(_clean(attendance.reason).strip(), REASON_CHARS)
        return Mark("excused", status=[words.excused] + ([reason] if reason else []))
    mark = Mark(
        LATE if attendance.status == LATE else "signed",
        time=fmt.time(attendance.signed_at) if attendance.signed_at else "",
        method=words.methods.get(attendance.method or "", ""),
        code=words.codes.get(attendance.method or "", ""),
        minutes=attendance.attended_minutes,
    )
    if attendance.signed:
        blob = images.get(attendance.thumbnail_blob_id) or images.get(attendance.signature_blob_id)
        mark.image = _fit(blob, THUMBNAIL_BOX, crop=True) if blob else None
        if mark.image is None:
            counts["no_image"] += 1
            mark.status.append(words.image_missing)
    elif attendance.method == PAPER:
        mark.tone = "paper"
    else:
        counts["unsigned"] += 1
        mark.tone = "unsigned"
        mark.status.append(words.unsigned)
    if attendance.status == LATE:
        mark.status.append(_("Late (%(minutes)d min)", minutes=attendance.late_minutes))
    if attendance.early_minutes:
        mark.status.append(_("left %(minutes)d min early", minutes=attendance.early_minutes))
    return mark


@dataclass
class Rows:
    """The rows a document of a session is made of, loaded in a fixed number of queries."""

    organization: Organization
    slots: list[Slot]
    enrollments: dict[int, tuple[Enrollment, Participant]]
    others: list[Participant]  # recorded in a slot, no longer enrolled
    attendances: list[Attendance]
    states: dict[int, SlotState]
    paper: set[int]  # slots with a scanned paper sheet
    images: dict[int, bytes]  # blob id → bytes: signatures, sign-offs, logo, representative's signature


def load(session: TrainingSession, *, participant=None, slot=None, signatures: bool = True) -> Rows:
    organization = the_organization()
    if organization is None:  # every tenant has its row; a document without it would have no issuer
        raise RenderError("the organization has no settings row")
    if slot is not None:
        slots = [slot]
    else:
        slots = list(
            db.session.scalars(
                select(Slot).where(Slot.session_id == session.id).order_by(Slot.starts_at, Slot.id)
            )
        )
    slot_ids = [s.id for s in slots]

    enrolled = select(Enrollment, Participant).join(Participant, Participant.id == Enrollment.participant_id)
    enrolled = enrolled.where(Enrollment.session_id == session.id)
    # The participants come with the enrollments: not joined again on each attendance.
    recorded = select(Attendance).options(lazyload(Attendance.participant))
    recorded = recorded.where(Attendance.slot_id.in_(slot_ids))
    if participant is not None:
        enrolled = enrolled.where(Enrollment.participant_id == participant.id)
        recorded = recorded.where(Attendance.participant_id == participant.id)
    enrollments = {p.id: (e, p) for e, p in db.session.execute(enrolled).all()}
    attendances = list(db.session.scalars(recorded)) if slot_ids and signatures else []
    # Someone who signed and was later unenrolled still appears: the sheet is evidence of what happened.
    extra = {a.participant_id for a in attendances} - set(enrollments)
    if participant is not None and participant.id not in enrollments:
        extra.add(participant.id)
    others = list(db.session.scalars(select(Participant).where(Participant.id.in_(extra)))) if extra else []
    states = {}
    if slot_ids and signatures:
        states = {
            s.slot_id: s for s in db.session.scalars(select(SlotState).where(SlotState.slot_id.in_(slot_ids)))
        }
    paper = set()
    if slot_ids:
        paper = set(db.session.scalars(select(PaperSheet.slot_id).where(PaperSheet.slot_id.in_(slot_ids))))
    blob_ids = [a.thumbnail_blob_id or a.signature_blob_id for a in attendances if a.signed]
    blob_ids += [s.signature_blob_id for s in states.values()]
    blob_ids += [organization.logo_blob_id, organization.representative_signature_blob_id]
    return Rows(organization, slots, enrollments, others, attendances, states, paper, _blobs(blob_ids))


def gather(
    session: TrainingSession,
    *,
    language: str,
    now: datetime,
    participant: Participant | None = None,
    slot: Slot | None = None,
    signatures: bool = True,
    attendance_notes: bool = True,
) -> Facts:
    """What a document of ``session`` shows (one participant's or one slot's part when given), ready to print.

    ``signatures`` False leaves attendance out (the blank sheet); ``attendance_notes`` False keeps the notes to
    what the document itself lacks (a certificate does not list unsigned half-days).
    """
    notes = Notes()
    fmt = Formats(language, session.timezone or "Europe/Paris")
    now = _utc(now)
    training = session.training
    rows = load(session, participant=participant, slot=slot, signatures=signatures)
    slots, images = rows.slots, rows.images
    org = _organization(rows.organization, notes, images)
    columns = [_column(s, rows.states.get(s.id), s.id in rows.paper, fmt, now, notes, images) for s in slots]
    people = [_person(p, e, notes, attendance_notes) for e, p in rows.enrollments.values()]
    people += [_person(p, None, notes, attendance_notes) for p in rows.others]
    people.sort(key=lambda p: p.sort_key)

    by_cell = {(a.participant_id, a.slot_id): a for a in rows.attendances}
    counts: dict[str, int] = defaultdict(int)
    marks: dict[tuple[int, int], Mark] = {}
    attended: dict[int, int] = defaultdict(int)
    if signatures:
        words = Words()
        for person in people:
            for column in columns:
                mark = _mark(by_cell.get((person.id, column.id)), column, fmt, images, counts, words)
                marks[(person.id, column.id)] = mark
                if mark.tone in ("signed", LATE, "paper", "unsigned"):
                    attended[person.id] += mark.minutes
    _summarize(
        notes, columns, people, counts, slots_planned=bool(slots), signatures=signatures and attendance_notes
    )

    facilitators = ", ".join(notes.name(u.full_name) for u in session.facilitators)
    location = ", ".join(
        part
        for part in (
            notes.text(session.location_name, _("The session's location")),
            notes.text(session.location_address, _("The session's location")),
        )
        if part
    )
    if training.modality == REMOTE or (slots and all(s.modality == REMOTE for s in slots)):
        location = _("Remote")
    elif not location:
        location = _("not stated")
    return Facts(
        org=org,
        training={
            "title": notes.text(training.title, _("The training's title")),
            "reference": notes.text(training.reference, _("The training's reference")),
            "nature": training.nature if training.nature in NATURES else TRAINING_ACTION,
            "nature_label": nature_labels().get(training.nature, training.nature),
            "planned_hours": fmt.hours(float(training.planned_hours or 0) * 60),
            "planned_minutes": int(round(float(training.planned_hours or 0) * 60)),
        },
        session={
            "dates": fmt.span(session.start_date, session.end_date),
            "start": fmt.date(session.start_date),
            "end": fmt.date(session.end_date),
            "location": location,
            "facilitators": facilitators or _("not stated"),
            "timezone": session.timezone,
        },
        columns=columns,
        people=people,
        marks=marks,
        attended=dict(attended),
        planned_minutes=sum(c.planned_minutes for c in columns),
        notes=notes,
    )


def _person(p: Participant, enrollment: Enrollment | None, notes: Notes, directory_notes: bool) -> Person:
    from blueprints.participants.services import funder_labels

    name = notes.name(p.full_name)
    if directory_notes and p.archived_at is not None:
        notes.add(_("%(name)s is archived in the directory.", name=name))
    if directory_notes and enrollment is None:
        notes.add(_("%(name)s is no longer enrolled in this session.", name=name))
    return Person(
        id=p.id,
        name=name,
        grid_name=shorten(name, GRID_NAME_CHARS),
        company=notes.text(p.company, _("A participant's company")),
        funder=str(funder_labels().get(enrollment.funder, enrollment.funder)) if enrollment else "",
        reference=notes.text(enrollment.funder_reference, _("A funder's reference")) if enrollment else "",
        archived=p.archived_at is not None,
        enrolled=enrollment is not None,
        sort_key=(p.last_name.casefold(), p.first_name.casefold(), p.id),
    )


def _summarize(notes: Notes, columns, people, counts, *, slots_planned: bool, signatures: bool) -> None:
    if not slots_planned:
        notes.add(_("No half-day is planned for this session."))
        return
    if not people:
        notes.add(_("No participant is enrolled in this session."))
    if not signatures:
        return
    if counts["missing"]:
        notes.add(
            _("%(count)d attendance(s) not recorded for half-days that have ended.", count=counts["missing"])
        )
    if counts["no_image"]:
        notes.add(_("%(count)d signature(s) recorded without their image.", count=counts["no_image"]))
    if counts["unsigned"]:
        notes.add(_("%(count)d presence(s) recorded without a signature.", count=counts["unsigned"]))
    on_paper = [f"{c.day} {c.hours}" for c in columns if c.paper]
    if on_paper:
        notes.add(_("Signed on paper, scan on file: %(slots)s.", slots="; ".join(on_paper)))
    not_off = [f"{c.day} {c.hours}" for c in columns if c.ended and c.signoff is None]
    if not_off:
        notes.add(_("Not signed off by a facilitator: %(slots)s.", slots="; ".join(not_off)))


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

FILE_PREFIXES = {
    SESSION_SHEET: "attendance-sheet",
    PARTICIPANT_SHEET: "participant-sheet",
    SLOT_SHEET: "slot-sheet",
    BLANK_SLOT_SHEET: "blank-slot-sheet",
    CERTIFICATE: "certificate",
}


def ascii_slug(text: str | None, limit: int = 40) -> str:
    """Lower-case ASCII words joined by hyphens: accents dropped, other scripts left out."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:limit].rstrip("-")


def filename_for(kind, *, session, participant=None, slot=None, version: int) -> str:
    """An ASCII file name that says what the document is: kind, training, date, whose, version."""
    _check_subject(kind, participant, slot)
    parts = [FILE_PREFIXES[kind], ascii_slug(session.training.title) or f"session-{session.id}"]
    if slot is not None:
        local = _utc(slot.starts_at).astimezone(ZoneInfo(session.timezone or "Europe/Paris"))
        parts.append(f"{local:%Y-%m-%d-%H%M}")
    else:
        parts.append(f"{session.start_date:%Y-%m-%d}")
    if participant is not None:
        parts.append(ascii_slug(participant.full_name, 30) or f"participant-{participant.id}")
    parts.append(f"v{version}")
    return "-".join(p for p in parts if p) + ".pdf"

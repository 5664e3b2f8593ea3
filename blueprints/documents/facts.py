"""What a document shows, gathered in a few queries (a 60 × 20 sheet runs about ten, not one per cell): the
organization, the training, the half-day columns, the people and their marks, and the notes on what is missing.
Nothing here writes."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from blueprints.accounts.models import Organization
from blueprints.accounts.models import organization as the_organization
from blueprints.documents.models import (
    PaperSheet,
)
from blueprints.documents.pictures import LOGO_BOX, SIGNATURE_BOX, THUMBNAIL_BOX, fit_image, load_blobs
from blueprints.documents.text import (
    GRID_NAME_CHARS,
    REASON_CHARS,
    Formats,
    Notes,
    clean_text,
    method_codes,
    method_label,
    nature_labels,
    shorten,
)
from blueprints.participants.models import Enrollment, Participant
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
from blueprints.trainings.models import NATURES, REMOTE, TRAINING_ACTION, Slot, TrainingSession
from tenants.db import db

logger = logging.getLogger(__name__)


class RenderError(ValueError):
    """A document asked for without what it is about (a slot sheet without its slot…): a caller's mistake."""


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
    logo = fit_image(images[org.logo_blob_id], LOGO_BOX) if org.logo_blob_id in images else None
    signature = None
    if org.representative_signature_blob_id in images:
        signature = fit_image(images[org.representative_signature_blob_id], SIGNATURE_BOX, crop=True)
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
            image=fit_image(image, THUMBNAIL_BOX, crop=True) if image else None,
        )
    return Column(
        id=slot.id,
        day=fmt.date(slot.starts_at, "EEE d MMM y"),
        hours=f"{fmt.time(slot.starts_at)}–{fmt.time(slot.ends_at)}",
        label=notes.text(slot.label, _("A half-day's label")),
        planned_minutes=slot.planned_minutes,
        ended=as_utc(slot.ends_at) <= now,
        paper=paper,
        remote=slot.modality == REMOTE,
        signoff=signoff,
    )


def as_utc(value: datetime) -> datetime:
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
        reason = shorten(clean_text(attendance.reason).strip(), REASON_CHARS)
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
        mark.image = fit_image(blob, THUMBNAIL_BOX, crop=True) if blob else None
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
    return Rows(organization, slots, enrollments, others, attendances, states, paper, load_blobs(blob_ids))


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
    now = as_utc(now)
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

"""What an auditor would reject in a session's attendance, each finding saying why and naming the records.

``of_sessions`` runs every check over a set of sessions at once (a session's page, or the organization's report
over a period) in a fixed number of queries, whatever the number of sessions, slots or trainees. Nothing here
writes: a finding is a question for a person, not a verdict.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from blueprints.documents.models import CERTIFICATE, Document
from blueprints.signing.models import (
    ABSENT,
    EXCUSED,
    FACILITATOR_DEVICE,
    LATE,
    OWN_LINK,
    PAPER,
    PRESENT,
    ROOM_CODE,
    Attendance,
    SlotState,
)
from blueprints.signing.services import GRACE_MINUTES, OPENS_BEFORE_MINUTES
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.trainings.planning import public_holidays
from tenants.db import db, utcnow

HOLIDAY = "holiday"
OUTSIDE_WINDOW = "outside_window"
TWO_PLACES = "two_places"
FACILITATOR_TWO_PLACES = "facilitator_two_places"
OVER_CAPACITY = "over_capacity"
SAME_DEVICE = "same_device"
SAME_IMAGE = "same_image"
SIGNED_ABSENT = "signed_absent"
NO_SIGNOFF = "no_signoff"
CERTIFICATE_HOURS = "certificate_hours"
SAME_TIMES = "same_times"

# What each check finds, and why an auditor would care.
CHECKS = {
    HOLIDAY: (
        _l("Signature on a public holiday"),
        _l(
            "Training rarely happens on a public holiday: an auditor will ask whether the half-day took place."
        ),
    ),
    OUTSIDE_WINDOW: (
        _l("Signature outside the half-day"),
        _l(
            "A trainee's own signature should be given while the half-day is open, not hours before or after it."
        ),
    ),
    TWO_PLACES: (
        _l("Trainee in two places at once"),
        _l("The same trainee is recorded present in two sessions at the same time: one of the two is wrong."),
    ),
    FACILITATOR_TWO_PLACES: (
        _l("Facilitator in two places at once"),
        _l("The same facilitator signed off two sessions' half-days at the same time."),
    ),
    OVER_CAPACITY: (
        _l("More signers than the room holds"),
        _l(
            "More trainees signed than the session's capacity: either the capacity or the attendance is wrong."
        ),
    ),
    SAME_DEVICE: (
        _l("Several trainees signed from one device"),
        _l(
            "Trainees signing on their own links from the same address and browser within a minute look like one "
            "person signing for others, unless the facilitator's device was used (it is recorded as such)."
        ),
    ),
    SAME_IMAGE: (
        _l("Identical signature images"),
        _l("No two hand-drawn signatures are identical to the pixel: an identical image was copied."),
    ),
    SIGNED_ABSENT: (
        _l("Signed while marked absent"),
        _l("A signature and an absence for the same half-day contradict each other."),
    ),
    NO_SIGNOFF: (
        _l("Signatures without the facilitator's sign-off"),
        _l("A sheet is complete once its facilitator has signed it off; this half-day ended without it."),
    ),
    CERTIFICATE_HOURS: (
        _l("Certificate states more hours than attended"),
        _l("A certificate of completion must not state more hours than the trainee attended."),
    ),
    SAME_TIMES: (
        _l("Perfect attendance with identical signing times"),
        _l(
            "Every half-day of a long session signed at exactly the same moment looks filled in afterwards rather "
            "than signed on the day."
        ),
    ),
}

SAME_DEVICE_SECONDS = 60
SIGNOFF_AFTER = timedelta(hours=12)
LONG_SESSION_SLOTS = 6
SELF_SIGNED = (OWN_LINK, ROOM_CODE)


@dataclass
class Finding:
    code: str
    session_id: int
    slot_ids: list[int] = field(default_factory=list)
    participant_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    detail: str = ""

    @property
    def title(self):
        return CHECKS[self.code][0]

    @property
    def why(self):
        return CHECKS[self.code][1]


@dataclass(frozen=True)
class _Mark:
    slot_id: int
    participant_id: int
    status: str
    signed_at: datetime | None
    method: str | None
    sha: str | None
    ip: str | None
    user_agent: str | None
    attended: int


def of_sessions(session_ids: list[int], org, now: datetime | None = None) -> dict[int, list[Finding]]:
    """Every finding of every session of ``session_ids``, by session."""
    now = now or utcnow()
    found: dict[int, list[Finding]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return found
    sessions = {
        s.id: s
        for s in db.session.scalars(select(TrainingSession).where(TrainingSession.id.in_(session_ids)))
    }
    slots = {
        row.id: row
        for row in db.session.execute(
            select(
                Slot.id,
                Slot.session_id,
                Slot.day,
                Slot.starts_at,
                Slot.ends_at,
                SlotState.signed_off_at,
                SlotState.signed_off_by_user_id,
            )
            .outerjoin(SlotState, SlotState.slot_id == Slot.id)
            .where(Slot.session_id.in_(session_ids))
        )
    }
    marks = [
        _Mark(*row)
        for row in db.session.execute(
            select(
                Attendance.slot_id,
                Attendance.participant_id,
                Attendance.status,
                Attendance.signed_at,
                Attendance.method,
                Attendance.signature_sha256,
                Attendance.ip,
                Attendance.user_agent,
                Attendance.attended_minutes,
            )
            .join(Slot, Slot.id == Attendance.slot_id)
            .where(Slot.session_id.in_(session_ids))
        )
    ]
    by_slot: dict[int, list[_Mark]] = defaultdict(list)
    for mark in marks:
        by_slot[mark.slot_id].append(mark)

    def add(code, session_id, **values):
        found[session_id].append(Finding(code, session_id, **values))

    _holidays_and_windows(slots, marks, org, add)
    _capacity_and_devices(slots, sessions, by_slot, add)
    _images(slots, marks, add)
    _signoffs(slots, by_slot, now, add)
    _same_times(slots, marks, sessions, add)
    _two_places(slots, marks, add)
    _certificates(session_ids, marks, slots, add)
    for findings in found.values():
        findings.sort(key=lambda f: (list(CHECKS).index(f.code), f.slot_ids[:1]))
    return found


def _holidays_and_windows(slots, marks, org, add) -> None:
    if not slots:
        return
    days = [s.day for s in slots.values()]
    holidays = public_holidays(min(days), max(days), alsace_moselle=bool(org and org.alsace_moselle))
    for mark in marks:
        slot = slots[mark.slot_id]
        if mark.status not in (PRESENT, LATE) or mark.signed_at is None:
            continue
        if slot.day in holidays:
            add(
                HOLIDAY,
                slot.session_id,
                slot_ids=[slot.id],
                participant_ids=[mark.participant_id],
                detail=holidays[slot.day],
            )
        opens = slot.starts_at - timedelta(minutes=OPENS_BEFORE_MINUTES)
        closes = slot.ends_at + timedelta(minutes=GRACE_MINUTES)
        if mark.method in SELF_SIGNED and not opens <= mark.signed_at <= closes:
            add(OUTSIDE_WINDOW, slot.session_id, slot_ids=[slot.id], participant_ids=[mark.participant_id])


def _capacity_and_devices(slots, sessions, by_slot, add) -> None:
    for slot_id, group in by_slot.items():
        slot = slots[slot_id]
        capacity = sessions[slot.session_id].capacity
        present = [m for m in group if m.status in (PRESENT, LATE)]
        if capacity and len(present) > capacity:
            add(OVER_CAPACITY, slot.session_id, slot_ids=[slot_id], detail=f"{len(present)} / {capacity}")
        devices = defaultdict(list)
        for m in present:
            if m.method in SELF_SIGNED and m.ip and m.signed_at is not None:
                devices[(m.ip, m.user_agent or "")].append(m)
        for group_on_device in devices.values():
            group_on_device.sort(key=lambda m: m.signed_at)
            close = {
                m.participant_id
                for a, b in zip(group_on_device, group_on_device[1:], strict=False)
                if (b.signed_at - a.signed_at).total_seconds() <= SAME_DEVICE_SECONDS
                for m in (a, b)
            }
            if len(close) >= 2:
                add(SAME_DEVICE, slot.session_id, slot_ids=[slot_id], participant_ids=sorted(close))


def _images(slots, marks, add) -> None:
    by_image = defaultdict(list)
    for mark in marks:
        if mark.sha and mark.method != FACILITATOR_DEVICE and mark.method != PAPER:
            by_image[mark.sha].append(mark)
    for group in by_image.values():
        if len(group) >= 2:
            session_id = slots[group[0].slot_id].session_id
            add(
                SAME_IMAGE,
                session_id,
                slot_ids=sorted({m.slot_id for m in group}),
                participant_ids=sorted({m.participant_id for m in group}),
            )


def _signoffs(slots, by_slot, now, add) -> None:
    for slot_id, slot in slots.items():
        group = by_slot.get(slot_id, [])
        for mark in group:
            if mark.status in (ABSENT, EXCUSED) and mark.sha:
                add(SIGNED_ABSENT, slot.session_id, slot_ids=[slot_id], participant_ids=[mark.participant_id])
        signed = [m for m in group if m.sha]
        if signed and slot.signed_off_at is None and slot.ends_at + SIGNOFF_AFTER <= now:
            add(NO_SIGNOFF, slot.session_id, slot_ids=[slot_id], detail=str(len(signed)))


def _same_times(slots, marks, sessions, add) -> None:
    per_session = defaultdict(int)
    for slot in slots.values():
        per_session[slot.session_id] += 1
    offsets = defaultdict(list)
    for mark in marks:
        slot = slots[mark.slot_id]
        if per_session[slot.session_id] < LONG_SESSION_SLOTS:
            continue
        if mark.status in (PRESENT, LATE) and mark.signed_at is not None:
            zone = ZoneInfo(sessions[slot.session_id].timezone)
            start = slot.starts_at.astimezone(zone)
            signed = mark.signed_at.astimezone(zone)
            offsets[(slot.session_id, mark.participant_id)].append(
                int((signed.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds() // 60)
            )
    for (session_id, participant_id), values in offsets.items():
        if len(values) == per_session[session_id] and len(set(values)) == 1:
            add(SAME_TIMES, session_id, participant_ids=[participant_id], detail=str(len(values)))


def _two_places(slots, marks, add) -> None:
    """Overlapping slots of different sessions where the same trainee was present, or the same facilitator signed
    off: two queries for every slot within the period these slots span, then one sweep per person."""
    if not slots:
        return
    start = min(s.starts_at for s in slots.values())
    end = max(s.ends_at for s in slots.values())
    spans = {
        row.id: row
        for row in db.session.execute(
            select(Slot.id, Slot.session_id, Slot.starts_at, Slot.ends_at, SlotState.signed_off_by_user_id)
            .outerjoin(SlotState, SlotState.slot_id == Slot.id)
            .where(Slot.starts_at < end, Slot.ends_at > start)
        )
    }
    trainees = defaultdict(list)
    for slot_id, participant_id in db.session.execute(
        select(Attendance.slot_id, Attendance.participant_id)
        .join(Slot, Slot.id == Attendance.slot_id)
        .where(Slot.starts_at < end, Slot.ends_at > start, Attendance.status.in_((PRESENT, LATE)))
    ):
        trainees[participant_id].append(spans[slot_id])
    facilitators = defaultdict(list)
    for span in spans.values():
        if span.signed_off_by_user_id is not None:
            facilitators[span.signed_off_by_user_id].append(span)
    for code, people, key in (
        (TWO_PLACES, trainees, "participant_ids"),
        (FACILITATOR_TWO_PLACES, facilitators, "user_ids"),
    ):
        for person, own in people.items():
            for first, second in _overlaps(own):
                for slot, other in ((first, second), (second, first)):
                    if slot.id in slots:
                        add(code, slot.session_id, slot_ids=[slot.id, other.id], **{key: [person]})


def _overlaps(spans):
    """Pairs of overlapping spans of different sessions, by a sweep in start order."""
    latest = None
    for span in sorted(spans, key=lambda s: (s.starts_at, s.id)):
        if latest is not None and span.starts_at < latest.ends_at and span.session_id != latest.session_id:
            yield latest, span
        if latest is None or span.ends_at > latest.ends_at:
            latest = span


def _certificates(session_ids, marks, slots, add) -> None:
    attended = defaultdict(int)
    for mark in marks:
        if mark.status in (PRESENT, LATE):
            attended[(slots[mark.slot_id].session_id, mark.participant_id)] += mark.attended
    latest = (
        select(Document.session_id, Document.participant_id, func.max(Document.version).label("version"))
        .where(Document.kind == CERTIFICATE, Document.session_id.in_(session_ids))
        .group_by(Document.session_id, Document.participant_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Document.session_id, Document.participant_id, Document.hours)
        .join(
            latest,
            and_(
                Document.session_id == latest.c.session_id,
                Document.participant_id == latest.c.participant_id,
                Document.version == latest.c.version,
            ),
        )
        .where(Document.kind == CERTIFICATE, Document.hours.is_not(None))
    )
    for session_id, participant_id, hours in rows:
        done = attended[(session_id, participant_id)]
        if float(hours) * 60 > done + 0.5:
            add(
                CERTIFICATE_HOURS,
                session_id,
                participant_ids=[participant_id],
                detail=f"{float(hours):g} h / {done / 60:.2f} h",
            )

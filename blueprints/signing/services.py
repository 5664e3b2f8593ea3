"""Signing: links, windows, signatures, facilitators' marks and sign-off.

Plain functions taking the actor; they flush, the caller commits. Every change is audited in its own
transaction and bumps the slot's live version.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from blueprints.accounts.models import User, organization
from blueprints.audit.services import Actor, record
from blueprints.participants.models import Enrollment, Participant
from blueprints.signing import images, live, roomcodes
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
from blueprints.signing.roster import iso_or_none
from blueprints.trainings.models import IN_PERSON, Slot, TrainingSession
from tenants.db import db, utcnow
from tenants.sql import insert_or_nothing
from tenants.storage import storage

OPENS_BEFORE_MINUTES = 15
GRACE_MINUTES = 30
LINK_GRACE_DAYS = 7

NOT_YET, OPEN, CLOSED, LOCKED = "not_yet", "open", "closed", "locked"


class SigningError(Exception):
    """A refusal the person can understand, with the HTTP status that goes with it."""

    def __init__(self, status: int, message, **context):
        # Kept lazy: translated when shown, in the language of whoever reads it.
        super().__init__(message)
        self.status = status
        self.message = message
        self.context = context


class LinkProblem(SigningError):
    pass


def setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


# --- windows -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    opens_at: datetime
    closes_at: datetime
    status: str

    @property
    def open(self) -> bool:
        return self.status == OPEN


def window(slot: Slot, state: SlotState | None, now: datetime) -> Window:
    opens = slot.starts_at - timedelta(minutes=setting("SIGNING_OPENS_BEFORE_MINUTES", OPENS_BEFORE_MINUTES))
    closes = slot.ends_at + timedelta(minutes=setting("SIGNING_GRACE_MINUTES", GRACE_MINUTES))
    if state is not None and state.closed_at is not None:
        closes = min(closes, state.closed_at)
    if state is not None and state.locked:
        status = LOCKED
    elif now < opens:
        status = NOT_YET
    elif now >= closes:
        status = CLOSED
    else:
        status = OPEN
    return Window(opens, closes, status)


def state_of(slot: Slot, *, lock: str | None = None) -> SlotState:
    """The slot's signing state (made with the slot, blueprints/signing/models.py; here only if one is missing,
    in a transaction that writes). ``lock``: "share" (signing) or "update" (closing)."""
    query = select(SlotState).where(SlotState.slot_id == slot.id).execution_options(populate_existing=True)
    if lock:
        # A signature and the sign-off never cross: sign-off waits for signatures in flight, and a
        # signature that comes after it sees the lock.
        query = query.with_for_update(read=lock == "share")
    state = db.session.scalars(query).first()
    if state is None:
        insert_or_nothing(
            db.session, SlotState, {"slot_id": slot.id, "room_secret": roomcodes.new_secret()}, ["slot_id"]
        )
        state = db.session.scalars(query).one()
    return state


def states_of(slots: list[Slot]) -> dict[int, SlotState]:
    if not slots:
        return {}
    rows = db.session.scalars(select(SlotState).where(SlotState.slot_id.in_([s.id for s in slots])))
    return {state.slot_id: state for state in rows}


def slot_to_sign(session: TrainingSession, now: datetime) -> tuple[Slot | None, Window | None]:
    """The slot open for signing now; else the next one to open; else the last one (closed)."""
    slots = list(session.slots)
    states = states_of(slots)
    windows = [(slot, window(slot, states.get(slot.id), now)) for slot in slots]
    for slot, win in windows:
        if win.open:
            return slot, win
    for slot, win in windows:
        if win.status == NOT_YET:
            return slot, win
    return windows[-1] if windows else (None, None)


def room_code_needed(slot: Slot) -> bool:
    return slot.modality == IN_PERSON and bool(slot.session.room_code_required)


def room_code(slot: Slot, now: datetime) -> str:
    return roomcodes.current_code(state_of(slot).room_secret, slot.id, now)


# --- attendance ----------------------------------------------------------------------------------------------


def is_enrolled(session: TrainingSession, participant: Participant) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(Enrollment.session_id == session.id, Enrollment.participant_id == participant.id)
        )
        > 0
    )


def tolerance() -> int:
    org = organization()
    return org.late_tolerance_minutes if org else 10


def _minutes(delta: timedelta) -> int:
    return max(0, math.floor(delta.total_seconds() / 60))


def compute_times(attendance: Attendance, slot: Slot, late_tolerance: int) -> None:
    """Status and minutes from the arrival and departure times. Attended = planned − late − early."""
    planned = slot.planned_minutes
    if attendance.status in (ABSENT, EXCUSED):
        attendance.late_minutes = attendance.early_minutes = attendance.attended_minutes = 0
        return
    arrival = attendance.arrived_at or attendance.signed_at
    after_start = _minutes(arrival - slot.starts_at) if arrival else 0
    if after_start > late_tolerance:
        attendance.status, attendance.late_minutes = LATE, min(after_start, planned)
    else:
        attendance.status, attendance.late_minutes = PRESENT, 0
    attendance.early_minutes = (
        min(_minutes(slot.ends_at - attendance.left_at), planned) if attendance.left_at else 0
    )
    attendance.attended_minutes = max(0, planned - attendance.late_minutes - attendance.early_minutes)


def attendance_of(slot: Slot, participant_id: int) -> Attendance | None:
    return db.session.scalars(
        select(Attendance)
        .where(Attendance.slot_id == slot.id, Attendance.participant_id == participant_id)
        .execution_options(populate_existing=True)
    ).first()


@dataclass(frozen=True)
class Signed:
    attendance: Attendance
    created: bool  # False: this signature was already recorded (a double tap, a second tab)


def sign(
    slot: Slot,
    participant: Participant,
    image: bytes,
    actor: Actor,
    *,
    method: str,
    code: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> Signed:
    """Record ``participant``'s signature for ``slot``: once, whatever the number of submits."""
    now = now or utcnow()
    session = slot.session
    if participant.processing_restricted:
        raise SigningError(
            403,
            _l(
                "Your organization has restricted the use of your data: you cannot be asked to sign. Speak to your facilitator."
            ),
        )
    if not is_enrolled(session, participant):
        raise SigningError(404, _l("You are not enrolled in this session."))
    state = state_of(slot, lock="share")
    existing = attendance_of(slot, participant.id)
    if existing is not None and existing.signed:
        return Signed(existing, False)
    win = window(slot, state, now)
    if win.status == LOCKED:
        raise SigningError(409, _l("The facilitator has signed this slot off: it can no longer be signed."))
    if win.status == NOT_YET:
        raise SigningError(
            409, _l("Signing for this slot opens at %(time)s.", time=_local(win.opens_at, session))
        )
    if win.status == CLOSED:
        raise SigningError(409, _l("Signing for this slot is closed."))
    if method in (OWN_LINK, ROOM_CODE):
        if room_code_needed(slot):
            if not roomcodes.is_valid(state.room_secret, slot.id, code, now):
                raise SigningError(
                    422,
                    _l(
                        "This room code is not valid, or no longer: codes change every 30 seconds. Scan or type the code shown in the room now."
                    ),
                    field="code",
                )
            method = ROOM_CODE
        else:
            method = OWN_LINK
    try:
        checked = images.check(image)
    except images.ImageProblem as problem:
        raise SigningError(422, problem.message) from problem
    sha = hashlib.sha256(checked.data).hexdigest()
    evidence = dict(
        signed_at=now,
        method=method,
        signature_sha256=sha,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:400] or None,
        language=(language or actor.language or "")[:40] or None,
        recorded_by_user_id=actor.user_id if method == FACILITATOR_DEVICE else None,
        updated_at=now,
    )
    blobs = storage()
    stored = [
        blobs.put(checked.data, content_type="image/png", filename="signature.png"),
        blobs.put(images.thumbnail(checked), content_type="image/png", filename="signature-thumb.png"),
    ]
    evidence.update(signature_blob_id=int(stored[0].key), thumbnail_blob_id=int(stored[1].key))
    late_tolerance = tolerance()
    # Status and minutes worked out on a transient row, so the new row goes in with one statement.
    draft = Attendance(slot_id=slot.id, participant_id=participant.id, status=PRESENT, **evidence)
    compute_times(draft, slot, late_tolerance)
    times = {k: getattr(draft, k) for k in ("status", "late_minutes", "early_minutes", "attended_minutes")}
    # The unique constraint decides between two submits at once, not a check before the insert.
    attendance = insert_or_nothing(
        db.session,
        Attendance,
        dict(slot_id=slot.id, participant_id=participant.id, created_at=now, **times, **evidence),
        ["slot_id", "participant_id"],
        returning_row=True,
    )
    if attendance is None:
        # A row without a signature (marked by the facilitator) takes it; a signed one stays as it is.
        won = db.session.execute(
            update(Attendance)
            .where(
                Attendance.slot_id == slot.id,
                Attendance.participant_id == participant.id,
                Attendance.signature_sha256.is_(None),
            )
            .values(status=PRESENT, reason=None, **evidence)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            # Another submit got there first: its record stands, and this one leaves nothing behind.
            for blob in stored:
                blobs.delete(blob.key)
            return Signed(attendance_of(slot, participant.id), False)
        attendance = attendance_of(slot, participant.id)
        compute_times(attendance, slot, late_tolerance)  # the facilitator's arrival or departure counts
        db.session.flush()
    record(
        actor,
        "attendance.signed",
        attendance,
        slot_id=slot.id,
        participant_id=participant.id,
        method=method,
        status=attendance.status,
        late_minutes=attendance.late_minutes,
        sha256=sha,
    )
    live.touch(slot.id)
    return Signed(attendance, True)


MARKS = ("absent", "excused", "arrival", "departure", "paper", "clear_departure")


def mark(
    slot: Slot,
    participant: Participant,
    what: str,
    actor: Actor,
    user: User,
    *,
    reason: str | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Attendance:
    """A facilitator's record: absent, excused (with a reason), late arrival or early departure (with the
    time), present on paper. After the sign-off only an admin changes a slot, with a reason kept in the audit."""
    now = now or utcnow()
    if what not in MARKS:
        raise SigningError(400, _l("Unknown action."))
    if not is_enrolled(slot.session, participant):
        raise SigningError(404, _l("This participant is not enrolled in this session."))
    state = state_of(slot, lock="update")
    reason = (reason or "").strip() or None
    if state.locked:
        if not user.is_admin:
            raise SigningError(403, _l("This slot is signed off: only an administrator can change it."))
        if not reason:
            raise SigningError(422, _l("Give the reason for changing a signed-off slot."))
    if what == "excused" and not reason:
        raise SigningError(422, _l("Give the reason for the excused absence."))
    if what in ("arrival", "departure") and at is None:
        raise SigningError(422, _l("Give the time."))
    if at is not None and not (slot.starts_at <= at <= slot.ends_at):
        raise SigningError(422, _l("The time must be within the slot."))
    insert_or_nothing(
        db.session,
        Attendance,
        dict(
            slot_id=slot.id,
            participant_id=participant.id,
            status=ABSENT,
            created_at=now,
            updated_at=now,
            late_minutes=0,
            early_minutes=0,
            attended_minutes=0,
        ),
        ["slot_id", "participant_id"],
    )
    attendance = attendance_of(slot, participant.id)
    before = {
        "status": attendance.status,
        "arrived_at": iso_or_none(attendance.arrived_at),
        "left_at": iso_or_none(attendance.left_at),
    }
    if what in ("absent", "excused"):
        if attendance.signed:
            raise SigningError(409, _l("This participant signed: record an early departure instead."))
        attendance.status = ABSENT if what == "absent" else EXCUSED
        attendance.reason = reason
        attendance.arrived_at = attendance.left_at = None
    elif what == "arrival":
        attendance.arrived_at = at
        if attendance.status in (ABSENT, EXCUSED):
            attendance.status = PRESENT
    elif what == "departure":
        if attendance.status in (ABSENT, EXCUSED):
            raise SigningError(409, _l("Record the arrival or the signature first."))
        attendance.left_at = at
    elif what == "clear_departure":
        attendance.left_at = None
    elif what == "paper":
        if attendance.signed:
            raise SigningError(409, _l("This participant already signed."))
        attendance.status, attendance.method, attendance.reason = PRESENT, PAPER, reason
        attendance.signed_at = attendance.signed_at or now
        attendance.recorded_by_user_id = user.id
    compute_times(attendance, slot, tolerance())
    attendance.updated_at = now
    db.session.flush()
    details = dict(
        slot_id=slot.id,
        participant_id=participant.id,
        mark=what,
        before=before,
        status=attendance.status,
        arrived_at=iso_or_none(attendance.arrived_at),
        left_at=iso_or_none(attendance.left_at),
        reason=reason,
    )
    if state.locked:
        details["after_sign_off"] = True
    record(
        actor,
        "attendance.changed_after_sign_off" if state.locked else f"attendance.{what}",
        attendance,
        **details,
    )
    live.touch(slot.id)
    return attendance


def _local(value: datetime, session: TrainingSession) -> str:
    """A time for a message, in the session's zone and the scope's language."""
    from blueprints.web.i18n import local_datetime

    return local_datetime(value, "short", tz=session.timezone)

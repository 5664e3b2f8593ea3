"""Closing a half-day: the facilitator's sign-off (their drawn signature, once), and which half-days hold
records or signatures."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.audit.services import Actor, record
from blueprints.participants.models import Enrollment
from blueprints.signing import images, live
from blueprints.signing.models import (
    ABSENT,
    Attendance,
    SlotState,
)
from blueprints.signing.services import SigningError, state_of
from blueprints.trainings.models import Slot
from tenants.db import db, utcnow
from tenants.sql import insert_or_nothing
from tenants.storage import storage


def close_slot(slot: Slot, actor: Actor, *, now: datetime | None = None) -> None:
    state = state_of(slot, lock="update")
    if state.closed_at is None:
        state.closed_at = now or utcnow()
        state.closed_by_user_id = actor.user_id
        db.session.flush()
        record(actor, "slot.signing_closed", object_type="slots", object_id=slot.id)
        live.touch(slot.id)


def sign_off(slot: Slot, image: bytes, user: User, actor: Actor, *, now: datetime | None = None) -> SlotState:
    """The facilitator signs the slot: it locks. Who has not signed is recorded absent."""
    now = now or utcnow()
    if now < slot.starts_at:
        raise SigningError(409, _l("A slot can be signed off once it has started."))
    state = state_of(slot, lock="update")
    if state.locked:
        raise SigningError(409, _l("This slot is already signed off."))
    try:
        checked = images.check(image)
    except images.ImageProblem as problem:
        raise SigningError(422, problem.message) from problem
    blob = storage().put(checked.data, content_type="image/png", filename="facilitator-signature.png")
    enrolled = db.session.scalars(
        select(Enrollment.participant_id).where(Enrollment.session_id == slot.session_id)
    ).all()
    recorded = set(db.session.scalars(select(Attendance.participant_id).where(Attendance.slot_id == slot.id)))
    missing = [pid for pid in enrolled if pid not in recorded]
    for pid in missing:
        insert_or_nothing(
            db.session,
            Attendance,
            dict(
                slot_id=slot.id,
                participant_id=pid,
                status=ABSENT,
                created_at=now,
                updated_at=now,
                late_minutes=0,
                early_minutes=0,
                attended_minutes=0,
                recorded_by_user_id=user.id,
            ),
            ["slot_id", "participant_id"],
        )
    state.closed_at = state.closed_at or now
    state.signed_off_at = now
    state.signed_off_by_user_id = user.id
    state.signed_off_by_name = user.full_name
    state.signature_blob_id = int(blob.key)
    state.signature_sha256 = blob.sha256
    db.session.flush()
    record(
        actor,
        "slot.signed_off",
        object_type="slots",
        object_id=slot.id,
        sha256=blob.sha256,
        marked_absent=missing,
    )
    live.touch(slot.id)
    return state


def recorded_slot_ids(slot_ids: list[int]) -> set[int]:
    """Which of these slots hold any attendance (signed or marked) or a sign-off: they cannot be removed."""
    if not slot_ids:
        return set()
    found = set(
        db.session.scalars(select(Attendance.slot_id).where(Attendance.slot_id.in_(slot_ids)).distinct())
    )
    found |= set(
        db.session.scalars(
            select(SlotState.slot_id).where(
                SlotState.slot_id.in_(slot_ids), SlotState.signed_off_at.is_not(None)
            )
        )
    )
    return found


def signed_slot_ids(slot_ids: list[int]) -> set[int]:
    """Which of these slots hold a signature or a sign-off: evidence that must never vanish silently."""
    if not slot_ids:
        return set()
    signed = set(
        db.session.scalars(
            select(Attendance.slot_id).where(
                Attendance.slot_id.in_(slot_ids), Attendance.signature_sha256.is_not(None)
            )
        )
    )
    signed |= set(
        db.session.scalars(
            select(SlotState.slot_id).where(
                SlotState.slot_id.in_(slot_ids), SlotState.signed_off_at.is_not(None)
            )
        )
    )
    return signed

"""Reminders and summaries, run every minute by the schedule: a reminder before a half-day to those who have not
signed yet, one to those late, and the facilitator's summary when a half-day ends. Each is written once (a dedupe
key per person and half-day), however often the sweep runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel import dates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blueprints.accounts.models import Organization, organization
from blueprints.audit.services import Actor
from blueprints.messages.models import Message
from blueprints.messages.outreach import (
    REMINDER_BEFORE,
    REMINDER_LATE,
    SLOT_SUMMARY,
    SUMMARY_WINDOW,
    invited_ids,
    language_of,
    preference_of,
    queue_for,
    reach,
    session_context,
    sign_url,
)
from blueprints.messages.services import N_, queue_email
from blueprints.participants.models import Participant
from blueprints.signing import roster
from blueprints.signing import services as signing
from blueprints.signing.models import ABSENT, EXCUSED, LATE, PRESENT, Attendance, SlotState
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.web.i18n import date_locale
from blueprints.web.urls import external_url
from tenants import TenantRef
from tenants.db import db, utcnow
from tenants.work import declare

logger = logging.getLogger(__name__)


# --- periodic: reminders and summaries ---------------------------------------------------------------------


@dataclass
class Sweep:
    before: int = 0
    late: int = 0
    summaries: int = 0


def _slots_between(start_after: datetime, start_before: datetime) -> list[Slot]:
    return list(
        db.session.scalars(
            select(Slot)
            .join(TrainingSession, TrainingSession.id == Slot.session_id)
            .where(
                Slot.starts_at > start_after,
                Slot.starts_at <= start_before,
                TrainingSession.archived_at.is_(None),
            )
            .order_by(Slot.starts_at, Slot.id)
        )
    )


def _recorded(slot: Slot) -> set[int]:
    """Participants with any attendance for ``slot``: signed, or marked (absent, excused…) by the facilitator."""
    return set(db.session.scalars(select(Attendance.participant_id).where(Attendance.slot_id == slot.id)))


def _existing_keys(keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(db.session.scalars(select(Message.dedupe_key).where(Message.dedupe_key.in_(keys))))


def _remind(
    slot: Slot, kind: str, template: str, subject: str, preference: str, actor: Actor, tenant: TenantRef
) -> int:
    """One reminder per participant and channel for ``slot``, to those enrolled, invited, reachable and not
    recorded: a reminder never comes before the invitation that says who is writing and why."""
    session = slot.session
    recorded, invited = _recorded(slot), invited_ids(session)
    planned = []
    for participant in roster.roster_of_session(session):
        if participant.id in recorded or participant.id not in invited:
            continue
        found = reach(participant, preference)
        for ch in found.channels:
            planned.append((participant, ch, f"{kind}:{slot.id}:{participant.id}:{ch}"))
    # Rendering is skipped for reminders already written by an earlier run; the unique key still decides.
    done = _existing_keys([key for _, _, key in planned])
    written = 0
    for participant, ch, key in planned:
        if key in done:
            continue
        link = sign_url(session, participant, actor, tenant=tenant, reissue=False)
        if link is None:
            continue
        context = {
            **session_context(session),
            "slot_label": slot.label,
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "link": link,
        }
        message = queue_for(
            template,
            ch,
            participant,
            subject=subject,
            context=context,
            session=session,
            slot=slot,
            dedupe_key=key,
            tenant=tenant,
        )
        written += message is not None
    return written


def _slot_open(slot: Slot, now: datetime) -> bool:
    state = db.session.scalars(select(SlotState).where(SlotState.slot_id == slot.id)).first()
    return signing.window(slot, state, now).open


def remind_before(now: datetime, actor: Actor, tenant: TenantRef) -> int:
    """``reminder_before_minutes`` before each slot, to everyone expected. Not after the start: a reminder
    whose moment passed while the app was down is not sent late."""
    org = organization()
    minutes = org.reminder_before_minutes if org else 0
    if not minutes:
        return 0
    sent = 0
    for slot in _slots_between(now, now + timedelta(minutes=minutes)):
        sent += _remind(
            slot,
            "remind-before",
            REMINDER_BEFORE,
            N_("%(training)s starts soon: sign your attendance"),
            preference_of(org),
            actor,
            tenant,
        )
    return sent


def remind_late(now: datetime, actor: Actor, tenant: TenantRef) -> int:
    """``reminder_after_minutes`` after each slot's start, to those not recorded yet, while signing is open."""
    org = organization()
    minutes = org.reminder_after_minutes if org else 0
    if not minutes:
        return 0
    sent = 0
    latest_start = now - timedelta(minutes=minutes)
    # Slots that started at least ``minutes`` ago and have not ended yet (their window says if still open).
    candidates = db.session.scalars(
        select(Slot)
        .join(TrainingSession, TrainingSession.id == Slot.session_id)
        .where(Slot.starts_at <= latest_start, Slot.ends_at > now, TrainingSession.archived_at.is_(None))
        .order_by(Slot.starts_at, Slot.id)
    ).all()
    for slot in candidates:
        if not _slot_open(slot, now):
            continue
        sent += _remind(
            slot,
            "remind-late",
            REMINDER_LATE,
            N_("%(training)s has started: you have not signed yet"),
            preference_of(org),
            actor,
            tenant,
        )
    return sent


@dataclass(frozen=True)
class SlotSummary:
    slot: Slot
    present: list[Participant]
    late: list[tuple[Participant, int]]
    absent: list[Participant]
    excused: list[tuple[Participant, str | None]]
    not_recorded: list[Participant]


def slot_summary(slot: Slot) -> SlotSummary:
    lines = roster.roster(slot)
    present, late, absent, excused, missing = [], [], [], [], []
    for line in lines:
        attendance = line.attendance
        if attendance is None:
            missing.append(line.participant)
        elif attendance.status == PRESENT:
            present.append(line.participant)
        elif attendance.status == LATE:
            late.append((line.participant, attendance.late_minutes))
        elif attendance.status == ABSENT:
            absent.append(line.participant)
        elif attendance.status == EXCUSED:
            excused.append((line.participant, attendance.reason))
    return SlotSummary(slot, present, late, absent, excused, missing)


def send_summaries(now: datetime, tenant: TenantRef) -> int:
    """The end-of-slot summary to each facilitator of the session, once, in the hours after the slot ends."""
    org = organization()
    if org is None or not org.slot_summary:
        return 0
    slots = db.session.scalars(
        select(Slot)
        .join(TrainingSession, TrainingSession.id == Slot.session_id)
        .where(
            Slot.ends_at <= now,
            Slot.ends_at > now - SUMMARY_WINDOW,
            TrainingSession.archived_at.is_(None),
        )
        .order_by(Slot.ends_at, Slot.id)
    ).all()
    sent = 0
    for slot in slots:
        people = [u for u in slot.session.facilitators if u.active and u.email]
        keys = {u.id: f"slot-summary:{slot.id}:{u.id}" for u in people}
        done = _existing_keys(list(keys.values()))
        todo = [u for u in people if keys[u.id] not in done]
        if not todo:
            continue
        summary = slot_summary(slot)
        for user in todo:
            language = language_of(user, tenant)
            message = queue_email(
                SLOT_SUMMARY,
                tenant=tenant,
                to=user.email,
                name=user.full_name,
                language=language,
                subject=N_("%(training)s: attendance of %(when)s"),
                context={
                    **session_context(slot.session),
                    "when": _when(slot, language),
                    "slot_label": slot.label,
                    "starts_at": slot.starts_at,
                    "ends_at": slot.ends_at,
                    "summary": summary,
                    "live_url": external_url("signing.slot_live", slot_id=slot.id),
                },
                user_id=user.id,
                session_id=slot.session_id,
                slot_id=slot.id,
                dedupe_key=keys[user.id],
            )
            sent += message is not None
    return sent


def _when(slot: Slot, language: str) -> str:
    """The slot's start, in its session's timezone, the way the recipient reads times."""
    return dates.format_datetime(
        slot.starts_at, "short", tzinfo=ZoneInfo(slot.session.timezone), locale=date_locale(language)
    )


def next_reminders(session: Session, now: datetime) -> datetime | None:
    """When the tenant of ``session`` next has reminders or summaries to look at: from the reminder lead
    before the first half-day that has not ended, while it runs, and at its end (its summary); then the next
    one. Nothing when the organization sends none of them."""
    org = session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()
    if org is None or not (org.reminder_before_minutes or org.reminder_after_minutes or org.slot_summary):
        return None
    start = session.scalar(
        select(func.min(Slot.starts_at))
        .join(TrainingSession, TrainingSession.id == Slot.session_id)
        .where(Slot.ends_at > now, TrainingSession.archived_at.is_(None))
    )
    if start is None:
        return None
    return start - timedelta(minutes=org.reminder_before_minutes or 0)


REMINDERS = declare(
    "reminders",
    {Slot.__tablename__, TrainingSession.__tablename__, Organization.__tablename__},
    next_reminders,
)


def run_periodic(tenant: TenantRef, now: datetime | None = None) -> Sweep:
    """What is due at ``now`` in ``tenant``: reminders before and after each start, summaries."""
    now = now or utcnow()
    actor = Actor.system("reminders")
    return Sweep(
        before=remind_before(now, actor, tenant),
        late=remind_late(now, actor, tenant),
        summaries=send_summaries(now, tenant),
    )

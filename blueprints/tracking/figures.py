"""Attendance figures from plain values: what a cell of the grid shows, and a trainee's figures in a session.

The rules, the same on every page and in every export:

- a slot is *past* once it has ended; its minutes are planned for each trainee enrolled;
- present or late: the trainee attended the slot's minutes less lateness and early departure (as signing
  computed them);
- absent counts only once the facilitator has signed the slot off: before that, a past slot without a
  presence is "not signed" (someone may still record it), a slot not over is "planned";
- excused: an absence whose justification an admin accepted; it counts as a justified absence, never as time
  attended;
- a rate is attended minutes over planned minutes, as a whole percent rounded down (it never overstates
  attendance): over past slots, and over every planned slot;
- the threshold can no longer be reached when even attending every minute still open would leave the rate over
  every planned slot under it.

Nothing here reads the database: ``loading.py`` gathers the rows, the pages and exports call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from blueprints.signing.models import ABSENT, EXCUSED, LATE, PRESENT

NOT_SIGNED = "not_signed"
PLANNED = "planned"
CELL_STATES = (PRESENT, LATE, ABSENT, EXCUSED, NOT_SIGNED, PLANNED)


@dataclass(frozen=True)
class SlotFacts:
    id: int
    session_id: int
    day: date
    starts_at: datetime
    ends_at: datetime
    signed_off: bool

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def past(self, now: datetime) -> bool:
        return self.ends_at <= now


@dataclass(frozen=True)
class Mark:
    """An attendance row, as tracking needs it."""

    status: str
    attended_minutes: int = 0
    late_minutes: int = 0
    early_minutes: int = 0
    signed: bool = False


def cell(slot: SlotFacts, mark: Mark | None, now: datetime) -> str:
    if mark is not None and mark.status in (PRESENT, LATE, EXCUSED):
        return mark.status
    if slot.signed_off:
        return ABSENT
    return NOT_SIGNED if slot.past(now) else PLANNED


def rate(attended: int, planned: int) -> int | None:
    """Attended over planned, a whole percent rounded down; None when nothing is planned."""
    return attended * 100 // planned if planned > 0 else None


@dataclass
class Figures:
    threshold: int
    planned_slots: int = 0
    past_slots: int = 0
    signed_slots: int = 0
    planned_minutes: int = 0
    past_minutes: int = 0
    attended_minutes: int = 0
    open_minutes: int = 0  # not over, or over but not signed off without a presence: may still be attended
    late_count: int = 0
    late_minutes: int = 0
    early_count: int = 0
    early_minutes: int = 0
    justified: int = 0
    unjustified: int = 0
    not_signed: int = 0
    streak: int = 0  # unjustified absences in a row, up to the latest slot signed off
    states: list[str] = field(default_factory=list)  # one per slot, in order

    @property
    def rate_past(self) -> int | None:
        return rate(self.attended_minutes, self.past_minutes)

    @property
    def rate_planned(self) -> int | None:
        return rate(self.attended_minutes, self.planned_minutes)

    @property
    def reachable(self) -> bool:
        if self.planned_minutes == 0:
            return True
        return (self.attended_minutes + self.open_minutes) * 100 >= self.threshold * self.planned_minutes

    @property
    def hours_attended(self) -> float:
        return self.attended_minutes / 60

    @property
    def hours_planned(self) -> float:
        return self.planned_minutes / 60

    def at_risk(self, consecutive: int) -> list[str]:
        """Why the trainee is at risk (empty: not at risk): "unreachable", "streak", "below"."""
        reasons = []
        if not self.reachable:
            reasons.append("unreachable")
        if consecutive > 0 and self.streak >= consecutive:
            reasons.append("streak")
        if self.rate_past is not None and self.rate_past < self.threshold:
            reasons.append("below")
        return reasons


def figures(slots: Iterable[SlotFacts], marks: dict[int, Mark], now: datetime, threshold: int) -> Figures:
    """One trainee's figures over ``slots`` (in time order), their marks by slot id."""
    result = Figures(threshold=threshold)
    for slot in slots:
        mark = marks.get(slot.id)
        state = cell(slot, mark, now)
        result.states.append(state)
        result.planned_slots += 1
        result.planned_minutes += slot.minutes
        if slot.past(now):
            result.past_slots += 1
            result.past_minutes += slot.minutes
        if state in (PRESENT, LATE):
            result.attended_minutes += mark.attended_minutes
            result.signed_slots += 1 if mark.signed else 0
            if mark.late_minutes:
                result.late_count += 1
                result.late_minutes += mark.late_minutes
            if mark.early_minutes:
                result.early_count += 1
                result.early_minutes += mark.early_minutes
            if slot.signed_off:
                result.streak = 0
        elif state == EXCUSED:
            result.justified += 1
        elif state == ABSENT:
            result.unjustified += 1
            result.streak += 1
        else:
            result.open_minutes += slot.minutes
            result.not_signed += 1 if state == NOT_SIGNED else 0
    return result


def slot_rate(slot: SlotFacts, marks: Iterable[Mark | None], enrolled: int, now: datetime) -> int | None:
    """A past slot's rate over its enrolled trainees (None before it ends, or with nobody enrolled)."""
    if not slot.past(now) or enrolled == 0:
        return None
    attended = sum(m.attended_minutes for m in marks if m is not None and m.status in (PRESENT, LATE))
    return rate(attended, slot.minutes * enrolled)


# --- what a funder is told -----------------------------------------------------------------------------------

ABSENCE, DROPOUT, INTERRUPTION = "absence", "dropout", "interruption"
PARTIAL_REASONS = (ABSENCE, DROPOUT, INTERRUPTION)
FULL, PRO_RATA, QUARTER = "full", "pro_rata", "quarter"


@dataclass(frozen=True)
class Completion:
    planned_minutes: int
    attended_minutes: int
    rate: int | None
    reason: str | None  # why the completion is partial: absence, dropout, interruption (None: complete)
    force_majeure: bool
    band: str | None  # the CPF payment band, an estimate: full, pro_rata, quarter

    @property
    def minutes_not_done(self) -> int:
        return max(0, self.planned_minutes - self.attended_minutes)


def cpf_band(completion_rate: int | None, force_majeure: bool) -> str | None:
    """The CPF payment, as an estimate: under 25 % a quarter of the price, from 25 to 80 % pro rata, 80 % and
    over the full price; under force majeure, pro rata of what was done."""
    if completion_rate is None:
        return None
    if completion_rate >= 80:
        return FULL
    if force_majeure or completion_rate >= 25:
        return PRO_RATA
    return QUARTER


def completion(result: Figures, *, force_majeure: bool, interrupted: bool) -> Completion:
    """A trainee's completion as CPF declares it: over every planned slot (the sum of the session's slots, not
    the training's nominal hours). Partial because the organization interrupted the session (a slot signed off
    with nobody present), because the trainee dropped out (absent from every slot since some point, to the
    end), or because of their absences."""
    value = rate(result.attended_minutes, result.planned_minutes)
    reason = None
    if value is not None and value < 100:
        if interrupted:
            reason = INTERRUPTION
        elif _dropped_out(result.states):
            reason = DROPOUT
        else:
            reason = ABSENCE
    return Completion(
        planned_minutes=result.planned_minutes,
        attended_minutes=result.attended_minutes,
        rate=value,
        reason=reason,
        force_majeure=force_majeure,
        band=cpf_band(value, force_majeure),
    )


def _dropped_out(states: list[str]) -> bool:
    """Absent (or excused) from the last two slots signed off and every one after, having attended before."""
    closed = [s for s in states if s not in (PLANNED, NOT_SIGNED)]
    if len(closed) < 3 or closed[-1] in (PRESENT, LATE) or PRESENT not in closed and LATE not in closed:
        return False
    trailing = 0
    for state in reversed(closed):
        if state in (PRESENT, LATE):
            break
        trailing += 1
    return trailing >= 2 and len(closed) == len(states)

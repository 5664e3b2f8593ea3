"""Half-day slots planned from a session's dates: pure functions, no database.

Local times are the organization's half-days in the session's own timezone; what is stored is UTC, so a session
across a daylight-saving change keeps its 09:00 while its UTC times move by an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from blueprints.trainings.models import AFTERNOON, IN_PERSON, MORNING, REMOTE

# Alsace and Moselle keep two more public holidays (Good Friday, 26 December); any of their departments
# gives the same calendar.
ALSACE_MOSELLE = "57"
WEEKEND = "weekend"
HOLIDAY = "holiday"
# Generating more than this is a typing mistake, not a training.
MAX_DAYS = 400


@dataclass(frozen=True)
class HalfDays:
    morning_start: time
    morning_end: time
    afternoon_start: time
    afternoon_end: time

    @classmethod
    def of(cls, organization) -> HalfDays:
        return cls(
            organization.morning_start,
            organization.morning_end,
            organization.afternoon_start,
            organization.afternoon_end,
        )


@dataclass(frozen=True)
class PlannedSlot:
    day: date
    kind: str
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    modality: str


@dataclass(frozen=True)
class SkippedDay:
    day: date
    reason: str  # WEEKEND or HOLIDAY
    holiday: str | None = None  # its name, in the language asked for


def to_utc(day: date, at: time, tz: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def slot_modality(training_modality: str) -> str:
    """A blended training meets in person unless a slot says otherwise."""
    return REMOTE if training_modality == REMOTE else IN_PERSON


def _holiday_language(language: str) -> str:
    return "fr" if language.startswith("fr") else "en_US"


@lru_cache(maxsize=64)
def _calendar(years: tuple[int, ...], alsace_moselle: bool, language: str):
    return holidays.France(
        years=years, subdiv=ALSACE_MOSELLE if alsace_moselle else None, language=_holiday_language(language)
    )


def public_holidays(start: date, end: date, *, alsace_moselle: bool = False, language: str = "en") -> dict:
    """French public holidays between ``start`` and ``end`` (inclusive): {date: name}."""
    calendar = _calendar(tuple(range(start.year, end.year + 1)), alsace_moselle, language)
    return {day: name for day, name in calendar.items() if start <= day <= end}


def days(start: date, end: date):
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def plan(
    start: date,
    end: date,
    *,
    tz: str,
    half_days: HalfDays,
    training_modality: str,
    include_holidays: bool = False,
    alsace_moselle: bool = False,
    language: str = "en",
) -> tuple[list[PlannedSlot], list[SkippedDay]]:
    """The morning and afternoon of each working day from ``start`` to ``end``, and the days left out, with why."""
    if end < start:
        raise ValueError("end before start")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValueError("too many days")
    closed = public_holidays(start, end, alsace_moselle=alsace_moselle, language=language)
    modality = slot_modality(training_modality)
    planned: list[PlannedSlot] = []
    skipped: list[SkippedDay] = []
    for day in days(start, end):
        if not include_holidays:
            if day.weekday() >= 5:
                skipped.append(SkippedDay(day, WEEKEND))
                continue
            if day in closed:
                skipped.append(SkippedDay(day, HOLIDAY, closed[day]))
                continue
        for kind, begins, ends in (
            (MORNING, half_days.morning_start, half_days.morning_end),
            (AFTERNOON, half_days.afternoon_start, half_days.afternoon_end),
        ):
            planned.append(PlannedSlot(day, kind, to_utc(day, begins, tz), to_utc(day, ends, tz), modality))
    return planned, skipped


def why_closed(day: date, *, language: str = "en") -> SkippedDay | None:
    """Why nobody works on ``day``, if nobody does: a weekend or a public holiday (Alsace-Moselle's included)."""
    if day.weekday() >= 5:
        return SkippedDay(day, WEEKEND)
    name = public_holidays(day, day, alsace_moselle=True, language=language).get(day)
    return SkippedDay(day, HOLIDAY, name) if name else None


__all__ = [
    "ALSACE_MOSELLE",
    "HOLIDAY",
    "HalfDays",
    "MAX_DAYS",
    "PlannedSlot",
    "SkippedDay",
    "WEEKEND",
    "days",
    "local",
    "plan",
    "public_holidays",
    "slot_modality",
    "to_utc",
    "why_closed",
]

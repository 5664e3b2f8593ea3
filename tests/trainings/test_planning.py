"""Slot planning and identifier checks: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from blueprints.settings.services import siret_valid
from blueprints.trainings.planning import HOLIDAY, WEEKEND, HalfDays, plan, why_closed

HALF_DAYS = HalfDays(time(9), time(12, 30), time(13, 30), time(17))


def _plan(start, end, **options):
    options.setdefault("tz", "Europe/Paris")
    options.setdefault("training_modality", "in_person")
    return plan(start, end, half_days=HALF_DAYS, **options)


def test_weekends_are_skipped():
    planned, skipped = _plan(date(2028, 3, 6), date(2028, 3, 12))  # Monday to Sunday, no holiday
    assert len(planned) == 10
    assert {p.day.weekday() for p in planned} == {0, 1, 2, 3, 4}
    assert [(s.day, s.reason) for s in skipped] == [
        (date(2028, 3, 11), WEEKEND),
        (date(2028, 3, 12), WEEKEND),
    ]
    assert [p.kind for p in planned[:2]] == ["morning", "afternoon"]


def test_public_holidays_are_skipped_and_named():
    planned, skipped = _plan(date(2028, 5, 1), date(2028, 5, 5), language="fr")
    assert date(2028, 5, 1) not in {p.day for p in planned}
    assert len(planned) == 8
    assert skipped[0].day == date(2028, 5, 1) and skipped[0].reason == HOLIDAY
    assert skipped[0].holiday == "Fête du Travail"
    planned, skipped = _plan(date(2028, 7, 10), date(2028, 7, 14))
    assert [s.day for s in skipped] == [date(2028, 7, 14)]
    assert skipped[0].holiday  # Bastille Day, in English


def test_holidays_and_weekends_included_on_request():
    planned, skipped = _plan(date(2028, 4, 29), date(2028, 5, 1), include_holidays=True)
    assert skipped == [] and len(planned) == 6


def test_alsace_moselle_adds_good_friday_and_26_december():
    easter_week = (date(2028, 4, 10), date(2028, 4, 14))  # Good Friday is 14 April 2028
    assert len(_plan(*easter_week)[0]) == 10
    planned, skipped = _plan(*easter_week, alsace_moselle=True)
    assert len(planned) == 8 and [s.day for s in skipped] == [date(2028, 4, 14)]
    christmas = (date(2028, 12, 25), date(2028, 12, 27))
    assert [p.day for p in _plan(*christmas)[0]][:2] == [date(2028, 12, 26)] * 2
    assert [s.day for s in _plan(*christmas, alsace_moselle=True)[1]] == [
        date(2028, 12, 25),
        date(2028, 12, 26),
    ]
    assert why_closed(date(2028, 4, 14)).reason == HOLIDAY


@pytest.mark.parametrize(
    ("start", "end", "utc_before", "utc_after"),
    [
        (date(2028, 3, 24), date(2028, 3, 27), 8, 7),  # summer time starts on Sunday 26 March 2028
        (date(2028, 10, 27), date(2028, 10, 30), 7, 8),  # and ends on Sunday 29 October 2028
    ],
)
def test_local_times_hold_across_a_daylight_saving_change(start, end, utc_before, utc_after):
    planned, _ = _plan(start, end)
    mornings = [p for p in planned if p.kind == "morning"]
    assert [p.day for p in mornings] == [start, end]
    assert mornings[0].starts_at == datetime.combine(start, time(utc_before), tzinfo=UTC)
    assert mornings[1].starts_at == datetime.combine(end, time(utc_after), tzinfo=UTC)


def test_blended_and_remote_trainings_give_slot_modalities():
    assert {
        p.modality for p in _plan(date(2028, 3, 6), date(2028, 3, 6), training_modality="blended")[0]
    } == {"in_person"}
    assert {p.modality for p in _plan(date(2028, 3, 6), date(2028, 3, 6), training_modality="remote")[0]} == {
        "remote"
    }


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("73282932000074", True),
        ("73282932000075", False),
        ("7328293200007", False),
        ("7328293200007A", False),
        ("35600000000048", True),  # La Poste, head office
        ("35600000000015", True),  # La Poste: digits add up to 20, though Luhn fails
        ("35600000000016", False),
    ],
)
def test_siret(siret, valid):
    assert siret_valid(siret) is valid

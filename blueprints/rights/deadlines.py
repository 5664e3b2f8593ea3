"""The legal time to answer a request: one month from its receipt, extendable by two further months (GDPR
article 12(3)), counted as EU Regulation 1182/71 counts periods: a period of months ends on the same date of the
last month, or on that month's last day if it has no such date (31 January → 28 or 29 February), and a period
ending on a Saturday, a Sunday or a public holiday ends on the next working day."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from blueprints.trainings.planning import public_holidays

ANSWER_MONTHS = 1
EXTENDED_MONTHS = 3  # the first month and two further months, from the receipt


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def working_day(day: date) -> date:
    """``day``, or the next day that is neither a weekend nor a French public holiday."""
    holidays = public_holidays(day, day + timedelta(days=10))
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    return day


def due_on(received_on: date) -> date:
    return working_day(add_months(received_on, ANSWER_MONTHS))


def extended_due_on(received_on: date) -> date:
    return working_day(add_months(received_on, EXTENDED_MONTHS))

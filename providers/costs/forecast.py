"""Month arithmetic of the Cost Explorer query, and our own month-end forecast.

Our forecast is deliberately simple and stated on screen (OWN_FORECAST_METHOD):
the month to date over complete days, plus the mean of the last 7 complete days
times the days still to come (today included: Cost Explorer's figures stop at
yesterday). The 7-day window crosses into the previous month early in a month,
which is why the Cost Explorer query always covers the previous month too.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date, timedelta

from providers.costs.model import OWN_FORECAST_METHOD, DailyCost, Forecast

WINDOW_DAYS = 7
COMPLETE_METHOD = "actual: the month is complete"
"""The "forecast" of a past month: its total, nothing is still to come."""

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> date:
    """The first day of "YYYY-MM"; ValueError with a line naming the format otherwise."""
    match = _MONTH.match(month or "")
    if match is None:
        raise ValueError(f"month {month!r} is not YYYY-MM (e.g. 2026-11)")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_first(first: date) -> date:
    """The first day of the month after the one `first` is in."""
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def previous_first(first: date) -> date:
    return date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)


def previous_month(month: str) -> str:
    return month_of(previous_first(parse_month(month)))


def days_in_month(month: str) -> int:
    first = parse_month(month)
    return calendar.monthrange(first.year, first.month)[1]


def query_period(month: str, today: date) -> tuple[date, date]:
    """[start, end) of the one GetCostAndUsage query for `month`: from the first day of the
    previous month to the first day of the next month, or to today when the month is
    not over (End is exclusive, so on the 1st the query covers the previous month only).
    ValueError for a month that has not started."""
    first = parse_month(month)
    if first > today:
        raise ValueError(f"month {month} has not started yet (today is {today.isoformat()} UTC)")
    return previous_first(first), min(next_first(first), today)


def is_complete(month: str, today: date) -> bool:
    """True once the month is over (its last day is in the past)."""
    return next_first(parse_month(month)) <= today


def days_remaining(month: str, today: date) -> int:
    """Days of `month` not yet in Cost Explorer's figures: today through the last day; 0 when over."""
    first = parse_month(month)
    if today < first:
        return days_in_month(month)
    if today >= next_first(first):
        return 0
    return days_in_month(month) - today.day + 1


def own_forecast(daily: Sequence[DailyCost], month: str, today: date) -> Forecast | None:
    """Month to date (complete days) + mean of the last 7 complete days x days remaining.

    Complete days are the days before `today` present in `daily` (Cost Explorer
    reports every day of the period, zero days included). None when there is no
    complete day at all; for a month that is over, its total (COMPLETE_METHOD).
    """
    cutoff = today.isoformat()
    complete = sorted((d for d in daily if d.day < cutoff), key=lambda d: d.day)
    month_to_date = sum(d.amount for d in complete if d.day.startswith(month + "-"))
    if is_complete(month, today):
        return Forecast(amount=month_to_date, method=COMPLETE_METHOD)
    if not complete:
        return None
    window = complete[-WINDOW_DAYS:]
    mean = sum(d.amount for d in window) / len(window)
    return Forecast(amount=month_to_date + mean * days_remaining(month, today), method=OWN_FORECAST_METHOD)


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()

"""Cron expressions, read the way Vixie cron (cronie, Debian's cron) runs them.

stacktop never runs a schedule: it reads the one the backup job runs on, to
say when the next backup is due and whether the last one was missed. So the
rules follow the cron that most such jobs run under:

* 5 fields ``minute hour day-of-month month day-of-week`` with ``*``, lists,
  ranges and steps (``*/15``, ``1-5/2``), month and weekday names (jan, mon),
  7 = Sunday, and the macros @yearly @annually @monthly @weekly @daily
  @midnight @hourly.
* When both day fields are restricted, a day matches either (``0 0 1 * mon``
  runs on the 1st and on every Monday). A day field that starts with ``*``
  (also ``*/2``) counts as unrestricted, as in Vixie cron.
* Times are wall-clock times of the given zone. Across DST, like Vixie cron:
  - spring forward: a *fixed-time* job (neither minute nor hour starts with
    ``*``) whose time is skipped runs once at the first instant after the gap
    (``30 2 * * *`` in Europe/Berlin runs at 03:00 CEST that day); a job with a
    wildcard minute or hour just has no run in the gap;
  - fall back: a fixed-time job runs once, in the first pass of the repeated
    hour; a wildcard job runs on both passes (an hourly job stays hourly in
    real time).
  Zone shifts are assumed to be under a day (every DST rule is).

Runs are found by stepping field by field: whole days are skipped by month
and day rules, a day without a zone transition is pure arithmetic, and only
the rare day with a transition is enumerated minute-candidate by candidate.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS_HINT = ("5 fields (minute hour day-of-month month day-of-week) "
                "or @hourly/@daily/@weekly/@monthly/@yearly")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MAX_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
"""Days a month can have (February 29 exists in leap years)."""
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = timedelta(days=1)
_SEARCH_YEARS = 60
"""Any satisfiable expression runs within this (February 29 on a given weekday: 28-40 years)."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names for low, low+1, … (months from 1, weekdays from 0)."""
    hint: str = ""


_MINUTE = _Field("minute", 0, 59, hint="0-59")
_HOUR = _Field("hour", 0, 23, hint="0-23")
_DOM = _Field("day-of-month", 1, 31, hint="1-31")
_MONTH = _Field("month", 1, 12, _MONTHS, "1-12 or jan-dec")
_DOW = _Field("day-of-week", 0, 7, _WEEKDAYS, "0-7 (0 and 7 are Sunday) or sun-sat")


def parse(expr: str) -> Cron:
    """The schedule `expr` describes; ValueError with one line saying what is wrong."""
    text = " ".join(str(expr).split())
    fields = MACROS.get(text.lower(), text) if text.startswith("@") else text
    if fields.startswith("@"):
        raise ValueError(f'"{text}": unknown macro, expected {_FIELDS_HINT}')
    parts = fields.split()
    if len(parts) != 5:
        raise ValueError(f'"{text}": expected {_FIELDS_HINT}, got {len(parts)} field'
                         + ("" if len(parts) == 1 else "s"))
    minute, hour, dom, month, dow = (
        _parse_field(part, field, text) for part, field in zip(parts, (_MINUTE, _HOUR, _DOM, _MONTH, _DOW),
                                                               strict=True))
    cron = Cron(
        expression=text,
        minutes=tuple(sorted(minute)),
        hours=tuple(sorted(hour)),
        days=frozenset(dom),
        months=frozenset(month),
        weekdays=frozenset(0 if d == 7 else d for d in dow),
        dom_star=parts[2].startswith("*"),
        dow_star=parts[4].startswith("*"),
        fixed_time=not parts[0].startswith("*") and not parts[1].startswith("*"),
    )
    cron._check_some_day_exists(parts[2], parts[3])
    return cron


def _parse_field(text: str, field: _Field, expr: str) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ValueError(f'"{expr}": {field.name} {text!r} has an empty list item')
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f'"{expr}": {field.name} step {step_text!r} in {item!r} must be a '
                                 "whole number above 0")
            step = int(step_text)
        if base == "*":
            low, high = field.low, min(field.high, 6) if field is _DOW else field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, field, expr), _value(last, field, expr)
            if low > high:
                raise ValueError(f'"{expr}": {field.name} range {base} is backwards, write the lower '
                                 f"end first ({last}-{first})")
        else:
            low = high = _value(base, field, expr)
            if slash:
                raise ValueError(f'"{expr}": {field.name} {item!r}: a step needs * or a range, e.g. '
                                 f"*/{step} or {base}-{field.high}/{step}")
        values.update(range(low, high + 1, step))
    return values


def _value(text: str, field: _Field, expr: str) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names.index(lowered) + (1 if field is _MONTH else 0)
    if not text.isdigit():
        kind = f"a number or a name ({field.hint})" if field.names else "a number"
        raise ValueError(f'"{expr}": {field.name} {text!r} is not {kind}')
    value = int(text)
    if not field.low <= value <= field.high:
        raise ValueError(f'"{expr}": {field.name} {value} is out of range {field.hint}')
    return value


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed schedule. Times in and out are UTC epoch seconds; `tz` gives the wall clock."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    """0 = Sunday … 6 = Saturday."""
    dom_star: bool
    dow_star: bool
    fixed_time: bool
    """Neither minute nor hour starts with `*`: Vixie cron's "fixed-time" job (see the module doc)."""

    def __str__(self) -> str:
        return self.expression

    def next_after(self, ts: float, tz: tzinfo) -> float:
        """The first run strictly after `ts`."""
        start = datetime.fromtimestamp(ts, tz).date() - _DAY
        for day in self._matching_days(start, 1):
            found = self._next_on(day, ts, tz)
            if found is not None:
                return found
        raise AssertionError("unreachable: parse() rejects expressions that never run")

    def previous_before(self, ts: float, tz: tzinfo) -> float:
        """The last run strictly before `ts`."""
        start = datetime.fromtimestamp(ts, tz).date() + _DAY
        for day in self._matching_days(start, -1):
            found = self._previous_on(day, ts, tz)
            if found is not None:
                return found
        raise AssertionError("unreachable: parse() rejects expressions that never run")

    def typical_interval(self) -> float:
        """Seconds between runs, the median over about a year of runs in UTC: 86400 for a
        nightly job, also for one on weekdays only. For labels like "every 1d" and for
        judging how late a run may be."""
        reference = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
        runs = [self.next_after(reference, UTC)]
        while len(runs) < 61 and (len(runs) < 2 or runs[-1] - reference < 400 * 86400):
            runs.append(self.next_after(runs[-1], UTC))
        gaps = sorted(b - a for a, b in pairwise(runs))
        return gaps[len(gaps) // 2]

    # --- days -------------------------------------------------------------------------------

    def _day_matches(self, day: date) -> bool:
        in_dom = day.day in self.days
        in_dow = day.isoweekday() % 7 in self.weekdays
        if self.dom_star or self.dow_star:
            return in_dom and in_dow
        return in_dom or in_dow

    def _matching_days(self, start: date, step: int) -> Iterator[date]:
        """Days that match, from `start` on (step 1) or back (step -1); months that do not
        match are skipped whole."""
        day, stop_year = start, start.year + step * _SEARCH_YEARS
        delta = _DAY * step
        while day.year != stop_year:
            if day.month not in self.months:
                first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
                day = first_of_next if step > 0 else date(day.year, day.month, 1) - _DAY
                continue
            if self._day_matches(day):
                yield day
            day += delta

    def _check_some_day_exists(self, dom_text: str, month_text: str) -> None:
        """Vixie cron accepts `0 0 30 feb *` and never runs it; a backup schedule that never
        runs is a mistake, so say so. (With both day fields restricted a weekday always comes.)"""
        if not (self.dom_star or self.dow_star):
            return
        if any(day <= _MAX_DAYS[month - 1] for month in self.months for day in self.days):
            return
        raise ValueError(f'"{self.expression}": day-of-month {dom_text} never occurs in month '
                         f"{month_text}, so it would never run")

    # --- times within one day -------------------------------------------------------------------

    def _next_on(self, day: date, ts: float, tz: tzinfo) -> float | None:
        offset = _steady_offset(day, tz)
        if offset is None:
            runs = _transition_day_runs(self, day, tz)
            i = bisect_right(runs, ts)
            return runs[i] if i < len(runs) else None
        base = (day.toordinal() - _EPOCH_ORDINAL) * 86400 - offset
        minute = self._first_at_or_after(max(0, math.floor((ts - base) / 60) + 1))
        return None if minute is None else float(base + minute * 60)

    def _previous_on(self, day: date, ts: float, tz: tzinfo) -> float | None:
        offset = _steady_offset(day, tz)
        if offset is None:
            runs = _transition_day_runs(self, day, tz)
            i = bisect_left(runs, ts)
            return runs[i - 1] if i else None
        base = (day.toordinal() - _EPOCH_ORDINAL) * 86400 - offset
        minute = self._last_at_or_before(min(1439, math.ceil((ts - base) / 60) - 1))
        return None if minute is None else float(base + minute * 60)

    def _first_at_or_after(self, minute_of_day: int) -> int | None:
        hour, minute = divmod(minute_of_day, 60)
        i = bisect_left(self.hours, hour)
        if i < len(self.hours) and self.hours[i] == hour:
            j = bisect_left(self.minutes, minute)
            if j < len(self.minutes):
                return hour * 60 + self.minutes[j]
            i += 1
        return self.hours[i] * 60 + self.minutes[0] if i < len(self.hours) else None

    def _last_at_or_before(self, minute_of_day: int) -> int | None:
        if minute_of_day < 0:
            return None
        hour, minute = divmod(minute_of_day, 60)
        i = bisect_right(self.hours, hour) - 1
        if i >= 0 and self.hours[i] == hour:
            j = bisect_right(self.minutes, minute) - 1
            if j >= 0:
                return hour * 60 + self.minutes[j]
            i -= 1
        return self.hours[i] * 60 + self.minutes[-1] if i >= 0 else None


def _offset(day: date, tz: tzinfo, fold: int) -> int:
    delta = datetime(day.year, day.month, day.day, tzinfo=tz, fold=fold).utcoffset()
    return 0 if delta is None else int(delta.total_seconds())


def _steady_offset(day: date, tz: tzinfo) -> int | None:
    """The UTC offset of the whole day, or None when it changes within the day (from the first
    pass of its midnight to the last pass of the next midnight, so folds across midnight count)."""
    offset = _offset(day, tz, 0)
    return offset if offset == _offset(day + _DAY, tz, 1) else None


@lru_cache(maxsize=256)
def _transition_day_runs(cron: Cron, day: date, tz: tzinfo) -> tuple[float, ...]:
    """Every run of a day with a zone transition, in order, by the DST rules of the module doc."""
    runs: set[float] = set()
    for hour in cron.hours:
        for minute in cron.minutes:
            wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            first, second = wall.timestamp(), wall.replace(fold=1).timestamp()
            if first == second:
                runs.add(first)
            elif first < second:  # repeated wall time: first pass, and the second for wildcard jobs
                runs.add(first)
                if not cron.fixed_time:
                    runs.add(second)
            elif cron.fixed_time:  # skipped wall time: run when the gap ends
                runs.add(_gap_end(tz, second, first))
    return tuple(sorted(runs))


def _gap_end(tz: tzinfo, before: float, after: float) -> float:
    """The instant the clock jumps forward, between `before` (old offset) and `after` (new)."""
    def offset(ts: int) -> timedelta | None:
        return datetime.fromtimestamp(ts, tz).utcoffset()

    low, high = math.floor(before), math.ceil(after)
    old = offset(low)
    while high - low > 1:
        middle = (low + high) // 2
        if offset(middle) == old:
            low = middle
        else:
            high = middle
    return float(high)

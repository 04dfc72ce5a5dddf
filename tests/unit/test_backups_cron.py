"""The cron reader behind a target's `schedule`: when the next backup is due, when the
last one was, across DST the way Vixie cron runs jobs, and one-line errors."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.backups.cron import Cron, parse
from tests.support.zones import offset_changes

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
CHATHAM = ZoneInfo("Pacific/Chatham")
DST_ZONES = (BERLIN, NEW_YORK, LORD_HOWE, CHATHAM)
MIDNIGHT_ZONES = (ZoneInfo("America/Santiago"), ZoneInfo("America/Havana"))
"""Their clocks change at midnight: folds and gaps that cross the date line of the day."""


def at(tz: tzinfo, *fields: int, fold: int = 0) -> float:
    return datetime(*fields, tzinfo=tz, fold=fold).timestamp()  # type: ignore[misc]


def wall(ts: float, tz: tzinfo) -> str:
    """'2026-03-29 03:00 +02:00' — the run as the operator reads it."""
    local = datetime.fromtimestamp(ts, tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def runs(cron: Cron, start: float, tz: tzinfo, count: int) -> list[str]:
    out, ts = [], start
    for _ in range(count):
        ts = cron.next_after(ts, tz)
        out.append(wall(ts, tz))
    return out


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "minutes", "hours"),
    [
        ("*/15 * * * *", (0, 15, 30, 45), tuple(range(24))),
        ("0 1-5/2 * * *", (0,), (1, 3, 5)),
        ("5,10-12 0,23 * * *", (5, 10, 11, 12), (0, 23)),
        ("0-59/20 */8 * * *", (0, 20, 40), (0, 8, 16)),
    ],
)
def test_minutes_and_hours(expr: str, minutes: tuple[int, ...], hours: tuple[int, ...]) -> None:
    cron = parse(expr)
    assert (cron.minutes, cron.hours) == (minutes, hours)


def test_names_and_sunday_as_7() -> None:
    cron = parse("0 2 * JAN-mar,dec sat-7")
    assert cron.months == {1, 2, 3, 12}
    assert cron.weekdays == {6, 0}
    assert parse("0 0 * * 5-7").weekdays == {5, 6, 0}


@pytest.mark.parametrize(
    ("macro", "fields"),
    [("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
     ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
     ("@hourly", "0 * * * *")],
)
def test_macros_mean_their_fields(macro: str, fields: str) -> None:
    start = at(UTC, 2026, 5, 17, 13, 7)
    assert runs(parse(macro), start, BERLIN, 3) == runs(parse(fields), start, BERLIN, 3)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 25 * * *", '"0 25 * * *": hour 25 is out of range 0-23'),
        ("60 * * * *", '"60 * * * *": minute 60 is out of range 0-59'),
        ("0 0 0 * *", '"0 0 0 * *": day-of-month 0 is out of range 1-31'),
        ("0 0 * 13 *", '"0 0 * 13 *": month 13 is out of range 1-12 or jan-dec'),
        ("0 0 * * 8", '"0 0 * * 8": day-of-week 8 is out of range 0-7 (0 and 7 are Sunday) or sun-sat'),
        ("0 2 * *", '"0 2 * *": expected 5 fields (minute hour day-of-month month day-of-week) '
                    "or @hourly/@daily/@weekly/@monthly/@yearly, got 4 fields"),
        ("", '"": expected 5 fields (minute hour day-of-month month day-of-week) '
             "or @hourly/@daily/@weekly/@monthly/@yearly, got 0 fields"),
        ("@reboot", '"@reboot": unknown macro, expected 5 fields (minute hour day-of-month month '
                    "day-of-week) or @hourly/@daily/@weekly/@monthly/@yearly"),
        ("5/15 * * * *", "\"5/15 * * * *\": minute '5/15': a step needs * or a range, e.g. */15 or 5-59/15"),
        ("*/0 * * * *", "\"*/0 * * * *\": minute step '0' in '*/0' must be a whole number above 0"),
        ("*/x * * * *", "\"*/x * * * *\": minute step 'x' in '*/x' must be a whole number above 0"),
        ("5-1 * * * *", '"5-1 * * * *": minute range 5-1 is backwards, write the lower end first (1-5)'),
        ("1,,2 * * * *", "\"1,,2 * * * *\": minute '1,,2' has an empty list item"),
        ("0 0 * foo *", "\"0 0 * foo *\": month 'foo' is not a number or a name (1-12 or jan-dec)"),
        ("0 two * * *", "\"0 two * * *\": hour 'two' is not a number"),
        ("0 0 ? * *", "\"0 0 ? * *\": day-of-month '?' is not a number"),
        ("0 0 30 feb *", '"0 0 30 feb *": day-of-month 30 never occurs in month feb, so it would never run'),
        ("0 0 31 4,6 *", '"0 0 31 4,6 *": day-of-month 31 never occurs in month 4,6, so it would never run'),
    ],
)
def test_errors_are_one_line_naming_the_fix(expr: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(expr)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_an_expression_over_several_lines_is_quoted_on_one() -> None:
    with pytest.raises(ValueError, match=r'^"0 25 \* \* \*": hour 25'):
        parse("0 25\n* * *")


def test_february_30_with_a_weekday_still_runs_on_that_weekday() -> None:
    cron = parse("0 0 30 feb mon")  # both restricted: the 30th OR a Monday
    assert runs(cron, at(UTC, 2026, 1, 1), UTC, 2) == ["2026-02-02 00:00 +00:00", "2026-02-09 00:00 +00:00"]


# --- days ---------------------------------------------------------------------------------------


def test_both_day_fields_restricted_means_either() -> None:
    cron = parse("0 3 1 * mon")
    assert runs(cron, at(UTC, 2026, 5, 29), UTC, 4) == [
        "2026-06-01 03:00 +00:00",  # the 1st (also a Monday)
        "2026-06-08 03:00 +00:00",
        "2026-06-15 03:00 +00:00",
        "2026-06-22 03:00 +00:00",
    ]
    assert runs(cron, at(UTC, 2026, 6, 23), UTC, 3) == [
        "2026-06-29 03:00 +00:00", "2026-07-01 03:00 +00:00", "2026-07-06 03:00 +00:00"]


def test_a_day_field_starting_with_star_counts_as_unrestricted() -> None:
    # Vixie cron: */2 in day-of-month is "starred", so both fields must match.
    cron = parse("0 3 */2 * mon")
    assert runs(cron, at(UTC, 2026, 6, 1), UTC, 3) == [
        "2026-06-01 03:00 +00:00",  # Mondays on odd days only
        "2026-06-15 03:00 +00:00",
        "2026-06-29 03:00 +00:00",
    ]


def test_leap_day_and_weekdays_only() -> None:
    assert runs(parse("0 0 29 2 *"), at(UTC, 2026, 1, 1), UTC, 2) == [
        "2028-02-29 00:00 +00:00", "2032-02-29 00:00 +00:00"]
    assert runs(parse("30 1 * * 1-5"), at(UTC, 2026, 5, 15, 2), UTC, 2) == [
        "2026-05-18 01:30 +00:00", "2026-05-19 01:30 +00:00"]


def test_previous_before_is_strict_and_mirrors_next_after() -> None:
    cron = parse("0 2 * * *")
    two = at(BERLIN, 2026, 6, 10, 2, 0)
    assert cron.previous_before(two, BERLIN) == at(BERLIN, 2026, 6, 9, 2, 0)
    assert cron.previous_before(two + 0.5, BERLIN) == two
    assert cron.next_after(two, BERLIN) == at(BERLIN, 2026, 6, 11, 2, 0)
    assert cron.next_after(two - 0.5, BERLIN) == two


def test_the_zone_gives_the_wall_clock() -> None:
    cron = parse("0 2 * * *")
    noon_utc = at(UTC, 2026, 6, 10, 12)
    assert cron.next_after(noon_utc, UTC) == at(UTC, 2026, 6, 11, 2)
    assert cron.next_after(noon_utc, NEW_YORK) == at(NEW_YORK, 2026, 6, 11, 2)
    assert cron.next_after(noon_utc, LORD_HOWE) == at(LORD_HOWE, 2026, 6, 11, 2)


# --- DST, like Vixie cron -------------------------------------------------------------------------


def test_spring_forward_fixed_time_job_runs_when_the_gap_ends() -> None:
    # Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    cron = parse("30 2 * * *")
    assert runs(cron, at(BERLIN, 2026, 3, 28, 12), BERLIN, 3) == [
        "2026-03-29 03:00 +02:00", "2026-03-30 02:30 +02:00", "2026-03-31 02:30 +02:00"]
    # Two skipped times and a real 03:00 run: one run at 03:00.
    assert runs(parse("0,30 2,3 * * *"), at(BERLIN, 2026, 3, 29, 0), BERLIN, 3) == [
        "2026-03-29 03:00 +02:00", "2026-03-29 03:30 +02:00", "2026-03-30 02:00 +02:00"]


def test_spring_forward_wildcard_job_has_no_run_in_the_gap() -> None:
    assert runs(parse("30 * * * *"), at(BERLIN, 2026, 3, 29, 0, 45), BERLIN, 3) == [
        "2026-03-29 01:30 +01:00", "2026-03-29 03:30 +02:00", "2026-03-29 04:30 +02:00"]


def test_fall_back_fixed_time_job_runs_once() -> None:
    # Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    cron = parse("30 2 * * *")
    assert runs(cron, at(BERLIN, 2026, 10, 24, 12), BERLIN, 2) == [
        "2026-10-25 02:30 +02:00", "2026-10-26 02:30 +01:00"]
    second_pass = at(BERLIN, 2026, 10, 25, 2, 45, fold=1)
    assert wall(cron.previous_before(second_pass, BERLIN), BERLIN) == "2026-10-25 02:30 +02:00"


def test_fall_back_wildcard_job_runs_on_both_passes() -> None:
    assert runs(parse("30 * * * *"), at(BERLIN, 2026, 10, 25, 1, 45), BERLIN, 3) == [
        "2026-10-25 02:30 +02:00", "2026-10-25 02:30 +01:00", "2026-10-25 03:30 +01:00"]
    # From inside the first pass the next hourly run is the second pass's 02:00.
    assert runs(parse("0 * * * *"), at(BERLIN, 2026, 10, 25, 2, 50), BERLIN, 2) == [
        "2026-10-25 02:00 +01:00", "2026-10-25 03:00 +01:00"]


def test_new_york_nightly_job_in_both_transitions() -> None:
    cron = parse("30 2 * * *")  # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST
    assert runs(cron, at(NEW_YORK, 2026, 3, 7, 12), NEW_YORK, 2) == [
        "2026-03-08 03:00 -04:00", "2026-03-09 02:30 -04:00"]
    assert runs(parse("30 1 * * *"), at(NEW_YORK, 2026, 10, 31, 12), NEW_YORK, 2) == [
        "2026-11-01 01:30 -04:00", "2026-11-02 01:30 -05:00"]


def test_lord_howe_shifts_by_half_an_hour() -> None:
    # 2026-10-04 02:00 +10:30 becomes 02:30 +11:00; 2026-04-05 02:00 +11:00 becomes 01:30 +10:30.
    assert runs(parse("15 2 * * *"), at(LORD_HOWE, 2026, 10, 3, 12), LORD_HOWE, 2) == [
        "2026-10-04 02:30 +11:00", "2026-10-05 02:15 +11:00"]
    assert runs(parse("45 * * * *"), at(LORD_HOWE, 2026, 4, 5, 1), LORD_HOWE, 3) == [
        "2026-04-05 01:45 +11:00", "2026-04-05 01:45 +10:30", "2026-04-05 02:45 +10:30"]


def test_chatham_jumps_at_quarter_to_three() -> None:
    # 2026-09-27 02:45 +12:45 becomes 03:45 +13:45.
    assert runs(parse("0 3 * * *"), at(CHATHAM, 2026, 9, 26, 12), CHATHAM, 2) == [
        "2026-09-27 03:45 +13:45", "2026-09-28 03:00 +13:45"]


# --- against a minute-by-minute reference ------------------------------------------------------


def _matches(cron: Cron, local: datetime) -> bool:
    """The fields, checked the slow obvious way."""
    if local.minute not in cron.minutes or local.hour not in cron.hours or local.month not in cron.months:
        return False
    in_dom, in_dow = local.day in cron.days, (local.weekday() + 1) % 7 in cron.weekdays
    return (in_dom and in_dow) if (cron.dom_star or cron.dow_star) else (in_dom or in_dow)


def reference_runs(cron: Cron, start: float, end: float, tz: tzinfo) -> list[float]:
    """Every whole minute in (start, end], deciding each by what the wall clock shows then."""
    out = []
    minute = (math.floor(start / 60) + 1) * 60
    while minute <= end:
        local = datetime.fromtimestamp(minute, tz)
        before = datetime.fromtimestamp(minute - 60, tz)
        repeated = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
        runs_now = _matches(cron, local.replace(tzinfo=None)) and (
            not repeated or local.fold == 0 or not cron.fixed_time)
        jumped = local.replace(tzinfo=None) - before.replace(tzinfo=None) - timedelta(minutes=1)
        if cron.fixed_time and jumped > timedelta(0):
            skipped = before.replace(tzinfo=None) + timedelta(minutes=1)
            while skipped < local.replace(tzinfo=None) and not runs_now:
                runs_now = _matches(cron, skipped)
                skipped += timedelta(minutes=1)
        if runs_now and minute > start:
            out.append(float(minute))
        minute += 60
    return out


TRANSITIONS = {tz: offset_changes(tz, 2026) for tz in DST_ZONES + MIDNIGHT_ZONES}

expressions = st.builds(
    " ".join,
    st.tuples(
        st.sampled_from(["*", "*/15", "0", "30", "0,30", "45", "10-20/5", "59"]),
        st.sampled_from(["*", "2", "1-3", "*/6", "0,2,3", "23", "3", "0"]),
        st.sampled_from(["*", "*", "1", "*/2", "15-31", "25"]),
        st.sampled_from(["*", "*", "mar-apr,sep-nov", "1-6"]),
        st.sampled_from(["*", "*", "sun", "1-5", "0,6"]),
    ),
)


@st.composite
def near_transitions(draw: st.DrawFn) -> tuple[tzinfo, float]:
    tz = draw(st.sampled_from(DST_ZONES + MIDNIGHT_ZONES))
    anchor = draw(st.sampled_from(TRANSITIONS[tz]))
    return tz, anchor + draw(st.floats(-1.5 * 86400, 0.5 * 86400, allow_nan=False))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions, where=near_transitions())
def test_next_after_agrees_with_the_minute_by_minute_reference(
    expr: str, where: tuple[tzinfo, float]
) -> None:
    tz, start = where
    cron = parse(expr)
    window = 1.5 * 86400
    expected = reference_runs(cron, start, start + window, tz)
    got, ts = [], start
    while (ts := cron.next_after(ts, tz)) <= start + window:
        got.append(ts)
    assert [wall(t, tz) for t in got] == [wall(t, tz) for t in expected]
    # previous_before walks the same runs backwards.
    back, ts = [], start + window + 0.5
    while (ts := cron.previous_before(ts, tz)) > start:
        back.append(ts)
    assert back[::-1] == got


@settings(max_examples=200, deadline=None)
@given(expr=expressions, where=near_transitions())
def test_previous_and_next_bracket_the_moment(expr: str, where: tuple[tzinfo, float]) -> None:
    tz, ts = where
    cron = parse(expr)
    after, before = cron.next_after(ts, tz), cron.previous_before(ts, tz)
    assert before < ts < after
    assert cron.previous_before(after, tz) <= ts
    assert cron.next_after(before, tz) >= ts


# --- speed and intervals ---------------------------------------------------------------------------


def test_walking_forward_and_back_meet_the_same_runs() -> None:
    """A year of nightly and weekly runs and a week of five-minute runs across Berlin's spring
    change: next_after and previous_before list the same instants. (Speed: backups_bench.py.)"""
    start = at(BERLIN, 2026, 3, 25)
    for expr, days in (("0 2 * * *", 365), ("30 2 * * 0", 365), ("*/5 * * * *", 7)):
        cron, end = parse(expr), start + days * 86400
        forward: list[float] = []
        ts = start
        while (ts := cron.next_after(ts, BERLIN)) < end:
            forward.append(ts)
        backward: list[float] = []
        ts = end
        while (ts := cron.previous_before(ts, BERLIN)) > start:
            backward.append(ts)
        assert forward == backward[::-1], expr
        assert all(b > a for a, b in itertools.pairwise(forward)), expr
    assert len(forward) == 7 * 86400 // 300 - 1  # every 5 min in absolute time, ends excluded
    assert {datetime.fromtimestamp(t, BERLIN).minute % 5 for t in forward} == {0}


def test_a_rare_schedule_is_found_by_stepping_fields() -> None:
    cron = parse("0 0 29 2 0")  # both restricted: Feb 29 or a Sunday in February
    assert wall(cron.next_after(at(UTC, 2026, 3, 1), UTC), UTC) == "2027-02-07 00:00 +00:00"
    only_leap = parse("0 0 29 2 */7")  # Sunday AND Feb 29 (starred weekday): 2032, then 2060
    assert wall(only_leap.next_after(at(UTC, 2033, 1, 1), UTC), UTC) == "2060-02-29 00:00 +00:00"
    assert wall(only_leap.previous_before(at(UTC, 2059, 1, 1), UTC), UTC) == "2032-02-29 00:00 +00:00"



@pytest.mark.parametrize(
    ("expr", "hours"),
    [("0 2 * * *", 24), ("30 1 * * 1-5", 24), ("*/15 * * * *", 0.25), ("@weekly", 168),
     ("@hourly", 1), ("@yearly", 8760), ("0 0 1 * *", 31 * 24)],
)
def test_typical_interval(expr: str, hours: float) -> None:
    assert parse(expr).typical_interval() == hours * 3600


def test_the_answer_does_not_change_across_a_day_of_calls() -> None:
    """Days with a transition are cached; the cache must not leak between zones."""
    cron = parse("30 2 * * *")
    day = date(2026, 3, 29)
    berlin = cron.next_after(at(BERLIN, day.year, day.month, day.day), BERLIN)
    new_york = cron.next_after(at(NEW_YORK, day.year, day.month, day.day), NEW_YORK)
    assert wall(berlin, BERLIN) == "2026-03-29 03:00 +02:00"
    assert wall(new_york, NEW_YORK) == "2026-03-29 02:30 -04:00"

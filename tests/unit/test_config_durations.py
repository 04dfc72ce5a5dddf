"""parse_duration / format_duration: what a user may write for intervals and timeouts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import parse_duration
from config.durations import format_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("500ms", 0.5),
        ("2s", 2.0),
        ("1.5s", 1.5),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("1m30s", 90.0),
        ("1h 30m", 5400.0),
        ("2s250ms", 2.25),
        (" 3s ", 3.0),
        ("0s", 0.0),
        (2, 2.0),
        (0.25, 0.25),
    ],
)
def test_accepts(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("fast", "expected a duration like 2s, 500ms, 5m or 1h, got 'fast'"),
        ("", "got an empty string"),
        ("   ", "got an empty string"),
        ("-2s", "cannot be negative"),
        (-1, "cannot be negative"),
        ("5", "needs a unit, e.g. 5s"),
        ("5x", "unknown unit 'x'"),
        ("5sec", "unknown unit 'sec'"),
        ("30s1m", "largest first"),
        ("1m1m", "largest first"),
        ("1.2.3s", "expected a duration"),
        (True, "expected a duration"),
        (None, "expected a duration"),
        (float("nan"), "expected a duration"),
        (float("inf"), "too large"),
    ],
)
def test_rejects_with_a_message_that_names_the_fix(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_seconds_written_as_n_s_round_trip(seconds: float) -> None:
    assert parse_duration(f"{seconds}s") == seconds


@given(st.integers(min_value=0, max_value=10**10))
def test_format_duration_reads_back(millis: int) -> None:
    seconds = millis / 1000
    assert math.isclose(parse_duration(format_duration(seconds)), seconds, rel_tol=1e-12)


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59))
def test_combined_units_add_up(hours: int, minutes: int, secs: int) -> None:
    assert parse_duration(f"{hours}h{minutes}m{secs}s") == hours * 3600 + minutes * 60 + secs


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.2, "200ms"), (1, "1s"), (1.5, "1.5s"), (90, "1m30s"), (300, "5m"),
     (3600, "1h"), (86400 + 60, "1d1m")],
)
def test_format_duration_is_short(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text

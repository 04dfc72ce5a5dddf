"""Time-zone facts for property tests that must hit DST changes, not miss them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo


def offset_changes(tz: tzinfo, year: int) -> list[float]:
    """The instants `tz` changes its UTC offset in `year` (hourly scan, then bisection)."""
    def offset(ts: int) -> timedelta | None:
        return datetime.fromtimestamp(ts, tz).utcoffset()

    found = []
    ts = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    while ts < datetime(year + 1, 1, 1, tzinfo=UTC).timestamp():
        if offset(ts) != offset(ts + 3600):
            low, high = ts, ts + 3600
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append(float(high))
        ts += 3600
    return found

"""Human units for cells and labels: bytes, rates, ages, percentages."""

from __future__ import annotations

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def human_bytes(value: float | None) -> str:
    """1536 -> '1.5 KB' (powers of 1024, the way free(1) and df -h count)."""
    if value is None:
        return "—"
    size = float(value)
    for unit in _BYTE_UNITS:
        if abs(size) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_rate(value: float | None) -> str:
    return "—" if value is None else f"{human_bytes(value)}/s"


def human_age(seconds: float | None) -> str:
    """Compact age: 4s, 3m, 2h, 5d."""
    return "" if seconds is None else _largest_units(seconds, 1)


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}%"


def human_duration(seconds: float | None) -> str:
    """Two units at most: 45s, 12m30s, 3h05m, 4d02h."""
    return "—" if seconds is None else _largest_units(seconds, 2)


_TIME_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _largest_units(seconds: float, count: int) -> str:
    """The largest unit that fits, then (count 2) the next one, zero-padded."""
    total = max(0, int(seconds))
    for i, (unit, size) in enumerate(_TIME_UNITS):
        if total >= size or unit == "s":
            text = f"{total // size}{unit}"
            if count > 1 and unit != "s":
                sub_unit, sub_size = _TIME_UNITS[i + 1]
                text += f"{total % size // sub_size:02d}{sub_unit}"
            return text
    raise AssertionError("unreachable")


def human_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value)}"
    return f"{value:.{digits}f}"

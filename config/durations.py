"""Human durations ("500ms", "2s", "1m30s") for intervals and timeouts.

Config files are read by people at 3 a.m.; ``interval: 2s`` says what it means,
``interval: 2`` only maybe. Plain YAML numbers are still accepted as seconds.
"""

from __future__ import annotations

import math
import re

UNIT_SECONDS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_UNIT_ORDER = ("d", "h", "m", "s", "ms")

EXAMPLES = "like 2s, 500ms, 5m or 1h"

_PART = re.compile(
    r"\s*(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[A-Za-z]*)\s*"
)


def _expected(value: object) -> ValueError:
    return ValueError(f"expected a duration {EXAMPLES}, got {value!r}")


def parse_duration(value: object) -> float:
    """Return ``value`` in seconds; raise ValueError with a message that names the fix."""
    if isinstance(value, bool):
        raise _expected(value)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise _expected(value)
    if math.isnan(seconds):
        raise _expected(value)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    if math.isinf(seconds):
        raise ValueError(f"duration {value!r} is too large")
    return seconds


def _parse_text(text: str) -> float:
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"expected a duration {EXAMPLES}, got an empty string")
    if stripped.startswith("-"):
        raise ValueError(f"a duration cannot be negative, got {text!r}")
    total = 0.0
    position = 0
    seen: list[str] = []
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None or match.end() == position:
            raise _expected(text)
        number, unit = match.group("number"), match.group("unit")
        if not unit and match.end() < len(stripped):
            raise _expected(text)
        if not unit:
            raise ValueError(f"duration {text!r} needs a unit, e.g. {number}s or {number}ms")
        if unit not in UNIT_SECONDS:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r} — use ms, s, m, h or d")
        if seen and _UNIT_ORDER.index(unit) <= _UNIT_ORDER.index(seen[-1]):
            raise ValueError(
                f"duration {text!r}: write units once each, largest first, like 1h30m"
            )
        seen.append(unit)
        total += float(number) * UNIT_SECONDS[unit]
        position = match.end()
    return total


def format_duration(seconds: float) -> str:
    """The shortest text ``parse_duration`` reads back as ``seconds`` (for docs and screens)."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"cannot format {seconds!r} as a duration")
    millis = round(seconds * 1000)
    if not math.isclose(millis / 1000, seconds, rel_tol=1e-12, abs_tol=1e-12):
        return f"{seconds!r}s"
    if millis < 1000:
        return f"{millis}ms" if millis else "0s"
    parts = []
    for unit in ("d", "h", "m"):
        size = round(UNIT_SECONDS[unit] * 1000)
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    if millis:
        parts.append(f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis / 1000:g}s")
    return "".join(parts)

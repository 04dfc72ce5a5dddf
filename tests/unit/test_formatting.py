"""Human units as operators read them."""

from __future__ import annotations

import pytest

from widgets.formatting import human_age, human_bytes, human_duration, human_number, human_rate, percent


@pytest.mark.parametrize("value, text", [
    (None, "—"), (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"),
    (5 * 2**20, "5.0 MB"), (3 * 2**40, "3.0 TB"), (2**60, "1024.0 PB"),
])
def test_bytes(value: float | None, text: str) -> None:
    assert human_bytes(value) == text


@pytest.mark.parametrize("value, text", [
    (None, "—"), (0, "0s"), (59.9, "59s"), (60, "1m00s"), (750, "12m30s"), (3600, "1h00m"),
    (11100, "3h05m"), (86400 * 4 + 7200, "4d02h"), (-5, "0s"),
])
def test_duration(value: float | None, text: str) -> None:
    assert human_duration(value) == text


@pytest.mark.parametrize("value, text", [(None, ""), (3, "3s"), (180, "3m"), (7300, "2h"), (86400 * 5, "5d")])
def test_age(value: float | None, text: str) -> None:
    assert human_age(value) == text


def test_rate_percent_number() -> None:
    assert human_rate(2048) == "2.0 KB/s" and human_rate(None) == "—"
    assert percent(42.123) == "42.1%" and percent(None) == "—"
    assert human_number(812) == "812" and human_number(2.5) == "2.5" and human_number(None) == "—"

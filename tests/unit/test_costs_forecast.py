"""Month arithmetic of the Cost Explorer query and our own month-end forecast."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from providers.costs.forecast import (
    COMPLETE_METHOD,
    days_in_month,
    days_remaining,
    is_complete,
    own_forecast,
    parse_month,
    previous_month,
    query_period,
)
from providers.costs.model import OWN_FORECAST_METHOD, DailyCost


def series(first: str, amounts: list[float]) -> list[DailyCost]:
    start = date.fromisoformat(first)
    return [DailyCost((start + timedelta(days=i)).isoformat(), a) for i, a in enumerate(amounts)]


def test_query_period_mid_month_covers_the_previous_month_and_stops_before_today() -> None:
    assert query_period("2026-11", date(2026, 11, 15)) == (date(2026, 10, 1), date(2026, 11, 15))


def test_query_period_on_the_first_covers_last_month_only() -> None:
    assert query_period("2026-11", date(2026, 11, 1)) == (date(2026, 10, 1), date(2026, 11, 1))


def test_query_period_of_a_past_month_ends_on_the_first_of_the_next() -> None:
    assert query_period("2026-09", date(2026, 11, 15)) == (date(2026, 8, 1), date(2026, 10, 1))
    assert query_period("2026-12", date(2027, 3, 2)) == (date(2026, 11, 1), date(2027, 1, 1))


def test_query_period_in_january_starts_in_december_of_the_year_before() -> None:
    assert query_period("2027-01", date(2027, 1, 10)) == (date(2026, 12, 1), date(2027, 1, 10))


def test_a_month_not_started_and_a_bad_month_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match=r"^month 2026-12 has not started yet \(today is 2026-11-15 UTC\)$"):
        query_period("2026-12", date(2026, 11, 15))
    for bad in ("2026-13", "2026-1", "26-11", "", "2026-11-01"):
        with pytest.raises(ValueError, match="is not YYYY-MM"):
            parse_month(bad)


def test_month_lengths_include_leap_februaries() -> None:
    assert [days_in_month(m) for m in ("2028-02", "2027-02", "2100-02", "2000-02", "2026-04", "2026-12")] \
        == [29, 28, 28, 29, 30, 31]
    assert previous_month("2027-01") == "2026-12"
    assert previous_month("2028-03") == "2028-02"


def test_days_remaining_counts_today_and_stops_when_the_month_is_over() -> None:
    assert days_remaining("2026-11", date(2026, 11, 1)) == 30
    assert days_remaining("2026-11", date(2026, 11, 30)) == 1
    assert days_remaining("2026-11", date(2026, 12, 1)) == 0
    assert days_remaining("2028-02", date(2028, 2, 20)) == 10
    assert is_complete("2026-11", date(2026, 12, 1)) and not is_complete("2026-11", date(2026, 11, 30))


def test_own_forecast_mid_month_is_mtd_plus_mean_of_last_seven_days_times_remaining() -> None:
    october = series("2026-10-01", [5.0] * 31)
    november = series("2026-11-01", [10, 10, 10, 10, 10, 10, 10, 12, 14, 16, 18, 20, 22, 24])
    forecast = own_forecast(october + november, "2026-11", date(2026, 11, 15))
    # MTD 196; last 7 complete days 8th..14th: (12+14+16+18+20+22+24)/7 = 18; 16 days left (15th..30th)
    assert forecast is not None
    assert forecast.method == OWN_FORECAST_METHOD
    assert forecast.amount == pytest.approx(196 + 18 * 16)
    assert forecast.low is None and forecast.high is None


def test_own_forecast_on_the_first_uses_the_last_week_of_the_previous_month() -> None:
    october = series("2026-10-01", [1.0] * 24 + [7, 7, 7, 7, 14, 14, 14])
    forecast = own_forecast(october, "2026-11", date(2026, 11, 1))
    assert forecast is not None
    assert forecast.amount == pytest.approx(70 / 7 * 30)  # nothing this month yet; 30 days to come


def test_own_forecast_window_crosses_into_the_previous_month() -> None:
    october = series("2026-10-01", [0.0] * 27 + [3, 3, 3, 3])  # 28th..31st
    november = series("2026-11-01", [10, 10, 10])
    forecast = own_forecast(october + november, "2026-11", date(2026, 11, 4))
    # window: Oct 28..31 and Nov 1..3 = (12 + 30) / 7 = 6; MTD 30; 27 days left (4th..30th)
    assert forecast is not None
    assert forecast.amount == pytest.approx(30 + 6 * 27)


def test_own_forecast_in_a_leap_february() -> None:
    january = series("2028-01-01", [2.0] * 31)
    february = series("2028-02-01", [4.0] * 19)
    forecast = own_forecast(january + february, "2028-02", date(2028, 2, 20))
    assert forecast is not None
    assert forecast.amount == pytest.approx(76 + 4 * 10)  # 20th..29th


def test_own_forecast_on_the_last_day_of_a_non_leap_february() -> None:
    february = series("2027-02-01", [3.0] * 27)
    forecast = own_forecast(series("2027-01-01", [1.0] * 31) + february, "2027-02", date(2027, 2, 28))
    assert forecast is not None
    assert forecast.amount == pytest.approx(81 + 3)


def test_own_forecast_ignores_today_and_later_and_unordered_input() -> None:
    days = [*reversed(series("2026-11-01", [10, 10, 10])), DailyCost("2026-11-04", 999.0)]
    forecast = own_forecast(days, "2026-11", date(2026, 11, 4))
    assert forecast is not None
    assert forecast.amount == pytest.approx(30 + 10 * 27)


def test_own_forecast_with_fewer_than_seven_days_uses_what_there_is() -> None:
    forecast = own_forecast(series("2026-11-01", [4, 8]), "2026-11", date(2026, 11, 3))
    assert forecast is not None
    assert forecast.amount == pytest.approx(12 + 6 * 28)


def test_no_complete_day_means_no_forecast_and_zero_spend_forecasts_zero() -> None:
    assert own_forecast([], "2026-11", date(2026, 11, 15)) is None
    assert own_forecast([DailyCost("2026-11-15", 5.0)], "2026-11", date(2026, 11, 15)) is None
    zero = own_forecast(series("2026-11-01", [0.0] * 14), "2026-11", date(2026, 11, 15))
    assert zero is not None and zero.amount == 0.0


def test_a_complete_month_forecasts_its_total() -> None:
    forecast = own_forecast(series("2026-09-01", [1.0] * 30) + series("2026-10-01", [2.0] * 31), "2026-10",
                            date(2026, 11, 15))
    assert forecast is not None
    assert (forecast.amount, forecast.method) == (62.0, COMPLETE_METHOD)

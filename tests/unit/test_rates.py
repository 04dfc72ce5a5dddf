"""Rates from counters: resets and vanished devices never give negative or absurd numbers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from providers.rates import CounterRates, cpu_busy_percent


def test_rate_is_bytes_per_second_between_two_readings() -> None:
    rates = CounterRates()
    assert rates.update({"eth0": 1000.0}, now=10.0) == {"eth0": None}
    assert rates.update({"eth0": 3000.0}, now=12.0) == {"eth0": 1000.0}


def test_counter_reset_gives_no_rate_then_resumes_from_the_new_baseline() -> None:
    rates = CounterRates()
    rates.update({"eth0": 5_000_000.0}, now=0.0)
    assert rates.update({"eth0": 100.0}, now=1.0) == {"eth0": None}  # driver reload / wrap
    assert rates.update({"eth0": 600.0}, now=2.0) == {"eth0": 500.0}


def test_vanished_then_returning_device_starts_fresh() -> None:
    rates = CounterRates()
    rates.update({"eth0": 10.0, "wg0": 10_000.0}, now=0.0)
    assert rates.update({"eth0": 20.0}, now=1.0) == {"eth0": 10.0}
    # wg0 comes back with a *higher* counter: its old baseline must not be used.
    assert rates.update({"eth0": 30.0, "wg0": 90_000_000.0}, now=2.0) == {"eth0": 10.0, "wg0": None}


def test_readings_closer_than_the_minimum_give_no_rate() -> None:
    rates = CounterRates(min_elapsed=0.2)
    rates.update({"eth0": 0.0}, now=0.0)
    assert rates.update({"eth0": 10.0}, now=0.01) == {"eth0": None}
    assert rates.update({"eth0": 110.0}, now=0.51) == {"eth0": 200.0}


def test_clock_not_advancing_gives_no_rate() -> None:
    rates = CounterRates()
    rates.update({"sda": 0.0}, now=5.0)
    assert rates.update({"sda": 1e9}, now=5.0) == {"sda": None}


@given(st.lists(st.tuples(st.floats(0, 1e15), st.floats(0.001, 100)), min_size=1, max_size=50))
def test_rates_are_never_negative_whatever_the_counters_do(steps: list[tuple[float, float]]) -> None:
    rates = CounterRates()
    now = 0.0
    for value, dt in steps:
        now += dt
        for rate in rates.update({"dev": value}, now).values():
            assert rate is None or rate >= 0


def test_cpu_busy_percent_from_two_cpu_times_readings() -> None:
    before = {"user": 100.0, "system": 50.0, "idle": 800.0, "iowait": 50.0}
    after = {"user": 130.0, "system": 60.0, "idle": 850.0, "iowait": 60.0}
    assert cpu_busy_percent(before, after) == 40.0  # 40 busy of 100 elapsed


def test_cpu_busy_percent_handles_first_sample_and_resets() -> None:
    after = {"user": 1.0, "idle": 1.0}
    assert cpu_busy_percent(None, after) is None
    assert cpu_busy_percent({"user": 5.0, "idle": 5.0}, after) is None


@given(
    st.dictionaries(st.sampled_from(["user", "nice", "system", "idle", "iowait", "irq", "steal"]),
                    st.floats(0, 1e6), min_size=1),
    st.dictionaries(st.sampled_from(["user", "nice", "system", "idle", "iowait", "irq", "steal"]),
                    st.floats(0, 1e6), min_size=1),
)
def test_cpu_percent_stays_within_0_and_100(a: dict[str, float], b: dict[str, float]) -> None:
    value = cpu_busy_percent(a, b)
    assert value is None or 0.0 <= value <= 100.0

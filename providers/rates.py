"""Per-second rates from monotonically increasing counters.

Counters reset (reboot of a NIC driver, a 32-bit wrap, a disk that vanished
and came back): a decrease means "no rate this interval", never a negative
or absurd number.
"""

from __future__ import annotations

from collections.abc import Mapping


class CounterRates:
    """Turns successive counter readings, keyed by (device, field), into rates."""

    def __init__(self, min_elapsed: float = 0.0) -> None:
        self._last: dict[str, tuple[float, float]] = {}
        self.min_elapsed = min_elapsed

    def update(self, readings: Mapping[str, float], now: float) -> dict[str, float | None]:
        """Return a rate per key; None where there is no valid previous reading.

        Keys that disappeared are forgotten, so a device that returns starts
        from a fresh baseline rather than from a stale one. Readings closer
        together than `min_elapsed` give no rate: over a few milliseconds a
        counter says more about timing noise than about throughput.
        """
        rates: dict[str, float | None] = {}
        fresh: dict[str, tuple[float, float]] = {}
        for key, value in readings.items():
            fresh[key] = (now, value)
            previous = self._last.get(key)
            if previous is None:
                rates[key] = None
                continue
            then, old = previous
            elapsed = now - then
            if elapsed <= 0 or elapsed < self.min_elapsed or value < old:
                rates[key] = None
                continue
            rates[key] = (value - old) / elapsed
        self._last = fresh
        return rates


def cpu_busy_percent(
    previous: Mapping[str, float] | None, current: Mapping[str, float]
) -> float | None:
    """Busy share of CPU time between two `cpu_times()` readings, in 0..100.

    Idle time is `idle` + `iowait`; guest times are already counted in
    user/nice on Linux, so they are left out of the total.
    """
    if previous is None:
        return None
    skip = {"guest", "guest_nice"}
    total = sum(v - previous.get(k, 0.0) for k, v in current.items() if k not in skip)
    idle = sum(current.get(k, 0.0) - previous.get(k, 0.0) for k in ("idle", "iowait"))
    if total <= 0 or idle < 0:
        return None
    busy = (total - idle) / total * 100.0
    return min(100.0, max(0.0, busy))

"""Newest snapshot per provider plus fixed-size series for charts.

Memory stays bounded however long the console runs: every series is a ring
buffer of `history_points` samples.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from providers.base import Snapshot


class Series:
    """A ring buffer of (timestamp, value) samples."""

    __slots__ = ("_times", "_values", "version")

    def __init__(self, capacity: int) -> None:
        self._times: deque[float] = deque(maxlen=capacity)
        self._values: deque[float] = deque(maxlen=capacity)
        self.version = 0

    def append(self, when: float, value: float) -> None:
        self._times.append(when)
        self._values.append(value)
        self.version += 1

    @property
    def capacity(self) -> int:
        return self._values.maxlen or 0

    def values(self) -> list[float]:
        return list(self._values)

    def times(self) -> list[float]:
        return list(self._times)

    def last(self) -> float | None:
        return self._values[-1] if self._values else None

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot with the monotonic time it arrived, so ages survive clock jumps."""

    snapshot: Snapshot
    received_monotonic: float
    version: int


Listener = Callable[[str], None]


class Store:
    """Latest snapshot per provider and `provider.metric` series.

    Listeners are called with the provider name on every put, on the event
    loop thread; they must be cheap (post a message, set a flag).
    """

    def __init__(self, history_points: int = 300) -> None:
        self.history_points = history_points
        self._latest: dict[str, StoredSnapshot] = {}
        self._series: dict[str, Series] = {}
        self._listeners: list[Listener] = []

    def put(self, provider: str, snapshot: Snapshot, received_monotonic: float) -> None:
        previous = self._latest.get(provider)
        version = previous.version + 1 if previous else 1
        self._latest[provider] = StoredSnapshot(snapshot, received_monotonic, version)
        for key, value in snapshot.metrics().items():
            self.series(f"{provider}.{key}").append(snapshot.taken_at, float(value))
        for listener in list(self._listeners):
            listener(provider)

    def latest(self, provider: str) -> StoredSnapshot | None:
        return self._latest.get(provider)

    def names(self) -> list[str]:
        """Providers that have delivered a snapshot."""
        return list(self._latest)

    def series(self, key: str) -> Series:
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = Series(self.history_points)
        return found

    def series_keys(self, prefix: str = "") -> Iterator[str]:
        return (k for k in self._series if k.startswith(prefix))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register a listener; returns the function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

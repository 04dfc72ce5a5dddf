"""The runtime keeps polling the healthy while a provider hangs, raises or returns garbage."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

import pytest

from providers.base import Provider, Snapshot
from providers.runtime import Health, Runtime
from providers.store import Store


@dataclass(frozen=True)
class Tick(Snapshot):
    n: int

    def metrics(self) -> dict[str, float]:
        return {"n": float(self.n)}


class Counting(Provider):
    """Healthy: returns an increasing number and signals each poll."""

    def __init__(self, name: str = "ok", interval: float = 0.05) -> None:
        super().__init__(name, interval, timeout=1.0)
        self.n = 0
        self.polled = asyncio.Event()

    async def poll(self) -> Tick:
        self.n += 1
        self.polled.set()
        return Tick(time.time(), self.n)


class HangsInThread(Provider):
    """A blocking SDK call that never returns (until the test releases it)."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__("hangs", interval=0.05, timeout=0.2)
        self.release = release
        self.calls = 0

    async def poll(self) -> Tick:
        self.calls += 1
        await self.run_blocking(self.release.wait)
        return Tick(time.time(), 0)


class HangsInLoop(Provider):
    def __init__(self) -> None:
        super().__init__("hangs-async", interval=0.05, timeout=0.2)

    async def poll(self) -> Tick:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Raises(Provider):
    def __init__(self) -> None:
        super().__init__("raises", interval=0.05, timeout=1.0)
        self.calls = 0

    async def poll(self) -> Tick:
        self.calls += 1
        raise ConnectionRefusedError("connect to 127.0.0.1:9 refused")


class Garbage(Provider):
    def __init__(self) -> None:
        super().__init__("garbage", interval=0.05, timeout=1.0)

    async def poll(self):  # type: ignore[no-untyped-def]
        return {"not": "a snapshot"}


async def wait_polls(provider: Counting, count: int) -> None:
    for _ in range(count):
        provider.polled.clear()
        await asyncio.wait_for(provider.polled.wait(), 5)


async def test_healthy_provider_keeps_updating_beside_broken_ones() -> None:
    release = threading.Event()
    healthy = Counting()
    broken = [HangsInThread(release), HangsInLoop(), Raises(), Garbage()]
    store = Store(50)
    runtime = Runtime([healthy, *broken], store, max_concurrency=1, backoff_cap=0.2)
    runtime.start()
    try:
        await wait_polls(healthy, 10)  # with one worker slot, a hung thread must not starve it
        assert store.latest("ok").snapshot.n >= 10
        assert runtime.health("ok") is Health.OK
        for name in ("hangs", "hangs-async"):
            await asyncio.wait_for(_until(runtime, lambda n=name: runtime.states[n].last_error), 5)
        assert "timed out after 0.2s" in runtime.states["hangs"].last_error
        assert "timed out after 0.2s" in runtime.states["hangs-async"].last_error
        assert runtime.states["raises"].last_error == "ConnectionRefusedError: connect to 127.0.0.1:9 refused"
        assert runtime.states["garbage"].last_error == "TypeError: poll returned dict, not a Snapshot"
        assert all(runtime.health(p.name) is Health.ERROR for p in broken)
        assert store.latest("garbage") is None
    finally:
        release.set()
        await runtime.stop()


async def test_a_hung_call_is_not_started_again_until_it_returns() -> None:
    release = threading.Event()
    hangs = HangsInThread(release)
    runtime = Runtime([hangs], Store(10), max_concurrency=2, backoff_cap=0.1)
    runtime.start()
    try:
        await asyncio.wait_for(_until(runtime, lambda: runtime.states["hangs"].failures >= 4), 10)
        assert hangs.calls == 1  # later polls saw the hung thread and did not pile up
        assert "still waiting" in runtime.states["hangs"].last_error
        release.set()
        await asyncio.wait_for(_until(runtime, lambda: hangs.calls >= 2), 10)
    finally:
        release.set()
        await runtime.stop()


def test_backoff_doubles_after_failures_up_to_the_cap() -> None:
    runtime = Runtime([Raises()], Store(10), backoff_cap=1.0, jitter=0.0)
    state = runtime.states["raises"]
    delays = []
    for failures in range(6):
        state.consecutive_failures = failures
        delays.append(runtime.next_delay(state))
    assert delays == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]


def test_jitter_stays_within_its_fraction() -> None:
    runtime = Runtime([Counting(interval=10.0)], Store(10), jitter=0.1)
    delays = [runtime.next_delay(runtime.states["ok"]) for _ in range(200)]
    assert all(9.0 <= d <= 11.0 for d in delays)
    assert len(set(delays)) > 100  # really jittered: providers do not poll in lockstep


async def test_recovery_clears_the_error_and_resets_backoff() -> None:
    class Flaky(Counting):
        fail = True

        async def poll(self) -> Tick:
            if self.fail:
                raise OSError("endpoint unreachable")
            return await super().poll()

    flaky = Flaky("flaky")
    runtime = Runtime([flaky], Store(10))
    assert not await runtime.poll_provider("flaky")
    assert runtime.health("flaky") is Health.ERROR
    flaky.fail = False
    assert await runtime.poll_provider("flaky")
    state = runtime.states["flaky"]
    assert (state.last_error, state.consecutive_failures) == (None, 0)
    assert runtime.health("flaky") is Health.OK
    await runtime.stop()


async def test_data_goes_stale_when_polls_stop_arriving() -> None:
    provider = Counting(interval=1.0)
    runtime = Runtime([provider], Store(10), stale_after=3.0)
    await runtime.poll_provider("ok")
    state = runtime.states["ok"]
    assert state.health(3.0, now=state.last_success + 2.9) is Health.OK
    assert state.health(3.0, now=state.last_success + 3.1) is Health.STALE
    await runtime.stop()


async def test_refresh_polls_at_once_instead_of_waiting_the_interval() -> None:
    provider = Counting(interval=3600)
    runtime = Runtime([provider], Store(10))
    runtime.start()
    try:
        await wait_polls(provider, 1)
        provider.polled.clear()
        runtime.refresh("ok")
        await asyncio.wait_for(provider.polled.wait(), 5)
        assert provider.n == 2
    finally:
        await runtime.stop()


async def test_refresh_tells_each_provider_before_its_poll() -> None:
    """A provider with schedules of its own (HTTP checks) learns that `r` was pressed."""
    seen: list[int] = []

    class Told(Counting):
        def refresh_requested(self) -> None:
            seen.append(self.n)

    provider = Told(interval=3600)
    runtime = Runtime([provider, Counting("other", interval=3600)], Store(10))
    runtime.start()
    try:
        await wait_polls(provider, 1)
        provider.polled.clear()
        runtime.refresh()
        await asyncio.wait_for(provider.polled.wait(), 5)
        assert seen == [1]  # told once, after the first poll and before the second
    finally:
        await runtime.stop()


async def test_error_messages_are_redacted() -> None:
    class Leaky(Provider):
        async def poll(self) -> Tick:
            raise PermissionError("login failed for password hunter2")

    runtime = Runtime([Leaky("leaky", 1, 1)], Store(10), redact=lambda s: s.replace("hunter2", "***"))
    await runtime.poll_provider("leaky")
    assert runtime.states["leaky"].last_error == "PermissionError: login failed for password ***"
    await runtime.stop()


async def _until(runtime: Runtime, predicate) -> None:  # type: ignore[no-untyped-def]
    """Wake on each poll the runtime reports until `predicate()` holds (callers bound it)."""
    changed = asyncio.Event()
    unsubscribe = runtime.subscribe(lambda _name: changed.set())
    try:
        while not predicate():
            await changed.wait()
            changed.clear()
    finally:
        unsubscribe()


@pytest.mark.parametrize("capacity", [1, 5])
def test_series_are_bounded(capacity: int) -> None:
    store = Store(capacity)
    for i in range(100):
        store.put("ok", Tick(float(i), i), float(i))
    series = store.series("ok.n")
    assert len(series) == capacity
    assert series.values()[-1] == 99.0
    assert store.latest("ok").version == 100


async def test_first_data_waits_for_fast_providers_but_not_for_slow_ones() -> None:
    release = threading.Event()
    fast, slow = Counting("fast", interval=60), HangsInThread(release)
    slow.timeout = 30
    runtime = Runtime([fast, slow], Store(10))
    runtime.start()
    try:
        started = time.monotonic()
        await runtime.first_data(budget=0.3)
        waited = time.monotonic() - started
        assert runtime.store.latest("fast") is not None  # in the first frame
        assert runtime.store.latest("hangs") is None  # not waited for beyond the budget
        assert 0.25 <= waited < 2.0
    finally:
        release.set()
        await runtime.stop()


class FansOut(Provider):
    """Like an AWS provider: many blocking calls at once, each slow."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__("fans-out", interval=60.0, timeout=30.0)
        self.release = release

    async def poll(self) -> Tick:
        await asyncio.gather(*(self.run_blocking(self.release.wait, 10) for _ in range(8)))
        return Tick(taken_at=time.time(), n=0)


class BlockingCounting(Counting):
    """Like the host provider: its poll is one quick call in a worker thread."""

    async def poll(self) -> Tick:
        await self.run_blocking(time.sleep, 0.01)
        return await super().poll()


async def test_a_provider_filling_the_shared_pool_does_not_starve_another() -> None:
    release = threading.Event()
    greedy, host = FansOut(release), BlockingCounting()
    host.timeout = 0.5
    runtime = Runtime([greedy, host], Store(10), max_concurrency=2)
    runtime.start()
    try:
        await wait_polls(host, 3)  # while eight slow calls hold every shared slot
        assert runtime.health("ok") is Health.OK and runtime.states["ok"].failures == 0
    finally:
        release.set()
        await runtime.stop()


async def test_wake_from_another_thread_polls_at_once_and_bursts_become_one_poll() -> None:
    provider = Counting("watched", interval=60.0)  # would not poll again for a minute
    provider.min_gap = 0.2
    runtime = Runtime([provider], Store(history_points=5))
    runtime.start()
    try:
        await asyncio.wait_for(provider.polled.wait(), 5)
        provider.polled.clear()
        started = time.monotonic()
        burst = threading.Thread(target=lambda: [provider.wake() for _ in range(50)])
        burst.start()
        burst.join()
        await asyncio.wait_for(provider.polled.wait(), 5)
        assert time.monotonic() - started < 5  # woken, not waiting out the 60 s interval
        provider.polled.clear()
        # The 50 wakes asked for one poll, not fifty: nothing else is due for a minute.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(provider.polled.wait(), 0.5)
        assert provider.n == 2
    finally:
        await runtime.stop()


async def test_wakes_within_the_min_gap_wait_for_it() -> None:
    provider = Counting("watched", interval=60.0)
    provider.min_gap = 0.3
    runtime = Runtime([provider], Store(history_points=5))
    runtime.start()
    try:
        await asyncio.wait_for(provider.polled.wait(), 5)
        first = runtime.states["watched"].last_attempt
        provider.polled.clear()
        provider.wake()
        await asyncio.wait_for(provider.polled.wait(), 5)
        second = runtime.states["watched"].last_attempt
        assert first is not None and second is not None and second - first >= 0.3
    finally:
        await runtime.stop()

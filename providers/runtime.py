"""Scheduling of providers: interval with jitter, a timeout per poll,
exponential backoff after failures, and a health status per provider.

A provider that hangs, raises or returns garbage is recorded as failing; it
never blocks the event loop, the UI or the other providers. Blocking SDK
calls run in worker threads behind one bounded semaphore; a call that never
returns keeps its thread but gives back its slot, and its provider is not
polled again until that thread comes back (no pile-up of hung threads).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from providers.base import Provider, Snapshot
from providers.store import Store

log = logging.getLogger(__name__)


class Health(enum.Enum):
    PENDING = "pending"
    OK = "ok"
    STALE = "stale"
    ERROR = "error"


@dataclass
class ProviderState:
    """What the runtime knows of one provider; read by the status line and snapshot CLI."""

    name: str
    interval: float
    last_success: float | None = None
    last_attempt: float | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    polls: int = 0
    failures: int = 0
    in_flight: bool = False
    next_due: float | None = None
    hung_threads: set[concurrent.futures.Future[Any]] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def age(self, now: float | None = None) -> float | None:
        """Seconds since the last successful poll, None before the first one."""
        if self.last_success is None:
            return None
        return (time.monotonic() if now is None else now) - self.last_success

    def health(self, stale_after: float, now: float | None = None) -> Health:
        if self.last_error is not None:
            return Health.ERROR
        age = self.age(now)
        if age is None:
            return Health.PENDING
        if age > stale_after * self.interval:
            return Health.STALE
        return Health.OK


def describe_error(exc: BaseException) -> str:
    """One line for the status bar: the exception's own words, never a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    return f"{kind}: {text}" if text else kind


class Runtime:
    """Polls providers concurrently and feeds the Store.

    `start()` launches one task per provider on the running loop; `refresh()`
    asks for an immediate poll; `poll_once()` serves headless snapshots.
    """

    def __init__(
        self,
        providers: Iterable[Provider],
        store: Store,
        *,
        max_concurrency: int = 4,
        backoff_cap: float = 300.0,
        jitter: float = 0.1,
        stale_after: float = 3.0,
        redact: Callable[[str], str] = lambda s: s,
    ) -> None:
        self.providers: dict[str, Provider] = {p.name: p for p in providers}
        self.store = store
        self.backoff_cap = backoff_cap
        self.jitter = jitter
        self.stale_after = stale_after
        self._redact = redact
        self.redact = redact
        """The profile's redaction, for whatever shows provider data (the screen)."""
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._own_slot = {p.name: asyncio.Semaphore(1) for p in self.providers.values()}
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrency + len(self.providers),
            thread_name_prefix="stacktop-sdk",
        )
        self.states = {p.name: ProviderState(p.name, p.interval) for p in self.providers.values()}
        self._tasks: list[asyncio.Task[None]] = []
        self._listeners: list[Callable[[str], None]] = []
        self._rng = random.Random()
        self._event_loop: asyncio.AbstractEventLoop | None = None
        for provider in self.providers.values():
            provider.run_blocking = functools.partial(self._run_blocking, provider.name)
            provider.wake = functools.partial(self._wake_threadsafe, provider.name)
            provider.bind_store(store)

    # -- blocking work -------------------------------------------------

    async def _run_blocking(self, provider: str, fn: Callable[..., Any], *args: Any) -> Any:
        # Each provider has one slot of its own, then shares the pool: a provider that
        # fans out (AWS: one call per account x region) can fill the shared slots for
        # seconds, but never keeps another provider's poll waiting into its timeout.
        own = self._own_slot[provider]
        slot = own if not own.locked() else self._semaphore
        async with slot:
            return await self._submit(provider, fn, *args)

    async def _submit(self, provider: str, fn: Callable[..., Any], *args: Any) -> Any:
        state = self.states[provider]
        future = self._executor.submit(fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            if not future.cancel():
                state.hung_threads.add(future)
                future.add_done_callback(state.hung_threads.discard)
            raise

    def _wake_threadsafe(self, name: str) -> None:
        loop = self._event_loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(self.states[name].wake.set)

    # -- listeners -----------------------------------------------------

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Called with a provider name after each poll, success or failure."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, name: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(name)
            except Exception:  # a broken listener must not stop polling
                log.exception("runtime listener failed for %s", name)

    # -- polling -------------------------------------------------------

    async def prime_all(self) -> None:
        await asyncio.gather(*(self._prime(p) for p in self.providers.values()))

    async def _prime(self, provider: Provider) -> None:
        try:
            async with asyncio.timeout(provider.timeout):
                await provider.prime()
        except Exception as exc:  # priming failure is reported by the first poll
            log.warning("prime of %s failed: %s", provider.name, self._redact(describe_error(exc)))

    async def poll_provider(self, name: str) -> bool:
        """Poll one provider now (at most one poll in flight each); True on success."""
        provider = self.providers[name]
        state = self.states[name]
        if state.in_flight:
            return False
        now = time.monotonic()
        state.last_attempt = now
        if state.hung_threads:
            self._fail(state, f"still waiting for a call that timed out after {provider.timeout:g}s "
                              "(a hung SDK call?)")
            return False
        state.in_flight = True
        state.polls += 1
        try:
            async with asyncio.timeout(provider.timeout):
                snapshot = await provider.poll()
            if not isinstance(snapshot, Snapshot):
                raise TypeError(f"poll returned {type(snapshot).__name__}, not a Snapshot")
            self.store.put(name, snapshot, time.monotonic())
        except TimeoutError:
            self._fail(state, f"timed out after {provider.timeout:g}s")
            return False
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(state, describe_error(exc))
            log.debug("poll of %s failed", name, exc_info=True)
            return False
        finally:
            state.in_flight = False
        state.last_success = time.monotonic()
        state.last_error = None
        state.consecutive_failures = 0
        self._notify(name)
        return True

    def _fail(self, state: ProviderState, message: str) -> None:
        message = self._redact(message)
        state.last_error = message
        state.consecutive_failures += 1
        state.failures += 1
        log.warning("provider %s failed: %s", state.name, message)
        self._notify(state.name)

    def next_delay(self, state: ProviderState) -> float:
        """Interval with jitter; after failures, doubling up to the cap."""
        base = state.interval
        if state.consecutive_failures:
            base = min(state.interval * 2 ** state.consecutive_failures, self.backoff_cap)
            base = max(base, state.interval)
        return base * (1 + self._rng.uniform(-self.jitter, self.jitter))

    async def _loop(self, provider: Provider) -> None:
        # No prime here: the first poll is the baseline, and the second follows
        # after the provider's sample window (see below).
        state = self.states[provider.name]
        while True:
            state.wake.clear()
            await self.poll_provider(provider.name)
            delay = self.next_delay(state)
            if state.polls == 1 and provider.sample_window > 0:
                # First data at once (a fast first frame); rates one sample window later.
                delay = min(delay, provider.sample_window)
            state.next_due = time.monotonic() + delay
            try:
                async with asyncio.timeout(delay):
                    await state.wake.wait()
            except TimeoutError:
                pass
            # Woken early (a watch event): still leave min_gap between polls, so a
            # burst of events becomes one screen update, not one per event.
            if provider.min_gap > 0 and state.last_attempt is not None:
                rest = state.last_attempt + provider.min_gap - time.monotonic()
                if rest > 0:
                    await asyncio.sleep(rest)

    def start(self) -> None:
        """Start polling every provider on the running loop."""
        if self._tasks:
            return
        self._event_loop = asyncio.get_running_loop()
        for provider in self.providers.values():
            self._tasks.append(asyncio.create_task(self._loop(provider), name=f"poll:{provider.name}"))

    async def first_data(self, budget: float) -> None:
        """Wait until every provider finished its first poll, or `budget` seconds.

        Lets the UI's first frame carry data from fast providers without waiting
        for slow ones (they keep polling and arrive in a later frame).
        """
        pending = {n for n, st in self.states.items() if st.last_attempt is None or st.in_flight}
        if not pending:
            return
        done = asyncio.Event()

        def on_poll(name: str) -> None:
            pending.discard(name)
            if not pending:
                done.set()

        unsubscribe = self.subscribe(on_poll)
        try:
            async with asyncio.timeout(budget):
                await done.wait()
        except TimeoutError:
            pass
        finally:
            unsubscribe()

    def refresh(self, name: str | None = None) -> None:
        """Poll now: one provider, or all. A poll already running is not started twice."""
        names = [name] if name else list(self.states)
        for n in names:
            if n in self.states:
                self.providers[n].refresh_requested()
                self.states[n].wake.set()

    async def poll_once(self, names: Iterable[str] | None = None, sample_window: float | None = None) -> None:
        """Prime, wait one sample window (so rates exist), poll each once: for headless use.

        `sample_window` defaults to the longest the chosen providers ask for.
        """
        chosen = [self.providers[n] for n in (names or self.providers)]
        await asyncio.gather(*(self._prime(p) for p in chosen))
        if sample_window is None:
            sample_window = max((p.sample_window for p in chosen), default=0.0)
        if sample_window > 0:
            await asyncio.sleep(sample_window)
        await asyncio.gather(*(self.poll_provider(p.name) for p in chosen))

    def health(self, name: str) -> Health:
        return self.states[name].health(self.stale_after)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for provider in self.providers.values():
            try:
                await provider.close()
            except Exception:
                log.exception("closing %s failed", provider.name)
        self._executor.shutdown(wait=False, cancel_futures=True)

"""PodLogsScreen at 80x24 and 120x40: following a log that outgrew its buffer
(ANSI colours stripped, long lines cut), a search in wrapped lines, and a
source that fails. The log is generated from fixed numbers, so the pictures
are the same on every machine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from textual.app import App
from textual.pilot import Pilot

from tui.screens.pod_logs import PodLogsScreen

SIZES = [(80, 24), (120, 40)]
LEVELS = ["INFO", "INFO", "DEBUG", "INFO", "WARN", "INFO", "INFO", "ERROR"]
PATHS = ["/healthz", "/api/v1/orders", "/api/v1/orders/1842", "/api/v1/users/me", "/metrics"]


def log_line(i: int) -> str:
    """A plausible service log line; every 7th is coloured the way loggers do it,
    every 23rd carries a long JSON payload, every 40th is an upstream timeout."""
    ts = f"2024-03-15T07:{41 + i // 60:02d}:{i % 60:02d}.{(i * 37) % 1000:03d}Z"
    level = LEVELS[i % len(LEVELS)]
    if i % 40 == 17:
        return f"{ts} ERROR upstream timeout after 30s calling payments.svc:8443 (attempt {i % 3 + 1}/3)"
    if i % 23 == 5:
        body = ", ".join(f'"item_{k}": {{"sku": "SKU-{i * 13 + k:05d}", "qty": {k + 1}}}' for k in range(6))
        return f"{ts} DEBUG order payload {{{body}}}"
    text = f"{ts} {level} {PATHS[i % len(PATHS)]} {200 if level != 'ERROR' else 500} {(i * 7) % 90 + 3}ms"
    if i % 7 == 3:
        return text.replace(level, f"\x1b[1;3{1 + i % 6}m{level}\x1b[0m", 1)
    return text


class ScriptedSource:
    """Yields the whole log in batches and ends; the previous container's log
    fails as a cluster says it when there is none."""

    def __init__(self, total: int = 260) -> None:
        self.total = total
        self.finished: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, container: str, previous: bool) -> AsyncIterator[list[str]]:
        try:
            if previous:
                message = f'previous terminated container "{container}" in pod "api-7d9f4" not found'
                raise RuntimeError(message)
            for start in range(0, self.total, 50):
                yield [log_line(i) for i in range(start, min(start + 50, self.total))]
        finally:
            self.finished.put_nowait(container)

    async def wait(self, pilot: Pilot[None]) -> None:
        await asyncio.wait_for(self.finished.get(), timeout=5)
        await pilot.pause()


class LogsApp(App[None]):
    def __init__(self, source: ScriptedSource) -> None:
        super().__init__()
        self.source = source

    def on_mount(self) -> None:
        self.push_screen(PodLogsScreen("prod/api-7d9f4", ["api", "envoy"], self.source, max_lines=200))


@pytest.fixture(autouse=True)
def _colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_following(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    source = ScriptedSource()
    assert snap_compare(LogsApp(source), terminal_size=size, run_before=source.wait)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_search_in_wrapped_lines(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    source = ScriptedSource()

    async def run_before(pilot: Pilot[None]) -> None:
        await source.wait(pilot)
        await pilot.press("w", "slash", *"TIMEOUT", "enter", "N")

    assert snap_compare(LogsApp(source), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_previous_log_not_found(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    source = ScriptedSource()

    async def run_before(pilot: Pilot[None]) -> None:
        await source.wait(pilot)
        await pilot.press("p")
        await source.wait(pilot)

    assert snap_compare(LogsApp(source), terminal_size=size, run_before=run_before)

"""PodLogsScreen's behaviour with a fake LogSource fed from queues: each test
hands the stream batches (or an error, or its end) and waits until the screen
has taken them; nothing sleeps. The real Kubernetes source is tested with the
Kubernetes provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from textual.app import App
from textual.widgets import Static

from tui.screens.pod_logs import PodLogsScreen, SearchInput
from widgets.log_view import LogView

END = None


class FakeStream:
    """One opened stream: what it was opened for, what to yield, whether it was closed."""

    def __init__(self, container: str, previous: bool) -> None:
        self.container = container
        self.previous = previous
        self.queue: asyncio.Queue[list[str] | Exception | None] = asyncio.Queue()
        self.closed = asyncio.Event()

    async def feed(self, item: list[str] | Exception | None) -> None:
        """Hand the stream one item and wait until the screen has consumed it."""
        await self.queue.put(item)
        await self.queue.join()


class FakeSource:
    """A LogSource: every call opens a FakeStream the test drives."""

    def __init__(self) -> None:
        self.opened: asyncio.Queue[FakeStream] = asyncio.Queue()
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, container: str, previous: bool) -> AsyncIterator[list[str]]:
        stream = FakeStream(container, previous)
        self.calls.append((container, previous))
        self.opened.put_nowait(stream)
        try:
            while True:
                item = await stream.queue.get()
                try:
                    if item is END:
                        return
                    if isinstance(item, Exception):
                        raise item
                    yield item  # resumes only once the screen asks for more: the batch was taken
                finally:
                    stream.queue.task_done()
        finally:
            stream.closed.set()

    async def next_stream(self) -> FakeStream:
        return await asyncio.wait_for(self.opened.get(), timeout=5)


class LogsApp(App[None]):
    def __init__(self, source: FakeSource, containers: tuple[str, ...] = ("app", "sidecar"),
                 max_lines: int = 10_000) -> None:
        super().__init__()
        self.source = source
        self.containers = containers
        self.max_lines = max_lines

    def on_mount(self) -> None:
        self.push_screen(PodLogsScreen("prod/api-7d9f4", self.containers, self.source,
                                       max_lines=self.max_lines))


def lines(start: int, stop: int, text: str = "line") -> list[str]:
    return [f"{text} {i}" for i in range(start, stop)]


def rows(log: LogView) -> list[str]:
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


def shown(log: LogView) -> list[str]:
    return [row for row in rows(log) if row]


def header(app: App[None]) -> str:
    return str(app.screen.query_one("#logs-header", Static).render())


def status(app: App[None]) -> str:
    return str(app.screen.query_one("#logs-status", Static).render())


def screen(app: App[None]) -> PodLogsScreen:
    assert isinstance(app.screen, PodLogsScreen)
    return app.screen


async def test_following_keeps_the_last_line_visible() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        assert (stream.container, stream.previous) == ("app", False)
        for start in range(0, 100, 20):
            await stream.feed(lines(start, start + 20))
            await pilot.pause()
            assert shown(screen(app).log_view)[-1] == f"line {start + 19}"
        assert "● following" in header(app)
        assert "100 lines" in status(app)


async def test_pausing_stops_scrolling_and_counts_new_lines() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        await stream.feed(lines(0, 50))
        await pilot.press("f")
        log = screen(app).log_view
        before = rows(log)
        await stream.feed(lines(50, 80))
        await pilot.pause()
        assert rows(log) == before
        assert "paused, 30 new" in header(app)
        await pilot.press("f")
        assert shown(log)[-1] == "line 79"
        assert "● following" in header(app)


async def test_search_highlights_and_n_moves_between_matches() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        await stream.feed([f"GET /api/{i} {'500 Error' if i % 30 == 3 else '200'}" for i in range(120)])
        await pilot.press("slash", *"error", "enter")
        log = screen(app).log_view
        assert log.has_focus
        assert log.query == "error" and log.state.matches == 4
        assert log.state.match_line == 94  # the newest match in view, 1-based
        assert "/error: 4 matches, line 94 · n/N" in status(app)
        match = log.get_component_rich_style("log-view--match")
        y = rows(log).index("GET /api/93 500 Error")
        highlighted = [s.text for s in log.render_line(y) if s.style and s.style.bgcolor == match.bgcolor]
        assert highlighted == ["Error"]
        await pilot.press("N")
        assert log.state.match_line == 64
        assert "GET /api/63 500 Error" in rows(log)
        await pilot.press("n")
        assert log.state.match_line == 94
        await pilot.press("slash", *"zzz", "escape")  # Escape leaves the search as it was
        assert isinstance(app.screen, PodLogsScreen)
        assert log.query == "error"
        assert not app.screen.query_one(SearchInput).has_focus


async def test_wrap_toggle_changes_the_line_layout() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        long = "x" * 150
        await stream.feed(["first", long, "last"])
        log = screen(app).log_view
        await pilot.pause()
        assert len(shown(log)) == 3
        await pilot.press("w")
        assert "wrap on" in header(app)
        assert shown(log) == ["first", long[:79], long[79:], "last"]
        await pilot.press("w")
        assert "wrap off" in header(app)
        assert shown(log) == ["first", long[:79], "last"]


async def test_the_buffer_keeps_max_lines_and_reports_dropped_lines() -> None:
    source = FakeSource()
    app = LogsApp(source, max_lines=50)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        for start in range(0, 500, 100):
            await stream.feed(lines(start, start + 100))
        await pilot.pause()
        log = screen(app).log_view
        assert log.line_count == 50 and log.lines[0] == "line 450"
        assert "50 lines · 450 earlier lines dropped" in status(app)
        await pilot.press("g")
        assert rows(log)[0] == "… 450 earlier lines dropped (keeping the last 50)"
        await pilot.press("G")
        assert shown(log)[-1] == "line 499" and log.following


async def test_container_switch_restarts_the_source_with_the_new_container() -> None:
    source = FakeSource()
    app = LogsApp(source, containers=("app", "sidecar", "init-db"))
    async with app.run_test(size=(80, 24)) as pilot:
        first = await source.next_stream()
        await first.feed(lines(0, 10, "app"))
        await pilot.press("c")
        second = await source.next_stream()
        await asyncio.wait_for(first.closed.wait(), timeout=5)
        assert (second.container, second.previous) == ("sidecar", False)
        assert "container sidecar (2/3)" in header(app)
        log = screen(app).log_view
        assert log.line_count == 0
        await second.feed(lines(0, 3, "sidecar"))
        await pilot.pause()
        assert shown(log) == lines(0, 3, "sidecar")
        await pilot.press("c", "c")  # init-db, then around to app
        assert [call[0] for call in source.calls] == ["app", "sidecar", "init-db", "app"]


async def test_previous_toggle_asks_for_the_previous_container_log() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        current = await source.next_stream()
        await current.feed(lines(0, 5))
        await pilot.press("p")
        previous = await source.next_stream()
        assert (previous.container, previous.previous) == ("app", True)
        await asyncio.wait_for(current.closed.wait(), timeout=5)
        assert "previous logs" in header(app)
        await previous.feed(["panic: runtime error: invalid memory address"])
        await previous.feed(END)
        await pilot.pause()
        assert "stream ended" in status(app)
        assert shown(screen(app).log_view) == ["panic: runtime error: invalid memory address"]
        await pilot.press("p")
        again = await source.next_stream()
        assert (again.container, again.previous) == ("app", False)
        assert "current logs" in header(app)


async def test_a_source_error_shows_as_one_line_and_the_screen_stays_usable() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        await pilot.press("p")
        stream = await source.next_stream()
        await stream.feed(RuntimeError('previous terminated container "app" in pod \x1b[31m"x"\x1b[0m '
                                       'not found\nHTTP response body: {...}'))
        await pilot.pause()
        assert status(app).startswith('✖ previous terminated container "app" in pod "x" not found · 0 lines')
        assert "HTTP response body" not in status(app)
        await pilot.press("w", "p")  # still answers keys, and can try again
        again = await source.next_stream()
        assert not again.previous
        assert "✖" not in status(app) and "wrap on" in header(app)


async def test_ansi_escapes_from_the_stream_are_stripped() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        await stream.feed(["\x1b[1;31mERROR\x1b[0m disk full\x1b]0;owned\x07", "\x1b[2J\x1b[Hafter clear"])
        await pilot.pause()
        assert shown(screen(app).log_view) == ["ERROR disk full", "after clear"]


async def test_escape_and_q_close_the_screen_and_its_stream() -> None:
    source = FakeSource()
    app = LogsApp(source)
    async with app.run_test(size=(80, 24)) as pilot:
        stream = await source.next_stream()
        await stream.feed(lines(0, 3))
        await pilot.press("escape")
        await asyncio.wait_for(stream.closed.wait(), timeout=5)
        assert not isinstance(app.screen, PodLogsScreen)
        app.push_screen(PodLogsScreen("prod/db-0", ["postgres"], source))
        stream = await source.next_stream()
        await pilot.press("c")  # one container: nothing to switch to, no new stream
        assert source.opened.empty()
        await pilot.press("q")
        await asyncio.wait_for(stream.closed.wait(), timeout=5)
        assert not isinstance(app.screen, PodLogsScreen)

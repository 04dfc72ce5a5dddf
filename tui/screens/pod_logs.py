"""A pod's log, full screen: follow, pause, search, wrap, switch container or
look at the previous (crashed) container's log.

The screen never talks to Kubernetes. It is handed a `LogSource`: a function
that opens a stream for (container, previous) and yields batches of lines until
the stream ends. The Kubernetes views pass one backed by their client; tests
pass a queue. Switching container or previous closes the old stream (its
iterator is aclose()d) and opens a new one into a cleared view.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from widgets.log_view import DEFAULT_MAX_LINES, LogView, LogViewState, clean_line

LogSource = Callable[[str, bool], AsyncIterator[list[str]]]
"""(container, previous) -> batches of lines; the iterator ends when the stream ends."""

STREAMING = "streaming"
ENDED = "stream ended"


def one_line(exc: BaseException) -> str:
    """An exception as the one line the header has room for, as safe text (an
    API error may echo what a container wrote)."""
    text = str(exc).strip()
    return clean_line(text.splitlines()[0]) if text else type(exc).__name__


class SearchInput(Input):
    """The `/` prompt. Enter applies the query; Escape leaves it as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel search")]

    class Cancelled(Message):
        """The operator left the prompt without searching."""

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class PodLogsScreen(Screen[None]):
    """One pod's log; see the module docstring for where the lines come from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="logs.close"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next match", show=False, id="logs.next_match"),
        Binding("N", "previous_match", "Previous match", show=False, id="logs.previous_match"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("p", "toggle_previous", "Previous", id="logs.previous"),
        Binding("c", "next_container", "Container", id="logs.container"),
        Binding("G,end", "bottom", "Bottom", show=False, id="logs.bottom"),
        Binding("g,home", "top", "Top", show=False, id="logs.top"),
    ]
    DEFAULT_CSS = """
    PodLogsScreen > #logs-header { height: 1; padding: 0 1; background: $panel; text-style: bold;
                                   text-wrap: nowrap; text-overflow: ellipsis; }
    PodLogsScreen > #logs-status { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap;
                                   text-overflow: ellipsis; }
    PodLogsScreen > LogView { height: 1fr; }
    PodLogsScreen > #logs-search { height: 1; display: none; background: $boost; }
    PodLogsScreen > #logs-search.-open { display: block; }
    PodLogsScreen > #logs-search Static { width: 2; padding-left: 1; }
    PodLogsScreen > #logs-search SearchInput { width: 1fr; height: 1; border: none; padding: 0; }
    """
    COMPACT_FOOTER_BELOW = 100
    """Columns under which the footer drops its padding, so every shown key fits in 80."""

    def __init__(
        self,
        title: str,
        containers: Sequence[str],
        source: LogSource,
        *,
        container: str | None = None,
        max_lines: int = DEFAULT_MAX_LINES,
    ) -> None:
        if not containers:
            raise ValueError("a pod has at least one container")
        if container is not None and container not in containers:
            raise ValueError(f"container {container!r} is not one of {', '.join(containers)}")
        super().__init__()
        self.pod_title = title
        self.containers = tuple(containers)
        self.container = container or self.containers[0]
        self.previous = False
        self._source = source
        self._max_lines = max_lines
        self._generation = 0
        self._stream_state = STREAMING
        self._stream_error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="logs-header")
        yield Static("", id="logs-status")
        yield LogView(self._max_lines, id="logs")
        with Horizontal(id="logs-search"):
            yield Static("/")
            yield SearchInput(placeholder="text to find (any case) · Enter search · Esc cancel",
                              id="logs-search-input")
        yield Footer()

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.log_view.focus()
        self._open_stream()

    def on_resize(self) -> None:
        self.query_one(Footer).compact = self.size.width < self.COMPACT_FOOTER_BELOW

    # -- the stream ---------------------------------------------------------------

    def _open_stream(self) -> None:
        """(Re)start the stream for the container and previous shown. `exclusive`
        cancels the running consumer, whose `finally` closes its iterator."""
        self._generation += 1
        self._stream_state, self._stream_error = STREAMING, None
        self.log_view.clear()
        self.log_view.set_follow(True)  # another stream: start from its newest lines
        self._render_header()
        self.run_worker(
            self._consume(self._generation, self.container, self.previous),
            name=f"pod logs {self.container}", group="pod-logs", exclusive=True, exit_on_error=False,
        )

    async def _consume(self, generation: int, container: str, previous: bool) -> None:
        """Runs on the UI's event loop, so each batch goes straight to the widget."""
        stream: AsyncIterator[list[str]] | None = None
        try:
            stream = self._source(container, previous)
            async for batch in stream:
                if generation != self._generation:
                    return
                self.log_view.append_lines(batch)
            if generation == self._generation:
                self._stream_state = ENDED
                self._render_header()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the source's failure is shown, never raised into the app
            if generation == self._generation:
                self._stream_error = one_line(exc)
                self._render_header()
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    # -- the header -----------------------------------------------------------

    def on_log_view_state_changed(self, event: LogView.StateChanged) -> None:
        self._render_header(event.state)

    def _render_header(self, state: LogViewState | None = None) -> None:
        state = state or self.log_view.state
        self.query_one("#logs-header", Static).update(self.header_text(state), layout=False)
        self.query_one("#logs-status", Static).update(self.status_text(state), layout=False)

    def header_text(self, state: LogViewState) -> Text:
        """Which log this is and how it is shown."""
        parts: list[Text | str] = [self.pod_title]
        position = f" ({self.containers.index(self.container) + 1}/{len(self.containers)})"
        parts.append(f"container {self.container}{position if len(self.containers) > 1 else ''}")
        parts.append(Text("previous logs", style="bold yellow") if self.previous else "current logs")
        if state.following:
            parts.append(Text("● following", style="green"))
        else:
            new = f", {state.new_lines:,} new" if state.new_lines else ""
            parts.append(Text(f"‖ paused{new}", style="yellow"))
        parts.append("wrap on" if state.wrap else "wrap off")
        return Text(" · ").join(Text(p) if isinstance(p, str) else p for p in parts)

    def status_text(self, state: LogViewState) -> Text:
        """How the stream is doing, how much is held, and the search."""
        parts: list[Text] = []
        if self._stream_error is not None:  # first: it says why there is nothing to read
            parts.append(Text(f"✖ {self._stream_error}", style="bold red"))
        counts = f"{state.lines:,} lines"
        if state.dropped:
            counts += f" · {state.dropped:,} earlier lines dropped"
        parts.append(Text(counts))
        if state.query:
            found = f"{state.matches:,} matches" if state.matches else "not found"
            at = f", line {state.match_line:,}" if state.match_line else ""
            parts.append(Text.assemble("/", (state.query, "bold"), f": {found}{at} · n/N"))
        if self._stream_error is None and self._stream_state != STREAMING:
            parts.append(Text(self._stream_state, style="yellow"))
        return Text(" · ").join(parts)

    # -- search ---------------------------------------------------------------

    def action_search(self) -> None:
        bar = self.query_one("#logs-search")
        search = self.query_one(SearchInput)
        search.value = self.log_view.query
        bar.add_class("-open")
        search.focus()

    def _close_search(self) -> None:
        self.query_one("#logs-search").remove_class("-open")
        self.log_view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Highlight every match and go to the newest one above the view's bottom:
        in a log, the latest occurrence is usually the one that matters."""
        event.stop()
        self._close_search()
        if self.log_view.search(event.value):
            self.log_view.next_match(forward=False)

    def on_search_input_cancelled(self, event: SearchInput.Cancelled) -> None:
        event.stop()
        self._close_search()

    def action_next_match(self) -> None:
        self._step_match(forward=True)

    def action_previous_match(self) -> None:
        self._step_match(forward=False)

    def _step_match(self, forward: bool) -> None:
        if not self.log_view.query:
            self.notify("Nothing to repeat: search with / first.", severity="warning", timeout=3)
            return
        self.log_view.next_match(forward=forward)

    # -- follow, wrap, container, previous -----------------------------------------

    def action_toggle_follow(self) -> None:
        self.log_view.toggle_follow()

    def action_toggle_wrap(self) -> None:
        self.log_view.toggle_wrap()

    def action_bottom(self) -> None:
        self.log_view.scroll_to_bottom()

    def action_top(self) -> None:
        self.log_view.scroll_to_top()

    def action_toggle_previous(self) -> None:
        """The previous instance's log: where a crash-looping container says why."""
        self.previous = not self.previous
        self._open_stream()

    def action_next_container(self) -> None:
        if len(self.containers) < 2:
            self.notify(f"{self.pod_title} has one container.", timeout=3)
            return
        index = self.containers.index(self.container)
        self.container = self.containers[(index + 1) % len(self.containers)]
        self._open_stream()

    def action_close(self) -> None:
        self.dismiss(None)

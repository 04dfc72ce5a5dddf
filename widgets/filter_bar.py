"""The `/` prompt: filters the focused table as you type. Enter keeps the
filter (and the bar stays visible with the match count, so a filtered table
is never mistaken for the whole list); Escape clears it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static


class FilterInput(Input):
    BINDINGS = [Binding("escape", "cancel", "Clear filter", show=True)]

    def action_cancel(self) -> None:
        self.value = ""
        self.post_message(FilterBar.Closed(cleared=True))

    async def action_submit(self) -> None:
        self.post_message(FilterBar.Closed(cleared=False))


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: 1; display: none; background: $boost; }
    FilterBar.-open { display: block; }
    FilterBar Static { width: 1; }
    FilterBar FilterInput { width: 1fr; height: 1; border: none; padding: 0; }
    FilterBar #filter-count { width: auto; padding: 0 1; color: $text-muted; }
    FilterBar #filter-count.-error { color: $error; }
    """

    class Changed(Message):
        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    class Closed(Message):
        """The operator left the prompt; `cleared` is True after Escape."""

        def __init__(self, cleared: bool) -> None:
            super().__init__()
            self.cleared = cleared

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pending = ""
        self._flush_scheduled = False
        self._state: tuple[str, int, int, str | None] = ("", 0, 0, None)

    def compose(self) -> ComposeResult:
        yield Static("/")
        yield FilterInput(placeholder="text to match in any column", id="filter-input")
        yield Static("", id="filter-count")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    HINT = "Enter keeps · Esc clears"

    def open(self, current: str) -> None:
        self.input.value = current
        self.add_class("-open")
        self.input.focus()
        self._render_count(typing=True)

    def show_state(self, text: str, shown: int, total: int, error: str | None = None) -> None:
        """Visible while a filter is active, with how many rows it lets through,
        or why the typed filter was not applied (a bad regex)."""
        self._state = (text, shown, total, error)
        self.set_class(bool(text) or self.input.has_focus or bool(error), "-open")
        if text and not self.input.has_focus and self.input.value != text:
            self.input.value = text
        self._render_count(typing=self.input.has_focus)

    def _render_count(self, typing: bool) -> None:
        text, shown, total, error = self._state
        count = self.query_one("#filter-count", Static)
        count.set_class(bool(error), "-error")
        parts = [error or (f"{shown} of {total} rows" if text else "")]
        if typing:  # while typing, say how to leave
            parts.append(self.HINT)
        count.update(" · ".join(p for p in parts if p))

    def on_input_changed(self, event: Input.Changed) -> None:
        # Keys typed (or pasted) faster than we filter arrive as a burst of
        # Changed events: filter once, with the newest text, after the burst.
        event.stop()
        self._pending = event.value
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.call_later(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        self.post_message(self.Changed(self._pending))

    def on_filter_bar_closed(self, event: Closed) -> None:
        if event.cleared or not self.input.value:
            self.remove_class("-open")
        self._render_count(typing=False)  # a kept filter stays in sight, without the hint

"""What the Backups, Alerts and Costs tabs share: a table of rows over a detail pane for
the selected row, drawn on the Line API (only the lines on screen are formatted),
the pane shown on tall terminals or when asked (`i`), the table swapped for one
with more or fewer columns when the width changes.

A view subclasses `TableDetailView`; it composes a `.summary` Static, its table
(`_new_table`) and a `.details` container holding a `DetailLines`, and provides
`fit_columns`, `_projected` (the rows now) and `_show_detail`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from config.redaction import redact
from tui.screens.sections import is_section
from tui.screens.table_swap import swap_table
from widgets.resource_table import Column, ResourceTable


class LineDoc(Protocol):
    """A detail pane's document: its length and each line, built when drawn."""

    def __len__(self) -> int: ...

    def line(self, index: int) -> Text: ...


class DetailLines(ScrollView):
    """The detail pane's lines on the Line API: only the lines on screen are
    formatted and drawn (a target may list thousands of backups). Focusable:
    the arrows and page keys scroll it, Escape goes back to the targets."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to the targets", show=False),
        # Without animation: a glide through 2,000 lines would draw (and send) each step.
        Binding("up", "scroll_lines(-1)", "Up", show=False),
        Binding("down", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_page(-1)", "Page up", show=False),
        Binding("pagedown", "scroll_page(1)", "Page down", show=False),
        Binding("home", "scroll_edge(0)", "First", show=False),
        Binding("end", "scroll_edge(1)", "Last", show=False),
    ]
    DEFAULT_CSS = """
    DetailLines { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; overflow-x: hidden; }
    DetailLines:focus { background-tint: $foreground 4%; }
    """

    class Back(Message):
        """The operator is done reading: the targets table takes the keys again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.doc: LineDoc | None = None
        self._key: tuple[Any, ...] | None = None
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(256)
        self.drawn = 0
        """Lines formatted since the last `show` (tests check that a long list costs a screenful)."""

    def show(self, doc: LineDoc | None, key: tuple[Any, ...]) -> None:
        """Show `doc`; nothing when `key` (target, snapshot version) is the one shown.
        Another target starts at the top; a newer snapshot of the same keeps the place."""
        if key == self._key:
            return
        same_target = self._key is not None and self._key[:1] == key[:1]
        self._key = key
        self.doc = doc
        self._cache.clear()
        self.drawn = 0
        self.virtual_size = Size(self._width(), len(doc) if doc is not None else 0)
        if not same_target:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    def _redact(self, text: str) -> str:
        """The app's redaction (config secrets and shapes); shapes only without one."""
        return getattr(self.app, "redact", redact)(text)

    def _width(self) -> int:
        region = self.scrollable_content_region
        return region.width if region.width else self.size.width

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self._width(), len(self.doc) if self.doc is not None else 0)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        width = self._width()
        index = self.scroll_offset.y + y
        doc = self.doc
        if doc is None or index >= len(doc):
            return Strip.blank(width, self.rich_style)
        strip = self._cache.get((index, width))
        if strip is None:
            text: Text = doc.line(index)
            self.drawn += 1
            clean = self._redact(text.plain)
            if clean != text.plain:  # a secret in a detail: its styling goes with it
                text = Text(clean, style=text.style)
            if text.cell_len > width:
                text = text.copy()
                text.truncate(width, overflow="ellipsis")
            console = self.app.console
            segments = text.render(console)
            if text.style:  # Text.render leaves a whole-line style (no spans) to its caller
                segments = Segment.apply_style(segments, console.get_style(text.style))
            strip = Strip(list(segments)).apply_style(self.rich_style)
            strip = strip.crop_extend(0, width, self.rich_style)
            self._cache[(index, width)] = strip
        return strip

    def action_scroll_lines(self, delta: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + delta, animate=False)

    def action_scroll_page(self, direction: int) -> None:
        self.scroll_to(y=self.scroll_offset.y + direction * max(1, self.size.height - 1), animate=False)

    def action_scroll_edge(self, end: int) -> None:
        self.scroll_to(y=self.max_scroll_y if end else 0, animate=False)

    def action_back(self) -> None:
        self.post_message(self.Back())


class TableDetailView(Vertical):
    DETAIL_MIN_HEIGHT = 6
    DETAILS_MIN_SCREEN_HEIGHT = 32
    """From this many rows up the detail pane is shown without asking (`i` toggles)."""
    TABLE_MIN_LINES = 5

    details_wanted: bool | None = None
    """The operator's choice for the detail pane; None: shown on tall terminals."""
    _rebuilding = False
    _ready = False
    _columns: tuple[Column, ...] = ()
    _rows: list[tuple[str, tuple[Any, ...]]]
    _cursor_index = 0
    """Where the cursor was, so passing over a section heading keeps its direction."""

    # Each view provides: fit_columns(width) (a staticmethod: the columns that fit),
    # _new_table(columns), _projected() (its rows now), _show_detail(), update_from_store().

    AGES_EVERY: float | None = None
    """Seconds between `refresh_ages` calls, for views whose ages must keep counting
    between hourly snapshots; None: no timer."""

    clock: Callable[[], float] | None = None

    def on_mount(self) -> None:
        self._ready = True
        self._layout()
        self.update_from_store()  # the tab is built when first shown: draw what the store has
        if self.AGES_EVERY is not None:
            self.set_interval(self.AGES_EVERY, self.refresh_ages)

    def refresh_ages(self) -> None:
        """Repaint what shows an age (views with AGES_EVERY override it)."""

    def _now_wall(self) -> float:
        return (self.clock or time.time)()

    _token: tuple[Any, ...] = ()

    def _poll_error(self, provider: str) -> str | None:
        state = self.states.get(provider)  # type: ignore[attr-defined]
        return state.last_error if state is not None else None

    def _newest(self, provider: str, kind: type) -> tuple[Any, str | None] | None:
        """(snapshot of `kind` or None, poll error) when either changed since the last call;
        None when nothing did (or before mount: on_mount draws), so a view redraws only then."""
        if not self._ready:
            return None
        stored = self.store.latest(provider)  # type: ignore[attr-defined]
        error = self._poll_error(provider)
        token = (stored.version if stored is not None else 0, error)
        if token == self._token:
            return None
        self._token = token
        found = stored.snapshot if stored is not None else None
        return (found if isinstance(found, kind) else None), error

    @property
    def table(self) -> ResourceTable:
        return self.query_one(ResourceTable)

    @property
    def lines(self) -> DetailLines:
        return self.query_one(DetailLines)

    @property
    def details_shown(self) -> bool:
        return self.query_one(".details").has_class("-shown")

    async def on_resize(self, event: events.Resize) -> None:
        await self._fit_table(event.size.width - 1)
        self._layout()

    async def _fit_table(self, width: int) -> None:
        """Another width: columns come or go; the new table keeps the filter, the cursor
        and the focus of the old one."""
        columns = self.fit_columns(width)
        if columns == self._columns or self._rebuilding or not self.is_attached:
            return
        self._rebuilding = True
        try:
            await swap_table(self.table, self._new_table(columns),
                             lambda t: self.mount(t, after=self.query_one(".summary")), self._projected())
        finally:
            self._rebuilding = False

    def _top_height(self) -> int:
        """Lines a view draws above its table besides the summary (totals, failed sources)."""
        return 0

    def _layout(self) -> None:
        """The table keeps its rows in sight (at least TABLE_MIN_LINES, at most half the
        height while the detail pane is shown); the pane takes the rest."""
        height = (self.size.height or self.app.size.height) - self._top_height()
        wanted = (self.app.size.height >= self.DETAILS_MIN_SCREEN_HEIGHT if self.details_wanted is None
                  else self.details_wanted)
        table = max(self.TABLE_MIN_LINES, min(len(self._rows) + 1, (height - 1) // 2))
        shown = wanted and height - 1 - table >= self.DETAIL_MIN_HEIGHT
        details = self.query_one(".details")
        was = details.has_class("-shown")
        details.set_class(shown, "-shown")
        want_height = table if shown else "1fr"
        widget = self.table
        if str(widget.styles.height) != str(want_height):
            widget.styles.height = want_height
        if shown and not was:
            self._show_detail()

    def toggle_details(self) -> bool:
        """Flip the detail pane; False when the terminal has no room for it."""
        self.details_wanted = not self.details_shown
        self._layout()
        if not self.details_shown and self.lines.has_focus:
            self.table.focus()
        return self.details_shown == self.details_wanted

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        if not self._skip_section():
            self._show_detail()

    def _skip_section(self) -> bool:
        """A section's row (key "section:…") is a heading, not something to act on: the
        cursor passes over it the way it was going (at the top, to the first row below it).
        Views without sections never have such a key."""
        table = self.table
        keys, index = table.visible_keys(), table.cursor_row
        going_up = index < self._cursor_index
        self._cursor_index = index
        if not keys or not is_section(table.selected_key()):
            return False
        below = range(index + 1, len(keys))
        above = range(index - 1, -1, -1)
        for i in (*above, *below) if going_up else (*below, *above):
            if not is_section(keys[i]):
                self._cursor_index = i
                table.move_cursor_to(keys[i])
                return True
        return False

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        """Enter on a row: its details take the keys (the arrows scroll them)."""
        event.stop()
        if self.details_shown:
            self.lines.focus()

    def on_detail_lines_back(self, message: DetailLines.Back) -> None:
        self.table.focus()


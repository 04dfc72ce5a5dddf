"""The Backups tab: one row per backup target (one `backups.<target>` provider
each) with its RPO, schedule, retention and restore-test verdicts, a summary
line, and the selected target's details: facts, restore tests, and every
backup with retention's decision on it.

What it shows comes from backups_rows.py (plain functions); this module lays it
out and redraws what changed, when a target's snapshot version (or its poll
error) moved. The app calls `update_from_store` only while the tab is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any, ClassVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from providers.backups.action_specs import target_for
from providers.backups.model import TargetSnapshot
from providers.base import ActionTarget
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.backups_rows import (
    PROVIDER_PREFIX,
    DetailDoc,
    detail_title,
    fit_columns,
    missing_row,
    project,
    summary_line,
    target_row,
)
from tui.screens.table_swap import swap_table
from widgets.metric_spark import locale_is_utf8
from widgets.resource_table import Column, ResourceTable


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
        self.doc: DetailDoc | None = None
        self._key: tuple[Any, ...] | None = None
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(256)
        self.drawn = 0
        """Lines formatted since the last `show` (tests check that a long list costs a screenful)."""

    def show(self, doc: DetailDoc | None, key: tuple[Any, ...]) -> None:
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


class BackupsView(Vertical):
    DEFAULT_CSS = """
    BackupsView > .summary { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BackupsView > ResourceTable { height: 1fr; min-height: 4; }
    BackupsView > .details { height: 1fr; display: none; }
    BackupsView > .details.-shown { display: block; }
    BackupsView .detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1;
                                text-wrap: nowrap; text-overflow: ellipsis; }
    """

    DETAIL_MIN_HEIGHT = 6
    DETAILS_MIN_SCREEN_HEIGHT = 32
    """From this many rows up the detail pane is shown without asking (`i` toggles)."""
    TABLE_MIN_LINES = 5

    def __init__(self, store: Store, states: Mapping[str, ProviderState], providers: Sequence[str], *,
                 tz: tzinfo | None = None, ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.states = states
        self.providers = tuple(p for p in providers if p.startswith(PROVIDER_PREFIX))
        self.tz = tz
        self.ascii = (not locale_is_utf8()) if ascii is None else ascii
        self.details_wanted: bool | None = None
        """The operator's choice for the detail pane; None: shown on tall terminals."""
        self._token: tuple[Any, ...] = ()
        self._snapshots: dict[str, TargetSnapshot] = {}
        self._versions: dict[str, int] = {}
        self._row_cache: dict[str, tuple[Any, tuple[Any, ...]]] = {}
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._columns: tuple[Column, ...] = ()
        self._summary: Text | None = None
        self._rebuilding = False
        self._ready = False

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", classes="summary")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        with Vertical(classes="details"):
            yield Static("", classes="detail-title", markup=False)
            yield DetailLines(id="backups-detail")

    def on_mount(self) -> None:
        self._ready = True
        self._layout()
        self.update_from_store()  # the tab is built when first shown: draw what the store has

    def _new_table(self, columns: tuple[Column, ...]) -> ResourceTable:
        self._columns = columns
        return ResourceTable(columns, empty_text="waiting for the first listing of the backup targets…",
                             id="backups-table")

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
        """Another width: the source and size-trend columns come or go; the new table
        keeps the filter, the cursor and the focus of the old one."""
        columns = fit_columns(width)
        if columns == self._columns or self._rebuilding or not self.is_attached:
            return
        self._rebuilding = True
        try:
            await swap_table(self.table, self._new_table(columns),
                             lambda t: self.mount(t, after=self.query_one(".summary")), self._projected())
        finally:
            self._rebuilding = False

    def _layout(self) -> None:
        """The table keeps its rows in sight (at least TABLE_MIN_LINES, at most half the
        height while the detail pane is shown); the pane takes the rest."""
        height = self.size.height or self.app.size.height
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

    # -- data ---------------------------------------------------------------------

    def update_from_store(self) -> None:
        """Redraw from the newest snapshots; nothing when no target's snapshot or poll
        error changed since the last time."""
        if not self._ready:
            return  # on_mount draws
        token = tuple(
            (name, stored.version if (stored := self.store.latest(name)) else 0,
             state.last_error if (state := self.states.get(name)) else None)
            for name in self.providers
        )
        if token == self._token:
            return
        self._token = token
        shown: list[tuple[str, TargetSnapshot | None, str]] = []
        snapshots: dict[str, TargetSnapshot] = {}
        rows: list[tuple[str, tuple[Any, ...]]] = []
        cache: dict[str, tuple[Any, tuple[Any, ...]]] = {}
        for name, version, error in token:
            target = name[len(PROVIDER_PREFIX):]
            stored = self.store.latest(name)
            found = stored.snapshot if stored is not None else None
            snap = found if isinstance(found, TargetSnapshot) else None
            if snap is not None:
                snapshots[target] = snap
                self._versions[target] = version
            shown.append((target, snap, error or ""))
            source = (version, None) if snap is not None else (0, error or "")
            hit = self._row_cache.get(target)
            if hit is not None and hit[0] == source:
                row = hit[1]
            elif snap is not None:
                row = target_row(snap, self.tz, self.ascii)
            else:
                row = missing_row(target, error or "")
            cache[target] = (source, row)
            rows.append((target, row))
        self._row_cache = cache
        self._snapshots = snapshots
        summary = summary_line(shown)
        if summary != self._summary:
            self._summary = summary
            self.query_one(".summary", Static).update(summary)
        count = len(self._rows)
        self._rows = rows
        self.table.apply(self._projected())
        if len(rows) != count:
            self._layout()
        self._show_detail()

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(key, project(row, self._columns)) for key, row in self._rows]

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        self._show_detail()

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        """Enter on a target: its details take the keys (arrows scroll the backups)."""
        event.stop()
        if self.details_shown:
            self.lines.focus()

    def on_detail_lines_back(self, message: DetailLines.Back) -> None:
        self.table.focus()

    def selected(self) -> TargetSnapshot | None:
        key = self.table.selected_key()
        return self._snapshots.get(key) if key is not None else None

    def _show_detail(self) -> None:
        if not self.details_shown:
            return  # drawn when shown
        key = self.table.selected_key()
        title = self.query_one(".detail-title", Static)
        snap = self._snapshots.get(key) if key is not None else None
        if snap is None:
            state = self.states.get(f"{PROVIDER_PREFIX}{key}") if key else None
            why = (f"{key}: no data: {state.last_error}" if state is not None and state.last_error
                   else f"{key}: no data yet" if key else self.table.empty_text)
            title.update(why)
            self.lines.show(None, (key, None))
            return
        title.update(detail_title(snap))
        version = self._versions.get(snap.target, 0)
        lines = self.lines
        if lines.doc is None or (snap.target, version, self.tz) != lines._key:
            lines.show(DetailDoc(snap, self.tz), (snap.target, version, self.tz))

    # -- actions ------------------------------------------------------------------

    def target_for(self, action_id: str) -> ActionTarget | str:
        """The selected target as the target of `action_id`, or one line saying why it cannot be."""
        key = self.table.selected_key()
        if key is None:
            return "select a backup target first"
        snap = self._snapshots.get(key)
        if snap is None:
            return f"{key}: no listing from this target yet"
        return target_for(action_id, snap)

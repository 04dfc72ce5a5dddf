"""LogView: a bounded, followable log on Textual's Line API.

A pod followed for hours must not grow memory, a burst of 500 lines must not
cost 500 repaints, and a log line must never drive the terminal. So:

- lines live in a ring buffer (`deque(maxlen=max_lines)`); what falls off the
  front is counted and shown as a first row ("N earlier lines dropped");
- `append_lines(batch)` does one size update and at most one refresh per
  batch, and none while the operator reads older lines off screen;
- only visible rows are rendered, from a cache keyed by (stream line, row,
  offset, width), so a follow frame re-renders just the rows that are new;
- ANSI escapes and control characters are removed as lines arrive, and text
  is drawn as plain segments: no Rich markup is ever interpreted.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollTo, ScrollUp
from textual.strip import Strip

from config.redaction import redact

DEFAULT_MAX_LINES = 10_000
DEFAULT_MAX_LINE_CHARS = 16_384
"""Longer lines are cut (and say so): one huge line must not defeat the bound on memory."""
TAB_SIZE = 8

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase, mode switches
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS / SOS / PM / APC strings
    r"|\x1b[ -/]*[0-~]"  # the other escapes (charset, keypad, full reset)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f"  # C0 and C1 controls (tabs are expanded before this)
    "\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi overrides: they reorder what is shown
    "\u2028\u2029]"  # line and paragraph separators
)
_SURROGATES = re.compile("[\ud800-\udfff]")
"""Undecodable bytes smuggled in as lone surrogates would make the terminal write fail."""


def clean_line(line: str) -> str:
    """The line as safe text: escape sequences and control characters removed,
    tabs expanded. Cheap for the usual case (a printable line is returned as is)."""
    if line.isprintable():
        return line
    if "\x1b" in line or "\x9b" in line:
        line = _ESCAPES.sub("", line)
    if "\t" in line:
        line = line.expandtabs(TAB_SIZE)
    line = _CONTROLS.sub("", line)
    return _SURROGATES.sub("\ufffd", line)


def _cells(line: str) -> int:
    return len(line) if line.isascii() else cell_len(line)


def _rows_for(line: str, width: int) -> int:
    """Screen rows a wrapped line takes (at least one, even when empty)."""
    if width <= 0:
        return 1
    if line.isascii():
        return max(1, -(-len(line) // width))
    return max(1, len(chop_cells(line, width)))


@dataclass(frozen=True)
class LogViewState:
    """What a status line needs to say about the log, as plain values."""

    following: bool
    wrap: bool
    lines: int
    """Lines held in the buffer."""
    received: int
    """Lines appended since the last clear()."""
    dropped: int
    """Earlier lines let go to stay within max_lines."""
    new_lines: int
    """Lines that arrived while paused (reset when following resumes)."""
    query: str
    matches: int
    """Held lines that contain the query."""
    match_line: int | None
    """1-based stream line number of the current match, if any."""


class LogView(ScrollView, can_focus=True):
    """A log that follows, pauses, searches and wraps; see the module docstring."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--match",
        "log-view--current",
        "log-view--dropped",
    }
    DEFAULT_CSS = """
    LogView { height: 1fr; overflow-y: scroll; overflow-x: auto; scrollbar-size-vertical: 1;
              scrollbar-size-horizontal: 1; }
    LogView.-wrap { overflow-x: hidden; }
    LogView > .log-view--match { background: $warning; color: $background; }
    LogView > .log-view--current { background: $primary 35%; }
    LogView > .log-view--dropped { color: $text-muted; text-style: italic; }
    """

    class StateChanged(Message):
        """Follow, wrap, line counts or search changed: redraw the status from `state`."""

        def __init__(self, log_view: LogView, state: LogViewState) -> None:
            super().__init__()
            self.log_view = log_view
            self.state = state

        @property
        def control(self) -> LogView:
            return self.log_view

    def __init__(
        self,
        max_lines: int = DEFAULT_MAX_LINES,
        *,
        max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
        follow: bool = True,
        wrap: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._starts: deque[int] = deque(maxlen=max_lines)
        """Wrap mode: the row each held line starts on (drops in step with _lines)."""
        self._rows_end = 0
        """Wrap mode: the row after the last line."""
        self._total = 0
        self._first = 0
        """Stream index of _lines[0], which is also how many lines were dropped."""
        self._widest = 0
        self._following = follow
        self._wrap = wrap
        self._wrap_width = 0
        self._new_lines = 0
        self._query = ""
        self._pattern: re.Pattern[str] | None = None
        self._matches = 0
        self._match_line: int | None = None
        self._cache: LRUCache[tuple[int, int, int, int, bool], Strip] = LRUCache(1024)
        self._base_style: Style | None = None
        self._measured: tuple[Size, int] = (Size(0, 0), 0)
        self._announced: LogViewState | None = None
        self._announce_scheduled = False
        self.set_class(wrap, "-wrap")

    # -- reading ------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._following

    @property
    def wrap(self) -> bool:
        return self._wrap

    @property
    def query(self) -> str:
        return self._query

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def dropped(self) -> int:
        return self._first

    @property
    def lines(self) -> tuple[str, ...]:
        """A copy of the held lines, oldest first, as they are shown (cleaned)."""
        return tuple(self._lines)

    @property
    def state(self) -> LogViewState:
        return LogViewState(
            following=self._following,
            wrap=self._wrap,
            lines=len(self._lines),
            received=self._total,
            dropped=self._first,
            new_lines=self._new_lines,
            query=self._query,
            matches=self._matches,
            match_line=None if self._match_line is None else self._match_line + 1,
        )

    # -- writing ------------------------------------------------------------

    def append_lines(self, lines: Sequence[str]) -> None:
        """Add a batch (as a log stream delivers it): one size update, and a
        repaint only if the batch shows (following, filling a short view, or
        pushing out lines on screen). Call it on the app's thread."""
        clean = self._clean(lines)
        if not clean:
            return
        skipped = max(0, len(clean) - self.max_lines)
        if skipped:
            clean = clean[skipped:]
        held = len(self._lines)
        pushed_out = min(held, max(0, held + len(clean) - self.max_lines))
        height = self._viewport_height()
        top = round(self.scroll_offset.y)
        anchor = None if self._following else self._anchor(top)
        bottom_was_visible = self._virtual_height() <= top + height

        if self._pattern is not None:
            search = self._pattern.search
            self._matches -= sum(1 for line in islice(self._lines, pushed_out) if search(line))
            self._matches += sum(1 for line in clean if search(line))
        if self._wrap:
            width, row, starts = self._wrap_width, self._rows_end, self._starts
            for line in clean:
                starts.append(row)
                row += _rows_for(line, width)
            self._rows_end = row
        joined = "".join(clean)  # one C-speed scan instead of a check per line
        widest = max(map(len, clean)) if joined.isascii() else max(map(_cells, clean))
        widened = widest > self._widest and not self._wrap
        self._widest = max(self._widest, widest)
        self._lines.extend(clean)
        self._total += len(clean) + skipped
        self._first = self._total - len(self._lines)
        if self._match_line is not None and self._match_line < self._first:
            self._match_line = None
        if not self._following:
            self._new_lines += len(clean) + skipped
        self._sync_size()

        if self._following:
            if widened:  # a horizontal scrollbar may come with this batch and cover the last row
                self._stick_to_bottom()
            else:
                self._scroll_rows(self.max_scroll_y)
            self.refresh()
        else:
            new_top = self._anchor_row(anchor)
            self._scroll_rows(new_top)
            marker_changed = self._first and new_top == 0
            if anchor is None or new_top != top or bottom_was_visible or marker_changed:
                self.refresh()
        self._schedule_announce()

    def clear(self) -> None:
        """Forget every line and count (a new stream starts); follow, wrap and the
        search query stay as the operator set them."""
        self._lines.clear()
        self._starts.clear()
        self._rows_end = self._total = self._first = self._widest = 0
        self._new_lines = self._matches = 0
        self._match_line = None
        self._cache.clear()
        self._sync_size()
        self._scroll_rows(0, x=0)
        self.refresh()
        self._schedule_announce()

    # -- follow, wrap, search ---------------------------------------------------

    def set_follow(self, follow: bool) -> None:
        """Following keeps the newest line in view; paused, the view stays put and
        counts what arrives below it."""
        if follow == self._following:
            return
        self._following = follow
        self._new_lines = 0
        if follow:
            self._stick_to_bottom()
        self._schedule_announce()

    def toggle_follow(self) -> None:
        self.set_follow(not self._following)

    def scroll_to_bottom(self) -> None:
        """The newest line, and follow from there (what `G` means in a log)."""
        if self._following:
            self._stick_to_bottom()
        self.set_follow(True)

    def scroll_to_top(self) -> None:
        """The oldest held line; pauses, or the next batch would pull the view back down."""
        self.set_follow(False)
        self._scroll_rows(0)

    def set_wrap(self, wrap: bool) -> None:
        """Wrapped, long lines fold at the width; unwrapped, they are cut and the
        view scrolls sideways. The line at the top stays at the top."""
        if wrap == self._wrap:
            return
        anchor = self._anchor(round(self.scroll_offset.y))
        self._wrap = wrap
        self.set_class(wrap, "-wrap")
        self._wrap_width = self._viewport_width()
        if wrap:
            self._rebuild_rows()
        self._cache.clear()
        self._sync_size()
        if self._following:
            self._stick_to_bottom()
        else:
            top_line = None if anchor is None else (anchor[0], 0)
            self._scroll_rows(self._anchor_row(top_line), x=0)
            if self.is_attached:  # losing the horizontal scrollbar changes the height
                self.call_after_refresh(lambda: self._scroll_rows(self._anchor_row(top_line)))
        self.refresh()
        self._schedule_announce()

    def toggle_wrap(self) -> None:
        self.set_wrap(not self._wrap)

    def search(self, query: str) -> int:
        """Highlight `query` (plain text, any case) in every line; returns how many
        held lines contain it. An empty query clears the search."""
        self._query = query
        self._pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
        self._match_line = None
        search = self._pattern.search if self._pattern else None
        self._matches = sum(1 for line in self._lines if search(line)) if search else 0
        self._cache.clear()
        self.refresh()
        self._schedule_announce()
        return self._matches

    def next_match(self, forward: bool = True) -> bool:
        """Move to the next (or previous) line containing the query, wrapping at
        the ends, and mark it. Without a current match the search starts from the
        top of the view (forward) or its bottom (backward), that row included.
        Pauses following: the operator is now reading that line."""
        if self._pattern is None or not self._lines:
            return False
        lines = list(self._lines)
        count = len(lines)
        if self._match_line is not None:
            start = self._match_line - self._first + (1 if forward else -1)
        else:
            start = self._visible_index(last=not forward)
        start %= count
        if forward:
            order = [*range(start, count), *range(0, start)]
        else:
            order = [*range(start, -1, -1), *range(count - 1, start, -1)]
        search = self._pattern.search
        for index in order:
            if search(lines[index]):
                self._jump_to(index)
                return True
        return False

    # -- scrolling by the operator ---------------------------------------------

    def action_scroll_up(self) -> None:
        self._pause_if_scrollable()
        self.scroll_up(animate=False)

    def action_scroll_down(self) -> None:
        self.scroll_down(animate=False)

    def action_page_up(self) -> None:
        self._pause_if_scrollable()
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_scroll_home(self) -> None:
        self.scroll_to_top()

    def action_scroll_end(self) -> None:
        self.scroll_to_bottom()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not (event.ctrl or event.shift):
            self._pause_if_scrollable()

    def on_scroll_up(self, event: ScrollUp) -> None:
        self._pause_if_scrollable()

    def on_scroll_to(self, event: ScrollTo) -> None:
        """Dragging the scrollbar up pauses, as scrolling up does."""
        if event.y is not None and event.y < self.max_scroll_y:
            self._pause_if_scrollable()

    def _pause_if_scrollable(self) -> None:
        if self.max_scroll_y > 0:
            self.set_follow(False)

    # -- rows -------------------------------------------------------------------

    def _clean(self, lines: Iterable[str]) -> list[str]:
        limit = self.max_line_chars
        out: list[str] = []
        # Pod logs often carry credentials: masked as they arrive, so search never finds them.
        mask = getattr(self.app, "redact", redact) if self.is_attached else redact
        for line in map(mask, lines):
            if len(line) <= limit and line.isprintable():
                out.append(line)
                continue
            parts = line.split("\n")
            if len(parts) > 1 and parts[-1] == "":
                parts.pop()  # a trailing newline ends the line; it is not another one
            for part in parts:
                cut = len(part) - limit
                if cut > 0:
                    out.append(f"{clean_line(part[:limit])} … [{cut:,} more characters]")
                else:
                    out.append(clean_line(part))
        return out

    def _marker_rows(self) -> int:
        return 1 if self._first else 0

    def _content_rows(self) -> int:
        if not self._lines:
            return 0
        return self._rows_end - self._starts[0] if self._wrap else len(self._lines)

    def _virtual_height(self) -> int:
        return self._marker_rows() + self._content_rows()

    def _locate(self, row: int) -> tuple[int, int] | None:
        """(index into the buffer, row within that line) of a virtual row."""
        row -= self._marker_rows()
        if row < 0 or row >= self._content_rows():
            return None
        if not self._wrap:
            return row, 0
        target = self._starts[0] + row
        index = bisect_right(self._starts, target) - 1
        return index, target - self._starts[index]

    def _row_of(self, index: int, sub: int = 0) -> int:
        if self._wrap:
            return self._marker_rows() + self._starts[index] - self._starts[0] + sub
        return self._marker_rows() + index

    def _anchor(self, top: int) -> tuple[int, int] | None:
        """(stream line, row within it) at the top of the view, to keep it there."""
        located = self._locate(top)
        return None if located is None else (self._first + located[0], located[1])

    def _anchor_row(self, anchor: tuple[int, int] | None) -> int:
        if anchor is None or anchor[0] < self._first:
            return 0
        index = anchor[0] - self._first
        sub = anchor[1]
        if self._wrap:
            sub = min(sub, _rows_for(self._lines[index], self._wrap_width) - 1)
        return self._row_of(index, sub)

    def _rebuild_rows(self) -> None:
        width, row = self._wrap_width, 0
        starts: deque[int] = deque(maxlen=self.max_lines)
        for line in self._lines:
            starts.append(row)
            row += _rows_for(line, width)
        self._starts, self._rows_end = starts, row

    def _sync_size(self) -> None:
        size = Size(self._wrap_width if self._wrap else self._widest, self._virtual_height())
        if size != self.virtual_size:
            self.virtual_size = size

    def _viewport_width(self) -> int:
        """Measured once per size: it is asked for on every rendered row. (The
        vertical scrollbar is always there, so only the size changes it.)"""
        size = self.size
        if size != self._measured[0]:
            self._measured = (size, self.scrollable_content_region.width or size.width)
        return self._measured[1]

    def _viewport_height(self) -> int:
        return self.scrollable_content_region.height or self.size.height

    def _scroll_rows(self, y: int, x: int | None = None) -> None:
        self.scroll_to(x=x, y=y, animate=False, force=True)

    def _stick_to_bottom(self) -> None:
        self._scroll_rows(self.max_scroll_y)
        if self.is_attached:  # the size may only be laid out after this refresh (a scrollbar came or went)
            self.call_after_refresh(lambda: self._following and self._scroll_rows(self.max_scroll_y))

    def _visible_index(self, last: bool) -> int:
        height = self._viewport_height()
        top = round(self.scroll_offset.y)
        row = min(top + max(0, height - 1), self._virtual_height() - 1) if last else top
        located = self._locate(max(row, self._marker_rows()))
        return located[0] if located else (len(self._lines) - 1 if last else 0)

    def _jump_to(self, index: int) -> None:
        self._match_line = self._first + index
        self.set_follow(False)
        row = self._row_of(index)
        top, height = round(self.scroll_offset.y), self._viewport_height()
        if not top <= row < top + height:
            self._scroll_rows(max(0, row - height // 3))
        self.refresh()
        self._schedule_announce()

    # -- state messages ---------------------------------------------------------

    def _schedule_announce(self) -> None:
        """Many batches between two message-loop turns send one StateChanged."""
        if not self._announce_scheduled and self.is_attached:
            self._announce_scheduled = True
            self.call_later(self._announce)

    def _announce(self) -> None:
        self._announce_scheduled = False
        state = self.state
        if state != self._announced:
            self._announced = state
            self.post_message(self.StateChanged(self, state))

    # -- rendering --------------------------------------------------------------

    def on_mount(self) -> None:
        self._schedule_announce()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        width = self._viewport_width()
        if self._wrap and width != self._wrap_width:
            anchor = self._anchor(round(self.scroll_offset.y))
            self._wrap_width = width
            self._rebuild_rows()
            self._sync_size()
            if not self._following:
                self._scroll_rows(self._anchor_row(anchor))
        else:
            self._wrap_width = width
            self._sync_size()
        if self._following:
            self._stick_to_bottom()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base_style = None
        self._cache.clear()

    def _style(self) -> Style:
        """`rich_style` costs ~20 µs to compute; it only changes with the styles."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def render_line(self, y: int) -> Strip:
        width = self._viewport_width()
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        if row == 0 and self._first:
            return self._dropped_strip(width)
        located = self._locate(row)
        if located is None:
            return Strip.blank(width, self._style())
        index, sub = located
        stream_line = self._first + index
        x = 0 if self._wrap else scroll_x
        current = stream_line == self._match_line
        key = (stream_line, sub, x, width, current)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._row_strip(self._lines[index], sub, x, width, current)
            self._cache[key] = strip
        return strip

    def _row_strip(self, line: str, sub: int, x: int, width: int, current: bool) -> Strip:
        base = self._style()
        if current:
            base = base + self.get_component_rich_style("log-view--current")
        crop = False
        if self._wrap:
            start, end = self._chunk(line, sub, width)
        elif line.isascii():  # one cell per character: cut the text before styling it
            start, end = min(x, len(line)), min(len(line), x + width)
        else:
            start, end, crop = 0, len(line), True
        strip = Strip(self._segments(line, start, end, base))
        if crop:
            return strip.crop_extend(x, x + width, base)
        return strip.adjust_cell_length(width, base)

    def _chunk(self, line: str, sub: int, width: int) -> tuple[int, int]:
        """Character range of a wrapped line's row `sub`."""
        fold = self._wrap_width or width
        if line.isascii():
            return sub * fold, min(len(line), (sub + 1) * fold)
        chunks = chop_cells(line, fold)
        if sub >= len(chunks):
            return len(line), len(line)
        start = sum(len(chunk) for chunk in chunks[:sub])
        return start, start + len(chunks[sub])

    def _segments(self, line: str, start: int, end: int, base: Style) -> list[Segment]:
        if self._pattern is None:
            return [Segment(line[start:end], base)]
        match_style = base + self.get_component_rich_style("log-view--match")
        segments: list[Segment] = []
        pos = start
        for match in self._pattern.finditer(line, max(0, start - len(self._query) + 1)):
            m_start, m_end = match.span()
            if m_start >= end:
                break
            m_start, m_end = max(m_start, start), min(m_end, end)
            if m_end <= m_start:
                continue
            if m_start > pos:
                segments.append(Segment(line[pos:m_start], base))
            segments.append(Segment(line[m_start:m_end], match_style))
            pos = m_end
        if pos < end or not segments:
            segments.append(Segment(line[pos:end], base))
        return segments

    def _dropped_strip(self, width: int) -> Strip:
        style = self._style() + self.get_component_rich_style("log-view--dropped")
        text = f"… {self._first:,} earlier lines dropped (keeping the last {self.max_lines:,})"
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)

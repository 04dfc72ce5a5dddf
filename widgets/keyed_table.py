"""A DataTable fed whole snapshots of keyed rows.

`apply(rows)` diffs the new rows against the shown ones: removed keys go,
changed cells are updated, new keys are added; the table is never cleared
and refilled, so the cursor stays on the same row id across refreshes,
sorts and filters. (The fast Line-API table replaces this in its own issue.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable


@dataclass(frozen=True)
class Column:
    """A column declared as data: key, header, width and how values sort."""

    key: str
    label: str
    width: int | None = None
    numeric: bool = False


Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]
"""(row key, cells); build cells with `cell()` so numbers sort as numbers"""


class KeyedTable(DataTable[Cell]):
    """Keyed rows, substring filter over every column, sort by a column."""

    class FilterChanged(Message):
        def __init__(self, table: KeyedTable, text: str, shown: int, total: int) -> None:
            super().__init__()
            self.table = table
            self.text = text
            self.shown = shown
            self.total = total

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        sort_key: str | None = None,
        sort_reverse: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.table_columns = tuple(columns)
        self._rows: dict[str, Row] = {}
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self._filter = ""
        self._sort_key = sort_key
        self._sort_reverse = sort_reverse

    def on_mount(self) -> None:
        for col in self.table_columns:
            self.add_column(col.label, key=col.key, width=col.width)

    @property
    def filter_text(self) -> str:
        return self._filter

    @property
    def total_rows(self) -> int:
        return len(self._rows)

    def selected_key(self) -> str | None:
        """The row key under the cursor, or None for an empty table."""
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key((self.cursor_row, 0))
        return key.value

    def set_filter(self, text: str) -> None:
        self._filter = text.strip()
        self._sync()
        self._announce()

    def apply(self, rows: Sequence[Row]) -> None:
        """Show exactly `rows` (before filtering), updating in place."""
        self._rows = {r[0]: r for r in rows}
        self._sync()
        if self._filter:
            self._announce()  # the match count changes with the data

    def _announce(self) -> None:
        self.post_message(self.FilterChanged(self, self._filter, len(self._shown), len(self._rows)))

    def _matches(self, row: Row) -> bool:
        if not self._filter:
            return True
        needle = self._filter.lower()
        return any(needle in str(c).lower() for c in row[1])

    def _sync(self) -> None:
        selected = self.selected_key()
        wanted = {k: r for k, r in self._rows.items() if self._matches(r)}
        for key in [k for k in self._shown if k not in wanted]:
            self.remove_row(key)
            del self._shown[key]
        order_changed = False
        for key, (_, cells) in wanted.items():
            old = self._shown.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                order_changed = True
            elif old != cells:
                for col, new, prev in zip(self.table_columns, cells, old, strict=True):
                    if new != prev:
                        self.update_cell(key, col.key, new)
                        if col.key == self._sort_key:
                            order_changed = True
            self._shown[key] = cells
        if order_changed and self._sort_key:
            self._resort()
        if selected in self._shown:
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False)

    def sort_by(self, key: str, reverse: bool = False) -> None:
        self._sort_key, self._sort_reverse = key, reverse
        selected = self.selected_key()
        self._resort()
        if selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _resort(self) -> None:
        if self._sort_key is None:
            return
        self.sort(self._sort_key, key=_sort_value, reverse=self._sort_reverse)


class SortableText(Text):
    """A cell that renders as text but sorts by a raw value ("9 MB" < "10 MB")."""

    sort_value: Any = None


def cell(text: str, sort_value: Any = None, style: str = "", justify: str | None = None) -> SortableText:
    """Build a table cell; `sort_value` defaults to the text itself."""
    out = SortableText(text, style=style, justify=justify)  # type: ignore[arg-type]
    out.sort_value = text.lower() if sort_value is None else sort_value
    return out


def _sort_value(value: Any) -> Any:
    raw = getattr(value, "sort_value", None)
    if raw is None:
        return (1, str(value).lower())
    return (0, raw)

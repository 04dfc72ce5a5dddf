"""The Security tab: the `security` provider's SecuritySnapshot as a totals line
(findings per severity, sources scanned, the scan's age, what `security.ignore`
hides; "first scan running…" until the first scan ends), the sources that did not
answer, one table of sections — CRITICAL, HIGH, MEDIUM, LOW, then SOURCES — and the
selected finding's details: evidence, remedy, and the key that accepts it.

What it shows comes from security_rows.py (plain functions); this module lays it
out and redraws when the snapshot version (or the poll error) moved. The app calls
`update_from_store` only while the tab is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from providers.runtime import ProviderState
from providers.security.model import Finding, SecuritySnapshot
from providers.store import Store
from tui.screens.detail_view import DetailLines, TableDetailView
from tui.screens.security_rows import (
    PROVIDER,
    Listing,
    SecurityDoc,
    detail_for,
    empty_text,
    error_lines,
    fit_columns,
    full_width,
    listing,
    project,
    totals_line,
)
from widgets.resource_table import Column, ResourceTable


class SecurityTable(ResourceTable):
    """The findings table: its order is the sections' (most severe first), so it does not
    sort. A colour per severity, and info and muted for headings and notes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *ResourceTable.COMPONENT_CLASSES, "resource-table--critical", "resource-table--high",
        "resource-table--medium", "resource-table--low", "resource-table--info", "resource-table--muted"}
    DEFAULT_CSS = """
    SecurityTable > .resource-table--critical { color: $error; text-style: bold reverse; }
    SecurityTable > .resource-table--high { color: $error; text-style: bold; }
    SecurityTable > .resource-table--medium { color: $warning; }
    SecurityTable > .resource-table--low { color: $primary; }
    SecurityTable > .resource-table--info { color: $primary; text-style: bold; }
    SecurityTable > .resource-table--muted { color: $text-muted; }
    """

    SORTABLE = False


class SecurityView(TableDetailView):
    DEFAULT_CSS = """
    SecurityView > .summary { height: auto; }
    SecurityView .security-line { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    SecurityView #security-errors { height: auto; padding: 0 1; display: none; text-wrap: nowrap;
                                    text-overflow: ellipsis; }
    SecurityView #security-errors.-shown { display: block; }
    SecurityView > SecurityTable { height: 1fr; min-height: 4; }
    SecurityView > .details { height: 1fr; display: none; }
    SecurityView > .details.-shown { display: block; }
    SecurityView .detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1;
                                 text-wrap: nowrap; text-overflow: ellipsis; }
    """
    fit_columns = staticmethod(fit_columns)

    def __init__(self, store: Store, states: Mapping[str, ProviderState], *,
                 redact: Callable[[str], str] | None = None, clock: Callable[[], float] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.states = states
        self.redact: Callable[[str], str] = redact or (lambda s: s)
        self.clock = clock
        self.details_wanted: bool | None = None
        self._token: tuple[Any, ...] = ()
        self._snap: SecuritySnapshot | None = None
        self._listing = Listing((), {})
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._columns: tuple[Column, ...] = ()
        self._totals: Text | None = None
        self._errors: tuple[str, ...] = ()
        self._now = 0.0
        self._rebuilding = False
        self._ready = False

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(classes="summary"):
            yield Static("", classes="security-line", id="security-totals")
            yield Static("", id="security-errors")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        with Vertical(classes="details"):
            yield Static("", classes="detail-title", markup=False)
            yield DetailLines(id="security-detail")

    def _new_table(self, columns: tuple[Column, ...]) -> SecurityTable:
        self._columns = columns
        return SecurityTable(columns, empty_text=empty_text(self._snap, self._error()), full_width=full_width,
                             id="security-table")

    def _top_height(self) -> int:
        """The totals line and one line per failed source."""
        return 1 + len(self._errors)

    async def on_resize(self, event: events.Resize) -> None:
        await super().on_resize(event)
        self._show_detail()  # the evidence and the remedy wrap to the pane's width

    # -- data ---------------------------------------------------------------------

    AGES_EVERY = 30.0
    """Seconds between redraws of the scan's age while no new snapshot comes (scans are hourly)."""

    def refresh_ages(self) -> None:
        """`scanned 12m ago` keeps counting between polls; repainted only when its words changed."""
        if self._snap is None or self._totals is None:
            return
        now = self._now_wall()
        line = totals_line(self._snap, now, self._error(), self.redact)
        if line.plain != self._totals.plain:
            self._totals = line
            self.query_one("#security-totals", Static).update(line)

    def _error(self) -> str | None:
        return self._poll_error(PROVIDER)

    def update_from_store(self) -> None:
        """Redraw from the newest snapshot; nothing when neither it nor the poll error changed."""
        newest = self._newest(PROVIDER, SecuritySnapshot)
        if newest is None:
            return
        snap, error = newest
        self._snap = snap
        self._now = now = self._now_wall()
        totals = totals_line(snap, now, error, self.redact)
        if self._totals is None or totals.plain != self._totals.plain or totals.spans != self._totals.spans:
            self._totals = totals
            self.query_one("#security-totals", Static).update(totals)
        errors = error_lines(snap, self.redact)
        plain = tuple(line.plain for line in errors)
        errors_changed = plain != self._errors
        if errors_changed:
            self._errors = plain
            box = self.query_one("#security-errors", Static)
            box.update(Text("\n").join(errors))
            box.set_class(bool(errors), "-shown")
        self._listing = listing(snap, now, self.redact)
        table = self.table
        empty = empty_text(snap, error)
        if table.empty_text != empty:
            table.empty_text = empty
            table.refresh()
        count = len(self._rows)
        self._rows = list(self._listing.rows)
        table.apply(self._projected())
        if len(self._rows) != count or errors_changed:
            self._layout()
        self._skip_section()
        self._show_detail()

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(key, project(row, self._columns)) for key, row in self._rows]

    # -- the cursor and the detail pane -------------------------------------------------

    def _detail_width(self) -> int:
        region = self.lines.scrollable_content_region
        return region.width if region.width else max(20, self.app.size.width - 3)

    def _show_detail(self) -> None:
        if not self.details_shown:
            return  # drawn when shown
        key = self.table.selected_key()
        item = self._listing.items.get(key) if key else None
        width = self._detail_width()
        title, doc = detail_for(key, item, self._now, width, self.redact)
        self.query_one(".detail-title", Static).update(title or self.table.empty_text)
        self.lines.show(doc, (key, self._token, width))

    def selected_doc(self) -> SecurityDoc | None:
        """The detail pane's document (tests read it as text)."""
        doc = self.lines.doc
        return doc if isinstance(doc, SecurityDoc) else None

    def selected_finding(self) -> Finding | None:
        return self._listing.finding(self.table.selected_key())

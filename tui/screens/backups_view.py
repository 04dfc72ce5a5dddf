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
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
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
from tui.screens.detail_view import DetailLines, TableDetailView
from widgets.metric_spark import locale_is_utf8
from widgets.resource_table import Column, ResourceTable


class BackupsView(TableDetailView):
    DEFAULT_CSS = """
    BackupsView > .summary { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    BackupsView > ResourceTable { height: 1fr; min-height: 4; }
    BackupsView > .details { height: 1fr; display: none; }
    BackupsView > .details.-shown { display: block; }
    BackupsView .detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1;
                                text-wrap: nowrap; text-overflow: ellipsis; }
    """
    fit_columns = staticmethod(fit_columns)

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

    def _new_table(self, columns: tuple[Column, ...]) -> ResourceTable:
        self._columns = columns
        return ResourceTable(columns, empty_text="waiting for the first listing of the backup targets…",
                             id="backups-table")

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

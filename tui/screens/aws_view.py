"""One AWS service's view in the Resources tab: which accounts/regions answered,
fleet sparklines, the inventory table and the selected resource's details.

What it shows comes from a `ServiceView` (aws_views.py); this module only
lays it out and redraws what changed, when the store's version moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionTarget
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.aws_views import (
    ServiceView,
    empty_text,
    fit_columns,
    format_unit,
    metric_series,
    partition_line,
)
from tui.screens.table_swap import swap_table
from widgets.detail_pane import DetailPane
from widgets.metric_spark import MetricSpark
from widgets.resource_table import ResourceTable


class AwsView(Vertical):
    DEFAULT_CSS = """
    AwsView > .partitions { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap;
                            text-overflow: ellipsis; }
    AwsView > .partitions.-problem { color: $warning; }
    AwsView > .fleet { height: 3; }
    AwsView > .fleet MetricSpark { width: 1fr; margin: 0 1; }
    AwsView > ResourceTable { height: 1fr; min-height: 3; }
    AwsView > DetailPane { display: none; }
    AwsView > DetailPane.-shown { display: block; }
    """

    DETAIL_HEIGHT = 10
    """Lines the detail pane takes when there is room (title + 9)."""
    DETAIL_MIN_HEIGHT = 4
    TABLE_MIN_LINES = 7
    """A header and six rows: the table never shrinks below this for the pane."""
    FIXED_LINES = 4
    """The partition line and the fleet sparklines."""

    def __init__(self, spec: ServiceView, store: Store, states: Mapping[str, ProviderState], *,
                 details: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec = spec
        self.store = store
        self.states = states
        self.details_wanted = details
        self._token: tuple[int, str | None] = (-1, None)
        self._records: dict[str, Any] = {}
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._now = 0.0
        self._columns: tuple[int, ...] = ()

    @property
    def view_id(self) -> str:
        return self.spec.service

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", classes="partitions", markup=False)
        with Horizontal(classes="fleet"):
            for i, f in enumerate(self.spec.fleet):
                yield MetricSpark(f.label, warn=f.warn, critical=f.critical, maximum=f.maximum,
                                  id=f"{self.view_id}-fleet-{i}")
        yield self._new_table(fit_columns(self.spec, self.app.size.width - 1))
        yield DetailPane(self.spec.sparks, id=f"{self.view_id}-detail")

    def _new_table(self, columns: tuple[int, ...], old: ResourceTable | None = None) -> ResourceTable:
        self._columns = columns
        cols = [self.spec.columns[i] for i in columns]
        keys = {c.key for c in cols}
        sort_key, reverse = self.spec.sort_key, self.spec.sort_reverse
        if old is not None and old.sort_key in keys:
            sort_key, reverse = old.sort_key, old.sort_reverse
        return ResourceTable(cols, sort_key=sort_key if sort_key in keys else None, sort_reverse=reverse,
                             empty_text=old.empty_text if old else f"waiting for {self.spec.noun}…",
                             id=f"{self.view_id}-table")

    @property
    def table(self) -> ResourceTable:
        return self.query_one(ResourceTable)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def details_shown(self) -> bool:
        return self.detail.has_class("-shown")

    async def on_resize(self, event: events.Resize) -> None:
        columns = fit_columns(self.spec, event.size.width - 1)
        if columns != self._columns:
            await self._rebuild_table(columns)
        self._layout_detail()

    async def _rebuild_table(self, columns: tuple[int, ...]) -> None:
        """Another column set for another terminal width: a new table that keeps
        the sort, filter, cursor and focus of the old one (only on a resize)."""
        old = self.table
        await swap_table(old, self._new_table(columns, old), lambda t: self.mount(t, before=self.detail),
                         self._projected())

    def set_details(self, wanted: bool) -> bool:
        """Show or hide the detail pane; False when the terminal has no room for it."""
        self.details_wanted = wanted
        self._layout_detail()
        return self.details_shown == wanted

    def _layout_detail(self) -> None:
        room = self.size.height - self.FIXED_LINES - self.TABLE_MIN_LINES
        height = min(self.DETAIL_HEIGHT, room)
        shown = self.details_wanted and height >= self.DETAIL_MIN_HEIGHT
        pane = self.detail
        if shown and pane.styles.height != height:
            pane.styles.height = height
        was = pane.has_class("-shown")
        pane.set_class(shown, "-shown")
        if shown and not was:
            self._show_detail()

    # -- data ---------------------------------------------------------------------

    def update_from_store(self) -> None:
        """Redraw from the newest snapshot; nothing when neither it nor the poll status changed."""
        stored = self.store.latest(self.spec.provider)
        state = self.states.get(self.spec.provider)
        poll_error = state.last_error if state else None
        token = (stored.version if stored else 0, poll_error)
        if token == self._token:
            return
        self._token = token
        snap = stored.snapshot if stored else None
        assert snap is None or isinstance(snap, AwsSnapshot)
        text, problem = partition_line(snap, poll_error)
        line = self.query_one(".partitions", Static)
        line.update(text, layout=False)
        line.set_class(problem, "-problem")
        for i, f in enumerate(self.spec.fleet):
            # CloudWatch's history when it has one (full at once), else what the store
            # has seen poll by poll (counts, such as running instances).
            history = snap.fleet_history(f.series) if snap is not None else None
            if history is not None and len(history[1]) >= 2:
                values = list(history[1])
            else:
                values = self.store.series(f"{self.spec.provider}.{f.series}").values()
            self.query_one(f"#{self.view_id}-fleet-{i}", MetricSpark).show(
                values, format_unit(values[-1] if values else None, f.unit))
        table = self.table
        why = empty_text(self.spec, snap, poll_error)
        if why != table.empty_text:
            table.empty_text = why
            if not table.total_rows:
                table.refresh()
        if snap is not None:
            self._now = snap.taken_at
            self._records = {r.key: r for r in snap.items}
            self._rows = [(r.key, self.spec.to_row(r, self._now)) for r in snap.items]
            table.apply(self._projected())
        self._show_detail()

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(key, tuple(values[i] for i in self._columns)) for key, values in self._rows]

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        pane = self.detail
        if not pane.has_class("-shown"):
            return  # drawn when shown
        key = self.table.selected_key()
        record = self._records.get(key) if key else None
        if record is None:
            pane.show(self.table.empty_text if not self.table.row_count else "nothing selected", [])
            return
        title, fields = self.spec.detail(record, self._now)
        pane.show(title, fields, metric_series(getattr(record, "metrics", {}), self.spec.sparks))

    def selected_record(self) -> Any | None:
        key = self.table.selected_key()
        return self._records.get(key) if key else None

    def target_for(self, action_id: str) -> ActionTarget | None:
        """What `action_id` would act on now; None when nothing is selected."""
        if action_id not in self.spec.action_ids or self.spec.target is None:
            return None
        record = self.selected_record()
        return self.spec.target(record) if record is not None else None

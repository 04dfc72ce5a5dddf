"""The HA tab: every replicated database cluster (one `ha.<cluster>` provider
each) as a topology tree, a summary line, the selected member's or cluster's
details with sparklines, and the event timeline of all clusters.

What it shows comes from ha_rows.py (plain functions); this module lays it out
and redraws what changed, when a cluster's snapshot version (or its poll
error) moved. The app calls `update_from_store` only while the tab is shown;
a hidden tab does nothing and catches up when shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from providers.base import ActionTarget
from providers.ha.action_specs import target_for
from providers.ha.model import HaSnapshot
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.ha_rows import (
    COLUMNS,
    PROVIDER_PREFIX,
    RowCache,
    cluster_detail,
    fit_columns,
    member_detail,
    member_sparks,
    newest_events,
    spark_value,
    split_key,
    summary_line,
    timeline_text,
    trend_series,
)
from tui.screens.table_swap import swap_table
from widgets.detail_pane import DetailPane, SparkSpec
from widgets.metric_spark import locale_is_utf8
from widgets.resource_table import Column, ResourceTable


class TopologyTable(ResourceTable):
    """The tree's table: its order is the topology, so it does not sort (`s` and
    shift+letter would scatter members away from their upstream)."""

    SORTABLE = False


class HaView(Vertical):
    DEFAULT_CSS = """
    HaView > .summary { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    HaView > TopologyTable { height: 1fr; min-height: 4; }
    HaView > .details { height: 12; display: none; }
    HaView > .details.-shown { display: block; }
    HaView > .details > DetailPane { height: 1fr; }
    HaView > .timeline { height: auto; display: none; }
    HaView > .timeline.-shown { display: block; }
    HaView > .timeline > .timeline-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    HaView > .timeline > .timeline-events { padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    DETAIL_HEIGHT = 12
    """Lines the detail pane takes when there is room: a title, facts and three rows of sparklines."""
    DETAIL_MIN_HEIGHT = 5
    DETAILS_MIN_SCREEN_HEIGHT = 32
    """From this many rows up the detail pane is shown without asking (`i` toggles)."""
    TIMELINE_LINES = (3, 7)
    """Fewest and most events the timeline lists (the fewest on 80x24 with a long tree)."""
    TABLE_MIN_LINES = 5

    def __init__(self, store: Store, states: Mapping[str, ProviderState], providers: Sequence[str], *,
                 tz: tzinfo | None = None, clock: Callable[[], float] | None = None,
                 ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.states = states
        self.providers = tuple(p for p in providers if p.startswith(PROVIDER_PREFIX))
        self.tz = tz
        self.clock = clock
        self.ascii = (not locale_is_utf8()) if ascii is None else ascii
        self.details_wanted: bool | None = None
        """The operator's choice for the detail pane; None: shown on tall terminals."""
        self.timeline_wanted = True
        self._token: tuple[Any, ...] = ()
        self._snapshots: dict[str, HaSnapshot] = {}
        self._row_cache = RowCache()
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._columns: tuple[Column, ...] = COLUMNS
        self._panes: dict[tuple[str, ...], DetailPane] = {}
        self._pane_shown: tuple[str, ...] | None = None
        self._timeline: tuple[Any, ...] = ()
        self._rebuilding = False
        self._ready = False
        self._timeline_lines = self.TIMELINE_LINES[0]
        self._summary: Text | None = None

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", classes="summary")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        with Vertical(classes="details"):
            pane = DetailPane((), id="ha-detail-0")
            self._panes[()] = pane
            yield pane
        with Vertical(classes="timeline"):
            yield Static("Events, newest first", classes="timeline-title", markup=False)
            yield Static("", classes="timeline-events")

    def on_mount(self) -> None:
        self._ready = True
        self._layout()
        self.update_from_store()  # the tab is built when first shown: draw what the store has

    def _new_table(self, columns: tuple[Column, ...]) -> TopologyTable:
        self._columns = columns
        return TopologyTable(columns, empty_text="waiting for the first poll of the HA clusters…",
                             id="ha-table")

    @property
    def table(self) -> ResourceTable:
        return self.query_one(TopologyTable)

    @property
    def details_shown(self) -> bool:
        return self.query_one(".details").has_class("-shown")

    @property
    def timeline_shown(self) -> bool:
        return self.query_one(".timeline").has_class("-shown")

    def detail(self) -> DetailPane:
        """The pane shown now (one per set of sparklines; the others are hidden)."""
        return self._panes[self._pane_shown or ()]

    async def on_resize(self, event: events.Resize) -> None:
        await self._fit_table(event.size.width - 1)
        self._layout()

    async def _fit_table(self, width: int) -> None:
        """Another width: the lag trend column comes or goes; a new table keeps the
        filter, the cursor and the focus of the old one."""
        columns = fit_columns(width)
        if columns == self._columns or self._rebuilding or not self.is_attached:
            return
        self._rebuilding = True
        try:
            await swap_table(self.table, self._new_table(columns),
                             lambda t: self.mount(t, after=self.query_one(".summary")), self._projected())
        finally:
            self._rebuilding = False

    def _tall(self) -> bool:
        return self.app.size.height >= self.DETAILS_MIN_SCREEN_HEIGHT

    def _layout(self) -> None:
        """Share the height: the table keeps room for its rows (at least TABLE_MIN_LINES),
        the detail pane is shown on tall terminals unless toggled, and the timeline
        lists at least TIMELINE_LINES[0] events, more (up to [1]) where lines are spare."""
        height = self.size.height or self.app.size.height
        fewest, most = self.TIMELINE_LINES
        timeline = (1 + fewest) if self.timeline_wanted else 0
        room = height - 1 - timeline - self.TABLE_MIN_LINES
        detail = min(self.DETAIL_HEIGHT, room)
        wanted = self._tall() if self.details_wanted is None else self.details_wanted
        shown = wanted and detail >= self.DETAIL_MIN_HEIGHT
        details = self.query_one(".details")
        if shown and details.styles.height != detail:
            details.styles.height = detail
        was = details.has_class("-shown")
        details.set_class(shown, "-shown")
        table = max(self.TABLE_MIN_LINES, len(self._rows) + 1)
        spare = height - 1 - table - (detail if shown else 0) - timeline
        lines = fewest + max(0, min(most - fewest, spare))
        self._timeline_lines = lines
        body = self.query_one(".timeline-events", Static)
        if body.styles.height != lines:
            body.styles.height = lines
        self.query_one(".timeline").set_class(self.timeline_wanted, "-shown")
        if shown and not was:
            self._show_detail()
        self._show_timeline()

    def toggle_details(self) -> bool:
        """Flip the detail pane; False when the terminal has no room for it."""
        self.details_wanted = not self.details_shown
        self._layout()
        return self.details_shown == self.details_wanted

    def toggle_timeline(self) -> bool:
        """Flip the event timeline; returns whether it is shown now."""
        self.timeline_wanted = not self.timeline_wanted
        self._layout()
        return self.timeline_wanted

    # -- data ---------------------------------------------------------------------

    def _now(self) -> float:
        return (self.clock or time.time)()

    def update_from_store(self) -> None:
        """Redraw from the newest snapshots; nothing when no cluster's snapshot or
        poll error changed since the last time."""
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
        shown: list[tuple[str, HaSnapshot | None, str]] = []
        snapshots: dict[str, HaSnapshot] = {}
        for name, _, error in token:
            cluster = name[len(PROVIDER_PREFIX):]
            stored = self.store.latest(name)
            snap = stored.snapshot if stored is not None and isinstance(stored.snapshot, HaSnapshot) else None
            if snap is not None:
                snapshots[cluster] = snap
            shown.append((cluster, snap, error or ""))
        self._snapshots = snapshots
        summary = summary_line(shown)
        if summary != self._summary:
            self._summary = summary
            self.query_one(".summary", Static).update(summary)
        count = len(self._rows)
        self._rows = self._row_cache.rows(shown, self._trends(snapshots.values()), self.ascii)
        self.table.apply(self._projected())
        self._show_detail()
        if len(self._rows) != count:
            self._layout()  # the tree grew or shrank: the timeline gets or gives lines
        else:
            self._show_timeline()

    def _trends(self, snapshots: Any) -> dict[str, list[float]]:
        """Lag history per member row, from the Store's series (bytes, else seconds)."""
        keys = set(self.store.series_keys(PROVIDER_PREFIX))
        out: dict[str, list[float]] = {}
        for snap in snapshots:
            for m in snap.members:
                for series in trend_series(snap.cluster, m.name):
                    if series in keys:
                        out[f"{snap.cluster}/{m.name}"] = self.store.series(series).values()
                        break
        return out

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        count = len(self._columns)
        return [(key, values[:count]) for key, values in self._rows]

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        self._show_detail()

    def selected(self) -> tuple[HaSnapshot | None, str | None]:
        """The snapshot of the selected row's cluster and the member name (None on a cluster row)."""
        key = self.table.selected_key()
        if key is None:
            return None, None
        cluster, member = split_key(key)
        return self._snapshots.get(cluster), member

    def _show_detail(self) -> None:
        if not self.details_shown:
            return  # drawn when shown
        snap, name = self.selected()
        member = snap.member(name) if snap is not None and name is not None else None
        if snap is None:
            key = self.table.selected_key()
            why = f"{split_key(key)[0]}: no data yet" if key else self.table.empty_text
            self._cluster_pane().show(why, [])
            return
        if member is None:
            title, fields = cluster_detail(snap, self.tz)
            self._cluster_pane().show(title, fields)
            return
        prefix = f"{PROVIDER_PREFIX}{snap.cluster}.{member.name}."
        present = {k[len(prefix):] for k in self.store.series_keys(prefix) if len(self.store.series(k))}
        specs = member_sparks(present)
        pane = self._pane(specs)
        if pane is None:
            return  # shown once mounted
        title, fields = member_detail(snap, member)
        series = []
        for s in specs:
            values = self.store.series(prefix + s.key).values()
            series.append((values, spark_value(s.key, values[-1] if values else None)))
        pane.show(title, fields, series)

    def _cluster_pane(self) -> DetailPane:
        pane = self._pane(())
        assert pane is not None  # composed with the view
        return pane

    def _pane(self, specs: Sequence[SparkSpec]) -> DetailPane | None:
        """The pane with these sparklines, shown alone; None while it is being built
        (the first time a member with this set of metrics is selected): it is drawn
        once mounted."""
        key = tuple(s.key for s in specs)
        pane = self._panes.get(key)
        if pane is None:
            pane = DetailPane(specs, id=f"ha-detail-{len(self._panes)}")
            self._panes[key] = pane
            pane.display = False
            mounting = self.query_one(".details").mount(pane)

            async def mounted() -> None:
                await mounting
                self._show_detail()

            self.call_later(mounted)
            return None
        if not pane.is_mounted:
            return None
        if key != self._pane_shown:
            self._pane_shown = key
            for k, p in self._panes.items():
                p.display = k == key
        return pane

    def _show_timeline(self) -> None:
        if not self.timeline_shown:
            return
        lines = self._timeline_lines
        events_ = newest_events(self._snapshots.values(), lines)
        now = self._now()
        token = (tuple(events_), lines, self.tz, events_ and newest_day(now, self.tz))
        if token == self._timeline:
            return
        self._timeline = token
        self.query_one(".timeline-events", Static).update(timeline_text(events_, now, self.tz))

    # -- actions ------------------------------------------------------------------

    def target_for(self, action_id: str) -> ActionTarget | str:
        """The selected row's cluster (a member row belongs to its cluster) as the
        target of `action_id`, or one line saying why it cannot be."""
        key = self.table.selected_key()
        if key is None:
            return "select a cluster or one of its members first"
        cluster, _ = split_key(key)
        snap = self._snapshots.get(cluster)
        if snap is None:
            return f"{cluster}: no data from this cluster yet"
        return target_for(action_id, snap)


def newest_day(now: float, tz: tzinfo | None) -> str:
    """Today's date: event times say `HH:MM:SS` today and add the day after midnight."""
    return datetime.fromtimestamp(now, tz).date().isoformat()

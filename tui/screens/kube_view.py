"""One Kubernetes view in the Resources tab: what it looks at (contexts and
namespace), one line per failing context/resource, summary sparklines, the
table and the selected object's details with its recent events.

What it shows comes from a `KubeViewSpec` (kube_views.py); this module only
lays it out and redraws what changed, when the store's version moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from providers.base import ActionTarget
from providers.k8s.records import KubePod
from providers.k8s.snapshot import KubeSnapshot
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.kube_views import (
    EventIndex,
    KubeViewSpec,
    RowCache,
    ViewData,
    contexts_of,
    empty_text,
    fit_columns,
    format_fleet,
    pods_per_node,
    problem_lines,
    scope_line,
    sized_columns,
    usage_sparks,
    visible_records,
)
from tui.screens.table_swap import swap_table
from widgets.detail_pane import DetailPane
from widgets.metric_spark import MetricSpark
from widgets.resource_table import Column, ResourceTable

EVENTS_PROVIDER = "k8s.events"
PODS_PROVIDER = "k8s.pods"


class KubeView(Vertical):
    DEFAULT_CSS = """
    KubeView > .scope { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap;
                        text-overflow: ellipsis; }
    KubeView > .problems { height: auto; max-height: 3; padding: 0 1; color: $warning; text-wrap: nowrap;
                           text-overflow: ellipsis; display: none; }
    KubeView > .problems.-shown { display: block; }
    KubeView > .fleet { height: 3; }
    KubeView > .fleet MetricSpark { width: 1fr; margin: 0 1; }
    KubeView > ResourceTable { height: 1fr; min-height: 3; }
    KubeView > DetailPane { display: none; }
    KubeView > DetailPane.-shown { display: block; }
    """

    DETAIL_HEIGHT = 10
    """Lines the detail pane takes when there is room (title + 9)."""
    DETAIL_MIN_HEIGHT = 4
    TABLE_MIN_LINES = 7
    """A header and six rows: the table never shrinks below this for the pane."""

    class LogsRequested(Message):
        """Enter on a pod: the app opens its log (it holds the provider that reads it)."""

        def __init__(self, pod: KubePod) -> None:
            super().__init__()
            self.pod = pod

    def __init__(self, spec: KubeViewSpec, store: Store, states: Mapping[str, ProviderState], *,
                 namespace: str | None = None, details: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec = spec
        self.store = store
        self.states = states
        self.namespace = namespace
        self.details_wanted = details
        self._token: tuple[Any, ...] = ()
        self._snapshot: KubeSnapshot | None = None
        self._data = ViewData(0.0)
        self._records: dict[str, Any] = {}
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._row_cache = RowCache(spec)
        self._cuts: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self._projected_for: tuple[int, ...] | None = None
        self._columns: tuple[int, ...] = ()
        """Indices (into the spec's columns) of the columns the table shows."""
        self._sized: tuple[Column, ...] = spec.columns
        """The spec's columns, Context and Namespace sized for the data."""
        self._shown: tuple[Column, ...] = ()
        self._contexts = 0
        self._width = 0
        self._problem_count = 0
        self._events: tuple[int, EventIndex] = (-1, EventIndex())
        self._rebuilding = False

    @property
    def view_id(self) -> str:
        return f"k8s-{self.spec.view}"

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        stored = self.store.latest(self.spec.provider)
        snap = stored.snapshot if stored else None
        if isinstance(snap, KubeSnapshot):
            self._contexts = len(contexts_of(snap))
            self._sized = sized_columns(self.spec, visible_records(self.spec, self.spec.records(snap),
                                                                   self.namespace))
        self._width = self.app.size.width - 1  # the table's scrollbar
        yield Static("", classes="scope", markup=False)
        yield Static("", classes="problems", markup=False)
        with Horizontal(classes="fleet"):
            for i, f in enumerate(self.spec.fleet):
                yield MetricSpark(f.label, warn=f.warn, critical=f.critical, maximum=f.maximum,
                                  id=f"{self.view_id}-fleet-{i}")
        yield self._new_table(self._wanted_columns())
        yield DetailPane(self.spec.sparks, id=f"{self.view_id}-detail")

    def _wanted_columns(self) -> tuple[int, ...]:
        return fit_columns(self.spec, self._width, contexts=self._contexts, namespace=self.namespace,
                           columns=self._sized)

    def _columns_current(self) -> bool:
        columns = self._wanted_columns()
        return columns == self._columns and tuple(self._sized[i] for i in columns) == self._shown

    def _new_table(self, columns: tuple[int, ...], old: ResourceTable | None = None) -> ResourceTable:
        self._columns = columns
        cols = [self._sized[i] for i in columns]
        self._shown = tuple(cols)
        keys = {c.key for c in cols}
        sort_key, reverse = self.spec.sort_key, self.spec.sort_reverse
        if old is not None and (old.sort_key in keys or old.sort_key is None):
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
        self._width = event.size.width - 1
        await self._fit_table()
        self._layout_detail()

    async def _fit_table(self) -> None:
        """Another column set (a resize, a second context, a namespace picked): a new
        table that keeps the sort, filter, cursor and focus of the old one."""
        if self._columns_current() or self._rebuilding or not self.is_attached:
            return
        columns = self._wanted_columns()
        self._rebuilding = True
        try:
            old = self.table
            await swap_table(old, self._new_table(columns, old), lambda t: self.mount(t, before=self.detail),
                             self._projected())
        finally:
            self._rebuilding = False
        if not self._columns_current():  # changed again while we swapped
            self.call_later(self._fit_table)

    def set_details(self, wanted: bool) -> bool:
        """Show or hide the detail pane; False when the terminal has no room for it."""
        self.details_wanted = wanted
        self._layout_detail()
        return self.details_shown == wanted

    def _layout_detail(self) -> None:
        fixed = 1 + self._problem_count + 3  # scope line, problem lines, sparklines
        height = min(self.DETAIL_HEIGHT, self.size.height - fixed - self.TABLE_MIN_LINES)
        shown = self.details_wanted and height >= self.DETAIL_MIN_HEIGHT
        pane = self.detail
        if shown and pane.styles.height != height:
            pane.styles.height = height
        was = pane.has_class("-shown")
        pane.set_class(shown, "-shown")
        if shown and not was:
            self._show_detail()

    # -- data ---------------------------------------------------------------------

    def set_namespace(self, namespace: str | None) -> None:
        """Narrow the view to one namespace (None: all); redrawn at once if shown."""
        if namespace == self.namespace:
            return
        self.namespace = namespace
        self._token = ()
        if self.display:
            self.update_from_store()

    def update_from_store(self) -> None:
        """Redraw from the newest snapshot; nothing when neither it, the poll status,
        the namespace nor what the view borrows from other views changed."""
        stored = self.store.latest(self.spec.provider)
        state = self.states.get(self.spec.provider)
        poll_error = state.last_error if state else None
        pods = self.store.latest(PODS_PROVIDER) if self.spec.view == "nodes" else None
        token = (stored.version if stored else 0, poll_error, self.namespace, pods.version if pods else 0)
        if token == self._token:
            if self._event_index_stale():
                self._show_detail()  # the selected object's events moved
            return
        self._token = token
        snap = stored.snapshot if stored else None
        snap = snap if isinstance(snap, KubeSnapshot) else None
        self._snapshot = snap
        self.query_one(".scope", Static).update(scope_line(self.spec, snap, self.namespace), layout=False)
        problems = problem_lines(snap, poll_error)
        line = self.query_one(".problems", Static)
        line.update("\n".join(problems))
        line.set_class(bool(problems), "-shown")
        if len(problems) != self._problem_count:
            self._problem_count = len(problems)
            self.call_after_refresh(self._layout_detail)
        for i, f in enumerate(self.spec.fleet):
            values = self.store.series(f"{self.spec.provider}.{f.series}").values()
            self.query_one(f"#{self.view_id}-fleet-{i}", MetricSpark).show(
                values, format_fleet(values[-1] if values else None, f.unit))
        table = self.table
        why = empty_text(self.spec, snap, poll_error, self.namespace)
        if why != table.empty_text:
            table.empty_text = why
            if not table.total_rows:
                table.refresh()
        if snap is not None:
            on_node = (pods_per_node(pods.snapshot.items)
                       if pods and isinstance(pods.snapshot, KubeSnapshot) else None)
            self._data = ViewData(snap.taken_at, snap.usage, snap.requested, on_node, snap)
            records = visible_records(self.spec, self.spec.records(snap), self.namespace)
            self._records = {r.key: r for r in records}
            self._rows = self._row_cache.rows(records, self._data)
            table.apply(self._projected())
            self._contexts = len(contexts_of(snap))
            self._sized = sized_columns(self.spec, records)
        if not self._columns_current():
            self.call_later(self._fit_table)
        self._show_detail()

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Rows cut to the shown columns; a row object seen before keeps its cut."""
        if self._projected_for != self._columns:
            self._projected_for, self._cuts = self._columns, {}
        columns, cuts = self._columns, self._cuts
        fresh: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        out = []
        for key, values in self._rows:
            hit = cuts.get(key)
            cut = hit[1] if hit is not None and hit[0] is values else tuple(values[i] for i in columns)
            fresh[key] = (values, cut)
            out.append((key, cut))
        self._cuts = fresh
        return out

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        self._show_detail()

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        record = self._records.get(event.key)
        if isinstance(record, KubePod):
            event.stop()
            self.post_message(self.LogsRequested(record))

    def _event_index_stale(self) -> bool:
        stored = self.store.latest(EVENTS_PROVIDER)
        return (stored.version if stored else 0) != self._events[0]

    def _event_index(self) -> EventIndex:
        """The `k8s.events` snapshot as an index by object, rebuilt when it changes."""
        stored = self.store.latest(EVENTS_PROVIDER)
        version = stored.version if stored else 0
        if version != self._events[0]:
            items = stored.snapshot.items if stored and isinstance(stored.snapshot, KubeSnapshot) else ()
            self._events = (version, EventIndex(e for e in items if hasattr(e, "object_kind")))
        return self._events[1]

    def _show_detail(self) -> None:
        pane = self.detail
        if not pane.has_class("-shown"):
            return  # drawn when shown
        key = self.table.selected_key()
        record = self._records.get(key) if key else None
        if record is None:
            pane.show(self.table.empty_text if not self.table.row_count else "nothing selected", [])
            return
        title, fields = self.spec.detail(record, self._data, self._event_index())
        series = usage_sparks(self._snapshot, record.key) if self.spec.sparks else []
        pane.show(title, fields, series)

    def selected_record(self) -> Any | None:
        key = self.table.selected_key()
        return self._records.get(key) if key else None

    def target_for(self, action_id: str) -> ActionTarget | None:
        """What `action_id` would act on now; None when nothing is selected."""
        if action_id not in self.spec.action_ids:
            return None
        record = self.selected_record()
        return self.spec.target(record) if record is not None else None

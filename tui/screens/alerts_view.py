"""The Alerts tab: stacktop's own alerts (provider `alerts`) and Alertmanager's
(provider `alertmanager`) in one table — FIRING, PENDING, SILENCED, RESOLVED,
then the SILENCES — under a summary line, and the selected alert's or
silence's details: facts, transitions and notification history, or what a
silence mutes.

What it shows comes from alerts_rows.py (plain functions); this module lays it
out and redraws what changed, when either provider's snapshot version (or its
poll error) moved. The app calls `update_from_store` only while the tab is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import tzinfo
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from providers.alerts.action_specs import target_for_alert, target_for_silence
from providers.alerts.model import AlertmanagerSnapshot, AlertsSnapshot
from providers.base import ActionTarget
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.alerts_rows import (
    ALERTMANAGER_PROVIDER,
    ALERTS_PROVIDER,
    PROVIDERS,
    AlertDoc,
    Listing,
    alert_doc,
    alert_title,
    all_alerts,
    empty_text,
    fit_columns,
    listing,
    project,
    silence_doc,
    silence_title,
    summary_line,
)
from tui.screens.detail_view import DetailLines, TableDetailView
from widgets.metric_spark import locale_is_utf8
from widgets.resource_table import Column, ResourceTable


class AlertsTable(ResourceTable):
    """The alerts' table: its order is the sections', so it does not sort (and `s`
    is Silence here: the key falls through to the app). Two more colours: info
    (blue) and muted (silenced, resolved)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *ResourceTable.COMPONENT_CLASSES, "resource-table--info", "resource-table--muted"}
    DEFAULT_CSS = """
    AlertsTable > .resource-table--info { color: $primary; }
    AlertsTable > .resource-table--muted { color: $text-muted; }
    """

    SORTABLE = False


class AlertsView(TableDetailView):
    DEFAULT_CSS = """
    AlertsView > .summary { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    AlertsView > AlertsTable { height: 1fr; min-height: 4; }
    AlertsView > .details { height: 1fr; display: none; }
    AlertsView > .details.-shown { display: block; }
    AlertsView .detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1;
                               text-wrap: nowrap; text-overflow: ellipsis; }
    """
    fit_columns = staticmethod(fit_columns)

    def __init__(self, store: Store, states: Mapping[str, ProviderState], providers: Sequence[str], *,
                 tz: tzinfo | None = None, clock: Callable[[], float] | None = None,
                 ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.states = states
        self.providers = tuple(p for p in PROVIDERS if p in providers)
        self.tz = tz
        self.clock = clock
        self.ascii = (not locale_is_utf8()) if ascii is None else ascii
        self.details_wanted: bool | None = None
        """The operator's choice for the detail pane; None: shown on tall terminals."""
        self._token: tuple[Any, ...] = ()
        self._engine: AlertsSnapshot | None = None
        self._manager: AlertmanagerSnapshot | None = None
        self._listing = Listing((), {}, {})
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._columns: tuple[Column, ...] = ()
        self._summary: Text | None = None
        self._now = 0.0
        self._rebuilding = False
        self._ready = False

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", classes="summary")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        with Vertical(classes="details"):
            yield Static("", classes="detail-title", markup=False)
            yield DetailLines(id="alerts-detail")

    def _new_table(self, columns: tuple[Column, ...]) -> AlertsTable:
        self._columns = columns
        empty = empty_text(self._engine, self._manager, self._interval(), self.errors())
        return AlertsTable(columns, empty_text=empty, id="alerts-table")

    # -- data ---------------------------------------------------------------------

    def _interval(self) -> float | None:
        state = self.states.get(ALERTS_PROVIDER)
        return state.interval if state is not None else None

    def errors(self) -> dict[str, str]:
        """Providers with a poll error and no snapshot to show."""
        out = {}
        for name in self.providers:
            state = self.states.get(name)
            if state is not None and state.last_error and self.store.latest(name) is None:
                out[name] = state.last_error
        return out

    def update_from_store(self) -> None:
        """Redraw from the newest snapshots; nothing when neither provider's snapshot or
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
        engine = self._snapshot(ALERTS_PROVIDER, AlertsSnapshot)
        manager = self._snapshot(ALERTMANAGER_PROVIDER, AlertmanagerSnapshot)
        self._engine, self._manager = engine, manager
        self._now = now = self._now_wall()
        self._listing = listing(engine, manager, now, self.ascii)
        errors = self.errors()
        summary = summary_line(engine, manager, now, errors)
        if summary != self._summary:
            self._summary = summary
            self.query_one(".summary", Static).update(summary)
        table = self.table
        empty = empty_text(engine, manager, self._interval(), errors)
        if table.empty_text != empty:
            table.empty_text = empty
            table.refresh()
        count = len(self._rows)
        self._rows = list(self._listing.rows)
        table.apply(self._projected())
        if len(self._rows) != count:
            self._layout()
        self._skip_section()
        self._show_detail()

    def _snapshot(self, name: str, kind: type) -> Any:
        if name not in self.providers:
            return None
        stored = self.store.latest(name)
        found = stored.snapshot if stored is not None else None
        return found if isinstance(found, kind) else None

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(key, project(row, self._columns)) for key, row in self._rows]

    def _show_detail(self) -> None:
        if not self.details_shown:
            return  # drawn when shown
        key = self.table.selected_key()
        title = self.query_one(".detail-title", Static)
        alert = self._listing.alerts.get(key) if key else None
        silence = self._listing.silences.get(key) if key else None
        now = self._now
        doc: AlertDoc | None = None
        if alert is not None:
            title.update(alert_title(alert))
            silences = {s.id: s for k, s in self._listing.silences.items() if s.source == alert.source}
            url = self._manager.url if self._manager is not None else ""
            manager = self._manager if alert.inhibited_by else None
            peers = {a.fingerprint: a for a in manager.alerts} if manager is not None else None
            doc = alert_doc(alert, self._engine, silences, now, self.tz, self.ascii, url, peers)
        elif silence is not None:
            title.update(silence_title(silence, now))
            doc = silence_doc(silence, all_alerts(self._engine, self._manager), now, self.tz)
        else:
            title.update(self.table.empty_text if not self._listing.rows else "select an alert or a silence")
        self.lines.show(doc, (key, self._token, self.tz))  # type: ignore[arg-type]

    def selected_doc(self) -> AlertDoc | None:
        """The detail pane's document (tests read it as text)."""
        doc = self.lines.doc
        return doc if isinstance(doc, AlertDoc) else None

    # -- actions ------------------------------------------------------------------

    def target_for(self, action_id: str) -> ActionTarget | str:
        """The selected alert or silence as the target of `action_id`, or one line saying why not."""
        key = self.table.selected_key()
        alert = self._listing.alerts.get(key) if key else None
        silence = self._listing.silences.get(key) if key else None
        if alert is not None:
            target = target_for_alert(action_id, alert)
        elif silence is not None:
            target = target_for_silence(action_id, silence, self._now_wall())
        else:
            return "select an alert or a silence first"
        if isinstance(target, ActionTarget) and target.provider and target.provider not in self.providers:
            return f"{target.provider}: not configured in this profile"
        return target

"""The Costs tab: the `costs` provider's CostsSnapshot as two totals lines (month
to date, forecast, the tightest budget, potential savings, last month; where the
figures come from and how old they are), this month's daily spend (a sparkline,
or on a wide and tall terminal a plotext bar chart), one table of sections —
SPEND BY SERVICE, BY ACCOUNT, BUDGETS, FINDINGS (largest savings first),
RECOMMENDATIONS, KUBERNETES NAMESPACES — and the selected row's details.

What it shows comes from costs_rows.py (plain functions); this module lays it out
and redraws when the snapshot version (or the poll error) moved. The chart is
plotted only while shown and only when the daily figures changed: plotting is the
costliest thing a tab does, and spend moves hourly. The app calls
`update_from_store` only while the tab is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from providers.base import ActionTarget
from providers.costs.model import CostsSnapshot, DailyCost
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.costs_rows import (
    PROVIDER,
    CostDoc,
    Listing,
    chart_bars,
    detail_for,
    empty_text,
    fit_columns,
    is_note,
    listing,
    project,
    provenance_line,
    spark_series,
    target_for,
    totals_line,
)
from tui.screens.detail_view import DetailLines, TableDetailView
from widgets.metric_spark import MetricSpark, locale_is_utf8
from widgets.resource_table import Column, ResourceTable


class CostsTable(ResourceTable):
    """The costs table: its order is the sections', so it does not sort. Two more colours:
    info (the section rows) and muted (notes)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *ResourceTable.COMPONENT_CLASSES, "resource-table--info", "resource-table--muted"}
    DEFAULT_CSS = """
    CostsTable > .resource-table--info { color: $primary; text-style: bold; }
    CostsTable > .resource-table--muted { color: $text-muted; }
    """

    SORTABLE = False


class CostsView(TableDetailView):
    DEFAULT_CSS = """
    CostsView > .summary { height: auto; }
    CostsView .costs-line { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    CostsView #costs-spark { padding: 0 1; display: none; }
    CostsView #costs-spark.-shown { display: block; }
    CostsView #costs-chart { height: 10; display: none; }
    CostsView #costs-chart.-shown { display: block; }
    CostsView > CostsTable { height: 1fr; min-height: 4; }
    CostsView > .details { height: 1fr; display: none; }
    CostsView > .details.-shown { display: block; }
    CostsView .detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1;
                              text-wrap: nowrap; text-overflow: ellipsis; }
    """
    fit_columns = staticmethod(fit_columns)

    CHART_MIN_WIDTH = 110
    CHART_MIN_SCREEN_HEIGHT = 36
    """The bar chart takes 10 lines: only where the table keeps room below it; else the sparkline."""
    CHART_HEIGHT = 10
    SPARK_HEIGHT = 3
    TOTALS_HEIGHT = 2

    def __init__(self, store: Store, states: Mapping[str, ProviderState], *,
                 clock: Callable[[], float] | None = None, ascii: bool | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.states = states
        self.clock = clock
        self.ascii = (not locale_is_utf8()) if ascii is None else ascii
        self.details_wanted: bool | None = None
        """The operator's choice for the detail pane; None: shown on tall terminals."""
        self._token: tuple[Any, ...] = ()
        self._snap: CostsSnapshot | None = None
        self._listing = Listing((), {})
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._columns: tuple[Column, ...] = ()
        self._lines: tuple[Text, Text] | None = None
        self._now = 0.0
        self._rebuilding = False
        self._ready = False
        self._daily: tuple[str, tuple[DailyCost, ...]] | None = None
        """The month and days last handed to the sparkline and the chart."""

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(classes="summary"):
            yield Static("", classes="costs-line", id="costs-totals")
            yield Static("", classes="costs-line", id="costs-provenance")
            yield MetricSpark("Daily spend", bar_rows=self.SPARK_HEIGHT - 1, ascii=self.ascii,
                              id="costs-spark")
            yield Vertical(id="costs-chart")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        with Vertical(classes="details"):
            yield Static("", classes="detail-title", markup=False)
            yield DetailLines(id="costs-detail")

    def _new_table(self, columns: tuple[Column, ...]) -> CostsTable:
        self._columns = columns
        return CostsTable(columns, empty_text=empty_text(self._snap, self._error()), full_width=is_note,
                          id="costs-table")

    @property
    def chart_wanted(self) -> bool:
        """Wide and tall enough for the bar chart, with days to draw."""
        size = self.app.size
        return (size.width >= self.CHART_MIN_WIDTH and size.height >= self.CHART_MIN_SCREEN_HEIGHT
                and self._has_days())

    def _has_days(self) -> bool:
        spend = self._snap.spend if self._snap is not None else None
        return spend is not None and bool(spend.this_month())

    def _top_height(self) -> int:
        if not self._has_days():
            return self.TOTALS_HEIGHT
        return self.TOTALS_HEIGHT + (self.CHART_HEIGHT if self.chart_wanted else self.SPARK_HEIGHT)

    def _layout(self) -> None:
        """The totals and the daily spend (chart or sparkline) on top; below them the table
        and the detail pane as in the other tabs."""
        chart = self.chart_wanted
        self.query_one("#costs-chart").set_class(chart, "-shown")
        self.query_one("#costs-spark").set_class(self._has_days() and not chart, "-shown")
        super()._layout()
        self._draw_daily(force=True)

    # -- data ---------------------------------------------------------------------

    AGES_EVERY = 30.0
    """Seconds between redraws of the ages ("data 12 min old") while no new snapshot comes."""

    def refresh_ages(self) -> None:
        """The provenance line's ages keep counting between polls (Cost Explorer is read
        hourly); the line is repainted only when its words changed."""
        if self._snap is None or self._lines is None:
            return
        line = provenance_line(self._snap, self._now_wall())
        if line != self._lines[1]:
            self._lines = (self._lines[0], line)
            self.query_one("#costs-provenance", Static).update(line)

    def _error(self) -> str | None:
        return self._poll_error(PROVIDER)

    def update_from_store(self) -> None:
        """Redraw from the newest snapshot; nothing when neither it nor the poll error changed."""
        newest = self._newest(PROVIDER, CostsSnapshot)
        if newest is None:
            return
        snap, error = newest
        had_days = self._has_days()
        self._snap = snap
        self._now = now = self._now_wall()
        lines = (totals_line(snap, error), provenance_line(snap, now))
        if lines != self._lines:
            self._lines = lines
            self.query_one("#costs-totals", Static).update(lines[0])
            self.query_one("#costs-provenance", Static).update(lines[1])
        self._listing = listing(snap, now, self.ascii)
        table = self.table
        empty = empty_text(snap, error)
        if table.empty_text != empty:
            table.empty_text = empty
            table.refresh()
        count = len(self._rows)
        self._rows = list(self._listing.rows)
        table.apply(self._projected())
        if len(self._rows) != count or had_days != self._has_days():
            self._layout()
        else:
            self._draw_daily()
        self._skip_section()
        self._show_detail()

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(key, project(row, self._columns)) for key, row in self._rows]

    # -- the daily spend ----------------------------------------------------------------

    def _draw_daily(self, force: bool = False) -> None:
        """The sparkline or the chart, when the days changed (or the layout did: `force`)."""
        spend = self._snap.spend if self._snap is not None else None
        daily = (spend.month, spend.this_month()) if spend is not None else None
        if daily == self._daily and not force:
            return
        self._daily = daily
        spark = self.query_one("#costs-spark", MetricSpark)
        width = (self.size.width or self.app.size.width) - 2
        values, text = spark_series(spend, width)
        spark.show(values, text)
        if spend is None or not spend.this_month() or not self.chart_wanted:
            return
        plot = self.plot()
        if plot is None:
            # plotext costs tens of milliseconds to import and to draw: let this frame go
            # out without it, then mount the plot.
            self.call_after_refresh(self._mount_plot)
            return
        title, positions, amounts, ticks, x_range = chart_bars(spend)
        plot.show_bars(title, positions, amounts, ticks=ticks, x_range=x_range)

    def plot(self) -> Any:
        """The bar chart's PlotPanel once mounted (None before, or on a small terminal)."""
        found = self.query("#costs-plot")
        return found.first() if found else None

    def _mount_plot(self) -> None:
        chart = self.query("#costs-chart")
        if self.plot() is not None or not chart or not chart.first().is_attached:
            return  # already there, or the app is closing
        from widgets.plot_panel import PlotPanel

        chart.first().mount(PlotPanel(id="costs-plot"))
        self.call_after_refresh(self._draw_daily, True)

    # -- the cursor and the detail pane -------------------------------------------------

    def _show_detail(self) -> None:
        if not self.details_shown:
            return  # drawn when shown
        key = self.table.selected_key()
        item = self._listing.items.get(key) if key else None
        title, doc = detail_for(key, item, self._snap, self._now)
        self.query_one(".detail-title", Static).update(title or self.table.empty_text)
        self.lines.show(doc, (key, self._token))

    def selected_doc(self) -> CostDoc | None:
        """The detail pane's document (tests read it as text)."""
        doc = self.lines.doc
        return doc if isinstance(doc, CostDoc) else None

    # -- actions ------------------------------------------------------------------

    def target_for(self, action_id: str) -> ActionTarget | str:
        """The selected finding as the target of `action_id`, or one line saying why not."""
        return target_for(action_id, self._listing.finding(self.table.selected_key()))

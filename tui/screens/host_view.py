"""The Host view of the Resources tab: the host's headline sparklines, a chart
of one metric over time, and the process table (with the terminate action)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.widgets import Static

from providers.base import ActionTarget
from providers.host import HostSnapshot, ProcessInfo
from providers.store import Store
from widgets.formatting import human_age, human_bytes, human_rate, percent
from widgets.metric_spark import MetricSpark
from widgets.resource_table import Column, ResourceTable, TableRow

PROVIDER = "host"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "percent" | "rate" | "plain"
    y_max: float | None = None
    warn: float | None = None
    critical: float | None = None

    def format(self, value: float | None) -> str:
        if self.unit == "percent":
            return percent(value)
        if self.unit == "rate":
            return human_rate(value)
        return "—" if value is None else f"{value:.2f}"

    def scaled(self, values: list[float]) -> tuple[list[float], str]:
        """Values in a unit a chart axis can show: bytes/s become KB/s or MB/s."""
        if self.unit == "percent":
            return values, "%"
        if self.unit != "rate":
            return values, ""
        top = max(values, default=0.0)
        divisor, unit = (2**20, "MB/s") if top >= 2**20 else (2**10, "KB/s")
        return [v / divisor for v in values], unit


SPARKS = (
    Metric("cpu.percent", "CPU", "percent", 100, warn=70, critical=90),
    Metric("memory.percent", "Memory", "percent", 100, warn=80, critical=95),
    Metric("disk.io_bytes_per_s", "Disk IO", "rate"),
    Metric("net.bytes_per_s", "Network", "rate"),
)
CHART_METRICS = (
    *SPARKS,
    Metric("disk.read_bytes_per_s", "Disk read", "rate"),
    Metric("disk.write_bytes_per_s", "Disk write", "rate"),
    Metric("net.rx_bytes_per_s", "Network rx", "rate"),
    Metric("net.tx_bytes_per_s", "Network tx", "rate"),
    Metric("load.1m", "Load 1m", "plain"),
)

COLUMNS = (
    Column("pid", "PID", width=7, kind="number", hotkey="P"),
    Column("name", "Name", min_width=12, flex=2, hotkey="N"),
    Column("user", "User", min_width=8, hotkey="U"),
    Column("cpu", "CPU%", width=6, kind="percent", hotkey="C"),
    Column("mem", "MEM%", width=6, kind="percent", hotkey="M"),
    Column("rss", "RSS", width=9, kind="bytes", hotkey="R"),
    Column("status", "Status", width=8, kind="status"),
)


def to_row(p: ProcessInfo) -> TableRow:
    return (
        str(p.pid),
        (p.pid, p.name, p.user, p.cpu_percent, p.memory_percent, p.rss_bytes, p.status),
    )


def summary_line(snap: HostSnapshot) -> str:
    disks = "  ".join(f"{d.mount} {d.percent:.0f}%" for d in snap.disks[:4])
    load = " ".join(f"{x:.2f}" for x in snap.cpu.load_avg)
    uptime = human_age(snap.taken_at - snap.boot_time)
    swap = percent(snap.memory.swap_percent, 0) if snap.memory.swap_total_bytes else "none"
    return (
        f"{snap.hostname} · up {uptime} · load {load} · {snap.cpu.count} cores · "
        f"mem {human_bytes(snap.memory.used_bytes)}/{human_bytes(snap.memory.total_bytes)} · "
        f"swap {swap} · {snap.process_count} procs · {disks}"
    )


class HostView(Vertical):
    DEFAULT_CSS = """
    HostView #host-summary { height: 1; padding: 0 1; color: $text-muted; }
    HostView #sparks { height: 3; }
    HostView MetricSpark { width: 1fr; margin: 0 1; }
    HostView #chart { height: 1fr; min-height: 5; }
    HostView #plot { height: 1fr; }
    HostView #processes { height: 2fr; min-height: 5; }
    """

    VIEW_ID = "host"
    PROVIDER = PROVIDER

    def __init__(self, store: Store, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.chart_index = 0
        self._processes: dict[str, ProcessInfo] = {}
        self._version = -1

    def compose(self) -> ComposeResult:
        yield Static("waiting for the first host sample…", id="host-summary", markup=False)
        with Horizontal(id="sparks"):
            for i, m in enumerate(SPARKS):
                yield MetricSpark(m.label, warn=m.warn, critical=m.critical, maximum=m.y_max,
                                  id=f"spark-{i}")
        yield Container(id="chart")  # the plot is mounted after the first frame
        yield ResourceTable(COLUMNS, sort_key="cpu", sort_reverse=True, id="processes",
                            empty_text="no processes")

    @property
    def table(self) -> ResourceTable:
        return self.query_one("#processes", ResourceTable)

    # Below this many rows the chart would be too squat to read: the sparklines stay.
    CHART_MIN_SCREEN_HEIGHT = 32

    def on_resize(self) -> None:
        self.query_one("#chart").display = self.chart_visible

    @property
    def chart_visible(self) -> bool:
        return self.app.size.height >= self.CHART_MIN_SCREEN_HEIGHT

    def next_chart(self) -> str:
        self.chart_index = (self.chart_index + 1) % len(CHART_METRICS)
        for i in range(len(SPARKS)):
            self.query_one(f"#spark-{i}", MetricSpark).selected = i == self.chart_index
        self._draw_chart()
        return CHART_METRICS[self.chart_index].label

    def update_from_store(self) -> None:
        """Redraw from the newest host snapshot; does nothing if it has not changed."""
        stored = self.store.latest(PROVIDER)
        if stored is None or stored.version == self._version:
            return
        self._version = stored.version
        snap = stored.snapshot
        assert isinstance(snap, HostSnapshot)
        # Fixed one-line height: no layout pass (a layout repaints the whole screen).
        self.query_one("#host-summary", Static).update(summary_line(snap), layout=False)
        for i, m in enumerate(SPARKS):
            series = self.store.series(f"{PROVIDER}.{m.key}")
            self.query_one(f"#spark-{i}", MetricSpark).show(series.values(), m.format(series.last()))
        self._draw_chart()
        self._processes = {str(p.pid): p for p in snap.processes}
        self.table.apply([to_row(p) for p in snap.processes])

    def _draw_chart(self) -> None:
        m = CHART_METRICS[self.chart_index]
        series = self.store.series(f"{PROVIDER}.{m.key}")
        values, unit = m.scaled(series.values())
        plot = self._plot()
        if plot is None:
            # plotext costs tens of milliseconds to import and to draw: let the
            # first frame go out without it, then mount the plot.
            self.call_after_refresh(self._mount_plot)
            return
        plot.show(m.label, series.times(), values, m.y_max, unit)

    def _plot(self):  # type: ignore[no-untyped-def]
        found = self.query("#plot")
        return found.first() if found else None

    def _mount_plot(self) -> None:
        chart = self.query("#chart")
        if self._plot() is not None or not chart or not chart.first().is_attached:
            return  # already there, or the app is closing
        from widgets.plot_panel import PlotPanel

        chart.first().mount(PlotPanel(id="plot"))
        self.call_after_refresh(self._draw_chart)

    ACTION_IDS = ("host.terminate",)
    """Actions whose target is chosen in this view (the process under the cursor)."""

    def target_for(self, action_id: str) -> ActionTarget | None:
        """What `action_id` would act on now; None when nothing is selected."""
        if action_id not in self.ACTION_IDS:
            return None
        key = self.table.selected_key()
        proc = self._processes.get(key) if key else None
        if proc is None:
            return None
        return ActionTarget(
            kind="process", id=str(proc.pid), name=proc.name,
            details={"create_time": repr(proc.create_time), "user": proc.user},
        )

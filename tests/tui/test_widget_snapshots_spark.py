"""MetricSpark and PlotPanel at the two sizes operators use (80x24, 120x40).

Series are recorded (fixed numbers, fixed local times) so the pictures are the
same on every machine and in every time zone.
"""

from __future__ import annotations

import time

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from widgets.metric_spark import MetricSpark
from widgets.plot_panel import PlotPanel

SIZES = [(80, 24), (120, 40)]
SAMPLES = 60
T0 = time.mktime((2024, 3, 15, 7, 41, 0, 0, 0, -1))  # 07:41:00 local
TIMES = [T0 + 2 * i for i in range(SAMPLES)]

# CPU idles, then climbs through warn (70) into critical (90) and settles in
# warn, all within the last 22 samples: even the narrowest spark (80 columns)
# shows both crossings, and the label's value is in the warn colour.
CPU = [20.0 + i * 0.5 for i in range(38)] + [
    45.0, 52.0, 58.0, 64.0, 71.0, 75.0, 79.0, 84.0, 88.0, 91.0, 95.0,
    98.0, 93.0, 89.0, 84.0, 79.0, 74.0, 70.0, 67.0, 69.0, 71.0, 73.0,
]
MEMORY = [48.0 + (i % 12) * 0.5 for i in range(SAMPLES)]
NET = [float((i * 37) % 23) * 100_000 for i in range(SAMPLES)]
DISK = [0.0] * 40 + [float(i) * 250_000 for i in range(20)]


class SparkBoard(App[None]):
    CSS = """
    #sparks { height: 3; }
    MetricSpark { margin: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="sparks"):
            yield MetricSpark("CPU", unit="%", warn=70, critical=90, maximum=100, ascii=False, id="cpu")
            yield MetricSpark("Memory", unit="%", warn=80, critical=95, maximum=100, ascii=False, id="mem")
            yield MetricSpark("Net", unit="B/s", ascii=False, id="net")
            yield MetricSpark("Disk", unit="B/s", ascii=False, id="disk")
        yield PlotPanel(id="chart")

    def on_mount(self) -> None:
        self.query_one("#cpu", MetricSpark).show(CPU, f"{CPU[-1]:.1f}%")
        self.query_one("#cpu", MetricSpark).selected = True
        self.query_one("#mem", MetricSpark).show(MEMORY, f"{MEMORY[-1]:.1f}%")
        self.query_one("#net", MetricSpark).show(NET, "1.2 MB/s")
        self.query_one("#disk", MetricSpark).show(DISK, "4.5 MB/s")
        self.query_one(PlotPanel).show("CPU", TIMES, CPU, 100, "%")


@pytest.fixture(autouse=True)
def _colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sparks_and_plot(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(SparkBoard(), terminal_size=size)

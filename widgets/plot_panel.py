"""A plotext chart of one metric against wall-clock time (or labelled bars, e.g.
spend per day), drawn only when seen.

Plotting is the costliest thing a tab does per tick, so the panel keeps the
last series it drew and does nothing when it is handed the same one again;
while hidden (another tab, display off) it only remembers the newest series
and plots it when it is shown.

Time labels: plotext's own date axis reads the date strings as UTC but prints
ticks in local time, so labels come out shifted by the UTC offset outside UTC.
We therefore plot unix seconds and label our own "nice" ticks (every 10 s,
30 s, 1 min, ...) with time.strftime in local time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import NamedTuple

from rich.align import Align
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from widgets.formatting import human_number

WAITING_TEXT = "waiting for data"
TIME_FORMAT = "%H:%M:%S"
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_LABEL_CELLS = 12
"""Room one HH:MM:SS tick label needs, with a gap."""


class Series(NamedTuple):
    title: str
    times: tuple[float, ...]
    values: tuple[float, ...]
    y_max: float | None
    unit: str


class Bars(NamedTuple):
    """Labelled bars (a value per day, per item): the x axis is positions, not clock time."""

    title: str
    positions: tuple[float, ...]
    values: tuple[float, ...]
    ticks: tuple[tuple[float, str], ...]
    x_range: tuple[float, float] | None


def time_ticks(start: float, end: float, width: int) -> list[float]:
    """Ticks on round local-clock seconds (…:30, …:00) that fit `width` cells of labels."""
    if end <= start:
        return [start]
    wanted = max(2, min(8, width // _LABEL_CELLS))
    span = end - start
    step = next((s for s in _NICE_STEPS if span / s <= wanted), math.ceil(span / wanted))
    offset = time.localtime(start).tm_gmtoff  # align to the local clock, not UTC
    first = math.ceil((start + offset) / step) * step - offset
    ticks: list[float] = []
    tick = first
    while tick <= end:
        ticks.append(tick)
        tick += step
    return ticks


def _with_unit(value: float, unit: str) -> str:
    text = human_number(value)
    if not unit:
        return text
    return f"{text}{unit}" if unit.startswith("%") else f"{text} {unit}"


class PlotPanel(PlotextPlot):
    """A line chart of one metric over its retained history."""

    DEFAULT_CSS = """
    PlotPanel { height: 1fr; min-height: 6; }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._series: Series | Bars | None = None
        self._drawn: tuple[Series | Bars, int] | None = None
        self._pending = False

    @property
    def pending(self) -> bool:
        """True while a series is waiting for the panel to be shown."""
        return self._pending

    @property
    def series(self) -> Series | Bars | None:
        """The newest series handed to show() or show_bars()."""
        return self._series

    def show(
        self,
        title: str,
        times: Sequence[float],
        values: Sequence[float],
        y_max: float | None = None,
        unit: str = "",
    ) -> None:
        """Plot `values` at unix `times`; no work if unchanged, deferred while hidden."""
        self._take(Series(title, tuple(times), tuple(values), y_max, unit))

    def show_bars(
        self,
        title: str,
        positions: Sequence[float],
        values: Sequence[float],
        *,
        ticks: Sequence[tuple[float, str]] = (),
        x_range: tuple[float, float] | None = None,
    ) -> None:
        """A bar per value at `positions` (e.g. day of month), labelled by `ticks`; the same
        economy as show(): no work if unchanged, deferred while hidden."""
        self._take(Bars(title, tuple(positions), tuple(values), tuple(ticks), x_range))

    def _take(self, series: Series | Bars) -> None:
        if series == self._series:
            return
        self._series = series
        if self._can_draw():
            self._draw()
        else:
            self._pending = True

    # -- Textual hooks -------------------------------------------------------

    def on_show(self, event: events.Show) -> None:
        if self._pending:
            self._draw()

    def on_resize(self, event: events.Resize) -> None:
        # Tick spacing depends on the width (bars label their own ticks).
        if isinstance(self._series, Series) and self._drawn is not None and self._drawn[1] != self.size.width:
            self._draw()

    def render(self) -> RenderResult:
        if self._series is None or not self._series.values:
            return Align.center(Text(WAITING_TEXT, style="dim"), vertical="middle", height=self.size.height)
        return super().render()

    # -- drawing -------------------------------------------------------------

    def _can_draw(self) -> bool:
        if not self.is_mounted or not self.display:
            return False
        return self.is_on_screen and bool(self.size.area)

    def _draw(self) -> None:
        self._pending = False
        series = self._series
        if series is None:
            return
        width = self.size.width
        self._drawn = (series, width)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if isinstance(series, Bars):
            self._draw_bars(series)
        elif series.values:
            times, values = series.times, series.values
            plt.title(f"{series.title}  {_with_unit(values[-1], series.unit)}")
            plt.plot(list(times), list(values), marker="braille")
            start, end = times[0], times[-1]
            ticks = time_ticks(start, end, width)
            plt.xticks(ticks, [time.strftime(TIME_FORMAT, time.localtime(t)) for t in ticks])
            if end > start:
                plt.xlim(start, end)
            top = series.y_max if series.y_max is not None else max(values)
            plt.ylim(0, top if top > 0 else 1)
        self.refresh()

    def _draw_bars(self, bars: Bars) -> None:
        plt = self.plt
        if not bars.values:
            return
        plt.title(bars.title)
        plt.bar(list(bars.positions), list(bars.values), width=0.6)
        if bars.ticks:
            plt.xticks([p for p, _ in bars.ticks], [label for _, label in bars.ticks])
        if bars.x_range is not None:
            plt.xlim(*bars.x_range)
        top = max(bars.values)
        plt.ylim(0, top * 1.1 if top > 0 else 1)

"""A plotext line chart of one metric over the retained history."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot


class MetricChart(PlotextPlot):
    DEFAULT_CSS = """
    MetricChart { height: 1fr; min-height: 6; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str, tuple[float, ...]] | None = None

    def show(
        self, title: str, seconds_ago: Sequence[float], values: Sequence[float], y_max: float | None
    ) -> None:
        """Plot `values` against seconds before now; redraw only when data changed."""
        key = (title, tuple(values))
        if key == self._shown:
            return
        self._shown = key
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("seconds ago")
        if values:
            plt.plot(list(seconds_ago), list(values), marker="braille")
        if y_max is not None:
            plt.ylim(0, y_max)
        self.refresh()

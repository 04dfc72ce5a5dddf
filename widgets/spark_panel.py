"""A labelled sparkline with its current value: one per headline metric."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


class SparkPanel(Vertical):
    DEFAULT_CSS = """
    SparkPanel { height: 3; width: 1fr; padding: 0 1; }
    SparkPanel .spark-label { height: 1; }
    SparkPanel Sparkline { height: 2; }
    SparkPanel.-selected .spark-label { text-style: bold reverse; }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self._last_text: str | None = None
        self._last_values: tuple[float, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="spark-label")
        yield Sparkline([], summary_function=max)

    def show(self, values: Sequence[float], value_text: str) -> None:
        """Update only what changed: the label line and the sparkline are separate."""
        text = f"{self.label} {value_text}"
        if text != self._last_text:
            self._last_text = text
            self.query_one(".spark-label", Static).update(text)
        as_tuple = tuple(values)
        if as_tuple != self._last_values:
            self._last_values = as_tuple
            self.query_one(Sparkline).data = list(as_tuple)

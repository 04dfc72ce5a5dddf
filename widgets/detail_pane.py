"""The selected row in full: a title, labelled facts, and a sparkline per metric.

A table row has room for a dozen short cells; an operator deciding whether to
stop an instance wants its tags, what is attached to it and how busy it has
been. The pane takes plain strings and numbers (no knowledge of where they
came from) and repaints only what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.widgets import Static

from config.redaction import redact as redact_shapes
from widgets.metric_spark import MetricSpark


@dataclass(frozen=True)
class SparkSpec:
    """A metric the pane charts: its label and the thresholds that colour it."""

    key: str
    label: str
    warn: float | None = None
    critical: float | None = None
    maximum: float | None = None


Field = tuple[str, str]
"""(label, value): one line of the pane."""


def render_fields(fields: Sequence[Field]) -> Text:
    """Labels in one aligned, muted column; each fact on one line (cropped, never wrapped)."""
    width = max((len(label) for label, _ in fields), default=0)
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, (label, value) in enumerate(fields):
        if i:
            out.append("\n")
        out.append(label.ljust(width), style="bold dim")
        out.append("  ")
        out.append(value)
    return out


class DetailPane(Vertical):
    """Title line, facts on the left, sparklines on the right (two per row)."""

    DEFAULT_CSS = """
    DetailPane { height: 10; }
    DetailPane > #detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1;
                                 text-wrap: nowrap; text-overflow: ellipsis; }
    DetailPane > Horizontal { height: 1fr; }
    DetailPane #detail-fields { width: 3fr; height: 1fr; padding: 0 1; text-wrap: nowrap;
                                text-overflow: ellipsis; }
    DetailPane #detail-sparks { width: 2fr; layout: grid; grid-size: 2; grid-rows: 3;
                                grid-gutter: 0 1; padding: 0 1 0 0; }
    DetailPane MetricSpark { height: 3; }
    """

    def __init__(self, sparks: Sequence[SparkSpec], *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.sparks = tuple(sparks)
        self._title = ""
        self._fields: tuple[Field, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title", markup=False)
        with Horizontal():
            yield Static("", id="detail-fields")
            sparks = Container(id="detail-sparks")
            sparks.display = bool(self.sparks)
            with sparks:
                for i, spec in enumerate(self.sparks):
                    yield MetricSpark(spec.label, warn=spec.warn, critical=spec.critical,
                                      maximum=spec.maximum, id=f"detail-spark-{i}")

    @property
    def title(self) -> str:
        return self._title

    @property
    def fields(self) -> tuple[Field, ...]:
        return self._fields

    def spark(self, key: str) -> MetricSpark:
        index = next(i for i, s in enumerate(self.sparks) if s.key == key)
        return self.query_one(f"#detail-spark-{index}", MetricSpark)

    def _redactor(self) -> Callable[[str], str]:
        try:
            redact = getattr(self.app, "redact", None)
        except Exception:  # no active app
            redact = None
        return redact if callable(redact) else redact_shapes

    def show(self, title: str, fields: Sequence[Field],
             series: Sequence[tuple[Sequence[float], str]] = ()) -> None:
        """`series` gives (values, value text) per SparkSpec, in order; missing ones show "—".
        The title and every line are redacted: tags, annotations and errors land here."""
        redact = self._redactor()
        title = redact(title)
        fields = [(redact(label), redact(value)) for label, value in fields]
        if title != self._title:
            self._title = title
            self.query_one("#detail-title", Static).update(title, layout=False)
        as_tuple = tuple(fields)
        if as_tuple != self._fields:
            self._fields = as_tuple
            self.query_one("#detail-fields", Static).update(render_fields(as_tuple), layout=False)
        for i in range(len(self.sparks)):
            values, text = series[i] if i < len(series) else ((), "—")
            self.query_one(f"#detail-spark-{i}", MetricSpark).show(values, text)

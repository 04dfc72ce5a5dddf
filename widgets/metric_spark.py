"""A labelled sparkline drawn on the Line API: one escape sequence per run of a style.

Textual's stock Sparkline repaints every cell with its own colour code on every
update; over SSH that was two thirds of the bytes we sent. Here each line is a
few Segments (one per run of equal style), lines are cached until the data or
the width changes, and a new value text repaints only the label line.
"""

from __future__ import annotations

import locale
import math
import os
from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

BLOCKS = "▁▂▃▄▅▆▇█"
"""Eighths of a cell, from 1/8 to 8/8."""
ASCII_RAMP = " .:-=+*#"
"""For terminals without UTF-8: index 0 is empty, 7 is a full cell."""
EIGHTHS = 8


def _env_no_color() -> bool:
    """no-color.org: any non-empty NO_COLOR asks for no colour."""
    return bool(os.environ.get("NO_COLOR"))


def locale_is_utf8() -> bool:
    """The first of LC_ALL, LC_CTYPE, LANG that is set decides (POSIX order);
    with none set, ask Python. Block glyphs on a non-UTF-8 terminal are mojibake."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(name)
        if value:
            normal = value.upper().replace("-", "").replace("_", "")
            return "UTF8" in normal
    try:
        encoding = locale.getpreferredencoding(False)
    except Exception:  # a broken locale set-up must not stop the console
        return False
    return encoding.upper().replace("-", "").replace("_", "") == "UTF8"


def _to_strip(cells: Sequence[tuple[str, Style]], width: int) -> Strip:
    """Merge consecutive cells of equal style into one Segment each."""
    segments: list[Segment] = []
    text: list[str] = []
    current: Style | None = None
    for char, style in cells:
        if style != current and text:
            segments.append(Segment("".join(text), current))
            text = []
        current = style
        text.append(char)
    if text:
        segments.append(Segment("".join(text), current))
    return Strip(segments, width)


class MetricSpark(Widget):
    """A metric's name, its current value, and its recent history as bars."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "metric-spark--bar",
        "metric-spark--warn",
        "metric-spark--critical",
        "metric-spark--label",
        "metric-spark--value",
    }

    DEFAULT_CSS = """
    MetricSpark { height: 3; width: 1fr; }
    MetricSpark > .metric-spark--label { text-style: bold; }
    MetricSpark > .metric-spark--value { }
    MetricSpark > .metric-spark--bar { color: $primary; }
    MetricSpark > .metric-spark--warn { color: $warning; }
    MetricSpark > .metric-spark--critical { color: $error; }
    """

    selected: reactive[bool] = reactive(False, repaint=False)
    """Reverses the label line: marks the metric the chart is showing."""

    def __init__(
        self,
        label: str,
        *,
        unit: str = "",
        warn: float | None = None,
        critical: float | None = None,
        maximum: float | None = None,
        bar_rows: int = 2,
        ascii: bool | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        if bar_rows < 1:
            raise ValueError("bar_rows must be at least 1")
        self.label = label
        self.unit = unit
        self.warn = warn
        self.critical = critical
        self.maximum = maximum
        self.bar_rows = bar_rows
        self.ascii = (not locale_is_utf8()) if ascii is None else ascii
        self.no_color = _env_no_color()
        self._values: tuple[float, ...] = ()
        self._value_text = ""
        self._values_version = 0
        self._text_version = 0
        self._label_cache: tuple[tuple[int, int, int, bool], Strip] | None = None
        self._bar_cache: tuple[tuple[int, int], list[Strip]] | None = None
        if bar_rows != 2:
            self.styles.height = 1 + bar_rows

    @property
    def values(self) -> tuple[float, ...]:
        """The samples last shown, oldest first."""
        return self._values

    @property
    def value_text(self) -> str:
        """The formatted current value last shown."""
        return self._value_text

    def show(self, values: Sequence[float], value_text: str) -> None:
        """Repaint the least that changed: nothing, the label line, or the widget."""
        new_values = tuple(values)
        values_changed = new_values != self._values
        text_changed = value_text != self._value_text
        if not values_changed and not text_changed:
            return
        self._values = new_values
        self._value_text = value_text
        if values_changed:
            self._values_version += 1
            self.refresh()
        else:
            self._text_version += 1
            self._refresh_label_line()

    def severity(self, value: float) -> str:
        """'critical', 'warn' or 'ok' against the thresholds given at construction."""
        if self.critical is not None and value >= self.critical:
            return "critical"
        if self.warn is not None and value >= self.warn:
            return "warn"
        return "ok"

    # -- Textual hooks -------------------------------------------------------

    def watch_selected(self) -> None:
        self._refresh_label_line()

    def notify_style_update(self) -> None:
        """A theme or CSS change invalidates the cached styles in the strips."""
        super().notify_style_update()
        self._clear_cache()

    def on_resize(self, event: events.Resize) -> None:
        self._clear_cache()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._label_strip(width)
        if 1 <= y <= self.bar_rows:
            return self._bar_strips(width)[y - 1]
        return Strip.blank(width, self.rich_style)

    # -- drawing -------------------------------------------------------------

    def _clear_cache(self) -> None:
        self._label_cache = None
        self._bar_cache = None

    def _refresh_label_line(self) -> None:
        self.refresh(Region(0, 0, self.size.width, 1))

    def _severity_styles(self) -> dict[str, Style]:
        if self.no_color:
            base = self.rich_style
            return {"ok": base, "warn": base, "critical": base}
        return {
            "ok": self.get_component_rich_style("metric-spark--bar"),
            "warn": self.get_component_rich_style("metric-spark--warn"),
            "critical": self.get_component_rich_style("metric-spark--critical"),
        }

    def _label_strip(self, width: int) -> Strip:
        key = (width, self._values_version, self._text_version, self.selected)
        if self._label_cache is not None and self._label_cache[0] == key:
            return self._label_cache[1]
        base = self.rich_style
        if self.no_color:
            label_style = base + Style(bold=True)
            value_style = base
        else:
            label_style = self.get_component_rich_style("metric-spark--label")
            value_style = self.get_component_rich_style("metric-spark--value")
            level = self.severity(self._values[-1]) if self._values else "ok"
            if level != "ok":
                value_style = self._severity_styles()[level]
        parts = [(self.label, label_style)]
        if self._value_text:
            parts += [(" ", base), (self._value_text, value_style)]
        segments = [Segment(text, style) for text, style in parts]
        strip = Strip(segments).crop_extend(0, width, base).simplify()
        if self.selected:
            strip = strip.apply_style(Style(reverse=True))
        self._label_cache = (key, strip)
        return strip

    def _bar_strips(self, width: int) -> list[Strip]:
        key = (width, self._values_version)
        if self._bar_cache is not None and self._bar_cache[0] == key:
            return self._bar_cache[1]
        strips = self._draw_bars(width)
        self._bar_cache = (key, strips)
        return strips

    def _draw_bars(self, width: int) -> list[Strip]:
        """One column per sample, newest at the right; each column a run-mergeable cell."""
        rows = self.bar_rows
        total = rows * EIGHTHS
        samples = self._values[-width:] if width > 0 else ()
        finite = (v for v in samples if math.isfinite(v))
        top = self.maximum if self.maximum is not None else max(finite, default=0.0)
        styles = self._severity_styles()
        base = self.rich_style
        heights: list[int] = []
        column_styles: list[Style] = []
        for value in samples:
            heights.append(_eighths(value, top, total))
            column_styles.append(styles[self.severity(value)])
        blank = width - len(samples)
        # A space shows only its background: give it a neighbour's style so runs
        # merge, as long as every style involved paints the same background.
        backgrounds = {s.bgcolor for s in (base, *styles.values())}
        smooth = len(backgrounds) == 1
        strips: list[Strip] = []
        for y in range(rows):
            floor = (rows - 1 - y) * EIGHTHS
            cells: list[tuple[str, Style]] = []
            for eighths, style in zip(heights, column_styles, strict=True):
                level = min(EIGHTHS, max(0, eighths - floor))
                cells.append((self._glyph(level), style))
            if smooth:
                cells = _smooth_blanks(cells)
            fill_style = cells[0][1] if smooth and cells else base
            strips.append(_to_strip([(" ", fill_style)] * blank + cells, width))
        return strips

    def _glyph(self, level: int) -> str:
        if level == 0:
            return " "
        if self.ascii:
            return ASCII_RAMP[min(level, len(ASCII_RAMP) - 1)]
        return BLOCKS[level - 1]


def _eighths(value: float, top: float, total: int) -> int:
    """Height in eighths of a cell; never below one so a zero keeps a baseline."""
    if math.isnan(value) or not top > 0 or value <= 0:
        return 1
    ratio = value / top
    return total if ratio >= 1 else max(1, round(ratio * total))


def _smooth_blanks(cells: list[tuple[str, Style]]) -> list[tuple[str, Style]]:
    """Blank cells take the style of the run before them (or after, at the start)."""
    out = list(cells)
    previous: Style | None = None
    for i, (char, style) in enumerate(out):
        if char != " ":
            previous = style
        elif previous is not None:
            out[i] = (char, previous)
    first_visible = next((s for c, s in out if c != " "), None)
    if first_visible is not None:
        for i, (char, _) in enumerate(out):
            if char != " ":
                break
            out[i] = (char, first_visible)
    return out

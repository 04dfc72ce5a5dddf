"""MetricSpark and PlotPanel as an operator sees them: what is drawn, in which
colours, and that an unchanged tick costs no repaint (bytes over SSH)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.widget import Widget

from widgets.metric_spark import ASCII_RAMP, MetricSpark, locale_is_utf8
from widgets.plot_panel import WAITING_TEXT, PlotPanel

OK, CRIT = 10.0, 95.0


class Host(App[None]):
    """The smallest app that lays one widget out at a known width."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self._widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self._widgets


def spark(**kwargs: Any) -> MetricSpark:
    kwargs.setdefault("ascii", False)
    kwargs.setdefault("id", "spark")
    return MetricSpark("CPU", **kwargs)


def segments(widget: MetricSpark, y: int) -> list[Segment]:
    return list(widget.render_line(y))


def text(widget: MetricSpark, y: int) -> str:
    return widget.render_line(y).text


def style_at(widget: MetricSpark, y: int, x: int) -> Style:
    """The style of the cell the user sees at column x."""
    offset = 0
    for segment in segments(widget, y):
        if offset <= x < offset + len(segment.text):
            assert segment.style is not None
            return segment.style
        offset += len(segment.text)
    raise AssertionError(f"no cell at {x}")


class RefreshSpy:
    def __init__(self) -> None:
        self.calls: list[tuple[Region, ...]] = []

    def __call__(self, *regions: Region, **kwargs: Any) -> None:
        self.calls.append(regions)


@pytest.fixture(autouse=True)
def _colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


# (a) runs of one style -------------------------------------------------------


async def test_bar_lines_of_one_severity_are_one_run() -> None:
    w = spark(warn=50, critical=80, maximum=100)
    async with Host(w).run_test(size=(40, 3)) as pilot:
        w.show([OK + i % 7 for i in range(40)], "16.0%")
        await pilot.pause()
        for y in (1, 2):
            assert len(segments(w, y)) <= 2
        assert set(text(w, 2)) <= set("▁▂▃▄▅▆▇█")
        assert text(w, 2).strip()  # something is drawn


async def test_alternating_severity_blocks_give_one_segment_per_block() -> None:
    w = spark(warn=50, critical=80, maximum=100)
    async with Host(w).run_test(size=(40, 3)) as pilot:
        w.show(([OK] * 10 + [CRIT] * 10) * 2, "95.0%")
        await pilot.pause()
        bottom = segments(w, 2)
        assert [len(s.text) for s in bottom] == [10, 10, 10, 10]
        ok_style = w.get_component_rich_style("metric-spark--bar")
        crit_style = w.get_component_rich_style("metric-spark--critical")
        assert ok_style.color != crit_style.color
        assert [s.style.color for s in bottom] == [ok_style.color, crit_style.color] * 2
        assert len(segments(w, 1)) <= 4


async def test_value_text_coloured_by_severity_of_newest_sample() -> None:
    w = spark(warn=50, critical=80, maximum=100)
    async with Host(w).run_test(size=(40, 3)) as pilot:
        colours = {}
        for name, value in (("ok", 10.0), ("warn", 60.0), ("critical", 90.0)):
            w.show([value], f"{value}%")
            await pilot.pause()
            colours[name] = style_at(w, 0, len("CPU ")).color
        assert colours["warn"] == w.get_component_rich_style("metric-spark--warn").color
        assert colours["critical"] == w.get_component_rich_style("metric-spark--critical").color
        assert len(set(colours.values())) == 3
        assert text(w, 0).startswith("CPU 90.0%")


async def test_theme_change_recolours_cached_bars() -> None:
    w = spark(maximum=100)
    app = Host(w)
    async with app.run_test(size=(20, 3)) as pilot:
        w.show([50.0] * 20, "50%")
        await pilot.pause()
        before = style_at(w, 2, 0).color
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = style_at(w, 2, 0)
        assert after.color == w.get_component_rich_style("metric-spark--bar").color
        assert after.color != before


# (b) repaint only what changed ----------------------------------------------


async def test_identical_show_does_not_refresh_and_new_text_refreshes_only_line_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = spark(maximum=100)
    async with Host(w).run_test(size=(40, 3)) as pilot:
        w.show([1.0, 2.0, 3.0], "3.0%")
        await pilot.pause()
        spy = RefreshSpy()
        monkeypatch.setattr(w, "refresh", spy)

        w.show([1.0, 2.0, 3.0], "3.0%")
        w.show((1.0, 2.0, 3.0), "3.0%")
        assert spy.calls == []

        w.show([1.0, 2.0, 3.0], "3.1%")
        assert spy.calls == [(Region(0, 0, 40, 1),)]
        assert text(w, 0).startswith("CPU 3.1%")

        w.show([1.0, 2.0, 3.0, 4.0], "4.0%")
        assert spy.calls[-1] == ()  # the whole widget
        assert w.values == (1.0, 2.0, 3.0, 4.0)
        assert w.value_text == "4.0%"


async def test_selected_reverses_the_label_line_only(monkeypatch: pytest.MonkeyPatch) -> None:
    w = spark(maximum=100)
    async with Host(w).run_test(size=(30, 3)) as pilot:
        w.show([50.0] * 5, "50.0%")
        await pilot.pause()
        assert not any(s.style.reverse for s in segments(w, 0))
        spy = RefreshSpy()
        monkeypatch.setattr(w, "refresh", spy)
        w.selected = True
        assert spy.calls == [(Region(0, 0, 30, 1),)]
        assert all(s.style.reverse for s in segments(w, 0))
        assert not any(s.style.reverse for s in segments(w, 2))


# (c) newest at the right -----------------------------------------------------


async def test_newest_sample_at_right_edge_and_history_scrolls_left() -> None:
    w = spark(maximum=80, bar_rows=1)
    async with Host(w).run_test(size=(20, 2)) as pilot:
        assert w.size.height == 2
        w.show([10, 20, 30, 40, 50, 60, 70, 80], "80")
        await pilot.pause()
        assert text(w, 1) == " " * 12 + "▁▂▃▄▅▆▇█"
        w.show([10, 20, 30, 40, 50, 60, 70, 80, 0], "0")
        await pilot.pause()
        assert text(w, 1) == " " * 11 + "▁▂▃▄▅▆▇█▁"


async def test_only_the_last_width_samples_show_and_a_wider_widget_shows_more() -> None:
    w = spark(maximum=100, bar_rows=1)
    async with Host(w).run_test(size=(20, 2)) as pilot:
        w.show([100.0] * 10 + [0.0] * 20, "0")
        await pilot.pause()
        assert text(w, 1) == "▁" * 20
        await pilot.resize_terminal(30, 2)
        await pilot.pause()
        assert w.size.width == 30
        assert text(w, 1) == "█" * 10 + "▁" * 20


# (d) scaling -------------------------------------------------------------------


async def test_scale_with_maximum_fills_eighths_bottom_row_first() -> None:
    w = spark(maximum=100)
    async with Host(w).run_test(size=(4, 3)) as pilot:
        w.show([25, 50, 75, 100], "100")
        await pilot.pause()
        assert text(w, 2) == "▄███"
        assert text(w, 1) == "  ▄█"


async def test_auto_scale_uses_the_largest_sample() -> None:
    w = spark()
    async with Host(w).run_test(size=(4, 3)) as pilot:
        w.show([5, 10, 15, 20], "20")
        await pilot.pause()
        assert text(w, 2) == "▄███"
        assert text(w, 1) == "  ▄█"


async def test_values_above_maximum_are_clamped_to_full_height() -> None:
    w = spark(maximum=10)
    async with Host(w).run_test(size=(2, 3)) as pilot:
        w.show([10, 500], "500")
        await pilot.pause()
        assert text(w, 1) == "██"


async def test_all_zeros_draw_a_visible_baseline() -> None:
    w = spark()
    async with Host(w).run_test(size=(10, 3)) as pilot:
        w.show([0.0] * 10, "0")
        await pilot.pause()
        assert text(w, 2) == "▁" * 10
        assert text(w, 1) == " " * 10


async def test_missing_and_infinite_samples_do_not_break_the_chart() -> None:
    w = spark()
    async with Host(w).run_test(size=(4, 3)) as pilot:
        w.show([float("nan"), 5.0, 10.0, float("inf")], "—")
        await pilot.pause()
        assert text(w, 2) == "▁███"
        assert text(w, 1) == "  ██"


# (e) ASCII fallback -------------------------------------------------------------


async def test_ascii_fallback_draws_only_ascii() -> None:
    w = spark(ascii=True, maximum=100, warn=50, critical=80)
    async with Host(w).run_test(size=(20, 3)) as pilot:
        w.show([0, 5, 12, 25, 40, 50, 60, 75, 90, 100], "100%")
        await pilot.pause()
        drawn = text(w, 1) + text(w, 2)
        assert drawn.isascii()
        assert set(drawn) <= set(ASCII_RAMP)
        assert text(w, 2).endswith("#" * 4)
        assert "." in text(w, 2)  # zero keeps a baseline


def test_locale_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert locale_is_utf8()
    monkeypatch.setenv("LC_ALL", "C")  # LC_ALL wins over LANG
    assert not locale_is_utf8()
    assert MetricSpark("CPU").ascii
    monkeypatch.setenv("LC_ALL", "de_DE.utf8")
    assert locale_is_utf8()
    assert not MetricSpark("CPU").ascii
    monkeypatch.setenv("LC_ALL", "en_US.ISO-8859-1")
    assert not locale_is_utf8()


# (f) NO_COLOR --------------------------------------------------------------------


async def test_no_color_drops_severity_colours_but_keeps_bold_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    w = spark(warn=50, critical=80, maximum=100)
    async with Host(w).run_test(size=(40, 3)) as pilot:
        w.show(([OK] * 10 + [CRIT] * 10) * 2, "95.0%")
        await pilot.pause()
        base = w.rich_style
        for y in (1, 2):
            assert {s.style.color for s in segments(w, y)} == {base.color}
        assert len(segments(w, 2)) == 1
        label, *rest = segments(w, 0)
        assert label.text == "CPU" and label.style.bold
        assert {s.style.color for s in rest} == {base.color}


# (g) PlotPanel -----------------------------------------------------------------------

T0 = time.mktime((2024, 3, 15, 7, 41, 0, 0, 0, -1))  # 07:41:00 local, whatever the TZ
TIMES = [T0 + 2 * i for i in range(60)]
VALUES = [float((i * 7) % 50) for i in range(60)]


def panel_text(panel: PlotPanel) -> list[str]:
    return [panel.render_line(y).text for y in range(panel.size.height)]


class PlotCalls:
    def __init__(self, panel: PlotPanel, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = panel.plt.plot

        def plot(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(panel.plt, "plot", plot)


async def test_plot_unchanged_data_is_not_redrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = PlotPanel()
    async with Host(panel).run_test(size=(80, 16)) as pilot:
        await pilot.pause()
        calls = PlotCalls(panel, monkeypatch)
        panel.show("CPU", TIMES, VALUES, 100, "%")
        assert calls.count == 1
        spy = RefreshSpy()
        monkeypatch.setattr(panel, "refresh", spy)
        panel.show("CPU", list(TIMES), list(VALUES), 100, "%")
        assert calls.count == 1 and spy.calls == []
        panel.show("CPU", [*TIMES, T0 + 120], [*VALUES, 1.0], 100, "%")
        assert calls.count == 2 and len(spy.calls) == 1


async def test_plot_while_hidden_is_deferred_until_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = PlotPanel()
    tab = Vertical(panel)
    async with Host(tab).run_test(size=(80, 16)) as pilot:
        tab.display = False
        await pilot.pause()
        calls = PlotCalls(panel, monkeypatch)
        panel.show("CPU", TIMES[:10], VALUES[:10], 100, "%")
        panel.show("CPU", TIMES, VALUES, 100, "%")
        assert calls.count == 0 and panel.pending
        tab.display = True
        await pilot.pause()
        assert calls.count == 1 and not panel.pending
        assert any("07:41:00" in line for line in panel_text(panel))


async def test_plot_hidden_by_its_own_display_is_deferred(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = PlotPanel()
    async with Host(panel).run_test(size=(80, 16)) as pilot:
        panel.display = False
        await pilot.pause()
        calls = PlotCalls(panel, monkeypatch)
        panel.show("CPU", TIMES, VALUES)
        assert calls.count == 0 and panel.pending
        panel.display = True
        await pilot.pause()
        assert calls.count == 1 and not panel.pending


async def test_plot_without_data_says_it_is_waiting_centred() -> None:
    panel = PlotPanel()
    async with Host(panel).run_test(size=(80, 16)) as pilot:
        await pilot.pause()
        lines = panel_text(panel)
        (row,) = [i for i, line in enumerate(lines) if WAITING_TEXT in line]
        assert abs(row - len(lines) // 2) <= 1
        line = lines[row]
        left = line.index(WAITING_TEXT)
        right = len(line) - left - len(WAITING_TEXT)
        assert abs(left - right) <= 1
        assert not any("┌" in line for line in lines)

        panel.show("CPU", TIMES, VALUES, 100, "%")
        await pilot.pause()
        assert not any(WAITING_TEXT in line for line in panel_text(panel))
        panel.show("CPU", [], [], 100, "%")
        await pilot.pause()
        assert any(WAITING_TEXT in line for line in panel_text(panel))


async def test_plot_time_axis_shows_wall_clock_and_title_latest_value() -> None:
    panel = PlotPanel()
    async with Host(panel).run_test(size=(80, 16)) as pilot:
        panel.show("CPU", TIMES, VALUES, 100, "%")
        await pilot.pause()
        lines = panel_text(panel)
        labels = re.findall(r"\b\d\d:\d\d:\d\d\b", lines[-1])
        assert labels[:4] == ["07:41:00", "07:41:30", "07:42:00", "07:42:30"]
        assert f"CPU  {VALUES[-1]:.0f}%" in lines[0]

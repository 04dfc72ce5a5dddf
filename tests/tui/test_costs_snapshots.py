"""The Costs tab at the sizes operators use, on the fixture of test_costs_view: November
2026 to the 18th, six services, two accounts, a budget over and one warning, five
findings sorted by savings, recommendations not available and two namespaces; on
120x40 the daily bar chart and the unattached volume's details; and the typed
confirmation of deleting it. Fixed clock: the same screen on every machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls
from tests.tui.test_costs_view import VOLUME, CostsReplay, key
from tui.screens.costs_view import CostsView
from widgets.confirm_dialog import ConfirmDialog

SIZES = [(80, 24), (120, 40)]


def costs_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, providers=[RecordedHostProvider(), CostsReplay()], start_runtime=False,
                    clock=lambda: FIXED_NOW, role="admin")
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def on_the_volume(pilot) -> None:  # type: ignore[no-untyped-def]
    """The tab, the chart plotted (it is mounted after the first frame), the volume selected."""
    await fill_polls(pilot, 2)
    await pilot.press("5")
    view = pilot.app.query_one(CostsView)
    for _ in range(20):
        await pilot.pause()
        plot = view.plot()
        if not view.chart_wanted or (plot is not None and plot.series is not None and not plot.pending):
            break
    assert view.table.move_cursor_to(key(VOLUME))
    await pilot.pause()


async def delete_dialog(pilot) -> None:  # type: ignore[no-untyped-def]
    await on_the_volume(pilot)
    await pilot.press("ctrl+d")
    for _ in range(20):  # the action runs in a worker: wait for its dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, ConfirmDialog):
            break
    await pilot.press(*"vol-0a1b")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_costs_tab(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The totals (the over-spent budget in red) and their provenance, the daily spend (a
    sparkline on 80x24, a bar chart on 120x40), the sections with the findings sorted by
    savings and their fix keys, the recommendations note across the line, the label's
    month to date and OVER; on 120x40 the volume's details: evidence, cost, savings, action."""
    assert snap_compare(costs_app(tmp_path), terminal_size=size, run_before=on_the_volume)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_delete_volume_confirmation(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """ctrl+d on the unattached volume: the destructive dialog asks for its id, half typed."""
    assert snap_compare(costs_app(tmp_path), terminal_size=size, run_before=delete_dialog)

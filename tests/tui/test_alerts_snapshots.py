"""The Alerts tab at the sizes operators use, on the mixed fixture of
test_alerts_view: two firing alerts (one from Alertmanager), one pending, one
silenced, two resolved and the silence muting it; on 120x40 with the detail pane
of the critical disk alert (its transitions and notification history); and the
silence dialog refusing a text that is not a duration. Fixed clock and time
zone: the same screen on every machine."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls
from tests.tui.test_alerts_view import alert_providers
from widgets.choice_dialog import ChoiceDialog
from widgets.text_dialog import TextDialog

SIZES = [(80, 24), (120, 40)]


def alerts_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, providers=[RecordedHostProvider(), *alert_providers()], start_runtime=False,
                    clock=lambda: FIXED_NOW)
    app.tz = UTC
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 2)


async def wait_for(pilot, kind: type) -> None:  # type: ignore[no-untyped-def]
    for _ in range(30):  # the action runs in a worker: wait for its dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, kind):
            return
    raise AssertionError(f"no {kind.__name__}")


async def silence_refused(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill(pilot)
    await pilot.press("4", "s")
    await wait_for(pilot, ChoiceDialog)
    await pilot.press("enter")
    await wait_for(pilot, TextDialog)
    await pilot.press(*"soon", "enter")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alerts_tab(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The sections with severity colours, labels, ages, sources and the ack mark, the
    silence, the summary line and the tab's counts; on 120x40 the summary and trend
    columns and the disk alert's details: its value's sparkline, annotations, transitions
    and notifications (one failed send in red)."""
    assert snap_compare(alerts_app(tmp_path), terminal_size=size, run_before=fill, press=["4"])


def test_silence_dialog_says_what_to_type(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`s`, this alert only, then `soon`: the dialog stays with one line saying what to type."""
    assert snap_compare(alerts_app(tmp_path), terminal_size=(80, 24), run_before=silence_refused)

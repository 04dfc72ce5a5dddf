"""The HA tab at the sizes operators use, on recorded clusters: a healthy Patroni
cluster (with a cascaded replica) and a degraded MariaDB pair whose replica's IO
thread cannot reach the primary; and the switchover's candidate dialog. Fixed
clock and time zone: the same screen on every machine."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls, recorded_ha_providers

SIZES = [(80, 24), (120, 40)]


def ha_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, providers=[RecordedHostProvider(), *recorded_ha_providers("main", "shop")],
                    start_runtime=False, clock=lambda: FIXED_NOW)
    app.tz = UTC
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 12)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ha_tab(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The two trees with lag and health colours, the summary line and the tab's counts;
    on 120x40 the lag trend column and pg3's details with sparklines; the timeline."""
    assert snap_compare(ha_app(tmp_path), terminal_size=size, run_before=fill,
                        press=["2", "down", "down", "down"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_switchover_candidates(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """`x` on the Patroni cluster: the replicas to pick from, the leader greyed with why."""
    assert snap_compare(ha_app(tmp_path), terminal_size=size, run_before=fill, press=["2", "x"])

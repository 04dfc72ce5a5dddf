"""The Kubernetes views at the sizes operators use, on the recorded cluster
(two contexts; staging has no metrics-server and may not list events)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls, recorded_kube_providers

SIZES = [(80, 24), (120, 40)]


def kube_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, providers=[RecordedHostProvider(), *recorded_kube_providers()],
                    start_runtime=False, clock=lambda: FIXED_NOW)
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 24)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pods_view(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Pods: the metrics problem line, summary sparklines, statuses in colour; on
    120x40 the selected pod's containers, events and usage sparklines."""
    assert snap_compare(kube_app(tmp_path), terminal_size=size, run_before=fill, press=["p"])


def test_nodes_view(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Nodes: NotReady red, cordoned yellow, requests of allocatable, usage where served."""
    assert snap_compare(kube_app(tmp_path), terminal_size=(120, 40), run_before=fill, press=["n", "down"])

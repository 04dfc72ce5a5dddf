"""The Backups tab at the sizes operators use, on recorded targets: pgBackRest in
good order, EBS snapshots in RPO breach, pg_dump files with a missed schedule and
a stale restore test, RDS snapshots, AWS Backup with a listing problem; and the
prune confirmation listing its plan. Fixed clock and time zone: the same screen
on every machine."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from tests.support.apps import (
    FIXED_NOW,
    RecordedHostProvider,
    build_app,
    fill_polls,
    recorded_backup_providers,
)
from widgets.confirm_dialog import ConfirmDialog

SIZES = [(80, 24), (120, 40)]


def backups_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, providers=[RecordedHostProvider(), *recorded_backup_providers()],
                    start_runtime=False, clock=lambda: FIXED_NOW, role="admin")
    app.tz = UTC
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 2)


async def prune_dialog(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill(pilot)
    await pilot.press("3", "P")
    for _ in range(20):  # the action runs in a worker: wait for its dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, ConfirmDialog):
            break
    await pilot.press(*"orders")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_backups_tab(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Every target with its verdicts in colour, the summary line and the tab's counts;
    on 120x40 the source and size-trend columns and shop-dumps' details: the missed
    schedule, its restore tests (one failed check) and its backups with retention's
    decision on each."""
    assert snap_compare(backups_app(tmp_path), terminal_size=size, run_before=fill,
                        press=["3", "down", "down"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_prune_confirmation(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """`P` on orders-db: the plan's lines (what goes and why), the prompt without the
    ids, the name half typed."""
    assert snap_compare(backups_app(tmp_path), terminal_size=size, run_before=prune_dialog)

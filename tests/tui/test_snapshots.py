"""Layout at the two sizes operators use: 80x24 (the SSH default) and 120x40.

Host numbers are recorded (fixed) so the screens are the same on every
machine; the behaviour tests in test_app.py use the live host.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls, recorded_aws_providers

SIZES = [(80, 24), (120, 40)]


def recorded_app(tmp_path: Path, read_only: bool = False, aws: bool = False):  # type: ignore[no-untyped-def]
    providers = [RecordedHostProvider(), *(recorded_aws_providers() if aws else [])]
    app = build_app(tmp_path, read_only=read_only, providers=providers,
                    start_runtime=False, clock=lambda: FIXED_NOW)
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 24)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_resources(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(recorded_app(tmp_path), terminal_size=size, run_before=fill)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_watch_mode_badge_and_no_action_keys(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(recorded_app(tmp_path, read_only=True), terminal_size=size, run_before=fill)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_unconfigured_tab(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(recorded_app(tmp_path), terminal_size=size, run_before=fill, press=["2"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(recorded_app(tmp_path), terminal_size=size, run_before=fill,
                        press=["question_mark"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_typed_confirmation_dialog(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(recorded_app(tmp_path), terminal_size=size, run_before=fill, press=["k"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ec2_view(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The EC2 view: partition status, fleet sparklines, the table; on 120x40 the detail pane."""
    assert snap_compare(recorded_app(tmp_path, aws=True), terminal_size=size, run_before=fill, press=["e"])


def test_ec2_view_details_on_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`i` on a small terminal: the pane takes what is left once the table has six rows."""
    assert snap_compare(recorded_app(tmp_path, aws=True), terminal_size=(80, 24), run_before=fill,
                        press=["e", "down", "i"])

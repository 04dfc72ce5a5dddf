"""The Security tab and the Audit screen at the sizes operators use. The tab on the fixture
of test_security_view (eight findings under CRITICAL, HIGH and MEDIUM, one source denied,
its line in red) with the SSH finding selected: on 120x40 its evidence, remedy and ignore
key. The audit trail of test_audit_screen (done, refused, cancelled and failed records,
newest first) with the refused one selected. Fixed clock and time zone: the same screen
on every machine."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from providers.actions import AuditLog
from providers.security.model import SourceStatus
from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls
from tests.tui.test_audit_screen import TRAIL, loaded, write
from tests.tui.test_security_view import DENIED, NOW, SOURCES, SSH, STAGING, SecurityReplay, snapshot
from tui.screens.audit_screen import AuditScreen
from tui.screens.security_rows import finding_key
from tui.screens.security_view import SecurityView

SIZES = [(80, 24), (120, 40)]


def recorded_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    failed = (*SOURCES, SourceStatus(STAGING, DENIED, NOW - 60, 0))
    app = build_app(tmp_path, providers=[RecordedHostProvider(), SecurityReplay(snapshot(sources=failed))],
                    start_runtime=False, clock=lambda: FIXED_NOW)
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    app.tz = UTC
    # Where the trail lives by default, under the (test's own) home: the header shows it as ~/…
    app.gate.audit = AuditLog(Path.home() / ".local" / "state" / "stacktop" / "audit.jsonl")
    return app


async def on_the_ssh_finding(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 2)
    await pilot.press("6")
    await pilot.pause()
    assert pilot.app.query_one(SecurityView).table.move_cursor_to(finding_key(SSH))
    await pilot.pause()


async def on_the_audit_trail(pilot) -> None:  # type: ignore[no-untyped-def]
    await write(pilot.app.gate.audit.path, *TRAIL)
    await fill_polls(pilot, 2)
    await pilot.press("ctrl+a")
    screen = pilot.app.screen
    assert isinstance(screen, AuditScreen)
    await loaded(pilot, screen, 1)
    await pilot.press("down", "down")  # the refused record
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_security_tab(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The totals (severity counts in their colours, one of four sources failed, the scan's age,
    three ignored), the denied source's line, the sections in severity order with the critical
    cells reversed, the label's counts and `!`; on 120x40 the source column and the SSH
    finding's details."""
    assert snap_compare(recorded_app(tmp_path), terminal_size=size, run_before=on_the_ssh_finding)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_audit_screen(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Newest first, the results in their colours, the filter prompt, the refused record in
    full below the table; on 120x40 the host and SSH client, the duration and the message."""
    assert snap_compare(recorded_app(tmp_path), terminal_size=size, run_before=on_the_audit_trail)

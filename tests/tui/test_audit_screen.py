"""The Audit screen as an operator drives it, over records written by the real AuditLog
(and by the real ActionGate): newest first with who, from where, what, on what, the
result and how long; the filter; a reload that shows an action taken meanwhile (from
another console on the same bastion); the newest 1,000 of a long trail; and no secret
shown, even when a record holds one raw."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from config.redaction import redact
from providers.actions import ActionGate, AuditLog, ConfirmRequest
from providers.base import ActionTarget
from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, messages
from tui.app import StacktopApp
from tui.screens.audit_screen import LIMIT, NARROW, WIDE, AuditScreen

TALL = (120, 40)
SHORT = (80, 24)
START = datetime.fromtimestamp(FIXED_NOW, UTC)
TOKEN = "ghp_" + "Zx9Q" * 9
DB_PASSWORD = "Tr0ub4dor-and-3"


def record(minute: int, user: str, role: str, action: str, kind: str, name: str, result: str, message: str,
           *, duration: float | None = None, params: Mapping[str, str] | None = None,
           ssh_client: str | None = "203.0.113.7", risk: str = "disruptive",
           target_id: str = "") -> dict[str, Any]:
    """A record as the gate writes it, at START + `minute`."""
    return {"time": (START + timedelta(minutes=minute)).isoformat(timespec="milliseconds"), "user": user,
            "role": role, "host": "bastion-1", "ssh_client": ssh_client, "profile": "prod", "action": action,
            "risk": risk, "target": {"kind": kind, "id": target_id or name, "name": name},
            "params": dict(params or {}), "result": result, "message": message, "duration_s": duration}


TRAIL = (
    record(0, "alice", "operator", "aws.ec2.stop", "instance", "web-1", "ok", "Stop of i-0web1 requested",
           duration=1.234, target_id="i-0web1"),
    record(3, "bob", "viewer", "aws.ec2.reboot", "instance", "api-1", "refused",
           "Reboot instance refused: it is disruptive and needs the operator role; bob is viewer "
           "(roles in the profile)", target_id="i-0api1"),
    record(7, "carol", "admin", "ha.failover", "cluster", "orders-db", "cancelled", "Failover cancelled",
           risk="destructive", ssh_client=None),
    record(9, "alice", "operator", "k8s.scale", "deployment", "shop/web", "failed",
           "Scale failed: 409 Conflict", duration=0.41, params={"replicas": "5"}, risk="disruptive"),
)


async def write(path: Path, *records: dict[str, Any]) -> None:
    log = AuditLog(path)
    for r in records:
        await log.append(r)


def audit_app(tmp_path: Path, **kwargs: Any) -> StacktopApp:
    app = build_app(tmp_path, providers=[RecordedHostProvider()], start_runtime=False,
                    clock=lambda: FIXED_NOW, **kwargs)
    app.tz = UTC
    return app


async def open_audit(pilot) -> AuditScreen:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+a")
    screen = pilot.app.screen
    assert isinstance(screen, AuditScreen)
    await loaded(pilot, screen, 1)
    return screen


async def loaded(pilot, screen: AuditScreen, count: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the screen has shown its `count`th read (it reads in a thread)."""
    for _ in range(200):
        if screen.loads >= count:
            await pilot.pause()
            return
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    raise AssertionError(f"the audit screen showed {screen.loads} reads, not {count}")


def cells(screen: AuditScreen, key: str) -> dict[str, str]:
    t = screen.table
    found = t.row_cells(key)
    assert found is not None, key
    return dict(zip([c.key for c in t.columns], found, strict=True))


def column(screen: AuditScreen, name: str) -> list[str]:
    return [cells(screen, k)[name] for k in screen.table.visible_keys()]


def header(screen: AuditScreen) -> str:
    return str(screen.query_one("#audit-header", Static).render())


def detail(screen: AuditScreen) -> str:
    return str(screen.query_one("#audit-detail", Static).render())


# -- the list ----------------------------------------------------------------------------------------------


async def test_records_are_listed_newest_first_with_who_where_what_and_the_result(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write(path, *TRAIL)
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        assert [c.key for c in screen.table.columns] == list(WIDE)
        assert column(screen, "action") == ["k8s.scale", "ha.failover", "aws.ec2.reboot", "aws.ec2.stop"]
        newest = cells(screen, screen.table.visible_keys()[0])
        assert newest == {"when": "11-18 11:15:40", "who": "alice(operator)",
                          "where": "bastion-1 ← 203.0.113.7", "action": "k8s.scale",
                          "target": "deployment shop/web", "result": "failed", "duration": "0.4s",
                          "message": "Scale failed: 409 Conflict"}
        assert column(screen, "who") == ["alice(operator)", "carol(admin)", "bob(viewer)", "alice(operator)"]
        assert column(screen, "where")[1] == "bastion-1"  # no SSH client: a local session
        assert column(screen, "duration") == ["0.4s", "", "", "1.2s"]
        assert header(screen) == f"Audit trail · {path} · 4 records"  # outside the home: as it is
        # the selected record in full below the table: the params, the id, the whole message
        assert detail(screen).splitlines() == [
            "2026-11-18 11:15:40 UTC · alice(operator) on bastion-1 ← 203.0.113.7 · profile prod",
            "k8s.scale (disruptive) on deployment shop/web · replicas=5 → failed in 0.4s",
            "Scale failed: 409 Conflict"]
        await pilot.press("down", "down")
        assert "refused: it is disruptive and needs the operator role" in detail(screen)
        await pilot.press("escape")
        assert not isinstance(app.screen, AuditScreen)


async def test_results_are_coloured(tmp_path: Path) -> None:
    await write(tmp_path / "audit.jsonl", *TRAIL)
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        t = screen.table
        styles = {h: t.get_component_rich_style(f"resource-table--{h}") for h in ("ok", "warn", "error")}
        await pilot.press("end")  # the cursor's row draws plain: put it on the oldest
        for n, (result, health) in enumerate((("failed", "error"), ("refused", "warn"))):
            key = next(k for k in t.visible_keys() if cells(screen, k)["result"] == result)
            strip = t.render_line(t.visible_keys().index(key) + 1)
            cell = next(seg for seg in strip if seg.text.strip() == result)
            assert cell.style is not None and cell.style.color == styles[health].color, (n, result)


async def test_80_columns_keep_time_who_action_target_and_result(tmp_path: Path) -> None:
    await write(tmp_path / "audit.jsonl", *TRAIL)
    app = audit_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        screen = await open_audit(pilot)
        assert [c.key for c in screen.table.columns] == list(NARROW)
        assert column(screen, "when")[0] == "11-18 11:15:40"
        assert cells(screen, screen.table.visible_keys()[0]) == {
            "when": "11-18 11:15:40", "who": "alice(operator)", "action": "k8s.scale",
            "target": "deployment shop/web", "result": "failed"}
        # the host, the message and the year are in the lines below
        assert "2026-11-18 11:15:40 UTC" in detail(screen) and "bastion-1" in detail(screen)
        assert "Scale failed: 409 Conflict" in detail(screen)


async def test_the_filter_narrows_by_user_action_target_or_result(tmp_path: Path) -> None:
    await write(tmp_path / "audit.jsonl", *TRAIL)
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        await pilot.press("slash", *"alice")
        await pilot.pause()
        assert column(screen, "action") == ["k8s.scale", "aws.ec2.stop"]
        assert header(screen).endswith("· 4 records · 2 match")
        await pilot.press("enter")
        assert screen.table.has_focus  # the filter stays, the table takes the keys
        assert column(screen, "action") == ["k8s.scale", "aws.ec2.stop"]
        await pilot.press("slash", "ctrl+u", *"refused")
        await pilot.pause()
        assert column(screen, "who") == ["bob(viewer)"]
        await pilot.press("ctrl+u", *"orders-db")
        await pilot.pause()
        assert column(screen, "action") == ["ha.failover"]
        await pilot.press("escape")  # in the prompt: clears the filter
        await pilot.pause()
        assert len(screen.table.visible_keys()) == 4 and isinstance(app.screen, AuditScreen)
        await pilot.press("escape")  # then closes the screen
        assert not isinstance(app.screen, AuditScreen)


async def test_r_reloads_and_shows_an_action_taken_meanwhile(tmp_path: Path) -> None:
    """Another console on the bastion (the same profile's audit file) stops an instance while
    this one shows the trail: `r` lists it on top."""
    path = tmp_path / "audit.jsonl"
    await write(path, *TRAIL[:2])
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        assert len(screen.table.visible_keys()) == 2
        other = ActionGate(app.runtime.providers, AuditLog(path), read_only=False, role="operator",
                           user="dave", refresh=lambda name: None, host="bastion-1",
                           ssh_client="198.51.100.4", profile="test")
        spec = app.action_specs["host.terminate"]
        target = ActionTarget("process", "4242", "stk-nothing", details={"pid": "4242"})

        async def no(request: ConfirmRequest) -> bool:
            return False

        await other.execute(spec, target, no)
        await pilot.press("r")
        await loaded(pilot, screen, 2)
        assert len(screen.table.visible_keys()) == 3
        top = cells(screen, screen.table.visible_keys()[0])
        assert (top["who"], top["where"], top["action"], top["target"], top["result"]) == (
            "dave(operator)", "bastion-1 ← 198.51.100.4", "host.terminate", "process stk-nothing",
            "cancelled")


async def test_a_refused_action_from_this_console_is_on_the_trail(tmp_path: Path) -> None:
    app = audit_app(tmp_path, role="viewer")
    async with app.run_test(size=TALL) as pilot:
        for name in list(app.runtime.providers):
            await app.runtime.poll_provider(name)
        await pilot.pause()
        await pilot.press("k")  # terminate the selected process: a viewer may not
        for _ in range(50):
            await pilot.pause()
            if messages(app):
                break
        assert "needs the operator role; tester is viewer" in messages(app)[-1]
        screen = await open_audit(pilot)
        top = cells(screen, screen.table.visible_keys()[0])
        assert (top["who"], top["action"], top["result"]) == ("tester(viewer)", "host.terminate", "refused")


async def test_a_long_trail_lists_the_newest_thousand_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with path.open("w") as f:  # plain JSON lines: what an older stacktop wrote, no chain
        for n in range(LIMIT + 25):
            line = record(n, f"user{n}", "operator", "aws.ec2.start", "instance", f"web-{n}", "ok", "started")
            f.write(json.dumps(line) + "\n")
        f.write('{"time": "2026-11-18T11:00:00.000+00:00", "user": "torn')  # a line cut by a crash
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        assert len(screen.table.visible_keys()) == LIMIT
        assert column(screen, "target")[0] == f"instance web-{LIMIT + 24}"
        assert column(screen, "target")[-1] == "instance web-25"
        assert "newest 1,000 of 1,025 records" in header(screen)


async def test_a_missing_file_says_nothing_was_recorded_yet(tmp_path: Path) -> None:
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        assert screen.table.empty_text == "no action recorded yet"
        assert header(screen).endswith("· 0 records")


async def test_an_unreadable_trail_is_one_line_saying_why(tmp_path: Path) -> None:
    (tmp_path / "audit.jsonl").mkdir()  # not a file: reading it fails
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        line = header(screen)
        assert "cannot read" in line and str(tmp_path / "audit.jsonl") in line
        assert "Traceback" not in app.export_screenshot()
        assert screen.table.empty_text.startswith("cannot read")


async def test_the_palette_opens_the_audit_trail(tmp_path: Path) -> None:
    await write(tmp_path / "audit.jsonl", *TRAIL)
    app = audit_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"audit trail")
        commands = app.screen.query_one(CommandList)
        for _ in range(200):  # the palette searches in a worker: wait for its answer
            if commands.option_count and "Audit" in str(commands.get_option_at_index(0).prompt):
                break
            await pilot.pause()
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, AuditScreen):
                break
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await loaded(pilot, screen, 1)
        assert len(screen.table.visible_keys()) == 4


# -- secrets ------------------------------------------------------------------------------------------------


async def test_a_secret_in_a_record_is_never_shown(tmp_path: Path) -> None:
    """A record written raw (no redaction at write time: an older build, another tool) with a
    token in its params, a config secret in its message and a bearer header: the screen, its
    filter and its lines below show *** instead."""
    leaky = record(12, "alice", "operator", "alerts.silence", "alert", "HostCpuHigh", "ok",
                   f"silenced; webhook said Authorization: Bearer {TOKEN} and db password {DB_PASSWORD}",
                   params={"token": TOKEN, "comment": f"use {DB_PASSWORD} to log in"}, duration=0.2)
    await write(tmp_path / "audit.jsonl", *TRAIL, leaky)
    assert TOKEN in (tmp_path / "audit.jsonl").read_text()  # the file holds it raw
    app = audit_app(tmp_path)
    app.redact = partial(redact, secrets=(DB_PASSWORD,))
    async with app.run_test(size=TALL) as pilot:
        screen = await open_audit(pilot)
        assert screen.table.selected_key() == screen.table.visible_keys()[0]
        shown = " ".join(cells(screen, screen.table.selected_key() or "").values()) + "\n" + detail(screen)
        assert "***" in shown and "token=***" in detail(screen)
        screenshot = app.export_screenshot()
        for secret in (TOKEN, DB_PASSWORD, TOKEN[:12]):
            assert secret not in shown and secret not in screenshot
        await pilot.press("slash", *DB_PASSWORD[:8])  # the filter searches what is shown
        await pilot.pause()
        assert screen.table.visible_keys() == []

"""The Backups tab as an operator drives it, on recorded targets: pgBackRest in
good order, EBS snapshots in RPO breach, pg_dump files with a missed schedule
and a stale restore test, RDS automated + manual snapshots, AWS Backup with a
listing problem. The table's verdicts, the tab's counts, the detail pane with
every backup and retention's decision, and backup now / prune / verify through
the gate (prune lists its plan and needs the target's name typed)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.style import Style
from textual.widgets import Static

from providers.backups.action_specs import target_for
from providers.backups.model import TargetSnapshot
from providers.base import Provider
from tests.support.apps import (
    FIXED_NOW,
    RecordedBackupProvider,
    RecordedHostProvider,
    audit_records,
    build_app,
    messages,
    recorded_backup_big,
    recorded_backup_orders,
    recorded_backup_providers,
)
from tui.app import StacktopApp
from tui.keymap import help_rows
from tui.screens.backups_rows import NARROW, WIDE
from tui.screens.backups_view import BackupsView
from tui.screens.planned import CONFIGURED_STATUS
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.resource_table import ResourceTable
from widgets.setup_hint import SetupHint

TALL = (120, 40)
SHORT = (80, 24)
READ_ONLY = "refused: read-only mode (restart without 'watch'/--read-only to act)"
UTC = ZoneInfo("UTC")


def backups_app(tmp_path: Path, *targets: str, read_only: bool = False,
                providers: list[Provider] | None = None, role: str = "admin") -> StacktopApp:
    """As an admin by default: prune is destructive (test_prune_needs_the_admin_role)."""
    chosen = providers if providers is not None else recorded_backup_providers(*targets)
    app = build_app(tmp_path, read_only=read_only, providers=[RecordedHostProvider(), *chosen],
                    start_runtime=False, clock=lambda: FIXED_NOW, role=role)
    app.tz = UTC
    return app


async def poll_all(pilot, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    runtime = pilot.app.runtime
    for _ in range(times):
        for name in list(runtime.providers):
            await runtime.poll_provider(name)
    await pilot.pause()


async def show_backups(pilot) -> BackupsView:  # type: ignore[no-untyped-def]
    await poll_all(pilot)
    await pilot.press("3")
    await pilot.pause()
    return view(pilot.app)


def view(app: StacktopApp) -> BackupsView:
    return app.query_one(BackupsView)


def table(app: StacktopApp) -> ResourceTable:
    return view(app).table


def cell(app: StacktopApp, key: str, column: str) -> str:
    t = table(app)
    found = t.row_cells(key)
    assert found is not None, key
    return dict(zip([c.key for c in t.columns], found, strict=True))[column]


def cell_colour(app: StacktopApp, key: str, text: str) -> Style:
    t = table(app)
    y = t.visible_keys().index(key) + 1 - t.scroll_offset.y
    for segment in t.render_line(y):
        if text in segment.text:
            return segment.style or Style()
    raise AssertionError(f"{text!r} not on the line of {key}")


def severity(app: StacktopApp, name: str) -> Style:
    return table(app).get_component_rich_style(f"resource-table--{name}")


def snapshot(app: StacktopApp, target: str) -> TargetSnapshot:
    stored = app.store.latest(f"backups.{target}")
    assert stored is not None and isinstance(stored.snapshot, TargetSnapshot)
    return stored.snapshot


def pane_lines(app: StacktopApp) -> list[str]:
    doc = view(app).lines.doc
    assert doc is not None
    return doc.text().splitlines()


async def select(pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    assert table(pilot.app).move_cursor_to(key), key
    await pilot.pause()


def calls(app: StacktopApp, target: str) -> list[tuple[str, dict[str, str]]]:
    provider = app.runtime.providers[f"backups.{target}"]
    assert isinstance(provider, RecordedBackupProvider)
    return [(action, dict(t.params)) for action, t in provider.calls]


async def open_dialog(pilot, key: str):  # type: ignore[no-untyped-def]
    await pilot.press(key)
    for _ in range(20):  # the action runs in a worker: wait for its first dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, ChoiceDialog | ConfirmDialog):
            break
    return pilot.app.screen


def dialog_text(screen) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(s.render()) for s in screen.query(Static)]


def tab_label(app: StacktopApp) -> str:
    return str(app.query_one("#tabs").get_tab("backups").label)  # type: ignore[attr-defined]


# -- the table ------------------------------------------------------------------------------------


async def test_each_target_shows_its_rpo_schedule_retention_and_restore_test_verdicts(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        assert table(app).visible_keys() == ["orders-db", "web-ebs", "shop-dumps", "billing-rds",
                                             "files-vault"]
        assert [c.key for c in table(app).columns] == list(WIDE)
        columns = ("newest", "rpo", "schedule", "count", "size", "retention", "verified")
        assert [cell(app, "orders-db", c) for c in columns] == [
            "10h06m", "ok 26h", "Thu 01:00", "32", "259.1 GB", "keep 10 del 22", "ok 2d ago"]
        assert [cell(app, "web-ebs", c) for c in columns] == [
            "3d08h", "BREACH 1d", "—", "14", "420.0 GB", "keep 7 del 7", "n/a"]
        assert [cell(app, "shop-dumps", c) for c in columns] == [
            "2d09h", "warn 3d", "MISSED", "14", "29.1 GB", "keep 8 del 7", "stale 9d ago"]  # the failed dump
        # is listed (and retention deletes it) but not counted
        assert cell(app, "billing-rds", "retention") == "keep 9 del 1"  # automated ones are RDS's to expire
        assert cell(app, "files-vault", "retention") == "keep 5"
        assert cell(app, "web-ebs", "source") == "vol-001aa00000000001 web-1-root (prod/us-east-1)"
        assert cell(app, "shop-dumps", "trend") == "▇▇▇█▄███████"  # the short dump of 11-09 dips
        await select(pilot, "files-vault")  # the cursor's line is drawn in the cursor's colours
        ok, warn, error = (severity(app, s).color for s in ("ok", "warn", "error"))
        assert cell_colour(app, "orders-db", "ok 26h").color == ok
        assert cell_colour(app, "web-ebs", "BREACH 1d").color == error
        assert cell_colour(app, "web-ebs", "web-ebs").color == error
        assert cell_colour(app, "shop-dumps", "MISSED").color == error
        assert cell_colour(app, "shop-dumps", "stale 9d ago").color == warn
        assert cell_colour(app, "shop-dumps", "shop-dumps").color == warn
        summary = str(view(app).query_one(".summary", Static).render())
        assert summary == ("5 targets: 2 ok  ·  1 RPO breach (web-ebs)  ·  1 missed schedule (shop-dumps)"
                           "  ·  1 stale restore test (shop-dumps)  ·  1 with problems (files-vault)"
                           "  ·  1 RPO warning (shop-dumps)")


async def test_the_tab_label_counts_targets_in_trouble_from_any_tab(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)  # the Resources tab is shown: the label counts anyway
        assert tab_label(app) == "3 Backups 2 ok 3 !"
        assert "backups ◑ partial" in str(app.query_one("#status").render())  # files-vault's problem
    app = backups_app(tmp_path, "orders-db", "billing-rds")
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        assert tab_label(app) == "3 Backups 2 ok"


async def test_a_target_whose_listing_fails_is_a_row_that_says_why(tmp_path: Path) -> None:
    def broken(i: int) -> TargetSnapshot:
        raise RuntimeError("pgbackrest: stanza 'main' does not exist; create it with stanza-create")

    app = backups_app(tmp_path, providers=[RecordedBackupProvider("orders-db", recorded_backup_orders),
                                           RecordedBackupProvider("legacy", broken)])
    async with app.run_test(size=TALL) as pilot:
        backups = await show_backups(pilot)
        why = "pgbackrest: stanza 'main' does not exist; create it with stanza-create"
        assert cell(app, "legacy", "source").startswith("no data: ") and why in cell(app, "legacy", "source")
        assert tab_label(app) == "3 Backups 1 ok 1 !"
        assert "1 no data (legacy)" in str(backups.query_one(".summary", Static).render())
        await select(pilot, "legacy")
        title = str(backups.query_one(".detail-title", Static).render())
        assert title.startswith("legacy: no data: ") and title.endswith(why)
        await pilot.press("P")
        await app.workers.wait_for_complete()
        assert messages(app) == ["legacy: no listing from this target yet"]


async def test_without_a_backup_target_the_tab_says_how_to_configure_one(tmp_path: Path) -> None:
    app = backups_app(tmp_path, providers=[])
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("3")
        await pilot.pause()
        hint = app.query_one(SetupHint)
        texts = [str(s.render()) for s in hint.query(Static)]
        assert CONFIGURED_STATUS["backups"] in texts
        assert any("backups:\n  targets:" in t for t in texts)
        assert not app.query(BackupsView)
        assert tab_label(app) == "3 Backups"
        await pilot.press("P")  # no target: the key is not bound here
        await app.workers.wait_for_complete()
        assert messages(app) == []


async def test_80_columns_keep_the_verdicts_and_120_bring_source_and_size_trend(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        backups = await show_backups(pilot)
        assert [c.key for c in table(app).columns] == list(NARROW)
        assert cell(app, "orders-db", "prune") == "22 of 32"
        assert not backups.details_shown  # 24 rows: the table has them
        await select(pilot, "shop-dumps")
        await pilot.resize_terminal(*TALL)
        for _ in range(5):
            await pilot.pause()
        assert [c.key for c in table(app).columns] == list(WIDE)
        assert table(app).selected_key() == "shop-dumps" and table(app).has_focus
        assert backups.details_shown
        assert backups.lines.doc is not None and backups.lines.doc.snap.target == "shop-dumps"


# -- the detail pane ------------------------------------------------------------------------------


async def test_details_show_facts_restore_tests_and_every_backup_with_its_decision(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        backups = await show_backups(pilot)
        assert backups.details_shown
        await select(pilot, "shop-dumps")
        assert str(backups.query_one(".detail-title", Static).render()) == "shop-dumps · dump files · warn"
        lines = pane_lines(app)
        assert lines[0] == ("status        warn: RPO nearly breached; schedule: missed; restore test stale; "
                            "the newest backup failed: 0 bytes: pg_dump did not finish")  # status.py says why
        head = lines[:lines.index("")]
        facts = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in head}
        assert facts["schedule"] == ("0 2 * * * · next 2026-11-19 02:00 · previous 2026-11-18 02:00 · "
                                     "MISSED: no good backup since the previous run")
        assert facts["restore test"] == "stale: last test 9d ago passed (shop-20261109-020000.dump, 4m20s)"
        assert facts["retention"] == "keeps 8, deletes 7 (P prunes them after you confirm)"
        tests_at = lines.index(" Restore tests, newest first (2) ")
        assert lines[tests_at + 1].split()[:4] == ["2026-11-09", "05:00", "ok", "4m20s"]
        assert lines[tests_at + 1].endswith("shop-20261109-020000.dump  pg_dump  2 checks passed")
        assert lines[tests_at + 2].startswith("2026-11-02 05:00  FAILED")
        assert lines[tests_at + 3].strip() == "check orders rows: 0 (expected >= 1000)"
        listed = lines[lines.index(" Backups, newest first (15; retention deletes 7) ") + 1:]
        assert len(listed) == 15
        assert listed[0].split()[:6] == ["2026-11-17", "02:00", "1d09h", "pg_dump", "0", "B"]
        assert "FAILED" in listed[0]
        assert listed[0].endswith("DELETE (failed)  0 bytes: pg_dump did not finish")
        assert listed[1].endswith("shop-20261116-020000.dump  KEEP (newest good, daily 2026-11-16)")
        assert listed[9].endswith("KEEP (weekly 2026-W45)")
        assert listed[-1].endswith("shop-20261103-020000.dump  DELETE (no rule keeps it)")
        plan = snapshot(app, "shop-dumps").plan
        deleted = [words[words.index("DELETE") - 1] for words in map(str.split, listed) if "DELETE" in words]
        assert deleted == list(plan.delete)

        await select(pilot, "billing-rds")
        lines = pane_lines(app)
        assert ["backup window", "02:30-03:00 UTC"] in [re.split(r"\s{2,}", line) for line in lines]
        assert any(line.startswith("runs") and "RDS backup window" in line for line in lines)
        automated = "KEEP (not deletable: automated: RDS deletes it after 7 days)"
        assert any(line.endswith(automated) for line in lines)  # the note is not said twice
        assert any(line.endswith("DELETE (older than max_age 90d)") for line in lines)
        assert "this source cannot be restore-tested here" in lines

        await select(pilot, "files-vault")
        problems = [line for line in pane_lines(app) if line.startswith("problems")]
        assert problems == ["problems      AWS Backup plans: not available at this endpoint "
                            "(ListBackupPlans is not implemented)"]


async def test_backup_times_are_in_the_apps_time_zone(tmp_path: Path) -> None:
    app = backups_app(tmp_path, "shop-dumps")
    app.tz = ZoneInfo("Europe/Berlin")
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        lines = pane_lines(app)
        listed = lines[lines.index(" Backups, newest first (15; retention deletes 7) ") + 1:]
        assert listed[0].startswith("2026-11-17 03:00")  # 02:00 UTC
        assert cell(app, "shop-dumps", "schedule") == "MISSED"


async def test_the_pane_comes_with_i_on_80x24_and_enter_lets_the_arrows_scroll_it(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        backups = await show_backups(pilot)
        assert not backups.details_shown
        await pilot.press("i")
        await pilot.pause()
        assert backups.details_shown
        assert str(backups.query_one(".detail-title", Static).render()) == "orders-db · pgBackRest · ok"
        assert table(app).size.height == 6  # every target still in sight
        await pilot.press("enter")
        assert backups.lines.has_focus
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert backups.lines.scroll_offset.y > 0
        assert table(app).selected_key() == "orders-db"  # the arrows scroll; the target stays
        await pilot.press("escape")
        assert table(app).has_focus
        await pilot.press("down")
        await pilot.pause()
        assert backups.lines.scroll_offset.y == 0  # another target starts at its top
        await pilot.press("i")
        await pilot.pause()
        assert not backups.details_shown


async def test_a_target_with_2000_backups_draws_only_the_lines_on_screen(tmp_path: Path) -> None:
    big = RecordedBackupProvider("big-dumps", recorded_backup_big(2000))
    app = backups_app(tmp_path, providers=[big])
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        backups = await show_backups(pilot)
        await pilot.pause()
        lines = backups.lines
        assert lines.doc is not None and len(lines.doc) > 2000
        # formatted: the lines on screen (a width or two while the layout settles), not 2000
        assert lines.drawn <= 2 * lines.size.height
        assert cell(app, "big-dumps", "retention") == "keep 129 del 1871"
        lines.focus()
        await pilot.press("end")
        await pilot.pause()
        assert lines.scroll_offset.y == len(lines.doc) - lines.size.height
        assert lines.render_line(lines.size.height - 1).text.startswith("2026-08-27 03:00")  # the oldest
        assert lines.drawn <= 3 * lines.size.height
        shown = lines.doc
        await poll_all(pilot)  # a new snapshot of 2000 backups: the table's row and the pane, redrawn
        await pilot.pause()
        assert lines.doc is not shown and len(lines.doc) > 2000
        assert lines.scroll_offset.y == len(lines.doc) - lines.size.height  # the place is kept
        assert 0 < lines.drawn <= 2 * lines.size.height  # again a screenful, not 2000 lines


# -- actions ---------------------------------------------------------------------------------------


async def test_prune_needs_the_admin_role(tmp_path: Path) -> None:
    app = backups_app(tmp_path, role="operator")
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        await pilot.press("P")
        await app.workers.wait_for_complete()
        assert not isinstance(app.screen, ConfirmDialog)  # nothing to type: it cannot run
        assert calls(app, "orders-db") == []
        assert messages(app)[-1] == ("Prune refused: it is destructive and needs the admin role; "
                                     f"{app.gate.user} is operator (roles in the profile)")


async def test_prune_lists_the_plan_and_deletes_exactly_it_once_the_name_is_typed(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        expected = target_for("backups.prune", snapshot(app, "orders-db"))
        assert not isinstance(expected, str)
        confirm = await open_dialog(pilot, "P")
        assert isinstance(confirm, ConfirmDialog)
        assert confirm.listing == expected.listing and len(confirm.listing) == 22
        assert confirm.listing[0] == ("delete 20261108-010000F_20261111-010000I  2026-11-11 01:00 UTC  "
                                      "no rule keeps it")
        texts = dialog_text(confirm)
        assert "\n".join(expected.listing) in texts
        prompt = next(t for t in texts if "Type" in t)  # the ids are listed, not repeated in one line
        assert prompt == ("Delete the backups the retention plan lists (shown below); nothing else is "
                          "touched: backup target orders-db (orders-db). Type 'orders-db' to confirm.")
        await pilot.press(*"orders", "enter")
        await app.workers.wait_for_complete()
        assert calls(app, "orders-db") == []
        assert messages(app)[-1] == "Prune cancelled: typed name did not match 'orders-db'"

        await open_dialog(pilot, "P")
        await pilot.press(*"orders-db", "enter")
        await app.workers.wait_for_complete()
        [(action, params)] = calls(app, "orders-db")
        assert action == "backups.prune"
        assert params == {"delete": ",".join(snapshot(app, "orders-db").plan.delete)}
        assert params == dict(expected.params)
        assert messages(app)[-2:] == [
            "Prune orders-db: started; the result shows here when it ends (other keys keep working)",
            "Prune orders-db: deleted 22 of 22"]
        assert all(calls(app, t) == [] for t in ("web-ebs", "shop-dumps", "billing-rds", "files-vault"))
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        ("backups.prune", "cancelled"), ("backups.prune", "ok")]


async def test_prune_with_nothing_to_delete_asks_nothing(tmp_path: Path) -> None:
    app = backups_app(tmp_path, "files-vault")
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        await pilot.press("P")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert messages(app) == ["files-vault: the retention plan deletes nothing (5 kept)"]
    assert audit_records(tmp_path) == []


async def test_backup_now_on_pgbackrest_offers_full_diff_and_incr(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        dialog = await open_dialog(pilot, "b")
        assert isinstance(dialog, ChoiceDialog)
        assert "Backup now backup target orders-db" in dialog_text(dialog)
        assert dialog.choice_ids == dialog.enabled_ids == ["full", "diff", "incr"]
        await pilot.press("down", "enter")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        assert "Take a backup now: backup target orders-db, mode → diff? [y/n]" in dialog_text(confirm)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert calls(app, "orders-db") == [("backups.backup_now", {"mode": "diff"})]
        assert messages(app)[-1] == "Backup now orders-db: diff backup taken"
    [record] = audit_records(tmp_path)
    assert (record["action"], record["result"], record["params"]) == (
        "backups.backup_now", "ok", {"mode": "diff"})


async def test_verify_needs_a_dump_or_pgbackrest_source(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        await select(pilot, "web-ebs")
        await pilot.press("V")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert messages(app) == [
            "web-ebs: restore tests need a pg_dump or pgBackRest source with verify configured"]
        assert calls(app, "web-ebs") == []

        await select(pilot, "orders-db")
        confirm = await open_dialog(pilot, "V")
        assert isinstance(confirm, ConfirmDialog)
        assert ("Restore the newest backup into a scratch PostgreSQL and run the sanity checks: "
                "backup target orders-db? [y/n]") in dialog_text(confirm)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        provider = app.runtime.providers["backups.orders-db"]
        assert isinstance(provider, RecordedBackupProvider)
        [(action, target)] = provider.calls
        assert (action, target.details["backup"]) == ("backups.verify", "20261115-010000F_20261118-010000I")
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [("backups.verify", "ok")]


async def test_a_long_backup_keeps_the_console_responsive_and_says_when_it_starts_and_ends(
        tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        provider = app.runtime.providers["backups.orders-db"]
        assert isinstance(provider, RecordedBackupProvider)
        provider.hold = asyncio.Event()
        await open_dialog(pilot, "b")
        await pilot.press("enter")  # full
        await pilot.pause()
        await pilot.press("y")
        for _ in range(20):
            await pilot.pause()
            if provider.calls:
                break
        assert messages(app)[-1] == ("Backup now orders-db (full): started; the result shows here when it "
                                     "ends (other keys keep working)")
        # while pgBackRest works: other tabs, other targets, the detail pane
        await pilot.press("1")
        assert app.query_one("#tabs").active == "resources"  # type: ignore[attr-defined]
        await pilot.press("3", "down")
        await pilot.pause()
        assert table(app).selected_key() == "web-ebs"
        assert view(app).lines.doc is not None and view(app).lines.doc.snap.target == "web-ebs"
        assert len(messages(app)) == 1
        provider.hold.set()
        await app.workers.wait_for_complete()
        assert messages(app)[-1] == "Backup now orders-db: full backup taken"


async def test_the_backup_keys_work_in_the_backups_tab_only(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("P")  # the Resources tab: P is not the Backups tab's here
        await app.workers.wait_for_complete()
        assert messages(app) == []
        app.action_run_action("backups.prune")  # the palette can ask from anywhere
        await app.workers.wait_for_complete()
        assert messages(app) == ["Prune: select a target in the Backups tab first (key 3)"]


async def test_watch_mode_refuses_backup_prune_and_verify_without_a_dialog(tmp_path: Path) -> None:
    app = backups_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await show_backups(pilot)
        for key in ("b", "P", "V"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not isinstance(app.screen, ChoiceDialog | ConfirmDialog), key
        assert messages(app) == [f"Backup now {READ_ONLY}", f"Prune {READ_ONLY}", f"Verify {READ_ONLY}"]
        assert all(calls(app, t) == [] for t in ("orders-db", "web-ebs", "shop-dumps"))
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert not {"Backup", "Prune", "Verify"} & shown  # hidden from the footer in watch mode
        assert "Details" in shown  # reads stay
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        ("backups.backup_now", "refused"), ("backups.prune", "refused"), ("backups.verify", "refused")]


async def test_on_80x24_the_plan_scrolls_with_page_keys_while_the_name_is_typed(tmp_path: Path) -> None:
    app = backups_app(tmp_path, "orders-db")
    async with app.run_test(size=SHORT) as pilot:
        await show_backups(pilot)
        confirm = await open_dialog(pilot, "P")
        assert isinstance(confirm, ConfirmDialog)
        area = confirm.query_one("#listing")
        assert 3 <= area.size.height < 22  # what fits; the hint says how many there are
        assert any("PgUp/PgDn scroll the list (22 lines)" in t for t in dialog_text(confirm))
        await pilot.press(*"orders", "pagedown", "pagedown")
        await pilot.pause()
        assert area.scroll_offset.y > 0
        await pilot.press(*"-db", "enter")
        await app.workers.wait_for_complete()
        assert [a for a, _ in calls(app, "orders-db")] == ["backups.prune"]


def test_help_names_the_backup_keys_by_their_tab(tmp_path: Path) -> None:
    app = backups_app(tmp_path)
    listed = {(key, where) for key, _, where in help_rows(app.keys, False, app.views)}
    assert {(key, "Backups tab") for key in ("b", "P", "V", "i")} <= listed

"""The HA tab as an operator drives it, on recorded clusters: a healthy Patroni
cluster (leader, a synchronous replica, a replica and a replica cascading from
it) and a degraded MariaDB pair whose replica cannot reach its primary. The
tree, health in colour, the details with sparklines, the event timeline, and
switchover/failover through the choice dialog and the gate."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.style import Style
from textual.app import App, ComposeResult
from textual.widgets import Static

from providers.base import Provider
from providers.ha.model import HaSnapshot
from tests.support.apps import (
    FIXED_NOW,
    RecordedHaProvider,
    RecordedHostProvider,
    audit_records,
    build_app,
    filter_to,
    messages,
    recorded_ha_main,
    recorded_ha_providers,
)
from tui.app import StacktopApp
from tui.screens.ha_rows import newest_events, summary_line, timeline_text, tree
from tui.screens.ha_view import HaView
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.resource_table import ResourceTable
from widgets.setup_hint import SetupHint
from widgets.text_dialog import TextDialog

TALL = (120, 40)
SHORT = (80, 24)
READ_ONLY = "refused: read-only mode (restart without 'watch'/--read-only to act)"


def ha_app(tmp_path: Path, *clusters: str, read_only: bool = False, role: str = "operator",
           providers: list[Provider] | None = None) -> StacktopApp:
    chosen = providers if providers is not None else recorded_ha_providers(*clusters)
    app = build_app(tmp_path, read_only=read_only, role=role, providers=[RecordedHostProvider(), *chosen],
                    start_runtime=False, clock=lambda: FIXED_NOW)
    app.tz = UTC
    return app


def ha_provider(name: str, build: Callable[[int], HaSnapshot]) -> RecordedHaProvider:
    return RecordedHaProvider(name, build)


async def poll_all(pilot, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    runtime = pilot.app.runtime
    for _ in range(times):
        for name in list(runtime.providers):
            await runtime.poll_provider(name)
    await pilot.pause()


async def show_ha(pilot, polls: int = 1) -> HaView:  # type: ignore[no-untyped-def]
    await poll_all(pilot, polls)
    await pilot.press("2")
    await pilot.pause()
    return view(pilot.app)


def view(app: StacktopApp) -> HaView:
    return app.query_one(HaView)


def table(app: StacktopApp) -> ResourceTable:
    return view(app).table


def cell(app: StacktopApp, key: str, column: str) -> str:
    t = table(app)
    found = t.row_cells(key)
    assert found is not None, key
    return dict(zip([c.key for c in t.columns], found, strict=True))[column]


def cell_colour(app: StacktopApp, key: str, text: str) -> Style:
    """The style the table paints `text` with on `key`'s line (as on screen)."""
    t = table(app)
    y = t.visible_keys().index(key) + 1 - t.scroll_offset.y
    for segment in t.render_line(y):
        if text in segment.text:
            return segment.style or Style()
    raise AssertionError(f"{text!r} not on the line of {key}")


def severity_style(app: StacktopApp, severity: str) -> Style:
    return table(app).get_component_rich_style(f"resource-table--{severity}")


def timeline_lines(app: StacktopApp) -> list[str]:
    return str(view(app).query_one(".timeline-events", Static).render()).splitlines()


async def select(pilot, key: str) -> None:  # type: ignore[no-untyped-def]
    assert table(pilot.app).move_cursor_to(key), key
    await pilot.pause()


# -- the tree -------------------------------------------------------------------------------------


async def test_members_follow_the_topology_leader_replicas_then_cascaded(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        assert table(app).visible_keys() == [
            "main", "main/pg1", "main/pg2", "main/pg3", "main/pg4", "shop", "shop/db1", "shop/db2"]
        names = [cell(app, k, "name") for k in table(app).visible_keys()]
        assert names == ["main", " pg1", " ├─ pg2", " └─ pg3", "    └─ pg4", "shop", " db1", " └─ db2"]
        assert cell(app, "main", "endpoint") == "leader pg1 · 4 members"
        assert (cell(app, "main", "role"), cell(app, "main", "state")) == ("patroni", "healthy")
        columns = ("endpoint", "role", "state", "timeline", "lag", "lag_s")
        assert [cell(app, "main/pg3", c) for c in columns] == [
            "10.0.0.13:5432", "replica", "streaming", "4", "64.0 KB", "0s"]
        assert cell(app, "main/pg2", "role") == "sync rep"
        assert cell(app, "main/pg1", "lag") == ""  # a leader lags nobody
        # `s` would scatter the tree: the table does not sort
        await pilot.press("s")
        assert table(app).visible_keys()[:2] == ["main", "main/pg1"]
        assert "Sort" not in {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}


def test_tree_glyphs_in_ascii_and_a_replica_of_a_missing_upstream_under_the_leader() -> None:
    snap = recorded_ha_main(0)
    assert [(m.name, glyphs) for m, glyphs in tree(snap, ascii=True)] == [
        ("pg1", ""), ("pg2", "|- "), ("pg3", "`- "), ("pg4", "   `- ")]
    orphan = dataclasses.replace(snap.members[3], upstream="pg9")  # not (or no longer) in the cluster
    snap = dataclasses.replace(snap, members=(*snap.members[:3], orphan))
    assert [(m.name, glyphs) for m, glyphs in tree(snap)] == [
        ("pg1", ""), ("pg2", "├─ "), ("pg3", "├─ "), ("pg4", "└─ ")]


async def test_an_unreachable_member_stays_in_the_tree_marked_in_red(tmp_path: Path) -> None:
    main = ha_provider("main", lambda i: recorded_ha_main(i, pg3_reachable=False))
    app = ha_app(tmp_path, providers=[main])
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        await select(pilot, "main/pg1")
        assert table(app).visible_keys() == ["main", "main/pg1", "main/pg2", "main/pg3", "main/pg4"]
        assert cell(app, "main/pg3", "state") == "unreachable"
        assert cell(app, "main/pg3", "lag") == "—"
        assert cell(app, "main/pg4", "name") == "    └─ pg4"  # its cascade keeps its place
        assert cell_colour(app, "main/pg3", "unreachable").color == severity_style(app, "error").color
        assert cell(app, "main", "state") == "degraded"
        summary = str(view(app).query_one(".summary", Static).render())
        assert summary == "main degraded: pg3 unreachable"


async def test_health_colours_the_rows_the_summary_and_the_tab_label(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        ha = await show_ha(pilot)
        await select(pilot, "shop/db1")  # the cursor's line is drawn in the cursor's colours
        ok, warn, error = (severity_style(app, s).color for s in ("ok", "warn", "error"))
        assert cell_colour(app, "main", "healthy").color == ok
        assert cell_colour(app, "main/pg2", "streaming").color == ok
        assert cell_colour(app, "main/pg4", "streaming").color == warn  # 1.7 MB behind
        assert cell_colour(app, "shop", "degraded").color == warn
        assert cell_colour(app, "shop/db2", "connecting").color == error
        assert cell_colour(app, "shop/db2", "db2").color == error
        assert cell(app, "shop/db2", "lag") == ""  # MariaDB has no lag in bytes
        assert cell(app, "shop/db2", "lag_s") == "—"  # and none in seconds while it is broken
        assert str(ha.query_one(".summary", Static).render()) == (
            "main healthy  ·  shop degraded: db2: replication broken")
        summary = summary_line([(c, app.store.latest(f"ha.{c}").snapshot, "")  # type: ignore[union-attr,misc]
                                for c in ("main", "shop")])
        colours = {summary.plain[s.start:s.end].strip(): s.style for s in summary.spans}
        assert (colours["healthy"], colours["degraded"]) == ("green", "yellow")
        assert str(app.query_one("#tabs").get_tab("ha").label) == "2 HA 1 ok 1 !"  # type: ignore[attr-defined]


async def test_without_an_ha_cluster_the_tab_says_how_to_configure_one(tmp_path: Path) -> None:
    app = ha_app(tmp_path, providers=[])
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("2")
        await pilot.pause()
        assert app.query_one(SetupHint) and not app.query(HaView)
        assert str(app.query_one("#tabs").get_tab("ha").label) == "2 HA"  # type: ignore[attr-defined]
        await pilot.press("x")  # no HA cluster: the key is not even bound here
        assert messages(app) == []


# -- details ---------------------------------------------------------------------------------------


async def test_member_details_show_its_facts_and_sparklines_of_the_metrics_it_has(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        ha = await show_ha(pilot, polls=5)
        assert ha.details_shown
        await select(pilot, "main/pg1")
        pane = ha.detail()
        assert pane.title == "pg1 · primary in main (patroni)"
        facts = dict(pane.fields)
        assert facts["state"] == "running · timeline 4"
        assert facts["endpoint"] == "10.0.0.11:5432"
        assert facts["connections"] == "43 of 200 · active 6 · idle 35 · idle in transaction 2"
        assert facts["activity"] == "cache hit 99.3% · 1 waiting on locks"
        assert facts["longest"].startswith("query 12s (SELECT o.id") and facts["longest"].endswith(
            "transaction 31s")
        assert facts["databases"] == "shop 12.4 GB · postgres 7.6 MB"
        assert facts["top statements"] == (
            "48211 calls · 96.4 s total · 2.0 ms mean · UPDATE stock SET qty = qty - $1 WHERE sku = $2")
        assert [s.key for s in pane.sparks] == ["xact_per_s", "rows_per_s", "connections"]  # no lag: leader
        assert len(pane.spark("xact_per_s").values) == 5
        assert pane.spark("connections").value_text == "43"

        await select(pilot, "main/pg3")
        await pilot.pause()
        pane = ha.detail()
        assert [s.key for s in pane.sparks] == ["lag_bytes", "lag_seconds", "xact_per_s", "rows_per_s",
                                               "connections"]
        assert dict(pane.fields)["replicates"] == "from pg1 · 224.0 KB / 1s behind"
        assert pane.spark("lag_bytes").values == (64 * 1024.0, 104 * 1024.0, 144 * 1024.0, 184 * 1024.0,
                                                  224 * 1024.0)
        assert pane.spark("lag_bytes").value_text == "224.0 KB"
        assert cell(app, "main/pg3", "trend") == "▃▄▅▇█"

        await select(pilot, "shop/db2")
        await pilot.pause()
        pane = ha.detail()
        assert [s.key for s in pane.sparks] == ["queries_per_s", "slow_queries_per_s", "connections"]
        facts = dict(pane.fields)
        assert facts["replicates"] == "from db1 · replication BROKEN"
        assert facts["error"].startswith("Last_IO_Error: error reconnecting to master")
        assert facts["io thread"] == "Connecting"


async def test_cluster_details_show_history_newest_first_and_problems(tmp_path: Path) -> None:
    main = ha_provider("main", lambda i: recorded_ha_main(i, pg3_reachable=False))
    app = ha_app(tmp_path, providers=[main])
    async with app.run_test(size=TALL) as pilot:
        ha = await show_ha(pilot)
        await select(pilot, "main")
        pane = ha.detail()
        assert pane.title == "main · patroni cluster · degraded"
        labels = [label for label, _ in pane.fields]
        values = [value for _, value in pane.fields]
        assert labels[:4] == ["health", "leader", "members", "problems"]
        assert values[2] == "4 (1 unreachable)"
        assert values[3] == "http://10.0.0.13:8008: connection refused"
        history = values[labels.index("history"):]
        assert [h.split(" at ")[0] for h in history] == ["timeline 4", "timeline 3", "timeline 2"]
        assert history[0] == "timeline 4 at LSN 7A2D8B0 · 2026-11-17 09:07: no recovery target specified"
        assert not pane.sparks


async def test_the_detail_pane_comes_with_i_on_a_short_terminal(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        ha = await show_ha(pilot)
        assert not ha.details_shown and ha.timeline_shown
        await pilot.press("t")  # the timeline gives its lines to the pane
        assert not ha.timeline_shown
        await pilot.press("i")
        await pilot.pause()
        assert ha.details_shown
        assert ha.detail().title == "main · patroni cluster · healthy"


# -- the timeline -----------------------------------------------------------------------------------


async def test_the_timeline_lists_every_clusters_events_newest_first(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        lines = timeline_lines(app)
        assert [line.split()[:3] for line in lines] == [
            ["10:56:40", "shop", "replication"],  # today: the time only
            ["11-17", "10:06", "main"],  # yesterday: the day too
            ["11-17", "09:07", "main"],
            ["11-17", "09:07", "main"],
            ["11-17", "09:06", "main"],
        ]
        assert "replication broken on db2" in lines[0]
        assert lines[1].endswith("member back         pg2 back (replica)")
        assert "member lost" in lines[4]
        snapshots = [app.store.latest(f"ha.{c}").snapshot for c in ("main", "shop")]  # type: ignore[union-attr]
        text = timeline_text(newest_events(snapshots, 7), FIXED_NOW, UTC)  # type: ignore[arg-type]
        assert text.plain.splitlines() == lines
        styles = {text.plain[s.start:s.end].strip(): s.style for s in text.spans}
        assert styles["replication broken"] == "bold red"
        assert styles["member back"] == "green"
        assert styles["leader changed"] == "yellow"


async def test_on_80x24_the_timeline_takes_the_lines_the_tree_leaves(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        ha = await show_ha(pilot)
        events = ha.query_one(".timeline-events", Static)
        assert events.size.height == 7  # two short trees: room for every event
        assert len(timeline_lines(app)) == 5
        assert table(app).size.height >= 9  # and every row of the trees is in sight
    app = ha_app(tmp_path, "main", "shop", "orders")
    async with app.run_test(size=SHORT) as pilot:
        ha = await show_ha(pilot)
        assert ha.query_one(".timeline-events", Static).size.height == 5
        assert table(app).size.height >= 12
        assert "replication broken on db2" in timeline_lines(app)[0]


# -- redraws ----------------------------------------------------------------------------------------


async def test_a_hidden_tab_does_no_work_and_catches_up_when_shown(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        ha = await show_ha(pilot)
        applied: list[int] = []
        original = ha.table.apply
        ha.table.apply = lambda rows: (applied.append(1), original(rows))[1]  # type: ignore[method-assign]
        ha.update_from_store()
        assert applied == []  # nothing new in the store: nothing redrawn
        await pilot.press("1")
        await poll_all(pilot, 3)
        assert applied == []
        assert cell(app, "main/pg3", "lag") == "64.0 KB"  # still the first poll's
        await pilot.press("2")
        await pilot.pause()
        assert applied == [1]
        assert cell(app, "main/pg3", "lag") == "184.0 KB"  # the fourth poll's
        assert table(app).has_focus
        await poll_all(pilot)
        assert applied == [1, 1]


async def test_a_wider_terminal_brings_the_lag_trend_column_and_keeps_the_cursor(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        await show_ha(pilot, polls=3)
        await select(pilot, "main/pg4")
        assert "trend" not in [c.key for c in table(app).columns]
        await pilot.resize_terminal(*TALL)
        for _ in range(5):
            await pilot.pause()
        assert [c.key for c in table(app).columns][-1] == "trend"
        assert table(app).selected_key() == "main/pg4" and table(app).has_focus
        assert cell(app, "main/pg4", "trend") == "▆▇█"
        assert view(app).details_shown  # tall enough now for the pane


async def test_the_filter_narrows_the_tree(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        await filter_to(pilot, "db")
        assert table(app).visible_keys() == ["shop", "shop/db1", "shop/db2"]  # `leader db1` on the first
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert len(table(app).visible_keys()) == 8


# -- actions ----------------------------------------------------------------------------------------


async def test_switchover_on_a_postgres_cluster_says_it_needs_patroni(tmp_path: Path) -> None:
    app = ha_app(tmp_path, "orders")
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        await select(pilot, "orders/ord2")  # a member row acts on its cluster
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceDialog | ConfirmDialog)
        assert messages(app) == ["orders is a postgres cluster: switchover and failover need Patroni"]
        assert app.runtime.providers["ha.orders"].calls == []  # type: ignore[attr-defined]
    assert audit_records(tmp_path) == []


async def test_the_ha_keys_work_on_the_ha_tab_only(tmp_path: Path) -> None:
    app = ha_app(tmp_path, "orders")
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("x")  # the Resources tab: x is not the HA tab's here
        await app.workers.wait_for_complete()
        assert messages(app) == []
        app.action_run_action("ha.switchover")  # the palette can ask from anywhere
        await app.workers.wait_for_complete()
        assert messages(app) == ["Switchover: select a cluster in the HA tab first (key 2)"]


async def test_text_dialog_previews_what_the_validator_makes_and_keeps_its_complaint_to_enter() -> None:
    def upper(text: str) -> str:
        if not text.strip().isalpha():
            raise ValueError(f"letters only, got {text.strip()!r}\nsecond line never shown")
        return text.strip().upper()

    answers: list[str | None] = []

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("behind")

        def on_mount(self) -> None:
            self.push_screen(TextDialog("Title", "Name:", upper, placeholder="abc"), callback=answers.append)

    app = Host()
    async with app.run_test() as pilot:
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        await pilot.press("a", "b")
        assert dialog.preview == "→ AB"
        await pilot.press("1")
        assert (dialog.preview, dialog.error) == ("", "")  # half-typed: no complaint yet
        await pilot.press("enter")
        assert dialog.error == "letters only, got 'ab1'"
        await pilot.press("backspace")
        assert dialog.error == ""
        await pilot.press("enter")
        await pilot.pause()
    assert answers == ["AB"]


async def open_dialog(pilot, key: str):  # type: ignore[no-untyped-def]
    await pilot.press(key)
    for _ in range(20):  # the action runs in a worker: wait for its first dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, ChoiceDialog | ConfirmDialog | TextDialog):
            break
    return pilot.app.screen


def dialog_text(screen) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(s.render()) for s in screen.query(Static)]


def calls(app: StacktopApp, cluster: str = "main") -> list[tuple[str, dict[str, str]]]:
    provider = app.runtime.providers[f"ha.{cluster}"]
    assert isinstance(provider, RecordedHaProvider)
    return [(action, dict(target.params)) for action, target in provider.calls]


async def test_switchover_picks_a_candidate_then_confirms_and_is_audited(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        await select(pilot, "main/pg3")  # a member row: its cluster is the target
        dialog = await open_dialog(pilot, "x")
        assert isinstance(dialog, ChoiceDialog)
        assert "Switchover cluster main" in dialog_text(dialog) and "New leader:" in dialog_text(dialog)
        assert dialog.choice_ids == ["pg1", "pg2", "pg3", "pg4"]  # every member, in sight
        assert dialog.enabled_ids == ["pg2"]
        assert dialog.reason("pg1") == "is the leader"
        assert dialog.reason("pg3") == "not the sync standby (synchronous mode)"
        await pilot.press("up", "enter")  # the leader cannot be picked: the cursor stays on pg2
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        # Disruptive (a few seconds without writes): the cluster's name is typed, not y.
        assert ("Switch the leader over to a healthy replica (a few seconds without writes): "
                "cluster main (main), candidate → pg2. Type 'main' to confirm.") in dialog_text(confirm)
        await pilot.press(*"main", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = app.runtime.providers["ha.main"].calls  # type: ignore[attr-defined]
        assert (action, dict(target.params), target.provider) == ("ha.switchover", {"candidate": "pg2"},
                                                                  "ha.main")
        assert messages(app)[-1] == "switchover main (candidate pg2) requested"
        assert calls(app, "shop") == []
    [record] = audit_records(tmp_path)
    assert (record["action"], record["result"], record["params"], record["target"]) == (
        "ha.switchover", "ok", {"candidate": "pg2"}, {"kind": "cluster", "id": "main", "name": "main"})


async def test_escape_in_the_candidate_dialog_runs_nothing_and_records_the_cancel(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        assert isinstance(await open_dialog(pilot, "x"), ChoiceDialog)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        assert not isinstance(app.screen, ChoiceDialog | ConfirmDialog)
        assert messages(app) == ["Switchover cancelled"]
        assert calls(app) == []
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [("ha.switchover", "cancelled")]


async def test_failover_warns_of_data_loss_and_needs_the_cluster_name_typed(tmp_path: Path) -> None:
    app = ha_app(tmp_path, role="admin")
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        dialog = await open_dialog(pilot, "F")
        assert isinstance(dialog, ChoiceDialog) and "Promote:" in dialog_text(dialog)
        await pilot.press("enter")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        prompt = next(t for t in dialog_text(confirm) if "Type" in t)
        assert prompt == ("FAILOVER without the leader's consent: writes not yet replicated to the candidate "
                          "are LOST: cluster main (main), candidate → pg2. Type 'main' to confirm.")
        await pilot.press(*"pg2", "enter")  # the candidate's name is not the cluster's
        await app.workers.wait_for_complete()
        assert calls(app) == []
        assert messages(app)[-1] == "Failover cancelled: typed name did not match 'main'"
        await open_dialog(pilot, "F")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"main", "enter")
        await app.workers.wait_for_complete()
        assert calls(app) == [("ha.failover", {"candidate": "pg2"})]
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        ("ha.failover", "cancelled"), ("ha.failover", "ok")]


async def test_failover_needs_the_admin_role(tmp_path: Path) -> None:
    app = ha_app(tmp_path)  # an operator
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        await pilot.press("F")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceDialog | ConfirmDialog)
        assert messages(app) == [
            "Failover refused: it is destructive and needs the admin role; tester is operator "
            "(roles in the profile)"]
    assert [(r["action"], r["result"], r["role"]) for r in audit_records(tmp_path)] == [
        ("ha.failover", "refused", "operator")]


async def test_watch_mode_refuses_switchover_without_a_dialog(tmp_path: Path) -> None:
    app = ha_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        for key in ("x", "X", "F"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert not isinstance(app.screen, ChoiceDialog | ConfirmDialog | TextDialog), key
        assert messages(app) == [f"Switchover {READ_ONLY}", f"Schedule switchover {READ_ONLY}",
                                 f"Failover {READ_ONLY}"]
        assert calls(app) == []
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert not {"Switchover", "Failover"} & shown  # hidden from the footer in watch mode
        assert {"Details", "Events"} <= shown  # reads stay
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        ("ha.switchover", "refused"), ("ha.schedule_switchover", "refused"), ("ha.failover", "refused")]


async def test_scheduled_switchover_asks_when_validated_like_patroni_wants_it(tmp_path: Path) -> None:
    app = ha_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        await open_dialog(pilot, "X")
        await pilot.press("enter")  # pg2
        for _ in range(10):
            await pilot.pause()
            if isinstance(app.screen, TextDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, TextDialog)
        assert "When (in 30m, 02:00, or 2026-11-23T02:00+01:00):" in dialog_text(dialog)
        await pilot.press(*"tomorrow", "enter")
        assert app.screen is dialog
        assert dialog.error.startswith("cannot read 'tomorrow' as a time; type e.g. 'in 10m'")
        dialog.query_one("Input").value = ""  # type: ignore[attr-defined]
        before = datetime.now().astimezone()
        await pilot.press(*"in 30m")
        await pilot.pause()
        assert dialog.preview.startswith("→ ")
        at = datetime.fromisoformat(dialog.preview[2:])
        assert timedelta(minutes=29) < at - before < timedelta(minutes=31)
        await pilot.press("enter")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        prompt = next(t for t in dialog_text(confirm) if "to confirm" in t)
        # "in 30m" counts from Enter, which may be a second after the preview
        chosen = prompt.split(", at → ")[1].removesuffix(". Type 'main' to confirm.")
        assert abs(datetime.fromisoformat(chosen) - at) <= timedelta(seconds=2)
        assert prompt.startswith("Schedule a switchover to a healthy replica at a given time: cluster main "
                                 "(main), candidate → pg2, at → ")
        await pilot.press(*"main", "enter")
        await app.workers.wait_for_complete()
        assert calls(app) == [("ha.schedule_switchover", {"candidate": "pg2", "at": chosen})]


async def test_cancel_switchover_needs_one_scheduled(tmp_path: Path) -> None:
    scheduled = "at 2026-11-18T12:00:00+00:00 from pg1 to pg2"
    main = ha_provider("main", lambda i: dataclasses.replace(recorded_ha_main(i),
                                                             scheduled_switchover=scheduled))
    app = ha_app(tmp_path, providers=[main, *recorded_ha_providers("shop")])
    async with app.run_test(size=TALL) as pilot:
        await show_ha(pilot)
        assert cell(app, "main", "endpoint") == "leader pg1 · 4 members · switchover scheduled"
        await select(pilot, "shop")
        await pilot.press("ctrl+x")
        await app.workers.wait_for_complete()
        assert messages(app) == ["shop is a mariadb cluster: switchover and failover need Patroni"]
        await select(pilot, "main")
        confirm = await open_dialog(pilot, "ctrl+x")
        assert isinstance(confirm, ConfirmDialog)
        assert "Cancel the scheduled switchover: cluster main? [y/n]" in dialog_text(confirm)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert calls(app) == [("ha.cancel_switchover", {})]

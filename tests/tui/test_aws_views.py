"""The Resources tab's views as an operator drives them, on recorded AWS snapshots:
switching views, counts, sort and filter, selection across polls, the detail
pane, scoped action keys and the grouped status line."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import TabbedContent

from providers.aws.snapshot import AwsSnapshot
from providers.base import Provider
from tests.support.apps import (
    FIXED_NOW,
    PARTITIONS,
    RecordedAwsProvider,
    RecordedHostProvider,
    audit_records,
    build_app,
    filter_to,
    messages,
    recorded_aws_providers,
    recorded_aws_snapshot,
)
from tui.app import StacktopApp
from tui.screens.aws_view import AwsView
from tui.screens.resources import ResourcesTab
from widgets.confirm_dialog import ConfirmDialog
from widgets.detail_pane import DetailPane
from widgets.filter_bar import FilterBar
from widgets.metric_spark import MetricSpark
from widgets.resource_table import ResourceTable
from widgets.view_bar import ViewBar

TALL = (120, 40)
SHORT = (80, 24)
WEB_1 = "prod/us-east-1/i-001a1b2c3d4e5f601"
API_1 = "prod/us-east-1/i-003a1b2c3d4e5f603"


def aws_app(tmp_path: Path, *, read_only: bool = False, providers: list[Provider] | None = None,
            host: bool = True) -> StacktopApp:
    chosen = providers if providers is not None else recorded_aws_providers()
    return build_app(tmp_path, read_only=read_only,
                     providers=[*([RecordedHostProvider()] if host else []), *chosen],
                     start_runtime=False, clock=lambda: FIXED_NOW)


async def poll_all(pilot, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    """One poll of every provider, then let the app draw what arrived."""
    runtime = pilot.app.runtime
    for _ in range(times):
        for name in list(runtime.providers):
            await runtime.poll_provider(name)
    await pilot.pause()


def resources(app: StacktopApp) -> ResourcesTab:
    return app.query_one(ResourcesTab)


def aws_view(app: StacktopApp, view_id: str) -> AwsView:
    view = resources(app).view(view_id)
    assert isinstance(view, AwsView), view
    return view


def ec2_table(app: StacktopApp) -> ResourceTable:
    return aws_view(app, "ec2").table


def bar_text(app: StacktopApp) -> str:
    return app.query_one(ViewBar).plain()


def provider(app: StacktopApp, service: str) -> RecordedAwsProvider:
    found = app.runtime.providers[f"aws.{service}"]
    assert isinstance(found, RecordedAwsProvider)
    return found





# -- views, keys, palette ------------------------------------------------------------------


async def test_view_bar_lists_each_view_with_its_count_and_marks_failures(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await pilot.pause()
        assert bar_text(app) == " h Host  · e EC2 … · v EBS … · d RDS … · b S3 … · f Lambda … · l ELB …"
        await poll_all(pilot)
        # staging/eu-west-1 denies EC2 and EBS: their counts carry the red mark.
        assert bar_text(app) == " h Host  · e EC2 8✖ · v EBS 5✖ · d RDS 3 · b S3 3 · f Lambda 3 · l ELB 2"
        assert app.query_one(ViewBar).active == "host"


async def test_a_host_only_profile_has_no_view_bar_and_no_view_keys(tmp_path: Path) -> None:
    app = aws_app(tmp_path, providers=[])
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        assert not app.query_one(ViewBar).display
        assert not [k for k in app.keys if k.id.startswith("view.")]


async def test_keys_pick_views_and_brackets_cycle(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        tab = resources(app)
        for key, view in [("e", "ec2"), ("v", "ebs"), ("d", "rds"), ("b", "s3"), ("f", "lambda"),
                          ("l", "elb"), ("h", "host")]:
            await pilot.press(key)
            assert tab.active_id == view
            assert [v for v in ("host", "ec2", "ebs", "rds", "s3", "lambda", "elb")
                    if (w := tab.view(v)) is not None and w.display] == [view]
        await pilot.press("right_square_bracket")
        assert tab.active_id == "ec2"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert tab.active_id == "elb"
        assert ("e", "Show EC2 instances", "resources") in [(k.key, k.description, k.scope) for k in app.keys]


async def test_view_keys_work_on_the_resources_tab_only(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await pilot.press("2", "e")
        assert app.query_one(TabbedContent).active == "ha"
        assert resources(app).active_id == "host"


async def test_palette_opens_a_view_from_another_tab(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("3")
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Resources: RDS")
        commands = app.screen.query_one(CommandList)
        for _ in range(200):  # the palette searches in a worker: wait for its answer
            if commands.option_count and "RDS databases" in str(commands.get_option_at_index(0).prompt):
                break
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "resources"
        assert resources(app).active_id == "rds"
        assert aws_view(app, "rds").table.total_rows == 3
        assert aws_view(app, "rds").table.has_focus


async def test_views_are_built_when_first_shown_and_hidden_ones_are_not_redrawn(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        assert resources(app).view("ec2") is None  # never shown: never built
        await pilot.press("e")
        assert ec2_table(app).total_rows == 8
        await pilot.press("d")
        drawn = ec2_table(app).row_values(API_1)
        await poll_all(pilot)  # api-1's CPU changes, but EC2 is hidden
        assert ec2_table(app).row_values(API_1) == drawn
        await pilot.press("e")  # shown again: it catches up
        assert ec2_table(app).row_values(API_1) != drawn


# -- table: sort, filter, selection ----------------------------------------------------------


async def test_sort_by_cpu_and_filter_the_ec2_table(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        table = ec2_table(app)
        assert [k.rsplit("/", 1)[1] for k in table.visible_keys()][:2] == ["i-003a1b2c3d4e5f603",
                                                                           "i-004a1b2c3d4e5f604"]  # by name
        await pilot.press("C")  # shift+c: CPU, busiest first
        assert table.sort_key == "cpu" and table.sort_reverse
        assert table.visible_keys()[0] == WEB_1  # 71 %
        await filter_to(pilot, "web")
        assert table.row_count == 4 and table.total_rows == 8
        assert str(app.query_one("#filter-count").render()).startswith("4 of 8")
        await pilot.press("v")  # the EBS table has its own (empty) filter
        assert aws_view(app, "ebs").table.filter_text == ""
        assert not app.query_one(FilterBar).has_class("-open")
        await pilot.press("e")
        assert app.query_one(FilterBar).has_class("-open")
        assert table.filter_text == "web" and table.row_count == 4


async def test_selection_stays_on_its_instance_when_a_poll_reorders_rows(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e", "C")
        table = ec2_table(app)
        assert table.selected_key() == API_1  # the cursor moved with its row
        await pilot.press("home")
        assert table.visible_keys()[:2] == [WEB_1, "prod/us-east-1/i-002a1b2c3d4e5f602"]
        assert table.selected_key() == WEB_1 and table.cursor_row == 0
        await poll_all(pilot)  # second poll: web-1 drops to 18 %, api-1 climbs to 84 %
        assert table.visible_keys()[0] == API_1
        assert table.selected_key() == WEB_1
        assert table.cursor_row == table.visible_keys().index(WEB_1) > 0


# -- detail pane -----------------------------------------------------------------------------


async def test_detail_pane_shows_tags_relations_and_a_sparkline_per_metric(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        await filter_to(pilot, "web-1")
        pane = app.query_one("#ec2-detail", DetailPane)
        assert pane.display and pane.region.height == AwsView.DETAIL_HEIGHT  # tall terminal: shown
        assert pane.title == "web-1 · i-001a1b2c3d4e5f601 · prod/us-east-1 · running"
        fields = dict(pane.fields)
        assert fields["Tags"] == "env=prod · team=shop"
        assert fields["Volumes"] == "vol-001aa00000000001"
        assert fields["Sec. groups"] == "sg-0web, sg-0ssh"
        assert fields["Address"] == "10.1.1.11 private · 54.12.1.101 public"
        record = recorded_aws_snapshot("ec2", 0).items[0]
        cpu = pane.spark("cpu")
        assert cpu.values == record.metrics["cpu"].values and cpu.value_text == "71.0%"
        assert pane.spark("net_in").value_text.endswith("KB/s")  # the provider gives bytes per second

        await pilot.press("slash", "escape", "home", "down")  # another instance: the pane follows
        await pilot.pause()
        assert pane.title.startswith("batch-1 ·") and "stopped for 1d" in pane.title
        assert pane.spark("cpu").value_text == "—"  # stopped: no CloudWatch window
        assert dict(pane.fields)["Reason"].startswith("User initiated")


async def test_rds_detail_names_replicas_and_endpoint(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("d")
        pane = app.query_one("#rds-detail", DetailPane)
        assert pane.title == "orders-db · prod/us-east-1 · available"
        fields = dict(pane.fields)
        assert fields["Replicas"] == "orders-db-replica-1"
        assert fields["Endpoint"] == "orders-db.c1x2.us-east-1.rds.amazonaws.com"
        assert pane.spark("replica_lag").value_text == "—"  # a primary has no lag
        await pilot.press("down")
        assert dict(pane.fields)["Replica of"] == "orders-db"
        assert pane.spark("replica_lag").value_text.endswith("s")


async def test_i_toggles_the_detail_pane_and_80x24_keeps_six_rows(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        view = aws_view(app, "ec2")
        assert not view.details_shown  # 24 rows: the table first
        await pilot.press("i")
        await pilot.pause()
        assert view.details_shown
        assert view.table.region.height - 1 >= 6  # a header and at least six rows
        assert view.detail.title.startswith("api-1 ·")
        await pilot.press("v")  # the choice holds for the other AWS views
        assert aws_view(app, "ebs").details_shown
        await pilot.press("i")
        await pilot.pause()
        assert not aws_view(app, "ebs").details_shown
    tall = aws_app(tmp_path)
    async with tall.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        assert aws_view(tall, "ec2").details_shown
        await pilot.press("i")
        await pilot.pause()
        assert not aws_view(tall, "ec2").details_shown


async def test_an_empty_view_says_where_it_looked(tmp_path: Path) -> None:
    class NoFunctions(RecordedAwsProvider):
        async def poll(self) -> AwsSnapshot:
            snap = recorded_aws_snapshot("ec2", 0)
            return AwsSnapshot(snap.taken_at, "ec2", (), snap.partitions)

    app = aws_app(tmp_path, providers=[NoFunctions("ec2")])
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        assert ec2_table(app).empty_text == (
            "no EC2 instances in prod/eu-west-1, prod/us-east-1, staging/us-east-1; "
            "staging/eu-west-1 did not answer")
        line = str(aws_view(app, "ec2").query_one(".partitions").render())
        assert line.startswith("3/4 answered · staging/eu-west-1: access denied to ec2:Describe*")
        assert len(PARTITIONS) == 4


# -- actions ---------------------------------------------------------------------------------


async def test_watch_mode_refuses_ec2_keys_with_the_gates_message(tmp_path: Path) -> None:
    app = aws_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        for key in ("g", "x", "o"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            assert not isinstance(app.screen, ConfirmDialog)
        assert [m for m in messages(app) if "read-only" in m] == [
            "Start instance refused: read-only mode (restart without 'watch'/--read-only to act)",
            "Stop instance refused: read-only mode (restart without 'watch'/--read-only to act)",
            "Reboot instance refused: read-only mode (restart without 'watch'/--read-only to act)",
        ]
        assert provider(app, "ec2").calls == []
    assert [(r["action"], r["result"], r["target"]["name"]) for r in audit_records(tmp_path)] == [
        ("aws.ec2.start", "refused", "api-1"), ("aws.ec2.stop", "refused", "api-1"),
        ("aws.ec2.reboot", "refused", "api-1"),
    ]


async def test_action_keys_work_only_in_their_view(tmp_path: Path) -> None:
    app = aws_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        for view_key in ("d", "v", "h"):  # not the EC2 view: g and x do nothing
            await pilot.press(view_key, "g", "x")
            await app.workers.wait_for_complete()
        assert messages(app) == []
        await pilot.press("e", "k", "c")  # the host's terminate and chart keys: host view only
        await app.workers.wait_for_complete()
        assert messages(app) == []
        await pilot.press("d", "o")  # the same key reboots the database in the RDS view
        await app.workers.wait_for_complete()
        assert messages(app) == [
            "Reboot database refused: read-only mode (restart without 'watch'/--read-only to act)"]
        await pilot.press("h", "k")  # and the host's keys still work in the host view
        await app.workers.wait_for_complete()
        assert messages(app)[-1].startswith("Terminate refused: read-only mode")
    assert [(r["action"], r["target"]["name"]) for r in audit_records(tmp_path)] == [
        ("aws.rds.reboot", "orders-db"), ("host.terminate", "postgres")]


async def test_stop_needs_the_typed_name_and_the_toast_shows_the_result(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e")
        assert {"Start", "Stop", "Reboot"} <= {b.description for _, b, on, _ in
                                              app.active_bindings.values() if on and b.show}
        await filter_to(pilot, "web-2")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"web-2", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app, "ec2").calls
        assert action == "aws.ec2.stop"
        assert target.kind == "ec2-instance" and target.name == "web-2"
        assert target.id == "prod/us-east-1/i-002a1b2c3d4e5f602"
        assert dict(target.details) == {"account": "prod", "region": "us-east-1",
                                        "instance_id": "i-002a1b2c3d4e5f602", "state": "running"}
        assert "Stop of i-002a1b2c3d4e5f602 requested (prod/us-east-1)" in messages(app)

        await pilot.press("g")  # safe: a y/n question
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert [a for a, _ in provider(app, "ec2").calls] == ["aws.ec2.stop", "aws.ec2.start"]


async def test_o_reboots_the_database_selected_in_the_rds_view(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("d", "down", "o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"orders-db-replica-1", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app, "rds").calls
        assert action == "aws.rds.reboot" and target.kind == "rds-instance"
        assert target.details["db_instance_id"] == "orders-db-replica-1"
        assert provider(app, "ec2").calls == []


async def test_palette_action_outside_its_view_says_where_to_go(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("d")
        app.action_run_action("aws.ec2.stop")
        await app.workers.wait_for_complete()
        assert "Stop instance: select one in the EC2 view first (key e)" in messages(app)


# -- status line -----------------------------------------------------------------------------


async def test_status_line_shows_aws_as_one_entry_with_its_worst_health(tmp_path: Path) -> None:
    class Down(RecordedAwsProvider):
        async def poll(self) -> AwsSnapshot:
            raise RuntimeError("timed out reading lambda")

    app = aws_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        app._refresh_status()
        line = str(app.query_one("#status").render())
        assert line.startswith("host ● ok │ aws ◑ partial 2/6: ec2: staging/eu-west-1: access denied")
        assert "aws.ec2" not in line
    down = aws_app(tmp_path, providers=[*recorded_aws_providers(("ec2", "rds")), Down("lambda")])
    async with down.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        down._refresh_status()
        line = str(down.query_one("#status").render())
        assert line.startswith("host ● ok │ aws ✖ error 1/3: lambda: RuntimeError: timed out reading lambda")
        assert "f Lambda …✖" in bar_text(down)


async def test_fleet_sparklines_show_cloudwatch_history_else_the_store_series(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot, times=3)
        await pilot.press("e")
        running = app.query_one("#ec2-fleet-0", MetricSpark)
        cpu = app.query_one("#ec2-fleet-1", MetricSpark)
        # A count has no CloudWatch history: one point per poll from the store.
        assert running.label == "Running" and running.values == (6.0, 6.0, 6.0)
        # Average CPU: the instances' own CloudWatch windows, averaged bucket by bucket,
        # so the sparkline is full at once (more points than polls so far).
        by_time: dict[float, list[float]] = {}
        for record in app.store.latest("aws.ec2").snapshot.items:  # type: ignore[union-attr]
            window = record.metrics.get("cpu")
            for when, value in zip(window.times, window.values, strict=True) if window else ():
                by_time.setdefault(when, []).append(value)
        expected = tuple(sum(v) / len(v) for _, v in sorted(by_time.items()))
        assert len(expected) > 3 and cpu.values == pytest.approx(expected)
        assert cpu.value_text.endswith("%")
        await pilot.press("f")
        assert app.query_one("#lambda-fleet-0", MetricSpark).value_text == "3"


async def test_a_narrower_terminal_keeps_sort_filter_and_selection(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("e", "C")
        await filter_to(pilot, "web")
        await pilot.press("down")
        before = ec2_table(app)
        assert "public_ip" in [c.key for c in before.columns]
        selected = before.selected_key()
        await pilot.resize_terminal(*SHORT)
        await pilot.pause()
        after = ec2_table(app)
        assert after is not before and "public_ip" not in [c.key for c in after.columns]
        assert (after.sort_key, after.sort_reverse, after.filter_text) == ("cpu", True, "web")
        assert after.selected_key() == selected and after.has_focus
        assert not aws_view(app, "ec2").details_shown  # 24 rows: the pane gives way


async def test_clicking_a_view_name_shows_it(tmp_path: Path) -> None:
    app = aws_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        x = bar_text(app).index("RDS") + 1  # +1: the bar's left padding
        await pilot.click(ViewBar, offset=(x, 0))
        await pilot.pause()
        assert resources(app).active_id == "rds"

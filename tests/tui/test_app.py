"""The console as an operator drives it, through Textual's Pilot, on real host data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psutil
from textual.command import CommandList, CommandPalette
from textual.widgets import TabbedContent

from tests.support.apps import audit_records, build_app, polled
from widgets.confirm_dialog import ConfirmDialog
from widgets.filter_bar import FilterBar
from widgets.help_screen import HelpScreen
from widgets.metric_spark import MetricSpark
from widgets.plot_panel import PlotPanel
from widgets.resource_table import ResourceTable

SIZE = (120, 40)


async def first_data(app, pilot) -> None:  # type: ignore[no-untyped-def]
    if app.store.latest("host") is None:
        await asyncio.wait_for(polled(app).wait(), 10)
    await pilot.pause()


def table(app) -> ResourceTable:  # type: ignore[no-untyped-def]
    return app.query_one("#processes", ResourceTable)


async def select_process(app, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """Filter the process table to `name` the way an operator does: `/`, type, Enter."""
    await pilot.press("slash")
    await pilot.press(*name)
    await pilot.press("enter")
    for _ in range(50):
        if table(app).row_count == 1:
            return
        await asyncio.wait_for(polled(app).wait(), 5)
        await pilot.pause()
    raise AssertionError(f"{name} never appeared alone in the process table")



def footer_keys(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {b.description for (_, b, enabled, _) in app.active_bindings.values() if b.show and enabled}


async def test_number_keys_switch_tabs(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one(TabbedContent)
        for key, tab in [("2", "ha"), ("3", "backups"), ("4", "alerts"), ("5", "costs"), ("1", "resources")]:
            await pilot.press(key)
            assert tabs.active == tab


async def test_unconfigured_tab_shows_what_it_will_show_and_the_snippet(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        screen = app.export_screenshot()
        assert "primary" in screen and "No&#160;cluster&#160;is&#160;configured" in screen
        assert ">patroni<" in screen  # the snippet that enables it (a YAML key token)
        await pilot.press("3")
        await pilot.pause()
        screen = app.export_screenshot()
        assert "No&#160;backup&#160;target&#160;is&#160;configured" in screen and ">targets<" in screen
        await pilot.press("4")  # a tab whose source this build does not read yet says so
        await pilot.pause()
        assert "Not&#160;configured" in app.export_screenshot()


async def test_resources_show_live_host_data(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        await asyncio.wait_for(polled(app).wait(), 10)  # a second sample gives rates
        await pilot.pause()
        assert table(app).row_count > 3
        cpu = app.query_one("#spark-0", MetricSpark)
        assert cpu.value_text.endswith("%") and len(cpu.values) >= 1
        assert app.store.series("host.cpu.percent").values()
        assert "host ● ok" in str(app.query_one("#status").render())


async def test_help_lists_every_binding_and_closes(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.query_one("#help-keys", ResourceTable)
        described = {keys.row_values(k)[1] for k in keys.visible_keys()}
        assert {"Resources", "Costs", "Filter", "Refresh", "Quit", "Terminate", "Sort"} <= described
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_switches_tab(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"go to costs")
        commands = app.screen.query_one(CommandList)
        for _ in range(200):  # the palette searches in a worker: wait for its answer
            if commands.option_count and "Costs" in str(commands.get_option_at_index(0).prompt):
                break
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "costs"


async def test_filter_narrows_the_table_and_escape_restores_it(tmp_path: Path, sleeper) -> None:  # type: ignore[no-untyped-def]
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        await select_process(app, pilot, "stk-sleeper")
        assert table(app).selected_key() == str(sleeper.pid)
        assert table(app).has_focus  # Enter gives the keys back to the table
        bar = app.query_one(FilterBar)
        assert bar.has_class("-open")  # an active filter stays in sight, with its count
        assert str(bar.query_one("#filter-count").render()).startswith("1 of ")
        await pilot.press("2")
        assert not bar.has_class("-open")  # the HA tab has no filter
        await pilot.press("1")
        assert bar.has_class("-open")
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert not bar.has_class("-open")
        assert table(app).filter_text == ""
        # every process is listed again (how many depends on what else runs on the machine)
        assert table(app).row_count == table(app).total_rows > 1
        assert str(sleeper.pid) in table(app).visible_keys()


async def test_refresh_key_polls_now(tmp_path: Path) -> None:
    app = build_app(tmp_path, providers=None)
    app.runtime.providers["host"].interval = 3600  # only `r` can cause the next poll
    app.runtime.states["host"].interval = 3600
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        polls = app.runtime.states["host"].polls
        event = polled(app)
        await pilot.press("r")
        await asyncio.wait_for(event.wait(), 5)
        assert app.runtime.states["host"].polls == polls + 1


async def test_q_quits(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_watch_mode_refuses_terminate_and_hides_it(tmp_path: Path, sleeper) -> None:  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        assert "READ-ONLY" in str(app.query_one("#badge").render())
        assert "Terminate" not in footer_keys(app)
        await select_process(app, pilot, "stk-sleeper")
        await pilot.press("k")
        await app.workers.wait_for_complete()
        assert not isinstance(app.screen, ConfirmDialog)
        messages = [n.message for n in app._notifications]
        assert any("read-only" in m for m in messages), messages
    assert psutil.pid_exists(sleeper.pid) and sleeper.poll() is None
    assert [r["result"] for r in audit_records(tmp_path)] == ["refused"]


async def test_terminate_needs_the_typed_name(tmp_path: Path, sleeper) -> None:  # type: ignore[no-untyped-def]
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        assert "Terminate" in footer_keys(app)
        await select_process(app, pilot, "stk-sleeper")

        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"stk-sleepr", "enter")  # a typo must not kill anything
        await app.workers.wait_for_complete()
        assert sleeper.poll() is None

        await pilot.press("k")
        await pilot.pause()
        await pilot.press(*"stk-sleeper", "enter")
        await app.workers.wait_for_complete()
        sleeper.wait(timeout=5)  # psutil reaped our child: the exit status went to it
        assert not psutil.pid_exists(sleeper.pid)
        assert any("exited after SIGTERM" in n.message for n in app._notifications)
    results = [(r["action"], r["result"], r["target"]["name"]) for r in audit_records(tmp_path)]
    assert results == [
        ("host.terminate", "cancelled", "stk-sleeper"),
        ("host.terminate", "ok", "stk-sleeper"),
    ]


async def test_viewer_role_is_refused(tmp_path: Path, sleeper) -> None:  # type: ignore[no-untyped-def]
    app = build_app(tmp_path, role="viewer")
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        await select_process(app, pilot, "stk-sleeper")
        await pilot.press("k")
        await app.workers.wait_for_complete()
        assert any(n.message == "Terminate refused: it is disruptive and needs the operator role; "
                   f"{app.gate.user} is viewer (roles in the profile)" for n in app._notifications)
    assert sleeper.poll() is None


async def test_c_charts_the_next_metric(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_data(app, pilot)
        await pilot.press("c")
        assert app.query_one("#spark-1", MetricSpark).selected  # Memory
        assert not app.query_one("#spark-0", MetricSpark).selected
        await pilot.pause()
        assert app.query_one(PlotPanel).series.title == "Memory"
        assert any(n.message == "Chart: Memory" for n in app._notifications)
    small = build_app(tmp_path)
    async with small.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        assert not small.query_one("#chart").display
        assert any("32+ rows" in n.message for n in small._notifications)


async def test_the_open_filter_bar_is_not_hidden_under_the_footer(tmp_path: Path) -> None:
    from textual.widgets import Footer

    from tests.support.apps import RecordedHostProvider, recorded_aws_providers

    app = build_app(tmp_path, providers=[RecordedHostProvider(), *recorded_aws_providers()])
    async with app.run_test(size=(120, 40)) as pilot:
        for view in ("h", "e"):
            await pilot.press(view)
            await pilot.press("slash", *"web")
            await pilot.pause()
            bar, footer = app.query_one(FilterBar), app.query_one(Footer)
            assert bar.display and bar.region.height == 1
            assert not bar.region.overlaps(footer.region), (bar.region, footer.region)
            await pilot.press("escape")

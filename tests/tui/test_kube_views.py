"""The Kubernetes views as an operator drives them, on a recorded cluster (two
contexts, a crash loop, an OOM kill, an unschedulable pod, a NotReady node, a
rollout): rows and columns, filter and sort, the namespace picker, details
with events, pod logs, and the scoped, gated actions."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from providers.base import Provider
from tests.support.apps import (
    CRASHING_POD,
    FIXED_NOW,
    LOG_LINES,
    OOM_POD,
    RecordedHostProvider,
    RecordedKubeProvider,
    audit_records,
    build_app,
    filter_to,
    messages,
    recorded_aws_providers,
    recorded_kube_providers,
)
from tui.app import StacktopApp
from tui.screens.kube_view import KubeView
from tui.screens.pod_logs import PodLogsScreen
from tui.screens.resources import ResourcesTab
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.metric_spark import MetricSpark
from widgets.number_dialog import NumberDialog
from widgets.plot_panel import PlotPanel
from widgets.resource_table import ResourceTable
from widgets.view_bar import ViewBar

TALL = (120, 40)
SHORT = (80, 24)
READ_ONLY = "refused: read-only mode (restart without 'watch'/--read-only to act)"


def kube_app(tmp_path: Path, *, read_only: bool = False, contexts: tuple[str, ...] = ("prod", "staging"),
             providers: list[Provider] | None = None) -> StacktopApp:
    chosen = providers if providers is not None else recorded_kube_providers(contexts)
    return build_app(tmp_path, read_only=read_only, providers=[RecordedHostProvider(), *chosen],
                     start_runtime=False, clock=lambda: FIXED_NOW)


async def poll_all(pilot, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    runtime = pilot.app.runtime
    for _ in range(times):
        for name in list(runtime.providers):
            await runtime.poll_provider(name)
    await pilot.pause()


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Let a table swap (new columns) and its repaint finish."""
    for _ in range(3):
        await pilot.pause()


def view(app: StacktopApp, name: str) -> KubeView:
    found = app.query_one(ResourcesTab).view(f"k8s-{name}")
    assert isinstance(found, KubeView), found
    return found


def table(app: StacktopApp, name: str) -> ResourceTable:
    return view(app, name).table


def column_keys(app: StacktopApp, name: str) -> list[str]:
    return [c.key for c in table(app, name).columns]


def cells(app: StacktopApp, name: str, key: str) -> dict[str, str]:
    t = table(app, name)
    found = t.row_cells(key)
    assert found is not None, key
    return dict(zip([c.key for c in t.columns], found, strict=True))


def names(app: StacktopApp, name: str) -> list[str]:
    return [k.rsplit("/", 1)[1] for k in table(app, name).visible_keys()]


def provider(app: StacktopApp, name: str) -> RecordedKubeProvider:
    found = app.runtime.providers[f"k8s.{name}"]
    assert isinstance(found, RecordedKubeProvider)
    return found





# -- views and columns -------------------------------------------------------------------------


async def test_each_view_lists_its_rows_with_counts_in_the_bar(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        assert app.query_one(ViewBar).plain() == (
            " h Host  · n Nodes 5✖ · w Workloads 8 · p Pods 11✖ · t Events 6✖ · m PVCs 4")
        await pilot.press("n")
        assert names(app, "nodes") == ["cp-1", "node-a1", "node-a2", "node-a3", "stg-node-1"]
        assert cells(app, "nodes", "prod/node-a2")["status"] == "Ready,SchedulingDisabled"
        assert cells(app, "nodes", "prod/node-a3")["status"] == "NotReady"
        await pilot.press("w")
        assert table(app, "workloads").total_rows == 8
        assert cells(app, "workloads", "prod/shop/Deployment/api")["rollout"] == "rolling"
        await pilot.press("p")
        assert cells(app, "pods", CRASHING_POD)["status"] == "CrashLoopBackOff"
        assert cells(app, "pods", OOM_POD)["restarts"] == "3 (OOMKilled)"
        await pilot.press("t")
        # warnings first, the newest first
        assert table(app, "events").visible_keys()[0] == "prod/shop/Pod/worker-5f6d7c8b9-h2j4k"
        await pilot.press("m")
        assert cells(app, "pvcs", "prod/shop/import-scratch")["phase"] == "Pending"
        assert cells(app, "pvcs", "prod/shop/import-scratch")["capacity"] == "100Gi"


async def test_a_failing_context_is_one_line_and_the_others_stay(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("t")
        problems = view(app, "events").query_one(".problems")
        assert problems.display
        assert str(problems.render()) == (
            "staging: events: forbidden: cannot list events at cluster scope — ask for RBAC list on events")
        assert table(app, "events").total_rows == 6  # prod's events are all there
        await pilot.press("m")
        assert not view(app, "pvcs").query_one(".problems").display
        app._refresh_status()
        line = str(app.query_one("#status").render())
        assert line.startswith(
            "host ● ok │ k8s ◑ partial 3/5: nodes: staging: metrics: metrics.k8s.io not served")
        assert "k8s.pods" not in line


async def test_the_context_column_shows_only_with_two_contexts(tmp_path: Path) -> None:
    two = kube_app(tmp_path)
    async with two.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        for key, name in (("n", "nodes"), ("w", "workloads"), ("p", "pods"), ("t", "events"), ("m", "pvcs")):
            await pilot.press(key)
            await settle(pilot)
            assert column_keys(two, name)[0] == "context", name
    one = kube_app(tmp_path, contexts=("prod",))
    async with one.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        for key, name in (("n", "nodes"), ("w", "workloads"), ("p", "pods"), ("t", "events"), ("m", "pvcs")):
            await pilot.press(key)
            await settle(pilot)
            assert "context" not in column_keys(one, name), name
        assert column_keys(one, "pods")[:2] == ["namespace", "name"]
        assert str(view(one, "pods").query_one(".scope").render()).startswith("context prod · all namespaces")


async def test_filter_and_sort_the_pods(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        pods = table(app, "pods")
        await pilot.press("E")  # shift+e: restarts
        assert pods.sort_key == "restarts"
        await pilot.press("E")
        assert pods.visible_keys()[0] == CRASHING_POD  # 7 restarts, the most
        await filter_to(pilot, "crashloop")
        assert pods.visible_keys() == [CRASHING_POD]
        assert str(app.query_one("#filter-count").render()).startswith("1 of 11")
        await pilot.press("slash", "escape")
        await pilot.pause()
        await filter_to(pilot, "re:^api-")
        assert pods.row_count == 4


async def test_the_namespace_picker_narrows_every_view_and_says_so(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("N")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        # every namespace the data names (node events are filed in default)
        assert dialog.choice_ids == ["", "default", "kube-system", "monitoring", "shop"]
        await pilot.press("end", "enter")  # shop
        await settle(pilot)
        assert app.query_one(ResourcesTab).namespace == "shop"
        assert {k.split("/")[1] for k in table(app, "pods").visible_keys()} == {"shop"}
        assert table(app, "pods").total_rows == 8
        assert "namespace" not in column_keys(app, "pods")  # one namespace: no column for it
        assert str(view(app, "pods").query_one(".scope").render()) == (
            "contexts prod, staging · namespace shop · N: namespace")
        assert "p Pods 8" in app.query_one(ViewBar).plain()
        await pilot.press("w")  # every Kubernetes view follows, including ones built later
        await settle(pilot)
        assert {k.split("/")[1] for k in table(app, "workloads").visible_keys()} == {"shop"}
        await pilot.press("n")  # nodes are cluster-wide: all of them stay
        assert table(app, "nodes").row_count == 5
        await pilot.press("h", "p")  # the choice holds while the app runs
        assert app.query_one(ResourcesTab).namespace == "shop"
        await pilot.press("N")
        await pilot.pause()
        await pilot.press("escape")  # cancelling keeps it
        await pilot.pause()
        assert app.query_one(ResourcesTab).namespace == "shop"
        await pilot.press("N")
        await pilot.pause()
        await pilot.press("home", "enter")  # all namespaces
        await settle(pilot)
        assert table(app, "pods").row_count == 11
        assert "namespace" in column_keys(app, "pods")


# -- details -----------------------------------------------------------------------------------


async def test_detail_pane_shows_a_crash_loops_last_termination_and_events(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot, times=3)
        await pilot.press("p")
        await settle(pilot)
        await filter_to(pilot, "worker")
        pane = view(app, "pods").detail
        assert view(app, "pods").details_shown  # tall terminal: shown
        assert pane.title == "worker-5f6d7c8b9-h2j4k · prod/shop · CrashLoopBackOff"
        facts = dict(pane.fields)
        assert facts["Containers"] == (
            "worker: waiting: CrashLoopBackOff · restarts 7 · last Error (exit 1) 3m ago")
        assert facts["Events"].startswith(
            "Warning BackOff (x42) 1m ago: Back-off restarting failed container")
        assert facts["Owner"] == "ReplicaSet/worker-5f6d7c8b9"
        assert len(pane.spark("cpu").values) == 3 and pane.spark("memory").value_text == "12Mi"
        await filter_to(pilot, "cache")  # the OOM-killed redis
        assert dict(pane.fields)["Containers"].endswith("last OOMKilled (exit 137) 12m ago")


async def test_node_detail_and_i_toggle(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot, times=2)
        await pilot.press("n")
        await settle(pilot)
        nodes = view(app, "nodes")
        assert not nodes.details_shown  # 24 rows: the table first
        await filter_to(pilot, "node-a3")
        await pilot.press("i")
        await pilot.pause()
        assert nodes.details_shown
        assert nodes.table.region.height - 1 >= 6
        assert nodes.detail.title == "node-a3 · prod · NotReady"
        assert dict(nodes.detail.fields)["Events"].startswith("Warning NodeNotReady")
        await pilot.press("p")  # the choice holds for the other views
        await settle(pilot)
        assert view(app, "pods").details_shown


# -- pod logs ----------------------------------------------------------------------------------


async def test_enter_on_a_pod_opens_its_log_with_its_containers(tmp_path: Path) -> None:
    app = kube_app(tmp_path, read_only=True)  # a read: watch mode may
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        await filter_to(pilot, "prometheus")
        await pilot.press("enter")
        await settle(pilot)
        logs = app.screen
        assert isinstance(logs, PodLogsScreen)
        assert logs.containers == ("prometheus", "config-reloader")
        assert logs.pod_title == "prometheus-0 · prod/monitoring"
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert provider(app, "pods").log_requests == [("prod/monitoring/prometheus-0", "prometheus", False)]
        assert logs.log_view.state.lines == len(LOG_LINES)
        await pilot.press("p")  # the log screen's own key (previous), not the Pods view key
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert provider(app, "pods").log_requests[-1] == ("prod/monitoring/prometheus-0", "prometheus", True)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PodLogsScreen)
        assert audit_records(tmp_path) == []


async def test_a_crash_looping_pods_log_opens_on_the_container_that_restarted(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        await filter_to(pilot, "worker")
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Kubernetes: pod logs")
        commands = app.screen.query_one(CommandList)
        for _ in range(200):  # the palette searches in a worker: wait for its answer
            if commands.option_count and "pod logs" in str(commands.get_option_at_index(0).prompt):
                break
            await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PodLogsScreen)
        assert app.screen.container == "worker"


async def test_logs_without_a_pod_selected_say_where_to_go(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("w")
        app.action_pod_logs()
        await pilot.pause()
        assert "Pod logs: select a pod in the Pods view first (key p)" in messages(app)


# -- actions -----------------------------------------------------------------------------------


async def test_scale_asks_for_a_number_validated_like_the_provider(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("w")
        await settle(pilot)
        await filter_to(pilot, "worker")
        await pilot.press("plus")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NumberDialog)
        assert "now: 1" in [str(s.render()) for s in dialog.query(".current")]
        field = dialog.query_one(Input)
        await pilot.press(*"abc", "enter")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.error == "replicas must be a whole number from 0 to 1000, got 'abc'"
        field.value = ""
        await pilot.press(*"1001", "enter")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.error == "replicas must be a whole number from 0 to 1000, got 1001"
        assert "\n" not in dialog.error
        field.value = ""
        await pilot.press("5", "enter")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmDialog)
        shown = [str(s.render()) for s in confirm.query("Static")]
        await pilot.press(*"worker", "enter")  # disruptive: the workload's name is typed
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app, "workloads").calls
        assert action == "k8s.scale" and dict(target.params) == {"replicas": "5"}
        assert (f"Scale to a number of replicas: Deployment worker ({target.id}), replicas → 5. "
                "Type 'worker' to confirm.") in shown
        assert (target.kind, target.name, target.details["namespace"]) == ("Deployment", "worker", "shop")
    [record] = audit_records(tmp_path)
    assert (record["action"], record["result"], record["params"]) == ("k8s.scale", "ok", {"replicas": "5"})


async def test_escape_in_the_number_dialog_cancels_without_asking_the_gate(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("w", "plus")
        await pilot.pause()
        assert isinstance(app.screen, NumberDialog)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        assert not isinstance(app.screen, NumberDialog | ConfirmDialog)
        assert provider(app, "workloads").calls == []
        assert "Scale cancelled" in messages(app)
    # Backing out of the value dialog is still an attempt: recorded, never run.
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [("k8s.scale", "cancelled")]


async def test_restart_needs_the_workloads_name_typed_not_y(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y", "enter")  # a disruptive action: y is a letter of the name, not a yes
        await app.workers.wait_for_complete()
        assert provider(app, "workloads").calls == []
        assert messages(app)[-1] == "Restart cancelled: typed name did not match 'api'"
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"api", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app, "workloads").calls
        assert action == "k8s.restart" and target.name == "api" and dict(target.params) == {}
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        ("k8s.restart", "cancelled"), ("k8s.restart", "ok")]


async def test_delete_pod_needs_the_pods_name_typed(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        await filter_to(pilot, "worker")
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"worker", "enter")  # not the whole name
        await app.workers.wait_for_complete()
        assert provider(app, "pods").calls == []
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press(*"worker-5f6d7c8b9-h2j4k", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app, "pods").calls
        assert action == "k8s.delete_pod" and target.id == CRASHING_POD
        assert dict(target.details) == {"context": "prod", "namespace": "shop",
                                        "name": "worker-5f6d7c8b9-h2j4k", "node": "node-a1"}
    assert [r["result"] for r in audit_records(tmp_path)] == ["cancelled", "ok"]


async def test_watch_mode_refuses_every_kubernetes_action_with_the_gates_message(tmp_path: Path) -> None:
    app = kube_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        for view_key, keys in (("w", ("plus", "R")), ("p", ("ctrl+d",)), ("n", ("c", "u"))):
            await pilot.press(view_key)
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await app.workers.wait_for_complete()
                await pilot.pause()
                assert not isinstance(app.screen, NumberDialog | ConfirmDialog), key
        assert [m for m in messages(app) if "read-only" in m] == [
            f"Scale {READ_ONLY}", f"Restart {READ_ONLY}", f"Delete pod {READ_ONLY}", f"Cordon {READ_ONLY}",
            f"Uncordon {READ_ONLY}"]
        assert all(provider(app, v).calls == [] for v in ("workloads", "pods", "nodes"))
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert not {"Cordon", "Uncordon"} & shown  # hidden from the footer in watch mode
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        ("k8s.scale", "refused"), ("k8s.restart", "refused"), ("k8s.delete_pod", "refused"),
        ("k8s.cordon", "refused"), ("k8s.uncordon", "refused")]


async def test_cordon_works_in_the_nodes_view_only_and_c_still_charts_on_the_host(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p", "c", "u")  # not the nodes view: nothing happens
        await app.workers.wait_for_complete()
        assert not isinstance(app.screen, ConfirmDialog) and messages(app) == []
        await pilot.press("h", "c")  # the host view: c charts the next metric
        await pilot.pause()
        assert messages(app)[-1].startswith("Chart: ")
        assert app.query(PlotPanel) or "chart" in messages(app)[-1]
        await pilot.press("n")
        await settle(pilot)
        await filter_to(pilot, "node-a1")
        assert {"Cordon", "Uncordon"} <= {b.description for _, b, on, _ in app.active_bindings.values()
                                          if on and b.show}
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app, "nodes").calls
        assert action == "k8s.cordon" and target.name == "node-a1" and target.details["cordoned"] == "no"


async def test_summary_sparklines_come_from_the_store_series(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot, times=3)
        await pilot.press("p")
        await settle(pilot)
        pods = app.query_one("#k8s-pods-fleet-0", MetricSpark)
        assert pods.label == "Pods" and pods.values == (11.0, 11.0, 11.0)
        cpu = app.query_one("#k8s-pods-fleet-2", MetricSpark)
        assert cpu.values == tuple(app.store.series("k8s.pods.cpu_cores").values())
        assert cpu.value_text.endswith(" cores")
        await pilot.press("n")
        await settle(pilot)
        assert app.query_one("#k8s-nodes-fleet-1", MetricSpark).value_text == "1"  # node-a3 not ready


async def test_80_columns_drop_columns_and_a_resize_keeps_the_selection(tmp_path: Path) -> None:
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        await filter_to(pilot, "shop")
        await pilot.press("down")
        selected = table(app, "pods").selected_key()
        assert {"cpu", "memory", "age"} <= set(column_keys(app, "pods"))
        await pilot.resize_terminal(*SHORT)
        await settle(pilot)
        assert column_keys(app, "pods") == ["context", "namespace", "name", "ready", "status", "restarts"]
        after = table(app, "pods")
        assert after.selected_key() == selected and after.filter_text == "shop" and after.has_focus


async def test_with_aws_and_kubernetes_every_view_key_stays_on_the_bar(tmp_path: Path) -> None:
    app = kube_app(tmp_path, providers=[*recorded_aws_providers(), *recorded_kube_providers()])
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("p")
        await settle(pilot)
        bar = app.query_one(ViewBar).plain()
        assert len(bar) <= SHORT[0] and " p Pods 11✖ " in bar
        assert [t.key for t in app.query_one(ViewBar).tabs] == list("hevdbflnwptm")
        await pilot.resize_terminal(*TALL)
        await settle(pilot)
        assert "n Nodes 5✖ · w Workloads 8 ·  p Pods 11✖  · t Events 6✖ · m PVCs 4" in (
            app.query_one(ViewBar).plain())  # the Kubernetes group named, AWS by count
        assert "e 8✖ · v 5✖" in app.query_one(ViewBar).plain()


async def test_a_late_view_change_message_does_not_take_the_focus_from_the_filter(tmp_path: Path) -> None:
    """In a terminal, `w` then `/` then typing can beat ViewChanged bubbling up to
    the app; when it lands it must not focus the table under the open filter."""
    app = kube_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("w", "slash")
        tab = app.query_one(ResourcesTab)
        tab.post_message(ResourcesTab.ViewChanged("k8s-workloads"))  # as if it arrived only now
        await pilot.pause()
        await pilot.press(*"hello")
        await pilot.pause()
        assert tab.active_id == "k8s-workloads" and table(app, "workloads").filter_text == "hello"

"""The plain functions behind the Kubernetes views: no app, no terminal."""

from __future__ import annotations

import pytest

from providers.base import ActionParameter
from providers.k8s.action_specs import SCALE
from providers.k8s.records import Container, KubeNode, KubePod
from tests.support.apps import (
    CRASHING_POD,
    FIXED_NOW,
    OOM_POD,
    PENDING_POD,
    recorded_kube_snapshot,
)
from tui.keymap import (
    RESOURCE_VIEWS,
    available_views,
    detail_keys,
    help_rows,
    kube_keys,
    scope_label,
    view_keys,
)
from tui.screens.aws_views import column_widths
from tui.screens.kube_views import (
    EVENTS,
    KUBE_VIEWS,
    NODES,
    PODS,
    PVCS,
    WORKLOADS,
    EventIndex,
    ViewData,
    contexts_of,
    fit_columns,
    kube_problem,
    last_termination,
    millicores,
    namespaces_in,
    node_severity,
    node_status,
    pod_severity,
    pods_per_node,
    problem_lines,
    ready_severity,
    scope_line,
    short_image,
    sized_columns,
    use_req_lim,
    visible_records,
)
from tui.screens.resources import action_scopes, bar_cells, fit_tabs
from widgets.status_line import SourceStatus, group_sources, render_sources
from widgets.view_bar import ViewTab


def records(view: str, i: int = 0, contexts: tuple[str, ...] = ("prod", "staging")) -> dict[str, object]:
    snap = recorded_kube_snapshot(view, i, contexts)
    return {r.key: r for r in KUBE_VIEWS[view].records(snap)}


def row(view: str, key: str, i: int = 0) -> dict[str, object]:
    """One row as {column key: value}."""
    spec = KUBE_VIEWS[view]
    snap = recorded_kube_snapshot(view, i)
    pods = recorded_kube_snapshot("pods", i)
    data = ViewData(snap.taken_at, snap.usage, snap.requested, pods_per_node(pods.items), snap)
    record = records(view, i)[key]
    return dict(zip([c.key for c in spec.columns], spec.to_row(record, data), strict=True))


# -- rows ----------------------------------------------------------------------------------


def test_node_status_reads_as_kubectl_writes_it() -> None:
    nodes = records("nodes")
    assert node_status(nodes["prod/node-a1"]) == "Ready"  # type: ignore[arg-type]
    assert node_status(nodes["prod/node-a2"]) == "Ready,SchedulingDisabled"  # type: ignore[arg-type]
    assert node_status(nodes["prod/node-a3"]) == "NotReady"  # Ready=Unknown: kubectl says NotReady  # type: ignore[arg-type]
    assert node_status(KubeNode("c", "n", "")) == "Unknown"  # no Ready condition at all
    assert node_status(KubeNode("c", "n", "False", unschedulable=True)) == "NotReady,SchedulingDisabled"
    assert [node_severity(s) for s in ("Ready", "NotReady", "Ready,SchedulingDisabled", "Unknown")] == [
        "ok", "error", "warn", "warn"]


def test_node_rows_show_requests_of_allocatable_usage_and_pods() -> None:
    a1 = row("nodes", "prod/node-a1")
    assert a1["status"] == "Ready" and a1["roles"] == "<none>" and a1["version"] == "v1.30.4"
    assert a1["cpu_req"] == "2.3/7.9"  # the requests of the pods scheduled there, of allocatable cores
    assert a1["mem_req"] == "5.3/31.3Gi"
    assert a1["cpu"] == pytest.approx(100 * 2.4 / 7.92, abs=8)  # in use, % of allocatable
    assert a1["pods"] == "5/110"
    assert row("nodes", "prod/cp-1")["roles"] == "control-plane"
    stg = row("nodes", "staging/stg-node-1")
    assert stg["cpu"] is None and stg["memory"] is None  # staging has no metrics-server
    assert row("nodes", "prod/node-a3")["pods"] == "0/110"


def test_pod_rows_say_ready_status_restarts_and_usage_against_request_and_limit() -> None:
    crash = row("pods", CRASHING_POD)
    assert (crash["ready"], crash["status"], crash["restarts"]) == ("0/1", "CrashLoopBackOff", "7 (Error)")
    oom = row("pods", OOM_POD)
    assert oom["restarts"] == "3 (OOMKilled)"
    assert str(oom["memory"]).split("/")[1:] == ["768", "1024"]  # request and limit in MiB
    assert str(oom["cpu"]).endswith("/200/-")  # no CPU limit
    pending = row("pods", PENDING_POD)
    assert (pending["status"], pending["node"], pending["cpu"]) == ("Pending", "", "-/2000/4000")
    assert row("pods", "staging/shop/db-migrate-4x7kq")["status"] == "Completed"
    assert use_req_lim(None, 0.0, None, millicores) == "-"
    assert [pod_severity(s) for s in ("CrashLoopBackOff", "OOMKilled", "Error", "Pending", "Running",
                                      "Completed", "Init:CrashLoopBackOff", "Init:0/2", "Terminating")] == [
        "error", "error", "error", "warn", "ok", "ok", "error", "warn", "warn"]


def test_workload_rows_mark_degraded_and_rolling() -> None:
    api = row("workloads", "prod/shop/Deployment/api")
    assert (api["kind"], api["ready"], api["updated"], api["available"], api["rollout"]) == (
        "deploy", "2/3", 1, 2, "rolling")
    assert api["images"] == "api:1.8.0, envoy:v1.31.2"
    assert row("workloads", "prod/shop/StatefulSet/cache")["kind"] == "sts"
    assert [ready_severity(v) for v in ("3/3", "2/3", "0/1", "0/0")] == ["ok", "warn", "error", None]
    assert short_image("registry.example.com/shop/api@sha256:0123456789abcdef0123") == "api@0123456789ab"


def test_events_are_grouped_by_object_warnings_first() -> None:
    snap = recorded_kube_snapshot("events", 0)
    groups = EVENTS.records(snap)
    assert [g.type for g in groups] == ["Warning"] * 4 + ["Normal"] * 2
    worker = row("events", "prod/shop/Pod/worker-5f6d7c8b9-h2j4k")
    assert (worker["object"], worker["reason"], worker["count"]) == (
        "Pod/worker-5f6d7c8b9-h2j4k", "BackOff", 50)  # 42 back-offs and 8 pulls
    pvc = row("events", "prod/shop/PersistentVolumeClaim/import-scratch")
    assert pvc["object"] == "PVC/import-scratch"


def test_pvc_rows_show_a_pending_claims_requested_size() -> None:
    pending = row("pvcs", "prod/shop/import-scratch")
    assert (pending["phase"], pending["capacity"], pending["volume"]) == ("Pending", 100 * 2**30, "")
    capacity = next(c for c in PVCS.columns if c.key == "capacity")
    assert capacity.format(100 * 2**30) == "100Gi" and capacity.format(None) == "—"


def test_ages_round_so_cells_change_only_with_their_text() -> None:
    first, later = row("nodes", "prod/node-a1", 0), row("nodes", "prod/node-a1", 5)  # five minutes apart
    assert first["age"] == later["age"] == 90 * 86400.0


# -- columns ---------------------------------------------------------------------------------


def keys_of(spec, indices: tuple[int, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    return [spec.columns[i].key for i in indices]


def test_context_column_only_with_two_contexts_and_namespace_only_for_all_namespaces() -> None:
    assert keys_of(PODS, fit_columns(PODS, 159, contexts=2, namespace=None))[:3] == [
        "context", "namespace", "name"]
    assert keys_of(PODS, fit_columns(PODS, 159, contexts=1, namespace=None))[:2] == ["namespace", "name"]
    assert keys_of(PODS, fit_columns(PODS, 159, contexts=1, namespace="shop"))[0] == "name"
    assert "namespace" not in [c.key for c in NODES.columns]  # nodes are cluster-wide
    # staging could not list events: it is still a context of the view
    assert contexts_of(recorded_kube_snapshot("events", 0)) == ["prod", "staging"]
    assert contexts_of(recorded_kube_snapshot("pods", 0, ("prod",))) == ["prod"]


@pytest.mark.parametrize("view", sorted(KUBE_VIEWS))
@pytest.mark.parametrize("width", [79, 99, 119, 159])
def test_every_view_fits_its_columns_whole(view: str, width: int) -> None:
    spec = KUBE_VIEWS[view]
    sized = sized_columns(spec, spec.records(recorded_kube_snapshot(view, 0)))
    columns = [sized[i] for i in fit_columns(spec, width, contexts=2, namespace=None, columns=sized)]
    assert sum(column_widths(columns, width)) + len(columns) - 1 <= width
    assert "name" in [c.key for c in columns] or view == "events"


def test_80_columns_keep_what_matters_most() -> None:
    pods = sized_columns(PODS, PODS.records(recorded_kube_snapshot("pods", 0)))
    assert keys_of(PODS, fit_columns(PODS, 79, contexts=2, namespace=None, columns=pods)) == [
        "context", "namespace", "name", "ready", "status", "restarts"]
    assert keys_of(PODS, fit_columns(PODS, 79, contexts=1, namespace=None, columns=pods)) == [
        "namespace", "name", "ready", "status", "restarts", "age"]
    nodes = sized_columns(NODES, NODES.records(recorded_kube_snapshot("nodes", 0)))
    assert keys_of(NODES, fit_columns(NODES, 79, contexts=2, namespace=None, columns=nodes)) == [
        "context", "name", "status", "cpu_req", "cpu", "mem_req", "memory"]
    wide = keys_of(NODES, fit_columns(NODES, 119, contexts=2, namespace=None, columns=nodes))
    assert wide == [c.key for c in NODES.columns]


def test_context_and_namespace_columns_are_as_wide_as_their_names() -> None:
    sized = {c.key: c for c in sized_columns(PODS, PODS.records(recorded_kube_snapshot("pods", 0)))}
    assert sized["context"].width == len("Context") and sized["namespace"].width == len("kube-system")
    long = KubePod("arn:aws:eks:eu-west-1:123456789012:cluster/prod", "ns", "p")
    assert {c.key: c.width for c in sized_columns(PODS, [long])}["context"] == 24


def test_no_kubernetes_column_takes_the_namespace_or_restart_key() -> None:
    for spec in KUBE_VIEWS.values():
        hotkeys = [c.hotkey for c in spec.columns if c.hotkey]
        assert "N" not in hotkeys and "R" not in hotkeys and "S" not in hotkeys
        assert len(hotkeys) == len(set(hotkeys)), spec.view


# -- namespace, details, problems ----------------------------------------------------------


def test_namespace_filter_keeps_cluster_wide_rows() -> None:
    snap = recorded_kube_snapshot("pods", 0)
    shop = visible_records(PODS, snap.items, "shop")
    assert {p.namespace for p in shop} == {"shop"} and len(shop) == 8
    assert len(visible_records(NODES, recorded_kube_snapshot("nodes", 0).items, "shop")) == 5
    assert namespaces_in([snap, recorded_kube_snapshot("pvcs", 0), None]) == [
        "kube-system", "monitoring", "shop"]
    assert scope_line(PODS, snap, "shop") == "contexts prod, staging · namespace shop · N: namespace"
    assert scope_line(NODES, snap, None) == "contexts prod, staging · cluster-wide · N: namespace"


def test_pod_detail_shows_last_termination_and_the_pods_events() -> None:
    pod = records("pods")[CRASHING_POD]
    events = EventIndex(recorded_kube_snapshot("events", 0).items)  # type: ignore[arg-type]
    snap = recorded_kube_snapshot("pods", 0)
    title, fields = PODS.detail(pod, ViewData(snap.taken_at, snap.usage), events)
    assert title == "worker-5f6d7c8b9-h2j4k · prod/shop · CrashLoopBackOff"
    assert fields[0] == ("Containers",
                         "worker: waiting: CrashLoopBackOff · restarts 7 · last Error (exit 1) 3m ago")
    assert fields[1] == ("Events", "Warning BackOff (x42) 1m ago: Back-off restarting failed container "
                                   "worker in pod worker-5f6d7c8b9-h2j4k_shop")
    assert fields[2][1].startswith("Normal Pulled (x8) 3m ago")
    facts = dict(fields)
    assert facts["Owner"] == "ReplicaSet/worker-5f6d7c8b9"
    assert facts["Resources"] == "worker: cpu 500m/1 · memory 512Mi/1Gi (request/limit)"
    oom = records("pods")[OOM_POD]
    assert last_termination(oom.containers[0], snap.taken_at) == "OOMKilled (exit 137) 12m ago"  # type: ignore[attr-defined]
    assert last_termination(Container("c", "i"), FIXED_NOW) == ""


def test_node_events_are_found_whatever_namespace_they_were_filed_in() -> None:
    events = EventIndex(recorded_kube_snapshot("events", 0).items)  # type: ignore[arg-type]
    [notready] = events.about("prod", "", "Node", "node-a3")
    assert notready.reason == "NodeNotReady"
    node = records("nodes")["prod/node-a3"]
    snap = recorded_kube_snapshot("nodes", 0)
    _, fields = NODES.detail(node, ViewData(snap.taken_at, snap.usage, snap.requested), events)
    facts = dict(fields)
    assert facts["Conditions"].startswith(
        "Ready=Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)")
    assert facts["Events"].startswith("Warning NodeNotReady 25m ago")
    assert facts["Taints"] == ("node.kubernetes.io/unreachable:NoExecute, "
                               "node.kubernetes.io/unreachable:NoSchedule")


def test_problems_are_one_line_each_and_feed_the_status_line() -> None:
    events = recorded_kube_snapshot("events", 0)
    assert problem_lines(events, None) == [
        "staging: events: forbidden: cannot list events at cluster scope — ask for RBAC list on events"]
    assert problem_lines(None, "KubeUnavailable: prod: unreachable") == [
        "last poll failed: KubeUnavailable: prod: unreachable"]
    assert kube_problem(events) == problem_lines(events, None)[0]
    assert kube_problem(recorded_kube_snapshot("pvcs", 0)) is None
    grouped = group_sources([SourceStatus("host", "ok", ""), SourceStatus("k8s.pods", "ok", ""),
                             SourceStatus("k8s.events", "partial", "", kube_problem(events))])
    assert render_sources(grouped).plain == (
        "host ● ok │ k8s ◑ partial 1/2: events: staging: events: forbidden: cannot list events at cluster "
        "scope — ask for RBAC list on events")


# -- keys, targets ------------------------------------------------------------------------------


def test_kubernetes_view_keys_scopes_and_help() -> None:
    views = available_views(["host", "aws.ec2", "k8s.nodes", "k8s.workloads", "k8s.pods", "k8s.events",
                             "k8s.pvcs"])
    keys = {k.id: k for k in view_keys(views)}
    assert [keys[f"view.k8s-{v}"].key for v in ("nodes", "workloads", "pods", "events", "pvcs")] == [
        "n", "w", "p", "t", "m"]
    taken = {"h", "e", "v", "d", "b", "f", "l", "1", "2", "3", "4", "5", "r", "q", "c", "i", "k", "g", "x",
             "o", "s", "S", "N"}
    assert not {keys[f"view.k8s-{v}"].key for v in KUBE_VIEWS} & taken
    assert len({v.key for v in RESOURCE_VIEWS}) == len(RESOURCE_VIEWS)
    assert [(k.scope, k.key) for k in detail_keys(views)] == [("resources.aws", "i"), ("resources.k8s", "i")]
    assert [(k.id, k.key, k.scope) for k in kube_keys(views)] == [
        ("k8s.namespace", "N", "resources.k8s"), ("k8s.logs", "enter", "resources.k8s-pods")]
    assert kube_keys(available_views(["host", "aws.ec2"])) == []
    assert action_scopes(views)["k8s.scale"] == "resources.k8s-workloads"
    assert action_scopes(views)["k8s.cordon"] == "resources.k8s-nodes"
    assert action_scopes(views)["k8s.delete_pod"] == "resources.k8s-pods"
    assert scope_label("resources.k8s", views) == "Kubernetes views"
    assert scope_label("resources.k8s-pods", views) == "Pods view"
    assert ("i", "Toggle the detail pane", "Kubernetes views") in help_rows(detail_keys(views), False, views)


def test_targets_come_from_the_providers_target_for() -> None:
    api = records("workloads")["prod/shop/Deployment/api"]
    target = WORKLOADS.target(api)
    assert target is not None and (target.kind, target.name, target.details["replicas"]) == (
        "Deployment", "api", "3")
    assert EVENTS.target(records("events")["prod/shop/Pod/cache-0"]) is None
    assert PODS.action_ids == ("k8s.delete_pod",) and NODES.action_ids == ("k8s.cordon", "k8s.uncordon")
    assert isinstance(SCALE.parameter, ActionParameter)


def test_the_view_bar_gives_up_names_of_other_views_until_it_fits() -> None:
    views = available_views(["host", "aws.ec2", "aws.rds", "k8s.nodes", "k8s.pods", "k8s.events"])
    groups = {v.id: v.group for v in views}
    tabs = [ViewTab(v.id, v.key, v.title, "" if v.id == "host" else "12", v.id == "k8s-events")
            for v in views]
    assert fit_tabs(tabs, "k8s-pods", groups, 200) == tabs  # room for all: unchanged
    fitted = fit_tabs(tabs, "k8s-pods", groups, 60)
    assert [(t.key, t.title, t.count) for t in fitted] == [
        ("h", "", ""), ("e", "12", ""), ("d", "12", ""), ("n", "Nodes", "12"), ("p", "Pods", "12"),
        ("t", "Events", "12")]
    assert bar_cells(fitted, "k8s-pods") <= 60
    tight = fit_tabs(tabs, "k8s-pods", groups, 48)
    assert [t.title for t in tight] == ["", "12", "12", "12", "Pods", "12"]
    keys_only = fit_tabs(tabs, "k8s-pods", groups, 30)
    assert [t.title for t in keys_only] == ["", "", "", "", "Pods", ""]
    assert keys_only[-1].problem  # the red mark stays


def test_row_cache_formats_only_changed_pods_and_keeps_ages_current() -> None:
    from dataclasses import replace

    from providers.k8s.records import Usage
    from tui.screens.kube_views import PODS, RowCache, ViewData

    now = 1_800_000_000.0
    pods = [KubePod("dev", "shop", f"web-{i}", created=now - 3600 * (i + 1)) for i in range(3)]
    cache = RowCache(PODS)
    first = dict(cache.rows(pods, ViewData(now)))
    changed = replace(pods[1], restarts=4, last_restart_reason="OOMKilled")
    usage = {pods[2].key: Usage(0.25, 2**27)}
    second = dict(cache.rows([pods[0], changed, pods[2]], ViewData(now, usage)))
    assert second[pods[0].key] is first[pods[0].key]  # same record, same row object
    assert second[changed.key] == PODS.to_row(changed, ViewData(now, usage))
    assert second[pods[2].key] == PODS.to_row(pods[2], ViewData(now, usage))  # its usage changed
    later = dict(cache.rows([pods[0], changed, pods[2]], ViewData(now + 7200, usage)))
    assert later[pods[0].key] == PODS.to_row(pods[0], ViewData(now + 7200, usage))  # age moved on


def test_row_cache_moves_an_age_cell_exactly_when_its_text_would_change() -> None:
    from tui.screens.aws_views import age_of
    from tui.screens.kube_views import PODS, RowCache, ViewData

    created = 1_800_000_000.0
    pod = KubePod("dev", "shop", "web-1", created=created)
    cache = RowCache(PODS)
    age = [c.key for c in PODS.columns].index("age")
    for offset in (5, 59, 60, 61, 119, 120, 3599, 3600, 3661, 86399, 86400, 90000):
        (_, row), = cache.rows([pod], ViewData(created + offset))
        assert row[age] == age_of(created, created + offset), offset

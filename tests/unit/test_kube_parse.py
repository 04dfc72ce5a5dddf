"""API objects into what the views show: kubectl's status words, rollouts, quantities."""

from __future__ import annotations

from typing import Any

import pytest

from providers.k8s import parse
from providers.k8s.records import KubeEvent, Usage
from providers.k8s.snapshot import group_events
from providers.k8s.usage import UsageHistory

STAMP = "2026-11-22T10:00:00Z"


def _pod(statuses: list[dict[str, Any]], *, phase: str = "Running", deleting: bool = False,
         init: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p", "namespace": "shop", "creationTimestamp": STAMP}
    if deleting:
        meta["deletionTimestamp"] = STAMP
    spec: dict[str, Any] = {"containers": [{"name": s["name"], "image": "i",
                                            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
                                           for s in statuses]}
    status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses}
    if init is not None:
        spec["initContainers"] = [{"name": s["name"], "image": "i"} for s in init]
        status["initContainerStatuses"] = init
    return {"metadata": meta, "spec": spec, "status": status}


def _cs(name: str, state: dict[str, Any], *, ready: bool = False, restarts: int = 0,
        last: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "state": state, "ready": ready, "restartCount": restarts}
    if last:
        out["lastState"] = {"terminated": last}
    return out


@pytest.mark.parametrize(("statuses", "kwargs", "expected"), [
    ([_cs("app", {"running": {"startedAt": STAMP}}, ready=True)], {}, "Running"),
    ([_cs("app", {"waiting": {"reason": "CrashLoopBackOff"}}, restarts=7,
          last={"reason": "Error", "exitCode": 1})], {}, "CrashLoopBackOff"),
    ([_cs("app", {"terminated": {"reason": "OOMKilled", "exitCode": 137}})], {}, "OOMKilled"),
    ([_cs("app", {"terminated": {"exitCode": 2}})], {}, "ExitCode:2"),
    ([_cs("app", {"running": {}}, ready=True)], {"deleting": True}, "Terminating"),
    ([], {"phase": "Pending"}, "Pending"),
    ([_cs("app", {"waiting": {"reason": "PodInitializing"}})],
     {"init": [_cs("migrate", {"running": {}})]}, "Init:0/1"),
    ([_cs("app", {"waiting": {}})],
     {"init": [_cs("migrate", {"waiting": {"reason": "CrashLoopBackOff"}})]}, "Init:CrashLoopBackOff"),
])
def test_pod_status_reads_like_kubectl(statuses: list[dict[str, Any]], kwargs: dict[str, Any],
                                       expected: str) -> None:
    assert parse.pod("dev", _pod(statuses, **kwargs)).status == expected


def test_pod_restarts_last_reason_and_resources() -> None:
    pod = parse.pod("dev", _pod([
        _cs("app", {"running": {}}, ready=True, restarts=2,
            last={"reason": "OOMKilled", "exitCode": 137, "finishedAt": "2026-11-22T09:00:00Z"}),
        _cs("sidecar", {"running": {}}, restarts=1,
            last={"reason": "Error", "exitCode": 1, "finishedAt": "2026-11-22T08:00:00Z"}),
    ]))
    assert (pod.ready, pod.total, pod.restarts) == (1, 2, 3)
    assert pod.last_restart_reason == "OOMKilled"  # the most recent termination
    assert pod.containers[0].last_exit_code == 137
    # No requests given: Kubernetes defaults them to the limits.
    assert pod.cpu_request == 2.0 and pod.memory_request == 2 * 2**30
    assert pod.cpu_limit == 2.0
    assert pod.key == "dev/shop/p"


def _deployment(replicas: int, status: dict[str, Any], generation: int = 1) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"name": "d", "namespace": "shop", "generation": generation},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": "d:1"}]}}},
            "status": {"observedGeneration": 1, **status}}


@pytest.mark.parametrize(("replicas", "status", "generation", "rolling"), [
    (3, {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}, 1, False),
    (3, {"replicas": 4, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3}, 1, True),
    (3, {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}, 2, True),
    (3, {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}, 1, True),
])
def test_deployment_rollout_in_progress(replicas: int, status: dict[str, Any], generation: int,
                                        rolling: bool) -> None:
    workload = parse.workload("dev", _deployment(replicas, status, generation))
    assert workload.rolling is rolling
    assert workload.images == ("d:1",)


def test_daemonset_counts_come_from_scheduling_fields() -> None:
    workload = parse.workload("dev", {
        "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "monitoring"},
        "spec": {}, "status": {"desiredNumberScheduled": 5, "numberReady": 4,
                               "updatedNumberScheduled": 5, "numberAvailable": 4}})
    assert (workload.desired, workload.ready, workload.updated, workload.available) == (5, 4, 5, 4)
    assert workload.rolling


def test_node_roles_taints_and_readiness() -> None:
    node = parse.node("dev", {
        "metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "spec": {"unschedulable": True, "taints": [
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
            {"key": "dedicated", "value": "db", "effect": "NoSchedule"}]},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}],
                   "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110"}}})
    assert node.roles == ("control-plane",)
    assert node.ready == "Unknown" and node.unschedulable
    assert node.taints == ("node.kubernetes.io/unreachable:NoExecute", "dedicated=db:NoSchedule")
    assert node.cpu_allocatable == pytest.approx(3.92) and node.pods_allocatable == 110


@pytest.mark.parametrize(("text", "value"), [
    ("250m", 0.25), ("1.5Gi", 1.5 * 2**30), ("2", 2.0), ("1e3", 1000.0), ("123456Ki", 123456 * 1024),
    ("100n", 1e-7), ("2k", 2000.0), ("bogus", None), (None, None),
])
def test_quantities(text: str | None, value: float | None) -> None:
    assert parse.quantity(text) == (pytest.approx(value) if value is not None else None)


def test_events_group_by_object_with_warnings_first() -> None:
    def ev(name: str, obj: str, type_: str, count: int, last: float) -> KubeEvent:
        return KubeEvent("dev", "shop", name, type_, "R" + name, "m", "Pod", obj, count, last, last)

    groups = group_events([ev("a", "web", "Normal", 1, 100.0), ev("b", "cart", "Normal", 2, 300.0),
                           ev("c", "cart", "Warning", 5, 200.0), ev("d", "db", "Normal", 1, 400.0)])
    assert [g.object_name for g in groups] == ["cart", "db", "web"]
    cart = groups[0]
    assert (cart.type, cart.count, cart.reason, cart.last_seen) == ("Warning", 7, "Rb", 300.0)
    assert [e.name for e in cart.events] == ["b", "c"]


def test_usage_history_is_bounded_and_forgets_gone_pods() -> None:
    history = UsageHistory(points=3)
    for i in range(5):
        history.add({"a": Usage(float(i), 10.0 * i), "b": Usage(1.0, 1.0)})
    cpu, memory = history.series("a")
    assert list(cpu) == [2.0, 3.0, 4.0] and list(memory) == [20.0, 30.0, 40.0]
    history.forget_all_but(["a"])
    assert history.series("b") == ((), ()) and len(history) == 1

"""How an operator's resource and pods become members: the cases a test cluster rarely
shows (standby clusters, two pods claiming the primary role, pods without IPs, the
operator's own word on an instance), from raw API objects, no server."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from config.model import KubernetesSettings, OperatorClusterSettings
from providers.ha.kube_operators import (
    OperatorCollector,
    age_text,
    kube_settings,
    pod_view,
    reading_from,
)
from providers.ha.model import PRIMARY, REPLICA, STANDBY_LEADER, UNKNOWN

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
CREATED = "2027-01-13T05:00:00Z"  # 2 days 3 hours before NOW


def pod(name: str, labels: Mapping[str, str], *, ip: str = "10.0.0.1", ready: bool = True,
        phase: str = "Running", waiting: str | None = None, node: str | None = "node-a",
        annotations: Mapping[str, str] | None = None, deleting: bool = False,
        conditions: bool = True) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else (
        {"running": {"startedAt": CREATED}} if phase == "Running" else {})
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "labels": dict(labels),
                            "annotations": dict(annotations or {}), "creationTimestamp": CREATED}
    if deleting:
        meta["deletionTimestamp"] = CREATED
    status: dict[str, Any] = {"phase": phase, "containerStatuses": [
        {"name": "db", "ready": ready, "restartCount": 0, "state": state}]}
    if ip:
        status["podIP"] = ip
    if conditions:
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    spec: dict[str, Any] = {"containers": [{"name": "db"}], **({"nodeName": node} if node else {})}
    return {"metadata": meta, "spec": spec, "status": status}


def spilo(role: str, cluster: str = "main") -> dict[str, str]:
    return {"application": "spilo", "cluster-name": cluster, "spilo-role": role}


def member_key(role: str, **more: Any) -> dict[str, str]:
    return {"status": json.dumps({"role": role, "state": "running", **more})}


def zalando(spec: Mapping[str, Any] | None = None, phase: str = "Running") -> dict[str, Any]:
    return {"spec": dict(spec or {}), "status": {"PostgresClusterStatus": phase}}


def cnpg(status: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"spec": dict(spec or {}), "status": {"phase": "Cluster in healthy state", **status}}


def cnpg_labels(role: str, **more: str) -> dict[str, str]:
    return {"cnpg.io/cluster": "pg", "cnpg.io/instanceRole": role, **more}


# -- pods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "state", "reachable", "error"), [
    ({}, "running", True, ""),
    ({"ready": False}, "not ready", False, "pod Running but not Ready (0/1 containers ready)"),
    ({"ready": False, "waiting": "CrashLoopBackOff"}, "CrashLoopBackOff", False, "pod CrashLoopBackOff"),
    ({"ready": False, "phase": "Pending", "node": None, "ip": ""}, "Pending", False, "pod Pending"),
    ({"deleting": True}, "terminating", False, "pod is terminating"),
    # No Ready condition reported (yet): every container ready is what counts.
    ({"conditions": False}, "running", True, ""),
])
def test_pod_state_comes_from_phase_readiness_and_container_statuses(
        kwargs: dict[str, Any], state: str, reachable: bool, error: str) -> None:
    view = pod_view(pod("p", {}, **kwargs))
    assert (view.state, view.reachable, view.error) == (state, reachable, error)


def test_a_pod_not_scheduled_yet_has_no_host_and_says_so() -> None:
    reading = reading_from("cloudnativepg", cnpg({"currentPrimary": "pg-1"}), [
        pod("pg-1", cnpg_labels("primary")),
        pod("pg-2", cnpg_labels("replica"), ready=False, phase="Pending", node=None, ip=""),
    ], NOW)
    pending = reading.members[1]
    assert (pending.host, pending.state, pending.replicating) == ("", "Pending", False)
    assert dict(pending.details)["node"] == "not scheduled"
    assert dict(reading.members[0].details)["age"] == "2d03h"


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (-5, "0s"), (45, "45s"), (750, "12m30s"), (3 * 3600 + 300, "3h05m"),
    (4 * 86400 + 7200, "4d02h"),
])
def test_age_is_two_units_at_most(seconds: float | None, text: str) -> None:
    assert age_text(seconds) == text


# -- Zalando ------------------------------------------------------------------------------------


def test_zalando_standby_cluster_leader_is_a_standby_leader_and_replicas_follow_it() -> None:
    reading = reading_from("zalando", zalando({"standby": {"s3_wal_path": "s3://wal"}}), [
        pod("main-0", spilo("master")), pod("main-1", spilo("replica")),
    ], NOW)
    assert [(m.role, m.upstream) for m in reading.members] == [(STANDBY_LEADER, None), (REPLICA, "main-0")]
    assert reading.leader == "main-0"


def test_zalando_role_from_patroni_member_key_when_the_label_is_missing() -> None:
    reading = reading_from("zalando", zalando(), [
        pod("main-0", {"application": "spilo", "cluster-name": "main"},
            annotations=member_key("primary", timeline=7, xlog_location=1000)),
        pod("main-1", spilo("replica"), annotations=member_key("replica", xlog_location=1500)),
    ], NOW)
    assert reading.leader == "main-0" and reading.members[0].timeline == 7
    assert reading.members[1].lag_bytes == 0  # a replica ahead of a stale leader key is not negative lag


def test_zalando_two_pods_claiming_primary_is_a_problem_and_patroni_decides() -> None:
    reading = reading_from("zalando", zalando(), [
        pod("main-0", spilo("master"), annotations=member_key("replica")),
        pod("main-1", spilo("master"), annotations=member_key("primary")),
    ], NOW)
    assert reading.leader == "main-1"
    assert reading.problems == ("2 pods claim the primary role: main-0, main-1",)


def test_zalando_missing_pods_no_primary_and_an_unfinished_status_are_problems() -> None:
    reading = reading_from("zalando", {"spec": {"numberOfInstances": 3}, "status": {}}, [
        pod("main-1", spilo("replica")),
    ], NOW)
    assert reading.leader is None and reading.members[0].upstream is None
    assert reading.problems == ("Zalando postgres-operator: no status reported yet",
                                "Zalando postgres-operator: 3 instances wanted, 1 pods found",
                                "Zalando postgres-operator: no pod is labelled spilo-role=master")


def test_zalando_replica_not_streaming_by_patroni_is_not_replicating() -> None:
    reading = reading_from("zalando", zalando(), [
        pod("main-0", spilo("master")),
        pod("main-1", spilo("replica"),
            annotations=member_key("replica", replication_state="in archive recovery")),
    ], NOW)
    assert (reading.members[1].state, reading.members[1].replicating) == ("in archive recovery", False)


# -- CloudNativePG --------------------------------------------------------------------------------


def test_cnpg_replica_cluster_timelines_per_instance_and_other_pods_left_out() -> None:
    status = {"currentPrimary": "pg-1", "targetPrimary": "pg-1", "timelineID": 3,
              "instancesReportedState": {"pg-1": {"isPrimary": True, "timeLineID": 3},
                                         "pg-2": {"isPrimary": False, "timeLineID": 2}}}
    reading = reading_from("cloudnativepg", cnpg(status, {"replica": {"enabled": True}}), [
        pod("pg-1", cnpg_labels("primary", **{"cnpg.io/podRole": "instance"})),
        pod("pg-2", cnpg_labels("replica")),
        pod("pg-pooler-rw-5c8d", {"cnpg.io/cluster": "pg", "cnpg.io/poolerName": "pg-pooler-rw"}),
        pod("pg-2-join-abcde", {"cnpg.io/cluster": "pg", "cnpg.io/jobRole": "join"}),
    ], NOW)
    assert [m.name for m in reading.members] == ["pg-1", "pg-2"]
    assert [(m.role, m.timeline) for m in reading.members] == [(STANDBY_LEADER, 3), (REPLICA, 2)]


def test_cnpg_failing_over_names_the_move_and_a_failed_instance_is_not_replicating() -> None:
    status = {"phase": "Failing over", "phaseReason": "Primary pod missing", "currentPrimary": "pg-1",
              "targetPrimary": "pg-2", "instancesStatus": {"healthy": ["pg-2"], "failed": ["pg-3"]}}
    reading = reading_from("cloudnativepg", cnpg(status), [
        pod("pg-2", cnpg_labels("replica")), pod("pg-3", cnpg_labels("replica")),
    ], NOW)
    assert reading.problems == (
        "CloudNativePG: Failing over (Primary pod missing): primary pg-1 to pg-2",
        "CloudNativePG: no pod is labelled cnpg.io/instanceRole=primary (the operator names pg-1)")
    assert reading.leader is None
    failed = reading.members[1]
    assert failed.reachable and failed.replicating is False  # the pod is up, the operator says failed
    assert failed.error == "CloudNativePG reports this instance as failed"


def test_cnpg_switchover_without_a_phase_change_is_still_shown() -> None:
    reading = reading_from("cloudnativepg", cnpg({"currentPrimary": "pg-1", "targetPrimary": "pg-2"}), [
        pod("pg-1", cnpg_labels("primary")), pod("pg-2", cnpg_labels("replica")),
    ], NOW)
    assert reading.problems == ("CloudNativePG: switchover in progress: primary pg-1 to pg-2",)


# -- Percona ---------------------------------------------------------------------------------------


def test_percona_error_state_uses_the_operator_message_and_no_member_is_leader() -> None:
    resource = {"spec": {"pxc": {"size": 3}},
                "status": {"state": "error", "message": ["pxc: back-off restarting failed container"],
                           "pxc": {"size": 3, "ready": 1, "status": "error"}}}
    labels = {"app.kubernetes.io/instance": "db", "app.kubernetes.io/component": "pxc"}
    reading = reading_from("percona", resource, [
        pod("db-pxc-0", labels), pod("db-pxc-1", labels, ready=False, waiting="CrashLoopBackOff"),
    ], NOW)
    assert reading.leader is None
    assert [m.role for m in reading.members] == [PRIMARY, UNKNOWN]
    assert reading.problems == (
        "Percona XtraDB Cluster: error: pxc: back-off restarting failed container",
        "Percona XtraDB Cluster: 1 of 3 pxc members ready",
        "Percona XtraDB Cluster: 3 instances wanted, 2 pods found")
    assert dict(reading.members[0].details)["operator"] == "error; pxc 1/3 ready"


# -- settings -----------------------------------------------------------------------------------


def test_without_a_kubernetes_provider_the_default_kubeconfig_is_used() -> None:
    assert kube_settings(None, {"KUBECONFIG": "/k/a:/k/b"}).kubeconfig == ("/k/a", "/k/b")
    assert kube_settings(None, {"HOME": "/home/op"}).kubeconfig == ("/home/op/.kube/config",)
    configured = KubernetesSettings(kubeconfig=("/etc/kube",), timeout=3.0)
    assert kube_settings(configured, {"KUBECONFIG": "/k/a"}) is configured


def test_an_unknown_operator_kind_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="use one of zalando, cloudnativepg, percona"):
        OperatorCollector(OperatorClusterSettings("crunchy", "pg"), KubernetesSettings(kubeconfig=()))

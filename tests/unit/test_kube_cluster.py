"""The generated Kubernetes clusters and ClusterLife, checked through the
official client's models and the test API server's store (no HTTP, no sleeps:
ClusterLife is driven tick by tick with a fixed clock)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tui.demo.kube_api import objects as k
from tui.demo.kube_api.cluster import (
    FAULT_ANNOTATION,
    NOTREADY_NODE,
    ROLLING_NEW_RS,
    ROLLING_OLD_RS,
    SCENARIO_KINDS,
    SCENARIOS,
    ClusterLife,
    generate_bulk,
    generate_cluster,
    seed_logs,
)
from tui.demo.kube_api.life import UNSCHEDULABLE_TAINT
from tui.demo.kube_api.server import KubeApiServer

NOW = 1_795_000_000.0  # 2026-11-18T09:46:40Z
MODELS = {
    "Namespace": "V1Namespace", "Node": "V1Node", "Pod": "V1Pod", "Event": "CoreV1Event",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim", "PersistentVolume": "V1PersistentVolume",
    "Deployment": "V1Deployment", "StatefulSet": "V1StatefulSet", "DaemonSet": "V1DaemonSet",
    "ReplicaSet": "V1ReplicaSet",
}


@pytest.fixture(scope="module")
def cluster() -> list[dict]:
    return generate_cluster(seed=3, now=NOW)


def by_kind(objs: Sequence[dict], kind: str) -> list[dict]:
    return [o for o in objs if o["kind"] == kind]


def find(objs: Sequence[dict], kind: str, namespace: str, name: str) -> dict:
    for o in objs:
        meta = o["metadata"]
        if o["kind"] == kind and meta["name"] == name and meta.get("namespace", "") == namespace:
            return o
    raise AssertionError(f"no {kind} {namespace}/{name}")


def events_about(objs: Sequence[dict], name: str, reason: str) -> list[dict]:
    return [e for e in by_kind(objs, "Event")
            if e["involvedObject"]["name"] == name and e["reason"] == reason]


def unknown_keys(sent: Any, parsed: Any, path: str = "") -> list[str]:
    """Keys of ``sent`` that the client's model dropped: misspelt or invented fields."""
    if isinstance(sent, dict):
        out = []
        for key, value in sent.items():
            if value is None:
                continue
            if not isinstance(parsed, dict) or key not in parsed:
                out.append(f"{path}/{key}")
            else:
                out += unknown_keys(value, parsed[key], f"{path}/{key}")
        return out
    if isinstance(sent, list) and isinstance(parsed, list):
        return [m for i, (a, b) in enumerate(zip(sent, parsed, strict=False))
                for m in unknown_keys(a, b, f"{path}[{i}]")]
    return []


# ------------------------------------------------------------------ the objects

def test_every_kind_deserialises_through_the_official_client_without_unknown_fields(
        cluster: list[dict]) -> None:
    api = ApiClient()
    seen = set()
    for obj in cluster:
        model = MODELS.get(obj["kind"])
        if model is None:
            continue
        parsed = api._ApiClient__deserialize(obj, model)  # type: ignore[attr-defined]
        assert parsed.metadata.name == obj["metadata"]["name"]
        assert unknown_keys(obj, api.sanitize_for_serialization(parsed)) == [], obj["metadata"]["name"]
        seen.add(obj["kind"])
    assert seen == set(MODELS)


def test_parsed_models_carry_what_a_console_shows(cluster: list[dict]) -> None:
    api = ApiClient()
    namespace, name = SCENARIOS["oomkilled"]
    pod = api._ApiClient__deserialize(find(cluster, "Pod", namespace, name), "V1Pod")  # type: ignore[attr-defined]
    cs = pod.status.container_statuses[0]
    assert cs.last_state.terminated.reason == "OOMKilled" and cs.last_state.terminated.exit_code == 137
    assert pod.spec.containers[0].resources.limits["memory"] == "512Mi"
    assert pod.metadata.owner_references[0].kind == "ReplicaSet"
    node = api._ApiClient__deserialize(find(cluster, "Node", "", "cp-1"), "V1Node")  # type: ignore[attr-defined]
    assert node.status.node_info.kubelet_version.startswith("v1.")
    assert node.status.capacity["cpu"] == "4" and node.status.capacity["memory"] == "16Gi"
    assert {c.type for c in node.status.conditions} == {"Ready", "MemoryPressure", "DiskPressure",
                                                         "PIDPressure"}
    ds = api._ApiClient__deserialize(by_kind(cluster, "DaemonSet")[0], "V1DaemonSet")  # type: ignore[attr-defined]
    assert ds.status.desired_number_scheduled == 6 and ds.status.number_ready == 5


def test_metrics_look_like_metrics_server(cluster: list[dict]) -> None:
    for m in by_kind(cluster, "NodeMetrics") + by_kind(cluster, "PodMetrics"):
        assert m["apiVersion"] == "metrics.k8s.io/v1beta1" and m["window"] == "30s"
        assert k.parse_time(m["timestamp"]) <= NOW
        usages = [m["usage"]] if m["kind"] == "NodeMetrics" else [c["usage"] for c in m["containers"]]
        for usage in usages:
            assert usage["cpu"][-1] in "nm" and usage["memory"].endswith(("Ki", "Mi"))
            assert k.parse_quantity(usage["cpu"]) >= 0 and k.parse_quantity(usage["memory"]) > 0
    styles = {c["usage"]["cpu"][-1] for m in by_kind(cluster, "PodMetrics") for c in m["containers"]}
    assert styles == {"n", "m"}


def test_small_cluster_is_realistic(cluster: list[dict]) -> None:
    nodes = by_kind(cluster, "Node")
    assert len(nodes) == 6 and len(by_kind(cluster, "Deployment")) == 10
    assert len(by_kind(cluster, "StatefulSet")) == 2 and len(by_kind(cluster, "DaemonSet")) == 2
    assert len(by_kind(cluster, "PersistentVolumeClaim")) == 6
    roles = Counter(next(label for label in n["metadata"]["labels"] if label.startswith("node-role"))
                    for n in nodes)
    assert roles == {"node-role.kubernetes.io/control-plane": 1, "node-role.kubernetes.io/worker": 5}
    pods = by_kind(cluster, "Pod")
    workload_nodes = {p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName")
                      and p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"}
    assert len(workload_nodes) >= 3 and "cp-1" not in workload_nodes
    assert all(":" in c["image"] for p in pods for c in p["spec"]["containers"])
    # every running pod on a ready node, and every ready node, has metrics
    ready = {n["metadata"]["name"] for n in nodes
             if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])}
    running = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods
               if p["spec"].get("nodeName") in ready
               and any("running" in cs["state"] for cs in p["status"].get("containerStatuses", ()))}
    metrics = {(m["metadata"]["namespace"], m["metadata"]["name"]) for m in by_kind(cluster, "PodMetrics")}
    assert metrics == running
    assert {m["metadata"]["name"] for m in by_kind(cluster, "NodeMetrics")} == ready
    # StatefulSet claims are bound to volumes and mounted by their pods
    claims = {c["metadata"]["name"]: c for c in by_kind(cluster, "PersistentVolumeClaim")}
    volumes = {v["metadata"]["name"]: v for v in by_kind(cluster, "PersistentVolume")}
    postgres = find(cluster, "Pod", "payments", "postgres-1")
    claim = claims[postgres["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]]
    assert claim["status"]["phase"] == "Bound"
    assert volumes[claim["spec"]["volumeName"]]["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
    assert any(e["type"] == "Normal" and e["reason"] == "Started" for e in by_kind(cluster, "Event"))
    names = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in cluster]
    assert len(names) == len(set(names))


def test_same_seed_same_cluster_other_seed_other_names() -> None:
    assert generate_cluster(seed=5, now=NOW) == generate_cluster(seed=5, now=NOW)
    names = {o["metadata"]["name"] for o in generate_cluster(seed=5, now=NOW) if o["kind"] == "Pod"}
    other = {o["metadata"]["name"] for o in generate_cluster(seed=6, now=NOW) if o["kind"] == "Pod"}
    assert names != other
    assert {SCENARIOS["crashloop"][1], SCENARIOS["oomkilled"][1]} <= names & other


# ------------------------------------------------------------------ scenarios

def test_every_scenario_names_an_object_of_its_kind(cluster: list[dict]) -> None:
    for scenario, (namespace, name) in SCENARIOS.items():
        find(cluster, SCENARIO_KINDS[scenario], namespace, name)


def test_crashloop_scenario(cluster: list[dict]) -> None:
    pod = find(cluster, "Pod", *SCENARIOS["crashloop"])
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff" and cs["restartCount"] >= 5
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "Error" and last["exitCode"] == 1
    assert cs["ready"] is False and pod["status"]["phase"] == "Running"
    (backoff,) = events_about(cluster, pod["metadata"]["name"], "BackOff")
    assert backoff["type"] == "Warning" and backoff["count"] > 1
    assert backoff["involvedObject"]["uid"] == pod["metadata"]["uid"]


def test_unschedulable_scenario(cluster: list[dict]) -> None:
    pod = find(cluster, "Pod", *SCENARIOS["unschedulable"])
    assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"]
    (scheduled,) = pod["status"]["conditions"]
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == ("PodScheduled", "False",
                                                                             "Unschedulable")
    (failed,) = events_about(cluster, pod["metadata"]["name"], "FailedScheduling")
    assert failed["type"] == "Warning"
    assert failed["message"] == "0/6 nodes are available: 6 Insufficient memory."


def test_notready_node_scenario(cluster: list[dict]) -> None:
    node = find(cluster, "Node", *SCENARIOS["notready_node"])
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "Unknown"
    unreachable = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
    assert unreachable.items() <= node["spec"]["taints"][0].items()
    assert not [m for m in by_kind(cluster, "NodeMetrics") if m["metadata"]["name"] == NOTREADY_NODE]
    assert not [p for p in by_kind(cluster, "Pod") if p["spec"].get("nodeName") == NOTREADY_NODE
                and p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"]


def test_rolling_scenario(cluster: list[dict]) -> None:
    dep = find(cluster, "Deployment", *SCENARIOS["rolling"])
    status = dep["status"]
    assert status["updatedReplicas"] < dep["spec"]["replicas"] == status["replicas"]
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "ReplicaSetUpdated"
    rs_names = {rs["metadata"]["name"] for rs in by_kind(cluster, "ReplicaSet")
                if rs["metadata"]["ownerReferences"][0]["uid"] == dep["metadata"]["uid"]}
    assert rs_names == {ROLLING_OLD_RS, ROLLING_NEW_RS}
    hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in by_kind(cluster, "Pod")
              if p["metadata"]["name"].startswith("checkout-")}
    assert hashes == {ROLLING_OLD_RS.split("-", 1)[1], ROLLING_NEW_RS.split("-", 1)[1]}


def test_oomkilled_scenario(cluster: list[dict]) -> None:
    pod = find(cluster, "Pod", *SCENARIOS["oomkilled"])
    cs = pod["status"]["containerStatuses"][0]
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "OOMKilled" and last["exitCode"] == 137
    assert "running" in cs["state"] and cs["restartCount"] > 0
    assert pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "512Mi"


def test_pending_claim_scenario(cluster: list[dict]) -> None:
    claim = find(cluster, "PersistentVolumeClaim", *SCENARIOS["pending_pvc"])
    assert claim["status"]["phase"] == "Pending" and "volumeName" not in claim["spec"]
    (failed,) = events_about(cluster, claim["metadata"]["name"], "ProvisioningFailed")
    assert failed["type"] == "Warning" and claim["spec"]["storageClassName"] in failed["message"]


def test_without_scenarios_the_cluster_is_healthy() -> None:
    objs = generate_cluster(seed=3, now=NOW, scenarios=False)
    assert not [e for e in by_kind(objs, "Event") if e["type"] == "Warning"]
    assert not [p for p in by_kind(objs, "Pod") if FAULT_ANNOTATION in p["metadata"].get("annotations", {})]
    assert all(p["status"]["phase"] == "Running" for p in by_kind(objs, "Pod"))


def test_scenarios_need_their_namespaces() -> None:
    with pytest.raises(ValueError, match="scenarios need"):
        generate_cluster(namespaces=("default",))
    assert generate_cluster(namespaces=("default",), scenarios=False, now=NOW)


# ------------------------------------------------------------------ bulk

def test_generate_bulk_counts_distinct_names_and_objects() -> None:
    started = time.perf_counter()
    objs = list(generate_bulk(seed=1, now=NOW))
    took = time.perf_counter() - started
    print(f"generate_bulk: {len(objs)} objects in {took:.2f} s")
    counts = Counter(o["kind"] for o in objs)
    assert counts["Pod"] == counts["PodMetrics"] == 20_000
    assert counts["Node"] == counts["NodeMetrics"] == 500
    assert counts["Deployment"] == counts["ReplicaSet"] == 3_000
    keys = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objs}
    assert len(keys) == len(objs)
    pods = [o for o in objs if o["kind"] == "Pod"]
    parts: list[Callable[[dict], Any]] = [
        lambda p: p["metadata"], lambda p: p["metadata"]["labels"], lambda p: p["spec"]["containers"],
        lambda p: p["spec"]["containers"][0]["resources"]["requests"], lambda p: p["status"]]
    for part in parts:   # nothing shared between two pods: the server edits objects in place
        assert len({id(part(p)) for p in pods}) == len(pods)
    api = ApiClient()
    for obj in (pods[0], pods[-1], next(o for o in objs if o["kind"] == "Deployment")):
        parsed = api._ApiClient__deserialize(obj, MODELS[obj["kind"]])  # type: ignore[attr-defined]
        assert unknown_keys(obj, api.sanitize_for_serialization(parsed)) == []


# ------------------------------------------------------------------ logs

class RecordingServer(KubeApiServer):
    """The real store, counting the log lines written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.log_lines: Counter[tuple[str, str, str, bool]] = Counter()
        self.last_lines: dict[tuple[str, str, str, bool], list[str]] = {}

    def append_log(self, namespace: str, pod: str, container: str, lines: Sequence[str], *,
                   previous: bool = False) -> None:
        key = (namespace, pod, container, previous)
        self.log_lines[key] += len(lines)
        self.last_lines[key] = list(lines)
        super().append_log(namespace, pod, container, lines, previous=previous)


def test_seed_logs_current_and_previous(cluster: list[dict]) -> None:
    server = RecordingServer()
    server.put_many(cluster)
    written = seed_logs(server, cluster, lines_per_container=50, now=NOW)
    assert written == sum(server.log_lines.values())
    frontend = next(p for p in by_kind(cluster, "Pod") if p["metadata"]["name"].startswith("frontend-"))
    key = ("shop", frontend["metadata"]["name"], "frontend", False)
    assert server.log_lines[key] == 50
    ns, name = SCENARIOS["oomkilled"]
    assert server.last_lines[(ns, name, "search", True)][-1] == "Killed"
    ns, name = SCENARIOS["crashloop"]
    assert any(line.startswith("panic:") for line in server.last_lines[(ns, name, "cart", True)])
    levels = Counter(word for lines in server.last_lines.values() for line in lines
                     for word in ("INFO", "WARN", "ERROR") if f" {word} " in line)
    assert levels["INFO"] and levels["WARN"] and levels["ERROR"]


# ------------------------------------------------------------------ ClusterLife

@pytest.fixture
def live() -> Iterator[tuple[RecordingServer, ClusterLife, Callable[..., None]]]:
    server = RecordingServer()
    objs = generate_cluster(seed=3, now=NOW)
    server.put_many(objs)
    clock = [NOW]

    def tick(times: int = 1, until: Callable[[], bool] | None = None, limit: int = 30) -> None:
        for _ in range(limit if until else times):
            clock[0] += 2.0
            life.tick()
            if until is not None and until():
                return
        assert until is None, "the cluster never got there"

    life = ClusterLife(server, seed=3, clock=lambda: clock[0], restart_chance=0.0)
    yield server, life, tick


def pods_of(server: KubeApiServer, prefix: str, namespace: str = "shop", *, alive: bool = True) -> list[dict]:
    return [p for p in server.list("Pod") if p["metadata"]["namespace"] == namespace
            and p["metadata"]["name"].startswith(prefix)
            and not (alive and p["metadata"].get("deletionTimestamp"))]


def settled(server: KubeApiServer, prefix: str, replicas: int, namespace: str = "shop") -> bool:
    pods = pods_of(server, prefix, namespace, alive=False)
    return len(pods) == replicas and all(p["status"]["phase"] == "Running" and "deletionTimestamp" not in
                                         p["metadata"] for p in pods)


def test_scaling_a_deployment_up_and_down_reconciles_pods(live: Any) -> None:
    server, _, tick = live

    def scale(obj: dict, n: int) -> None:
        obj["spec"]["replicas"] = n

    server.mutate("Deployment", "shop", "catalog", lambda o: scale(o, 5))
    tick(until=lambda: settled(server, "catalog-", 5))
    status = server.get("Deployment", "shop", "catalog")["status"]
    assert status["readyReplicas"] == 5 and status["observedGeneration"] == 2
    assert server.get("ReplicaSet", "shop", pods_of(server, "catalog-")[0]["metadata"]["ownerReferences"][0][
        "name"])["spec"]["replicas"] == 5
    assert {("shop", p["metadata"]["name"]) for p in pods_of(server, "catalog-")} <= {
        (m["metadata"]["namespace"], m["metadata"]["name"]) for m in server.list("PodMetrics")}
    server.mutate("Deployment", "shop", "catalog", lambda o: scale(o, 1))
    tick()
    assert len(pods_of(server, "catalog-")) == 1
    assert len(pods_of(server, "catalog-", alive=False)) == 5   # four are Terminating for a tick
    tick(until=lambda: settled(server, "catalog-", 1))
    assert server.get("Deployment", "shop", "catalog")["status"]["replicas"] == 1
    reasons = [e["message"] for e in server.list("Event") if e["reason"] == "ScalingReplicaSet"
               and e["involvedObject"]["name"] == "catalog"]
    assert any("to 5 from 2" in m for m in reasons) and any("to 1 from 5" in m for m in reasons)


def test_restarted_at_rolls_pods_onto_a_new_replica_set(live: Any) -> None:
    server, _, tick = live
    before = {p["metadata"]["name"] for p in pods_of(server, "frontend-")}
    old_rs = {p["metadata"]["labels"]["pod-template-hash"] for p in pods_of(server, "frontend-")}

    def restart(obj: dict) -> None:
        obj["spec"]["template"]["metadata"].setdefault("annotations", {})[k.RESTARTED_AT] = k.rfc3339(NOW)

    server.mutate("Deployment", "shop", "frontend", restart)
    tick(until=lambda: settled(server, "frontend-", 3)
         and not {p["metadata"]["name"] for p in pods_of(server, "frontend-")} & before)
    hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in pods_of(server, "frontend-")}
    assert len(hashes) == 1 and hashes.isdisjoint(old_rs)
    (new_hash,) = hashes
    assert server.get("ReplicaSet", "shop", f"frontend-{new_hash}")["spec"]["replicas"] == 3
    (old_hash,) = old_rs
    assert server.get("ReplicaSet", "shop", f"frontend-{old_hash}")["spec"]["replicas"] == 0
    status = server.get("Deployment", "shop", "frontend")["status"]
    assert status["updatedReplicas"] == status["readyReplicas"] == 3


def test_rolling_scenario_progresses_one_pod_per_tick(live: Any) -> None:
    server, _, tick = live
    updated = [server.get("Deployment", *SCENARIOS["rolling"])["status"]["updatedReplicas"]]
    for _ in range(3):
        tick()
        updated.append(server.get("Deployment", *SCENARIOS["rolling"])["status"]["updatedReplicas"])
    assert updated == [2, 3, 4, 4]
    assert not pods_of(server, ROLLING_OLD_RS, alive=False)


def test_deleted_replica_set_pod_is_replaced_under_a_new_name(live: Any) -> None:
    server, _, tick = live
    victim = pods_of(server, "catalog-")[0]["metadata"]["name"]
    server.remove("Pod", "shop", victim)
    tick(until=lambda: settled(server, "catalog-", 2))
    names = {p["metadata"]["name"] for p in pods_of(server, "catalog-")}
    assert victim not in names and len(names) == 2


def test_deleted_stateful_set_pod_comes_back_under_its_name(live: Any) -> None:
    server, _, tick = live
    old_uid = server.get("Pod", "payments", "postgres-1")["metadata"]["uid"]
    server.remove("Pod", "payments", "postgres-1")
    tick(until=lambda: (p := server.get("Pod", "payments", "postgres-1")) is not None
         and p["status"]["phase"] == "Running")
    pod = server.get("Pod", "payments", "postgres-1")
    assert pod["metadata"]["uid"] != old_uid
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "data-postgres-1"


def test_scaling_a_stateful_set_adds_ordinals_with_claims(live: Any) -> None:
    server, _, tick = live
    server.mutate("StatefulSet", "payments", "postgres", lambda o: o["spec"].__setitem__("replicas", 3))
    tick(until=lambda: settled(server, "postgres-", 3, "payments"))
    claim = server.get("PersistentVolumeClaim", "payments", "data-postgres-2")
    assert claim is not None and claim["status"]["phase"] == "Bound"
    assert server.get("StatefulSet", "payments", "postgres")["status"]["readyReplicas"] == 3


def test_cordon_adds_the_taint_and_keeps_new_pods_off(live: Any) -> None:
    server, _, tick = live
    cordoned = "worker-01"
    server.mutate("Node", None, cordoned, lambda o: o["spec"].__setitem__("unschedulable", True))
    tick()
    taints = server.get("Node", None, cordoned)["spec"]["taints"]
    assert {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}.items() <= taints[-1].items()
    before = {p["metadata"]["name"] for p in pods_of(server, "catalog-")}
    server.mutate("Deployment", "shop", "catalog", lambda o: o["spec"].__setitem__("replicas", 12))
    tick(until=lambda: settled(server, "catalog-", 12))
    new = [p for p in pods_of(server, "catalog-") if p["metadata"]["name"] not in before]
    assert len(new) == 10 and cordoned not in {p["spec"]["nodeName"] for p in new}
    server.mutate("Node", None, cordoned, lambda o: o["spec"].pop("unschedulable"))
    tick()
    assert not [t for t in server.get("Node", None, cordoned)["spec"].get("taints", ())
                if t["key"] == UNSCHEDULABLE_TAINT]


def test_crash_loop_keeps_crashing_and_the_back_off_event_counts(live: Any) -> None:
    server, _, tick = live
    ns, name = SCENARIOS["crashloop"]

    def restarts() -> int:
        return server.get("Pod", ns, name)["status"]["containerStatuses"][0]["restartCount"]

    def backoffs() -> int:
        return next(e["count"] for e in server.list("Event")
                    if e["involvedObject"]["name"] == name and e["reason"] == "BackOff")

    counts = (restarts(), backoffs())
    tick(2)
    assert restarts() == counts[0] + 2 and backoffs() == counts[1] + 2
    assert server.last_lines[(ns, name, "cart", True)][-1].startswith("\t/src/cmd/")


def test_restart_container_sets_last_state_and_rotates_logs(live: Any) -> None:
    server, life, _ = live
    ns, name = SCENARIOS["oomkilled"]
    assert life.restart_container(ns, name, now=NOW + 5)
    cs = server.get("Pod", ns, name)["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 4 and cs["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert cs["state"]["running"]["startedAt"] == k.rfc3339(NOW + 5)
    assert server.last_lines[(ns, name, "search", True)][-1] == "Killed"
    pod = pods_of(server, "catalog-")[0]
    assert life.restart_container("shop", pod["metadata"]["name"], now=NOW + 5)
    cs = server.get("Pod", "shop", pod["metadata"]["name"])["status"]["containerStatuses"][0]
    assert cs["lastState"]["terminated"]["exitCode"] == 1


def test_logs_grow_and_metrics_move_every_tick(live: Any) -> None:
    server, _, tick = live
    key = ("shop", pods_of(server, "catalog-")[0]["metadata"]["name"], "catalog", False)
    name = key[1]

    def usage() -> str:
        return next(m for m in server.list("PodMetrics") if m["metadata"]["name"] == name)["containers"][0][
            "usage"]["cpu"]

    seen = [usage()]
    for expected in (1, 2):
        tick()
        assert server.log_lines[key] >= expected
        seen.append(usage())
    assert len(set(seen)) == 3
    node = next(m for m in server.list("NodeMetrics") if m["metadata"]["name"] == "worker-01")
    assert k.parse_time(node["timestamp"]) == NOW + 4


def test_start_and_stop_a_thread_that_wakes_at_once() -> None:
    server = KubeApiServer()
    server.put_many(generate_cluster(seed=3, now=NOW, nodes=3, deployments=4, statefulsets=0, daemonsets=0))
    life = ClusterLife(server, period=3600)
    life.start()
    assert life.running
    started = time.perf_counter()
    life.stop()
    assert not life.running and time.perf_counter() - started < 30.0  # woken, not the 3,600 s period


def test_restarted_at_rolls_stateful_set_pods_under_the_same_names(live: Any) -> None:
    server, _, tick = live
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(server, "postgres-", "payments")}

    def restart(obj: dict) -> None:
        obj["spec"]["template"]["metadata"].setdefault("annotations", {})[k.RESTARTED_AT] = k.rfc3339(NOW)

    server.mutate("StatefulSet", "payments", "postgres", restart)

    def rolled() -> bool:
        status = server.get("StatefulSet", "payments", "postgres")["status"]
        return status["currentRevision"] == status["updateRevision"] and status.get("readyReplicas") == 2

    tick(until=rolled)
    pods = {p["metadata"]["name"]: p for p in pods_of(server, "postgres-", "payments")}
    assert set(pods) == set(uids) and all(pods[n]["metadata"]["uid"] != uids[n] for n in uids)
    revision = server.get("StatefulSet", "payments", "postgres")["status"]["updateRevision"]
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods.values()} == {revision}


def test_progressing_condition_tells_finished_broken_and_stalled_apart(live: Any) -> None:
    server, _, tick = live

    def progress(name: str, namespace: str = "shop") -> str:
        status = server.get("Deployment", namespace, name)["status"]
        return next(c["reason"] for c in status["conditions"] if c["type"] == "Progressing")

    assert progress("cart") == "NewReplicaSetAvailable"            # finished; a pod broke later
    assert progress("fraud-model", "payments") == "ProgressDeadlineExceeded"
    assert progress("checkout") == "ReplicaSetUpdated"
    catalog_rv = server.get("Deployment", "shop", "catalog")["metadata"]["resourceVersion"]
    tick(5)
    assert progress("cart") == "NewReplicaSetAvailable"
    assert progress("fraud-model", "payments") == "ProgressDeadlineExceeded"
    assert progress("checkout") == "NewReplicaSetAvailable"
    # nothing happened to catalog: its status writes were no-ops, no watch event
    assert server.get("Deployment", "shop", "catalog")["metadata"]["resourceVersion"] == catalog_rv


def test_a_rollout_that_cannot_place_its_pods_times_out(live: Any) -> None:
    server, _, tick = live

    def grow(obj: dict) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = "100Gi"
        obj["spec"]["progressDeadlineSeconds"] = 10

    server.mutate("Deployment", "shop", "catalog", grow)
    tick(2)
    pending = [p for p in pods_of(server, "catalog-") if p["status"]["phase"] == "Pending"]
    assert len(pending) == 1 and "Insufficient memory" in pending[0]["status"]["conditions"][0]["message"]
    tick(until=lambda: next(c for c in server.get("Deployment", "shop", "catalog")["status"]["conditions"]
                            if c["type"] == "Progressing")["reason"] == "ProgressDeadlineExceeded", limit=8)

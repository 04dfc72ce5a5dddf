"""Operator-managed clusters (Zalando, CloudNativePG, Percona) read through our Kubernetes
client from the test API server (tui/demo/kube_api/server.py), which serves the three
custom resources like their CRDs do. Nothing is stubbed between the collector and HTTP.

One server for the module; every test works in its own namespace and clears the
faults it injects.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from config.model import KubernetesSettings, OperatorClusterSettings
from providers.ha.kube_operators import OperatorCollector, OperatorUnavailable
from providers.ha.model import PRIMARY, REPLICA, UNKNOWN, Reading
from providers.k8s.client import ReadOnlyViolation
from tests.support.kube import TEST_TOKEN, running_kube_api, write_kubeconfig
from tui.demo.kube_api.server import KubeApiServer

pytestmark = pytest.mark.integration

STAMP = "2026-11-22T10:00:00Z"


# -- objects ------------------------------------------------------------------------------


def db_pod(name: str, namespace: str, labels: Mapping[str, str], *, ip: str, ready: bool = True,
           waiting: str | None = None, restarts: int = 0, last: str | None = None,
           annotations: Mapping[str, str] | None = None, phase: str = "Running",
           containers: Sequence[str] = ("db",)) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting, "message": "back-off restarting"}} if waiting \
        else {"running": {"startedAt": STAMP}}
    statuses = []
    for c in containers:
        cs: dict[str, Any] = {"name": c, "image": f"registry.example/{c}:1", "imageID": "",
                              "ready": ready, "restartCount": restarts, "started": ready, "state": state}
        if last:
            cs["lastState"] = {"terminated": {"reason": last, "exitCode": 1, "finishedAt": STAMP}}
        statuses.append(cs)
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels),
                     "annotations": dict(annotations or {}), "creationTimestamp": STAMP},
        "spec": {"nodeName": "node-1", "containers": [{"name": c, "image": f"registry.example/{c}:1"}
                                                      for c in containers]},
        "status": {"phase": phase, "podIP": ip, "startTime": STAMP,
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                   "containerStatuses": statuses},
    }


def custom(kind: str, api_version: str, name: str, namespace: str, spec: dict[str, Any],
           status: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": STAMP},
            "spec": spec, "status": status}


def patroni(role: str, xlog: int, timeline: int = 4, **more: Any) -> dict[str, str]:
    """The pod annotation Patroni keeps its member key in on Kubernetes."""
    return {"status": json.dumps({"conn_url": "postgres://10.0.0.1:5432/postgres", "state": "running",
                                  "role": role, "version": "3.3.2", "xlog_location": xlog,
                                  "timeline": timeline, **more})}


def spilo(cluster: str, role: str) -> dict[str, str]:
    return {"application": "spilo", "cluster-name": cluster, "spilo-role": role, "team": "acid"}


def cnpg_status(primary: str, target: str | None = None, *, phase: str = "Cluster in healthy state",
                ready: int = 3, failed: Sequence[str] = ()) -> dict[str, Any]:
    names = [f"pg-{i}" for i in (1, 2, 3)]
    healthy = [n for n in names if n not in failed]
    return {"phase": phase, "currentPrimary": primary, "targetPrimary": target or primary,
            "instances": 3, "readyInstances": ready, "timelineID": 2,
            "instancesStatus": {"healthy": healthy, **({"failed": list(failed)} if failed else {})}}


def pxc_status(state: str, ready: int, messages: Sequence[str] = ()) -> dict[str, Any]:
    return {"state": state, "host": "db-haproxy.pxc", "size": 3, "ready": ready,
            "pxc": {"size": 3, "ready": ready, "status": state},
            "haproxy": {"size": 1, "ready": 1, "status": "ready"},
            **({"message": list(messages)} if messages else {})}


def pxc_labels(instance: str, component: str = "pxc") -> dict[str, str]:
    return {"app.kubernetes.io/instance": instance, "app.kubernetes.io/component": component,
            "app.kubernetes.io/name": "percona-xtradb-cluster"}


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kube_server() -> Iterator[KubeApiServer]:
    with running_kube_api(token=TEST_TOKEN) as server:
        yield server


@pytest.fixture
def api(kube_server: KubeApiServer) -> Iterator[KubeApiServer]:
    yield kube_server
    kube_server.clear_faults()


@pytest.fixture
def kube(tmp_path: Path, api: KubeApiServer) -> KubernetesSettings:
    path = write_kubeconfig(tmp_path / "kubeconfig", {"dev": (api.url, TEST_TOKEN)}, current="dev")
    return KubernetesSettings(kubeconfig=(str(path),), timeout=5.0)


@pytest.fixture
async def collect(kube: KubernetesSettings) -> AsyncIterator[Any]:
    """collect(kind, name, namespace, kube=…) -> a collector, closed after the test."""
    made: list[OperatorCollector] = []

    def make(kind: str, name: str, namespace: str, *, settings: KubernetesSettings | None = None,
             context: str | None = None) -> OperatorCollector:
        collector = OperatorCollector(OperatorClusterSettings(kind, name, namespace, context),
                                      settings or kube)
        made.append(collector)
        return collector

    yield make
    for collector in made:
        await collector.close()


def by_name(reading: Reading) -> dict[str, Any]:
    return {m.name: m for m in reading.members}


async def failure(collector: OperatorCollector) -> str:
    with pytest.raises(OperatorUnavailable) as caught:
        await collector.read()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message and TEST_TOKEN not in message
    return message


# -- Zalando -------------------------------------------------------------------------------


async def test_zalando_roles_lag_a_crash_looping_replica_then_sync_failed_and_a_failover(
        api: KubeApiServer, collect: Any) -> None:
    ns = "zalando"
    api.put(custom("postgresql", "acid.zalan.do/v1", "main", ns,
                   {"teamId": "acid", "numberOfInstances": 3, "postgresql": {"version": "16"}},
                   {"PostgresClusterStatus": "Running"}))
    api.put_many([
        db_pod("main-0", ns, spilo("main", "master"), ip="10.1.0.10",
               annotations=patroni("primary", 50_331_648)),
        db_pod("main-1", ns, spilo("main", "replica"), ip="10.1.0.11",
               annotations=patroni("replica", 50_331_648 - 4096, replication_state="streaming")),
        db_pod("main-2", ns, spilo("main", "replica"), ip="10.1.0.12", ready=False,
               waiting="CrashLoopBackOff", restarts=5, last="Error"),
        # The connection pooler and another cluster carry cluster-name too, not application=spilo.
        db_pod("main-pooler-6d9f", ns, {"application": "db-connection-pooler", "cluster-name": "main"},
               ip="10.1.0.20"),
        db_pod("other-0", ns, spilo("other", "master"), ip="10.1.0.30"),
    ])
    collector = collect("zalando", "main", ns)

    reading = await collector.read()
    members = by_name(reading)
    assert sorted(members) == ["main-0", "main-1", "main-2"]
    assert reading.leader == "main-0" and reading.problems == ()
    leader, streaming, crashed = members["main-0"], members["main-1"], members["main-2"]
    assert (leader.role, leader.state, leader.host, leader.port, leader.timeline) == (
        PRIMARY, "running", "10.1.0.10", 5432, 4)
    assert leader.upstream is None and leader.replicating is None
    assert (streaming.role, streaming.state, streaming.upstream, streaming.lag_bytes) == (
        REPLICA, "streaming", "main-0", 4096)
    assert streaming.replicating is True and streaming.reachable
    assert (crashed.role, crashed.state, crashed.reachable, crashed.replicating) == (
        REPLICA, "CrashLoopBackOff", False, False)
    assert "CrashLoopBackOff" in crashed.error and "5 restarts" in crashed.error
    details = dict(crashed.details)
    assert details["node"] == "node-1" and details["restarts"] == "5 (last: Error)"
    assert details["operator"] == "Running" and details["age"] not in ("", "—")

    api.mutate("postgresql", ns, "main", lambda o: o["status"].update(PostgresClusterStatus="SyncFailed"))
    assert (await collector.read()).problems == ("Zalando postgres-operator: SyncFailed",)

    # Patroni promotes main-1: labels and member keys move, the next read follows.
    def promote(obj: dict[str, Any]) -> None:
        obj["metadata"]["labels"]["spilo-role"] = "master"
        obj["metadata"]["annotations"] = patroni("primary", 60_000_000, timeline=5)

    api.mutate("Pod", ns, "main-1", promote)
    api.mutate("Pod", ns, "main-0", lambda o: o["metadata"]["labels"].update({"spilo-role": "replica"}))
    after = await collector.read()
    assert after.leader == "main-1" and by_name(after)["main-1"].timeline == 5
    assert by_name(after)["main-2"].upstream == "main-1"


# -- CloudNativePG ---------------------------------------------------------------------------


def cnpg_pods(ns: str) -> list[dict[str, Any]]:
    def labels(role: str, *, old: bool = False) -> dict[str, str]:
        key = "role" if old else "cnpg.io/instanceRole"
        return {"cnpg.io/cluster": "pg", "cnpg.io/podRole": "instance", key: role}

    return [
        db_pod("pg-1", ns, labels("primary"), ip="10.2.0.1", containers=("postgres",)),
        db_pod("pg-2", ns, labels("replica"), ip="10.2.0.2", containers=("postgres",)),
        db_pod("pg-3", ns, labels("replica", old=True), ip="10.2.0.3", containers=("postgres",)),
        db_pod("pg-1-initdb-x7k2p", ns, {"cnpg.io/cluster": "pg", "cnpg.io/jobRole": "initdb"},
               ip="10.2.0.9", phase="Succeeded", ready=False),
    ]


async def test_cloudnativepg_healthy_then_a_switchover_in_progress_then_a_failed_replica(
        api: KubeApiServer, collect: Any) -> None:
    ns = "cnpg"
    api.put(custom("Cluster", "postgresql.cnpg.io/v1", "pg", ns, {"instances": 3}, cnpg_status("pg-1")))
    api.put_many(cnpg_pods(ns))
    collector = collect("cloudnativepg", "pg", ns)

    reading = await collector.read()
    members = by_name(reading)
    assert sorted(members) == ["pg-1", "pg-2", "pg-3"]  # not the initdb job's pod
    assert reading.leader == "pg-1" and reading.problems == ()
    assert [members[n].role for n in ("pg-1", "pg-2", "pg-3")] == [PRIMARY, REPLICA, REPLICA]
    assert members["pg-1"].timeline == 2 and members["pg-3"].upstream == "pg-1"
    assert all(m.state == "running" and m.reachable for m in reading.members)
    assert dict(members["pg-2"].details)["operator"] == "Cluster in healthy state"

    api.mutate("Cluster", ns, "pg", lambda o: o.update(
        status=cnpg_status("pg-1", "pg-2", phase="Switchover in progress")))
    moving = await collector.read()
    assert moving.problems == ("CloudNativePG: Switchover in progress: primary pg-1 to pg-2",)
    assert moving.leader == "pg-1"  # until the labels move
    assert ("switchover", "taking the primary role from pg-1") in by_name(moving)["pg-2"].details
    assert ("switchover", "handing the primary role to pg-2") in by_name(moving)["pg-1"].details

    def fail_probe(obj: dict[str, Any]) -> None:
        obj["status"]["conditions"][0]["status"] = "False"
        obj["status"]["containerStatuses"][0]["ready"] = False

    api.mutate("Pod", ns, "pg-3", fail_probe)
    api.mutate("Cluster", ns, "pg", lambda o: o.update(status=cnpg_status("pg-1", ready=2, failed=["pg-3"])))
    degraded = await collector.read()
    failed = by_name(degraded)["pg-3"]
    assert (failed.state, failed.reachable, failed.replicating) == ("not ready", False, False)
    assert "not Ready" in failed.error
    assert ("instance status", "failed") in failed.details
    assert degraded.problems == ("CloudNativePG: 2 of 3 instances ready",)


# -- Percona -------------------------------------------------------------------------------------


async def test_percona_every_ready_member_is_a_primary_and_a_member_down_is_a_problem(
        api: KubeApiServer, collect: Any) -> None:
    ns = "pxc"
    api.put(custom("PerconaXtraDBCluster", "pxc.percona.com/v1", "db", ns,
                   {"pxc": {"size": 3}, "haproxy": {"enabled": True, "size": 1}}, pxc_status("ready", 3)))
    api.put_many([db_pod(f"db-pxc-{i}", ns, pxc_labels("db"), ip=f"10.3.0.{i}",
                         containers=("pxc", "logs")) for i in range(3)])
    api.put(db_pod("db-haproxy-0", ns, pxc_labels("db", "haproxy"), ip="10.3.0.50"))
    collector = collect("percona", "db", ns)

    reading = await collector.read()
    assert sorted(by_name(reading)) == ["db-pxc-0", "db-pxc-1", "db-pxc-2"]
    assert reading.leader is None and reading.problems == ()
    assert {(m.role, m.port, m.upstream) for m in reading.members} == {(PRIMARY, 3306, None)}
    assert all(("galera", "multi-primary: every ready member takes writes") in m.details
               for m in reading.members)

    def down(obj: dict[str, Any]) -> None:
        obj["status"]["conditions"][0]["status"] = "False"
        for cs in obj["status"]["containerStatuses"]:
            cs.update(ready=False, state={"waiting": {"reason": "CrashLoopBackOff"}}, restartCount=2)

    api.mutate("Pod", ns, "db-pxc-2", down)
    api.mutate("PerconaXtraDBCluster", ns, "db", lambda o: o.update(
        status=pxc_status("initializing", 2, ["pxc: ready 2 of 3"])))
    degraded = await collector.read()
    lost = by_name(degraded)["db-pxc-2"]
    assert (lost.role, lost.state, lost.reachable) == (UNKNOWN, "CrashLoopBackOff", False)
    assert by_name(degraded)["db-pxc-0"].role == PRIMARY
    assert degraded.problems == ("Percona XtraDB Cluster: initializing: pxc: ready 2 of 3",
                                 "Percona XtraDB Cluster: 2 of 3 pxc members ready")


# -- errors as one line ------------------------------------------------------------------------------


async def test_a_missing_resource_names_it_and_the_setting_to_fix(api: KubeApiServer, collect: Any) -> None:
    message = await failure(collect("zalando", "main", "nowhere"))
    assert message == ("postgresqls.acid.zalan.do nowhere/main not found in context dev "
                       "— check ha.clusters[].kubernetes.name/namespace")


async def test_a_resource_type_not_served_says_the_operator_is_not_installed(
        api: KubeApiServer, collect: Any) -> None:
    # What a server without the CRD answers for the type (no object named in the Status).
    api.fail(404, resource="perconaxtradbclusters",
             message="the server could not find the requested resource")
    message = await failure(collect("percona", "db", "pxc"))
    assert message.startswith("perconaxtradbclusters.pxc.percona.com is not served in context dev: "
                              "the Percona XtraDB Cluster CRD is not installed there")


async def test_forbidden_resource_or_pods_name_the_rbac_to_ask_for(api: KubeApiServer, collect: Any) -> None:
    api.put(custom("Cluster", "postgresql.cnpg.io/v1", "pg", "rbac", {"instances": 1}, cnpg_status("pg-1")))
    api.fail(403, resource="clusters", verb="get", namespace="rbac")
    collector = collect("cloudnativepg", "pg", "rbac")
    assert await failure(collector) == (
        "context dev: forbidden: cannot get clusters.postgresql.cnpg.io in namespace rbac — ask for RBAC "
        "get on clusters.postgresql.cnpg.io")
    api.clear_faults()
    api.fail(403, resource="pods", verb="list", namespace="rbac")
    assert await failure(collector) == (
        "context dev: forbidden: cannot list pods in namespace rbac — ask for RBAC list on pods")


async def test_bad_token_unreachable_server_and_unknown_context(
        tmp_path: Path, api: KubeApiServer, collect: Any) -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path = write_kubeconfig(tmp_path / "two", {"stale": (api.url, "expired-token"),
                                               "gone": (closed, TEST_TOKEN)})
    settings = KubernetesSettings(kubeconfig=(str(path),), timeout=5.0)

    stale = await failure(collect("zalando", "main", "zalando", settings=settings))  # current context
    assert stale.startswith("context stale: unauthorized (401)") and "expired-token" not in stale
    gone = await failure(collect("zalando", "main", "zalando", settings=settings, context="gone"))
    assert gone.startswith(f"context gone: API server unreachable at {closed}")
    missing = await failure(collect("zalando", "main", "zalando", settings=settings, context="prod"))
    assert missing == "context 'prod' is not in the kubeconfig (it has: stale, gone)"


async def test_reads_send_only_gets_and_the_client_refuses_writes(api: KubeApiServer, collect: Any) -> None:
    ns = "readonly"
    api.put(custom("Cluster", "postgresql.cnpg.io/v1", "pg", ns, {"instances": 3}, cnpg_status("pg-1")))
    api.put_many(cnpg_pods(ns))
    collector = collect("cloudnativepg", "pg", ns)
    await collector.read()
    await collector.read()
    ours = [r for r in api.requests if f"/namespaces/{ns}/" in r.path]
    assert len(ours) == 4 and {r.method for r in ours} == {"GET"}
    selectors = [r.query.get("labelSelector") for r in ours if r.path.endswith("/pods")]
    assert selectors == ["cnpg.io/cluster=pg"] * 2
    client = collector._client
    assert client is not None
    with pytest.raises(ReadOnlyViolation):
        client.send("DELETE", f"/apis/postgresql.cnpg.io/v1/namespaces/{ns}/clusters/pg")
    assert api.get("Cluster", ns, "pg") is not None


async def test_a_status_of_an_unknown_shape_is_one_line_not_a_traceback(
        api: KubeApiServer, collect: Any) -> None:
    ns = "oddshape"
    api.put(custom("Cluster", "postgresql.cnpg.io/v1", "pg", ns, {"instances": 1},
                   {**cnpg_status("pg-1"), "instancesReportedState": ["pg-1"]}))
    api.put_many(cnpg_pods(ns))
    message = await failure(collect("cloudnativepg", "pg", ns))
    assert message.startswith("clusters.postgresql.cnpg.io oddshape/pg: unexpected status (AttributeError")
    assert message.endswith("is this CloudNativePG version supported?")

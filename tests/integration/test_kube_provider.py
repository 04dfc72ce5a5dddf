"""The Kubernetes provider against the test API server, through the official client.

Every test talks HTTP to a real aiohttp server speaking the Kubernetes REST and
watch protocol (tui/demo/kube_api/server.py); nothing is stubbed in between.
Waiting is on the provider's `wake` (fired by a watch thread), never a sleep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client

from config.model import KubernetesSettings
from providers.actions import ActionGate, AuditLog, ConfirmRequest
from providers.base import ActionTarget
from providers.k8s.action_specs import CORDON, DELETE_POD, RESTART, SCALE, UNCORDON, target_for
from providers.k8s.client import KubeClient, ReadOnlyViolation, build_api_client
from providers.k8s.provider import KubeUnavailable, KubeViewProvider, build_kube_providers
from providers.k8s.records import KubePod, KubeWorkload
from providers.k8s.snapshot import KubeSnapshot
from tests.support.kube import running_kube_api, write_kubeconfig
from tui.demo.kube_api.server import KubeApiServer

TOKEN = "stacktop-test-token"
STAMP = "2026-11-22T10:00:00Z"


# -- objects (only the fields each test needs, plus what the API requires) -------------


def pod_obj(name: str, namespace: str = "shop", *, node: str = "node-1", phase: str = "Running",
            cpu: str = "250m", memory: str = "256Mi",
            containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name.split("-")[0]},
                     "creationTimestamp": STAMP},
        "spec": {"nodeName": node, "containers": [
            {"name": c, "image": f"registry.example/{c}:1.0",
             "resources": {"requests": {"cpu": cpu, "memory": memory}}} for c in containers]},
        "status": {"phase": phase, "containerStatuses": [
            {"name": c, "image": f"registry.example/{c}:1.0", "imageID": "", "ready": phase == "Running",
             "restartCount": 0, "state": {"running": {"startedAt": STAMP}}} for c in containers]},
    }


def node_obj(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"node-role.kubernetes.io/worker": ""},
                     "creationTimestamp": STAMP},
        "spec": {},
        "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "allocatable": {"cpu": "3800m", "memory": "15Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                   "nodeInfo": {"kubeletVersion": "v1.31.2"}},
    }


def deployment_obj(name: str, namespace: str = "shop", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": STAMP, "generation": 1},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": f"{name}:1"}]}}},
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas,
                   "updatedReplicas": replicas, "availableReplicas": replicas},
    }


def statefulset_obj(name: str, namespace: str = "shop") -> dict[str, Any]:
    obj = deployment_obj(name, namespace, 1)
    obj["kind"] = "StatefulSet"
    obj["spec"]["serviceName"] = name
    return obj


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[KubeApiServer]:
    with running_kube_api(token=TOKEN, bookmark_interval=0.2) as server:
        yield server


def settings_for(tmp_path: Path, server: KubeApiServer, **changes: Any) -> KubernetesSettings:
    path = write_kubeconfig(tmp_path / "kubeconfig", {"dev": (server.url, TOKEN)}, current="dev")
    base = KubernetesSettings(kubeconfig=(str(path),), refresh=0.05, metrics_interval=1.0,
                              timeout=5.0, page_size=10)
    return dataclasses.replace(base, **changes)


class Providers:
    """The five view providers with their wakes turned into an awaitable event."""

    def __init__(self, settings: KubernetesSettings, *, read_only: bool = False) -> None:
        built = build_kube_providers(settings, read_only=read_only)
        self.by_view: dict[str, KubeViewProvider] = {p.view: p for p in built}  # type: ignore[attr-defined]
        self.woken = asyncio.Event()
        loop = asyncio.get_running_loop()
        for provider in built:
            provider.wake = lambda: loop.call_soon_threadsafe(self.woken.set)

    def __getitem__(self, view: str) -> KubeViewProvider:
        return self.by_view[view]

    async def until(self, view: str, check: Callable[[KubeSnapshot], bool],
                    timeout: float = 10.0) -> KubeSnapshot:
        """Poll after each watch wake until `check` holds (the screen's view of it)."""
        async with asyncio.timeout(timeout):
            while True:
                self.woken.clear()
                try:
                    snapshot = await self.by_view[view].poll()
                except KubeUnavailable:
                    snapshot = None
                if snapshot is not None and check(snapshot):
                    return snapshot
                await self.woken.wait()

    async def close(self) -> None:
        for provider in self.by_view.values():
            await provider.close()


@pytest.fixture
async def make_providers() -> Any:
    made: list[Providers] = []

    def make(settings: KubernetesSettings, *, read_only: bool = False) -> Providers:
        providers = Providers(settings, read_only=read_only)
        made.append(providers)
        return providers

    yield make
    for providers in made:
        await providers.close()


def pods_of(snapshot: KubeSnapshot) -> dict[str, KubePod]:
    return {p.name: p for p in snapshot.items if isinstance(p, KubePod)}


def requests(server: KubeApiServer, method: str, fragment: str) -> list[Any]:
    return [r for r in server.requests if r.method == method and fragment in r.path]


# -- list + watch ------------------------------------------------------------------------


async def test_initial_list_is_paginated_then_a_watch_starts_from_its_version(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put_many(pod_obj(f"web-{i:02d}") for i in range(25))
    providers = make_providers(settings_for(tmp_path, api, page_size=10))
    snapshot = await providers.until("pods", lambda s: len(s.items) == 25)
    assert sorted(pods_of(snapshot)) == [f"web-{i:02d}" for i in range(25)]
    await api.wait_for_watchers("pods")
    lists = [r for r in requests(api, "GET", "/api/v1/pods") if r.query.get("watch") is None]
    assert [r.query.get("limit") for r in lists] == ["10", "10", "10"]
    assert "continue" not in lists[0].query and all(r.query.get("continue") for r in lists[1:])
    watches = [r for r in requests(api, "GET", "/api/v1/pods") if r.query.get("watch") == "true"]
    assert watches and watches[0].query["resourceVersion"] == str(api.resource_version())
    assert watches[0].query["allowWatchBookmarks"] == "true"


async def test_watch_events_reach_the_store_without_a_relist(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    from providers.runtime import Runtime
    from providers.store import Store

    api.put(pod_obj("cart-1"))
    providers = make_providers(settings_for(tmp_path, api))
    await providers.until("pods", lambda s: "cart-1" in pods_of(s))
    store = Store(history_points=10)
    runtime = Runtime([providers["pods"]], store)
    updated = asyncio.Event()
    runtime.subscribe(lambda name: updated.set())
    runtime.start()
    try:
        lists_before = len([r for r in requests(api, "GET", "/api/v1/pods") if "watch" not in r.query])

        def crash(obj: dict[str, Any]) -> None:
            obj["status"]["containerStatuses"][0].update(
                ready=False, restartCount=3, state={"waiting": {"reason": "CrashLoopBackOff"}},
                lastState={"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": STAMP}})

        api.mutate("Pod", "shop", "cart-1", crash)
        api.put(pod_obj("cart-2"))
        async with asyncio.timeout(10):
            while True:
                updated.clear()
                latest = store.latest("k8s.pods")
                pods = pods_of(latest.snapshot) if latest is not None else {}  # type: ignore[arg-type]
                if "cart-2" in pods and pods["cart-1"].status == "CrashLoopBackOff":
                    break
                await updated.wait()
        assert pods["cart-1"].restarts == 3 and pods["cart-1"].last_restart_reason == "Error"
        api.remove("Pod", "shop", "cart-2")
        async with asyncio.timeout(10):  # the runtime owns the wake now: wait on the Store
            while "cart-2" in pods:
                updated.clear()
                latest = store.latest("k8s.pods")
                pods = pods_of(latest.snapshot) if latest is not None else {}  # type: ignore[arg-type]
                if "cart-2" in pods:
                    await updated.wait()
        lists_after = len([r for r in requests(api, "GET", "/api/v1/pods") if "watch" not in r.query])
        assert lists_after == lists_before  # changes came by watch, not by listing again
    finally:
        await runtime.stop()


async def test_gone_resource_version_relists_and_keeps_showing_data(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(pod_obj("web-1"))
    providers = make_providers(settings_for(tmp_path, api))
    await providers.until("pods", lambda s: "web-1" in pods_of(s))
    await api.wait_for_watchers("pods")
    # The watch drops and cannot come back for a while; meanwhile the history it
    # would resume from is compacted away, so its version is Gone on return.
    api.fail(503, resource="pods", verb="watch")
    api.drop_watches()
    await providers.until("pods", lambda s: bool(s.problems()))
    api.put(pod_obj("web-2"))
    api.compact()
    api.clear_faults()
    snapshot = await providers.until(
        "pods", lambda s: "web-2" in pods_of(s) and s.statuses[0].relists >= 1)
    assert snapshot.statuses[0].error is None
    assert "web-1" in pods_of(snapshot)


async def test_a_dropped_watch_reconnects_from_its_last_version(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(pod_obj("web-1"))
    providers = make_providers(settings_for(tmp_path, api))
    await providers.until("pods", lambda s: "web-1" in pods_of(s))
    version = api.resource_version()
    api.drop_watches()
    api.put(pod_obj("web-2"))
    snapshot = await providers.until("pods", lambda s: "web-2" in pods_of(s))
    assert snapshot.statuses[0].relists == 0
    rewatch = [r for r in requests(api, "GET", "/api/v1/pods") if r.query.get("watch") == "true"][-1]
    assert int(rewatch.query["resourceVersion"]) >= version


async def test_forbidden_on_one_type_is_one_line_and_the_rest_keeps_working(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.fail(403, resource="deployments")
    api.put(deployment_obj("cart"))
    api.put(statefulset_obj("db"))
    api.put(pod_obj("cart-1"))
    providers = make_providers(settings_for(tmp_path, api))
    snapshot = await providers.until(
        "workloads", lambda s: any(st.error for st in s.statuses) and len(s.items) == 1)
    assert [w.kind for w in snapshot.items if isinstance(w, KubeWorkload)] == ["StatefulSet"]
    problems = snapshot.problems()
    assert problems == ["dev: deployments: forbidden: cannot list deployments at cluster scope — "
                        "ask for RBAC list on deployments"]
    pods = await providers.until("pods", lambda s: "cart-1" in pods_of(s))
    assert not pods.problems()
    api.clear_faults()
    healed = await providers.until("workloads", lambda s: len(s.items) == 2, timeout=15)
    assert not healed.problems()


async def test_wrong_token_fails_the_view_with_the_fix(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    path = write_kubeconfig(tmp_path / "kubeconfig", {"dev": (api.url, "wrong-token")}, current="dev")
    providers = make_providers(KubernetesSettings(kubeconfig=(str(path),), refresh=0.05, timeout=5.0))
    with pytest.raises(KubeUnavailable, match=r"dev: unauthorized \(401\).*renew the token"):
        await _first_failure(providers, "pods")


async def _first_failure(providers: Providers, view: str) -> None:
    """Poll until the view fails as a whole (the watch thread has reported)."""
    async with asyncio.timeout(10):
        while True:
            providers.woken.clear()
            await providers[view].poll()
            await providers.woken.wait()


async def test_unreachable_api_server_says_so(tmp_path: Path, make_providers: Any) -> None:
    from tests.support.aws import unused_local_url

    url = unused_local_url()
    path = write_kubeconfig(tmp_path / "kubeconfig", {"dev": (url, TOKEN)}, current="dev")
    providers = make_providers(KubernetesSettings(kubeconfig=(str(path),), refresh=0.05, timeout=2.0))
    with pytest.raises(KubeUnavailable, match=rf"API server unreachable at {url}.*check the cluster address"):
        await _first_failure(providers, "nodes")


async def test_missing_context_names_the_ones_there_are(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    providers = make_providers(settings_for(tmp_path, api, contexts=("prod",)))
    with pytest.raises(KubeUnavailable, match=r"context 'prod' is not in the kubeconfig \(it has: dev\)"):
        await providers["pods"].poll()


async def test_two_contexts_side_by_side_and_a_namespace_filter(
        tmp_path: Path, make_providers: Any) -> None:
    with running_kube_api(token=TOKEN) as one, running_kube_api(token=TOKEN) as two:
        one.put(pod_obj("web-1", "shop"))
        one.put(pod_obj("agent-1", "monitoring"))
        two.put(pod_obj("web-1", "shop"))
        contexts = {"prod": (one.url, TOKEN), "staging": (two.url, TOKEN)}
        path = write_kubeconfig(tmp_path / "kubeconfig", contexts, current="prod")
        settings = KubernetesSettings(kubeconfig=(str(path),), contexts=("prod", "staging"),
                                      namespaces=("shop",), refresh=0.05, timeout=5.0)
        providers = make_providers(settings)
        snapshot = await providers.until("pods", lambda s: len(s.items) == 2)
        assert sorted(p.key for p in snapshot.items) == ["prod/shop/web-1", "staging/shop/web-1"]
        pod_reads = [r.path for r in one.requests if r.path.endswith("/pods")]
        assert pod_reads and all("/namespaces/shop/pods" in path for path in pod_reads)


# -- nodes: requested and used ------------------------------------------------------------


async def test_nodes_show_requested_from_pods_and_used_from_metrics(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(node_obj("node-1"))
    api.put(pod_obj("a", cpu="500m", memory="1Gi"))
    api.put(pod_obj("b", cpu="250m", memory="512Mi"))
    api.put(pod_obj("done", phase="Succeeded", cpu="2", memory="4Gi"))
    api.put({"apiVersion": "metrics.k8s.io/v1beta1", "kind": "NodeMetrics",
             "metadata": {"name": "node-1", "creationTimestamp": STAMP}, "timestamp": STAMP, "window": "30s",
             "usage": {"cpu": "1200m", "memory": "6Gi"}})
    providers = make_providers(settings_for(tmp_path, api))
    snapshot = await providers.until("nodes", lambda s: bool(s.items) and "dev/node-1" in s.usage
                                     and "dev/node-1" in s.requested)
    assert snapshot.requested["dev/node-1"].cpu == pytest.approx(0.75)
    assert snapshot.requested["dev/node-1"].memory == 1.5 * 2**30
    assert snapshot.usage["dev/node-1"].cpu == pytest.approx(1.2)
    assert snapshot.items[0].cpu_allocatable == pytest.approx(3.8)


async def test_pod_usage_history_grows_and_missing_metrics_api_is_one_line(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(pod_obj("web-1"))

    def metrics(cpu: str) -> dict[str, Any]:
        return {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
                "metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": STAMP},
                "timestamp": STAMP, "window": "30s",
                "containers": [{"name": "app", "usage": {"cpu": cpu, "memory": "100Mi"}}]}

    api.put(metrics("100m"))
    providers = make_providers(settings_for(tmp_path, api, metrics_interval=1.0))
    pods = providers["pods"]
    pods.metrics_interval = 0.0  # every poll reads metrics: the test drives the clock
    await providers.until("pods", lambda s: "dev/shop/web-1" in s.usage)
    api.put(metrics("300m"))
    snapshot = await pods.poll()
    cpu, memory = snapshot.usage_series("dev/shop/web-1")
    assert list(cpu)[-2:] == [pytest.approx(0.1), pytest.approx(0.3)]
    assert memory[-1] == 100 * 2**20
    # The pods are watched by now, so failing `list pods` only hits metrics.k8s.io reads.
    api.fail(404, resource="pods", verb="list")
    snapshot = await pods.poll()
    assert snapshot.problems() == [
        "dev: metrics: metrics.k8s.io not served (install metrics-server for CPU/memory in use)"]
    assert "web-1" in pods_of(snapshot)


# -- actions: the request each sends, and its audit record ------------------------------------


@pytest.fixture
async def acting(tmp_path: Path, api: KubeApiServer, make_providers: Any) -> Any:
    api.put(node_obj("node-1"))
    api.put(deployment_obj("cart", replicas=2))
    api.put(pod_obj("cart-1"))
    providers = make_providers(settings_for(tmp_path, api))
    await providers.until("workloads", lambda s: len(s.items) == 1)
    await providers.until("pods", lambda s: len(s.items) == 1)
    await providers.until("nodes", lambda s: len(s.items) == 1)
    audit = AuditLog(tmp_path / "audit.jsonl")
    gate = ActionGate({p.name: p for p in providers.by_view.values()}, audit, read_only=False,
                      role="operator", user="alice", refresh=lambda name: None)
    return providers, gate, audit


async def _run(providers: Providers, gate: ActionGate, view: str, spec: Any, answer: Any,
               **params: str) -> Any:
    snapshot = await providers[view].poll()
    target = target_for(snapshot.items[0])
    assert target is not None
    target = dataclasses.replace(target, params=params)
    prompts: list[ConfirmRequest] = []

    async def confirm(request: ConfirmRequest) -> Any:
        prompts.append(request)
        return answer

    return await gate.execute(spec, target, confirm), prompts


def _audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_scale_patches_the_scale_subresource_and_is_audited(acting: Any, api: KubeApiServer) -> None:
    providers, gate, audit = acting
    result, prompts = await _run(providers, gate, "workloads", SCALE, "cart", replicas="5")
    assert result.outcome.value == "ok", result.message
    assert "replicas → 5" in prompts[0].prompt and prompts[0].must_type == "cart"  # disruptive
    (sent,) = requests(api, "PATCH", "/scale")
    assert sent.path == "/apis/apps/v1/namespaces/shop/deployments/cart/scale"
    assert sent.body == {"spec": {"replicas": 5}}
    assert api.get("Deployment", "shop", "cart")["spec"]["replicas"] == 5
    record = _audit(audit.path)[-1]
    assert record["action"] == "k8s.scale" and record["params"] == {"replicas": "5"}
    assert record["result"] == "ok" and record["target"]["id"] == "dev/shop/Deployment/cart"
    await providers.until("workloads", lambda s: s.items[0].desired == 5)


async def test_scale_refuses_a_bad_number_before_any_request(acting: Any, api: KubeApiServer) -> None:
    providers, gate, _ = acting
    result, _ = await _run(providers, gate, "workloads", SCALE, "cart", replicas="1001")
    assert result.outcome.value == "failed"
    assert "replicas must be a whole number from 0 to 1000, got 1001" in result.message
    assert not requests(api, "PATCH", "/scale")


async def test_rollout_restart_patches_the_template_annotation_like_kubectl(
        acting: Any, api: KubeApiServer) -> None:
    providers, gate, _ = acting
    result, prompts = await _run(providers, gate, "workloads", RESTART, True)  # a y is not the name
    assert result.outcome.value == "cancelled" and prompts[0].must_type == "cart"
    assert not requests(api, "PATCH", "/deployments/cart")
    result, _ = await _run(providers, gate, "workloads", RESTART, "cart")
    assert result.outcome.value == "ok", result.message
    (sent,) = requests(api, "PATCH", "/deployments/cart")
    assert sent.content_type.startswith("application/strategic-merge-patch+json")
    stamp = sent.body["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert stamp.endswith("Z")
    snapshot = await providers.until("workloads", lambda s: s.items[0].restarted_at == stamp)
    assert snapshot.items[0].generation == 2


async def test_delete_pod_needs_the_typed_name(acting: Any, api: KubeApiServer) -> None:
    providers, gate, audit = acting
    result, prompts = await _run(providers, gate, "pods", DELETE_POD, "cart")
    assert result.outcome.value == "cancelled" and prompts[0].must_type == "cart-1"
    assert not requests(api, "DELETE", "/pods/")
    result, _ = await _run(providers, gate, "pods", DELETE_POD, "cart-1")
    assert result.outcome.value == "ok", result.message
    (sent,) = requests(api, "DELETE", "/pods/")
    assert sent.path == "/api/v1/namespaces/shop/pods/cart-1"
    await providers.until("pods", lambda s: not s.items)
    assert [r["result"] for r in _audit(audit.path)] == ["cancelled", "ok"]


async def test_cordon_and_uncordon_patch_spec_unschedulable(acting: Any, api: KubeApiServer) -> None:
    providers, gate, _ = acting
    result, _ = await _run(providers, gate, "nodes", CORDON, True)
    assert result.outcome.value == "ok", result.message
    await providers.until("nodes", lambda s: s.items[0].unschedulable)
    result, _ = await _run(providers, gate, "nodes", UNCORDON, True)
    assert result.outcome.value == "ok", result.message
    await providers.until("nodes", lambda s: not s.items[0].unschedulable)
    bodies = [r.body for r in requests(api, "PATCH", "/api/v1/nodes/node-1")]
    assert bodies == [{"spec": {"unschedulable": True}}, {"spec": {"unschedulable": None}}]


# -- read-only inside the client -------------------------------------------------------------


async def test_read_only_client_sends_no_mutating_verb(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(pod_obj("cart-1"))
    settings = settings_for(tmp_path, api)
    providers = make_providers(settings, read_only=True)
    snapshot = await providers.until("pods", lambda s: len(s.items) == 1)
    # Below the gate: the provider's own action code is refused inside the client.
    target = target_for(snapshot.items[0])
    assert target is not None
    result = await providers["pods"].action_callable(DELETE_POD.id)(target)
    assert not result.ok and "read-only: refused DELETE /api/v1/namespaces/shop/pods/cart-1" in result.message
    # And any request built on the same ApiClient, even the official typed API.
    client = KubeClient("dev", build_api_client(settings, "dev"), read_only=True, timeout=5.0)
    with pytest.raises(ReadOnlyViolation):
        k8s_client.CoreV1Api(client.api).delete_namespaced_pod("cart-1", "shop")
    with pytest.raises(ReadOnlyViolation):
        client.send("PATCH", "/api/v1/nodes/node-1", {"spec": {"unschedulable": True}})
    assert k8s_client.CoreV1Api(client.api).list_namespaced_pod("shop").items[0].metadata.name == "cart-1"
    assert {r.method for r in api.requests} == {"GET"}
    assert api.get("Pod", "shop", "cart-1") is not None


# -- logs --------------------------------------------------------------------------------------


async def test_logs_follow_new_lines_and_stop_when_closed(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(pod_obj("cart-1", containers=("app", "sidecar")))
    api.append_log("shop", "cart-1", "app", ["one", "two"])
    providers = make_providers(settings_for(tmp_path, api))
    snapshot = await providers.until("pods", lambda s: len(s.items) == 1)
    pod = snapshot.items[0]
    assert isinstance(pod, KubePod)
    stream = providers["pods"].logs(pod, "app")
    seen: list[str] = []
    async with asyncio.timeout(10):
        while len(seen) < 2:
            seen += await anext(stream)
        api.append_log("shop", "cart-1", "app", ["three"])
        while len(seen) < 3:
            seen += await anext(stream)
    assert seen == ["one", "two", "three"]
    await stream.aclose()
    log_request = requests(api, "GET", "/pods/cart-1/log")[0]
    assert log_request.query["container"] == "app" and log_request.query["follow"] == "true"


async def test_previous_logs_and_their_absence(
        tmp_path: Path, api: KubeApiServer, make_providers: Any) -> None:
    api.put(pod_obj("cart-1"))
    api.append_log("shop", "cart-1", "app", ["panic: nil map"], previous=True)
    providers = make_providers(settings_for(tmp_path, api))
    snapshot = await providers.until("pods", lambda s: len(s.items) == 1)
    pod = snapshot.items[0]
    assert isinstance(pod, KubePod)
    lines = [line async for batch in providers["pods"].logs(pod, "app", previous=True) for line in batch]
    assert lines == ["panic: nil map"]
    api.put(pod_obj("web-1"))
    web = dataclasses.replace(pod, name="web-1")
    with pytest.raises(RuntimeError, match=r'previous terminated container "app" in pod "web-1" not found'):
        async for _ in providers["pods"].logs(web, "app", previous=True):
            pass


def test_target_for_workloads_carries_kind_and_current_replicas() -> None:
    workload = KubeWorkload("dev", "shop", "cart", "Deployment", desired=3)
    target = target_for(workload)
    assert isinstance(target, ActionTarget)
    assert target.details["replicas"] == "3" and target.details["kind"] == "Deployment"


async def test_providers_built_for_watch_and_snapshot_are_read_only(
        tmp_path: Path, api: KubeApiServer) -> None:
    from config import load_settings
    from providers.registry import build_providers

    api.put(pod_obj("cart-1"))
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"dev": (api.url, TOKEN)}, current="dev")
    config = tmp_path / "c.yaml"
    config.write_text("providers:\n  host: {enabled: false}\n  kubernetes:\n    enabled: true\n"
                      f"    kubeconfig: [{kubeconfig}]\n")
    settings = load_settings(str(config), env={"HOME": str(tmp_path)})
    built = {p.name: p for p in build_providers(settings)}  # what watch, snapshot and check build
    kube = sorted(n for n in built if n.startswith("k8s."))
    assert kube == ["k8s.events", "k8s.nodes", "k8s.pods", "k8s.pvcs", "k8s.workloads"]
    # the bundled rules, evaluated passively, cost per namespace, and the cluster's security findings
    assert set(built) - set(kube) == {"alerts", "costs", "security"}
    pods = built["k8s.pods"]
    try:
        target = ActionTarget("pod", "dev/shop/cart-1", "cart-1",
                              {"context": "dev", "namespace": "shop", "name": "cart-1"})
        result = await pods.action_callable(DELETE_POD.id)(target)
        assert not result.ok and result.message.startswith("read-only: refused DELETE")
        assert api.get("Pod", "shop", "cart-1") is not None
    finally:
        for provider in built.values():
            await provider.close()

"""Namespace costs from the real k8s.nodes and k8s.pods providers against the test API server.

The providers run under the Runtime and feed a Store, as in the console; the test
reads the nodes and pods out of the Store the way the costs provider does and
prices them. Waiting is on the Store's updates (each follows a watch wake), never a sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.model import KubeCostSettings, KubernetesSettings
from providers.costs.kube_costs import IDLE, KubeCostMeter, NamespaceRate, namespace_costs
from providers.k8s.provider import build_kube_providers
from providers.k8s.records import KubeNode, KubePod
from providers.runtime import Runtime
from providers.store import Store
from tests.support.kube import running_kube_api, write_kubeconfig
from tui.demo.kube_api.server import KubeApiServer

TOKEN = "stacktop-test-token"
STAMP = "2026-11-22T10:00:00Z"
SETTINGS = KubeCostSettings(cpu_hour=0.04, memory_gib_hour=0.005)
PRICES = {("eu-west-1", "m5.xlarge"): 0.192}


def node_obj(name: str, labels: dict[str, str], cpu: str, memory: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels},
                     "creationTimestamp": STAMP},
        "spec": {},
        "status": {"capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
                   "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                   "nodeInfo": {"kubeletVersion": "v1.31.2"}},
    }


def pod_obj(namespace: str, name: str, node: str | None, *requests: tuple[str, str],
            phase: str = "Running") -> dict[str, Any]:
    """One container per (cpu, memory) request pair."""
    containers = [{"name": f"c{i}", "image": "registry.example/app:1.0",
                   "resources": {"requests": {"cpu": cpu, "memory": memory}}}
                  for i, (cpu, memory) in enumerate(requests)]
    spec: dict[str, Any] = {"containers": containers}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": STAMP},
        "spec": spec,
        "status": {"phase": phase, "containerStatuses": [
            {"name": c["name"], "image": c["image"], "imageID": "", "ready": phase == "Running",
             "restartCount": 0, "state": {"running": {"startedAt": STAMP}}} for c in containers]},
    }


@pytest.fixture
def api() -> Iterator[KubeApiServer]:
    with running_kube_api(token=TOKEN, bookmark_interval=0.2) as server:
        yield server


def node_hourly(region: str, instance_type: str) -> float | None:
    return PRICES.get((region, instance_type))


def items(store: Store, name: str) -> tuple[Any, ...]:
    """What the costs provider reads: the items of a provider's latest snapshot in the Store."""
    stored = store.latest(name)
    return () if stored is None else tuple(getattr(stored.snapshot, "items", ()))


async def until(store: Store, runtime: Runtime, check: Callable[[], bool], timeout: float = 10.0) -> None:
    updated = asyncio.Event()
    unsubscribe = runtime.subscribe(lambda name: updated.set())
    try:
        async with asyncio.timeout(timeout):
            while not check():
                updated.clear()
                await updated.wait()
    finally:
        unsubscribe()


def figures(rates: list[NamespaceRate]) -> list[tuple[str, int, float, float, float]]:
    return [(r.namespace, r.pods, round(r.cpu_request, 6), round(r.memory_request / 2 ** 30, 6),
             round(r.hourly, 9)) for r in rates]


async def test_namespace_costs_from_the_providers_in_the_store(tmp_path: Path, api: KubeApiServer) -> None:
    api.put(node_obj("node-a", {"node.kubernetes.io/instance-type": "m5.xlarge",
                                "topology.kubernetes.io/region": "eu-west-1"}, "4", "16Gi"))
    api.put(node_obj("node-b", {"beta.kubernetes.io/instance-type": "x9.unpriced",
                                "failure-domain.beta.kubernetes.io/region": "eu-west-1"}, "2", "8Gi"))
    api.put_many([
        pod_obj("shop", "web-1", "node-a", ("1", "2Gi")),
        pod_obj("shop", "web-2", "node-b", ("250m", "512Mi"), ("250m", "512Mi")),
        pod_obj("monitoring", "agent-1", "node-a", ("250m", "512Mi")),
        pod_obj("batch", "job-1", "node-a", ("2", "4Gi"), phase="Succeeded"),
        pod_obj("shop", "queued-1", None, ("4", "8Gi"), phase="Pending"),
    ])
    path = write_kubeconfig(tmp_path / "kubeconfig", {"dev": (api.url, TOKEN)}, current="dev")
    kube = KubernetesSettings(kubeconfig=(str(path),), refresh=0.05, metrics_interval=60.0, timeout=5.0)
    providers = [p for p in build_kube_providers(kube, read_only=True)
                 if p.name in ("k8s.nodes", "k8s.pods")]
    store = Store(history_points=10)
    runtime = Runtime(providers, store)
    runtime.start()
    try:
        await until(store, runtime, lambda: len(items(store, "k8s.nodes")) == 2
                    and len(items(store, "k8s.pods")) == 5)
        nodes, pods = items(store, "k8s.nodes"), items(store, "k8s.pods")
        assert all(isinstance(n, KubeNode) for n in nodes) and all(isinstance(p, KubePod) for p in pods)
        rates = namespace_costs(nodes, pods, node_hourly=node_hourly, settings=SETTINGS)
        # node-a: 0.192 known (0.032 per vCPU, 0.004 per GiB); node-b: unpriced, 2 x 0.04 + 8 x 0.005.
        assert figures(rates) == [
            ("shop", 2, 1.5, 3.0, 0.065),          # 0.032 + 0.008 on a, 0.02 + 0.005 on b
            ("monitoring", 1, 0.25, 0.5, 0.01),    # 0.008 + 0.002 on a
            (IDLE, 0, 4.25, 20.5, 0.237),           # (0.192 - 0.05) + (0.12 - 0.025)
        ]
        assert {r.context for r in rates} == {"dev"}

        # A new pod arrives by watch; the next reading prices it, and the meter accrues it.
        meter = KubeCostMeter(max_gap=7200)
        t0 = 1_794_355_200.0  # 2026-11-11T00:00:00Z: 240 hours of a 720-hour month
        first = {c.namespace: c for c in meter.update(rates, t0)}
        assert round(first["shop"].month_to_date, 9) == round(0.065 * 240, 9)
        api.put(pod_obj("search", "index-1", "node-a", ("2", "4Gi")))
        await until(store, runtime, lambda: len(items(store, "k8s.pods")) == 6)
        rates = namespace_costs(items(store, "k8s.nodes"), items(store, "k8s.pods"),
                                node_hourly=node_hourly, settings=SETTINGS)
        assert figures(rates)[0] == ("search", 1, 2.0, 4.0, 0.08)  # 2 x 0.032 + 4 x 0.004
        assert figures(rates)[-1] == (IDLE, 0, 2.25, 16.5, 0.157)
        later = {c.namespace: c for c in meter.update(rates, t0 + 3600)}
        assert round(later["shop"].month_to_date, 9) == round(0.065 * 241, 9)
        assert round(later["search"].month_to_date, 9) == round(0.08 * 241, 9)
        assert round(later[IDLE].month_to_date, 9) == round(0.237 * 241, 9)
    finally:
        await runtime.stop()

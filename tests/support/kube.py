"""Kubernetes test infrastructure: the test API server, kubeconfig files, minimal objects.

Every test talks to :class:`~tui.demo.kube_api.server.KubeApiServer` through the official
``kubernetes`` client, configured from a kubeconfig file the way stacktop's users configure
it (``load_kube_config``), never by poking the client's globals.

The builders give the smallest objects the client's (pydantic, strict) models accept;
realistic clusters come from ``tui.demo.kube_api.cluster``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from tui.demo.kube_api.server import KubeApiServer

TEST_TOKEN = "stacktop-test-token"


@contextlib.contextmanager
def running_kube_api(**kw: Any) -> Iterator[KubeApiServer]:
    """A started server (keyword arguments go to KubeApiServer), stopped afterwards."""
    server = KubeApiServer(**kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write_kubeconfig(path: Path | str, contexts: Mapping[str, tuple[str, str | None]],
                     current: str | None = None, namespace: str | None = None) -> Path:
    """A kubeconfig with one cluster and user per context (name → (server url, token or None))."""
    path = Path(path)
    clusters, users, ctxs = [], [], []
    for name, (server, token) in contexts.items():
        clusters.append({"name": name, "cluster": {"server": server}})
        users.append({"name": f"{name}-user", "user": {"token": token} if token else {}})
        context: dict[str, str] = {"cluster": name, "user": f"{name}-user"}
        if namespace:
            context["namespace"] = namespace
        ctxs.append({"name": name, "context": context})
    doc = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": clusters, "users": users,
           "contexts": ctxs, "current-context": current or next(iter(contexts), "")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def api_client(kubeconfig: Path | str, context: str | None = None) -> client.ApiClient:
    """An ApiClient loaded from a kubeconfig file, leaving the library's default configuration alone."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context=context,
                            client_configuration=configuration, persist_config=False)
    return client.ApiClient(configuration)


def minimal_namespace(name: str) -> dict[str, Any]:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def minimal_pod(name: str, namespace: str = "default", *, containers: Sequence[str] = ("app",),
                labels: Mapping[str, str] | None = None, node: str | None = "node-1",
                phase: str = "Running") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c, "image": f"example/{c}:1.0"} for c in containers],
                            "restartPolicy": "Always"}
    if node:
        spec["nodeName"] = node
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "spec": spec,
            "status": {"phase": phase, "containerStatuses": [
                {"name": c, "image": f"example/{c}:1.0", "imageID": "", "ready": phase == "Running",
                 "restartCount": 0, "started": phase == "Running",
                 "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}} for c in containers]}}


def minimal_node(name: str, *, unschedulable: bool = False,
                 labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"unschedulable": True} if unschedulable else {}
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": spec,
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status"}],
                       "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                       "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110"}}}


def minimal_deployment(name: str, namespace: str = "default", *, replicas: int = 2,
                       labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    match = {"app": name, **(labels or {})}
    return {"kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(match)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(match)},
                     "template": {"metadata": {"labels": dict(match)},
                                  "spec": {"containers": [{"name": name, "image": f"example/{name}:1.0"}]}}},
            "status": {"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas,
                       "availableReplicas": replicas, "observedGeneration": 1}}

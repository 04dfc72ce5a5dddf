"""The resource types stacktop reads, as data: where each lives in the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Kind:
    resource: str  # plural, as in the URL and in RBAC rules
    prefix: str  # "/api/v1" or "/apis/<group>/<version>"
    namespaced: bool
    kind: str

    def list_path(self, namespace: str | None = None) -> str:
        if self.namespaced and namespace:
            return f"{self.prefix}/namespaces/{quote(namespace, safe='')}/{self.resource}"
        return f"{self.prefix}/{self.resource}"

    def object_path(self, namespace: str | None, name: str) -> str:
        return f"{self.list_path(namespace)}/{quote(name, safe='')}"


NODES = Kind("nodes", "/api/v1", False, "Node")
PODS = Kind("pods", "/api/v1", True, "Pod")
EVENTS = Kind("events", "/api/v1", True, "Event")
PVCS = Kind("persistentvolumeclaims", "/api/v1", True, "PersistentVolumeClaim")
DEPLOYMENTS = Kind("deployments", "/apis/apps/v1", True, "Deployment")
STATEFULSETS = Kind("statefulsets", "/apis/apps/v1", True, "StatefulSet")
DAEMONSETS = Kind("daemonsets", "/apis/apps/v1", True, "DaemonSet")
NODE_METRICS = Kind("nodes", "/apis/metrics.k8s.io/v1beta1", False, "NodeMetrics")
POD_METRICS = Kind("pods", "/apis/metrics.k8s.io/v1beta1", True, "PodMetrics")

WORKLOAD_KINDS = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFULSETS, "DaemonSet": DAEMONSETS}

VIEW_KINDS: dict[str, tuple[Kind, ...]] = {
    "nodes": (NODES, PODS),  # pods: a node's requested CPU/memory is the sum of its pods'
    "workloads": (DEPLOYMENTS, STATEFULSETS, DAEMONSETS),
    "pods": (PODS,),
    "events": (EVENTS,),
    "pvcs": (PVCS,),
}
"""Which watches each view needs."""

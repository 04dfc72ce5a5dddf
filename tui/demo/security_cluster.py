"""Kubernetes objects with each security misconfiguration, and clean look-alikes, created through the API.

Used by the Security tab's tests and by `--demo`: the pods and Services are posted
with the official client the way `kubectl apply` would, so the scan reads them back
exactly as a real API server would hand them out. Each misconfigured object carries
one problem (the rest of its spec is hardened), so the expected findings read one to
one; each look-alike is what a careful team writes instead, and must give nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from providers.security.model import Check

Obj = dict[str, Any]

NAMESPACES = ("web", "ops", "monitoring")
HARDENED = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001}
"""A pod securityContext that runs nothing as root."""


def _container(name: str, image: str, security: Mapping[str, Any] | None = None, **extra: Any) -> Obj:
    out: Obj = {"name": name, "image": image, **extra}
    if security is not None:
        out["securityContext"] = dict(security)
    return out


def _pod(namespace: str, name: str, containers: Sequence[Obj], *, pod_security: Mapping[str, Any] | None,
         **spec: Any) -> Obj:
    body: Obj = {"containers": list(containers), **spec}
    if pod_security is not None:
        body["securityContext"] = dict(pod_security)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}}, "spec": body}


def _service(namespace: str, name: str, type_: str, ports: Sequence[tuple[int, str]], *,
             source_ranges: Sequence[str] | None = None, annotations: Mapping[str, str] | None = None) -> Obj:
    spec: Obj = {"type": type_, "selector": {"app": name},
                 "ports": [{"name": f"p{port}", "port": port, "protocol": proto, "targetPort": port}
                           for port, proto in ports]}
    if source_ranges is not None:
        spec["loadBalancerSourceRanges"] = list(source_ranges)
    meta: Obj = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


# (object, phase, expected findings as (check, resource))
Seeded = tuple[Obj, str, tuple[tuple[Check, str], ...]]

MISCONFIGURED: tuple[Seeded, ...] = (
    (_pod("ops", "debug-shell", [_container("shell", "nicolaka/netshoot:v0.13", {"privileged": True})],
          pod_security=HARDENED),
     "Running", ((Check.K8S_PRIVILEGED, "ops/debug-shell/shell"),)),
    (_pod("monitoring", "search-indexer",
          [_container("indexer", "opensearchproject/opensearch:2.17.1")],
          initContainers=[_container("sysctl", "busybox:1.36",
                                     {"privileged": True, "runAsNonRoot": True, "runAsUser": 10001},
                                     command=["sysctl", "-w", "vm.max_map_count=262144"])],
          pod_security=HARDENED),
     "Running", ((Check.K8S_PRIVILEGED, "monitoring/search-indexer/sysctl"),)),
    # The container's runAsUser 0 overrides the pod's non-root settings.
    (_pod("web", "legacy-cron", [_container("cron", "ghcr.io/acme/cron:2.1", {"runAsUser": 0})],
          pod_security={"runAsUser": 1000}),
     "Running", ((Check.K8S_ROOT, "web/legacy-cron/cron"),)),
    # Nothing set anywhere: the image's USER decides, root by default.
    (_pod("web", "static-site", [_container("nginx", "nginx:1.27.2")], pod_security=None),
     "Running", ((Check.K8S_ROOT, "web/static-site/nginx"),)),
    (_pod("monitoring", "node-exporter-x7k2p",
          [_container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2")],
          pod_security=HARDENED, hostNetwork=True),
     "Running", ((Check.K8S_HOST_NETWORK, "monitoring/node-exporter-x7k2p"),)),
    (_pod("ops", "log-collector", [_container("collector", "fluent/fluent-bit:3.1.9",
                                              volumeMounts=[{"name": "varlog", "mountPath": "/var/log"}])],
          pod_security=HARDENED,
          volumes=[{"name": "varlog", "hostPath": {"path": "/var/log", "type": "Directory"}},
                   {"name": "docker", "hostPath": {"path": "/var/lib/docker/containers"}}]),
     "Running", ((Check.K8S_HOST_PATH, "ops/log-collector"),)),
    (_service("web", "storefront", "LoadBalancer", [(80, "TCP"), (443, "TCP")]),
     "", ((Check.K8S_PUBLIC_LB, "web/storefront"),)),
    (_service("ops", "admin-console", "LoadBalancer", [(8443, "TCP")],
              source_ranges=["203.0.113.0/24", "::/0"]),
     "", ((Check.K8S_PUBLIC_LB, "ops/admin-console"),)),
)

LOOK_ALIKES: tuple[Seeded, ...] = (
    (_pod("web", "cart", [_container("cart", "ghcr.io/acme/cart:2.3.1", {"privileged": False})],
          pod_security={"runAsNonRoot": True}), "Running", ()),
    (_pod("web", "api", [_container("api", "ghcr.io/acme/api:5.0.0", {"runAsUser": 10001})],
          pod_security=None, hostNetwork=False), "Running", ()),
    (_pod("web", "cache", [_container("redis", "redis:7.4.1",
                                      volumeMounts=[{"name": "data", "mountPath": "/data"}])],
          pod_security=HARDENED, volumes=[{"name": "data", "emptyDir": {}}]), "Running", ()),
    # A finished Job's pod: privileged and root, but nothing runs in it any more.
    (_pod("ops", "db-migrate-28810", [_container("migrate", "ghcr.io/acme/migrate:1.0",
                                                 {"privileged": True, "runAsUser": 0})],
          pod_security=None, restartPolicy="Never"), "Succeeded", ()),
    (_service("web", "cart", "ClusterIP", [(8080, "TCP")]), "", ()),
    (_service("web", "internal-api", "LoadBalancer", [(443, "TCP")], source_ranges=["10.0.0.0/8"]), "", ()),
    (_service("ops", "vpn-gateway", "LoadBalancer", [(1194, "UDP")],
              annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}), "", ()),
)


def seed_security_cluster(api_client: k8s_client.ApiClient, *, clean: bool = False
                          ) -> set[tuple[str, str]]:
    """Create the objects (namespaces too) and return the expected (check id, resource) findings.

    `clean` creates only the look-alikes, so the expected set is empty. Objects that
    already exist are left as they are (seeding twice is harmless).
    """
    api = k8s_client.CoreV1Api(api_client)
    for namespace in NAMESPACES:
        _create(lambda ns=namespace: api.create_namespace({"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": ns}}))
    seeded = LOOK_ALIKES if clean else MISCONFIGURED + LOOK_ALIKES
    expected: set[tuple[str, str]] = set()
    for obj, phase, findings in seeded:
        meta = obj["metadata"]
        if obj["kind"] == "Pod":
            _create(lambda o=obj, m=meta: api.create_namespaced_pod(m["namespace"], o))
            # What the kubelet would report: the scan skips pods that have finished.
            api.patch_namespaced_pod_status(meta["name"], meta["namespace"], {"status": {"phase": phase}})
        else:
            _create(lambda o=obj, m=meta: api.create_namespaced_service(m["namespace"], o))
        expected.update((check.value, resource) for check, resource in findings)
    return expected


def _create(call: Callable[[], object]) -> None:
    try:
        call()
    except ApiException as exc:
        if exc.status != 409:  # AlreadyExists: seeded before
            raise


"""Generated Kubernetes clusters: a small realistic one for tests and `--demo`
(with the faults an operator should spot), a big uniform one for benchmarks,
and the log lines their containers print.

Everything is drawn from ``random.Random(seed)`` and stamped relative to
``now``, so a seed gives the same cluster twice. The names of the scenario
objects do not depend on the seed (they are constants below) so tests can
find them. :class:`ClusterLife`, which keeps a served cluster moving, lives in
``life.py`` and is importable from here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from random import Random
from typing import TYPE_CHECKING, Any, Protocol

from tui.demo.kube_api import objects as k
from tui.demo.kube_api.loglines import crash_lines, flavour_of, log_lines, startup_lines

if TYPE_CHECKING:
    from collections.abc import Callable

    from tui.demo.kube_api.life import ClusterLife

Obj = dict[str, Any]

DAY = 86_400.0
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
DEFAULT_NAMESPACES = ("default", "shop", "payments", "monitoring", "kube-system")
FAULT_ANNOTATION = "demo.stacktop.io/fault"
"""Marks the pods :class:`ClusterLife` keeps failing: "crashloop" or "oom"."""


class ObjectStore(Protocol):
    """The part of ``KubeApiServer`` the generator and the simulator use."""

    def put(self, obj: dict) -> dict: ...
    def put_many(self, objs: Iterable[dict]) -> None: ...
    def mutate(self, kind: str, namespace: str | None, name: str,
               fn: Callable[[dict], None]) -> dict | None: ...
    def remove(self, kind: str, namespace: str | None, name: str) -> dict | None: ...
    def get(self, kind: str, namespace: str | None, name: str) -> dict | None: ...
    def list(self, kind: str) -> list[dict]: ...
    def append_log(self, namespace: str, pod: str, container: str, lines: Sequence[str], *,
                   previous: bool = False) -> None: ...


# ------------------------------------------------------------------ catalogue

@dataclass(frozen=True)
class Box:
    """A container of a catalogue app."""

    name: str
    image: str
    cpu: str = "100m"
    memory: str = "128Mi"
    memory_limit: str | None = "256Mi"
    cpu_limit: str | None = None
    port: int | None = 8080
    mount: str | None = None


@dataclass(frozen=True)
class App:
    """A workload of the generated cluster; ``storage`` sizes a StatefulSet's claims."""

    namespace: str
    name: str
    replicas: int
    containers: tuple[Box, ...]
    storage: str = ""


DEPLOYMENTS: tuple[App, ...] = (
    # The first four carry the scenarios: keep them first.
    App("shop", "checkout", 4, (
        Box("checkout", "ghcr.io/acme/checkout:1.15.0", "250m", "256Mi", "512Mi"),)),
    App("shop", "cart", 2, (
        Box("cart", "ghcr.io/acme/cart:2.3.1", "100m", "128Mi", "256Mi"),)),
    App("shop", "search", 2, (
        Box("search", "ghcr.io/acme/search:0.9.4", "500m", "384Mi", "512Mi", "1", 9200),)),
    App("payments", "fraud-model", 1, (
        Box("fraud-model", "ghcr.io/acme/fraud-model:3.0.0", "2", "64Gi", "64Gi", "2", 8501),)),
    App("shop", "frontend", 3, (
        Box("frontend", "nginx:1.27.2", "100m", "64Mi", "128Mi", port=80),
        Box("log-shipper", "fluent/fluent-bit:3.1.9", "50m", "32Mi", "64Mi", port=None))),
    App("payments", "payments-api", 3, (
        Box("payments-api", "ghcr.io/acme/payments-api:2.8.1", "250m", "256Mi"),
        Box("envoy", "envoyproxy/envoy:v1.31.2", "100m", "64Mi", "128Mi", port=9901))),
    App("kube-system", "coredns", 2, (
        Box("coredns", "registry.k8s.io/coredns/coredns:v1.11.3", "100m", "70Mi", "170Mi", port=53),)),
    App("monitoring", "grafana", 1, (
        Box("grafana", "grafana/grafana:11.3.0", "100m", "128Mi", "512Mi", port=3000),)),
    App("default", "hello", 1, (
        Box("hello", "nginxdemos/hello:0.4", "10m", "16Mi", "32Mi", port=80),)),
    App("shop", "catalog", 2, (
        Box("catalog", "ghcr.io/acme/catalog:4.1.0", "200m", "256Mi", "512Mi"),)),
    App("kube-system", "metrics-server", 1, (
        Box("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.2", "100m", "200Mi", None,
            port=10250),)),
    App("payments", "ledger", 2, (
        Box("ledger", "ghcr.io/acme/ledger:5.2.0", "250m", "512Mi", "1Gi"),)),
    App("monitoring", "kube-state-metrics", 1, (
        Box("kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", "50m",
            "128Mi", "256Mi"),)),
    App("shop", "recommendations", 2, (
        Box("recommendations", "ghcr.io/acme/recommendations:1.4.7", "300m", "512Mi", "1Gi"),)),
)
STATEFULSETS: tuple[App, ...] = (
    App("payments", "postgres", 2, (
        Box("postgres", "postgres:16.4", "500m", "1Gi", "2Gi", port=5432, mount="/var/lib/postgresql/data"),),
        storage="20Gi"),
    App("shop", "redis", 1, (
        Box("redis", "redis:7.4.1", "100m", "256Mi", "512Mi", port=6379, mount="/data"),),
        storage="5Gi"),
    App("monitoring", "prometheus", 2, (
        Box("prometheus", "quay.io/prometheus/prometheus:v2.55.1", "500m", "2Gi", "4Gi", port=9090,
            mount="/prometheus"),),
        storage="50Gi"),
    App("monitoring", "alertmanager", 1, (
        Box("alertmanager", "quay.io/prometheus/alertmanager:v0.27.0", "50m", "64Mi", "128Mi", port=9093,
            mount="/alertmanager"),),
        storage="1Gi"),
)
DAEMONSETS: tuple[App, ...] = (
    App("kube-system", "kube-proxy", 0, (
        Box("kube-proxy", "registry.k8s.io/kube-proxy:v1.31.2", "100m", "64Mi", None, port=None),)),
    App("monitoring", "node-exporter", 0, (
        Box("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2", "50m", "32Mi", "64Mi", port=9100),)),
    App("kube-system", "fluent-bit", 0, (
        Box("fluent-bit", "fluent/fluent-bit:3.1.9", "50m", "64Mi", "128Mi", port=2020),)),
    App("kube-system", "ebs-csi-node", 0, (
        Box("ebs-plugin", "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.36.0", "10m", "40Mi", "256Mi",
            port=9808),)),
)
STANDALONE_CLAIMS: tuple[tuple[str, str, str], ...] = (
    ("monitoring", "grafana", "10Gi"),
    ("shop", "uploads", "50Gi"),
    ("default", "scratch", "1Gi"),
    ("payments", "audit-archive", "200Gi"),
)
STATIC_PODS = (
    ("etcd", "registry.k8s.io/etcd:3.5.15-0", "100m", "100Mi"),
    ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.31.2", "250m", "512Mi"),
    ("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.31.2", "200m", "128Mi"),
    ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.31.2", "100m", "64Mi"),
)
_EVERYWHERE = ({"operator": "Exists"},)


def app_template(app: App, *, daemon: bool = False) -> Obj:
    """The pod template of a catalogue app (the same app always hashes the same)."""
    containers = [k.container(b.name, b.image, cpu_request=b.cpu, memory_request=b.memory,
                              cpu_limit=b.cpu_limit, memory_limit=b.memory_limit, port=b.port,
                              mounts={"data": b.mount} if b.mount else None) for b in app.containers]
    return k.pod_template({"app": app.name}, containers, tolerations=_EVERYWHERE if daemon else ())


def _rs_hash(app: App) -> str:
    return k.template_hash(app_template(app))


# ------------------------------------------------------------------ scenarios

_CHECKOUT, _CART, _SEARCH, _FRAUD = DEPLOYMENTS[:4]
ROLLING_OLD_IMAGE = "ghcr.io/acme/checkout:1.14.2"
ROLLING_OLD_RS = f"checkout-{_rs_hash(replace(_CHECKOUT, containers=(replace(_CHECKOUT.containers[0], image=ROLLING_OLD_IMAGE),)))}"  # noqa: E501
ROLLING_NEW_RS = f"checkout-{_rs_hash(_CHECKOUT)}"
CRASHLOOP_POD = f"cart-{_rs_hash(_CART)}-q7x2m"
OOM_POD = f"search-{_rs_hash(_SEARCH)}-h8n4p"
UNSCHEDULABLE_POD = f"fraud-model-{_rs_hash(_FRAUD)}-t2w5k"
NOTREADY_NODE = "worker-02"
PENDING_CLAIM = "reports-export"
PENDING_CLAIM_CLASS = "fast-ssd"

SCENARIOS: dict[str, tuple[str, str]] = {
    "crashloop": ("shop", CRASHLOOP_POD),
    "unschedulable": ("payments", UNSCHEDULABLE_POD),
    "notready_node": ("", NOTREADY_NODE),
    "rolling": ("shop", "checkout"),
    "oomkilled": ("shop", OOM_POD),
    "pending_pvc": ("payments", PENDING_CLAIM),
}
"""(namespace, name) of each scenario object; "" for the cluster-scoped node."""
SCENARIO_KINDS: dict[str, str] = {
    "crashloop": "Pod", "unschedulable": "Pod", "notready_node": "Node", "rolling": "Deployment",
    "oomkilled": "Pod", "pending_pvc": "PersistentVolumeClaim",
}


def backoff_message(pod: Mapping[str, Any], container: str) -> str:
    """The kubelet's BackOff event text, which names the pod with its uid."""
    meta = pod["metadata"]
    return (f"Back-off restarting failed container {container} in pod "
            f"{meta['name']}_{meta['namespace']}({meta['uid']})")


def unschedulable_message(nodes: int) -> str:
    """The scheduler's verdict on the fraud-model pod, which asks for 64Gi."""
    return f"0/{nodes} nodes are available: {nodes} Insufficient memory."


# --------------------------------------------------------------- shared helpers

def container_id(rng: Random) -> str:
    return f"containerd://{rng.getrandbits(256):064x}"


def node_ip(index: int) -> str:
    return f"10.0.{index // 250}.{index % 250 + 4}"


def pod_cidr(index: int) -> str:
    return f"10.{244 + index // 256}.{index % 256}.0/24"


def node_address(node: Mapping[str, Any]) -> str:
    for addr in node["status"].get("addresses", ()):
        if addr["type"] == "InternalIP":
            return addr["address"]
    return ""


def node_is_ready(node: Mapping[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", ()))


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", ()))


def running_statuses(rng: Random, template: Mapping[str, Any], started: float, *,
                     ready: bool = True) -> list[Obj]:
    """Container statuses of a pod whose containers all run since ``started``."""
    return [k.container_status(c["name"], c["image"], state=k.running_state(started), ready=ready,
                               container_id=container_id(rng)) for c in template["spec"]["containers"]]


def creating_statuses(template: Mapping[str, Any]) -> list[Obj]:
    """Container statuses of a pod the kubelet has only just been given."""
    return [k.container_status(c["name"], c["image"], state=k.waiting_state("ContainerCreating"), ready=False)
            for c in template["spec"]["containers"]]


def pod_usage(rng: Random, pod: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """(container, nanocores, bytes) for a running pod, sized from its requests
    and kept under its memory limit (an OOM-prone pod runs close to it)."""
    oom = (pod["metadata"].get("annotations") or {}).get(FAULT_ANNOTATION) == "oom"
    usage = []
    for c in pod["spec"]["containers"]:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        cpu = k.parse_quantity(req.get("cpu", "100m")) * rng.uniform(0.05, 0.8)
        mem_req = k.parse_quantity(req.get("memory", "128Mi"))
        mem = mem_req * rng.uniform(0.55, 1.05)
        if "memory" in lim:
            limit = k.parse_quantity(lim["memory"])
            mem = limit * rng.uniform(0.9, 0.97) if oom else min(mem, limit * 0.9)
        usage.append((c["name"], int(cpu * 1e9), int(mem)))
    return usage


def metrics_for_pod(pod: Mapping[str, Any], usage: Sequence[tuple[str, int, int]], at: float, *,
                    coarse: bool = False) -> Obj:
    """PodMetrics for ``usage``; ``coarse`` writes "m"/"Mi" instead of "n"/"Ki"
    (metrics-server writes the latter; parsers must take both)."""
    cpu_unit, mem_unit = ("m", "Mi") if coarse else ("n", "Ki")
    meta = pod["metadata"]
    return k.pod_metrics(meta["name"], namespace=meta["namespace"], at=at, labels=meta.get("labels"),
                         containers=[(n, k.cpu_quantity(c, cpu_unit), k.memory_quantity(m, mem_unit))
                                     for n, c, m in usage])


def metrics_for_node(node: Mapping[str, Any], nanocores: int, nbytes: int, at: float) -> Obj:
    return k.node_metrics(node["metadata"]["name"], cpu=k.cpu_quantity(nanocores),
                          memory=k.memory_quantity(nbytes), at=at, labels=node["metadata"].get("labels"))


def node_base_usage(node: Mapping[str, Any], rng: Random) -> tuple[int, int]:
    """What the kubelet, runtime and OS use before any pod: ~5 % CPU, ~1.2 GiB."""
    cpu = k.parse_quantity(node["status"]["capacity"]["cpu"])
    return int(cpu * rng.uniform(0.03, 0.07) * 1e9), int(rng.uniform(1.0, 1.4) * 1024**3)


# -------------------------------------------------------------------- builder

class _Builder:
    """Accumulates one generated cluster; holds the seed's generator and the clock."""

    def __init__(self, rng: Random, now: float) -> None:
        self.rng = rng
        self.now = now
        self.out: dict[str, list[Obj]] = {kind: [] for kind in k.API_VERSIONS}
        self.next_ip: dict[str, int] = {}
        self.used_names: set[str] = set()

    def uid(self) -> str:
        return k.new_uid(self.rng)

    def ago(self, low: float, high: float) -> float:
        return self.now - self.rng.uniform(low, high)

    def add(self, obj: Obj) -> Obj:
        self.out[obj["kind"]].append(obj)
        return obj

    def pod_ip(self, node: Mapping[str, Any]) -> str:
        name = node["metadata"]["name"]
        n = self.next_ip.get(name, 2)
        self.next_ip[name] = n + 1 if n < 254 else 2
        return f"{node['spec']['podCIDR'].rsplit('.', 1)[0]}.{n}"

    def fresh_name(self, prefix: str) -> str:
        while True:
            name = f"{prefix}{k.random_suffix(self.rng)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def event(self, involved: Obj, reason: str, message: str, *, type_: str = "Normal", count: int = 1,
              first: float, last: float | None = None, component: str = "kubelet", host: str | None = None,
              field_path: str | None = None) -> Obj:
        meta = involved["metadata"]
        last = first if last is None else last
        return self.add(k.event(
            name=k.event_name(meta["name"], first, self.rng), namespace=meta.get("namespace") or "default",
            uid=self.uid(), involved=involved, reason=reason, message=message, type_=type_, count=count,
            first=first, last=last, component=component, host=host, field_path=field_path))

    def start_events(self, pod: Obj, at: float) -> None:
        """Scheduled, Pulled, Created, Started: the story of a healthy pod start."""
        meta, node = pod["metadata"], pod["spec"].get("nodeName", "")
        self.event(pod, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
                   first=at, component="default-scheduler")
        for c in pod["spec"]["containers"]:
            fp = f"spec.containers{{{c['name']}}}"
            self.event(pod, "Pulled", f'Container image "{c["image"]}" already present on machine',
                       first=at + 1, host=node, field_path=fp)
            for offset, reason in ((1, "Created"), (2, "Started")):
                self.event(pod, reason, f"{reason} container {c['name']}", first=at + offset, host=node,
                           field_path=fp)

    def running_pod(self, name: str, *, namespace: str, template: Obj, owner: Obj, node: Obj, created: float,
                    extra_labels: Mapping[str, str] | None = None, generate_name: str | None = None,
                    ready: bool = True) -> Obj:
        started = created + self.rng.uniform(2, 8)
        return self.add(k.pod(
            name, namespace=namespace, uid=self.uid(), created=created, template=template, owner=owner,
            extra_labels=extra_labels, node_name=node["metadata"]["name"], host_ip=node_address(node),
            pod_ip=self.pod_ip(node), phase="Running", started=started, generate_name=generate_name,
            statuses=running_statuses(self.rng, template, started, ready=ready)))


def _place(rng: Random, nodes: Sequence[Obj], count: int) -> list[Obj]:
    """Spread ``count`` replicas over ``nodes``, one per node before doubling up."""
    start = rng.randrange(len(nodes))
    return [nodes[(start + i) % len(nodes)] for i in range(count)]


def _namespace_for(app: App, namespaces: Sequence[str], index: int) -> str:
    return app.namespace if app.namespace in namespaces else namespaces[index % len(namespaces)]


def _generic_app(kind: str, index: int) -> App:
    if kind == "Deployment":
        return App("default", f"svc-{index:02d}", 2,
                   (Box(f"svc-{index:02d}", f"ghcr.io/acme/svc-{index:02d}:1.{index % 7}.{index % 3}"),))
    if kind == "StatefulSet":
        return App("default", f"store-{index:02d}", 1,
                   (Box("store", "redis:7.4.1", port=6379, mount="/data"),), storage="2Gi")
    return App("kube-system", f"agent-{index:02d}", 0,
               (Box("agent", f"ghcr.io/acme/node-agent:0.{index}.0", "20m", "32Mi", "64Mi", port=None),))


# ------------------------------------------------------------ generate_cluster

def generate_cluster(
    *,
    nodes: int = 6,
    deployments: int = 10,
    statefulsets: int = 2,
    daemonsets: int = 2,
    namespaces: Sequence[str] = DEFAULT_NAMESPACES,
    pvcs: int = 6,
    seed: int = 0,
    scenarios: bool = True,
    now: float | None = None,
) -> list[dict]:
    """A small cluster that looks lived in: control plane and workers, apps with
    tagged images spread over the workers, claims bound to StatefulSets, metrics
    for every running pod and ready node, and the events that tell its story.

    With ``scenarios`` it also holds the faults listed in :data:`SCENARIOS`.
    ``pvcs`` counts every claim; StatefulSets always get the claims they need.
    ``now`` defaults to the wall clock so the demo's ages read naturally.
    """
    if not namespaces:
        raise ValueError("generate_cluster needs at least one namespace")
    if scenarios:
        missing = {"shop", "payments"} - set(namespaces)
        if missing or nodes < 3 or deployments < 4 or pvcs < 1:
            raise ValueError("scenarios need namespaces shop and payments, nodes >= 3, deployments >= 4 and "
                             "pvcs >= 1 (or pass scenarios=False)")
    if nodes < 1:
        raise ValueError("generate_cluster needs at least one node")
    b = _Builder(Random(seed), time.time() if now is None else now)
    born = b.now - 120 * DAY
    for ns in namespaces:
        system = ns in ("default", "kube-system")
        b.add(k.namespace(ns, uid=b.uid(), created=born if system else b.ago(60 * DAY, 110 * DAY)))
    all_nodes = _add_nodes(b, nodes, born, scenarios)
    ready_nodes = [n for n in all_nodes if node_is_ready(n)]
    workers = [n for n in ready_nodes if not any(t["key"] == "node-role.kubernetes.io/control-plane"
                                                 for t in n["spec"].get("taints", ()))] or ready_nodes
    for i in range(deployments):
        app = DEPLOYMENTS[i] if i < len(DEPLOYMENTS) else _generic_app("Deployment", i)
        _add_deployment(b, app, _namespace_for(app, namespaces, i), workers, scenarios, len(all_nodes))
    claims = 0
    for i in range(statefulsets):
        app = STATEFULSETS[i] if i < len(STATEFULSETS) else _generic_app("StatefulSet", i)
        claims += _add_stateful_set(b, app, _namespace_for(app, namespaces, i), workers)
    for i in range(daemonsets):
        app = DAEMONSETS[i] if i < len(DAEMONSETS) else _generic_app("DaemonSet", i)
        _add_daemon_set(b, app, _namespace_for(app, namespaces, i), all_nodes)
    if "kube-system" in namespaces:
        _add_static_pods(b, all_nodes)
    _add_standalone_claims(b, max(pvcs - claims, 0), namespaces, scenarios)
    _add_metrics(b, all_nodes)
    return [obj for kind in ("Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim", "Deployment",
                             "ReplicaSet", "StatefulSet", "DaemonSet", "Pod", "Event", "NodeMetrics",
                             "PodMetrics") for obj in b.out[kind]]


def _add_nodes(b: _Builder, count: int, born: float, scenarios: bool) -> list[Obj]:
    nodes = []
    for i in range(count):
        control = i == 0
        name = "cp-1" if control else f"worker-{i:02d}"
        big = not control and i % 2 == 1
        lost = scenarios and name == NOTREADY_NODE
        node = b.add(k.node(
            name, uid=b.uid(), created=born + i * 600, control_plane=control and count > 1,
            internal_ip=node_ip(i), pod_cidr=pod_cidr(i), cpu=8 if big else 4, memory_gi=32 if big else 16,
            ready=None if lost else True, zone=ZONES[i % len(ZONES)],
            instance_type="m6i.2xlarge" if big else "m6i.xlarge",
            instance_id=f"i-0{b.rng.getrandbits(64):016x}"[:19], boot_id=b.uid(),
            heartbeat=b.now - 420 if lost else b.now - b.rng.uniform(1, 10)))
        if control and count == 1:
            node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = ""
        if lost:
            b.event(node, "NodeNotReady", f"Node {name} status is now: NodeNotReady", first=b.now - 420,
                    component="node-controller")
        nodes.append(node)
    return nodes


def _add_deployment(b: _Builder, app: App, ns: str, workers: Sequence[Obj], scenarios: bool,
                    node_count: int) -> None:
    template = app_template(app)
    hash_ = k.template_hash(template)
    created = b.ago(5 * DAY, 60 * DAY)
    rolling = scenarios and app.name == "checkout"
    dep = k.deployment(app.name, namespace=ns, uid=b.uid(), created=created, replicas=app.replicas,
                       template=template, revision=2 if rolling else 1, generation=2 if rolling else 1)
    b.add(dep)
    # (replica set, pods it owns, when those pods were created)
    plan: list[tuple[Obj, int, tuple[float, float]]] = []
    if rolling:
        old_app = replace(app, containers=(replace(app.containers[0], image=ROLLING_OLD_IMAGE),))
        old_template = app_template(old_app)
        old = k.replica_set(dep, template_hash_=k.template_hash(old_template), uid=b.uid(), created=created,
                            replicas=2, template=old_template, revision=1)
        new = k.replica_set(dep, template_hash_=hash_, uid=b.uid(), created=b.now - 150, replicas=2,
                            template=template, revision=2)
        plan = [(old, 2, (created, created + DAY)), (new, 2, (b.now - 140, b.now - 40))]
        b.event(dep, "ScalingReplicaSet", f"Scaled up replica set {new['metadata']['name']} to 1",
                first=b.now - 150, component="deployment-controller")
        b.event(dep, "ScalingReplicaSet", f"Scaled down replica set {old['metadata']['name']} to 3 from 4",
                first=b.now - 140, component="deployment-controller")
        b.event(dep, "ScalingReplicaSet", f"Scaled up replica set {new['metadata']['name']} to 2 from 1",
                first=b.now - 90, component="deployment-controller")
        b.event(dep, "ScalingReplicaSet", f"Scaled down replica set {old['metadata']['name']} to 2 from 3",
                first=b.now - 40, component="deployment-controller")
    else:
        rs = k.replica_set(dep, template_hash_=hash_, uid=b.uid(), created=created, replicas=app.replicas,
                           template=template, revision=1)
        plan = [(rs, app.replicas, (created, b.now - 3600))]
    pods: list[Obj] = []
    for rs, count, (early, late) in plan:
        b.add(rs)
        rs_template = rs["spec"]["template"]
        prefix = f"{rs['metadata']['name']}-"
        rs_pods = []
        for idx, node in enumerate(_place(b.rng, workers, count)):
            spread = (late - early) * idx if rolling else b.rng.uniform(0, max(late - early, 0))
            pod_created = early + spread
            special = _scenario_pod_name(app, idx) if scenarios else None
            name = special or b.fresh_name(prefix)
            if special == UNSCHEDULABLE_POD:
                pod = b.add(k.pod(name, namespace=ns, uid=b.uid(), created=b.now - 1500, template=rs_template,
                                  owner=rs, node_name=None, phase="Pending", generate_name=prefix,
                                  unschedulable_message=unschedulable_message(node_count)))
                b.event(pod, "FailedScheduling", unschedulable_message(node_count), type_="Warning", count=26,
                        first=b.now - 1500, last=b.now - 30, component="default-scheduler")
            else:
                pod = b.running_pod(name, namespace=ns, template=rs_template, owner=rs, node=node,
                                    created=pod_created, generate_name=prefix)
            if special == CRASHLOOP_POD:
                _make_crashloop(b, pod)
            elif special == OOM_POD:
                _make_oom(b, pod)
            if rolling and rs is plan[-1][0]:
                b.start_events(pod, pod_created)
            rs_pods.append(pod)
        ready = sum(pod_is_ready(p) for p in rs_pods)
        rs["status"] = k.replica_set_status(total=len(rs_pods), ready=ready)
        pods.extend(rs_pods)
    new_rs = plan[-1][0]
    updated = plan[-1][1]
    # A rollout that finished long ago stays finished when a pod breaks later;
    # one that cannot place its pods times out after progressDeadlineSeconds.
    progress = {"cart": "NewReplicaSetAvailable", "fraud-model": "ProgressDeadlineExceeded"}.get(app.name) \
        if scenarios else None
    dep["status"] = k.deployment_status(
        replicas=app.replicas, total=len(pods), updated=updated, ready=sum(pod_is_ready(p) for p in pods),
        generation=dep["metadata"]["generation"], new_rs=new_rs["metadata"]["name"],
        at=b.now - 40 if rolling else b.now - 900 if app.name == "fraud-model" else created, since=created,
        progress=progress)


def _scenario_pod_name(app: App, index: int) -> str | None:
    if index == 0:
        return {"cart": CRASHLOOP_POD, "search": OOM_POD, "fraud-model": UNSCHEDULABLE_POD}.get(app.name)
    return None


def _make_crashloop(b: _Builder, pod: Obj) -> None:
    """The cart pod: its container exits 1 a few seconds after each start."""
    meta, status = pod["metadata"], pod["status"]
    meta["creationTimestamp"] = k.rfc3339(b.now - 3 * 3600)
    meta.setdefault("annotations", {})[FAULT_ANNOTATION] = "crashloop"
    cs = status["containerStatuses"][0]
    name, ns, node = meta["name"], meta["namespace"], pod["spec"]["nodeName"]
    cs["state"] = k.waiting_state("CrashLoopBackOff", f"back-off 5m0s restarting failed container="
                                                      f"{cs['name']} pod={name}_{ns}({meta['uid']})")
    cs["lastState"] = k.terminated_state("Error", 1, started=b.now - 95, finished=b.now - 93,
                                         container_id=cs["containerID"])
    cs.update(ready=False, started=False, restartCount=23)
    status["startTime"] = meta["creationTimestamp"]
    status["conditions"] = k.pod_conditions(status["containerStatuses"], at=b.now - 93)
    fp = f"spec.containers{{{cs['name']}}}"
    b.event(pod, "BackOff", backoff_message(pod, cs["name"]), type_="Warning", count=112,
            first=b.now - 3 * 3600 + 120, last=b.now - 20, host=node, field_path=fp)
    b.event(pod, "Pulled", f'Container image "{cs["image"]}" already present on machine', count=23,
            first=b.now - 3 * 3600 + 5, last=b.now - 96, host=node, field_path=fp)


def _make_oom(b: _Builder, pod: Obj) -> None:
    """The search pod: runs near its 512Mi limit and was OOM-killed 3 times."""
    meta, status = pod["metadata"], pod["status"]
    meta.setdefault("annotations", {})[FAULT_ANNOTATION] = "oom"
    cs = status["containerStatuses"][0]
    cs["lastState"] = k.terminated_state("OOMKilled", 137, started=b.now - 3 * 3600, finished=b.now - 1100,
                                         container_id=container_id(b.rng))
    cs["state"] = k.running_state(b.now - 1099)
    cs["restartCount"] = 3
    b.event(pod, "Started", f"Started container {cs['name']}", count=4,
            first=k.parse_time(status["startTime"]), last=b.now - 1099, host=pod["spec"]["nodeName"],
            field_path=f"spec.containers{{{cs['name']}}}")


def _add_stateful_set(b: _Builder, app: App, ns: str, workers: Sequence[Obj]) -> int:
    template = app_template(app)
    created = b.ago(20 * DAY, 90 * DAY)
    sts = b.add(k.stateful_set(app.name, namespace=ns, uid=b.uid(), created=created, replicas=app.replicas,
                               template=template, service_name=app.name, storage=app.storage))
    revision = sts["status"]["updateRevision"]
    for ordinal, node in enumerate(_place(b.rng, workers, app.replicas)):
        name = f"{app.name}-{ordinal}"
        claim = add_bound_claim(b.rng, b.add, f"data-{name}", namespace=ns, storage=app.storage,
                                created=created + ordinal * 60, zone=node["metadata"]["labels"][
                                    "topology.kubernetes.io/zone"], labels={"app": app.name})
        pod = b.running_pod(name, namespace=ns, template=template, owner=sts, node=node,
                            created=created + ordinal * 60 + b.rng.uniform(0, 5 * DAY),
                            extra_labels=stateful_pod_labels(name, ordinal, revision))
        add_claim_volume(pod, claim["metadata"]["name"])
    return app.replicas


def stateful_pod_labels(name: str, ordinal: int, revision: str) -> dict[str, str]:
    return {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(ordinal)}


def add_claim_volume(pod: Obj, claim: str) -> None:
    """A StatefulSet pod mounts its own claim as the "data" volume."""
    volume = {"name": "data", "persistentVolumeClaim": {"claimName": claim}}
    pod["spec"].setdefault("volumes", []).append(volume)


def add_bound_claim(rng: Random, add: Callable[[Obj], Obj], name: str, *, namespace: str, storage: str,
                    created: float, zone: str, labels: Mapping[str, str] | None = None) -> Obj:
    """A claim and the volume provisioned for it, both Bound."""
    claim_uid = k.new_uid(rng)
    claim = k.persistent_volume_claim(name, namespace=namespace, uid=claim_uid, created=created,
                                      storage=storage, volume_name=f"pvc-{claim_uid}", labels=labels)
    add(k.persistent_volume(claim, uid=k.new_uid(rng), created=created + 3, zone=zone,
                            volume_handle=f"vol-0{rng.getrandbits(64):016x}"))
    return add(claim)


def _add_daemon_set(b: _Builder, app: App, ns: str, nodes: Sequence[Obj]) -> None:
    template = app_template(app, daemon=True)
    created = b.ago(60 * DAY, 100 * DAY)
    ready = sum(node_is_ready(n) for n in nodes)
    ds = b.add(k.daemon_set(app.name, namespace=ns, uid=b.uid(), created=created, template=template,
                            desired=len(nodes), ready=ready))
    labels = daemon_pod_labels(template)
    for node in nodes:
        b.running_pod(b.fresh_name(f"{app.name}-"), namespace=ns, template=template, owner=ds, node=node,
                      created=max(created, k.parse_time(node["metadata"]["creationTimestamp"])) + 30,
                      extra_labels=labels, generate_name=f"{app.name}-", ready=node_is_ready(node))
        if not node_is_ready(node):
            b.event(b.out["Pod"][-1], "NodeNotReady", "Node is not ready", type_="Warning",
                    first=b.now - 400, component="node-controller")


def daemon_pod_labels(template: Mapping[str, Any], generation: int = 1) -> dict[str, str]:
    return {"controller-revision-hash": k.template_hash(template), "pod-template-generation": str(generation)}


def _add_static_pods(b: _Builder, nodes: Sequence[Obj]) -> None:
    node = nodes[0]
    node_name = node["metadata"]["name"]
    for component, image, cpu, memory in STATIC_PODS:
        template = k.pod_template({"component": component, "tier": "control-plane"},
                                  [k.container(component, image, cpu_request=cpu, memory_request=memory,
                                               memory_limit=None, port=None)], annotations={
                                      "kubernetes.io/config.source": "file",
                                      "kubernetes.io/config.hash": k.template_hash({"c": component})})
        b.running_pod(f"{component}-{node_name}", namespace="kube-system", template=template, owner=node,
                      node=node, created=k.parse_time(node["metadata"]["creationTimestamp"]) + 20)


def _add_standalone_claims(b: _Builder, count: int, namespaces: Sequence[str], scenarios: bool) -> None:
    for i in range(count):
        if scenarios and i == 0:
            claim = b.add(k.persistent_volume_claim(
                PENDING_CLAIM, namespace="payments", uid=b.uid(), created=b.now - 2400, storage="100Gi",
                storage_class=PENDING_CLAIM_CLASS))
            b.event(claim, "ProvisioningFailed",
                    f'storageclass.storage.k8s.io "{PENDING_CLAIM_CLASS}" not found', type_="Warning",
                    count=161, first=b.now - 2400, last=b.now - 15, component="persistentvolume-controller")
            continue
        j = i - 1 if scenarios else i
        ns, name, size = (STANDALONE_CLAIMS[j] if j < len(STANDALONE_CLAIMS)
                          else (namespaces[j % len(namespaces)], f"volume-{j:02d}", "8Gi"))
        if ns not in namespaces:
            ns = namespaces[j % len(namespaces)]
        add_bound_claim(b.rng, b.add, name, namespace=ns, storage=size, created=b.ago(10 * DAY, 50 * DAY),
                        zone=ZONES[j % len(ZONES)])


def _add_metrics(b: _Builder, nodes: Sequence[Obj]) -> None:
    ready = {n["metadata"]["name"]: n for n in nodes if node_is_ready(n)}
    totals = {name: node_base_usage(node, b.rng) for name, node in ready.items()}
    for i, pod in enumerate(b.out["Pod"]):
        node_name = pod["spec"].get("nodeName")
        if node_name not in ready or not any("running" in cs["state"]
                                             for cs in pod["status"].get("containerStatuses", ())):
            continue
        usage = pod_usage(b.rng, pod)
        b.add(metrics_for_pod(pod, usage, b.now - b.rng.uniform(0, 15), coarse=i % 5 == 4))
        cpu, mem = totals[node_name]
        totals[node_name] = (cpu + sum(u[1] for u in usage), mem + sum(u[2] for u in usage))
    for name, (cpu, mem) in totals.items():
        b.add(metrics_for_node(ready[name], cpu, mem, b.now - b.rng.uniform(0, 15)))


# --------------------------------------------------------------- generate_bulk

def generate_bulk(*, pods: int = 20_000, nodes: int = 500, deployments: int = 3_000, seed: int = 0,
                  now: float | None = None) -> Iterator[dict]:
    """A big, healthy, uniform cluster for benchmarks: namespaces, nodes, then
    each Deployment with its ReplicaSet, pods and pod metrics, then node metrics.

    Built from one template per Deployment and the same builders as the small
    cluster (fresh dicts, no deepcopy), so every object is complete and shares
    nothing with another.
    """
    rng = Random(seed)
    now = time.time() if now is None else now
    b = _Builder(rng, now)
    b.add = lambda obj: obj  # type: ignore[method-assign]  # stream, do not keep
    n_ns = max(1, min(40, deployments // 100))
    namespaces = [f"team-{i:02d}" for i in range(n_ns)]
    for ns in namespaces:
        yield k.namespace(ns, uid=b.uid(), created=now - 100 * DAY)
    controls = min(3, max(nodes - 1, 0))
    node_objs = []
    for i in range(nodes):
        control = i < controls
        name = f"cp-{i + 1}" if control else f"node-{i - controls:03d}"
        node_objs.append(k.node(name, uid=b.uid(), created=now - 100 * DAY + i * 60, control_plane=control,
                                internal_ip=node_ip(i), pod_cidr=pod_cidr(i), cpu=16, memory_gi=64,
                                max_pods=250, zone=ZONES[i % len(ZONES)], instance_type="m6i.4xlarge",
                                instance_id=f"i-0{rng.getrandbits(64):016x}"[:19], boot_id=b.uid(),
                                heartbeat=now - rng.uniform(1, 10)))
    yield from node_objs
    workers = node_objs[controls:] or node_objs
    totals = {n["metadata"]["name"]: node_base_usage(n, rng) for n in node_objs}
    per, extra = divmod(pods, max(deployments, 1))
    made = 0
    for d in range(deployments):
        count = per + (1 if d < extra else 0)
        name = f"svc-{d:04d}"
        boxes = [Box(name, f"ghcr.io/acme/{name}:1.{d % 13}.{d % 7}", "100m", "128Mi", "256Mi")]
        if d % 4 == 3:
            boxes.append(Box("envoy", "envoyproxy/envoy:v1.31.2", "50m", "64Mi", "128Mi", port=9901))
        app = App(namespaces[d % n_ns], name, count, tuple(boxes))
        template = app_template(app)
        hash_ = k.template_hash(template)
        created = b.ago(5 * DAY, 90 * DAY)
        dep = k.deployment(name, namespace=app.namespace, uid=b.uid(), created=created, replicas=count,
                           template=template, new_rs=f"{name}-{hash_}")
        rs = k.replica_set(dep, template_hash_=hash_, uid=b.uid(), created=created, replicas=count,
                           template=template, revision=1)
        yield dep
        yield rs
        rs_template = rs["spec"]["template"]
        prefix = f"{rs['metadata']['name']}-"
        for _ in range(count):
            node = workers[rng.randrange(len(workers))]
            pod = b.running_pod(b.fresh_name(prefix), namespace=app.namespace, template=rs_template, owner=rs,
                                node=node, created=rng.uniform(created, now - 600), generate_name=prefix)
            usage = pod_usage(rng, pod)
            yield pod
            yield metrics_for_pod(pod, usage, now - rng.uniform(0, 15), coarse=made % 5 == 4)
            made += 1
            node_name = node["metadata"]["name"]
            cpu, mem = totals[node_name]
            totals[node_name] = (cpu + sum(u[1] for u in usage), mem + sum(u[2] for u in usage))
    for node in node_objs:
        cpu, mem = totals[node["metadata"]["name"]]
        yield metrics_for_node(node, cpu, mem, now - rng.uniform(0, 15))


# ------------------------------------------------------------------ seed_logs

def seed_logs(server: ObjectStore, objects: Iterable[Mapping[str, Any]], lines_per_container: int = 200, *,
              seed: int = 0, now: float | None = None) -> int:
    """Give every container that has run a log, and a previous log to each that
    restarted (ending in a Go panic, or "Killed" after an OOM kill), so that
    `logs` and `logs --previous` both show something true to the pod's state.
    Returns the number of lines written."""
    rng = Random(seed)
    now = time.time() if now is None else now
    written = 0
    for obj in objects:
        if obj.get("kind") != "Pod":
            continue
        meta = obj["metadata"]
        images = {c["name"]: c["image"] for c in obj["spec"]["containers"]}
        for cs in obj["status"].get("containerStatuses", ()):
            name = cs["name"]
            image = images.get(name, cs["image"])
            flavour = flavour_of(image)
            service = meta["name"].rsplit("-", 2)[0] if "pod-template-hash" in (meta.get("labels") or {}) \
                else name
            state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated")
            if "running" in state:
                started = k.parse_time(state["running"]["startedAt"])
                lines = startup_lines(flavour, started, service, image)
                lines += log_lines(flavour, rng, start=max(started, now - 6 * 3600), end=now,
                                   count=max(lines_per_container - len(lines), 0), service=service)
            elif last is not None:
                # A container waiting to restart: `logs` shows the run that just ended.
                lines = _ended_run(flavour, rng, last, service, image, lines_per_container // 4)
            else:
                continue
            server.append_log(meta["namespace"], meta["name"], name, lines)
            written += len(lines)
            if last is not None:
                previous = _ended_run(flavour, rng, last, service, image, lines_per_container // 2)
                server.append_log(meta["namespace"], meta["name"], name, previous, previous=True)
                written += len(previous)
    return written


def _ended_run(flavour: str, rng: Random, terminated: Mapping[str, Any], service: str, image: str,
               count: int) -> list[str]:
    started = k.parse_time(terminated["startedAt"]) if terminated.get("startedAt") else 0.0
    finished = k.parse_time(terminated["finishedAt"]) if terminated.get("finishedAt") else started
    lines = startup_lines(flavour, started, service, image)
    lines += log_lines(flavour, rng, start=max(started, finished - 6 * 3600), end=finished, count=count,
                       service=service)
    if terminated.get("reason") == "OOMKilled":
        lines += crash_lines(finished, service, oom=True)
    elif terminated.get("exitCode", 0) != 0:
        lines += crash_lines(finished, service, oom=False)
    return lines


def __getattr__(name: str) -> Any:
    """`from cluster import ClusterLife` works without a circular import."""
    if name == "ClusterLife":
        from tui.demo.kube_api.life import ClusterLife

        return ClusterLife
    raise AttributeError(name)


__all__ = [
    "DEFAULT_NAMESPACES", "FAULT_ANNOTATION", "SCENARIOS", "SCENARIO_KINDS", "ClusterLife", "ObjectStore",
    "generate_bulk", "generate_cluster", "seed_logs",
]

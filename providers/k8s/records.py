"""What the Kubernetes views show, as small frozen records.

A watch keeps every object of a cluster in memory, so records hold only what
a screen or an action needs (20,000 pods as raw JSON would cost gigabytes).
Quantities are plain numbers: CPU in cores, memory and storage in bytes,
times as UTC epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

Pairs = tuple[tuple[str, str], ...]
"""Labels or annotations as sorted (key, value) pairs: hashable, cheap to compare."""


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str  # "True" / "False" / "Unknown"
    reason: str = ""
    message: str = ""
    since: float | None = None


@dataclass(frozen=True, slots=True)
class Container:
    """One container of a pod: its spec'd resources and its current and last state."""

    name: str
    image: str
    ready: bool = False
    restarts: int = 0
    state: str = "waiting"  # running / waiting / terminated
    reason: str = ""  # CrashLoopBackOff, ContainerCreating, Completed, OOMKilled…
    started_at: float | None = None
    last_reason: str = ""  # why the previous instance ended: OOMKilled, Error…
    last_exit_code: int | None = None
    last_finished_at: float | None = None
    cpu_request: float | None = None
    cpu_limit: float | None = None
    memory_request: float | None = None
    memory_limit: float | None = None


@dataclass(frozen=True, slots=True)
class KubeNode:
    context: str
    name: str
    ready: str  # the Ready condition's status: True / False / Unknown
    roles: tuple[str, ...] = ()
    kubelet_version: str = ""
    cpu_capacity: float = 0.0
    cpu_allocatable: float = 0.0
    memory_capacity: float = 0.0
    memory_allocatable: float = 0.0
    pods_allocatable: int = 0
    conditions: tuple[Condition, ...] = ()
    taints: tuple[str, ...] = ()  # "key=value:Effect"
    unschedulable: bool = False
    created: float | None = None
    internal_ip: str = ""
    labels: Pairs = ()

    @property
    def key(self) -> str:
        return f"{self.context}/{self.name}"

    @property
    def namespace(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class KubePod:
    context: str
    namespace: str
    name: str
    uid: str = ""
    phase: str = "Pending"
    status: str = "Pending"
    """What kubectl's STATUS column says: Running, CrashLoopBackOff, OOMKilled, Terminating…"""
    ready: int = 0
    total: int = 0
    restarts: int = 0
    last_restart_reason: str = ""
    node: str = ""
    created: float | None = None
    ip: str = ""
    owner_kind: str = ""
    owner_name: str = ""
    containers: tuple[Container, ...] = ()
    conditions: tuple[Condition, ...] = ()
    labels: Pairs = ()
    cpu_request: float = 0.0
    cpu_limit: float | None = None
    memory_request: float = 0.0
    memory_limit: float | None = None
    deleting: bool = False

    @property
    def key(self) -> str:
        return f"{self.context}/{self.namespace}/{self.name}"

    @property
    def terminated(self) -> bool:
        """Finished pods hold no node resources (kubectl describe node skips them too)."""
        return self.phase in ("Succeeded", "Failed")


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, slots=True)
class KubeWorkload:
    context: str
    namespace: str
    name: str
    kind: str  # Deployment / StatefulSet / DaemonSet
    desired: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0
    images: tuple[str, ...] = ()
    created: float | None = None
    rolling: bool = False
    """A rollout is in progress: spec not yet observed, or replicas not all updated and available."""
    generation: int = 0
    observed_generation: int = 0
    paused: bool = False
    conditions: tuple[Condition, ...] = ()
    labels: Pairs = ()
    selector: Pairs = ()
    restarted_at: str = ""  # the kubectl.kubernetes.io/restartedAt template annotation

    @property
    def key(self) -> str:
        return f"{self.context}/{self.namespace}/{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class KubeEvent:
    context: str
    namespace: str
    name: str
    type: str = "Normal"  # Normal / Warning
    reason: str = ""
    message: str = ""
    object_kind: str = ""
    object_name: str = ""
    count: int = 1
    first_seen: float | None = None
    last_seen: float | None = None
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.context}/{self.namespace}/{self.name}"

    @property
    def object_key(self) -> str:
        """The object the event is about, as `context/namespace/Kind/name`."""
        return f"{self.context}/{self.namespace}/{self.object_kind}/{self.object_name}"


@dataclass(frozen=True, slots=True)
class KubePvc:
    context: str
    namespace: str
    name: str
    phase: str = "Pending"
    capacity: float | None = None  # bytes, once bound
    requested: float | None = None
    storage_class: str = ""
    volume: str = ""
    access_modes: tuple[str, ...] = ()
    created: float | None = None
    labels: Pairs = ()

    @property
    def key(self) -> str:
        return f"{self.context}/{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Usage:
    """CPU (cores) and memory (bytes) in use, from metrics.k8s.io."""

    cpu: float
    memory: float


@dataclass(frozen=True, slots=True)
class ResourceStatus:
    """How one resource type of one context is doing: shown as one line when not ok."""

    context: str
    resource: str  # "pods", "deployments", "metrics"…
    synced: bool = False  # the initial list has arrived
    error: str | None = None
    items: int = 0
    relists: int = 0
    reconnects: int = 0
    last_event: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


KubeRecord = KubeNode | KubePod | KubeWorkload | KubeEvent | KubePvc

"""What each Kubernetes view shows, declared as data: its columns (with the
order in which they give way on narrow terminals), how a record becomes a row,
the detail pane's facts and sparklines, the summary sparklines at the top, and
which actions it carries. Adding a view is one `KubeViewSpec` here.

Everything here is plain functions of records: no Textual, easy to test.
Quantities follow `kubectl top`: CPU in millicores, memory in MiB, so a
column sorts by its first number whatever the pod.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from providers.base import ActionTarget, Snapshot
from providers.k8s.action_specs import ACTIONS_BY_VIEW, target_for
from providers.k8s.records import (
    Condition,
    Container,
    KubeEvent,
    KubeNode,
    KubePod,
    KubePvc,
    KubeWorkload,
    Pairs,
    Usage,
)
from providers.k8s.snapshot import EventGroup, KubeSnapshot
from tui.screens.aws_views import FleetSpark, age_of, ago, column_widths, format_unit
from widgets.detail_pane import Field, SparkSpec
from widgets.formatting import human_age, human_bytes
from widgets.resource_table import Column

GIB = float(2**30)
MIB = float(2**20)
EVENTS_IN_DETAIL = 4
"""The newest events of an object the detail pane lists (its lines are few)."""

# -- quantities ------------------------------------------------------------------------


def millicores(cores: float | None) -> str:
    """`250` for 0.25 cores; "-" when not set (kubectl's `<none>`)."""
    return "-" if cores is None else str(round(cores * 1000))


def mebibytes(size: float | None) -> str:
    return "-" if size is None else str(round(size / MIB))


def cpu_text(cores: float | None) -> str:
    """`250m`, `2`, `1.5` as a request or limit reads in a manifest."""
    if cores is None:
        return "-"
    if cores >= 1 and float(cores).is_integer():
        return str(int(cores))
    return f"{round(cores * 1000)}m" if cores < 1 else f"{cores:.2f}".rstrip("0").rstrip(".")


def memory_text(size: float | None) -> str:
    """`512Mi`, `2Gi`, as a manifest says it."""
    if size is None:
        return "-"
    if size >= GIB:
        gib = size / GIB
        return f"{gib:.0f}Gi" if gib.is_integer() else f"{gib:.1f}Gi"
    return f"{round(size / MIB)}Mi"


def use_req_lim(used: float | None, request: float | None, limit: float | None,
                unit: Callable[[float | None], str]) -> str:
    """`120/250/500`: used, request, limit in one unit (the column header names it)."""
    if used is None and not request and limit is None:
        return "-"
    return f"{unit(used)}/{unit(request or None)}/{unit(limit)}"


def gib_pair(part: float, whole: float) -> str:
    return f"{part / GIB:.1f}/{whole / GIB:.1f}Gi"


def share(used: float | None, whole: float) -> float | None:
    """Percent of `whole`, as `kubectl top node` reports CPU% and MEMORY%."""
    if used is None or whole <= 0:
        return None
    return 100.0 * used / whole


def pairs_text(pairs: Pairs, skip: Iterable[str] = ()) -> str:
    skipped = set(skip)
    shown = [f"{k}={v}" for k, v in pairs if k not in skipped]
    return " · ".join(shown) if shown else "none"


def short_image(image: str) -> str:
    """`api:1.4.2` for `registry.example.com/shop/api:1.4.2`; digests cut to 12."""
    name = image.rsplit("/", 1)[-1]
    if "@sha256:" in name:
        base, digest = name.split("@sha256:", 1)
        return f"{base}@{digest[:12]}"
    return name


def ready_severity(value: Any) -> str | None:
    """`n/m`: all ready ok, some warn, none (of some wanted) error."""
    try:
        ready, total = (int(p) for p in str(value).split("/", 1))
    except ValueError:
        return None
    if ready >= total:
        return "ok" if total else None
    return "error" if ready == 0 else "warn"


# -- nodes -------------------------------------------------------------------------------


def node_status(node: KubeNode) -> str:
    """kubectl's STATUS: Ready / NotReady (condition False or Unknown) / Unknown
    (no Ready condition at all), then `,SchedulingDisabled` when cordoned."""
    if node.ready == "True":
        text = "Ready"
    elif node.ready in ("False", "Unknown"):
        text = "NotReady"
    else:
        text = "Unknown"
    return f"{text},SchedulingDisabled" if node.unschedulable else text


def node_severity(value: Any) -> str | None:
    text = str(value)
    if text.startswith("NotReady"):
        return "error"
    if text.startswith("Unknown") or "SchedulingDisabled" in text:
        return "warn"
    return "ok" if text == "Ready" else None


def node_conditions(node: KubeNode) -> str:
    """Unhealthy conditions with their reason and message (Ready not True, a
    pressure True); `Ready · no pressure` when all is well."""
    bad = [c for c in node.conditions if (c.status != "True") == (c.type == "Ready")]
    if not bad:
        return "Ready · no pressure" if node.conditions else "none reported"
    return " · ".join(f"{c.type}={c.status}" + (f" ({c.reason}: {c.message})" if c.message
                                                 else f" ({c.reason})" if c.reason else "")
                      for c in bad)


def node_roles(node: KubeNode) -> str:
    return ",".join(node.roles) if node.roles else "<none>"


# -- pods --------------------------------------------------------------------------------

POD_ERRORS = frozenset({
    "crashloopbackoff", "oomkilled", "error", "imagepullbackoff", "errimagepull", "invalidimagename",
    "createcontainerconfigerror", "createcontainererror", "runcontainererror", "evicted", "failed",
    "containercannotrun", "deadlineexceeded", "unknown", "nodelost",
})
POD_WARNINGS = frozenset({
    "pending", "containercreating", "podinitializing", "terminating", "unschedulable",
    "notready", "shutdown",
})


def pod_severity(value: Any) -> str | None:
    """kubectl STATUS words: crash loops and kills red, waiting yellow, running green."""
    text = str(value).strip().lower()
    if text.startswith("init:"):
        reason = text[5:]
        return "error" if reason in POD_ERRORS else "warn"
    if text in POD_ERRORS:
        return "error"
    if text in POD_WARNINGS:
        return "warn"
    if text in ("running", "completed", "succeeded"):
        return "ok"
    return None


def restarts_text(pod: KubePod) -> str:
    """`7 (OOMKilled)`: how often, and why the last one ended."""
    if pod.restarts and pod.last_restart_reason:
        return f"{pod.restarts} ({pod.last_restart_reason})"
    return str(pod.restarts)


def container_state(c: Container, now: float) -> str:
    """`running, ready, 2h` / `waiting: CrashLoopBackOff` / `terminated: Completed`."""
    if c.state == "running":
        since = f", {human_age(max(0.0, now - c.started_at))}" if c.started_at else ""
        return f"running, {'ready' if c.ready else 'not ready'}{since}"
    return f"{c.state}: {c.reason}" if c.reason else c.state


def last_termination(c: Container, now: float) -> str:
    """`OOMKilled (exit 137) 3m ago`, or "" when it never ended before."""
    if not c.last_reason and c.last_exit_code is None:
        return ""
    parts = [c.last_reason or "terminated"]
    if c.last_exit_code is not None:
        parts.append(f"(exit {c.last_exit_code})")
    if c.last_finished_at is not None:
        parts.append(f"{human_age(max(0.0, now - c.last_finished_at))} ago")
    return " ".join(parts)


def container_line(c: Container, now: float) -> str:
    text = f"{c.name}: {container_state(c, now)} · restarts {c.restarts}"
    last = last_termination(c, now)
    return f"{text} · last {last}" if last else text


def container_resources(c: Container) -> str:
    return (f"{c.name}: cpu {cpu_text(c.cpu_request)}/{cpu_text(c.cpu_limit)} · "
            f"memory {memory_text(c.memory_request)}/{memory_text(c.memory_limit)} (request/limit)")


def conditions_text(conditions: Sequence[Condition], healthy: str = "True") -> str:
    """Conditions not in their healthy state first, with their reason."""
    if not conditions:
        return "none reported"
    bad = [c for c in conditions if c.status != healthy]
    good = [c for c in conditions if c.status == healthy]
    parts = [f"{c.type}={c.status}" + (f" ({c.reason})" if c.reason else "") for c in bad]
    parts += [f"{c.type}={c.status}" for c in good]
    return " · ".join(parts)


# -- what a row may need beyond its record -----------------------------------------------


@dataclass(frozen=True)
class ViewData:
    """What rows and details read besides their record: the time of the
    snapshot, usage and requests, and the counts that live in other views."""

    now: float
    usage: Mapping[str, Usage] = field(default_factory=dict)
    requested: Mapping[str, Usage] = field(default_factory=dict)
    pods_on_node: Mapping[str, int] | None = None
    """Node key -> pods scheduled there that still hold resources (from `k8s.pods`);
    None when there is no pods data to count from."""
    snapshot: KubeSnapshot | None = None


def pods_per_node(pods: Iterable[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in pods:
        if isinstance(pod, KubePod) and pod.node and not pod.terminated:
            key = f"{pod.context}/{pod.node}"
            counts[key] = counts.get(key, 0) + 1
    return counts


class EventIndex:
    """A view's way to an object's recent events (from the `k8s.events` snapshot).

    Namespaced objects match on context/namespace/kind/name; nodes and other
    cluster-scoped objects on context/kind/name (their events live in `default`)."""

    CLUSTER_SCOPED = frozenset({"Node", "PersistentVolume", "Namespace"})

    def __init__(self, events: Iterable[KubeEvent] = ()) -> None:
        self._by_object: dict[tuple[str, str, str, str], list[KubeEvent]] = {}
        for e in events:
            namespace = "" if e.object_kind in self.CLUSTER_SCOPED else e.namespace
            self._by_object.setdefault((e.context, namespace, e.object_kind, e.object_name), []).append(e)
        for found in self._by_object.values():
            found.sort(key=lambda e: e.last_seen or 0.0, reverse=True)

    def about(self, context: str, namespace: str, kind: str, name: str) -> list[KubeEvent]:
        """Newest first."""
        if kind in self.CLUSTER_SCOPED:
            namespace = ""
        return list(self._by_object.get((context, namespace, kind, name), ()))


def event_line(e: KubeEvent, now: float) -> str:
    """`Warning BackOff (x42) 2m ago: Back-off restarting failed container`, as kubectl counts."""
    count = f" (x{e.count})" if e.count > 1 else ""
    when = f" {human_age(max(0.0, now - e.last_seen))} ago" if e.last_seen is not None else ""
    return f"{e.type} {e.reason}{count}{when}: {e.message}"


def event_fields(events: Sequence[KubeEvent], now: float) -> list[Field]:
    if not events:
        return [("Events", "none recent")]
    shown = [("Events" if i == 0 else "", event_line(e, now))
             for i, e in enumerate(events[:EVENTS_IN_DETAIL])]
    if len(events) > EVENTS_IN_DETAIL:
        shown.append(("", f"+{len(events) - EVENTS_IN_DETAIL} older (Events view, key t)"))
    return shown


# -- the spec every view declares ----------------------------------------------------------


@dataclass(frozen=True)
class KubeViewSpec:
    """One Kubernetes view: everything it shows, as data."""

    view: str
    """The provider's view name: the provider is `k8s.<view>`."""
    noun: str
    columns: tuple[Column, ...]
    to_row: Callable[[Any, ViewData], tuple[Any, ...]]
    """(record, data) -> values in `columns` order."""
    detail: Callable[[Any, ViewData, EventIndex], tuple[str, list[Field]]]
    fleet: tuple[FleetSpark, ...]
    sparks: tuple[SparkSpec, ...] = ()
    """The detail pane's sparklines, from `KubeSnapshot.usage_series(key)`."""
    sort_key: str | None = "name"
    sort_reverse: bool = False
    drop_order: tuple[str, ...] = ()
    """Columns given up first when the terminal is too narrow for all of them."""
    namespaced: bool = True
    """Namespaced rows: the namespace selector filters them, a Namespace column shows
    when it does not."""

    @property
    def provider(self) -> str:
        return f"k8s.{self.view}"

    @property
    def action_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in ACTIONS_BY_VIEW.get(self.view, ()))

    def records(self, snapshot: KubeSnapshot) -> list[Any]:
        """The rows' records: the items, or for Events one group per object."""
        if self.view == "events":
            return snapshot.event_groups()
        return list(snapshot.items)

    def target(self, record: Any) -> ActionTarget | None:
        return target_for(record)


def visible_records(spec: KubeViewSpec, records: Iterable[Any], namespace: str | None) -> list[Any]:
    """Client-side namespace filter; cluster-scoped rows (nodes) always show."""
    if namespace is None or not spec.namespaced:
        return list(records)
    return [r for r in records if r.namespace == namespace]


class RowCache:
    """Rows of records that did not change are reused.

    A watch event replaces one record; the other 19,999 pods are the very same
    objects, so their rows need not be formatted again (at 100 events/s that
    formatting was most of the console's CPU). A row is reused when its record
    is the same object and what it borrows from `ViewData` (usage, requests,
    pods on the node) is equal; its age cell is recomputed when the age it
    shows can have moved on (3m stays 3m for a minute), not on every update."""

    def __init__(self, spec: KubeViewSpec) -> None:
        self.spec = spec
        keys = [c.key for c in spec.columns]
        self._age = keys.index("age") if "age" in keys else None
        self._rows: dict[str, tuple[Any, tuple[Any, ...], tuple[Any, ...], float]] = {}

    def rows(self, records: Iterable[Any], data: ViewData) -> list[tuple[str, tuple[Any, ...]]]:
        out: list[tuple[str, tuple[Any, ...]]] = []
        fresh: dict[str, tuple[Any, tuple[Any, ...], tuple[Any, ...], float]] = {}
        on_node = data.pods_on_node
        age, now = self._age, data.now
        for record in records:
            key = record.key
            borrowed = (data.usage.get(key), data.requested.get(key),
                        None if on_node is None else on_node.get(key, 0))
            hit = self._rows.get(key)
            if hit is not None and hit[0] is record and hit[1] == borrowed:
                row, due = hit[2], hit[3]
                if age is not None and now >= due:
                    row = (*row[:age], age_of(record.created, now), *row[age + 1:])
                    due = _age_due(record.created, row[age])
            else:
                row = self.spec.to_row(record, data)
                due = _age_due(getattr(record, "created", None), row[age]) if age is not None else 0.0
            fresh[key] = (record, borrowed, row, due)
            out.append((key, row))
        self._rows = fresh
        return out


def _age_due(then: float | None, shown: float | None) -> float:
    """When an age cell showing `shown` (from age_of) next changes."""
    if then is None or shown is None:
        return float("inf")
    unit = next((size for size in (86400, 3600, 60) if shown >= size), 1)
    return then + shown + unit


NAME_WIDTH_CAP = 24
"""Context, namespace and node columns are as wide as their longest name, up to this."""
SIZED = ("context", "namespace", "node")


def sized_columns(spec: KubeViewSpec, records: Iterable[Any]) -> tuple[Column, ...]:
    """The spec's columns with Context, Namespace and (pods') Node as wide as the
    names they hold: `prod` does not need the room of `arn:aws:eks:…`, and fixed
    widths leave every spare cell to the Name column."""
    longest = dict.fromkeys(SIZED, 0)
    node_column = spec.view == "pods"
    for r in records:
        longest["context"] = max(longest["context"], len(r.context))
        longest["namespace"] = max(longest["namespace"], len(getattr(r, "namespace", "")))
        if node_column:
            longest["node"] = max(longest["node"], len(r.node))
    return tuple(
        replace(c, width=max(len(c.label), min(NAME_WIDTH_CAP, longest[c.key]))) if c.key in longest else c
        for c in spec.columns
    )


def fit_columns(spec: KubeViewSpec, width: int, *, contexts: int, namespace: str | None,
                columns: Sequence[Column] | None = None) -> tuple[int, ...]:
    """Indices of the columns to show: Context only with two or more contexts,
    Namespace only when not narrowed to one, then give up columns in
    `drop_order` until the rest fit `width` whole. `columns` are the spec's
    columns as sized for the data (`sized_columns`)."""
    all_columns = tuple(columns) if columns is not None else spec.columns
    keep = [i for i, c in enumerate(all_columns)
            if not (c.key == "context" and contexts < 2)
            and not (c.key == "namespace" and namespace is not None)]
    for key in spec.drop_order:
        cols = [all_columns[i] for i in keep]
        if sum(column_widths(cols, width)) + len(cols) - 1 <= width:
            break
        keep = [i for i in keep if all_columns[i].key != key]
    return tuple(keep)


def contexts_of(snapshot: KubeSnapshot | None) -> list[str]:
    """Every context the snapshot speaks of: watched (statuses) or seen in its rows."""
    if snapshot is None:
        return []
    return sorted({*snapshot.contexts(), *(i.context for i in snapshot.items)})


@dataclass(frozen=True)
class QuantityColumn(Column):
    """Bytes sorted as numbers but written as Kubernetes writes them (`10Gi`)."""

    def format(self, value: Any) -> str:
        return "—" if value is None else memory_text(value)


# Hotkeys (shift+letter sorts): N opens the namespace picker and R restarts a
# workload, so no Kubernetes column takes either; S is the table's reverse.
CONTEXT = Column("context", "Context", min_width=7, hotkey="X")
NAMESPACE = Column("namespace", "Namespace", min_width=9, hotkey="P")


def _name(min_width: int = 16, flex: int = 3) -> Column:
    return Column("name", "Name", min_width=min_width, flex=flex, hotkey="A")


AGE = Column("age", "Age", width=4, kind="age", hotkey="G")

# -- Nodes -------------------------------------------------------------------------------

NODE_COLUMNS = (
    CONTEXT,
    _name(min_width=12),
    Column("status", "Status", width=24, kind="status", severity=node_severity, hotkey="T"),
    Column("roles", "Roles", width=13, hotkey="O"),
    Column("version", "Version", width=8, hotkey="V"),
    Column("cpu_req", "CPU req", width=9),
    Column("cpu", "CPU%", width=5, kind="percent", hotkey="C"),
    Column("mem_req", "Mem req", width=11),
    Column("memory", "Mem%", width=5, kind="percent", hotkey="M"),
    Column("pods", "Pods", width=7, hotkey="D"),
    AGE,
)


def node_row(n: KubeNode, data: ViewData) -> tuple[Any, ...]:
    requested = data.requested.get(n.key)
    used = data.usage.get(n.key)
    pods = None if data.pods_on_node is None else data.pods_on_node.get(n.key, 0)
    return (
        n.context, n.name, node_status(n), node_roles(n), n.kubelet_version,
        f"{(requested.cpu if requested else 0.0):.1f}/{n.cpu_allocatable:.1f}",
        share(used.cpu if used else None, n.cpu_allocatable),
        gib_pair(requested.memory if requested else 0.0, n.memory_allocatable),
        share(used.memory if used else None, n.memory_allocatable),
        f"{'?' if pods is None else pods}/{n.pods_allocatable}",
        age_of(n.created, data.now),
    )


def node_detail(n: KubeNode, data: ViewData, events: EventIndex) -> tuple[str, list[Field]]:
    requested = data.requested.get(n.key)
    used = data.usage.get(n.key)
    cpu = (f"{cpu_text(requested.cpu if requested else 0.0)} requested of "
           f"{cpu_text(n.cpu_allocatable)} allocatable")
    memory = (f"{memory_text(requested.memory if requested else 0.0)} requested of "
              f"{memory_text(n.memory_allocatable)} allocatable")
    if used is not None:
        cpu += f" · {cpu_text(used.cpu)} used"
        memory += f" · {memory_text(used.memory)} used"
    fields: list[Field] = [("Conditions", node_conditions(n))]
    fields += event_fields(events.about(n.context, "", "Node", n.name), data.now)
    fields += [
        ("CPU", cpu),
        ("Memory", memory),
        ("Taints", ", ".join(n.taints) or "none"),
        ("Address", f"{n.internal_ip or '—'} · kubelet {n.kubelet_version or '?'}"),
        ("Labels", pairs_text(n.labels)),
        ("Created", ago(n.created, data.now)),
    ]
    return f"{n.name} · {n.context} · {node_status(n)}", fields


NODES = KubeViewSpec(
    "nodes", "nodes", NODE_COLUMNS, node_row, node_detail,
    fleet=(
        FleetSpark("nodes", "Nodes"),
        FleetSpark("not_ready", "Not ready", warn=1),
        FleetSpark("cpu_requested", "CPU requested", "cores"),
        FleetSpark("cpu_used", "CPU used", "cores"),
    ),
    sparks=(SparkSpec("cpu", "CPU"), SparkSpec("memory", "Memory")),
    drop_order=("version", "roles", "age", "pods", "mem_req", "cpu_req"),
    namespaced=False,
)

# -- Workloads ---------------------------------------------------------------------------

SHORT_KIND = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}

WORKLOAD_COLUMNS = (
    CONTEXT,
    Column("kind", "Kind", width=6, hotkey="K"),
    NAMESPACE,
    _name(),
    Column("ready", "Ready", width=7, kind="status", severity=ready_severity, align="right", hotkey="Y"),
    Column("updated", "Up-to-date", width=10, kind="number", hotkey="U"),
    Column("available", "Available", width=9, kind="number", hotkey="V"),
    Column("images", "Images", min_width=12, flex=2, hotkey="I"),
    AGE,
    Column("rollout", "Rollout", width=7, kind="status", severity=lambda v: "warn" if v else None),
)


def rollout_text(w: KubeWorkload) -> str:
    if w.paused:
        return "paused"
    return "rolling" if w.rolling else ""


def workload_row(w: KubeWorkload, data: ViewData) -> tuple[Any, ...]:
    return (w.context, SHORT_KIND.get(w.kind, w.kind), w.namespace, w.name, f"{w.ready}/{w.desired}",
            w.updated, w.available, ", ".join(short_image(i) for i in w.images),
            age_of(w.created, data.now), rollout_text(w))


def workload_detail(w: KubeWorkload, data: ViewData, events: EventIndex) -> tuple[str, list[Field]]:
    rollout = rollout_text(w) or "complete"
    if w.generation and w.observed_generation < w.generation:
        rollout += f" (generation {w.generation} not yet observed, at {w.observed_generation})"
    fields: list[Field] = [
        ("Replicas", f"{w.desired} desired · {w.ready} ready · {w.updated} up-to-date · "
                     f"{w.available} available"),
        ("Rollout", rollout + (f" · restarted {w.restarted_at}" if w.restarted_at else "")),
        ("Conditions", conditions_text(w.conditions)),
    ]
    fields += event_fields(events.about(w.context, w.namespace, w.kind, w.name), data.now)
    fields += [
        ("Images", ", ".join(w.images) or "none"),
        ("Selector", pairs_text(w.selector)),
        ("Labels", pairs_text(w.labels)),
        ("Created", ago(w.created, data.now)),
    ]
    return f"{w.kind} {w.name} · {w.context}/{w.namespace} · {w.ready}/{w.desired} ready", fields


WORKLOADS = KubeViewSpec(
    "workloads", "workloads", WORKLOAD_COLUMNS, workload_row, workload_detail,
    fleet=(
        FleetSpark("workloads", "Workloads"),
        FleetSpark("degraded", "Degraded", warn=1),
        FleetSpark("rolling", "Rolling out"),
    ),
    drop_order=("images", "updated", "available", "age", "kind"),
)

# -- Pods --------------------------------------------------------------------------------

POD_COLUMNS = (
    CONTEXT,
    NAMESPACE,
    _name(min_width=20),  # pod names run long: on 80 columns Age gives way first
    Column("ready", "Ready", width=5, align="right", hotkey="Y"),
    Column("status", "Status", width=16, kind="status", severity=pod_severity, hotkey="T"),
    Column("restarts", "Restarts", width=13, hotkey="E"),
    Column("node", "Node", min_width=10, flex=1, hotkey="O"),
    Column("cpu", "CPU(m) u/r/l", width=13, hotkey="C"),
    Column("memory", "Mem(Mi) u/r/l", width=14, hotkey="M"),
    AGE,
)


def pod_row(p: KubePod, data: ViewData) -> tuple[Any, ...]:
    used = data.usage.get(p.key)
    return (
        p.context, p.namespace, p.name, f"{p.ready}/{p.total}", p.status, restarts_text(p), p.node,
        use_req_lim(used.cpu if used else None, p.cpu_request, p.cpu_limit, millicores),
        use_req_lim(used.memory if used else None, p.memory_request, p.memory_limit, mebibytes),
        age_of(p.created, data.now),
    )


def pod_detail(p: KubePod, data: ViewData, events: EventIndex) -> tuple[str, list[Field]]:
    fields: list[Field] = [("Containers" if i == 0 else "", container_line(c, data.now))
                           for i, c in enumerate(p.containers)] or [("Containers", "none")]
    fields += event_fields(events.about(p.context, p.namespace, "Pod", p.name), data.now)
    owner = f"{p.owner_kind}/{p.owner_name}" if p.owner_kind else "none (a bare pod: nothing replaces it)"
    fields += [
        ("Node", f"{p.node or 'not scheduled'} · pod IP {p.ip or '—'}"),
        ("Owner", owner),
        ("Conditions", conditions_text(p.conditions)),
    ]
    fields += [("Resources" if i == 0 else "", container_resources(c)) for i, c in enumerate(p.containers)]
    fields += [
        ("Labels", pairs_text(p.labels)),
        ("Created", ago(p.created, data.now)),
    ]
    status = p.status + (" (deleting)" if p.deleting and p.status != "Terminating" else "")
    return f"{p.name} · {p.context}/{p.namespace} · {status}", fields


PODS = KubeViewSpec(
    "pods", "pods", POD_COLUMNS, pod_row, pod_detail,
    fleet=(
        FleetSpark("pods", "Pods"),
        FleetSpark("not_ready", "Not ready", warn=1),
        FleetSpark("cpu_cores", "CPU used", "cores"),
        FleetSpark("memory_bytes", "Memory used", "bytes"),
    ),
    sparks=(SparkSpec("cpu", "CPU"), SparkSpec("memory", "Memory")),
    drop_order=("node", "cpu", "memory", "age", "context"),
)

# -- Events ------------------------------------------------------------------------------

EVENT_COLUMNS = (
    CONTEXT,
    NAMESPACE,
    Column("type", "Type", width=7, kind="status",
           severity=lambda v: "warn" if v == "Warning" else None, hotkey="T"),
    Column("object", "Object", min_width=16, flex=2, hotkey="O"),
    Column("reason", "Reason", width=18, hotkey="E"),  # ProvisioningFailed
    Column("message", "Message", min_width=16, flex=4),
    Column("count", "Count", width=5, kind="number", hotkey="C"),
    Column("last_seen", "Last", width=4, kind="age", hotkey="L"),
)


SHORT_OBJECT_KIND = {"PersistentVolumeClaim": "PVC", "PersistentVolume": "PV",
                     "HorizontalPodAutoscaler": "HPA", "PodDisruptionBudget": "PDB"}
"""Kinds too long for the Object column (the detail pane's title spells them out)."""


def event_row(g: EventGroup, data: ViewData) -> tuple[Any, ...]:
    kind = SHORT_OBJECT_KIND.get(g.object_kind, g.object_kind)
    return (g.context, g.namespace, g.type, f"{kind}/{g.object_name}", g.reason, g.message,
            g.count, age_of(g.last_seen, data.now))


def event_detail(g: EventGroup, data: ViewData, events: EventIndex) -> tuple[str, list[Field]]:
    fields: list[Field] = [("Events" if i == 0 else "", event_line(e, data.now))
                           for i, e in enumerate(g.events)]
    first = min((e.first_seen for e in g.events if e.first_seen is not None), default=None)
    sources = sorted({e.source for e in g.events if e.source})
    fields += [("First seen", ago(first, data.now)), ("Source", ", ".join(sources) or "—")]
    return f"{g.object_kind}/{g.object_name} · {g.context}/{g.namespace} · {g.count} events", fields


EVENTS = KubeViewSpec(
    "events", "event groups", EVENT_COLUMNS, event_row, event_detail,
    fleet=(FleetSpark("warnings", "Warnings", warn=1),),
    sort_key=None,  # event_groups' order: warnings first, newest first
    drop_order=("context", "count", "reason", "namespace"),
)

# -- PVCs --------------------------------------------------------------------------------


def pvc_severity(value: Any) -> str | None:
    return {"Bound": "ok", "Pending": "warn", "Lost": "error"}.get(str(value))


PVC_COLUMNS = (
    CONTEXT,
    NAMESPACE,
    _name(min_width=14, flex=3),
    Column("phase", "Phase", width=7, kind="status", severity=pvc_severity, hotkey="T"),
    QuantityColumn("capacity", "Capacity", width=8, kind="bytes", hotkey="Z"),
    Column("class", "Class", width=12, hotkey="L"),
    Column("volume", "Volume", min_width=12, flex=2, hotkey="V"),
    AGE,
)


def pvc_row(c: KubePvc, data: ViewData) -> tuple[Any, ...]:
    return (c.context, c.namespace, c.name, c.phase, c.capacity if c.capacity is not None else c.requested,
            c.storage_class, c.volume, age_of(c.created, data.now))


def pvc_detail(c: KubePvc, data: ViewData, events: EventIndex) -> tuple[str, list[Field]]:
    size = f"{human_bytes(c.capacity)} bound" if c.capacity is not None else "not bound yet"
    if c.requested is not None:
        size += f" · {human_bytes(c.requested)} requested"
    fields: list[Field] = [
        ("Size", size),
        ("Volume", f"{c.volume or 'none yet'} · class {c.storage_class or '(default)'} · "
                   f"{', '.join(c.access_modes) or 'no access modes'}"),
    ]
    fields += event_fields(events.about(c.context, c.namespace, "PersistentVolumeClaim", c.name), data.now)
    fields += [("Labels", pairs_text(c.labels)), ("Created", ago(c.created, data.now))]
    return f"{c.name} · {c.context}/{c.namespace} · {c.phase}", fields


PVCS = KubeViewSpec(
    "pvcs", "volume claims", PVC_COLUMNS, pvc_row, pvc_detail,
    fleet=(FleetSpark("claims", "Claims"),),
    drop_order=("volume", "age", "class"),
)

KUBE_VIEWS: dict[str, KubeViewSpec] = {v.view: v for v in (NODES, WORKLOADS, PODS, EVENTS, PVCS)}
"""By provider view name."""

# -- values, problems, status ---------------------------------------------------------------


def format_fleet(value: float | None, unit: str) -> str:
    """A summary figure in its unit: `3.2 cores`, `12.0 GB`, `4`."""
    if unit == "cores":
        return "—" if value is None else f"{value:.2f} cores"
    return format_unit(value, unit)


def usage_sparks(snapshot: KubeSnapshot | None, key: str) -> list[tuple[Sequence[float], str]]:
    """The detail pane's CPU and memory sparklines for a pod or node."""
    if snapshot is None:
        return []
    cpu, memory = snapshot.usage_series(key)
    return [
        (cpu, (cpu_text(cpu[-1]) + (" cores" if cpu[-1] >= 1 else "")) if cpu else "—"),
        (memory, memory_text(memory[-1]) if memory else "—"),
    ]


MAX_PROBLEM_LINES = 3


def problem_lines(snapshot: KubeSnapshot | None, poll_error: str | None) -> list[str]:
    """One line per failing context/resource (`prod: secrets: forbidden: …`), at
    most three and a count; the rows of the contexts that answered stay shown."""
    lines = [f"last poll failed: {poll_error}"] if poll_error else []
    if snapshot is not None:
        lines += snapshot.problems()
    if len(lines) > MAX_PROBLEM_LINES:
        lines = [*lines[:MAX_PROBLEM_LINES - 1], f"+{len(lines) - MAX_PROBLEM_LINES + 1} more failing"]
    return lines


def scope_line(spec: KubeViewSpec, snapshot: KubeSnapshot | None, namespace: str | None) -> str:
    """What the view looks at: `contexts prod, staging · namespace shop (N: change)`."""
    contexts = contexts_of(snapshot)
    where = (f"context{'s' if len(contexts) != 1 else ''} {', '.join(contexts)}" if contexts
             else "no context answered yet")
    if not spec.namespaced:
        scope = "cluster-wide" if namespace is None else f"cluster-wide (other views: namespace {namespace})"
    else:
        scope = "all namespaces" if namespace is None else f"namespace {namespace}"
    return f"{where} · {scope} · N: namespace"


def empty_text(spec: KubeViewSpec, snapshot: KubeSnapshot | None, poll_error: str | None,
               namespace: str | None) -> str:
    """Why a view has no rows: still waiting, nothing there, or nothing in this namespace."""
    if snapshot is None:
        return f"no data yet: {poll_error}" if poll_error else f"waiting for {spec.noun}…"
    where = f" in namespace {namespace}" if namespace is not None and spec.namespaced else ""
    unsynced = [s for s in snapshot.statuses if not s.synced and s.ok]
    if unsynced and not snapshot.items:
        return f"listing {spec.noun}…"
    return f"no {spec.noun}{where}"


def kube_problem(snapshot: Snapshot | None) -> str | None:
    """The first failing context/resource of a Kubernetes snapshot, for the status line."""
    if not isinstance(snapshot, KubeSnapshot):
        return None
    problems = snapshot.problems()
    if not problems:
        return None
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def namespaces_in(snapshots: Iterable[Snapshot | None]) -> list[str]:
    """Every namespace the Kubernetes data mentions, sorted: the picker's choices."""
    found: set[str] = set()
    for snap in snapshots:
        if isinstance(snap, KubeSnapshot):
            found.update(ns for i in snap.items if (ns := getattr(i, "namespace", "")))
    return sorted(found)

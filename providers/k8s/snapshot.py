"""One Kubernetes view's data at one moment, across every watched context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from providers.base import Snapshot
from providers.k8s.records import (
    KubeEvent,
    KubeNode,
    KubePod,
    KubeRecord,
    KubeWorkload,
    ResourceStatus,
    Usage,
)
from providers.k8s.usage import UsageHistory

VIEWS = ("nodes", "workloads", "pods", "events", "pvcs")
"""Provider `k8s.<view>` exists for each."""


@dataclass(frozen=True, slots=True)
class EventGroup:
    """Every event about one object: what the Events view shows as one row."""

    context: str
    namespace: str
    object_kind: str
    object_name: str
    type: str  # Warning when any of its events is a warning
    reason: str  # of the newest event
    message: str
    count: int  # occurrences, summed
    last_seen: float | None
    events: tuple[KubeEvent, ...]  # newest first

    @property
    def key(self) -> str:
        return f"{self.context}/{self.namespace}/{self.object_kind}/{self.object_name}"


def group_events(events: Iterable[KubeEvent]) -> list[EventGroup]:
    """Events grouped by the object they are about; Warning groups first, newest first."""
    by_object: dict[str, list[KubeEvent]] = {}
    for event in events:
        by_object.setdefault(event.object_key, []).append(event)
    groups = []
    for members in by_object.values():
        members.sort(key=lambda e: e.last_seen or 0.0, reverse=True)
        newest = members[0]
        groups.append(EventGroup(
            context=newest.context, namespace=newest.namespace, object_kind=newest.object_kind,
            object_name=newest.object_name,
            type="Warning" if any(e.type == "Warning" for e in members) else newest.type,
            reason=newest.reason, message=newest.message, count=sum(e.count for e in members),
            last_seen=newest.last_seen, events=tuple(members),
        ))
    groups.sort(key=lambda g: (g.type != "Warning", -(g.last_seen or 0.0)))
    return groups


@dataclass(frozen=True)
class KubeSnapshot(Snapshot):
    """`items` are the view's records (nodes, pods, workloads, events or claims);
    `statuses` say, per context and resource type, whether the watch is healthy."""

    view: str = "pods"
    items: tuple[KubeRecord, ...] = ()
    statuses: tuple[ResourceStatus, ...] = ()
    usage: Mapping[str, Usage] = field(default_factory=dict)
    """Latest metrics.k8s.io figures by record key (pods and nodes); empty when not served."""
    requested: Mapping[str, Usage] = field(default_factory=dict)
    """Nodes view: the sum of the requests of the pods scheduled on each node."""
    history: UsageHistory | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data.pop("history", None)
        return data

    def problems(self) -> list[str]:
        """One line per failing context/resource, e.g. `prod: pods: forbidden: …`."""
        return [f"{s.context}: {s.resource}: {s.error}" for s in self.statuses if s.error]

    def contexts(self) -> list[str]:
        return sorted({s.context for s in self.statuses})

    def usage_series(self, key: str) -> tuple[Sequence[float], Sequence[float]]:
        """(CPU cores, memory bytes) samples for a pod or node, oldest first."""
        if self.history is None:
            return (), ()
        return self.history.series(key)

    def event_groups(self) -> list[EventGroup]:
        return group_events(i for i in self.items if isinstance(i, KubeEvent))

    def metrics(self) -> Mapping[str, float]:
        """Cluster-wide figures for the summary sparklines (all contexts together)."""
        if self.view == "pods":
            pods = [i for i in self.items if isinstance(i, KubePod)]
            used = [self.usage[p.key] for p in pods if p.key in self.usage]
            figures = {
                "pods": float(len(pods)),
                "not_ready": float(sum(1 for p in pods if not p.terminated and p.ready < p.total)),
                "pending": float(sum(1 for p in pods if p.phase == "Pending")),
                "restarts": float(sum(p.restarts for p in pods)),
            }
            if used:
                figures["cpu_cores"] = sum(u.cpu for u in used)
                figures["memory_bytes"] = sum(u.memory for u in used)
            return figures
        if self.view == "nodes":
            nodes = [i for i in self.items if isinstance(i, KubeNode)]
            figures = {
                "nodes": float(len(nodes)),
                "not_ready": float(sum(1 for n in nodes if n.ready != "True")),
                "cpu_allocatable": sum(n.cpu_allocatable for n in nodes),
                "cpu_requested": sum(r.cpu for r in self.requested.values()),
            }
            used = [self.usage[n.key] for n in nodes if n.key in self.usage]
            if used:
                figures["cpu_used"] = sum(u.cpu for u in used)
                figures["memory_used"] = sum(u.memory for u in used)
            return figures
        if self.view == "workloads":
            workloads = [i for i in self.items if isinstance(i, KubeWorkload)]
            return {
                "workloads": float(len(workloads)),
                "degraded": float(sum(1 for w in workloads if w.available < w.desired)),
                "rolling": float(sum(1 for w in workloads if w.rolling)),
            }
        if self.view == "events":
            return {"warnings": float(sum(1 for i in self.items
                                          if isinstance(i, KubeEvent) and i.type == "Warning"))}
        return {"claims": float(len(self.items))}

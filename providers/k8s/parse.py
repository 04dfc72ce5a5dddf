"""Raw API objects (JSON dicts) into records: what a console needs, nothing more."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

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

_SUFFIX = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
    "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50,
    "Ei": 2.0**60,
}


@lru_cache(maxsize=4096)
def quantity(text: str | int | float | None) -> float | None:
    """A Kubernetes quantity ("250m", "1.5Gi", "2", "1e3") as a number; None when absent or bad."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    value = text.strip()
    for size in (2, 1):
        suffix = value[-size:]
        if len(value) > size and suffix in _SUFFIX and not suffix.isdigit():
            try:
                return float(value[:-size]) * _SUFFIX[suffix]
            except ValueError:
                return None
    try:
        return float(value)
    except ValueError:
        return None


@lru_cache(maxsize=8192)
def timestamp(text: str | None) -> float | None:
    """RFC 3339 ("2026-11-22T10:00:00Z") to epoch seconds; None when absent or bad."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def common(value: Any) -> str:
    """A string many records repeat (a namespace, node, image, reason, label): one
    copy shared by all. With 20,000 pods this halves what their strings cost."""
    return sys.intern(str(value)) if value is not None else ""


def pairs(mapping: Mapping[str, Any] | None) -> Pairs:
    if not mapping:
        return ()
    return tuple(sorted((common(k), common(v)) for k, v in mapping.items()))


def conditions(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    return tuple(
        Condition(common(c.get("type", "")), common(c.get("status", "Unknown")),
                  common(c.get("reason") or ""), common(c.get("message") or ""),
                  timestamp(c.get("lastTransitionTime") or c.get("lastHeartbeatTime")))
        for c in status.get("conditions") or ()
    )


# -- nodes -----------------------------------------------------------------------


def node(context: str, obj: Mapping[str, Any]) -> KubeNode:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec") or {}, obj.get("status") or {}
    conds = conditions(status)
    ready = next((c.status for c in conds if c.type == "Ready"), "Unknown")
    labels = meta.get("labels") or {}
    roles = tuple(sorted(k.rsplit("/", 1)[1] for k in labels
                         if k.startswith("node-role.kubernetes.io/") and "/" in k)) or ()
    capacity, allocatable = status.get("capacity") or {}, status.get("allocatable") or {}
    taints = tuple(
        f"{t.get('key', '')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect', '')}"
        for t in spec.get("taints") or ()
    )
    ip = next((a.get("address", "") for a in status.get("addresses") or ()
               if a.get("type") == "InternalIP"), "")
    return KubeNode(
        context=context, name=str(meta.get("name", "")), ready=ready, roles=roles,
        kubelet_version=str((status.get("nodeInfo") or {}).get("kubeletVersion", "")),
        cpu_capacity=quantity(capacity.get("cpu")) or 0.0,
        cpu_allocatable=quantity(allocatable.get("cpu")) or 0.0,
        memory_capacity=quantity(capacity.get("memory")) or 0.0,
        memory_allocatable=quantity(allocatable.get("memory")) or 0.0,
        pods_allocatable=int(quantity(allocatable.get("pods")) or 0),
        conditions=conds, taints=taints, unschedulable=bool(spec.get("unschedulable")),
        created=timestamp(meta.get("creationTimestamp")), internal_ip=str(ip), labels=pairs(labels),
    )


# -- pods ------------------------------------------------------------------------


def _resources(spec: Mapping[str, Any]) -> tuple[float | None, float | None, float | None, float | None]:
    res = spec.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    return (quantity(req.get("cpu")), quantity(lim.get("cpu")), quantity(req.get("memory")),
            quantity(lim.get("memory")))


def _container(spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> Container:
    cpu_req, cpu_lim, mem_req, mem_lim = _resources(spec)
    # Kubernetes defaults a missing request to the limit.
    cpu_req = cpu_req if cpu_req is not None else cpu_lim
    mem_req = mem_req if mem_req is not None else mem_lim
    status = status or {}
    state_obj = status.get("state") or {}
    state, reason, started = "waiting", "", None
    if "running" in state_obj:
        state, started = "running", timestamp((state_obj["running"] or {}).get("startedAt"))
    elif "terminated" in state_obj:
        term = state_obj["terminated"] or {}
        state, reason = "terminated", str(term.get("reason") or "")
        started = timestamp(term.get("startedAt"))
    elif "waiting" in state_obj:
        reason = str((state_obj["waiting"] or {}).get("reason") or "")
    last = (status.get("lastState") or {}).get("terminated") or {}
    return Container(
        name=common(spec.get("name", "")), image=common(spec.get("image", "")),
        ready=bool(status.get("ready")), restarts=int(status.get("restartCount") or 0),
        state=state, reason=common(reason), started_at=started,
        last_reason=common(last.get("reason") or ""),
        last_exit_code=last.get("exitCode"), last_finished_at=timestamp(last.get("finishedAt")),
        cpu_request=cpu_req, cpu_limit=cpu_lim, memory_request=mem_req, memory_limit=mem_lim,
    )


def _sum_limits(values: list[float | None]) -> float | None:
    """A pod's limit is only meaningful when every container has one."""
    return None if not values or any(v is None for v in values) else sum(v for v in values if v)


def pod_status_text(obj: Mapping[str, Any]) -> str:
    """kubectl's STATUS column: the most telling reason, not just the phase."""
    meta, status = obj.get("metadata", {}), obj.get("status") or {}
    reason = str(status.get("reason") or status.get("phase") or "Unknown")
    for i, init in enumerate(status.get("initContainerStatuses") or ()):
        state = init.get("state") or {}
        term = state.get("terminated")
        if term is not None and term.get("exitCode") == 0:
            continue
        if term is not None:
            reason = f"Init:{term.get('reason') or 'ExitCode:' + str(term.get('exitCode'))}"
        elif (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            reason = f"Init:{state['waiting']['reason']}"
        else:
            total = len((obj.get("spec") or {}).get("initContainers") or ())
            reason = f"Init:{i}/{total}"
        break
    else:
        running = False
        for cs in reversed(status.get("containerStatuses") or ()):
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif term is not None:
                reason = str(term.get("reason") or (f"Signal:{term['signal']}" if term.get("signal")
                                                    else f"ExitCode:{term.get('exitCode')}"))
            elif "running" in state and cs.get("ready"):
                running = True
        if reason == "Completed" and running:
            reason = "Running"
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def pod(context: str, obj: Mapping[str, Any]) -> KubePod:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec") or {}, obj.get("status") or {}
    by_name = {cs.get("name"): cs for cs in status.get("containerStatuses") or ()}
    containers = tuple(_container(c, by_name.get(c.get("name"))) for c in spec.get("containers") or ())
    restarted = [c for c in containers if c.restarts and c.last_reason]
    last = max(restarted, key=lambda c: c.last_finished_at or 0.0).last_reason if restarted else ""
    owner = next((o for o in meta.get("ownerReferences") or () if o.get("controller")),
                 (meta.get("ownerReferences") or [{}])[0] if meta.get("ownerReferences") else {})
    return KubePod(
        context=context, namespace=common(meta.get("namespace", "")), name=str(meta.get("name", "")),
        uid=str(meta.get("uid", "")), phase=common(status.get("phase") or "Pending"),
        status=common(pod_status_text(obj)), ready=sum(1 for c in containers if c.ready),
        total=len(containers),
        restarts=sum(c.restarts for c in containers), last_restart_reason=last,
        node=common(spec.get("nodeName") or ""), created=timestamp(meta.get("creationTimestamp")),
        ip=str(status.get("podIP") or ""), owner_kind=common(owner.get("kind", "")),
        owner_name=common(owner.get("name", "")), containers=containers,
        conditions=conditions(status), labels=pairs(meta.get("labels")),
        cpu_request=sum(c.cpu_request or 0.0 for c in containers),
        cpu_limit=_sum_limits([c.cpu_limit for c in containers]),
        memory_request=sum(c.memory_request or 0.0 for c in containers),
        memory_limit=_sum_limits([c.memory_limit for c in containers]),
        deleting=bool(meta.get("deletionTimestamp")),
    )


# -- workloads -------------------------------------------------------------------


def workload(context: str, obj: Mapping[str, Any]) -> KubeWorkload:
    kind = str(obj.get("kind", ""))
    meta, spec, status = obj.get("metadata", {}), obj.get("spec") or {}, obj.get("status") or {}
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
        updated = int(status.get("updatedNumberScheduled") or 0)
        available = int(status.get("numberAvailable") or 0)
        rolling = updated < desired or available < desired
    else:
        desired = int(spec["replicas"]) if spec.get("replicas") is not None else 1
        ready = int(status.get("readyReplicas") or 0)
        updated = int(status.get("updatedReplicas") or 0)
        available = int(status.get("availableReplicas") or 0)
        total = int(status.get("replicas") or 0)
        if kind == "StatefulSet":
            revisions = status.get("updateRevision") and status.get("currentRevision")
            rolling = updated < desired or bool(revisions and status["updateRevision"]
                                                != status["currentRevision"])
        else:  # Deployment: what `kubectl rollout status` waits for
            rolling = updated < desired or total > updated or available < updated
    template = spec.get("template") or {}
    tmeta = template.get("metadata") or {}
    tspec = template.get("spec") or {}
    return KubeWorkload(
        context=context, namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
        kind=kind, desired=desired, ready=ready, updated=updated, available=available,
        images=tuple(str(c.get("image", "")) for c in tspec.get("containers") or ()),
        created=timestamp(meta.get("creationTimestamp")),
        rolling=rolling or observed < generation, generation=generation,
        observed_generation=observed, paused=bool(spec.get("paused")),
        conditions=conditions(status), labels=pairs(meta.get("labels")),
        selector=pairs((spec.get("selector") or {}).get("matchLabels")),
        restarted_at=str((tmeta.get("annotations") or {}).get("kubectl.kubernetes.io/restartedAt", "")),
    )


# -- events and claims ------------------------------------------------------------


def event(context: str, obj: Mapping[str, Any]) -> KubeEvent:
    meta, involved = obj.get("metadata", {}), obj.get("involvedObject") or {}
    series = obj.get("series") or {}
    last = (timestamp(obj.get("lastTimestamp")) or timestamp(series.get("lastObservedTime"))
            or timestamp(obj.get("eventTime")) or timestamp(meta.get("creationTimestamp")))
    first = timestamp(obj.get("firstTimestamp")) or timestamp(obj.get("eventTime")) or last
    source = obj.get("source") or {}
    return KubeEvent(
        context=context, namespace=str(meta.get("namespace", "") or involved.get("namespace", "")),
        name=str(meta.get("name", "")), type=str(obj.get("type") or "Normal"),
        reason=str(obj.get("reason") or ""), message=str(obj.get("message") or "").strip(),
        object_kind=str(involved.get("kind", "")), object_name=str(involved.get("name", "")),
        count=int(obj.get("count") or series.get("count") or 1), first_seen=first, last_seen=last,
        source=str(source.get("component") or obj.get("reportingComponent") or ""),
    )


def pvc(context: str, obj: Mapping[str, Any]) -> KubePvc:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec") or {}, obj.get("status") or {}
    return KubePvc(
        context=context, namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
        phase=str(status.get("phase") or "Pending"),
        capacity=quantity((status.get("capacity") or {}).get("storage")),
        requested=quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage")),
        storage_class=str(spec.get("storageClassName") or ""), volume=str(spec.get("volumeName") or ""),
        access_modes=tuple(str(m) for m in spec.get("accessModes") or ()),
        created=timestamp(meta.get("creationTimestamp")), labels=pairs(meta.get("labels")),
    )


# -- metrics.k8s.io --------------------------------------------------------------


def usage(obj: Mapping[str, Any]) -> Usage:
    """A NodeMetrics' usage, or a PodMetrics' summed over its containers."""
    if "containers" in obj:
        parts = [c.get("usage") or {} for c in obj.get("containers") or ()]
    else:
        parts = [obj.get("usage") or {}]
    return Usage(cpu=sum(quantity(p.get("cpu")) or 0.0 for p in parts),
                 memory=sum(quantity(p.get("memory")) or 0.0 for p in parts))

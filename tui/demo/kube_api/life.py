"""ClusterLife: keeps a served cluster moving so a console has something to watch
and its actions have visible consequences.

Each tick is one small step of what a real cluster does on its own: metrics
drift, containers log, now and then one restarts, the crash-looping pod keeps
crashing, the rolling Deployment rolls one pod further. A mini controller
manager reconciles what an operator changes through the API: replicas,
``restartedAt`` rollouts, deleted pods, cordoned nodes. It works only through
the server's store API (get/list to read, put/mutate/remove to write), so every
change reaches watchers exactly as a real controller's would.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from random import Random
from typing import Any

from tui.demo.kube_api import objects as k
from tui.demo.kube_api.cluster import (
    FAULT_ANNOTATION,
    SCENARIOS,
    ObjectStore,
    add_bound_claim,
    add_claim_volume,
    backoff_message,
    container_id,
    creating_statuses,
    daemon_pod_labels,
    metrics_for_node,
    metrics_for_pod,
    node_address,
    node_base_usage,
    node_is_ready,
    pod_is_ready,
    pod_usage,
    running_statuses,
    stateful_pod_labels,
)
from tui.demo.kube_api.loglines import crash_lines, flavour_of, log_lines, startup_lines

log = logging.getLogger(__name__)

Obj = dict[str, Any]
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
GRACE_SECONDS = 30
# Taints a DaemonSet's pods tolerate without saying so (the controller adds them).
_DAEMON_TOLERATED = ("node.kubernetes.io/", "node-role.kubernetes.io/control-plane")


# ------------------------------------------------------------------ small reads

def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _controller_uid(obj: Mapping[str, Any]) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid")
    return None


def _terminating(obj: Mapping[str, Any]) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def _created(obj: Mapping[str, Any]) -> float:
    stamp = obj["metadata"].get("creationTimestamp")
    return k.parse_time(stamp) if stamp else 0.0


def _fault(pod: Mapping[str, Any]) -> str:
    return (pod["metadata"].get("annotations") or {}).get(FAULT_ANNOTATION, "")


def _revision_label(pod: Mapping[str, Any]) -> str | None:
    return (pod["metadata"].get("labels") or {}).get("controller-revision-hash")


def _field_path(container: str) -> str:
    return f"spec.containers{{{container}}}"


def _pulled(image: str) -> str:
    return f'Container image "{image}" already present on machine'


def _hard_taints(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Taints that keep pods off a node (PreferNoSchedule only discourages)."""
    return [t for t in node["spec"].get("taints", ()) if t.get("effect") in ("NoSchedule", "NoExecute")]


def _running(pod: Mapping[str, Any]) -> bool:
    return pod["status"].get("phase") == "Running" and any(
        "running" in (cs.get("state") or {}) for cs in pod["status"].get("containerStatuses", ()))


def _requests(spec: Mapping[str, Any]) -> tuple[float, float]:
    cpu = mem = 0.0
    for c in spec.get("containers", ()):
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += k.parse_quantity(req["cpu"]) if "cpu" in req else 0.0
        mem += k.parse_quantity(req["memory"]) if "memory" in req else 0.0
    return cpu, mem


def _tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists" and (not tol.get("key") or tol["key"] == taint["key"]):
            return True
        if tol.get("key") == taint["key"] and tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def _without_hash(template: Mapping[str, Any]) -> Obj:
    """A ReplicaSet's template as its Deployment wrote it (hash label removed)."""
    meta = dict(template.get("metadata") or {})
    meta["labels"] = {key: v for key, v in (meta.get("labels") or {}).items() if key != "pod-template-hash"}
    return {**template, "metadata": meta}


def _revision(obj: Mapping[str, Any]) -> int:
    value = (obj["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
    return int(value) if value.isdigit() else 0


def _deletion_rank(pod: Mapping[str, Any]) -> tuple[bool, bool, float]:
    """Which pod a ReplicaSet gives up first: unscheduled, then unready, then newest."""
    return bool(pod["spec"].get("nodeName")), pod_is_ready(pod), -_created(pod)


def _ordinal(pod: Mapping[str, Any]) -> int:
    tail = pod["metadata"]["name"].rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _keep_times(new: list[Obj], old: Sequence[Mapping[str, Any]], *, moved: bool) -> list[Obj]:
    """Conditions keep lastTransitionTime while their status holds and
    lastUpdateTime while nothing happens, so an unchanged status is a no-op
    write (no watch event) and a stalled rollout shows since when."""
    before = {c.get("type"): c for c in old}
    for cond in new:
        prior = before.get(cond["type"])
        if prior is None:
            continue
        if prior.get("status") == cond["status"] and "lastTransitionTime" in prior:
            cond["lastTransitionTime"] = prior["lastTransitionTime"]
        same = prior.get("reason") == cond.get("reason") and not (moved and cond["type"] == "Progressing")
        if same and "lastUpdateTime" in prior and "lastUpdateTime" in cond:
            cond["lastUpdateTime"] = prior["lastUpdateTime"]
    return new


def _progress(before: Mapping[str, Any], *, complete: bool, moved: bool, now: float, deadline: float) -> str:
    """The Progressing reason: done when every new replica is ready; a rollout
    that finished stays finished if a pod breaks later; one that makes no
    progress for ``deadline`` seconds has timed out."""
    if complete:
        return "NewReplicaSetAvailable"
    prior = next((c for c in before.get("conditions", ()) if c.get("type") == "Progressing"), None)
    if moved or prior is None:
        return "ReplicaSetUpdated"
    reason = prior.get("reason", "ReplicaSetUpdated")
    if reason == "ReplicaSetUpdated":
        since = prior.get("lastUpdateTime") or prior.get("lastTransitionTime")
        if since and now - k.parse_time(since) > deadline:
            return "ProgressDeadlineExceeded"
    return reason if reason in k.PROGRESS_MESSAGES else "ReplicaSetUpdated"


def _bump_tag(image: str) -> str:
    """ghcr.io/acme/checkout:1.15.0 -> :1.15.1 (the next release to roll out)."""
    repo, _, tag = image.rpartition(":")
    head, _, last = tag.rpartition(".")
    if not repo or not last.isdigit():
        return f"{image}-1"
    return f"{repo}:{head + '.' if head else ''}{int(last) + 1}"


class _CachedStore:
    """The server's store, with each kind's list() remembered until that kind is
    written. A tick reads pods a dozen times and decoding dominates its cost;
    the cache lives for one tick, so writes from outside are seen on the next."""

    def __init__(self, server: ObjectStore) -> None:
        self._server = server
        self._lists: dict[str, list[Obj]] = {}

    def clear(self) -> None:
        self._lists.clear()

    def list(self, kind: str) -> list[Obj]:
        cached = self._lists.get(kind)
        if cached is None:
            cached = self._lists[kind] = self._server.list(kind)
        return cached

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._server.get(kind, namespace, name)

    def put(self, obj: Obj) -> Obj:
        self._lists.pop(obj["kind"], None)
        return self._server.put(obj)

    def mutate(self, kind: str, namespace: str | None, name: str, fn: Callable[[Obj], None]) -> Obj | None:
        self._lists.pop(kind, None)
        return self._server.mutate(kind, namespace, name, fn)

    def remove(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        self._lists.pop(kind, None)
        return self._server.remove(kind, namespace, name)

    def append_log(self, namespace: str, pod: str, container: str, lines: Sequence[str], *,
                   previous: bool = False) -> None:
        self._server.append_log(namespace, pod, container, lines, previous=previous)


class _Events:
    """Records events the way the API aggregates them: a repeat of the same
    reason and message about the same object bumps count and lastTimestamp."""

    def __init__(self, store: _CachedStore, rng: Random) -> None:
        self._store = store
        self._rng = rng
        self._index: dict[tuple[str, str, str, str, str], tuple[str, str]] | None = None

    def _load(self) -> dict[tuple[str, str, str, str, str], tuple[str, str]]:
        if self._index is None:
            self._index = {}
            for ev in self._store.list("Event"):
                ref = ev.get("involvedObject") or {}
                key = (ref.get("kind", ""), ref.get("namespace", ""), ref.get("name", ""),
                       ev.get("reason", ""), ev.get("message", ""))
                self._index[key] = _key(ev)
        return self._index

    def record(self, involved: Mapping[str, Any], reason: str, message: str, *, now: float,
               type_: str = "Normal", component: str = "kubelet", host: str | None = None,
               field_path: str | None = None) -> None:
        meta = involved["metadata"]
        key = (involved["kind"], meta.get("namespace", ""), meta["name"], reason, message)
        index = self._load()
        if key in index:
            def bump(ev: Obj) -> None:
                ev["count"] = int(ev.get("count") or 1) + 1
                ev["lastTimestamp"] = k.rfc3339(now)
            if self._store.mutate("Event", index[key][0], index[key][1], bump) is not None:
                return
        ev = k.event(name=k.event_name(meta["name"], now, self._rng),
                     namespace=meta.get("namespace") or "default", uid=k.new_uid(self._rng),
                     involved=involved, reason=reason, message=message, type_=type_, first=now, last=now,
                     component=component, host=host, field_path=field_path)
        self._store.put(ev)
        index[key] = _key(ev)

    def reset(self) -> None:
        self._index = None


# ------------------------------------------------------------------ the life

class ClusterLife:
    """One tick every ``period`` seconds on a daemon thread, or driven by hand
    with :meth:`tick` (tests do, with ``clock`` fixed, so nothing sleeps).

    ``restart_chance`` is the chance per tick that some healthy container
    restarts; ``rollout_pause`` is how many quiet ticks pass before the rolling
    scenario's Deployment gets its next release.
    """

    def __init__(self, server: ObjectStore, *, seed: int = 0, period: float = 2.0,
                 clock: Callable[[], float] = time.time, restart_chance: float = 0.05,
                 rollout_pause: int = 30, max_log_containers: int = 300, max_events: int = 1000) -> None:
        self.period = period
        self.restart_chance = restart_chance
        self.rollout_pause = rollout_pause
        self.max_log_containers = max_log_containers
        self.max_events = max_events
        self.ticks = 0
        self._store = _CachedStore(server)
        self._rng = Random(seed)
        self._clock = clock
        self._events = _Events(self._store, self._rng)
        self._base_usage: dict[str, tuple[int, int]] = {}
        self._quiet_ticks = 0
        self._tick_lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ thread

    def start(self) -> None:
        """Tick on a daemon thread until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cluster-life", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Wake the thread at once and wait for it (a tick in progress finishes)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.tick()
            except Exception:
                log.exception("cluster life: tick failed")

    # ------------------------------------------------------------ one step

    def tick(self) -> None:
        """One step of the cluster's life; safe to call from any thread."""
        with self._tick_lock:
            try:
                self._step()
            finally:
                self._store.clear()

    def _step(self) -> None:
        now = self._clock()
        self.ticks += 1
        self._store.clear()
        self._events.reset()
        self._reap()
        nodes = self._nodes(now)
        self._kubelet(now, nodes)
        self._scheduler(now, nodes)
        load = Counter(p["spec"].get("nodeName") for p in self._store.list("Pod") if not _terminating(p))
        self._deployments(now, nodes, load)
        self._stateful_sets(now, nodes, load)
        self._daemon_sets(now, nodes, load)
        self._crash_loops(now)
        self._random_restarts(now)
        self._next_release()
        self._metrics(now, nodes)
        self._logs(now, nodes)
        if self.ticks % 10 == 0:
            self._prune_events()

    # ------------------------------------------------------------ pods

    def _reap(self) -> None:
        """Pods marked for deletion on an earlier tick are gone now."""
        for pod in self._store.list("Pod"):
            if _terminating(pod):
                ns, name = _key(pod)
                self._store.remove("Pod", ns, name)
                self._store.remove("PodMetrics", ns, name)

    def _fit(self, spec: Mapping[str, Any], nodes: Sequence[Obj],
             load: Mapping[str | None, int]) -> tuple[Obj | None, str]:
        """The scheduler: the least loaded node that admits the pod, else why none does."""
        cpu, mem = _requests(spec)
        tolerations = spec.get("tolerations", ())
        reasons: Counter[str] = Counter()
        fits = []
        for node in nodes:
            if node["spec"].get("unschedulable"):
                reasons["node(s) were unschedulable"] += 1
                continue
            taint = next((t for t in _hard_taints(node) if not _tolerates(tolerations, t)), None)
            if taint is not None:
                reasons[f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"] += 1
                continue
            if not node_is_ready(node):
                reasons["node(s) were not ready"] += 1
                continue
            alloc = node["status"].get("allocatable") or {}
            if mem > k.parse_quantity(alloc.get("memory", "0")):
                reasons["Insufficient memory"] += 1
                continue
            if cpu > k.parse_quantity(alloc.get("cpu", "0")):
                reasons["Insufficient cpu"] += 1
                continue
            fits.append(node)
        if fits:
            self._rng.shuffle(fits)
            return min(fits, key=lambda n: load.get(n["metadata"]["name"], 0)), ""
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        return None, f"0/{len(nodes)} nodes are available: {detail}."

    def _create_pod(self, name: str, *, namespace: str, template: Mapping[str, Any], owner: Obj, now: float,
                    nodes: Sequence[Obj], load: Counter[str | None],
                    extra_labels: Mapping[str, str] | None = None, generate_name: str | None = None,
                    node: Obj | None = None,
                    claim: tuple[str, str] | None = None) -> Obj:
        """A new pod, bound to a node (ContainerCreating) or Pending with the reason."""
        message = ""
        if node is None:
            node, message = self._fit(template["spec"], nodes, load)
        common: dict[str, Any] = {"namespace": namespace, "uid": k.new_uid(self._rng), "created": now,
                                  "template": template, "owner": owner, "extra_labels": extra_labels,
                                  "generate_name": generate_name}
        if node is not None:
            pod = k.pod(name, node_name=node["metadata"]["name"], host_ip=node_address(node), phase="Pending",
                        statuses=creating_statuses(template), started=now, **common)
            load[node["metadata"]["name"]] += 1
        else:
            pod = k.pod(name, node_name=None, phase="Pending", unschedulable_message=message, **common)
        if claim is not None:
            claim_name, storage = claim
            add_claim_volume(pod, claim_name)
            if self._store.get("PersistentVolumeClaim", namespace, claim_name) is None:
                zone = (node["metadata"]["labels"].get("topology.kubernetes.io/zone", "eu-west-1a")
                        if node is not None else "eu-west-1a")
                add_bound_claim(self._rng, self._store.put, claim_name, namespace=namespace, storage=storage,
                                created=now, zone=zone, labels=template["metadata"].get("labels"))
        self._store.put(pod)
        if node is not None:
            self._events.record(pod, "Scheduled", f"Successfully assigned {namespace}/{name} to "
                                f"{node['metadata']['name']}", now=now, component="default-scheduler")
        else:
            self._events.record(pod, "FailedScheduling", message, now=now, type_="Warning",
                                component="default-scheduler")
        return pod

    def _delete_pod(self, pod: Obj, now: float) -> None:
        """Graceful delete: Terminating for one tick, then gone (unbound pods go at once)."""
        ns, name = _key(pod)
        if not pod["spec"].get("nodeName"):
            self._store.remove("Pod", ns, name)
            return

        def mark(obj: Obj) -> None:
            obj["metadata"]["deletionTimestamp"] = k.rfc3339(now + GRACE_SECONDS)
            obj["metadata"]["deletionGracePeriodSeconds"] = GRACE_SECONDS

        if self._store.mutate("Pod", ns, name, mark) is not None:
            for c in pod["spec"]["containers"]:
                self._events.record(pod, "Killing", f"Stopping container {c['name']}", now=now,
                                    host=pod["spec"]["nodeName"], field_path=_field_path(c["name"]))

    def _kubelet(self, now: float, nodes: Sequence[Obj]) -> None:
        """Containers created on an earlier tick start now, on nodes that are up."""
        ready = {n["metadata"]["name"]: n for n in nodes if node_is_ready(n)}
        pods = self._store.list("Pod")
        used = defaultdict(set)
        for pod in pods:
            if pod["status"].get("podIP"):
                used[pod["spec"].get("nodeName")].add(pod["status"]["podIP"])
        for pod in pods:
            node = ready.get(pod["spec"].get("nodeName", ""))
            statuses = pod["status"].get("containerStatuses") or ()
            if (node is None or _terminating(pod) or pod["status"].get("phase") != "Pending" or not statuses
                    or any((cs.get("state") or {}).get("waiting", {}).get("reason") != "ContainerCreating"
                           for cs in statuses)):
                continue
            new_statuses = running_statuses(self._rng, pod, now)
            conditions = k.pod_conditions(new_statuses, at=now)
            ip = self._pod_ip(node, used[node["metadata"]["name"]])

            def start(obj: Obj, statuses: list[Obj] = new_statuses, conditions: list[Obj] = conditions,
                      ip: str = ip) -> None:
                obj["status"].update(phase="Running", conditions=conditions, containerStatuses=statuses,
                                     podIP=ip, podIPs=[{"ip": ip}])

            ns, name = _key(pod)
            if self._store.mutate("Pod", ns, name, start) is None:
                continue
            host = node["metadata"]["name"]
            for c in pod["spec"]["containers"]:
                fp = _field_path(c["name"])
                self._events.record(pod, "Pulled", _pulled(c["image"]), now=now, host=host, field_path=fp)
                self._events.record(pod, "Created", f"Created container {c['name']}", now=now, host=host,
                                    field_path=fp)
                self._events.record(pod, "Started", f"Started container {c['name']}", now=now, host=host,
                                    field_path=fp)
                lines = startup_lines(flavour_of(c["image"]), now, c["name"], c["image"])
                self._store.append_log(ns, name, c["name"], lines)

    def _pod_ip(self, node: Mapping[str, Any], used: set[str]) -> str:
        prefix = node["spec"].get("podCIDR", "10.244.0.0/24").rsplit(".", 1)[0]
        start = self._rng.randrange(2, 254)
        for i in range(252):
            ip = f"{prefix}.{2 + (start + i) % 252}"
            if ip not in used:
                used.add(ip)
                return ip
        return f"{prefix}.{start}"

    def _scheduler(self, now: float, nodes: Sequence[Obj]) -> None:
        """Pending pods are retried: bound when a node admits them, else the
        FailedScheduling event is bumped."""
        pods = self._store.list("Pod")
        load = Counter(p["spec"].get("nodeName") for p in pods if not _terminating(p))
        for pod in pods:
            if pod["spec"].get("nodeName") or _terminating(pod) or pod["status"].get("phase") != "Pending":
                continue
            node, message = self._fit(pod["spec"], nodes, load)
            ns, name = _key(pod)
            if node is None:
                held = next((c.get("message") for c in pod["status"].get("conditions", ())
                             if c["type"] == "PodScheduled"), None)
                self._events.record(pod, "FailedScheduling", held or message, now=now, type_="Warning",
                                    component="default-scheduler")
                continue
            node_name = node["metadata"]["name"]
            load[node_name] += 1
            template = {"spec": pod["spec"]}
            statuses = creating_statuses(template)

            def bind(obj: Obj, node_name: str = node_name, host: str = node_address(node),
                     statuses: list[Obj] = statuses) -> None:
                obj["spec"]["nodeName"] = node_name
                obj["status"].update(conditions=k.pod_conditions(statuses, at=now), hostIP=host,
                                     hostIPs=[{"ip": host}], startTime=k.rfc3339(now),
                                     containerStatuses=statuses)

            if self._store.mutate("Pod", ns, name, bind) is not None:
                self._events.record(pod, "Scheduled", f"Successfully assigned {ns}/{name} to {node_name}",
                                    now=now, component="default-scheduler")

    # ------------------------------------------------------------ nodes

    def _nodes(self, now: float) -> list[Obj]:
        """A cordoned node gets the unschedulable taint; an uncordoned one loses it."""
        nodes = self._store.list("Node")
        changed = False
        for node in nodes:
            want = bool(node["spec"].get("unschedulable"))
            has = any(t.get("key") == UNSCHEDULABLE_TAINT for t in node["spec"].get("taints", ()))
            if want == has:
                continue

            def fix(obj: Obj, want: bool = want) -> None:
                taints = [t for t in obj["spec"].get("taints", ()) if t.get("key") != UNSCHEDULABLE_TAINT]
                if want:
                    taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule",
                                   "timeAdded": k.rfc3339(now)})
                if taints:
                    obj["spec"]["taints"] = taints
                else:
                    obj["spec"].pop("taints", None)

            self._store.mutate("Node", None, node["metadata"]["name"], fix)
            state = "NodeNotSchedulable" if want else "NodeSchedulable"
            node_name = node["metadata"]["name"]
            self._events.record(node, state, f"Node {node_name} status is now: {state}", now=now,
                                host=node_name)
            changed = True
        return self._store.list("Node") if changed else nodes

    # ------------------------------------------------------------ controllers

    def _owned(self) -> tuple[dict[str, list[Obj]], dict[str, list[Obj]]]:
        """Pods by controller uid: the live ones, and those being deleted."""
        live: dict[str, list[Obj]] = defaultdict(list)
        dying: dict[str, list[Obj]] = defaultdict(list)
        for pod in self._store.list("Pod"):
            uid = _controller_uid(pod)
            if uid:
                (dying if _terminating(pod) else live)[uid].append(pod)
        return live, dying

    def _deployments(self, now: float, nodes: Sequence[Obj], load: Counter[str | None]) -> None:
        live, _ = self._owned()
        sets: dict[str, list[Obj]] = defaultdict(list)
        for rs in self._store.list("ReplicaSet"):
            uid = _controller_uid(rs)
            if uid:
                sets[uid].append(rs)
        for dep in self._store.list("Deployment"):
            try:
                self._deployment(dep, sets[dep["metadata"]["uid"]], live, now, nodes, load)
            except Exception:
                log.exception("cluster life: deployment %s/%s", *_key(dep))

    def _deployment(self, dep: Obj, owned: list[Obj], live: Mapping[str, list[Obj]], now: float,
                    nodes: Sequence[Obj], load: Counter[str | None]) -> None:
        """One pass of the Deployment controller: a new template gets a new
        ReplicaSet and pods move over one per tick; otherwise replicas are
        matched (and deleted pods replaced) at once."""
        meta, spec = dep["metadata"], dep["spec"]
        ns, name = _key(dep)
        desired = int(spec.get("replicas", 1))
        template = spec["template"]
        owned = sorted(owned, key=_revision)
        current = next((rs for rs in owned if _without_hash(rs["spec"]["template"]) == template), None)
        if current is None:
            current = self._new_replica_set(dep, owned, now)
            owned.append(current)
        new_pods = list(live.get(current["metadata"]["uid"], ()))
        old = [(rs, p) for rs in owned if rs is not current for p in live.get(rs["metadata"]["uid"], ())]
        old_count = len(old)

        def create() -> None:
            prefix = f"{current['metadata']['name']}-"
            pod = self._create_pod(self._fresh_name(prefix, ns), namespace=ns,
                                   template=current["spec"]["template"], owner=current, now=now, nodes=nodes,
                                   load=load, generate_name=prefix)
            new_pods.append(pod)
            self._events.record(current, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                now=now, component="replicaset-controller")

        def delete(rs: Obj, pod: Obj) -> None:
            self._delete_pod(pod, now)
            self._events.record(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", now=now,
                                component="replicaset-controller")

        if old:
            if all(pod_is_ready(p) for p in new_pods):
                if len(new_pods) < desired:
                    create()
                victim = min(old, key=lambda pair: _deletion_rank(pair[1]))
                delete(*victim)
                old.remove(victim)
        else:
            for _ in range(desired - len(new_pods)):
                create()
            for pod in sorted(new_pods, key=_deletion_rank)[:max(len(new_pods) - desired, 0)]:
                delete(current, pod)
                new_pods.remove(pod)
        for rs in owned:
            pods = new_pods if rs is current else [p for r, p in old if r is rs]
            self._sync_replica_set(dep, rs, pods, now)
        self._prune_history(dep, owned, current)
        everyone = new_pods + [p for _, p in old]
        ready = sum(pod_is_ready(p) for p in everyone)
        before = dep.get("status") or {}
        acted = len(new_pods) != len(live.get(current["metadata"]["uid"], ())) or len(old) != old_count
        moved = (acted or ready > before.get("readyReplicas", 0)
                 or len(new_pods) > before.get("updatedReplicas", 0))
        progress = _progress(before, complete=not old and len(new_pods) == desired and ready >= desired,
                             moved=moved, now=now, deadline=float(spec.get("progressDeadlineSeconds", 600)))
        status = k.deployment_status(replicas=desired, total=len(everyone), updated=len(new_pods),
                                     ready=ready, generation=int(meta.get("generation", 1)),
                                     new_rs=current["metadata"]["name"], at=now, since=_created(dep),
                                     progress=progress)
        status["conditions"] = _keep_times(status["conditions"], before.get("conditions", ()), moved=moved)
        self._store.mutate("Deployment", ns, name, lambda obj: obj.__setitem__("status", status))

    def _new_replica_set(self, dep: Obj, owned: Sequence[Obj], now: float) -> Obj:
        template = dep["spec"]["template"]
        taken = {rs["metadata"]["name"] for rs in owned}
        hash_, salt = k.template_hash(template), 0
        while f"{dep['metadata']['name']}-{hash_}" in taken:
            salt += 1
            hash_ = k.template_hash({"template": template, "collisionCount": salt})
        revision = max((_revision(rs) for rs in owned), default=0) + 1
        rs = k.replica_set(dep, template_hash_=hash_, uid=k.new_uid(self._rng), created=now, replicas=0,
                           template=template, revision=revision, total=0)
        self._store.put(rs)

        def stamp(obj: Obj) -> None:
            obj["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(revision)

        self._store.mutate("Deployment", *_key(dep), stamp)
        return rs

    def _sync_replica_set(self, dep: Obj, rs: Obj, pods: Sequence[Obj], now: float) -> None:
        replicas = len(pods)
        before = int(rs["spec"].get("replicas", 0))
        status = k.replica_set_status(total=replicas, ready=sum(pod_is_ready(p) for p in pods))
        wanted = str(dep["spec"].get("replicas", 1))

        def sync(obj: Obj) -> None:
            generation = int(obj["metadata"].get("generation", 1)) + (1 if replicas != before else 0)
            obj["spec"]["replicas"] = replicas
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations["deployment.kubernetes.io/desired-replicas"] = wanted
            obj["status"] = {**status, "observedGeneration": generation}

        self._store.mutate("ReplicaSet", *_key(rs), sync)
        if replicas != before:
            direction = "up" if replicas > before else "down"
            tail = f" from {before}" if before else ""
            message = f"Scaled {direction} replica set {rs['metadata']['name']} to {replicas}{tail}"
            self._events.record(dep, "ScalingReplicaSet", message, now=now, component="deployment-controller")

    def _prune_history(self, dep: Obj, owned: Sequence[Obj], current: Obj) -> None:
        limit = int(dep["spec"].get("revisionHistoryLimit", 10))
        idle = [rs for rs in owned if rs is not current and int(rs["spec"].get("replicas", 0)) == 0]
        for rs in idle[:max(len(idle) - limit, 0)]:
            self._store.remove("ReplicaSet", *_key(rs))

    def _fresh_name(self, prefix: str, namespace: str) -> str:
        while True:
            name = f"{prefix}{k.random_suffix(self._rng)}"
            if self._store.get("Pod", namespace, name) is None:
                return name

    def _stateful_sets(self, now: float, nodes: Sequence[Obj], load: Counter[str | None]) -> None:
        live, dying = self._owned()
        for sts in self._store.list("StatefulSet"):
            try:
                uid = sts["metadata"]["uid"]
                self._stateful_set(sts, live.get(uid, []), bool(dying.get(uid)), now, nodes, load)
            except Exception:
                log.exception("cluster life: statefulset %s/%s", *_key(sts))

    def _stateful_set(self, sts: Obj, owned: list[Obj], dying: bool, now: float, nodes: Sequence[Obj],
                      load: Counter[str | None]) -> None:
        """OrderedReady: create the lowest missing ordinal once every lower one is
        ready, remove the highest surplus one, then replace outdated pods from the
        top down, one step per tick and never while a pod is terminating."""
        meta, spec = sts["metadata"], sts["spec"]
        ns, name = _key(sts)
        desired = int(spec.get("replicas", 1))
        template = spec["template"]
        revision = f"{name}-{k.template_hash(template)}"
        pods = {_ordinal(p): p for p in owned}
        claims = spec.get("volumeClaimTemplates") or ()
        if not dying:
            for ordinal in range(desired):
                if ordinal not in pods:
                    pod_name = f"{name}-{ordinal}"
                    claim = None
                    if claims:
                        storage = claims[0]["spec"]["resources"]["requests"]["storage"]
                        claim = (f"{claims[0]['metadata']['name']}-{pod_name}", storage)
                    pods[ordinal] = self._create_pod(
                        pod_name, namespace=ns, template=template, owner=sts, now=now, nodes=nodes, load=load,
                        extra_labels=stateful_pod_labels(pod_name, ordinal, revision), claim=claim)
                    self._events.record(sts, "SuccessfulCreate",
                                        f"create Pod {pod_name} in StatefulSet {name} successful", now=now,
                                        component="statefulset-controller")
                    break
                if not pod_is_ready(pods[ordinal]):
                    break
            else:
                surplus = sorted((o for o in pods if o >= desired), reverse=True)
                outdated = sorted((o for o, p in pods.items() if _revision_label(p) != revision),
                                  reverse=True)
                victim = surplus[0] if surplus else outdated[0] if outdated else None
                if victim is not None:
                    pod = pods.pop(victim)
                    self._delete_pod(pod, now)
                    message = f"delete Pod {pod['metadata']['name']} in StatefulSet {name} successful"
                    self._events.record(sts, "SuccessfulDelete", message, now=now,
                                        component="statefulset-controller")
        revisions = [_revision_label(p) for p in pods.values()]
        updated = revisions.count(revision)
        current_revision = (sts.get("status") or {}).get("currentRevision") or revision
        if updated == len(pods) == desired:
            current_revision = revision
        status = k.stateful_set_status(replicas=len(pods), ready=sum(pod_is_ready(p) for p in pods.values()),
                                       current=revisions.count(current_revision), updated=updated,
                                       current_revision=current_revision, update_revision=revision,
                                       generation=int(meta.get("generation", 1)))
        self._store.mutate("StatefulSet", ns, name, lambda obj: obj.__setitem__("status", status))

    def _daemon_sets(self, now: float, nodes: Sequence[Obj], load: Counter[str | None]) -> None:
        live, dying = self._owned()
        for ds in self._store.list("DaemonSet"):
            try:
                uid = ds["metadata"]["uid"]
                self._daemon_set(ds, live.get(uid, []), dying.get(uid, []), now, nodes, load)
            except Exception:
                log.exception("cluster life: daemonset %s/%s", *_key(ds))

    def _daemon_set(self, ds: Obj, owned: list[Obj], dying: list[Obj], now: float, nodes: Sequence[Obj],
                    load: Counter[str | None]) -> None:
        """One pod per admitting node; outdated pods replaced one at a time."""
        meta, spec = ds["metadata"], ds["spec"]
        ns, name = _key(ds)
        template = spec["template"]
        hash_ = k.template_hash(template)
        tolerations = template["spec"].get("tolerations", ())
        eligible = {n["metadata"]["name"]: n for n in nodes
                    if all(_tolerates(tolerations, t) or t["key"].startswith(_DAEMON_TOLERATED)
                           for t in _hard_taints(n))}
        by_node: dict[str, list[Obj]] = defaultdict(list)
        for pod in owned:
            by_node[pod["spec"].get("nodeName", "")].append(pod)
        busy = {p["spec"].get("nodeName") for p in dying}
        for node_name, node in eligible.items():
            if not by_node.get(node_name) and node_name not in busy:
                prefix = f"{name}-"
                by_node[node_name].append(self._create_pod(
                    self._fresh_name(prefix, ns), namespace=ns, template=template, owner=ds, now=now,
                    nodes=nodes, load=load, node=node, generate_name=prefix,
                    extra_labels=daemon_pod_labels(template, int(meta.get("generation", 1)))))
        for node_name in [n for n in by_node if n not in eligible]:
            for pod in by_node.pop(node_name):
                self._delete_pod(pod, now)
        pods = [p for ps in by_node.values() for p in ps]
        outdated = [p for p in pods if _revision_label(p) != hash_]
        up = [p for p in pods if node_is_ready(eligible.get(p["spec"].get("nodeName", ""), {"status": {}}))]
        if outdated and not dying and all(pod_is_ready(p) for p in up):
            victim = min(outdated, key=lambda p: p not in up)
            self._delete_pod(victim, now)
            pods.remove(victim)
        status = k.daemon_set_status(desired=len(eligible), current=len(pods),
                                     ready=sum(pod_is_ready(p) for p in pods),
                                     updated=len(pods) - len([p for p in outdated if p in pods]),
                                     generation=int(meta.get("generation", 1)))
        self._store.mutate("DaemonSet", ns, name, lambda obj: obj.__setitem__("status", status))

    # ------------------------------------------------------------ faults

    def _crash_loops(self, now: float) -> None:
        """The crash-looping pod crashes again: one more restart, a bumped BackOff."""
        for pod in self._store.list("Pod"):
            if _terminating(pod) or _fault(pod) != "crashloop":
                continue
            statuses = pod["status"].get("containerStatuses") or ()
            if not statuses:
                continue
            cs = statuses[0]
            ns, name = _key(pod)
            restarts = int(cs.get("restartCount", 0)) + 1
            delay = min(10 * 2 ** min(restarts, 5), 300)
            waiting = k.waiting_state("CrashLoopBackOff",
                                      f"back-off {delay // 60}m{delay % 60}s restarting failed container="
                                      f"{cs['name']} pod={name}_{ns}({pod['metadata']['uid']})")
            last = k.terminated_state("Error", 1, started=now - 3, finished=now - 1,
                                      container_id=container_id(self._rng))

            def crash(obj: Obj, restarts: int = restarts, waiting: Obj = waiting, last: Obj = last) -> None:
                first = obj["status"]["containerStatuses"][0]
                first.update(restartCount=restarts, state=waiting, lastState=last, ready=False, started=False)

            if self._store.mutate("Pod", ns, name, crash) is None:
                continue
            node = pod["spec"].get("nodeName")
            fp = _field_path(cs["name"])
            self._events.record(pod, "BackOff", backoff_message(pod, cs["name"]), now=now, type_="Warning",
                                host=node, field_path=fp)
            self._events.record(pod, "Pulled", _pulled(cs["image"]), now=now, host=node, field_path=fp)
            run = startup_lines(flavour_of(cs["image"]), now - 3, cs["name"], cs["image"])
            run += crash_lines(now - 1, cs["name"], oom=False)
            self._store.append_log(ns, name, cs["name"], run)
            self._store.append_log(ns, name, cs["name"], run, previous=True)

    def restart_container(self, namespace: str, pod: str, container: str | None = None, *,
                          reason: str | None = None, now: float | None = None) -> bool:
        """Restart one running container as the kubelet would after it exited:
        restartCount+1, lastState terminated, events bumped, logs rotated.
        An OOM-prone pod (fault "oom") dies OOMKilled (137), others Error (1)."""
        with self._tick_lock:
            return self._restart(namespace, pod, container, reason, self._clock() if now is None else now)

    def _restart(self, namespace: str, pod: str, container: str | None, reason: str | None,
                 now: float) -> bool:
        obj = self._store.get("Pod", namespace, pod)
        if obj is None or _terminating(obj):
            return False
        statuses = obj["status"].get("containerStatuses") or ()
        cs = next((s for s in statuses if (container is None or s["name"] == container)
                   and "running" in (s.get("state") or {})), None)
        if cs is None:
            return False
        oom = _fault(obj) == "oom"
        reason = reason or ("OOMKilled" if oom else "Error")
        exit_code = 137 if reason == "OOMKilled" else 1
        started = k.parse_time(cs["state"]["running"]["startedAt"])
        last = k.terminated_state(reason, exit_code, started=started, finished=now,
                                  container_id=cs.get("containerID"))
        new_id = container_id(self._rng)

        def restart(o: Obj) -> None:
            for s in o["status"].get("containerStatuses") or ():
                if s["name"] == cs["name"]:
                    s.update(restartCount=int(s.get("restartCount", 0)) + 1, lastState=last,
                             state=k.running_state(now), containerID=new_id)

        if self._store.mutate("Pod", namespace, pod, restart) is None:
            return False
        node = obj["spec"].get("nodeName")
        fp = _field_path(cs["name"])
        self._events.record(obj, "BackOff", backoff_message(obj, cs["name"]), now=now, type_="Warning",
                            host=node, field_path=fp)
        self._events.record(obj, "Started", f"Started container {cs['name']}", now=now, host=node,
                            field_path=fp)
        flavour = flavour_of(cs["image"])
        previous = log_lines(flavour, self._rng, start=max(started, now - 600), end=now, count=20,
                             service=cs["name"])
        previous += crash_lines(now, cs["name"], oom=reason == "OOMKilled") if exit_code else []
        self._store.append_log(namespace, pod, cs["name"], previous, previous=True)
        restarted = startup_lines(flavour, now, cs["name"], cs["image"])
        self._store.append_log(namespace, pod, cs["name"], restarted)
        return True

    def _random_restarts(self, now: float) -> None:
        """Now and then a healthy container restarts, and the OOM-prone one is killed."""
        if self._rng.random() >= self.restart_chance:
            return
        pods = [p for p in self._store.list("Pod")
                if _running(p) and pod_is_ready(p) and not _terminating(p) and _fault(p) != "crashloop"]
        if pods:
            pod = self._rng.choice(pods)
            self.restart_container(*_key(pod), now=now)
        for pod in pods:
            if _fault(pod) == "oom":
                self.restart_container(*_key(pod), now=now)

    def _next_release(self) -> None:
        """When the rolling scenario's Deployment has been quiet for a while, ship its next tag."""
        ns, name = SCENARIOS["rolling"]
        dep = self._store.get("Deployment", ns, name)
        if dep is None:
            return
        status, replicas = dep.get("status") or {}, int(dep["spec"].get("replicas", 1))
        done = (status.get("updatedReplicas", 0) == replicas == status.get("replicas", 0)
                and status.get("readyReplicas", 0) == replicas)
        self._quiet_ticks = self._quiet_ticks + 1 if done else 0
        if self._quiet_ticks < self.rollout_pause:
            return
        self._quiet_ticks = 0

        def release(obj: Obj) -> None:
            first = obj["spec"]["template"]["spec"]["containers"][0]
            first["image"] = _bump_tag(first["image"])

        self._store.mutate("Deployment", ns, name, release)

    # ------------------------------------------------------------ metrics and logs

    def _metrics(self, now: float, nodes: Sequence[Obj]) -> None:
        """Usage drifts; new pods get metrics, gone ones lose them; a node's usage is
        its pods' plus the system's; a node that is down has none."""
        ready = {n["metadata"]["name"]: n for n in nodes if node_is_ready(n)}
        old = {_key(m): m for m in self._store.list("PodMetrics")}
        totals: dict[str, list[int]] = {name: [0, 0] for name in ready}
        for pod in self._store.list("Pod"):
            key = _key(pod)
            node_name = pod["spec"].get("nodeName", "")
            if _terminating(pod) or node_name not in ready or not _running(pod):
                continue
            previous = old.pop(key, None)
            if previous is None:
                usage = pod_usage(self._rng, pod)
                coarse = False
            else:
                usage = self._drift(pod, previous)
                first = (previous.get("containers") or [{"usage": {"cpu": ""}}])[0]
                coarse = first["usage"]["cpu"].endswith("m")
            self._store.put(metrics_for_pod(pod, usage, now, coarse=coarse))
            totals[node_name][0] += sum(u[1] for u in usage)
            totals[node_name][1] += sum(u[2] for u in usage)
        for ns, name in old:
            self._store.remove("PodMetrics", ns, name)
        for node in nodes:
            name = node["metadata"]["name"]
            if name not in ready:
                if self._store.get("NodeMetrics", None, name) is not None:
                    self._store.remove("NodeMetrics", None, name)
                continue
            base = self._base_usage.setdefault(name, node_base_usage(node, self._rng))
            wobble = math.exp(self._rng.gauss(0, 0.05))
            self._store.put(metrics_for_node(node, int(base[0] * wobble) + totals[name][0],
                                              base[1] + totals[name][1], now))

    def _drift(self, pod: Obj, metrics: Mapping[str, Any]) -> list[tuple[str, int, int]]:
        """Yesterday's usage times a little noise, kept within requests and limits."""
        before = {c["name"]: c["usage"] for c in metrics.get("containers", ())}
        oom = _fault(pod) == "oom"
        fresh = dict((name, (cpu, mem)) for name, cpu, mem in pod_usage(self._rng, pod))
        out = []
        for c in pod["spec"]["containers"]:
            res = c.get("resources") or {}
            req, lim = res.get("requests") or {}, res.get("limits") or {}
            if c["name"] not in before:
                cpu, mem = fresh[c["name"]]
                out.append((c["name"], cpu, mem))
                continue
            cpu = k.parse_quantity(before[c["name"]]["cpu"]) * 1e9 * math.exp(self._rng.gauss(0, 0.12))
            mem = k.parse_quantity(before[c["name"]]["memory"])
            mem *= 1 + (abs(self._rng.gauss(0, 0.01)) if oom else self._rng.gauss(0, 0.02))
            req_cpu = k.parse_quantity(req.get("cpu", "100m"))
            cpu_cap = k.parse_quantity(lim["cpu"]) if "cpu" in lim else req_cpu * 4
            req_mem = k.parse_quantity(req.get("memory", "128Mi"))
            mem_cap = k.parse_quantity(lim["memory"]) * 0.98 if "memory" in lim else req_mem * 2
            out.append((c["name"], int(min(max(cpu, 1e6), cpu_cap * 1e9)),
                        int(min(max(mem, req_mem * 0.2), mem_cap))))
        return out

    def _logs(self, now: float, nodes: Sequence[Obj]) -> None:
        """A few lines for each running container (followers see them at once)."""
        ready = {n["metadata"]["name"] for n in nodes if node_is_ready(n)}
        targets = [(pod, cs) for pod in self._store.list("Pod")
                   if not _terminating(pod) and pod["spec"].get("nodeName") in ready
                   for cs in pod["status"].get("containerStatuses") or ()
                   if "running" in (cs.get("state") or {})]
        if len(targets) > self.max_log_containers:
            targets = self._rng.sample(targets, self.max_log_containers)
        for pod, cs in targets:
            lines = log_lines(flavour_of(cs["image"]), self._rng, start=now - self.period, end=now,
                              count=self._rng.randint(1, 3), service=cs["name"])
            self._store.append_log(*_key(pod), cs["name"], lines)

    def _prune_events(self) -> None:
        """Keep the newest ``max_events`` events (the API server expires old ones)."""
        events = self._store.list("Event")
        if len(events) <= self.max_events:
            return
        events.sort(key=lambda ev: ev.get("lastTimestamp") or "")
        for ev in events[:len(events) - self.max_events]:
            self._store.remove("Event", *_key(ev))
        self._events.reset()

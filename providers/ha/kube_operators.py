"""Database clusters run by a Kubernetes operator, read from the operator's custom
resource and the pods it runs: Zalando's postgres-operator, CloudNativePG and
Percona XtraDB Cluster.

The operator already keeps the topology: its resource's status says whether the
cluster is healthy (and, for CloudNativePG, which instance is primary and where a
switchover is going), and the pods' labels carry each member's role. One GET of
the resource and one labelled pod list per poll therefore give the members
without a database connection or a password, through the same read-only
Kubernetes client as the Kubernetes tab (anything but GET is refused below us).

Percona XtraDB Cluster is Galera: every synced member accepts writes, so every
ready pxc pod is a PRIMARY, `Reading.leader` stays None and each member's details
say "multi-primary". Which node the proxy (HAProxy, ProxySQL) sends writes to is
the proxy's choice, not something the resource or the pods tell.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config.model import KUBE_IN_CLUSTER, KubernetesSettings, OperatorClusterSettings
from providers.ha.model import (
    LEADER_ROLES,
    PRIMARY,
    REPLICA,
    STANDBY_LEADER,
    UNKNOWN,
    Member,
    Reading,
)
from providers.k8s.client import (
    ContextError,
    KubeApiError,
    KubeClient,
    build_api_client,
    context_names,
)
from providers.k8s.errors import explain
from providers.k8s.kinds import PODS, Kind
from providers.k8s.parse import pod as parse_pod

POSTGRES_PORT = 5432
MYSQL_PORT = 3306
CNPG_HEALTHY = "Cluster in healthy state"
GALERA_NOTE = "multi-primary: every ready member takes writes"
FIX_NAME = "check ha.clusters[].kubernetes.name/namespace"
FIX_CONTEXT = "install the operator, or check ha.clusters[].kubernetes.context"


class OperatorUnavailable(RuntimeError):
    """Nothing could be read; the message is one line that says what to fix."""


# ---------------------------------------------------------------------------- pods


@dataclass(frozen=True, slots=True)
class PodView:
    """What a member row needs from one pod, whichever operator runs it."""

    name: str
    ip: str
    node: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    reachable: bool
    """Running and Ready: the database answers its readiness probe."""
    state: str
    error: str
    status: str
    """kubectl's STATUS column (Running, CrashLoopBackOff, Pending…)."""
    containers: str
    restarts: int
    last_reason: str
    created: float | None


def pod_view(obj: Mapping[str, Any]) -> PodView:
    kp = parse_pod("", obj)
    meta = obj.get("metadata") or {}
    ready = _pod_ready(obj, kp.ready, kp.total)
    restarts = f"{kp.restarts} restarts" + (f", last: {kp.last_restart_reason}"
                                            if kp.last_restart_reason else "")
    if kp.deleting:
        state, error = "terminating", "pod is terminating"
    elif kp.phase == "Running" and kp.status == "Running" and ready:
        state, error = "running", ""
    elif kp.status == "Running":
        state = "not ready"
        error = f"pod Running but not Ready ({kp.ready}/{kp.total} containers ready)"
    else:
        state = kp.status
        error = f"pod {kp.status}" + (f" ({restarts})" if kp.restarts else "")
    return PodView(
        name=kp.name, ip=kp.ip, node=kp.node, labels=dict(meta.get("labels") or {}),
        annotations=dict(meta.get("annotations") or {}), reachable=state == "running", state=state,
        error=error, status=kp.status, containers=f"{kp.ready}/{kp.total}", restarts=kp.restarts,
        last_reason=kp.last_restart_reason, created=kp.created,
    )


def _pod_ready(obj: Mapping[str, Any], ready: int, total: int) -> bool:
    """The Ready condition (readiness probes and gates), else every container ready."""
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return total > 0 and ready == total


def age_text(seconds: float | None) -> str:
    """Two units at most, like kubectl's AGE: 45s, 12m30s, 3h05m, 4d02h."""
    if seconds is None:
        return "—"
    total = max(0, int(seconds))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for i, (unit, size) in enumerate(units):
        if total >= size or unit == "s":
            text = f"{total // size}{unit}"
            if unit != "s":
                sub, sub_size = units[i + 1]
                text += f"{total % size // sub_size:02d}{sub}"
            return text
    raise AssertionError("unreachable")


def _pod_details(p: PodView, now: float) -> list[tuple[str, str]]:
    restarts = str(p.restarts) + (f" (last: {p.last_reason})" if p.last_reason else "")
    age = age_text(now - p.created) if p.created is not None else "—"
    return [("pod", f"{p.status} {p.containers}"), ("node", p.node or "not scheduled"),
            ("restarts", restarts), ("age", age)]


def _leader(members: Sequence[Member], preferred: str = "") -> tuple[str | None, list[str]]:
    """The one leader; with several, the operator's choice (`preferred`) and a problem line."""
    leaders = [m.name for m in members if m.role in LEADER_ROLES]
    if len(leaders) <= 1:
        return (leaders[0] if leaders else None), []
    chosen = preferred if preferred in leaders else None
    return chosen, [f"{len(leaders)} pods claim the primary role: {', '.join(leaders)}"]


def _wanted(title: str, wanted: Any, found: int) -> list[str]:
    if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > found:
        return [f"{title}: {wanted} instances wanted, {found} pods found"]
    return []


def _with_followers(members: list[Member], leader: str | None) -> list[Member]:
    """Replicas follow the leader: the operators stream every replica from the primary."""
    return [dataclasses.replace(m, upstream=leader) if m.role == REPLICA and leader else m
            for m in members]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---------------------------------------------------------------------------- Zalando


ZALANDO_TITLE = "Zalando postgres-operator"


def _patroni_status(text: str | None) -> dict[str, Any]:
    """Patroni's member key (it keeps it in the pod's `status` annotation on Kubernetes)."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _pg_role(word: str | None) -> str:
    word = (word or "").lower()
    if word in ("master", "primary", "leader"):
        return PRIMARY
    if word in ("standby_leader", "standby-leader"):
        return STANDBY_LEADER
    if word in ("replica", "sync_standby", "standby"):
        return REPLICA
    return UNKNOWN


def zalando_reading(resource: Mapping[str, Any], pods: Sequence[PodView], now: float) -> Reading:
    spec, status = resource.get("spec") or {}, resource.get("status") or {}
    phase = str(status.get("PostgresClusterStatus") or "")
    standby_cluster = bool(spec.get("standby"))
    patroni = {p.name: _patroni_status(p.annotations.get("status")) for p in pods}
    members = []
    for p in pods:
        member_key = patroni[p.name]
        role = _pg_role(p.labels.get("spilo-role") or member_key.get("role"))
        if role == PRIMARY and (standby_cluster or _pg_role(member_key.get("role")) == STANDBY_LEADER):
            role = STANDBY_LEADER
        state, replicating = p.state, None
        if p.reachable and member_key:
            patroni_state = str(member_key.get("state") or "running")
            replication = member_key.get("replication_state")
            state = str(replication) if role == REPLICA and replication else patroni_state
        if role == REPLICA:
            replicating = p.reachable and state in ("running", "streaming")
        details = [*_pod_details(p, now), ("operator", phase or "no status yet")]
        if member_key:
            details.append(("patroni", " ".join(
                str(v) for v in (member_key.get("role"), member_key.get("state"),
                                 member_key.get("version")) if v)))
        members.append(Member(
            name=p.name, host=p.ip, port=POSTGRES_PORT, role=role, state=state, reachable=p.reachable,
            timeline=_int(member_key.get("timeline")), replicating=replicating, error=p.error,
            details=tuple(details)))
    leader, problems = _leader(members, next((p.name for p in pods if _pg_role(
        patroni[p.name].get("role")) in LEADER_ROLES), ""))
    members = _with_followers(members, leader)
    members = _zalando_lag(members, patroni, leader)
    if phase != "Running":
        problems.insert(0, f"{ZALANDO_TITLE}: {phase or 'no status reported yet'}")
    problems += _wanted(ZALANDO_TITLE, spec.get("numberOfInstances"), len(pods))
    if members and not any(m.role in LEADER_ROLES for m in members):
        problems.append(f"{ZALANDO_TITLE}: no pod is labelled spilo-role=master")
    return Reading(members=tuple(members), leader=leader, problems=tuple(problems))


def _zalando_lag(members: list[Member], patroni: Mapping[str, Mapping[str, Any]],
                 leader: str | None) -> list[Member]:
    """Lag as patronictl shows it: the leader's WAL position minus the replica's."""
    top = _int(patroni.get(leader or "", {}).get("xlog_location"))
    if top is None:
        return members
    out = []
    for m in members:
        mine = _int(patroni.get(m.name, {}).get("xlog_location"))
        if m.role == REPLICA and mine is not None:
            m = dataclasses.replace(m, lag_bytes=max(0, top - mine))
        out.append(m)
    return out


# ---------------------------------------------------------------------------- CloudNativePG


CNPG_TITLE = "CloudNativePG"


def _cnpg_instance(p: PodView) -> bool:
    """Instance pods only: initdb/join jobs and poolers carry the cluster label too."""
    labels = p.labels
    if "cnpg.io/jobRole" in labels or "cnpg.io/poolerName" in labels:
        return False
    return labels.get("cnpg.io/podRole", "instance") == "instance"


def cnpg_reading(resource: Mapping[str, Any], pods: Sequence[PodView], now: float) -> Reading:
    spec, status = resource.get("spec") or {}, resource.get("status") or {}
    pods = [p for p in pods if _cnpg_instance(p)]
    phase, reason = str(status.get("phase") or ""), str(status.get("phaseReason") or "")
    current, target = str(status.get("currentPrimary") or ""), str(status.get("targetPrimary") or "")
    moving = bool(current and target and current != target)
    by_state = {str(pod): str(state) for state, names in (status.get("instancesStatus") or {}).items()
                for pod in names or ()}
    reported = status.get("instancesReportedState") or {}
    replica_cluster = bool((spec.get("replica") or {}).get("enabled"))
    members = []
    for p in pods:
        role = _pg_role(p.labels.get("cnpg.io/instanceRole") or p.labels.get("role"))
        if role == PRIMARY and replica_cluster:
            role = STANDBY_LEADER
        timeline = _int((reported.get(p.name) or {}).get("timeLineID"))
        if timeline is None and role in LEADER_ROLES and (not current or p.name == current):
            timeline = _int(status.get("timelineID"))  # the cluster's timeline is its primary's
        operator_says = by_state.get(p.name, "")
        error = p.error or (f"{CNPG_TITLE} reports this instance as failed" if operator_says == "failed"
                            else "")
        details = [*_pod_details(p, now), ("operator", phase or "no status yet")]
        if operator_says:
            details.append(("instance status", operator_says))
        if moving and p.name == current:
            details.append(("switchover", f"handing the primary role to {target}"))
        elif moving and p.name == target:
            details.append(("switchover", f"taking the primary role from {current}"))
        replicating = (p.reachable and operator_says != "failed") if role == REPLICA else None
        members.append(Member(
            name=p.name, host=p.ip, port=POSTGRES_PORT, role=role, state=p.state, reachable=p.reachable,
            timeline=timeline, replicating=replicating, error=error, details=tuple(details)))
    leader, problems = _leader(members, current)
    members = _with_followers(members, leader)
    transition = f"primary {current} to {target}" if moving else ""
    if phase and phase != CNPG_HEALTHY:
        line = f"{CNPG_TITLE}: {phase}" + (f" ({reason})" if reason and reason != phase else "")
        problems.insert(0, line + (f": {transition}" if transition else ""))
    elif moving:
        problems.insert(0, f"{CNPG_TITLE}: switchover in progress: {transition}")
    elif not phase:
        problems.insert(0, f"{CNPG_TITLE}: no status reported yet")
    instances, ready = _int(status.get("instances")), _int(status.get("readyInstances"))
    if instances is not None and ready is not None and ready < instances:
        problems.append(f"{CNPG_TITLE}: {ready} of {instances} instances ready")
    problems += _wanted(CNPG_TITLE, spec.get("instances"), len(pods))
    if members and not any(m.role in LEADER_ROLES for m in members):
        problems.append(f"{CNPG_TITLE}: no pod is labelled cnpg.io/instanceRole=primary"
                        + (f" (the operator names {current})" if current else ""))
    return Reading(members=tuple(members), leader=leader, problems=tuple(problems))


# ---------------------------------------------------------------------------- Percona


PXC_TITLE = "Percona XtraDB Cluster"


def percona_reading(resource: Mapping[str, Any], pods: Sequence[PodView], now: float) -> Reading:
    spec, status = resource.get("spec") or {}, resource.get("status") or {}
    state = str(status.get("state") or "")
    pxc = status.get("pxc") or {}
    size, ready = _int(pxc.get("size")), _int(pxc.get("ready"))
    operator = state or "no status yet"
    if size is not None:
        operator += f"; pxc {ready or 0}/{size} ready"
    members = []
    for p in pods:
        details = [*_pod_details(p, now), ("operator", operator), ("galera", GALERA_NOTE)]
        members.append(Member(
            name=p.name, host=p.ip, port=MYSQL_PORT, role=PRIMARY if p.reachable else UNKNOWN,
            state=p.state, reachable=p.reachable, error=p.error, details=tuple(details)))
    problems = []
    if state != "ready":
        messages = [str(m) for m in status.get("message") or () if m] or (
            [str(pxc["message"])] if pxc.get("message") else [])
        problems.append(f"{PXC_TITLE}: {state or 'no status reported yet'}"
                        + (f": {messages[0]}" if messages else ""))
    if size is not None and (ready or 0) < size:
        problems.append(f"{PXC_TITLE}: {ready or 0} of {size} pxc members ready")
    problems += _wanted(PXC_TITLE, (spec.get("pxc") or {}).get("size"), len(pods))
    return Reading(members=tuple(members), leader=None, problems=tuple(problems))


# ---------------------------------------------------------------------------- operators as data


@dataclass(frozen=True)
class Operator:
    """Where one operator keeps its resource and pods, and how they become a Reading."""

    kind: str
    title: str
    group: str
    resource: Kind
    pod_selector: Callable[[str], str]
    interpret: Callable[[Mapping[str, Any], Sequence[PodView], float], Reading]

    @property
    def qualified(self) -> str:
        """How kubectl and RBAC name the resource: postgresqls.acid.zalan.do."""
        return f"{self.resource.resource}.{self.group}"


OPERATORS: dict[str, Operator] = {
    "zalando": Operator(
        "zalando", ZALANDO_TITLE, "acid.zalan.do",
        Kind("postgresqls", "/apis/acid.zalan.do/v1", True, "postgresql"),
        lambda name: f"application=spilo,cluster-name={name}", zalando_reading),
    "cloudnativepg": Operator(
        "cloudnativepg", CNPG_TITLE, "postgresql.cnpg.io",
        Kind("clusters", "/apis/postgresql.cnpg.io/v1", True, "Cluster"),
        lambda name: f"cnpg.io/cluster={name}", cnpg_reading),
    "percona": Operator(
        "percona", PXC_TITLE, "pxc.percona.com",
        Kind("perconaxtradbclusters", "/apis/pxc.percona.com/v1", True, "PerconaXtraDBCluster"),
        lambda name: f"app.kubernetes.io/instance={name},app.kubernetes.io/component=pxc",
        percona_reading),
}


def reading_from(kind: str, resource: Mapping[str, Any], pods: Sequence[Mapping[str, Any]],
                 now: float | None = None) -> Reading:
    """The operator's resource and its pods (raw API objects) as one Reading, members by name."""
    views = sorted((pod_view(p) for p in pods), key=lambda v: v.name)
    return OPERATORS[kind].interpret(resource, views, time.time() if now is None else now)


def kube_settings(configured: KubernetesSettings | None,
                  env: Mapping[str, str] | None = None) -> KubernetesSettings:
    """providers.kubernetes when set; else the kubeconfig kubectl would use ($KUBECONFIG, ~/.kube/config)."""
    if configured is not None:
        return configured
    from config.loader import default_kubeconfig

    return KubernetesSettings(kubeconfig=default_kubeconfig(os.environ if env is None else env))


# ---------------------------------------------------------------------------- collector


class OperatorCollector:
    """Reads one operator-managed cluster per poll: its resource, then its pods (two GETs)."""

    def __init__(self, cluster: OperatorClusterSettings, kube: KubernetesSettings | None = None) -> None:
        if cluster.kind not in OPERATORS:
            raise ValueError(f"ha.clusters[].kubernetes.kind {cluster.kind!r}: use one of "
                             f"{', '.join(OPERATORS)}")
        self.cluster = cluster
        self.operator = OPERATORS[cluster.kind]
        self.kube = kube_settings(kube)
        self._client: KubeClient | None = None
        self._lock = threading.Lock()

    async def read(self) -> Reading:
        return await asyncio.to_thread(self._read)

    async def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)

    # -- blocking part, in a worker thread -------------------------------------------

    def _read(self) -> Reading:
        client = self._connect()
        op, c = self.operator, self.cluster
        try:
            resource = client.get_json(op.resource.object_path(c.namespace, c.name))
        except Exception as exc:
            raise OperatorUnavailable(self._resource_problem(client, exc)) from None
        try:
            pods = self._pods(client)
        except Exception as exc:
            raise OperatorUnavailable(f"context {client.context}: " + explain(
                exc, verb="list", resource="pods", namespace=c.namespace, host=client.host)) from None
        try:
            return reading_from(c.kind, resource, pods)
        except (AttributeError, TypeError, ValueError) as exc:  # a shape this code does not know
            raise OperatorUnavailable(
                f"{op.qualified} {c.namespace}/{c.name}: unexpected status ({type(exc).__name__}: "
                f"{str(exc)[:120]}) — is this {op.title} version supported?") from None

    def _connect(self) -> KubeClient:
        """The client, built on first use (reads the kubeconfig) and kept across polls."""
        with self._lock:
            if self._client is not None:
                return self._client
            try:
                context = self._context()
                api = build_api_client(self.kube, context)
            except ContextError as exc:
                raise OperatorUnavailable(str(exc)) from None
            self._client = KubeClient(context, api, read_only=True, timeout=self.kube.timeout)
            return self._client

    def _context(self) -> str:
        if self.kube.in_cluster:
            return KUBE_IN_CLUSTER
        if self.cluster.context:
            return self.cluster.context
        # None means the kubeconfig's current context, whatever providers.kubernetes.contexts lists.
        return context_names(dataclasses.replace(self.kube, contexts=()))[0]

    def _pods(self, client: KubeClient) -> list[dict[str, Any]]:
        c = self.cluster
        query: dict[str, str | int] = {"labelSelector": self.operator.pod_selector(c.name),
                                       "limit": self.kube.page_size}
        items: list[dict[str, Any]] = []
        while True:
            page = client.get_json(PODS.list_path(c.namespace), query)
            items.extend(page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query = {**query, "continue": token}

    def _resource_problem(self, client: KubeClient, exc: Exception) -> str:
        op, c = self.operator, self.cluster
        if isinstance(exc, KubeApiError) and exc.status == 404:
            # A missing object is named in the Status; a type the server does not serve is not.
            if f'"{c.name}" not found' in exc.message:
                return (f"{op.qualified} {c.namespace}/{c.name} not found in context {client.context} "
                        f"— {FIX_NAME}")
            return (f"{op.qualified} is not served in context {client.context}: the {op.title} CRD "
                    f"is not installed there — {FIX_CONTEXT}")
        return f"context {client.context}: " + explain(exc, verb="get", resource=op.qualified,
                                                       namespace=c.namespace, host=client.host)

"""`k8s.<view>` providers: each view's records across every watched context.

A poll reads the informers' caches (no request), plus metrics.k8s.io for the
pods and nodes views when its interval is due. A watch event wakes the
provider (`wake`), and the runtime leaves `min_gap` (the profile's refresh)
between polls, so a burst of events becomes one screen update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from config.model import KubernetesSettings
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider
from providers.k8s.action_specs import ACTIONS_BY_VIEW, CORDON, DELETE_POD, RESTART, SCALE, UNCORDON
from providers.k8s.client import ContextError, KubeClient, context_names
from providers.k8s.cluster import KubeCluster
from providers.k8s.errors import explain
from providers.k8s.kinds import NODES, PODS, VIEW_KINDS, WORKLOAD_KINDS
from providers.k8s.records import KubePod, ResourceStatus, Usage
from providers.k8s.snapshot import KubeSnapshot
from providers.k8s.usage import UsageHistory

log = logging.getLogger(__name__)

IDLE_INTERVAL = 5.0
"""With no watch event, still poll this often: statuses and ages stay current."""
LOG_TAIL_LINES = 1000
LOG_BATCH_LINES = 500


class KubeUnavailable(RuntimeError):
    """No context could be read at all; the message is the first reason."""


class KubeViewProvider(Provider):
    """`k8s.<view>` over every configured context."""

    def __init__(self, view: str, clusters: Sequence[KubeCluster], *, refresh: float, timeout: float,
                 metrics_interval: float = 15.0, history_points: int = 60) -> None:
        super().__init__(f"k8s.{view}", interval=max(IDLE_INTERVAL, refresh), timeout=timeout)
        self.view = view
        self.clusters = list(clusters)
        self.kinds = VIEW_KINDS[view]
        self.min_gap = refresh
        self.metrics_interval = metrics_interval
        self._usage_kind = {"pods": PODS, "nodes": NODES}.get(view)
        self.history = UsageHistory(history_points)
        self._usage: dict[str, Usage] = {}
        self._usage_at = 0.0
        self._last: KubeSnapshot | None = None
        self._last_version: tuple[Any, ...] | None = None
        self._requested_cache: tuple[tuple[int, ...], dict[str, Usage]] | None = None
        # Nodes read pods only for "requested": a pod event need not wake them (at
        # 100 pod events/s that re-summed every pod twice a second); the idle poll
        # brings requests up to date within IDLE_INTERVAL.
        woken_by = (NODES,) if view == "nodes" else self.kinds
        for cluster in self.clusters:
            cluster.subscribe(woken_by, self._on_watch_event)

    def _on_watch_event(self) -> None:
        self.wake()

    # -- polling -------------------------------------------------------------------

    async def poll(self) -> KubeSnapshot:
        for cluster in self.clusters:
            if not cluster.started(self.kinds):
                # Reading a kubeconfig may run an exec credential plugin: not on the loop.
                await self.run_blocking(cluster.ensure, self.kinds)
        metrics_changed = await self._refresh_usage()
        version = tuple((c.client is not None, c.error, c.version(self.kinds)) for c in self.clusters)
        statuses = self._statuses()
        if self._last is not None and version == self._last_version and not metrics_changed:
            # Nothing moved: the same snapshot object, so screens can skip their diff.
            return self._last
        items: list[Any] = []
        for cluster in self.clusters:
            for kind in self.kinds:
                if self.view == "nodes" and kind is PODS:
                    continue
                items.extend(cluster.items(kind))
        if not items and statuses and all(s.error for s in statuses):
            raise KubeUnavailable(f"{statuses[0].context}: {statuses[0].error}")
        snapshot = KubeSnapshot(
            taken_at=time.time(), view=self.view, items=tuple(items), statuses=tuple(statuses),
            usage=dict(self._usage), requested=self._requested() if self.view == "nodes" else {},
            history=self.history,
        )
        self._last, self._last_version = snapshot, version
        return snapshot

    def _statuses(self) -> list[ResourceStatus]:
        statuses: list[ResourceStatus] = []
        for cluster in self.clusters:
            kinds = [k for k in self.kinds if not (self.view == "nodes" and k is PODS)]
            statuses.extend(cluster.statuses(kinds))
            if self._usage_kind is not None and cluster.metrics_error:
                statuses.append(ResourceStatus(cluster.context, "metrics", True, cluster.metrics_error))
        return statuses

    async def _refresh_usage(self) -> bool:
        if self._usage_kind is None or time.monotonic() - self._usage_at < self.metrics_interval:
            return False
        if not any(c.client is not None for c in self.clusters):
            return False
        self._usage_at = time.monotonic()
        usage: dict[str, Usage] = {}
        for cluster in self.clusters:
            if cluster.client is None:
                continue
            answer = await self.run_blocking(cluster.fetch_usage, self._usage_kind)
            if answer:
                usage.update(answer)
        self._usage = usage
        self.history.add(usage)
        self.history.forget_all_but(usage)
        return True

    def _requested(self) -> dict[str, Usage]:
        """Per node: the requests of the pods scheduled there (finished pods hold none)."""
        version = tuple(v for c in self.clusters for v in c.version((PODS,)))
        if self._requested_cache is not None and self._requested_cache[0] == version:
            return self._requested_cache[1]
        cpu: dict[str, float] = {}
        memory: dict[str, float] = {}
        for cluster in self.clusters:
            for pod in cluster.items(PODS):
                if not pod.node or pod.terminated:
                    continue
                key = f"{cluster.context}/{pod.node}"
                cpu[key] = cpu.get(key, 0.0) + pod.cpu_request
                memory[key] = memory.get(key, 0.0) + pod.memory_request
        requested = {k: Usage(cpu[k], memory[k]) for k in cpu}
        self._requested_cache = (version, requested)
        return requested

    async def close(self) -> None:
        for cluster in self.clusters:
            await asyncio.to_thread(cluster.close)

    # -- actions -------------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        return list(ACTIONS_BY_VIEW[self.view])

    def action_callable(self, action_id: str) -> ActionCallable:
        calls = {SCALE.id: self._scale, RESTART.id: self._restart, DELETE_POD.id: self._delete_pod,
                 CORDON.id: self._cordon, UNCORDON.id: self._uncordon}
        if action_id not in calls or action_id not in {s.id for s in self.actions()}:
            raise KeyError(action_id)
        return calls[action_id]

    def _client(self, target: ActionTarget) -> KubeClient:
        context = target.details.get("context", "")
        for cluster in self.clusters:
            if cluster.context == context:
                client = cluster.connect()
                if client is None:
                    raise RuntimeError(cluster.error or f"context {context} is not connected")
                return client
        raise RuntimeError(f"context {context!r} is not watched by this profile")

    async def _send(self, target: ActionTarget, done: str, method: str, path: str,
                    body: Any = None, content_type: str = "application/merge-patch+json") -> ActionResult:
        client = self._client(target)
        try:
            await self.run_blocking(lambda: client.send(method, path, body, content_type=content_type))
        except Exception as exc:
            verb = {"DELETE": "delete", "PATCH": "patch"}.get(method, method.lower())
            return ActionResult(False, explain(exc, verb=verb, resource=path.rsplit("/", 2)[-2],
                                               namespace=target.details.get("namespace"),
                                               host=client.host))
        return ActionResult(True, done)

    async def _scale(self, target: ActionTarget) -> ActionResult:
        replicas = SCALE.parameter.parse(target.params.get("replicas", "")) if SCALE.parameter else 0
        kind = WORKLOAD_KINDS[target.details["kind"]]
        if target.details["kind"] == "DaemonSet":
            return ActionResult(False, "a DaemonSet runs one pod per node: it cannot be scaled")
        path = kind.object_path(target.details["namespace"], target.name) + "/scale"
        return await self._send(target, f"{target.kind} {target.name} scaled to {replicas}", "PATCH",
                                path, {"spec": {"replicas": replicas}})

    async def _restart(self, target: ActionTarget) -> ActionResult:
        kind = WORKLOAD_KINDS[target.details["kind"]]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": now}}}}}
        return await self._send(target, f"{target.kind} {target.name} restarted", "PATCH",
                                kind.object_path(target.details["namespace"], target.name), body,
                                "application/strategic-merge-patch+json")

    async def _delete_pod(self, target: ActionTarget) -> ActionResult:
        return await self._send(target, f"pod {target.name} deleted", "DELETE",
                                PODS.object_path(target.details["namespace"], target.name))

    async def _cordon(self, target: ActionTarget) -> ActionResult:
        return await self._send(target, f"node {target.name} cordoned", "PATCH",
                                NODES.object_path(None, target.name), {"spec": {"unschedulable": True}},
                                "application/strategic-merge-patch+json")

    async def _uncordon(self, target: ActionTarget) -> ActionResult:
        return await self._send(target, f"node {target.name} uncordoned", "PATCH",
                                NODES.object_path(None, target.name), {"spec": {"unschedulable": None}},
                                "application/strategic-merge-patch+json")

    # -- logs (reads: allowed in watch mode) -------------------------------------------

    async def logs(self, pod: KubePod, container: str, previous: bool = False, *,
                   tail_lines: int = LOG_TAIL_LINES) -> AsyncIterator[list[str]]:
        """Batches of a container's log lines; follows the live container until closed.

        A thread reads the HTTP stream and hands batches to the loop; closing
        the iterator closes the connection (which unblocks that thread).
        """
        client = self._client(ActionTarget("pod", pod.key, pod.name, {"context": pod.context}))
        query: dict[str, str | int | bool] = {"container": container, "tailLines": tail_lines}
        if previous:
            query["previous"] = True
        else:
            query["follow"] = True
        path = PODS.object_path(pod.namespace, pod.name) + "/log"
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[str] | BaseException | None] = asyncio.Queue(maxsize=64)
        stop = threading.Event()
        opened: list[Any] = []

        def put(item: list[str] | BaseException | None) -> None:
            if stop.is_set():
                return
            future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            with contextlib.suppress(Exception):  # the reader went away: nothing to deliver to
                future.result()

        def read() -> None:
            try:
                stream = client.stream(path, query, read_timeout=86400.0, accept="*/*")
                opened.append(stream)
                if stop.is_set():
                    stream.close()
                    return
                for chunk in stream.batches():
                    lines = [line.decode("utf-8", "replace").rstrip("\r") for line in chunk]
                    for start in range(0, len(lines), LOG_BATCH_LINES):
                        put(lines[start:start + LOG_BATCH_LINES])
                put(None)
            except BaseException as exc:  # delivered to the reader as one line
                put(RuntimeError(explain(exc, verb="get", resource="pods/log",
                                         namespace=pod.namespace, host=client.host)))

        thread = threading.Thread(target=read, name=f"k8s-logs:{pod.name}:{container}", daemon=True)
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            for stream in opened:
                stream.close()
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:  # unblock a reader waiting on a full queue
                    queue.get_nowait()


def build_kube_providers(settings: KubernetesSettings, *, read_only: bool,
                         history_points: int = 60) -> list[Provider]:
    """One provider per view over the contexts the profile names."""
    try:
        clusters = [KubeCluster(settings, name, read_only=read_only)
                    for name in context_names(settings)]
    except ContextError as exc:
        # No context to name yet: one placeholder carries the fix to the status line.
        clusters = [KubeCluster(settings, "kubeconfig", read_only=read_only, broken=str(exc))]
    return [KubeViewProvider(view, clusters, refresh=settings.refresh, timeout=settings.timeout,
                             metrics_interval=settings.metrics_interval, history_points=history_points)
            for view in VIEW_KINDS]

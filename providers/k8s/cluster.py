"""One context: its client and its informers, shared by the five Kubernetes views.

Views ask for the kinds they show; the first ask starts that kind's watch
(per namespace when the profile filters namespaces). A change seen by a watch
wakes the providers that show the kind, so the screen follows within the
profile's refresh cap instead of a poll interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from config.model import KubernetesSettings
from providers.k8s import parse
from providers.k8s.client import ContextError, KubeApiError, KubeClient, build_api_client
from providers.k8s.errors import explain
from providers.k8s.informer import Informer
from providers.k8s.kinds import (
    DAEMONSETS,
    DEPLOYMENTS,
    EVENTS,
    NODE_METRICS,
    NODES,
    POD_METRICS,
    PODS,
    PVCS,
    STATEFULSETS,
    Kind,
)
from providers.k8s.records import ResourceStatus, Usage

log = logging.getLogger(__name__)

PARSERS: dict[Kind, Callable[[str, Any], Any]] = {
    NODES: parse.node, PODS: parse.pod, EVENTS: parse.event, PVCS: parse.pvc,
    DEPLOYMENTS: parse.workload, STATEFULSETS: parse.workload, DAEMONSETS: parse.workload,
}
CONTEXT_RETRY = 30.0  # a broken kubeconfig is read again this often (it may have been fixed)
METRICS_NOT_SERVED_RETRY = 600.0


def parser_for(kind: Kind) -> Callable[[str, Any], Any]:
    return PARSERS[kind]


class KubeCluster:
    """Client + informers of one context."""

    def __init__(self, settings: KubernetesSettings, context: str, *, read_only: bool,
                 broken: str | None = None) -> None:
        self.settings = settings
        self.context = context
        self.read_only = read_only
        self.client: KubeClient | None = None
        self.error: str | None = broken
        self._broken = broken is not None
        self._client_tried = 0.0
        self._informers: dict[tuple[Kind, str | None], Informer[Any]] = {}
        self._listeners: dict[Kind, list[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._listeners_lock = threading.Lock()
        self.metrics_error: str | None = None
        self._metrics_retry_at = 0.0

    # -- connection --------------------------------------------------------------

    def connect(self) -> KubeClient | None:
        """The client, built on first use; None (with `error` set) while the context is unusable."""
        if self.client is not None or self._broken:
            return self.client
        now = time.monotonic()
        if self._client_tried and now - self._client_tried < CONTEXT_RETRY:
            return None
        self._client_tried = now
        try:
            api = build_api_client(self.settings, self.context)
        except ContextError as exc:
            self.error = str(exc)
            return None
        self.client = KubeClient(self.context, api, read_only=self.read_only,
                                 timeout=self.settings.timeout)
        self.error = None
        return self.client

    # -- watches -----------------------------------------------------------------

    def subscribe(self, kinds: Iterable[Kind], listener: Callable[[], None]) -> None:
        with self._listeners_lock:
            for kind in kinds:
                self._listeners.setdefault(kind, []).append(listener)

    def _wanted(self, kinds: Iterable[Kind]) -> list[tuple[Kind, str | None]]:
        namespaces: tuple[str | None, ...] = tuple(self.settings.namespaces) or (None,)
        return [(kind, ns) for kind in kinds for ns in (namespaces if kind.namespaced else (None,))]

    def started(self, kinds: Iterable[Kind]) -> bool:
        return all(key in self._informers for key in self._wanted(kinds))

    def ensure(self, kinds: Iterable[Kind]) -> None:
        """Start the watches these kinds need (once); blocking: reads the kubeconfig."""
        with self._lock:
            self._ensure(kinds)

    def _ensure(self, kinds: Iterable[Kind]) -> None:
        client = self.connect()
        if client is None:
            return
        for kind, namespace in self._wanted(kinds):
            key = (kind, namespace)
            if key in self._informers:
                continue
            informer: Informer[Any] = Informer(
                client, kind, parser_for(kind), namespace=namespace,
                page_size=self.settings.page_size, watch_timeout=self.settings.watch_timeout,
                on_change=lambda k=kind: self._changed(k),
            )
            self._informers[key] = informer
            informer.start()

    def _changed(self, kind: Kind) -> None:
        for listener in list(self._listeners.get(kind, ())):
            listener()

    def informers(self, kinds: Iterable[Kind]) -> list[Informer[Any]]:
        wanted = set(kinds)
        return [inf for (kind, _), inf in list(self._informers.items()) if kind in wanted]

    def items(self, kind: Kind) -> list[Any]:
        out: list[Any] = []
        for informer in self.informers((kind,)):
            out.extend(informer.items())
        return out

    def version(self, kinds: Iterable[Kind]) -> tuple[int, ...]:
        return tuple(inf.version for inf in self.informers(kinds))

    def statuses(self, kinds: Iterable[Kind]) -> list[ResourceStatus]:
        if self.client is None:
            return [ResourceStatus(self.context, "context", False, self.error or "not connected yet")]
        return [inf.status() for inf in self.informers(kinds)]

    def synced(self, kinds: Iterable[Kind]) -> bool:
        informers = self.informers(kinds)
        return bool(informers) and all(inf.synced.is_set() for inf in informers)

    # -- metrics.k8s.io (not watchable: read on an interval) ------------------------

    def fetch_usage(self, kind: Kind) -> dict[str, Usage] | None:
        """Usage by record key (blocking; run in the pool). None when not served now."""
        client = self.client
        if client is None or time.monotonic() < self._metrics_retry_at:
            return None
        metrics_kind = POD_METRICS if kind is PODS else NODE_METRICS
        namespaces: tuple[str | None, ...] = (
            tuple(self.settings.namespaces) if kind is PODS and self.settings.namespaces else (None,))
        usage: dict[str, Usage] = {}
        try:
            for namespace in namespaces:
                page = client.get_json(metrics_kind.list_path(namespace))
                for obj in page.get("items") or ():
                    meta = obj.get("metadata") or {}
                    key = (f"{self.context}/{meta.get('namespace', '')}/{meta.get('name', '')}"
                           if kind is PODS else f"{self.context}/{meta.get('name', '')}")
                    usage[key] = parse.usage(obj)
        except KubeApiError as exc:
            if exc.status in (404, 503):
                self.metrics_error = ("metrics.k8s.io not served (install metrics-server for "
                                      "CPU/memory in use)")
                self._metrics_retry_at = time.monotonic() + METRICS_NOT_SERVED_RETRY
            else:
                self.metrics_error = explain(exc, verb="list", resource=f"{metrics_kind.resource} metrics",
                                             host=client.host)
            return None
        except Exception as exc:  # unreachable, timeout: the watches report it too
            self.metrics_error = explain(exc, host=client.host)
            return None
        self.metrics_error = None
        return usage

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        for informer in self._informers.values():
            informer.stop(join=None)
        for informer in self._informers.values():
            informer.stop(join=2.0)
        self._informers.clear()
        if self.client is not None:
            self.client.close()
        self._broken = True  # closed for good: a late poll must not start new watches
        self.client = None

"""List once, then watch: one resource type of one context kept current in memory.

The client-go informer pattern in a thread: a paginated list (limit/continue)
gives the objects and a resourceVersion; a watch from that version streams
ADDED/MODIFIED/DELETED (and BOOKMARK, which only moves the version on). When
the watch ends (the server's timeout, a dropped connection) it is reopened
from the last version seen; when the server says that version is gone (410),
the type is listed again. Nothing is re-listed on a refresh: a poll only
reads the cache.

A watch is a blocking read that lasts minutes, so each runs in its own daemon
thread rather than in the runtime's bounded pool (where it would hold a slot
for good); the pool stays for calls that end.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from providers.k8s.client import KubeApiError, KubeClient, Stream, status_error
from providers.k8s.errors import explain
from providers.k8s.kinds import Kind
from providers.k8s.records import ResourceStatus

log = logging.getLogger(__name__)

R = TypeVar("R")
Parser = Callable[[str, Mapping[str, Any]], R]

RETRY_FIRST = 1.0
RETRY_CAP = 60.0


class _Relist(Exception):
    """The watch's resourceVersion expired (410 Gone): list again."""


class Informer(Generic[R]):
    """The objects of one Kind (in one namespace, or all) as parsed records."""

    def __init__(
        self,
        client: KubeClient,
        kind: Kind,
        parse: Parser[R],
        *,
        namespace: str | None = None,
        page_size: int = 500,
        watch_timeout: float = 300.0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.page_size = page_size
        self.watch_timeout = watch_timeout
        self._parse = parse
        self._on_change = on_change
        self._cache: dict[str, R] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stream: Stream | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        self.synced = threading.Event()
        self.version = 0  # bumped on every change of the cache
        self.resource_version: str | None = None
        self.error: str | None = None
        self.relists = 0
        self.reconnects = 0
        self.last_event: float | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        name = f"k8s-watch:{self.client.context}:{self.kind.resource}:{self.namespace or '*'}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self, join: float | None = 2.0) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread is not None and join is not None:
            self._thread.join(join)

    # -- what the provider reads ------------------------------------------------

    def items(self) -> list[R]:
        with self._lock:
            return list(self._cache.values())

    def status(self) -> ResourceStatus:
        resource = self.kind.resource if not self.namespace else f"{self.kind.resource} in {self.namespace}"
        with self._lock:
            count = len(self._cache)
        return ResourceStatus(self.client.context, resource, self.synced.is_set(), self.error, count,
                              self.relists, self.reconnects, self.last_event)

    # -- the loop ----------------------------------------------------------------

    def _run(self) -> None:
        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                self._watch()
                delay = RETRY_FIRST  # a watch that ends cleanly is simply reopened
            except _Relist:
                self.resource_version = None
                self.relists += 1
            except Exception as exc:  # anything the network or server does: report, back off, retry
                if self._stop.is_set():
                    return
                if isinstance(exc, KubeApiError) and exc.status == 410:
                    self.resource_version = None
                    self.relists += 1
                    continue
                self._fail(exc)
                self._stop.wait(delay * (1 + self._rng.uniform(-0.2, 0.2)))
                delay = min(delay * 2, RETRY_CAP)

    def _fail(self, exc: BaseException) -> None:
        message = explain(exc, verb="list" if self.resource_version is None else "watch",
                          resource=self.kind.resource, namespace=self.namespace, host=self.client.host)
        if message != self.error:
            log.warning("%s %s: %s", self.client.context, self.kind.resource, message)
            self.error = message
            self._changed()

    def _changed(self) -> None:
        self.version += 1
        try:
            self._on_change()
        except Exception:  # a listener's bug must not end the watch
            log.exception("informer listener failed")

    def _key(self, obj: Mapping[str, Any]) -> str:
        meta = obj.get("metadata") or {}
        return f"{meta.get('namespace', '')}/{meta.get('name', '')}"

    def _list(self) -> None:
        fresh: dict[str, R] = {}
        token: str | None = None
        path = self.kind.list_path(self.namespace)
        while True:
            query: dict[str, str | int | bool] = {"limit": self.page_size}
            if token:
                query["continue"] = token
            page = self.client.get_json(path, query)
            for obj in page.get("items") or ():
                # List items carry no kind; the parser of workloads needs it.
                obj.setdefault("kind", self.kind.kind)
                fresh[self._key(obj)] = self._parse(self.client.context, obj)
            meta = page.get("metadata") or {}
            token = meta.get("continue") or None
            if token is None:
                self.resource_version = str(meta.get("resourceVersion") or "") or None
                break
            if self._stop.is_set():
                return
        with self._lock:
            self._cache = fresh
        self.error = None
        self.synced.set()
        self._changed()

    def _watch(self) -> None:
        query: dict[str, str | int | bool] = {
            "watch": True, "allowWatchBookmarks": True,
            "timeoutSeconds": int(self.watch_timeout),
        }
        if self.resource_version:
            query["resourceVersion"] = self.resource_version
        stream = self.client.stream(self.kind.list_path(self.namespace), query,
                                    read_timeout=self.watch_timeout + 30)
        self._stream = stream
        try:
            if self._stop.is_set():
                return
            if self.error is not None:  # reconnected: the watch works again
                self.error = None
                self._changed()
            for line in stream.lines():
                if self._stop.is_set():
                    return
                if line.strip():
                    self._apply(json.loads(line))
        finally:
            self._stream = None
            stream.close()
        self.reconnects += 1

    def _apply(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            error = status_error(obj)
            if error.status == 410:
                raise _Relist()
            raise error
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self.resource_version = str(version)
        if kind == "BOOKMARK":
            return
        key = self._key(obj)
        obj.setdefault("kind", self.kind.kind)
        with self._lock:
            if kind == "DELETED":
                if self._cache.pop(key, None) is None:
                    return
            elif kind in ("ADDED", "MODIFIED"):
                self._cache[key] = self._parse(self.client.context, obj)
            else:
                return
        self.last_event = time.time()
        self._changed()

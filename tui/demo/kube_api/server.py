"""A Kubernetes API server for tests, benchmarks and `--demo`, spoken to by the official client.

No kube-apiserver can run on our machines, so this aiohttp server answers the REST +
watch protocol the way the real one does: typed lists with resourceVersion and
limit/continue pages, label and field selectors, watch streams with bookmarks and
410 Expired, Status objects for every error (403 worded like RBAC's), pod logs with
follow, the scale subresource, merge / strategic-merge / JSON patches, and
metrics.k8s.io like metrics-server (list and get, no watch).

The store keeps each object as JSON bytes (encoded once per write), so list pages and
watch fan-out splice bytes instead of encoding or copying dicts on the read path.
Kinds are rows of :data:`KINDS`; adding one is one line.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import hmac
import json
import threading
import uuid
from bisect import bisect_left, bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from aiohttp import web

from tui.demo.kube_api.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    field_values,
    parse_field_selector,
    parse_label_selector,
    selector_string,
)
from tui.demo.kube_api.watch import (
    RV_KEY,
    Entry,
    KindHistory,
    LogFollower,
    Subscriber,
    WatchEvent,
    bookmark_line,
    format_log,
)

# The user every 403 names, like a read-only service account would be.
FORBIDDEN_USER = "system:serviceaccount:stacktop:viewer"
VERSION_INFO = {
    "major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "36", "gitVersion": "v1.37.0",
    "gitCommit": "5bd4c7ef1d3a0ecd3b1ea7a3b2dc4a2a9ba1d0e7", "gitTreeState": "clean",
    "buildDate": "2026-08-26T10:00:00Z", "goVersion": "go1.25.1", "compiler": "gc", "platform": "linux/amd64",
}
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
LOG_LINES_KEPT = 10_000
_STATUS_REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    406: "NotAcceptable", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
    429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}
_EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list - "
    "objects that were created, modified, or deleted between the time the first chunk was returned and "
    "now may show up in the list.")


# ---------------------------------------------------------------------------- kinds as data


@dataclass(frozen=True)
class ResourceType:
    """One served resource; `versioned=False` means computed on read (metrics): no RV, no watch."""

    kind: str
    plural: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    versioned: bool = True
    returns_deleted: bool = False     # DELETE answers the object (pods, namespaces, PV/PVC), else a Status
    has_generation: bool = False
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How error messages name the resource: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @cached_property
    def prefix(self) -> bytes:
        """Opening bytes of a full object; a stored body's `{` is replaced by this."""
        return json.dumps({"kind": self.kind, "apiVersion": self.api_version},
                          separators=(",", ":"))[:-1].encode() + b","


KINDS: tuple[ResourceType, ...] = (
    ResourceType("Namespace", "namespaces", "", "v1", False, ("ns",), ("status",), returns_deleted=True),
    ResourceType("Node", "nodes", "", "v1", False, ("no",), ("status",)),
    ResourceType("Pod", "pods", "", "v1", True, ("po",), ("status", "log", "eviction"), returns_deleted=True,
                 has_generation=True, categories=("all",)),
    ResourceType("Event", "events", "", "v1", True, ("ev",)),
    ResourceType("Service", "services", "", "v1", True, ("svc",), ("status",), categories=("all",)),
    ResourceType("PersistentVolumeClaim", "persistentvolumeclaims", "", "v1", True, ("pvc",), ("status",),
                 returns_deleted=True),
    ResourceType("PersistentVolume", "persistentvolumes", "", "v1", False, ("pv",), ("status",),
                 returns_deleted=True),
    ResourceType("Deployment", "deployments", "apps", "v1", True, ("deploy",), ("status", "scale"),
                 has_generation=True, categories=("all",)),
    ResourceType("StatefulSet", "statefulsets", "apps", "v1", True, ("sts",), ("status", "scale"),
                 has_generation=True, categories=("all",)),
    ResourceType("DaemonSet", "daemonsets", "apps", "v1", True, ("ds",), ("status",), has_generation=True,
                 categories=("all",)),
    ResourceType("ReplicaSet", "replicasets", "apps", "v1", True, ("rs",), ("status", "scale"),
                 has_generation=True, categories=("all",)),
    ResourceType("NodeMetrics", "nodes", "metrics.k8s.io", "v1beta1", False, verbs=("get", "list"),
                 versioned=False),
    ResourceType("PodMetrics", "pods", "metrics.k8s.io", "v1beta1", True, verbs=("get", "list"),
                 versioned=False),
    # Database operators' custom resources, as their CRDs declare them (read by the HA tab).
    ResourceType("postgresql", "postgresqls", "acid.zalan.do", "v1", True, ("pg",), ("status",),
                 has_generation=True, categories=("all",)),
    ResourceType("Cluster", "clusters", "postgresql.cnpg.io", "v1", True, (), ("status",),
                 has_generation=True),
    ResourceType("PerconaXtraDBCluster", "perconaxtradbclusters", "pxc.percona.com", "v1", True,
                 ("pxc", "pxcs"), ("status",), has_generation=True),
    # CSI snapshots, as the external-snapshotter's CRD declares them (read by the Backups tab).
    ResourceType("VolumeSnapshot", "volumesnapshots", "snapshot.storage.k8s.io", "v1", True, ("vs",),
                 ("status",), has_generation=True),
)
# subresource → (group, version, kind or None for the parent's, verbs) in discovery
SUBRESOURCES: dict[str, tuple[str | None, str | None, str | None, tuple[str, ...]]] = {
    "status": (None, None, None, ("get", "patch", "update")),
    "log": (None, None, None, ("get",)),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
}
_VERB_NAMED = {"get": True, "update": True, "patch": True, "delete": True, "list": False, "create": False,
               "deletecollection": False}
SUBRESOURCE_METHODS = {"status": {"GET", "PUT", "PATCH"}, "log": {"GET"}, "eviction": {"POST"},
                       "scale": {"GET", "PUT", "PATCH"}}


# ---------------------------------------------------------------------------- errors and records


class ApiError(Exception):
    """Answered as a Status object, the only error shape the real server sends."""

    def __init__(self, code: int, message: str, *, reason: str | None = None,
                 details: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _STATUS_REASONS.get(code, "Unknown" if code < 500 else "InternalError")
        self.details = details
        self.metadata = metadata or {}
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": self.metadata,
                                "status": "Failure", "message": self.message, "reason": self.reason}
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def response(self) -> web.Response:
        return web.Response(status=self.code, body=json.dumps(self.status()).encode() + b"\n",
                            content_type="application/json", headers=self.headers)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any                      # parsed JSON (a dict; a list for JSON patches) or None
    content_type: str


@dataclass(slots=True)
class Fault:
    status: int
    resource: str | None
    verb: str | None
    namespace: str | None
    message: str | None
    times: int | None


@dataclass(slots=True)
class RequestInfo:
    """What RBAC would see: verb, resource (with subresource), namespace, name.

    `plural` is None for a non-resource path (/version, discovery); `rtype` is None
    for those and for resources this server does not serve (faults still apply).
    """

    verb: str
    path: str
    plural: str | None = None
    group: str = ""
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    rtype: ResourceType | None = None

    @property
    def resource(self) -> str | None:
        if self.plural is None:
            return None
        return f"{self.plural}/{self.subresource}" if self.subresource else self.plural

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else str(self.plural)

    def details(self) -> dict[str, Any]:
        return {**({"name": self.name} if self.name else {}), **({"group": self.group} if self.group else {}),
                "kind": str(self.plural)}


_Snapshot = tuple[list[tuple[str, str]], list[Entry]]     # sorted keys, entries in that order


@dataclass(slots=True)
class _LogBuffer:
    current: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=LOG_LINES_KEPT))
    previous: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=LOG_LINES_KEPT))


def _details(rtype: ResourceType, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    return details


def _not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, f'{rtype.qualified} "{name}" not found', details=_details(rtype, name))


def _forbidden_message(info: RequestInfo) -> str:
    if info.plural is None:
        return f'forbidden: User "{FORBIDDEN_USER}" cannot get path "{info.path}"'
    subject = f'{info.qualified} "{info.name}"' if info.name else info.qualified
    scope = f'in the namespace "{info.namespace}"' if info.namespace else "at the cluster scope"
    return (f'{subject} is forbidden: User "{FORBIDDEN_USER}" cannot {info.verb} resource '
            f'"{info.resource}" in API group "{info.group}" {scope}')


def _fault_error(fault: Fault, info: RequestInfo) -> ApiError:
    """An injected failure worded the way the real server words that status."""
    code = fault.status
    details = info.details() if info.plural else None
    headers: dict[str, str] = {}
    if code == 403:
        message = _forbidden_message(info)
    elif code == 401:
        message, details = "Unauthorized", None
    elif code == 404:
        message = (f'{info.qualified} "{info.name}" not found' if info.plural and info.name
                   else "the server could not find the requested resource")
    elif code == 409 and info.plural and info.name:
        message = (f'Operation cannot be fulfilled on {info.qualified} "{info.name}": the object has '
                   "been modified; please apply your changes to the latest version and try again")
    elif code == 410:
        message = "too old resource version"
    elif code == 429:
        message = "Too many requests, please try again later."
        details = {**(details or {}), "retryAfterSeconds": 1}
        headers["Retry-After"] = "1"
    elif code == 503:
        message = "the server is currently unable to handle the request"
    elif code == 504:
        message = "Timeout: request did not complete within requested timeout - context deadline exceeded"
    elif code >= 500:
        message = "Internal error occurred: injected fault"
    else:
        message = "the server rejected our request for an unknown reason"
    return ApiError(code, fault.message or message, details=details, headers=headers)


# ---------------------------------------------------------------------------- patches


MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
              "ports": "containerPort", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
              "volumes": "name", "conditions": "type", "imagePullSecrets": "name", "ownerReferences": "uid",
              "taints": "key", "addresses": "type", "hostAliases": "ip"}
MERGED_PRIMITIVE_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge patch plus the list merge keys and `$patch` directives of built-in types."""
    if not isinstance(patch, dict):
        return patch
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            if key.startswith("$deleteFromPrimitiveList/"):
                name = key.split("/", 1)[1]
                result[name] = [x for x in result.get(name) or [] if x not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, MERGE_KEYS[key])
        elif isinstance(value, list) and key in MERGED_PRIMITIVE_LISTS:
            current = list(result.get(key) or [])
            result[key] = current + [x for x in value if x not in current]
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = value
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(target: list[Any], patch: list[Any], key: str) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [p for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")]
    result = list(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(item)
            continue
        index = next((i for i, t in enumerate(result)
                      if isinstance(t, dict) and t.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, f"invalid JSON pointer: {path!r}", reason="Invalid")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test)."""
    if not isinstance(ops, list):
        raise ApiError(400, "json patch must be a list of operations")
    for op in ops:
        try:
            name, parts = op["op"], _pointer(op["path"])
            if name in ("move", "copy"):
                value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
                if name == "move":
                    doc = _json_remove(doc, _pointer(op["from"]))
                doc = _json_add(doc, parts, value)
            elif name == "add":
                doc = _json_add(doc, parts, copy.deepcopy(op["value"]))
            elif name == "remove":
                doc = _json_remove(doc, parts)
            elif name == "replace":
                _walk(doc, parts)
                doc = _json_add(_json_remove(doc, parts), parts, copy.deepcopy(op["value"]))
            elif name == "test":
                if _walk(doc, parts) != op["value"]:
                    raise ApiError(422, f"testing value {op['path']} failed", reason="Invalid")
            else:
                raise ApiError(422, f"Unexpected kind: {name}", reason="Invalid")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, f"the server rejected our request due to an error in our request: {exc}",
                           reason="Invalid") from None
    return doc


def _json_add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            index = int(last)
            if not 0 <= index <= len(parent):
                raise IndexError(f"index {index} out of range")
            parent.insert(index, value)
    else:
        parent[last] = value
    return doc


def _json_remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return None
    parent, last = _walk(doc, parts[:-1]), parts[-1]
    if isinstance(parent, list):
        del parent[int(last)]
    else:
        del parent[last]
    return doc


PATCHERS: dict[str, Callable[[Any, Any], Any]] = {
    "application/merge-patch+json": merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
    "application/json-patch+json": json_patch,
}


# ---------------------------------------------------------------------------- helpers


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False", ""}
_METADATA_ORDER = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                   "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
                   "annotations", "ownerReferences", "finalizers", "managedFields")


def _bool(query: dict[str, str], name: str) -> bool:
    value = query.get(name)
    if value is None or value in _FALSE:
        return False
    if value in _TRUE:
        return True
    raise ApiError(400, f'invalid value for {name}: strconv.ParseBool: parsing "{value}": invalid syntax')


def _int(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f'invalid value for {name}: strconv.ParseInt: parsing "{value}": '
                            "invalid syntax") from None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _log_stamp(moment: datetime) -> str:
    """kubelet's fixed nine-digit RFC 3339 timestamp (sorts as text)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _full(rtype: ResourceType, body: bytes) -> bytes:
    return rtype.prefix + body[1:]


def _restamp(body: bytes, old_rv: int, new_rv: int) -> bytes:
    """Swap metadata.resourceVersion in stored bytes: metadata comes first and its earlier
    fields are plain strings, so the first `"resourceVersion":"` is the object's own."""
    return body.replace(RV_KEY + str(old_rv).encode() + b'"', RV_KEY + str(new_rv).encode() + b'"', 1)


def _json_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body + b"\n", content_type="application/json")


def _decode(rtype: ResourceType, entry: Entry) -> dict[str, Any]:
    obj = json.loads(entry.body)
    return {"kind": rtype.kind, "apiVersion": rtype.api_version, **obj}


def _encode_token(rv: int, namespace: str, name: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{namespace}/{name}\x00"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, tuple[str, str]]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        start = raw["start"].rstrip("\x00")
        namespace, _, name = start.partition("/")
        return int(raw["rv"]), (namespace, name)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise ApiError(400, f"continue key is not valid: {token}") from None


# ---------------------------------------------------------------------------- the server


class KubeApiServer:
    """An in-process Kubernetes API server: a thread-safe object store served over HTTP.

    Store methods may be called from any thread; HTTP runs on the server's own event loop.
    """

    def __init__(self, *, token: str | None = "stacktop-test-token", history: int = 5000,
                 bookmark_interval: float = 30.0, page_default: int | None = None) -> None:
        self.url = ""
        self._token = token
        self._history_size = history
        self._bookmark_interval = bookmark_interval
        self._page_default = page_default
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._types = {(t.group, t.version, t.plural): t for t in KINDS}
        self._by_kind = {t.kind: t for t in KINDS}
        self._rv = 0
        self._list_floor = 0
        self._objects: dict[str, dict[tuple[str, str], Entry]] = {t.kind: {} for t in KINDS}
        self._keys: dict[str, list[tuple[str, str]] | None] = dict.fromkeys(self._by_kind)
        self._snap: dict[str, _Snapshot | None] = dict.fromkeys(self._by_kind)
        # list snapshots kept for continue tokens, by (kind, resourceVersion of the first page)
        self._snapshots: OrderedDict[tuple[str, int], _Snapshot] = OrderedDict()
        self._history = {t.kind: KindHistory(history) for t in KINDS if t.versioned}
        self._subscribers: dict[str, set[Subscriber]] = {t.kind: set() for t in KINDS}
        self._followers: dict[tuple[str, str], set[LogFollower]] = {}
        self._logs: dict[tuple[str, str, str], _LogBuffer] = {}
        self._pending_events: list[WatchEvent] = []
        self._pending_logs: list[tuple[tuple[str, str, str], list[tuple[str, str]]]] = []
        self._pending_gone: list[tuple[str, str]] = []
        self._flush_scheduled = False
        self._faults: list[Fault] = []
        self._requests: deque[RecordedRequest] = deque(maxlen=50_000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._discovery = self._build_discovery()

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 from a daemon thread with its own event loop; returns the URL."""
        if self._thread is not None:
            return self.url
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._startup(port))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            with self._lock:
                self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                with self._lock:
                    self._loop = None
                loop.close()

        thread = threading.Thread(target=run, name="kube-api-server", daemon=True)
        self._thread = thread
        thread.start()
        ready.wait(30)
        if failure:
            self._thread = None
            raise failure[0]
        return self.url

    async def _startup(self, port: int) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        """Close open watches and log follows, then the server and its thread; idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        self._thread = None
        if loop is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            with contextlib.suppress(Exception):
                loop.call_soon_threadsafe(loop.stop)
        with contextlib.suppress(Exception):
            thread.join(timeout=10)

    async def _shutdown(self) -> None:
        self._close_streams(followers=True)
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
            self._runner = None

    def _close_streams(self, *, followers: bool) -> None:
        with self._lock:
            subscribers = [s for subs in self._subscribers.values() for s in subs]
            streams = [f for fs in self._followers.values() for f in fs] if followers else []
        for sub in subscribers:
            sub.close()
        for follower in streams:
            follower.close()

    def _call_soon(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):   # the loop is closing
                loop.call_soon_threadsafe(fn)

    # ------------------------------------------------------------------ store

    def _type(self, kind: str) -> ResourceType:
        try:
            return self._by_kind[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(self._by_kind)}") from None

    def _key(self, rtype: ResourceType, namespace: str | None, name: str) -> tuple[str, str]:
        return (namespace or "") if rtype.namespaced else "", name

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create (ADDED) or replace (MODIFIED) an object keyed by its kind, namespace and name."""
        rtype = self._type(obj.get("kind", ""))
        with self._lock:
            entry = self._store(rtype, obj, _now())
            return _decode(rtype, entry)

    def put_many(self, objs: Iterable[dict[str, Any]]) -> None:
        """Bulk load with put's semantics, under one lock and one timestamp."""
        now = _now()
        with self._lock:
            for obj in objs:
                self._store(self._type(obj.get("kind", "")), obj, now)

    def mutate(self, kind: str, namespace: str | None, name: str,
               fn: Callable[[dict[str, Any]], None]) -> dict[str, Any] | None:
        """Edit an object in place, atomically (MODIFIED unless nothing changed); None if absent."""
        rtype = self._type(kind)
        with self._lock:
            entry = self._objects[kind].get(self._key(rtype, namespace, name))
            if entry is None:
                return None
            obj = _decode(rtype, entry)
            fn(obj)
            return _decode(rtype, self._store(rtype, obj, _now()))

    def remove(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Delete an object (DELETED carries its last state with a new resourceVersion)."""
        rtype = self._type(kind)
        with self._lock:
            entry = self._remove(rtype, self._key(rtype, namespace, name))
            return None if entry is None else _decode(rtype, entry)

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        rtype = self._type(kind)
        with self._lock:
            entry = self._objects[kind].get(self._key(rtype, namespace, name))
        return None if entry is None else _decode(rtype, entry)

    def list(self, kind: str) -> list[dict[str, Any]]:
        rtype = self._type(kind)
        with self._lock:
            entries = self._snapshot(kind)[1]
        return [_decode(rtype, e) for e in entries]

    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    def _store(self, rtype: ResourceType, obj: dict[str, Any], now: str) -> Entry:
        """Encode and keep one object; the caller holds the lock."""
        meta_in = obj.get("metadata") or {}
        name = meta_in.get("name")
        if not name:
            raise ValueError(f"{rtype.kind} without metadata.name")
        if rtype.namespaced and not meta_in.get("namespace"):
            raise ValueError(f"{rtype.kind} {name} without metadata.namespace")
        key = self._key(rtype, meta_in.get("namespace"), name)
        objects = self._objects[rtype.kind]
        old = objects.get(key)
        meta = dict(meta_in)
        if not rtype.namespaced:
            meta.pop("namespace", None)
        rv = self._rv + 1
        generation = 0
        if rtype.versioned:
            meta["uid"] = old.uid if old else (meta.get("uid") or str(uuid.uuid4()))
            meta["resourceVersion"] = str(rv)
            if rtype.has_generation:
                if old is None:
                    generation = int(meta.get("generation") or 1)
                else:
                    spec_changed = json.loads(old.body).get("spec") != obj.get("spec")
                    generation = old.generation + (1 if spec_changed else 0)
                meta["generation"] = generation
            else:
                meta.pop("generation", None)
        created = old.created if old else (meta.get("creationTimestamp") or now)
        meta["creationTimestamp"] = created
        ordered = {k: meta[k] for k in _METADATA_ORDER if k in meta}
        ordered.update((k, v) for k, v in meta.items() if k not in ordered)
        body_obj: dict[str, Any] = {"metadata": ordered}
        body_obj.update((k, v) for k, v in obj.items() if k not in ("kind", "apiVersion", "metadata"))
        body = json.dumps(body_obj, separators=(",", ":")).encode()
        # A no-op update keeps its resourceVersion and sends no event, as on a real server.
        if old is not None and rtype.versioned and old.generation == generation \
                and _restamp(body, rv, old.rv) == old.body:
            return old
        entry = Entry(key[0], name, rv if rtype.versioned else 0, body, dict(meta.get("labels") or {}),
                      field_values(rtype.kind, body_obj), meta.get("uid", ""), created, generation)
        objects[key] = entry
        if old is None:
            self._keys[rtype.kind] = None
        self._snap[rtype.kind] = None
        if rtype.versioned:
            self._rv = rv
            self._record_event(WatchEvent(rtype.kind, rv, "MODIFIED" if old else "ADDED", entry, old))
        return entry

    def _remove(self, rtype: ResourceType, key: tuple[str, str]) -> Entry | None:
        entry = self._objects[rtype.kind].pop(key, None)
        if entry is None:
            return None
        self._keys[rtype.kind] = None
        self._snap[rtype.kind] = None
        if not rtype.versioned:
            return entry
        self._rv += 1
        last = Entry(entry.namespace, entry.name, self._rv, _restamp(entry.body, entry.rv, self._rv),
                     entry.labels, entry.fields, entry.uid,
                     entry.created, entry.generation)
        self._record_event(WatchEvent(rtype.kind, self._rv, "DELETED", last, None))
        if rtype.kind == "Pod":
            for container_key in [k for k in self._logs if k[:2] == key]:
                del self._logs[container_key]
            if self._followers.get(key):
                self._pending_gone.append(key)
                self._schedule_flush()
        return last

    def _record_event(self, event: WatchEvent) -> None:
        self._history[event.kind].append(event)
        if self._subscribers[event.kind]:
            self._pending_events.append(event)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._call_soon(self._flush)

    def _flush(self) -> None:
        """Hand queued events and log lines to their streams (event loop thread)."""
        with self._lock:
            events, self._pending_events = self._pending_events, []
            logs, self._pending_logs = self._pending_logs, []
            gone, self._pending_gone = self._pending_gone, []
            self._flush_scheduled = False
            subscribers = {kind: list(subs) for kind, subs in self._subscribers.items() if subs}
            followers = {key: list(fs) for key, fs in self._followers.items() if fs}
        for event in events:
            for sub in subscribers.get(event.kind, ()):
                sub.offer(event)
        for (namespace, pod, container), lines in logs:
            for follower in followers.get((namespace, pod), ()):
                if follower.container == container:
                    follower.offer(lines)
        for key in gone:
            for follower in followers.get(key, ()):
                follower.close()

    def _snapshot(self, kind: str) -> _Snapshot:
        """Keys and entries of a kind in (namespace, name) order; rebuilt only after a change."""
        snap = self._snap[kind]
        if snap is None:
            objects = self._objects[kind]
            keys = self._keys[kind]
            if keys is None:
                keys = self._keys[kind] = sorted(objects)
            snap = self._snap[kind] = (keys, [objects[k] for k in keys])
        return snap

    # ------------------------------------------------------------------ logs

    def append_log(self, namespace: str, pod: str, container: str, lines: Sequence[str], *,
                   previous: bool = False) -> None:
        """Add lines to a container's log (or its previous instance's); followers get them at once."""
        stamp = _log_stamp(datetime.now(UTC))
        entries = [(stamp, part) for line in lines for part in str(line).split("\n")]
        key = (namespace, pod, container)
        with self._lock:
            buffer = self._logs.setdefault(key, _LogBuffer())
            (buffer.previous if previous else buffer.current).extend(entries)
            if not previous and self._followers.get((namespace, pod)):
                self._pending_logs.append((key, entries))
                self._schedule_flush()

    # ------------------------------------------------------------------ levers for tests

    def fail(self, status: int, *, resource: str | None = None, verb: str | None = None,
             namespace: str | None = None, message: str | None = None, times: int | None = None) -> None:
        """Answer matching requests with `status` (None matches anything; times=None until cleared).

        `resource` is RBAC's: "pods", or "pods/log" for a subresource; `verb` is get, list, watch,
        create, update, patch, delete or deletecollection.
        """
        with self._lock:
            self._faults.append(Fault(status, resource, verb, namespace, message, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def compact(self) -> None:
        """Forget history: older resourceVersions and continue tokens now get 410 Expired."""
        with self._lock:
            for history in self._history.values():
                history.compact(self._rv)
            self._list_floor = self._rv
            self._snapshots.clear()

    def drop_watches(self) -> None:
        """End every open watch cleanly, as an API server restart or rebalancing does."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(lambda: self._close_streams(followers=False))

    def set_token(self, token: str | None) -> None:
        with self._lock:
            self._token = token

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request served (the newest 50,000), oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _resource_kind(self, resource: str) -> str:
        for rtype in KINDS:
            if resource in (rtype.plural, rtype.kind) and rtype.versioned:
                return rtype.kind
        raise ValueError(f"unknown resource {resource!r}")

    def watchers(self, resource: str) -> int:
        """Open watches on a resource ("pods" or "Pod")."""
        kind = self._resource_kind(resource)
        with self._lock:
            return len(self._subscribers[kind])

    def wait_watchers(self, resource: str, count: int = 1, timeout: float = 5.0) -> None:
        """Block until at least `count` watches on `resource` are open (TimeoutError otherwise)."""
        kind = self._resource_kind(resource)
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._subscribers[kind]) >= count, timeout):
                raise TimeoutError(f"{len(self._subscribers[kind])} watches on {resource}, wanted {count}")

    async def wait_for_watchers(self, resource: str, count: int = 1, timeout: float = 5.0) -> None:
        """wait_watchers for asyncio tests (waits in a worker thread)."""
        await asyncio.get_running_loop().run_in_executor(None, self.wait_watchers, resource, count, timeout)

    def log_followers(self, namespace: str, pod: str) -> int:
        """Open `follow=true` log streams on a pod."""
        with self._lock:
            return len(self._followers.get((namespace, pod), ()))

    def wait_log_followers(self, namespace: str, pod: str, count: int = 1, timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.log_followers(namespace, pod) >= count, timeout):
                raise TimeoutError(f"fewer than {count} log followers on {namespace}/{pod}")

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._serve(request)
        except ApiError as err:
            return err.response()
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception as exc:   # a bug must look like a server error, not a dropped connection
            return ApiError(500, f"Internal error occurred: {exc!r}").response()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read() if request.body_exists else b""
        query = dict(request.query.items())
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        body: Any = None
        body_error = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body_error = exc
        with self._lock:
            self._requests.append(RecordedRequest(request.method, request.path, query, body, content_type))
            token, faults = self._token, self._faults
        if token is not None:
            header = request.headers.get("Authorization", "")
            if not hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
                raise ApiError(401, "Unauthorized")
        info = self._route(request.method, request.path, query)
        if faults:
            try:
                self._inject(info)
            except _WatchGone as gone:
                self._validate(info, request.method)
                return await self._watch(request, info, query, gone)
        if info.plural is None:
            return self._nonresource(info)
        self._validate(info, request.method)
        if body_error is not None and request.method in ("POST", "PUT", "PATCH"):
            raise ApiError(400, f"the object provided is unrecognized: {body_error}")
        sub = info.subresource
        if sub == "log":
            return await self._logs_response(request, info, query)
        if info.verb == "watch":
            return await self._watch(request, info, query)
        if sub == "scale":
            return self._scale(request.method, info, body, content_type)
        if sub == "eviction":
            return self._evict(info)
        handler = {"get": self._get_one, "list": self._list, "create": self._create, "update": self._update,
                   "patch": self._patch, "delete": self._delete, "deletecollection": self._delete_collection}
        return handler[info.verb](info, query, body, content_type)

    def _inject(self, info: RequestInfo) -> None:
        with self._lock:
            for fault in self._faults:
                if ((fault.resource is None or fault.resource == info.resource)
                        and (fault.verb is None or fault.verb == info.verb)
                        and (fault.namespace is None or fault.namespace == info.namespace)):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    break
            else:
                return
        error = _fault_error(fault, info)
        if fault.status == 410 and info.verb == "watch":
            raise _WatchGone(error)
        raise error

    def _route(self, method: str, path: str, query: dict[str, str]) -> RequestInfo:
        """Parse a path the way kube-apiserver's RequestInfoFactory does (served or not)."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return RequestInfo("get" if method == "GET" else method.lower(), path)
        watch = rest[0] == "watch"
        if watch:
            rest = rest[1:]
        namespace = None
        if len(rest) > 2 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        if not rest:
            raise ApiError(404, "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None:
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "POST": "create"}.get(method, "")
        else:
            watch = watch or _bool(query, "watch")
            verb = {"GET": "watch" if watch else ("get" if name else "list"), "POST": "create",
                    "PUT": "update", "PATCH": "patch",
                    "DELETE": "delete" if name else "deletecollection"}.get(method, "")
        rtype = self._types.get((group, version, rest[0]))
        if rtype is not None and (len(rest) > 3 or (namespace is not None and not rtype.namespaced)):
            rtype = None
        return RequestInfo(verb, path, rest[0], group, namespace, name, sub, rtype)

    @staticmethod
    def _validate(info: RequestInfo, method: str) -> None:
        """404 for what is not served here, 405 for a verb the resource does not take."""
        rtype = info.rtype
        if rtype is None or (info.subresource is not None and info.subresource not in rtype.subresources):
            raise ApiError(404, "the server could not find the requested resource")
        if info.subresource is not None:
            allowed = method in SUBRESOURCE_METHODS[info.subresource]
        else:
            named = info.name is not None       # a watch may be on one object or on a collection
            allowed = info.verb in rtype.verbs and _VERB_NAMED.get(info.verb, named) == named
        if not allowed:
            raise ApiError(405, "the server does not allow this method on the requested resource")

    # ------------------------------------------------------------------ discovery

    def _build_discovery(self) -> dict[str, bytes]:
        docs: dict[str, Any] = {
            "/version": VERSION_INFO,
            "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
        }
        groups: dict[str, list[ResourceType]] = {}
        for rtype in KINDS:
            groups.setdefault(rtype.api_version, []).append(rtype)
        group_list = []
        for group_version, rtypes in groups.items():
            resources = []
            for rtype in rtypes:
                resources.append({"name": rtype.plural, "singularName": rtype.kind.lower(),
                                  "namespaced": rtype.namespaced, "kind": rtype.kind,
                                  "verbs": list(rtype.verbs),
                                  **({"shortNames": list(rtype.short_names)} if rtype.short_names else {}),
                                  **({"categories": list(rtype.categories)} if rtype.categories else {})})
                for sub in rtype.subresources:
                    group, version, kind, verbs = SUBRESOURCES[sub]
                    entry: dict[str, Any] = {"name": f"{rtype.plural}/{sub}", "singularName": "",
                                             "namespaced": rtype.namespaced, "kind": kind or rtype.kind,
                                             "verbs": list(verbs)}
                    if group is not None:
                        entry.update(group=group, version=version)
                    resources.append(entry)
            path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            docs[path] = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                          "resources": resources}
            if group_version != "v1":
                name, version = group_version.split("/")
                gv = {"groupVersion": group_version, "version": version}
                group_doc = {"name": name, "versions": [gv], "preferredVersion": gv}
                group_list.append(group_doc)
                docs[f"/apis/{name}"] = {"kind": "APIGroup", "apiVersion": "v1", **group_doc}
        docs["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": group_list}
        return {path: json.dumps(doc).encode() + b"\n" for path, doc in docs.items()}

    def _nonresource(self, info: RequestInfo) -> web.Response:
        path = info.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok", content_type="text/plain")
        doc = self._discovery.get(path)
        if doc is None:
            raise ApiError(404, "the server could not find the requested resource")
        if info.verb != "get":
            raise ApiError(405, "the server does not allow this method on the requested resource")
        return web.Response(body=doc, content_type="application/json")

    # ------------------------------------------------------------------ reads

    def _entry(self, info: RequestInfo) -> Entry:
        assert info.rtype is not None and info.name is not None
        entry = self._objects[info.rtype.kind].get((info.namespace or "", info.name))
        if entry is None:
            raise _not_found(info.rtype, info.name)
        return entry

    def _get_one(self, info: RequestInfo, *_: Any) -> web.Response:
        assert info.rtype is not None
        with self._lock:
            entry = self._entry(info)
        return web.Response(body=_full(info.rtype, entry.body) + b"\n", content_type="application/json")

    def _selectors(self, info: RequestInfo, query: dict[str, str]) -> tuple[LabelSelector | None,
                                                                           FieldSelector | None]:
        assert info.rtype is not None
        try:
            labels = parse_label_selector(query.get("labelSelector"))
            text = query.get("fieldSelector") or ""
            if info.name:      # a watch on one object, as /watch/…/pods/NAME asks
                text = f"metadata.name={info.name}" + (f",{text}" if text else "")
            fields = parse_field_selector(info.rtype.kind, text)
        except SelectorError as exc:
            raise ApiError(400, str(exc)) from None
        return labels, fields

    def _list(self, info: RequestInfo, query: dict[str, str], *_: Any) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        labels, fields = self._selectors(info, query)
        limit = _int(query, "limit") or self._page_default
        if limit is not None and limit <= 0:
            limit = None
        token = query.get("continue") or None
        if not rtype.versioned:      # metrics-server neither pages nor versions its lists
            limit, token = None, None
        with self._lock:
            rv = self._rv
            if token:
                token_rv, start = _decode_token(token)
                if token_rv < self._list_floor:
                    fresh = _encode_token(rv, *start)
                    raise ApiError(410, _EXPIRED_CONTINUE, reason="Expired", metadata={"continue": fresh})
                snap = self._snapshots.get((rtype.kind, token_rv)) or self._snapshot(rtype.kind)
                rv = token_rv
            else:
                start = None
                snap = self._snapshot(rtype.kind)
                if limit:
                    self._snapshots[(rtype.kind, rv)] = snap
                    while len(self._snapshots) > 32:
                        self._snapshots.popitem(last=False)
        keys, entries = snap
        lo, hi = 0, len(keys)
        if info.namespace is not None:
            lo, hi = bisect_left(keys, (info.namespace, "")), bisect_left(keys, (info.namespace + "\x00", ""))
        if start is not None:
            lo = max(lo, bisect_right(keys, start))
        remaining: int | None = None
        more = False
        if labels is None and fields is None:
            end = hi if not limit else min(hi, lo + limit)
            items = entries[lo:end]
            remaining = hi - end
            more = remaining > 0
        else:
            items = []
            index = lo
            while index < hi:
                entry = entries[index]
                index += 1
                if (labels is None or labels.matches(entry.labels)) and \
                        (fields is None or fields.matches(entry.namespace, entry.name, entry.fields)):
                    if limit and len(items) == limit:
                        more = True
                        break
                    items.append(entry)
        meta: dict[str, Any] = {}
        if rtype.versioned:
            meta["resourceVersion"] = str(rv)
            if more and items:
                meta["continue"] = _encode_token(rv, items[-1].namespace, items[-1].name)
                if remaining:
                    meta["remainingItemCount"] = remaining
        head = json.dumps({"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version, "metadata": meta},
                          separators=(",", ":")).encode()[:-1]
        body = head + b',"items":[' + b",".join([e.body for e in items]) + b"]}\n"
        return web.Response(body=body, content_type="application/json")

    # ------------------------------------------------------------------ watch

    async def _watch(self, request: web.Request, info: RequestInfo, query: dict[str, str],
                     gone: ApiError | None = None) -> web.StreamResponse:
        rtype = info.rtype
        assert rtype is not None
        labels, fields = self._selectors(info, query)
        timeout = _int(query, "timeoutSeconds")
        bookmarks = _bool(query, "allowWatchBookmarks")
        send_initial = _bool(query, "sendInitialEvents")
        rv_text = query.get("resourceVersion", "")
        sub = Subscriber(rtype.prefix, info.namespace, labels, fields, 0)
        initial: list[Entry] = []
        with self._lock:
            current = self._rv
            if gone is None and (send_initial or rv_text in ("", "0")):
                initial = self._snapshot(rtype.kind)[1]
                replay: list[WatchEvent] = []
            elif gone is None:
                try:
                    since = int(rv_text)
                except ValueError:
                    raise ApiError(400, f'invalid resource version "{rv_text}"') from None
                history = self._history[rtype.kind]
                found = history.since(since)
                if found is None:
                    gone = ApiError(410, f"too old resource version: {since} ({history.floor})",
                                    reason="Expired")
                replay = found or []
                sub.start_rv = since
            if gone is None:
                for event in replay:      # before any await: no live event can slip in between
                    sub.offer(event)
                sub.start_rv = max(current, sub.start_rv)
                self._subscribers[rtype.kind].add(sub)
                self._changed.notify_all()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                           "Cache-Control": "no-cache, private"})
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            if gone is not None:
                line = json.dumps({"type": "ERROR", "object": gone.status()}, separators=(",", ":"))
                await response.write(line.encode() + b"\n")
                return response
            batch: list[bytes] = []
            for line_bytes in sub.initial(initial):
                batch.append(line_bytes)
                if len(batch) >= 1000:
                    await response.write(b"".join(batch))
                    batch = []
            if batch:
                await response.write(b"".join(batch))
            if send_initial and bookmarks:
                await response.write(bookmark_line(rtype.kind, rtype.api_version, current, initial_end=True))
            await self._pump(response, rtype, sub, timeout, bookmarks)
        except (ConnectionError, RuntimeError):
            pass          # the client went away
        finally:
            with self._lock:
                self._subscribers[rtype.kind].discard(sub)
                self._changed.notify_all()
        return response

    async def _pump(self, response: web.StreamResponse, rtype: ResourceType, sub: Subscriber,
                    timeout: int | None, bookmarks: bool) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout and timeout > 0 else None
        next_bookmark = loop.time() + self._bookmark_interval if bookmarks else None
        while True:
            sub.wake.clear()
            if sub.overflowed:
                return
            if sub.buffer:
                data = b"".join(sub.buffer)
                sub.buffer.clear()
                await response.write(data)
                continue
            if sub.closed:
                return
            now = loop.time()
            if deadline is not None and now >= deadline:
                if bookmarks:
                    await response.write(self._bookmark(rtype, sub))
                return
            if next_bookmark is not None and now >= next_bookmark:
                await response.write(self._bookmark(rtype, sub))
                next_bookmark = now + self._bookmark_interval
                continue
            wake_at = min((t for t in (deadline, next_bookmark) if t is not None), default=None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(wake_at):
                    await sub.wake.wait()

    def _bookmark(self, rtype: ResourceType, sub: Subscriber) -> bytes:
        """A bookmark at the newest resourceVersion this stream has seen every event up to."""
        with self._lock:
            rv = self._pending_events[0].rv - 1 if self._pending_events else self._rv
        return bookmark_line(rtype.kind, rtype.api_version, max(rv, sub.start_rv))

    # ------------------------------------------------------------------ writes

    def _check_precondition(self, info: RequestInfo, entry: Entry, wanted: Any) -> None:
        if wanted not in (None, "") and str(wanted) != str(entry.rv):
            assert info.rtype is not None
            raise ApiError(409, f'Operation cannot be fulfilled on {info.rtype.qualified} "{entry.name}": '
                                "the object has been modified; please apply your changes to the latest "
                                "version and try again", reason="Conflict",
                           details=_details(info.rtype, entry.name))

    def _write(self, info: RequestInfo, old: Entry, new: dict[str, Any]) -> Entry:
        """Store an update; the main resource keeps its status and /status keeps the rest."""
        rtype = info.rtype
        assert rtype is not None
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "metadata must be an object")
        current = _decode(rtype, old)
        if info.subresource == "status":
            merged = dict(current)
            if "status" in new:
                merged["status"] = new["status"]
            new = merged
        elif "status" in rtype.subresources:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        new["metadata"] = {**new["metadata"], "name": old.name}
        if rtype.namespaced:
            new["metadata"]["namespace"] = old.namespace
        return self._store(rtype, new, _now())

    def _object_response(self, rtype: ResourceType, entry: Entry, status: int = 200) -> web.Response:
        return _json_response(_full(rtype, entry.body), status)

    def _create(self, info: RequestInfo, query: dict[str, str], body: Any, _ct: str) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request must be an object")
        if body.get("kind") not in (None, rtype.kind):
            raise ApiError(400, f"the kind in the body ({body.get('kind')}) does not match {rtype.kind}")
        obj = {**body, "kind": rtype.kind, "metadata": dict(body.get("metadata") or {})}
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise ApiError(422, f"{rtype.kind} \"\" is invalid: metadata.name: Required value: name or "
                                "generateName is required", reason="Invalid")
        if rtype.namespaced:
            if meta.get("namespace") not in (None, info.namespace):
                raise ApiError(400, "the namespace of the provided object does not match the namespace "
                                    "sent on the request")
            meta["namespace"] = info.namespace
        for key in ("uid", "resourceVersion", "generation", "creationTimestamp"):
            meta.pop(key, None)
        with self._lock:
            if rtype.namespaced and ("", info.namespace) not in self._objects["Namespace"]:
                raise ApiError(404, f'namespaces "{info.namespace}" not found',
                               details={"name": info.namespace, "kind": "namespaces"})
            if self._objects[rtype.kind].get((info.namespace or "", meta["name"])) is not None:
                raise ApiError(409, f'{rtype.qualified} "{meta["name"]}" already exists',
                               reason="AlreadyExists", details=_details(rtype, meta["name"]))
            entry = self._store(rtype, obj, _now())
        return self._object_response(rtype, entry, 201)

    def _update(self, info: RequestInfo, query: dict[str, str], body: Any, _ct: str) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request must be an object")
        name = (body.get("metadata") or {}).get("name")
        if name and name != info.name:
            raise ApiError(400, f"the name of the object ({name}) does not match the name on the URL "
                                f"({info.name})")
        with self._lock:
            old = self._entry(info)
            self._check_precondition(info, old, (body.get("metadata") or {}).get("resourceVersion"))
            new = {**body, "kind": rtype.kind, "metadata": dict(body.get("metadata") or {})}
            entry = self._write(info, old, new)
        return self._object_response(rtype, entry)

    def _patcher(self, content_type: str) -> Callable[[Any, Any], Any]:
        patcher = PATCHERS.get(content_type)
        if patcher is None:
            raise ApiError(415, "the body of the request was in an unknown format - accepted media types "
                                "include: " + ", ".join(PATCHERS))
        return patcher

    def _patch(self, info: RequestInfo, query: dict[str, str], body: Any, content_type: str) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        patcher = self._patcher(content_type)
        with self._lock:
            old = self._entry(info)
            current = _decode(rtype, old)
            patched = patcher(current, body)       # `current` is a fresh decode: patchers may mutate it
            if not isinstance(patched, dict):
                raise ApiError(422, "the patched object is not an object", reason="Invalid")
            # A resourceVersion in the patch is a precondition; without one the old value passes.
            self._check_precondition(info, old, (patched.get("metadata") or {}).get("resourceVersion"))
            patched["kind"] = rtype.kind
            entry = self._write(info, old, patched)
        return self._object_response(rtype, entry)

    def _delete(self, info: RequestInfo, query: dict[str, str], body: Any, _ct: str) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        with self._lock:
            old = self._entry(info)
            pre = (body.get("preconditions") or {}) if isinstance(body, dict) else {}
            if pre.get("uid") not in (None, old.uid):
                raise ApiError(409, f'Precondition failed: UID in precondition: {pre["uid"]}, UID in object '
                                    f"meta: {old.uid}", reason="Conflict", details=_details(rtype, old.name))
            self._check_precondition(info, old, pre.get("resourceVersion"))
            last = self._remove(rtype, (old.namespace, old.name))
        assert last is not None
        if rtype.returns_deleted:
            return self._object_response(rtype, last)
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                  "details": {**_details(rtype, old.name), "uid": old.uid}}
        return web.Response(body=json.dumps(status).encode() + b"\n", content_type="application/json")

    def _delete_collection(self, info: RequestInfo, query: dict[str, str], *_: Any) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        labels, fields = self._selectors(info, query)
        with self._lock:
            doomed = [e for e in self._snapshot(rtype.kind)[1]
                      if (info.namespace is None or e.namespace == info.namespace)
                      and (labels is None or labels.matches(e.labels))
                      and (fields is None or fields.matches(e.namespace, e.name, e.fields))]
            gone = [self._remove(rtype, (e.namespace, e.name)) for e in doomed]
            rv = self._rv
        head = json.dumps({"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version,
                           "metadata": {"resourceVersion": str(rv)}}, separators=(",", ":")).encode()[:-1]
        body = head + b',"items":[' + b",".join(e.body for e in gone if e is not None) + b"]}\n"
        return web.Response(body=body, content_type="application/json")

    def _evict(self, info: RequestInfo) -> web.Response:
        rtype = info.rtype
        assert rtype is not None
        with self._lock:
            old = self._entry(info)
            self._remove(rtype, (old.namespace, old.name))
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
        return _json_response(json.dumps(status).encode(), 201)

    def _scale_of(self, rtype: ResourceType, entry: Entry) -> dict[str, Any]:
        obj = json.loads(entry.body)
        meta = obj.get("metadata", {})
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "creationTimestamp") if k in meta},
                "spec": {"replicas": spec.get("replicas", 1)},
                "status": {"replicas": status.get("replicas", 0),
                           "selector": selector_string(spec.get("selector"))}}

    def _scale(self, method: str, info: RequestInfo, body: Any, content_type: str) -> web.Response:
        """autoscaling/v1 Scale of a deployment, statefulset or replicaset: spec.replicas in and out."""
        rtype = info.rtype
        assert rtype is not None
        with self._lock:
            old = self._entry(info)
            scale = self._scale_of(rtype, old)
            if method != "GET":
                if method == "PATCH":
                    wanted = self._patcher(content_type)(copy.deepcopy(scale), body)
                else:
                    wanted = body
                if not isinstance(wanted, dict):
                    raise ApiError(400, "the body of the request must be an object")
                self._check_precondition(info, old, (wanted.get("metadata") or {}).get("resourceVersion"))
                replicas = (wanted.get("spec") or {}).get("replicas", 0)
                if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                    raise ApiError(422, f'Scale.autoscaling "{old.name}" is invalid: spec.replicas: '
                                        f"Invalid value: {replicas}: must be greater than or equal to 0",
                                   reason="Invalid", details=_details(rtype, old.name))
                obj = _decode(rtype, old)
                obj.setdefault("spec", {})["replicas"] = replicas
                entry = self._store(rtype, obj, _now())
                scale = self._scale_of(rtype, entry)
        return web.Response(body=json.dumps(scale).encode() + b"\n", content_type="application/json")

    # ------------------------------------------------------------------ logs over HTTP

    async def _logs_response(self, request: web.Request, info: RequestInfo,
                             query: dict[str, str]) -> web.StreamResponse:
        """Pod logs as the kubelet serves them through the API server (text/plain, follow streams)."""
        assert info.rtype is not None and info.name is not None and info.namespace is not None
        with self._lock:
            pod = _decode(info.rtype, self._entry(info))
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        names = [c.get("name") for c in spec.get("containers") or []]
        # every container in podutil.VisitContainers order: init, regular, ephemeral
        every = [c.get("name") for part in ("initContainers", "containers", "ephemeralContainers")
                 for c in spec.get(part) or []]
        container = query.get("container") or ""
        if not container:
            if len(names) != 1:
                raise ApiError(400, f"a container name must be specified for pod {info.name}"
                                    + (f", choose one of: [{' '.join(every)}]" if names else ""))
            container = names[0]
        elif container not in every:
            raise ApiError(400, f"container {container} is not valid for pod {info.name}")
        previous, follow = _bool(query, "previous"), _bool(query, "follow")
        timestamps = _bool(query, "timestamps")
        tail, limit_bytes = _int(query, "tailLines"), _int(query, "limitBytes")
        since_seconds, since_time = _int(query, "sinceSeconds"), query.get("sinceTime")
        statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
        state = next((s for s in statuses if s.get("name") == container), {})
        key = (info.namespace, info.name, container)
        follower = LogFollower(container, timestamps) if follow and not previous else None
        response: web.StreamResponse | None = None
        with self._lock:
            buffer = self._logs.get(key)
            lines = list(buffer.previous if previous else buffer.current) if buffer else []
            if previous and not lines:
                raise ApiError(400, f'previous terminated container "{container}" in pod "{info.name}" '
                                    "not found")
            waiting = (state.get("state") or {}).get("waiting")
            if not previous and not lines and waiting and not state.get("restartCount"):
                raise ApiError(400, f'container "{container}" in pod "{info.name}" is waiting to start: '
                                    f"{waiting.get('reason') or 'ContainerCreating'}")
            if follower is not None:
                self._followers.setdefault((info.namespace, info.name), set()).add(follower)
                self._changed.notify_all()
        try:
            if since_seconds is not None or since_time:
                try:
                    since = (datetime.fromisoformat(since_time.replace("Z", "+00:00")) if since_time
                             else datetime.now(UTC) - timedelta(seconds=since_seconds or 0))
                except ValueError:
                    raise ApiError(400, f'invalid value for sinceTime: "{since_time}"') from None
                cutoff = _log_stamp(since.astimezone(UTC))
                lines = [line for line in lines if line[0] >= cutoff]
            if tail is not None and tail >= 0:
                lines = lines[-tail:] if tail else []
            data = format_log(lines, timestamps)
            if limit_bytes is not None and limit_bytes > 0:
                data = data[:limit_bytes]
            if follower is None:
                return web.Response(body=data, content_type="text/plain", charset="utf-8")
            response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            sent = len(data)
            if data:
                await response.write(data)
            while not (limit_bytes and sent >= limit_bytes):
                follower.wake.clear()
                if follower.buffer:
                    chunk = b"".join(follower.buffer)
                    follower.buffer.clear()
                    if limit_bytes:
                        chunk = chunk[:limit_bytes - sent]
                    sent += len(chunk)
                    await response.write(chunk)
                    continue
                if follower.closed:
                    break
                await follower.wake.wait()
            return response
        except (ConnectionError, RuntimeError):      # the client went away
            return response or web.Response(status=499)
        finally:
            if follower is not None:
                with self._lock:
                    followers = self._followers.get((info.namespace, info.name))
                    if followers is not None:
                        followers.discard(follower)
                        if not followers:
                            del self._followers[(info.namespace, info.name)]
                    self._changed.notify_all()


class _WatchGone(ApiError):
    """An injected 410 on a watch: the real server sends it as an ERROR event in a 200 stream."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.code, error.message, reason="Expired", details=error.details)


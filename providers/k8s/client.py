"""One Kubernetes context's connection, read-only below our own code when asked.

Built on the official client's ApiClient (kubeconfig parsing, exec plugins,
client certificates, in-cluster service accounts), but it sends raw requests
and parses JSON itself: deserialising 20,000 pods into the client's model
classes costs seconds of CPU per list, and a watch would pay it per event.

Read-only is enforced where every request of the ApiClient passes, its REST
layer: anything but GET/HEAD raises before a byte leaves the process, so a
bug in a view, an action or a future feature cannot mutate a cluster from
watch mode.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from config.model import KUBE_IN_CLUSTER, KubernetesSettings

READ_VERBS = frozenset({"GET", "HEAD"})
CONNECT_TIMEOUT = 10.0


class ReadOnlyViolation(RuntimeError):
    """A mutating request in a read-only session; raised before anything is sent."""


class KubeApiError(RuntimeError):
    """The API server answered with an error Status."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message or reason or f"HTTP {status}")
        self.status = status
        self.reason = reason
        self.message = message


class ContextError(RuntimeError):
    """The kubeconfig does not give a usable context; the message says what to fix."""


class _GuardedRest:
    """Stands in for the ApiClient's REST client and refuses mutating verbs."""

    def __init__(self, inner: Any, context: str) -> None:
        self._inner = inner
        self._context = context

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if method.upper() not in READ_VERBS:
            path = url.split("://", 1)[-1].partition("/")[2].partition("?")[0]
            raise ReadOnlyViolation(
                f"read-only: refused {method.upper()} /{path} on context {self._context}"
            )
        return self._inner.request(method, url, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def context_names(settings: KubernetesSettings) -> list[str]:
    """The contexts to show: the configured ones, else the kubeconfig's current one."""
    if settings.in_cluster:
        return [KUBE_IN_CLUSTER]
    if settings.contexts:
        return list(settings.contexts)
    try:
        _, active = k8s_config.list_kube_config_contexts(config_file=_joined(settings.kubeconfig))
    except (ConfigException, OSError) as exc:
        raise ContextError(_config_problem(settings, exc)) from None
    if not active:
        raise ContextError("the kubeconfig has no current-context: set one, or list contexts")
    return [str(active["name"])]


def _joined(paths: Sequence[str]) -> str:
    # The client merges a KUBECONFIG-style list itself (KubeConfigMerger).
    return ":".join(paths)


def _config_problem(settings: KubernetesSettings, exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = ":".join(settings.kubeconfig)
    if "No configuration found" in text or isinstance(exc, FileNotFoundError):
        return f"no kubeconfig at {where}: set providers.kubernetes.kubeconfig or $KUBECONFIG"
    return f"kubeconfig {where}: {text}"


def build_api_client(settings: KubernetesSettings, context: str) -> k8s_client.ApiClient:
    """An ApiClient for one context; ContextError with the fix when it cannot be made."""
    if settings.in_cluster:
        configuration = k8s_client.Configuration()
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise ContextError(f"in_cluster: {exc} (is stacktop running in a pod?)") from None
        return _api_client(configuration)
    path = _joined(settings.kubeconfig)
    try:
        contexts, _ = k8s_config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError) as exc:
        raise ContextError(_config_problem(settings, exc)) from None
    names = [str(c["name"]) for c in contexts]
    if context not in names:
        raise ContextError(f"context '{context}' is not in the kubeconfig "
                           f"(it has: {', '.join(names) or 'none'})")
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(config_file=path, context=context,
                                    client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError, ValueError) as exc:
        raise ContextError(f"context '{context}': {exc}") from None
    return _api_client(configuration)


def _api_client(configuration: k8s_client.Configuration) -> k8s_client.ApiClient:
    # No silent urllib3 retries: informers retry with their own backoff and say so on
    # screen, and an action must never be sent twice behind the operator's back.
    configuration.retries = 0
    return k8s_client.ApiClient(configuration)


class Stream:
    """An open streaming response (a watch or a log follow), read line by line."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._closed = threading.Event()

    def lines(self) -> Iterator[bytes]:
        """Complete lines as they arrive; a final unterminated line is yielded too."""
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[bytes]]:
        """The complete lines of each chunk as it arrives: what was sent together stays
        together, and nothing waits for a line that has not been written yet."""
        pending = b""
        try:
            for chunk in self._response.stream(65536, decode_content=True):
                if not chunk:
                    continue
                pending += chunk
                if b"\n" not in pending:
                    continue
                *complete, pending = pending.split(b"\n")
                yield complete
        except Exception:
            if self._closed.is_set():  # closed from another thread: a normal end
                return
            raise
        if pending:
            yield [pending]

    def close(self) -> None:
        """Callable from any thread: unblocks a reader waiting for the next chunk."""
        self._closed.set()
        # Either may fail on a response already closed: closing is then done.
        with contextlib.suppress(Exception):
            self._response.shutdown()
        with contextlib.suppress(Exception):
            self._response.release_conn()


Query = Mapping[str, str | int | bool] | Sequence[tuple[str, str | int | bool]]


class KubeClient:
    """Raw JSON requests against one context's API server."""

    def __init__(self, context: str, api_client: k8s_client.ApiClient, *, read_only: bool,
                 timeout: float) -> None:
        self.context = context
        self.api = api_client
        self.read_only = read_only
        self.timeout = timeout
        if read_only:
            api_client.rest_client = _GuardedRest(api_client.rest_client, context)

    @property
    def host(self) -> str:
        return str(self.api.configuration.host)

    def _call(self, method: str, path: str, query: Query | None, *, body: Any = None,
              content_type: str | None = None, read_timeout: float | None = None,
              accept: str = "application/json") -> Any:
        params = list(query.items()) if isinstance(query, Mapping) else list(query or ())
        params = [(k, _query_value(v)) for k, v in params]
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        method_, url, headers_, body_, post = self.api.param_serialize(
            method, path, query_params=params, header_params=headers, body=body,
            auth_settings=["BearerToken"],
        )
        timeout = (min(CONNECT_TIMEOUT, self.timeout), read_timeout or self.timeout)
        response = self.api.call_api(method_, url, headers_, body_, post, _request_timeout=timeout)
        if response.status >= 400:
            raise _api_error(response.status, response.read())
        return response

    def get_json(self, path: str, query: Query | None = None) -> dict[str, Any]:
        data = self._call("GET", path, query).read()
        parsed = json.loads(data)
        if not isinstance(parsed, dict):
            raise KubeApiError(0, "BadResponse", f"GET {path}: expected a JSON object")
        return parsed

    def stream(self, path: str, query: Query | None, *, read_timeout: float,
               accept: str = "application/json") -> Stream:
        """Open a watch or a log follow; the caller closes the Stream."""
        response = self._call("GET", path, query, read_timeout=read_timeout, accept=accept)
        return Stream(response.response)

    def send(self, method: str, path: str, body: Any = None, *,
             content_type: str = "application/merge-patch+json") -> dict[str, Any]:
        """A mutating request (PATCH/DELETE/PUT/POST); refused when read-only."""
        response = self._call(method, path, None, body=body,
                              content_type=content_type if body is not None else None)
        data = response.read()
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {}
        return parsed if isinstance(parsed, dict) else {}

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing twice, or a pool already gone
            self.api.close()


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _api_error(status: int, data: bytes) -> KubeApiError:
    """The Status object's message when the body is one, else the raw text's first line."""
    reason, message = "", ""
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        reason = str(parsed.get("reason") or "")
        message = str(parsed.get("message") or "")
    else:
        message = data.decode("utf-8", "replace").strip().splitlines()[0] if data.strip() else ""
    return KubeApiError(status, reason, message)


def status_error(obj: Mapping[str, Any]) -> KubeApiError:
    """A watch ERROR event's Status as an error (410 Gone means: list again)."""
    return KubeApiError(int(obj.get("code") or 0), str(obj.get("reason") or ""),
                        str(obj.get("message") or ""))

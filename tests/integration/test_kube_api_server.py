"""The test Kubernetes API server, driven only through the official `kubernetes` client.

What the provider, the benchmark and `--demo` rely on is checked here the way a client
sees it: discovery, pages, selectors, watch semantics (resume, bookmarks, 410), Status
errors, logs, the scale subresource and the patches stacktop's actions send.
Waits are on queues, thread events and the server's watcher counts — never on sleeps.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.support.kube import (
    TEST_TOKEN,
    api_client,
    minimal_deployment,
    minimal_namespace,
    minimal_node,
    minimal_pod,
    running_kube_api,
    write_kubeconfig,
)
from tui.demo.kube_api.server import KubeApiServer

pytestmark = pytest.mark.integration

VIEWER = "system:serviceaccount:stacktop:viewer"


@pytest.fixture
def server() -> Iterator[KubeApiServer]:
    with running_kube_api(bookmark_interval=0.2) as srv:
        srv.put_many([minimal_namespace("default"), minimal_namespace("shop"), minimal_node("node-1"),
                      minimal_node("node-2")])
        yield srv


@pytest.fixture
def api(server: KubeApiServer, tmp_path: Path) -> Iterator[client.ApiClient]:
    path = write_kubeconfig(tmp_path / "kubeconfig", {"test": (server.url, TEST_TOKEN)}, namespace="shop")
    with api_client(path) as api_client_:
        yield api_client_


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


def status_of(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


class Streamer:
    """Iterates a Watch stream in a thread and hands each item over through a queue."""

    def __init__(self, server: KubeApiServer, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.server = server
        self.watch = watch.Watch()
        self.items: queue.Queue[Any] = queue.Queue()
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(func, args, kwargs), daemon=True)
        self.thread.start()

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            for item in self.watch.stream(func, *args, **kwargs):
                self.items.put(item)
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()

    def next(self, timeout: float = 5.0) -> Any:
        return self.items.get(timeout=timeout)

    def close(self) -> None:
        self.watch.stop()
        self.server.drop_watches()      # wakes a stream blocked on an idle connection
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


# ---------------------------------------------------------------------------- discovery


def test_version_and_discovery(api: client.ApiClient, server: KubeApiServer) -> None:
    version = client.VersionApi(api).get_code()
    assert (version.major, version.git_version) == ("1", "v1.37.0")
    assert server.requests[-1].path == "/version/"
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]

    core = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert core["pods"].namespaced and core["pods"].kind == "Pod" and "watch" in core["pods"].verbs
    assert not core["nodes"].namespaced and core["pods/log"].verbs == ["get"]
    assert core["pods/eviction"].group == "policy"

    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert groups["apps"].preferred_version.group_version == "apps/v1"
    assert groups["metrics.k8s.io"].versions[0].version == "v1beta1"

    apps = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}
    assert apps["deployments/scale"].kind == "Scale" and apps["deployments/scale"].group == "autoscaling"
    assert "statefulsets/scale" in apps and "daemonsets/scale" not in apps

    metrics = client.CustomObjectsApi(api).get_api_resources("metrics.k8s.io", "v1beta1")
    by_name = {r.name: r for r in metrics.resources}
    assert by_name["pods"].kind == "PodMetrics" and by_name["pods"].verbs == ["get", "list"]
    assert by_name["nodes"].kind == "NodeMetrics" and not by_name["nodes"].namespaced


def test_store_fills_metadata_and_skips_noop_updates(server: KubeApiServer) -> None:
    stored = server.put(minimal_deployment("web", "shop"))
    meta = stored["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    assert int(meta["resourceVersion"]) == server.resource_version()

    again = server.put(minimal_deployment("web", "shop"))
    assert again["metadata"]["resourceVersion"] == meta["resourceVersion"]   # no-op: no new version

    status_only = server.mutate("Deployment", "shop", "web", lambda d: d["status"].update(replicas=3))
    assert status_only is not None and status_only["metadata"]["generation"] == 1
    scaled = server.mutate("Deployment", "shop", "web", lambda d: d["spec"].update(replicas=4))
    assert scaled is not None and scaled["metadata"]["generation"] == 2
    assert scaled["metadata"]["uid"] == meta["uid"]

    copy_ = server.get("Deployment", "shop", "web")
    assert copy_ is not None
    copy_["spec"]["replicas"] = 99
    assert server.get("Deployment", "shop", "web")["spec"]["replicas"] == 4   # type: ignore[index]
    assert server.mutate("Deployment", "shop", "nope", lambda d: None) is None
    assert server.remove("Deployment", "shop", "nope") is None
    assert [d["metadata"]["name"] for d in server.list("Deployment")] == ["web"]


# ---------------------------------------------------------------------------- lists


def test_pages_are_stable_and_consistent(server: KubeApiServer, core: client.CoreV1Api) -> None:
    pods = [minimal_pod(f"pod-{i:04d}", ns) for ns in ("default", "shop") for i in range(600)]
    server.put_many(reversed(pods))
    first = core.list_pod_for_all_namespaces(limit=500)
    assert len(first.items) == 500 and first.metadata.remaining_item_count == 700
    rv = first.metadata.resource_version
    assert rv == str(server.resource_version())

    server.put(minimal_pod("aaa-late", "shop"))       # after the first page: not in this list
    names = [(p.metadata.namespace, p.metadata.name) for p in first.items]
    token = first.metadata._continue
    remaining = []
    while token:
        page = core.list_pod_for_all_namespaces(limit=500, _continue=token)
        assert page.metadata.resource_version == rv
        remaining.append(page.metadata.remaining_item_count)
        names += [(p.metadata.namespace, p.metadata.name) for p in page.items]
        token = page.metadata._continue
    assert remaining == [200, None]
    assert names == sorted((p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods)

    shop = core.list_namespaced_pod("shop", limit=250)
    assert [p.metadata.name for p in shop.items][:2] == ["aaa-late", "pod-0000"]
    assert shop.metadata.remaining_item_count == 601 - 250
    whole = core.list_namespaced_pod("shop")
    assert len(whole.items) == 601 and whole.metadata._continue is None
    assert whole.items[0].kind is None      # list items carry no kind, as on a real server


def test_page_default_pages_lists_without_limit() -> None:
    with running_kube_api(page_default=2) as srv:
        srv.put_many(minimal_namespace(n) for n in ("a", "b", "c"))
        body = json.loads(_raw_get(srv, "/api/v1/namespaces"))
        assert [n["metadata"]["name"] for n in body["items"]] == ["a", "b"]
        assert body["metadata"]["continue"] and body["metadata"]["remainingItemCount"] == 1


def _raw_get(srv: KubeApiServer, path: str) -> bytes:
    from urllib.request import Request, urlopen

    request = Request(srv.url + path, headers={"Authorization": f"Bearer {TEST_TOKEN}"})
    with urlopen(request, timeout=5) as response:
        return response.read()


LABELLED = {"web-1": {"app": "web", "tier": "front"}, "web-2": {"app": "web"}, "db-1": {"app": "db"},
            "job-1": {"app": "job", "tier": "batch", "shard": "3"}, "bare": {}}


@pytest.mark.parametrize(("selector", "expected"), [
    ("app=web", {"web-1", "web-2"}),
    ("app==web", {"web-1", "web-2"}),
    ("app!=web", {"db-1", "job-1", "bare"}),
    ("tier", {"web-1", "job-1"}),
    ("!tier", {"web-2", "db-1", "bare"}),
    ("app in (web, db)", {"web-1", "web-2", "db-1"}),
    ("app notin (web)", {"db-1", "job-1", "bare"}),
    ("app=web,tier=front", {"web-1"}),
    ("app in (web,job),!tier", {"web-2"}),
    ("shard>2", {"job-1"}),
])
def test_label_selectors(server: KubeApiServer, core: client.CoreV1Api, selector: str,
                         expected: set[str]) -> None:
    server.put_many(minimal_pod(name, "shop", labels=labels) for name, labels in LABELLED.items())
    found = core.list_namespaced_pod("shop", label_selector=selector).items
    assert {p.metadata.name for p in found} == expected


def test_field_selectors(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put_many([minimal_pod("a", "shop", node="node-1"), minimal_pod("b", "shop", node="node-2"),
                     minimal_pod("c", "default", node="node-1", phase="Pending"),
                     minimal_pod("d", "default", node=None, phase="Pending")])

    def names(**kw: str) -> set[str]:
        return {p.metadata.name for p in core.list_pod_for_all_namespaces(**kw).items}

    assert names(field_selector="spec.nodeName=node-1") == {"a", "c"}
    assert names(field_selector="spec.nodeName=") == {"d"}
    assert names(field_selector="status.phase!=Running,metadata.namespace==default") == {"c", "d"}
    assert names(field_selector="metadata.name=b") == {"b"}
    assert names(field_selector="spec.nodeName=node-1", label_selector="missing") == set()

    about = [("a", "Pod", "Warning"), ("a", "Pod", "Normal"), ("web", "Deployment", "Warning")]
    server.put_many(_event(f"e{i}", "shop", *what) for i, what in enumerate(about))
    events = core.list_namespaced_event("shop", field_selector="involvedObject.kind=Pod,type=Warning").items
    assert [e.metadata.name for e in events] == ["e0"]
    assert len(core.list_event_for_all_namespaces(field_selector="involvedObject.name=a").items) == 2

    with pytest.raises(ApiException) as err:
        core.list_pod_for_all_namespaces(field_selector="status.hostIP=10.0.0.1")
    assert err.value.status == 400
    assert status_of(err.value)["message"] == "field label not supported: status.hostIP"
    assert status_of(err.value)["reason"] == "BadRequest"
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(core.api_client).list_deployment_for_all_namespaces(
            field_selector="spec.paused=true")
    assert err.value.status == 400 and "is not a known field selector" in status_of(err.value)["message"]
    with pytest.raises(ApiException) as err:
        core.list_pod_for_all_namespaces(label_selector="app in (web")
    assert err.value.status == 400
    assert status_of(err.value)["message"].startswith("unable to parse requirement")


def _event(name: str, namespace: str, involved: str, kind: str, type_: str) -> dict[str, Any]:
    return {"kind": "Event", "apiVersion": "v1", "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": kind, "name": involved, "namespace": namespace},
            "reason": "Test", "message": "m", "type": type_, "source": {"component": "kubelet"}}


# ---------------------------------------------------------------------------- watch


def test_watch_from_list_resource_version(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put(minimal_pod("old", "shop"))
    listed = core.list_namespaced_pod("shop")
    server.put(minimal_pod("missed-while-not-watching", "shop"))     # after the list: must be replayed
    stream = Streamer(server, core.list_namespaced_pod, "shop",
                      resource_version=listed.metadata.resource_version)
    try:
        replayed = stream.next()
        assert (replayed["type"], replayed["object"].metadata.name) == ("ADDED", "missed-while-not-watching")
        server.wait_watchers("pods")
        server.put(minimal_pod("new", "shop"))
        server.put(minimal_pod("elsewhere", "default"))                # other namespace: not seen
        server.mutate("Pod", "shop", "new", lambda p: p["metadata"]["labels"].update(seen="yes"))
        removed = server.remove("Pod", "shop", "old")
        assert removed is not None
        got = [stream.next() for _ in range(3)]
        assert [(e["type"], e["object"].metadata.name) for e in got] == [
            ("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "old")]
        assert got[1]["object"].metadata.labels == {"seen": "yes"}
        deleted_rv = int(got[2]["object"].metadata.resource_version)
        assert deleted_rv == server.resource_version() == int(removed["metadata"]["resourceVersion"])
        assert stream.items.empty()
    finally:
        stream.close()


def test_watch_without_version_starts_with_state_and_follows_selector(
        server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put_many([minimal_pod("web-1", "shop", labels={"app": "web"}),
                     minimal_pod("db-1", "shop", labels={"app": "db"})])
    stream = Streamer(server, core.list_namespaced_pod, "shop", label_selector="app=web")
    try:
        first = stream.next()
        assert (first["type"], first["object"].metadata.name) == ("ADDED", "web-1")
        server.wait_watchers("pods")
        server.mutate("Pod", "shop", "db-1", lambda p: p["metadata"]["labels"].update(app="web"))
        server.mutate("Pod", "shop", "web-1", lambda p: p["metadata"]["labels"].update(app="old"))
        joined, left = stream.next(), stream.next()
        assert (joined["type"], joined["object"].metadata.name) == ("ADDED", "db-1")
        # Left the selector: DELETED with its last matching state and the new resourceVersion.
        assert (left["type"], left["object"].metadata.name) == ("DELETED", "web-1")
        assert left["object"].metadata.labels == {"app": "web"}
        assert int(left["object"].metadata.resource_version) == server.resource_version()
    finally:
        stream.close()


def test_bookmarks_and_timeout(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put(minimal_pod("a", "shop"))
    w = watch.Watch()
    started = time.monotonic()
    events = list(w.stream(core.list_namespaced_pod, "shop", allow_watch_bookmarks=True, timeout_seconds=1))
    elapsed = time.monotonic() - started
    kinds = [e["type"] for e in events]
    assert kinds[0] == "ADDED" and kinds[-1] == "BOOKMARK" and kinds.count("BOOKMARK") >= 3
    assert 0.9 < elapsed < 3
    bookmark = events[-1]["raw_object"]
    assert bookmark == {"kind": "Pod", "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(server.resource_version())}}
    assert w.resource_version == str(server.resource_version())
    query = server.requests[-1].query
    assert (query["watch"], query["allowWatchBookmarks"], query["timeoutSeconds"]) == ("true", "true", "1")


def test_gone_after_compact(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put_many(minimal_pod(f"p{i}", "shop") for i in range(5))
    listed = core.list_namespaced_pod("shop", limit=2)
    old_rv = listed.metadata.resource_version
    server.put(minimal_pod("p9", "shop"))
    server.compact()

    raw = core.list_namespaced_pod("shop", watch=True, resource_version=old_rv, _preload_content=False)
    assert raw.status == 200
    lines = raw.data.decode().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "ERROR"
    assert event["object"] == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": f"too old resource version: {old_rv} ({server.resource_version()})",
                               "reason": "Expired", "code": 410}

    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(core.list_namespaced_pod, "shop", resource_version=old_rv):
            pass
    assert err.value.status == 410

    server.fail(410, resource="pods", verb="watch", times=1)      # the injected form is the same event
    injected = core.list_namespaced_pod("shop", watch=True, _preload_content=False)
    assert injected.status == 200 and json.loads(injected.data)["object"]["reason"] == "Expired"

    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("shop", limit=2, _continue=listed.metadata._continue)
    assert err.value.status == 410
    body = status_of(err.value)
    assert body["reason"] == "Expired"
    assert body["message"].startswith("The provided continue parameter is too old")
    assert body["metadata"]["continue"]     # the inconsistent continuation the real server offers


def test_dropped_watch_resumes_from_last_version(server: KubeApiServer, core: client.CoreV1Api) -> None:
    stream = Streamer(server, core.list_namespaced_pod, "shop", resource_version="0")
    try:
        server.wait_watchers("pods")
        server.put(minimal_pod("before-drop", "shop"))
        seen_rv = stream.next()["object"].metadata.resource_version
        server.clear_requests()
        server.drop_watches()
        server.put(minimal_pod("while-away", "shop"))
        event = stream.next()
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "while-away")
        assert server.requests[0].query["resourceVersion"] == seen_rv
    finally:
        stream.close()


# ---------------------------------------------------------------------------- errors


def test_wrong_token_is_401(server: KubeApiServer, tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "kc", {"bad": (server.url, "not-the-token"),
                                              "none": (server.url, None)})
    for context in ("bad", "none"):
        with api_client(path, context) as api, pytest.raises(ApiException) as err:
            client.CoreV1Api(api).list_node()
        assert err.value.status == 401
        assert status_of(err.value) == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                        "status": "Failure", "message": "Unauthorized",
                                        "reason": "Unauthorized", "code": 401}
    server.set_token(None)
    with api_client(path, "none") as api:
        assert len(client.CoreV1Api(api).list_node().items) == 2


def test_forbidden_on_one_resource(server: KubeApiServer, core: client.CoreV1Api,
                                   apps: client.AppsV1Api) -> None:
    server.fail(403, resource="pods", verb="list")
    with pytest.raises(ApiException) as err:
        core.list_pod_for_all_namespaces()
    assert err.value.status == 403
    body = status_of(err.value)
    assert body["reason"] == "Forbidden" and body["details"] == {"kind": "pods"}
    assert body["message"] == (f'pods is forbidden: User "{VIEWER}" cannot list resource "pods" '
                               'in API group "" at the cluster scope')
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("x")
    assert status_of(err.value)["message"].endswith('in the namespace "x"')
    assert len(core.list_node().items) == 2 and apps.list_deployment_for_all_namespaces().items == []

    server.clear_faults()
    server.fail(403, resource="deployments")
    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("web", "shop")
    assert status_of(err.value)["message"] == (
        f'deployments.apps "web" is forbidden: User "{VIEWER}" cannot get resource "deployments" '
        'in API group "apps" in the namespace "shop"')
    server.clear_faults()
    assert core.list_pod_for_all_namespaces().items == []

    # A resource this server does not serve still takes its fault, as RBAC sees it first.
    server.fail(403, resource="secrets", verb="list")
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("shop")
    assert err.value.status == 403 and status_of(err.value)["message"] == (
        f'secrets is forbidden: User "{VIEWER}" cannot list resource "secrets" in API group "" '
        'in the namespace "shop"')


def test_injected_500_once_and_not_found(server: KubeApiServer, core: client.CoreV1Api,
                                         apps: client.AppsV1Api) -> None:
    server.fail(500, times=1)
    with pytest.raises(ApiException) as err:
        core.list_node()
    assert err.value.status == 500 and status_of(err.value)["reason"] == "InternalError"
    assert len(core.list_node().items) == 2

    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("ghost", "shop")
    assert err.value.status == 404
    assert status_of(err.value)["details"] == {"name": "ghost", "kind": "pods"}
    with pytest.raises(ApiException) as err:
        apps.read_namespaced_deployment("ghost", "shop")
    assert status_of(err.value)["message"] == 'deployments.apps "ghost" not found'


def test_watch_forbidden_before_stream(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.fail(403, resource="pods", verb="watch", namespace="shop")
    with pytest.raises(ApiException) as err:
        for _ in watch.Watch().stream(core.list_namespaced_pod, "shop", timeout_seconds=1):
            pass
    assert err.value.status == 403 and "cannot watch resource" in json.loads(err.value.body)["message"]
    assert core.list_namespaced_pod("shop").items == []


# ---------------------------------------------------------------------------- logs


def test_pod_logs(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put(minimal_pod("web", "shop", containers=("app", "sidecar")))
    server.append_log("shop", "web", "app", ["one", "two", "three"])
    server.append_log("shop", "web", "app", ["crashed: out of memory"], previous=True)

    assert core.read_namespaced_pod_log("web", "shop", container="app") == "one\ntwo\nthree\n"
    assert core.read_namespaced_pod_log("web", "shop", container="app", tail_lines=2) == "two\nthree\n"
    assert core.read_namespaced_pod_log("web", "shop", container="app", limit_bytes=6) == "one\ntw"
    stamped = core.read_namespaced_pod_log("web", "shop", container="app", timestamps=True).splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one", stamped[0])
    previous = core.read_namespaced_pod_log("web", "shop", container="app", previous=True)
    assert previous == "crashed: out of memory\n"
    assert core.read_namespaced_pod_log("web", "shop", container="sidecar") == ""

    errors = {
        "container-required": ({}, "a container name must be specified for pod web, "
                                   "choose one of: [app sidecar]"),
        "unknown": ({"container": "nope"}, "container nope is not valid for pod web"),
        "no-previous": ({"container": "sidecar", "previous": True},
                        'previous terminated container "sidecar" in pod "web" not found'),
    }
    for kwargs, message in errors.values():
        with pytest.raises(ApiException) as err:
            core.read_namespaced_pod_log("web", "shop", **kwargs)
        assert err.value.status == 400 and status_of(err.value)["message"] == message
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("ghost", "shop")
    assert err.value.status == 404 and status_of(err.value)["message"] == 'pods "ghost" not found'


def test_follow_logs_until_pod_goes(server: KubeApiServer, core: client.CoreV1Api) -> None:
    server.put(minimal_pod("web", "shop"))
    server.append_log("shop", "web", "app", ["earlier"])
    stream = Streamer(server, core.read_namespaced_pod_log, "web", "shop", tail_lines=1)
    try:
        assert stream.next() == "earlier"
        server.wait_log_followers("shop", "web")
        server.append_log("shop", "web", "app", ["live 1", "live 2"])
        assert [stream.next(), stream.next()] == ["live 1", "live 2"]
        server.remove("Pod", "shop", "web")
        assert stream.done.wait(5) and stream.error is None
    finally:
        stream.close()
    assert server.requests[-1].query["follow"] == "true"


# ---------------------------------------------------------------------------- writes


def test_scale_subresource(server: KubeApiServer, apps: client.AppsV1Api) -> None:
    server.put(minimal_deployment("web", "shop", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", "shop")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=web")

    stream = Streamer(server, apps.list_namespaced_deployment, "shop",
                      resource_version=str(server.resource_version()))
    try:
        server.wait_watchers("deployments")
        patched = apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 5}})
        assert patched.spec.replicas == 5 and patched.kind == "Scale"
        event = stream.next()
        assert event["type"] == "MODIFIED" and event["object"].spec.replicas == 5
        assert event["object"].metadata.generation == 2
    finally:
        stream.close()
    assert server.requests[-1].content_type == "application/strategic-merge-patch+json"

    server.put({**minimal_deployment("db", "shop"), "kind": "StatefulSet"})
    apps.patch_namespaced_stateful_set_scale("db", "shop", {"spec": {"replicas": 0}})
    assert apps.read_namespaced_stateful_set("db", "shop").spec.replicas == 0
    with pytest.raises(ApiException) as err:
        apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": -1}})
    assert err.value.status == 422


def test_rollout_restart_patch(server: KubeApiServer, apps: client.AppsV1Api) -> None:
    server.put(minimal_deployment("web", "shop"))
    stamp = "2026-11-22T12:00:00Z"
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    result = apps.patch_namespaced_deployment("web", "shop", body)
    assert result.spec.template.metadata.annotations == {"kubectl.kubernetes.io/restartedAt": stamp}
    assert result.spec.template.metadata.labels == {"app": "web"}        # merged, not replaced
    assert result.spec.template.spec.containers[0].name == "web"
    assert result.metadata.generation == 2
    recorded = server.requests[-1]
    assert (recorded.method, recorded.content_type, recorded.body) == (
        "PATCH", "application/strategic-merge-patch+json", body)

    # Strategic merge keys containers by name; a JSON patch (a list body) is applied in order.
    apps.patch_namespaced_deployment("web", "shop", {"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "example/web:2.0"}]}}}})
    apps.patch_namespaced_deployment("web", "shop", [{"op": "add", "path": "/spec/paused", "value": True}])
    final = apps.read_namespaced_deployment("web", "shop")
    assert [(c.name, c.image) for c in final.spec.template.spec.containers] == [("web", "example/web:2.0")]
    assert final.spec.paused is True and server.requests[-2].content_type == "application/json-patch+json"


def test_cordon_merge_patch(server: KubeApiServer, core: client.CoreV1Api) -> None:
    node = core.patch_node("node-1", {"spec": {"unschedulable": True}},
                           _content_type="application/merge-patch+json")
    assert node.spec.unschedulable is True
    assert server.requests[-1].content_type == "application/merge-patch+json"
    cordoned = core.list_node(field_selector="spec.unschedulable=true").items
    assert [n.metadata.name for n in cordoned] == ["node-1"]
    core.patch_node("node-1", {"spec": {"unschedulable": None}}, _content_type="application/merge-patch+json")
    assert core.list_node(field_selector="spec.unschedulable=true").items == []


def test_delete_pod_reaches_watchers(server: KubeApiServer, core: client.CoreV1Api,
                                     apps: client.AppsV1Api) -> None:
    server.put(minimal_pod("doomed", "shop"))
    before = server.resource_version()
    stream = Streamer(server, core.list_namespaced_pod, "shop", resource_version=str(before))
    try:
        server.wait_watchers("pods")
        deleted = core.delete_namespaced_pod("doomed", "shop")
        assert deleted.metadata.name == "doomed"
        event = stream.next()
        assert event["type"] == "DELETED" and int(event["object"].metadata.resource_version) == before + 1
    finally:
        stream.close()
    assert server.get("Pod", "shop", "doomed") is None

    server.put(minimal_deployment("web", "shop"))
    status = apps.delete_namespaced_deployment("web", "shop")
    assert status["status"] == "Success" and status["details"]["kind"] == "deployments"
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_pod("doomed", "shop")
    assert err.value.status == 404


def test_create_and_replace(server: KubeApiServer, core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod("shop", minimal_pod("made", "shop"))
    assert created.metadata.uid and created.metadata.namespace == "shop"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod("shop", minimal_pod("made", "shop"))
    assert err.value.status == 409 and status_of(err.value)["reason"] == "AlreadyExists"

    stale = created.to_dict()
    fresh = core.patch_namespaced_pod("made", "shop", {"metadata": {"labels": {"v": "2"}}})
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_pod("made", "shop", stale)
    assert err.value.status == 409 and status_of(err.value)["reason"] == "Conflict"
    replaced = core.replace_namespaced_pod("made", "shop", fresh)
    assert replaced.metadata.labels == {"v": "2"}


def test_status_subresource_eviction_and_collections(server: KubeApiServer, core: client.CoreV1Api,
                                                     apps: client.AppsV1Api) -> None:
    server.put(minimal_deployment("web", "shop", replicas=2))
    # The main resource ignores status changes and /status ignores the rest, as on a real server.
    patched = apps.patch_namespaced_deployment("web", "shop", {"spec": {"paused": True},
                                                               "status": {"replicas": 9}})
    assert patched.spec.paused is True and patched.status.replicas == 2
    status = apps.patch_namespaced_deployment_status("web", "shop", {"spec": {"replicas": 7},
                                                                     "status": {"replicas": 3}})
    assert status.status.replicas == 3 and status.spec.replicas == 2

    scale = apps.read_namespaced_deployment_scale("web", "shop")
    scale.spec.replicas = 4
    assert apps.replace_namespaced_deployment_scale("web", "shop", scale).spec.replicas == 4
    with pytest.raises(ApiException) as err:      # a stale Scale: optimistic concurrency
        apps.replace_namespaced_deployment_scale("web", "shop", scale)
    assert err.value.status == 409

    server.put_many(minimal_pod(f"p{i}", "shop", labels={"batch": str(i % 2)}) for i in range(4))
    core.create_namespaced_pod_eviction("p0", "shop", {"apiVersion": "policy/v1", "kind": "Eviction",
                                                       "metadata": {"name": "p0", "namespace": "shop"}})
    assert server.get("Pod", "shop", "p0") is None
    # The real server answers a collection delete with the deleted objects' list.
    gone = core.delete_collection_namespaced_pod("shop", label_selector="batch=1", _preload_content=False)
    assert sorted(p["metadata"]["name"] for p in json.loads(gone.data)["items"]) == ["p1", "p3"]
    assert [p.metadata.name for p in core.list_namespaced_pod("shop").items] == ["p2"]


# ---------------------------------------------------------------------------- metrics


def test_metrics_api(server: KubeApiServer, api: client.ApiClient) -> None:
    server.put_many([
        {"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {"name": "node-1"},
         "timestamp": "2026-11-22T12:00:00Z", "window": "20s", "usage": {"cpu": "250m", "memory": "1Gi"}},
        {"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
         "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
         "timestamp": "2026-11-22T12:00:00Z", "window": "15s",
         "containers": [{"name": "app", "usage": {"cpu": "12m", "memory": "64Mi"}}]},
    ])
    custom = client.CustomObjectsApi(api)
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert nodes["kind"] == "NodeMetricsList" and nodes["items"][0]["usage"]["cpu"] == "250m"
    assert "resourceVersion" not in nodes["items"][0]["metadata"]        # computed, like metrics-server
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "shop", "pods",
                                                label_selector="app=web")
    assert pods["kind"] == "PodMetricsList" and pods["items"][0]["containers"][0]["usage"]["memory"] == "64Mi"
    everywhere = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods")
    assert everywhere["items"][0]["window"] == "15s"
    one = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "shop", "pods", "web")
    assert one["kind"] == "PodMetrics"
    with pytest.raises(ApiException) as err:
        custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes", watch=True)
    assert err.value.status == 405


# ---------------------------------------------------------------------------- scale of the benchmark


def test_twenty_thousand_pods_load_and_page(server: KubeApiServer, core: client.CoreV1Api) -> None:
    """The benchmark's scale pages like a real API server (its timings: benchmarks/k8s_bench.py)."""
    pods = [minimal_pod(f"pod-{i:05d}", f"ns-{i % 40}", labels={"app": f"a{i % 30}"}) for i in range(20_000)]
    server.put_many(pods)
    raw = core.list_pod_for_all_namespaces(limit=500, _preload_content=False)
    body = json.loads(raw.data)
    assert len(body["items"]) == 500 and body["metadata"]["remainingItemCount"] == 19_500

"""Kubernetes security findings: what a pod or Service spec lets an attacker do to the node or from outside.

One blocking scan per context: list the pods and the Services (pages of `limit`, followed
by `continue`), look at each spec, and return findings plus a SourceStatus. The lists go
through CoreV1Api with `_preload_content=False` and are read as plain JSON: the client's
pydantic models cost seconds of CPU on 20,000 pods and refuse a whole page over one
field they do not know, while these checks only read a handful of keys.

The rules, precisely (a finding names the field to change):

- k8s-privileged (high), per container `<ns>/<pod>/<container>` — regular, init and
  ephemeral containers alike: `securityContext.privileged: true`.
- k8s-runs-as-root (medium), per container — what Pod Security "restricted" and kube-bench
  flag: the effective `runAsUser` (the container's, else the pod's) is 0; or no `runAsUser`
  is set and the effective `runAsNonRoot` is not true, so nothing stops the image's USER
  (root by default) from being used. A pod whose `spec.os.name` is windows is skipped (uids
  do not apply). `runAsNonRoot: true` without a uid is clean: the kubelet refuses to start a
  container whose image would run as uid 0.
- k8s-host-network (medium), per pod `<ns>/<pod>`: `spec.hostNetwork: true`.
- k8s-host-path (high), per pod: any `hostPath` volume; the evidence lists the paths.
- k8s-public-load-balancer (high), per Service `<ns>/<service>`: type LoadBalancer whose
  source ranges (`spec.loadBalancerSourceRanges`, else the
  `service.beta.kubernetes.io/load-balancer-source-ranges` annotation the cloud
  controllers also honour) are empty or include 0.0.0.0/0 or ::/0. A load balancer that a
  well-known annotation makes internal (AWS, GCP, Azure) is not open to the world and is
  skipped.

Pods in phase Succeeded or Failed are skipped: nothing runs in them. Nothing else is
skipped (kube-system included); the operator accepts findings with `security.ignore`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from config.model import KubernetesSettings
from providers.k8s.client import (
    CONNECT_TIMEOUT,
    ContextError,
    KubeApiError,
    build_api_client,
    context_names,
)
from providers.k8s.errors import explain
from providers.security.model import Check, Finding, Severity, SourceStatus

SEVERITY: dict[Check, Severity] = {
    Check.K8S_PRIVILEGED: Severity.HIGH,
    Check.K8S_ROOT: Severity.MEDIUM,
    Check.K8S_HOST_NETWORK: Severity.MEDIUM,
    Check.K8S_HOST_PATH: Severity.HIGH,
    Check.K8S_PUBLIC_LB: Severity.HIGH,
}
DONE_PHASES = frozenset({"Succeeded", "Failed"})
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
# annotation → the values that make the cloud's load balancer internal (lower-cased)
INTERNAL_LB_ANNOTATIONS: dict[str, frozenset[str]] = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": frozenset({"true", "0.0.0.0/0"}),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": frozenset({"internal"}),
    "networking.gke.io/load-balancer-type": frozenset({"internal"}),
    "cloud.google.com/load-balancer-type": frozenset({"internal"}),
    "service.beta.kubernetes.io/azure-load-balancer-internal": frozenset({"true"}),
}
_CONTAINER_LISTS = (("containers", "container"), ("initContainers", "init container"),
                    ("ephemeralContainers", "ephemeral container"))

Obj = Mapping[str, Any]


# ---------------------------------------------------------------- scanning


def scan_context(api_client: k8s_client.ApiClient, context: str, namespaces: Sequence[str] = (), *,
                 timeout: float = 30.0, page_size: int = 500) -> tuple[list[Finding], SourceStatus]:
    """Findings of one context (all namespaces, or only `namespaces`) and how the scan went.

    Blocking; run it off the event loop. Never raises for what the cluster answers: a
    refusal or an unreachable API server is the SourceStatus's one-line error. Findings
    seen before an error are kept (they are real); the error says what was not scanned.
    """
    source = source_of(context)
    api = k8s_client.CoreV1Api(api_client)
    request_timeout = (min(CONNECT_TIMEOUT, timeout), timeout)
    host = str(api_client.configuration.host or "")
    findings: list[Finding] = []
    errors: list[str] = []
    examined = 0
    for resource, lister, check in (("pods", _pod_lister(api, request_timeout), pod_findings),
                                    ("services", _service_lister(api, request_timeout), service_findings)):
        for namespace in namespaces or (None,):
            try:
                items = _list_all(lister, namespace, page_size)
            except Exception as exc:  # every failure becomes the status line
                errors.append(_describe(exc, resource, namespace, host))
                if not _is_refusal(exc):  # unreachable or timing out: the next list would wait again
                    return findings, _status(source, errors, examined)
                continue
            for obj in items:
                examined += 1
                findings.extend(check(source, obj))
    return findings, _status(source, errors, examined)


def source_of(context: str) -> str:
    return f"k8s:{context}"


def scan_kubernetes(settings: KubernetesSettings, namespaces: Sequence[str] | None = None
                    ) -> tuple[list[Finding], list[SourceStatus]]:
    """Every configured context scanned in turn; `namespaces` defaults to the settings' own.

    A kubeconfig without a usable context is one status with the fix, never an exception.
    """
    wanted = tuple(settings.namespaces if namespaces is None else namespaces)
    try:
        names = context_names(settings)
    except ContextError as exc:
        return [], [SourceStatus(source_of("kubeconfig"), error=str(exc), scanned_at=time.time())]
    findings: list[Finding] = []
    statuses: list[SourceStatus] = []
    for name in names:
        try:
            api = build_api_client(settings, name)
        except ContextError as exc:
            statuses.append(SourceStatus(source_of(name), error=str(exc), scanned_at=time.time()))
            continue
        try:
            found, status = scan_context(api, name, wanted, timeout=settings.timeout,
                                         page_size=settings.page_size)
        finally:
            with contextlib.suppress(Exception):  # a pool already closed
                api.close()
        findings.extend(found)
        statuses.append(status)
    return findings, statuses


Lister = Callable[[str | None, int, str | None], Any]


def _pod_lister(api: k8s_client.CoreV1Api, request_timeout: tuple[float, float]) -> Lister:
    def fetch(namespace: str | None, limit: int, token: str | None) -> Any:
        if namespace:
            return api.list_namespaced_pod(namespace, limit=limit, _continue=token, _preload_content=False,
                                           _request_timeout=request_timeout)
        return api.list_pod_for_all_namespaces(limit=limit, _continue=token, _preload_content=False,
                                               _request_timeout=request_timeout)
    return fetch


def _service_lister(api: k8s_client.CoreV1Api, request_timeout: tuple[float, float]) -> Lister:
    def fetch(namespace: str | None, limit: int, token: str | None) -> Any:
        if namespace:
            return api.list_namespaced_service(namespace, limit=limit, _continue=token,
                                               _preload_content=False, _request_timeout=request_timeout)
        return api.list_service_for_all_namespaces(limit=limit, _continue=token, _preload_content=False,
                                                   _request_timeout=request_timeout)
    return fetch


def _list_all(fetch: Lister, namespace: str | None, page_size: int) -> list[Obj]:
    """Every item, page after page; a continue token that expired (410) restarts the list once."""
    restarted = False
    while True:
        items: list[Obj] = []
        token: str | None = None
        try:
            while True:
                response = fetch(namespace, page_size, token)
                page = json.loads(response.data)
                if not isinstance(page, dict):
                    raise KubeApiError(0, "BadResponse", "the list answer is not a JSON object")
                items.extend(i for i in page.get("items") or () if isinstance(i, dict))
                token = (page.get("metadata") or {}).get("continue") or None
                if not token:
                    return items
        except ApiException as exc:
            if exc.status == 410 and token and not restarted:
                restarted = True
                continue
            raise


def _is_refusal(exc: BaseException) -> bool:
    """The server answered (403, 404...): the other lists may still work."""
    return isinstance(exc, ApiException | KubeApiError) and bool(getattr(exc, "status", 0))


def _describe(exc: BaseException, resource: str, namespace: str | None, host: str) -> str:
    if isinstance(exc, ApiException) and not exc.status:  # the client's wrapping of a TLS failure
        detail = (str(exc.reason or "").strip().splitlines() or ["SSLError"])[-1][:160]
        where = f" at {host}" if host else ""
        return f"TLS to the API server{where} failed: {detail} — check the kubeconfig's CA"
    if isinstance(exc, ApiException):
        exc = _api_error(exc)
    text = explain(exc, verb="list", resource=resource, namespace=namespace, host=host)
    return " ".join(text.split())  # one line, whatever the server wrote


def _api_error(exc: ApiException) -> KubeApiError:
    """The client's exception as the project's KubeApiError (the Status object's message)."""
    reason, message = str(exc.reason or ""), ""
    with contextlib.suppress(ValueError, TypeError):
        status = json.loads(exc.body or "")
        if isinstance(status, dict):
            reason = str(status.get("reason") or reason)
            message = str(status.get("message") or "")
    return KubeApiError(int(exc.status or 0), reason, message)


def _status(source: str, errors: list[str], examined: int) -> SourceStatus:
    return SourceStatus(source, error="; ".join(dict.fromkeys(errors)) or None, scanned_at=time.time(),
                        checks=examined)


# ---------------------------------------------------------------- checks


def _finding(check: Check, source: str, resource: str, title: str, evidence: str, remedy: str) -> Finding:
    return Finding(check, SEVERITY[check], source, resource, title, evidence, remedy)


def pod_findings(source: str, pod: Obj) -> Iterator[Finding]:
    """The findings of one pod (as the API returns it, plain JSON)."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    if (pod.get("status") or {}).get("phase") in DONE_PHASES:
        return
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    where = f"{ns}/{name}"
    pod_sc = spec.get("securityContext") or {}
    windows = str((spec.get("os") or {}).get("name") or "").lower() == "windows"
    for key, kind in _CONTAINER_LISTS:
        for container in spec.get(key) or ():
            cname = str(container.get("name") or "")
            sc = container.get("securityContext") or {}
            resource = f"{where}/{cname}"
            if sc.get("privileged") is True:
                yield _finding(
                    Check.K8S_PRIVILEGED, source, resource, f"Privileged {kind} {cname}",
                    f"{kind} {cname}: securityContext.privileged: true — it has every capability and "
                    "the node's devices, so it can take over the node",
                    f"set securityContext.privileged: false on {kind} {cname} (in the workload's pod "
                    "template) and add only the capabilities it needs under securityContext.capabilities.add")
            if not windows:
                root = _root_evidence(sc, pod_sc)
                if root is not None:
                    yield _finding(
                        Check.K8S_ROOT, source, resource, f"{kind.capitalize()} {cname} may run as root",
                        f"{kind} {cname}: {root}",
                        f"set securityContext.runAsNonRoot: true and a non-zero securityContext.runAsUser "
                        f"(e.g. 10001) on {kind} {cname} or in the pod's securityContext")
    if spec.get("hostNetwork") is True:
        yield _finding(
            Check.K8S_HOST_NETWORK, source, where, "Pod uses the node's network",
            "spec.hostNetwork: true — the pod sees the node's interfaces, can bind its ports and reach "
            "services listening on the node only",
            "remove hostNetwork: true from the pod spec (or the workload's pod template) and expose "
            "ports through a Service")
    paths = [(str(v.get("name") or ""), str((v.get("hostPath") or {}).get("path") or ""))
             for v in spec.get("volumes") or () if isinstance(v.get("hostPath"), dict)]
    if paths:
        listed = ", ".join(f"{vol} → {path}" for vol, path in paths)
        yield _finding(
            Check.K8S_HOST_PATH, source, where, "Pod mounts the node's filesystem",
            f"hostPath volumes: {listed}",
            "replace the hostPath volumes with emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim; "
            "if a node agent needs one, narrow the path and mount it readOnly: true")


def _root_evidence(sc: Obj, pod_sc: Obj) -> str | None:
    """Why the container may run as uid 0, or None when something prevents it."""
    uid, uid_from = (sc.get("runAsUser"), "container") if sc.get("runAsUser") is not None \
        else (pod_sc.get("runAsUser"), "pod")
    if uid is not None:
        return f"runAsUser: 0 (set in the {uid_from} securityContext)" if _int(uid) == 0 else None
    non_root = sc.get("runAsNonRoot") if sc.get("runAsNonRoot") is not None else pod_sc.get("runAsNonRoot")
    if non_root is True:
        return None
    said = "runAsNonRoot: false" if non_root is False else "no runAsNonRoot"
    return (f"{said} and no runAsUser in the container or pod securityContext — nothing stops the "
            "image's user, root by default")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def service_findings(source: str, service: Obj) -> Iterator[Finding]:
    """k8s-public-load-balancer for one Service (plain JSON) open to any address."""
    meta, spec = service.get("metadata") or {}, service.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return
    annotations = meta.get("annotations") or {}
    if _internal(annotations):
        return
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    ranges = [str(r).strip() for r in spec.get("loadBalancerSourceRanges") or () if str(r).strip()]
    field = "spec.loadBalancerSourceRanges"
    if not ranges and annotations.get(SOURCE_RANGES_ANNOTATION):
        ranges = [r.strip() for r in str(annotations[SOURCE_RANGES_ANNOTATION]).split(",") if r.strip()]
        field = f"annotation {SOURCE_RANGES_ANNOTATION}"
    world = [r for r in ranges if _is_world(r)]
    if ranges and not world:
        return
    ports = _ports(spec.get("ports") or ())
    why = f"{field} includes {', '.join(world)}" if world else "no loadBalancerSourceRanges"
    yield _finding(
        Check.K8S_PUBLIC_LB, source, f"{ns}/{name}", "LoadBalancer Service open to the internet",
        f"type LoadBalancer, {why}: {ports or 'its ports'} reachable from any address",
        "set spec.loadBalancerSourceRanges to the client CIDRs that need it (e.g. the office or VPN "
        "range), or make the load balancer internal")


def _internal(annotations: Mapping[str, Any]) -> bool:
    return any(str(annotations.get(key, "")).strip().lower() in values
               for key, values in INTERNAL_LB_ANNOTATIONS.items())


def _is_world(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports(ports: Iterable[Obj]) -> str:
    return ", ".join(f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in ports if p.get("port"))

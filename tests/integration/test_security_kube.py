"""Kubernetes security findings against the test API server, through the official client.

The cluster is seeded over HTTP the way `kubectl apply` would (tui/demo/security_cluster.py),
one misconfiguration per object plus clean look-alikes, and scanned with the ApiClient the
Kubernetes tab builds from a kubeconfig. What a user would notice: exactly the seeded
problems with their severities, nothing on a clean cluster, and one line saying what to
fix when the cluster cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s_client

from config.model import KubernetesSettings
from providers.k8s.client import build_api_client
from providers.security.k8s_checks import scan_context, scan_kubernetes
from providers.security.model import Check, Finding, Severity
from tests.support.aws import unused_local_url
from tests.support.kube import TEST_TOKEN, running_kube_api, write_kubeconfig
from tui.demo.kube_api.server import KubeApiServer
from tui.demo.security_cluster import LOOK_ALIKES, MISCONFIGURED, seed_security_cluster

CONTEXT = "lab"
# Written out here, not imported: the contract's severities (/tmp/common10.md, model.Check).
SEVERITIES = {
    "k8s-privileged": Severity.HIGH,
    "k8s-runs-as-root": Severity.MEDIUM,
    "k8s-host-network": Severity.MEDIUM,
    "k8s-host-path": Severity.HIGH,
    "k8s-public-load-balancer": Severity.HIGH,
}
EXPECTED = {
    ("k8s-privileged", "ops/debug-shell/shell"),
    ("k8s-privileged", "monitoring/search-indexer/sysctl"),
    ("k8s-runs-as-root", "web/legacy-cron/cron"),
    ("k8s-runs-as-root", "web/static-site/nginx"),
    ("k8s-host-network", "monitoring/node-exporter-x7k2p"),
    ("k8s-host-path", "ops/log-collector"),
    ("k8s-public-load-balancer", "web/storefront"),
    ("k8s-public-load-balancer", "ops/admin-console"),
}


@pytest.fixture
def server() -> Iterator[KubeApiServer]:
    with running_kube_api() as srv:
        yield srv


@pytest.fixture
def settings(tmp_path: Path, server: KubeApiServer) -> KubernetesSettings:
    path = write_kubeconfig(tmp_path / "kubeconfig", {CONTEXT: (server.url, TEST_TOKEN)})
    return KubernetesSettings(kubeconfig=(str(path),), contexts=(CONTEXT,), timeout=5.0)


@pytest.fixture
def api(settings: KubernetesSettings) -> Iterator[k8s_client.ApiClient]:
    client = build_api_client(settings, CONTEXT)
    try:
        yield client
    finally:
        client.close()


def pairs(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.check.value, f.resource) for f in findings}


def test_seeded_cluster_gives_exactly_the_seeded_problems(api: k8s_client.ApiClient) -> None:
    expected = seed_security_cluster(api)
    assert expected == EXPECTED

    findings, status = scan_context(api, CONTEXT)

    assert pairs(findings) == EXPECTED
    assert len(findings) == len(EXPECTED)  # one finding per problem, no duplicates
    assert {(f.check.value, f.severity) for f in findings} == {(c, SEVERITIES[c]) for c, _ in EXPECTED}
    assert status.source == f"k8s:{CONTEXT}" and status.error is None
    assert status.checks == len(MISCONFIGURED) + len(LOOK_ALIKES)  # every pod and Service examined
    for f in findings:
        assert f.source == f"k8s:{CONTEXT}"
        assert f.title and f.evidence and f.remedy
        assert f.key == f"{f.check.value}:{f.resource}"


def test_each_finding_says_what_was_seen_and_which_field_fixes_it(api: k8s_client.ApiClient) -> None:
    seed_security_cluster(api)
    by_key = {f.key: f for f in scan_context(api, CONTEXT)[0]}

    shell = by_key["k8s-privileged:ops/debug-shell/shell"]
    assert "securityContext.privileged: true" in shell.evidence
    assert "securityContext.privileged: false" in shell.remedy
    assert "init container sysctl" in by_key["k8s-privileged:monitoring/search-indexer/sysctl"].evidence

    # The container's runAsUser 0 wins over the pod's 1000; the other sets nothing at all.
    assert "runAsUser: 0 (set in the container securityContext)" in by_key[
        "k8s-runs-as-root:web/legacy-cron/cron"].evidence
    default_root = by_key["k8s-runs-as-root:web/static-site/nginx"]
    assert "no runAsNonRoot and no runAsUser" in default_root.evidence
    assert "runAsNonRoot: true" in default_root.remedy

    assert "spec.hostNetwork: true" in by_key["k8s-host-network:monitoring/node-exporter-x7k2p"].evidence
    host_path = by_key["k8s-host-path:ops/log-collector"]
    assert "varlog → /var/log" in host_path.evidence
    assert "docker → /var/lib/docker/containers" in host_path.evidence

    open_lb = by_key["k8s-public-load-balancer:web/storefront"]
    assert "no loadBalancerSourceRanges" in open_lb.evidence and "80/TCP, 443/TCP" in open_lb.evidence
    assert "loadBalancerSourceRanges" in open_lb.remedy
    world = by_key["k8s-public-load-balancer:ops/admin-console"]
    assert "includes ::/0" in world.evidence and "8443/TCP" in world.evidence


def test_clean_look_alikes_give_no_findings(api: k8s_client.ApiClient) -> None:
    assert seed_security_cluster(api, clean=True) == set()

    findings, status = scan_context(api, CONTEXT)

    assert findings == []
    assert status.error is None and status.checks == len(LOOK_ALIKES)


def test_lists_are_read_in_pages(api: k8s_client.ApiClient, server: KubeApiServer) -> None:
    seed_security_cluster(api)
    server.clear_requests()

    findings, status = scan_context(api, CONTEXT, page_size=2)

    assert pairs(findings) == EXPECTED and status.error is None
    pod_lists = [r for r in server.requests if r.path == "/api/v1/pods"]
    assert len(pod_lists) > 2 and all(r.query.get("limit") == "2" for r in pod_lists)
    assert sum("continue" in r.query for r in pod_lists) == len(pod_lists) - 1


def test_namespace_filter_scans_only_those_namespaces(api: k8s_client.ApiClient,
                                                      server: KubeApiServer) -> None:
    seed_security_cluster(api)
    server.clear_requests()

    findings, status = scan_context(api, CONTEXT, ["ops"])

    assert pairs(findings) == {p for p in EXPECTED if p[1].startswith("ops/")}
    assert status.error is None
    assert {r.path for r in server.requests} == {"/api/v1/namespaces/ops/pods",
                                                 "/api/v1/namespaces/ops/services"}


def test_scan_kubernetes_uses_the_settings_contexts_and_namespaces(
        settings: KubernetesSettings, api: k8s_client.ApiClient) -> None:
    seed_security_cluster(api)
    scoped = KubernetesSettings(kubeconfig=settings.kubeconfig, contexts=(CONTEXT,),
                                namespaces=("web", "monitoring"))

    findings, statuses = scan_kubernetes(scoped)

    assert pairs(findings) == {p for p in EXPECTED if not p[1].startswith("ops/")}
    assert [(s.source, s.error) for s in statuses] == [(f"k8s:{CONTEXT}", None)]


def test_unreachable_api_server_is_one_line(tmp_path: Path) -> None:
    url = unused_local_url()
    path = write_kubeconfig(tmp_path / "kubeconfig", {"gone": (url, TEST_TOKEN)})

    findings, statuses = scan_kubernetes(KubernetesSettings(kubeconfig=(str(path),), timeout=2.0))

    assert findings == []
    [status] = statuses
    assert status.source == "k8s:gone"
    assert status.error is not None and "\n" not in status.error
    assert status.error.startswith(f"API server unreachable at {url}")
    assert "check the cluster address" in status.error


def test_missing_rbac_names_the_permission_and_keeps_what_was_readable(
        api: k8s_client.ApiClient, server: KubeApiServer) -> None:
    seed_security_cluster(api)
    server.fail(403, resource="services", verb="list")

    findings, status = scan_context(api, CONTEXT)

    assert status.error == ("forbidden: cannot list services at cluster scope — "
                            "ask for RBAC list on services")
    # The pods could be read: their findings are real and kept; no Service was examined.
    assert pairs(findings) == {p for p in EXPECTED if p[0] != Check.K8S_PUBLIC_LB.value}
    assert status.checks == sum(1 for obj, _, _ in MISCONFIGURED + LOOK_ALIKES if obj["kind"] == "Pod")


def test_missing_rbac_in_a_namespace_names_the_namespace(api: k8s_client.ApiClient,
                                                         server: KubeApiServer) -> None:
    seed_security_cluster(api)
    server.fail(403, resource="pods", verb="list", namespace="ops")

    findings, status = scan_context(api, CONTEXT, ["web", "ops"])

    assert status.error == "forbidden: cannot list pods in namespace ops — ask for RBAC list on pods"
    assert ("k8s-public-load-balancer", "ops/admin-console") in pairs(findings)
    assert ("k8s-privileged", "ops/debug-shell/shell") not in pairs(findings)


def test_rejected_token_says_to_renew_it(tmp_path: Path, server: KubeApiServer) -> None:
    path = write_kubeconfig(tmp_path / "kubeconfig", {CONTEXT: (server.url, "not-the-token")})

    findings, statuses = scan_kubernetes(KubernetesSettings(kubeconfig=(str(path),)))

    assert findings == []
    assert [s.error for s in statuses] == [
        "unauthorized (401): the API server refused our credentials — renew the token or certificate "
        "in the kubeconfig"]


def test_unknown_context_is_its_own_status(settings: KubernetesSettings, api: k8s_client.ApiClient) -> None:
    seed_security_cluster(api)
    both = KubernetesSettings(kubeconfig=settings.kubeconfig, contexts=(CONTEXT, "prod"))

    findings, statuses = scan_kubernetes(both)

    assert pairs(findings) == EXPECTED
    assert [(s.source, s.error) for s in statuses] == [
        (f"k8s:{CONTEXT}", None),
        ("k8s:prod", f"context 'prod' is not in the kubeconfig (it has: {CONTEXT})")]

"""The Security tab's provider and `stacktop report security`, end to end: a profile with
an AWS account (moto server) and a Kubernetes context (the test API server), each seeded
with every misconfiguration and its clean look-alikes, read through the registry and
the CLI exactly as the console and cron do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from kubernetes import config as k8s_config

from config.loader import load_settings
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.security.model import SecuritySnapshot
from providers.store import Store
from tests.support.aws import DEFAULT_ACCOUNT, TEST_KEY, unused_local_url
from tests.support.kube import TEST_TOKEN, running_kube_api, write_kubeconfig
from tui.demo.kube_api.server import KubeApiServer
from tui.demo.security_cluster import seed_security_cluster
from tui.demo.security_fleet import seed_security_fleet

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "tests" / "data" / "security" / "report.schema.json").read_text())
SECRET = "sec-report-secret-5d1e"
CONTEXT = "prod-cluster"
ACCEPTED = "sg-open-port:{group}:22"  # the bastion's port 22, accepted on purpose


@pytest.fixture
def kube() -> Iterator[KubeApiServer]:
    with running_kube_api() as server:
        yield server


class Estate:
    """Both sources seeded; `expected` holds every (check, resource) a scan must find."""

    def __init__(self, tmp_path: Path, moto_url: str, kube: KubeApiServer, *, endpoint: str | None = None,
                 kube_url: str | None = None) -> None:
        self.aws = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {CONTEXT: (kube.url, TEST_TOKEN)})
        api = k8s_config.new_client_from_config(config_file=str(kubeconfig), context=CONTEXT)
        try:
            self.kube = seed_security_cluster(api)
        finally:
            api.close()
        if kube_url is not None:
            kubeconfig = write_kubeconfig(tmp_path / "kubeconfig-elsewhere",
                                          {CONTEXT: (kube_url, TEST_TOKEN)})
        ssh = next(f.resource for f in self.aws.findings if f.resource.endswith(":22"))
        self.accepted = ACCEPTED.format(group=ssh.split(":")[0])
        self.expected = self.aws.keys() | self.kube
        self.config = tmp_path / "stacktop.yaml"
        self.config.write_text(f"""
providers:
  host: {{enabled: false}}
  aws:
    accounts:
      - name: prod
        regions: [us-east-1]
        endpoint_url: {endpoint or moto_url}
        access_key_id: {TEST_KEY}
        secret_access_key: ${{STACKTOP_TEST_AWS_SECRET}}
    max_attempts: 1
  kubernetes:
    enabled: true
    kubeconfig: [{kubeconfig}]
    timeout: 5s
costs: {{enabled: false}}
security:
  ignore: ["{self.accepted}"]
""")


def stacktop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=240, env={**os.environ, "STACKTOP_TEST_AWS_SECRET": SECRET},
                          stdin=subprocess.DEVNULL)


async def test_the_registry_builds_one_provider_that_finds_exactly_the_seeded_holes(
        tmp_path: Path, moto_url: str, kube: KubeApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKTOP_TEST_AWS_SECRET", SECRET)
    estate = Estate(tmp_path, moto_url, kube)
    settings = load_settings(str(estate.config))
    providers = [p for p in build_providers(settings, read_only=True) if p.name == "security"]
    assert len(providers) == 1
    store = Store(10)
    runtime = Runtime(providers, store, redact=settings.redact)
    try:
        await runtime.poll_once(["security"])
    finally:
        await runtime.stop()
    snapshot = store.latest("security").snapshot
    assert isinstance(snapshot, SecuritySnapshot) and not snapshot.scanning
    assert [s.error for s in snapshot.sources if s.error] == []
    assert {s.source for s in snapshot.sources} == {"aws:prod/us-east-1", "aws:prod/global", f"k8s:{CONTEXT}"}
    found = {(f.check.value, f.resource) for f in snapshot.findings}
    assert found == {k for k in estate.expected if f"{k[0]}:{k[1]}" != estate.accepted}
    assert snapshot.ignored == 1
    ranks = [f.severity.rank for f in snapshot.findings]
    assert ranks == sorted(ranks)  # critical first


def test_json_report_validates_and_lists_every_finding(tmp_path: Path, moto_url: str,
                                                       kube: KubeApiServer) -> None:
    estate = Estate(tmp_path, moto_url, kube)
    done = stacktop("report", "security", "--config", str(estate.config), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    doc = json.loads(done.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert {(f["check"], f["resource"]) for f in doc["findings"]} == estate.expected - {
        tuple(estate.accepted.split(":", 1))}
    assert sum(doc["counts"].values()) == len(doc["findings"]) == len(estate.expected) - 1


def test_html_report_is_written_to_the_output_file(tmp_path: Path, moto_url: str,
                                                   kube: KubeApiServer) -> None:
    estate = Estate(tmp_path, moto_url, kube)
    out = tmp_path / "security.html"
    done = stacktop("report", "security", "--config", str(estate.config), "--format", "html",
                    "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == (f"stacktop: wrote the html security report ({len(estate.expected) - 1} "
                                   f"findings) to {out}")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "web/storefront" in page and SECRET not in page


def test_an_unreachable_cluster_is_one_line_and_the_aws_findings_still_come(
        tmp_path: Path, moto_url: str, kube: KubeApiServer) -> None:
    estate = Estate(tmp_path, moto_url, kube, kube_url=unused_local_url())
    done = stacktop("report", "security", "--config", str(estate.config), "--format", "json")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"stacktop: k8s:{CONTEXT}: "), done.stderr
    assert "Traceback" not in done.stderr
    doc = json.loads(done.stdout)
    assert {(f["check"], f["resource"]) for f in doc["findings"]} >= estate.aws.keys() - {
        tuple(estate.accepted.split(":", 1))}


def test_nothing_to_scan_says_what_to_configure(tmp_path: Path) -> None:
    config = tmp_path / "stacktop.yaml"
    config.write_text("providers: {host: {enabled: false}}\n")
    done = stacktop("report", "security", "--config", str(config), "--format", "json")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("stacktop: nothing to scan: configure providers.aws or providers.kubernetes "
                           "(and leave security.enabled true)\n")

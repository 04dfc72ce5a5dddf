"""`export_prometheus`: the file passes `promtool check rules`, and loaded into a
real Prometheus the exported rules evaluate without errors and fire."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from config.loader import load_alert_rules
from config.model import PrometheusQuerySettings
from providers.alerts.build import rule_from_settings
from providers.alerts.export import (
    NODE_FSTYPES_EXCLUDED,
    UNMAPPED_FAMILIES,
    export_prometheus,
    promql_duration,
    promql_number,
)
from providers.alerts.expr import parse
from providers.alerts.model import Rule
from providers.host import DEFAULT_EXCLUDE_FSTYPES
from tests.support.prometheus import (  # noqa: F401
    PROMETHEUS,
    PROMTOOL,
    PromStack,
    Server,
    check_rules,
    get_json,
    http,
    prom_stack,
    require_binaries,
    start_prometheus,
    wait_for,
)

QUERIES = (PrometheusQuerySettings("up", 'up{job="node"}'),
           PrometheusQuerySettings("load5", "avg(node_load5)"))


def rule(name: str, expr: str, **kw: object) -> Rule:
    return Rule(name=name, expr=expr, query=parse(expr), **kw)  # type: ignore[arg-type]


def exported_rules(text: str) -> dict[str, dict[str, object]]:
    body = yaml.safe_load(text)
    return {r["alert"]: r for g in body["groups"] for r in g["rules"]}


@pytest.fixture
def promtool(tmp_path: Path) -> Iterator[Path]:
    require_binaries(PROMTOOL)
    yield tmp_path / "exported.yml"


# --- the translation ----------------------------------------------------------------------------

def test_host_rules_translate_to_node_exporter_promql() -> None:
    result = export_prometheus([
        rule("HostCpuHigh", "host.cpu.percent > 80", for_=300.0, severity="critical",
             labels=(("team", "ops"),),
             annotations=(("summary", "CPU on {{ $labels.host }} at {{ $value }} %"),)),
        rule("HostMemoryHigh", 'host.memory.percent{host="db-1"} >= 90.5', keep_firing_for=90.0),
        rule("HostLoad", 'host.load.1m{host=~"web-.*"} > 4'),
        rule("HostDiskFull", 'host.disk.percent{mount="/var",host!="scratch"} > 90', for_=5400.0,
             annotations=(("summary", "{{ $labels.mount }} on {{$labels.host}}: {{ $value }} %"),)),
    ], QUERIES)
    assert result.exported == ["HostCpuHigh", "HostMemoryHigh", "HostLoad", "HostDiskFull"]
    assert result.unmapped == []
    rules = exported_rules(result.text)
    cpu = rules["HostCpuHigh"]
    assert cpu["expr"] == '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > 80'
    assert cpu["for"] == "5m" and "keep_firing_for" not in cpu
    assert cpu["labels"] == {"team": "ops", "severity": "critical"}
    assert cpu["annotations"] == {"summary": "CPU on {{ $labels.instance }} at {{ $value }} %"}
    memory = rules["HostMemoryHigh"]
    assert memory["expr"] == ('100 * (1 - node_memory_MemAvailable_bytes{instance=~"db\\\\-1(?::[0-9]+)?"}'
                              " / node_memory_MemTotal_bytes) >= 90.5")
    assert memory["keep_firing_for"] == "1m30s" and "for" not in memory
    assert memory["labels"] == {"severity": "warning"} and "annotations" not in memory
    assert rules["HostLoad"]["expr"] == 'node_load1{instance=~"(?:web-.*)(?::[0-9]+)?"} > 4'
    disk = rules["HostDiskFull"]
    assert disk["expr"] == (
        f'100 * (node_filesystem_size_bytes{{fstype!~"{NODE_FSTYPES_EXCLUDED}",mountpoint="/var",'
        'instance!~"scratch(?::[0-9]+)?"} - node_filesystem_free_bytes)'
        " / (node_filesystem_size_bytes - node_filesystem_free_bytes + node_filesystem_avail_bytes) > 90")
    assert disk["for"] == "1h30m"
    summary = "{{ $labels.mountpoint }} on {{$labels.instance}}: {{ $value }} %"
    assert disk["annotations"] == {"summary": summary}


def test_fstype_exclusions_match_the_host_provider() -> None:
    assert set(NODE_FSTYPES_EXCLUDED.split("|")) == set(DEFAULT_EXCLUDE_FSTYPES)


def test_prometheus_queries_export_as_their_own_text() -> None:
    result = export_prometheus([
        rule("NodeDown", "prometheus.up < 1", for_=60.0,
             annotations=(("summary", "{{ $labels.instance }} down ({{ $labels.host }} stays as written)"),)),
        rule("Load5", "prometheus.load5 > 1e3"),
        rule("Filtered", 'prometheus.up{instance="a:9100"} < 1'),
        rule("Nowhere", "prometheus.missing > 1"),
        rule("Wild", "prometheus.* > 1"),
    ], QUERIES)
    rules = exported_rules(result.text)
    assert rules["NodeDown"]["expr"] == '(up{job="node"}) < 1'
    assert rules["NodeDown"]["annotations"]["summary"].endswith("({{ $labels.host }} stays as written)")
    assert rules["Load5"]["expr"] == "(avg(node_load5)) > 1000"
    reasons = dict(result.unmapped)
    assert set(reasons) == {"Filtered", "Nowhere", "Wild"}
    assert "put them in the query itself" in reasons["Filtered"]
    assert reasons["Nowhere"] == "no providers.prometheus query is named 'missing'"
    assert "wildcard" in reasons["Wild"]


def test_what_stacktop_computes_itself_is_unmapped_with_the_reason() -> None:
    result = export_prometheus([
        rule("BackupRpoBreached", "backups.rpo_breached == 1"),
        rule("HttpCheckFailing", "http.*.consecutive_failures >= 2"),
        rule("Ec2CpuHigh", 'aws.ec2.cpu{account="prod"} > 90'),
        rule("KubePodsNotReady", "k8s.pods.not_ready > 0"),
        rule("BudgetNearlySpent", "costs.month_to_date_ratio_of_budget > 0.9"),
        rule("ReplicationLagHigh", "ha.lag_seconds > 30"),
        rule("NetBusy", "host.net.bytes_per_s > 1e9"),
        rule("CpuOnCore", 'host.cpu.percent{core="1"} > 90'),
        rule("bad name", "host.cpu.percent > 90"),
        rule("BadLabel", "host.cpu.percent > 90", labels=(("team-name", "x"),)),
    ], QUERIES)
    assert result.exported == []
    reasons = dict(result.unmapped)
    assert reasons["BackupRpoBreached"] == ("backups.* is computed by stacktop from pgBackRest/EBS "
                                            "listings; no Prometheus metric")
    for name, family in (("HttpCheckFailing", "http"), ("Ec2CpuHigh", "aws"), ("KubePodsNotReady", "k8s"),
                         ("BudgetNearlySpent", "costs"), ("ReplicationLagHigh", "ha")):
        assert reasons[name] == UNMAPPED_FAMILIES[family]
    assert reasons["NetBusy"].startswith("host.net.bytes_per_s has no node_exporter translation")
    assert reasons["CpuOnCore"].startswith("host.cpu.percent has no label 'core'")
    assert "not a valid Prometheus alert name" in reasons["bad name"]
    assert "label name 'team-name'" in reasons["BadLabel"]
    assert [name for name, _ in result.unmapped] == [
        "BackupRpoBreached", "HttpCheckFailing", "Ec2CpuHigh", "KubePodsNotReady", "BudgetNearlySpent",
        "ReplicationLagHigh", "NetBusy", "CpuOnCore", "bad name", "BadLabel"]
    assert yaml.safe_load(result.text) == {"groups": []}
    assert "# not exported: BackupRpoBreached: backups.* is computed" in result.text


def test_numbers_and_durations() -> None:
    assert [promql_number(v) for v in (80.0, -1.0, 0.05, 1e20, float("inf"), float("-inf"))] == [
        "80", "-1", "0.05", "1e+20", "+Inf", "-Inf"]
    assert [promql_duration(s) for s in (0.5, 30, 300, 5400, 86400 + 1, 0)] == [
        "500ms", "30s", "5m", "1h30m", "1d1s", "0s"]


# --- against promtool and a real Prometheus ------------------------------------------------------------

def test_default_rules_export_passes_promtool(promtool: Path) -> None:
    settings = load_alert_rules({"default_rules": True, "rule_files": [], "rules": []}, None)
    rules = [rule_from_settings(r) for r in settings]
    result = export_prometheus(rules, QUERIES)
    assert result.exported == ["HostCpuHigh", "HostMemoryHigh", "HostDiskFull"]
    assert {name for name, _ in result.unmapped} == {r.name for r in rules} - set(result.exported)
    promtool.write_text(result.text)
    checked = check_rules(promtool)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 3 rules found" in checked.stdout


def test_every_mapped_form_passes_promtool(promtool: Path) -> None:
    result = export_prometheus([
        rule("A", 'host.cpu.percent{host="db-1"} > 80', for_=0.5, keep_firing_for=3600.0),
        rule("B", 'host.memory.percent{host!~"web-[0-9]+"} != 0'),
        rule("C", 'host.disk.percent{mount=~"/(var|srv)", host=~"db.*"} <= 10'),
        rule("D", 'host.load.1m{host!="x\\"y"} == 2'),
        rule("E", "prometheus.up < 1", labels=(("team", "db"),),
             annotations=(("summary", "{{ $labels.instance }} {{ $value }}"),)),
    ], QUERIES)
    assert len(result.exported) == 5
    promtool.write_text(result.text)
    checked = check_rules(promtool)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture
def second_prometheus(prom_stack: PromStack) -> Iterator[tuple[Server, Path]]:  # noqa: F811
    """A Prometheus of its own (scraping the session's node exporter, alerting nowhere):
    the exported rules must not leak into the other tests' Alertmanager."""
    require_binaries(PROMETHEUS)
    root = Path(tempfile.mkdtemp(prefix="stacktop-export-"))
    rules_dir = root / "export" / "rules"
    rules_dir.mkdir(parents=True)
    server = start_prometheus(root, prom_stack.node_exporter_url, name="export")
    try:
        yield server, rules_dir
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_exported_rules_load_and_fire_in_prometheus(second_prometheus: tuple[Server, Path],
                                                          prom_stack: PromStack) -> None:  # noqa: F811
    server, rules_dir = second_prometheus
    host = prom_stack.node_exporter_url.split("://")[1].rsplit(":", 1)[0]
    result = export_prometheus([
        rule("HostCpuAlways", "host.cpu.percent > -1", for_=2.0, keep_firing_for=60.0,
             annotations=(("summary", "CPU on {{ $labels.host }} at {{ $value }} %"),)),
        rule("HostMemoryAlways", f'host.memory.percent{{host="{host}"}} > -1'),
        rule("HostLoadNever", 'host.load.1m{host="elsewhere"} > -1'),
        rule("HostDiskAlways", 'host.disk.percent{mount="/"} > -1'),
        rule("NodeUp", "prometheus.up == 1"),
        rule("BackupRpoBreached", "backups.rpo_breached == 1"),
    ], QUERIES)
    assert dict(result.unmapped) == {"BackupRpoBreached": UNMAPPED_FAMILIES["backups"]}
    (rules_dir / "exported.yml").write_text(result.text)
    status, body = http("POST", server.url + "/-/reload")
    assert status == 200, body

    def loaded() -> dict[str, dict[str, object]] | None:
        groups = get_json(server.url + "/api/v1/rules")["data"]["groups"]
        found = {r["name"]: r for g in groups for r in g["rules"]}
        return found if set(found) == set(result.exported) else None

    rules = await wait_for(loaded, 10, "the exported rules in /api/v1/rules")
    assert all(r["type"] == "alerting" for r in rules.values())

    def disk_seen() -> bool:
        query = quote(f'node_filesystem_size_bytes{{mountpoint="/",fstype!~"{NODE_FSTYPES_EXCLUDED}"}}')
        return bool(get_json(f"{server.url}/api/v1/query?query={query}")["data"]["result"])

    def firing() -> dict[str, dict[str, object]] | None:
        alerts = get_json(server.url + "/api/v1/alerts")["data"]["alerts"]
        by_name = {a["labels"]["alertname"]: a for a in alerts if a["state"] == "firing"}
        want = {"HostCpuAlways", "HostMemoryAlways", "NodeUp"}
        if disk_seen():  # a container's / may be an overlay, which stacktop and the rule leave out
            want.add("HostDiskAlways")
        return by_name if want <= set(by_name) else None

    alerts = await wait_for(firing, 20, "the exported rules firing")
    cpu = alerts["HostCpuAlways"]
    assert cpu["labels"]["instance"] == prom_stack.node_exporter_url.split("://")[1]
    assert cpu["labels"]["severity"] == "warning"
    assert cpu["annotations"]["summary"].startswith(f"CPU on {cpu['labels']['instance']} at ")
    assert "HostLoadNever" not in alerts
    if "HostDiskAlways" in alerts:
        assert alerts["HostDiskAlways"]["labels"]["mountpoint"] == "/"
    rules = get_json(server.url + "/api/v1/rules")["data"]["groups"]
    assert all(r["health"] == "ok" and not r.get("lastError") for g in rules for r in g["rules"]), rules

"""`stacktop rules export --format prometheus`: the rules Prometheus can evaluate
itself, as a Prometheus rule file, and why each other rule cannot be.

A team that outgrows one console moves its alerting into Prometheus; the rules
they tuned here should come along. A rule maps when its metric has a PromQL
equivalent: the host figures from node_exporter, and `prometheus.<query>` (the
configured query itself). Everything stacktop computes from its own polling —
backups, health checks, CloudWatch, Kubernetes, costs, the HA collectors — has
no Prometheus metric and is listed as unmapped with the reason.

Label names follow node_exporter, not stacktop: a host is `instance`
("db-1:9100", matched as host with an optional :port) and a mount is
`mountpoint`. Matchers on `host` and `mount` are translated, and so are
`{{ $labels.host }}` / `{{ $labels.mount }}` in annotations; `{{ $value }}` and
other `{{ $labels.NAME }}` mean the same in both.

`keep_firing_for` needs Prometheus 2.42 or newer (Debian 12 ships 2.42.0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import yaml

from config.model import PrometheusQuerySettings
from providers.alerts.model import Matcher, Query, Rule

NODE_FSTYPES_EXCLUDED = "tmpfs|devtmpfs|squashfs|overlay|proc|sysfs|cgroup2|nsfs|tracefs"
"""The filesystems stacktop's host provider leaves out (providers.host.DEFAULT_EXCLUDE_FSTYPES)."""
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_HOST_PORT = "(?::[0-9]+)?"

UNMAPPED_FAMILIES = {
    "backups": "backups.* is computed by stacktop from pgBackRest/EBS listings; no Prometheus metric",
    "http": "http.* comes from stacktop's own health checks; in Prometheus use blackbox_exporter's "
            "probe_success / probe_duration_seconds",
    "aws": "aws.* comes from CloudWatch through stacktop; in Prometheus use cloudwatch_exporter or YACE",
    "k8s": "k8s.* comes from the Kubernetes API through stacktop; in Prometheus use kube-state-metrics",
    "costs": "costs.* is computed by stacktop from billing data; no Prometheus metric",
    "ha": "ha.* comes from Patroni/PostgreSQL/MySQL through stacktop, labelled by cluster and member; "
          "postgres_exporter names members by instance (and only 0.13+ exposes "
          "pg_replication_lag_seconds; Debian 12 has 0.11): write this rule in PromQL by hand",
    "alerts": "alerts.* is the rule engine's own output; no Prometheus metric",
    "alertmanager": "alertmanager.* is Alertmanager's own state; no Prometheus metric",
}
HEADER = """\
# Prometheus rule file written by `stacktop rules export --format prometheus`.
# Label names follow node_exporter: stacktop's host is `instance` (host:port) and
# its mount is `mountpoint`; annotations were translated to match.
"""


class Unmapped(Exception):
    """Why a rule has no PromQL form (one line)."""


@dataclass
class ExportResult:
    text: str
    """The rule file (YAML), valid for `promtool check rules` even when nothing maps."""
    exported: list[str] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)
    """(rule name, reason), in the rules' order."""


# --- PromQL pieces --------------------------------------------------------------------------------

def promql_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def promql_duration(seconds: float) -> str:
    """300 -> 5m, 5400 -> 1h30m, 0.5 -> 500ms (Prometheus reads compound durations)."""
    millis = round(seconds * 1000)
    if millis <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _selector(name: str, matchers: Sequence[Matcher]) -> str:
    inner = ",".join(str(m) for m in matchers)
    return f"{name}{{{inner}}}" if inner else name


def _host_matcher(m: Matcher) -> Matcher:
    """host="db-1" -> instance=~"db\\-1(?::[0-9]+)?" : node_exporter's instance carries the port."""
    pattern = re.escape(m.value) if m.op in ("=", "!=") else f"(?:{m.value})"
    return Matcher("instance", "=~" if m.op in ("=", "=~") else "!~", pattern + _HOST_PORT)


def _node_matchers(metric: str, matchers: Sequence[Matcher], allowed: Sequence[str]) -> list[Matcher]:
    out = []
    for m in matchers:
        if m.name not in allowed:
            raise Unmapped(f"{metric} has no label {m.name!r} in node_exporter terms "
                           f"(labels: {', '.join(allowed)})")
        if m.name == "host":
            out.append(_host_matcher(m))
        elif m.name == "mount":
            out.append(Matcher("mountpoint", m.op, m.value))
    return out


def _host_cpu(q: Query) -> str:
    ms = [Matcher("mode", "=", "idle"), *_node_matchers(q.metric, q.matchers, ("host",))]
    return f"100 * (1 - avg by (instance) (rate({_selector('node_cpu_seconds_total', ms)}[5m])))"


def _host_memory(q: Query) -> str:
    ms = _node_matchers(q.metric, q.matchers, ("host",))
    return f"100 * (1 - {_selector('node_memory_MemAvailable_bytes', ms)} / node_memory_MemTotal_bytes)"


def _host_load(q: Query) -> str:
    return _selector("node_load1", _node_matchers(q.metric, q.matchers, ("host",)))


def _host_disk(q: Query) -> str:
    """Used over what a user can fill, as df's Use% and stacktop's host view (the blocks
    reserved for root count as neither). The matchers go on the first selector only: a
    binary operation keeps just the label sets both sides have."""
    ms = [Matcher("fstype", "!~", NODE_FSTYPES_EXCLUDED),
          *_node_matchers(q.metric, q.matchers, ("host", "mount"))]
    return (f"100 * ({_selector('node_filesystem_size_bytes', ms)} - node_filesystem_free_bytes)"
            " / (node_filesystem_size_bytes - node_filesystem_free_bytes + node_filesystem_avail_bytes)")


HOST_METRICS: dict[str, Callable[[Query], str]] = {
    "host.cpu.percent": _host_cpu,
    "host.memory.percent": _host_memory,
    "host.load.1m": _host_load,
    "host.disk.percent": _host_disk,
}
HOST_LABELS = {"host": "instance", "mount": "mountpoint"}


def promql(query: Query, queries: Sequence[PrometheusQuerySettings]) -> str:
    """The rule's expression in PromQL; Unmapped with the reason when there is none."""
    metric = query.metric
    family = metric.split(".", 1)[0]
    if "*" in metric.split("."):
        if family in UNMAPPED_FAMILIES:
            raise Unmapped(UNMAPPED_FAMILIES[family])
        raise Unmapped(f"{metric}: a wildcard over metrics has no single PromQL expression")
    if metric in HOST_METRICS:
        left = HOST_METRICS[metric](query)
    elif family == "prometheus":
        name = metric.split(".", 1)[1] if "." in metric else ""
        found = next((q for q in queries if q.name == name), None)
        if found is None:
            raise Unmapped(f"no providers.prometheus query is named {name!r}")
        if query.matchers:
            raise Unmapped(f"label matchers on the result of query {name} cannot be expressed in "
                           "PromQL in general; put them in the query itself")
        left = f"({found.query.strip()})"
    elif family in UNMAPPED_FAMILIES:
        raise Unmapped(UNMAPPED_FAMILIES[family])
    elif family == "host":
        raise Unmapped(f"{metric} has no node_exporter translation here (only "
                       f"{', '.join(HOST_METRICS)})")
    else:
        raise Unmapped(f"{metric} has no Prometheus equivalent")
    return f"{left} {query.op} {promql_number(query.threshold)}"


_TEMPLATE_LABEL = re.compile(r"(\{\{[^}]*?\$labels\.)(host|mount)\b")


def translate_template(text: str) -> str:
    """{{ $labels.host }} -> {{ $labels.instance }}, mount -> mountpoint (host rules only)."""
    return _TEMPLATE_LABEL.sub(lambda m: m.group(1) + HOST_LABELS[m.group(2)], text)


def _prometheus_rule(rule: Rule, queries: Sequence[PrometheusQuerySettings]) -> dict[str, object]:
    if not _NAME.fullmatch(rule.name):
        raise Unmapped(f"{rule.name!r} is not a valid Prometheus alert name "
                       "(letters, digits, _ and :, not starting with a digit)")
    bad = [k for k, _ in rule.labels if not _LABEL.fullmatch(k)]
    if bad:
        raise Unmapped(f"label name {bad[0]!r} is not valid in Prometheus (letters, digits and _)")
    expr = promql(rule.query, queries)
    host = rule.query.metric in HOST_METRICS
    out: dict[str, object] = {"alert": rule.name, "expr": expr}
    if rule.for_ > 0:
        out["for"] = promql_duration(rule.for_)
    if rule.keep_firing_for > 0:
        out["keep_firing_for"] = promql_duration(rule.keep_firing_for)
    out["labels"] = {**dict(rule.labels), "severity": rule.severity}
    if rule.annotations:
        out["annotations"] = {k: translate_template(v) if host else v for k, v in rule.annotations}
    return out


def export_prometheus(rules: Sequence[Rule], queries: Sequence[PrometheusQuerySettings]) -> ExportResult:
    """The rule file for the rules that map, and (name, reason) for those that do not."""
    result = ExportResult(text="")
    exported = []
    for rule in rules:
        try:
            exported.append(_prometheus_rule(rule, queries))
        except Unmapped as exc:
            result.unmapped.append((rule.name, str(exc)))
            continue
        result.exported.append(rule.name)
    groups = [{"name": "stacktop", "rules": exported}] if exported else []
    body = yaml.safe_dump({"groups": groups}, sort_keys=False, allow_unicode=True, width=10_000)
    notes = "".join(f"# not exported: {name}: {reason}\n" for name, reason in result.unmapped)
    result.text = HEADER + body + (("#\n" + notes) if notes else "")
    return result

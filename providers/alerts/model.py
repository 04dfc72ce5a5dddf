"""The plain data of alerting, shared by the expression parser, the rule engine,
the notifier, the Prometheus/Alertmanager providers and the Alerts tab.

Nothing here does I/O. Times are wall-clock UTC seconds; labels are sorted
(name, value) pairs so they hash and compare.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from providers.base import Sample, Snapshot

Labels = tuple[tuple[str, str], ...]

# Alert states. INACTIVE is never listed: an alert is shown from pending on.
INACTIVE, PENDING, FIRING, RESOLVED = "inactive", "pending", "firing", "resolved"
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
STACKTOP, ALERTMANAGER = "stacktop", "alertmanager"
MATCH_OPS = ("=", "!=", "=~", "!~")
COMPARE_OPS = (">", ">=", "<", "<=", "==", "!=")


@dataclass(frozen=True, slots=True)
class Matcher:
    """A label matcher as in PromQL and Alertmanager: name op value; regexes are
    fully anchored. A missing label matches as the empty string."""

    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        have = labels.get(self.name, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = re.fullmatch(self.value, have) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def matches_all(matchers: tuple[Matcher, ...], labels: Labels | Mapping[str, str]) -> bool:
    as_map = dict(labels)
    return all(m.matches(as_map) for m in matchers)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed rule expression: `metric{matchers} op threshold`. A metric path
    segment `*` matches any one segment (http.*.error_rate)."""

    metric: str
    matchers: tuple[Matcher, ...]
    op: str
    threshold: float

    def metric_matches(self, name: str) -> bool:
        want = self.metric.split(".")
        have = name.split(".")
        return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have, strict=True))

    def select(self, samples: Iterable[Sample]) -> list[Sample]:
        """The samples this query looks at (name and label matchers), true or not."""
        return [s for s in samples if self.metric_matches(s.name) and matches_all(self.matchers, s.labels)]

    def compare(self, value: float) -> bool:
        t = self.threshold
        return {">": value > t, ">=": value >= t, "<": value < t, "<=": value <= t,
                "==": value == t, "!=": value != t}[self.op]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule ready to evaluate (AlertRuleSettings with its expression parsed)."""

    name: str
    expr: str
    query: Query
    for_: float = 0.0
    keep_firing_for: float = 0.0
    severity: str = "warning"
    labels: Labels = ()
    annotations: Labels = ()
    origin: str = ""


def fingerprint(labels: Labels) -> str:
    """Stable id of one alert (its full label set, alertname included): 16 hex digits."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert instance: a rule and one label set, or one Alertmanager alert."""

    fingerprint: str
    name: str
    """The rule's name (the alertname label)."""
    state: str
    """pending | firing | resolved"""
    severity: str
    labels: Labels
    """All labels: the sample's, the rule's, alertname and severity."""
    annotations: Labels = ()
    """Rendered: templates already filled in."""
    source: str = STACKTOP
    value: float | None = None
    values: tuple[float, ...] = ()
    """Recent values, oldest first, for the sparkline (at most 60)."""
    expr: str = ""
    active_since: float = 0.0
    """When it became pending (Alertmanager: startsAt)."""
    firing_since: float | None = None
    resolved_at: float | None = None
    last_evaluated: float = 0.0
    silenced_by: tuple[str, ...] = ()
    """Ids of the silences that match it now."""
    inhibited_by: tuple[str, ...] = ()
    """Alertmanager: fingerprints of the firing alerts whose inhibit rules mute this one."""
    acked_by: str = ""
    ack_comment: str = ""
    generator_url: str = ""

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)

    @property
    def muted(self) -> bool:
        """Nobody is paged for it: a silence matches it, or another alert inhibits it."""
        return bool(self.silenced_by or self.inhibited_by)

    @property
    def summary(self) -> str:
        return self.annotation("summary") or self.name

    def annotation(self, key: str) -> str:
        return next((v for k, v in self.annotations if k == key), "")

    def label(self, key: str) -> str:
        return next((v for k, v in self.labels if k == key), "")


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change of one alert, as kept in the history."""

    at: float
    fingerprint: str
    name: str
    labels: Labels
    from_state: str
    to_state: str
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes every alert its matchers all match, from starts_at to ends_at."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    source: str = STACKTOP

    def state(self, now: float) -> str:
        """active | pending | expired (Alertmanager's words)."""
        if now >= self.ends_at:
            return "expired"
        return "pending" if now < self.starts_at else "active"

    def mutes(self, labels: Labels, now: float) -> bool:
        return self.state(now) == "active" and matches_all(self.matchers, labels)


@dataclass(frozen=True, slots=True)
class Ack:
    """Someone is on it: the alert stays listed but its repeat notifications stop
    until it resolves (an ack ends when its alert resolves)."""

    fingerprint: str
    by: str
    comment: str
    at: float


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One message to one channel, after its last attempt: the notification log's line."""

    at: float
    channel: str
    kind: str
    group: str
    """The route's group key, e.g. "route0:{alertname=HostCpuHigh}"."""
    status: str
    """firing | resolved: what the message said."""
    fingerprints: tuple[str, ...]
    ok: bool
    attempts: int
    detail: str
    """"HTTP 200" or one line of why it failed (never a URL or a secret)."""
    duration: float = 0.0


@dataclass(frozen=True)
class AlertsSnapshot(Snapshot):
    """What the `alerts` provider (stacktop's own rule engine) shows."""

    alerts: tuple[Alert, ...] = ()
    """Pending, firing and recently resolved; inactive ones are not listed."""
    silences: tuple[Silence, ...] = ()
    """Active and pending silences, then those expired within the resolved retention."""
    notifications: tuple[NotificationRecord, ...] = ()
    """The newest sends, newest first (at most 200)."""
    transitions: tuple[Transition, ...] = ()
    """The newest state changes, newest first (at most 200)."""
    rules: int = 0
    rules_without_data: tuple[str, ...] = ()
    """Rules whose metric no provider reports (e.g. costs.* before Costs is configured)."""
    notifier: str = ""
    """One line on who sends notifications: "3 channels" / "no channels configured" /
    "sent by another stacktop (pid 4242)"."""
    problems: tuple[str, ...] = ()

    def metrics(self) -> Mapping[str, float]:
        firing = [a for a in self.alerts if a.state == FIRING and not a.muted]
        return {"firing": float(len(firing)),
                "pending": float(sum(1 for a in self.alerts if a.state == PENDING))}

    def alert_samples(self, provider: str) -> list[Sample]:
        """Alerts on alerts would loop: the engine's own output is not a rule input."""
        return []


@dataclass(frozen=True)
class AlertmanagerSnapshot(Snapshot):
    """Alertmanager's alerts (source "alertmanager") and its silences."""

    url: str = ""
    alerts: tuple[Alert, ...] = ()
    silences: tuple[Silence, ...] = ()
    version: str = ""

    def metrics(self) -> Mapping[str, float]:
        return {"firing": float(sum(1 for a in self.alerts if not a.muted))}

    def alert_samples(self, provider: str) -> list[Sample]:
        return []


@dataclass(frozen=True, slots=True)
class PromSeries:
    """One series of a configured Prometheus query: its labels, newest value and history."""

    query: str
    """The configured query's name."""
    labels: Labels
    value: float | None
    times: tuple[float, ...] = ()
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class PrometheusSnapshot(Snapshot):
    url: str = ""
    series: tuple[PromSeries, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)
    """One line per query that failed (the others still count)."""

    def metrics(self) -> Mapping[str, float]:
        out: dict[str, float] = {}
        for s in self.series:
            if s.value is not None:
                suffix = ",".join(f"{k}={v}" for k, v in s.labels)
                out[f"{s.query}{{{suffix}}}" if suffix else s.query] = s.value
        return out

    def alert_samples(self, provider: str) -> list[Sample]:
        return [Sample(f"prometheus.{s.query}", s.labels, s.value, self.taken_at)
                for s in self.series if s.value is not None]

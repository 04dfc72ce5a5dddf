"""What the HTTP checks provider reports, without aiohttp: the Resources view and
the status line import this at start-up, the provider (and aiohttp, ~0.14 s to
import) only loads when checks are configured."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from providers.base import Sample, Snapshot, labels_of

MASK = "***"
SECRET_QUERY = re.compile(r"(?i)^(.*[_-])?(token|secret|password|passwd|pwd|apikey|key|sig|signature|auth)$")
"""Query parameters whose values are masked: token, api_key, X-Amz-Signature…"""

UP, DOWN, PENDING = "up", "down", "pending"


def nearest_rank(sorted_values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by nearest rank: the value at rank ceil(p/100 * n), 1-based."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def mask_url(url: str) -> str:
    """The URL with its password and secret-looking query values as ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL we can take apart: show nothing after the host
        return url.split("?", 1)[0].split("@")[-1]
    netloc = parts.netloc
    if password is not None:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_QUERY.match(k) for k, _ in pairs):
            query = urlencode([(k, MASK if SECRET_QUERY.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    at: float
    status: int | None = None
    response_time: float | None = None
    """Seconds to the full body; None when no response came (timeout, refused…)."""
    error: str = ""


@dataclass(frozen=True)
class HttpCheckStatus:
    """One check as shown and alerted on: its settings (secrets left out), its last
    result and its statistics over the window."""

    name: str
    url: str
    """Masked and redacted."""
    method: str
    expect: str
    """What passes: "2xx or 3xx", or the expected statuses ("200 or 204")."""
    body_match: str | None
    header_names: tuple[str, ...]
    interval: float
    timeout: float
    window: float
    state: str
    """up, down or pending (never checked yet)."""
    status: int | None = None
    response_time: float | None = None
    error: str = ""
    checked_at: float | None = None
    latency_avg: float | None = None
    latency_p95: float | None = None
    latency_p99: float | None = None
    error_rate: float | None = None
    consecutive_failures: int = 0
    samples: int = 0
    failures: int = 0
    recent: tuple[float, ...] = ()
    """The last RECENT response times, oldest first."""

    def metrics(self) -> dict[str, float]:
        if self.state == PENDING:
            return {}
        values: dict[str, float | None] = {
            "up": 1.0 if self.state == UP else 0.0,
            "response_time": self.response_time,
            "latency_avg": self.latency_avg,
            "latency_p95": self.latency_p95,
            "latency_p99": self.latency_p99,
            "error_rate": self.error_rate,
            "consecutive_failures": float(self.consecutive_failures),
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class HttpChecksSnapshot(Snapshot):
    checks: tuple[HttpCheckStatus, ...]

    def count(self, state: str) -> int:
        return sum(1 for c in self.checks if c.state == state)

    def metrics(self) -> Mapping[str, float]:
        """`<check>.<key>` per check, and (keys without a dot, so no check name can
        collide) the fleet figures the view's summary sparklines draw."""
        out: dict[str, float] = {}
        for check in self.checks:
            out.update({f"{check.name}.{k}": v for k, v in check.metrics().items()})
        out["checks_up"] = float(self.count(UP))
        out["checks_down"] = float(self.count(DOWN))
        times = [c.response_time for c in self.checks if c.response_time is not None]
        if times:
            out["response_time_max"] = max(times)
        return out

    def alert_samples(self, provider: str) -> Iterable[Sample]:
        """http.<check>.<key>{check="<check>"}: one rule covers every check."""
        return [Sample(f"{provider}.{check.name}.{key}", labels_of(check=check.name), value, self.taken_at)
                for check in self.checks for key, value in check.metrics().items()]

"""The `prometheus` provider: configured PromQL queries as series.

Each poll runs every configured query as an instant query, concurrently; each
result series becomes a PromSeries (and, through PrometheusSnapshot.alert_samples,
the rule input `prometheus.<name>{labels}`). This is how stacktop scales past
what it polls itself: Prometheus already scrapes the fleet.

The sparkline needs history, and waiting an hour of polls for one would be
useless, so the first successful poll of each query also asks /api/v1/query_range
for the configured range; later polls append their instant value. A query that
fails is one problem line and the others still count; only when every query
fails does the poll fail (the runtime then shows the provider as failing).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from config.model import PrometheusQuerySettings, PrometheusSettings
from providers.alerts.http_api import ApiError, JsonApi, one_line
from providers.alerts.model import Labels, PrometheusSnapshot, PromSeries
from providers.base import Provider

MAX_POINTS = 500
"""History kept per series (and the most a backfill asks for)."""


class PrometheusError(Exception):
    """One line: what failed and what to fix."""


@dataclass(frozen=True, slots=True)
class Point:
    labels: Labels
    at: float
    value: float


@dataclass(slots=True)
class _Outcome:
    series: list[PromSeries]
    problems: list[str]
    failed: bool = False


def _labels(metric: Any) -> Labels:
    """A result's labels, sorted, without __name__ (as Prometheus drops it from alerts)."""
    if not isinstance(metric, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in metric.items() if k != "__name__"))


def _number(pair: Any) -> tuple[float, float] | None:
    """[timestamp, "value"] -> (timestamp, value); None when malformed, NaN or infinite."""
    try:
        at, raw = float(pair[0]), float(pair[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (at, raw) if math.isfinite(raw) and math.isfinite(at) else None


def parse_instant(name: str, data: Any) -> list[Point]:
    """The points of an instant query's `data`; PrometheusError for a result type a
    series cannot come from (a range vector or a string)."""
    if not isinstance(data, dict):
        raise PrometheusError(f"query {name}: the answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "vector":
        points = []
        for item in result or ():
            number = _number(item.get("value") if isinstance(item, dict) else None)
            if number is not None:
                points.append(Point(_labels(item.get("metric")), *number))
        return points
    if kind == "scalar":
        number = _number(result)
        return [Point((), *number)] if number is not None else []
    if kind == "matrix":
        raise PrometheusError(f"query {name} returns a range vector; use an instant expression "
                              "(drop the [range] selector or wrap it in a function like rate())")
    if kind == "string":
        raise PrometheusError(f"query {name} returns a string, not a number")
    raise PrometheusError(f"query {name}: unknown result type {kind!r}")


def parse_range(data: Any) -> dict[Labels, list[tuple[float, float]]]:
    """A range query's matrix as labels -> [(time, value)], non-finite values skipped."""
    out: dict[Labels, list[tuple[float, float]]] = {}
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        return out
    for item in data.get("result") or ():
        if not isinstance(item, dict):
            continue
        points = [n for n in (_number(p) for p in item.get("values") or ()) if n is not None]
        out[_labels(item.get("metric"))] = points
    return out


def _duration(seconds: float) -> str:
    """Seconds as Prometheus reads them in query parameters ("30s", "0.5s" is fine there)."""
    return f"{seconds:g}s"


class PrometheusProvider(Provider):
    def __init__(self, settings: PrometheusSettings, *, redact: Callable[[str], str] = str,
                 clock: Callable[[], float] = time.time) -> None:
        # The instant and the backfill queries run side by side, each bounded by
        # settings.timeout: the poll as a whole gets a little more, so a slow query
        # is reported as that query's problem rather than the whole poll timing out.
        super().__init__("prometheus", settings.interval, settings.timeout + 2.0)
        self.settings = settings
        self._api = JsonApi(settings.url, timeout=settings.timeout, username=settings.username,
                            password=settings.password, bearer_token=settings.bearer_token,
                            redact=redact)
        self._clock = clock
        self._history: dict[str, dict[Labels, deque[tuple[float, float]]]] = {}

    @property
    def url(self) -> str:
        return self._api.url

    async def close(self) -> None:
        await self._api.close()

    # -- the API ---------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        answer = await self._api.request("GET", path, params=params)
        if not isinstance(answer, dict) or answer.get("status") != "success":
            error = answer.get("error") if isinstance(answer, dict) else None
            raise ApiError(one_line(error) if error else f"GET {path} answered without a result")
        return answer.get("data")

    async def _instant(self, expr: str) -> Any:
        return await self._get("/api/v1/query", {"query": expr, "timeout": _duration(self.settings.timeout)})

    async def query(self, expr: str, name: str = "") -> list[PromSeries]:
        """An ad-hoc instant query: its series (no history); PrometheusError with one line."""
        label = name or expr
        try:
            data = await self._instant(expr)
        except ApiError as exc:
            raise PrometheusError(self._api.clean(f"query {one_line(label, 60)}: {exc}")) from None
        return [PromSeries(name, p.labels, p.value) for p in parse_instant(one_line(label, 60), data)]

    async def query_range(self, expr: str, start: float, end: float, step: float
                          ) -> dict[Labels, list[tuple[float, float]]]:
        """Points per series between start and end; ApiError with one line."""
        data = await self._get("/api/v1/query_range", {
            "query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": _duration(step),
            "timeout": _duration(self.settings.timeout)})
        return parse_range(data)

    # -- polling ---------------------------------------------------------------

    async def poll(self) -> PrometheusSnapshot:
        now = self._clock()
        queries = self.settings.queries
        if not queries:
            return PrometheusSnapshot(taken_at=now, url=self.url, problems=(
                "no queries configured: add providers.prometheus.queries (name and query)",))
        outcomes = await asyncio.gather(*(self._poll_query(q, now) for q in queries))
        if all(o.failed for o in outcomes):
            raise PrometheusError(self._all_failed([o.problems[0] for o in outcomes]))
        return PrometheusSnapshot(taken_at=now, url=self.url,
                                  series=tuple(s for o in outcomes for s in o.series),
                                  problems=tuple(p for o in outcomes for p in o.problems))

    def _all_failed(self, lines: Sequence[str]) -> str:
        """One line: the shared reason once (Prometheus is down), else each query's."""
        reasons = {line.split(": ", 1)[-1] for line in lines}
        if len(reasons) == 1:
            return f"Prometheus at {self.url}: {reasons.pop()}"
        return f"Prometheus at {self.url}: every query failed: " + "; ".join(lines)

    async def _poll_query(self, q: PrometheusQuerySettings, now: float) -> _Outcome:
        """This query's series and problem lines; `failed` when the instant query gave nothing."""
        backfill = q.name not in self._history
        range_task = asyncio.ensure_future(self._backfill(q, now)) if backfill else None
        try:
            data = await self._instant(q.query)
            points = parse_instant(q.name, data)
        except (ApiError, PrometheusError) as exc:
            if range_task is not None:
                range_task.cancel()
                await asyncio.gather(range_task, return_exceptions=True)
            line = f"query {q.name}: {exc}" if isinstance(exc, ApiError) else str(exc)
            return _Outcome([], [self._api.clean(line)], failed=True)
        problems: list[str] = []
        history = self._history.get(q.name, {})
        if range_task is not None:
            filled = await range_task
            if isinstance(filled, str):
                problems.append(filled)  # no history this time; the next poll tries again
            else:
                history = filled
        kept: dict[Labels, deque[tuple[float, float]]] = {}
        series = []
        for p in points:
            points_of = history.get(p.labels) or deque(maxlen=MAX_POINTS)
            if not points_of or p.at > points_of[-1][0]:
                points_of.append((p.at, p.value))
            kept[p.labels] = points_of
            series.append(PromSeries(q.name, p.labels, p.value, tuple(t for t, _ in points_of),
                                     tuple(v for _, v in points_of)))
        if not problems:
            self._history[q.name] = kept  # a series gone from the result drops its history
        return _Outcome(series, problems)

    async def _backfill(self, q: PrometheusQuerySettings, now: float
                        ) -> dict[Labels, deque[tuple[float, float]]] | str:
        """History over the query's range (at most MAX_POINTS steps), or a problem line."""
        if q.range <= 0:
            return {}
        step = max(q.step, q.range / (MAX_POINTS - 1), 0.001)
        try:
            found = await self.query_range(q.query, now - q.range, now, step)
        except ApiError as exc:
            return self._api.clean(f"query {q.name}: no history ({exc})")
        return {labels: deque(points, maxlen=MAX_POINTS) for labels, points in found.items()}

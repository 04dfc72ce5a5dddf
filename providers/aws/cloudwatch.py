"""CloudWatch GetMetricData in batches of up to 500 queries per call.

Each resource's recent history comes back as a MetricWindow: the sparkline in
the detail pane shows CloudWatch's own history at once, not only what was
seen since stacktop started, and 10,000 instances cost 60 calls, not 30,000.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.aws.records import MetricWindow

MAX_QUERIES_PER_CALL = 500


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric of a resource kind: our short name, CloudWatch's name and statistic."""

    name: str
    namespace: str
    metric: str
    stat: str
    unit: str  # how the UI formats it: percent | bytes | rate (bytes/s) | count | seconds
    per_second: bool = False  # a Sum over the period, shown as a rate


EC2_METRICS = (
    MetricSpec("cpu", "AWS/EC2", "CPUUtilization", "Average", "percent"),
    MetricSpec("net_in", "AWS/EC2", "NetworkIn", "Sum", "rate", per_second=True),
    MetricSpec("net_out", "AWS/EC2", "NetworkOut", "Sum", "rate", per_second=True),
)
RDS_METRICS = (
    MetricSpec("cpu", "AWS/RDS", "CPUUtilization", "Average", "percent"),
    MetricSpec("connections", "AWS/RDS", "DatabaseConnections", "Average", "count"),
    MetricSpec("free_storage", "AWS/RDS", "FreeStorageSpace", "Average", "bytes"),
    MetricSpec("replica_lag", "AWS/RDS", "ReplicaLag", "Average", "seconds"),
)
ELB_METRICS = (
    MetricSpec("requests", "AWS/ApplicationELB", "RequestCount", "Sum", "count"),
    MetricSpec("errors_5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", "count"),
)
S3_SIZE = MetricSpec("size", "AWS/S3", "BucketSizeBytes", "Average", "bytes")
S3_OBJECTS = MetricSpec("objects", "AWS/S3", "NumberOfObjects", "Average", "count")
S3_PERIOD = 86400  # S3 storage metrics are daily
S3_WINDOW = 3 * 86400


@dataclass(frozen=True, slots=True)
class MetricQuery:
    resource: str  # the record's key
    spec: MetricSpec
    dimensions: tuple[tuple[str, str], ...]


def queries_for(resource: str, specs: Iterable[MetricSpec],
                dimensions: tuple[tuple[str, str], ...]) -> list[MetricQuery]:
    return [MetricQuery(resource, spec, dimensions) for spec in specs]


def fetch_windows(
    client: Any, queries: Sequence[MetricQuery], *, start: float, end: float, period: int,
) -> dict[str, dict[str, MetricWindow]]:
    """{resource key: {metric name: window}} for every query that returned data."""
    out: dict[str, dict[str, MetricWindow]] = {}
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        batch = queries[first:first + MAX_QUERIES_PER_CALL]
        points: dict[str, tuple[list[float], list[float]]] = {}
        kwargs: dict[str, Any] = {
            "MetricDataQueries": [_query(f"m{i}", q, period) for i, q in enumerate(batch)],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            page = client.get_metric_data(**kwargs)
            for result in page.get("MetricDataResults", ()):
                times, values = points.setdefault(result["Id"], ([], []))
                times.extend(t.timestamp() for t in result.get("Timestamps", ()))
                values.extend(float(v) for v in result.get("Values", ()))
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
        for ident, (times, values) in points.items():
            if not values:
                continue
            query = batch[int(ident[1:])]
            if query.spec.per_second:
                values = [v / period for v in values]
            ordered = sorted(zip(times, values, strict=True))
            out.setdefault(query.resource, {})[query.spec.name] = MetricWindow(
                query.spec.name, query.spec.unit,
                tuple(t for t, _ in ordered), tuple(v for _, v in ordered),
            )
    return out


def _query(ident: str, query: MetricQuery, period: int) -> Mapping[str, Any]:
    return {
        "Id": ident,
        "MetricStat": {
            "Metric": {
                "Namespace": query.spec.namespace,
                "MetricName": query.spec.metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in query.dimensions],
            },
            "Period": period,
            "Stat": query.spec.stat,
        },
        "ReturnData": True,
    }


def aligned_window(now: float, period: float, window: float) -> tuple[float, float]:
    """Start and end on period boundaries, so each poll asks for the same buckets."""
    end = math.floor(now / period) * period + period
    return end - window - period, end

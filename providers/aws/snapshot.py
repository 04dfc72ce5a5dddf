"""One AWS service's inventory across every account and region, plus the
fleet figures (running instances, average CPU…) the store keeps as series."""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from providers.aws.records import (
    AwsRecord,
    EbsVolume,
    Ec2Instance,
    LambdaFunction,
    LoadBalancer,
    PartitionStatus,
    RdsInstance,
    S3Bucket,
)
from providers.base import Sample, Snapshot, labels_of


@dataclass(frozen=True)
class AwsSnapshot(Snapshot):
    """`items` of one service (all accounts and regions); `partitions` says which
    account/region answered, and why the others did not."""

    service: str
    items: tuple[AwsRecord, ...]
    partitions: tuple[PartitionStatus, ...]

    @property
    def errors(self) -> tuple[PartitionStatus, ...]:
        return tuple(p for p in self.partitions if not p.ok)

    def metrics(self) -> Mapping[str, float]:
        return fleet_metrics(self.service, self.items)

    def alert_samples(self, provider: str) -> list[Sample]:
        """The fleet figures (aws.ec2.cpu.avg) and, per resource, the newest value of each
        CloudWatch metric it has (aws.ec2.cpu{account, region, instance, name})."""
        out = list(super().alert_samples(provider))
        noun = RESOURCE_LABEL.get(self.service, "resource")
        for item in self.items:
            windows = getattr(item, "metrics", None) or {}
            if not windows:
                continue
            labels = labels_of(account=getattr(item, "account", ""), region=getattr(item, "region", ""),
                               name=getattr(item, "name", ""), **{noun: getattr(item, "id", "")})
            for key, window in windows.items():
                last = window.last()
                if last is not None:
                    out.append(Sample(f"{provider}.{key}", labels, last, self.taken_at))
        return out

    def fleet_history(self, key: str) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        """CloudWatch's own history of a fleet figure (e.g. "cpu.avg"), bucket by bucket,
        so a summary sparkline is full as soon as the view opens instead of growing one
        point per poll. None for figures CloudWatch has no history of (counts)."""
        cache = self._history_cache
        if key not in cache:
            rule = FLEET_HISTORY.get(self.service, {}).get(key)
            cache[key] = _aggregate(self.items, *rule) if rule else None
        return cache[key]

    @functools.cached_property
    def _history_cache(self) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]] | None]:
        return {}


RESOURCE_LABEL = {"ec2": "instance", "ebs": "volume", "rds": "instance", "s3": "bucket",
                  "lambda": "function", "elb": "load_balancer"}
"""The label naming one resource of a service in its alert samples."""

# fleet figure -> (the records' metric window, how windows combine at each timestamp)
FLEET_HISTORY: dict[str, dict[str, tuple[str, str]]] = {
    "ec2": {"cpu.avg": ("cpu", "mean"), "net.in_bytes_per_s": ("net_in", "sum"),
            "net.out_bytes_per_s": ("net_out", "sum")},
    "rds": {"cpu.avg": ("cpu", "mean"), "connections": ("connections", "sum"),
            "replica_lag.max": ("replica_lag", "max")},
    "elb": {"requests": ("requests", "sum"), "errors_5xx": ("errors_5xx", "sum")},
}
_COMBINE = {"mean": statistics.fmean, "sum": math.fsum, "max": max}


def _aggregate(items: Iterable[object], window: str, how: str
               ) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    buckets: dict[float, list[float]] = {}
    for item in items:
        found = getattr(item, "metrics", {}).get(window)
        if found is None:
            continue
        for when, value in zip(found.times, found.values, strict=True):
            buckets.setdefault(when, []).append(value)
    if not buckets:
        return None
    times = tuple(sorted(buckets))
    return times, tuple(_COMBINE[how](buckets[t]) for t in times)


def _last_values(items: Iterable[object], metric: str) -> list[float]:
    """The newest CloudWatch value of `metric` of each item that has one."""
    return [v for i in items if (w := getattr(i, "metrics", {}).get(metric)) and (v := w.last()) is not None]


def _mean_last(items: Iterable[object], metric: str) -> float | None:
    values = _last_values(items, metric)
    return statistics.fmean(values) if values else None


def _sum_last(items: Iterable[object], metric: str) -> float | None:
    values = _last_values(items, metric)
    return math.fsum(values) if values else None


def fleet_metrics(service: str, items: tuple[AwsRecord, ...]) -> dict[str, float]:
    """Figures for the summary sparklines at the top of each view."""
    out: dict[str, float | None] = {}
    if service == "ec2":
        ec2 = [i for i in items if isinstance(i, Ec2Instance)]
        running = [i for i in ec2 if i.state == "running"]
        out = {
            "instances": len(ec2),
            "running": len(running),
            "stopped": sum(1 for i in ec2 if i.state == "stopped"),
            "cpu.avg": _mean_last(running, "cpu"),
            "net.in_bytes_per_s": _sum_last(running, "net_in"),
            "net.out_bytes_per_s": _sum_last(running, "net_out"),
        }
    elif service == "ebs":
        ebs = [i for i in items if isinstance(i, EbsVolume)]
        out = {
            "volumes": len(ebs),
            "size_gib": sum(v.size_gib for v in ebs),
            "unattached": sum(1 for v in ebs if v.state == "available"),
        }
    elif service == "rds":
        rds = [i for i in items if isinstance(i, RdsInstance)]
        out = {
            "instances": len(rds),
            "cpu.avg": _mean_last(rds, "cpu"),
            "connections": _sum_last(rds, "connections"),
            "replica_lag.max": max(_last_values(rds, "replica_lag"), default=None),
        }
    elif service == "s3":
        s3 = [i for i in items if isinstance(i, S3Bucket)]
        sizes = [b.size_bytes for b in s3 if b.size_bytes is not None]
        out = {"buckets": len(s3), "size_bytes": sum(sizes) if sizes else None}
    elif service == "lambda":
        out = {"functions": sum(1 for i in items if isinstance(i, LambdaFunction))}
    elif service == "elb":
        lbs = [i for i in items if isinstance(i, LoadBalancer)]
        out = {
            "load_balancers": len(lbs),
            "requests": _sum_last(lbs, "requests"),
            "errors_5xx": _sum_last(lbs, "errors_5xx"),
            "unhealthy_targets": sum(lb.unhealthy for lb in lbs),
        }
    return {k: float(v) for k, v in out.items() if v is not None}

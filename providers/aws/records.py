"""Plain, frozen records of AWS resources: what the views show and snapshots print.

Every record carries its account and region, and `key` ("account/region/id")
is unique across the whole estate, so tables keep their selection across polls.
Times are UTC epoch seconds; sizes are bytes unless the name says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class MetricWindow:
    """CloudWatch's own recent history of one metric of one resource."""

    name: str
    unit: str  # "percent" | "bytes" | "count" | "seconds"
    times: tuple[float, ...] = ()
    values: tuple[float, ...] = ()

    def last(self) -> float | None:
        return self.values[-1] if self.values else None


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    """How one account and region of one service fared in the last poll."""

    account: str
    region: str
    ok: bool
    items: int
    error: str | None = None
    fetched_at: float | None = None  # wall clock of the data shown (older when failing)


@dataclass(frozen=True, slots=True)
class Ec2Instance:
    account: str
    region: str
    id: str
    name: str
    type: str
    state: str
    az: str
    private_ip: str
    public_ip: str
    launch_time: float | None
    platform: str
    state_reason: str = ""
    state_since: float | None = None  # when it stopped, parsed from the transition reason
    volume_ids: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    tags: Tags = ()
    metrics: Mapping[str, MetricWindow] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.id}"


@dataclass(frozen=True, slots=True)
class EbsVolume:
    account: str
    region: str
    id: str
    name: str
    size_gib: int
    type: str
    iops: int | None
    state: str
    instance_id: str
    device: str
    encrypted: bool
    created: float | None
    tags: Tags = ()

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.id}"


@dataclass(frozen=True, slots=True)
class RdsInstance:
    account: str
    region: str
    id: str
    engine: str
    engine_version: str
    instance_class: str
    status: str
    multi_az: bool
    allocated_gib: int
    endpoint: str
    replica_of: str = ""  # the source instance's id (or ARN across regions)
    replicas: tuple[str, ...] = ()
    encrypted: bool = False
    publicly_accessible: bool = False
    tags: Tags = ()
    metrics: Mapping[str, MetricWindow] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.id}"

    @property
    def free_storage_bytes(self) -> float | None:
        window = self.metrics.get("free_storage")
        return window.last() if window else None


@dataclass(frozen=True, slots=True)
class S3Bucket:
    account: str
    region: str  # the bucket's own region
    name: str
    created: float | None
    size_bytes: float | None = None  # CloudWatch BucketSizeBytes (daily); never by listing
    objects: float | None = None

    @property
    def key(self) -> str:
        return f"{self.account}/{self.name}"


@dataclass(frozen=True, slots=True)
class LambdaFunction:
    account: str
    region: str
    name: str
    runtime: str
    memory_mb: int
    timeout_s: int
    last_modified: float | None
    code_size: int = 0

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"


@dataclass(frozen=True, slots=True)
class TargetGroupHealth:
    name: str
    healthy: int
    unhealthy: int
    other: int  # initial, draining, unused, unavailable


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    account: str
    region: str
    name: str
    arn: str
    type: str
    state: str
    dns: str
    scheme: str
    target_groups: tuple[TargetGroupHealth, ...] = ()
    metrics: Mapping[str, MetricWindow] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.account}/{self.region}/{self.name}"

    @property
    def healthy(self) -> int:
        return sum(t.healthy for t in self.target_groups)

    @property
    def unhealthy(self) -> int:
        return sum(t.unhealthy for t in self.target_groups)


def tag_value(tags: Tags, key: str) -> str:
    return next((v for k, v in tags if k == key), "")


AwsRecord = Ec2Instance | EbsVolume | RdsInstance | S3Bucket | LambdaFunction | LoadBalancer

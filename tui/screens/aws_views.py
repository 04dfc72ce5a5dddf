"""What each AWS view shows, declared as data per service: its columns, how a
record becomes a row, the detail pane's facts and sparklines, the fleet
sparklines at the top, and what an action's target is. Adding a service is
one `ServiceView` here, not a new screen class.

Everything here is plain functions of records: no Textual, easy to test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from providers.aws.action_specs import ACTIONS_BY_SERVICE, TARGET_KIND
from providers.aws.records import (
    EbsVolume,
    Ec2Instance,
    LambdaFunction,
    LoadBalancer,
    MetricWindow,
    PartitionStatus,
    RdsInstance,
    S3Bucket,
    Tags,
    tag_value,
)
from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionTarget, Snapshot
from widgets.detail_pane import Field, SparkSpec
from widgets.formatting import human_age, human_bytes, human_duration, human_number, human_rate, percent
from widgets.resource_table import Column

# -- shared helpers -------------------------------------------------------------


def format_unit(value: float | None, unit: str) -> str:
    """A metric's value in its unit: 41.5%, 1.2 GB, 3.0 MB/s, 12, 3.4s, 250 GiB."""
    if value is None:
        return "—"
    if unit == "percent":
        return percent(value)
    if unit == "bytes":
        return human_bytes(value)
    if unit == "rate":
        return human_rate(value)
    if unit == "seconds":
        return f"{value:.1f}s" if value < 60 else human_duration(value)
    if unit == "gib":
        return f"{human_number(round(value))} GiB"
    return human_number(round(value, 1))


def age_of(then: float | None, now: float) -> float | None:
    """Seconds since `then`, rounded down to the unit an age cell shows (3d, 5h…),
    so a row's value changes only when its cell does: no repaint per poll."""
    if then is None:
        return None
    seconds = max(0.0, now - then)
    for size in (86400, 3600, 60):
        if seconds >= size:
            return float(seconds // size * size)
    return float(int(seconds))


def ago(then: float | None, now: float) -> str:
    """`2026-11-06 14:02 UTC (12d ago)`; "—" when unknown."""
    if then is None:
        return "—"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(then))
    return f"{stamp} ({human_age(max(0.0, now - then))} ago)"


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def tags_text(tags: Tags, skip: str = "Name") -> str:
    """`env=prod · team=shop`: every tag but the one the title already shows."""
    shown = [f"{k}={v}" for k, v in tags if k != skip]
    return " · ".join(shown) if shown else "none"


def short_az(az: str, region: str) -> str:
    """`a` for us-east-1a next to a region column that already says us-east-1."""
    return az[len(region):] if az.startswith(region) and len(az) > len(region) else az


def metric_series(
    metrics: Mapping[str, MetricWindow], sparks: Sequence[SparkSpec]
) -> list[tuple[Sequence[float], str]]:
    """(values, last value in its unit) per detail sparkline; "—" for a missing window."""
    out: list[tuple[Sequence[float], str]] = []
    for spark in sparks:
        window = metrics.get(spark.key)
        if window is None or not window.values:
            out.append(((), "—"))
        else:
            out.append((window.values, format_unit(window.last(), window.unit)))
    return out


def _attached_severity(value: Any) -> str | None:
    """EBS: an unattached volume costs money for nothing."""
    return {"in-use": "ok", "available": "warn", "creating": "warn", "deleting": "warn",
            "error": "error"}.get(str(value))


def _count_severity(value: Any) -> str | None:
    return "error" if value else None


# -- what every view declares ----------------------------------------------------


@dataclass(frozen=True)
class FleetSpark:
    """A summary sparkline over the store series `aws.<service>.<series>`."""

    series: str
    label: str
    unit: str = "count"
    warn: float | None = None
    critical: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ServiceView:
    """One AWS view: everything it shows, as data."""

    service: str
    noun: str
    columns: tuple[Column, ...]
    to_row: Callable[[Any, float], tuple[Any, ...]]
    """(record, now) -> values in `columns` order."""
    detail: Callable[[Any, float], tuple[str, list[Field]]]
    """(record, now) -> (title, facts) for the detail pane."""
    fleet: tuple[FleetSpark, ...]
    sparks: tuple[SparkSpec, ...] = ()
    """One per metric window the records carry (the detail pane's sparklines)."""
    sort_key: str = "name"
    sort_reverse: bool = False
    drop_order: tuple[str, ...] = ()
    """Columns given up first when the terminal is too narrow for all of them."""
    target: Callable[[Any], ActionTarget] | None = None

    @property
    def provider(self) -> str:
        return f"aws.{self.service}"

    @property
    def action_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in ACTIONS_BY_SERVICE.get(self.service, ()))


def column_widths(columns: Sequence[Column], width: int) -> list[int]:
    """The widths ResourceTable will give `columns` in `width` cells (same arithmetic)."""
    fixed = sum(c.width for c in columns if c.width is not None)
    flexible = [c for c in columns if c.width is None]
    spare = max(0, width - fixed - max(0, len(columns) - 1))
    total_flex = sum(c.flex for c in flexible) or 1
    return [c.width if c.width is not None else max(c.min_width, spare * c.flex // total_flex)
            for c in columns]


def fit_columns(view: ServiceView, width: int) -> tuple[int, ...]:
    """Indices of the columns that fit in `width` cells, giving them up in
    `drop_order`: 80 columns show the essentials whole, rather than every
    column with the last ones cut off at the right edge."""
    keep = list(range(len(view.columns)))
    for key in view.drop_order:
        cols = [view.columns[i] for i in keep]
        if sum(column_widths(cols, width)) + len(cols) - 1 <= width:
            break
        keep = [i for i in keep if view.columns[i].key != key]
    return tuple(keep)


# -- EC2 -------------------------------------------------------------------------

EC2_COLUMNS = (
    Column("account", "Account", min_width=7, hotkey="A"),
    Column("region", "Region", width=9, hotkey="R"),
    Column("name", "Name", min_width=12, flex=2, hotkey="N"),
    Column("id", "ID", width=19, hotkey="I"),
    Column("type", "Type", width=10, hotkey="T"),
    Column("state", "State", width=8, kind="status", hotkey="E"),
    Column("az", "AZ", width=2),
    Column("private_ip", "Private IP", width=15, hotkey="P"),
    Column("public_ip", "Public IP", width=15),
    Column("cpu", "CPU%", width=6, kind="percent", hotkey="C"),
    Column("launched", "Launched", width=8, kind="age", hotkey="L"),
)


def instance_name(i: Ec2Instance) -> str:
    return i.name or tag_value(i.tags, "Name") or i.id


def ec2_row(i: Ec2Instance, now: float) -> tuple[Any, ...]:
    cpu = i.metrics.get("cpu")
    return (i.account, i.region, i.name or tag_value(i.tags, "Name"), i.id, i.type, i.state,
            short_az(i.az, i.region), i.private_ip, i.public_ip, cpu.last() if cpu else None,
            age_of(i.launch_time, now))


def ec2_detail(i: Ec2Instance, now: float) -> tuple[str, list[Field]]:
    state = i.state if i.state_since is None else f"{i.state} for {human_age(now - i.state_since)}"
    fields: list[Field] = [
        ("Type", f"{i.type} · {i.platform or 'linux'} · {i.az}"),
        ("Address", f"{i.private_ip or '—'} private · {i.public_ip or 'no'} public"),
        ("Tags", tags_text(i.tags)),
        ("Volumes", ", ".join(i.volume_ids) or "none"),
        ("Sec. groups", ", ".join(i.security_groups) or "none"),
        ("Launched", ago(i.launch_time, now)),
    ]
    if i.state_reason:
        fields.append(("Reason", i.state_reason))
    return f"{instance_name(i)} · {i.id} · {i.account}/{i.region} · {state}", fields


def ec2_target(i: Ec2Instance) -> ActionTarget:
    return ActionTarget(
        kind=TARGET_KIND["ec2"], id=i.key, name=instance_name(i),
        details={"account": i.account, "region": i.region, "instance_id": i.id, "state": i.state},
    )


CPU_SPARK = SparkSpec("cpu", "CPU", warn=70, critical=90, maximum=100)

EC2 = ServiceView(
    "ec2", "EC2 instances", EC2_COLUMNS, ec2_row, ec2_detail,
    fleet=(
        FleetSpark("running", "Running"),
        FleetSpark("cpu.avg", "Avg CPU", "percent", warn=70, critical=90, maximum=100),
        FleetSpark("net.in_bytes_per_s", "Net in", "rate"),
        FleetSpark("net.out_bytes_per_s", "Net out", "rate"),
    ),
    sparks=(CPU_SPARK, SparkSpec("net_in", "Net in"), SparkSpec("net_out", "Net out")),
    drop_order=("launched", "public_ip", "private_ip", "az", "type"),
    target=ec2_target,
)

# -- EBS -------------------------------------------------------------------------

EBS_COLUMNS = (
    Column("account", "Account", min_width=7, hotkey="A"),
    Column("region", "Region", width=9, hotkey="R"),
    Column("id", "ID", width=21, hotkey="I"),
    Column("name", "Name", min_width=10, flex=3, hotkey="N"),
    Column("size", "GiB", width=5, kind="number", hotkey="G"),
    Column("type", "Type", width=4, hotkey="T"),
    Column("iops", "IOPS", width=6, kind="number"),
    Column("state", "State", width=9, kind="status", hotkey="E", severity=_attached_severity),
    Column("instance", "Instance", width=19),
    Column("device", "Device", width=9),
    Column("encrypted", "Enc", width=3),
    Column("created", "Created", width=7, kind="age", hotkey="C"),
)


def ebs_row(v: EbsVolume, now: float) -> tuple[Any, ...]:
    return (v.account, v.region, v.id, v.name, v.size_gib, v.type, v.iops, v.state, v.instance_id,
            v.device, yes_no(v.encrypted), age_of(v.created, now))


def ebs_detail(v: EbsVolume, now: float) -> tuple[str, list[Field]]:
    iops = f" · {human_number(v.iops)} IOPS" if v.iops else ""
    attached = (f"{v.instance_id} as {v.device or '?'}" if v.instance_id
                else "not attached (billed while unused)")
    return f"{v.name or v.id} · {v.id} · {v.account}/{v.region} · {v.state}", [
        ("Volume", f"{v.size_gib} GiB {v.type}{iops} · {'encrypted' if v.encrypted else 'not encrypted'}"),
        ("Attached", attached),
        ("Tags", tags_text(v.tags)),
        ("Created", ago(v.created, now)),
    ]


EBS = ServiceView(
    "ebs", "EBS volumes", EBS_COLUMNS, ebs_row, ebs_detail,
    fleet=(
        FleetSpark("volumes", "Volumes"),
        FleetSpark("size_gib", "Provisioned", "gib"),
        FleetSpark("unattached", "Unattached", warn=1),
    ),
    sort_key="state",  # unattached ("available") first: they cost money for nothing
    drop_order=("device", "created", "iops", "encrypted", "type", "name"),
)

# -- RDS -------------------------------------------------------------------------

RDS_COLUMNS = (
    Column("account", "Account", min_width=7, hotkey="A"),
    Column("region", "Region", width=9, hotkey="R"),
    Column("id", "ID", min_width=12, flex=2, hotkey="I"),
    Column("engine", "Engine", width=14, hotkey="G"),
    Column("class", "Class", width=13, hotkey="L"),
    Column("status", "Status", width=10, kind="status", hotkey="T"),
    Column("multi_az", "MAZ", width=3),
    Column("storage", "GiB", width=5, kind="number"),
    Column("free", "Free", width=9, kind="bytes", hotkey="F"),
    Column("connections", "Conns", width=5, kind="number", hotkey="C"),
    Column("replication", "Replication", min_width=12, flex=3),
)


def replication_text(r: RdsInstance) -> str:
    """`replica of orders-db`, or the replicas of a primary: `→ orders-db-replica-1`."""
    if r.replica_of:
        return f"replica of {r.replica_of}"
    if r.replicas:
        return "→ " + ", ".join(r.replicas)
    return ""


def rds_row(r: RdsInstance, now: float) -> tuple[Any, ...]:
    connections = r.metrics.get("connections")
    return (r.account, r.region, r.id, f"{r.engine} {r.engine_version}", r.instance_class, r.status,
            yes_no(r.multi_az), r.allocated_gib, r.free_storage_bytes,
            connections.last() if connections else None, replication_text(r))


def rds_detail(r: RdsInstance, now: float) -> tuple[str, list[Field]]:
    free = r.free_storage_bytes
    storage = f"{r.allocated_gib} GiB allocated"
    if free is not None:
        storage += f" · {human_bytes(free)} free"
    storage += " · encrypted" if r.encrypted else " · not encrypted"
    fields: list[Field] = [
        ("Engine", f"{r.engine} {r.engine_version} · {r.instance_class}"),
        ("Endpoint", r.endpoint or "—"),
        ("Storage", storage),
        ("Availability", f"{'Multi-AZ' if r.multi_az else 'single AZ'}"
                         f"{' · publicly accessible' if r.publicly_accessible else ''}"),
    ]
    if r.replica_of:
        fields.append(("Replica of", r.replica_of))
    if r.replicas:
        fields.append(("Replicas", ", ".join(r.replicas)))
    fields.append(("Tags", tags_text(r.tags)))
    return f"{r.id} · {r.account}/{r.region} · {r.status}", fields


def rds_target(r: RdsInstance) -> ActionTarget:
    return ActionTarget(
        kind=TARGET_KIND["rds"], id=r.key, name=r.id,
        details={"account": r.account, "region": r.region, "db_instance_id": r.id, "state": r.status},
    )


RDS = ServiceView(
    "rds", "RDS databases", RDS_COLUMNS, rds_row, rds_detail,
    fleet=(
        FleetSpark("cpu.avg", "Avg CPU", "percent", warn=70, critical=90, maximum=100),
        FleetSpark("connections", "Connections"),
        FleetSpark("replica_lag.max", "Max replica lag", "seconds", warn=30, critical=300),
    ),
    sparks=(CPU_SPARK, SparkSpec("connections", "Connections"), SparkSpec("free_storage", "Free storage"),
            SparkSpec("replica_lag", "Replica lag", warn=30, critical=300)),
    sort_key="id",
    drop_order=("multi_az", "storage", "free", "class", "engine"),
    target=rds_target,
)

# -- S3 --------------------------------------------------------------------------

S3_COLUMNS = (
    Column("account", "Account", min_width=7, flex=2, hotkey="A"),
    Column("region", "Region", width=14, hotkey="R"),
    Column("name", "Name", min_width=16, flex=10, hotkey="N"),
    Column("created", "Created", width=7, kind="age", hotkey="C"),
    Column("size", "Size", width=9, kind="bytes", hotkey="Z"),
    Column("objects", "Objects", width=8, kind="number", hotkey="O"),
)


def s3_row(b: S3Bucket, now: float) -> tuple[Any, ...]:
    return (b.account, b.region, b.name, age_of(b.created, now), b.size_bytes,
            None if b.objects is None else round(b.objects))


def s3_detail(b: S3Bucket, now: float) -> tuple[str, list[Field]]:
    return f"{b.name} · {b.account}/{b.region}", [
        ("Region", b.region),
        ("Created", ago(b.created, now)),
        ("Size", human_bytes(b.size_bytes) if b.size_bytes is not None else "— (CloudWatch, daily)"),
        ("Objects", human_number(b.objects) if b.objects is not None else "—"),
    ]


S3 = ServiceView(
    "s3", "S3 buckets", S3_COLUMNS, s3_row, s3_detail,
    fleet=(FleetSpark("buckets", "Buckets"), FleetSpark("size_bytes", "Stored", "bytes")),
    drop_order=("objects", "created"),
)

# -- Lambda ----------------------------------------------------------------------

LAMBDA_COLUMNS = (
    Column("account", "Account", min_width=7, flex=2, hotkey="A"),
    Column("region", "Region", width=9, hotkey="R"),
    Column("name", "Name", min_width=16, flex=10, hotkey="N"),
    Column("runtime", "Runtime", width=12, hotkey="U"),
    Column("memory", "MB", width=5, kind="number", hotkey="M"),
    Column("timeout", "Timeout", width=7, kind="duration", hotkey="T"),
    Column("modified", "Modified", width=8, kind="age", hotkey="D"),
)


def lambda_row(f: LambdaFunction, now: float) -> tuple[Any, ...]:
    return (f.account, f.region, f.name, f.runtime, f.memory_mb, f.timeout_s,
            age_of(f.last_modified, now))


def lambda_detail(f: LambdaFunction, now: float) -> tuple[str, list[Field]]:
    return f"{f.name} · {f.account}/{f.region}", [
        ("Runtime", f.runtime or "—"),
        ("Memory", f"{f.memory_mb} MB · timeout {human_duration(f.timeout_s)}"),
        ("Code size", human_bytes(f.code_size)),
        ("Modified", ago(f.last_modified, now)),
    ]


LAMBDA = ServiceView(
    "lambda", "Lambda functions", LAMBDA_COLUMNS, lambda_row, lambda_detail,
    fleet=(FleetSpark("functions", "Functions"),),
    drop_order=("modified", "timeout"),
)

# -- ELB -------------------------------------------------------------------------

ELB_COLUMNS = (
    Column("account", "Account", min_width=7, hotkey="A"),
    Column("region", "Region", width=9, hotkey="R"),
    Column("name", "Name", min_width=12, flex=2, hotkey="N"),
    Column("type", "Type", width=11, hotkey="T"),
    Column("state", "State", width=8, kind="status", hotkey="E"),
    Column("scheme", "Scheme", width=15),
    Column("dns", "DNS", min_width=20, flex=2),
    Column("healthy", "OK", width=3, kind="number", hotkey="O"),
    Column("unhealthy", "Bad", width=3, kind="status", align="right", severity=_count_severity,
           hotkey="B"),
    Column("requests", "Requests", width=8, kind="number", hotkey="Q"),
    Column("errors", "5xx", width=5, kind="number", hotkey="X"),
)


def elb_row(lb: LoadBalancer, now: float) -> tuple[Any, ...]:
    requests, errors = lb.metrics.get("requests"), lb.metrics.get("errors_5xx")
    return (lb.account, lb.region, lb.name, lb.type, lb.state, lb.scheme, lb.dns, lb.healthy,
            lb.unhealthy, requests.last() if requests else None, errors.last() if errors else None)


def elb_detail(lb: LoadBalancer, now: float) -> tuple[str, list[Field]]:
    fields: list[Field] = [
        ("Type", f"{lb.type} · {lb.scheme}"),
        ("DNS", lb.dns or "—"),
    ]
    for tg in lb.target_groups:
        other = f", {tg.other} other" if tg.other else ""
        fields.append(("Target group", f"{tg.name}: {tg.healthy} healthy, {tg.unhealthy} unhealthy{other}"))
    if not lb.target_groups:
        fields.append(("Target group", "none"))
    fields.append(("ARN", lb.arn))
    return f"{lb.name} · {lb.account}/{lb.region} · {lb.state}", fields


ELB = ServiceView(
    "elb", "load balancers", ELB_COLUMNS, elb_row, elb_detail,
    fleet=(
        FleetSpark("requests", "Requests"),
        FleetSpark("errors_5xx", "5xx errors", warn=1),
        FleetSpark("unhealthy_targets", "Unhealthy targets", warn=1),
    ),
    sparks=(SparkSpec("requests", "Requests"), SparkSpec("errors_5xx", "5xx errors", warn=1)),
    drop_order=("dns", "scheme", "type", "requests"),
)

SERVICES: dict[str, ServiceView] = {v.service: v for v in (EC2, EBS, RDS, S3, LAMBDA, ELB)}

# -- partitions ------------------------------------------------------------------


def _where(p: PartitionStatus) -> str:
    return p.account if p.region == "global" else f"{p.account}/{p.region}"


def _listed(parts: Sequence[PartitionStatus], limit: int = 4) -> str:
    names = [_where(p) for p in parts[:limit]]
    return ", ".join(names) + (f" and {len(parts) - limit} more" if len(parts) > limit else "")


def partition_line(snapshot: AwsSnapshot | None, poll_error: str | None) -> tuple[str, bool]:
    """One line saying which accounts/regions answered, and why the others did not.

    Returns (text, problem): `2 accounts · 4 regions ok`, or
    `3/4 answered · staging/eu-west-1: access denied … (data 5m old)`.
    """
    if snapshot is None:
        if poll_error:
            return f"no answer yet: {poll_error}", True
        return "waiting for the first answer from AWS…", False
    parts = snapshot.partitions
    failed = [p for p in parts if not p.ok]
    warned = [p for p in parts if p.ok and p.error]
    accounts = len({p.account for p in parts})
    regions = len({p.region for p in parts if p.region != "global"})
    where = f"{accounts} account{'s' if accounts != 1 else ''}"
    if regions:
        where += f" · {regions} region{'s' if regions != 1 else ''}"
    prefix = f"last poll failed: {poll_error} · " if poll_error else ""
    if failed:
        first = failed[0]
        text = f"{prefix}{len(parts) - len(failed)}/{len(parts)} answered · {_where(first)}: {first.error}"
        if first.fetched_at is not None:
            text += f" (data {human_age(max(0.0, snapshot.taken_at - first.fetched_at))} old)"
        if len(failed) > 1:
            text += f" · +{len(failed) - 1} more failing"
        return text, True
    if not parts:
        return f"{prefix}no accounts or regions to read", bool(poll_error)
    text = f"{prefix}{where} ok"
    if warned:
        text += f" · {_where(warned[0])}: {warned[0].error}"
    return text, bool(poll_error)


def empty_text(view: ServiceView, snapshot: AwsSnapshot | None, poll_error: str | None) -> str:
    """Why a view has no rows: where we looked, and where we could not."""
    if snapshot is None:
        return f"no data yet: {poll_error}" if poll_error else f"waiting for {view.noun}…"
    answered = [p for p in snapshot.partitions if p.ok]
    failed = [p for p in snapshot.partitions if not p.ok]
    if not snapshot.partitions:
        return f"no {view.noun}: no accounts or regions configured"
    text = f"no {view.noun} in {_listed(answered)}" if answered else f"no {view.noun}"
    if failed:
        text += f"; {_listed(failed)} did not answer"
    return text


def partition_problem(snapshot: Snapshot | None) -> str | None:
    """The first failing account/region of an AWS snapshot, for the status line."""
    if not isinstance(snapshot, AwsSnapshot) or not snapshot.errors:
        return None
    first = snapshot.errors[0]
    more = f" (+{len(snapshot.errors) - 1} more)" if len(snapshot.errors) > 1 else ""
    return f"{_where(first)}: {first.error}{more}"

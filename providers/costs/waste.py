"""The idle and waste finder: what one account and region pays for and does not use.

`scan_partition` reads the partition (EC2 instances, volumes, addresses, snapshots,
images, RDS instances, load balancers and one batched CloudWatch GetMetricData of
daily values) and hands the answers to pure rule functions, one per kind of waste,
which the unit tests drive with API-shaped dicts. Every finding carries what was
measured (evidence), what the resource costs a month and what the suggested action
saves, both estimated from the price table (providers/costs/prices.py).

Savings never count the same dollar twice: an instance that is both lightly used and
of a previous generation gets its downsize suggested in the current generation, and
its previous-generation finding then saves nothing of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config.model import BackupTargetSettings, WasteSettings
from providers.aws.cloudwatch import MetricQuery, MetricSpec, fetch_windows
from providers.costs.action_specs import DELETE_VOLUME, RELEASE_ADDRESS
from providers.costs.model import Finding, FindingKind
from providers.costs.prices import PriceTable

DAY = 86400
CPU_DAYS = 14
"""Low utilisation is judged over the last 14 whole days (UTC)."""

AWS_BACKUP_DESCRIPTION = "This snapshot is created by the AWS Backup service"
DLM_DESCRIPTION = "Created for policy: policy-"
DLM_TAG = "aws:dlm:lifecycle-policy-id"
AWS_BACKUP_TAG_PREFIX = "aws:backup:"
STACKTOP_TARGET_TAG = "stacktop-target"
"""Set by the Backups tab's "backup now" on the snapshots it takes."""

# "User initiated (2026-11-20 10:11:12 GMT)": when an instance stopped.
_STOP_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")

CPU = MetricSpec("cpu", "AWS/EC2", "CPUUtilization", "Average", "percent")
DB_CONNECTIONS = MetricSpec("connections", "AWS/RDS", "DatabaseConnections", "Maximum", "count")
ALB_REQUESTS = MetricSpec("traffic", "AWS/ApplicationELB", "RequestCount", "Sum", "count")
NLB_FLOWS = MetricSpec("traffic", "AWS/NetworkELB", "NewFlowCount", "Sum", "count")
TRAFFIC = {"application": (ALB_REQUESTS, "requests"), "network": (NLB_FLOWS, "new flows")}

SnapshotKeeper = Callable[[Mapping[str, Any]], "str | None"]
Daily = Mapping[str, Sequence["float | None"]]
"""Resource id -> one value per whole UTC day of the window, oldest first; None: no data."""


def _keeps_nothing(_snapshot: Mapping[str, Any]) -> str | None:
    return None


# --------------------------------------------------------------------------- small parts

def parse_stop_time(reason: str | None) -> float | None:
    """When an instance stopped, from its StateTransitionReason
    ("User initiated (2026-09-20 10:11:12 GMT)"); None when the text has no time."""
    match = _STOP_TIME.search(reason or "")
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def epoch(value: Any) -> float | None:
    """A boto3 datetime (or ISO text) as epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.timestamp() if parsed.tzinfo else parsed.replace(tzinfo=UTC).timestamp()
    return None


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def money(value: float) -> float:
    """Cents, rounded half up (0.0225 x 730 = 16.425 is 16.43, as a person would round it)."""
    return math.floor(value * 100 + 0.5 + 1e-7) / 100


def _tags(raw: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t.get("Key", "")): str(t.get("Value", "")) for t in raw or ()}


def _percent(value: float) -> str:
    return f"{value:g} %"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Largest monthly saving first, then by kind and id: the order the table shows."""
    return sorted(findings, key=lambda f: (-f.monthly_savings, f.kind.value, f.resource_id))


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What every rule needs besides the resources: where, the thresholds, the prices, when."""

    account: str
    region: str
    settings: WasteSettings
    prices: PriceTable
    now: float

    @property
    def currency(self) -> str:
        return self.prices.currency

    def usd(self, value: float) -> str:
        return f"{value:.2f} {self.currency}"

    def days_ago(self, ts: float) -> int:
        return max(0, int((self.now - ts) // DAY))

    def finding(self, kind: FindingKind, resource_id: str, name: str, *, reason: str, evidence: str,
                cost: float, savings: float, action: str, action_id: str = "",
                details: Iterable[tuple[str, Any]] = ()) -> Finding:
        note = self.prices.region_note(self.region)
        if note:
            evidence = f"{evidence}; {note}"
        return Finding(kind=kind, resource_id=resource_id, name=name or resource_id, account=self.account,
                       region=self.region, reason=reason, evidence=evidence, monthly_cost=money(cost),
                       monthly_savings=money(savings), action=action, action_id=action_id,
                       details=tuple((k, str(v)) for k, v in details if v not in (None, "")))


def _volume_cost(ctx: ScanContext, volume: Mapping[str, Any]) -> float | None:
    return ctx.prices.ebs_volume_month(ctx.region, str(volume.get("VolumeType", "")),
                                       float(volume.get("Size", 0) or 0), iops=volume.get("Iops"),
                                       throughput=volume.get("Throughput"))


def _volume_text(volume: Mapping[str, Any]) -> str:
    text = f"{volume.get('Size', 0)} GB {volume.get('VolumeType', '?')}"
    if volume.get("VolumeType") in ("io1", "io2") and volume.get("Iops"):
        text += f" {volume['Iops']} IOPS"
    return text


# --------------------------------------------------------------------------- the rules

def unattached_volumes(volumes: Iterable[Mapping[str, Any]], ctx: ScanContext) -> list[Finding]:
    """Volumes in state "available": attached to nothing, billed in full."""
    out = []
    for vol in volumes:
        if vol.get("State") != "available":
            continue
        vid = str(vol["VolumeId"])
        cost = _volume_cost(ctx, vol)
        created = epoch(vol.get("CreateTime"))
        age = f"created {ctx.days_ago(created)} days ago" if created is not None else "creation time unknown"
        priced = (f"{ctx.usd(cost)} a month" if cost is not None
                  else f"type {vol.get('VolumeType')} not in the price table")
        out.append(ctx.finding(
            FindingKind.UNATTACHED_VOLUME, vid, _tags(vol.get("Tags")).get("Name", ""),
            reason=f"unattached ({age})",
            evidence=f"{_volume_text(vol)} in state available, attached to nothing: {priced}",
            cost=cost or 0.0, savings=cost or 0.0,
            action="delete the volume (snapshot it first if unsure)", action_id=DELETE_VOLUME.id,
            details=[("volume_id", vid), ("size_gb", vol.get("Size")), ("type", vol.get("VolumeType")),
                     ("iops", vol.get("Iops") if vol.get("VolumeType") in ("io1", "io2", "gp3") else None),
                     ("created", day_of(created) if created is not None else None),
                     ("zone", vol.get("AvailabilityZone"))]))
    return out


def unassociated_addresses(addresses: Iterable[Mapping[str, Any]], ctx: ScanContext) -> list[Finding]:
    """Elastic IPs with no association: AWS bills an idle address by the hour."""
    out = []
    hourly = ctx.prices.eip_hourly(ctx.region)
    for address in addresses:
        if address.get("AssociationId"):
            continue
        ip = str(address.get("PublicIp", ""))
        allocation = str(address.get("AllocationId", "") or "")
        cost = ctx.prices.monthly(hourly)
        out.append(ctx.finding(
            FindingKind.UNASSOCIATED_EIP, allocation or ip, ip,
            reason="not associated with an instance or network interface",
            evidence=f"idle Elastic IP: {hourly:g} {ctx.currency}/h x {ctx.prices.hours_per_month:g} h",
            cost=cost, savings=cost, action="release the address",
            action_id=RELEASE_ADDRESS.id if allocation else "",
            details=[("allocation_id", allocation), ("public_ip", ip), ("domain", address.get("Domain"))]))
    return out


def stopped_instances(instances: Iterable[Mapping[str, Any]], volumes: Mapping[str, Mapping[str, Any]],
                      ctx: ScanContext) -> list[Finding]:
    """Instances stopped for stopped_days or more: no compute charge, but their volumes bill on.
    An instance whose stop time cannot be read is not reported (no guessing)."""
    out = []
    for inst in instances:
        if inst.get("State", {}).get("Name") != "stopped":
            continue
        stopped = parse_stop_time(inst.get("StateTransitionReason"))
        if stopped is None or ctx.now - stopped < ctx.settings.stopped_days * DAY:
            continue
        iid = str(inst["InstanceId"])
        attached = [volumes[m["Ebs"]["VolumeId"]] for m in inst.get("BlockDeviceMappings", ())
                    if m.get("Ebs", {}).get("VolumeId") in volumes]
        costs = [_volume_cost(ctx, v) for v in attached]
        cost = sum(c for c in costs if c is not None)
        unpriced = [str(v.get("VolumeType")) for v, c in zip(attached, costs, strict=True) if c is None]
        listed = ", ".join(f"{v['VolumeId']} {_volume_text(v)}" for v in attached) or "no volumes"
        evidence = (f"stopped since {day_of(stopped)}; {len(attached)} volume(s), "
                    f"{sum(int(v.get('Size', 0) or 0) for v in attached)} GB still billed: {listed}")
        if unpriced:
            evidence += f" (types not in the price table: {', '.join(sorted(set(unpriced)))})"
        out.append(ctx.finding(
            FindingKind.STOPPED_INSTANCE, iid, _tags(inst.get("Tags")).get("Name", ""),
            reason=f"stopped {ctx.days_ago(stopped)} days ago",
            evidence=evidence, cost=cost, savings=cost,
            action="snapshot and terminate, or delete its volumes",
            details=[("instance_id", iid), ("type", inst.get("InstanceType")), ("stopped", day_of(stopped)),
                     ("volumes", " ".join(str(v["VolumeId"]) for v in attached))]))
    return out


def image_snapshot_ids(images: Iterable[Mapping[str, Any]]) -> set[str]:
    """Snapshots that back an AMI: deleting them would break the image."""
    return {str(m["Ebs"]["SnapshotId"]) for image in images for m in image.get("BlockDeviceMappings", ())
            if m.get("Ebs", {}).get("SnapshotId")}


def managed_by(snapshot: Mapping[str, Any]) -> str | None:
    """AWS Backup or Data Lifecycle Manager made it, and they delete it by their own policy."""
    tags = _tags(snapshot.get("Tags"))
    description = str(snapshot.get("Description", "") or "")
    if any(k.startswith(AWS_BACKUP_TAG_PREFIX) for k in tags) \
            or description.startswith(AWS_BACKUP_DESCRIPTION):
        return "AWS Backup"
    if DLM_TAG in tags or description.startswith(DLM_DESCRIPTION):
        return "Data Lifecycle Manager"
    return None


def old_snapshots(snapshots: Iterable[Mapping[str, Any]], image_snapshots: set[str],
                  keeps_snapshot: SnapshotKeeper, ctx: ScanContext) -> list[Finding]:
    """Snapshots older than snapshot_days that no AMI, AWS Backup, DLM or backups target keeps."""
    out = []
    price = ctx.prices.snapshot_gb_month(ctx.region)
    for snap in snapshots:
        started = epoch(snap.get("StartTime"))
        sid = str(snap["SnapshotId"])
        if started is None or ctx.now - started < ctx.settings.snapshot_days * DAY:
            continue
        if sid in image_snapshots or managed_by(snap) or keeps_snapshot(snap):
            continue
        size = int(snap.get("VolumeSize", 0) or 0)
        cost = size * price
        out.append(ctx.finding(
            FindingKind.OLD_SNAPSHOT, sid, _tags(snap.get("Tags")).get("Name", ""),
            reason=f"{ctx.days_ago(started)} days old, kept by nothing",
            evidence=(f"taken {day_of(started)} of {snap.get('VolumeId') or 'a volume'} ({size} GB); no AMI, "
                      "AWS Backup, DLM or backups target keeps it; cost is an upper bound: snapshots are "
                      "incremental and may store less than the volume size"),
            cost=cost, savings=cost, action="delete the snapshot if nothing restores from it",
            details=[("snapshot_id", sid), ("volume_id", snap.get("VolumeId")), ("size_gb", size),
                     ("started", day_of(started)), ("description", snap.get("Description"))]))
    return out


def _last(values: Sequence[float | None] | None, days: int) -> list[float | None]:
    values = list(values or ())
    return values[-days:] if days > 0 else []


def idle_databases(databases: Iterable[Mapping[str, Any]], connections: Daily,
                   ctx: ScanContext) -> list[Finding]:
    """Available RDS instances at least idle_days old whose daily maximum of
    DatabaseConnections was 0 on each of the last idle_days days (a day without data
    is not proof of idleness: such instances are not reported)."""
    out = []
    days = ctx.settings.idle_days
    for db in databases:
        if db.get("DBInstanceStatus") != "available":
            continue
        ident = str(db["DBInstanceIdentifier"])
        created = epoch(db.get("InstanceCreateTime"))
        if created is None or ctx.now - created < days * DAY:
            continue
        window = _last(connections.get(ident), days)
        if len(window) < days or any(v is None or v > 0 for v in window):
            continue
        multi = bool(db.get("MultiAZ"))
        klass, engine = str(db.get("DBInstanceClass", "")), str(db.get("Engine", ""))
        hourly = ctx.prices.rds_hourly(ctx.region, klass, engine, multi_az=multi)
        storage_type = str(db.get("StorageType", "gp2") or "gp2")
        size = int(db.get("AllocatedStorage", 0) or 0)
        per_gb = ctx.prices.rds_storage_gb_month(ctx.region, storage_type, multi_az=multi)
        cost = ctx.prices.monthly(hourly or 0.0) + size * (per_gb or 0.0)
        what = f"{klass} {engine}{' Multi-AZ' if multi else ''}"
        priced = (f"{hourly:g} {ctx.currency}/h" if hourly is not None
                  else "instance class not in the price table")
        out.append(ctx.finding(
            FindingKind.IDLE_RDS, ident, ident,
            reason=f"no connections for {days} days",
            evidence=(f"DatabaseConnections daily maximum 0 on each of the last {days} days; "
                      f"{what} ({priced}) + {size} GB {storage_type}"),
            cost=cost, savings=cost, action="stop or delete after a final snapshot",
            details=[("db_instance", ident), ("class", klass), ("engine", engine),
                     ("multi_az", "yes" if multi else "no"), ("storage_gb", size),
                     ("storage_type", storage_type)]))
    return out


@dataclass(frozen=True, slots=True)
class GroupHealth:
    """One target group of a load balancer: how many targets, how many healthy."""

    name: str
    targets: int
    healthy: int


def idle_load_balancers(balancers: Iterable[Mapping[str, Any]], groups: Mapping[str, Sequence[GroupHealth]],
                        traffic: Daily, ctx: ScanContext) -> list[Finding]:
    """Load balancers at least idle_days old with no healthy target in any target group,
    or (ALB requests, NLB new flows) fewer than lb_min_requests on each of the last
    idle_days days; a day without data counts as none (CloudWatch omits zero counts)."""
    out = []
    days, floor = ctx.settings.idle_days, ctx.settings.lb_min_requests
    for lb in balancers:
        if lb.get("State", {}).get("Code") == "failed":
            continue
        arn, kind = str(lb["LoadBalancerArn"]), str(lb.get("Type", ""))
        created = epoch(lb.get("CreatedTime"))
        if created is None or ctx.now - created < days * DAY:
            continue
        tgs = groups.get(arn, ())
        healthy = sum(g.healthy for g in tgs)
        reasons, evidence = [], []
        if healthy == 0:
            reasons.append("no healthy targets")
            registered = sum(g.targets for g in tgs)
            evidence.append(f"no healthy target ({len(tgs)} target group(s), {registered} target(s) "
                            "registered)" if tgs else "no target group")
        if kind in TRAFFIC:
            what = TRAFFIC[kind][1]
            window = [v or 0.0 for v in _last(traffic.get(arn), days)]
            window = [0.0] * (days - len(window)) + window
            if all(v < floor for v in window):
                reasons.append(f"fewer than {floor} {what} a day")
                evidence.append(f"fewer than {floor} {what} a day on each of the last {days} days "
                                f"(busiest day {max(window, default=0.0):g})")
        if not reasons:
            continue
        hourly = ctx.prices.lb_hourly(ctx.region, kind)
        cost = ctx.prices.monthly(hourly or 0.0)
        if hourly is None:
            evidence.append(f"type {kind or '?'} not in the price table")
        name = str(lb.get("LoadBalancerName", ""))
        out.append(ctx.finding(
            FindingKind.IDLE_LB, arn, name, reason=" and ".join(reasons), evidence="; ".join(evidence),
            cost=cost, savings=cost,
            action="delete the load balancer (check DNS records that point at it first)",
            details=[("load_balancer", name), ("type", kind), ("dns", lb.get("DNSName")),
                     ("target_groups", " ".join(g.name for g in tgs))]))
    return out


def instance_findings(instances: Iterable[Mapping[str, Any]], cpu: Daily, ctx: ScanContext) -> list[Finding]:
    """Low-utilisation (running) and previous-generation (running or stopped) instances.

    Low CPU: the daily average was at most low_cpu_percent on at least low_cpu_days of
    the last 14 days that have data; one size down is suggested, in the current
    generation for a previous-generation type. That instance's previous-generation
    finding then saves nothing itself (the downsize already counts the difference).
    A stopped instance pays no compute: its previous-generation finding saves 0 too.
    """
    out = []
    limit, needed = ctx.settings.low_cpu_percent, ctx.settings.low_cpu_days
    for inst in instances:
        state = inst.get("State", {}).get("Name")
        if state not in ("running", "stopped"):
            continue
        iid, itype = str(inst["InstanceId"]), str(inst.get("InstanceType", ""))
        name = _tags(inst.get("Tags")).get("Name", "")
        hourly = ctx.prices.ec2_hourly(ctx.region, itype)
        current = ctx.prices.current_generation(itype)
        current_hourly = ctx.prices.ec2_hourly(ctx.region, current) if current else None
        downsized_to: str | None = None
        if state == "running":
            measured = [v for v in _last(cpu.get(iid), CPU_DAYS) if v is not None]
            low = [v for v in measured if v <= limit]
            if measured and len(low) >= needed:
                base = current if current and current_hourly is not None else itype
                target = ctx.prices.smaller(base)
                target_hourly = ctx.prices.ec2_hourly(ctx.region, target) if target else None
                evidence = (f"CPU ≤ {_percent(limit)} on {len(low)} of {len(measured)} days "
                            f"(mean {sum(measured) / len(measured):.1f} %)")
                if hourly is not None and target and target_hourly is not None:
                    saving = ctx.prices.monthly(max(0.0, hourly - target_hourly))
                    downsized_to = target
                    action = f"resize to {target}"
                    evidence += f"; {itype} {hourly:g} → {target} {target_hourly:g} {ctx.currency}/h"
                else:
                    saving = 0.0
                    action = "consider a smaller instance type, or stopping it when idle"
                    evidence += (f"; {itype} not in the price table" if hourly is None
                                 else f"; no smaller size of {base} in the price table")
                out.append(ctx.finding(
                    FindingKind.LOW_CPU_EC2, iid, name,
                    reason=f"CPU ≤ {_percent(limit)} on {len(low)} of the last {len(measured)} days",
                    evidence=evidence, cost=ctx.prices.monthly(hourly or 0.0), savings=saving, action=action,
                    details=[("instance_id", iid), ("type", itype), ("suggested_type", downsized_to)]))
        if current is None:
            continue
        cost = ctx.prices.monthly(hourly or 0.0) if state == "running" else 0.0
        saving = 0.0
        if current_hourly is None or hourly is None:
            evidence = f"{current if hourly is not None else itype} not in the price table"
        elif state == "stopped":
            evidence = "stopped: no compute charge while stopped"
            if current_hourly < hourly:
                evidence += (f"; running, {current} would cost "
                             f"{ctx.usd(ctx.prices.monthly(hourly - current_hourly))} a month less")
        elif downsized_to:
            evidence = f"saving counted in the low-utilisation finding (resize to {downsized_to})"
        elif current_hourly < hourly:
            saving = ctx.prices.monthly(hourly - current_hourly)
            evidence = f"{itype} {hourly:g} → {current} {current_hourly:g} {ctx.currency}/h"
        elif current_hourly == hourly:
            evidence = "same price, better performance"
        else:
            more = ctx.usd(ctx.prices.monthly(current_hourly - hourly))
            evidence = f"{current} costs {more} a month more, for better performance"
        out.append(ctx.finding(
            FindingKind.PREVIOUS_GENERATION, iid, name,
            reason=f"previous-generation type {itype}", evidence=evidence, cost=cost, savings=saving,
            action=(f"resize to {downsized_to} (see its low-utilisation finding)" if downsized_to
                    else f"move to {current} (stop, change the instance type, start)"),
            details=[("instance_id", iid), ("type", itype), ("suggested_type", current), ("state", state)]))
    return out


# --------------------------------------------------------------------------- reading AWS

def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    if client.can_paginate(operation):
        return [item for page in client.get_paginator(operation).paginate(**kwargs)
                for item in page.get(key, ())]
    return list(getattr(client, operation)(**kwargs).get(key, ()))


def _daily(windows: Mapping[str, Mapping[str, Any]], metric: str, start: float, days: int) -> dict[str, list]:
    out: dict[str, list[float | None]] = {}
    for resource, metrics in windows.items():
        window = metrics.get(metric)
        if window is None:
            continue
        values: list[float | None] = [None] * days
        for ts, value in zip(window.times, window.values, strict=True):
            index = int((ts - start) // DAY)
            if 0 <= index < days:
                values[index] = value
        out[resource] = values
    return out


def lb_dimension(arn: str) -> str:
    """CloudWatch's LoadBalancer dimension: "app/name/id" from the ARN."""
    return arn.split(":loadbalancer/", 1)[-1]


def scan_partition(clients: Callable[[str], Any], *, account: str, region: str, settings: WasteSettings,
                   prices: PriceTable, now: float,
                   keeps_snapshot: SnapshotKeeper = _keeps_nothing) -> list[Finding]:
    """Every finding of one account and region, largest saving first.

    Blocking (run it in a worker thread); raises the first API error, which the
    provider turns into one line for this partition. CloudWatch is asked once, for
    daily values (period 86400, whole UTC days up to today 00:00)."""
    ctx = ScanContext(account, region, settings, prices, now)
    ec2 = clients("ec2")
    instances = [i for r in _pages(ec2, "describe_instances", "Reservations") for i in r.get("Instances", ())]
    gone = ("terminated", "shutting-down")
    instances = [i for i in instances if i.get("State", {}).get("Name") not in gone]
    volumes = {str(v["VolumeId"]): v for v in _pages(ec2, "describe_volumes", "Volumes")}
    addresses = ec2.describe_addresses().get("Addresses", [])
    snapshots = _pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"])
    images = _pages(ec2, "describe_images", "Images", Owners=["self"])
    databases = _pages(clients("rds"), "describe_db_instances", "DBInstances")
    elbv2 = clients("elbv2")
    balancers = _pages(elbv2, "describe_load_balancers", "LoadBalancers")
    groups: dict[str, list[GroupHealth]] = {}
    if balancers:
        for group in _pages(elbv2, "describe_target_groups", "TargetGroups"):
            if not group.get("LoadBalancerArns"):
                continue
            states = [d.get("TargetHealth", {}).get("State") for d in elbv2.describe_target_health(
                TargetGroupArn=group["TargetGroupArn"]).get("TargetHealthDescriptions", ())]
            health = GroupHealth(str(group.get("TargetGroupName", "")), len(states),
                                 sum(1 for s in states if s == "healthy"))
            for arn in group["LoadBalancerArns"]:
                groups.setdefault(arn, []).append(health)

    days = max(CPU_DAYS, settings.idle_days)
    end = math.floor(now / DAY) * DAY
    start = end - days * DAY
    queries = [MetricQuery(str(i["InstanceId"]), CPU, (("InstanceId", str(i["InstanceId"])),))
               for i in instances if i.get("State", {}).get("Name") == "running"]
    queries += [MetricQuery(str(d["DBInstanceIdentifier"]), DB_CONNECTIONS,
                            (("DBInstanceIdentifier", str(d["DBInstanceIdentifier"])),))
                for d in databases if d.get("DBInstanceStatus") == "available"]
    queries += [MetricQuery(str(lb["LoadBalancerArn"]), TRAFFIC[lb["Type"]][0],
                            (("LoadBalancer", lb_dimension(str(lb["LoadBalancerArn"]))),))
                for lb in balancers if lb.get("Type") in TRAFFIC]
    windows = (fetch_windows(clients("cloudwatch"), queries, start=start, end=end, period=DAY)
               if queries else {})

    findings = unattached_volumes(volumes.values(), ctx)
    findings += unassociated_addresses(addresses, ctx)
    findings += stopped_instances(instances, volumes, ctx)
    findings += old_snapshots(snapshots, image_snapshot_ids(images), keeps_snapshot, ctx)
    findings += idle_databases(databases, _daily(windows, "connections", start, days), ctx)
    findings += idle_load_balancers(balancers, groups, _daily(windows, "traffic", start, days), ctx)
    findings += instance_findings(instances, _daily(windows, "cpu", start, days), ctx)
    return sort_findings(findings)


# --------------------------------------------------------------------------- backups targets

def snapshot_keeper(targets: Sequence[BackupTargetSettings], *, account: str, region: str,
                    home_region: str | None = None) -> SnapshotKeeper:
    """A keeps_snapshot predicate from the configured backups targets: an EBS target of
    this account and region keeps the snapshots it lists (its volume_id, or all its
    tags), and a snapshot the Backups tab took (tag stacktop-target) is kept while that
    target is configured. `home_region` is the account's first region, where a target
    without a region looks. Returns why a snapshot is kept, or None."""
    names = {t.name for t in targets}
    ebs = [t for t in targets if t.source.kind == "ebs" and t.source.account in (None, account)
           and (t.source.region or home_region) in (None, region)]

    def keeps(snapshot: Mapping[str, Any]) -> str | None:
        tags = _tags(snapshot.get("Tags"))
        for target in ebs:
            src = target.source
            if not src.volume_id and not src.tags:
                continue
            if src.volume_id and snapshot.get("VolumeId") != src.volume_id:
                continue
            if all(tags.get(k) == v for k, v in src.tags):  # the Backups tab lists with both filters
                return f"backups target {target.name}"
        if tags.get(STACKTOP_TARGET_TAG) in names:
            return f"backups target {tags[STACKTOP_TARGET_TAG]}"
        return None

    return keeps

"""A fleet with exactly known waste, for the waste finder's tests and the Costs demo.

`seed_waste` creates, in a moto server, one account and region's worth of resources:
the waste the finder must report (each with its expected monthly saving, at the
bundled price table's prices) and clean look-alikes it must NOT report (an attached
volume, an associated address, a recently stopped instance, young or kept snapshots,
a busy and a young database, a load balancer with healthy targets and traffic, busy
and current-generation instances). It writes 15 days of daily CloudWatch points.

Ages ("stopped 63 days ago", "snapshot taken 120 days ago") cannot be set through
the AWS API, so the backdating helpers below reach into moto's backends and change
the timestamps in place. That only works when moto runs IN THIS PROCESS (a
``moto.server.ThreadedMotoServer``, as tests/support/aws.py MotoServer and the demo
start it); against a separate moto_server process they raise
InProcessMotoRequired. moto keeps naive UTC datetimes; so do these helpers.

No Textual here: tests and the demo backend both use it.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from config.model import BackupSourceSettings, BackupTargetSettings
from providers.costs.model import FindingKind
from providers.costs.prices import PriceTable
from providers.costs.waste import money

DAY = 86400
DEFAULT_ACCOUNT = "123456789012"  # moto's default account: any key its IAM does not know
SEED_ACCESS_KEY = "AKIASTACKTOPCOSTS001"
SEED_SECRET_KEY = "stacktop-costs-seed-not-a-real-key"
IMAGE_ID = "ami-0a1b2c3d4e5f60718"
METRIC_DAYS = 15
"""Daily points from 14 days ago to today: the 14-day CPU window, and today's point
keeps the last idle day covered after the demo's clock passes midnight."""
_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60,
                 disable_request_compression=True)


class InProcessMotoRequired(RuntimeError):
    """Backdating needs moto's backends in this process (ThreadedMotoServer)."""


# --------------------------------------------------------------------------- what was seeded

@dataclass(frozen=True, slots=True)
class ExpectedFinding:
    kind: FindingKind
    resource_id: str
    name: str
    monthly_savings: float
    why: str
    """The arithmetic, at the bundled table's us-east-1 prices."""


@dataclass
class WasteFleet:
    """What seed_waste created: the findings the finder must report, and the clean
    resources it must not (resource id -> why it is not waste)."""

    endpoint_url: str
    account_id: str
    region: str
    now: float
    expected: tuple[ExpectedFinding, ...] = ()
    clean: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    """Seeded name -> id (volumes, addresses, instances, snapshots, databases, LB ARNs)."""
    kept_volume: str = ""
    """The volume whose snapshots the fleet's backups target keeps (see backup_targets)."""
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def expected_set(self) -> set[tuple[str, str, float]]:
        """{(kind, resource id, monthly savings)}: what tests compare with the scan."""
        return {(f.kind.value, f.resource_id, f.monthly_savings) for f in self.expected}

    def total_savings(self) -> float:
        return money(sum(f.monthly_savings for f in self.expected))

    def backup_targets(self, account: str = "prod") -> tuple[BackupTargetSettings, ...]:
        """The backups target that keeps the "shop-orders" snapshots (account: its
        providers.aws name): build the scan's keeps_snapshot from it."""
        return (BackupTargetSettings(name="shop-orders", source=BackupSourceSettings(
            kind="ebs", account=account, region=self.region, volume_id=self.kept_volume)),)

    def client(self, service: str) -> Any:
        """A (cached) boto3 client acting in this account and region; no retries."""
        if service not in self._clients:
            self._clients[service] = _client(service, self.endpoint_url, self.region, self.credentials)
        return self._clients[service]


_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> Any:
    """One boto3 session for every seeding client: a new session reloads every service model."""
    return boto3.session.Session()


def _client(service: str, endpoint_url: str, region: str, creds: Mapping[str, str]) -> Any:
    with _SESSION_LOCK:  # creating clients from one session is not thread-safe; using them is
        return _session().client(
            service, endpoint_url=endpoint_url, region_name=region, config=_CONFIG,
            aws_access_key_id=creds["aws_access_key_id"],
            aws_secret_access_key=creds["aws_secret_access_key"],
            aws_session_token=creds.get("aws_session_token"))


def _credentials(endpoint_url: str, account_id: str) -> dict[str, str]:
    """Static keys land in moto's default account; any other account is reached by
    AssumeRole on a role ARN in it (moto serves the temporary key from that account)."""
    base = {"aws_access_key_id": SEED_ACCESS_KEY, "aws_secret_access_key": SEED_SECRET_KEY}
    if account_id == DEFAULT_ACCOUNT:
        return base
    sts = _client("sts", endpoint_url, "us-east-1", base)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/stacktop-costs-seed",
                        RoleSessionName="stacktop-costs-seed")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


# --------------------------------------------------------------------------- backdating (in-process moto)

def _naive(when: float) -> datetime:
    return datetime.fromtimestamp(when, UTC).replace(tzinfo=None)


def _backend(service: str, account_id: str, region: str) -> Any:
    try:
        from moto.backends import get_backend
    except ImportError as exc:  # pragma: no cover - moto is a demo/test dependency
        raise InProcessMotoRequired(f"moto is not installed ({exc})") from None
    return get_backend(service)[account_id][region]  # type: ignore[call-overload]


def _missing(what: str, ident: str, account_id: str, region: str) -> InProcessMotoRequired:
    return InProcessMotoRequired(
        f"{what} {ident} is not in this process's moto ({account_id}/{region}): backdating needs an "
        "in-process ThreadedMotoServer")


def backdate_volume(account_id: str, region: str, volume_id: str, created: float) -> None:
    """Set a volume's CreateTime."""
    volume = _backend("ec2", account_id, region).volumes.get(volume_id)
    if volume is None:
        raise _missing("volume", volume_id, account_id, region)
    volume.create_time = _naive(created)


def backdate_snapshot(account_id: str, region: str, snapshot_id: str, started: float) -> None:
    """Set a snapshot's StartTime."""
    snapshot = _backend("ec2", account_id, region).snapshots.get(snapshot_id)
    if snapshot is None:
        raise _missing("snapshot", snapshot_id, account_id, region)
    snapshot.start_time = _naive(started)


def set_stop_time(account_id: str, region: str, instance_id: str, stopped: float) -> None:
    """Rewrite a stopped instance's StateTransitionReason as AWS words it."""
    backend = _backend("ec2", account_id, region)
    instance = next((i for r in backend.reservations.values() for i in r.instances if i.id == instance_id),
                    None)
    if instance is None:
        raise _missing("instance", instance_id, account_id, region)
    instance._reason = f"User initiated ({_naive(stopped):%Y-%m-%d %H:%M:%S} GMT)"


def backdate_db_instance(account_id: str, region: str, identifier: str, created: float) -> None:
    """Set an RDS instance's InstanceCreateTime."""
    database = _backend("rds", account_id, region).databases.get(identifier)
    if database is None:
        raise _missing("DB instance", identifier, account_id, region)
    database.created = database.instance_create_time = _naive(created)


def backdate_load_balancer(account_id: str, region: str, arn: str, created: float) -> None:
    """Set a load balancer's CreatedTime (moto keeps it as ISO text)."""
    balancer = _backend("elbv2", account_id, region).load_balancers.get(arn)
    if balancer is None:
        raise _missing("load balancer", arn, account_id, region)
    balancer.created_time = _naive(created).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --------------------------------------------------------------------------- seeding

class _Seeder:
    def __init__(self, fleet: WasteFleet) -> None:
        self.fleet = fleet
        self.ec2 = fleet.client("ec2")
        self.rds = fleet.client("rds")
        self.elb = fleet.client("elbv2")
        self.cw = fleet.client("cloudwatch")
        self.factor = PriceTable.load().factor(fleet.region)
        self.metrics: list[tuple[str, dict[str, Any]]] = []  # (namespace, datum)
        default = [{"Name": "default-for-az", "Values": ["true"]}]
        subnets = self.ec2.describe_subnets(Filters=default)["Subnets"]
        self.subnets = sorted(subnets, key=lambda s: s["AvailabilityZone"])[:2]
        self.zone = self.subnets[0]["AvailabilityZone"]
        self.vpc = self.subnets[0]["VpcId"]

    # -- bookkeeping
    def ago(self, days: float) -> float:
        return self.fleet.now - days * DAY

    def expect(self, kind: FindingKind, ident: str, name: str, base_saving: float, why: str) -> None:
        saving = money(base_saving * self.factor)
        self.fleet.expected += (ExpectedFinding(kind, ident, name, saving, why),)

    def clean(self, ident: str, why: str) -> None:
        self.fleet.clean[ident] = why

    def name(self, name: str, ident: str) -> str:
        self.fleet.ids[name] = ident
        return ident

    # -- resources
    def instance(self, name: str, itype: str) -> str:
        reply = self.ec2.run_instances(
            ImageId=IMAGE_ID, InstanceType=itype, MinCount=1, MaxCount=1,
            SubnetId=self.subnets[0]["SubnetId"],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}])
        return self.name(name, reply["Instances"][0]["InstanceId"])

    def volume(self, name: str, size: int, vtype: str, *, created_days: float = 0, **extra: Any) -> str:
        vol = self.ec2.create_volume(
            AvailabilityZone=self.zone, Size=size, VolumeType=vtype,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name}]}], **extra)
        vid = self.name(name, vol["VolumeId"])
        if created_days:
            backdate_volume(self.fleet.account_id, self.fleet.region, vid, self.ago(created_days))
        return vid

    def snapshot(self, name: str, volume_id: str, days: float, *, description: str = "",
                 tags: Iterable[tuple[str, str]] = ()) -> str:
        all_tags = [{"Key": "Name", "Value": name}] + [{"Key": k, "Value": v} for k, v in tags]
        snap = self.ec2.create_snapshot(VolumeId=volume_id, Description=description or name,
                                        TagSpecifications=[{"ResourceType": "snapshot", "Tags": all_tags}])
        sid = self.name(name, snap["SnapshotId"])
        backdate_snapshot(self.fleet.account_id, self.fleet.region, sid, self.ago(days))
        return sid

    def stop(self, instance_id: str, days: float) -> None:
        self.ec2.stop_instances(InstanceIds=[instance_id])
        set_stop_time(self.fleet.account_id, self.fleet.region, instance_id, self.ago(days))

    def database(self, name: str, klass: str, *, engine: str = "postgres", storage: int = 20,
                 multi_az: bool = False, created_days: float = 30) -> str:
        self.rds.create_db_instance(
            DBInstanceIdentifier=name, Engine=engine, DBInstanceClass=klass, AllocatedStorage=storage,
            StorageType="gp2", MultiAZ=multi_az, MasterUsername="stacktop",
            MasterUserPassword="costs-demo-password-1")
        backdate_db_instance(self.fleet.account_id, self.fleet.region, name, self.ago(created_days))
        return self.name(name, name)

    def balancer(self, name: str, kind: str, targets: Iterable[str] = (), *, created_days: float = 30) -> str:
        lb = self.elb.create_load_balancer(Name=name, Subnets=[s["SubnetId"] for s in self.subnets],
                                           Type=kind, Scheme="internet-facing")
        arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        protocol, port = ("HTTP", 80) if kind == "application" else ("TCP", 9000)
        group = self.elb.create_target_group(Name=f"{name}-tg", Protocol=protocol, Port=port, VpcId=self.vpc,
                                             TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
        members = [{"Id": t, "Port": port} for t in targets]
        if members:
            self.elb.register_targets(TargetGroupArn=group, Targets=members)
        self.elb.create_listener(LoadBalancerArn=arn, Protocol=protocol, Port=port,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        backdate_load_balancer(self.fleet.account_id, self.fleet.region, arn, self.ago(created_days))
        return self.name(name, arn)

    # -- metrics: one point a day at noon (today: a minute ago, if before noon)
    def daily(self, namespace: str, metric: str, dimension: tuple[str, str], unit: str,
              values: Iterable[float]) -> None:
        """values[0] is 14 days ago ... values[14] today; fewer values: the most recent days only."""
        values = list(values)
        today = math.floor(self.fleet.now / DAY) * DAY
        for back, value in zip(range(len(values) - 1, -1, -1), values, strict=True):
            ts = today - back * DAY + DAY / 2
            if back == 0:
                ts = max(today, min(ts, self.fleet.now - 60))
            self.metrics.append((namespace, {
                "MetricName": metric, "Timestamp": ts, "Value": float(value), "Unit": unit,
                "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}]}))

    def cpu(self, instance_id: str, values: Iterable[float]) -> None:
        self.daily("AWS/EC2", "CPUUtilization", ("InstanceId", instance_id), "Percent", values)

    def connections(self, identifier: str, values: Iterable[float]) -> None:
        self.daily("AWS/RDS", "DatabaseConnections", ("DBInstanceIdentifier", identifier), "Count", values)

    def traffic(self, arn: str, kind: str, per_day: float) -> None:
        namespace, metric = (("AWS/ApplicationELB", "RequestCount") if kind == "application"
                             else ("AWS/NetworkELB", "NewFlowCount"))
        dim = arn.split(":loadbalancer/", 1)[1]
        self.daily(namespace, metric, ("LoadBalancer", dim), "Count", [per_day] * METRIC_DAYS)

    def flush_metrics(self) -> None:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for namespace, datum in self.metrics:
            by_namespace.setdefault(namespace, []).append(datum)
        for namespace, data in sorted(by_namespace.items()):
            for first in range(0, len(data), 20):
                self.cw.put_metric_data(Namespace=namespace, MetricData=data[first:first + 20])
        self.metrics.clear()


def seed_waste(endpoint_url: str, *, account_id: str = DEFAULT_ACCOUNT, region: str = "us-east-1",
               now: float | None = None, waste: bool = True) -> WasteFleet:
    """Seed the fleet into `account_id`/`region` of the moto at `endpoint_url` (which must
    run in this process, for the backdating) and say what the finder must report.

    `waste=False` seeds only the clean resources: a scan must then report nothing.
    Expected savings are the bundled price table's, scaled by the region's factor;
    the scan must use the same `now` and the default WasteSettings."""
    now = time.time() if now is None else now
    fleet = WasteFleet(endpoint_url, account_id, region, now,
                       credentials=_credentials(endpoint_url, account_id))
    s = _Seeder(fleet)
    K = FindingKind
    busy = [50, 55, 48, 62, 51, 47, 58, 60, 53, 49, 57, 52, 50, 54, 56]

    # -- clean: none of these may be reported ----------------------------------------------
    shop = s.instance("shop-web", "m5.large")
    s.cpu(shop, busy)
    s.clean(shop, "current generation, busy (about 50 % CPU)")
    shop_data = s.volume("shop-data", 100, "gp3")
    s.ec2.attach_volume(VolumeId=shop_data, InstanceId=shop, Device="/dev/sdf")
    s.clean(shop_data, "attached to shop-web")
    shop_orders = s.volume("shop-orders", 50, "gp3")
    s.ec2.attach_volume(VolumeId=shop_orders, InstanceId=shop, Device="/dev/sdg")
    fleet.kept_volume = shop_orders
    s.clean(shop_orders, "attached to shop-web")
    shop_ip = s.ec2.allocate_address(Domain="vpc")["AllocationId"]
    s.ec2.associate_address(AllocationId=shop_ip, InstanceId=shop)
    s.clean(s.name("shop-eip", shop_ip), "associated with shop-web")
    mixed = s.instance("api-mixed", "m5.xlarge")
    s.cpu(mixed, [5, 35, 36, 5, 34, 38, 33, 5, 37, 35, 34, 36, 35, 33, 34])
    s.clean(mixed, "CPU ≤ 10 % on only 3 of 14 days (4 needed)")
    quiet = s.instance("no-metrics", "t3.small")
    s.clean(quiet, "no CPU data: nothing measured, nothing claimed")
    paused = s.instance("paused-recently", "m5.large")
    s.stop(paused, 3)
    s.clean(paused, "stopped 3 days ago (14 needed)")
    s.clean(s.snapshot("shop-data-recent", shop_data, 10), "10 days old (90 needed)")
    image = s.ec2.create_image(InstanceId=shop, Name="shop-golden")["ImageId"]
    [mapping] = s.ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]
    image_snapshot = s.name("shop-golden-snapshot", mapping["Ebs"]["SnapshotId"])
    backdate_snapshot(account_id, region, image_snapshot, s.ago(120))
    s.clean(image_snapshot, "backs the AMI shop-golden")
    s.clean(s.snapshot("shop-data-aws-backup", shop_data, 120,
                       description="This snapshot is created by the AWS Backup service.",
                       tags=[("aws:backup:source-resource", f"arn:aws:ec2:{region}::volume/{shop_data}")]),
            "made by AWS Backup, which expires it")
    s.clean(s.snapshot("shop-data-dlm", shop_data, 120, description="Created for policy: policy-0a1b2c3d4e",
                       tags=[("aws:dlm:lifecycle-policy-id", "policy-0a1b2c3d4e")]),
            "made by Data Lifecycle Manager, which expires it")
    s.clean(s.snapshot("shop-orders-nightly", shop_orders, 120), "kept by the backups target shop-orders")
    shop_db = s.database("shop-pg", "db.t4g.medium", storage=50)
    s.connections(shop_db, [20, 35, 41, 28, 33, 50, 44, 38, 29, 31, 40, 36, 27, 45, 39])
    s.clean(shop_db, "busy: 20 to 50 connections a day")
    young = s.database("new-analytics", "db.t3.micro", created_days=2)
    s.connections(young, [0, 0, 0])
    s.clean(young, "no connections, but created 2 days ago (7 needed)")
    shop_lb = s.balancer("shop", "application", [shop])
    s.traffic(shop_lb, "application", 5000)
    s.clean(shop_lb, "healthy target and 5,000 requests a day")

    if waste:
        # -- waste: each with its expected saving at us-east-1 prices ---------------------
        vid = s.volume("orphan-data", 500, "gp2", created_days=41)
        s.expect(K.UNATTACHED_VOLUME, vid, "orphan-data", 50.0, "500 GB gp2 x 0.10")
        vid = s.volume("old-scratch", 100, "io1", created_days=95, Iops=1000)
        s.expect(K.UNATTACHED_VOLUME, vid, "old-scratch", 77.5, "100 GB io1 x 0.125 + 1000 IOPS x 0.065")
        vid = s.volume("cold-archive", 1000, "st1", created_days=200)
        s.expect(K.UNATTACHED_VOLUME, vid, "cold-archive", 45.0, "1000 GB st1 x 0.045")
        address = s.ec2.allocate_address(Domain="vpc")
        s.name("idle-eip", address["AllocationId"])
        s.expect(K.UNASSOCIATED_EIP, address["AllocationId"], address["PublicIp"], 3.65, "0.005/h x 730 h")

        legacy = s.instance("legacy-report", "t2.large")
        legacy_data = s.volume("legacy-report-data", 200, "gp3")
        s.ec2.attach_volume(VolumeId=legacy_data, InstanceId=legacy, Device="/dev/sdf")
        s.stop(legacy, 63)
        s.expect(K.STOPPED_INSTANCE, legacy, "legacy-report", 16.8,
                 "root 8 GB gp2 x 0.10 + 200 GB gp3 x 0.08")
        s.expect(K.PREVIOUS_GENERATION, legacy, "legacy-report", 0.0, "stopped: no compute to save")

        gone = s.volume("retired-db-disk", 250, "gp3")
        s.expect(K.OLD_SNAPSHOT, s.snapshot("pre-upgrade", gone, 120, description="before the 2026 upgrade"),
                 "pre-upgrade", 12.5, "250 GB x 0.05 (upper bound)")
        s.ec2.delete_volume(VolumeId=gone)

        reporting = s.database("reporting-old", "db.m5.large", storage=100, multi_az=True)
        s.connections(reporting, [0] * METRIC_DAYS)
        s.expect(K.IDLE_RDS, reporting, "reporting-old", 282.88,
                 "db.m5.large postgres 0.178/h x 2 (Multi-AZ) x 730 h + 100 GB gp2 x 0.115 x 2")

        campaign = s.balancer("old-campaign", "application")
        s.expect(K.IDLE_LB, campaign, "old-campaign", 16.425, "ALB 0.0225/h x 730 h, no targets, no requests")
        ingest = s.balancer("ingest-legacy", "network", [shop])
        s.traffic(ingest, "network", 5)
        s.expect(K.IDLE_LB, ingest, "ingest-legacy", 16.425, "NLB 0.0225/h x 730 h, 5 new flows a day")

        batch = s.instance("batch-idle", "m5.2xlarge")
        s.cpu(batch, [2, 3, 4, 2, 3, 2, 4, 3, 2, 3, 4, 2, 3, 2, 3])
        s.expect(K.LOW_CPU_EC2, batch, "batch-idle", 140.16, "m5.2xlarge 0.384 -> m5.xlarge 0.192, x 730 h")
        app = s.instance("app-legacy", "m4.xlarge")
        s.cpu(app, [4, 40, 4, 41, 4, 39, 40, 4, 42, 40, 4, 38, 4, 40, 41])
        s.expect(K.LOW_CPU_EC2, app, "app-legacy", 75.92,
                 "m4.xlarge 0.20 -> m5.large 0.096 (current generation, one size down), x 730 h")
        s.expect(K.PREVIOUS_GENERATION, app, "app-legacy", 0.0, "counted in its low-utilisation finding")
        cache = s.instance("cache-old", "c4.large")
        s.cpu(cache, [60] * METRIC_DAYS)
        s.expect(K.PREVIOUS_GENERATION, cache, "cache-old", 10.95, "c4.large 0.10 -> c5.large 0.085, x 730 h")

    s.flush_metrics()
    return fleet

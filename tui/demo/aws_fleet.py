"""The AWS half of `--demo`: moto in server mode, seeded with a fleet that looks lived in.

Two accounts and two regions reached exactly as production reaches them:
"prod" is moto's default account 123456789012 (any static key moto's IAM does
not know lands there) and "staging" is account 210987654321, reached by STS
AssumeRole on ``arn:aws:iam::210987654321:role/stacktop-demo``: moto serves
requests signed with the temporary key from the account named in the role
ARN. The role need not exist for AssumeRole; it is created anyway so the
estate looks real. Lambda does need its execution role to exist.

What a GetMetricData reader gets back from moto 5.2.1 (cloudwatch/models.py),
for the demo's Period 60 over a 1 h window:

- Buckets start at StartTime and step by Period (StartTime + k*Period), not at
  clock multiples of Period: ask with an aligned StartTime to get aligned
  buckets. A bucket holds points with start <= t < start + Period; empty
  buckets are left out; the bucket that begins at EndTime is always empty.
- Values are computed from the raw points: Sum, Average, Minimum, Maximum and
  SampleCount only. Percentiles (p99) and other stats fail with HTTP 500.
  Unit, when given, filters the points.
- Timestamps are the bucket starts. ScanBy defaults to TimestampDescending as
  in AWS; TimestampAscending works.
- MaxDatapoints is ignored and NextToken is never returned; the limit of 500
  queries per call is not enforced.
- Dimensions are matched order-sensitively in practice (moto's
  ``Dimension.__lt__`` is broken, so ``sorted()`` does not normalise): put and
  query them in the same order. When a query names dimensions, moto does not
  compare the Namespace; the demo never reuses a dimension set across
  namespaces.
- moto synthesises AWS/S3 BucketSizeBytes and NumberOfObjects itself, for
  every bucket of the account in every region, stamped today 00:00 UTC, with
  dimensions [StorageType, BucketName] (and a BucketSizeBytes that is not the
  bytes stored). A query in stacktop's order [BucketName, StorageType] never
  sees them; the pump writes one point a day, today's included, in that order.
- Cost: moto scans every point in the window once per query *and* per bucket.
  The demo's prod us-east-1 EC2 poll (69 queries x 62 buckets over ~5,000
  points) takes ~1.25 s; with a point every 5 s per series it would be ~17 s.
  So the pump writes one point per series per ``resolution`` (60 s), spread
  over its 5 s ticks, and the demo installs a linear-time GetMetricData
  (:func:`speed_up_moto_metric_queries`, same answers, ~0.14 s).
- put_metric_data bodies over 10 KB are gzip-compressed by botocore and moto
  cannot read them (HTTP 500): the seeding clients disable request compression.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import math
import os
import random
import threading
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.request import Request, urlopen

import boto3
from botocore.config import Config

from config.model import AwsAccountSettings, AwsMetricSettings, AwsSettings, Settings

log = logging.getLogger(__name__)

REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
PROD_ACCOUNT = "123456789012"  # moto's default account
STAGING_ACCOUNT = "210987654321"
DEMO_ROLE_ARN = f"arn:aws:iam::{STAGING_ACCOUNT}:role/stacktop-demo"
DEMO_ACCESS_KEY = "AKIASTACKTOPDEMO0001"
DEMO_SECRET_KEY = "stacktop-demo-secret-not-a-real-key"
DEMO_IMAGE_ID = "ami-0a1b2c3d4e5f60718"
_SEED_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60,
                      disable_request_compression=True)


# ------------------------------------------------------------------ what gets created

@dataclass
class PartitionFleet:
    """What seeding created in one account and region (ids and names, for tests and the pump)."""

    account: str
    region: str
    instances: dict[str, str] = field(default_factory=dict)  # instance id -> Name tag
    instance_states: dict[str, str] = field(default_factory=dict)  # id -> running|stopped|terminated
    attached_volumes: list[str] = field(default_factory=list)  # extra data volumes (not root volumes)
    attachments: dict[str, str] = field(default_factory=dict)  # attached volume id -> instance id
    available_volumes: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    db_instances: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)  # buckets whose LocationConstraint is this region
    bucket_contents: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (objects, bytes)
    functions: list[str] = field(default_factory=list)
    load_balancers: dict[str, str] = field(default_factory=dict)  # ARN -> type (application|network)
    target_groups: list[str] = field(default_factory=list)  # ARNs

    def running(self) -> list[str]:
        return [i for i, s in self.instance_states.items() if s == "running"]


@dataclass
class FleetInfo:
    """The seeded estate, per (account name, region), and how to reach each account."""

    endpoint_url: str
    accounts: dict[str, str]  # account name -> account id
    regions: tuple[str, ...]
    partitions: dict[tuple[str, str], PartitionFleet]
    replica_of: dict[str, str]  # read replica id -> source id
    # Static keys for prod, assumed (temporary) keys for staging; demo-only fakes.
    credentials: dict[str, dict[str, str]] = field(repr=False, default_factory=dict)
    _clients: dict[tuple[str, str, str], Any] = field(repr=False, default_factory=dict)
    _lock: threading.Lock = field(repr=False, default_factory=threading.Lock)

    def partition(self, account: str, region: str) -> PartitionFleet:
        return self.partitions[(account, region)]

    def instance_count(self) -> int:
        return sum(len(p.instances) for p in self.partitions.values())

    def client(self, service: str, account: str, region: str) -> Any:
        """A (cached) boto3 client acting in ``account``; no retries, so failures show at once."""
        key = (service, account, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = _client(service, self.endpoint_url, region, self.credentials[account])
            return self._clients[key]


_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> Any:
    """One boto3 session for all demo clients: a new session per client reloads every service model."""
    return boto3.session.Session()


def _client(service: str, endpoint_url: str, region: str, creds: Mapping[str, str],
            config: Config = _SEED_CONFIG) -> Any:
    with _SESSION_LOCK:  # creating clients from one session is not thread-safe; using them is
        return _session().client(
            service, endpoint_url=endpoint_url, region_name=region, config=config,
            aws_access_key_id=creds["aws_access_key_id"],
            aws_secret_access_key=creds["aws_secret_access_key"],
            aws_session_token=creds.get("aws_session_token"))


def _assume(endpoint_url: str, base: Mapping[str, str], role_arn: str) -> dict[str, str]:
    sts = _client("sts", endpoint_url, "us-east-1", base)
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName="stacktop-demo-seed")["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


# (role, count, instance type, team) per partition; ~60 instances in all.
_INSTANCE_PLAN: dict[tuple[str, str], list[tuple[str, int, str, str]]] = {
    ("prod", "us-east-1"): [("web", 8, "t3.medium", "frontend"), ("api", 6, "m5.large", "platform"),
                            ("worker", 12, "c5.xlarge", "data"), ("batch", 2, "m5.xlarge", "data"),
                            ("bastion", 1, "t3.micro", "platform")],
    ("prod", "eu-west-1"): [("web", 4, "t3.medium", "frontend"), ("api", 4, "m5.large", "platform"),
                            ("worker", 6, "c5.large", "data")],
    ("staging", "us-east-1"): [("web", 2, "t3.small", "frontend"), ("api", 3, "t3.medium", "platform"),
                               ("worker", 4, "t3.large", "data"), ("batch", 1, "m5.large", "data")],
    ("staging", "eu-west-1"): [("web", 2, "t3.micro", "frontend"), ("api", 2, "t3.small", "platform"),
                               ("worker", 3, "t3.medium", "data")],
}
# Fixed so tests and the target-health view have known cases; more are stopped at random.
_STOPPED = {("prod", "us-east-1"): ["web-08", "worker-12", "batch-2"],
            ("staging", "us-east-1"): ["worker-04"]}
_TERMINATED = {("prod", "us-east-1"): ["web-07"], ("staging", "eu-west-1"): ["worker-03"]}

_BUCKETS: dict[tuple[str, str], list[tuple[str, int]]] = {  # (name, objects)
    ("prod", "us-east-1"): [("stacktop-demo-prod-assets", 12), ("stacktop-demo-prod-backups", 0)],
    ("prod", "eu-west-1"): [("stacktop-demo-prod-logs-eu", 6)],
    ("staging", "us-east-1"): [("stacktop-demo-staging-artifacts", 4)],
    ("staging", "eu-west-1"): [("stacktop-demo-staging-eu", 0)],
}
_FUNCTIONS: dict[tuple[str, str], list[tuple[str, str, int, int]]] = {  # name, runtime, MB, timeout
    ("prod", "us-east-1"): [("thumbnailer", "python3.12", 1024, 30), ("order-events", "nodejs20.x", 256, 10),
                            ("nightly-report", "python3.11", 512, 900)],
    ("prod", "eu-west-1"): [("gdpr-export", "python3.12", 256, 300)],
    ("staging", "us-east-1"): [("thumbnailer-staging", "python3.12", 512, 30),
                               ("auth-hook", "nodejs18.x", 128, 5)],
    ("staging", "eu-west-1"): [("log-shipper", "provided.al2023", 128, 60)],
}


def seed_fleet(endpoint_url: str, *, rng_seed: int = 7) -> FleetInfo:
    """Create the demo estate in a moto server and say what was created.

    One partition after another: moto and the clients share one GIL, and
    seeding the four partitions from four threads measured slower (4.3 s
    against 3.8 s).
    """
    rng = random.Random(rng_seed)
    base = {"aws_access_key_id": DEMO_ACCESS_KEY, "aws_secret_access_key": DEMO_SECRET_KEY}
    staging = _assume(endpoint_url, base, DEMO_ROLE_ARN)
    info = FleetInfo(endpoint_url=endpoint_url, accounts={"prod": PROD_ACCOUNT, "staging": STAGING_ACCOUNT},
                     regions=REGIONS, partitions={}, replica_of={},
                     credentials={"prod": base, "staging": staging})
    for account in info.accounts:
        _seed_iam(info, account)
    for account, region in _INSTANCE_PLAN:
        info.partitions[(account, region)] = PartitionFleet(info.accounts[account], region)
        _seed_partition(info, account, region, random.Random(rng.randrange(1 << 30)))
    return info


def _seed_iam(info: FleetInfo, account: str) -> None:
    iam = info.client("iam", account, "us-east-1")
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":'
             '"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
    iam.create_role(RoleName="stacktop-demo-lambda", AssumeRolePolicyDocument=trust)
    if account == "staging":
        operator_trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
                          f'"arn:aws:iam::{PROD_ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}')
        iam.create_role(RoleName="stacktop-demo", AssumeRolePolicyDocument=operator_trust)


def _seed_partition(info: FleetInfo, account: str, region: str, rng: random.Random) -> None:
    part = info.partitions[(account, region)]
    ec2 = info.client("ec2", account, region)
    defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    subnets = sorted(defaults, key=lambda s: s["AvailabilityZone"])[:3]
    env = "production" if account == "prod" else "staging"
    names: dict[str, str] = {}  # Name -> id
    zones: dict[str, str] = {}  # id -> availability zone
    for role, count, itype, team in _INSTANCE_PLAN[(account, region)]:
        for n in range(1, count + 1):
            name = f"{role}-{n:02d}" if count > 2 else f"{role}-{n}"
            subnet = subnets[(n - 1) % len(subnets)]
            tags = [{"Key": "Name", "Value": name}, {"Key": "Environment", "Value": env},
                    {"Key": "Team", "Value": team}, {"Key": "Role", "Value": role}]
            if rng.random() < 0.3:
                tags.append({"Key": "CostCenter", "Value": rng.choice(["cc-1042", "cc-2210", "cc-3307"])})
            reply = ec2.run_instances(
                ImageId=DEMO_IMAGE_ID, InstanceType=itype, MinCount=1, MaxCount=1,
                SubnetId=subnet["SubnetId"],
                TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
                Monitoring={"Enabled": role in ("api", "web")})
            iid = reply["Instances"][0]["InstanceId"]
            part.instances[iid] = name
            part.instance_states[iid] = "running"
            names[name] = iid
            zones[iid] = subnet["AvailabilityZone"]
    _seed_volumes(ec2, part, names, zones, rng, env)
    _seed_elb(info, account, region, part, names, subnets)
    stopped = set(_STOPPED.get((account, region), ()))
    others = [n for n in names if n not in stopped and not n.startswith("bastion")
              and n not in _TERMINATED.get((account, region), ())]
    stopped.update(rng.sample(others, k=max(1, len(names) // 12)))
    ec2.stop_instances(InstanceIds=[names[n] for n in sorted(stopped)])
    for n in stopped:
        part.instance_states[names[n]] = "stopped"
    terminated = _TERMINATED.get((account, region), [])
    if terminated:
        ec2.terminate_instances(InstanceIds=[names[n] for n in terminated])
        for n in terminated:
            part.instance_states[names[n]] = "terminated"
        # Data volumes attached after launch survive termination (DeleteOnTermination false).
        for vid, iid in list(part.attachments.items()):
            if part.instance_states[iid] == "terminated":
                del part.attachments[vid]
                part.attached_volumes.remove(vid)
                part.available_volumes.append(vid)
    _seed_rds(info, account, region, part)
    _seed_s3(info, account, region, part, rng)
    _seed_lambda(info, account, region, part)


def _seed_volumes(ec2: Any, part: PartitionFleet, names: Mapping[str, str], zones: Mapping[str, str],
                  rng: random.Random, env: str) -> None:
    for name, iid in names.items():
        if not name.startswith(("worker", "batch", "api")) or (name.startswith("api") and rng.random() < 0.5):
            continue
        size = rng.choice([100, 200, 250, 500]) if name.startswith(("worker", "batch")) else 50
        vtype = rng.choice(["gp3", "gp3", "gp2", "io1"]) if size >= 200 else "gp3"
        kwargs: dict[str, Any] = {"Iops": 3000} if vtype == "io1" else {}
        vol = ec2.create_volume(
            AvailabilityZone=zones[iid], Size=size, VolumeType=vtype, Encrypted=rng.random() < 0.6,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                {"Key": "Name", "Value": f"{name}-data"}, {"Key": "Environment", "Value": env}]}], **kwargs)
        ec2.attach_volume(VolumeId=vol["VolumeId"], InstanceId=iid, Device="/dev/sdf")
        part.attached_volumes.append(vol["VolumeId"])
        part.attachments[vol["VolumeId"]] = iid
    zone = next(iter(zones.values()))
    for n in range(3 if (part.account, part.region) == (PROD_ACCOUNT, "us-east-1") else 2):
        vtype = rng.choice(["gp2", "gp3", "st1"]) if n else "gp2"
        vol = ec2.create_volume(
            AvailabilityZone=zone, Size=rng.choice([125, 200, 500, 1000]), VolumeType=vtype,
            Encrypted=n % 2 == 1,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                {"Key": "Name", "Value": f"orphan-{n + 1}"}, {"Key": "Environment", "Value": env}]}])
        part.available_volumes.append(vol["VolumeId"])
    for vid in part.attached_volumes[:3] + part.available_volumes[:1]:
        snap = ec2.create_snapshot(VolumeId=vid, Description=f"nightly backup of {vid}",
                                   TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                                       {"Key": "Environment", "Value": env}]}])
        part.snapshots.append(snap["SnapshotId"])


def _seed_elb(info: FleetInfo, account: str, region: str, part: PartitionFleet, names: Mapping[str, str],
              subnets: Sequence[Mapping[str, Any]]) -> None:
    elb = info.client("elbv2", account, region)
    vpc = subnets[0]["VpcId"]
    subnet_ids = [s["SubnetId"] for s in subnets[:2]]

    def group(name: str, port: int, protocol: str, members: Iterable[str]) -> str:
        health = {"HealthCheckPath": "/healthz"} if protocol == "HTTP" else {}
        reply = elb.create_target_group(Name=name, Protocol=protocol, Port=port, VpcId=vpc,
                                        TargetType="instance", **health)
        tg = reply["TargetGroups"][0]["TargetGroupArn"]
        targets = [{"Id": names[m], "Port": port} for m in members]
        if targets:
            elb.register_targets(TargetGroupArn=tg, Targets=targets)
        part.target_groups.append(tg)
        return tg

    def balancer(name: str, kind: str) -> str:
        lb = elb.create_load_balancer(Name=name, Subnets=subnet_ids, Type=kind, Scheme="internet-facing",
                                      Tags=[{"Key": "Environment", "Value": account}])
        arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        part.load_balancers[arn] = kind
        return arn

    web = [n for n in names if n.startswith("web")]
    api = [n for n in names if n.startswith("api")]
    if (account, region) == ("prod", "us-east-1"):
        alb = balancer("prod-web", "application")
        web_tg = group("prod-web-tg", 80, "HTTP", web)
        api_tg = group("prod-api-tg", 8080, "HTTP", api)
        listener = elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                                       DefaultActions=[{"Type": "forward", "TargetGroupArn": web_tg}])
        elb.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=10,
                        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                        Actions=[{"Type": "forward", "TargetGroupArn": api_tg}])
    elif (account, region) == ("prod", "eu-west-1"):
        nlb = balancer("prod-ingest", "network")
        tg = group("prod-ingest-tg", 9000, "TCP", [n for n in names if n.startswith("worker")][:4])
        elb.create_listener(LoadBalancerArn=nlb, Protocol="TCP", Port=9000,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        alb = balancer("prod-web-eu", "application")
        tg = group("prod-web-eu-tg", 80, "HTTP", web + api)
        elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    elif (account, region) == ("staging", "us-east-1"):
        alb = balancer("staging-web", "application")
        tg = group("staging-web-tg", 80, "HTTP", web + api)
        elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])


def _seed_rds(info: FleetInfo, account: str, region: str, part: PartitionFleet) -> None:
    if (account, region) == ("prod", "us-east-1"):
        rds = info.client("rds", account, region)
        rds.create_db_instance(
            DBInstanceIdentifier="orders-pg", Engine="postgres", EngineVersion="15.4",
            DBInstanceClass="db.m5.large", AllocatedStorage=200, MultiAZ=True, StorageEncrypted=True,
            StorageType="gp3", MasterUsername="stacktop", MasterUserPassword="demo-password-1",
            BackupRetentionPeriod=7, Tags=[{"Key": "Environment", "Value": "production"},
                                           {"Key": "Team", "Value": "payments"}])
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier="orders-pg-replica-1", SourceDBInstanceIdentifier="orders-pg",
            DBInstanceClass="db.m5.large", Tags=[{"Key": "Environment", "Value": "production"}])
        part.db_instances += ["orders-pg", "orders-pg-replica-1"]
        info.replica_of["orders-pg-replica-1"] = "orders-pg"
    elif (account, region) == ("staging", "us-east-1"):
        rds = info.client("rds", account, region)
        rds.create_db_instance(
            DBInstanceIdentifier="staging-mysql", Engine="mysql", EngineVersion="8.0.35",
            DBInstanceClass="db.t3.medium", AllocatedStorage=50, MultiAZ=False,
            MasterUsername="stacktop", MasterUserPassword="demo-password-2", BackupRetentionPeriod=1,
            Tags=[{"Key": "Environment", "Value": "staging"}])
        part.db_instances.append("staging-mysql")


def _seed_s3(info: FleetInfo, account: str, region: str, part: PartitionFleet, rng: random.Random) -> None:
    s3 = info.client("s3", account, region)
    for name, objects in _BUCKETS.get((account, region), []):
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        size = 0
        for n in range(objects):
            body = rng.randbytes(rng.randrange(200, 20_000))
            prefix = ("img", "logs", "builds")[n % 3]
            s3.put_object(Bucket=name, Key=f"{prefix}/object-{n:03d}.bin", Body=body)
            size += len(body)
        part.buckets.append(name)
        part.bucket_contents[name] = (objects, size)


def _lambda_zip(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("handler.py", f"def handler(event, context):\n    return {{'function': {name!r}}}\n")
    return buf.getvalue()


def _seed_lambda(info: FleetInfo, account: str, region: str, part: PartitionFleet) -> None:
    specs = _FUNCTIONS.get((account, region), [])
    if not specs:
        return
    lam = info.client("lambda", account, region)
    role = f"arn:aws:iam::{info.accounts[account]}:role/stacktop-demo-lambda"
    for name, runtime, memory, timeout in specs:
        lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="handler.handler",
                            Code={"ZipFile": _lambda_zip(name)}, MemorySize=memory, Timeout=timeout,
                            Description=f"stacktop demo: {name}", Tags={"Environment": account})
        part.functions.append(name)


# ------------------------------------------------------------------ metrics

@dataclass
class _Series:
    """One CloudWatch series following a mean-reverting random walk."""

    account: str
    region: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    unit: str
    value: float
    mean: float
    sigma: float
    low: float
    high: float
    theta: float = 0.15
    integer: bool = False
    spike: float = 0.0  # chance per point of a burst (5xx counts, replica lag)
    due: float = 0.0  # epoch seconds of this series' next point

    def step(self, rng: random.Random) -> float:
        self.value += self.theta * (self.mean - self.value) + rng.gauss(0.0, self.sigma)
        self.value = min(self.high, max(self.low, self.value))
        out = self.value
        if self.spike and rng.random() < self.spike:
            out = min(self.high, out + rng.uniform(3, 10) * self.sigma * 4)
        return float(round(out)) if self.integer else round(out, 3)


class MetricPump:
    """Writes CloudWatch data for the seeded fleet so the sparklines move.

    Every ``interval`` seconds a tick writes the points that are due; each
    series gets one point per ``resolution`` seconds, at exactly that spacing,
    and the series are spread over the ticks (see the module docstring for why
    not one point per series per tick).
    """

    def __init__(self, fleet: FleetInfo, *, interval: float = 5.0, resolution: float = 60.0,
                 rng_seed: int = 7) -> None:
        self.fleet = fleet
        self.interval = interval
        self.resolution = resolution
        self._rng = random.Random(rng_seed)
        self._stop = threading.Event()
        self.ticked = threading.Event()  # set after each tick of the thread: tests await it
        self._thread: threading.Thread | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._s3_days: set[tuple[str, str]] = set()  # (bucket, ISO date) already written
        self.series = self._plan()
        self.ticks = 0
        self.errors = 0

    # -- plan
    def _plan(self) -> list[_Series]:
        rng = self._rng
        out: list[_Series] = []
        for (account, region), part in sorted(self.fleet.partitions.items()):
            def add(ns: str, metric: str, dims: tuple[tuple[str, str], ...], unit: str, mean: float,
                    sigma: float, low: float, high: float, account: str = account, region: str = region,
                    **kw: Any) -> None:
                start = min(high, max(low, rng.gauss(mean, sigma * 2)))
                out.append(_Series(account, region, ns, metric, dims, unit, start, mean, sigma, low, high,
                                   **kw))

            for iid in sorted(part.running()):
                name = part.instances[iid]
                busy = {"worker": 55.0, "batch": 70.0, "api": 35.0, "web": 25.0}.get(name.split("-")[0], 3.0)
                cpu = rng.choice([busy, busy, busy * 0.6, 1.5])  # some idle ones for the idle analysis
                net = cpu * rng.uniform(2e6, 6e6)
                dims = (("InstanceId", iid),)
                add("AWS/EC2", "CPUUtilization", dims, "Percent", cpu, max(1.0, cpu / 8), 0.0, 100.0)
                add("AWS/EC2", "NetworkIn", dims, "Bytes", net, net / 10, 0.0, net * 4)
                add("AWS/EC2", "NetworkOut", dims, "Bytes", net * 0.7, net / 12, 0.0, net * 4)
            for db in part.db_instances:
                dims = (("DBInstanceIdentifier", db),)
                size = 200 if db.startswith("orders") else 50
                add("AWS/RDS", "CPUUtilization", dims, "Percent", rng.uniform(20, 45), 3.0, 0.0, 100.0)
                add("AWS/RDS", "DatabaseConnections", dims, "Count", rng.uniform(40, 120), 6.0, 0.0, 1000.0,
                    integer=True)
                free = size * 1e9 * rng.uniform(0.35, 0.7)
                add("AWS/RDS", "FreeStorageSpace", dims, "Bytes", free, free / 500, 0.0, size * 1e9,
                    theta=0.01)
                if db in self.fleet.replica_of:
                    add("AWS/RDS", "ReplicaLag", dims, "Seconds", 0.4, 0.3, 0.0, 120.0, spike=0.05)
            for arn, kind in sorted(part.load_balancers.items()):
                if kind != "application":
                    continue
                dims = (("LoadBalancer", arn.split(":loadbalancer/", 1)[1]),)
                rate = rng.uniform(800, 5000)
                add("AWS/ApplicationELB", "RequestCount", dims, "Count", rate, rate / 15, 0.0, rate * 5,
                    integer=True)
                add("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, "Count", 0.5, 0.6, 0.0, 500.0,
                    integer=True, spike=0.04)
        return out

    def _cw(self, account: str, region: str) -> Any:
        key = (account, region)
        if key not in self._clients:
            self._clients[key] = self.fleet.client("cloudwatch", account, region)
        return self._clients[key]

    # -- writing
    def backfill(self, minutes: int = 60, *, now: float | None = None) -> int:
        """Write ``minutes`` of history at ``resolution`` spacing ending now; returns points written."""
        now = time.time() if now is None else now
        points: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        count = max(1, int(minutes * 60 / self.resolution))
        for series in self.series:
            phase = self._rng.uniform(0, self.resolution)
            last = now - self.resolution + phase  # the newest backfilled point, < now
            for k in range(count - 1, -1, -1):
                ts = last - k * self.resolution
                points.setdefault((series.account, series.region, series.namespace), []).append(
                    _datum(series, series.step(self._rng), ts))
            series.due = last + self.resolution
        written = self._put(points)
        return written + self._put_s3_history(now)

    def tick(self, now: float | None = None) -> int:
        """Write every point that is due by ``now``; returns points written."""
        now = time.time() if now is None else now
        points: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for series in self.series:
            if not series.due:
                series.due = now
            while series.due <= now:
                points.setdefault((series.account, series.region, series.namespace), []).append(
                    _datum(series, series.step(self._rng), series.due))
                series.due += self.resolution
        self.ticks += 1
        return self._put(points) + self._put_s3_history(now)

    def _put(self, points: Mapping[tuple[str, str, str], list[dict[str, Any]]]) -> int:
        written = 0
        for (account, region, namespace), data in points.items():
            cw = self._cw(account, region)
            for first in range(0, len(data), 1000):  # AWS takes up to 1000 metrics per call
                cw.put_metric_data(Namespace=namespace, MetricData=data[first:first + 1000])
                written += len(data[first:first + 1000])
        return written

    def _put_s3_history(self, now: float, days: int = 14) -> int:
        """One storage point a day at 00:00 UTC, today's from the bucket's real contents.

        Dimensions go as [BucketName, StorageType], the order stacktop queries in:
        moto matches dimension lists order-sensitively, and its own synthesised
        S3 metrics ([StorageType, BucketName]) are therefore never seen twice.
        """
        today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        points: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for (account, region), part in sorted(self.fleet.partitions.items()):
            for bucket in part.buckets:
                seed = sum(map(ord, bucket))
                real_objects, real_bytes = part.bucket_contents.get(bucket, (0, 0))
                for back in range(days, -1, -1):
                    day = today - timedelta(days=back)
                    key = (bucket, day.date().isoformat())
                    if key in self._s3_days:
                        continue
                    self._s3_days.add(key)
                    # Grows towards today's real figure, with a little day-to-day wobble.
                    wobble = 1 + 0.03 * math.sin(back + seed) if back else 1.0
                    size = real_bytes * (1 - 0.03 * back) * wobble
                    objects = float(max(0, real_objects - (back * (seed % 3)) // 2))
                    ts = day.timestamp()
                    points.setdefault((account, region, "AWS/S3"), []).extend([
                        {"MetricName": "BucketSizeBytes", "Timestamp": ts, "Value": round(size),
                         "Unit": "Bytes",
                         "Dimensions": [{"Name": "BucketName", "Value": bucket},
                                        {"Name": "StorageType", "Value": "StandardStorage"}]},
                        {"MetricName": "NumberOfObjects", "Timestamp": ts, "Value": objects, "Unit": "Count",
                         "Dimensions": [{"Name": "BucketName", "Value": bucket},
                                        {"Name": "StorageType", "Value": "AllStorageTypes"}]},
                    ])
        return self._put(points)

    # -- thread
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stacktop-demo-metrics", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as exc:  # moto busy or gone: the next tick tries again
                self.errors += 1
                log.warning("demo metric pump: %s", exc)
            self.ticked.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop promptly: the wait between ticks ends at once; a tick in flight finishes."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _datum(series: _Series, value: float, ts: float) -> dict[str, Any]:
    return {"MetricName": series.metric, "Timestamp": ts, "Value": value, "Unit": series.unit,
            "Dimensions": [{"Name": k, "Value": v} for k, v in series.dimensions]}


# ------------------------------------------------------------------ moto, made quicker

_FAST_MARK = "_stacktop_fast_metric_data"


def speed_up_moto_metric_queries() -> bool:
    """Give moto's CloudWatch GetMetricData a linear-time path, in this process only.

    moto scans every point in the window once per query *and* per bucket: the
    demo's EC2 poll of prod us-east-1 (69 queries, 62 buckets, ~5,000 points)
    costs ~1.25 s of the one GIL the TUI also needs, every 10 s. The fast path
    groups the points of each query into buckets in one pass and reuses moto's
    own Statistics, so answers are the same (tests compare the two). Queries
    with metric math or Insights expressions, and invalid time ranges, go to
    moto's original code. Returns False when moto's internals do not look as
    expected (the demo then runs unpatched, only slower).
    """
    try:
        from moto.cloudwatch import models as cw_models
    except ImportError:
        return False
    backend_cls = getattr(cw_models, "CloudWatchBackend", None)
    original = getattr(backend_cls, "get_metric_data", None)
    if backend_cls is None or original is None or not all(
            hasattr(cw_models, name) for name in ("Dimension", "Statistics")):
        return False
    if getattr(original, _FAST_MARK, False):
        return True
    dimension_cls = cw_models.Dimension
    statistics_cls = cw_models.Statistics

    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        start = start_time.replace(microsecond=0)
        end = end_time.replace(microsecond=0)
        if start >= end or any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        by_name: dict[str, list[Any]] = {}
        for md in self.get_all_metrics():
            if start <= md.timestamp < end:
                by_name.setdefault(md.name, []).append(md)
        results = []
        for query in queries:
            stat_spec = query["MetricStat"]
            metric = stat_spec["Metric"]
            period = timedelta(seconds=int(stat_spec["Period"]))
            dims = [dimension_cls(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])]
            unit = stat_spec.get("Unit")
            stat = stat_spec["Stat"]
            candidates = by_name.get(metric["MetricName"], [])
            if dims:  # as moto: with dimensions given, the namespace is not compared
                wanted = sorted(dims)
                matching = [md for md in candidates if sorted(md.dimensions) == wanted]
            else:
                matching = [md for md in candidates if md.namespace == metric["Namespace"]]
            if unit:
                matching = [md for md in matching if md.unit == unit]
            buckets: dict[int, list[Any]] = {}
            for md in matching:
                buckets.setdefault((md.timestamp - start) // period, []).append(md)
            values, stamps = [], []
            for index in sorted(buckets):
                stats = statistics_cls([stat], start + index * period)
                stats.metric_data = buckets[index]
                values.append(stats.get_statistics_for_type(stat))
                stamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                values.reverse()
                stamps.reverse()
            if query.get("ReturnData", True):
                label = query.get("Label") or f"{metric['MetricName']} {stat}"
                results.append({"id": query["Id"], "label": label, "values": values, "timestamps": stamps,
                                "status_code": "Complete"})
        return results

    setattr(get_metric_data, _FAST_MARK, True)
    get_metric_data.__wrapped__ = original  # type: ignore[attr-defined]
    backend_cls.get_metric_data = get_metric_data
    return True


# ------------------------------------------------------------------ the demo backend

def silence_werkzeug() -> None:
    """moto's werkzeug server prints every request to stderr, which would scribble over the TUI."""
    logger = logging.getLogger("werkzeug")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


class MotoDemoBackend:
    """DemoBackend: moto on 127.0.0.1, seeded fleet, live metrics; providers pointed at it."""

    name = "aws (moto)"

    def __init__(self, *, rng_seed: int = 7, pump_interval: float = 5.0) -> None:
        self.rng_seed = rng_seed
        self.pump_interval = pump_interval
        self.url: str | None = None
        self.fleet: FleetInfo | None = None
        self.pump: MetricPump | None = None
        self._server: Any = None

    def start(self) -> None:
        # Read when moto first builds an account's EC2 backend: no 1,300 built-in snapshots.
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise RuntimeError(f"moto is not installed ({exc}): pip install 'stacktop[demo]'") from None
        silence_werkzeug()
        speed_up_moto_metric_queries()
        try:
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.url = f"http://{host}:{port}"
            # moto keeps its state per process, not per server: start from nothing, so a
            # second start (or a test's earlier moto use) cannot collide with the fleet.
            with urlopen(Request(f"{self.url}/moto-api/reset", data=b"", method="POST"), timeout=10) as reply:
                reply.read()
            self.fleet = seed_fleet(self.url, rng_seed=self.rng_seed)
            self.pump = MetricPump(self.fleet, interval=self.pump_interval, rng_seed=self.rng_seed)
            self.pump.backfill(minutes=60)
            self.pump.start()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        """Pump first (it writes to the server), then the server; logs, never raises."""
        try:
            if self.pump is not None:
                self.pump.stop()
        except Exception:
            log.exception("demo metric pump did not stop")
        self.pump = None
        try:
            if self._server is not None:
                self._server.stop()
        except Exception:
            log.exception("demo moto server did not stop")
        self._server = None
        self.url = None

    def configure(self, settings: Settings) -> Settings:
        if self.url is None:
            raise RuntimeError("MotoDemoBackend.configure() before start()")
        aws = demo_aws_settings(self.url)
        providers = dataclasses.replace(settings.providers, aws=aws)
        secrets = settings.secrets | {DEMO_SECRET_KEY}
        return dataclasses.replace(settings, providers=providers, secrets=secrets)


def demo_aws_settings(endpoint_url: str) -> AwsSettings:
    """The providers.aws section that points both demo accounts at ``endpoint_url``."""
    common: dict[str, Any] = {"regions": REGIONS, "endpoint_url": endpoint_url,
                              "access_key_id": DEMO_ACCESS_KEY, "secret_access_key": DEMO_SECRET_KEY}
    return AwsSettings(
        accounts=(AwsAccountSettings(name="prod", **common),
                  AwsAccountSettings(name="staging", role_arn=DEMO_ROLE_ARN, session_name="stacktop-demo",
                                     **common)),
        intervals={"ec2": 10.0, "ebs": 10.0, "rds": 10.0, "elb": 10.0, "s3": 60.0, "lambda": 60.0},
        timeout=30.0,
        max_attempts=2,
        metrics=AwsMetricSettings(enabled=True, period=60.0, window=3600.0),
    )


# ------------------------------------------------------------------ benchmark seeding

def seed_bulk(endpoint_url: str, *, regions: Sequence[str], instances: int, volumes: int,
              batch: int = 500) -> dict[str, list[str]]:
    """Create ``instances`` instances and ``volumes`` volumes spread evenly over ``regions``
    in the default account, for benchmarks; returns the instance ids per region.

    run_instances takes ``batch`` instances a call (one reservation each);
    volumes need one create_volume call apiece. moto spends the time
    serialising XML (~5 ms an instance, ~5 ms a volume call); client threads
    measured no faster, as server and clients share one GIL. moto also gives
    every instance a root volume, so describe_volumes returns
    ``instances + volumes`` volumes.
    """
    creds = {"aws_access_key_id": DEMO_ACCESS_KEY, "aws_secret_access_key": DEMO_SECRET_KEY}
    ids: dict[str, list[str]] = {}
    for index, region in enumerate(regions):
        ec2 = _client("ec2", endpoint_url, region, creds)
        todo = instances // len(regions) + (1 if index < instances % len(regions) else 0)
        ids[region] = []
        for first in range(0, todo, batch):
            count = min(batch, todo - first)
            reply = ec2.run_instances(
                ImageId=DEMO_IMAGE_ID, InstanceType="t3.micro", MinCount=count, MaxCount=count,
                TagSpecifications=[{"ResourceType": "instance", "Tags": [
                    {"Key": "Environment", "Value": "bench"},
                    {"Key": "Batch", "Value": str(first // batch)}]}])
            ids[region].extend(i["InstanceId"] for i in reply["Instances"])
        zones = [f"{region}a", f"{region}b"]
        for n in range(volumes // len(regions) + (1 if index < volumes % len(regions) else 0)):
            ec2.create_volume(AvailabilityZone=zones[n % 2], Size=8 + n % 500, VolumeType="gp3")
    return ids

"""Builders for the app under test: real host provider by default, or
recorded host and AWS snapshots where a test needs a pixel-stable screen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from providers.actions import ActionGate, AuditLog
from providers.aws.action_specs import ACTIONS_BY_SERVICE
from providers.aws.records import (
    EbsVolume,
    Ec2Instance,
    LambdaFunction,
    LoadBalancer,
    MetricWindow,
    PartitionStatus,
    RdsInstance,
    S3Bucket,
    TargetGroupHealth,
)
from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider
from providers.host import (
    CpuStats,
    DeviceRates,
    DiskIo,
    DiskUsage,
    HostProvider,
    HostSnapshot,
    MemoryStats,
    NetIo,
    ProcessInfo,
)
from providers.runtime import Runtime
from providers.store import Store
from tui.app import StacktopApp

FIXED_NOW = 1_795_000_000.0  # 2026-11-18, a fixed wall clock for stable screens


def build_app(
    tmp_path: Path,
    *,
    read_only: bool = False,
    providers: Sequence[Provider] | None = None,
    role: str = "operator",
    start_runtime: bool = True,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> StacktopApp:
    if providers is None:
        # Every process listed, so a test's own child is always in the table.
        providers = [HostProvider(interval=0.5, timeout=5, top_processes=100_000)]
    runtime = Runtime(providers, Store(120), max_concurrency=2)
    gate = ActionGate(
        runtime.providers, AuditLog(tmp_path / "audit.jsonl"), read_only=read_only, role=role,
        user="tester", refresh=runtime.refresh,
    )
    return StacktopApp(runtime, gate, profile="test", read_only=read_only, clock=clock,
                       monotonic=monotonic, start_runtime=start_runtime)


def polled(app: StacktopApp, name: str = "host") -> asyncio.Event:
    """An event set after the next completed poll of `name`."""
    event = asyncio.Event()

    def on_poll(polled_name: str) -> None:
        if polled_name == name:
            event.set()

    app.runtime.subscribe(on_poll)
    return event


class RecordedHostProvider(Provider):
    """Replays host snapshots made from fixed numbers: same screen on every machine."""

    def __init__(self, count: int = 30) -> None:
        super().__init__("host", interval=2.0, timeout=5.0)
        self._snapshots = [recorded_host_snapshot(i) for i in range(count)]
        self._next = 0
        self._real = HostProvider()

    async def poll(self) -> HostSnapshot:
        snap = self._snapshots[self._next % len(self._snapshots)]
        self._next += 1
        return snap

    def actions(self):  # type: ignore[no-untyped-def]
        return self._real.actions()


def recorded_host_snapshot(i: int) -> HostSnapshot:
    wave = [12, 18, 25, 40, 63, 71, 55, 38, 30, 22]
    cpu = float(wave[i % len(wave)])
    procs = (
        ProcessInfo(812, "postgres", "postgres", 31.5 - i % 3, 4.2, 512 * 2**20, "running", 1.0),
        ProcessInfo(1204, "nginx", "www-data", 8.0, 0.6, 48 * 2**20, "sleeping", 2.0),
        ProcessInfo(1, "systemd", "root", 0.0, 0.1, 12 * 2**20, "sleeping", 3.0),
        ProcessInfo(977, "node_exporter", "prometheus", 1.5, 0.3, 24 * 2**20, "sleeping", 4.0),
        ProcessInfo(2211, "backup-agent", "backup", 0.5, 1.9, 230 * 2**20, "sleeping", 5.0),
    )
    return HostSnapshot(
        taken_at=FIXED_NOW + 2 * i,
        hostname="bastion-1",
        boot_time=FIXED_NOW - 86400 * 12,
        cpu=CpuStats(cpu, (cpu - 5, cpu + 5), (1.25, 0.98, 0.75), 2),
        memory=MemoryStats(41.0 + i % 4, 3_300_000_000, 4_700_000_000, 8_000_000_000, 0.0, 0, 0),
        disks=(DiskUsage("/", "/dev/vda1", "ext4", 100 * 2**30, 43 * 2**30, 57 * 2**30, 43.0),),
        disk_io=DiskIo(2.0 * 2**20, 512.0 * 1024 * (i % 5), (DeviceRates("vda", 2.0 * 2**20, 0.0),)),
        net=NetIo(
            300.0 * 1024 + 10_000 * i, 120.0 * 1024, (DeviceRates("eth0", 300.0 * 1024, 120.0 * 1024),)
        ),
        processes=procs,
        process_count=143,
    )


# -- recorded AWS ----------------------------------------------------------------------

AWS_SERVICES = ("ec2", "ebs", "rds", "s3", "lambda", "elb")
DENIED = ("access denied to ec2:DescribeInstances — grant it to the role stacktop-read "
          "(AccessDenied, staging/eu-west-1)")
PARTITIONS = (("prod", "eu-west-1"), ("prod", "us-east-1"), ("staging", "eu-west-1"),
              ("staging", "us-east-1"))
FAILING = {"ec2": ("staging", "eu-west-1"), "ebs": ("staging", "eu-west-1")}
"""Services whose staging/eu-west-1 partition does not answer (a missing permission)."""
PERIOD = 300.0


def window(name: str, unit: str, values: Sequence[float], end: float) -> MetricWindow:
    """A CloudWatch window of `values`, one per five minutes, the last at `end`."""
    times = tuple(end - PERIOD * (len(values) - 1 - k) for k in range(len(values)))
    return MetricWindow(name, unit, times, tuple(float(v) for v in values))


def _wave(base: float, i: int, span: float = 10.0, n: int = 12) -> list[float]:
    return [max(0.0, base + span * (((k + i) % 6) - 3) / 3) for k in range(n)]


def recorded_ec2(i: int, now: float) -> tuple[Ec2Instance, ...]:
    """Eight instances; on odd polls web-1 and api-1 swap places by CPU."""
    busy, calm = (71.0, 23.0) if i % 2 == 0 else (18.0, 84.0)

    def inst(account: str, region: str, n: int, name: str, state: str, cpu: float | None,
             itype: str = "t3.medium", **extra: object) -> Ec2Instance:
        iid = f"i-0{n:02d}{'a1b2c3d4e5f6'}{n:02d}"
        metrics = {}
        if cpu is not None:
            metrics = {
                "cpu": window("cpu", "percent", [*_wave(cpu, i)[:-1], cpu], now),
                "net_in": window("net_in", "rate", [v * 2**14 for v in _wave(40, i)], now),
                "net_out": window("net_out", "rate", [v * 2**13 for v in _wave(30, i)], now),
            }
        return Ec2Instance(
            account=account, region=region, id=iid, name=name, type=itype, state=state,
            az=f"{region}{'ab'[n % 2]}", private_ip=f"10.{n}.1.{10 + n}",
            public_ip=f"54.12.{n}.{100 + n}" if name.startswith("web") else "",
            launch_time=FIXED_NOW - 86400 * (3 + n), platform="linux",
            volume_ids=(f"vol-0{n:02d}aa000000000{n:02d}",), security_groups=("sg-0web", "sg-0ssh"),
            tags=(("Name", name), ("env", account), ("team", "shop" if "web" in name else "platform")),
            metrics=metrics, **extra,  # type: ignore[arg-type]
        )

    return (
        inst("prod", "us-east-1", 1, "web-1", "running", busy),
        inst("prod", "us-east-1", 2, "web-2", "running", 35.0),
        inst("prod", "us-east-1", 3, "api-1", "running", calm, "m5.large"),
        inst("prod", "us-east-1", 4, "batch-1", "stopped", None, "c5.xlarge",
             state_reason="User initiated (2026-11-17 08:00:00 GMT)", state_since=FIXED_NOW - 86400),
        inst("prod", "eu-west-1", 5, "web-eu-1", "running", 12.0),
        inst("prod", "eu-west-1", 6, "db-proxy", "running", 5.0, "t3.small"),
        inst("staging", "us-east-1", 7, "staging-web", "running", 3.0, "t3.micro"),
        inst("staging", "us-east-1", 8, "staging-worker", "pending", None, "t3.micro"),
    )


def recorded_ebs(now: float) -> tuple[EbsVolume, ...]:
    vols = [
        EbsVolume(acct, region, f"vol-0{n:02d}aa000000000{n:02d}", f"{name}-root", 20 + 10 * n, "gp3",
                  3000, "in-use", f"i-0{n:02d}a1b2c3d4e5f6{n:02d}", "/dev/xvda", True,
                  FIXED_NOW - 86400 * (3 + n), (("Name", f"{name}-root"),))
        for acct, region, n, name in (("prod", "us-east-1", 1, "web-1"), ("prod", "us-east-1", 2, "web-2"),
                                      ("prod", "us-east-1", 3, "api-1"), ("prod", "eu-west-1", 5, "web-eu-1"))
    ]
    vols.append(EbsVolume("prod", "us-east-1", "vol-0ff0000000000099", "old-snapshot-restore", 500, "gp2",
                          None, "available", "", "", False, FIXED_NOW - 86400 * 200))
    return tuple(vols)


def recorded_rds(i: int, now: float) -> tuple[RdsInstance, ...]:
    def metrics(cpu: float, lag: float | None) -> dict[str, MetricWindow]:
        out = {
            "cpu": window("cpu", "percent", _wave(cpu, i), now),
            "connections": window("connections", "count", _wave(40, i, 8), now),
            "free_storage": window("free_storage", "bytes", [(120 - k) * 2**30 for k in range(12)], now),
        }
        if lag is not None:
            out["replica_lag"] = window("replica_lag", "seconds", _wave(lag, i, 2), now)
        return out

    return (
        RdsInstance("prod", "us-east-1", "orders-db", "postgres", "16.3", "db.r6g.xlarge", "available",
                    True, 500, "orders-db.c1x2.us-east-1.rds.amazonaws.com",
                    replicas=("orders-db-replica-1",), encrypted=True, tags=(("team", "shop"),),
                    metrics=metrics(55, None)),
        RdsInstance("prod", "us-east-1", "orders-db-replica-1", "postgres", "16.3", "db.r6g.large",
                    "available", False, 500, "orders-db-replica-1.c1x2.us-east-1.rds.amazonaws.com",
                    replica_of="orders-db", encrypted=True, metrics=metrics(30, 4)),
        RdsInstance("staging", "eu-west-1", "shop-mysql", "mysql", "8.0.36", "db.t3.medium", "stopped",
                    False, 100, "shop-mysql.c9.eu-west-1.rds.amazonaws.com"),
    )


def recorded_s3(now: float) -> tuple[S3Bucket, ...]:
    return (
        S3Bucket("prod", "us-east-1", "shop-assets", FIXED_NOW - 86400 * 400, 42 * 2**30, 120_000),
        S3Bucket("prod", "eu-west-1", "shop-backups-eu", FIXED_NOW - 86400 * 300, 1.2 * 2**40, 3_400),
        S3Bucket("staging", "us-east-1", "staging-uploads", FIXED_NOW - 86400 * 20, None, None),
    )


def recorded_lambda(now: float) -> tuple[LambdaFunction, ...]:
    return (
        LambdaFunction("prod", "us-east-1", "resize-images", "python3.12", 1024, 60, FIXED_NOW - 86400 * 9,
                       4_200_000),
        LambdaFunction("prod", "eu-west-1", "nightly-report", "nodejs20.x", 256, 300, FIXED_NOW - 3600 * 5,
                       900_000),
        LambdaFunction("staging", "us-east-1", "webhook-relay", "python3.12", 128, 10,
                       FIXED_NOW - 86400 * 40, 12_000),
    )


def recorded_elb(i: int, now: float) -> tuple[LoadBalancer, ...]:
    return (
        LoadBalancer("prod", "us-east-1", "shop-web", "arn:aws:elasticloadbalancing:us-east-1:1:"
                     "loadbalancer/app/shop-web/50dc6c495c0c9188", "application", "active",
                     "shop-web-1234.us-east-1.elb.amazonaws.com", "internet-facing",
                     (TargetGroupHealth("web", 2, 1, 0), TargetGroupHealth("api", 1, 0, 1)),
                     {"requests": window("requests", "count", _wave(1200, i, 300), now),
                      "errors_5xx": window("errors_5xx", "count", [0, 0, 1, 0, 3, 0, 0, 0, 2, 0, 0, 4],
                                           now)}),
        LoadBalancer("staging", "us-east-1", "staging-internal", "arn:aws:elasticloadbalancing:us-east-1:2:"
                     "loadbalancer/net/staging-internal/73e2d6bc24d8a067", "network", "active",
                     "staging-internal-99.elb.us-east-1.amazonaws.com", "internal",
                     (TargetGroupHealth("workers", 1, 0, 0),)),
    )


def recorded_aws_snapshot(service: str, i: int) -> AwsSnapshot:
    """Poll `i` of `service`: fixed records, two accounts, four account/regions, one denied."""
    now = FIXED_NOW + 60 * i
    items: tuple[object, ...] = {
        "ec2": lambda: recorded_ec2(i, now), "ebs": lambda: recorded_ebs(now),
        "rds": lambda: recorded_rds(i, now), "s3": lambda: recorded_s3(now),
        "lambda": lambda: recorded_lambda(now), "elb": lambda: recorded_elb(i, now),
    }[service]()
    if service == "s3":
        partitions = tuple(PartitionStatus(a, "global", True, sum(1 for b in items if b.account == a),  # type: ignore[attr-defined]
                                           None, now) for a in ("prod", "staging"))
    else:
        partitions = tuple(
            PartitionStatus(a, r, False, 0, DENIED.replace("ec2:DescribeInstances", f"{service}:Describe*"),
                            None) if FAILING.get(service) == (a, r)
            else PartitionStatus(a, r, True, sum(1 for x in items if (x.account, x.region) == (a, r)),  # type: ignore[attr-defined]
                                 None, now)
            for a, r in PARTITIONS
        )
    return AwsSnapshot(taken_at=now, service=service, items=items, partitions=partitions)  # type: ignore[arg-type]


class RecordedAwsProvider(Provider):
    """`aws.<service>` replaying fixed snapshots; its actions record what they were asked."""

    def __init__(self, service: str) -> None:
        super().__init__(f"aws.{service}", interval=60.0, timeout=5.0)
        self.service = service
        self.polls = 0
        self.calls: list[tuple[str, ActionTarget]] = []

    async def poll(self) -> AwsSnapshot:
        snap = recorded_aws_snapshot(self.service, self.polls)
        self.polls += 1
        return snap

    def actions(self) -> list[ActionSpec]:
        return list(ACTIONS_BY_SERVICE.get(self.service, ()))

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in {s.id for s in self.actions()}:
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target))
            resource = target.details.get("instance_id") or target.details.get("db_instance_id")
            where = f"{target.details['account']}/{target.details['region']}"
            verb = action_id.rsplit(".", 1)[1].title()
            return ActionResult(True, f"{verb} of {resource} requested ({where})")

        return run


def recorded_aws_providers(services: Sequence[str] = AWS_SERVICES) -> list[Provider]:
    return [RecordedAwsProvider(s) for s in services]

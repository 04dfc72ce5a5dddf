"""Builders for the app under test: real host provider by default, or
recorded host and AWS snapshots where a test needs a pixel-stable screen."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from providers.backups import model as bk
from providers.backups.action_specs import BACKUP_ACTIONS, BACKUP_NOW, DELETE_SEPARATOR, PRUNE, VERIFY
from providers.backups.model import (
    Backup,
    Check,
    Decision,
    RetentionPlan,
    ScheduleStatus,
    TargetSnapshot,
    Verification,
)
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider
from providers.ha.action_specs import PATRONI_ACTIONS
from providers.ha.model import (
    BAD,
    DEGRADED,
    HEALTHY,
    OK,
    PRIMARY,
    REPLICA,
    SYNC_REPLICA,
    WARN,
    DbStats,
    HaEvent,
    HaSnapshot,
    HistoryEntry,
    Member,
    Statement,
)
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
from providers.k8s.action_specs import ACTIONS_BY_VIEW
from providers.k8s.records import (
    Condition,
    Container,
    KubeEvent,
    KubeNode,
    KubePod,
    KubePvc,
    KubeWorkload,
    ResourceStatus,
    Usage,
)
from providers.k8s.snapshot import KubeSnapshot
from providers.k8s.usage import UsageHistory
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


# -- recorded Kubernetes ---------------------------------------------------------------------

KUBE_VIEW_NAMES = ("nodes", "workloads", "pods", "events", "pvcs")
KUBE_RESOURCES = {"nodes": ("nodes", "metrics"), "workloads": ("deployments", "statefulsets", "daemonsets"),
                  "pods": ("pods", "metrics"), "events": ("events",), "pvcs": ("persistentvolumeclaims",)}
METRICS_NOT_SERVED = "metrics.k8s.io not served (install metrics-server for CPU/memory in use)"
EVENTS_FORBIDDEN = "forbidden: cannot list events at cluster scope — ask for RBAC list on events"
KUBE_FAILING = {("staging", "metrics"): METRICS_NOT_SERVED, ("staging", "events"): EVENTS_FORBIDDEN}
"""What staging does not give us: no metrics-server, and no RBAC to list events."""
GI = float(2**30)
MI = float(2**20)
DAY = 86400.0
CRASHING_POD = "prod/shop/worker-5f6d7c8b9-h2j4k"
OOM_POD = "prod/shop/cache-0"
PENDING_POD = "prod/shop/import-7b6c5d4f8-9vx2c"
UNSCHEDULABLE = ("0/4 nodes are available: 1 node(s) had untolerated taint "
                 "{node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable, 2 Insufficient memory.")


def recorded_kube_nodes() -> tuple[KubeNode, ...]:
    """prod: a control plane, two workers (one cordoned) and one that stopped reporting; staging: one."""
    def node(context: str, name: str, cpu: float, memory_gi: float, *, ready: str = "True",
             roles: tuple[str, ...] = (), age_days: float = 90, ip: str = "", **extra: object) -> KubeNode:
        conditions = (Condition("Ready", ready, "KubeletReady" if ready == "True" else "NodeStatusUnknown",
                                "kubelet is posting ready status" if ready == "True"
                                else "Kubelet stopped posting node status."),
                      Condition("MemoryPressure", "False" if ready == "True" else "Unknown"),
                      Condition("DiskPressure", "False" if ready == "True" else "Unknown"))
        return KubeNode(context, name, ready, roles, "v1.30.4" if context == "prod" else "v1.31.1",
                        cpu, cpu - 0.08, memory_gi * GI, (memory_gi - 0.7) * GI, 110, conditions,
                        created=FIXED_NOW - age_days * DAY, internal_ip=ip,
                        labels=(("kubernetes.io/arch", "amd64"), ("kubernetes.io/hostname", name),
                                ("topology.kubernetes.io/zone", "eu-west-1a")), **extra)  # type: ignore[arg-type]

    return (
        node("prod", "cp-1", 4, 8, roles=("control-plane",), age_days=400, ip="10.0.0.10",
             taints=("node-role.kubernetes.io/control-plane:NoSchedule",)),
        node("prod", "node-a1", 8, 32, ip="10.0.1.11"),
        node("prod", "node-a2", 8, 32, ip="10.0.1.12", unschedulable=True,
             taints=("node.kubernetes.io/unschedulable:NoSchedule",)),
        node("prod", "node-a3", 8, 32, ready="Unknown", age_days=30, ip="10.0.1.13",
             taints=("node.kubernetes.io/unreachable:NoExecute",
                     "node.kubernetes.io/unreachable:NoSchedule")),
        node("staging", "stg-node-1", 4, 16, age_days=20, ip="10.8.1.5"),
    )


def recorded_kube_pods(now: float) -> tuple[KubePod, ...]:
    """A rolling api, a crash-looping worker, an OOM-killed cache, an unschedulable import."""
    def box(name: str, image: str, *, cpu: float = 0.1, cpu_limit: float | None = 0.5, mem: float = 128 * MI,
            mem_limit: float | None = 256 * MI, ready: bool = True, started: float = 2 * DAY,
            state: str = "", **extra: object) -> Container:
        state = state or ("running" if ready else "waiting")
        return Container(name, image, ready, state=state,
                         started_at=now - started if state == "running" else None, cpu_request=cpu,
                         cpu_limit=cpu_limit, memory_request=mem, memory_limit=mem_limit,
                         **extra)  # type: ignore[arg-type]

    def pod(context: str, namespace: str, name: str, node: str, containers: tuple[Container, ...], *,
            status: str = "Running", phase: str = "Running", age: float = 2 * DAY,
            owner: tuple[str, str] = ("", ""),
            conditions: tuple[Condition, ...] = (), app: str = "") -> KubePod:
        last = next((c.last_reason for c in containers if c.last_reason), "")
        ready = sum(1 for c in containers if c.ready)
        requests_cpu = sum(c.cpu_request or 0.0 for c in containers)
        limits_cpu = [c.cpu_limit for c in containers]
        requests_mem = sum(c.memory_request or 0.0 for c in containers)
        limits_mem = [c.memory_limit for c in containers]
        return KubePod(
            context, namespace, name, uid=f"uid-{name}", phase=phase, status=status, ready=ready,
            total=len(containers), restarts=sum(c.restarts for c in containers), last_restart_reason=last,
            node=node, created=now - age,
            ip=f"10.244.{len(name) % 7}.{len(name) * 3 % 250}" if node else "",
            owner_kind=owner[0], owner_name=owner[1], containers=containers,
            conditions=conditions or (Condition("Ready", "True" if ready == len(containers) else "False"),
                                      Condition("PodScheduled", "True" if node else "False")),
            labels=(("app", app or name.split("-")[0]),), cpu_request=requests_cpu,
            cpu_limit=None if None in limits_cpu else sum(limits_cpu),  # type: ignore[arg-type]
            memory_request=requests_mem,
            memory_limit=None if None in limits_mem else sum(limits_mem),  # type: ignore[arg-type]
        )

    api = "registry.example.com/shop/api:1.8.0"
    old_api = "registry.example.com/shop/api:1.7.3"
    envoy = "envoyproxy/envoy:v1.31.2"
    return (
        pod("prod", "shop", "api-7d9f8b6c5-x2k4p", "node-a1",
            (box("api", old_api, cpu=0.25, mem=256 * MI, mem_limit=512 * MI), box("envoy", envoy)),
            owner=("ReplicaSet", "api-7d9f8b6c5"), age=6 * DAY),
        pod("prod", "shop", "api-7d9f8b6c5-m8q7z", "node-a2",
            (box("api", old_api, cpu=0.25, mem=256 * MI, mem_limit=512 * MI), box("envoy", envoy)),
            owner=("ReplicaSet", "api-7d9f8b6c5"), age=6 * DAY),
        pod("prod", "shop", "api-6c8d7f5b4-t5r9w", "node-a1",
            (box("api", api, cpu=0.25, mem=256 * MI, mem_limit=512 * MI, ready=False, state="running",
                 started=40), box("envoy", envoy, started=40)),
            owner=("ReplicaSet", "api-6c8d7f5b4"), age=45),
        pod("prod", "shop", "worker-5f6d7c8b9-h2j4k", "node-a1",
            (box("worker", "registry.example.com/shop/worker:2.3.1", cpu=0.5, cpu_limit=1.0, mem=512 * MI,
                 mem_limit=GI, ready=False, reason="CrashLoopBackOff", restarts=7, last_reason="Error",
                 last_exit_code=1, last_finished_at=now - 180),),
            status="CrashLoopBackOff", owner=("ReplicaSet", "worker-5f6d7c8b9"), age=DAY),
        pod("prod", "shop", "cache-0", "node-a2",
            (box("redis", "redis:7.2.5", cpu=0.2, cpu_limit=None, mem=768 * MI, mem_limit=GI, started=720,
                 restarts=3, last_reason="OOMKilled", last_exit_code=137, last_finished_at=now - 720),),
            owner=("StatefulSet", "cache"), age=12 * DAY),
        pod("prod", "shop", "import-7b6c5d4f8-9vx2c", "",
            (box("importer", "registry.example.com/shop/import:0.9.0", cpu=2.0, cpu_limit=4.0, mem=24 * GI,
                 mem_limit=24 * GI, ready=False),),
            status="Pending", phase="Pending", owner=("ReplicaSet", "import-7b6c5d4f8"), age=600,
            conditions=(Condition("PodScheduled", "False", "Unschedulable", UNSCHEDULABLE, now - 600),)),
        pod("prod", "kube-system", "coredns-5d78c9869d-4xkqp", "cp-1",
            (box("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", mem=70 * MI, mem_limit=170 * MI,
                 cpu_limit=None),), owner=("ReplicaSet", "coredns-5d78c9869d"), age=60 * DAY, app="kube-dns"),
        pod("prod", "kube-system", "coredns-5d78c9869d-p7wzt", "node-a1",
            (box("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", mem=70 * MI, mem_limit=170 * MI,
                 cpu_limit=None),), owner=("ReplicaSet", "coredns-5d78c9869d"), age=60 * DAY, app="kube-dns"),
        pod("prod", "monitoring", "prometheus-0", "node-a1",
            (box("prometheus", "quay.io/prometheus/prometheus:v2.53.1", cpu=1.0, cpu_limit=2.0, mem=4 * GI,
                 mem_limit=8 * GI), box("config-reloader", "quay.io/prometheus-operator/prometheus-config-"
                                                            "reloader:v0.75.0", cpu=0.01, cpu_limit=0.1,
                                        mem=16 * MI, mem_limit=64 * MI)),
            owner=("StatefulSet", "prometheus"), age=30 * DAY),
        pod("staging", "shop", "api-69c7d5b8f4-ws2lq", "stg-node-1",
            (box("api", api, cpu=0.1, mem=128 * MI),), owner=("ReplicaSet", "api-69c7d5b8f4"), age=3 * DAY),
        pod("staging", "shop", "db-migrate-4x7kq", "stg-node-1",
            (Container("migrate", "registry.example.com/shop/migrate:1.8.0", False, 0, "terminated",
                       "Completed", cpu_request=0.1, memory_request=64 * MI),),
            status="Completed", phase="Succeeded", owner=("Job", "db-migrate"), age=3 * DAY),
    )


def recorded_kube_usage(i: int) -> dict[str, Usage]:
    """metrics.k8s.io figures at poll `i` (prod only: staging has no metrics-server)."""
    def wave(base: float, span: float, k: int) -> float:
        return max(0.0, base + span * (((k + i) % 6) - 3) / 3)

    pods = {
        "prod/shop/api-7d9f8b6c5-x2k4p": (0.18, 300 * MI), "prod/shop/api-7d9f8b6c5-m8q7z": (0.21, 310 * MI),
        "prod/shop/api-6c8d7f5b4-t5r9w": (0.05, 120 * MI), "prod/shop/worker-5f6d7c8b9-h2j4k": (0.0, 12 * MI),
        "prod/shop/cache-0": (0.12, 950 * MI), "prod/kube-system/coredns-5d78c9869d-4xkqp": (0.004, 22 * MI),
        "prod/kube-system/coredns-5d78c9869d-p7wzt": (0.003, 21 * MI),
        "prod/monitoring/prometheus-0": (0.85, 5.2 * GI),
    }
    usage = {key: Usage(round(wave(cpu, cpu / 5, n), 3), round(wave(mem, mem / 20, n)))
             for n, (key, (cpu, mem)) in enumerate(pods.items())}
    for n, (key, cpu, mem) in enumerate((("prod/cp-1", 0.6, 2.1 * GI), ("prod/node-a1", 2.4, 14 * GI),
                                         ("prod/node-a2", 0.9, 5.5 * GI))):
        usage[key] = Usage(round(wave(cpu, cpu / 4, n), 3), round(wave(mem, mem / 20, n)))
    return usage


def recorded_kube_workloads(now: float) -> tuple[KubeWorkload, ...]:
    api = "registry.example.com/shop/api:1.8.0"
    envoy = "envoyproxy/envoy:v1.31.2"
    return (
        KubeWorkload("prod", "shop", "api", "Deployment", 3, 2, 1, 2, (api, envoy), FIXED_NOW - 90 * DAY,
                     rolling=True, generation=14, observed_generation=14,
                     conditions=(Condition("Available", "True", "MinimumReplicasAvailable"),
                                 Condition("Progressing", "True", "ReplicaSetUpdated")),
                     labels=(("app", "api"),), selector=(("app", "api"),)),
        KubeWorkload("prod", "shop", "worker", "Deployment", 1, 0, 1, 0,
                     ("registry.example.com/shop/worker:2.3.1",), FIXED_NOW - 40 * DAY, generation=6,
                     observed_generation=6,
                     conditions=(Condition("Available", "False", "MinimumReplicasUnavailable",
                                           "Deployment does not have minimum availability."),
                                 Condition("Progressing", "True", "NewReplicaSetAvailable")),
                     labels=(("app", "worker"),), selector=(("app", "worker"),)),
        KubeWorkload("prod", "shop", "import", "Deployment", 1, 0, 1, 0,
                     ("registry.example.com/shop/import:0.9.0",), now - 600, generation=1,
                     observed_generation=1, selector=(("app", "import"),)),
        KubeWorkload("prod", "shop", "cache", "StatefulSet", 1, 1, 1, 1, ("redis:7.2.5",),
                     FIXED_NOW - 200 * DAY, selector=(("app", "cache"),)),
        KubeWorkload("prod", "kube-system", "coredns", "Deployment", 2, 2, 2, 2,
                     ("registry.k8s.io/coredns/coredns:v1.11.1",), FIXED_NOW - 400 * DAY,
                     selector=(("k8s-app", "kube-dns"),)),
        KubeWorkload("prod", "kube-system", "node-exporter", "DaemonSet", 4, 3, 4, 3,
                     ("quay.io/prometheus/node-exporter:v1.8.2",), FIXED_NOW - 300 * DAY,
                     selector=(("app", "node-exporter"),)),
        KubeWorkload("prod", "monitoring", "prometheus", "StatefulSet", 1, 1, 1, 1,
                     ("quay.io/prometheus/prometheus:v2.53.1",), FIXED_NOW - 300 * DAY),
        KubeWorkload("staging", "shop", "api", "Deployment", 1, 1, 1, 1, (api,), FIXED_NOW - 60 * DAY,
                     restarted_at="2026-11-15T09:12:00Z"),
    )


def recorded_kube_events(now: float) -> tuple[KubeEvent, ...]:
    def event(namespace: str, name: str, kind: str, obj: str, type_: str, reason: str, message: str,
              count: int, last_ago: float, first_ago: float, source: str = "kubelet") -> KubeEvent:
        return KubeEvent("prod", namespace, f"{obj}.{name}", type_, reason, message, kind, obj, count,
                         now - first_ago, now - last_ago, source)

    return (
        event("shop", "17f3a1", "Pod", "worker-5f6d7c8b9-h2j4k", "Warning", "BackOff",
              "Back-off restarting failed container worker in pod worker-5f6d7c8b9-h2j4k_shop", 42, 60,
              3600),
        event("shop", "17f3a0", "Pod", "worker-5f6d7c8b9-h2j4k", "Normal", "Pulled",
              'Container image "registry.example.com/shop/worker:2.3.1" already present on machine', 8, 180,
              3600),
        event("shop", "18a2c4", "Pod", "import-7b6c5d4f8-9vx2c", "Warning", "FailedScheduling",
              UNSCHEDULABLE, 12, 120, 600, "default-scheduler"),
        event("default", "19b7d2", "Node", "node-a3", "Warning", "NodeNotReady",
              "Node node-a3 status is now: NodeNotReady", 1, 1500, 1500, "node-controller"),
        event("shop", "1a0e55", "Pod", "cache-0", "Normal", "Started", "Started container redis", 4, 720,
              12 * DAY),
        event("shop", "1b4f90", "Deployment", "api", "Normal", "ScalingReplicaSet",
              "Scaled up replica set api-6c8d7f5b4 to 1", 1, 45, 45, "deployment-controller"),
        event("shop", "1c7a31", "PersistentVolumeClaim", "import-scratch", "Warning", "ProvisioningFailed",
              'storageclass.storage.k8s.io "fast-ssd" not found', 9, 240, 600,
              "persistentvolume-controller"),
    )


def recorded_kube_pvcs(now: float) -> tuple[KubePvc, ...]:
    return (
        KubePvc("prod", "shop", "data-cache-0", "Bound", 10 * GI, 10 * GI, "gp3",
                "pvc-3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a90", ("ReadWriteOnce",), FIXED_NOW - 200 * DAY),
        KubePvc("prod", "monitoring", "prometheus-db-prometheus-0", "Bound", 50 * GI, 50 * GI, "gp3",
                "pvc-8b2e4f61-1c3d-4a5b-8e9f-0a1b2c3d4e5f", ("ReadWriteOnce",), FIXED_NOW - 300 * DAY),
        KubePvc("prod", "shop", "import-scratch", "Pending", None, 100 * GI, "fast-ssd", "",
                ("ReadWriteOnce",), now - 600),
        KubePvc("staging", "shop", "data-cache-0", "Bound", 5 * GI, 5 * GI, "standard",
                "pvc-0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a", ("ReadWriteOnce",), FIXED_NOW - 60 * DAY),
    )


def recorded_kube_snapshot(view: str, i: int, contexts: Sequence[str] = ("prod", "staging")) -> KubeSnapshot:
    """Poll `i` of `k8s.<view>`: fixed records over `contexts`, usage history up to this poll.
    What just happened (a new pod, a crash, an event) stays as recent on every poll."""
    now = FIXED_NOW + 60 * i
    items: tuple[Any, ...] = {
        "nodes": recorded_kube_nodes, "workloads": lambda: recorded_kube_workloads(now),
        "pods": lambda: recorded_kube_pods(now), "events": lambda: recorded_kube_events(now),
        "pvcs": lambda: recorded_kube_pvcs(now),
    }[view]()
    items = tuple(r for r in items if r.context in contexts)
    statuses = tuple(
        ResourceStatus(c, r, True, KUBE_FAILING.get((c, r)),
                       sum(1 for x in items if x.context == c) if r != "metrics" else 0)
        for c in contexts for r in KUBE_RESOURCES[view]
    )
    usage: dict[str, Usage] = {}
    requested: dict[str, Usage] = {}
    history = UsageHistory(30)
    if view in ("nodes", "pods"):
        for k in range(max(0, i - 29), i + 1):  # the history the provider would hold by poll i
            history.add({key: u for key, u in recorded_kube_usage(k).items()
                         if key.split("/")[0] in contexts})
        usage = {key: u for key, u in recorded_kube_usage(i).items() if key.split("/")[0] in contexts}
    if view == "nodes":
        for pod in recorded_kube_pods(now):
            if isinstance(pod, KubePod) and pod.node and not pod.terminated and pod.context in contexts:
                key = f"{pod.context}/{pod.node}"
                was = requested.get(key, Usage(0.0, 0.0))
                requested[key] = Usage(was.cpu + pod.cpu_request, was.memory + pod.memory_request)
    return KubeSnapshot(taken_at=now, view=view, items=items, statuses=statuses, usage=usage,
                        requested=requested, history=history)


LOG_LINES = ("2026-11-18T10:00:01Z starting worker 2.3.1", "2026-11-18T10:00:02Z connecting to queue",
             "2026-11-18T10:00:03Z panic: queue password not set")


class RecordedKubeProvider(Provider):
    """`k8s.<view>` replaying a fixed cluster; actions record their targets; `logs`
    yields fixed lines and remembers what was asked."""

    def __init__(self, view: str, contexts: Sequence[str] = ("prod", "staging")) -> None:
        super().__init__(f"k8s.{view}", interval=5.0, timeout=5.0)
        self.view = view
        self.contexts = tuple(contexts)
        self.polls = 0
        self.calls: list[tuple[str, ActionTarget]] = []
        self.log_requests: list[tuple[str, str, bool]] = []

    async def poll(self) -> KubeSnapshot:
        snap = recorded_kube_snapshot(self.view, self.polls, self.contexts)
        self.polls += 1
        return snap

    def actions(self) -> list[ActionSpec]:
        return list(ACTIONS_BY_VIEW[self.view])

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in {s.id for s in self.actions()}:
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target))
            chosen = "".join(f" ({k} {v})" for k, v in target.params.items())
            return ActionResult(True, f"{action_id.split('.', 1)[1]} {target.name}{chosen} requested")

        return run

    async def logs(self, pod: KubePod, container: str, previous: bool = False) -> AsyncIterator[list[str]]:
        self.log_requests.append((pod.key, container, previous))
        yield [f"{line} ({container}{', previous' if previous else ''})" for line in LOG_LINES]


def recorded_kube_providers(contexts: Sequence[str] = ("prod", "staging"),
                            views: Sequence[str] = KUBE_VIEW_NAMES) -> list[Provider]:
    return [RecordedKubeProvider(v, contexts) for v in views]


# -- recorded HA clusters -----------------------------------------------------------------------

MIB_ = 2**20


def _pg_member(name: str, n: int, role: str, i: int, *, upstream: str | None = None,
               lag: int | None = None, lag_s: float | None = None, **extra: Any) -> Member:
    """A Patroni member on 10.0.0.1n:5432 with PostgreSQL stats that move with poll `i`."""
    leader = role == PRIMARY
    wave = (i % 6) - 3
    stats = DbStats(
        connections=42 + wave if leader else 12 + wave, max_connections=200,
        by_state=(("active", 5 + wave), ("idle", 35), ("idle in transaction", 2)) if leader
        else (("active", 1), ("idle", 11 + wave)),
        cache_hit_ratio=0.993 if leader else 0.981,
        longest_query_s=12.5 if leader else None,
        longest_query="SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id"
        if leader else "",
        longest_xact_s=31.0 if leader else None, lock_waiting=1 if leader else 0,
        database_sizes=(("shop", 12 * 2**30 + 400 * MIB_), ("postgres", 7.6 * MIB_)),
        top_statements=(
            Statement("UPDATE stock SET qty = qty - $1 WHERE sku = $2", 48_211, 96_422.0, 2.0),
            Statement("SELECT * FROM orders WHERE customer_id = $1 ORDER BY created DESC", 9_870, 41_454.0,
                      4.2),
        ) if leader else (),
        statements_note="" if leader else "pg_stat_statements is not installed in shop",
    )
    rates = (("xact_per_s", 120.0 + 15 * wave), ("rows_per_s", 4_500.0 + 600 * wave)) if leader else (
        ("xact_per_s", 4.0 + wave + 3), ("rows_per_s", 300.0 + 40 * wave))
    defaults: dict[str, Any] = dict(
        timeline=4, lag_bytes=lag, lag_seconds=lag_s, replicating=None if leader else True,
        details=(("patroni", "3.3.2"), ("pending restart", "no")), stats=stats, health=OK, rates=rates,
        state="running" if leader else "streaming")
    defaults.update(extra)
    return Member(name, f"10.0.0.1{n}", 5432, role, upstream=upstream, **defaults)


def recorded_ha_main(i: int, *, pg3_reachable: bool = True) -> HaSnapshot:
    """A healthy Patroni cluster: leader pg1, a synchronous replica pg2, a replica pg3
    and pg4 cascading from pg3 (lag moves with poll `i`)."""
    now = FIXED_NOW + 5 * i
    wave = (i % 6) - 3
    pg3 = _pg_member("pg3", 3, REPLICA, i, upstream="pg1", lag=(64 + 40 * (wave + 3)) * 1024,
                     lag_s=0.4 + 0.2 * (wave + 3))
    if not pg3_reachable:
        pg3 = dataclasses.replace(pg3, reachable=False, state="unreachable", lag_bytes=None, lag_seconds=None,
                                  stats=None, rates=(), health=BAD, replicating=False,
                                  error="connection refused (10.0.0.13:8008)")
    members = (
        _pg_member("pg1", 1, PRIMARY, i),
        _pg_member("pg2", 2, SYNC_REPLICA, i, upstream="pg1", lag=0, lag_s=0.0),
        pg3,
        _pg_member("pg4", 4, REPLICA, i, upstream="pg3", lag=(1200 + 300 * (wave + 3)) * 1024,
                   lag_s=1.5 + 0.5 * (wave + 3), health=WARN if pg3_reachable else BAD),
    )
    events = (
        HaEvent(FIXED_NOW - 26 * 3600, "main", "member_lost", "pg2", "pg2 lost: connection refused"),
        HaEvent(FIXED_NOW - 26 * 3600 + 40, "main", "leader_changed", "pg1", "leader pg2 → pg1"),
        HaEvent(FIXED_NOW - 26 * 3600 + 40, "main", "timeline_changed", "pg1", "timeline 3 → 4"),
        HaEvent(FIXED_NOW - 25 * 3600, "main", "member_back", "pg2", "pg2 back (replica)"),
    )
    history = (
        HistoryEntry(2, 0x3000060, "no recovery target specified", "2026-11-02T09:14:07+00:00"),
        HistoryEntry(3, 0x5000148, "no recovery target specified", "2026-11-10T22:41:55+00:00"),
        HistoryEntry(4, 0x7A2D8B0, "no recovery target specified", "2026-11-17T09:07:20+00:00"),
    )
    if pg3_reachable:
        health, summary, problems = HEALTHY, "4 members, pg4 1.7 MB behind", ()
    else:
        health, summary = DEGRADED, "pg3 unreachable"
        problems = ("http://10.0.0.13:8008: connection refused",)
    return HaSnapshot(taken_at=now, cluster="main", kind="patroni", members=members, leader="pg1",
                      health=health, summary=summary, history=history, events=events, problems=problems)


def recorded_ha_shop(i: int) -> HaSnapshot:
    """A degraded MariaDB pair: db1 primary, db2's IO thread cannot reach it."""
    now = FIXED_NOW + 5 * i
    wave = (i % 6) - 3
    db1 = Member("db1", "10.0.1.5", 3306, PRIMARY, "running", details=(("version", "10.11.6-MariaDB"),
                                                                        ("gtid", "0-1-884213")),
                 stats=DbStats(connections=18 + wave, max_connections=151, threads_running=3 + wave % 2,
                               database_sizes=(("shop", 3 * 2**30),)),
                 health=OK, rates=(("queries_per_s", 850.0 + 90 * wave), ("slow_queries_per_s", 0.2)))
    db2 = Member("db2", "10.0.1.6", 3306, REPLICA, "connecting", upstream="db1", lag_seconds=None,
                 replicating=False, health=BAD,
                 error="Last_IO_Error: error reconnecting to master 'repl@10.0.1.5:3306' - retry-time: 60",
                 details=(("io thread", "Connecting"), ("sql thread", "Yes"), ("gtid", "0-1-880101")),
                 stats=DbStats(connections=4, max_connections=151, threads_running=1),
                 rates=(("queries_per_s", 2.0), ("slow_queries_per_s", 0.0)))
    events = (HaEvent(FIXED_NOW - 600, "shop", "replication_broken", "db2",
                      "replication broken on db2: Last_IO_Error: error reconnecting to master"),)
    return HaSnapshot(taken_at=now, cluster="shop", kind="mariadb", members=(db1, db2), leader="db1",
                      health=DEGRADED, summary="db2: replication broken", events=events)


def recorded_ha_orders(i: int) -> HaSnapshot:
    """Plain PostgreSQL streaming replication (no Patroni): a primary and one replica."""
    now = FIXED_NOW + 5 * i
    return HaSnapshot(taken_at=now, cluster="orders", kind="postgres", leader="ord1", health=HEALTHY,
                      members=(_pg_member("ord1", 7, PRIMARY, i),
                               _pg_member("ord2", 8, REPLICA, i, upstream="ord1", lag=0, lag_s=0.0)))


class RecordedHaProvider(Provider):
    """`ha.<cluster>` replaying snapshots built by `build(poll number)`; actions record
    their targets (with the params the operator chose) and succeed."""

    def __init__(self, cluster: str, build: Callable[[int], HaSnapshot]) -> None:
        super().__init__(f"ha.{cluster}", interval=5.0, timeout=5.0)
        self.build = build
        self.polls = 0
        self.calls: list[tuple[str, ActionTarget]] = []

    async def poll(self) -> HaSnapshot:
        snap = self.build(self.polls)
        self.polls += 1
        return snap

    def actions(self) -> list[ActionSpec]:
        return list(PATRONI_ACTIONS) if self.build(0).kind == "patroni" else []

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in {s.id for s in PATRONI_ACTIONS}:
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target))
            chosen = "".join(f" ({k} {v})" for k, v in target.params.items())
            return ActionResult(True, f"{action_id.split('.', 1)[1]} {target.name}{chosen} requested")

        return run


def recorded_ha_providers(*clusters: str) -> list[Provider]:
    """`main` (Patroni, healthy), `shop` (MariaDB, degraded), `orders` (PostgreSQL)."""
    builders = {"main": recorded_ha_main, "shop": recorded_ha_shop, "orders": recorded_ha_orders}
    return [RecordedHaProvider(c, builders[c]) for c in clusters or ("main", "shop")]


# -- recorded backup targets ---------------------------------------------------------------------

DAY = 86400.0
GIB = 2**30
MIDNIGHT = FIXED_NOW - FIXED_NOW % DAY  # 2026-11-18 00:00 UTC; FIXED_NOW is 11:06:40 that day


def _stamp(ts: float, fmt: str = "%Y%m%d-%H%M%S") -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def target_snapshot(target: str, kind: str, label: str, backups: Sequence[Backup],
                    decisions: dict[str, tuple[bool, tuple[str, ...]]], *, now: float, rpo: float | None,
                    rpo_status: str, status: str, schedule: ScheduleStatus | None = None,
                    verifications: Sequence[Verification] = (), verify_status: str = bk.NA,
                    **extra: Any) -> TargetSnapshot:
    """A TargetSnapshot as the provider would compute it from these backups (newest
    first) and retention's verdicts (id -> (keep, reasons))."""
    ordered = tuple(sorted(backups, key=lambda b: b.time, reverse=True))
    newest = next((b for b in ordered if b.good), None)
    counted = [b for b in ordered if b.good or b.status == bk.RUNNING]  # as status.build_snapshot counts
    sizes = [b.size for b in counted if b.size is not None]
    plan = RetentionPlan(tuple(Decision(b.id, *decisions.get(b.id, (True, ("no rule deletes it",))))
                               for b in ordered))
    return TargetSnapshot(
        taken_at=now, target=target, source_kind=kind, label=label, backups=ordered, newest_good=newest,
        age=now - newest.time if newest else None, rpo=rpo, rpo_status=rpo_status, schedule=schedule,
        count=len(counted), total_size=sum(sizes) if sizes else None, plan=plan,
        verification=verifications[0] if verifications else None, verifications=tuple(verifications),
        verify_status=verify_status, status=status, **extra)


def _daily(ts: float) -> str:
    return f"daily {_stamp(ts, '%Y-%m-%d')}"


def _weekly(ts: float) -> str:
    year, week, _ = datetime.fromtimestamp(ts, UTC).isocalendar()
    return f"weekly {year}-W{week:02d}"


def recorded_backup_orders(i: int) -> TargetSnapshot:
    """pgBackRest, all well: a full every Sunday and an incremental every other night
    at 01:00 for a month; keep_daily 7, keep_weekly 4 keep the last week and the fulls
    of four weeks, the rest goes. Restore-tested two days ago."""
    now = FIXED_NOW + 5 * i
    backups: list[Backup] = []
    decisions: dict[str, tuple[bool, tuple[str, ...]]] = {}
    chain: list[Backup] = []
    for d in range(31, -1, -1):  # oldest first: an incremental depends on the backups before it
        at = MIDNIGHT - d * DAY + 3600
        if datetime.fromtimestamp(at, UTC).weekday() == 6 or not chain:
            label = f"{_stamp(at)}F"
            b = Backup(label, at, size=int((40 + 0.25 * (30 - d)) * GIB), kind="full", duration=1900.0,
                       details=(("wal", "000000040000012A00000031-000000040000012A0000003F"),))
            chain = [b]
        else:
            label = f"{chain[0].id}_{_stamp(at)}I"
            b = Backup(label, at, size=int((1.4 + 0.1 * (d % 5)) * GIB), kind="incr", duration=140.0,
                       depends_on=(chain[0].id, chain[-1].id))
            chain.append(b)
        backups.append(b)
    for b in backups:
        d = int((MIDNIGHT + 3600 - b.time) // DAY)
        if d < 7:
            decisions[b.id] = (True, (("newest good",) if d == 0 else ()) + (_daily(b.time),))
        elif b.kind == "full" and d < 28:
            decisions[b.id] = (True, (_weekly(b.time),))
        else:
            decisions[b.id] = (False, ("no rule keeps it",))
    newest_full = next(b for b in reversed(backups) if b.kind == "full")
    verifications = (
        Verification("orders-db", MIDNIGHT - 2 * DAY + 4 * 3600, True, 192.0, newest_full.id, "pgbackrest",
                     "3 checks passed", (Check("orders rows", "1843211", True, ">= 1000"),
                                         Check("newest order", "2026-11-15 00:58", True),
                                         Check("tables", "42", True, ">= 40"))),
        Verification("orders-db", MIDNIGHT - 9 * DAY + 4 * 3600, True, 185.0,
                     f"{_stamp(MIDNIGHT - 10 * DAY + 3600)}F", "pgbackrest", "3 checks passed"),
    )
    schedule = ScheduleStatus("0 1 * * *", MIDNIGHT + 3600, MIDNIGHT + DAY + 3600, False)
    return target_snapshot(
        "orders-db", "pgbackrest", "stanza main", backups, decisions, now=now, rpo=26 * 3600.0,
        rpo_status=bk.OK, status=bk.OK, schedule=schedule, verifications=verifications,
        verify_status=bk.OK, backup_modes=("full", "diff", "incr"), verifiable=True,
        facts=(("repository", "repo1 · /var/lib/pgbackrest · posix"),
               ("database", "PostgreSQL 16 · system id 7305829144571337751")))


def recorded_backup_web(i: int) -> TargetSnapshot:
    """EBS snapshots of web-1's root volume: the DLM policy broke three days ago, so the
    newest snapshot is 3d08h old against an RPO of 24h — a breach."""
    now = FIXED_NOW + 5 * i
    backups = [Backup(f"snap-0a1b2c3d4e5f6{d:04d}", MIDNIGHT - d * DAY + 3 * 3600, size=30 * GIB,
                      kind="snapshot", details=(("volume", "vol-001aa00000000001"),))
               for d in range(3, 17)]
    decisions = {b.id: ((True, (_daily(b.time),)) if n < 7 else (False, ("no rule keeps it",)))
                 for n, b in enumerate(backups)}
    decisions[backups[0].id] = (True, ("newest good", _daily(backups[0].time)))
    return target_snapshot(
        "web-ebs", "ebs", "vol-001aa00000000001 web-1-root (prod/us-east-1)", backups, decisions, now=now,
        rpo=24 * 3600.0, rpo_status=bk.BREACH, status=bk.BAD, backup_modes=("snapshot",),
        facts=(("volume", "vol-001aa00000000001 · 30 GiB gp3 · in-use by i-001a1b2c3d4e5f601 (web-1)"),),
        schedules=("DLM policy policy-0f3e (web-daily): every 24h at 03:00 UTC · state ERROR",))


def recorded_backup_shop(i: int) -> TargetSnapshot:
    """pg_dump files of the shop database: last night's job did not run and the night
    before wrote an empty file, so the schedule is missed (the RPO only warns); the
    last restore test passed nine days ago — stale — and the one before failed."""
    now = FIXED_NOW + 5 * i
    backups = []
    for d in range(2, 16):
        at = MIDNIGHT - d * DAY + 2 * 3600
        size = int((2.0 + 0.02 * (16 - d)) * GIB) if d != 9 else int(1.1 * GIB)
        backups.append(Backup(f"shop-{_stamp(at)}.dump", at, size=size, kind="pg_dump", duration=310.0))
    failed_at = MIDNIGHT - DAY + 2 * 3600
    backups.append(Backup(f"shop-{_stamp(failed_at)}.dump", failed_at, status=bk.FAILED, size=0,
                          kind="pg_dump", note="0 bytes: pg_dump did not finish"))
    ordered = sorted(backups, key=lambda b: b.time, reverse=True)
    decisions: dict[str, tuple[bool, tuple[str, ...]]] = {ordered[0].id: (False, ("failed",))}
    for n, b in enumerate(ordered[1:]):
        decisions[b.id] = (True, ((("newest good",) if n == 0 else ()) + (_daily(b.time),))) if n < 7 else (
            (True, (_weekly(b.time),)) if datetime.fromtimestamp(b.time, UTC).weekday() == 6
            else (False, ("no rule keeps it",)))
    verifications = (
        Verification("shop-dumps", MIDNIGHT - 9 * DAY + 5 * 3600, True, 260.0,
                     f"shop-{_stamp(MIDNIGHT - 9 * DAY + 2 * 3600)}.dump", "pg_dump", "2 checks passed"),
        Verification("shop-dumps", MIDNIGHT - 16 * DAY + 5 * 3600, False, 240.0,
                     f"shop-{_stamp(MIDNIGHT - 16 * DAY + 2 * 3600)}.dump", "pg_dump", "1 of 2 checks failed",
                     (Check("orders rows", "0", False, ">= 1000"), Check("customers rows", "5120", True))),
    )
    schedule = ScheduleStatus("0 2 * * *", MIDNIGHT + 2 * 3600, MIDNIGHT + DAY + 2 * 3600, True)
    return target_snapshot(
        "shop-dumps", "dumps", "/var/backups/shop (pg_dump)", backups, decisions, now=now, rpo=3 * DAY,
        rpo_status=bk.WARN, status=bk.WARN, schedule=schedule, verifications=verifications,
        verify_status=bk.STALE, backup_modes=("pg_dump",), verifiable=True,
        facts=(("directory", "/var/backups/shop · shop-%Y%m%d-%H%M%S.dump"),))


def recorded_backup_billing(i: int) -> TargetSnapshot:
    """RDS: seven automated snapshots RDS expires itself, and manual ones; retention
    (max_age 90d) deletes the manual snapshot taken before last summer's upgrade."""
    now = FIXED_NOW + 5 * i
    automated = "automated: RDS deletes it after 7 days"
    backups = [Backup(f"rds:billing-db-{_stamp(MIDNIGHT - d * DAY + 9000, '%Y-%m-%d-%H-%M')}",
                      MIDNIGHT - d * DAY + 9000, size=200 * GIB, kind="automated", deletable=False,
                      note=automated)
               for d in range(7)]
    manual = [("billing-db-pre-upgrade-2026-08-02", 108), ("billing-db-2026-10-01", 48),
              ("billing-db-2026-11-01", 17)]
    backups += [Backup(name, MIDNIGHT - d * DAY + 14 * 3600, size=200 * GIB, kind="manual")
                for name, d in manual]
    decisions: dict[str, tuple[bool, tuple[str, ...]]] = {
        b.id: (True, (f"not deletable: {automated}",)) for b in backups if not b.deletable}
    decisions[backups[0].id] = (True, ("newest good", f"not deletable: {automated}"))
    decisions["billing-db-pre-upgrade-2026-08-02"] = (False, ("older than max_age 90d",))
    decisions["billing-db-2026-10-01"] = (True, ("monthly 2026-10",))
    decisions["billing-db-2026-11-01"] = (True, ("monthly 2026-11",))
    return target_snapshot(
        "billing-rds", "rds", "billing-db (prod/eu-west-1)", backups, decisions, now=now, rpo=26 * 3600.0,
        rpo_status=bk.OK, status=bk.OK, backup_modes=("manual",),
        facts=(("engine", "postgres 16.3 · db.r6g.large · 200 GiB"), ("backup window", "02:30-03:00 UTC"),
               ("automated retention", "7 days")),
        schedules=("RDS backup window 02:30-03:00 UTC: automated snapshots, kept 7 days",))


def recorded_backup_files(i: int) -> TargetSnapshot:
    """AWS Backup recovery points of a file system; the endpoint lists the points but
    not the plans — a listing problem, one line, the rest still shown."""
    now = FIXED_NOW + 5 * i
    lifecycle = "AWS Backup lifecycle deletes it"
    backups = [Backup(f"arn:aws:backup:us-east-1:123456789012:recovery-point:{d:02d}a1e-7c2f",
                      MIDNIGHT - d * DAY + 5 * 3600, size=int(310 * GIB), kind="recovery pt", deletable=False,
                      note=lifecycle) for d in range(5)]
    decisions = {b.id: (True, (f"not deletable: {lifecycle}",)) for b in backups}
    return target_snapshot(
        "files-vault", "aws_backup", "vault prod-vault · fs-0abc123 (prod/us-east-1)", backups, decisions,
        now=now, rpo=26 * 3600.0, rpo_status=bk.OK, status=bk.WARN,
        problems=("AWS Backup plans: not available at this endpoint (ListBackupPlans is not implemented)",))


def recorded_backup_big(count: int = 2000) -> Callable[[int], TargetSnapshot]:
    """Hourly dumps, `count` of them: the last 48 and one a day kept, the rest deleted."""

    def build(i: int) -> TargetSnapshot:
        now = FIXED_NOW + 5 * i
        backups = [Backup(f"big-{_stamp(MIDNIGHT + 3600 * (10 - h))}.dump", MIDNIGHT + 3600 * (10 - h),
                          size=int((5 + (h % 24) / 24) * GIB), kind="pg_dump") for h in range(count)]
        decisions: dict[str, tuple[bool, tuple[str, ...]]] = {}
        for h, b in enumerate(backups):
            if h < 48:
                decisions[b.id] = (True, ("last 48",))
            elif datetime.fromtimestamp(b.time, UTC).hour == 0:
                decisions[b.id] = (True, (_daily(b.time),))
            else:
                decisions[b.id] = (False, ("no rule keeps it",))
        return target_snapshot("big-dumps", "dumps", "/srv/dumps (pg_dump, hourly)", backups, decisions,
                               now=now, rpo=2 * 3600.0, rpo_status=bk.OK, status=bk.OK,
                               backup_modes=("pg_dump",), verifiable=True, verify_status="never")

    return build


BACKUP_BUILDERS: dict[str, Callable[[int], TargetSnapshot]] = {
    "orders-db": recorded_backup_orders, "web-ebs": recorded_backup_web, "shop-dumps": recorded_backup_shop,
    "billing-rds": recorded_backup_billing, "files-vault": recorded_backup_files,
}


class RecordedBackupProvider(Provider):
    """`backups.<target>` replaying snapshots built by `build(poll number)`; its actions
    record their targets and succeed. Set `hold` to keep an action running until the
    test sets the event (a backup that takes minutes)."""

    def __init__(self, target: str, build: Callable[[int], TargetSnapshot]) -> None:
        super().__init__(f"backups.{target}", interval=300.0, timeout=60.0)
        self.build = build
        self.polls = 0
        self.calls: list[tuple[str, ActionTarget]] = []
        self.hold: asyncio.Event | None = None

    async def poll(self) -> TargetSnapshot:
        snap = self.build(self.polls)
        self.polls += 1
        return snap

    def actions(self) -> list[ActionSpec]:
        return list(BACKUP_ACTIONS)

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in {s.id for s in BACKUP_ACTIONS}:
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target))
            if self.hold is not None:
                await self.hold.wait()
            if action_id == BACKUP_NOW.id:
                mode = target.params.get("mode")
                return ActionResult(True, f"Backup now {target.name}: {mode} backup taken")
            if action_id == PRUNE.id:
                ids = target.params["delete"].split(DELETE_SEPARATOR)
                return ActionResult(True, f"Prune {target.name}: deleted {len(ids)} of {len(ids)}")
            assert action_id == VERIFY.id
            backup = target.details["backup"]
            return ActionResult(True, f"Verify {target.name}: {backup} restored and checked")

        return run


def recorded_backup_providers(*targets: str) -> list[Provider]:
    """`orders-db` (pgBackRest, ok), `web-ebs` (EBS, RPO breach), `shop-dumps` (missed
    schedule, stale restore test), `billing-rds` (automated + manual), `files-vault`
    (AWS Backup, a listing problem)."""
    return [RecordedBackupProvider(t, BACKUP_BUILDERS[t]) for t in targets or BACKUP_BUILDERS]


# -- what a Pilot test reads back ------------------------------------------------------------


def messages(app: StacktopApp) -> list[str]:
    """The toasts the app has shown, oldest first."""
    return [n.message for n in app._notifications]


def audit_records(tmp_path: Path) -> list[dict[str, object]]:
    """The audit log `build_app` writes under tmp_path, one dict a record."""
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def filter_to(pilot: Any, text: str) -> None:
    """Type a table filter the way an operator does: `/`, the text, Enter."""
    await pilot.press("slash", *text, "enter")
    await pilot.pause()


async def fill_polls(pilot, rounds: int = 24) -> None:  # type: ignore[no-untyped-def]
    """Poll every provider `rounds` times (sparklines fill up), then draw the status line:
    the fixed state every snapshot test starts from."""
    for _ in range(rounds):
        for name in pilot.app.runtime.providers:
            await pilot.app.runtime.poll_provider(name)
    await pilot.pause()
    pilot.app._refresh_status()
    await pilot.pause()

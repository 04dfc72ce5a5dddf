"""The demo's AWS estate: seeded through the real API into moto, read back the way
the provider reads it, and started/stopped without leaving threads or ports.

One MotoDemoBackend serves the module (seeding and an hour of metrics take ~5 s).
moto's state is global to the process, so these tests never reset it; the
bulk-seeding test uses a region the fleet does not.
"""

from __future__ import annotations

import ast
import math
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import tui.demo.aws_fleet as aws_fleet
from config.loader import load_settings
from tests.support.aws import iter_instances
from tui.demo.aws_fleet import (
    DEMO_ROLE_ARN,
    DEMO_SECRET_KEY,
    PROD_ACCOUNT,
    STAGING_ACCOUNT,
    FleetInfo,
    MetricPump,
    MotoDemoBackend,
    PartitionFleet,
    seed_bulk,
)

pytestmark = pytest.mark.integration

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoDemoBackend]:
    with pytest.MonkeyPatch.context() as mp:  # nothing from the host's ~/.aws
        empty = tmp_path_factory.mktemp("aws")
        mp.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID"):
            mp.delenv(name, raising=False)
        backend = MotoDemoBackend()
        backend.start()
        try:
            yield backend
        finally:
            backend.stop()


@pytest.fixture
def fleet(demo: MotoDemoBackend) -> FleetInfo:
    assert demo.fleet is not None
    return demo.fleet


def _states(fleet: FleetInfo, account: str, region: str) -> dict[str, str]:
    ec2 = fleet.client("ec2", account, region)
    return {i["InstanceId"]: i["State"]["Name"] for i in iter_instances(ec2)}


# ------------------------------------------------------------------ the estate

def test_two_accounts_are_separate_in_moto(fleet: FleetInfo) -> None:
    assert fleet.client("sts", "prod", "us-east-1").get_caller_identity()["Account"] == PROD_ACCOUNT
    assert fleet.client("sts", "staging", "us-east-1").get_caller_identity()["Account"] == STAGING_ACCOUNT
    for region in fleet.regions:
        prod = _states(fleet, "prod", region)
        staging = _states(fleet, "staging", region)
        assert set(prod) == set(fleet.partition("prod", region).instances)
        assert set(staging) == set(fleet.partition("staging", region).instances)
        assert prod and staging and not set(prod) & set(staging)
    assert 55 <= fleet.instance_count() <= 65


def test_instances_in_mixed_states_with_tags(fleet: FleetInfo) -> None:
    ec2 = fleet.client("ec2", "prod", "us-east-1")
    instances = {i["InstanceId"]: i for i in iter_instances(ec2)}
    part = fleet.partition("prod", "us-east-1")
    assert {i: instances[i]["State"]["Name"] for i in instances} == part.instance_states
    states = list(part.instance_states.values())
    assert states.count("running") > states.count("stopped") >= 3 and states.count("terminated") == 1
    for inst in instances.values():
        tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
        assert tags["Environment"] == "production" and tags["Team"]
        if inst["State"]["Name"] == "stopped":
            assert inst["StateTransitionReason"].startswith(f"User initiated ({datetime.now(UTC).year}-")
    names = {t["Value"] for i in instances.values() for t in i["Tags"] if t["Key"] == "Name"}
    assert {"web-01", "api-03", "worker-12", "batch-2"} <= names
    assert len({i["InstanceType"] for i in instances.values()}) >= 4


def test_volumes_and_snapshots(fleet: FleetInfo) -> None:
    for (account, region), part in fleet.partitions.items():
        ec2 = fleet.client("ec2", account, region)
        volumes = {v["VolumeId"]: v for v in ec2.describe_volumes()["Volumes"]}
        assert all(volumes[v]["State"] == "available" for v in part.available_volumes)
        for vid, iid in part.attachments.items():
            assert volumes[vid]["Attachments"][0]["InstanceId"] == iid
            assert volumes[vid]["Attachments"][0]["Device"] == "/dev/sdf"
        snapshots = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        assert sorted(s["SnapshotId"] for s in snapshots) == sorted(part.snapshots)  # no built-in ones
    prod = fleet.client("ec2", "prod", "us-east-1").describe_volumes()["Volumes"]
    assert {True, False} <= {v["Encrypted"] for v in prod}
    assert len(fleet.partition("prod", "us-east-1").available_volumes) == 3


def test_rds_primary_replica_and_mysql_in_staging(fleet: FleetInfo) -> None:
    prod = {d["DBInstanceIdentifier"]: d
            for d in fleet.client("rds", "prod", "us-east-1").describe_db_instances()["DBInstances"]}
    assert prod["orders-pg"]["Engine"] == "postgres" and prod["orders-pg"]["MultiAZ"] is True
    assert prod["orders-pg"]["ReadReplicaDBInstanceIdentifiers"] == ["orders-pg-replica-1"]
    assert prod["orders-pg-replica-1"]["ReadReplicaSourceDBInstanceIdentifier"] == "orders-pg"
    staging = fleet.client("rds", "staging", "us-east-1").describe_db_instances()["DBInstances"]
    assert [(d["DBInstanceIdentifier"], d["Engine"]) for d in staging] == [("staging-mysql", "mysql")]
    assert fleet.replica_of == {"orders-pg-replica-1": "orders-pg"}


def test_target_health_answers(fleet: FleetInfo) -> None:
    elb = fleet.client("elbv2", "prod", "us-east-1")
    part = fleet.partition("prod", "us-east-1")
    by_name = {name: iid for iid, name in part.instances.items()}
    groups = {g["TargetGroupName"]: g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]}
    assert set(groups) == {"prod-web-tg", "prod-api-tg"}
    listed = elb.describe_target_health(TargetGroupArn=groups["prod-web-tg"])["TargetHealthDescriptions"]
    health = {h["Target"]["Id"]: h["TargetHealth"] for h in listed}
    assert health[by_name["web-01"]]["State"] == "healthy"
    assert health[by_name["web-08"]] == {"State": "unused", "Reason": "Target.InvalidState",
                                         "Description": "Target is in the stopped state"}
    assert by_name["web-07"] not in health  # terminated: moto drops it from the listing...
    asked = elb.describe_target_health(TargetGroupArn=groups["prod-web-tg"],
                                       Targets=[{"Id": by_name["web-07"], "Port": 80}])
    assert asked["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "draining"  # ...unless asked
    kinds = sorted(lb["Type"] for r in fleet.regions
                   for lb in fleet.client("elbv2", "prod", r).describe_load_balancers()["LoadBalancers"])
    assert kinds == ["application", "application", "network"]


def test_buckets_in_both_regions_and_lambda_functions(fleet: FleetInfo) -> None:
    s3 = fleet.client("s3", "prod", "us-east-1")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert names == {b for r in fleet.regions for b in fleet.partition("prod", r).buckets}
    assert s3.get_bucket_location(Bucket="stacktop-demo-prod-logs-eu")["LocationConstraint"] == "eu-west-1"
    assert s3.list_objects_v2(Bucket="stacktop-demo-prod-assets")["KeyCount"] == 12
    lam = fleet.client("lambda", "prod", "us-east-1")
    functions = {f["FunctionName"]: (f["Runtime"], f["MemorySize"])
                 for f in lam.list_functions()["Functions"]}
    assert functions == {"thumbnailer": ("python3.12", 1024), "order-events": ("nodejs20.x", 256),
                         "nightly-report": ("python3.11", 512)}
    staging = fleet.client("lambda", "staging", "us-east-1").list_functions()["Functions"]
    assert {f["FunctionName"] for f in staging} == {"thumbnailer-staging", "auth-hook"}


# ------------------------------------------------------------------ metrics

def _metric_query(ident: str, namespace: str, metric: str, dims: list[tuple[str, str]], stat: str,
                  period: int = 60) -> dict[str, Any]:
    return {"Id": ident, "MetricStat": {"Metric": {
        "Namespace": namespace, "MetricName": metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims]}, "Period": period, "Stat": stat}}


def test_an_hour_of_metrics_is_readable(fleet: FleetInfo) -> None:
    part = fleet.partition("prod", "us-east-1")
    cw = fleet.client("cloudwatch", "prod", "us-east-1")
    end = math.floor(time.time() / 60) * 60 + 60  # as the provider aligns its window
    start = end - 3600 - 60
    instance = sorted(part.running())[0]
    stopped = next(i for i, s in part.instance_states.items() if s == "stopped")
    alb = next(a for a, kind in part.load_balancers.items() if kind == "application")
    queries = [
        _metric_query("cpu", "AWS/EC2", "CPUUtilization", [("InstanceId", instance)], "Average"),
        _metric_query("netin", "AWS/EC2", "NetworkIn", [("InstanceId", instance)], "Sum"),
        _metric_query("stopped", "AWS/EC2", "CPUUtilization", [("InstanceId", stopped)], "Average"),
        _metric_query("lag", "AWS/RDS", "ReplicaLag", [("DBInstanceIdentifier", "orders-pg-replica-1")],
                      "Average"),
        _metric_query("nolag", "AWS/RDS", "ReplicaLag", [("DBInstanceIdentifier", "orders-pg")], "Average"),
        _metric_query("conns", "AWS/RDS", "DatabaseConnections", [("DBInstanceIdentifier", "orders-pg")],
                      "Average"),
        _metric_query("req", "AWS/ApplicationELB", "RequestCount",
                      [("LoadBalancer", alb.split(":loadbalancer/")[1])], "Sum"),
    ]
    results = {r["Id"]: r for r in cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end,
                                                      ScanBy="TimestampAscending")["MetricDataResults"]}
    assert 59 <= len(results["cpu"]["Values"]) <= 62  # one point a minute, backfilled and pumped
    assert all(0 <= v <= 100 for v in results["cpu"]["Values"])
    stamps = [t.timestamp() for t in results["cpu"]["Timestamps"]]
    assert stamps == sorted(stamps) and all((t - start) % 60 == 0 for t in stamps)
    assert len(set(results["cpu"]["Values"])) > 10  # a walk, not a constant
    assert results["netin"]["Values"] and results["lag"]["Values"] and results["conns"]["Values"]
    assert results["req"]["Values"] and all(v == int(v) for v in results["req"]["Values"])
    assert results["stopped"]["Values"] == [] and results["nolag"]["Values"] == []


def test_s3_storage_is_daily_in_the_queried_dimension_order(fleet: FleetInfo) -> None:
    cw = fleet.client("cloudwatch", "prod", "eu-west-1")
    day = 86400
    end = math.floor(time.time() / day) * day + day
    reply = cw.get_metric_data(MetricDataQueries=[
        _metric_query("size", "AWS/S3", "BucketSizeBytes",
                      [("BucketName", "stacktop-demo-prod-logs-eu"), ("StorageType", "StandardStorage")],
                      "Average", day),
        _metric_query("objects", "AWS/S3", "NumberOfObjects",
                      [("BucketName", "stacktop-demo-prod-logs-eu"), ("StorageType", "AllStorageTypes")],
                      "Average", day),
    ], StartTime=end - 4 * day, EndTime=end, ScanBy="TimestampAscending")
    size, objects = reply["MetricDataResults"]
    assert [t.timestamp() for t in size["Timestamps"]] == [end - 4 * day + k * day for k in range(4)]
    contents = fleet.partition("prod", "eu-west-1").bucket_contents
    objects_today, bytes_today = contents["stacktop-demo-prod-logs-eu"]
    assert size["Values"][-1] == bytes_today and objects["Values"][-1] == objects_today == 6
    assert size["Values"][0] < bytes_today  # grew towards today


def test_fast_metric_data_gives_moto_s_own_answers(fleet: FleetInfo) -> None:
    from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

    fast = CloudWatchBackend.get_metric_data
    original = fast.__wrapped__
    backend = cloudwatch_backends[PROD_ACCOUNT]["us-east-1"]
    part = fleet.partition("prod", "us-east-1")
    now = datetime.now(UTC).replace(microsecond=123456, tzinfo=None)  # moto keeps naive UTC
    start = now - timedelta(seconds=3700)  # not aligned on purpose
    stats = ("Average", "Sum", "Maximum", "Minimum", "SampleCount")
    combos = [(i, stat, period) for i in sorted(part.running())[:3] for stat in stats for period in (60, 300)]
    queries = [_metric_query(f"c{n}", "AWS/EC2", "CPUUtilization", [("InstanceId", i)], stat, period)
               for n, (i, stat, period) in enumerate(combos)]
    queries.append(_metric_query("nodims", "AWS/RDS", "FreeStorageSpace", [], "Average", 120))
    queries.append({**_metric_query("hidden", "AWS/RDS", "DatabaseConnections",
                                    [("DBInstanceIdentifier", "orders-pg")], "Sum"), "ReturnData": False})
    unit = _metric_query("unit", "AWS/EC2", "NetworkOut", [("InstanceId", sorted(part.running())[0])], "Sum")
    unit["MetricStat"]["Unit"] = "Bytes"
    unit["Label"] = "out"
    queries.append(unit)
    for scan in ("TimestampAscending", "TimestampDescending"):
        expected = original(backend, queries, start, now, scan)
        assert fast(backend, queries, start, now, scan) == expected
        assert len(expected) == len(queries) - 1 and expected[0]["values"]
    math_query = [{"Id": "e", "Expression": "SUM(METRICS())", "Period": 60}]
    assert fast(backend, math_query, start, now) == original(backend, math_query, start, now)


def test_pump_ticks_in_its_thread_and_stops_promptly(fleet: FleetInfo) -> None:
    # One instance in a region the fleet does not use, so the fleet's own data stays as seeded.
    region = "ap-northeast-1"
    part = PartitionFleet(PROD_ACCOUNT, region, instances={"i-0pumptest": "worker-01"},
                          instance_states={"i-0pumptest": "running"})
    tiny = FleetInfo(endpoint_url=fleet.endpoint_url, accounts=fleet.accounts, regions=(region,),
                     partitions={("prod", region): part}, replica_of={}, credentials=fleet.credentials)
    pump = MetricPump(tiny, interval=0.05, rng_seed=1)
    assert len(pump.series) == 3  # CPUUtilization, NetworkIn, NetworkOut
    t0 = math.floor(time.time() / 60) * 60 - 1200
    assert pump.backfill(minutes=10, now=t0) == 30
    assert pump.tick(now=t0 + 119.9) == 6  # two minutes late: each series catches up by two points
    assert pump.tick(now=t0 + 119.9) == 0  # nothing due twice
    cw = tiny.client("cloudwatch", "prod", region)
    reply = cw.get_metric_data(MetricDataQueries=[_metric_query(
        "cpu", "AWS/EC2", "CPUUtilization", [("InstanceId", "i-0pumptest")], "SampleCount")],
        StartTime=t0 - 600, EndTime=t0 + 120)
    assert reply["MetricDataResults"][0]["Values"] == [1.0] * 12  # exactly one point a minute

    pump.start()
    thread = pump._thread
    assert thread is not None and thread.daemon
    for _ in range(5):
        pump.ticked.clear()
        assert pump.ticked.wait(5), "the pump thread did not tick"
    assert pump.ticks >= 5 and pump.errors == 0
    pump.interval = 3600  # a long wait must still end at once
    pump.ticked.clear()
    assert pump.ticked.wait(5)  # the tick after this one waits an hour
    started = time.monotonic()
    pump.stop()
    assert time.monotonic() - started < 30.0  # woken, not the hour's wait
    assert not thread.is_alive() and not pump.running


# ------------------------------------------------------------------ configure, lifecycle, bulk

def test_configure_points_both_accounts_at_moto(demo: MotoDemoBackend, tmp_path: Path) -> None:
    settings = load_settings(str(DEMO_CONFIG), env={"HOME": str(tmp_path)})
    configured = demo.configure(settings)
    aws = configured.providers.aws
    assert aws is not None and settings.providers.aws is None
    assert configured.providers.host == settings.providers.host
    prod, staging = aws.accounts
    assert (prod.name, prod.role_arn, prod.endpoint_url) == ("prod", None, demo.url)
    assert (staging.name, staging.role_arn, staging.endpoint_url) == ("staging", DEMO_ROLE_ARN, demo.url)
    assert prod.regions == staging.regions == ("us-east-1", "eu-west-1")
    assert prod.access_key_id and staging.access_key_id == prod.access_key_id
    assert aws.intervals["ec2"] == 10 and aws.intervals["s3"] == 60 and aws.intervals["lambda"] == 60
    assert (aws.metrics.period, aws.metrics.window) == (60, 3600)
    assert configured.redact(f"key {DEMO_SECRET_KEY}") == "key ***"


def test_start_and_stop_leave_no_thread_or_port(demo: MotoDemoBackend) -> None:
    """Restart the module's backend: stop must release everything, start must seed afresh."""
    old_url = demo.url
    assert old_url is not None and demo.pump is not None and demo.pump.running
    port = int(old_url.rsplit(":", 1)[1])
    threads = [demo.pump._thread, demo._server._thread]
    assert all(t is not None and t.is_alive() for t in threads)
    demo.stop()
    demo.stop()  # twice is fine
    assert not any(t is not None and t.is_alive() for t in threads)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    with pytest.raises(RuntimeError, match="before start"):
        demo.configure(load_settings(str(DEMO_CONFIG), env={"HOME": "/nonexistent"}))
    demo.start()  # the rest of the module keeps a working backend
    assert demo.url != old_url and demo.fleet is not None and demo.fleet.instance_count() >= 55


def test_a_failed_start_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail just after the server is up (before it resets moto's state, which the module's fleet lives in)."""
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OSError("reset refused")

    monkeypatch.setattr(aws_fleet, "urlopen", unreachable)
    backend = MotoDemoBackend()
    with pytest.raises(OSError, match="reset refused"):
        backend.start()
    assert backend.url is None and backend._server is None and backend.pump is None


def test_seed_bulk_spreads_evenly(demo: MotoDemoBackend) -> None:
    assert demo.url is not None
    regions = ["ap-southeast-2", "sa-east-1"]  # regions the fleet does not use
    ids = seed_bulk(demo.url, regions=regions, instances=7, volumes=5, batch=3)
    assert {r: len(v) for r, v in ids.items()} == {"ap-southeast-2": 4, "sa-east-1": 3}
    fleet = demo.fleet
    assert fleet is not None
    for region, created in ids.items():
        ec2 = fleet.client("ec2", "prod", region)
        assert sorted(i["InstanceId"] for i in iter_instances(ec2)) == sorted(created)
        extra = [v for v in ec2.describe_volumes()["Volumes"] if not v["Attachments"]]
        assert len(extra) == (3 if region == "ap-southeast-2" else 2)


def test_the_demo_module_imports_nothing_from_tests() -> None:
    tree = ast.parse(Path(aws_fleet.__file__).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m == "tests" or m.startswith("tests.") for m in modules)

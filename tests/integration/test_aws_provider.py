"""The AWS providers against moto in server mode (and a fault proxy in front of it).

Nothing here talks to real AWS: every client's endpoint is 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.model import AwsAccountSettings, AwsMetricSettings
from providers.actions import ActionGate, AuditLog, Outcome
from providers.aws import inventory
from providers.aws.action_specs import EC2_REBOOT, EC2_START, EC2_STOP, RDS_REBOOT
from providers.aws.provider import AwsServiceProvider, AwsUnavailable
from providers.aws.records import Ec2Instance
from providers.aws.session import AccountClients, ReadOnlyViolation
from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionTarget
from tests.support.aws import (
    SECOND_ACCOUNT,
    TEST_KEY,
    FaultProxy,
    assumed_credentials,
    boto_client,
    unused_local_url,
)

pytestmark = pytest.mark.integration

ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/stacktop-readonly"


def account(url: str, name: str = "prod", regions: Sequence[str] = ("us-east-1",), **kw: object
            ) -> AwsAccountSettings:
    fields: dict[str, object] = {"access_key_id": TEST_KEY, "secret_access_key": TEST_KEY}
    fields.update(kw)
    return AwsAccountSettings(name=name, regions=tuple(regions), endpoint_url=url, **fields)  # type: ignore[arg-type]


def provider(service: str, *accounts: AwsAccountSettings, read_only: bool = True,
             metrics: bool = True, max_attempts: int = 1) -> AwsServiceProvider:
    clients = [AccountClients(a, read_only=read_only, max_attempts=max_attempts) for a in accounts]
    return AwsServiceProvider(service, clients, interval=30, timeout=60,
                              metrics=AwsMetricSettings(enabled=metrics, period=60, window=3600))


def run_instances(url: str, count: int, *, region: str = "us-east-1", name: str = "web",
                  itype: str = "t3.micro", creds: dict[str, str] | None = None) -> list[str]:
    ec2 = boto_client("ec2", url, region=region, **(creds or {}))
    answer = ec2.run_instances(
        ImageId="ami-12345678", MinCount=count, MaxCount=count, InstanceType=itype,
        TagSpecifications=[{"ResourceType": "instance",
                            "Tags": [{"Key": "Name", "Value": name}, {"Key": "Team", "Value": "core"}]}],
    )
    return [i["InstanceId"] for i in answer["Instances"]]


def state_in_moto(url: str, instance_id: str, region: str = "us-east-1") -> str:
    ec2 = boto_client("ec2", url, region=region)
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return found["State"]["Name"]


def by_id(snap: AwsSnapshot) -> dict[str, object]:
    return {getattr(i, "id", getattr(i, "name", "")): i for i in snap.items}


# --------------------------------------------------------------------------- inventory


async def test_ec2_inventory_reads_every_page_and_the_fields_operators_need(
    fault_proxy: FaultProxy, moto_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(inventory.PAGE_SIZE, "describe_instances", 5)
    # One reservation per instance: moto pages by reservation.
    ids = [i for _ in range(12) for i in run_instances(moto_url, 1, name="api")]
    boto_client("ec2", moto_url).stop_instances(InstanceIds=ids[:2])

    snap = await provider("ec2", account(fault_proxy.url), metrics=False).poll()

    assert sorted(i.id for i in snap.items) == sorted(ids)
    assert fault_proxy.operations("ec2").count("DescribeInstances") >= 3  # 12 instances, 5 a page
    stopped = [i for i in snap.items if isinstance(i, Ec2Instance) and i.state == "stopped"]
    assert sorted(i.id for i in stopped) == sorted(ids[:2])
    first = stopped[0]
    assert first.name == "api" and first.type == "t3.micro" and first.az.startswith("us-east-1")
    assert first.state_since is not None and first.state_reason
    assert first.private_ip and first.launch_time and ("Team", "core") in first.tags
    assert first.volume_ids  # the root volume
    assert snap.metrics()["running"] == 10 and snap.metrics()["stopped"] == 2


async def test_ebs_volumes_attached_and_unattached(fault_proxy: FaultProxy, moto_url: str) -> None:
    # moto 5.2 answers DescribeVolumes (and Lambda ListFunctions) in one page whatever
    # the page size; paging is proven below on EC2, RDS and ELBv2, which moto pages.
    [instance] = run_instances(moto_url, 1)
    ec2 = boto_client("ec2", moto_url)
    data = ec2.create_volume(Size=100, AvailabilityZone="us-east-1a", VolumeType="gp3", Iops=4000,
                             Encrypted=True)["VolumeId"]
    ec2.attach_volume(VolumeId=data, InstanceId=instance, Device="/dev/sdf")
    spare = [ec2.create_volume(Size=8, AvailabilityZone="us-east-1b")["VolumeId"] for _ in range(6)]

    snap = await provider("ebs", account(fault_proxy.url)).poll()

    volumes = by_id(snap)
    assert set(spare) | {data} <= set(volumes)
    attached = volumes[data]
    assert (attached.instance_id, attached.device, attached.size_gib) == (instance, "/dev/sdf", 100)  # type: ignore[attr-defined]
    assert attached.encrypted and attached.type == "gp3" and attached.iops == 4000  # type: ignore[attr-defined]
    assert all(volumes[v].state == "available" and not volumes[v].instance_id for v in spare)  # type: ignore[attr-defined]
    assert snap.metrics()["unattached"] == 6


async def test_rds_primary_replica_relations_and_metrics(moto_url: str) -> None:
    rds = boto_client("rds", moto_url)
    rds.create_db_instance(DBInstanceIdentifier="orders", Engine="postgres", EngineVersion="15.4",
                           DBInstanceClass="db.m6g.large", AllocatedStorage=200, MultiAZ=True,
                           MasterUsername="admin", MasterUserPassword="not-a-secret-1")
    rds.create_db_instance_read_replica(DBInstanceIdentifier="orders-replica",
                                        SourceDBInstanceIdentifier="orders")
    put_metric(moto_url, "AWS/RDS", "ReplicaLag", ("DBInstanceIdentifier", "orders-replica"), [3.0, 7.0])
    put_metric(moto_url, "AWS/RDS", "DatabaseConnections", ("DBInstanceIdentifier", "orders"), [40.0])

    snap = await provider("rds", account(moto_url)).poll()

    dbs = by_id(snap)
    primary, replica = dbs["orders"], dbs["orders-replica"]
    assert primary.replicas == ("orders-replica",) and replica.replica_of == "orders"  # type: ignore[attr-defined]
    assert primary.engine == "postgres" and primary.multi_az and primary.allocated_gib == 200  # type: ignore[attr-defined]
    assert primary.endpoint.endswith(":5432")  # type: ignore[attr-defined]
    assert replica.metrics["replica_lag"].values[-1] == 7.0  # type: ignore[attr-defined]
    assert snap.metrics()["replica_lag.max"] == 7.0 and snap.metrics()["connections"] == 40.0


async def test_rds_and_load_balancers_read_every_page(
    fault_proxy: FaultProxy, moto_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(inventory.PAGE_SIZE, "describe_db_instances", 20)  # the API's minimum
    monkeypatch.setitem(inventory.PAGE_SIZE, "describe_load_balancers", 1)
    rds = boto_client("rds", moto_url)
    for n in range(21):
        rds.create_db_instance(DBInstanceIdentifier=f"db-{n:02d}", Engine="postgres",
                               DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                               MasterUsername="admin", MasterUserPassword="not-a-secret-1")
    ec2 = boto_client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    elb = boto_client("elbv2", moto_url)
    for n in range(3):
        elb.create_load_balancer(Name=f"lb-{n}", Subnets=subnets, Type="application")

    dbs = await provider("rds", account(fault_proxy.url), metrics=False).poll()
    lbs = await provider("elb", account(fault_proxy.url), metrics=False).poll()

    assert len(dbs.items) == 21 and fault_proxy.operations("rds").count("DescribeDBInstances") == 2
    assert len(lbs.items) == 3 and fault_proxy.operations("elbv2").count("DescribeLoadBalancers") == 3


async def test_s3_buckets_with_region_and_size_from_cloudwatch_never_listing_objects(
    fault_proxy: FaultProxy, moto_url: str,
) -> None:
    s3 = boto_client("s3", moto_url)
    s3.create_bucket(Bucket="logs-us")
    boto_client("s3", moto_url, region="eu-west-1").create_bucket(
        Bucket="backups-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="logs-us", Key="a.log", Body=b"x" * 10)
    put_metric(moto_url, "AWS/S3", "BucketSizeBytes",
               ("BucketName", "backups-eu"), [5e9], region="eu-west-1",
               extra=("StorageType", "StandardStorage"), spacing=timedelta(days=1))

    snap = await provider("s3", account(fault_proxy.url, regions=["us-east-1", "eu-west-1"])).poll()

    buckets = {b.name: b for b in snap.items}  # type: ignore[union-attr]
    assert buckets["backups-eu"].region == "eu-west-1" and buckets["logs-us"].region == "us-east-1"
    assert buckets["backups-eu"].size_bytes == 5e9 and buckets["logs-us"].size_bytes is None
    assert [p.region for p in snap.partitions] == ["global"]
    assert not any(op.startswith(("ListObjects", "GET /logs-us")) for op in fault_proxy.operations("s3"))


async def test_lambda_functions(moto_url: str) -> None:
    iam = boto_client("iam", moto_url)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    lam = boto_client("lambda", moto_url)
    for name, runtime, memory in (("resize", "python3.12", 512), ("notify", "nodejs20.x", 128)):
        lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="handler.handler",
                            Code={"ZipFile": code.getvalue()}, MemorySize=memory, Timeout=30)

    snap = await provider("lambda", account(moto_url)).poll()

    functions = {f.name: f for f in snap.items}  # type: ignore[union-attr]
    assert functions["resize"].runtime == "python3.12" and functions["resize"].memory_mb == 512
    assert functions["notify"].timeout_s == 30 and functions["notify"].last_modified


async def test_load_balancer_with_target_health(moto_url: str) -> None:
    ec2 = boto_client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    elb = boto_client("elbv2", moto_url)
    lb = elb.create_load_balancer(Name="public-web", Subnets=subnets, Scheme="internet-facing",
                                  Type="application")["LoadBalancers"][0]
    group = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])
    targets = run_instances(moto_url, 2)
    elb.register_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": t} for t in targets])
    dimension = lb["LoadBalancerArn"].split("loadbalancer/", 1)[1]
    put_metric(moto_url, "AWS/ApplicationELB", "RequestCount", ("LoadBalancer", dimension), [120.0, 80.0])

    snap = await provider("elb", account(moto_url)).poll()

    [found] = snap.items
    assert found.name == "public-web" and found.scheme == "internet-facing"  # type: ignore[union-attr]
    assert found.dns and found.type == "application"  # type: ignore[union-attr]
    [health] = found.target_groups  # type: ignore[union-attr]
    assert health.name == "web" and health.healthy + health.unhealthy + health.other == 2
    assert found.metrics["requests"].values[-1] == 80.0  # type: ignore[union-attr]


async def test_two_accounts_and_two_regions_merge_with_unique_keys(moto_url: str) -> None:
    run_instances(moto_url, 2, name="prod-east")
    run_instances(moto_url, 1, name="prod-west", region="eu-west-1")
    run_instances(moto_url, 3, name="staging-east", creds=assumed_credentials(moto_url, ROLE))

    snap = await provider(
        "ec2",
        account(moto_url, "prod", ["us-east-1", "eu-west-1"]),
        account(moto_url, "staging", ["us-east-1", "eu-west-1"], role_arn=ROLE),
        metrics=False,
    ).poll()

    seen = {(i.account, i.region, i.name) for i in snap.items}  # type: ignore[union-attr]
    assert seen == {("prod", "us-east-1", "prod-east"), ("prod", "eu-west-1", "prod-west"),
                    ("staging", "us-east-1", "staging-east")}
    assert len({i.key for i in snap.items}) == 6
    assert [(p.account, p.region, p.items) for p in snap.partitions] == [
        ("prod", "eu-west-1", 1), ("prod", "us-east-1", 2),
        ("staging", "eu-west-1", 0), ("staging", "us-east-1", 3)]
    assert all(p.ok for p in snap.partitions)


async def test_all_enabled_asks_ec2_for_the_regions(fault_proxy: FaultProxy, moto_url: str) -> None:
    run_instances(moto_url, 1, region="ap-southeast-2")
    snap = await provider("ec2", account(fault_proxy.url, regions=["all-enabled"]), metrics=False).poll()
    regions = {p.region for p in snap.partitions}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions
    assert [i.region for i in snap.items] == ["ap-southeast-2"]
    assert fault_proxy.operations("ec2").count("DescribeRegions") == 1


async def test_metrics_are_batched_500_queries_per_call(fault_proxy: FaultProxy, moto_url: str) -> None:
    ids = run_instances(moto_url, 167)  # 167 running instances x 3 metrics = 501 queries
    put_metric(moto_url, "AWS/EC2", "CPUUtilization", ("InstanceId", ids[0]), [20.0, 40.0, 60.0])

    snap = await provider("ec2", account(fault_proxy.url)).poll()

    assert fault_proxy.operations("cloudwatch").count("GetMetricData") == 2
    instance = by_id(snap)[ids[0]]
    assert instance.metrics["cpu"].values == (20.0, 40.0, 60.0)  # type: ignore[attr-defined]
    assert snap.metrics()["cpu.avg"] == 60.0  # the only running instance with data


# --------------------------------------------------------------------------- actions


def gate_for(p: AwsServiceProvider, tmp_path: Path, *,
             read_only: bool = False) -> tuple[ActionGate, list[str]]:
    refreshed: list[str] = []
    gate = ActionGate({p.name: p}, AuditLog(tmp_path / "audit.jsonl"), read_only=read_only,
                      role="operator", user="tester", refresh=refreshed.append)
    return gate, refreshed


def ec2_target(instance_id: str, name: str) -> ActionTarget:
    return ActionTarget("ec2-instance", f"prod/us-east-1/{instance_id}", name,
                        {"account": "prod", "region": "us-east-1", "instance_id": instance_id})


async def test_stop_then_start_through_the_gate_changes_moto_and_is_audited(
    moto_url: str, tmp_path: Path,
) -> None:
    [instance] = run_instances(moto_url, 1, name="web-01")
    ec2 = provider("ec2", account(moto_url), read_only=False)
    gate, refreshed = gate_for(ec2, tmp_path)

    async def type_name(request):  # type: ignore[no-untyped-def]
        return request.must_type if request.must_type else True

    stopped = await gate.execute(EC2_STOP, ec2_target(instance, "web-01"), type_name)
    assert stopped.outcome is Outcome.DONE, stopped.message
    assert "running → stopping" in stopped.message or "running → stopped" in stopped.message
    assert state_in_moto(moto_url, instance) in ("stopping", "stopped")
    started = await gate.execute(EC2_START, ec2_target(instance, "web-01"), type_name)
    assert started.outcome is Outcome.DONE and state_in_moto(moto_url, instance) in ("pending", "running")
    rebooted = await gate.execute(EC2_REBOOT, ec2_target(instance, "web-01"), type_name)
    assert rebooted.outcome is Outcome.DONE and "Reboot of" in rebooted.message

    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(r["action"], r["result"]) for r in records] == [
        ("aws.ec2.stop", "ok"), ("aws.ec2.start", "ok"), ("aws.ec2.reboot", "ok")]
    assert records[0]["target"]["name"] == "web-01"
    assert refreshed == ["aws.ec2"] * 3


async def test_stop_with_the_wrong_name_typed_does_nothing(moto_url: str, tmp_path: Path) -> None:
    [instance] = run_instances(moto_url, 1, name="db-01")
    ec2 = provider("ec2", account(moto_url), read_only=False)
    gate, _ = gate_for(ec2, tmp_path)

    async def typo(request):  # type: ignore[no-untyped-def]
        return "db-10"

    result = await gate.execute(EC2_STOP, ec2_target(instance, "db-01"), typo)
    assert result.outcome is Outcome.CANCELLED and state_in_moto(moto_url, instance) == "running"


async def test_rds_reboot_through_the_gate(moto_url: str, tmp_path: Path) -> None:
    boto_client("rds", moto_url).create_db_instance(
        DBInstanceIdentifier="billing", Engine="mysql", DBInstanceClass="db.t3.small",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="not-a-secret-1")
    rds = provider("rds", account(moto_url), read_only=False)
    gate, _ = gate_for(rds, tmp_path)
    target = ActionTarget("rds-instance", "prod/us-east-1/billing", "billing",
                          {"account": "prod", "region": "us-east-1", "db_instance_id": "billing"})

    async def type_name(request):  # type: ignore[no-untyped-def]
        return request.must_type

    result = await gate.execute(RDS_REBOOT, target, type_name)
    assert result.outcome is Outcome.DONE and "billing" in result.message
    assert json.loads((tmp_path / "audit.jsonl").read_text())["action"] == "aws.rds.reboot"


async def test_read_only_provider_cannot_stop_even_when_called_directly(
    fault_proxy: FaultProxy, moto_url: str, tmp_path: Path,
) -> None:
    [instance] = run_instances(moto_url, 1, name="web-02")
    watch = provider("ec2", account(fault_proxy.url), read_only=True)

    for call in (watch.stop_instance, watch.start_instance, watch.reboot_instance):
        with pytest.raises(ReadOnlyViolation, match="read-only session"):
            await call("prod", "us-east-1", instance)
    # and through the action callable (what a buggy gate would reach): a failure, not a stop
    result = await watch.action_callable("aws.ec2.stop")(ec2_target(instance, "web-02"))
    assert not result.ok and "read-only session" in result.message

    mutating = [op for op in fault_proxy.operations() if not op.startswith(("Describe", "List", "Get"))]
    assert mutating == []  # moto never received StopInstances or anything else that writes
    assert state_in_moto(moto_url, instance) == "running"


# --------------------------------------------------------------------------- errors


async def test_access_denied_in_one_region_leaves_the_other_region_shown(
    fault_proxy: FaultProxy, moto_url: str,
) -> None:
    run_instances(moto_url, 2, name="east")
    fault_proxy.deny("ec2", region="eu-west-1", operation="DescribeInstances")

    snap = await provider("ec2", account(fault_proxy.url, regions=["us-east-1", "eu-west-1"]),
                          metrics=False).poll()

    assert {i.name for i in snap.items} == {"east"}  # type: ignore[union-attr]
    [denied] = snap.errors
    assert denied.region == "eu-west-1" and not denied.ok
    assert "access denied to ec2:DescribeInstances in prod/eu-west-1" in (denied.error or "")


async def test_throttling_is_retried_with_backoff_then_reported(
    fault_proxy: FaultProxy, moto_url: str,
) -> None:
    run_instances(moto_url, 1)
    fault_proxy.throttle("ec2", operation="DescribeInstances")
    ec2 = provider("ec2", account(fault_proxy.url), metrics=False, max_attempts=3)

    with pytest.raises(AwsUnavailable, match="throttled by AWS"):
        await ec2.poll()
    assert fault_proxy.operations("ec2").count("DescribeInstances") == 3  # botocore retried twice

    fault_proxy.clear_faults()
    fault_proxy.clear()
    # The partition now waits out its own backoff instead of hammering the API again.
    with pytest.raises(AwsUnavailable):
        await ec2.poll()
    assert fault_proxy.operations("ec2") == []


async def test_a_throttled_call_that_succeeds_on_retry_is_invisible(
    fault_proxy: FaultProxy, moto_url: str,
) -> None:
    run_instances(moto_url, 1, name="lucky")
    fault_proxy.throttle("ec2", operation="DescribeInstances", times=1)
    snap = await provider("ec2", account(fault_proxy.url), metrics=False, max_attempts=3).poll()
    assert [i.name for i in snap.items] == ["lucky"] and not snap.errors  # type: ignore[union-attr]


async def test_failed_partition_keeps_its_last_good_items(fault_proxy: FaultProxy, moto_url: str) -> None:
    run_instances(moto_url, 2, name="kept")
    ec2 = provider("ec2", account(fault_proxy.url, regions=["us-east-1", "eu-west-1"]), metrics=False)
    first = await ec2.poll()
    fault_proxy.expire_token(operation="DescribeInstances", region="us-east-1")

    second = await ec2.poll()

    assert [i.key for i in second.items] == [i.key for i in first.items]
    [expired] = second.errors
    assert expired.error is not None and "have expired" in expired.error and "renew" in expired.error
    assert expired.fetched_at == first.partitions[1].fetched_at  # the age of what is shown


async def test_disabled_region_says_enable_it_or_remove_it(fault_proxy: FaultProxy, moto_url: str) -> None:
    fault_proxy.disable_region("ap-east-1")
    snap = await provider("ebs", account(fault_proxy.url, regions=["us-east-1", "ap-east-1"])).poll()
    [disabled] = snap.errors
    assert disabled.error is not None and "region ap-east-1 is not enabled for account prod" in disabled.error


async def test_unreachable_endpoint_and_missing_credentials_fail_only_their_account(
    moto_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    run_instances(moto_url, 1, name="alive")
    down = AwsAccountSettings(name="down", endpoint_url=unused_local_url(), access_key_id=TEST_KEY,
                              secret_access_key=TEST_KEY)
    nocreds = AwsAccountSettings(name="nocreds", endpoint_url=moto_url)  # default chain: empty

    snap = await provider("ec2", account(moto_url), down, nocreds, metrics=False).poll()

    assert [i.name for i in snap.items] == ["alive"]  # type: ignore[union-attr]
    errors = {p.account: p.error or "" for p in snap.errors}
    assert errors["down"].startswith("cannot reach http://127.0.0.1:")
    assert "no AWS credentials for account nocreds" in errors["nocreds"]

    with pytest.raises(AwsUnavailable, match="no AWS credentials for account nocreds"):
        await provider("ec2", nocreds, metrics=False).poll()


async def test_metrics_denied_keeps_the_inventory(fault_proxy: FaultProxy, moto_url: str) -> None:
    run_instances(moto_url, 1, name="no-graphs")
    fault_proxy.deny("cloudwatch")
    snap = await provider("ec2", account(fault_proxy.url)).poll()
    assert [i.name for i in snap.items] == ["no-graphs"]  # type: ignore[union-attr]
    [partition] = snap.partitions
    assert partition.ok and (partition.error or "").startswith("metrics: access denied")


# --------------------------------------------------------------------------- helpers


def put_metric(url: str, namespace: str, metric: str, dimension: tuple[str, str], values: list[float],
               *, region: str = "us-east-1", extra: tuple[str, str] | None = None,
               spacing: timedelta = timedelta(minutes=1)) -> None:
    """Data points ending a minute ago, oldest first, one per `spacing`."""
    cw = boto_client("cloudwatch", url, region=region)
    now = datetime.now(UTC) - timedelta(minutes=1)
    dimensions = [{"Name": dimension[0], "Value": dimension[1]}]
    if extra:
        dimensions.append({"Name": extra[0], "Value": extra[1]})
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": metric, "Dimensions": dimensions, "Value": value,
         "Timestamp": now - spacing * (len(values) - 1 - i)}
        for i, value in enumerate(values)
    ])



async def test_assumed_role_credentials_are_reused_across_polls_and_services(
    fault_proxy: FaultProxy, moto_url: str,
) -> None:
    run_instances(moto_url, 1, name="staging-app", creds=assumed_credentials(moto_url, ROLE))
    fault_proxy.clear()
    staging = AccountClients(account(fault_proxy.url, "staging", role_arn=ROLE, external_id="ext-123"),
                             read_only=True, max_attempts=1)
    ec2 = AwsServiceProvider("ec2", [staging], interval=30, timeout=60,
                             metrics=AwsMetricSettings(enabled=False))
    ebs = AwsServiceProvider("ebs", [staging], interval=30, timeout=60)
    for _ in range(3):
        snap = await ec2.poll()
        await ebs.poll()
    assert [i.name for i in snap.items] == ["staging-app"]  # type: ignore[union-attr]
    # One AssumeRole for the account; botocore renews it only near expiry.
    assert fault_proxy.operations("sts") == ["AssumeRole"]


async def test_unchanged_pages_are_not_parsed_again_and_a_change_is_seen(
    moto_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(inventory.PAGE_SIZE, "describe_instances", 5)
    ids = [i for _ in range(12) for i in run_instances(moto_url, 1, name="memo")]  # 3 pages
    ec2 = provider("ec2", account(moto_url), metrics=False)
    memo = ec2.accounts["prod"].pages

    first = await ec2.poll()
    assert memo.reused == 0
    second = await ec2.poll()
    assert memo.reused == 3  # every page identical: none parsed again
    assert second.items == first.items

    boto_client("ec2", moto_url).stop_instances(InstanceIds=[ids[7]])
    third = await ec2.poll()
    assert memo.reused == 3 + 2  # only the page holding the stopped instance was parsed
    states = {i.id: i.state for i in third.items}  # type: ignore[union-attr]
    assert states[ids[7]] in ("stopping", "stopped") and len(states) == 12
    assert sum(s == "running" for s in states.values()) == 11

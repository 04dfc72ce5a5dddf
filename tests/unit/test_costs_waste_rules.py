"""The waste finder's rules on API-shaped dicts: what is reported, what is not, and the
cost, saving, evidence and action of each finding."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from config.model import BackupSourceSettings, BackupTargetSettings, WasteSettings
from providers.costs.action_specs import DELETE_VOLUME, RELEASE_ADDRESS
from providers.costs.model import Finding, FindingKind
from providers.costs.prices import PriceTable
from providers.costs.waste import (
    DAY,
    GroupHealth,
    ScanContext,
    idle_databases,
    idle_load_balancers,
    image_snapshot_ids,
    instance_findings,
    managed_by,
    money,
    old_snapshots,
    parse_stop_time,
    snapshot_keeper,
    sort_findings,
    stopped_instances,
    unassociated_addresses,
    unattached_volumes,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC).timestamp()
K = FindingKind


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.load()


@pytest.fixture
def ctx(prices: PriceTable) -> ScanContext:
    return ScanContext("prod", "us-east-1", WasteSettings(), prices, NOW)


def ago(days: float) -> datetime:
    return datetime.fromtimestamp(NOW - days * DAY, UTC)


def kept_nothing(_snap: Mapping[str, Any]) -> str | None:
    return None


# -- small parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(("reason", "expected"), [
    ("User initiated (2026-09-20 10:11:12 GMT)", datetime(2026, 9, 20, 10, 11, 12, tzinfo=UTC)),
    ("User initiated (2026-09-20 10:11:12 UTC)", datetime(2026, 9, 20, 10, 11, 12, tzinfo=UTC)),
    ("Server.ScheduledStop (2025-01-02 03:04:05 GMT)", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("User initiated", None),
    ("", None),
    (None, None),
    ("User initiated (2026-13-45 10:11:12 GMT)", None),
    ("User initiated (2026-09-20 10:11 GMT)", None),
])
def test_the_stop_time_is_read_from_the_state_transition_reason(reason: str | None,
                                                                expected: datetime | None) -> None:
    assert parse_stop_time(reason) == (expected.timestamp() if expected else None)


def test_money_rounds_cents_half_up() -> None:
    assert money(0.0225 * 730) == 16.43  # 16.424999… in binary
    assert money(3.65) == 3.65 and money(0.004) == 0.0 and money(0.005) == 0.01


def finding(kind: FindingKind, ident: str, savings: float) -> Finding:
    return Finding(kind, ident, ident, "prod", "us-east-1", "r", "e", savings, savings, "a")


def test_findings_sort_by_savings_then_kind_then_id() -> None:
    found = [finding(K.OLD_SNAPSHOT, "snap-b", 5.0), finding(K.IDLE_RDS, "db", 300.0),
             finding(K.UNATTACHED_VOLUME, "vol-a", 5.0), finding(K.OLD_SNAPSHOT, "snap-a", 5.0),
             finding(K.PREVIOUS_GENERATION, "i-1", 0.0)]
    assert [(f.kind, f.resource_id) for f in sort_findings(found)] == [
        (K.IDLE_RDS, "db"), (K.OLD_SNAPSHOT, "snap-a"), (K.OLD_SNAPSHOT, "snap-b"),
        (K.UNATTACHED_VOLUME, "vol-a"), (K.PREVIOUS_GENERATION, "i-1")]


# -- volumes and addresses --------------------------------------------------------------------


def volume(vid: str, size: int, vtype: str, state: str = "available", **extra: Any) -> dict[str, Any]:
    return {"VolumeId": vid, "Size": size, "VolumeType": vtype, "State": state, "CreateTime": ago(41),
            "AvailabilityZone": "us-east-1a", **extra}


def test_only_unattached_volumes_are_reported_with_their_full_price(ctx: ScanContext) -> None:
    found = unattached_volumes([
        volume("vol-1", 500, "gp2", Tags=[{"Key": "Name", "Value": "orphan"}]),
        volume("vol-2", 100, "io1", Iops=1000),
        volume("vol-3", 100, "gp3", state="in-use", Attachments=[{"InstanceId": "i-1"}]),
        volume("vol-4", 10, "gp9"),
    ], ctx)
    assert [(f.resource_id, f.name, f.monthly_cost, f.monthly_savings) for f in found] == [
        ("vol-1", "orphan", 50.0, 50.0), ("vol-2", "vol-2", 77.5, 77.5), ("vol-4", "vol-4", 0.0, 0.0)]
    first = found[0]
    assert (first.kind, first.account, first.region) == (K.UNATTACHED_VOLUME, "prod", "us-east-1")
    assert first.reason == "unattached (created 41 days ago)"
    assert first.evidence == "500 GB gp2 in state available, attached to nothing: 50.00 USD a month"
    assert first.action == "delete the volume (snapshot it first if unsure)"
    assert first.action_id == DELETE_VOLUME.id
    assert first.details == (("volume_id", "vol-1"), ("size_gb", "500"), ("type", "gp2"),
                             ("created", "2026-10-12"), ("zone", "us-east-1a"))
    assert found[1].evidence.startswith("100 GB io1 1000 IOPS in state available")
    assert found[2].evidence.endswith("type gp9 not in the price table")


def test_unassociated_addresses_cost_their_idle_hours(ctx: ScanContext) -> None:
    found = unassociated_addresses([
        {"AllocationId": "eipalloc-1", "PublicIp": "198.51.100.7", "Domain": "vpc"},
        {"AllocationId": "eipalloc-2", "PublicIp": "198.51.100.8", "AssociationId": "eipassoc-2",
         "InstanceId": "i-2"},
    ], ctx)
    [eip] = found
    assert (eip.kind, eip.resource_id, eip.name) == (K.UNASSOCIATED_EIP, "eipalloc-1", "198.51.100.7")
    assert (eip.monthly_cost, eip.monthly_savings) == (3.65, 3.65)
    assert eip.evidence == "idle Elastic IP: 0.005 USD/h x 730 h"
    assert (eip.action, eip.action_id) == ("release the address", RELEASE_ADDRESS.id)
    assert eip.detail("allocation_id") == "eipalloc-1" and eip.detail("public_ip") == "198.51.100.7"


def test_a_region_missing_from_the_price_table_is_said_in_the_evidence(prices: PriceTable) -> None:
    moon = ScanContext("prod", "xx-moon-1", WasteSettings(), prices, NOW)
    [eip] = unassociated_addresses([{"AllocationId": "eipalloc-1", "PublicIp": "198.51.100.7"}], moon)
    assert eip.monthly_savings == 3.65
    assert eip.evidence.endswith("; region xx-moon-1 is not in the price table: priced as us-east-1")


def test_prices_follow_the_region_factor(prices: PriceTable) -> None:
    eu = ScanContext("prod", "eu-west-1", WasteSettings(), prices, NOW)
    [vol] = unattached_volumes([volume("vol-1", 500, "gp2")], eu)
    assert vol.monthly_savings == money(50.0 * prices.factor("eu-west-1"))
    assert "not in the price table" not in vol.evidence


# -- stopped instances ------------------------------------------------------------------------


def instance(iid: str, itype: str, state: str = "running", reason: str = "", *,
             volumes: tuple[str, ...] = (), name: str = "") -> dict[str, Any]:
    return {"InstanceId": iid, "InstanceType": itype, "State": {"Name": state},
            "StateTransitionReason": reason,
            "BlockDeviceMappings": [{"DeviceName": f"/dev/sd{c}", "Ebs": {"VolumeId": v}}
                                    for c, v in zip("abcdef", volumes, strict=False)],
            "Tags": [{"Key": "Name", "Value": name}] if name else []}


def stopped_at(days: float) -> str:
    return f"User initiated ({ago(days):%Y-%m-%d %H:%M:%S} GMT)"


def test_instances_stopped_longer_than_stopped_days_cost_their_volumes(ctx: ScanContext) -> None:
    vols = {v["VolumeId"]: v for v in (volume("vol-root", 8, "gp2", "in-use"),
                                       volume("vol-data", 200, "gp3", "in-use"))}
    found = stopped_instances([
        instance("i-old", "m5.large", "stopped", stopped_at(63), volumes=("vol-root", "vol-data"),
                 name="legacy"),
        instance("i-edge", "m5.large", "stopped", stopped_at(14), volumes=("vol-root",)),
        instance("i-recent", "m5.large", "stopped", stopped_at(13.9), volumes=("vol-root",)),
        instance("i-unknown", "m5.large", "stopped", "Client.UserInitiatedShutdown", volumes=("vol-root",)),
        instance("i-running", "m5.large", "running", volumes=("vol-root",)),
    ], vols, ctx)
    assert [(f.resource_id, f.monthly_savings) for f in found] == [("i-old", 16.8), ("i-edge", 0.8)]
    old = found[0]
    assert (old.kind, old.name, old.reason) == (K.STOPPED_INSTANCE, "legacy", "stopped 63 days ago")
    assert old.evidence == ("stopped since 2026-09-20; 2 volume(s), 208 GB still billed: vol-root 8 GB gp2, "
                            "vol-data 200 GB gp3")
    assert old.action == "snapshot and terminate, or delete its volumes" and old.action_id == ""
    assert old.detail("volumes") == "vol-root vol-data" and old.detail("stopped") == "2026-09-20"


def test_stopped_days_is_a_setting(ctx: ScanContext) -> None:
    strict = dataclasses.replace(ctx, settings=WasteSettings(stopped_days=3))
    found = stopped_instances([instance("i-1", "m5.large", "stopped", stopped_at(4))], {}, strict)
    assert [(f.resource_id, f.monthly_savings, f.evidence) for f in found] == [
        ("i-1", 0.0, "stopped since 2026-11-18; 0 volume(s), 0 GB still billed: no volumes")]


# -- snapshots --------------------------------------------------------------------------------


def snapshot(sid: str, days: float, size: int = 100, *, description: str = "", volume_id: str = "vol-1",
             tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"SnapshotId": sid, "StartTime": ago(days), "VolumeSize": size, "VolumeId": volume_id,
            "Description": description, "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


def test_old_snapshots_nothing_keeps_are_reported_at_an_upper_bound(ctx: ScanContext) -> None:
    mappings = [{"Ebs": {"SnapshotId": "snap-ami"}}, {"DeviceName": "/dev/sdb", "VirtualName": "eph0"}]
    images = [{"ImageId": "ami-1", "BlockDeviceMappings": mappings}]
    snaps = [
        snapshot("snap-old", 120, 250),
        snapshot("snap-edge", 90, 10),
        snapshot("snap-young", 89.9),
        snapshot("snap-ami", 400),
        snapshot("snap-backup-tag", 400, tags={"aws:backup:source-resource": "arn:aws:ec2:…"}),
        snapshot("snap-backup-text", 400, description="This snapshot is created by the AWS Backup service."),
        snapshot("snap-dlm-tag", 400, tags={"aws:dlm:lifecycle-policy-id": "policy-1"}),
        snapshot("snap-dlm-text", 400, description="Created for policy: policy-0123 schedule: Default"),
        snapshot("snap-kept", 400, volume_id="vol-kept"),
    ]
    assert image_snapshot_ids(images) == {"snap-ami"}

    def keeps(snap: Mapping[str, Any]) -> str | None:
        return "backups target orders" if snap["VolumeId"] == "vol-kept" else None

    found = old_snapshots(snaps, image_snapshot_ids(images), keeps, ctx)
    assert [(f.resource_id, f.monthly_savings) for f in found] == [("snap-old", 12.5), ("snap-edge", 0.5)]
    old = found[0]
    assert (old.kind, old.reason) == (K.OLD_SNAPSHOT, "120 days old, kept by nothing")
    assert "upper bound: snapshots are incremental" in old.evidence
    assert old.evidence.startswith("taken 2026-07-25 of vol-1 (250 GB)")
    assert old.action_id == ""
    assert managed_by(snaps[4]) == managed_by(snaps[5]) == "AWS Backup"
    assert managed_by(snaps[6]) == managed_by(snaps[7]) == "Data Lifecycle Manager"
    assert managed_by(snaps[0]) is None


def target(name: str, **source: Any) -> BackupTargetSettings:
    return BackupTargetSettings(name=name, source=BackupSourceSettings(kind="ebs", **source))


def test_backups_targets_keep_the_snapshots_they_list() -> None:
    keeps = snapshot_keeper([
        target("orders-data", account="prod", region="us-east-1", volume_id="vol-orders"),
        target("by-tags", account="prod", tags=(("backup", "nightly"), ("team", "data"))),
        target("both", account="prod", region="us-east-1", volume_id="vol-both", tags=(("keep", "yes"),)),
        target("elsewhere", account="prod", region="eu-west-1", volume_id="vol-eu"),
        target("other-account", account="staging", region="us-east-1", volume_id="vol-staging"),
        BackupTargetSettings(name="pg", source=BackupSourceSettings(kind="rds", instance="vol-rds")),
    ], account="prod", region="us-east-1", home_region="us-east-1")
    assert keeps(snapshot("s", 1, volume_id="vol-orders")) == "backups target orders-data"
    tagged = snapshot("s", 1, tags={"backup": "nightly", "team": "data", "x": "y"})
    assert keeps(tagged) == "backups target by-tags"
    assert keeps(snapshot("s", 1, tags={"backup": "nightly"})) is None
    assert keeps(snapshot("s", 1, volume_id="vol-both")) is None  # the tags must match as well
    assert keeps(snapshot("s", 1, volume_id="vol-both", tags={"keep": "yes"})) == "backups target both"
    assert keeps(snapshot("s", 1, volume_id="vol-eu")) is None
    assert keeps(snapshot("s", 1, volume_id="vol-staging")) is None
    assert keeps(snapshot("s", 1, volume_id="vol-rds")) is None
    # "backup now" of the Backups tab tags what it takes; kept while that target is configured
    assert keeps(snapshot("s", 1, tags={"stacktop-target": "pg"})) == "backups target pg"
    assert keeps(snapshot("s", 1, tags={"stacktop-target": "removed-long-ago"})) is None


def test_a_target_without_a_region_looks_in_the_account_home_region() -> None:
    targets = [target("t", account="prod", volume_id="vol-1")]
    home = snapshot_keeper(targets, account="prod", region="us-east-1", home_region="us-east-1")
    away = snapshot_keeper(targets, account="prod", region="eu-west-1", home_region="us-east-1")
    assert home(snapshot("s", 1)) == "backups target t"
    assert away(snapshot("s", 1)) is None


# -- idle RDS ---------------------------------------------------------------------------------


def database(ident: str, klass: str = "db.m5.large", *, engine: str = "postgres", multi_az: bool = False,
             storage: int = 100, created_days: float = 30, status: str = "available") -> dict[str, Any]:
    return {"DBInstanceIdentifier": ident, "DBInstanceClass": klass, "Engine": engine, "MultiAZ": multi_az,
            "AllocatedStorage": storage, "StorageType": "gp2", "DBInstanceStatus": status,
            "InstanceCreateTime": ago(created_days)}


def test_rds_without_a_connection_for_idle_days_is_idle(ctx: ScanContext) -> None:
    zeros = [None] * 7 + [0.0] * 7  # the days before the last 7 do not matter
    found = idle_databases([
        database("idle-multi", multi_az=True),
        database("idle-single", "db.t3.micro", engine="mysql", storage=20),
        database("one-connection"),
        database("a-day-missing"),
        database("young", created_days=6),
        database("stopped", status="stopped"),
        database("unpriced", "db.x9.large", engine="oracle-ee", storage=10),
    ], {"idle-multi": zeros, "idle-single": zeros, "one-connection": [0.0] * 13 + [1.0],
        "a-day-missing": [0.0] * 10 + [None] + [0.0] * 3, "young": zeros, "stopped": zeros,
        "unpriced": zeros},
        ctx)
    assert [(f.resource_id, f.monthly_savings) for f in found] == [
        ("idle-multi", money(0.178 * 2 * 730 + 100 * 0.115 * 2)),
        ("idle-single", money(0.017 * 730 + 20 * 0.115)),
        ("unpriced", 1.15)]
    multi = found[0]
    assert multi.monthly_savings == 282.88 == multi.monthly_cost
    assert (multi.kind, multi.reason) == (K.IDLE_RDS, "no connections for 7 days")
    assert multi.evidence == ("DatabaseConnections daily maximum 0 on each of the last 7 days; "
                              "db.m5.large postgres Multi-AZ (0.356 USD/h) + 100 GB gp2")
    assert multi.action == "stop or delete after a final snapshot"
    assert "instance class not in the price table" in found[2].evidence


def test_no_metric_data_is_no_proof_of_idleness(ctx: ScanContext) -> None:
    assert idle_databases([database("silent")], {}, ctx) == []


# -- idle load balancers ----------------------------------------------------------------------


def balancer(name: str, kind: str = "application", created_days: float = 30) -> dict[str, Any]:
    code = {"application": "app", "network": "net", "gateway": "gwy"}[kind]
    return {"LoadBalancerArn": f"arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/{code}/{name}/1",
            "LoadBalancerName": name, "Type": kind, "State": {"Code": "active"},
            "CreatedTime": ago(created_days), "DNSName": f"{name}.example"}


def arn(name: str, kind: str = "application") -> str:
    return str(balancer(name, kind)["LoadBalancerArn"])


def test_load_balancers_with_no_healthy_target_or_too_little_traffic_are_idle(ctx: ScanContext) -> None:
    healthy = [GroupHealth("tg", 2, 1)]
    busy = [150.0] * 14
    lbs = [balancer("no-groups"), balancer("unhealthy"), balancer("busy"), balancer("quiet"),
           balancer("quiet-nlb", "network"), balancer("busy-nlb", "network"),
           balancer("young", created_days=6),
           balancer("gateway", "gateway"), balancer("one-quiet-day")]
    groups = {arn("unhealthy"): [GroupHealth("a", 3, 0), GroupHealth("b", 0, 0)], arn("busy"): healthy,
              arn("quiet"): healthy, arn("quiet-nlb", "network"): healthy,
              arn("busy-nlb", "network"): healthy, arn("gateway", "gateway"): healthy,
              arn("one-quiet-day"): healthy}
    traffic = {arn("unhealthy"): busy, arn("busy"): busy, arn("quiet"): [None] * 10 + [99.0, None, 5.0, 0.0],
               arn("quiet-nlb", "network"): [3.0] * 14, arn("busy-nlb", "network"): [5000.0] * 14,
               arn("one-quiet-day"): [150.0] * 13 + [10.0]}
    found = idle_load_balancers(lbs, groups, traffic, ctx)
    assert {f.name: f.reason for f in found} == {
        "no-groups": "no healthy targets and fewer than 100 requests a day",
        "unhealthy": "no healthy targets",
        "quiet": "fewer than 100 requests a day",
        "quiet-nlb": "fewer than 100 new flows a day",
    }
    by_name = {f.name: f for f in found}
    assert {f.monthly_savings for f in found} == {16.43}
    assert by_name["unhealthy"].evidence == "no healthy target (2 target group(s), 3 target(s) registered)"
    assert by_name["no-groups"].evidence == ("no target group; fewer than 100 requests a day on each of the "
                                             "last 7 days (busiest day 0)")
    assert by_name["quiet"].evidence == ("fewer than 100 requests a day on each of the last 7 days "
                                         "(busiest day 99)")
    assert by_name["quiet"].resource_id == arn("quiet") and by_name["quiet"].kind == K.IDLE_LB
    assert by_name["quiet"].action == "delete the load balancer (check DNS records that point at it first)"


def test_lb_min_requests_and_idle_days_are_settings(ctx: ScanContext) -> None:
    lax = dataclasses.replace(ctx, settings=WasteSettings(lb_min_requests=1000, idle_days=3))
    traffic = {arn("mid"): [5000.0] * 11 + [900.0] * 3}
    found = idle_load_balancers([balancer("mid", created_days=4)], {arn("mid"): [GroupHealth("t", 1, 1)]},
                                traffic, lax)
    assert [f.reason for f in found] == ["fewer than 1000 requests a day"]


# -- EC2: low utilisation and previous generation --------------------------------------------


def test_low_cpu_on_enough_days_suggests_one_size_down(ctx: ScanContext) -> None:
    cpu = [2.0, 3.0, 4.0, 1.0, 2.0, 5.0, 3.0, 2.0, 6.8, 30.0, 40.0, 35.0, 45.0, 40.0]  # 9 of 14 low
    found = instance_findings([instance("i-big", "m5.2xlarge", name="batch")], {"i-big": cpu}, ctx)
    [low] = found
    mean = sum(cpu) / 14
    assert (low.kind, low.name) == (K.LOW_CPU_EC2, "batch")
    assert (low.monthly_cost, low.monthly_savings) == (280.32, 140.16)
    assert low.evidence == (f"CPU ≤ 10 % on 9 of 14 days (mean {mean:.1f} %); m5.2xlarge 0.384 → m5.xlarge "
                            "0.192 USD/h")
    assert low.reason == "CPU ≤ 10 % on 9 of the last 14 days"
    assert low.action == "resize to m5.xlarge" and low.detail("suggested_type") == "m5.xlarge"


def test_the_evidence_reads_as_the_issue_words_it(ctx: ScanContext) -> None:
    cpu = [1.0, 2.0, 3.0, 4.0, 5.0, 2.0, 3.0, 4.0, 4.8] + [None] * 5
    [low] = instance_findings([instance("i-1", "m5.xlarge")], {"i-1": cpu}, ctx)
    assert low.evidence.startswith("CPU ≤ 10 % on 9 of 9 days (mean 3.2 %)")


def test_days_without_data_do_not_count_and_too_few_low_days_are_not_reported(ctx: ScanContext) -> None:
    three = [5.0, 50.0, 5.0, 50.0, 5.0] + [50.0] * 9
    sparse = [None] * 11 + [1.0, 1.0, 1.0]  # 3 days of data, all low: 3 < 4
    found = instance_findings([instance("i-three", "m5.xlarge"), instance("i-sparse", "m5.xlarge"),
                               instance("i-none", "m5.xlarge")], {"i-three": three, "i-sparse": sparse}, ctx)
    assert found == []
    stricter = dataclasses.replace(ctx, settings=WasteSettings(low_cpu_days=3, low_cpu_percent=5))
    found = instance_findings([instance("i-three", "m5.xlarge")], {"i-three": three}, stricter)
    assert [f.evidence.split(";")[0] for f in found] == ["CPU ≤ 5 % on 3 of 14 days (mean 40.4 %)"]


def test_low_cpu_on_a_previous_generation_is_resized_in_the_current_one_and_saved_once(
        ctx: ScanContext) -> None:
    found = instance_findings([instance("i-old", "m4.xlarge", name="app")], {"i-old": [4.0] * 14}, ctx)
    low, prev = sorted(found, key=lambda f: f.kind.value)
    assert (low.kind, low.monthly_savings, low.action) == (K.LOW_CPU_EC2, 75.92, "resize to m5.large")
    assert (prev.kind, prev.monthly_cost, prev.monthly_savings) == (K.PREVIOUS_GENERATION, 146.0, 0.0)
    assert prev.evidence == "saving counted in the low-utilisation finding (resize to m5.large)"
    assert prev.action == "resize to m5.large (see its low-utilisation finding)"
    assert sum(f.monthly_savings for f in found) == 75.92


def test_previous_generation_types_suggest_the_current_one_of_the_same_size(ctx: ScanContext) -> None:
    found = instance_findings([
        instance("i-c4", "c4.large", name="cache"),
        instance("i-t2", "t2.large", "stopped", stopped_at(3)),
        instance("i-m2", "m2.xlarge"),
        instance("i-m3", "m3.medium"),  # m5 has no medium
        instance("i-m5", "m5.large"),
    ], {"i-c4": [60.0] * 14}, ctx)
    by_id = {f.resource_id: f for f in found}
    assert set(by_id) == {"i-c4", "i-t2", "i-m2", "i-m3"}
    assert {f.kind for f in found} == {K.PREVIOUS_GENERATION}
    c4 = by_id["i-c4"]
    assert (c4.monthly_cost, c4.monthly_savings) == (73.0, 10.95)
    assert c4.reason == "previous-generation type c4.large"
    assert c4.evidence == "c4.large 0.1 → c5.large 0.085 USD/h"
    assert c4.action == "move to c5.large (stop, change the instance type, start)"
    t2 = by_id["i-t2"]
    assert (t2.monthly_cost, t2.monthly_savings) == (0.0, 0.0)
    assert t2.evidence == ("stopped: no compute charge while stopped; running, t3.large would cost "
                           "7.01 USD a month less")
    assert by_id["i-m2"].monthly_savings == 0.0
    assert by_id["i-m2"].evidence == "r5.xlarge costs 5.11 USD a month more, for better performance"
    assert by_id["i-m3"].evidence == "m5.medium not in the price table"
    assert by_id["i-m3"].monthly_savings == 0.0


def test_same_price_says_better_performance(prices: PriceTable) -> None:
    table = dataclasses.replace(prices, ec2={**prices.ec2, "c5.large": 0.1})
    same = ScanContext("prod", "us-east-1", WasteSettings(), table, NOW)
    [prev] = instance_findings([instance("i-c4", "c4.large")], {}, same)
    assert (prev.monthly_savings, prev.evidence) == (0.0, "same price, better performance")


def test_the_smallest_size_has_nothing_smaller_to_suggest(ctx: ScanContext) -> None:
    [low] = instance_findings([instance("i-nano", "t3.nano")], {"i-nano": [1.0] * 14}, ctx)
    assert (low.monthly_cost, low.monthly_savings) == (3.8, 0.0)
    assert low.action == "consider a smaller instance type, or stopping it when idle"
    assert low.evidence.endswith("; no smaller size of t3.nano in the price table")


def test_a_low_cpu_previous_generation_with_no_smaller_current_size_keeps_its_own_saving(
        ctx: ScanContext) -> None:
    found = instance_findings([instance("i-t2", "t2.nano")], {"i-t2": [1.0] * 14}, ctx)
    by_kind = {f.kind: f for f in found}
    assert by_kind[K.LOW_CPU_EC2].monthly_savings == 0.0
    assert by_kind[K.PREVIOUS_GENERATION].monthly_savings == money((0.0058 - 0.0052) * 730)

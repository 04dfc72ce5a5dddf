"""The waste finder and its two fixes against moto in server mode.

The seeded fleet (tui/demo/costs_fleet.py) holds waste with known savings and clean
look-alikes; the scan goes through stacktop's own guarded, read-only account session,
so it also proves every call it makes is an allowed read. The fixes re-check the
resource before acting and refuse, in one line, what is no longer waste.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from config.model import AwsAccountSettings, WasteSettings
from providers.aws.errors import explain
from providers.aws.session import AccountClients, ReadOnlyViolation
from providers.costs.fixes import FixRefused, delete_volume, release_address
from providers.costs.model import Finding, FindingKind
from providers.costs.prices import PriceTable
from providers.costs.waste import money, scan_partition, snapshot_keeper, sort_findings
from tests.support.aws import SECOND_ACCOUNT, TEST_KEY, FaultProxy
from tui.demo.costs_fleet import InProcessMotoRequired, WasteFleet, backdate_volume, seed_waste

pytestmark = pytest.mark.integration

SCAN_READS = {"DescribeInstances", "DescribeVolumes", "DescribeAddresses", "DescribeSnapshots",
              "DescribeImages", "DescribeDBInstances", "DescribeLoadBalancers", "DescribeTargetGroups",
              "DescribeTargetHealth", "GetMetricData"}


def account(url: str, *, role_arn: str | None = None, region: str = "us-east-1") -> AwsAccountSettings:
    return AwsAccountSettings(name="prod", regions=(region,), endpoint_url=url, access_key_id=TEST_KEY,
                              secret_access_key=TEST_KEY, role_arn=role_arn)


def scan(fleet: WasteFleet, url: str, *, role_arn: str | None = None, keep: bool = True) -> list[Finding]:
    clients = AccountClients(account(url, role_arn=role_arn, region=fleet.region), read_only=True,
                             max_attempts=1)
    keeper = snapshot_keeper(fleet.backup_targets("prod"), account="prod", region=fleet.region)
    try:
        return scan_partition(lambda service: clients.client(service, fleet.region), account="prod",
                              region=fleet.region, settings=WasteSettings(), prices=PriceTable.load(),
                              now=fleet.now, **({"keeps_snapshot": keeper} if keep else {}))
    finally:
        clients.close()


def found_set(findings: list[Finding]) -> set[tuple[str, str, float]]:
    return {(f.kind.value, f.resource_id, f.monthly_savings) for f in findings}


def test_the_seeded_fleet_gives_exactly_the_expected_findings_and_savings(fault_proxy: FaultProxy) -> None:
    fleet = seed_waste(fault_proxy.url, now=time.time())
    fault_proxy.clear()

    findings = scan(fleet, fault_proxy.url)

    assert found_set(findings) == fleet.expected_set()
    assert fleet.expected_set() == {
        ("unattached-volume", fleet.ids["orphan-data"], 50.0),
        ("unattached-volume", fleet.ids["old-scratch"], 77.5),
        ("unattached-volume", fleet.ids["cold-archive"], 45.0),
        ("unassociated-eip", fleet.ids["idle-eip"], 3.65),
        ("stopped-instance", fleet.ids["legacy-report"], 16.8),
        ("previous-generation", fleet.ids["legacy-report"], 0.0),
        ("old-snapshot", fleet.ids["pre-upgrade"], 12.5),
        ("idle-rds", "reporting-old", 282.88),
        ("idle-load-balancer", fleet.ids["old-campaign"], 16.43),
        ("idle-load-balancer", fleet.ids["ingest-legacy"], 16.43),
        ("low-utilisation-ec2", fleet.ids["batch-idle"], 140.16),
        ("low-utilisation-ec2", fleet.ids["app-legacy"], 75.92),
        ("previous-generation", fleet.ids["app-legacy"], 0.0),
        ("previous-generation", fleet.ids["cache-old"], 10.95),
    }
    assert money(sum(f.monthly_savings for f in findings)) == fleet.total_savings() == 748.22
    assert not {f.resource_id for f in findings} & set(fleet.clean)
    assert len(fleet.clean) == 15
    assert findings == sort_findings(findings)
    assert [f.name for f in findings[:3]] == ["reporting-old", "batch-idle", "old-scratch"]
    assert {f.account for f in findings} == {"prod"} and {f.region for f in findings} == {"us-east-1"}
    # Every call is an allowed read, and CloudWatch is asked once for the whole partition.
    operations = fault_proxy.operations()
    assert set(operations) == SCAN_READS
    assert fault_proxy.operations("cloudwatch") == ["GetMetricData"]


def test_what_each_seeded_finding_says(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time())
    by = {(f.kind, f.resource_id): f for f in scan(fleet, moto_url)}
    volume = by[(FindingKind.UNATTACHED_VOLUME, fleet.ids["old-scratch"])]
    assert (volume.name, volume.reason) == ("old-scratch", "unattached (created 95 days ago)")
    assert volume.detail("volume_id") == fleet.ids["old-scratch"] and volume.detail("size_gb") == "100"
    stopped = by[(FindingKind.STOPPED_INSTANCE, fleet.ids["legacy-report"])]
    assert stopped.reason == "stopped 63 days ago"
    assert "2 volume(s), 208 GB still billed" in stopped.evidence
    eip = by[(FindingKind.UNASSOCIATED_EIP, fleet.ids["idle-eip"])]
    assert eip.name == eip.detail("public_ip") and eip.detail("allocation_id") == fleet.ids["idle-eip"]
    rds = by[(FindingKind.IDLE_RDS, "reporting-old")]
    assert rds.evidence.startswith("DatabaseConnections daily maximum 0 on each of the last 7 days")
    low = by[(FindingKind.LOW_CPU_EC2, fleet.ids["batch-idle"])]
    assert low.evidence.startswith("CPU ≤ 10 % on 14 of 14 days (mean 2.8 %)")
    legacy = by[(FindingKind.LOW_CPU_EC2, fleet.ids["app-legacy"])]
    assert legacy.action == "resize to m5.large"
    assert legacy.evidence.startswith("CPU ≤ 10 % on 6 of 14 days")
    nlb = by[(FindingKind.IDLE_LB, fleet.ids["ingest-legacy"])]
    assert nlb.reason == "fewer than 100 new flows a day"


def test_without_the_backups_target_its_old_snapshot_is_reported(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time(), waste=False)
    findings = scan(fleet, moto_url, keep=False)
    assert found_set(findings) == {("old-snapshot", fleet.ids["shop-orders-nightly"], 2.5)}


def test_a_clean_estate_has_no_findings(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time(), waste=False)
    assert fleet.expected == ()
    assert scan(fleet, moto_url) == []


def test_another_account_and_region_are_priced_with_the_region_factor(moto_url: str) -> None:
    fleet = seed_waste(moto_url, account_id=SECOND_ACCOUNT, region="eu-west-1", now=time.time())
    role = f"arn:aws:iam::{SECOND_ACCOUNT}:role/stacktop-costs"

    findings = scan(fleet, moto_url, role_arn=role)

    assert found_set(findings) == fleet.expected_set()
    factor = PriceTable.load().factor("eu-west-1")
    assert ("unattached-volume", fleet.ids["orphan-data"], money(50.0 * factor)) in found_set(findings)
    assert ("idle-rds", "reporting-old", money(282.88 * factor)) in found_set(findings)
    # The default account in us-east-1 holds none of it.
    default = WasteFleet(moto_url, "123456789012", "us-east-1", fleet.now)
    assert scan(default, moto_url) == []


def test_the_first_api_failure_is_raised_and_explained_in_one_line(fault_proxy: FaultProxy) -> None:
    fleet = seed_waste(fault_proxy.url, now=time.time(), waste=False)
    fault_proxy.deny("rds", operation="DescribeDBInstances")
    with pytest.raises(ClientError) as caught:
        scan(fleet, fault_proxy.url)
    line = explain(caught.value, account="prod", region="us-east-1", service="rds")
    assert line == ("access denied to rds:DescribeDBInstances in prod/us-east-1 — grant it to the role or "
                    "user, or remove us-east-1 from this account's regions")


# -- fixes ------------------------------------------------------------------------------------


def ec2_client(url: str, *, read_only: bool = False) -> object:
    return AccountClients(account(url), read_only=read_only, max_attempts=1).client("ec2", "us-east-1")


def test_delete_volume_deletes_an_unattached_volume(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time())
    ec2 = ec2_client(moto_url)
    vid = fleet.ids["orphan-data"]
    assert delete_volume(ec2, vid) == f"deleted volume {vid} (500 GB gp2)"
    with pytest.raises(ClientError, match=r"InvalidVolume\.NotFound"):
        fleet.client("ec2").describe_volumes(VolumeIds=[vid])
    with pytest.raises(FixRefused) as again:
        delete_volume(ec2, vid)
    assert str(again.value) == f"volume {vid} no longer exists: nothing to delete"


def test_delete_volume_refuses_an_attached_volume(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time(), waste=False)
    vid, shop = fleet.ids["shop-data"], fleet.ids["shop-web"]
    with pytest.raises(FixRefused) as caught:
        delete_volume(ec2_client(moto_url), vid)
    assert str(caught.value) == (f"volume {vid} is in-use (attached to {shop}): not deleted — only an "
                                 "unattached volume is deleted here")
    [still] = fleet.client("ec2").describe_volumes(VolumeIds=[vid])["Volumes"]
    assert still["State"] == "in-use"


def test_release_address_releases_an_unassociated_address(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time())
    allocation = fleet.ids["idle-eip"]
    [address] = fleet.client("ec2").describe_addresses(AllocationIds=[allocation])["Addresses"]
    result = release_address(ec2_client(moto_url), allocation)
    assert result == f"released address {address['PublicIp']} ({allocation})"
    remaining = {a["AllocationId"] for a in fleet.client("ec2").describe_addresses()["Addresses"]}
    assert remaining == {fleet.ids["shop-eip"]}
    with pytest.raises(FixRefused, match="no longer exists: nothing to release"):
        release_address(ec2_client(moto_url), allocation)


def test_release_address_refuses_an_associated_address(moto_url: str) -> None:
    fleet = seed_waste(moto_url, now=time.time(), waste=False)
    allocation = fleet.ids["shop-eip"]
    [address] = fleet.client("ec2").describe_addresses(AllocationIds=[allocation])["Addresses"]
    with pytest.raises(FixRefused) as caught:
        release_address(ec2_client(moto_url), allocation)
    assert str(caught.value) == (f"address {address['PublicIp']} ({allocation}) is associated with "
                                 f"{fleet.ids['shop-web']}: not released")
    assert fleet.client("ec2").describe_addresses(AllocationIds=[allocation])["Addresses"][0]["AssociationId"]


def test_a_read_only_session_refuses_both_fixes_before_anything_is_sent(fault_proxy: FaultProxy) -> None:
    fleet = seed_waste(fault_proxy.url, now=time.time())
    ec2 = ec2_client(fault_proxy.url, read_only=True)
    fault_proxy.clear()
    with pytest.raises(ReadOnlyViolation):
        delete_volume(ec2, fleet.ids["orphan-data"])
    with pytest.raises(ReadOnlyViolation):
        release_address(ec2, fleet.ids["idle-eip"])
    assert fault_proxy.operations("ec2") == ["DescribeVolumes", "DescribeAddresses"]


def test_backdating_a_resource_moto_does_not_hold_says_why_in_one_line(moto_url: str) -> None:
    with pytest.raises(InProcessMotoRequired) as caught:
        backdate_volume("123456789012", "us-east-1", "vol-0000000000000000", 0.0)
    assert str(caught.value) == ("volume vol-0000000000000000 is not in this process's moto (123456789012/"
                                 "us-east-1): backdating needs an in-process ThreadedMotoServer")


def test_the_fleet_seeds_beside_the_aws_demo_fleet_as_the_demo_does(moto_url: str) -> None:
    """Both fleets share prod/us-east-1 in the demo: no name may collide, and every
    expected finding is still found (the AWS fleet adds its own orphan volumes)."""
    from tui.demo.aws_fleet import seed_fleet

    seed_fleet(moto_url)
    fleet = seed_waste(moto_url, now=time.time())
    findings = scan(fleet, moto_url)
    assert fleet.expected_set() <= found_set(findings)
    extra = {(f.kind, f.name) for f in findings} - {(e.kind, e.name) for e in fleet.expected}
    assert extra == {(FindingKind.UNATTACHED_VOLUME, f"orphan-{n}") for n in (1, 2, 3)}

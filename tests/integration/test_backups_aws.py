"""The AWS backup sources (EBS, RDS, AWS Backup) against moto in server mode.

What an operator sees: backup now creates a tagged snapshot that the next listing
shows, delete removes it, RDS automated snapshots are listed but never deleted, the
backup window is a schedule, AWS Backup calls moto does not serve say so in one line,
and a read-only session refuses every write before anything reaches the endpoint.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.model import AwsAccountSettings, BackupSourceSettings
from providers.aws.session import AccountClients
from providers.backups.aws_sources import AwsBackupSource, EbsSnapshotSource, RdsSnapshotSource, SourceError
from providers.backups.model import COMPLETED, Backup
from tests.support.aws import TEST_KEY, FaultProxy, boto_client

pytestmark = pytest.mark.integration

WRITES = {"CreateSnapshot", "DeleteSnapshot", "CreateDBSnapshot", "DeleteDBSnapshot", "DeleteRecoveryPoint"}


def clients(url: str, *, read_only: bool = False) -> AccountClients:
    account = AwsAccountSettings(name="prod", regions=("us-east-1",), endpoint_url=url,
                                 access_key_id=TEST_KEY, secret_access_key=TEST_KEY)
    return AccountClients(account, read_only=read_only, max_attempts=1)


def volume(url: str, size: int = 8) -> str:
    return str(boto_client("ec2", url).create_volume(AvailabilityZone="us-east-1a", Size=size)["VolumeId"])


def ebs(url: str, *, read_only: bool = False, **fields: object) -> EbsSnapshotSource:
    return EbsSnapshotSource(BackupSourceSettings(kind="ebs", **fields), clients(url, read_only=read_only),  # type: ignore[arg-type]
                             "orders-data")


def rds_instance(url: str, name: str = "orders", retention: int = 7) -> None:
    boto_client("rds", url).create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
        MasterUsername="admin", MasterUserPassword="not-a-secret-1", BackupRetentionPeriod=retention,
        PreferredBackupWindow="03:00-03:30")


def rds(url: str, instance: str = "orders", *, read_only: bool = False,
        clock: datetime | None = None) -> RdsSnapshotSource:
    at = clock or datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)
    return RdsSnapshotSource(BackupSourceSettings(kind="rds", instance=instance),
                             clients(url, read_only=read_only), "orders", clock=lambda: at)


def by_id(backups: tuple[Backup, ...]) -> dict[str, Backup]:
    return {b.id: b for b in backups}


# -- EBS ---------------------------------------------------------------------------------------


def test_ebs_backup_now_is_listed_with_its_tags_and_delete_removes_it(moto_url: str) -> None:
    vol = volume(moto_url)
    other = volume(moto_url)
    boto_client("ec2", moto_url).create_snapshot(VolumeId=other, Description="someone else's")
    source = ebs(moto_url, volume_id=vol)
    assert source.backup_modes == ("snapshot",)
    assert source.read().backups == ()

    result = source.backup_now("snapshot")
    assert result.startswith(f"EBS {vol}: snapshot snap-") and "started" in result
    reading = source.read()
    assert reading.label == f"EBS {vol} (prod/us-east-1)"
    [snap] = reading.backups
    details = dict(snap.details)
    assert (snap.status, snap.kind, snap.size, snap.deletable) == (COMPLETED, "snapshot", 8 * 1024**3, True)
    assert details["tags"] == "created-by=stacktop, stacktop-target=orders-data"
    assert details["size"] == "8 GiB volume size, not the incremental bytes stored"
    assert details["description"] == "stacktop backup of orders-data"
    assert abs(snap.time - datetime.now(UTC).timestamp()) < 120

    assert source.delete(snap) == f"EBS {vol}: deleted snapshot {snap.id}"
    assert source.read().backups == ()
    # The other volume's snapshot was never touched.
    left = boto_client("ec2", moto_url).describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert [s["VolumeId"] for s in left] == [other]


def test_ebs_by_tags_lists_matching_snapshots_and_backup_now_needs_a_volume(moto_url: str) -> None:
    ec2 = boto_client("ec2", moto_url)
    a, b = volume(moto_url), volume(moto_url, 16)

    def snap(vol: str, app: str) -> str:
        tags = [{"Key": "app", "Value": app}, {"Key": "env", "Value": "prod"}]
        return str(ec2.create_snapshot(VolumeId=vol, TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": tags}])["SnapshotId"])

    wanted = {snap(a, "orders"), snap(b, "orders")}
    snap(a, "billing")
    source = ebs(moto_url, tags=(("app", "orders"), ("env", "prod")))
    reading = source.read()
    assert {s.id for s in reading.backups} == wanted
    assert sorted(s.size or 0 for s in reading.backups) == [8 * 1024**3, 16 * 1024**3]
    assert reading.label == "EBS tags app=orders, env=prod (prod/us-east-1)"
    assert dict(reading.facts)["backup now"] == ("needs source.volume_id (these snapshots are selected "
                                                 "by tags)")
    with pytest.raises(SourceError, match=r"^EBS tags app=orders, env=prod: backup now needs source"):
        source.backup_now("snapshot")


def test_ebs_backup_now_with_volume_and_tags_carries_the_tags_so_it_is_listed(moto_url: str) -> None:
    vol = volume(moto_url)
    source = ebs(moto_url, volume_id=vol, tags=(("backup", "gold"),))
    source.backup_now("snapshot")
    [snap] = source.read().backups
    assert dict(snap.details)["tags"] == "backup=gold, created-by=stacktop, stacktop-target=orders-data"


def test_ebs_unknown_volume_is_one_line_that_names_the_setting(moto_url: str) -> None:
    source = ebs(moto_url, volume_id="vol-0123456789abcdef0")
    assert source.read().backups == ()
    with pytest.raises(SourceError) as err:
        source.backup_now("snapshot")
    message = str(err.value)
    assert message.startswith("EBS vol-0123456789abcdef0: ec2:CreateSnapshot failed: InvalidVolume.NotFound")
    assert message.endswith("check backups.targets[].source.volume_id and region")
    assert "\n" not in message


def test_ebs_deleting_a_snapshot_already_gone_is_one_line(moto_url: str) -> None:
    with pytest.raises(SourceError) as err:
        ebs(moto_url, volume_id="vol-0123456789abcdef0").delete(Backup(id="snap-0123456789abcdef0", time=0.0))
    assert str(err.value).startswith("EBS vol-0123456789abcdef0: ec2:DeleteSnapshot failed: "
                                     "InvalidSnapshot.NotFound")
    assert "\n" not in str(err.value)


def test_ebs_listing_denied_is_one_line(fault_proxy: FaultProxy) -> None:
    fault_proxy.deny("ec2", operation="DescribeSnapshots")
    with pytest.raises(SourceError) as err:
        ebs(fault_proxy.url, volume_id="vol-0123456789abcdef0").read()
    assert str(err.value) == ("EBS vol-0123456789abcdef0: access denied to ec2:DescribeSnapshots in "
                              "prod/us-east-1 — grant it to the role or user, or remove us-east-1 from "
                              "this account's regions")


# -- RDS ---------------------------------------------------------------------------------------


def test_rds_manual_snapshot_create_list_delete_and_the_automated_one_is_kept(moto_url: str) -> None:
    rds_instance(moto_url)
    source = rds(moto_url)
    assert source.backup_modes == ("snapshot",)

    result = source.backup_now("snapshot")
    assert result == "RDS orders: snapshot orders-stacktop-20261122-143005 started (available)"
    reading = source.read()
    assert reading.label == "RDS orders (prod/us-east-1)"
    snaps = by_id(reading.backups)
    manual = snaps["orders-stacktop-20261122-143005"]
    assert (manual.kind, manual.deletable, manual.status, manual.size) == ("manual", True, COMPLETED,
                                                                         20 * 1024**3)
    assert dict(manual.details)["tags"] == "created-by=stacktop, stacktop-target=orders"
    # moto takes an automated snapshot when an instance with backup retention is created.
    [automated] = [b for b in reading.backups if b.kind == "automated"]
    assert automated.id.startswith("rds:orders-")
    assert (automated.deletable, automated.note) == (False, "automated: RDS deletes it after the retention "
                                                            "period")

    assert source.delete(manual) == "RDS orders: deleted snapshot orders-stacktop-20261122-143005"
    assert set(by_id(source.read().backups)) == {automated.id}

    # Prune never asks RDS to delete an automated snapshot (moto would; RDS refuses).
    with pytest.raises(SourceError, match=r"^RDS orders: rds:orders-.* is not deleted by stacktop "
                                          r"\(automated: RDS deletes it after the retention period\)$"):
        source.delete(automated)
    assert set(by_id(source.read().backups)) == {automated.id}


def test_rds_backup_window_and_retention_are_facts_and_a_schedule(moto_url: str) -> None:
    rds_instance(moto_url)
    reading = rds(moto_url).read()
    facts = dict(reading.facts)
    assert facts["backup window"] == "03:00-03:30 UTC"
    assert facts["automated retention"] == "7 days"
    assert facts["latest restorable"].endswith(" UTC")
    assert reading.schedules == ("RDS backup window 03:00-03:30 UTC, kept 7 days",)
    assert reading.problems == ()


def test_rds_without_automated_backups_says_so(moto_url: str) -> None:
    rds_instance(moto_url, "scratch", retention=0)
    reading = rds(moto_url, "scratch").read()
    assert dict(reading.facts)["automated backups"] == "off (BackupRetentionPeriod 0)"
    assert reading.schedules == ()
    # (moto still takes an automated snapshot at creation; RDS would not: not asserted here.)


def test_rds_instance_gone_keeps_its_snapshots_listed_with_a_problem(moto_url: str) -> None:
    rds_instance(moto_url)
    source = rds(moto_url)
    source.backup_now("snapshot")
    boto_client("rds", moto_url).delete_db_instance(DBInstanceIdentifier="orders", SkipFinalSnapshot=True)
    reading = source.read()
    assert "orders-stacktop-20261122-143005" in by_id(reading.backups)
    assert reading.problems == ("RDS orders: rds:DescribeDBInstances failed: DBInstanceNotFound: DBInstance "
                                "orders not found. — check backups.targets[].source.instance and region",)


def test_rds_backup_now_of_an_unknown_instance_is_one_line(moto_url: str) -> None:
    with pytest.raises(SourceError) as err:
        rds(moto_url, "nowhere").backup_now("snapshot")
    assert str(err.value).startswith("RDS nowhere: rds:CreateDBSnapshot failed: DBInstanceNotFound")
    assert str(err.value).endswith("— check backups.targets[].source.instance and region")


# -- AWS Backup --------------------------------------------------------------------------------


def test_aws_backup_plan_rules_are_schedules_and_missing_calls_say_not_available(moto_url: str) -> None:
    backup = boto_client("backup", moto_url)
    backup.create_backup_vault(BackupVaultName="main")
    backup.create_backup_vault(BackupVaultName="other")
    backup.create_backup_plan(BackupPlan={"BackupPlanName": "daily", "Rules": [
        {"RuleName": "nightly", "TargetBackupVaultName": "main", "ScheduleExpression": "cron(0 3 * * ? *)",
         "StartWindowMinutes": 60, "CompletionWindowMinutes": 120,
         "Lifecycle": {"MoveToColdStorageAfterDays": 7, "DeleteAfterDays": 97}},
        {"RuleName": "elsewhere", "TargetBackupVaultName": "other",
         "ScheduleExpression": "cron(0 5 * * ? *)"},
    ]})
    source = AwsBackupSource(BackupSourceSettings(kind="aws_backup", vault="main"),
                             clients(moto_url, read_only=True), "orders")
    assert source.backup_modes == ()
    reading = source.read()
    assert reading.label == "AWS Backup main (prod/us-east-1)"
    assert reading.schedules == ("AWS Backup plan daily, rule nightly: cron(0 3 * * ? *) Etc/UTC, "
                                 "cold after 7 d, deleted after 97 d",)
    assert dict(reading.facts)["plan daily / nightly"] == (
        "cron(0 3 * * ? *) Etc/UTC; starts within 60 min; completes within 120 min; cold after 7 d, "
        "deleted after 97 d")
    # moto 5.2.1 serves neither call: said once each, the rest of the reading stands.
    assert reading.problems == (
        "AWS Backup recovery points: not available at this endpoint (ListRecoveryPointsByBackupVault "
        "not implemented)",
        "AWS Backup jobs: not available at this endpoint (ListBackupJobs not implemented)")
    assert reading.backups == ()


def test_aws_backup_vault_without_plan_and_actions_are_one_line(moto_url: str) -> None:
    boto_client("backup", moto_url).create_backup_vault(BackupVaultName="main")
    source = AwsBackupSource(BackupSourceSettings(kind="aws_backup", vault="main",
                                                  resource_arn="arn:aws:ec2:us-east-1:123456789012:volume/vol-1"),
                             clients(moto_url), "orders")
    reading = source.read()
    assert reading.label == "AWS Backup main volume/vol-1 (prod/us-east-1)"
    assert dict(reading.facts)["plans"] == "no backup plan rule targets vault main"
    with pytest.raises(SourceError, match="backup now is not offered for AWS Backup"):
        source.backup_now("snapshot")
    point = Backup(id="arn:aws:backup:us-east-1:123456789012:recovery-point:1", time=0.0)
    with pytest.raises(SourceError) as err:
        source.delete(point)
    assert str(err.value) == ("AWS Backup main volume/vol-1: deleting a recovery point: not available at "
                              "this endpoint (DeleteRecoveryPoint not implemented)")
    managed = Backup(id=point.id, time=0.0, deletable=False, note="AWS Backup deletes it after 35 days "
                                                                  "(lifecycle)")
    with pytest.raises(SourceError, match=r"is not deleted by stacktop \(AWS Backup deletes it after 35"):
        source.delete(managed)


# -- read-only ---------------------------------------------------------------------------------


def test_read_only_sources_refuse_every_write_and_nothing_reaches_aws(fault_proxy: FaultProxy,
                                                                        moto_url: str) -> None:
    vol = volume(moto_url)
    rds_instance(moto_url)
    boto_client("ec2", moto_url).create_snapshot(VolumeId=vol)
    boto_client("rds", moto_url).create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="m1")
    boto_client("backup", moto_url).create_backup_vault(BackupVaultName="main")
    url = fault_proxy.url
    sources = [ebs(url, read_only=True, volume_id=vol), rds(url, read_only=True),
               AwsBackupSource(BackupSourceSettings(kind="aws_backup", vault="main"),
                               clients(url, read_only=True), "orders")]
    ebs_source, rds_source, backup_source = sources
    for source in sources:
        source.read()  # reads pass the guard
    [ebs_snap] = ebs_source.read().backups
    manual = by_id(rds_source.read().backups)["m1"]

    with pytest.raises(SourceError) as err:
        ebs_source.backup_now("snapshot")
    assert str(err.value) == (f"EBS {vol}: read-only session: ec2:CreateSnapshot refused "
                              "(watch mode never changes AWS)")
    with pytest.raises(SourceError, match=r"^EBS vol-\w+: read-only session: ec2:DeleteSnapshot refused"):
        ebs_source.delete(ebs_snap)
    with pytest.raises(SourceError, match=r"^RDS orders: read-only session: rds:CreateDBSnapshot refused"):
        rds_source.backup_now("snapshot")
    with pytest.raises(SourceError, match=r"^RDS orders: read-only session: rds:DeleteDBSnapshot refused"):
        rds_source.delete(manual)
    with pytest.raises(SourceError, match=r"read-only session: backup:DeleteRecoveryPoint refused"):
        backup_source.delete(Backup(id="arn:aws:backup:us-east-1:123456789012:recovery-point:1", time=0.0))

    assert not WRITES & set(fault_proxy.operations())
    assert len(ebs_source.read().backups) == 1
    assert {"m1"} <= set(by_id(rds_source.read().backups))
    assert len(rds_source.read().backups) == 2  # m1 and the automated one; nothing created

"""Parsing of AWS backup listings from responses shaped exactly as the AWS API reference
gives them (as boto3 returns them: timestamps parsed to datetimes).

AWS Backup recovery points and jobs cannot come from moto 5.2.1 (it does not serve
ListRecoveryPointsByBackupVault or ListBackupJobs), so the source's whole read is also
run through botocore's Stubber, which checks every recorded response against the
service model: a field spelt wrong here fails the test, not production.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from config.model import AwsAccountSettings, BackupSourceSettings
from providers.aws.session import AccountClients
from providers.backups.aws_sources import (
    AwsBackupSource,
    newest_first,
    not_implemented,
    parse_backup_job,
    parse_db_snapshot,
    parse_ebs_snapshot,
    parse_recovery_point,
    plan_rules,
    rds_facts,
)
from providers.backups.model import COMPLETED, FAILED, RUNNING

T0 = datetime(2026, 11, 20, 3, 5, 12, tzinfo=UTC)
VAULT = "prod-vault"
VOLUME_ARN = "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0abc1234def567890"
PLAN_ID = "8c4bd7d3-9b8b-4f2e-a2c1-5b6e0d3f7a11"


def recovery_point(arn_suffix: str, status: str = "COMPLETED", **more: Any) -> dict[str, Any]:
    """A RecoveryPointByBackupVault as ListRecoveryPointsByBackupVault returns it."""
    point: dict[str, Any] = {
        "RecoveryPointArn": f"arn:aws:ec2:eu-west-1::snapshot/snap-{arn_suffix}",
        "BackupVaultName": VAULT,
        "BackupVaultArn": f"arn:aws:backup:eu-west-1:123456789012:backup-vault:{VAULT}",
        "ResourceArn": VOLUME_ARN,
        "ResourceType": "EBS",
        "CreatedBy": {"BackupPlanId": PLAN_ID,
                      "BackupPlanArn": f"arn:aws:backup:eu-west-1:123456789012:backup-plan:{PLAN_ID}",
                      "BackupPlanVersion": "ZjQ2ZTI5YTQtNmUxNi00ZTc0", "BackupRuleId": "rule-1",
                      "BackupPlanName": "daily", "BackupRuleName": "nightly",
                      "BackupRuleCron": "cron(0 3 * * ? *)", "BackupRuleTimezone": "Etc/UTC"},
        "IamRoleArn": "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole",
        "Status": status,
        "CreationDate": T0,
        "CompletionDate": T0 + timedelta(minutes=4, seconds=30),
        "BackupSizeInBytes": 8 * 1024**3,
        "CalculatedLifecycle": {"MoveToColdStorageAt": T0 + timedelta(days=7),
                                "DeleteAt": T0 + timedelta(days=97)},
        "Lifecycle": {"MoveToColdStorageAfterDays": 7, "DeleteAfterDays": 97},
        "IsEncrypted": True,
        "EncryptionKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "ResourceName": "orders-data",
        "VaultType": "BACKUP_VAULT",
    }
    point.update(more)
    return point


def backup_job(job_id: str, state: str, **more: Any) -> dict[str, Any]:
    """A BackupJob as ListBackupJobs returns it."""
    job: dict[str, Any] = {
        "AccountId": "123456789012", "BackupJobId": job_id, "BackupVaultName": VAULT,
        "BackupVaultArn": f"arn:aws:backup:eu-west-1:123456789012:backup-vault:{VAULT}",
        "ResourceArn": VOLUME_ARN, "CreationDate": T0 + timedelta(days=1), "State": state,
        "PercentDone": "42.0", "IamRoleArn": "arn:aws:iam::123456789012:role/backup",
        "CreatedBy": {"BackupPlanId": PLAN_ID, "BackupRuleId": "rule-1"},
        "ResourceType": "EBS", "ResourceName": "orders-data",
    }
    job.update(more)
    return job


def backup_plan() -> dict[str, Any]:
    """A GetBackupPlan answer with a rule into our vault, one elsewhere, one continuous."""
    return {
        "BackupPlan": {"BackupPlanName": "daily", "Rules": [
            {"RuleName": "nightly", "TargetBackupVaultName": VAULT, "ScheduleExpression": "cron(0 3 * * ? *)",
             "StartWindowMinutes": 60, "CompletionWindowMinutes": 180,
             "Lifecycle": {"MoveToColdStorageAfterDays": 7, "DeleteAfterDays": 97}, "RuleId": "rule-1",
             "ScheduleExpressionTimezone": "Europe/Paris"},
            {"RuleName": "copy-to-dr", "TargetBackupVaultName": "dr-vault",
             "ScheduleExpression": "cron(0 5 ? * SUN *)", "RuleId": "rule-2"},
            {"RuleName": "pitr", "TargetBackupVaultName": VAULT, "ScheduleExpression": "cron(0 * * * ? *)",
             "EnableContinuousBackup": True, "Lifecycle": {"DeleteAfterDays": 35}, "RuleId": "rule-3"},
        ]},
        "BackupPlanId": PLAN_ID,
        "BackupPlanArn": f"arn:aws:backup:eu-west-1:123456789012:backup-plan:{PLAN_ID}",
        "VersionId": "ZjQ2ZTI5YTQtNmUxNi00ZTc0", "CreationDate": T0 - timedelta(days=300),
        "LastExecutionDate": T0,
    }


# -- recovery points -----------------------------------------------------------------------------


def test_completed_point_under_a_lifecycle_is_the_plans_to_delete() -> None:
    b = parse_recovery_point(recovery_point("1"))
    assert (b.status, b.kind, b.size, b.time) == (COMPLETED, "recovery point", 8 * 1024**3, T0.timestamp())
    assert b.duration == 270.0
    assert not b.deletable
    assert b.note == "AWS Backup deletes it 2027-02-25 03:05 UTC (lifecycle)"
    details = dict(b.details)
    assert details["plan"] == "daily / nightly"
    assert details["resource"] == "orders-data"
    assert details["lifecycle"] == "cold after 7 d, deleted after 97 d"
    assert details["encrypted"] == "yes"


def test_point_without_a_delete_lifecycle_is_left_to_stacktops_retention() -> None:
    b = parse_recovery_point(recovery_point("2", Lifecycle={"MoveToColdStorageAfterDays": 30},
                                            CalculatedLifecycle={"MoveToColdStorageAt": T0}))
    assert b.deletable and b.note == ""
    plain = parse_recovery_point(recovery_point("3", Lifecycle=None, CalculatedLifecycle=None))
    assert plain.deletable


def test_lifecycle_days_without_a_calculated_date_still_manage_the_point() -> None:
    b = parse_recovery_point(recovery_point("4", CalculatedLifecycle=None))
    assert not b.deletable
    assert b.note == "AWS Backup deletes it after 97 days (lifecycle)"


@pytest.mark.parametrize(("status", "expected"), [
    ("COMPLETED", COMPLETED), ("AVAILABLE", COMPLETED), ("CREATING", RUNNING), ("PARTIAL", FAILED),
    ("STOPPED", FAILED), ("DELETING", FAILED), ("EXPIRED", FAILED), ("SOMETHING_NEW", FAILED),
])
def test_recovery_point_statuses(status: str, expected: str) -> None:
    assert parse_recovery_point(recovery_point("s", status)).status == expected


def test_partial_point_says_why_and_expired_is_prunable() -> None:
    partial = parse_recovery_point(recovery_point("5", "PARTIAL",
                                                  StatusMessage="1 of 3 volumes could not be backed up"))
    assert partial.note == ("partial: 1 of 3 volumes could not be backed up; AWS Backup deletes it "
                            "2027-02-25 03:05 UTC (lifecycle)")
    expired = parse_recovery_point(recovery_point("6", "EXPIRED"))
    assert expired.deletable
    assert expired.note == "expired: the lifecycle passed but AWS Backup could not delete it"


# -- jobs ----------------------------------------------------------------------------------------


def test_running_and_failed_jobs_show_and_completed_ones_do_not() -> None:
    running = parse_backup_job(backup_job("job-1", "RUNNING",
                                          ExpectedCompletionDate=T0 + timedelta(days=1, hours=1)))
    assert running is not None
    assert (running.id, running.status, running.deletable) == ("job:job-1", RUNNING, False)
    assert dict(running.details)["done"] == "42.0 %"
    failed = parse_backup_job(backup_job("job-2", "FAILED", StatusMessage="Access denied to KMS key"))
    assert failed is not None
    assert (failed.status, failed.note) == (FAILED, "backup job failed: Access denied to KMS key")
    assert parse_backup_job(backup_job("job-3", "COMPLETED")) is None


# -- plans ---------------------------------------------------------------------------------------


def test_plan_rules_into_the_vault_become_schedules() -> None:
    facts, schedules = plan_rules(backup_plan(), VAULT)
    assert schedules == (
        "AWS Backup plan daily, rule nightly: cron(0 3 * * ? *) Europe/Paris, cold after 7 d, "
        "deleted after 97 d",
        "AWS Backup plan daily, rule pitr: cron(0 * * * ? *) UTC, deleted after 35 d",
    )
    assert dict(facts)["plan daily / nightly"] == (
        "cron(0 3 * * ? *) Europe/Paris; starts within 60 min; completes within 180 min; cold after 7 d, "
        "deleted after 97 d")
    assert dict(facts)["plan daily / pitr"] == "cron(0 * * * ? *) UTC; continuous backup; deleted after 35 d"
    assert plan_rules(backup_plan(), "nobody's") == ((), ())


# -- EBS and RDS shapes moto does not produce ------------------------------------------------------


def test_ebs_snapshot_in_error_and_pending_and_archived() -> None:
    base = {"SnapshotId": "snap-0a1b", "VolumeId": "vol-0abc", "StartTime": T0, "Progress": "37%",
            "OwnerId": "123456789012", "Description": "", "VolumeSize": 100, "Encrypted": True,
            "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k", "Tags": []}
    pending = parse_ebs_snapshot({**base, "State": "pending"})
    assert (pending.status, pending.size) == (RUNNING, 100 * 1024**3)
    assert dict(pending.details)["progress"] == "37%"
    failed = parse_ebs_snapshot({**base, "State": "error", "StateMessage": "Snapshot creation failed: volume "
                                                                          "is in error state"})
    assert (failed.status, failed.note) == (FAILED, "Snapshot creation failed: volume is in error state")
    archived = parse_ebs_snapshot({**base, "State": "completed", "StorageTier": "archive"})
    assert dict(archived.details)["tier"] == "archive (restore it before use)"


@pytest.mark.parametrize(("kind", "deletable"), [("manual", True), ("automated", False), ("awsbackup", False),
                                                 ("shared", False)])
def test_rds_snapshot_types(kind: str, deletable: bool) -> None:
    snap = {"DBSnapshotIdentifier": "s1", "DBInstanceIdentifier": "orders", "SnapshotCreateTime": T0,
            "Engine": "postgres", "AllocatedStorage": 100, "Status": "available", "SnapshotType": kind,
            "EngineVersion": "16.4", "Encrypted": True}
    assert parse_db_snapshot(snap).deletable is deletable


def test_rds_snapshot_creating_shows_progress_and_failed_says_so() -> None:
    base = {"DBSnapshotIdentifier": "s1", "DBInstanceIdentifier": "orders", "SnapshotCreateTime": T0,
            "AllocatedStorage": 100, "SnapshotType": "manual"}
    creating = parse_db_snapshot({**base, "Status": "creating", "PercentProgress": 40})
    assert (creating.status, dict(creating.details)["progress"]) == (RUNNING, "40 %")
    failed = parse_db_snapshot({**base, "Status": "failed"})
    assert (failed.status, failed.note) == (FAILED, "snapshot status failed")
    # A snapshot still being created has no SnapshotCreateTime yet in some answers.
    assert parse_db_snapshot({**base, "SnapshotCreateTime": None, "Status": "creating"}).time == 0.0


def test_rds_facts_with_one_day_and_no_window() -> None:
    facts, schedules = rds_facts({"BackupRetentionPeriod": 1, "DBInstanceStatus": "backing-up"})
    assert schedules == ("RDS backup window (chosen by RDS) UTC, kept 1 day",)
    assert dict(facts) == {"backup window": "chosen by RDS", "automated retention": "1 day",
                           "instance": "backing-up"}


def test_newest_first() -> None:
    old = parse_db_snapshot({"DBSnapshotIdentifier": "a", "SnapshotCreateTime": T0, "Status": "available"})
    new = parse_db_snapshot({"DBSnapshotIdentifier": "b", "SnapshotCreateTime": T0 + timedelta(1),
                             "Status": "available"})
    assert [b.id for b in newest_first([old, new])] == ["b", "a"]


def test_not_implemented_tells_a_missing_operation_from_a_real_error() -> None:
    def err(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "ListBackupJobs")

    assert not_implemented(err("404", 404))  # moto: an HTML 404, no AWS error code
    assert not_implemented(err("UnknownOperationException", 400))
    assert not_implemented(err("Anything", 501))
    assert not not_implemented(err("ResourceNotFoundException", 400))
    assert not not_implemented(err("AccessDeniedException", 403))
    assert not not_implemented(RuntimeError("x"))


# -- the whole read, through the service model ----------------------------------------------------


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_aws_backup_read_of_recorded_responses() -> None:
    account = AwsAccountSettings(name="prod", regions=("eu-west-1",), endpoint_url=_dead_url(),
                                 access_key_id="AKIDTEST", secret_access_key="secret")
    clients = AccountClients(account, read_only=True, max_attempts=1)
    settings = BackupSourceSettings(kind="aws_backup", vault=VAULT, resource_arn=VOLUME_ARN)
    now = T0 + timedelta(days=2)
    source = AwsBackupSource(settings, clients, "orders-data", clock=lambda: now)
    client = clients.client("backup", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("list_recovery_points_by_backup_vault",
                          {"RecoveryPoints": [recovery_point("1")], "NextToken": "page-2"},
                          {"BackupVaultName": VAULT, "ByResourceArn": VOLUME_ARN})
        stub.add_response("list_recovery_points_by_backup_vault",
                          {"RecoveryPoints": [recovery_point("2", "PARTIAL", StatusMessage="copy failed",
                                                             CreationDate=T0 + timedelta(hours=12))]},
                          {"BackupVaultName": VAULT, "ByResourceArn": VOLUME_ARN, "NextToken": "page-2"})
        partial_arn = recovery_point("2")["RecoveryPointArn"]
        stub.add_response("list_backup_jobs", {"BackupJobs": [
            backup_job("job-run", "RUNNING"),
            backup_job("job-partial", "PARTIAL", RecoveryPointArn=partial_arn),  # listed as its point
            backup_job("job-done", "COMPLETED", RecoveryPointArn="arn:x"),
        ]}, {"ByBackupVaultName": VAULT, "ByResourceArn": VOLUME_ARN,
             "ByCreatedAfter": now - timedelta(days=7)})
        stub.add_response("list_backup_plans", {"BackupPlansList": [
            {"BackupPlanArn": backup_plan()["BackupPlanArn"], "BackupPlanId": PLAN_ID, "CreationDate": T0,
             "VersionId": "v1", "BackupPlanName": "daily", "LastExecutionDate": T0}]}, {})
        stub.add_response("get_backup_plan", backup_plan(), {"BackupPlanId": PLAN_ID})
        reading = source.read()
        stub.assert_no_pending_responses()
    assert reading.label == "AWS Backup prod-vault volume/vol-0abc1234def567890 (prod/eu-west-1)"
    assert [(b.id.rsplit("/", 1)[-1], b.status) for b in reading.backups] == [
        ("job:job-run", RUNNING), ("snap-2", FAILED), ("snap-1", COMPLETED)]
    assert reading.problems == ()
    assert len(reading.schedules) == 2


def test_aws_backup_vault_missing_fails_the_read_in_one_line() -> None:
    account = AwsAccountSettings(name="prod", regions=("eu-west-1",), endpoint_url=_dead_url(),
                                 access_key_id="AKIDTEST", secret_access_key="secret")
    clients = AccountClients(account, read_only=True, max_attempts=1)
    source = AwsBackupSource(BackupSourceSettings(kind="aws_backup", vault="gone"), clients, "t")
    with Stubber(clients.client("backup", "eu-west-1")) as stub:
        stub.add_client_error("list_recovery_points_by_backup_vault", "ResourceNotFoundException",
                              "Backup vault with name gone not found", 400, expected_params={
                                  "BackupVaultName": "gone"})
        with pytest.raises(RuntimeError) as err:
            source.read()
    assert str(err.value) == ("AWS Backup gone: backup:ListRecoveryPointsByBackupVault failed: "
                              "ResourceNotFoundException: Backup vault with name gone not found — check "
                              "backups.targets[].source.vault and region")

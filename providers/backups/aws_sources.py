"""Backups that live in AWS: EBS snapshots of a volume, RDS snapshots of an instance,
and AWS Backup recovery points in a vault.

Each source lists through the account's shared, guarded clients (providers/aws/session.py):
in read-only mode CreateSnapshot/DeleteSnapshot/… are refused inside botocore, before a
byte is sent, whatever this module does. The clients belong to the account, not to a
target (several targets share them), so `close()` here closes nothing.

The parse functions take responses exactly as boto3 returns them (datetimes already
parsed) and are pure, so the shapes moto cannot produce (AWS Backup recovery points
and jobs) are tested with recorded responses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from config.model import BackupSourceSettings
from providers.aws.errors import error_code, explain
from providers.aws.session import AccountClients
from providers.backups.model import COMPLETED, FAILED, RUNNING, Backup, SourceReading

GIB = 1024**3
CREATED_BY = ("created-by", "stacktop")
TARGET_TAG = "stacktop-target"
JOBS_WINDOW = 7 * 86400.0
"""How far back AWS Backup jobs are listed: running ones and recent failures."""
NOT_IMPLEMENTED_CODES = frozenset({"404", "501", "NotImplemented", "UnknownOperationException",
                                   "InvalidAction"})

EBS_STATES = {"completed": COMPLETED, "pending": RUNNING, "recovering": RUNNING, "error": FAILED}
RDS_STATES = {"available": COMPLETED, "creating": RUNNING, "copying": RUNNING, "pending": RUNNING}
RECOVERY_POINT_STATES = {"COMPLETED": COMPLETED, "AVAILABLE": COMPLETED, "CREATING": RUNNING}
JOB_STATES = {"CREATED": RUNNING, "PENDING": RUNNING, "RUNNING": RUNNING, "ABORTING": RUNNING,
              "FAILED": FAILED, "ABORTED": FAILED, "EXPIRED": FAILED, "PARTIAL": FAILED}
RDS_AUTOMATED_NOTE = "automated: RDS deletes it after the retention period"


class SourceError(RuntimeError):
    """One line that says what failed and what to fix."""


# -- shared ----------------------------------------------------------------------------------


def _epoch(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def _utc(value: Any) -> str:
    """A timestamp as the detail pane shows it (minutes, UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value) if value is not None else ""


def _tags(items: Iterable[Mapping[str, Any]] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(t.get("Key", "")), str(t.get("Value", ""))) for t in items or ()))


def _tags_text(tags: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in tags)


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")


def newest_first(backups: Iterable[Backup]) -> tuple[Backup, ...]:
    return tuple(sorted(backups, key=lambda b: (-b.time, b.id)))


def not_implemented(exc: BaseException) -> bool:
    """The endpoint does not know the operation (moto answers an HTML 404 without an AWS
    error code; AWS itself says UnknownOperationException): "not available", not a failure."""
    if isinstance(exc, NotImplementedError):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(exc) in NOT_IMPLEMENTED_CODES or status == 501


def not_available(what: str, operation: str) -> str:
    return f"{what}: not available at this endpoint ({operation} not implemented)"


class _AwsSource(ABC):
    """What the three AWS sources share: the account's clients in the target's region,
    and errors as one line prefixed by what is protected."""

    kind = ""
    service = ""
    backup_modes: tuple[str, ...] = ()

    def __init__(self, settings: BackupSourceSettings, clients: AccountClients, target: str) -> None:
        self.settings = settings
        self.clients = clients
        self.target = target
        self.region = settings.region or clients.home_region
        self.where = f"{clients.name}/{self.region}"

    @property
    def client(self) -> Any:
        return self.clients.client(self.service, self.region)

    @property
    @abstractmethod
    def what(self) -> str:
        """How errors and results name the protected thing: "EBS vol-0ab…"."""

    def _explain(self, exc: BaseException, fix: str = "") -> str:
        line = explain(exc, account=self.clients.name, region=self.region, service=self.service,
                       endpoint=self.clients.account.endpoint_url, role_arn=self.clients.account.role_arn)
        return f"{self.what}: {line}" + (f" — {fix}" if fix and isinstance(exc, ClientError) else "")

    def _call(self, call: Callable[[], Any], fix: str = "") -> Any:
        try:
            return call()
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(self._explain(exc, fix)) from None

    def _target_tags(self) -> list[dict[str, str]]:
        tags = dict(self.settings.tags)
        tags[CREATED_BY[0]] = CREATED_BY[1]
        tags[TARGET_TAG] = self.target
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def close(self) -> None:
        """The account's clients are shared with other targets: nothing to close here."""


# -- EBS -------------------------------------------------------------------------------------


def parse_ebs_snapshot(snap: Mapping[str, Any]) -> Backup:
    """One DescribeSnapshots entry. Size: the volume's size, because EBS does not report the
    incremental bytes a snapshot stores (only the EBS direct APIs can count its blocks)."""
    state = str(snap.get("State") or "")
    status = EBS_STATES.get(state, FAILED)
    tags = _tags(snap.get("Tags"))
    size_gib = snap.get("VolumeSize")
    details = [("state", state), ("volume", str(snap.get("VolumeId") or "")),
               ("description", str(snap.get("Description") or "")),
               ("progress", str(snap.get("Progress") or "")),
               ("encrypted", "yes" if snap.get("Encrypted") else "no"),
               ("size", f"{size_gib} GiB volume size, not the incremental bytes stored"
                if size_gib is not None else "")]
    if snap.get("StorageTier") == "archive":
        details.append(("tier", "archive (restore it before use)"))
    if snap.get("CompletionTime"):
        details.append(("completed", _utc(snap.get("CompletionTime"))))
    if tags:
        details.append(("tags", _tags_text(tags)))
    note = ""
    if status == FAILED:
        note = str(snap.get("StateMessage") or f"snapshot state {state or 'unknown'}")
    return Backup(id=str(snap["SnapshotId"]), time=_epoch(snap.get("StartTime")) or 0.0, status=status,
                  size=int(size_gib) * GIB if size_gib is not None else None, kind="snapshot", note=note,
                  details=tuple((k, v) for k, v in details if v))


class EbsSnapshotSource(_AwsSource):
    """EBS snapshots of one volume (`volume_id`), or every snapshot of this account whose
    tags match all of `tags`. Backup now snapshots `volume_id`; a tags-only target still
    offers it, so that pressing the key says in one line which setting it needs."""

    kind = "ebs"
    service = "ec2"
    backup_modes = ("snapshot",)

    def __init__(self, settings: BackupSourceSettings, clients: AccountClients, target: str) -> None:
        super().__init__(settings, clients, target)
        if not settings.volume_id and not settings.tags:
            raise ValueError(f"backups target {target}: an ebs source needs volume_id or tags")

    @property
    def what(self) -> str:
        if self.settings.volume_id:
            return f"EBS {self.settings.volume_id}"
        return f"EBS tags {_tags_text(self.settings.tags)}"

    def read(self) -> SourceReading:
        filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in self.settings.tags]
        if self.settings.volume_id:
            filters.append({"Name": "volume-id", "Values": [self.settings.volume_id]})

        def listing() -> list[Backup]:
            pages = self.client.get_paginator("describe_snapshots").paginate(OwnerIds=["self"],
                                                                               Filters=filters)
            return [parse_ebs_snapshot(s) for page in pages for s in page.get("Snapshots", ())]

        backups = self._call(listing)
        facts: tuple[tuple[str, str], ...] = ()
        if not self.settings.volume_id:
            facts = (("backup now", "needs source.volume_id (these snapshots are selected by tags)"),)
        return SourceReading(backups=newest_first(backups), label=f"{self.what} ({self.where})", facts=facts)

    def backup_now(self, mode: str) -> str:
        volume = self.settings.volume_id
        if not volume:
            raise SourceError(f"{self.what}: backup now needs source.volume_id "
                              "(snapshots selected by tags have no one volume to snapshot)")
        answer = self._call(lambda: self.client.create_snapshot(
            VolumeId=volume, Description=f"stacktop backup of {self.target}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": self._target_tags()}]),
            fix="check backups.targets[].source.volume_id and region")
        return (f"{self.what}: snapshot {answer.get('SnapshotId')} started "
                f"({answer.get('State') or 'pending'})")

    def delete(self, backup: Backup) -> str:
        self._call(lambda: self.client.delete_snapshot(SnapshotId=backup.id))
        return f"{self.what}: deleted snapshot {backup.id}"


# -- RDS -------------------------------------------------------------------------------------


def parse_db_snapshot(snap: Mapping[str, Any]) -> Backup:
    """One DescribeDBSnapshots entry; automated and AWS Backup snapshots belong to RDS and
    AWS Backup, so prune never deletes them."""
    state = str(snap.get("Status") or "")
    status = RDS_STATES.get(state, FAILED)
    kind = str(snap.get("SnapshotType") or "")
    storage = snap.get("AllocatedStorage")
    deletable, note = True, ""
    if kind == "automated":
        deletable, note = False, RDS_AUTOMATED_NOTE
    elif kind == "awsbackup":
        deletable, note = False, "taken by AWS Backup: its plan's lifecycle deletes it"
    elif kind not in ("manual", ""):
        deletable, note = False, f"{kind} snapshot: not this account's to delete"
    if status == FAILED:
        note = "; ".join(filter(None, (f"snapshot status {state or 'unknown'}", note)))
    details = [("status", state), ("type", kind), ("instance", str(snap.get("DBInstanceIdentifier") or "")),
               ("engine", " ".join(str(snap.get(k) or "") for k in ("Engine", "EngineVersion")).strip()),
               ("storage", f"{storage} GiB allocated" if storage is not None else ""),
               ("progress", f"{snap['PercentProgress']} %" if snap.get("PercentProgress") is not None
                and status == RUNNING else ""),
               ("encrypted", "yes" if snap.get("Encrypted") else "no"),
               ("tags", _tags_text(_tags(snap.get("TagList"))))]
    when = snap.get("SnapshotCreateTime") or snap.get("OriginalSnapshotCreateTime")
    return Backup(id=str(snap["DBSnapshotIdentifier"]), time=_epoch(when) or 0.0, status=status,
                  size=int(storage) * GIB if storage is not None else None, kind=kind,
                  deletable=deletable, note=note, details=tuple((k, v) for k, v in details if v))


def rds_facts(instance: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Facts and the schedule line of an instance's automated backups (DescribeDBInstances)."""
    window = str(instance.get("PreferredBackupWindow") or "")
    days = int(instance.get("BackupRetentionPeriod") or 0)
    facts: list[tuple[str, str]] = []
    schedules: tuple[str, ...] = ()
    if days > 0:
        facts.append(("backup window", f"{window} UTC" if window else "chosen by RDS"))
        facts.append(("automated retention", f"{days} day{'s' if days != 1 else ''}"))
        schedules = (f"RDS backup window {window or '(chosen by RDS)'} UTC, kept {days} "
                     f"day{'s' if days != 1 else ''}",)
    else:
        facts.append(("automated backups", "off (BackupRetentionPeriod 0)"))
    if instance.get("LatestRestorableTime"):
        facts.append(("latest restorable", _utc(instance["LatestRestorableTime"])))
    if instance.get("DBInstanceStatus"):
        facts.append(("instance", str(instance["DBInstanceStatus"])))
    return tuple(facts), schedules


class RdsSnapshotSource(_AwsSource):
    """Manual and automated snapshots of one RDS instance, with its backup window and
    retention. Backup now takes a manual snapshot; prune deletes manual ones only."""

    kind = "rds"
    service = "rds"
    backup_modes = ("snapshot",)

    def __init__(self, settings: BackupSourceSettings, clients: AccountClients, target: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(settings, clients, target)
        if not settings.instance:
            raise ValueError(f"backups target {target}: an rds source needs instance")
        self.instance = settings.instance
        self._clock = clock

    @property
    def what(self) -> str:
        return f"RDS {self.instance}"

    def read(self) -> SourceReading:
        def listing() -> list[Backup]:
            pages = self.client.get_paginator("describe_db_snapshots").paginate(
                DBInstanceIdentifier=self.instance)
            return [parse_db_snapshot(s) for page in pages for s in page.get("DBSnapshots", ())]

        backups = self._call(listing)
        facts: tuple[tuple[str, str], ...] = ()
        schedules: tuple[str, ...] = ()
        problems: tuple[str, ...] = ()
        try:
            found = self.client.describe_db_instances(DBInstanceIdentifier=self.instance)["DBInstances"]
            if found:
                facts, schedules = rds_facts(found[0])
        except Exception as exc:
            problems = (self._explain(exc, fix="check backups.targets[].source.instance and region"),)
        return SourceReading(backups=newest_first(backups), label=f"{self.what} ({self.where})", facts=facts,
                             schedules=schedules, problems=problems)

    def backup_now(self, mode: str) -> str:
        name = f"{self.instance}-stacktop-{_stamp(self._clock())}"
        answer = self._call(lambda: self.client.create_db_snapshot(
            DBInstanceIdentifier=self.instance, DBSnapshotIdentifier=name, Tags=self._target_tags()),
            fix="check backups.targets[].source.instance and region")
        status = (answer.get("DBSnapshot") or {}).get("Status") or "creating"
        return f"{self.what}: snapshot {name} started ({status})"

    def delete(self, backup: Backup) -> str:
        if not backup.deletable:
            raise SourceError(f"{self.what}: {backup.id} is not deleted by stacktop ({backup.note})")
        self._call(lambda: self.client.delete_db_snapshot(DBSnapshotIdentifier=backup.id))
        return f"{self.what}: deleted snapshot {backup.id}"


# -- AWS Backup ------------------------------------------------------------------------------


def _lifecycle_text(lifecycle: Mapping[str, Any] | None) -> str:
    lifecycle = lifecycle or {}
    parts = []
    if lifecycle.get("MoveToColdStorageAfterDays") is not None:
        parts.append(f"cold after {lifecycle['MoveToColdStorageAfterDays']} d")
    if lifecycle.get("DeleteAfterDays") is not None:
        parts.append(f"deleted after {lifecycle['DeleteAfterDays']} d")
    return ", ".join(parts) or "kept until deleted"


def parse_recovery_point(point: Mapping[str, Any]) -> Backup:
    """One ListRecoveryPointsByBackupVault entry.

    A point whose lifecycle deletes it (DeleteAfterDays / CalculatedLifecycle.DeleteAt) is
    the plan's to delete: deletable=False, so retention shows it and prune leaves it. One
    without a delete lifecycle, or EXPIRED (the lifecycle passed but AWS Backup could not
    delete it), is left to stacktop's retention."""
    state = str(point.get("Status") or "")
    status = RECOVERY_POINT_STATES.get(state, FAILED)
    lifecycle = point.get("Lifecycle") or {}
    calculated = point.get("CalculatedLifecycle") or {}
    delete_at = calculated.get("DeleteAt")
    managed = delete_at is not None or lifecycle.get("DeleteAfterDays") is not None
    deletable, note = True, ""
    if state == "EXPIRED":
        note = "expired: the lifecycle passed but AWS Backup could not delete it"
    elif managed:
        deletable = False
        note = (f"AWS Backup deletes it {_utc(delete_at)} (lifecycle)" if delete_at is not None
                else f"AWS Backup deletes it after {lifecycle['DeleteAfterDays']} days (lifecycle)")
    if status == FAILED and state != "EXPIRED":
        message = str(point.get("StatusMessage") or "")
        failure = f"{state.lower() or 'unknown'}" + (f": {message}" if message else "")
        note = "; ".join(filter(None, (failure, note)))
    creator = point.get("CreatedBy") or {}
    resource = str(point.get("ResourceName") or point.get("ResourceArn") or "")
    details = [("status", state), ("resource", resource),
               ("resource type", str(point.get("ResourceType") or "")),
               ("plan", " / ".join(str(creator[k]) for k in ("BackupPlanName", "BackupRuleName")
                                    if creator.get(k)) or str(creator.get("BackupPlanId") or "")),
               ("lifecycle", _lifecycle_text(lifecycle) if lifecycle else ""),
               ("cold storage", _utc(calculated.get("MoveToColdStorageAt"))),
               ("delete at", _utc(delete_at)),
               ("completed", _utc(point.get("CompletionDate"))),
               ("encrypted", "yes" if point.get("IsEncrypted") else "no"),
               ("last restore", _utc(point.get("LastRestoreTime")))]
    started, completed = _epoch(point.get("CreationDate")), _epoch(point.get("CompletionDate"))
    size = point.get("BackupSizeInBytes")
    return Backup(id=str(point["RecoveryPointArn"]), time=started or 0.0, status=status,
                  size=int(size) if size is not None else None, kind="recovery point",
                  deletable=deletable, note=note,
                  duration=completed - started if started is not None and completed is not None else None,
                  details=tuple((k, v) for k, v in details if v))


def parse_backup_job(job: Mapping[str, Any]) -> Backup | None:
    """A job that did not (yet) give a recovery point: running, or failed and why.
    Completed jobs are None: their recovery points are listed instead."""
    state = str(job.get("State") or "")
    status = JOB_STATES.get(state)
    if status is None:
        return None
    message = str(job.get("StatusMessage") or "")
    note = f"backup job {state.lower()}" + (f": {message}" if message else "")
    details = [("job", str(job.get("BackupJobId") or "")), ("state", state),
               ("resource", str(job.get("ResourceName") or job.get("ResourceArn") or "")),
               ("done", f"{job['PercentDone']} %" if job.get("PercentDone") else ""),
               ("expected", _utc(job.get("ExpectedCompletionDate")))]
    size = job.get("BackupSizeInBytes")
    return Backup(id=f"job:{job['BackupJobId']}", time=_epoch(job.get("CreationDate")) or 0.0, status=status,
                  size=int(size) if size else None, kind="backup job", deletable=False, note=note,
                  details=tuple((k, v) for k, v in details if v))


def plan_rules(plan: Mapping[str, Any], vault: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Facts and schedule lines of one GetBackupPlan answer's rules that back up into `vault`."""
    body = plan.get("BackupPlan") or {}
    name = str(body.get("BackupPlanName") or plan.get("BackupPlanId") or "")
    facts: list[tuple[str, str]] = []
    schedules: list[str] = []
    for rule in body.get("Rules") or ():
        if rule.get("TargetBackupVaultName") != vault:
            continue
        expression = str(rule.get("ScheduleExpression") or "on demand")
        zone = str(rule.get("ScheduleExpressionTimezone") or "UTC")
        lifecycle = _lifecycle_text(rule.get("Lifecycle"))
        windows = []
        if rule.get("StartWindowMinutes") is not None:
            windows.append(f"starts within {rule['StartWindowMinutes']} min")
        if rule.get("CompletionWindowMinutes") is not None:
            windows.append(f"completes within {rule['CompletionWindowMinutes']} min")
        if rule.get("EnableContinuousBackup"):
            windows.append("continuous backup")
        title = f"AWS Backup plan {name}, rule {rule.get('RuleName', '')}"
        schedules.append(f"{title}: {expression} {zone}, {lifecycle}")
        facts.append((f"plan {name} / {rule.get('RuleName', '')}",
                      "; ".join([f"{expression} {zone}", *windows, lifecycle])))
    return tuple(facts), tuple(schedules)


class AwsBackupSource(_AwsSource):
    """Recovery points in one vault (narrowed to `resource_arn` when set), the jobs still
    running or recently failed, and the rules of the plans that back up into the vault.

    Backup now is not offered: a job needs an IAM role for AWS Backup to assume, which the
    configuration does not name, and StartBackupJob is not served by moto. Prune deletes
    only points without a delete lifecycle (see parse_recovery_point)."""

    kind = "aws_backup"
    service = "backup"
    backup_modes = ()

    def __init__(self, settings: BackupSourceSettings, clients: AccountClients, target: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(settings, clients, target)
        if not settings.vault:
            raise ValueError(f"backups target {target}: an aws_backup source needs vault")
        self.vault = settings.vault
        self._clock = clock

    @property
    def what(self) -> str:
        resource = self.settings.resource_arn
        return f"AWS Backup {self.vault}" + (f" {resource.rsplit(':', 1)[-1]}" if resource else "")

    def _pages(self, call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            page = call(**kwargs, **({"NextToken": token} if token else {}))
            items.extend(page.get(key) or ())
            token = page.get("NextToken")
            if not token:
                return items

    def read(self) -> SourceReading:
        problems: list[str] = []
        backups: list[Backup] = []
        by_resource = {"ByResourceArn": self.settings.resource_arn} if self.settings.resource_arn else {}
        try:
            points = self._pages(self.client.list_recovery_points_by_backup_vault, "RecoveryPoints",
                                 BackupVaultName=self.vault, **by_resource)
        except Exception as exc:
            if not not_implemented(exc):
                raise SourceError(self._explain(exc, fix="check backups.targets[].source.vault and region")
                                  ) from None
            problems.append(not_available("AWS Backup recovery points", "ListRecoveryPointsByBackupVault"))
            points = []
        wanted = self.settings.resource_arn
        backups.extend(parse_recovery_point(p) for p in points
                       if not wanted or p.get("ResourceArn") == wanted)
        listed = {b.id for b in backups}
        since = self._clock() - timedelta(seconds=JOBS_WINDOW)
        try:
            jobs = self._pages(self.client.list_backup_jobs, "BackupJobs", ByBackupVaultName=self.vault,
                               ByCreatedAfter=since, **by_resource)
            for job in jobs:
                parsed = parse_backup_job(job)
                if parsed is not None and job.get("RecoveryPointArn") not in listed:
                    backups.append(parsed)
        except Exception as exc:
            problems.append(not_available("AWS Backup jobs", "ListBackupJobs") if not_implemented(exc)
                            else "AWS Backup jobs: " + self._explain(exc))
        facts, schedules = self._plans(problems)
        return SourceReading(backups=newest_first(backups), label=f"{self.what} ({self.where})", facts=facts,
                             schedules=schedules, problems=tuple(problems))

    def _plans(self, problems: list[str]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        facts: list[tuple[str, str]] = []
        schedules: list[str] = []
        try:
            plans = self._pages(self.client.list_backup_plans, "BackupPlansList")
            for summary in plans:
                plan = self.client.get_backup_plan(BackupPlanId=summary["BackupPlanId"])
                more_facts, more_schedules = plan_rules(plan, self.vault)
                facts.extend(more_facts)
                schedules.extend(more_schedules)
        except Exception as exc:
            problems.append(not_available("AWS Backup plans", "ListBackupPlans") if not_implemented(exc)
                            else "AWS Backup plans: " + self._explain(exc))
        if not schedules and not any(p.startswith("AWS Backup plans") for p in problems):
            facts.append(("plans", f"no backup plan rule targets vault {self.vault}"))
        return tuple(facts), tuple(schedules)

    def backup_now(self, mode: str) -> str:
        raise SourceError(f"{self.what}: backup now is not offered for AWS Backup — start an on-demand "
                          "job in the AWS Backup console or CLI (it needs the plan's IAM role)")

    def delete(self, backup: Backup) -> str:
        if not backup.deletable:
            raise SourceError(f"{self.what}: {backup.id} is not deleted by stacktop ({backup.note})")

        def call() -> None:
            try:
                self.client.delete_recovery_point(BackupVaultName=self.vault, RecoveryPointArn=backup.id)
            except Exception as exc:
                if not_implemented(exc):
                    raise SourceError(f"{self.what}: " + not_available("deleting a recovery point",
                                                                      "DeleteRecoveryPoint")) from None
                raise

        self._call(call)
        return f"{self.what}: deleted recovery point {backup.id}"

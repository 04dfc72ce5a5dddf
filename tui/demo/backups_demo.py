"""DemoBackend for the Backups tab: dump directories with weeks of history, EBS
and RDS snapshots in the demo's moto, and a verification log — seeded so the
tab shows every status an operator meets:

- orders-db: nightly plain-SQL dumps, a GFS plan that deletes old ones, and a
  last restore test 12 days ago (stale: restore tests are wanted weekly);
- analytics-db: the newest dump is three days old (an RPO breach);
- reports-db: an hourly job that stopped five hours ago (a missed schedule,
  still inside its RPO);
- web-data (EBS) and orders-pg (RDS): snapshots in moto, backdated to a
  daily series.

Everything lives in a temporary directory removed on stop; the demo never
writes the user's state. The dumps are small SQL scripts psql can restore, so
`V` really restores one when PostgreSQL's binaries are installed.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.model import (
    BackupSettings,
    BackupSourceSettings,
    BackupTargetSettings,
    RetentionSettings,
    Settings,
    VerifyCheckSettings,
    VerifySettings,
)

log = logging.getLogger(__name__)

DAY = 86400.0
HOUR = 3600.0
PATTERN = "{name}-%Y%m%d-%H%M%S.sql"


class BackupsDemoBackend:
    """DemoBackend (see tui/demo/harness.py); `aws` is the started moto backend, if any."""

    name = "backups"

    def __init__(self, aws: Any = None, *, now: float | None = None) -> None:
        self.aws = aws
        self.now = now
        self.dir: Path | None = None
        self.ebs_volume: str | None = None
        self.verification_log = ""

    def start(self) -> None:
        now = self.now if self.now is not None else time.time()
        self.dir = Path(tempfile.mkdtemp(prefix="stacktop-demo-backups-"))
        try:
            self._seed_dumps(now)
            self._seed_verifications(now)
            if self.aws is not None and getattr(self.aws, "fleet", None) is not None:
                self._seed_snapshots(now)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    # -- seeding -------------------------------------------------------------------

    def _seed_dumps(self, now: float) -> None:
        assert self.dir is not None
        last_2am = _last_at(now, hour=2)
        series = {
            "orders": [last_2am - i * DAY for i in range(45)],
            "analytics": [_last_at(now - 3 * DAY, hour=1, minute=30) - i * DAY for i in range(10)],
            "reports": [_last_at(now - 5 * HOUR, minute=15) - i * HOUR for i in range(30)],
        }
        for name, times in series.items():
            folder = self.dir / name
            folder.mkdir()
            for i, ts in enumerate(sorted(times)):
                path = folder / datetime.fromtimestamp(ts, UTC).strftime(PATTERN.format(name=name))
                path.write_text(_sql_dump(name, rows=200 + 7 * i))

    def _seed_verifications(self, now: float) -> None:
        from providers.backups.model import Check, Verification
        from providers.backups.verifications import VerificationLog

        assert self.dir is not None
        self.verification_log = str(self.dir / "verifications.jsonl")
        history = VerificationLog(self.verification_log)
        for days, ok, message in ((19, False, "check orders_count: 0 is below the minimum 1"),
                                  (12, True, "1 check passed")):
            when = _last_at(now - days * DAY, hour=4)
            taken = datetime.fromtimestamp(_last_at(when, hour=2), UTC)
            backup = taken.strftime(PATTERN.format(name="orders"))
            value = "0" if not ok else "412"
            history.record(Verification("orders-db", when, ok, 41.0 if ok else 38.5, backup, "pg_dump",
                                        message, (Check("orders_count", value, ok, ">= 1"),)))

    def _seed_snapshots(self, now: float) -> None:
        """Daily EBS snapshots of one volume and manual RDS snapshots, backdated in moto."""
        fleet = self.aws.fleet
        part = fleet.partition("prod", "us-east-1")
        self.ebs_volume = part.attached_volumes[0]
        ec2 = fleet.client("ec2", "prod", "us-east-1")
        rds = fleet.client("rds", "prod", "us-east-1")
        created: list[tuple[str, str, float]] = []
        for i in range(10):
            snap = ec2.create_snapshot(VolumeId=self.ebs_volume, Description="daily backup",
                                       TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                                           {"Key": "created-by", "Value": "demo"}]}])
            created.append(("ec2", snap["SnapshotId"], _last_at(now, hour=3) - i * DAY))
        for i in range(3):
            ident = f"orders-pg-before-release-{i + 1}"
            rds.create_db_snapshot(DBSnapshotIdentifier=ident, DBInstanceIdentifier="orders-pg")
            created.append(("rds", ident, now - (7 * i + 2) * DAY))
        _backdate(fleet.accounts["prod"], "us-east-1", created)

    # -- settings ------------------------------------------------------------------

    def configure(self, settings: Settings) -> Settings:
        if self.dir is None:
            raise RuntimeError("BackupsDemoBackend.configure() before start()")
        daily = RetentionSettings(keep_daily=7, keep_weekly=4, keep_monthly=3, min_keep=3)
        targets = [
            _dumps(self.dir, "orders", schedule="0 2 * * *", rpo=26 * HOUR, retention=daily,
                   verify=VerifySettings(database="orders", checks=(
                       VerifyCheckSettings("select count(*) from orders", min=1, name="orders_count"),))),
            _dumps(self.dir, "analytics", schedule=None, rpo=26 * HOUR,
                   retention=RetentionSettings(keep_daily=7, min_keep=3)),
            _dumps(self.dir, "reports", schedule="15 * * * *", rpo=DAY,
                   retention=RetentionSettings(keep_last=24, keep_daily=7)),
        ]
        aws = settings.providers.aws
        if self.ebs_volume is not None and aws is not None and any(a.name == "prod" for a in aws.accounts):
            targets += [
                BackupTargetSettings(
                    "web-data", BackupSourceSettings("ebs", account="prod", region="us-east-1",
                                                     volume_id=self.ebs_volume),
                    interval=60.0, schedule="0 3 * * *", rpo=26 * HOUR, timezone="UTC",
                    retention=RetentionSettings(keep_daily=7, min_keep=3)),
                BackupTargetSettings(
                    "orders-pg", BackupSourceSettings("rds", account="prod", region="us-east-1",
                                                      instance="orders-pg"),
                    interval=60.0, rpo=26 * HOUR, timezone="UTC",
                    retention=RetentionSettings(keep_monthly=1, min_keep=1)),
            ]
        names = {t.name for t in targets}
        kept = tuple(t for t in settings.backups.targets if t.name not in names)
        backups = BackupSettings(targets=kept + tuple(targets), verification_log=self.verification_log,
                                 pg_bin_dir=settings.backups.pg_bin_dir,
                                 scratch_dir=settings.backups.scratch_dir)
        return dataclasses.replace(settings, backups=backups)


def _dumps(root: Path, name: str, *, schedule: str | None, rpo: float, retention: RetentionSettings,
           verify: VerifySettings | None = None) -> BackupTargetSettings:
    source = BackupSourceSettings("dumps", directory=str(root / name), pattern=PATTERN.format(name=name),
                                  format="pg_dump")
    return BackupTargetSettings(f"{name}-db", source, interval=30.0, schedule=schedule, rpo=rpo,
                                retention=retention, verify=verify, timezone="UTC")


def _last_at(now: float, *, hour: int | None = None, minute: int = 0) -> float:
    """The latest time not after `now` at hour:minute UTC (every hour when hour is None)."""
    at = datetime.fromtimestamp(now, UTC).replace(minute=minute, second=0, microsecond=0)
    if hour is not None:
        at = at.replace(hour=hour)
        step = timedelta(days=1)
    else:
        step = timedelta(hours=1)
    while at.timestamp() > now:
        at -= step
    return at.timestamp()


def _sql_dump(name: str, rows: int) -> str:
    """A plain-format dump psql restores: one table whose row count grows night by night."""
    values = ",\n".join(f"({i}, 'customer-{i % 97}', {(i * 37) % 1000}.{i % 100:02d})"
                        for i in range(1, rows + 1))
    return (f"-- stacktop demo: a plain-format dump of {name}\n"
            f"CREATE TABLE {name} (id integer PRIMARY KEY, customer text NOT NULL, amount numeric);\n"
            f"INSERT INTO {name} VALUES\n{values};\n")


def _backdate(account_id: str, region: str, created: list[tuple[str, str, float]]) -> None:
    """Give demo snapshots the times of a real history. moto stamps them `now` and its API
    cannot change that: reach into its in-process backends (the demo's moto runs here)."""
    try:
        from moto.ec2.models import ec2_backends
        from moto.rds.models import rds_backends

        ec2 = ec2_backends[account_id][region]
        rds = rds_backends[account_id][region]
        for service, ident, ts in created:
            when = datetime.fromtimestamp(ts, UTC)
            if service == "ec2":
                ec2.snapshots[ident].start_time = when.replace(tzinfo=None)
            else:
                rds.database_snapshots[ident].created = when.replace(tzinfo=None)
    except Exception as exc:  # moto's internals moved: the snapshots keep today's time
        log.warning("demo snapshots not backdated: %s", exc)

"""export-schedule's output as cron and Kubernetes read it: the crontab line parses with the
schedule's own cron parser, the manifest is a CronJob that never carries the password, and
every target without an exportable job gets one line saying why."""

from __future__ import annotations

import shlex

import pytest
import yaml

from config.model import BackupSettings, BackupSourceSettings, BackupTargetSettings
from providers.backups import cron
from providers.backups.export import (
    ExportError,
    cronjob_manifest,
    crontab_entry,
    export_schedule,
    resource_name,
)

PASSWORD = "pw-never-printed-91c"


def dumps_target(name: str = "orders", schedule: str | None = "15 */6 * * *", **source: object
                 ) -> BackupTargetSettings:
    fields: dict[str, object] = {"directory": "/var/backups/orders", "pattern": "orders-%Y%m%d-%H%M%S.dump",
                                 "dsn": "host=db.internal user=backup dbname=orders", "password": PASSWORD}
    fields.update(source)
    return BackupTargetSettings(name=name, source=BackupSourceSettings(kind="dumps", **fields),  # type: ignore[arg-type]
                                schedule=schedule)


def pgbackrest_target(**changes: object) -> BackupTargetSettings:
    source = BackupSourceSettings(
        kind="pgbackrest", stanza="main",
        command=("sudo", "-u", "postgres", "pgbackrest", "--config=/etc/pg br.conf"))
    return BackupTargetSettings(name="pg", source=source, schedule="30 1 * * *", **changes)  # type: ignore[arg-type]


def crontab_line(text: str) -> str:
    lines = text.splitlines()
    assert all(line.startswith("#") for line in lines[:-1]), text
    assert not lines[-1].startswith("#")
    return lines[-1]


def split_schedule(line: str) -> tuple[str, str]:
    """(schedule, command) the way cron splits a line."""
    if line.startswith("@"):
        macro, command = line.split(" ", 1)
        return macro, command
    parts = line.split(None, 5)
    return " ".join(parts[:5]), parts[5]


def test_dump_crontab_line_runs_pg_dump_on_the_configured_schedule() -> None:
    text = crontab_entry(dumps_target())
    assert text.startswith("# stacktop backups export-schedule orders --format cron: pg_dump into "
                           "/var/backups/orders\n")
    schedule, command = split_schedule(crontab_line(text))
    assert schedule == "15 */6 * * *"
    cron.parse(schedule)
    assert "%" not in command.replace("\\%", "")  # cron turns a bare % into a newline
    shell = command.replace("\\%", "%")
    assert 'name="$(date -u +orders-%Y%m%d-%H%M%S.dump)"' in shell
    assert ("pg_dump --format=custom --file=/var/backups/orders/\"$name.partial\" "
            "'host=db.internal user=backup dbname=orders'") in shell
    assert ('ln /var/backups/orders/"$name.partial" /var/backups/orders/"$name" && '
            'rm /var/backups/orders/"$name.partial"') in shell
    shlex.split(shell)  # balanced quotes
    assert PASSWORD not in text


def test_cron_macro_schedule_and_pg_bin_dir() -> None:
    text = crontab_entry(dumps_target(schedule="@daily"), pg_bin_dir="/usr/lib/postgresql/15/bin")
    schedule, command = split_schedule(crontab_line(text))
    assert schedule == "@daily"
    cron.parse(schedule)
    assert " /usr/lib/postgresql/15/bin/pg_dump --format=custom " in command


def test_without_a_pattern_the_file_is_named_after_the_target() -> None:
    command = split_schedule(crontab_line(crontab_entry(dumps_target(pattern=None))))[1]
    assert "date -u +orders-\\%Y\\%m\\%d-\\%H\\%M\\%S.dump" in command


def test_a_zone_is_named_in_the_crontab_header_and_set_in_the_cronjob() -> None:
    target = BackupTargetSettings(name="orders", source=dumps_target().source, schedule="0 3 * * *",
                                  timezone="Europe/Berlin")
    assert "The schedule is in Europe/Berlin" in crontab_entry(target)
    assert yaml.safe_load(cronjob_manifest(target))["spec"]["timeZone"] == "Europe/Berlin"
    assert "timeZone" not in yaml.safe_load(cronjob_manifest(dumps_target()))["spec"]


def test_dump_cronjob_manifest() -> None:
    text = cronjob_manifest(dumps_target(name="orders_db"))
    assert PASSWORD not in text
    assert text.startswith("# stacktop backups export-schedule orders_db --format k8s")
    assert "kubectl create secret generic backup-orders-db --from-literal=password=" in text
    job = yaml.safe_load(text)
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "CronJob")
    assert job["metadata"]["name"] == "backup-orders-db"
    spec = job["spec"]
    assert spec["schedule"] == "15 */6 * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["image"] == "postgres:17"
    assert container["command"][:2] == ["/bin/sh", "-c"]
    script = container["command"][2]
    assert "pg_dump --format=custom" in script and "date -u +orders-%Y%m%d-%H%M%S.dump" in script
    assert "\\%" not in script  # no crontab escaping in a pod
    assert container["env"] == [{"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "backup-orders-db", "key": "password", "optional": False}}}]
    assert container["volumeMounts"] == [{"name": "dumps", "mountPath": "/var/backups/orders"}]
    assert pod["volumes"] == [{"name": "dumps",
                               "persistentVolumeClaim": {"claimName": "backup-orders-db-dumps"}}]


def test_without_a_configured_password_the_secret_is_optional() -> None:
    job = yaml.safe_load(cronjob_manifest(dumps_target(password=None)))
    env = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"]["optional"] is True


def test_pgbackrest_crontab_line_and_cronjob() -> None:
    line = crontab_line(crontab_entry(pgbackrest_target()))
    assert line == ("30 1 * * * sudo -u postgres pgbackrest '--config=/etc/pg br.conf' "
                    "--stanza=main backup --type=incr")
    job = yaml.safe_load(cronjob_manifest(pgbackrest_target(), image="example/pgbr:2.54"))
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sudo", "-u", "postgres", "pgbackrest", "--config=/etc/pg br.conf",
                                    "--stanza=main", "backup", "--type=incr"]
    assert container["image"] == "example/pgbr:2.54"
    assert job["spec"]["concurrencyPolicy"] == "Forbid"


def test_export_schedule_finds_the_target_by_name() -> None:
    backups = BackupSettings(targets=(dumps_target(), pgbackrest_target()))
    assert export_schedule(backups, "pg", "cron").endswith("--stanza=main backup --type=incr\n")
    assert yaml.safe_load(export_schedule(backups, "orders", "k8s"))["kind"] == "CronJob"


@pytest.mark.parametrize(("target", "message"), [
    (BackupTargetSettings(name="vol", schedule="@daily", source=BackupSourceSettings(
        kind="ebs", account="prod", region="eu-west-1", volume_id="vol-0123456789abcdef0")),
     "target 'vol' is an ebs source: AWS schedules live in AWS Backup plans, Data Lifecycle Manager"),
    (BackupTargetSettings(name="db", source=BackupSourceSettings(kind="rds", account="p", region="eu-west-1",
                                                                 instance="db1")),
     "AWS schedules live in AWS Backup plans, Data Lifecycle Manager policies or the RDS backup window"),
    (BackupTargetSettings(name="v", source=BackupSourceSettings(kind="aws_backup", account="p",
                                                                region="eu-west-1", vault="main")),
     "is an aws_backup source: AWS schedules live in AWS Backup"),
    (BackupTargetSettings(name="pvc", source=BackupSourceSettings(kind="kubernetes", pvc="data"),
                          schedule="@daily"),
     "target 'pvc' lists VolumeSnapshots: whatever creates them"),
    (dumps_target(schedule=None), "target 'orders' has no schedule — set backups.targets[].schedule"),
    (dumps_target(format="mysqldump"), "holds mysqldump files: export-schedule writes pg_dump jobs only"),
    (dumps_target(directory=None, bucket="dumps", prefix="orders/", account="p", region="eu-west-1"),
     "keeps its dumps in s3://dumps/orders/: export-schedule writes jobs that dump into a local directory"),
    (dumps_target(dsn=None), "target 'orders' has no dumps.dsn — set the database pg_dump should read"),
    (BackupTargetSettings(name="pg", source=BackupSourceSettings(kind="pgbackrest", stanza="m")),
     "target 'pg' has no schedule"),
])
@pytest.mark.parametrize("fmt", ["cron", "k8s"])
def test_targets_without_an_exportable_job_say_why_in_one_line(
        target: BackupTargetSettings, message: str, fmt: str) -> None:
    with pytest.raises(ExportError) as caught:
        export_schedule(BackupSettings(targets=(target,)), target.name, fmt)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_target_names_the_configured_ones() -> None:
    backups = BackupSettings(targets=(dumps_target(), pgbackrest_target()))
    with pytest.raises(ExportError, match=r"unknown backup target 'order' — did you mean 'orders'\? "
                                          r"targets are: orders, pg"):
        export_schedule(backups, "order", "cron")
    with pytest.raises(ExportError, match=r"the configuration has no backups\.targets"):
        export_schedule(BackupSettings(), "orders", "cron")


def test_a_line_break_never_reaches_a_crontab() -> None:
    with pytest.raises(ExportError, match="a line break"):
        crontab_entry(dumps_target(dsn="host=db\nuser=x"))


def test_resource_names_are_dns_labels_short_enough_for_job_names() -> None:
    assert resource_name("orders_db") == "backup-orders-db"
    long = resource_name("a" * 63)
    assert len(long) <= 52 and long.startswith("backup-a")
    assert resource_name("x" * 44 + "-" + "y" * 10) == "backup-" + "x" * 44

"""The job that takes a target's backups, as a crontab line or a Kubernetes CronJob.

stacktop shows schedules; it does not run them. For the jobs it can describe
completely — pg_dump of a `dumps` target into its local directory, and an
incremental `pgbackrest backup` — `stacktop backups export-schedule` prints
what to install where schedules belong (cron, a CronJob). Other sources have
their schedules elsewhere (AWS Backup plans, DLM, the RDS backup window), and
saying so is the answer.

A dump is written as NAME.partial and linked to NAME only when pg_dump succeeded
(never over an existing dump), so a failed dump never looks like a good backup.
Passwords are never printed: cron relies on ~/.pgpass, the CronJob on a Secret.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
from collections.abc import Sequence

import yaml

from config.model import BackupSettings, BackupTargetSettings

FORMATS = ("cron", "k8s")
PG_DUMP_IMAGE = "postgres:17"
"""pg_dump must be at least as new as the server it dumps; the newest reads every older one."""
PGBACKREST_IMAGE = "registry.example/pgbackrest:latest"
"""There is no official pgBackRest image: a placeholder the header tells to replace."""
SECRET_KEY = "password"


class ExportError(ValueError):
    """Why there is no job to print, in one line that says what to do."""


def find_target(backups: BackupSettings, name: str) -> BackupTargetSettings:
    for target in backups.targets:
        if target.name == name:
            return target
    names = [t.name for t in backups.targets]
    if not names:
        raise ExportError(f"unknown backup target {name!r} — the configuration has no backups.targets")
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ExportError(f"unknown backup target {name!r} — {hint}targets are: {', '.join(names)}")


def export_schedule(backups: BackupSettings, name: str, fmt: str, *, image: str | None = None) -> str:
    """The crontab entry (fmt "cron") or CronJob manifest (fmt "k8s") of target `name`."""
    target = find_target(backups, name)
    if fmt == "cron":
        return crontab_entry(target, pg_bin_dir=backups.pg_bin_dir)
    if fmt == "k8s":
        return cronjob_manifest(target, image=image)
    raise ExportError(f"unknown format {fmt!r} — use {' or '.join(FORMATS)}")


def crontab_entry(target: BackupTargetSettings, *, pg_bin_dir: str | None = None) -> str:
    """Comment lines saying what the job is, then one crontab line (% escaped as \\%)."""
    schedule = _schedule(target)
    command = job_command(target, pg_bin_dir=pg_bin_dir)
    header = [f"# stacktop backups export-schedule {target.name} --format cron: {_what(target)}"]
    if target.timezone:
        header.append(f"# The schedule is in {target.timezone}: install it where cron runs in that zone "
                      f"(or put CRON_TZ={target.timezone} above it, where cron supports that).")
    if target.source.kind == "dumps":
        header.append("# The password comes from ~/.pgpass (or PGPASSFILE) of the crontab's user; "
                      "file names are in UTC.")
    return "\n".join([*header, f"{schedule} {command.replace('%', chr(92) + '%')}"]) + "\n"


def cronjob_manifest(target: BackupTargetSettings, *, image: str | None = None) -> str:
    """A batch/v1 CronJob running the job once at a time, with a header of what to create first."""
    schedule = _schedule(target)
    name = resource_name(target.name)
    src = target.source
    container: dict[str, object] = {"name": "backup"}
    volumes: list[dict[str, object]] = []
    header = [f"# stacktop backups export-schedule {target.name} --format k8s: {_what(target)}"]
    if src.kind == "dumps":
        directory = _dump_directory(target)
        claim = f"{name}-dumps"
        container.update(
            image=image or PG_DUMP_IMAGE,
            command=["/bin/sh", "-c", job_command(target)],
            env=[{"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {
                "name": name, "key": SECRET_KEY, "optional": not src.password}}}],
            volumeMounts=[{"name": "dumps", "mountPath": directory}],
        )
        volumes.append({"name": "dumps", "persistentVolumeClaim": {"claimName": claim}})
        header += [
            "# Before applying, create (the password is not printed here):",
            f"#   kubectl create secret generic {name} --from-literal={SECRET_KEY}=…",
            f"#   a PersistentVolumeClaim {claim} for the dumps (mounted at {directory});",
            "# pg_dump in the image must be at least as new as the server.",
        ]
    else:
        container.update(image=image or PGBACKREST_IMAGE, command=list(pgbackrest_argv(target)))
        header.append("# Replace the image (--image) with one that has pgbackrest, its configuration "
                      "and access to the repository and the database host.")
    spec: dict[str, object] = {"schedule": schedule}
    if target.timezone:
        spec["timeZone"] = target.timezone
    spec.update(
        concurrencyPolicy="Forbid",
        successfulJobsHistoryLimit=3,
        failedJobsHistoryLimit=3,
        jobTemplate={"spec": {"backoffLimit": 0, "template": {
            "metadata": {"labels": _labels(target)},
            "spec": {"restartPolicy": "Never", "containers": [container],
                     **({"volumes": volumes} if volumes else {})}}}},
    )
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": _labels(target)},
        "spec": spec,
    }
    body = yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=1000)
    return "\n".join(header) + "\n" + body


def job_command(target: BackupTargetSettings, *, pg_bin_dir: str | None = None) -> str:
    """The shell command line that takes one backup of `target`."""
    src = target.source
    if src.kind == "pgbackrest":
        return shlex.join(pgbackrest_argv(target))
    directory = shlex.quote(_dump_directory(target))
    if not src.dsn:
        raise ExportError(f"target {target.name!r} has no dumps.dsn — set the database pg_dump "
                          "should read (a libpq DSN without the password)")
    # The dumps source's rules: `*` in a pattern is any text (we write "stacktop"); a file
    # ending in .partial is "being written", later "incomplete"; a dump never replaces another.
    pattern = (src.pattern or f"{target.name}-%Y%m%d-%H%M%S.dump").replace("*", "stacktop")
    pg_dump = shlex.quote(os.path.join(pg_bin_dir, "pg_dump")) if pg_bin_dir else "pg_dump"
    final, partial = f'{directory}/"$name"', f'{directory}/"$name.partial"'
    line = (f'name="$(date -u +{shlex.quote(pattern)})" && '
            f'if [ -e {final} ] || [ -e {partial} ]; then '
            f'echo "{target.name}: $name exists already (one dump per name)" >&2; exit 1; fi && '
            f'{pg_dump} --format=custom --file={partial} {shlex.quote(src.dsn)} && '
            f'ln {partial} {final} && rm {partial} || {{ rm -f {partial}; exit 1; }}')
    if "\n" in line or "\r" in line:
        raise ExportError(f"target {target.name!r}: a line break in its directory, pattern or dsn "
                          "cannot go into a crontab line — remove it")
    return line


def pgbackrest_argv(target: BackupTargetSettings) -> Sequence[str]:
    """An incremental backup; pgBackRest takes a full one when the stanza has none yet."""
    return (*target.source.command, f"--stanza={target.source.stanza}", "backup", "--type=incr")


def resource_name(target: str) -> str:
    """A CronJob name (DNS label, at most 52 characters so Job names fit) for `target`."""
    name = re.sub(r"[^a-z0-9-]", "-", f"backup-{target}".lower())
    return name[:52].rstrip("-")


def _schedule(target: BackupTargetSettings) -> str:
    kind = target.source.kind
    if kind in ("ebs", "rds", "aws_backup"):
        raise ExportError(f"target {target.name!r} is an {kind} source: AWS schedules live in AWS Backup "
                          "plans, Data Lifecycle Manager policies or the RDS backup window — set them "
                          "there; there is no job for cron or Kubernetes to run")
    if kind == "kubernetes":
        raise ExportError(f"target {target.name!r} lists VolumeSnapshots: whatever creates them (a "
                          "snapshot scheduler or your own CronJob) holds the schedule; there is no dump "
                          "job to export")
    if kind == "dumps":
        src = target.source
        if src.directory is None:
            raise ExportError(f"target {target.name!r} keeps its dumps in s3://{src.bucket}/{src.prefix}: "
                              "export-schedule writes jobs that dump into a local directory")
        if src.format != "pg_dump":
            raise ExportError(f"target {target.name!r} holds {src.format} files: export-schedule writes "
                              "pg_dump jobs only")
    elif kind != "pgbackrest":
        raise ExportError(f"target {target.name!r}: no job to export for a {kind} source")
    if not target.schedule:
        raise ExportError(f"target {target.name!r} has no schedule — set backups.targets[].schedule "
                          "(a cron expression like '30 2 * * *') first")
    return target.schedule


def _dump_directory(target: BackupTargetSettings) -> str:
    assert target.source.directory is not None
    return target.source.directory.rstrip("/") or "/"


def _what(target: BackupTargetSettings) -> str:
    src = target.source
    if src.kind == "pgbackrest":
        return f"incremental pgBackRest backup of stanza {src.stanza}"
    return f"pg_dump into {_dump_directory(target)}"


def _labels(target: BackupTargetSettings) -> dict[str, str]:
    return {"app.kubernetes.io/name": "stacktop-backup",
            "app.kubernetes.io/instance": target.name.strip("-_")}

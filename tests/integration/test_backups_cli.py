"""`stacktop backups export-schedule` as an operator uses it: the printed crontab line and
CronJob command take a real pg_dump of a real PostgreSQL, a failed dump leaves nothing that
looks like a backup, the password is never printed, and every refusal is one line, exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from providers.backups import cron
from tests.support.pg import MONITOR_PASSWORD, MONITOR_USER, PgPair, free_port, pg_pair  # noqa: F401

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SECRET = "export-secret-5d1e"


def stacktop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process (python -m: independent of where the console script points)."""
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "ORDERS_PW": SECRET, **(env or {})},
                          stdin=subprocess.DEVNULL)


def write_config(tmp_path: Path, directory: Path, dsn: str, *, pattern: str = "orders %Y-%m-%d_%H%M%S.dump",
                 bin_dir: Path | None = None) -> Path:
    config = {
        "providers": {"aws": {"accounts": [{"name": "prod", "regions": ["eu-west-1"]}]}},
        "backups": {
            **({"pg_bin_dir": str(bin_dir)} if bin_dir else {}),
            "targets": [
                {"name": "orders", "schedule": "*/30 * * * *", "rpo": "2h",
                 "source": {"dumps": {"directory": str(directory), "pattern": pattern, "dsn": dsn,
                                      "password": "${ORDERS_PW}"}}},
                {"name": "pg", "schedule": "@daily",
                 "source": {"pgbackrest": {"stanza": "main", "command": "sudo -u postgres pgbackrest"}}},
                {"name": "data", "schedule": "@daily",
                 "source": {"ebs": {"account": "prod", "region": "eu-west-1",
                                    "volume_id": "vol-0123456789abcdef0"}}},
                {"name": "unscheduled", "source": {"pgbackrest": {"stanza": "other"}}},
            ],
        },
    }
    path = tmp_path / "stacktop.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def odd_directory(tmp_path: Path) -> Path:
    """A directory whose name needs quoting in a shell: spaces, a quote, a dollar."""
    directory = tmp_path / "dumps of 'orders' $HOME"
    directory.mkdir()
    return directory


def run_crontab_line(line: str, path: str) -> subprocess.CompletedProcess[str]:
    """Run a crontab line's command the way cron does: \\% is %, then /bin/sh -c."""
    schedule = line.split(None, 1)[0] if line.startswith("@") else " ".join(line.split()[:5])
    cron.parse(schedule)
    command = line[len(schedule):].strip().replace("\\%", "%")
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120,
                          env={"PATH": path, "HOME": "/nonexistent"}, stdin=subprocess.DEVNULL)


def dump_time(name: str) -> float:
    return datetime.strptime(name, "orders %Y-%m-%d_%H%M%S.dump").replace(tzinfo=UTC).timestamp()


def test_crontab_line_takes_a_real_dump_named_by_the_pattern(tmp_path: Path, pg_pair: PgPair) -> None:  # noqa: F811
    directory = odd_directory(tmp_path)
    dsn = f"host=127.0.0.1 port={pg_pair.ports['primary']} user=postgres dbname=postgres"
    config = write_config(tmp_path, directory, dsn, bin_dir=pg_pair.bin_dir)
    done = stacktop("backups", "export-schedule", "orders", "--config", str(config), "--format", "cron")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[0].startswith("# stacktop backups export-schedule orders --format cron: pg_dump into ")
    assert lines[-1].startswith("*/30 * * * * ")
    assert f"{pg_pair.bin_dir}/pg_dump --format=custom" in lines[-1]

    before = time.time()
    ran = run_crontab_line(lines[-1], "/usr/bin:/bin")
    after = time.time()
    assert ran.returncode == 0, ran.stderr
    (dump,) = os.listdir(directory)
    assert int(before) <= dump_time(dump) <= after
    listed = subprocess.run([str(pg_pair.bin_dir / "pg_restore"), "--list", str(directory / dump)],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr


def test_a_second_dump_with_the_same_name_is_refused_and_the_first_kept(
        tmp_path: Path, pg_pair: PgPair) -> None:  # noqa: F811
    directory = tmp_path / "daily"
    directory.mkdir()
    dsn = f"host=127.0.0.1 port={pg_pair.ports['primary']} user=postgres dbname=postgres"
    config = write_config(tmp_path, directory, dsn, pattern="orders-latest.dump", bin_dir=pg_pair.bin_dir)
    line = stacktop("backups", "export-schedule", "orders", "--config", str(config),
                    "--format", "cron").stdout.splitlines()[-1]
    assert run_crontab_line(line, "/usr/bin:/bin").returncode == 0
    (first,) = directory.iterdir()
    inode = first.stat().st_ino
    again = run_crontab_line(line, "/usr/bin:/bin")
    assert again.returncode == 1
    assert again.stderr.strip() == "orders: orders-latest.dump exists already (one dump per name)"
    assert [p.name for p in directory.iterdir()] == [first.name]
    assert first.stat().st_ino == inode


def test_a_failed_dump_leaves_no_file(tmp_path: Path, pg_pair: PgPair) -> None:  # noqa: F811
    directory = odd_directory(tmp_path)
    config = write_config(tmp_path, directory, f"host=127.0.0.1 port={free_port()} user=postgres "
                          "dbname=postgres connect_timeout=5", bin_dir=pg_pair.bin_dir)
    line = stacktop("backups", "export-schedule", "orders", "--config", str(config),
                    "--format", "cron").stdout.splitlines()[-1]
    ran = run_crontab_line(line, "/usr/bin:/bin")
    assert ran.returncode == 1
    assert "connection" in ran.stderr.lower()
    assert os.listdir(directory) == []


def test_cronjob_command_dumps_with_the_password_the_secret_provides(
        tmp_path: Path, pg_pair: PgPair) -> None:  # noqa: F811
    directory = odd_directory(tmp_path)
    dsn = f"host=127.0.0.1 port={pg_pair.ports['primary']} user={MONITOR_USER} dbname=postgres"
    config = write_config(tmp_path, directory, dsn)
    done = stacktop("backups", "export-schedule", "orders", "--config", str(config), "--format", "k8s")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    job = yaml.safe_load(done.stdout)
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "CronJob")
    assert job["spec"]["schedule"] == "*/30 * * * *"
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    (env,) = container["env"]
    ref = env["valueFrom"]["secretKeyRef"]
    assert (env["name"], ref["name"], ref["key"]) == ("PGPASSWORD", "backup-orders", "password")
    assert f"kubectl create secret generic {ref['name']} --from-literal={ref['key']}=" in done.stdout
    assert container["volumeMounts"][0]["mountPath"] == str(directory)

    # What the pod runs, here: the Secret's value in PGPASSWORD, pg_dump on the PATH.
    ran = subprocess.run(container["command"], capture_output=True, text=True, timeout=120,
                         env={"PATH": f"{pg_pair.bin_dir}:/usr/bin:/bin", env["name"]: MONITOR_PASSWORD},
                         stdin=subprocess.DEVNULL)
    assert ran.returncode == 0, ran.stderr
    (dump,) = os.listdir(directory)
    assert re.fullmatch(r"orders \d{4}-\d\d-\d\d_\d{6}\.dump", dump)


def test_pgbackrest_target_prints_an_incremental_backup(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path, "host=db")
    done = stacktop("backups", "export-schedule", "pg", "--config", str(config), "--format", "cron")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "@daily sudo -u postgres pgbackrest --stanza=main backup --type=incr")
    k8s = stacktop("backups", "export-schedule", "pg", "--config", str(config), "--format", "k8s",
                   "--image", "example/pgbackrest:2.54")
    container = yaml.safe_load(k8s.stdout)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "example/pgbackrest:2.54"
    assert container["command"][-3:] == ["--stanza=main", "backup", "--type=incr"]


@pytest.mark.parametrize(("args", "message"), [
    (["data", "--format", "cron"],
     "stacktop: target 'data' is an ebs source: AWS schedules live in AWS Backup "
     "plans, Data Lifecycle Manager policies or the RDS backup window"),
    (["unscheduled", "--format", "k8s"], "stacktop: target 'unscheduled' has no schedule — set "
                                         "backups.targets[].schedule"),
    (["order", "--format", "cron"], "stacktop: unknown backup target 'order' — did you mean 'orders'? "
                                    "targets are: orders, pg, data, unscheduled"),
])
def test_a_target_without_an_exportable_job_is_one_line_and_exit_2(
        tmp_path: Path, args: list[str], message: str) -> None:
    config = write_config(tmp_path, tmp_path, "host=db")
    done = stacktop("backups", "export-schedule", *args, "--config", str(config))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1


def test_bad_usage_and_bad_config_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path, "host=db")
    for args in (["backups"], ["backups", "export-schedule", "orders", "--config", str(config)],
                 ["backups", "export-schedule", "orders", "--config", str(config), "--format", "xml"]):
        done = stacktop(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, args
    bad = REPO / "tests" / "data" / "bad_configs" / "backups_bad_cron.yaml"
    done = stacktop("backups", "export-schedule", "orders", "--config", str(bad), "--format", "cron")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"stacktop: config error: {bad}:6:17: backups.targets[0].schedule: not a cron schedule: "
        "\"61 2 * * *\": minute 61 is out of range 0-59 (fields: minute hour day-of-month month "
        "day-of-week, e.g. '30 2 * * *')")


def test_check_lists_the_backup_targets(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "dumps", "host=db user=backup dbname=orders")
    done = stacktop("check", "--config", str(config), env={"HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    assert "  backups   4 target(s); restore tests logged to " in done.stdout
    assert (f"    target orders: pg_dump files in {tmp_path / 'dumps'} named orders %Y-%m-%d_%H%M%S.dump; "
            "schedule */30 * * * *; rpo 2h; keep everything (no retention rule)\n") in done.stdout
    assert ("    target data: EBS snapshots of vol-0123456789abcdef0 in prod/eu-west-1; schedule @daily; "
            "no rpo; keep everything (no retention rule)\n") in done.stdout

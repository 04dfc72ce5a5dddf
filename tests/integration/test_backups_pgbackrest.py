"""The pgBackRest source against a real PostgreSQL 15 and a real pgBackRest repository
(tests/support/pgbackrest.py): backups taken through backup_now, listed by read(),
expired one at a time, restored into an empty directory and started; failing
commands give one line and delete nothing."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.model import BackupSourceSettings
from providers.backups.model import COMPLETED, RUNNING, Backup
from providers.backups.pgbackrest import RUNNING_ID, PgBackRestError, PgBackRestSource
from tests.support.pgbackrest import CIPHER_PASS, PgBackRestCluster, pgbackrest_cluster  # noqa: F401

ROWS_BEFORE_FULL = 1000
ROWS_AFTER_FULL = 500


@dataclass(frozen=True)
class Taken:
    full: str
    incr: str
    full_result: str
    incr_result: str
    running_seen: tuple[Backup, ...]
    """RUNNING rows read() showed while the incremental ran."""


@pytest.fixture(scope="module")
def taken(pgbackrest_cluster: PgBackRestCluster) -> Taken:  # noqa: F811
    """Data, a full backup through the source, more data, an incremental through the source
    (read() polled meanwhile from another thread, as the provider's polls do)."""
    cluster = pgbackrest_cluster
    source = cluster.source()
    cluster.execute(f"CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, {ROWS_BEFORE_FULL}) g")
    full_result = source.backup_now("full")
    cluster.execute(f"INSERT INTO orders SELECT g FROM generate_series({ROWS_BEFORE_FULL + 1}, "
                    f"{ROWS_BEFORE_FULL + ROWS_AFTER_FULL}) g")
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(source.backup_now("incr")))
    seen: list[Backup] = []
    worker.start()
    while worker.is_alive():
        seen += [b for b in source.read().backups if b.status == RUNNING]
        time.sleep(0.05)
    worker.join()
    assert results, "backup_now('incr') raised (see the thread's traceback above)"
    labels = cluster.labels()
    assert len(labels) == 2, labels
    return Taken(labels[0], labels[1], full_result, results[0], tuple(seen))


def test_full_then_incremental_are_listed_with_kinds_sizes_and_the_chain(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    reading = pgbackrest_cluster.source().read()
    backups = {b.id: b for b in reading.backups}
    assert list(backups) == [taken.incr, taken.full]  # newest first
    full, incr = backups[taken.full], backups[taken.incr]
    assert (full.kind, incr.kind) == ("full", "incr")
    assert full.status == incr.status == COMPLETED
    assert full.size is not None and full.size > 0 and incr.size is not None and incr.size > 0
    assert incr.depends_on == (taken.full,) and full.depends_on == ()
    assert full.time < incr.time <= time.time() + 1
    assert full.duration is not None and full.duration >= 0
    assert reading.problems == ()
    facts = dict(reading.facts)
    assert facts["status"] == "ok" and facts["cipher"] == "aes-256-cbc"
    assert reading.label == "pgBackRest stanza main (PostgreSQL 15)"


def test_backup_now_answers_one_line_naming_the_new_backup(taken: Taken) -> None:
    assert taken.full_result.startswith(f"pgBackRest full backup {taken.full} done in ")
    assert taken.incr_result.startswith(f"pgBackRest incr backup {taken.incr} done in ")
    assert "\n" not in taken.full_result + taken.incr_result


def test_the_incremental_showed_as_running_while_it_ran(taken: Taken) -> None:
    assert taken.running_seen, "read() never showed the running incremental"
    assert {(b.id, b.kind) for b in taken.running_seen} == {(RUNNING_ID, "incr")}


def test_a_held_backup_lock_is_a_running_row_and_refuses_backup_and_expire(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    source = pgbackrest_cluster.source()
    before = pgbackrest_cluster.labels()
    with pgbackrest_cluster.backup_lock_held():
        reading = source.read()
        assert reading.backups[0].id == RUNNING_ID and reading.backups[0].status == RUNNING
        assert dict(reading.facts)["lock"] == "backup/expire running"
        with pytest.raises(PgBackRestError) as err:
            source.backup_now("incr")
        assert one_line(err).startswith("pgbackrest backup (stanza main): "
                                        "ERROR: [050]: unable to acquire lock")
        incr = next(b for b in reading.backups if b.id == taken.incr)
        with pytest.raises(PgBackRestError) as err:
            source.delete(incr)
        assert "ERROR: [050]" in one_line(err)
    assert pgbackrest_cluster.labels() == before


def test_restore_of_the_full_starts_with_the_data_it_held(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    directory = pgbackrest_cluster.empty_dir()
    result = pgbackrest_cluster.source().restore_to(taken.full, str(directory))
    assert result.startswith(f"restored pgBackRest backup {taken.full} into {directory} in ")
    auto = (directory / "postgresql.auto.conf").read_text()
    assert "archive_mode = 'off'" in auto and "recovery_target = 'immediate'" in auto
    with pgbackrest_cluster.run_restored(directory) as server:
        assert server.port != pgbackrest_cluster.port
        # The full's consistent point: rows written after it (before the incr) are not there.
        rows = server.execute("SELECT count(*), max(id) FROM orders")[0]
        assert rows == (ROWS_BEFORE_FULL, ROWS_BEFORE_FULL)
    assert not directory.exists()
    primary = pgbackrest_cluster.execute("SELECT count(*) FROM orders")[0][0]
    assert primary == ROWS_BEFORE_FULL + ROWS_AFTER_FULL


def test_restore_of_the_incremental_as_the_directory_owner_has_the_later_rows(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    """build.py calls restore_to(label, directory) with no user: running as root with a plain
    `pgbackrest` command, the restore runs as the owner of the scratch directory (postgres)."""
    plain = (pgbackrest_cluster.pgbackrest_bin, f"--config={pgbackrest_cluster.conf_path}",
             "--log-level-file=off")  # root must not leave root-owned log files in postgres's log path
    source = fake_source(*plain)
    directory = pgbackrest_cluster.empty_dir()
    source.restore_to(taken.incr, str(directory))
    assert (directory / "PG_VERSION").stat().st_uid == directory.stat().st_uid
    with pgbackrest_cluster.run_restored(directory) as server:
        assert server.execute("SELECT count(*) FROM orders")[0][0] == ROWS_BEFORE_FULL + ROWS_AFTER_FULL


def test_restore_refuses_a_directory_in_use_and_an_unknown_label(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    source = pgbackrest_cluster.source()
    directory = pgbackrest_cluster.empty_dir()
    (directory / "PG_VERSION").write_text("15\n")
    with pytest.raises(PgBackRestError) as err:
        source.restore_to(taken.full, str(directory))
    assert one_line(err) == (f"pgbackrest restore (stanza main): {directory} is not empty "
                             "(restore needs an empty directory)")
    assert sorted(p.name for p in directory.iterdir()) == ["PG_VERSION"]
    empty = pgbackrest_cluster.empty_dir()
    with pytest.raises(PgBackRestError) as err:
        source.restore_to("20200101-000000F", str(empty))
    assert one_line(err) == "pgbackrest restore (stanza main): no backup 20200101-000000F in stanza main"
    assert list(empty.iterdir()) == []


def test_delete_refuses_a_full_an_incremental_needs(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    source = pgbackrest_cluster.source()
    before = pgbackrest_cluster.labels()
    full = next(b for b in source.read().backups if b.id == taken.full)
    with pytest.raises(PgBackRestError) as err:
        source.delete(full)
    assert one_line(err).startswith(f"pgbackrest expire (stanza main): {taken.full} is needed by "
                                    f"{taken.incr} ")
    assert pgbackrest_cluster.labels() == before


def test_delete_of_an_incremental_removes_exactly_it(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    extra = pgbackrest_cluster.backup("incr")
    source = pgbackrest_cluster.source()
    before = pgbackrest_cluster.labels()
    backup = next(b for b in source.read().backups if b.id == extra)
    assert backup.depends_on[0] == taken.incr
    result = source.delete(backup)
    assert result.startswith(f"expired pgBackRest incr backup {extra}, ")
    assert pgbackrest_cluster.labels() == [label for label in before if label != extra]
    with pytest.raises(PgBackRestError) as err:
        source.delete(backup)
    assert one_line(err) == f"pgbackrest expire (stanza main): backup {extra} is not in stanza main " \
                            "(already expired?)"


# ------------------------------------------------------------------ failures

def test_a_bad_stanza_reads_as_a_problem_and_fails_backup_and_delete_in_one_line(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    before = pgbackrest_cluster.labels()
    source = PgBackRestSource(BackupSourceSettings(kind="pgbackrest", stanza="nosuch",
                                                   command=pgbackrest_cluster.command), 30)
    reading = source.read()
    assert reading.backups == () and reading.problems == ("stanza nosuch: missing stanza path",)
    with pytest.raises(PgBackRestError) as err:
        source.backup_now("full")
    assert one_line(err) == ("pgbackrest backup (stanza nosuch): ERROR: [037]: backup command requires "
                             "option: pg1-path; HINT: does this stanza exist?")
    with pytest.raises(PgBackRestError) as err:
        source.delete(Backup(id=taken.full, time=0))
    assert one_line(err) == (f"pgbackrest expire (stanza nosuch): backup {taken.full} is not in stanza "
                             "nosuch (already expired?)")
    with pytest.raises(PgBackRestError) as err:
        source.backup_now("weekly")
    assert one_line(err) == "pgbackrest backup: unknown type 'weekly' (full, diff or incr)"
    assert pgbackrest_cluster.labels() == before


def test_a_missing_binary_is_one_line_and_deletes_nothing(
        pgbackrest_cluster: PgBackRestCluster, taken: Taken) -> None:  # noqa: F811
    before = pgbackrest_cluster.labels()
    source = fake_source("/nonexistent/pgbackrest", "--config=/x.conf")
    for call in (source.read, lambda: source.delete(Backup(id=taken.incr, time=0)),
                 lambda: source.backup_now("incr")):
        with pytest.raises(PgBackRestError) as err:
            call()
        assert one_line(err) == ("pgbackrest info (stanza main): cannot run /nonexistent/pgbackrest: "
                                 "No such file or directory")
    assert pgbackrest_cluster.labels() == before


@pytest.mark.parametrize("as_postgres", [False, True], ids=["direct", "through-runuser"])
def test_a_command_that_hangs_is_stopped_at_the_timeout(
        pgbackrest_cluster: PgBackRestCluster, as_postgres: bool) -> None:  # noqa: F811
    if as_postgres and os.geteuid() != 0:
        pytest.skip("runuser needs root")
    pid_file = pgbackrest_cluster.empty_dir("hang") / "pid"
    wrapper = ("runuser", "-u", "postgres", "--") if as_postgres else ()
    # sh writes its PID, then becomes `sleep 60` (same PID); the source's arguments follow as $2….
    source = fake_source(*wrapper, "sh", "-c", 'echo $$ > "$1"; exec sleep 60', "sh", str(pid_file),
                         timeout=1.0)
    started = time.monotonic()
    with pytest.raises(PgBackRestError) as err:
        source.read()
    assert time.monotonic() - started < 15
    name = "runuser" if as_postgres else "sh"
    assert one_line(err) == f"{name} info (stanza main): no answer within 1 s (stopped it)"
    assert process_state(int(pid_file.read_text())) in ("gone", "Z")  # a zombie is dead, waiting for init


def test_output_that_is_not_json_is_one_line() -> None:
    source = fake_source(sys.executable, "-c", "print('Usage: pgbackrest [options] [command]')")
    with pytest.raises(PgBackRestError) as err:
        source.read()
    assert one_line(err).endswith("info (stanza main): output is not JSON (starts 'Usage: pgbackrest "
                                  "[options] [command]')")


def test_secrets_on_the_command_line_never_show() -> None:
    code = ("import sys; print('ERROR: [031]: invalid option ' + ' '.join(sys.argv[1:]), file=sys.stderr); "
            "sys.exit(31)")
    source = fake_source(sys.executable, "-c", code, f"--repo1-cipher-pass={CIPHER_PASS}")
    with pytest.raises(PgBackRestError) as err:
        source.read()
    message = one_line(err)
    assert CIPHER_PASS not in message
    assert "ERROR: [031]: invalid option --repo1-cipher-pass=*** --stanza=main --output=json info" in message


# ------------------------------------------------------------------- helpers

def fake_source(*command: str, timeout: float = 30.0) -> PgBackRestSource:
    return PgBackRestSource(BackupSourceSettings(kind="pgbackrest", stanza="main", command=command), timeout)


def process_state(pid: int) -> str:
    """The state letter in /proc (R, S, Z…), or "gone"."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    return stat.rsplit(")", 1)[1].split()[0]


def one_line(err: pytest.ExceptionInfo[PgBackRestError]) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message

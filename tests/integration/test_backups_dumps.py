"""Dump files as a backup source, against a real PostgreSQL 15 (pg_dump) and moto's S3.

What an operator would notice: the dumps listed with the right times, a dump still being
written shown as running (never as a complete backup), Backup now producing a real dump
that restores, deletes that remove exactly one file, and one-line errors for a directory
they cannot read or a bucket that does not exist.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from config.model import BackupSettings, BackupSourceSettings, VerifyCheckSettings, VerifySettings
from providers.backups.dumps import STALE_PARTIAL, DumpFilesSource, DumpSourceError
from providers.backups.model import COMPLETED, FAILED, RUNNING, Backup
from providers.backups.scratch import processes_in
from providers.backups.verifications import VerificationLog
from tests.support.aws import boto_client
from tests.support.pg import PRIMARY, PgPair, pg_pair, wait_until  # noqa: F401
from tests.support.servers import skip_or_fail

pytestmark = pytest.mark.integration

ROWS = 1200
DUMPER = "stk_dumper"
DUMPER_PASSWORD = "dump-secret-91c4"
PATTERN = "orders-%Y%m%d-%H%M%S.dump"


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def orders_db(pg_pair: PgPair) -> Iterator[str]:  # noqa: F811
    """A database with ROWS orders and a password-only role that may dump it."""
    name = f"stk_orders_{uuid.uuid4().hex[:8]}"
    pg_pair.execute(PRIMARY, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    pg_pair.execute(PRIMARY, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(DUMPER)))
    pg_pair.execute(PRIMARY, sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(DUMPER), sql.Literal(DUMPER_PASSWORD)))
    pg_pair.execute(PRIMARY, "CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL);"
                             f"INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, {ROWS}) g;"
                             f"GRANT SELECT ON orders TO {DUMPER}", dbname=name)
    try:
        yield name
    finally:
        pg_pair.execute(PRIMARY, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        pg_pair.execute(PRIMARY, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(DUMPER)))


def _dsn(pair: PgPair, db: str) -> str:
    return f"host=127.0.0.1 port={pair.ports[PRIMARY]} dbname={db} user={DUMPER}"


def _touch(path: Path, mtime: float, data: bytes = b"x") -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def _local(directory: Path, **kw: Any) -> DumpFilesSource:
    return DumpFilesSource(BackupSourceSettings(kind="dumps", directory=str(directory), **kw), "orders")


# ------------------------------------------------------------------------ listing
def test_listing_times_dumps_by_their_names_and_ignores_what_is_not_theirs(tmp_path: Path) -> None:
    now = time.time()
    _touch(tmp_path / "orders-20261120-020000.dump", now, b"a" * 100)
    _touch(tmp_path / "orders-20261121-020000.dump", now - 5, b"b" * 200)
    _touch(tmp_path / "orders-20261122-020000.dump.partial", now)              # being written
    _touch(tmp_path / "orders-20261119-020000.dump.tmp", now - 2 * STALE_PARTIAL)  # left by a crash
    _touch(tmp_path / "users-20261121-020000.dump", now)                       # another target's
    _touch(tmp_path / "orders-20261399-020000.dump", now)                      # no such date
    _touch(tmp_path / "notes.txt", now)
    _touch(tmp_path / ".orders-20261121-030000.dump", now)                     # hidden
    (tmp_path / "orders-20261118-020000.dump").mkdir()                          # not a file

    reading = _local(tmp_path, pattern=PATTERN).read()

    got = {b.id: b for b in reading.backups}
    assert list(got) == ["orders-20261122-020000.dump.partial", "orders-20261121-020000.dump",
                         "orders-20261120-020000.dump", "orders-20261119-020000.dump.tmp"]  # newest first
    assert got["orders-20261121-020000.dump"].time == _utc(2026, 11, 21, 2)
    assert got["orders-20261121-020000.dump"].size == 200
    assert got["orders-20261121-020000.dump"].status == COMPLETED
    assert got["orders-20261122-020000.dump.partial"].status == RUNNING
    stale = got["orders-20261119-020000.dump.tmp"]
    assert stale.status == FAILED and "incomplete" in stale.note
    assert str(tmp_path) in reading.label
    assert ("times from", f"name pattern {PATTERN}") in reading.facts


def test_without_a_pattern_every_file_is_timed_by_its_modification_time(tmp_path: Path) -> None:
    _touch(tmp_path / "nightly.sql.gz", _utc(2026, 1, 2, 3, 4, 5))
    _touch(tmp_path / "weekly.sql.gz", _utc(2026, 1, 1))
    reading = _local(tmp_path).read()
    assert [(b.id, b.time) for b in reading.backups] == [
        ("nightly.sql.gz", _utc(2026, 1, 2, 3, 4, 5)), ("weekly.sql.gz", _utc(2026, 1, 1))]
    assert ("times from", "modification time") in reading.facts


def test_a_pattern_without_date_fields_filters_and_uses_mtime(tmp_path: Path) -> None:
    _touch(tmp_path / "orders-a.dump", _utc(2026, 2, 1))
    _touch(tmp_path / "users-a.dump", _utc(2026, 2, 1))
    reading = _local(tmp_path, pattern="orders-*.dump").read()
    assert [(b.id, b.time) for b in reading.backups] == [("orders-a.dump", _utc(2026, 2, 1))]


# -------------------------------------------------------------------- backup now
@pytest.fixture
def scratch_parent() -> Iterator[Path]:
    """Where scratch servers go: reachable by the 'postgres' user (pytest's tmp_path is root-only)."""
    parent = Path(tempfile.mkdtemp(prefix="stk-scratch-parent-"))
    os.chmod(parent, 0o755)
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_backup_now_writes_a_real_dump_that_restores_and_is_recorded(
        tmp_path: Path, pg_pair: PgPair, orders_db: str, scratch_parent: Path) -> None:  # noqa: F811
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    source = DumpFilesSource(BackupSourceSettings(kind="dumps", directory=str(dumps), pattern=PATTERN,
                                                  dsn=_dsn(pg_pair, orders_db), password=DUMPER_PASSWORD),
                             "orders")
    assert source.backup_modes == ("pg_dump",)

    # Hold a lock pg_dump must wait for, so the dump is caught while it runs.
    blocker = pg_pair.connect(PRIMARY, dbname=orders_db)
    blocker.autocommit = False
    blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    result: dict[str, Any] = {}

    def backup() -> None:
        try:
            result["message"] = source.backup_now("pg_dump")
        except Exception as exc:
            result["error"] = exc

    worker = threading.Thread(target=backup)
    worker.start()
    try:
        running = wait_until(lambda: result.get("error") or [b for b in source.read().backups
                                                             if b.status == RUNNING],
                             what="the running pg_dump to be listed")
        assert isinstance(running, list), running
        assert running[0].id.endswith(".dump.partial")
        assert not [b for b in source.read().backups if b.status == COMPLETED]  # nothing looks complete yet
        proc = next(iter(source._running.values())).proc
        # Popen returns once exec has begun; the kernel fills in the new argv and environment
        # a moment later, and until then /proc shows both empty. Wait for pg_dump's own.
        def exec_done() -> tuple[bytes, bytes] | None:
            cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
            return (cmdline, environ) if b"pg_dump" in cmdline and environ else None

        cmdline, environ = wait_until(exec_done, what="pg_dump's argv and environment in /proc")
        assert DUMPER_PASSWORD.encode() not in cmdline
        assert f"PGPASSWORD={DUMPER_PASSWORD}".encode() in environ
    finally:
        blocker.rollback()
        blocker.close()
        worker.join(60)
    assert not worker.is_alive()

    (dump,) = [b for b in source.read().backups]
    assert dump.status == COMPLETED and dump.size and dump.size > 1000
    assert result["message"].startswith(f"pg_dump wrote {dump.id} (")
    assert sorted(p.name for p in dumps.iterdir()) == [dump.id]  # no .partial left
    assert abs(dump.time - time.time()) < 120
    assert (dumps / dump.id).read_bytes()[:5] == b"PGDMP"  # custom format

    scratch = scratch_parent
    settings = BackupSettings(verification_log=str(tmp_path / "verifications.jsonl"),
                              scratch_dir=str(scratch))
    verify = VerifySettings(database="orders", checks=(
        VerifyCheckSettings("SELECT count(*) FROM orders", min=ROWS, name="orders rows"),))
    v = source.verify(dump, verify, settings)
    assert v.ok, v.message
    assert v.checks[0].name == "orders rows" and v.checks[0].value == str(ROWS) and v.checks[0].ok
    log = VerificationLog(settings.verification_log)
    log.record(v)
    assert log.recent("orders") == (v,)
    assert list(scratch.iterdir()) == [] and processes_in(scratch) == []


def test_backup_now_with_a_wrong_password_is_one_line_and_leaves_no_file(
        tmp_path: Path, pg_pair: PgPair, orders_db: str) -> None:  # noqa: F811
    wrong = "not-the-password-5d1e"
    source = _local(tmp_path, pattern=PATTERN, dsn=_dsn(pg_pair, orders_db), password=wrong)
    with pytest.raises(DumpSourceError) as info:
        source.backup_now("pg_dump")
    message = str(info.value)
    assert "\n" not in message and "password authentication failed" in message
    assert wrong not in message
    assert list(tmp_path.iterdir()) == []


def test_a_password_inside_the_dsn_never_reaches_the_command_line(
        tmp_path: Path, pg_pair: PgPair, orders_db: str) -> None:  # noqa: F811
    dsn = _dsn(pg_pair, orders_db) + f" password={DUMPER_PASSWORD}"
    source = _local(tmp_path, dsn=dsn)
    argv, env = source._pg_dump_command()
    assert not any(DUMPER_PASSWORD in a for a in argv)
    assert env["PGPASSWORD"] == DUMPER_PASSWORD
    message = source.backup_now("pg_dump")
    (only,) = list(tmp_path.iterdir())
    assert only.name.startswith("orders-") and only.name.endswith(".dump") and only.name in message


def test_backup_now_is_offered_only_where_it_can_work(tmp_path: Path) -> None:
    assert _local(tmp_path).backup_modes == ()  # no dsn
    assert _local(tmp_path, dsn="host=x", format="mysqldump").backup_modes == ()
    s3 = DumpFilesSource(BackupSourceSettings(kind="dumps", bucket="b", dsn="host=x"), "orders", lambda: None)
    assert s3.backup_modes == ()
    assert any(k == "backup now" and "S3" in v for k, v in s3._facts())
    with pytest.raises(DumpSourceError, match="not available for S3"):
        s3.backup_now("pg_dump")


def test_a_dump_name_that_exists_is_never_overwritten(tmp_path: Path, pg_pair: PgPair,  # noqa: F811
                                                      orders_db: str) -> None:
    source = _local(tmp_path, pattern="orders-%Y%m%d.dump", dsn=_dsn(pg_pair, orders_db),
                    password=DUMPER_PASSWORD)
    today = datetime.now(UTC).strftime("orders-%Y%m%d.dump")
    (tmp_path / today).write_bytes(b"yesterday's operator copy")
    with pytest.raises(DumpSourceError, match="already exists"):
        source.backup_now("pg_dump")
    assert (tmp_path / today).read_bytes() == b"yesterday's operator copy"
    assert [p.name for p in tmp_path.iterdir()] == [today]


# ------------------------------------------------------------------------- delete
def test_delete_removes_exactly_that_file(tmp_path: Path) -> None:
    for day in (20, 21):
        _touch(tmp_path / f"orders-202611{day}-020000.dump", time.time(), b"z" * 2048)
    source = _local(tmp_path, pattern=PATTERN)
    doomed = next(b for b in source.read().backups if b.id == "orders-20261120-020000.dump")
    assert source.delete(doomed) == "deleted orders-20261120-020000.dump (2.0 KB)"
    assert [b.id for b in source.read().backups] == ["orders-20261121-020000.dump"]
    with pytest.raises(DumpSourceError, match="already gone"):
        source.delete(doomed)
    for bad in ("../orders-20261121-020000.dump", "sub/x.dump", ".."):
        with pytest.raises(DumpSourceError, match="refused"):
            source.delete(Backup(bad, 0.0))
    assert (tmp_path / "orders-20261121-020000.dump").exists()


# ------------------------------------------------------------------ bad directories
def test_a_directory_that_does_not_exist_or_is_a_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DumpSourceError) as info:
        _local(tmp_path / "nope").read()
    assert str(info.value) == (f"backup directory {tmp_path / 'nope'} does not exist — create it or fix "
                               "source.directory of target orders")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DumpSourceError, match=r"is not a directory — point source\.directory"):
        _local(tmp_path / "afile").read()


def test_an_unreadable_directory_names_the_user_who_cannot_read_it() -> None:
    """chmod 000 as a non-root user (root reads through any mode, so as root the check runs
    in a forked child that has dropped to the unprivileged 'postgres' user)."""
    base = Path(tempfile.mkdtemp(prefix="stk-dumps-perm-"))
    try:
        os.chmod(base, 0o755)
        locked = base / "locked"
        locked.mkdir()
        (locked / "orders-20261120-020000.dump").write_bytes(b"x")
        os.chmod(locked, 0)
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                skip_or_fail("as root, this needs the unprivileged 'postgres' user (install postgresql)")
                raise
            message = _read_as(entry, locked)
            user = "postgres"
        else:
            with pytest.raises(DumpSourceError) as info:
                _local(locked).read()
            message, user = str(info.value), pwd.getpwuid(os.geteuid()).pw_name
        assert message == (f"backup directory {locked} is not readable: Permission denied — check its "
                           f"permissions for user {user}")
    finally:
        os.chmod(base / "locked", 0o700)
        shutil.rmtree(base)


def _read_as(entry: pwd.struct_passwd, directory: Path) -> str:
    """The error message DumpFilesSource.read() gives to `entry`'s user (a forked child)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop root, read, report, exit without running any cleanup
        code = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            try:
                _local(directory).read()
                os.write(write_fd, b"no error")
            except DumpSourceError as exc:
                os.write(write_fd, str(exc).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return message


# ----------------------------------------------------------------------------- S3
@pytest.fixture
def s3(moto_url: str) -> Any:
    client = boto_client("s3", moto_url)
    client.create_bucket(Bucket="stk-dumps")
    return client


def _s3_source(client: Any, **kw: Any) -> DumpFilesSource:
    settings = BackupSourceSettings(kind="dumps", bucket="stk-dumps", prefix="db/orders/", account="prod",
                                    region="us-east-1", **kw)
    return DumpFilesSource(settings, "orders", lambda: client)


def test_s3_listing_pages_through_the_prefix(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for day in range(1, 6):
        s3.put_object(Bucket="stk-dumps", Key=f"db/orders/orders-2026110{day}-020000.dump", Body=b"d" * day)
    s3.put_object(Bucket="stk-dumps", Key="db/orders/orders-20261106-020000.dump.partial", Body=b"p")
    s3.put_object(Bucket="stk-dumps", Key="db/orders/readme.txt", Body=b"r")
    s3.put_object(Bucket="stk-dumps", Key="db/orders/old/orders-20251101-020000.dump", Body=b"o")  # deeper
    s3.put_object(Bucket="stk-dumps", Key="db/users/users-20261101-020000.dump", Body=b"u")
    source = _s3_source(s3, pattern=PATTERN)
    monkeypatch.setattr(source, "page_size", 2)

    reading = source.read()

    assert [b.id for b in reading.backups] == [
        "db/orders/orders-20261106-020000.dump.partial",
        *(f"db/orders/orders-2026110{day}-020000.dump" for day in range(5, 0, -1))]
    first = reading.backups[-1]
    assert first.time == _utc(2026, 11, 1, 2) and first.size == 1 and first.status == COMPLETED
    assert ("s3", "s3://stk-dumps/db/orders/orders-20261101-020000.dump") in first.details
    assert reading.backups[0].status == RUNNING
    assert "s3://stk-dumps/db/orders/" in reading.label


def test_s3_without_a_pattern_uses_last_modified(s3: Any) -> None:
    s3.put_object(Bucket="stk-dumps", Key="db/orders/a.sql.gz", Body=b"a")
    (only,) = _s3_source(s3).read().backups
    assert only.id == "db/orders/a.sql.gz" and abs(only.time - time.time()) < 300


def test_s3_fetch_downloads_to_a_temp_file_removed_afterwards_and_delete_removes_the_object(
        s3: Any, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)  # more than one read chunk
    key = "db/orders/orders-20261101-020000.dump"
    s3.put_object(Bucket="stk-dumps", Key=key, Body=payload)
    source = DumpFilesSource(BackupSourceSettings(kind="dumps", bucket="stk-dumps", prefix="db/orders/",
                                                  pattern=PATTERN), "orders", lambda: s3,
                             tmp_dir=str(tmp_path))
    (backup,) = source.read().backups
    with source.fetch(backup) as path:
        assert path.read_bytes() == payload
        assert path.parent.parent == tmp_path
    assert list(tmp_path.iterdir()) == []

    assert source.delete(backup) == f"deleted s3://stk-dumps/{key}"
    assert source.read().backups == ()
    with pytest.raises(DumpSourceError, match="refused"):
        source.delete(Backup("db/users/users-20261101-020000.dump", 0.0))


def test_s3_dump_is_downloaded_and_restore_tested(s3: Any, tmp_path: Path, pg_pair: PgPair,  # noqa: F811
                                                  orders_db: str) -> None:
    dump = tmp_path / "x.dump"
    env = {**os.environ, "PGPASSWORD": DUMPER_PASSWORD}
    subprocess.run([str(pg_pair.bin_dir / "pg_dump"), "--format=custom", "-f", str(dump),
                    f"--dbname={_dsn(pg_pair, orders_db)}"], env=env, check=True, capture_output=True)
    s3.put_object(Bucket="stk-dumps", Key="db/orders/orders-20261101-020000.dump", Body=dump.read_bytes())
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    source = DumpFilesSource(BackupSourceSettings(kind="dumps", bucket="stk-dumps", prefix="db/orders/",
                                                  pattern=PATTERN), "orders", lambda: s3,
                             tmp_dir=str(downloads))
    (backup,) = source.read().backups
    v = source.verify(backup, VerifySettings(database="orders", checks=(
        VerifyCheckSettings("SELECT max(id) FROM orders", min=ROWS, max=ROWS),)), BackupSettings())
    assert v.ok, v.message
    assert v.backup_id == backup.id and v.method == "pg_dump"
    assert list(downloads.iterdir()) == []


def test_s3_bucket_that_does_not_exist_is_one_line(s3: Any) -> None:
    source = DumpFilesSource(BackupSourceSettings(kind="dumps", bucket="stk-no-such-bucket", prefix="x/"),
                             "orders", lambda: s3)
    with pytest.raises(DumpSourceError) as info:
        source.read()
    assert str(info.value) == ("S3 bucket stk-no-such-bucket does not exist — check source.bucket of target "
                               "orders (and its account/region)")


def test_s3_endpoint_down_is_one_line(tmp_path: Path) -> None:
    from tests.support.aws import unused_local_url

    client = boto_client("s3", unused_local_url())
    with pytest.raises(DumpSourceError) as info:
        _s3_source(client).read()
    assert "\n" not in str(info.value) and "cannot reach" in str(info.value)


def test_s3_with_an_account_that_is_not_configured_is_one_line() -> None:
    source = DumpFilesSource(BackupSourceSettings(kind="dumps", bucket="b", account="nope"), "orders",
                             lambda: None)
    with pytest.raises(DumpSourceError) as info:
        source.read()
    assert str(info.value) == ("target orders: AWS account 'nope' is not configured — add it to "
                               "providers.aws.accounts or fix source.account")


def test_s3_through_the_guarded_account_session(moto_url: str, s3: Any, tmp_path: Path) -> None:
    """The clients stacktop really builds: listing works read-only; download and delete are actions
    (allowed read-write, refused in one line by the read-only guard before any request)."""
    from config.model import AwsAccountSettings
    from providers.aws.session import AccountClients

    key = "db/orders/orders-20261101-020000.dump"
    s3.put_object(Bucket="stk-dumps", Key=key, Body=b"PGDMP-ish")
    account = AwsAccountSettings(name="prod", endpoint_url=moto_url, regions=("us-east-1",))
    settings = BackupSourceSettings(kind="dumps", bucket="stk-dumps", prefix="db/orders/", account="prod",
                                    region="us-east-1", pattern=PATTERN)
    for read_only in (True, False):
        clients = AccountClients(account, read_only=read_only, max_attempts=1)
        try:
            source = DumpFilesSource(settings, "orders", lambda c=clients: c, tmp_dir=str(tmp_path))
            (backup,) = source.read().backups
            if read_only:
                with pytest.raises(DumpSourceError) as info:
                    source.delete(backup)
                assert "read-only session: s3:DeleteObject refused" in str(info.value)
                with pytest.raises(DumpSourceError, match="GetObject refused"), source.fetch(backup):
                    pass
            else:
                with source.fetch(backup) as path:
                    assert path.read_bytes() == b"PGDMP-ish"
                assert source.delete(backup) == f"deleted s3://stk-dumps/{key}"
                assert source.read().backups == ()
        finally:
            clients.close()
    assert list(tmp_path.iterdir()) == []

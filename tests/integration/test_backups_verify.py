"""Restore tests against real PostgreSQL 15: pg_dump files restored into a scratch server,
a physical copy (pg_basebackup) adopted and recovered, the checks judged.

What an operator would notice: a good dump is proved with its checks; a corrupt dump, a
failing check or a deadline is one line naming what failed; and whatever happened, no
scratch directory and no scratch postmaster is left behind.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from config.model import BackupSettings, VerifyCheckSettings, VerifySettings
from providers.backups.model import Verification
from providers.backups.scratch import ScratchPostgres, processes_in, run_as_user
from providers.backups.verify import dump_format, verify_pg_dump, verify_restored_dir
from tests.support.pg import PRIMARY, PgPair, pg_pair  # noqa: F401

pytestmark = pytest.mark.integration

ROWS = 3000
OWNER = "stk_app_owner"  # owns the table in production, does not exist in a scratch server
ROWS_CHECK = VerifyCheckSettings("SELECT count(*) FROM items", min=ROWS, name="items rows")


@pytest.fixture(scope="module")
def dumps(pg_pair: PgPair, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:  # noqa: F811
    """Real dumps of a database with ROWS items owned by a role the scratch server lacks:
    custom format, plain SQL, gzipped plain SQL, and a dump of a database with no tables."""
    name = f"stk_verify_{uuid.uuid4().hex[:8]}"
    empty = f"{name}_empty"
    out = tmp_path_factory.mktemp("dumps")
    ident = sql.Identifier
    for db in (name, empty):
        pg_pair.execute(PRIMARY, sql.SQL("CREATE DATABASE {}").format(ident(db)))
    pg_pair.execute(PRIMARY, sql.SQL("DROP ROLE IF EXISTS {}").format(ident(OWNER)))
    pg_pair.execute(PRIMARY, sql.SQL("CREATE ROLE {}").format(ident(OWNER)))
    pg_pair.execute(PRIMARY, sql.SQL(
        "CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL);"
        "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, {rows}) g;"
        "ALTER TABLE items OWNER TO {owner}; GRANT SELECT ON items TO PUBLIC").format(
            rows=sql.Literal(ROWS), owner=ident(OWNER)), dbname=name)
    pg_dump = str(pg_pair.bin_dir / "pg_dump")
    base = ["-h", "127.0.0.1", "-p", str(pg_pair.ports[PRIMARY]), "-U", "postgres"]
    files = {"custom": out / "items.dump", "plain": out / "items.sql", "empty": out / "empty.dump"}
    subprocess.run([pg_dump, *base, "-Fc", "-f", str(files["custom"]), name], check=True, capture_output=True)
    subprocess.run([pg_dump, *base, "-Fp", "-f", str(files["plain"]), name], check=True, capture_output=True)
    subprocess.run([pg_dump, *base, "-Fc", "-f", str(files["empty"]), empty], check=True, capture_output=True)
    files["gzip"] = out / "items.sql.gz"
    files["gzip"].write_bytes(gzip.compress(files["plain"].read_bytes()))
    try:
        yield files
    finally:
        for db in (name, empty):
            pg_pair.execute(PRIMARY, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident(db)))
        pg_pair.execute(PRIMARY, sql.SQL("DROP ROLE IF EXISTS {}").format(ident(OWNER)))


@pytest.fixture
def scratch_parent() -> Iterator[Path]:
    """backups.scratch_dir for the test; afterwards it must be empty and no process may be in it.
    (Made under /tmp, 0755: pytest's tmp_path is root-only, the server may run as 'postgres'.)"""
    parent = Path(tempfile.mkdtemp(prefix="stk-scratch-parent-"))
    os.chmod(parent, 0o755)
    try:
        yield parent
        assert list(parent.iterdir()) == [], "a scratch directory was left behind"
        assert processes_in(parent) == [], "a scratch PostgreSQL process was left behind"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _settings(parent: Path, **kw: Any) -> BackupSettings:
    return BackupSettings(scratch_dir=str(parent), **kw)


def _verify(path: Path, parent: Path, *checks: VerifyCheckSettings, timeout: float = 60.0,
            database: str = "shop") -> Verification:
    return verify_pg_dump(path, VerifySettings(database=database, checks=checks, timeout=timeout),
                          _settings(parent), target="shop", backup_id=path.name,
                          clock=lambda: 1_800_000_000.0)


def _assert_failed(v: Verification, *words: str) -> None:
    assert not v.ok
    assert "\n" not in v.message, v.message
    for word in words:
        assert word in v.message, v.message


# -------------------------------------------------------------------- good dumps
def test_a_custom_dump_restores_and_its_checks_pass(dumps: dict[str, Path], scratch_parent: Path) -> None:
    v = _verify(dumps["custom"], scratch_parent, ROWS_CHECK,
                VerifyCheckSettings("SELECT max(id) FROM items", min=ROWS, max=ROWS, name="max id"),
                VerifyCheckSettings("SELECT EXISTS (SELECT 1 FROM items WHERE id = 42)", name="row 42"))
    assert v.ok, v.message
    assert (v.target, v.at, v.backup_id, v.method) == ("shop", 1_800_000_000.0, "items.dump", "pg_dump")
    assert [(c.name, c.value, c.ok, c.expected) for c in v.checks] == [
        ("items rows", str(ROWS), True, f">= {ROWS}"), ("max id", str(ROWS), True, f"{ROWS}..{ROWS}"),
        ("row 42", "True", True, "true")]
    assert v.message.startswith("restored items.dump and passed 3 checks in ")
    assert 0 < v.duration < 60


@pytest.mark.parametrize("kind", ["plain", "gzip"])
def test_plain_and_gzipped_sql_dumps_restore(kind: str, dumps: dict[str, Path], scratch_parent: Path) -> None:
    """The table's owner does not exist in the scratch server: psql's ON_ERROR_STOP must not trip on it."""
    assert dump_format(dumps[kind]) == kind
    checks = (ROWS_CHECK,) if kind == "plain" else ()  # gzip: the default check
    v = _verify(dumps[kind], scratch_parent, *checks)
    assert v.ok, v.message
    assert [c.name for c in v.checks] == (["items rows"] if checks else ["user tables"])


def test_default_check_wants_a_user_table(dumps: dict[str, Path], scratch_parent: Path) -> None:
    empty = _verify(dumps["empty"], scratch_parent)
    _assert_failed(empty, "check 'user tables' failed: 0 (expected >= 1)")


# ------------------------------------------------------------------- bad dumps
@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage"])
def test_a_corrupt_dump_fails_in_one_line_and_leaves_nothing_behind(
        damage: str, dumps: dict[str, Path], scratch_parent: Path, tmp_path: Path) -> None:
    data = bytearray(dumps["custom"].read_bytes())
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
    elif damage == "flipped":
        middle = len(data) // 2
        data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    else:
        data = bytearray(b"\x00\x01not a dump at all\xff" * 100)
    broken = tmp_path / f"{damage}.dump"
    broken.write_bytes(bytes(data))
    v = _verify(broken, scratch_parent, ROWS_CHECK)
    _assert_failed(v, "restore failed:")
    assert v.checks == ()


def test_a_failing_check_is_named(dumps: dict[str, Path], scratch_parent: Path) -> None:
    too_many = VerifyCheckSettings("SELECT count(*) FROM items", min=ROWS + 1, name="items rows")
    missing = VerifyCheckSettings("SELECT count(*) FROM no_such_table", min=1, name="other table")
    v = _verify(dumps["custom"], scratch_parent, too_many, missing)
    _assert_failed(v, f"check 'items rows' failed: {ROWS} (expected >= {ROWS + 1}) (and 1 more)")
    assert [c.ok for c in v.checks] == [False, False]
    assert v.checks[1].value.startswith('error: relation "no_such_table" does not exist')


def test_a_missing_dump_file_is_one_line(scratch_parent: Path, tmp_path: Path) -> None:
    _assert_failed(_verify(tmp_path / "gone.dump", scratch_parent), "cannot read", "gone.dump")


# --------------------------------------------------------------------- timeouts
def test_a_check_past_the_deadline_times_out_and_is_cleaned_up(
        dumps: dict[str, Path], scratch_parent: Path) -> None:
    slow = VerifyCheckSettings("SELECT count(*) FROM items, pg_sleep(60)", min=1, name="slow check")
    v = _verify(dumps["custom"], scratch_parent, ROWS_CHECK, slow, timeout=6.0)
    _assert_failed(v, "timed out after 6 s during check 'slow check' (verify.timeout)")
    assert v.duration < 20


@pytest.mark.parametrize("timeout", [0.05, 0.3, 0.8])
def test_an_early_deadline_stops_whatever_was_starting(
        timeout: float, dumps: dict[str, Path], scratch_parent: Path) -> None:
    """Early deadlines land in initdb (whose `postgres --single` child must die with it), in the
    server's start or in the restore; in each the fixture finds nothing left."""
    v = _verify(dumps["custom"], scratch_parent, timeout=timeout)
    _assert_failed(v, f"timed out after {timeout:g} s during")


# ---------------------------------------------------------- the scratch itself
def test_scratch_server_is_stopped_and_removed_when_the_block_raises(scratch_parent: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), ScratchPostgres(_settings(scratch_parent)) as scratch:
        scratch.initdb()
        pid = scratch.pid
        assert pid is not None and processes_in(scratch_parent)
        raise RuntimeError("boom")
    assert not Path(f"/proc/{pid}").exists()


def test_scratch_refuses_tcp_logins(scratch_parent: Path) -> None:
    """Restored data is production data: only the 0700 unix socket lets clients in."""
    import psycopg

    with ScratchPostgres(_settings(scratch_parent)) as scratch:
        scratch.initdb()
        with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry"):
            psycopg.connect(f"host=127.0.0.1 port={scratch.port} dbname=postgres user=postgres",
                            connect_timeout=5)
        assert (scratch.socket_dir.stat().st_mode & 0o777) == 0o700


def test_wrong_pg_bin_dir_is_one_line(dumps: dict[str, Path], scratch_parent: Path, tmp_path: Path) -> None:
    v = verify_pg_dump(dumps["custom"], VerifySettings(), _settings(scratch_parent, pg_bin_dir=str(tmp_path)),
                       target="shop", backup_id="x")
    _assert_failed(v, f"backups.pg_bin_dir {tmp_path} has no initdb, postgres")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_a_scratch_dir_the_postgres_user_cannot_enter_is_named(dumps: dict[str, Path],
                                                               tmp_path: Path) -> None:
    private = tmp_path / "private"  # under pytest's 0700 root-only directory
    v = verify_pg_dump(dumps["custom"], VerifySettings(), BackupSettings(scratch_dir=str(private)),
                       target="shop", backup_id="x")
    _assert_failed(v, "user postgres cannot enter", "set backups.scratch_dir")
    assert list(private.iterdir()) == []


# ------------------------------------------------------------ physical restores
def _basebackup(pair: PgPair) -> Callable[[str], None]:
    """A restore callable that copies the primary with pg_basebackup (as pgBackRest would restore)."""
    def restore(directory: str) -> None:
        user = run_as_user()
        subprocess.run([str(pair.bin_dir / "pg_basebackup"), "-h", "127.0.0.1",
                        "-p", str(pair.ports[PRIMARY]), "-U", "postgres", "-D", directory,
                        "-X", "stream", "--checkpoint=fast", "--no-sync"],
                       check=True, capture_output=True, timeout=60,
                       **({"user": user} if user else {}))
    return restore


def test_a_base_backup_is_adopted_recovered_and_checked(
        pg_pair: PgPair, scratch_parent: Path) -> None:  # noqa: F811
    db = f"stk_phys_{uuid.uuid4().hex[:8]}"
    pg_pair.execute(PRIMARY, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    try:
        pg_pair.execute(PRIMARY, "CREATE TABLE events AS SELECT g AS id FROM generate_series(1, 500) g",
                        dbname=db)
        checks = (VerifyCheckSettings("SELECT count(*) FROM events", min=500, name="events"),
                  VerifyCheckSettings("SELECT NOT pg_is_in_recovery()", name="promoted"),
                  VerifyCheckSettings("SELECT current_setting('archive_mode') = 'off'", name="not archiving"),
                  VerifyCheckSettings("SELECT count(*) FROM pg_stat_wal_receiver", max=0,
                                      name="not streaming"))
        v = verify_restored_dir(_basebackup(pg_pair), VerifySettings(database=db, checks=checks, timeout=90),
                                _settings(scratch_parent), target="events", backup_id="20261122-010203F")
        assert v.ok, v.message
        assert v.method == "pgbackrest" and v.backup_id == "20261122-010203F"
        assert [c.ok for c in v.checks] == [True, True, True, True]
        assert v.checks[0].value == "500"
    finally:
        pg_pair.execute(PRIMARY, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(db)))
    assert pg_pair.execute(PRIMARY, "SELECT 1") == [(1,)]  # the source was never disturbed


def test_a_restore_that_fails_is_one_line_and_cleaned_up(scratch_parent: Path) -> None:
    def restore(directory: str) -> None:
        Path(directory, "half-written").write_text("x")
        subprocess.run(["sh", "-c", "echo 'ERROR: backup 20261122-010203F not found' >&2; exit 1"],
                       check=True, capture_output=True)

    v = verify_restored_dir(restore, VerifySettings(), _settings(scratch_parent), target="t", backup_id="b")
    _assert_failed(v, "restore test failed:")


def test_a_restore_that_produces_no_data_directory_is_named(scratch_parent: Path) -> None:
    v = verify_restored_dir(lambda directory: None, VerifySettings(), _settings(scratch_parent),
                            target="t", backup_id="b")
    _assert_failed(v, "is not a PostgreSQL data directory (no PG_VERSION)")

"""A real PostgreSQL 15 primary archiving through a real pgBackRest repository, for tests.

``PgBackRestCluster.create()`` (about 2.5 s) makes, in one fresh tempdir: a PostgreSQL
cluster listening on 127.0.0.1 on a free port (``archive_mode = on``, ``archive_command``
through ``pgbackrest archive-push``), a ``pgbackrest.conf`` whose repository (encrypted,
lz4), log, lock and spool paths are all inside the tempdir, then ``stanza-create`` and
``check``. The repository starts with no backup.

Everything runs as the ``postgres`` user when the tests run as root (initdb, postgres and
pgBackRest refuse root or would write root-owned files): the postmaster through
``Popen(user="postgres")``, pgBackRest through :attr:`PgBackRestCluster.command`, the
argv prefix an operator would configure (``runuser -u postgres -- pgbackrest --config=…``
as root, ``pgbackrest --config=…`` otherwise). Teardown stops the servers by PID and
removes the tempdir.

Use: the module-scoped ``pgbackrest_cluster`` fixture (import it into the test module),
:meth:`~PgBackRestCluster.settings` / :meth:`~PgBackRestCluster.source` for the backup
source, :meth:`~PgBackRestCluster.backup` to take a backup without the source,
:meth:`~PgBackRestCluster.empty_dir` for a restore target and
:meth:`~PgBackRestCluster.run_restored` to start a restored copy on another port.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from config.model import BackupSourceSettings
from providers.backups.pgbackrest import PgBackRestSource
from tests.support.pg import as_postgres, chown_to_postgres, free_port, pg_bin_dir, run_as_postgres
from tests.support.servers import skip_or_fail

STANZA = "main"
CIPHER_PASS = "stk-test-cipher-5c1e9a"
"""The repository's cipher passphrase (in pgbackrest.conf only; messages must never show it)."""

_PG_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sock}'
wal_level = replica
archive_mode = on
archive_command = '{pgbackrest} --config={conf} --stanza={stanza} archive-push %p'
max_wal_senders = 3
max_connections = 20
shared_buffers = 16MB
# Test servers: durability is not what we test, speed is.
fsync = off
log_min_messages = warning
"""

_HBA = """\
local all all trust
host all postgres 127.0.0.1/32 trust
"""

_BACKREST_CONF = """\
[global]
repo1-path={base}/repo
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass={cipher}
{retention}log-path={base}/log
lock-path={base}/lock
spool-path={base}/spool
start-fast=y
compress-type=lz4
log-level-console=warn
log-level-file=info

[{stanza}]
pg1-path={data}
pg1-port={port}
pg1-socket-path={sock}
pg1-user=postgres
"""


@dataclass
class PgBackRestCluster:
    """A running primary whose WAL and backups go to a pgBackRest repository in `base`."""

    base: Path
    bin_dir: Path
    pgbackrest_bin: str
    retention_full: int | None = None
    stanza: str = STANZA
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = None
    _restored: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _closed: bool = False

    # ----------------------------------------------------------------- paths
    @property
    def data_dir(self) -> Path:
        return self.base / "pg"

    @property
    def sock_dir(self) -> Path:
        return self.base / "sock"

    @property
    def repo_dir(self) -> Path:
        return self.base / "repo"

    @property
    def conf_path(self) -> Path:
        return self.base / "pgbackrest.conf"

    @property
    def command(self) -> tuple[str, ...]:
        """The argv prefix an operator would configure as the source's `command`."""
        run_as: tuple[str, ...] = ()
        if os.geteuid() == 0:
            run_as = ("runuser", "-u", "postgres", "--")
        return (*run_as, self.pgbackrest_bin, f"--config={self.conf_path}")

    # ---------------------------------------------------------------- create
    @classmethod
    def create(cls, *, retention_full: int | None = None) -> PgBackRestCluster:
        """`retention_full`: repo1-retention-full (None: not set, pgBackRest keeps every full and
        warns about it on each backup; 2 makes a third full expire the oldest automatically)."""
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            skip_or_fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                         "(apt-get install postgresql)")
        pgbackrest = shutil.which("pgbackrest")
        if pgbackrest is None:
            skip_or_fail("pgbackrest not found (apt-get install pgbackrest)")
        if os.geteuid() == 0:
            try:
                import pwd
                pwd.getpwnam("postgres")
            except KeyError:
                skip_or_fail("running as root needs the 'postgres' user to run PostgreSQL and pgBackRest")
            if shutil.which("runuser") is None:
                skip_or_fail("running as root needs runuser (util-linux) to run pgBackRest as postgres")
        assert bin_dir is not None and pgbackrest is not None
        cluster = cls(base=Path(tempfile.mkdtemp(prefix="stk-pgbr-")), bin_dir=bin_dir,
                      pgbackrest_bin=pgbackrest, retention_full=retention_full)
        atexit.register(cluster.close)
        try:
            cluster._build()
        except BaseException:
            cluster.close()
            raise
        return cluster

    def _build(self) -> None:
        for sub in ("", "sock", "repo", "log", "lock", "spool", "scratch"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
            chown_to_postgres(self.base / sub)
        run_as_postgres([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], self.base)
        (self.data_dir / "pg_hba.conf").write_text(_HBA)
        for attempt in range(3):
            self.port = free_port()
            self._write_confs()
            try:
                self._start()
                break
            except _StartFailed as exc:
                if "could not bind" not in exc.log or attempt == 2:
                    pytest.fail(str(exc))
        self.pgbackrest("stanza-create")
        self.pgbackrest("check")

    def _write_confs(self) -> None:
        retention = f"repo1-retention-full={self.retention_full}\n" if self.retention_full else ""
        self.conf_path.write_text(_BACKREST_CONF.format(
            base=self.base, cipher=CIPHER_PASS, retention=retention, stanza=self.stanza,
            data=self.data_dir, port=self.port, sock=self.sock_dir))
        chown_to_postgres(self.conf_path)
        self.conf_path.chmod(0o600)
        pg_conf = self.data_dir / "postgresql.conf"
        initial = self.base / "postgresql.conf.initdb"
        if not initial.exists():
            shutil.copy(pg_conf, initial)
        pg_conf.write_text(initial.read_text() + _PG_CONF.format(
            port=self.port, sock=self.sock_dir, pgbackrest=self.pgbackrest_bin, conf=self.conf_path,
            stanza=self.stanza))

    def _start(self, timeout: float = 30.0) -> None:
        log_path = self.base / "postgres.log"
        with log_path.open("ab") as log:
            offset = log.tell()
            self._proc = proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.base,
                **as_postgres())
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                self._proc = None
                text = log_path.read_bytes()[offset:].decode(errors="replace")
                raise _StartFailed(f"PostgreSQL exited with {proc.returncode} on start:\n{text}", text)
            try:
                self.execute("SELECT 1", connect_timeout=2)
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    _stop(proc)
                    self._proc = None
                    pytest.fail(f"PostgreSQL did not accept connections within {timeout:.0f} s")
                time.sleep(0.05)

    # -------------------------------------------------------------- teardown
    def close(self) -> None:
        """Stop every server this cluster started (restored copies first), remove the tempdir."""
        if self._closed:
            return
        self._closed = True
        for proc in self._restored:
            _stop(proc)
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None
        shutil.rmtree(self.base, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # ------------------------------------------------------------- database
    def dsn(self, *, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"

    def execute(self, query: str, params: Sequence[Any] | None = None, *, dbname: str = "postgres",
                connect_timeout: int = 5) -> list[tuple[Any, ...]]:
        """Run a statement on the primary as superuser (autocommit); the rows it returns, or []."""
        return _execute(self.dsn(dbname=dbname), query, params, connect_timeout)

    # ------------------------------------------------------------ pgBackRest
    def settings(self) -> BackupSourceSettings:
        """The source settings an operator would write for this stanza."""
        return BackupSourceSettings(kind="pgbackrest", stanza=self.stanza, command=self.command)

    def source(self, timeout: float = 60.0, **kw: Any) -> PgBackRestSource:
        return PgBackRestSource(self.settings(), timeout, **kw)

    def pgbackrest(self, *args: str, check: bool = True,
                   timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run `pgbackrest --config=… --stanza=S args…` as postgres (test set-up, not the source)."""
        done = subprocess.run([*self.command, f"--stanza={self.stanza}", *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            output = done.stdout + done.stderr
            pytest.fail(f"pgbackrest {' '.join(args)} failed ({done.returncode}):\n{output}")
        return done

    def info(self) -> Any:
        """`info --output=json` as parsed JSON (a list with this stanza)."""
        return json.loads(self.pgbackrest("--output=json", "info").stdout)

    def labels(self) -> list[str]:
        """Backup labels in the repository, oldest first."""
        return [b["label"] for b in self.info()[0]["backup"]]

    def backup(self, kind: str = "full") -> str:
        """Take a backup directly (not through the source); its label."""
        before = set(self.labels())
        self.pgbackrest(f"--type={kind}", "backup", timeout=300)
        new = [label for label in self.labels() if label not in before]
        assert len(new) == 1, new
        return new[0]

    @contextlib.contextmanager
    def backup_lock_held(self) -> Iterator[None]:
        """Hold the stanza's backup lock for the block, as a running `pgbackrest backup` does
        (flock plus the JSON pgBackRest writes into it): `info` says held, backup and expire
        fail with `ERROR: [050]`. Deterministic, where catching a real 3 s backup is not."""
        lock = self.base / "lock" / f"{self.stanza}-backup.lock"
        if not lock.exists():
            lock.touch()
            chown_to_postgres(lock)
        with lock.open("r+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                fh.truncate(0)
                fh.write(json.dumps({"execId": f"{os.getpid()}-stktest0", "pid": os.getpid()}))
                fh.flush()
                yield
            finally:
                fh.truncate(0)
                fh.flush()
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------- restores
    def empty_dir(self, name: str = "restore") -> Path:
        """A new empty directory (mode 0700, owned by postgres as root) under the tempdir."""
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.base / "scratch"))
        chown_to_postgres(path)
        path.chmod(0o700)
        return path

    @contextlib.contextmanager
    def run_restored(self, directory: Path, timeout: float = 60.0) -> Iterator[RestoredServer]:
        """Start a restored data directory on a free port (as postgres, socket in the directory,
        archiving off) and wait until recovery has ended and it is promoted; stopped by PID and
        the directory removed after the block."""
        port = free_port()
        log_path = directory.parent / f"{directory.name}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(directory), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={directory}",
                 "-c", "archive_mode=off"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.base,
                **as_postgres())
        self._restored.append(proc)
        server = RestoredServer(port=port, pid=proc.pid)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"restored PostgreSQL exited with {proc.returncode}:\n"
                                f"{log_path.read_text(errors='replace')[-3000:]}")
                with contextlib.suppress(psycopg.OperationalError):
                    if not server.execute("SELECT pg_is_in_recovery()", connect_timeout=2)[0][0]:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"restored PostgreSQL not promoted within {timeout:.0f} s:\n"
                                f"{log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.05)
            yield server
        finally:
            _stop(proc)
            self._restored.remove(proc)
            shutil.rmtree(directory, ignore_errors=True)
            log_path.unlink(missing_ok=True)


@dataclass(frozen=True)
class RestoredServer:
    """A restored copy running on 127.0.0.1:`port` (superuser postgres, trust over TCP)."""

    port: int
    pid: int

    def execute(self, query: str, params: Sequence[Any] | None = None, *, dbname: str = "postgres",
                connect_timeout: int = 5) -> list[tuple[Any, ...]]:
        dsn = f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"
        return _execute(dsn, query, params, connect_timeout)


def _execute(dsn: str, query: str, params: Sequence[Any] | None,
             connect_timeout: int) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout) as conn:
        cur = conn.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description is not None else []


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT) by PID, then immediate (SIGQUIT), then SIGKILL; always reaped."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        proc.send_signal(sig)
        try:
            proc.wait(20 if sig == signal.SIGINT else 5)
            return
        except subprocess.TimeoutExpired:
            continue


class _StartFailed(Exception):
    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


@pytest.fixture(scope="module")
def pgbackrest_cluster() -> Iterator[PgBackRestCluster]:
    """A primary archiving into a fresh pgBackRest repository (stanza "main", no backup yet),
    one per test module; stopped by PID and removed at the end of the module."""
    cluster = PgBackRestCluster.create()
    try:
        yield cluster
    finally:
        cluster.close()

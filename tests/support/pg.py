"""A real PostgreSQL primary + streaming replica for tests (Debian's PostgreSQL 15).

``PgPair.create()`` initialises a primary in a fresh tempdir, takes a base backup with a
physical slot (``replica1``) and starts the replica streaming from it: about 2 s.
Both run ``pg_stat_statements`` (preloaded; the extension itself is not created, so
tests can see the collector's note before ``CREATE EXTENSION``).

The postmasters are this process's own children (``subprocess.Popen(user="postgres")``
when running as root, since initdb refuses root), so teardown stops them by PID and
reaps them; nothing else on the machine is touched. They listen on 127.0.0.1 on free
ports and put their unix sockets in the tempdir.

Roles: ``postgres`` (superuser, trust over TCP from 127.0.0.1, what :meth:`PgPair.execute`
uses) and ``stacktop_monitor`` (only ``pg_monitor``, password :data:`MONITOR_PASSWORD`,
scram-sha-256): :attr:`PgPair.dsns` log in as the latter, as an operator's config would.

Tests that change the pair put it back (``with pair.stopped("replica"):``,
``with pair.replay_paused():``); ``pair.ensure_healthy()`` is the safety net.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import sql

from tests.support.servers import skip_or_fail

PRIMARY, REPLICA = "primary", "replica"
MEMBERS = (PRIMARY, REPLICA)
MONITOR_USER = "stacktop_monitor"
MONITOR_PASSWORD = "monitor-secret-7f3a"
SLOT = "replica1"

_CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sock}'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
shared_preload_libraries = 'pg_stat_statements'
max_connections = 40
shared_buffers = 16MB
# Test servers: durability is not what we test, speed is.
fsync = off
full_page_writes = off
# Replies from the replica every second, so the primary's view of lag is fresh.
wal_receiver_status_interval = 1s
# A replica whose WAL receiver failed tries again after 1 s (not 5).
wal_retrieve_retry_interval = 1s
log_min_messages = warning
"""

_HBA = """\
local all all trust
host replication all 127.0.0.1/32 trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""

T = TypeVar("T")


def pg_bin_dir() -> Path | None:
    """The newest Debian PostgreSQL bin directory that has initdb, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return candidates[-1].parent if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.1,
               what: str = "condition") -> T:
    """Poll `check` until it returns something truthy (returned); fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


@dataclass
class PgPair:
    """A running primary + replica. Members are named "primary" and "replica"."""

    base: Path
    bin_dir: Path
    ports: dict[str, int]
    data_dirs: dict[str, Path]
    sock_dir: Path
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _closed: bool = False

    # ----------------------------------------------------------------- create
    @classmethod
    def create(cls, base: Path | None = None) -> PgPair:
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            skip_or_fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                         "(apt-get install postgresql)")
        assert bin_dir is not None
        if os.geteuid() == 0:
            try:
                import pwd
                pwd.getpwnam("postgres")
            except KeyError:
                skip_or_fail("running as root needs the 'postgres' user to run PostgreSQL")
        base = Path(base or tempfile.mkdtemp(prefix="stk-pg-"))
        pair = cls(base=base, bin_dir=bin_dir, ports={}, data_dirs={m: base / m for m in MEMBERS},
                   sock_dir=base / "sock")
        atexit.register(pair.close)
        try:
            pair._build()
        except BaseException:
            pair.close()
            raise
        return pair

    def _build(self) -> None:
        self.sock_dir.mkdir(parents=True, exist_ok=True)
        chown_to_postgres(self.base)
        chown_to_postgres(self.sock_dir)
        primary = self.data_dirs[PRIMARY]
        run_as_postgres([str(self.bin_dir / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust",
                         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], self.base)
        with (primary / "postgresql.conf").open("a") as f:
            f.write(_CONF.format(sock=self.sock_dir))
        (primary / "pg_hba.conf").write_text(_HBA)
        self._start_on_free_port(PRIMARY)
        # Untracked, or the password would sit in pg_stat_statements for every later test to see.
        self.execute(PRIMARY, "SET pg_stat_statements.track = 'none'; "
                              f"CREATE ROLE {MONITOR_USER} LOGIN PASSWORD '{MONITOR_PASSWORD}'; "
                              f"GRANT pg_monitor TO {MONITOR_USER}")
        run_as_postgres([str(self.bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p",
                         str(self.ports[PRIMARY]), "-U", "postgres", "-D", str(self.data_dirs[REPLICA]),
                         "-R", "-X", "stream", "-C", "-S", SLOT, "--checkpoint=fast", "--no-sync"], self.base)
        self._start_on_free_port(REPLICA)
        self.wait_streaming()

    def _start_on_free_port(self, member: str) -> None:
        """Ports are found free, then bound by PostgreSQL: retry if another process won the race."""
        for attempt in range(3):
            self.ports[member] = free_port()
            try:
                self.start(member)
                return
            except _StartFailed as exc:
                if "could not bind" not in exc.log or attempt == 2:
                    pytest.fail(str(exc))

    # --------------------------------------------------------------- running
    def start(self, member: str, timeout: float = 30.0) -> None:
        """Start a stopped member (same port) and wait until it accepts connections."""
        proc = self._procs.get(member)
        if proc is not None and proc.poll() is None:
            return
        log_path = self.base / f"{member}.log"
        log = log_path.open("ab")
        offset = log.tell()
        try:
            self._procs[member] = proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dirs[member]),
                 "-p", str(self.ports[member])],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.base,
                **as_postgres())
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                self._procs.pop(member, None)
                text = log_path.read_bytes()[offset:].decode(errors="replace")
                raise _StartFailed(f"PostgreSQL {member} exited with {proc.returncode} on start:\n{text}",
                                   text)
            try:
                self.execute(member, "SELECT 1", connect_timeout=2)
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self._stop_proc(member)
                    pytest.fail(f"PostgreSQL {member} did not accept connections within {timeout:.0f} s")
                time.sleep(0.05)

    def stop(self, member: str, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT) of a member by its PID; waits until it has exited."""
        self._stop_proc(member, timeout)

    def _stop_proc(self, member: str, timeout: float = 20.0) -> None:
        proc = self._procs.pop(member, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGQUIT)  # immediate shutdown
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def pid(self, member: str) -> int | None:
        proc = self._procs.get(member)
        return proc.pid if proc is not None and proc.poll() is None else None

    def running(self, member: str) -> bool:
        return self.pid(member) is not None

    def close(self) -> None:
        """Stop every server this pair started (replica first), then remove the tempdir."""
        if self._closed:
            return
        self._closed = True
        for member in reversed(MEMBERS):
            self._stop_proc(member)
        shutil.rmtree(self.base, ignore_errors=True)

    # ------------------------------------------------------------ connecting
    def dsn(self, member: str, *, user: str = MONITOR_USER, dbname: str = "postgres") -> str:
        """A libpq DSN without a password (the collector gets the password apart)."""
        return f"host=127.0.0.1 port={self.ports[member]} dbname={dbname} user={user}"

    @property
    def dsns(self) -> tuple[str, str]:
        """(primary, replica) DSNs for the pg_monitor-only role; password: :attr:`password`."""
        return (self.dsn(PRIMARY), self.dsn(REPLICA))

    @property
    def password(self) -> str:
        return MONITOR_PASSWORD

    @property
    def monitor_user(self) -> str:
        return MONITOR_USER

    def name(self, member: str) -> str:
        """The member's name as collectors show it: host:port."""
        return f"127.0.0.1:{self.ports[member]}"

    def connect(self, member: str, *, dbname: str = "postgres", connect_timeout: int = 5,
                **kw: Any) -> psycopg.Connection[Any]:
        """A superuser connection in autocommit mode (close it, or use it in a with block)."""
        return psycopg.connect(self.dsn(member, user="postgres", dbname=dbname), autocommit=True,
                               connect_timeout=connect_timeout, **kw)

    def execute(self, member: str, query: str | sql.Composable, params: Sequence[Any] | None = None, *,
                dbname: str = "postgres", connect_timeout: int = 5) -> list[tuple[Any, ...]]:
        """Run a statement as superuser (autocommit); the rows it returns, or []."""
        with self.connect(member, dbname=dbname, connect_timeout=connect_timeout) as conn:
            cur = conn.execute(query, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description is not None else []

    # --------------------------------------------------------- replication
    def replica_state(self) -> tuple[str, int] | None:
        """The primary's view of the replica: (state, bytes not yet replayed), or None."""
        rows = self.execute(PRIMARY, "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)"
                                     "::bigint FROM pg_stat_replication")
        return (rows[0][0], int(rows[0][1] or 0)) if rows else None

    def wait_streaming(self, timeout: float = 30.0) -> None:
        """Until the replica streams and has replayed everything the primary has."""
        def caught_up() -> bool:
            state = self.replica_state()
            return state is not None and state[0] == "streaming" and state[1] == 0
        wait_until(caught_up, timeout=timeout, what="the replica to stream and catch up")

    def ensure_healthy(self) -> None:
        """Undo what a failed test may have left: members started, replay resumed, replica caught up."""
        for member in MEMBERS:
            if not self.running(member):
                self.start(member)
        if self.execute(REPLICA, "SELECT pg_is_wal_replay_paused()")[0][0]:
            self.execute(REPLICA, "SELECT pg_wal_replay_resume()")
        self.wait_streaming()

    @contextlib.contextmanager
    def stopped(self, member: str) -> Iterator[None]:
        """The member stopped for the block; started again (and caught up) after it, even on failure."""
        self.stop(member)
        try:
            yield
        finally:
            self.start(member)
            self.wait_streaming()

    @contextlib.contextmanager
    def replay_paused(self) -> Iterator[None]:
        """WAL replay paused on the replica for the block (it still receives WAL)."""
        self.execute(REPLICA, "SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            self.execute(REPLICA, "SELECT pg_wal_replay_resume()")

    @contextlib.contextmanager
    def replication_broken(self) -> Iterator[None]:
        """The replica up and reachable, but its WAL receiver cannot log in to the primary (its
        primary_conninfo names a role that does not exist); repaired and caught up after the block."""
        original = self.execute(REPLICA, "SHOW primary_conninfo")[0][0]
        broken = original.replace("user=postgres", "user=stk_no_such_role")
        assert broken != original, original
        self.execute(REPLICA, _set_conninfo(broken))
        self.execute(REPLICA, "SELECT pg_reload_conf()")
        try:
            yield
        finally:
            self.execute(REPLICA, _set_conninfo(original))
            self.execute(REPLICA, "SELECT pg_reload_conf()")
            self.wait_streaming()



def as_postgres() -> dict[str, Any]:
    """Popen arguments that run a server binary as postgres when we are root (initdb,
    postgres and pgBackRest refuse root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def run_as_postgres(cmd: list[str], cwd: Path) -> None:
    """Run a setup command as postgres; its output is the failure message if it fails."""
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, cwd=cwd,
                          timeout=120, **as_postgres())
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")
        pytest.fail(f"{Path(cmd[0]).name} failed ({done.returncode}):\n{output}")


def _set_conninfo(value: str) -> sql.Composed:
    # ALTER SYSTEM takes no bind parameters: a client-side literal.
    return sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(value))


class _StartFailed(Exception):
    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


@pytest.fixture(scope="session")
def pg_pair() -> Iterator[PgPair]:
    """One primary + streaming replica for the whole session (stopped by PID at the end)."""
    pair = PgPair.create()
    try:
        yield pair
    finally:
        pair.close()


@pytest.fixture
def healthy_pg_pair(pg_pair: PgPair) -> PgPair:
    """The session's pair, first put back to both running, replaying and caught up (a few
    milliseconds when it already is): a test that failed half-way does not break the next."""
    pg_pair.ensure_healthy()
    return pg_pair

"""A real MariaDB primary + replica on loopback, for tests, benchmarks and the demo.

`running_mariadb_pair()` installs two data directories in a fresh temporary directory,
starts both servers on free ports bound to 127.0.0.1, creates a replication user and a
monitoring user with only the GRANTs the collector documents, and points the replica at the
primary (GTID, read_only). It takes about 1.6 s; teardown stops exactly the processes it
started, by PID, and removes the directory.

mariadbd refuses to run as root: under root it is started with --user=mysql and every path it
writes is owned by mysql. Root logs in through the socket only (unix_socket auth), which is
what `execute` uses; the collector under test logs in over TCP as the monitoring user.

    with running_mariadb_pair() as pair:
        pair.execute("primary", "CREATE DATABASE app")
        pair.wait_replicated()
        collector = MysqlCollector(pair.dsns, flavor="mariadb", password=pair.monitor_password, ...)

Fixtures (import them explicitly into a test module): `mariadb_pair` (one pair per session)
and `healthy_mariadb_pair` (the same pair, first brought back to both servers up and
replicating, for tests that follow one that broke it).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pymysql
import pytest
from pymysql.constants import CLIENT

from providers.ha.mysql import MARIADB_MONITOR_GRANTS
from tests.support.servers import skip_or_fail

MARIADBD = "mariadbd"
INSTALL_DB = "mariadb-install-db"
REPL_USER, REPL_PASSWORD = "repl", "repl-secret-4711"
MONITOR_USER, MONITOR_PASSWORD = "monitor", "monitor-secret-4711"
CONFLICT_USER = "stacktop_conflict"
START_TIMEOUT = 30.0

T = TypeVar("T")


def mariadb_missing() -> str | None:
    """Why no MariaDB can be started here, or None."""
    for binary in (MARIADBD, INSTALL_DB):
        if shutil.which(binary) is None and not Path("/usr/sbin", binary).exists():
            return f"{binary} not found (apt-get install mariadb-server)"
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("mysql")
        except KeyError:
            return "running as root needs the mysql user (the mariadb-server package creates it)"
    return None


def require_mariadb() -> None:
    """Skip on a developer machine without MariaDB; fail under CI=true."""
    why = mariadb_missing()
    if why is None:
        return
    skip_or_fail(f"MariaDB is required: {why}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy; AssertionError naming `what` after
    `timeout` seconds (with the last exception, if the condition raised)."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # a server still starting refuses connections
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(interval)


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


@dataclass
class MariadbServer:
    """One mariadbd this module started."""

    role: str
    server_id: int
    datadir: Path
    rundir: Path
    port: int
    extra_args: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.rundir / f"{self.role}.sock"

    @property
    def error_log(self) -> Path:
        return self.rundir / f"{self.role}.err"

    @property
    def name(self) -> str:
        """The collector's name for this member."""
        return f"127.0.0.1:{self.port}"

    @property
    def dsn(self) -> str:
        return f"mysql://{MONITOR_USER}@127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no error log)"


class MariadbPair:
    """A MariaDB primary and its replica. Members are named "primary"/"replica" or by their
    collector name ("127.0.0.1:PORT")."""

    def __init__(self, base: Path | None = None) -> None:
        self._own_base = base is None
        self.base = Path(base or tempfile.mkdtemp(prefix="stacktop-mariadb-"))
        self._as_root = os.geteuid() == 0
        self.root_user = "root" if self._as_root else getpass.getuser()
        rundir = self.base / "run"
        self.primary = MariadbServer("primary", 1, self.base / "primary", rundir, 0)
        self.replica = MariadbServer("replica", 2, self.base / "replica", rundir, 0,
                                     ("--relay-log=relay-bin", "--read-only=ON"))
        self.monitor_user, self.monitor_password = MONITOR_USER, MONITOR_PASSWORD

    # ------------------------------------------------------------------ what tests use

    @property
    def servers(self) -> tuple[MariadbServer, MariadbServer]:
        return (self.primary, self.replica)

    @property
    def dsns(self) -> tuple[str, str]:
        """Monitoring DSNs, primary first (no password: it is `monitor_password`)."""
        return (self.primary.dsn, self.replica.dsn)

    @property
    def ports(self) -> dict[str, int]:
        return {s.role: s.port for s in self.servers}

    @property
    def sockets(self) -> dict[str, Path]:
        return {s.role: s.socket for s in self.servers}

    @property
    def names(self) -> dict[str, str]:
        """role -> the collector's member name."""
        return {s.role: s.name for s in self.servers}

    def server(self, member: str) -> MariadbServer:
        for s in self.servers:
            if member in {s.role, s.name}:
                return s
        raise KeyError(f"no member {member!r}: use primary, replica or one of {list(self.names.values())}")

    def connect(self, member: str, **kw: Any) -> pymysql.connections.Connection:
        """A root connection through the member's socket (autocommit, multi-statements)."""
        return pymysql.connect(unix_socket=str(self.server(member).socket), user=self.root_user,
                               autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS,
                               connect_timeout=5, read_timeout=60, **kw)

    def execute(self, member: str, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        """Run SQL (several statements allowed) as root; the rows of the last result set."""
        conn = self.connect(member)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                rows = list(cur.fetchall())
                while cur.nextset():
                    if cur.description is not None:
                        rows = list(cur.fetchall())
                return rows
        finally:
            conn.close()

    def scalar(self, member: str, sql: str) -> Any:
        rows = self.execute(member, sql)
        return rows[0][0] if rows else None

    def replica_status(self) -> dict[str, Any]:
        """SHOW REPLICA STATUS of the replica as a dict ({} when replication is not configured)."""
        conn = self.connect("replica", cursorclass=pymysql.cursors.DictCursor)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW REPLICA STATUS")
                row = cur.fetchone()
                return dict(row) if row else {}
        finally:
            conn.close()

    def caught_up(self) -> bool:
        """Both replication threads run and the replica applied all the primary wrote."""
        st = self.replica_status()
        if st.get("Slave_IO_Running") != "Yes" or st.get("Slave_SQL_Running") != "Yes":
            return False
        return self.scalar("primary", "SELECT @@gtid_binlog_pos") == self.scalar(
            "replica", "SELECT @@gtid_slave_pos")

    def wait_replicated(self, timeout: float = 20.0) -> None:
        """Until the replica has applied everything the primary wrote so far."""
        wait_until(self.caught_up, timeout, "the replica to catch up with the primary")

    def break_replication(self, timeout: float = 20.0) -> str:
        """A conflicting statement: a user created on the replica (outside its binlog) that the
        primary then creates too. The replica's SQL thread stops with error 1396. Returns the
        user's name; `repair_replication` undoes it."""
        self.wait_replicated(timeout)
        self.execute("replica", f"SET SESSION sql_log_bin = 0; CREATE USER '{CONFLICT_USER}'@'%'")
        self.execute("primary", f"CREATE USER '{CONFLICT_USER}'@'%'")
        wait_until(lambda: self.replica_status().get("Slave_SQL_Running") == "No", timeout,
                   "the replica's SQL thread to stop on the conflict")
        return CONFLICT_USER

    def repair_replication(self, timeout: float = 20.0) -> None:
        """Drop what conflicts on the replica and restart replication, so the failed event
        applies again; then wait until the replica caught up."""
        self.execute("replica", "STOP SLAVE; SET SESSION sql_log_bin = 0; "
                                f"DROP USER IF EXISTS '{CONFLICT_USER}'@'%'; START SLAVE")
        self.wait_replicated(timeout)

    def detach_replica(self, *, writable: bool = False) -> None:
        """Replication removed from the replica (RESET SLAVE ALL), as after a failover script
        promoted it; `writable` also turns read_only off. `attach_replica` undoes it."""
        self.execute("replica", "STOP SLAVE; RESET SLAVE ALL"
                     + ("; SET GLOBAL read_only = OFF" if writable else ""))

    def attach_replica(self, timeout: float = 20.0) -> None:
        """Point the replica at the primary again (GTID: it resumes where it stopped), read-only."""
        self.execute("replica", f"""
            SET GLOBAL read_only = ON;
            CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={self.primary.port},
              MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{REPL_PASSWORD}',
              MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
            START SLAVE;
        """)
        self.wait_replicated(timeout)

    def ensure_healthy(self, timeout: float = 30.0) -> None:
        """Both servers up and replicating, whatever a previous test left behind."""
        for s in self.servers:
            if s.running:
                self.thaw(s.role)
            else:
                self.start(s.role)
        st = self.replica_status()
        if not st:
            self.attach_replica(timeout)
        elif st.get("Slave_SQL_Running") != "Yes" or st.get("Slave_IO_Running") not in {"Yes", "Connecting"}:
            if st.get("Last_SQL_Errno") == 1396:
                self.repair_replication(timeout)
            else:
                self.execute("replica", "START SLAVE")
        self.wait_replicated(timeout)

    # ------------------------------------------------------------------ lifecycle

    def up(self) -> None:
        """Install, start and connect both servers."""
        self._install()
        self._start_both()
        grants = ", ".join(MARIADB_MONITOR_GRANTS)
        self.execute("primary", f"""
            CREATE USER '{REPL_USER}'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}';
            GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'127.0.0.1';
            CREATE USER '{MONITOR_USER}'@'127.0.0.1' IDENTIFIED BY '{MONITOR_PASSWORD}';
            GRANT {grants} ON *.* TO '{MONITOR_USER}'@'127.0.0.1';
        """)
        # The replica replays the primary's binlog from its start: it gets both users too.
        self.attach_replica()

    def down(self) -> None:
        """Stop what this pair started (by PID) and remove its directory."""
        for s in reversed(self.servers):
            with contextlib.suppress(Exception):
                self.stop(s.role)
        if self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def stop(self, member: str, *, kill: bool = False, timeout: float = 60.0) -> None:
        """SIGTERM (a clean shutdown) or SIGKILL (a crash) to the member's mariadbd; waits for it."""
        s = self.server(member)
        proc, s.proc = s.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        proc.send_signal(signal.SIGCONT)  # a frozen server would never see the SIGTERM
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def freeze(self, member: str) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing (a hung host)."""
        s = self.server(member)
        if s.running and s.proc is not None:
            s.proc.send_signal(signal.SIGSTOP)

    def thaw(self, member: str) -> None:
        s = self.server(member)
        if s.running and s.proc is not None:
            s.proc.send_signal(signal.SIGCONT)

    def start(self, member: str) -> None:
        """Start a stopped member again, on its port; returns once it takes connections."""
        s = self.server(member)
        if s.running:
            return
        self._launch(s)
        self._wait_ready(s)

    def _install(self) -> None:
        """One mariadb-install-db, copied for the replica (a fresh data directory holds nothing
        server-specific in MariaDB; copying is 3x faster than a second install)."""
        rundir = self.primary.rundir
        rundir.mkdir(parents=True, exist_ok=True)
        self._own(self.base, rundir)
        cmd = [_binary(INSTALL_DB), "--no-defaults", f"--datadir={self.primary.datadir}",
               "--auth-root-authentication-method=socket", "--skip-test-db", "--innodb-log-file-size=8M"]
        if self._as_root:
            cmd.insert(2, "--user=mysql")
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {done.stderr.decode(errors='replace')[-800:]}")
        subprocess.run(["cp", "-a", str(self.primary.datadir), str(self.replica.datadir)], check=True,
                       timeout=120)

    def _own(self, *paths: Path) -> None:
        if not self._as_root:
            return
        for p in paths:
            shutil.chown(p, "mysql", "mysql")
            p.chmod(0o755)

    def _launch(self, s: MariadbServer) -> None:
        cmd = [_binary(MARIADBD), "--no-defaults", f"--datadir={s.datadir}", f"--port={s.port}",
               "--bind-address=127.0.0.1", f"--socket={s.socket}",
               f"--pid-file={s.rundir / (s.role + '.pid')}", f"--log-error={s.error_log}",
               f"--server-id={s.server_id}", "--log-bin=mysql-bin", "--binlog-format=ROW",
               "--skip-name-resolve", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M",
               "--max-connections=60", *s.extra_args]
        if self._as_root:
            cmd.insert(2, "--user=mysql")
        s.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)

    def _wait_ready(self, s: MariadbServer) -> None:
        def ready() -> bool:
            if not s.running:
                raise _Exited()
            self.connect(s.role).close()
            return True

        try:
            wait_until(ready, START_TIMEOUT, f"the MariaDB {s.role} on port {s.port}")
        except (_Exited, AssertionError) as exc:
            self.stop(s.role)
            raise RuntimeError(f"MariaDB {s.role} did not start on port {s.port}: "
                               f"{exc}\n{s.log_tail()}") from None

    def _start_both(self) -> None:
        """Both servers start at once; one that lost its port to another process moves on."""
        for s in self.servers:
            s.port = free_port()
            s.error_log.unlink(missing_ok=True)
            self._launch(s)
        for s in self.servers:
            try:
                self._wait_ready(s)
            except RuntimeError:
                if not self._port_taken(s):
                    raise
                self._start_new_port(s)

    @staticmethod
    def _port_taken(s: MariadbServer) -> bool:
        tail = s.log_tail()
        return "already in use" in tail or "Do you already have" in tail

    def _start_new_port(self, s: MariadbServer, attempts: int = 5) -> None:
        """Start on a free port; another process may take it between the check and the bind."""
        for attempt in range(attempts):
            s.port = free_port()
            s.error_log.unlink(missing_ok=True)
            try:
                self._launch(s)
                self._wait_ready(s)
                return
            except RuntimeError:
                if not self._port_taken(s) or attempt == attempts - 1:
                    raise


class _Exited(Exception):
    def __str__(self) -> str:
        return "mariadbd exited"


@contextlib.contextmanager
def running_mariadb_pair(base: Path | None = None) -> Iterator[MariadbPair]:
    """A started, replicating pair; stopped and removed afterwards, even on failure."""
    pair = MariadbPair(base)
    try:
        pair.up()
        yield pair
    finally:
        pair.down()


@pytest.fixture(scope="session")
def mariadb_pair() -> Iterator[MariadbPair]:
    """One MariaDB primary + replica for the whole session."""
    require_mariadb()
    with running_mariadb_pair() as pair:
        yield pair


@pytest.fixture
def healthy_mariadb_pair(mariadb_pair: MariadbPair) -> MariadbPair:
    """The session's pair, both servers up and the replica caught up."""
    mariadb_pair.ensure_healthy()
    return mariadb_pair

"""A real Patroni cluster for tests and benchmarks: etcd 3 plus three Patroni
members running Debian's PostgreSQL, all on 127.0.0.1 on free ports in a
temporary directory (see RECIPES.md, "Patroni: three members on etcd").

Patroni runs as `postgres` (through runuser when we are root) and its
postmasters detach (parent PID 1), so stopping means SIGTERM to the Patroni
PIDs (replicas, then the leader), then any postmaster still named by a
postmaster.pid of our data dirs, then etcd. Nothing but the processes started
here is ever signalled.

    with running_patroni_cluster() as cluster:
        cluster.wait_healthy()
        cluster.kill_member(cluster.leader())

or the session-scoped pytest fixture `patroni_cluster` (import it explicitly).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.servers import skip_or_fail

SCOPE = "stacktop-test"
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "pg-test-superpass"
REPLICATION_PASSWORD = "pg-test-replpass"
REST_USERNAME = "patroni-admin"
REST_PASSWORD = "patroni-test-restpass"
MAXIMUM_LAG_ON_FAILOVER = 1048576

ClusterJson = dict[str, Any]


def _free_ports(count: int) -> list[int]:
    """Distinct free ports (all bound at once, so none is handed out twice)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _bin_dir() -> Path | None:
    """The newest Debian PostgreSQL's bin directory."""
    versions = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/postgres")]
    versions.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


def missing_binaries() -> str:
    """"" when a cluster can start here, else what is missing."""
    missing = [name for name in ("patroni", "etcd") if shutil.which(name) is None]
    if _bin_dir() is None:
        missing.append("postgresql (/usr/lib/postgresql/*/bin)")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            missing.append("runuser")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("the postgres user")
    return ", ".join(missing)


def _alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return not any(_alive(p) for p in pids)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class PatroniMember:
    name: str
    rest_port: int
    pg_port: int
    data_dir: Path
    config: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    """Patroni's own PID (the child of runuser when we run as root)."""

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def postmaster_pid(self) -> int | None:
        """The postmaster of this data dir, if postmaster.pid names a live postgres running it."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and str(self.data_dir) in _cmdline(pid) else None


@dataclass
class PatroniCluster:
    """Three (or `size`) Patroni members on one etcd, started by `start()`."""

    size: int = 3
    ttl: int = 20
    loop_wait: int = 2
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="stacktop-patroni-")))
    members: dict[str, PatroniMember] = field(default_factory=dict)
    etcd: subprocess.Popen[bytes] | None = None
    started_in: float | None = None
    """Seconds from start() to a healthy cluster."""
    superuser_password: str = SUPERUSER_PASSWORD
    rest_username: str = REST_USERNAME
    rest_password: str = REST_PASSWORD
    maximum_lag_on_failover: int = MAXIMUM_LAG_ON_FAILOVER

    def __post_init__(self) -> None:
        ports = _free_ports(2 + 2 * self.size)
        self.etcd_client_port, self.etcd_peer_port = ports[0], ports[1]
        for i in range(self.size):
            name = f"pg{i + 1}"
            self.members[name] = PatroniMember(
                name=name, rest_port=ports[2 + i], pg_port=ports[2 + self.size + i],
                data_dir=self.root / name / "data", config=self.root / name / "patroni.yml",
                log=self.root / name / "patroni.log")
        self._stopped = False

    # --- what tests use -----------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self.members)

    @property
    def rest_urls(self) -> list[str]:
        return [m.rest_url for m in self.members.values()]

    @property
    def pg_ports(self) -> dict[str, int]:
        return {name: m.pg_port for name, m in self.members.items()}

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.etcd_client_port}"

    def rest_url(self, name: str) -> str:
        return self.members[name].rest_url

    def dsn(self, name: str, dbname: str = "postgres") -> str:
        """A libpq DSN for the member's PostgreSQL as the superuser (password included:
        test use only)."""
        return (f"host=127.0.0.1 port={self.members[name].pg_port} user={SUPERUSER} "
                f"password={self.superuser_password} dbname={dbname}")

    def cluster(self, timeout: float = 2.0) -> ClusterJson:
        """GET /cluster from the first member that answers (AssertionError if none does)."""
        errors = []
        for url in self.rest_urls:
            try:
                with urllib.request.urlopen(f"{url}/cluster", timeout=timeout) as response:
                    return json.loads(response.read())
            except (OSError, ValueError) as exc:
                errors.append(f"{url}: {exc}")
        raise AssertionError("no Patroni REST API answered: " + "; ".join(errors))

    def get(self, name: str, path: str, timeout: float = 2.0) -> Any:
        """GET `path` (e.g. /patroni, /history) from one member's REST API."""
        with urllib.request.urlopen(f"{self.rest_url(name)}{path}", timeout=timeout) as response:
            return json.loads(response.read())

    def wait_for(self, predicate: Callable[[ClusterJson], bool], timeout: float = 30.0,
                 what: str = "the condition") -> ClusterJson:
        """Poll /cluster until `predicate` holds; the /cluster that satisfied it.
        AssertionError with the last /cluster seen after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = self.cluster()
                if predicate(last):
                    return last
            except AssertionError as exc:
                last = str(exc)
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not reached within {timeout:g} s; last /cluster: {last}")
            time.sleep(0.25)

    async def wait_for_async(self, predicate: Callable[[ClusterJson], bool], timeout: float = 30.0,
                             what: str = "the condition") -> ClusterJson:
        """wait_for in a thread, for async tests that keep their loop running."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout, what)

    def leader(self) -> str:
        """The current leader's name (AssertionError if there is none)."""
        data = self.cluster()
        leaders = ("leader", "standby_leader")
        name = next((m["name"] for m in data["members"] if m.get("role") in leaders), None)
        assert name, f"no leader in /cluster: {data}"
        return name

    def is_healthy(self, data: ClusterJson) -> bool:
        """Every member listed and running, one leader, replicas streaming from it (its
        walsender list names them) with a lag Patroni would accept for a switchover."""
        members = data.get("members", [])
        if len(members) != self.size or any(m.get("state") not in ("running", "streaming") for m in members):
            return False
        leaders = [m for m in members if m.get("role") == "leader"]
        replicas = [m for m in members if m.get("role") != "leader"]
        if len(leaders) != 1 or any(not isinstance(m.get("lag"), int)
                                    or m["lag"] > self.maximum_lag_on_failover for m in replicas):
            return False
        try:
            status = self.get(leaders[0]["name"], "/patroni")
        except (OSError, ValueError):
            return False
        streaming = {r.get("application_name") for r in status.get("replication", [])
                     if r.get("state") == "streaming"}
        return all(m["name"] in streaming for m in replicas)

    def wait_healthy(self, timeout: float = 60.0) -> ClusterJson:
        return self.wait_for(self.is_healthy, timeout, "a healthy cluster (a leader, replicas streaming)")

    def kill_member(self, name: str) -> None:
        """SIGKILL the member's Patroni and then its postmaster (and the postmaster's
        children): a crash, not a shutdown, so the others fail over after ttl."""
        member = self.members[name]
        postmaster = member.postmaster_pid()
        if member.pid is not None:
            _signal(member.pid, signal.SIGKILL)
        postmaster = member.postmaster_pid() or postmaster
        if postmaster is not None:
            victims = [postmaster, *_children(postmaster)]
            for pid in victims:
                _signal(pid, signal.SIGKILL)
            _wait_gone(victims, 10)
        if member.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                member.process.wait(timeout=10)
        member.process = member.pid = None

    def start_member(self, name: str) -> None:
        """Start the member's Patroni again (after kill_member): it rejoins as a replica,
        with pg_rewind when it was the leader."""
        member = self.members[name]
        if member.pid is not None and _alive(member.pid):
            raise RuntimeError(f"{name}'s Patroni is already running (PID {member.pid})")
        self._spawn(member)

    # --- lifecycle ------------------------------------------------------------------------------

    def _as_postgres(self) -> bool:
        return os.geteuid() == 0

    def _member_config(self, member: PatroniMember, bin_dir: Path) -> dict[str, Any]:
        sock = self.root / member.name / "sock"
        return {
            "scope": SCOPE,
            "name": member.name,
            "restapi": {"listen": f"127.0.0.1:{member.rest_port}",
                        "connect_address": f"127.0.0.1:{member.rest_port}",
                        "authentication": {"username": self.rest_username, "password": self.rest_password}},
            "etcd3": {"hosts": f"127.0.0.1:{self.etcd_client_port}"},
            "bootstrap": {
                "dcs": {"ttl": self.ttl, "loop_wait": self.loop_wait, "retry_timeout": 5,
                        "maximum_lag_on_failover": self.maximum_lag_on_failover,
                        "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": {
                            "wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on",
                            "max_connections": 40, "max_wal_senders": 10, "max_replication_slots": 10,
                            "shared_buffers": "16MB", "fsync": "off", "synchronous_commit": "off",
                            "wal_keep_size": "64MB"}}},
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "no-sync"],
                "pg_hba": ["local all all trust", "host replication replicator 127.0.0.1/32 md5",
                           "host all all 127.0.0.1/32 md5"],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{member.pg_port}",
                "connect_address": f"127.0.0.1:{member.pg_port}",
                "data_dir": str(member.data_dir),
                "bin_dir": str(bin_dir),
                "pgpass": str(self.root / member.name / "pgpass"),
                "authentication": {
                    "superuser": {"username": SUPERUSER, "password": self.superuser_password},
                    "replication": {"username": "replicator", "password": REPLICATION_PASSWORD},
                    "rewind": {"username": "rewinder", "password": "pg-test-rewindpass"},
                },
                "parameters": {"unix_socket_directories": str(sock)},
                "basebackup": [{"checkpoint": "fast"}],
            },
        }

    def _spawn(self, member: PatroniMember) -> None:
        command = ["patroni", str(member.config)]
        if self._as_postgres():
            command = ["runuser", "-u", "postgres", "--", *command]
        with open(member.log, "ab") as log:
            member.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, cwd=self.root)
        member.pid = member.process.pid
        if self._as_postgres():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and member.process.poll() is None:
                children = _children(member.process.pid)
                if children:
                    member.pid = children[0]
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError(f"{member.name}: patroni did not start:\n{_tail(member.log)}")

    def _start_etcd(self) -> None:
        client, peer = f"http://127.0.0.1:{self.etcd_client_port}", f"http://127.0.0.1:{self.etcd_peer_port}"
        log = self.root / "etcd.log"
        with open(log, "ab") as out:
            self.etcd = subprocess.Popen(
                ["etcd", "--name", "t", "--data-dir", str(self.root / "etcd"),
                 "--listen-client-urls", client, "--advertise-client-urls", client,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", f"t={peer}", "--initial-cluster-token", self.root.name],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.etcd.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=1) as response:
                    if json.loads(response.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"etcd did not become healthy on {client}:\n{_tail(log)}")

    def start(self, timeout: float = 120.0) -> None:
        """etcd, then all members at once (one wins the bootstrap, the others clone it);
        returns when the cluster is healthy. RuntimeError with the logs' tails otherwise."""
        started = time.monotonic()
        atexit.register(self.stop)
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL under /usr/lib/postgresql")
        for member in self.members.values():
            (self.root / member.name / "sock").mkdir(parents=True, exist_ok=True)
            member.config.write_text(yaml.safe_dump(self._member_config(member, bin_dir), sort_keys=False))
        if self._as_postgres():
            postgres = pwd.getpwnam("postgres")
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, postgres.pw_uid, postgres.pw_gid)
        self._start_etcd()
        for member in self.members.values():
            self._spawn(member)
        try:
            self.wait_healthy(timeout)
        except AssertionError as exc:
            logs = "\n".join(f"--- {m.name}:\n{_tail(m.log)}" for m in self.members.values())
            raise RuntimeError(f"{exc}\n{logs}") from None
        self.started_in = time.monotonic() - started

    def stop(self) -> None:
        """Stop everything we started, even half-started: replicas' Patroni, then the
        leader's, then leftover postmasters of our data dirs, then etcd. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        try:
            leader = self.leader()
        except (AssertionError, KeyError, OSError, ValueError):
            leader = None
        order = [m for m in self.members.values() if m.name != leader]
        last = [self.members[leader]] if leader in self.members else []
        for group in (order, last):
            pids = [m.pid for m in group if m.pid is not None and _alive(m.pid)]
            for pid in pids:
                _signal(pid, signal.SIGTERM)
            if not _wait_gone(pids, 20):
                for pid in pids:
                    _signal(pid, signal.SIGKILL)
                _wait_gone(pids, 5)
        for member in self.members.values():
            if member.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    member.process.wait(timeout=5)
            postmaster = member.postmaster_pid()
            if postmaster is not None:
                _signal(postmaster, signal.SIGQUIT)  # immediate shutdown
                if not _wait_gone([postmaster], 5):
                    victims = [postmaster, *_children(postmaster)]
                    for pid in victims:
                        _signal(pid, signal.SIGKILL)
                    _wait_gone(victims, 5)
        if self.etcd is not None and self.etcd.poll() is None:
            self.etcd.terminate()
            try:
                self.etcd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.etcd.kill()
                self.etcd.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_patroni_cluster(**kw: Any) -> Iterator[PatroniCluster]:
    """A started, healthy cluster (keyword arguments go to PatroniCluster), stopped afterwards."""
    cluster = PatroniCluster(**kw)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def require_binaries() -> None:
    """Skip (fail under CI=true) when patroni, etcd or PostgreSQL is missing."""
    missing = missing_binaries()
    if missing:
        skip_or_fail(f"a Patroni cluster needs {missing}: apt-get install patroni etcd-server postgresql")


@pytest.fixture(scope="session")
def patroni_cluster() -> Iterator[PatroniCluster]:
    """One healthy three-member cluster per session. Tests that change it (switchover,
    kill) leave it healthy again or wait_healthy() first."""
    require_binaries()
    with running_patroni_cluster() as cluster:
        yield cluster

"""MySQL/MariaDB replication collector: every member read over one kept connection.

Driver: aiomysql (asyncio over PyMySQL): pure Python, nothing to compile on a bastion host.
Members are DSNs ``mysql://user@host:port[/db]`` (or ``mariadb://``); the password comes
separately from the config (ha.clusters[].mysql.password / .mariadb.password), never in a DSN.
A member is named "host:port". Members are read concurrently, each over its own kept
connection, reconnected when it breaks.

The monitoring user needs only these GRANTs (no SELECT on any data):

MariaDB 10.5+::

    CREATE USER 'monitor'@'10.0.0.%' IDENTIFIED BY '…';
    GRANT REPLICATION CLIENT, SLAVE MONITOR, PROCESS ON *.* TO 'monitor'@'10.0.0.%';

  SLAVE MONITOR for SHOW REPLICA STATUS, REPLICATION CLIENT (BINLOG MONITOR) for the binlog
  position, PROCESS for every session in PROCESSLIST, INNODB_TRX and the tablespace sizes.
  Top statements also need ``GRANT SELECT ON performance_schema.*`` and performance_schema=ON.

MySQL 8::

    GRANT REPLICATION CLIENT, PROCESS ON *.* TO 'monitor'@'10.0.0.%';
    GRANT SELECT ON performance_schema.* TO 'monitor'@'10.0.0.%';

  performance_schema for Group Replication members and statement digests. MySQL's default
  caching_sha2_password over a connection without TLS needs the `cryptography` package.

One poll is one round trip per member: the statements go as one multi-statement query.
The first poll of a connection learns which statements this server knows (SHOW REPLICA STATUS
or SHOW SLAVE STATUS, Group Replication tables, …) and which the GRANTs allow; later polls
send only those. Database sizes are read once a minute.
"""

from __future__ import annotations

import asyncio
import math
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomysql
import pymysql
from pymysql.constants import CLIENT

from providers.ha.model import DbStats, Reading
from providers.ha.mysql_status import (
    Observation,
    as_bool,
    as_int,
    as_text,
    assemble,
    build_stats,
    database_sizes,
    endpoint,
    one_line,
    parse_group_members,
    parse_replica_rows,
    status_map,
    top_statements,
)

MARIADB_MONITOR_GRANTS = ("REPLICATION CLIENT", "SLAVE MONITOR", "PROCESS")
MYSQL_MONITOR_GRANTS = ("REPLICATION CLIENT", "PROCESS")
SIZES_EVERY = 60.0
TIMEOUT_GRACE = 0.5
"""The client-side bound exceeds the server's statement timeout by this much, so that a slow
server answers with its own clean error and keeps the connection."""

UNSUPPORTED = frozenset({1064, 1146, 1109, 1193, 1054, 1289, 1235})
DENIED = frozenset({1227, 1142, 1143, 1044, 1045})
SERVER_TIMEOUT = frozenset({1969, 3024, 1317})

STATUS_NAMES = ("Threads_connected", "Threads_running", "Questions", "Queries", "Slow_queries",
                "Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_reads",
                "Innodb_row_lock_current_waits", "Uptime", "group_replication_primary_member")
_STATUS_SQL = ("SHOW GLOBAL STATUS WHERE Variable_name IN ({}) OR Variable_name LIKE 'wsrep%'"
               .format(", ".join(f"'{n}'" for n in STATUS_NAMES)))
_NOT_USER_COMMANDS = ("'Sleep', 'Daemon', 'Connect', 'Binlog Dump', 'Binlog Dump GTID', "
                      "'Slave_IO', 'Slave_SQL', 'Slave_worker', 'Register Slave'")
_THREADS_SQL = ("SELECT COMMAND AS command, USER AS user, "
                "(STATE LIKE 'Waiting for%lock%' OR STATE = 'Locked') AS lock_wait, COUNT(*) AS n "
                "FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
                "GROUP BY COMMAND, USER, lock_wait")
_LONGEST_SQL = ("SELECT TIME AS time, {ms} AS time_ms, SUBSTRING(INFO, 1, 400) AS info "
                "FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
                f"AND COMMAND NOT IN ({_NOT_USER_COMMANDS}) "
                "AND USER NOT IN ('system user', 'event_scheduler') AND INFO IS NOT NULL "
                "ORDER BY {order} DESC LIMIT 1")
_TRX_SQL = ("SELECT COUNT(*) AS n, MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())) AS longest "
            "FROM information_schema.INNODB_TRX")
_TABLESPACES_SQL = ("SELECT SUBSTRING_INDEX(NAME, '/', 1) AS db, SUM(FILE_SIZE) AS bytes "
                    "FROM information_schema.{table} WHERE NAME LIKE '%/%' "
                    "GROUP BY db ORDER BY bytes DESC LIMIT 12")
_TABLES_SQL = ("SELECT TABLE_SCHEMA AS db, SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes "
               "FROM information_schema.TABLES "
               "WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'sys') "
               "GROUP BY TABLE_SCHEMA ORDER BY bytes DESC LIMIT 12")
_DIGEST_SQL = ("SELECT DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT "
               "FROM performance_schema.events_statements_summary_by_digest "
               "WHERE DIGEST_TEXT IS NOT NULL ORDER BY SUM_TIMER_WAIT DESC LIMIT 10")
_GROUP_SQL = ("SELECT MEMBER_ID, MEMBER_HOST, MEMBER_PORT, MEMBER_STATE{role} "
              "FROM performance_schema.replication_group_members")


# --------------------------------------------------------------------------- DSNs


@dataclass(frozen=True, slots=True)
class MysqlTarget:
    """One member as configured: where and as whom (the password is kept by the collector)."""

    host: str
    port: int
    user: str
    database: str | None = None

    @property
    def name(self) -> str:
        return endpoint(self.host, self.port)


def parse_dsn(dsn: str) -> MysqlTarget:
    """`mysql://user@host:port[/db]` (or mariadb://). Raises ValueError with one line that
    never repeats the DSN (it might hold a password)."""
    example = "mysql://monitor@10.0.1.5:3306"
    parts = urlsplit(dsn.strip())
    if parts.scheme not in {"mysql", "mariadb"}:
        raise ValueError(f"a MySQL/MariaDB member must look like {example} "
                         f"(got the scheme {parts.scheme or 'none'!r})")
    try:
        port = parts.port or 3306
    except ValueError:
        raise ValueError(f"a member's port is not a number: write it like {example}") from None
    if not parts.hostname:
        raise ValueError(f"a member has no host: write it like {example}")
    if not parts.username:
        raise ValueError(f"a member has no user: write it like {example}")
    database = unquote(parts.path.lstrip("/")) or None
    return MysqlTarget(host=parts.hostname, port=port, user=unquote(parts.username), database=database)


# --------------------------------------------------------------------------- error lines


def _product(flavor: str) -> str:
    return "MariaDB" if flavor == "mariadb" else "MySQL"


def _grants_hint(flavor: str) -> str:
    if flavor == "mariadb":
        return "REPLICATION CLIENT, PROCESS, SLAVE MONITOR on MariaDB"
    return "REPLICATION CLIENT, PROCESS, SELECT ON performance_schema.* on MySQL"


def _error_code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _error_text(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2:
        return one_line(as_text(args[1]))
    return one_line(str(exc) or type(exc).__name__)


def connect_error(exc: BaseException, target: MysqlTarget, *, flavor: str,
                  timeout: float) -> tuple[str, str]:
    """(state, one line) for a failed connection: what happened and what to fix."""
    name, product = target.name, _product(flavor)
    if isinstance(exc, TimeoutError):
        return "unreachable", (f"cannot connect to {name}: no answer within {timeout:g} s "
                               "— check the host, port and firewall")
    code, text = _error_code(exc), _error_text(exc)
    cause = exc.__cause__ or exc.__context__
    if code == 2003 or isinstance(exc, OSError):
        if isinstance(cause, ConnectionRefusedError) or isinstance(exc, ConnectionRefusedError):
            return "unreachable", f"cannot connect to {name}: connection refused — is {product} running?"
        if isinstance(cause, socket.gaierror) or isinstance(exc, socket.gaierror):
            return "unreachable", f"cannot connect to {name}: unknown host {target.host} — check the DSN"
        if isinstance(cause, OSError) and cause.strerror:
            return "unreachable", f"cannot connect to {name}: {cause.strerror.lower()}"
        return "unreachable", f"cannot connect to {name}: {text}"
    if code == 1045:
        found = re.search(r"user '([^']*)'@'([^']*)'", text)
        who = f"{found.group(1)}@{found.group(2)}" if found else f"{target.user}@{target.host}"
        return "access denied", (f"access denied for {who} — check ha.clusters[].{flavor}.password "
                                 f"and the GRANT ({_grants_hint(flavor)})")
    if code == 1044:
        return "access denied", (f"access denied to database {target.database!r} for {target.user} "
                                 "— drop the database from the DSN or GRANT access to it")
    if code == 1049:
        return "access denied", f"database {target.database!r} does not exist on {name} — fix the DSN"
    if code == 1040:
        return "unreachable", f"{name} refuses connections: too many connections (max_connections)"
    if code == 1129:
        return "unreachable", (f"{name} blocks this host after many connection errors "
                               "— run FLUSH HOSTS on it")
    if code == 1130:
        return "access denied", (f"{name} does not let this host connect as {target.user} "
                                 "— CREATE USER for this host and GRANT it")
    if code in {2013, 2006}:
        return "unreachable", (f"cannot connect to {name}: the connection closed during the handshake "
                               f"— is it a {product} port?")
    return "unreachable", f"cannot connect to {name}: {text}"


# --------------------------------------------------------------------------- the query plan


@dataclass(slots=True)
class _Query:
    """One statement of the batch, with the older spellings to fall back to."""

    key: str
    alternatives: tuple[str, ...]
    essential: bool = False
    every: float = 0.0
    choice: int = 0
    last_run: float = -math.inf
    note: str = ""
    """Why an optional statement is no longer sent (a missing GRANT), for the detail pane."""

    @property
    def sql(self) -> str:
        return self.alternatives[self.choice]

    @property
    def dropped(self) -> bool:
        return self.choice >= len(self.alternatives)

    def due(self, now: float) -> bool:
        return not self.dropped and now - self.last_run >= self.every


def build_plan(dialect: str, *, stats: bool) -> list[_Query]:
    """The statements one poll sends to a server of this dialect ("mariadb" or "mysql")."""
    if dialect == "mariadb":
        plan = [
            _Query("vars", ("SELECT @@version AS version, @@read_only AS read_only, "
                            "@@server_id AS server_id, @@max_connections AS max_connections, "
                            "@@gtid_slave_pos AS gtid_slave_pos, @@gtid_binlog_pos AS gtid_binlog_pos, "
                            "@@gtid_current_pos AS gtid_current_pos, "
                            "@@performance_schema AS performance_schema",), essential=True),
            _Query("replicas", ("SHOW ALL REPLICAS STATUS", "SHOW ALL SLAVES STATUS"), essential=True),
            _Query("status", (_STATUS_SQL,), essential=True),
            _Query("binlog", ("SHOW MASTER STATUS",)),
        ]
    else:
        plan = [
            _Query("vars", ("SELECT @@version AS version, @@read_only AS read_only, "
                            "@@super_read_only AS super_read_only, @@server_id AS server_id, "
                            "@@server_uuid AS server_uuid, @@max_connections AS max_connections, "
                            "@@gtid_executed AS gtid_executed, @@performance_schema AS performance_schema",
                            "SELECT @@version AS version, @@read_only AS read_only, "
                            "@@server_id AS server_id, @@max_connections AS max_connections"),
                   essential=True),
            _Query("replicas", ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS"), essential=True),
            _Query("status", (_STATUS_SQL,), essential=True),
            _Query("binlog", ("SHOW MASTER STATUS", "SHOW BINARY LOG STATUS")),
            _Query("group", (_GROUP_SQL.format(role=", MEMBER_ROLE"), _GROUP_SQL.format(role=""))),
        ]
    if stats:
        ms, order = ("TIME_MS", "TIME_MS") if dialect == "mariadb" else ("NULL", "TIME")
        spaces = ("INNODB_SYS_TABLESPACES",) if dialect == "mariadb" else (
            "INNODB_TABLESPACES", "INNODB_SYS_TABLESPACES")
        plan += [
            _Query("threads", (_THREADS_SQL,)),
            _Query("longest", (_LONGEST_SQL.format(ms=ms, order=order),)),
            _Query("trx", (_TRX_SQL,)),
            _Query("sizes", (*(_TABLESPACES_SQL.format(table=t) for t in spaces), _TABLES_SQL),
                   every=SIZES_EVERY),
            _Query("digests", (_DIGEST_SQL,)),
        ]
    return plan


_DENIED_NOTES = {
    "binlog": "no binlog position (lag in bytes): GRANT REPLICATION CLIENT",
    "group": "Group Replication not read: GRANT SELECT ON performance_schema.*",
    "threads": "sessions not read: GRANT PROCESS",
    "longest": "longest query not read: GRANT PROCESS",
    "trx": "transactions not read: GRANT PROCESS",
    "sizes": "database sizes not read: GRANT PROCESS",
    "digests": "no top statements: GRANT SELECT ON performance_schema.*",
}


class _StatementFailed(Exception):
    """A statement of the batch failed on the server; the ones before it were answered."""

    def __init__(self, index: int, error: pymysql.err.MySQLError, rows: list[list[dict[str, Any]]]) -> None:
        super().__init__(index)
        self.index, self.error, self.rows = index, error, rows


class _ReadFailed(Exception):
    def __init__(self, state: str, message: str, *, reachable: bool) -> None:
        super().__init__(message)
        self.state, self.message, self.reachable = state, message, reachable


# --------------------------------------------------------------------------- one member


@dataclass(slots=True)
class _Session:
    """The kept connection to one member and what was learnt about the server behind it."""

    target: MysqlTarget
    flavor: str
    password: str | None = field(repr=False)
    connect_timeout: float
    statement_timeout: float
    stats: bool
    conn: Any = None
    dialect: str = ""
    plan: list[_Query] = field(default_factory=list)
    sizes: tuple[tuple[str, int], ...] = ()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def read(self) -> Observation:
        t = self.target
        async with self.lock:
            started = time.perf_counter()
            try:
                results = await self._read_once()
            except _ReadFailed as failed:
                return Observation(name=t.name, host=t.host, port=t.port, reachable=failed.reachable,
                                   state=failed.state, error=failed.message)
            except asyncio.CancelledError:
                self._drop_connection()  # cancelled mid-answer: the rest would arrive as the next one's
                raise
            except Exception as exc:  # a protocol surprise must not fail the other members' read
                self._drop_connection()
                return Observation(name=t.name, host=t.host, port=t.port, reachable=False, state="error",
                                   error=one_line(f"reading {t.name} failed: {type(exc).__name__}: {exc}"))
            read_ms = (time.perf_counter() - started) * 1000.0
            return self._observe(results, read_ms)

    async def _read_once(self) -> dict[str, Any]:
        """One poll; a kept connection found dead (server restarted, wait_timeout) is replaced
        once before the member is called unreachable."""
        if self.conn is not None:
            try:
                return await self._run_plan()
            except _ReadFailed as failed:
                if failed.state != "connection lost":
                    raise
        await self._connect()
        try:
            return await self._run_plan()
        except _ReadFailed as failed:
            if failed.state == "connection lost":
                raise _ReadFailed("unreachable", failed.message, reachable=False) from None
            raise

    async def _connect(self) -> None:
        t = self.target
        try:
            conn = await asyncio.wait_for(aiomysql.connect(
                host=t.host, port=t.port, user=t.user, password=self.password or "", db=t.database,
                connect_timeout=self.connect_timeout, autocommit=True, charset="utf8mb4",
                client_flag=CLIENT.MULTI_STATEMENTS, program_name="stacktop"), self.connect_timeout)
        except (TimeoutError, OSError, pymysql.err.MySQLError) as exc:
            state, message = connect_error(exc, t, flavor=self.flavor, timeout=self.connect_timeout)
            raise _ReadFailed(state, message, reachable=False) from None
        self.conn = conn
        self.dialect = "mariadb" if "mariadb" in as_text(conn.get_server_info()).lower() else "mysql"
        self.plan = build_plan(self.dialect, stats=self.stats)
        # The server cancels a slow monitoring query itself; unknown variable on old servers: fine.
        if self.dialect == "mariadb":
            limit = f"SET SESSION max_statement_time = {self.statement_timeout:g}"
        else:
            limit = f"SET SESSION max_execution_time = {int(self.statement_timeout * 1000)}"
        try:
            async with conn.cursor() as cur:
                await asyncio.wait_for(cur.execute(limit), self.statement_timeout + TIMEOUT_GRACE)
        except (pymysql.err.MySQLError, OSError) as exc:
            if _error_code(exc) is None or _error_code(exc) >= 2000 or isinstance(exc, OSError):
                self._drop_connection()
                raise _ReadFailed("unreachable", f"lost the connection to {t.name}: {_error_text(exc)}",
                                  reachable=False) from None
        except TimeoutError:
            self._drop_connection()
            raise _ReadFailed("not answering", f"{t.name} did not answer within "
                              f"{self.statement_timeout:g} s", reachable=False) from None

    def _drop_connection(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.ensure_closed(), 1.0)
            except (TimeoutError, OSError, pymysql.err.MySQLError):
                conn.close()

    async def _run_plan(self) -> dict[str, Any]:
        """Send the due statements as one batch; on a failing statement, learn from its error
        (older syntax, missing GRANT) and send the rest again."""
        now = time.monotonic()
        pending = [q for q in self.plan if q.due(now)]
        results: dict[str, Any] = {}
        while pending:
            try:
                rows = await asyncio.wait_for(self._batch([q.sql for q in pending]),
                                              self.statement_timeout + TIMEOUT_GRACE)
            except _StatementFailed as failed:
                for q, r in zip(pending, failed.rows, strict=False):
                    results[q.key], q.last_run = r, now
                bad = pending[failed.index]
                retry = self._learn(bad, failed.error, results)
                pending = ([bad] if retry else []) + pending[failed.index + 1:]
                continue
            except TimeoutError:
                self._drop_connection()
                raise _ReadFailed("not answering", f"{self.target.name} did not answer within "
                                  f"{self.statement_timeout:g} s", reachable=False) from None
            except (pymysql.err.MySQLError, OSError, RuntimeError) as exc:
                self._drop_connection()
                raise _ReadFailed("connection lost", f"lost the connection to {self.target.name}: "
                                  f"{_error_text(exc)} — is {_product(self.flavor)} running?",
                                  reachable=False) from None
            for q, r in zip(pending, rows, strict=True):
                results[q.key], q.last_run = r, now
            pending = []
        return results

    def _learn(self, q: _Query, error: pymysql.err.MySQLError, results: dict[str, Any]) -> bool:
        """Adapt the plan to a failed statement. True: send it again (its older spelling)."""
        code, text = _error_code(error), _error_text(error)
        if code in SERVER_TIMEOUT:
            raise _ReadFailed("query timeout", f"a monitoring query ran longer than "
                              f"{self.statement_timeout:g} s on {self.target.name} "
                              "— is the server overloaded?", reachable=True)
        if code in UNSUPPORTED:
            q.choice += 1
            return not q.dropped
        if code in DENIED and q.key == "replicas":
            who = f"{self.target.user}@{self.target.host}"
            grant = "SLAVE MONITOR" if self.dialect == "mariadb" else "REPLICATION CLIENT"
            results["replicas_denied"] = (f"access denied for SHOW REPLICA STATUS — GRANT {grant} ON *.* "
                                          f"TO {who} (without it the role is unknown)")
            return False
        if q.essential:
            raise _ReadFailed("query failed", f"{self.target.name}: error {code}: {text}", reachable=True)
        if code in DENIED:
            q.note = _DENIED_NOTES.get(q.key, f"{q.key} not read: {text}")
        q.choice = len(q.alternatives)
        return False

    async def _batch(self, statements: Sequence[str]) -> list[list[dict[str, Any]]]:
        rows: list[list[dict[str, Any]]] = []
        async with self.conn.cursor(aiomysql.DictCursor) as cur:
            try:
                await cur.execute(";\n".join(statements))
                rows.append(list(await cur.fetchall()))
                while len(rows) < len(statements) and await cur.nextset():
                    rows.append(list(await cur.fetchall()))
            except pymysql.err.MySQLError as exc:
                code = _error_code(exc)
                if code is None or code >= 2000:
                    raise
                raise _StatementFailed(len(rows), exc, rows) from None
        return rows

    def _observe(self, results: dict[str, Any], read_ms: float) -> Observation:
        t = self.target
        var_rows = results.get("vars") or [{}]
        variables = dict(var_rows[0])
        status = status_map(results.get("status") or ())
        binlog = None
        if results.get("binlog"):
            row = results["binlog"][0]
            pos = as_int(row.get("Position"))
            if row.get("File") and pos is not None:
                binlog = (as_text(row["File"]), pos)
        stats = None
        if self.stats:
            if results.get("sizes") is not None:
                self.sizes = database_sizes(results["sizes"])
            stats = self._stats(results, variables, status)
        notes = tuple(("not read", q.note) for q in self.plan if q.note)
        return Observation(
            name=t.name, host=t.host, port=t.port, variables=variables,
            channels=parse_replica_rows(results.get("replicas") or ()),
            replica_status_error=results.get("replicas_denied", ""),
            status=status, binlog=binlog,
            group=parse_group_members(results.get("group") or (),
                                      status.get("group_replication_primary_member", "")),
            stats=stats, notes=notes, read_ms=read_ms,
        )

    def _stats(self, results: dict[str, Any], variables: dict[str, Any],
               status: dict[str, str]) -> DbStats:
        digests = next((q for q in self.plan if q.key == "digests"), None)
        note = ""
        if not as_bool(variables.get("performance_schema", "1")):
            note = "performance_schema is OFF: set performance_schema=ON (restart) for top statements"
            if digests is not None:
                digests.choice, digests.note = len(digests.alternatives), ""
        elif digests is not None and digests.note:
            note = "GRANT SELECT ON performance_schema.* to the monitoring user for top statements"
        longest = (results.get("longest") or [None])[0]
        trx = (results.get("trx") or [None])[0]
        return build_stats(status, max_connections=as_int(variables.get("max_connections")),
                           threads=results.get("threads") or (), longest=longest, trx=trx,
                           sizes=self.sizes, statements=top_statements(results.get("digests") or ()),
                           statements_note=note)


# --------------------------------------------------------------------------- the collector


class MysqlCollector:
    """Reads a MySQL or MariaDB cluster (async replication, Group Replication or Galera)."""

    def __init__(self, dsns: Sequence[str], *, flavor: str, password: str | None,
                 connect_timeout: float, statement_timeout: float, stats: bool = True) -> None:
        if flavor not in {"mysql", "mariadb"}:
            raise ValueError(f"flavor must be mysql or mariadb, not {flavor!r}")
        self.flavor = flavor
        targets = [parse_dsn(d) for d in dsns]
        names = [t.name for t in targets]
        if len(set(names)) != len(names):
            raise ValueError(f"a {_product(flavor)} member is listed twice: {', '.join(names)}")
        self._sessions = [_Session(target=t, flavor=flavor, password=password,
                                   connect_timeout=connect_timeout, statement_timeout=statement_timeout,
                                   stats=stats) for t in targets]

    def __repr__(self) -> str:
        return f"MysqlCollector({[s.target.name for s in self._sessions]!r}, flavor={self.flavor!r})"

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(s.target.name for s in self._sessions)

    async def read(self) -> Reading:
        observations = await asyncio.gather(*(s.read() for s in self._sessions))
        return assemble(observations, product=_product(self.flavor))

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self._sessions))

"""PostgreSQL streaming replication read straight from each member (no Patroni).

The collector keeps one connection per configured member (psycopg 3, async: libpq's own
DSN syntax, .pgpass, PGPASSWORD, sslmode and service files work as they do for psql),
reads all members at once and bounds each by its timeouts, so one dead host costs one
connect_timeout, not the whole poll. Each poll is one round trip per member (see
pg_queries). A member is named "host:port", never by its DSN.

The role it logs in as needs nothing but pg_monitor:

    CREATE ROLE stacktop LOGIN PASSWORD '...';
    GRANT pg_monitor TO stacktop;

Every session is read-only (default_transaction_read_only) and has a statement_timeout;
it shows as application_name "stacktop". PostgreSQL 12 or newer (tested on 15).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from providers.ha.model import Reading, Statement
from providers.ha.pg_queries import (
    PGSS_MISSING,
    PGSS_NOT_LOADED,
    SIZES_EVERY,
    STATEMENTS_EVERY,
    Identity,
    MemberRead,
    assemble,
    one_line_query,
    poll_sql,
    session_sql,
    statements_sql,
)

PASSWORD_SETTING = "ha.clusters[].postgres.password"
log = logging.getLogger(__name__)


@dataclass
class _Target:
    """One configured member and what we keep for it between polls."""

    name: str
    host: str
    port: int
    user: str
    dsn: str = field(repr=False)
    conn: psycopg.AsyncConnection[Any] | None = field(default=None, repr=False)
    pgss: tuple[str, str] | None = None
    """(schema, version) of pg_stat_statements when its last read worked: it then rides along."""
    sizes: tuple[tuple[str, int], ...] = ()
    sizes_at: float = -math.inf
    statements: tuple[Statement, ...] = ()
    statements_note: str = ""
    statements_at: float = -math.inf
    pgss_tried: tuple[str, str] | None = None
    stage: str = "connect"
    """What a failure interrupted: "connect" (the member is unreachable) or "query"."""


def member_address(dsn: str) -> tuple[str, int, str]:
    """(host, port, user) a DSN points at, the way libpq reads it (first host of a list;
    PGHOST/PGPORT/PGUSER when the DSN has none)."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"not a PostgreSQL DSN: {_first_line(str(exc))}") from None
    host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost")
    host = host.split(",")[0]
    port_text = str(params.get("port") or os.environ.get("PGPORT") or "5432").split(",")[0]
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"DSN for {host}: port {port_text!r} is not a number") from None
    user = str(params.get("user") or os.environ.get("PGUSER") or _os_user())
    return host, port, user


def _os_user() -> str:
    try:
        import getpass
        return getpass.getuser()
    except Exception:
        return "?"


class PostgresCollector:
    """Reads a streaming-replication cluster: role, upstream, lag and stats of every member."""

    def __init__(self, dsns: Sequence[str], *, password: str | None, connect_timeout: float,
                 statement_timeout: float, stats: bool = True,
                 password_setting: str = PASSWORD_SETTING) -> None:
        """`password_setting` is the config key an authentication error tells the operator to
        check (Patroni's pg_password when this collector reads stats for Patroni)."""
        self._password = password
        self._password_setting = password_setting
        self._connect_timeout = connect_timeout
        self._statement_timeout = statement_timeout
        self._stats = stats
        self._targets: list[_Target] = []
        seen: dict[str, int] = {}
        for dsn in dsns:
            host, port, user = member_address(dsn)
            name = f"{host}:{port}"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}#{seen[name]}"
            self._targets.append(_Target(name=name, host=host, port=port, user=user, dsn=dsn))
        self._memory: dict[str, Identity] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PostgresCollector(members={[t.name for t in self._targets]!r})"

    @property
    def member_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self._targets)

    async def read(self) -> Reading:
        if not self._targets:
            raise ValueError("no PostgreSQL members configured: list DSNs under "
                             "ha.clusters[].postgres.members")
        async with self._lock:
            reads = await asyncio.gather(*(self._read_member(t) for t in self._targets))
            reading, self._memory = assemble(reads, self._memory)
            return reading

    async def close(self) -> None:
        async with self._lock:
            await asyncio.gather(*(self._drop(t) for t in self._targets), return_exceptions=True)

    # ------------------------------------------------------------------ one member
    async def _read_member(self, t: _Target) -> MemberRead:
        """Never raises (but for cancellation): a failure becomes the member's one-line error."""
        start = time.perf_counter()
        budget = self._connect_timeout + self._statement_timeout + 1.0
        t.stage = "connect"
        try:
            async with asyncio.timeout(budget):
                data = await self._query(t)
        except TimeoutError:
            await self._drop(t)
            if t.stage == "connect":
                return MemberRead(t.name, t.host, t.port, reachable=False, error=(
                    f"no answer from {t.name} within {self._connect_timeout:g} s — check the host, port "
                    "and firewall"))
            return MemberRead(t.name, t.host, t.port, error=(
                f"monitoring query at {t.name} took over {budget:g} s — is the server overloaded?"))
        except psycopg.Error as exc:
            if t.stage == "connect":
                await self._drop(t)
                return MemberRead(t.name, t.host, t.port, reachable=False,
                                  error=explain_connect_error(exc, t, self._connect_timeout,
                                                              self._password_setting))
            lost = _connection_lost(exc, t.conn)
            if lost:
                await self._drop(t)
            return MemberRead(t.name, t.host, t.port, reachable=not lost,
                              error=explain_query_error(exc, t, self._statement_timeout))
        except asyncio.CancelledError:
            await self._drop(t)
            raise
        except Exception as exc:  # a bug of ours or an odd server: this member only, logged in full
            log.exception("reading PostgreSQL member %s failed", t.name)
            await self._drop(t)
            return MemberRead(t.name, t.host, t.port, error=(
                f"reading {t.name} failed: {type(exc).__name__}: {_first_line(str(exc))}"))
        elapsed = (time.perf_counter() - start) * 1000
        return MemberRead(t.name, t.host, t.port, data=data, statements=t.statements,
                          statements_note=t.statements_note, sizes=t.sizes, elapsed_ms=elapsed)

    async def _query(self, t: _Target) -> dict[str, Any]:
        fresh = t.conn is None or t.conn.closed or t.conn.broken
        if fresh:
            await self._drop(t)
            t.conn = await self._connect(t)
        t.stage = "query"
        try:
            return await self._poll(t)
        except psycopg.OperationalError as exc:
            if fresh or not _connection_lost(exc, t.conn):
                raise
        # The connection died since the last poll (server restarted): one fresh try.
        t.stage = "connect"
        await self._drop(t)
        t.conn = await self._connect(t)
        t.stage = "query"
        return await self._poll(t)

    async def _connect(self, t: _Target) -> psycopg.AsyncConnection[Any]:
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "application_name": "stacktop",
            # libpq counts whole seconds (at least 2); asyncio.timeout below keeps the exact bound.
            "connect_timeout": max(2, math.ceil(self._connect_timeout)),
        }
        if self._password is not None:
            kwargs["password"] = self._password
        async with asyncio.timeout(self._connect_timeout):
            conn = await psycopg.AsyncConnection.connect(t.dsn, **kwargs)
        try:
            await conn.execute(session_sql(self._statement_timeout))
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _drop(self, t: _Target) -> None:
        conn, t.conn = t.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection: nothing left to do
                await conn.close()

    async def _poll(self, t: _Target) -> dict[str, Any]:
        """One round trip; pg_stat_statements rides along when due and known to work."""
        conn = t.conn
        assert conn is not None
        now = time.monotonic()
        sizes_due = self._stats and now - t.sizes_at >= SIZES_EVERY
        statements_due = self._stats and now - t.statements_at >= STATEMENTS_EVERY
        sql = poll_sql(conn.info.server_version, stats=self._stats, sizes=sizes_due)
        data: dict[str, Any] | None = None
        if statements_due and t.pgss is not None:
            try:
                cur = await conn.execute(sql + ";\n" + statements_sql(*t.pgss))
                data = _json_row(await cur.fetchone())
                cur.nextset()
                t.statements, t.statements_note = _statements(await cur.fetchall()), ""
                t.statements_at = now
            except psycopg.OperationalError:
                raise
            except psycopg.Error:
                t.pgss = None  # dropped or unloaded since: the plain poll, then a look of its own
                data = None
        if data is None:
            cur = await conn.execute(sql)
            data = _json_row(await cur.fetchone())
            if self._stats:
                await self._statements_apart(t, data, now)
        if sizes_due and "sizes" in data:
            t.sizes = tuple((str(n), int(s)) for n, s in data.get("sizes") or ())
            t.sizes_at = now
        return data

    async def _statements_apart(self, t: _Target, data: dict[str, Any], now: float) -> None:
        """pg_stat_statements on first sight (or after it failed) costs a second round trip;
        when it is gone, the note says how to get it."""
        ext = data.get("pgss")
        if not ext:
            t.pgss, t.statements, t.statements_note = None, (), PGSS_MISSING
            return
        pgss = (str(ext["schema"]), str(ext["version"]))
        if pgss == t.pgss:
            return  # known and working: read along with the poll when due
        if pgss == t.pgss_tried and now - t.statements_at < STATEMENTS_EVERY:
            return  # failed a moment ago: the note stands until it is due again
        assert t.conn is not None
        t.pgss_tried, t.statements, t.statements_at = pgss, (), now
        try:
            cur = await t.conn.execute(statements_sql(*pgss))
            rows = await cur.fetchall()
        except pg_errors.ObjectNotInPrerequisiteState:
            t.statements_note = PGSS_NOT_LOADED
            return
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            t.statements_note = f"pg_stat_statements could not be read: {_first_line(str(exc))}"
            return
        t.pgss, t.statements, t.statements_note = pgss, _statements(rows), ""


def _json_row(row: Any) -> dict[str, Any]:
    if row is None or not isinstance(row[0], dict):
        raise psycopg.DataError("the monitoring query returned no document")
    return row[0]


def _statements(rows: Sequence[Sequence[Any]]) -> tuple[Statement, ...]:
    return tuple(Statement(query=one_line_query(q), calls=int(c or 0), total_ms=float(tot or 0),
                           mean_ms=float(mean or 0)) for q, c, tot, mean in rows)


def _connection_lost(exc: BaseException, conn: psycopg.AsyncConnection[Any] | None) -> bool:
    if isinstance(exc, pg_errors.QueryCanceled):
        return False
    return conn is None or conn.closed or conn.broken or isinstance(exc, pg_errors.AdminShutdown)


# --------------------------------------------------------------------- errors

def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0].strip() if text else ""


def explain_connect_error(exc: BaseException, t: _Target, connect_timeout: float,
                          password_setting: str = PASSWORD_SETTING) -> str:
    """libpq's connection failures as one line that names the fix (never the DSN or password)."""
    text = str(exc)
    low = text.lower()
    where = t.name
    user = _quoted_after(text, "for user") or t.user
    if "connection refused" in low:
        return f"connection refused at {where} — is PostgreSQL running?"
    if "password authentication failed" in low:
        return f"password authentication failed for user {user} — check {password_setting}"
    if "no password supplied" in low:
        return (f"{where} asks for a password and none is set — set {password_setting} "
                "(or use .pgpass / PGPASSWORD)")
    if "no pg_hba.conf entry" in low:
        return f"{where} has no pg_hba.conf entry for user {user} from this host — add one there"
    if m := re.search(r'role "([^"]+)" does not exist', text):
        return (f"role {m.group(1)} does not exist at {where} — CREATE ROLE {m.group(1)} LOGIN; "
                f"GRANT pg_monitor TO {m.group(1)}")
    if m := re.search(r'database "([^"]+)" does not exist', text):
        return f"database {m.group(1)} does not exist at {where} — fix dbname in the DSN"
    if "failed to resolve host" in low or "could not translate host name" in low:
        return f"cannot resolve host {t.host} — check the DSN's host"
    if "timeout expired" in low or "timed out" in low:
        return f"no answer from {where} within {connect_timeout:g} s — check the host, port and firewall"
    if "starting up" in low or "shutting down" in low or "not yet accepting connections" in low:
        state = "starting up" if "starting up" in low or "not yet" in low else "shutting down"
        return f"PostgreSQL at {where} is {state}"
    if "too many clients" in low or "too many connections" in low or "connection slots" in low:
        return f"{where} has no free connection slots (max_connections reached)"
    if "ssl" in low:
        return f"SSL to {where} failed: {_libpq_reason(text)} — check sslmode in the DSN"
    if "no such file or directory" in low and "socket" in low:
        return f"no PostgreSQL socket at {where} — is PostgreSQL running, with this socket directory?"
    return f"cannot connect to {where}: {_libpq_reason(text)}"


def explain_query_error(exc: BaseException, t: _Target, statement_timeout: float) -> str:
    if isinstance(exc, pg_errors.QueryCanceled):
        return (f"monitoring query at {t.name} took over {statement_timeout:g} s (statement_timeout) "
                "— is the server overloaded?")
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return (f"permission denied at {t.name}: {_first_line(str(exc))} — GRANT pg_monitor TO {t.user}")
    if isinstance(exc, psycopg.OperationalError):
        return f"connection to {t.name} lost: {_libpq_reason(str(exc))}"
    return f"monitoring query failed at {t.name}: {_first_line(str(exc))}"


def _quoted_after(text: str, marker: str) -> str | None:
    m = re.search(re.escape(marker) + r' "([^"]+)"', text)
    return m.group(1) if m else None


def _libpq_reason(text: str) -> str:
    """'connection failed: connection to server at "h", port 1 failed: FATAL:  why' -> 'why'."""
    line = _first_line(text)
    line = re.sub(r'^(connection (failed|is bad):\s*)?connection to server (at|on) [^:]*failed:\s*', "", line)
    return re.sub(r"^(FATAL|ERROR):\s+", "", line) or "unknown error"

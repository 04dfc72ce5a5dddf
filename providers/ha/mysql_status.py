"""Pure parsing for the MySQL/MariaDB collector: rows in, topology and stats out.

Kept apart from the I/O (providers/ha/mysql.py) so that what the servers answer in
every dialect — MariaDB and MySQL < 8.0.22 (Slave_*/Master_*), MySQL >= 8.0.22
(Replica_*/Source_*), Group Replication, Galera — can be tested from recorded rows
without a server of each kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from providers.ha.model import PRIMARY, REPLICA, UNKNOWN, DbStats, Member, Reading, Statement

ERROR_CROP = 200
QUERY_CROP = 200
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0:0:0:0:0:0:0:1"})


# --------------------------------------------------------------------------- value helpers


def pick(row: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` present in `row`: one lookup for both column dialects."""
    for name in names:
        if name in row:
            return row[name]
    return None


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(Decimal(as_text(value).strip()))
    except (ArithmeticError, ValueError):
        return None


def as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(as_text(value).strip())
    except ValueError:
        return None


def as_bool(value: Any) -> bool:
    return as_text(value).strip().upper() in {"1", "ON", "YES", "TRUE"}


def one_line(text: str, limit: int = ERROR_CROP) -> str:
    """Collapse whitespace and crop: errors and queries are shown on one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def same_host(a: str, b: str) -> bool:
    a, b = a.strip().lower().strip("[]"), b.strip().lower().strip("[]")
    return a == b or (a in LOCAL_HOSTS and b in LOCAL_HOSTS)


def endpoint(host: str, port: int | None) -> str:
    """Member name: "host:port" ("[::1]:3306" for IPv6)."""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port is not None else shown


# --------------------------------------------------------------------------- replication rows


@dataclass(frozen=True, slots=True)
class ReplicaChannel:
    """One row of SHOW REPLICA STATUS / SHOW ALL SLAVES STATUS, in one vocabulary."""

    name: str
    source_host: str
    source_port: int | None
    io_running: str
    sql_running: str
    seconds_behind: int | None
    io_state: str = ""
    sql_state: str = ""
    last_io_errno: int = 0
    last_io_error: str = ""
    last_sql_errno: int = 0
    last_sql_error: str = ""
    source_server_id: int | None = None
    source_uuid: str = ""
    using_gtid: str = ""
    gtid_io_pos: str = ""
    retrieved_gtid_set: str = ""
    executed_gtid_set: str = ""
    source_log_file: str = ""
    read_source_log_pos: int | None = None
    relay_source_log_file: str = ""
    exec_source_log_pos: int | None = None
    sql_delay: int | None = None

    @property
    def running(self) -> bool:
        return self.io_running == "Yes" and self.sql_running == "Yes"

    @property
    def state(self) -> str:
        if self.running:
            return "streaming"
        return f"io: {self.io_running or '?'}, sql: {self.sql_running or '?'}"

    @property
    def source(self) -> str:
        return endpoint(self.source_host, self.source_port)

    @property
    def error_line(self) -> str:
        """The errors of the threads that are not running, on one line ("" when none)."""
        parts = []
        if self.io_running != "Yes" and (self.last_io_errno or self.last_io_error):
            parts.append(f"io thread error {self.last_io_errno}: {self.last_io_error}")
        if self.sql_running != "Yes" and (self.last_sql_errno or self.last_sql_error):
            parts.append(f"sql thread error {self.last_sql_errno}: {self.last_sql_error}")
        prefix = f"channel {self.name}: " if self.name else ""
        return one_line(prefix + "; ".join(parts)) if parts else ""


def parse_replica_row(row: Mapping[str, Any]) -> ReplicaChannel:
    """Normalise one replica status row of any dialect (MariaDB, MySQL before and after 8.0.22)."""
    return ReplicaChannel(
        name=as_text(pick(row, "Channel_Name", "Channel_name", "Connection_name")),
        source_host=as_text(pick(row, "Source_Host", "Master_Host")),
        source_port=as_int(pick(row, "Source_Port", "Master_Port")),
        io_running=as_text(pick(row, "Replica_IO_Running", "Slave_IO_Running")),
        sql_running=as_text(pick(row, "Replica_SQL_Running", "Slave_SQL_Running")),
        seconds_behind=as_int(pick(row, "Seconds_Behind_Source", "Seconds_Behind_Master")),
        io_state=as_text(pick(row, "Replica_IO_State", "Slave_IO_State")),
        sql_state=as_text(pick(row, "Replica_SQL_Running_State", "Slave_SQL_Running_State",
                               "Slave_SQL_State")),
        last_io_errno=as_int(pick(row, "Last_IO_Errno")) or 0,
        last_io_error=as_text(pick(row, "Last_IO_Error")),
        last_sql_errno=as_int(pick(row, "Last_SQL_Errno")) or 0,
        last_sql_error=as_text(pick(row, "Last_SQL_Error")),
        source_server_id=as_int(pick(row, "Source_Server_Id", "Master_Server_Id")),
        source_uuid=as_text(pick(row, "Source_UUID", "Master_UUID")),
        using_gtid=as_text(pick(row, "Using_Gtid")),
        gtid_io_pos=as_text(pick(row, "Gtid_IO_Pos")),
        retrieved_gtid_set=one_line(as_text(pick(row, "Retrieved_Gtid_Set")), 400),
        executed_gtid_set=one_line(as_text(pick(row, "Executed_Gtid_Set")), 400),
        source_log_file=as_text(pick(row, "Source_Log_File", "Master_Log_File")),
        read_source_log_pos=as_int(pick(row, "Read_Source_Log_Pos", "Read_Master_Log_Pos")),
        relay_source_log_file=as_text(pick(row, "Relay_Source_Log_File", "Relay_Master_Log_File")),
        exec_source_log_pos=as_int(pick(row, "Exec_Source_Log_Pos", "Exec_Master_Log_Pos")),
        sql_delay=as_int(pick(row, "SQL_Delay")),
    )


def parse_replica_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[ReplicaChannel, ...]:
    """Every channel; rows without a source host (a RESET REPLICA leftover) are not replication."""
    channels = (parse_replica_row(r) for r in rows)
    return tuple(c for c in channels if c.source_host)


def channel_details(c: ReplicaChannel, *, main: bool) -> list[tuple[str, str]]:
    """What the detail pane shows of one channel; the main one in full, others in a line."""
    if not main:
        lag = "" if c.seconds_behind is None else f", {c.seconds_behind} s behind"
        err = f", {c.error_line}" if c.error_line else ""
        return [(f"channel {c.name or '(default)'}", f"{c.source} {c.state}{lag}{err}")]
    out = [("source", c.source)]
    if c.name:
        out.append(("channel", c.name))
    out.append(("io thread", f"{c.io_running}" + (f" — {c.io_state}" if c.io_state else "")))
    out.append(("sql thread", f"{c.sql_running}" + (f" — {c.sql_state}" if c.sql_state else "")))
    out.append(("seconds behind", "NULL" if c.seconds_behind is None else str(c.seconds_behind)))
    if c.sql_delay:
        out.append(("delayed by", f"{c.sql_delay} s (SQL_Delay)"))
    if c.using_gtid:
        out.append(("using gtid", c.using_gtid))
    if c.gtid_io_pos:
        out.append(("gtid io pos", c.gtid_io_pos))
    if c.retrieved_gtid_set:
        out.append(("retrieved gtid set", c.retrieved_gtid_set))
    if c.executed_gtid_set:
        out.append(("executed gtid set", c.executed_gtid_set))
    if c.source_log_file:
        out.append(("source binlog", f"{c.source_log_file} read {c.read_source_log_pos}, "
                                     f"executed {c.relay_source_log_file} {c.exec_source_log_pos}"))
    if c.last_io_errno or c.last_io_error:
        out.append(("last io error", one_line(f"{c.last_io_errno}: {c.last_io_error}")))
    if c.last_sql_errno or c.last_sql_error:
        out.append(("last sql error", one_line(f"{c.last_sql_errno}: {c.last_sql_error}")))
    return out


def main_channel(channels: Sequence[ReplicaChannel]) -> ReplicaChannel | None:
    """The channel the member is drawn under: the default (unnamed) one, else the first."""
    if not channels:
        return None
    return next((c for c in channels if not c.name), channels[0])


# --------------------------------------------------------------------------- group replication, galera


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One row of performance_schema.replication_group_members."""

    member_id: str
    host: str
    port: int | None
    state: str
    role: str

    @property
    def name(self) -> str:
        return endpoint(self.host, self.port)


def parse_group_members(rows: Iterable[Mapping[str, Any]],
                        primary_uuid: str = "") -> tuple[GroupMember, ...]:
    """Group members; the OFFLINE placeholder row a server without a group shows is dropped.
    `primary_uuid` (status group_replication_primary_member) gives roles on 5.7, which has no
    MEMBER_ROLE column."""
    out = []
    for row in rows:
        state = as_text(pick(row, "MEMBER_STATE")).upper()
        host = as_text(pick(row, "MEMBER_HOST"))
        if not host or state in {"", "OFFLINE"}:
            continue
        member_id = as_text(pick(row, "MEMBER_ID"))
        role = as_text(pick(row, "MEMBER_ROLE")).upper()
        if not role and primary_uuid:
            role = "PRIMARY" if member_id == primary_uuid else "SECONDARY"
        out.append(GroupMember(member_id, host, as_int(pick(row, "MEMBER_PORT")), state, role))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class GaleraState:
    """wsrep_* status of one Galera node."""

    cluster_status: str
    cluster_size: int | None
    local_state: str
    ready: bool
    connected: bool
    recv_queue: int | None
    provider: str = ""
    cluster_uuid: str = ""

    @property
    def healthy(self) -> bool:
        return self.cluster_status == "Primary" and self.ready and self.local_state == "Synced"

    @property
    def error_line(self) -> str:
        if self.cluster_status != "Primary":
            return (f"Galera: not in the primary component (wsrep_cluster_status {self.cluster_status}): "
                    "this node refuses queries until it rejoins a quorum")
        if not self.ready:
            return "Galera: wsrep_ready OFF: this node does not accept queries"
        return ""

    def details(self) -> list[tuple[str, str]]:
        return [
            ("galera cluster status", self.cluster_status),
            ("galera cluster size", "?" if self.cluster_size is None else str(self.cluster_size)),
            ("galera local state", self.local_state or "?"),
            ("wsrep_ready", "ON" if self.ready else "OFF"),
            ("wsrep_connected", "ON" if self.connected else "OFF"),
            ("wsrep_local_recv_queue", "?" if self.recv_queue is None else str(self.recv_queue)),
        ]


def parse_galera(status: Mapping[str, str]) -> GaleraState | None:
    """None unless this node runs a wsrep provider. MariaDB shows wsrep_* status even
    without Galera (cluster Disconnected, connected OFF, no provider name)."""
    provider = status.get("wsrep_provider_name", "")
    connected = as_bool(status.get("wsrep_connected", ""))
    if "wsrep_cluster_status" not in status or not (provider or connected):
        return None
    return GaleraState(
        cluster_status=status.get("wsrep_cluster_status", ""),
        cluster_size=as_int(status.get("wsrep_cluster_size")),
        local_state=status.get("wsrep_local_state_comment", ""),
        ready=as_bool(status.get("wsrep_ready", "")),
        connected=connected,
        recv_queue=as_int(status.get("wsrep_local_recv_queue")),
        provider=provider,
        cluster_uuid=status.get("wsrep_cluster_state_uuid", ""),
    )


def status_map(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """SHOW STATUS / SHOW VARIABLES rows as a dict (column names differ in case across versions)."""
    out = {}
    for row in rows:
        name = pick(row, "Variable_name", "VARIABLE_NAME")
        if name is not None:
            out[as_text(name)] = as_text(pick(row, "Value", "VARIABLE_VALUE"))
    return out


# --------------------------------------------------------------------------- stats

# Threads that are the server's own: replication, event scheduler, daemons.
REPLICATION_COMMANDS = frozenset({"Binlog Dump", "Binlog Dump GTID", "Slave_IO", "Slave_SQL",
                                  "Slave_worker", "Register Slave"})
SYSTEM_USERS = frozenset({"system user", "event_scheduler"})


def thread_kind(command: str, user: str, lock_wait: bool) -> str:
    """The by_state bucket of one processlist thread."""
    if command in REPLICATION_COMMANDS:
        return "replication"
    if user in SYSTEM_USERS or command in {"Daemon", "Connect"}:
        return "system"
    if command == "Sleep":
        return "idle"
    if lock_wait:
        return "lock wait"
    return "active"


BY_STATE_ORDER = ("active", "lock wait", "idle", "replication", "system")


def threads_by_state(rows: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, int], ...]:
    """Rows of (command, user, lock_wait, n) grouped per bucket, in a stable order."""
    counts: dict[str, int] = {}
    for row in rows:
        kind = thread_kind(as_text(row.get("command")), as_text(row.get("user")),
                           as_bool(row.get("lock_wait")))
        counts[kind] = counts.get(kind, 0) + (as_int(row.get("n")) or 0)
    return tuple((k, counts[k]) for k in BY_STATE_ORDER if counts.get(k))


_FILENAME_CODE = re.compile(r"@([0-9a-fA-F]{4})")


def decode_schema_name(name: str) -> str:
    """InnoDB tablespace names encode special characters as @XXXX ("my@002ddb" is "my-db")."""
    return _FILENAME_CODE.sub(lambda m: chr(int(m.group(1), 16)), name)


def database_sizes(rows: Iterable[Mapping[str, Any]], top: int = 10) -> tuple[tuple[str, int], ...]:
    """(db, bytes) rows, largest first, the top ones."""
    sizes: dict[str, int] = {}
    for row in rows:
        db = decode_schema_name(as_text(row.get("db")))
        size = as_int(row.get("bytes")) or 0
        if db and db.lower() not in {"information_schema", "performance_schema"}:
            sizes[db] = sizes.get(db, 0) + size
    return tuple(sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


def top_statements(rows: Iterable[Mapping[str, Any]]) -> tuple[Statement, ...]:
    """performance_schema digests; timers are in picoseconds."""
    out = []
    for row in rows:
        text = as_text(row.get("DIGEST_TEXT"))
        calls = as_int(row.get("COUNT_STAR")) or 0
        if not text or not calls:
            continue
        total_ms = (as_float(row.get("SUM_TIMER_WAIT")) or 0.0) / 1e9
        out.append(Statement(query=one_line(text, QUERY_CROP), calls=calls, total_ms=total_ms,
                             mean_ms=total_ms / calls))
    return tuple(out)


def build_stats(status: Mapping[str, str], *, max_connections: int | None,
                threads: Sequence[Mapping[str, Any]] = (),
                longest: Mapping[str, Any] | None = None,
                trx: Mapping[str, Any] | None = None,
                sizes: tuple[tuple[str, int], ...] = (),
                statements: tuple[Statement, ...] = (),
                statements_note: str = "") -> DbStats:
    """DbStats from global status, grouped processlist rows and the optional extras."""
    counters = []
    queries = as_float(status.get("Questions", status.get("Queries")))
    if queries is not None:
        counters.append(("queries", queries))
    slow = as_float(status.get("Slow_queries"))
    if slow is not None:
        counters.append(("slow_queries", slow))
    requests = as_float(status.get("Innodb_buffer_pool_read_requests"))
    reads = as_float(status.get("Innodb_buffer_pool_reads"))
    hit = None
    if requests and reads is not None:
        hit = max(0.0, min(1.0, 1.0 - reads / requests))
    by_state = threads_by_state(threads)
    lock_waits = as_int(status.get("Innodb_row_lock_current_waits"))
    md_waits = dict(by_state).get("lock wait", 0)
    lock_waiting = None if lock_waits is None and not threads else (lock_waits or 0) + md_waits
    longest_s = longest_q = None
    if longest:
        ms = as_float(longest.get("time_ms"))
        longest_s = ms / 1000.0 if ms is not None else as_float(longest.get("time"))
        longest_q = one_line(as_text(longest.get("info")), QUERY_CROP)
    return DbStats(
        connections=as_int(status.get("Threads_connected")),
        max_connections=max_connections,
        by_state=by_state,
        counters=tuple(counters),
        cache_hit_ratio=hit,
        longest_query_s=longest_s,
        longest_query=longest_q or "",
        longest_xact_s=as_float(trx.get("longest")) if trx else None,
        lock_waiting=lock_waiting,
        threads_running=as_int(status.get("Threads_running")),
        database_sizes=sizes,
        top_statements=statements,
        statements_note=statements_note,
    )


# --------------------------------------------------------------------------- topology


@dataclass(frozen=True, slots=True)
class Observation:
    """What one member's read returned, before the members are related to each other."""

    name: str
    host: str
    port: int | None
    reachable: bool = True
    state: str = ""
    """For a failed read: "unreachable", "access denied", "query timeout"."""
    error: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    channels: tuple[ReplicaChannel, ...] = ()
    replica_status_error: str = ""
    """Set when SHOW REPLICA STATUS could not be read (a missing GRANT): the role is unknown."""
    status: Mapping[str, str] = field(default_factory=dict)
    binlog: tuple[str, int] | None = None
    group: tuple[GroupMember, ...] = ()
    stats: DbStats | None = None
    notes: tuple[tuple[str, str], ...] = ()
    read_ms: float | None = None

    @property
    def read_only(self) -> bool:
        return as_bool(self.variables.get("read_only")) or as_bool(self.variables.get("super_read_only"))

    @property
    def server_id(self) -> int | None:
        return as_int(self.variables.get("server_id"))

    @property
    def server_uuid(self) -> str:
        return as_text(self.variables.get("server_uuid"))

    @property
    def group_self(self) -> GroupMember | None:
        """This server's own row of an active group."""
        if self.server_uuid:
            mine = next((g for g in self.group if g.member_id == self.server_uuid), None)
            if mine is not None:
                return mine
        return next((g for g in self.group if same_host(g.host, self.host) and g.port == self.port), None)


@dataclass(slots=True)
class _Draft:
    """A member while its role is being decided across the cluster."""

    obs: Observation
    role: str = UNKNOWN
    state: str = ""
    upstream: str | None = None
    replicating: bool | None = None
    lag_seconds: float | None = None
    lag_bytes: int | None = None
    error: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "async"  # async | group | galera


def resolve_source(channel: ReplicaChannel, observations: Sequence[Observation]) -> str:
    """The configured member a channel reads from: by host:port (127.0.0.1 = localhost), else by
    server_id/uuid (the source may be named differently from our DSN); else "host:port"."""
    for o in observations:
        if same_host(o.host, channel.source_host) and (channel.source_port or 3306) == (o.port or 3306):
            return o.name
    if channel.source_uuid:
        hit = [o for o in observations if o.reachable and o.server_uuid == channel.source_uuid]
        if len(hit) == 1:
            return hit[0].name
    if channel.source_server_id is not None:
        hit = [o for o in observations if o.reachable and o.server_id == channel.source_server_id]
        if len(hit) == 1:
            return hit[0].name
    return channel.source


def _variable_details(o: Observation) -> list[tuple[str, str]]:
    v = o.variables
    out = []
    if v.get("version"):
        out.append(("server", as_text(v["version"])))
    if o.server_id is not None:
        out.append(("server_id", str(o.server_id)))
    out.append(("read_only", "ON" if o.read_only else "OFF"))
    for key in ("gtid_slave_pos", "gtid_binlog_pos", "gtid_current_pos", "gtid_executed"):
        text = one_line(as_text(v.get(key)), 400)
        if text:
            out.append((key, text))
    if o.binlog:
        out.append(("binlog position", f"{o.binlog[0]}:{o.binlog[1]}"))
    return out


def _draft_async(d: _Draft, observations: Sequence[Observation], product: str) -> None:
    o = d.obs
    if o.replica_status_error:
        d.role, d.state, d.error = UNKNOWN, "role unknown", o.replica_status_error
        return
    main = main_channel(o.channels)
    if main is None:
        if o.read_only:
            d.role, d.state = UNKNOWN, "read-only, not replicating"
            d.details.append(("note", "read_only is ON and no replication is configured: a standalone "
                                      f"read-only {product} server, or a replica whose replication "
                                      "was reset"))
        else:
            d.role, d.state = PRIMARY, "running"
        return
    d.role, d.state = REPLICA, main.state
    d.upstream = resolve_source(main, observations)
    d.replicating = main.running
    d.lag_seconds = None if main.seconds_behind is None else float(main.seconds_behind)
    d.error = main.error_line
    d.details.extend(channel_details(main, main=True))
    if d.upstream == main.source and not any(x.name == main.source for x in observations):
        d.details.append(("note", f"the source {main.source} is not one of the configured members"))
    for other in o.channels:
        if other is not main:
            d.details.extend(channel_details(other, main=False))
            if not d.error and other.error_line:
                d.error = other.error_line
    if not o.read_only:
        d.details.append(("warning", "read_only is OFF on a replica: writes here make it diverge"))


def _group_name(g: GroupMember, observations: Sequence[Observation]) -> str:
    """A group member's configured name: by server_uuid, else host:port; else as the group reports it."""
    for o in observations:
        if o.reachable and g.member_id and o.server_uuid == g.member_id:
            return o.name
    for o in observations:
        if same_host(o.host, g.host) and o.port == g.port:
            return o.name
    return g.name


def _draft_group(d: _Draft, me: GroupMember, observations: Sequence[Observation]) -> None:
    d.kind = "group"
    d.state = me.state.lower()
    d.details.append(("group replication", f"{me.state} {me.role or '?'}"))
    for g in d.obs.group:
        if g is not me:
            d.details.append((f"group member {g.name}", f"{g.state} {g.role or '?'}"))
    if me.role == "PRIMARY":
        d.role = PRIMARY
    elif me.role == "SECONDARY":
        d.role = REPLICA
        primary = next((g for g in d.obs.group if g.role == "PRIMARY"), None)
        d.upstream = _group_name(primary, observations) if primary else None
        d.replicating = me.state in {"ONLINE", "RECOVERING"}
    if me.state not in {"ONLINE", "RECOVERING"}:
        d.error = f"Group Replication member state {me.state}: see this server's error log"


def _draft_galera(d: _Draft, galera: GaleraState) -> None:
    d.kind = "galera"
    d.role = PRIMARY if galera.cluster_status == "Primary" else UNKNOWN
    d.state = (galera.local_state or galera.cluster_status).lower()
    d.error = galera.error_line
    d.details.extend(galera.details())
    d.details.append(("note", "Galera is multi-primary: every synced node takes writes"))


def _resolve_cycles(drafts: Sequence[_Draft]) -> None:
    """Circular (master-master) replication: every member has a source, so none looks like a
    primary. The writable members of a cycle are its active primaries."""
    by_name = {d.obs.name: d for d in drafts}

    def in_cycle(d: _Draft) -> bool:
        seen, cur = {d.obs.name}, by_name.get(d.upstream or "")
        while cur is not None and cur.kind == "async" and cur.role == REPLICA and cur.obs.name not in seen:
            seen.add(cur.obs.name)
            cur = by_name.get(cur.upstream or "")
        return cur is d

    promoted = [d for d in drafts
                if d.kind == "async" and d.role == REPLICA and not d.obs.read_only and in_cycle(d)]
    for d in promoted:
        d.details.insert(0, ("circular replication", f"also replicates from {d.upstream}"))
        d.role, d.upstream, d.replicating = PRIMARY, None, None
        if d.state == "streaming":
            d.state = "running"


def assemble(observations: Sequence[Observation], *, product: str = "MySQL") -> Reading:
    """Relate the members: roles, upstreams, lag in bytes, the leader and the problems."""
    drafts = []
    for o in observations:
        d = _Draft(o)
        drafts.append(d)
        if not o.reachable:
            continue
        me = o.group_self
        galera = parse_galera(o.status)
        if me is not None:
            _draft_group(d, me, observations)
        elif galera is not None:
            _draft_galera(d, galera)
        else:
            _draft_async(d, observations, product)
    _resolve_cycles(drafts)
    _lag_bytes(drafts)
    problems: list[str] = []

    leader = next((d.obs.name for d in drafts if d.kind == "group" and d.role == PRIMARY), None)
    if leader is None:
        primary = next((g for d in drafts if d.kind == "group" for g in d.obs.group
                        if g.role == "PRIMARY" and g.state == "ONLINE"), None)
        leader = _group_name(primary, observations) if primary else None
    galera_nodes = [d for d in drafts if d.kind == "galera" and d.role == PRIMARY]
    if leader is None and galera_nodes:
        leader = next((d.obs.name for d in galera_nodes if d.state == "synced"), galera_nodes[0].obs.name)
    writable = [d for d in drafts if d.kind == "async" and d.role == PRIMARY]
    if len(writable) > 1:
        names = ", ".join(d.obs.name for d in writable)
        problems.append(f"{len(writable)} writable primaries that replicate from nobody ({names}): "
                        "split brain? set read_only=ON on all but one and make them its replicas")
    if leader is None and writable:
        followers = {d.obs.name: sum(1 for x in drafts if x.upstream == d.obs.name) for d in writable}
        leader = max(writable, key=lambda d: followers[d.obs.name]).obs.name

    members = tuple(_member(d) for d in drafts)
    return Reading(members=members, leader=leader, problems=tuple(problems))


def _lag_bytes(drafts: Sequence[_Draft]) -> None:
    """Bytes between the source's binlog position and what the replica executed, when both are
    in the same binlog file (across files the sizes of the files between would be needed)."""
    by_name = {d.obs.name: d for d in drafts}
    for d in drafts:
        if d.role != REPLICA or d.kind != "async":
            continue
        main = main_channel(d.obs.channels)
        source = by_name.get(d.upstream or "")
        if main is None or source is None or source.obs.binlog is None or main.exec_source_log_pos is None:
            continue
        file, pos = source.obs.binlog
        if file == main.relay_source_log_file:
            d.lag_bytes = max(0, pos - main.exec_source_log_pos)


def _member(d: _Draft) -> Member:
    o = d.obs
    if not o.reachable:
        return Member(name=o.name, host=o.host, port=o.port, role=UNKNOWN, state=o.state or "unreachable",
                      reachable=False, error=o.error, details=tuple(o.notes))
    details = d.details + _variable_details(o) + list(o.notes)
    if o.read_ms is not None:
        details.append(("read time", f"{o.read_ms:.1f} ms"))
    return Member(
        name=o.name, host=o.host, port=o.port, role=d.role, state=d.state, reachable=True,
        upstream=d.upstream, lag_bytes=d.lag_bytes, lag_seconds=d.lag_seconds,
        replicating=d.replicating, error=one_line(d.error or o.error), details=tuple(details),
        stats=o.stats,
    )

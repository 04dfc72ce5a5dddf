"""The SQL the PostgreSQL collector sends, and the pure functions that turn its answers into Members.

One poll of one member is one round trip: a single SELECT that returns one JSON document
(role, LSNs, timeline, the WAL senders it feeds, its slots, its WAL receiver, and with
stats on, pg_stat_activity / pg_stat_database aggregates). pg_stat_statements, when
installed, rides in the same message as a second statement. Everything here works for a
role that has only ``pg_monitor``.

`assemble` is where the members' answers meet: who replicates from whom, lag from the
sender's view, replicas only a sender knows about, and split brain. It does no I/O, so the
topology rules are unit-tested with plain dicts.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from providers.ha.model import (
    PRIMARY,
    REPLICA,
    STANDBY_LEADER,
    SYNC_REPLICA,
    UNKNOWN,
    DbStats,
    Member,
    Reading,
    Statement,
)

MARK = "/* stacktop */"
"""Leads every statement we send, so pg_stat_statements and our own views can leave them out."""

QUERY_TEXT_LIMIT = 200
TOP_N = 10
PGSS_MISSING = ("pg_stat_statements is not installed (CREATE EXTENSION pg_stat_statements; "
                "needs shared_preload_libraries)")
PGSS_NOT_LOADED = ("pg_stat_statements is installed but not loaded: add it to shared_preload_libraries "
                   "and restart PostgreSQL")
# Replication clients that are not replicas: listed in a member's details, never as members.
NOT_REPLICAS = frozenset({"pg_basebackup", "pg_receivewal", "pg_recvlogical", "barman_receive_wal"})
# application_name values every replica has unless someone sets one: no use as an identity.
GENERIC_APP_NAMES = frozenset({"", "walreceiver"})
LOOPBACK = "loopback"


# --------------------------------------------------------------------------- SQL

def session_sql(statement_timeout: float) -> str:
    """Sent once per connection. Read-only by default: this role only ever looks."""
    ms = max(1, round(statement_timeout * 1000))
    return (f"{MARK} SET statement_timeout = {ms}; SET default_transaction_read_only = on; "
            "SET lock_timeout = 1000")


@functools.lru_cache(maxsize=16)
def poll_sql(server_version: int, *, stats: bool, sizes: bool) -> str:
    """The one SELECT of a poll. `server_version` is libpq's number (150006): PostgreSQL 12 or
    newer, with 12's spellings where 13 renamed or added columns."""
    paused = ("pg_get_wal_replay_pause_state()" if server_version >= 140000
              else "CASE WHEN pg_is_wal_replay_paused() THEN 'paused' ELSE 'not paused' END")
    flushed = "flushed_lsn" if server_version >= 130000 else "received_lsn"
    wal_status = "wal_status" if server_version >= 130000 else "NULL"
    parts = [
        "'recovery', r.rec",
        "'version', current_setting('server_version')",
        "'lsn', r.lsn",
        "'replay_lsn', pg_last_wal_replay_lsn()",
        "'receive_lsn', pg_last_wal_receive_lsn()",
        # The primary's timeline is the one it writes (in its WAL file name); the control file's
        # lags a promotion until the next checkpoint.
        "'timeline', CASE WHEN r.rec THEN (SELECT received_tli FROM pg_stat_wal_receiver) "
        "ELSE greatest(('x' || substr(pg_walfile_name(r.lsn), 1, 8))::bit(32)::int, c.timeline_id) END",
        "'checkpoint_timeline', c.timeline_id",
        f"'paused', CASE WHEN r.rec THEN {paused} END",
        "'max_connections', current_setting('max_connections')::int",
        "'connections', (SELECT count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())",
        # Only the host and port of primary_conninfo leave the server (it may hold a password).
        "'conf_sender', CASE WHEN r.rec THEN json_build_object("
        "'host', substring(current_setting('primary_conninfo') from '(?:^|\\s)host=''?([^\\s'']+)'), "
        "'port', substring(current_setting('primary_conninfo') from '(?:^|\\s)port=''?([0-9]+)')) END",
        f"'senders', ({_SENDERS})",
        f"'slots', ({_SLOTS.format(wal_status=wal_status)})",
        f"'receiver', ({_RECEIVER.format(flushed=flushed)})",
        "'pgss', (SELECT json_build_object('version', extversion, "
        "'schema', extnamespace::regnamespace::text) FROM pg_extension WHERE extname = 'pg_stat_statements')",
    ]
    if stats:
        parts.append(f"'stats', ({_STATS})")
    if stats and sizes:
        parts.append(f"'sizes', ({_SIZES})")
    body = ",\n  ".join(parts)
    return (f"{MARK} SELECT json_build_object(\n  {body}\n) FROM (SELECT rec, CASE WHEN rec "
            "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END AS lsn "
            "FROM pg_is_in_recovery() AS rec) r, pg_control_checkpoint() c")


_SENDERS = """SELECT coalesce(json_agg(json_build_object(
    'pid', s.pid, 'app', s.application_name, 'addr', host(s.client_addr), 'port', s.client_port,
    'state', s.state, 'sync_state', s.sync_state, 'sent_lsn', s.sent_lsn, 'write_lsn', s.write_lsn,
    'flush_lsn', s.flush_lsn, 'replay_lsn', s.replay_lsn,
    'lag_bytes', greatest(0, pg_wal_lsn_diff(r.lsn, s.replay_lsn))::bigint,
    'write_lag', extract(epoch FROM s.write_lag), 'flush_lag', extract(epoch FROM s.flush_lag),
    'replay_lag', extract(epoch FROM s.replay_lag),
    'slot', sl.slot_name, 'logical', coalesce(sl.slot_type = 'logical', false)) ORDER BY s.pid), '[]')
  FROM pg_stat_replication s LEFT JOIN pg_replication_slots sl ON sl.active_pid = s.pid"""

_SLOTS = """SELECT coalesce(json_agg(json_build_object(
    'name', slot_name, 'type', slot_type, 'active', active, 'wal_status', {wal_status},
    'retained_bytes', greatest(0, pg_wal_lsn_diff(r.lsn, restart_lsn))::bigint) ORDER BY slot_name), '[]')
  FROM pg_replication_slots"""

_RECEIVER = """SELECT json_build_object(
    'status', status, 'sender_host', sender_host, 'sender_port', sender_port, 'slot', slot_name,
    'flushed_lsn', {flushed}, 'received_tli', received_tli, 'latest_end_lsn', latest_end_lsn,
    'last_msg_age', extract(epoch FROM now() - last_msg_receipt_time),
    'latest_end_age', extract(epoch FROM now() - latest_end_time),
    'app', coalesce(substring(conninfo from '(?:^|\\s)application_name=([^\\s]+)'),
                    substring(conninfo from 'fallback_application_name=([^\\s]+)')))
  FROM pg_stat_wal_receiver"""

_STATS = """WITH a AS MATERIALIZED (
    SELECT pid, backend_type, state, wait_event_type, query_start, xact_start, query, application_name
    FROM pg_stat_activity),
  c AS (SELECT * FROM a WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()),
  q AS (SELECT * FROM c WHERE state = 'active' AND application_name <> 'stacktop'
        ORDER BY query_start LIMIT 1),
  d AS (SELECT sum(xact_commit + xact_rollback) AS xact,
               sum(tup_returned + tup_fetched + tup_inserted + tup_updated + tup_deleted) AS rows,
               sum(blks_hit) AS hit, sum(blks_read) AS read FROM pg_stat_database)
  SELECT json_build_object(
    'by_state', (SELECT coalesce(json_object_agg(st, n), '{}')
                 FROM (SELECT coalesce(state, 'unknown') AS st, count(*) AS n FROM c GROUP BY 1) x),
    'lock_waiting', (SELECT count(*) FROM a WHERE wait_event_type = 'Lock'),
    'longest_query_s', (SELECT extract(epoch FROM now() - query_start) FROM q),
    'longest_query', (SELECT left(query, 1000) FROM q),
    'longest_xact_s', (SELECT extract(epoch FROM now() - min(xact_start)) FROM c
                       WHERE application_name <> 'stacktop'),
    'xact', d.xact, 'rows', d.rows, 'hit', d.hit, 'read', d.read)
  FROM d"""

# Sizes walk each database's directory: read every SIZES_EVERY seconds, not every poll.
_SIZES = """SELECT coalesce(json_agg(json_build_array(datname, size) ORDER BY size DESC), '[]')
  FROM (SELECT datname, pg_database_size(oid) AS size FROM pg_database
        WHERE datallowconn AND (has_database_privilege(oid, 'CONNECT')
                                OR pg_has_role('pg_read_all_stats', 'MEMBER'))
        ORDER BY 2 DESC LIMIT 10) x"""
SIZES_EVERY = 60.0
# pg_stat_statements reads its whole query-text file on every look: top statements by total
# time move slowly, so they are read every STATEMENTS_EVERY seconds (and at once on first sight).
STATEMENTS_EVERY = 30.0


def statements_sql(schema: str, ext_version: str) -> str:
    """Top statements by total time. Columns were renamed in the extension's 1.8 (PostgreSQL 13)."""
    new = _version_tuple(ext_version) >= (1, 8)
    total, mean = ("total_exec_time", "mean_exec_time") if new else ("total_time", "mean_time")
    quoted = '"' + schema.replace('"', '""') + '"'
    return (f"{MARK} SELECT left(query, 1000), calls, {total}, {mean} FROM {quoted}.pg_stat_statements "
            f"WHERE query NOT LIKE '{MARK}%' ORDER BY {total} DESC LIMIT {TOP_N}")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


# ------------------------------------------------------------------ values

def parse_lsn(text: str | None) -> int | None:
    """'16/B374D848' -> its byte position."""
    if not text or "/" not in text:
        return None
    hi, lo = text.split("/", 1)
    try:
        return (int(hi, 16) << 32) | int(lo, 16)
    except ValueError:
        return None


_PASSWORD = re.compile(r"(\bpassword\s+)('(?:[^']|'')*'|\$\w*\$.*?\$\w*\$)", re.IGNORECASE | re.DOTALL)


def one_line_query(text: str | None, limit: int = QUERY_TEXT_LIMIT) -> str:
    """A query as one cropped line, with any PASSWORD '...' literal blanked (ALTER ROLE lands
    in pg_stat_activity and pg_stat_statements verbatim)."""
    if not text:
        return ""
    flat = " ".join(_PASSWORD.sub(r"\1'…'", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def human_bytes(value: float | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} s" if value < 10 else f"{value:.0f} s"


def norm_host(host: str | None) -> str:
    """Hosts that mean this machine compare equal (localhost, 127.0.0.1, ::1, a socket dir)."""
    h = (host or "").strip().lower().strip("[]")
    if not h or h.startswith("/") or h == "localhost":
        return LOOPBACK
    try:
        return LOOPBACK if ipaddress.ip_address(h).is_loopback else h
    except ValueError:
        return h


# ------------------------------------------------------------------ inputs

@dataclass(frozen=True, slots=True)
class MemberRead:
    """What the collector got from one configured member in one poll."""

    name: str
    host: str
    port: int | None
    data: Mapping[str, Any] | None = None
    """The poll query's JSON; None when the member could not be read."""
    statements: tuple[Statement, ...] = ()
    statements_note: str = ""
    sizes: tuple[tuple[str, int], ...] = ()
    reachable: bool = True
    error: str = ""
    elapsed_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """How a replica showed up in its upstream's pg_stat_replication last time: lets an
    unreachable replica still be recognised there (and not listed twice)."""

    upstream: str | None
    slot: str | None = None
    app: str | None = None


@dataclass
class _Link:
    """A configured, reachable replica on its way to becoming a Member."""

    read: MemberRead
    upstream: str | None
    sender: str
    row: Mapping[str, Any] | None = None
    missing: bool = False
    ambiguous: bool = False


@dataclass
class _Topology:
    links: dict[str, _Link] = field(default_factory=dict)
    rows_by_member: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    matched_unreachable: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    discovered: list[Member] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- assemble

def assemble(reads: Sequence[MemberRead],
             memory: Mapping[str, Identity]) -> tuple[Reading, dict[str, Identity]]:
    """Members, leader and problems from one poll's reads; `memory` is the previous poll's
    identities (returned updated) so that a replica that went unreachable is still known."""
    by_name = {r.name: r for r in reads}
    index: dict[tuple[str, int | None], str] = {}
    for r in reads:
        index.setdefault((norm_host(r.host), r.port), r.name)
    topo = _Topology()
    for r in reads:
        if r.data is not None:
            rows = [row for row in r.data.get("senders") or () if _is_replica_row(row)]
            topo.rows_by_member[r.name] = rows
    for r in reads:
        if r.data is not None and r.data.get("recovery"):
            topo.links[r.name] = _link(r, index)
    _match_rows(topo, reads, by_name, memory)

    members: list[Member] = []
    new_memory: dict[str, Identity] = {}
    for r in reads:
        if r.data is None:
            members.append(_unreachable(r, memory.get(r.name), topo.matched_unreachable.get(r.name)))
            if r.name in memory:
                new_memory[r.name] = memory[r.name]
            continue
        link = topo.links.get(r.name)
        members.append(_reachable(r, link, by_name, topo.rows_by_member.get(r.name, [])))
        if link is not None:  # a replica without a WAL receiver right now keeps its last slot and name
            before = memory.get(r.name) or Identity(None)
            slot = (r.data.get("receiver") or {}).get("slot") or before.slot
            new_memory[r.name] = Identity(link.upstream, slot, _receiver_app(r.data) or before.app)
    members = _standby_leader(members, topo)
    members.extend(topo.discovered)
    leader, problems = _leader(members)
    reading = Reading(members=tuple(members), leader=leader, problems=tuple(topo.problems + problems))
    return reading, new_memory


def _is_replica_row(row: Mapping[str, Any]) -> bool:
    return not row.get("logical") and row.get("state") != "backup" and row.get("app") not in NOT_REPLICAS


def _receiver_app(data: Mapping[str, Any]) -> str | None:
    app = (data.get("receiver") or {}).get("app")
    return app if app and app not in GENERIC_APP_NAMES else None


def _link(r: MemberRead, index: Mapping[tuple[str, int | None], str]) -> _Link:
    """Whom a replica streams from: its WAL receiver's sender, else its primary_conninfo."""
    assert r.data is not None
    receiver = r.data.get("receiver") or {}
    conf = r.data.get("conf_sender") or {}
    host, port = receiver.get("sender_host"), receiver.get("sender_port")
    if not host:
        host = conf.get("host")
        port = int(conf["port"]) if conf.get("port") else 5432 if host else None
    upstream = index.get((norm_host(host), port)) if host else None
    if upstream == r.name:
        upstream = None
    sender = f"{host}:{port}" if host else ""
    return _Link(read=r, upstream=upstream, sender=sender)


def _match_rows(topo: _Topology, reads: Sequence[MemberRead], by_name: Mapping[str, MemberRead],
                memory: Mapping[str, Identity]) -> None:
    """Pair each sender's pg_stat_replication rows with the configured replicas that stream
    from it: by slot, then by a distinctive application_name, then the one left over."""
    for sender_name, rows in topo.rows_by_member.items():
        claim = [lk for lk in topo.links.values() if lk.upstream == sender_name]
        lost = [n for n, ident in memory.items()
                if ident.upstream == sender_name and by_name.get(n) is not None and by_name[n].data is None]
        free = list(rows)

        def take(pred: Any, free: list[Mapping[str, Any]] = free) -> Mapping[str, Any] | None:
            hits = [row for row in free if pred(row)]
            if len(hits) != 1:
                return None
            free.remove(hits[0])
            return hits[0]

        for lk in claim:
            slot = ((lk.read.data or {}).get("receiver") or {}).get("slot")
            if slot:
                lk.row = take(lambda row, s=slot: row.get("slot") == s)
        for lk in claim:
            app = _receiver_app(lk.read.data or {})
            if lk.row is None and app:
                lk.row = take(lambda row, a=app: row.get("app") == a)
        for name in lost:
            ident = memory[name]
            row = None
            if ident.slot:
                row = take(lambda row, s=ident.slot: row.get("slot") == s)
            if row is None and ident.app:
                row = take(lambda row, a=ident.app: row.get("app") == a)
            if row is not None:
                topo.matched_unreachable[name] = row
        unmatched = [lk for lk in claim if lk.row is None]
        if len(unmatched) == 1 and len(free) == 1:
            unmatched[0].row = free.pop()
        elif unmatched and free:
            # Several unnamed connections and several replicas: do not guess which is which.
            for lk in unmatched:
                lk.ambiguous = True
            topo.problems.append(
                f"cannot tell which replication connections on {sender_name} belong to "
                f"{', '.join(lk.read.name for lk in unmatched)}: give each replica's primary_conninfo "
                "an application_name, or use replication slots")
            free.clear()
        for lk in unmatched:
            if not lk.ambiguous and lk.row is None:
                lk.missing = True
        for row in free:
            topo.discovered.append(_discovered(row, sender_name, by_name, topo))


def _discovered(row: Mapping[str, Any], sender: str, by_name: Mapping[str, MemberRead],
                topo: _Topology) -> Member:
    """A replica only its sender knows: named by application_name, slot, or address."""
    app = row.get("app") or ""
    same_app = sum(1 for rows in topo.rows_by_member.values() for x in rows if x.get("app") == app)
    addr = row.get("addr")
    if app not in GENERIC_APP_NAMES and same_app == 1:
        name = app
    elif row.get("slot"):
        name = row["slot"]
    else:
        name = f"{addr or 'local'}:{row.get('port')}"
    taken = set(by_name) | {m.name for m in topo.discovered}
    if name in taken:
        name = f"{name}@{sender}"
    lag = row.get("lag_bytes")
    state = row.get("state") or "unknown"
    return Member(
        name=name, host=addr or "", port=None,
        role=SYNC_REPLICA if row.get("sync_state") in ("sync", "quorum") else REPLICA,
        state=state, upstream=sender, lag_bytes=lag, lag_seconds=_lag_seconds(lag, row.get("replay_lag")),
        replicating=state == "streaming", discovered=True, details=tuple(_sender_view_details(row)))


def _lag_seconds(lag_bytes: int | None, replay_lag: float | None) -> float | None:
    """0 when everything is replayed (an idle primary is not lag); else the sender's replay_lag,
    which keeps growing while replay is stuck."""
    if lag_bytes == 0:
        return 0.0
    return float(replay_lag) if replay_lag is not None else None


def _sender_view_details(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = [("client", f"{row.get('addr') or 'local'}:{row.get('port')}"),
           ("application_name", row.get("app") or "—"),
           ("sender state", row.get("state") or "—"),
           ("sync state", row.get("sync_state") or "—")]
    if row.get("slot"):
        out.append(("slot", row["slot"]))
    out += [("sent / written / flushed LSN",
             f"{row.get('sent_lsn') or '—'} / {row.get('write_lsn') or '—'} / {row.get('flush_lsn') or '—'}"),
            ("replayed LSN (sender's view)", row.get("replay_lsn") or "—"),
            ("write / flush / replay lag", " / ".join(_seconds(row.get(k))
                                                      for k in ("write_lag", "flush_lag", "replay_lag")))]
    return out


def _unreachable(r: MemberRead, ident: Identity | None, row: Mapping[str, Any] | None) -> Member:
    details: list[tuple[str, str]] = []
    if row is not None and ident is not None:
        behind = human_bytes(row.get("lag_bytes"))
        details.append(("seen by upstream", f"{row.get('state')}, {behind} behind"))
    if not r.reachable:
        return Member(name=r.name, host=r.host, port=r.port, role=UNKNOWN, state="unreachable",
                      reachable=False, upstream=ident.upstream if ident else None, error=r.error,
                      details=tuple(details))
    return Member(name=r.name, host=r.host, port=r.port, role=UNKNOWN, state="error", reachable=True,
                  upstream=ident.upstream if ident else None, error=r.error, details=tuple(details))


def _reachable(r: MemberRead, link: _Link | None, by_name: Mapping[str, MemberRead],
               rows: Sequence[Mapping[str, Any]]) -> Member:
    data = r.data or {}
    details: list[tuple[str, str]] = [("version", str(data.get("version") or "—"))]
    if link is None:
        role, state, upstream = PRIMARY, "running", None
        timeline = data.get("timeline")
        lag_bytes = lag_seconds = replicating = None
        details.append(("current LSN", data.get("lsn") or "—"))
    else:
        role, state, upstream, timeline, lag_bytes, lag_seconds, replicating = _replica(
            link, by_name, details)
    details.append(("connections", f"{data.get('connections')} of {data.get('max_connections')}"))
    details += _downstream_details(data, rows)
    if r.elapsed_ms is not None:
        details.append(("poll time", f"{r.elapsed_ms:.1f} ms"))
    return Member(name=r.name, host=r.host, port=r.port, role=role, state=state, upstream=upstream,
                  timeline=timeline, lag_bytes=lag_bytes, lag_seconds=lag_seconds, replicating=replicating,
                  details=tuple(details), stats=_stats(r))


def _replica(link: _Link, by_name: Mapping[str, MemberRead],
             details: list[tuple[str, str]]) -> tuple[str, str, str | None, int | None, int | None,
                                                      float | None, bool]:
    data = link.read.data or {}
    receiver = data.get("receiver") or {}
    row = link.row
    status = receiver.get("status")
    paused = data.get("paused") in ("paused", "pause requested")
    state = "replay paused" if paused else (status or "not streaming")
    role = SYNC_REPLICA if row is not None and row.get("sync_state") in ("sync", "quorum") else REPLICA
    timeline = receiver.get("received_tli") or data.get("checkpoint_timeline")
    up = by_name.get(link.upstream) if link.upstream else None
    if row is not None:
        lag_bytes: int | None = row.get("lag_bytes")
        lag_seconds = _lag_seconds(lag_bytes, row.get("replay_lag"))
    else:
        up_lsn = parse_lsn((up.data or {}).get("lsn")) if up is not None and up.data is not None else None
        replayed = parse_lsn(data.get("replay_lsn"))
        lag_bytes = max(0, up_lsn - replayed) if up_lsn is not None and replayed is not None else None
        lag_seconds = 0.0 if lag_bytes == 0 else None
    sender_ok = row is None or row.get("state") == "streaming"
    replicating = status == "streaming" and not link.missing and sender_ok
    details.append(("sender", link.sender or "— (no WAL receiver, no primary_conninfo host)"))
    if link.sender and link.upstream is None:
        details.append(("upstream", "not a configured member"))
    details.append(("WAL receiver", status or "not running"))
    if receiver.get("slot"):
        details.append(("slot", receiver["slot"]))
    if row is not None:
        details.append(("sync state", row.get("sync_state") or "—"))
        details.append(("sender state", row.get("state") or "—"))
    elif link.missing:
        details.append(("sender state", f"not in {link.upstream}'s pg_stat_replication"))
    details.append(("received / replayed LSN",
                    f"{receiver.get('flushed_lsn') or data.get('receive_lsn') or '—'} / "
                    f"{data.get('replay_lsn') or '—'}"))
    if receiver.get("last_msg_age") is not None:
        details.append(("last message from upstream", f"{_seconds(receiver['last_msg_age'])} ago"))
    if receiver.get("latest_end_age") is not None:
        details.append(("upstream's WAL end last reported", f"{_seconds(receiver['latest_end_age'])} ago"))
    if paused:
        details.append(("replay", str(data.get("paused"))))
    if row is not None:
        details.append(("sent / written / flushed LSN (sender's view)",
                        f"{row.get('sent_lsn') or '—'} / {row.get('write_lsn') or '—'} / "
                        f"{row.get('flush_lsn') or '—'}"))
        details.append(("write / flush / replay lag", " / ".join(
            _seconds(row.get(k)) for k in ("write_lag", "flush_lag", "replay_lag"))))
    return role, state, link.upstream, timeline, lag_bytes, lag_seconds, replicating


def _downstream_details(data: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    every = data.get("senders") or ()
    if every or data.get("recovery") is False:
        out.append(("WAL senders", str(len(every))))
    for row in every:
        who = f"{row.get('app') or '—'} ({row.get('addr') or 'local'}:{row.get('port')})"
        if row in rows:
            out.append((f"→ {who}", f"{row.get('state')}, {row.get('sync_state')}, "
                                    f"{human_bytes(row.get('lag_bytes'))} behind"))
        else:
            kind = ("logical" if row.get("logical")
                    else "base backup" if row.get("state") == "backup" else "client")
            out.append((f"→ {who}", f"{kind}, {row.get('state')}"))
    for slot in data.get("slots") or ():
        active = "active" if slot.get("active") else "inactive"
        text = f"{slot.get('type')}, {active}, retains {human_bytes(slot.get('retained_bytes'))}"
        if slot.get("wal_status") in ("unreserved", "lost"):
            text += f" (WAL {slot['wal_status']})"
        out.append((f"slot {slot.get('name')}", text))
    return out


def _stats(r: MemberRead) -> DbStats | None:
    data = r.data or {}
    s = data.get("stats")
    if s is None:
        return None
    by_state = sorted((s.get("by_state") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    hit, read = s.get("hit") or 0, s.get("read") or 0
    return DbStats(
        connections=data.get("connections"), max_connections=data.get("max_connections"),
        by_state=tuple((k, int(v)) for k, v in by_state),
        counters=(("xact", float(s.get("xact") or 0)), ("rows", float(s.get("rows") or 0))),
        cache_hit_ratio=hit / (hit + read) if hit + read else None,
        longest_query_s=_float(s.get("longest_query_s")),
        longest_query=one_line_query(s.get("longest_query")),
        longest_xact_s=_float(s.get("longest_xact_s")),
        lock_waiting=int(s.get("lock_waiting") or 0),
        database_sizes=r.sizes, top_statements=r.statements, statements_note=r.statements_note)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _standby_leader(members: list[Member], topo: _Topology) -> list[Member]:
    """No primary here, and exactly one replica streams from outside the cluster: it leads a
    standby cluster."""
    if any(m.role == PRIMARY for m in members):
        return members
    outside = [lk.read.name for lk in topo.links.values() if lk.upstream is None and lk.sender]
    if len(outside) != 1:
        return members
    return [replace(m, role=STANDBY_LEADER) if m.name == outside[0] else m for m in members]


def _leader(members: Sequence[Member]) -> tuple[str | None, list[str]]:
    primaries = [m for m in members if m.role == PRIMARY and not m.discovered]
    if len(primaries) > 1:
        ranked = sorted(primaries, key=lambda m: -(m.timeline or 0))
        listed = ", ".join(f"{m.name} (timeline {m.timeline})" for m in ranked)
        return ranked[0].name, [f"two primaries: {listed} — split brain: fence the stale one"]
    if primaries:
        return primaries[0].name, []
    standby = [m for m in members if m.role == STANDBY_LEADER]
    if standby:
        return standby[0].name, []
    if any(m.reachable and m.role != UNKNOWN and not m.discovered for m in members):
        return None, ["no primary: every reachable member is in recovery"]
    return None, []

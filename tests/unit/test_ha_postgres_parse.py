"""The PostgreSQL collector's pure parts: LSNs, query texts, DSN names, error lines, and the
topology rules of `assemble` over hand-made answers shaped like the poll query's JSON."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.ha.model import PRIMARY, REPLICA, STANDBY_LEADER, SYNC_REPLICA, UNKNOWN, Member, Reading
from providers.ha.pg_queries import (
    Identity,
    MemberRead,
    assemble,
    norm_host,
    one_line_query,
    parse_lsn,
    poll_sql,
    statements_sql,
)
from providers.ha.postgres import PostgresCollector, _Target, explain_connect_error, member_address

# ------------------------------------------------------------------ builders


def primary(name: str = "10.0.0.1:5432", *, lsn: str = "0/5000000", timeline: int = 2,
            senders: list[dict[str, Any]] | None = None) -> MemberRead:
    host, port = name.rsplit(":", 1)
    return MemberRead(name, host, int(port), data={
        "recovery": False, "version": "15.6", "lsn": lsn, "timeline": timeline, "connections": 3,
        "max_connections": 100, "senders": senders or [], "slots": []})


def replica(name: str, *, sender: str | None, slot: str | None = None, app: str = "walreceiver",
            replay: str = "0/5000000", status: str | None = "streaming", paused: str = "not paused",
            senders: list[dict[str, Any]] | None = None, conf_sender: str | None = None) -> MemberRead:
    host, port = name.rsplit(":", 1)
    receiver = None
    if status is not None and sender is not None:
        s_host, s_port = sender.rsplit(":", 1)
        receiver = {"status": status, "sender_host": s_host, "sender_port": int(s_port), "slot": slot,
                    "flushed_lsn": replay, "received_tli": 2, "app": app}
    conf = None
    if conf_sender:
        c_host, c_port = conf_sender.rsplit(":", 1)
        conf = {"host": c_host, "port": c_port}
    return MemberRead(name, host, int(port), data={
        "recovery": True, "version": "15.6", "lsn": replay, "replay_lsn": replay, "receive_lsn": replay,
        "timeline": 2 if receiver else None, "checkpoint_timeline": 2, "paused": paused, "connections": 0,
        "max_connections": 100, "senders": senders or [], "slots": [], "receiver": receiver,
        "conf_sender": conf})


def row(*, app: str = "walreceiver", addr: str = "10.0.0.2", port: int = 40000, slot: str | None = None,
        state: str = "streaming", sync: str = "async", lag: int = 0, replay_lag: float | None = None,
        logical: bool = False) -> dict[str, Any]:
    return {"pid": port, "app": app, "addr": addr, "port": port, "state": state, "sync_state": sync,
            "sent_lsn": "0/5000000", "write_lsn": "0/5000000", "flush_lsn": "0/5000000",
            "replay_lsn": "0/5000000", "lag_bytes": lag, "write_lag": None, "flush_lag": None,
            "replay_lag": replay_lag, "slot": slot, "logical": logical}


def unreachable(name: str, error: str = "connection refused") -> MemberRead:
    host, port = name.rsplit(":", 1)
    return MemberRead(name, host, int(port), reachable=False, error=error)


def by_name(reading: Reading) -> dict[str, Member]:
    return {m.name: m for m in reading.members}


P, R1, R2 = "10.0.0.1:5432", "10.0.0.2:5432", "10.0.0.3:5432"


# ------------------------------------------------------------------- values

def test_parse_lsn() -> None:
    assert parse_lsn("0/3000060") == 0x3000060
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert parse_lsn(None) is None and parse_lsn("nonsense") is None and parse_lsn("x/y") is None


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_parse_lsn_round_trips(value: int) -> None:
    assert parse_lsn(f"{value >> 32:X}/{value & 0xFFFFFFFF:X}") == value


def test_query_text_is_one_cropped_line_without_passwords() -> None:
    text = "ALTER ROLE app\n  PASSWORD 'hunter2''s' VALID UNTIL 'infinity'"
    assert one_line_query(text) == "ALTER ROLE app PASSWORD '…' VALID UNTIL 'infinity'"
    assert "s3cr3t" not in one_line_query("create user x with password $$s3cr3t$$")
    long = one_line_query("SELECT " + "x, " * 200, limit=50)
    assert len(long) == 50 and long.endswith("…")
    assert one_line_query(None) == ""


def test_hosts_of_this_machine_compare_equal() -> None:
    assert {norm_host(h) for h in ("localhost", "127.0.0.1", "::1", "[::1]", "/var/run/postgresql", "")} \
        == {"loopback"}
    assert norm_host("DB1.example.com") == "db1.example.com" and norm_host("10.0.0.5") == "10.0.0.5"


def test_member_names_come_from_the_dsn_never_the_dsn_itself() -> None:
    assert member_address("postgresql://mon@db1.example.com:5433/postgres?sslmode=require") == \
        ("db1.example.com", 5433, "mon")
    assert member_address("host=10.0.0.5 dbname=postgres user=mon")[:2] == ("10.0.0.5", 5432)
    assert member_address("host=a,b port=5433,5434 user=u")[:2] == ("a", 5433)
    with pytest.raises(ValueError, match="not a PostgreSQL DSN"):
        member_address("host=a port")
    c = PostgresCollector(["host=10.0.0.5 user=mon sslmode=require", "host=10.0.0.5 user=other"],
                          password="pw-secret", connect_timeout=1, statement_timeout=1)
    assert c.member_names == ("10.0.0.5:5432", "10.0.0.5:5432#2")
    assert "pw-secret" not in repr(c) and "sslmode" not in repr(c)


@pytest.mark.parametrize(("message", "expected"), [
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: Connection refused\n\t'
     "Is the server running on that host and accepting TCP/IP connections?",
     "connection refused at 10.0.0.5:5432 — is PostgreSQL running?"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password '
     'authentication failed for user "mon"',
     "password authentication failed for user mon — check ha.clusters[].postgres.password"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  no pg_hba.conf '
     'entry for host "10.0.0.9", user "mon", database "postgres", no encryption',
     "10.0.0.5:5432 has no pg_hba.conf entry for user mon from this host — add one there"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  role "mon" does '
     "not exist",
     "role mon does not exist at 10.0.0.5:5432 — CREATE ROLE mon LOGIN; GRANT pg_monitor TO mon"),
    ("failed to resolve host 'db9': [Errno -2] Name or service not known",
     "cannot resolve host 10.0.0.5 — check the DSN's host"),
    ("connection timeout expired",
     "no answer from 10.0.0.5:5432 within 3 s — check the host, port and firewall"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  the database '
     "system is starting up", "PostgreSQL at 10.0.0.5:5432 is starting up"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  sorry, too many '
     "clients already", "10.0.0.5:5432 has no free connection slots (max_connections reached)"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: server does not support '
     "SSL, but SSL was required",
     "SSL to 10.0.0.5:5432 failed: server does not support SSL, but SSL was required — check sslmode "
     "in the DSN"),
    ('connection failed: connection to server at "10.0.0.5", port 5432 failed: something new\nmore',
     "cannot connect to 10.0.0.5:5432: something new"),
])
def test_connect_errors_are_one_line_naming_the_fix(message: str, expected: str) -> None:
    target = _Target(name="10.0.0.5:5432", host="10.0.0.5", port=5432, user="mon", dsn="host=10.0.0.5")
    text = explain_connect_error(psycopg.OperationalError(message), target, 3.0)
    assert text == expected and "\n" not in text


def test_poll_sql_speaks_each_version() -> None:
    new = poll_sql(150006, stats=True, sizes=True)
    old = poll_sql(120010, stats=False, sizes=False)
    assert "pg_get_wal_replay_pause_state" in new and "flushed_lsn" in new and "pg_database_size" in new
    assert "pg_is_wal_replay_paused" in old and "received_lsn" in old and "pg_stat_database" not in old
    assert new.startswith("/* stacktop */") and "%" not in new.replace("%%", "")
    assert "total_exec_time" in statements_sql("public", "1.10")
    assert "total_time" in statements_sql('we"ird', "1.7") and '"we""ird".pg_stat_statements' in \
        statements_sql('we"ird', "1.7")


# ------------------------------------------------------------------ topology

def test_replica_matched_by_slot_takes_the_senders_view_of_lag() -> None:
    reads = [primary(senders=[row(slot="r1", lag=8192, replay_lag=1.5, sync="sync")]),
             replica(R1, sender=P, slot="r1", replay="0/4000000")]
    reading, memory = assemble(reads, {})
    p, r = by_name(reading)[P], by_name(reading)[R1]
    assert reading.leader == P and reading.problems == ()
    assert (p.role, p.upstream, p.timeline, p.lag_bytes) == (PRIMARY, None, 2, None)
    assert (r.role, r.upstream, r.replicating) == (SYNC_REPLICA, P, True)
    assert (r.lag_bytes, r.lag_seconds) == (8192, 1.5)
    assert dict(r.details)["sync state"] == "sync"
    assert memory == {R1: Identity(P, "r1", None)}
    assert len(reading.members) == 2


def test_caught_up_replica_has_zero_lag_seconds_whatever_replay_lag_says() -> None:
    reads = [primary(senders=[row(lag=0, replay_lag=0.8)]), replica(R1, sender=P)]
    r = by_name(assemble(reads, {})[0])[R1]
    assert (r.lag_bytes, r.lag_seconds) == (0, 0.0)


def test_without_the_senders_view_lag_is_upstream_lsn_minus_replay() -> None:
    # Two unnamed connections, two replicas without slots: no row can be paired; LSNs still tell.
    reads = [primary(lsn="0/5000100", senders=[row(port=1), row(port=2)]),
             replica(R1, sender=P, replay="0/5000000"), replica(R2, sender=P, replay="0/5000100")]
    reading, _ = assemble(reads, {})
    members = by_name(reading)
    assert (members[R1].lag_bytes, members[R1].lag_seconds) == (0x100, None)
    assert (members[R2].lag_bytes, members[R2].lag_seconds) == (0, 0.0)
    assert members[R1].replicating is True
    assert not any(m.discovered for m in reading.members)  # not listed twice
    assert any("cannot tell which replication connections" in p for p in reading.problems)


def test_single_unnamed_connection_pairs_with_the_single_replica() -> None:
    reads = [primary(senders=[row(lag=10, replay_lag=0.2)]), replica(R1, sender=P)]
    r = by_name(assemble(reads, {})[0])[R1]
    assert (r.lag_bytes, r.lag_seconds, r.replicating) == (10, 0.2, True)


def test_replicas_matched_by_slot_among_several_unnamed_connections() -> None:
    reads = [primary(senders=[row(port=1, slot="s_b", lag=5), row(port=2, slot="s_a", lag=7)]),
             replica(R1, sender=P, slot="s_a"), replica(R2, sender=P, slot="s_b")]
    reading, _ = assemble(reads, {})
    members = by_name(reading)
    assert (members[R1].lag_bytes, members[R2].lag_bytes) == (7, 5)
    assert reading.problems == ()


def test_replica_matched_by_application_name() -> None:
    reads = [primary(senders=[row(app="db3", port=1, lag=5), row(app="db2", port=2, lag=7)]),
             replica(R1, sender=P, app="db2"), replica(R2, sender=P, app="db3")]
    members = by_name(assemble(reads, {})[0])
    assert (members[R1].lag_bytes, members[R2].lag_bytes) == (7, 5)


def test_replica_missing_from_a_reachable_upstreams_list_is_not_replicating() -> None:
    reads = [primary(senders=[]), replica(R1, sender=None, status=None, conf_sender=P)]
    r = by_name(assemble(reads, {})[0])[R1]
    assert (r.upstream, r.replicating, r.state) == (P, False, "not streaming")
    assert dict(r.details)["sender state"] == f"not in {P}'s pg_stat_replication"


def test_sender_listing_the_replica_as_catching_up_means_not_replicating() -> None:
    reads = [primary(senders=[row(slot="r1", state="catchup", lag=99)]), replica(R1, sender=P, slot="r1")]
    assert by_name(assemble(reads, {})[0])[R1].replicating is False


def test_paused_replay_shows_in_state_but_still_replicates() -> None:
    reads = [primary(senders=[row(lag=500, replay_lag=3.0)]), replica(R1, sender=P, paused="paused")]
    r = by_name(assemble(reads, {})[0])[R1]
    assert (r.state, r.replicating, r.lag_seconds) == ("replay paused", True, 3.0)


def test_replica_of_an_unreachable_upstream_keeps_its_upstream_and_unknown_lag() -> None:
    reads = [unreachable(P), replica(R1, sender=None, status=None, conf_sender=P)]
    reading, _ = assemble(reads, {})
    p, r = by_name(reading)[P], by_name(reading)[R1]
    assert (p.reachable, p.state, p.role, p.error) == (False, "unreachable", UNKNOWN, "connection refused")
    assert (r.upstream, r.lag_bytes, r.replicating) == (P, None, False)
    assert reading.leader is None
    assert reading.problems == ("no primary: every reachable member is in recovery",)


def test_cascading_replica_streams_from_a_replica() -> None:
    reads = [primary(senders=[row(addr="10.0.0.2", slot="r1")]),
             replica(R1, sender=P, slot="r1", senders=[row(addr="10.0.0.3", slot="r2", lag=40)]),
             replica(R2, sender=R1, slot="r2")]
    reading, _ = assemble(reads, {})
    members = by_name(reading)
    assert (members[R1].upstream, members[R2].upstream) == (P, R1)
    assert members[R2].lag_bytes == 40
    assert len(reading.members) == 3


def test_localhost_and_127_0_0_1_are_the_same_upstream() -> None:
    reads = [primary("127.0.0.1:5440", senders=[row(addr="127.0.0.1")]),
             replica("localhost:5441", sender="localhost:5440")]
    assert by_name(assemble(reads, {})[0])["localhost:5441"].upstream == "127.0.0.1:5440"


def test_unconfigured_replicas_are_discovered_with_the_senders_view() -> None:
    reads = [primary(senders=[row(app="reporting", addr="10.0.0.7", lag=300, replay_lag=0.4),
                              row(app="walreceiver", addr="10.0.0.8", port=41000, slot="dr_slot",
                                  sync="sync"),
                              row(app="walreceiver", addr="10.0.0.9", port=42000, state="catchup"),
                              row(app="sub1", logical=True), row(app="pg_basebackup", state="backup")])]
    reading, _ = assemble(reads, {})
    found = {m.name: m for m in reading.members if m.discovered}
    assert set(found) == {"reporting", "dr_slot", "10.0.0.9:42000"}
    assert (found["reporting"].upstream, found["reporting"].lag_bytes, found["reporting"].lag_seconds) == \
        (P, 300, 0.4)
    assert found["dr_slot"].role == SYNC_REPLICA and found["reporting"].role == REPLICA
    assert (found["10.0.0.9:42000"].state, found["10.0.0.9:42000"].replicating) == ("catchup", False)
    assert found["reporting"].host == "10.0.0.7" and found["reporting"].port is None
    assert isinstance(found["reporting"].details, tuple)
    details = dict(by_name(reading)[P].details)
    assert details["WAL senders"] == "5"
    assert any(v.startswith("logical") for v in details.values())


def test_unreachable_replica_still_streaming_is_recognised_not_discovered() -> None:
    memory = {R1: Identity(P, "r1", None)}
    reads = [primary(senders=[row(slot="r1", lag=64)]), unreachable(R1, "no answer")]
    reading, new_memory = assemble(reads, memory)
    r = by_name(reading)[R1]
    assert not any(m.discovered for m in reading.members)
    assert (r.reachable, r.upstream, r.error) == (False, P, "no answer")
    assert dict(r.details)["seen by upstream"] == "streaming, 64 B behind"
    assert new_memory == memory


def test_two_primaries_lead_by_timeline_and_say_split_brain() -> None:
    reads = [primary(P, timeline=3), primary(R1, timeline=4)]
    reading, _ = assemble(reads, {})
    assert reading.leader == R1
    assert reading.problems == (f"two primaries: {R1} (timeline 4), {P} (timeline 3) — split brain: "
                                "fence the stale one",)


def test_standby_cluster_leader_streams_from_outside() -> None:
    reads = [replica(R1, sender="192.168.9.9:5432", senders=[row(addr="10.0.0.3")]),
             replica(R2, sender=R1)]
    reading, _ = assemble(reads, {})
    members = by_name(reading)
    assert members[R1].role == STANDBY_LEADER and reading.leader == R1
    assert members[R2].role == REPLICA and members[R2].upstream == R1
    assert dict(members[R1].details)["upstream"] == "not a configured member"


def test_query_error_member_is_reachable_with_its_error() -> None:
    failed = MemberRead(P, "10.0.0.1", 5432, error="permission denied")
    reading, _ = assemble([failed], {})
    m = reading.members[0]
    assert (m.reachable, m.state, m.role, m.error) == (True, "error", UNKNOWN, "permission denied")

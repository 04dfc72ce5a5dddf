"""The MySQL/MariaDB collector against a real MariaDB primary + replica, logged in as a
monitoring user that has only the GRANTs the collector's docstring lists."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

import pymysql
import pytest

from providers.ha.model import PRIMARY, REPLICA, UNKNOWN, Member, Reading
from providers.ha.mysql import MARIADB_MONITOR_GRANTS, MysqlCollector
from tests.support.mariadb import (  # noqa: F401
    MariadbPair,
    healthy_mariadb_pair,
    mariadb_pair,
)

pytestmark = pytest.mark.integration


def collector_for(pair: MariadbPair, password: str | None = None) -> MysqlCollector:
    return MysqlCollector(pair.dsns, flavor="mariadb",
                          password=pair.monitor_password if password is None else password,
                          connect_timeout=3.0, statement_timeout=5.0)


@pytest.fixture
def pair(healthy_mariadb_pair: MariadbPair) -> MariadbPair:  # noqa: F811
    """The session's pair, up and replicating."""
    return healthy_mariadb_pair


@pytest.fixture
async def collector(pair: MariadbPair) -> AsyncIterator[MysqlCollector]:
    c = collector_for(pair)
    try:
        yield c
    finally:
        await c.close()


def member(reading: Reading, name: str) -> Member:
    found = next((m for m in reading.members if m.name == name), None)
    assert found is not None, f"{name} not in {[m.name for m in reading.members]}"
    return found


async def read_until(c: MysqlCollector, check: Callable[[Reading], bool], what: str,
                     timeout: float = 20.0) -> Reading:
    """Poll the collector until `check` holds for a reading (a real server changes on its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        reading = await c.read()
        if check(reading):
            return reading
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {timeout:g} s: {what}; last reading: {reading}")
        await asyncio.sleep(0.1)


def one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text and len(text) <= 300


def test_monitor_user_has_only_the_documented_grants(pair: MariadbPair) -> None:
    rows = [r[0] for r in pair.execute("primary", f"SHOW GRANTS FOR '{pair.monitor_user}'@'127.0.0.1'")]
    assert len(rows) == 1, rows  # no grant on any database or table
    granted = {p.strip() for p in rows[0].split(" ON *.* ", 1)[0].removeprefix("GRANT ").split(",")}
    # MariaDB 10.5+ shows REPLICATION CLIENT under its new name.
    documented = {"BINLOG MONITOR" if p == "REPLICATION CLIENT" else p for p in MARIADB_MONITOR_GRANTS}
    assert granted == documented


async def test_topology_primary_and_streaming_replica(pair: MariadbPair,
                                                      collector: MysqlCollector) -> None:
    reading = await collector.read()
    primary, replica = member(reading, pair.names["primary"]), member(reading, pair.names["replica"])

    assert reading.leader == primary.name
    assert reading.problems == ()
    assert (primary.role, primary.reachable, primary.upstream, primary.error) == (PRIMARY, True, None, "")
    assert replica.role == REPLICA
    assert replica.upstream == primary.name
    assert replica.state == "streaming" and replica.replicating is True
    assert replica.lag_seconds == 0.0
    assert replica.lag_bytes == 0
    assert replica.error == ""
    details = dict(replica.details)
    assert details["io thread"].startswith("Yes") and details["sql thread"].startswith("Yes")
    assert details["seconds behind"] == "0"
    assert details["gtid_slave_pos"] == pair.scalar("primary", "SELECT @@gtid_binlog_pos")
    assert details["read_only"] == "ON" and dict(primary.details)["read_only"] == "OFF"
    # The minimal GRANTs are enough for everything but performance_schema's digests.
    for m in (primary, replica):
        notes = [v for k, v in m.details if k == "not read"]
        assert notes == [], notes


async def test_writes_on_the_primary_advance_the_replica_gtid(pair: MariadbPair,
                                                              collector: MysqlCollector) -> None:
    before = await collector.read()
    replica_before = dict(member(before, pair.names["replica"]).details)["gtid_slave_pos"]

    pair.execute("primary", "CREATE DATABASE IF NOT EXISTS app; "
                            "CREATE TABLE IF NOT EXISTS app.t (id INT PRIMARY KEY AUTO_INCREMENT, v TEXT); "
                            "INSERT INTO app.t (v) VALUES ('a'), ('b'), ('c')")
    wrote = pair.scalar("primary", "SELECT @@gtid_binlog_pos")
    assert wrote != replica_before

    def replica_has_it(r: Reading) -> bool:
        return dict(member(r, pair.names["replica"]).details).get("gtid_slave_pos") == wrote

    after = await read_until(collector, replica_has_it, f"the replica applying GTID {wrote}")
    primary = member(after, pair.names["primary"])
    assert dict(primary.details)["gtid_binlog_pos"] == wrote
    assert member(after, pair.names["replica"]).replicating is True


async def test_conflicting_statement_breaks_replication_visibly(pair: MariadbPair,
                                                                collector: MysqlCollector) -> None:
    await collector.read()
    try:
        pair.break_replication()
        reading = await collector.read()
        replica = member(reading, pair.names["replica"])
        assert replica.role == REPLICA and replica.upstream == pair.names["primary"]
        assert replica.replicating is False
        assert replica.state == "io: Yes, sql: No"
        assert replica.lag_seconds is None  # Seconds_Behind_Master is NULL with the SQL thread stopped
        assert one_line(replica.error) and "1396" in replica.error
        assert "sql thread error 1396" in replica.error
        assert dict(replica.details)["last sql error"].startswith("1396:")
        primary = member(reading, pair.names["primary"])
        assert primary.role == PRIMARY and reading.leader == primary.name
    finally:
        pair.repair_replication()
    repaired = await read_until(collector, lambda r: member(r, pair.names["replica"]).replicating is True,
                                "replication streaming again after the repair")
    assert member(repaired, pair.names["replica"]).error == ""


async def test_stopped_replica_is_unreachable_and_the_primary_still_read(
        pair: MariadbPair, collector: MysqlCollector) -> None:
    await collector.read()  # the kept connections exist; the stop breaks one of them
    try:
        pair.stop("replica")
        reading = await collector.read()
        replica = member(reading, pair.names["replica"])
        assert (replica.reachable, replica.state, replica.role) == (False, "unreachable", UNKNOWN)
        assert replica.error == (f"cannot connect to {replica.name}: connection refused "
                                 "— is MariaDB running?")
        primary = member(reading, pair.names["primary"])
        assert primary.reachable and primary.role == PRIMARY and primary.stats is not None
        assert reading.leader == primary.name
    finally:
        pair.start("replica")
    back = await read_until(collector, lambda r: member(r, pair.names["replica"]).state == "streaming",
                            "the restarted replica read again and streaming")
    assert member(back, pair.names["replica"]).error == ""


async def test_replica_detached_and_then_writable(pair: MariadbPair,
                                                  collector: MysqlCollector) -> None:
    try:
        pair.detach_replica()
        reading = await collector.read()
        standalone = member(reading, pair.names["replica"])
        assert (standalone.role, standalone.state) == (UNKNOWN, "read-only, not replicating")
        assert reading.problems == () and reading.leader == pair.names["primary"]

        pair.execute("replica", "SET GLOBAL read_only = OFF")
        reading = await collector.read()
        assert {m.role for m in reading.members} == {PRIMARY}
        assert len(reading.problems) == 1
        assert "2 writable primaries" in reading.problems[0]
        assert pair.names["primary"] in reading.problems[0] and pair.names["replica"] in reading.problems[0]
    finally:
        pair.attach_replica()


async def test_stats_follow_the_load(pair: MariadbPair, collector: MysqlCollector) -> None:
    name = pair.names["primary"]
    first = member(await collector.read(), name).stats
    assert first is not None
    assert first.max_connections == 60 and first.connections is not None and first.connections >= 2
    assert first.threads_running is not None and first.threads_running >= 1
    assert dict(first.by_state).get("replication") == 1  # the replica's binlog dump thread
    assert first.cache_hit_ratio is not None and 0.0 < first.cache_hit_ratio <= 1.0
    assert "mysql" in dict(first.database_sizes)
    assert first.statements_note.startswith("performance_schema is OFF")

    conn = pair.connect("primary")
    try:
        with conn.cursor() as cur:
            for _ in range(100):
                cur.execute("SELECT 1")
    finally:
        conn.close()
    second = member(await collector.read(), name).stats
    assert second is not None
    assert dict(second.counters)["queries"] - dict(first.counters)["queries"] >= 100
    assert "slow_queries" in dict(second.counters)


async def test_long_query_and_lock_wait_are_shown(pair: MariadbPair,
                                                  collector: MysqlCollector) -> None:
    name = pair.names["primary"]
    pair.execute("primary", "CREATE DATABASE IF NOT EXISTS app; "
                            "CREATE TABLE IF NOT EXISTS app.locks (id INT PRIMARY KEY, v INT); "
                            "INSERT IGNORE INTO app.locks VALUES (1, 0)")
    holder = pair.connect("primary")
    waiter = pair.connect("primary")
    errors: list[BaseException] = []

    def wait_for_lock() -> None:
        try:
            with waiter.cursor() as cur:
                cur.execute("SET SESSION innodb_lock_wait_timeout = 30")
                cur.execute("UPDATE app.locks SET v = v + 1 WHERE id = 1")
        except pymysql.err.MySQLError as exc:
            errors.append(exc)

    thread = threading.Thread(target=wait_for_lock, daemon=True)
    try:
        with holder.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("UPDATE app.locks SET v = v + 1 WHERE id = 1")
        thread.start()

        def blocked(r: Reading) -> bool:
            s = member(r, name).stats
            return s is not None and (s.lock_waiting or 0) >= 1 and "UPDATE app.locks" in s.longest_query

        reading = await read_until(collector, blocked, "the waiting UPDATE as a lock wait and longest query")
        stats = member(reading, name).stats
        assert stats is not None and stats.longest_query_s is not None and stats.longest_query_s >= 0.0
        assert stats.longest_xact_s is not None and stats.longest_xact_s >= 0
        assert "PROCESSLIST" not in stats.longest_query  # never the collector's own query
    finally:
        holder.rollback()
        holder.close()
        thread.join(30)
        waiter.close()
    assert not errors, errors


async def test_wrong_password_is_one_line_without_the_password(pair: MariadbPair) -> None:
    wrong = "not-the-password-1234"
    c = collector_for(pair, password=wrong)
    try:
        reading = await c.read()
    finally:
        await c.close()
    assert reading.leader is None
    for m in reading.members:
        assert (m.reachable, m.state, m.role) == (False, "access denied", UNKNOWN)
        assert m.error == ("access denied for monitor@127.0.0.1 — check ha.clusters[].mariadb.password "
                           "and the GRANT (REPLICATION CLIENT, PROCESS, SLAVE MONITOR on MariaDB)")
    assert wrong not in repr(reading) and wrong not in repr(c)
    assert pair.monitor_password not in repr(collector_for(pair))


async def test_members_are_read_concurrently_within_the_timeouts(pair: MariadbPair,
                                                                 collector: MysqlCollector) -> None:
    await collector.read()
    started = time.perf_counter()
    reading = await collector.read()
    elapsed = time.perf_counter() - started
    assert all(m.reachable for m in reading.members)
    assert elapsed < 1.0, f"a poll of two local members took {elapsed:.3f} s"
    for m in reading.members:
        assert float(dict(m.details)["read time"].split()[0]) > 0.0


async def test_frozen_replica_is_cut_off_by_the_timeouts(pair: MariadbPair) -> None:
    c = MysqlCollector(pair.dsns, flavor="mariadb", password=pair.monitor_password,
                       connect_timeout=1.0, statement_timeout=1.0)
    try:
        await c.read()
        pair.freeze("replica")
        try:
            started = time.perf_counter()
            kept = await c.read()  # the kept connection hangs: the statement timeout ends it
            elapsed_kept = time.perf_counter() - started
            started = time.perf_counter()
            fresh = await c.read()  # a new connection gets no handshake: the connect timeout ends it
            elapsed_fresh = time.perf_counter() - started
        finally:
            pair.thaw("replica")
    finally:
        await c.close()
    replica = member(kept, pair.names["replica"])
    assert (replica.reachable, replica.state) == (False, "not answering")
    assert replica.error == f"{replica.name} did not answer within 1 s"
    assert elapsed_kept < 3.0
    replica = member(fresh, pair.names["replica"])
    assert (replica.reachable, replica.state) == (False, "unreachable")
    assert replica.error == (f"cannot connect to {replica.name}: no answer within 1 s "
                             "— check the host, port and firewall")
    assert elapsed_fresh < 3.0
    for reading in (kept, fresh):
        assert member(reading, pair.names["primary"]).role == PRIMARY


async def test_missing_slave_monitor_grant_leaves_the_role_unknown(pair: MariadbPair) -> None:
    pair.execute("primary", "CREATE USER IF NOT EXISTS 'weak'@'127.0.0.1' IDENTIFIED BY 'weak-pass'; "
                            "GRANT PROCESS ON *.* TO 'weak'@'127.0.0.1'")
    pair.wait_replicated()
    dsns = [d.replace(f"{pair.monitor_user}@", "weak@") for d in pair.dsns]
    c = MysqlCollector(dsns, flavor="mariadb", password="weak-pass", connect_timeout=3.0,
                       statement_timeout=5.0)
    try:
        reading = await c.read()
    finally:
        await c.close()
    for m in reading.members:
        assert m.reachable and m.role == UNKNOWN
        assert m.error == ("access denied for SHOW REPLICA STATUS — GRANT SLAVE MONITOR ON *.* TO "
                           "weak@127.0.0.1 (without it the role is unknown)")
        assert ("not read", "no binlog position (lag in bytes): GRANT REPLICATION CLIENT") in m.details
        assert m.stats is not None and m.stats.connections is not None
    assert reading.leader is None


async def test_older_spellings_are_learnt_from_the_server(pair: MariadbPair) -> None:
    """A MySQL-dialect plan sent to MariaDB meets unknown variables, tables it may not read and
    statements MariaDB spells differently: the batch falls back and still reads the topology."""
    from providers.ha.mysql import build_plan

    c = collector_for(pair)
    try:
        await c.read()
        for session in c._sessions:  # what a MySQL server would be asked
            session.plan = build_plan("mysql", stats=True)
        reading = await c.read()
        again = await c.read()
    finally:
        await c.close()
    for r in (reading, again):
        assert member(r, pair.names["replica"]).upstream == pair.names["primary"]
        assert member(r, pair.names["replica"]).state == "streaming"
        assert r.leader == pair.names["primary"]
    plan = {q.key: q for q in c._sessions[0].plan}
    assert plan["vars"].choice == 1  # @@super_read_only is unknown to MariaDB
    assert plan["group"].dropped


async def test_a_read_cancelled_mid_answer_leaves_the_next_read_right(pair: MariadbPair) -> None:
    """The runtime's per-poll timeout cancels a read; the half-read connection must not serve
    the next poll."""
    c = collector_for(pair)
    try:
        await c.read()
        pair.freeze("replica")
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(c.read(), 0.3)
        finally:
            pair.thaw("replica")
        pair.execute("primary", "CREATE DATABASE IF NOT EXISTS after_cancel")
        wrote = pair.scalar("primary", "SELECT @@gtid_binlog_pos")
        reading = await read_until(
            c, lambda r: dict(member(r, pair.names["replica"]).details).get("gtid_slave_pos") == wrote,
            "the replica read again after the cancelled poll")
    finally:
        await c.close()
    replica = member(reading, pair.names["replica"])
    assert replica.reachable and replica.state == "streaming" and replica.error == ""

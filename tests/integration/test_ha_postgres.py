"""The PostgreSQL collector against a real primary + streaming replica (Debian's PostgreSQL 15).

The collector logs in as a role that has only pg_monitor, as the module docstring tells
operators to set up. Waiting on the servers is polling the collector with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import psycopg
import pytest

from providers.ha.model import PRIMARY, REPLICA, UNKNOWN, Member, Reading
from providers.ha.pg_queries import PGSS_MISSING
from providers.ha.postgres import PostgresCollector
from tests.support.pg import MONITOR_PASSWORD, PgPair, free_port, pg_pair, wait_until  # noqa: F401

pytestmark = pytest.mark.integration


def make(dsns: list[str] | tuple[str, ...], password: str | None = MONITOR_PASSWORD, *,
         connect_timeout: float = 3.0, stats: bool = True) -> PostgresCollector:
    return PostgresCollector(dsns, password=password, connect_timeout=connect_timeout,
                             statement_timeout=5.0, stats=stats)


@pytest.fixture
async def collector(pg_pair: PgPair) -> AsyncIterator[PostgresCollector]:  # noqa: F811
    pg_pair.ensure_healthy()  # whatever an earlier failure left behind
    c = make(pg_pair.dsns)
    try:
        yield c
    finally:
        await c.close()


def member(reading: Reading, name: str) -> Member:
    found = [m for m in reading.members if m.name == name]
    assert found, f"{name} not in {[m.name for m in reading.members]}"
    return found[0]


async def read_until(c: PostgresCollector, check: Callable[[Reading], Any], *, timeout: float = 20.0,
                     what: str = "condition") -> Reading:
    """Poll the collector until `check(reading)` holds (a real server changes in its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        reading = await c.read()
        if check(reading):
            return reading
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; "
                        f"last members: {reading.members}")
        await asyncio.sleep(0.2)


# ------------------------------------------------------------------ topology

async def test_topology_primary_and_streaming_replica(pg_pair: PgPair,  # noqa: F811
                                                      collector: PostgresCollector) -> None:
    primary, replica = pg_pair.name("primary"), pg_pair.name("replica")
    reading = await read_until(collector, lambda r: member(r, replica).lag_bytes == 0,
                               what="the replica to have replayed everything")
    p, r = member(reading, primary), member(reading, replica)
    assert [m.name for m in reading.members] == [primary, replica]
    assert reading.leader == primary and reading.problems == ()
    assert (p.role, p.state, p.reachable, p.upstream, p.timeline) == (PRIMARY, "running", True, None, 1)
    assert (r.role, r.state, r.upstream, r.timeline) == (REPLICA, "streaming", primary, 1)
    assert (r.replicating, p.error, r.error) == (True, "", "")
    assert r.lag_seconds == 0.0
    assert not any(m.discovered for m in reading.members)
    r_details, p_details = dict(r.details), dict(p.details)
    assert r_details["sender"] == f"127.0.0.1:{pg_pair.ports['primary']}"
    assert r_details["slot"] == "replica1" and r_details["sync state"] == "async"
    assert p_details["slot replica1"].startswith("physical, active")
    assert "poll time" in p_details and "poll time" in r_details


async def test_monitor_role_sees_what_a_superuser_sees(pg_pair: PgPair,  # noqa: F811
                                                       collector: PostgresCollector) -> None:
    """pg_monitor is enough: no column comes back hidden (pg_stat_replication and the WAL
    receiver show NULLs, not errors, to roles without it)."""
    roles = pg_pair.execute("primary", "SELECT r.rolsuper, array(SELECT b.rolname FROM pg_auth_members m "
                                       "JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid) "
                                       "FROM pg_roles r WHERE rolname = %s", (pg_pair.monitor_user,))
    assert roles == [(False, ["pg_monitor"])]
    superuser = make([pg_pair.dsn(m, user="postgres") for m in ("primary", "replica")], password=None)
    try:
        ours, theirs = await collector.read(), await superuser.read()
    finally:
        await superuser.close()

    def shape(m: Member) -> tuple[Any, ...]:
        stats = m.stats
        assert stats is not None
        return (m.name, m.role, m.state, m.upstream, m.timeline, m.replicating, m.error,
                sorted(label for label, _ in m.details), stats.max_connections, len(stats.database_sizes),
                stats.cache_hit_ratio is not None, stats.statements_note)

    assert [shape(m) for m in ours.members] == [shape(m) for m in theirs.members]
    replica = member(ours, pg_pair.name("replica"))
    assert dict(replica.details)["write / flush / replay lag"]  # the sender's columns were visible
    assert replica.replicating is True and replica.lag_bytes is not None


async def test_writes_show_byte_lag_while_replay_is_paused(pg_pair: PgPair,  # noqa: F811
                                                           collector: PostgresCollector) -> None:
    replica = pg_pair.name("replica")
    pg_pair.execute("primary", "CREATE TABLE IF NOT EXISTS stk_lag (id int, pad text)")
    pg_pair.wait_streaming()
    with pg_pair.replay_paused():
        pg_pair.execute("primary", "INSERT INTO stk_lag SELECT g, repeat('x', 100) "
                                   "FROM generate_series(1, 5000) g")
        reading = await read_until(collector, lambda r: (member(r, replica).lag_bytes or 0) > 100_000,
                                   what="byte lag on the paused replica")
        r = member(reading, replica)
        assert r.state == "replay paused"
        assert r.replicating is True  # still receiving WAL: only replay waits
        # Seconds come from the sender's replay_lag, which grows while replay is stuck.
        reading = await read_until(collector, lambda r: (member(r, replica).lag_seconds or 0) > 0.5,
                                   what="lag in seconds to grow while replay is paused")
    reading = await read_until(collector, lambda r: member(r, replica).lag_bytes == 0,
                               what="the replica to catch up after resume")
    r = member(reading, replica)
    assert (r.state, r.lag_seconds, r.replicating) == ("streaming", 0.0, True)


async def test_idle_pair_shows_no_lag_in_seconds(pg_pair: PgPair,  # noqa: F811
                                                 collector: PostgresCollector) -> None:
    """pg_last_xact_replay_timestamp() grows while the primary is idle; the collector's lag does not."""
    pg_pair.execute("primary", "CREATE TABLE IF NOT EXISTS stk_idle (id int)")
    pg_pair.execute("primary", "INSERT INTO stk_idle VALUES (1)")
    pg_pair.wait_streaming()
    wait_until(lambda: pg_pair.execute("replica", "SELECT now() - pg_last_xact_replay_timestamp() "
                                                  "> interval '1.5 s'")[0][0],
               what="the last replayed transaction to be 1.5 s old")
    reading = await collector.read()
    r = member(reading, pg_pair.name("replica"))
    assert (r.lag_bytes, r.lag_seconds) == (0, 0.0)


async def test_stopped_replica_turns_unreachable_and_leaves_the_primarys_view(
        pg_pair: PgPair, collector: PostgresCollector) -> None:  # noqa: F811
    primary, replica = pg_pair.name("primary"), pg_pair.name("replica")
    await read_until(collector, lambda r: member(r, replica).replicating is True, what="streaming")
    with pg_pair.stopped("replica"):
        # The primary's walsender ends when the replica's connection closes: a moment later.
        reading = await read_until(
            collector, lambda r: not member(r, replica).reachable
            and dict(member(r, primary).details)["WAL senders"] == "0",
            what="the replica to turn unreachable and leave the primary's list")
        r, p = member(reading, replica), member(reading, primary)
        assert (r.state, r.role, r.replicating) == ("unreachable", UNKNOWN, None)
        assert r.error == f"connection refused at {replica} — is PostgreSQL running?"
        # The primary, read in the same poll, no longer lists it (and invents no stranger for it).
        assert (p.role, p.reachable, reading.leader) == (PRIMARY, True, primary)
        assert dict(p.details)["slot replica1"].startswith("physical, inactive, retains")
        assert not any(m.discovered for m in reading.members)
    # The collector's old connection died with the server: it reconnects by itself.
    reading = await read_until(collector, lambda r: member(r, replica).replicating is True,
                               what="the restarted replica to stream again")
    assert member(reading, replica).upstream == primary


async def test_replica_whose_wal_receiver_cannot_connect_is_not_replicating(
        pg_pair: PgPair, collector: PostgresCollector) -> None:  # noqa: F811
    primary, replica = pg_pair.name("primary"), pg_pair.name("replica")
    with pg_pair.replication_broken():
        reading = await read_until(collector, lambda r: member(r, replica).replicating is False,
                                   what="replication to be reported broken")
        r = member(reading, replica)
        assert r.reachable and r.role == REPLICA and r.error == ""
        assert r.upstream == primary  # from primary_conninfo, while there is no WAL receiver
        assert dict(r.details)["sender state"] == f"not in {primary}'s pg_stat_replication"
    await read_until(collector, lambda r: member(r, replica).replicating is True, what="replication repaired")


# --------------------------------------------------------------------- stats

async def test_transaction_and_row_counters_rise_under_load(pg_pair: PgPair,  # noqa: F811
                                                            collector: PostgresCollector) -> None:
    primary = pg_pair.name("primary")

    def counters(reading: Reading) -> dict[str, float]:
        stats = member(reading, primary).stats
        assert stats is not None
        return dict(stats.counters)

    before = counters(await collector.read())
    with pg_pair.connect("primary") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS stk_load (id int)")
        for i in range(300):  # 300 short transactions (autocommit)
            conn.execute("INSERT INTO stk_load VALUES (%s)", (i,))
    after = counters(await collector.read())
    assert after["xact"] - before["xact"] >= 300
    assert after["rows"] - before["rows"] >= 300
    stats = member(await collector.read(), primary).stats
    assert stats is not None and stats.cache_hit_ratio is not None and 0.5 < stats.cache_hit_ratio <= 1.0
    assert stats.max_connections == 40 and stats.connections is not None
    assert "postgres" in dict(stats.database_sizes)


@contextlib.contextmanager
def scratch_database(pair: PgPair) -> Iterator[str]:
    name = f"stk_{uuid.uuid4().hex[:8]}"
    pair.execute("primary", f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        pair.execute("primary", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_top_statements_after_create_extension(pg_pair: PgPair) -> None:  # noqa: F811
    with scratch_database(pg_pair) as db:
        c = make([pg_pair.dsn("primary", dbname=db)])
        try:
            stats = member(await c.read(), pg_pair.name("primary")).stats
            assert stats is not None
            assert (stats.top_statements, stats.statements_note) == ((), PGSS_MISSING)

            pg_pair.execute("primary", "CREATE EXTENSION pg_stat_statements", dbname=db)
            for _ in range(3):
                pg_pair.execute("primary", "SELECT 'stk-heavy', count(*) FROM generate_series(1, 300000)",
                                dbname=db)
            stats = member(await c.read(), pg_pair.name("primary")).stats
            assert stats is not None and stats.statements_note == ""
            heavy = [s for s in stats.top_statements if "generate_series" in s.query and "$" in s.query]
            assert heavy, stats.top_statements
            assert heavy[0].calls >= 3 and heavy[0].total_ms > 0
            top = heavy[0]
            assert abs(top.mean_ms * top.calls - top.total_ms) < 0.01 * top.total_ms + 0.01
            assert len(stats.top_statements) <= 10
            # Its own polling never shows up among the top statements.
            assert not any("stacktop" in s.query for s in stats.top_statements)
        finally:
            await c.close()


async def test_session_waiting_on_a_lock_is_visible(pg_pair: PgPair,  # noqa: F811
                                                    collector: PostgresCollector) -> None:
    primary = pg_pair.name("primary")
    pg_pair.execute("primary", "CREATE TABLE IF NOT EXISTS stk_locked (id int)")
    dsn = pg_pair.dsn("primary", user="postgres")
    holder = await psycopg.AsyncConnection.connect(dsn)
    waiter = await psycopg.AsyncConnection.connect(dsn, autocommit=True, options="-c statement_timeout=30000")
    blocked: asyncio.Task[Any] | None = None
    try:
        await holder.execute("LOCK TABLE stk_locked IN ACCESS EXCLUSIVE MODE")  # transaction left open
        blocked = asyncio.create_task(waiter.execute("SELECT count(*) FROM stk_locked /* stk-waiter */"))
        reading = await read_until(collector, lambda r: lock_waiting(r, primary) >= 1,
                                   what="a session waiting on a lock")
        stats = member(reading, primary).stats
        assert stats is not None
        assert "stk-waiter" in stats.longest_query and "\n" not in stats.longest_query
        assert stats.longest_query_s is not None and stats.longest_query_s >= 0
        assert stats.longest_xact_s is not None and stats.longest_xact_s > 0
        assert dict(stats.by_state).get("idle in transaction", 0) >= 1
        await holder.rollback()
        await asyncio.wait_for(blocked, 10)
        reading = await collector.read()
        assert lock_waiting(reading, primary) == 0
    finally:
        if blocked is not None and not blocked.done():
            blocked.cancel()
            with contextlib.suppress(BaseException):
                await blocked
        await holder.close()
        await waiter.close()


def lock_waiting(reading: Reading, name: str) -> int:
    stats = member(reading, name).stats
    assert stats is not None and stats.lock_waiting is not None
    return stats.lock_waiting


async def test_stats_off_reads_topology_only(pg_pair: PgPair) -> None:  # noqa: F811
    c = make(pg_pair.dsns, stats=False)
    try:
        reading = await c.read()
    finally:
        await c.close()
    assert [m.stats for m in reading.members] == [None, None]
    assert member(reading, pg_pair.name("replica")).upstream == pg_pair.name("primary")


# -------------------------------------------------------------------- errors

async def test_wrong_port_is_one_line_and_the_others_still_read(pg_pair: PgPair) -> None:  # noqa: F811
    port = free_port()
    c = make([*pg_pair.dsns, f"host=127.0.0.1 port={port} dbname=postgres user=stacktop_monitor"])
    try:
        reading = await c.read()
    finally:
        await c.close()
    dead = member(reading, f"127.0.0.1:{port}")
    assert (dead.reachable, dead.state, dead.role) == (False, "unreachable", UNKNOWN)
    assert dead.error == f"connection refused at 127.0.0.1:{port} — is PostgreSQL running?"
    assert member(reading, pg_pair.name("primary")).role == PRIMARY
    assert member(reading, pg_pair.name("replica")).replicating is True
    assert reading.leader == pg_pair.name("primary")


async def test_wrong_or_missing_password_names_the_setting(pg_pair: PgPair) -> None:  # noqa: F811
    # The superuser (trust) DSN still reads while the monitor role's password is wrong.
    c = make([pg_pair.dsn("primary", user="postgres"), pg_pair.dsn("replica")], password="not-the-password")
    try:
        reading = await c.read()
    finally:
        await c.close()
    bad = member(reading, pg_pair.name("replica"))
    assert (bad.reachable, bad.state) == (False, "unreachable")
    assert bad.error == ("password authentication failed for user stacktop_monitor — "
                         "check ha.clusters[].postgres.password")
    assert member(reading, pg_pair.name("primary")).role == PRIMARY
    assert "not-the-password" not in repr(c) + repr(reading)

    c = make([pg_pair.dsn("primary")], password=None)
    try:
        reading = await c.read()
    finally:
        await c.close()
    assert reading.members[0].error.startswith(
        f"{pg_pair.name('primary')} asks for a password and none is set")


async def test_unknown_database_names_the_fix(pg_pair: PgPair) -> None:  # noqa: F811
    c = make([pg_pair.dsn("primary", dbname="stk_no_such_db")])
    try:
        reading = await c.read()
    finally:
        await c.close()
    where = pg_pair.name("primary")
    assert reading.members[0].error == (f"database stk_no_such_db does not exist at {where} "
                                        "— fix dbname in the DSN")


async def test_a_silent_member_costs_one_connect_timeout(pg_pair: PgPair) -> None:  # noqa: F811
    """A host that accepts TCP and never answers: the poll ends after connect_timeout, the
    other members read normally."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        c = make([*pg_pair.dsns, f"host=127.0.0.1 port={port} dbname=postgres sslmode=disable"],
                 connect_timeout=1.0)
        try:
            start = time.monotonic()
            reading = await c.read()
            elapsed = time.monotonic() - start
            # A poll cancelled half-way (the runtime's own timeout) leaves the collector usable.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(c.read(), 0.3)
            again = await c.read()
        finally:
            await c.close()
    assert elapsed < 2.5
    dead = member(reading, f"127.0.0.1:{port}")
    assert dead.error == f"no answer from 127.0.0.1:{port} within 1 s — check the host, port and firewall"
    assert member(reading, pg_pair.name("replica")).replicating is True
    assert member(again, pg_pair.name("replica")).replicating is True
    assert member(again, pg_pair.name("primary")).role == PRIMARY


async def test_no_members_is_the_only_error_read_raises() -> None:
    with pytest.raises(ValueError, match="no PostgreSQL members configured"):
        await make([]).read()

"""The `--demo` HA backend: the real collectors read the simulated Patroni cluster and
MariaDB pair as they would the real servers, act on them, and get the real servers'
errors; PyMySQL and a raw client prove the MySQL wire protocol."""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pymysql
import pytest

from config import load_settings
from config.model import HaClusterSettings, PatroniSettings
from providers.ha.model import PRIMARY, REPLICA
from providers.ha.mysql import MysqlCollector
from providers.ha.patroni import PatroniCollector, PatroniError
from tui.demo.ha_demo import MARIADB_CLUSTER, PATRONI_CLUSTER, HaDemoBackend
from tui.demo.mysql_sim import (
    CLIENT_DEPRECATE_EOF,
    CLIENT_MULTI_RESULTS,
    CLIENT_MULTI_STATEMENTS,
    CLIENT_PLUGIN_AUTH,
    CLIENT_PROTOCOL_41,
    CLIENT_SECURE_CONNECTION,
    SERVER_MORE_RESULTS_EXISTS,
    scramble_token,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def ha_demo() -> Iterator[HaDemoBackend]:
    """The backend as `--demo` runs it, but with no automatic switchover to race the tests."""
    backend = HaDemoBackend(seed=3, switchover_every=None, switchover_delay=0.2)
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture
async def patroni(ha_demo: HaDemoBackend) -> AsyncIterator[PatroniCollector]:
    collector = PatroniCollector(ha_demo.patroni_urls, username=None, password=None, timeout=5.0)
    try:
        yield collector
    finally:
        await collector.close()


def mariadb(ha_demo: HaDemoBackend, password: str | None = None) -> MysqlCollector:
    return MysqlCollector(ha_demo.mariadb_dsns, flavor="mariadb",
                          password=ha_demo.mysql.password if password is None else password,
                          connect_timeout=3.0, statement_timeout=5.0)


def port_of(dsn: str) -> int:
    return int(dsn.rsplit(":", 1)[1])


def connect(ha_demo: HaDemoBackend, which: int = 0, **kw: object) -> pymysql.connections.Connection:
    args = {"host": "127.0.0.1", "port": port_of(ha_demo.mariadb_dsns[which]), "user": "monitor",
            "password": ha_demo.mysql.password, "connect_timeout": 3, **kw}
    return pymysql.connect(**args)


# ---------------------------------------------------------------------------------- the backend


def test_backend_adds_both_clusters_and_keeps_state_in_a_temporary_directory(tmp_path) -> None:
    backend = HaDemoBackend(seed=1)
    started = time.perf_counter()
    backend.start()
    elapsed = time.perf_counter() - started
    try:
        mine = HaClusterSettings(name="mine", engine="patroni", patroni=PatroniSettings(urls=("http://x:8008",)))
        clash = HaClusterSettings(name=PATRONI_CLUSTER, engine="patroni",
                                  patroni=PatroniSettings(urls=("http://y:8008",)))
        base = load_settings(None, None)
        base = replace(base, ha=replace(base.ha, clusters=(mine, clash),
                                        timeline_file=str(tmp_path / "user-timeline.jsonl")))
        settings = backend.configure(base)
        clusters = {c.name: c for c in settings.ha.clusters}
        assert set(clusters) == {"mine", PATRONI_CLUSTER, MARIADB_CLUSTER}
        demo, shop = clusters[PATRONI_CLUSTER], clusters[MARIADB_CLUSTER]
        assert demo.engine == "patroni" and demo.patroni is not None
        assert demo.patroni.urls == backend.patroni_urls and len(demo.patroni.urls) == 3
        assert shop.engine == "mariadb" and shop.db is not None and shop.db.password
        assert all(m.startswith("mysql://monitor@127.0.0.1:") for m in shop.db.members)
        assert shop.db.password in settings.secrets
        assert all(shop.db.password not in m for m in shop.db.members)
        timeline = settings.ha.timeline_file
        assert not timeline.startswith(str(tmp_path)) and os.path.isdir(os.path.dirname(timeline))
    finally:
        backend.stop()
    assert not os.path.exists(os.path.dirname(timeline))
    assert elapsed < 5.0, f"the HA simulators took {elapsed:.2f} s to start"
    with socket.socket() as s:  # its ports are released
        assert s.connect_ex(("127.0.0.1", port_of(shop.db.members[0]))) != 0


# ---------------------------------------------------------------------------------- Patroni


async def test_patroni_collector_reads_three_members_with_a_leader(patroni: PatroniCollector) -> None:
    reading = await patroni.read()
    assert sorted(m.name for m in reading.members) == ["pg1", "pg2", "pg3"]
    assert reading.leader in {"pg1", "pg2", "pg3"}
    leader = next(m for m in reading.members if m.name == reading.leader)
    assert leader.role == PRIMARY
    replicas = [m for m in reading.members if m.name != reading.leader]
    assert all(m.role == REPLICA and m.upstream == reading.leader for m in replicas)
    assert all(m.lag_bytes is not None and m.replicating for m in replicas if m.state == "streaming")
    assert reading.history and reading.history[-1].timeline >= 2
    assert patroni.maximum_lag_on_failover == 16 * 1024 * 1024
    assert not reading.problems


async def test_switchover_through_the_collector_moves_the_leader(patroni: PatroniCollector) -> None:
    before = await patroni.read()
    candidate = next(m.name for m in before.members if m.name != before.leader and m.state == "streaming")

    text = await patroni.switchover(str(before.leader), candidate)

    assert text == f'switchover to {candidate} done: Successfully switched over to "{candidate}"'
    after = await patroni.read()
    assert after.leader == candidate
    assert len(after.history) == len(before.history) + 1
    assert after.history[-1].timeline == max(m.timeline or 0 for m in before.members)


async def test_wrong_candidate_is_refused_with_patronis_reason(patroni: PatroniCollector) -> None:
    reading = await patroni.read()
    with pytest.raises(PatroniError, match="refused: candidate does not exists"):
        await patroni.switchover(str(reading.leader), "pg9")
    assert (await patroni.read()).leader == reading.leader


async def test_scheduled_switchover_shows_and_can_be_cancelled(patroni: PatroniCollector) -> None:
    reading = await patroni.read()
    candidate = next(m.name for m in reading.members if m.name != reading.leader)
    at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()

    text = await patroni.switchover(str(reading.leader), candidate, at=at)

    assert "scheduled" in text
    assert (await patroni.read()).scheduled_switchover == f"at {at} from {reading.leader} to {candidate}"
    assert await patroni.cancel_switchover() == "scheduled switchover cancelled: scheduled switchover deleted"
    assert (await patroni.read()).scheduled_switchover == ""
    with pytest.raises(PatroniError, match="nothing to cancel: no switchover is scheduled"):
        await patroni.cancel_switchover()


async def test_every_member_api_url_answers(ha_demo: HaDemoBackend) -> None:
    """A collector given one URL still finds the others (each member has its own port)."""
    for url in ha_demo.patroni_urls:
        collector = PatroniCollector([url], username=None, password=None, timeout=5.0)
        try:
            assert len((await collector.read()).members) == 3
        finally:
            await collector.close()


# ---------------------------------------------------------------------------------- MariaDB


async def test_mariadb_collector_reads_primary_and_replica(ha_demo: HaDemoBackend) -> None:
    primary_name, replica_name = (dsn.split("@", 1)[1] for dsn in ha_demo.mariadb_dsns)
    servers = (ha_demo.mysql.primary, ha_demo.mysql.replica)
    ha_demo.call(lambda: [server.errors.clear() for server in servers])
    collector = mariadb(ha_demo)
    try:
        reading = await collector.read()
    finally:
        await collector.close()
    # Every statement the collector sends is one the simulator knows (a new one would be ERR 1064).
    assert [server.errors for server in servers] == [[], []]
    assert all(k != "not read" for m in reading.members for k, _ in m.details)
    members = {m.name: m for m in reading.members}
    assert reading.leader == primary_name and not reading.problems
    primary, replica = members[primary_name], members[replica_name]
    assert (primary.role, primary.error) == (PRIMARY, "")
    assert replica.role == REPLICA and replica.upstream == primary_name
    if replica.replicating:
        assert replica.lag_seconds is not None and 0 <= replica.lag_seconds <= 30
    details = dict(replica.details)
    assert details["read_only"] == "ON" and details["using gtid"] == "Slave_Pos"
    assert details["gtid_slave_pos"].startswith("0-1-")
    assert dict(primary.details)["gtid_binlog_pos"].startswith("0-1-")
    assert dict(primary.details)["server"] == "10.11.6-MariaDB-sim"
    assert primary.stats is not None and replica.stats is not None
    assert primary.stats.connections and primary.stats.max_connections == 500
    assert primary.stats.top_statements and primary.stats.database_sizes[0][0] == "shop"
    assert 0.9 < (primary.stats.cache_hit_ratio or 0) <= 1


async def test_replica_sql_thread_error_shows_then_clears(ha_demo: HaDemoBackend) -> None:
    pair = ha_demo.mysql.pair
    state = pair.replica.replica
    collector = mariadb(ha_demo)
    try:
        def break_replication() -> None:
            state.next_error = pair.clock()
            pair.step()

        ha_demo.call(break_replication)
        broken = (await collector.read()).members[1]
        assert broken.replicating is False and broken.lag_seconds is None
        assert "sql thread error 1062" in broken.error and "Duplicate entry" in broken.error

        def repair() -> None:
            state.error_until = pair.clock()
            pair.step()

        ha_demo.call(repair)
        repaired = (await collector.read()).members[1]
        assert repaired.replicating is True and repaired.error == ""
    finally:
        await collector.close()


async def test_wrong_password_is_the_collectors_one_line_error(ha_demo: HaDemoBackend) -> None:
    collector = mariadb(ha_demo, password="not-the-password")
    try:
        reading = await collector.read()
    finally:
        await collector.close()
    for m in reading.members:
        assert not m.reachable and m.state == "access denied"
        assert m.error.startswith("access denied for monitor@127.0.0.1 — check "
                                  "ha.clusters[].mariadb.password and the GRANT")
        assert "\n" not in m.error and ha_demo.mysql.password not in m.error


# ---------------------------------------------------------------------------------- the wire, by PyMySQL


def test_pymysql_sees_mariadb_answers_and_errors(ha_demo: HaDemoBackend) -> None:
    with pytest.raises(pymysql.err.OperationalError) as denied:
        connect(ha_demo, password="wrong")
    assert denied.value.args == (1045, "Access denied for user 'monitor'@'127.0.0.1' (using password: YES)")

    conn = connect(ha_demo, which=1)
    try:
        assert conn.get_server_info() == "5.5.5-10.11.6-MariaDB-sim"
        conn.ping(reconnect=False)
        conn.select_db("shop")
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            (row,) = cur.fetchall()
            assert row["Slave_IO_Running"] == "Yes"
            assert row["Master_Port"] == port_of(ha_demo.mariadb_dsns[0])
            assert isinstance(row["Exec_Master_Log_Pos"], int)
            cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_status'")
            assert cur.fetchall()[0] == {"Variable_name": "wsrep_cluster_status", "Value": "Disconnected"}
            cur.execute("SELECT @@read_only AS ro, @@max_connections, VERSION()")
            assert cur.fetchone() == {"ro": 1, "@@max_connections": 500, "VERSION()": "10.11.6-MariaDB-sim"}
            cur.execute("SET SESSION max_statement_time = 5")
        for sql, code in (("SELEC 1", 1064), ("SELECT @@server_uuid", 1193),
                          ("SELECT * FROM performance_schema.replication_group_members", 1146),
                          ("SET GLOBAL read_only = 0", 1227),
                          ("SELECT nope FROM information_schema.TABLES", 1054)):
            with conn.cursor() as cur, pytest.raises(pymysql.err.MySQLError) as failed:
                cur.execute(sql)
            assert failed.value.args[0] == code, sql
        with pytest.raises(pymysql.err.OperationalError, match="1044"):
            conn.select_db("nope")
    finally:
        conn.close()
    with connect(ha_demo) as primary, primary.cursor() as cur:
        cur.execute("SHOW SLAVE STATUS")
        assert cur.fetchall() == () and cur.description[0][0] == "Slave_IO_State"


def test_counters_grow_as_the_simulation_lives(ha_demo: HaDemoBackend) -> None:
    pair = ha_demo.mysql.pair

    def questions() -> int:
        with connect(ha_demo) as conn, conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Uptime')")
            return int(dict(cur.fetchall())["Questions"])

    first = questions()
    ha_demo.call(pair.step, 5.0)
    assert questions() > first


# ---------------------------------------------------------------------------------- the wire, raw


class RawClient:
    """The few packets needed to speak to the simulator with CLIENT_DEPRECATE_EOF, which
    PyMySQL and aiomysql never ask for."""

    def __init__(self, port: int, password: str, flags: int) -> None:
        self.flags = flags
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        greeting = self.read()
        assert greeting[0] == 10
        version_end = greeting.index(b"\0", 1)
        pos = version_end + 1 + 4
        salt = greeting[pos:pos + 8]
        pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
        salt += greeting[pos:pos + 12]
        token = scramble_token(password, salt)
        body = (struct.pack("<IIB", flags, 1 << 24, 45) + b"\0" * 23 + b"monitor\0" + bytes([len(token)])
                + token + b"mysql_native_password\0")
        self.send(body, seq=1)
        assert self.read()[0] == 0, "authentication failed"

    def send(self, payload: bytes, seq: int = 0) -> None:
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([seq]) + payload)

    def read(self) -> bytes:
        header = self._exact(4)
        return self._exact(int.from_bytes(header[:3], "little"))

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    def query(self, sql: str) -> list[list[bytes]]:
        """Every packet of the answer, result set by result set."""
        self.send(b"\x03" + sql.encode())
        sets: list[list[bytes]] = []
        while True:
            packets = [self.read()]
            last = packets[0]
            if last[0] not in (0x00, 0xFF):  # a result set: count, definitions, [EOF], rows, end
                packets += [self.read() for _ in range(last[0])]
                if not self.flags & CLIENT_DEPRECATE_EOF:
                    packets.append(self.read())
                while True:
                    last = self.read()
                    packets.append(last)
                    if last[0] == 0xFF or (last[0] == 0xFE and len(last) < 9):
                        break
            sets.append(packets)
            if last[0] == 0xFF or not struct.unpack_from("<H", last, 3)[0] & SERVER_MORE_RESULTS_EXISTS:
                return sets

    def close(self) -> None:
        self.send(b"\x01")
        self.sock.close()


BASE_FLAGS = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | CLIENT_MULTI_RESULTS


@pytest.mark.parametrize("deprecate_eof", [True, False])
def test_result_sets_end_as_the_client_asked(ha_demo: HaDemoBackend, deprecate_eof: bool) -> None:
    flags = BASE_FLAGS | CLIENT_MULTI_STATEMENTS | (CLIENT_DEPRECATE_EOF if deprecate_eof else 0)
    client = RawClient(port_of(ha_demo.mariadb_dsns[1]), ha_demo.mysql.password, flags)
    try:
        first, second = client.query("SELECT 1 AS one, 'x' AS two; SHOW MASTER STATUS")
    finally:
        client.close()
    # column count, 2 column definitions, [EOF], one row, terminator
    assert first[0] == b"\x02" and len(first) == (5 if deprecate_eof else 6)
    eofs = [p for p in first if p[0] == 0xFE and len(p) < 9]
    if deprecate_eof:
        assert len(eofs) == 1 and len(eofs[0]) == 7  # an OK packet with the EOF header
    else:
        assert len(eofs) == 2 and all(len(p) == 5 for p in eofs)
    assert first[-2] == b"\x011\x01x"
    status = struct.unpack_from("<H", first[-1], 3)[0]
    assert status & SERVER_MORE_RESULTS_EXISTS
    assert not struct.unpack_from("<H", second[-1], 3)[0] & SERVER_MORE_RESULTS_EXISTS
    assert second[0] == b"\x04" and b"mysql-bin." in second[-2]

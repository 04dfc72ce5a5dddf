"""What MySQL and MariaDB servers answer, recorded as rows, turned into the HA model:
both replica-status dialects, multi-source, Group Replication, Galera, stats, error lines."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any

import pymysql
import pytest

from providers.ha.model import PRIMARY, REPLICA, UNKNOWN, Reading
from providers.ha.mysql import MysqlCollector, MysqlTarget, build_plan, connect_error, parse_dsn
from providers.ha.mysql_status import (
    Observation,
    assemble,
    build_stats,
    database_sizes,
    parse_galera,
    parse_group_members,
    parse_replica_row,
    parse_replica_rows,
    status_map,
    top_statements,
)

# --------------------------------------------------------------------------- recorded rows

# SHOW REPLICA STATUS on MySQL 8.0.36 (Replica_*/Source_* since 8.0.22), GTID auto-position.
MYSQL8_REPLICA: dict[str, Any] = {
    "Replica_IO_State": "Waiting for source to send event", "Source_Host": "db1.internal",
    "Source_User": "repl", "Source_Port": 3306, "Connect_Retry": 60, "Source_Log_File": "binlog.000042",
    "Read_Source_Log_Pos": 917_504, "Relay_Log_File": "relay.000007", "Relay_Log_Pos": 1_234,
    "Relay_Source_Log_File": "binlog.000042", "Replica_IO_Running": "Yes", "Replica_SQL_Running": "Yes",
    "Replicate_Do_DB": "", "Replicate_Ignore_DB": "", "Last_Errno": 0, "Last_Error": "", "Skip_Counter": 0,
    "Exec_Source_Log_Pos": 901_120, "Relay_Log_Space": 2_048, "Until_Condition": "None",
    "Source_SSL_Allowed": "No", "Seconds_Behind_Source": 3, "Source_SSL_Verify_Server_Cert": "No",
    "Last_IO_Errno": 0, "Last_IO_Error": "", "Last_SQL_Errno": 0, "Last_SQL_Error": "",
    "Replicate_Ignore_Server_Ids": "", "Source_Server_Id": 101,
    "Source_UUID": "3e11fa47-71ca-11e1-9e33-c80aa9429562", "Source_Info_File": "mysql.slave_master_info",
    "SQL_Delay": 0, "SQL_Remaining_Delay": None,
    "Replica_SQL_Running_State": "Replica has read all relay log; waiting for more updates",
    "Source_Retry_Count": 86400, "Last_IO_Error_Timestamp": "", "Last_SQL_Error_Timestamp": "",
    "Retrieved_Gtid_Set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5042",
    "Executed_Gtid_Set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5040",
    "Auto_Position": 1, "Replicate_Rewrite_DB": "", "Channel_Name": "", "Source_TLS_Version": "",
    "Source_public_key_path": "", "Get_Source_public_key": 0, "Network_Namespace": "",
}

# SHOW SLAVE STATUS on MySQL 5.7: the IO thread cannot reach its master.
MYSQL57_REPLICA_CONNECTING: dict[str, Any] = {
    "Slave_IO_State": "Connecting to master", "Master_Host": "127.0.0.1", "Master_User": "repl",
    "Master_Port": 3307, "Connect_Retry": 60, "Master_Log_File": "mysql-bin.000003",
    "Read_Master_Log_Pos": 154, "Relay_Log_File": "relay-bin.000004", "Relay_Log_Pos": 367,
    "Relay_Master_Log_File": "mysql-bin.000003", "Slave_IO_Running": "Connecting",
    "Slave_SQL_Running": "Yes", "Last_Errno": 0, "Last_Error": "", "Exec_Master_Log_Pos": 154,
    "Seconds_Behind_Master": None, "Last_IO_Errno": 2003,
    "Last_IO_Error": "error connecting to master 'repl@127.0.0.1:3307' - retry-time: 60  retries: 3",
    "Last_SQL_Errno": 0, "Last_SQL_Error": "", "Master_Server_Id": 0, "Master_UUID": "",
    "Slave_SQL_Running_State": "Slave has read all relay log; waiting for more updates",
    "Retrieved_Gtid_Set": "", "Executed_Gtid_Set": "", "Auto_Position": 0, "Channel_Name": "",
}

# SHOW ALL SLAVES STATUS on MariaDB 10.11 (Slave_*/Master_*, Connection_name, Gtid_IO_Pos).
MARIADB_REPLICA: dict[str, Any] = {
    "Connection_name": "", "Slave_SQL_State": "Slave has read all relay log; waiting for more updates",
    "Slave_IO_State": "Waiting for master to send event", "Master_Host": "127.0.0.1",
    "Master_User": "repl", "Master_Port": 3307, "Connect_Retry": 60, "Master_Log_File": "mysql-bin.000001",
    "Read_Master_Log_Pos": 1557, "Relay_Log_File": "relay-bin.000002", "Relay_Log_Pos": 1793,
    "Relay_Master_Log_File": "mysql-bin.000001", "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes",
    "Last_Errno": 0, "Last_Error": "", "Skip_Counter": 0, "Exec_Master_Log_Pos": 1557,
    "Seconds_Behind_Master": 0, "Last_IO_Errno": 0, "Last_IO_Error": "", "Last_SQL_Errno": 0,
    "Last_SQL_Error": "", "Master_Server_Id": 1, "Using_Gtid": "Slave_Pos", "Gtid_IO_Pos": "0-1-7",
    "Parallel_Mode": "optimistic", "SQL_Delay": 0, "SQL_Remaining_Delay": None,
    "Slave_SQL_Running_State": "Slave has read all relay log; waiting for more updates",
    "Gtid_Slave_Pos": "0-1-7",
}

# The same replica after a conflicting CREATE USER (the test's broken-replication fixture).
MARIADB_REPLICA_BROKEN = {
    **MARIADB_REPLICA, "Slave_SQL_Running": "No", "Seconds_Behind_Master": None,
    "Last_Errno": 1396, "Last_SQL_Errno": 1396,
    "Last_SQL_Error": "Error 'Operation CREATE USER failed for 'stacktop_conflict'@'%'' on query.\n"
                      "Default database: ''. Query: 'CREATE USER 'stacktop_conflict'@'%''",
}

GALERA_SYNCED = {
    "wsrep_cluster_status": "Primary", "wsrep_cluster_size": "3", "wsrep_local_state_comment": "Synced",
    "wsrep_ready": "ON", "wsrep_connected": "ON", "wsrep_local_recv_queue": "0",
    "wsrep_provider_name": "Galera", "wsrep_cluster_state_uuid": "b2b7b8a0-5f2a-11ee-8c4c-2b5f3c0e4f11",
}

# SHOW GLOBAL STATUS LIKE 'wsrep%' on a MariaDB without Galera: the rows exist, say nothing.
MARIADB_NO_GALERA = {
    "wsrep": "0", "wsrep_cluster_size": "0", "wsrep_cluster_state_uuid": "",
    "wsrep_cluster_status": "Disconnected", "wsrep_connected": "OFF", "wsrep_provider_name": "",
    "wsrep_ready": "OFF",
}

GROUP_ROWS = [
    {"MEMBER_ID": "uuid-a", "MEMBER_HOST": "db-a", "MEMBER_PORT": 3306, "MEMBER_STATE": "ONLINE",
     "MEMBER_ROLE": "PRIMARY"},
    {"MEMBER_ID": "uuid-b", "MEMBER_HOST": "db-b", "MEMBER_PORT": 3306, "MEMBER_STATE": "ONLINE",
     "MEMBER_ROLE": "SECONDARY"},
    {"MEMBER_ID": "uuid-c", "MEMBER_HOST": "db-c", "MEMBER_PORT": 3306, "MEMBER_STATE": "RECOVERING",
     "MEMBER_ROLE": "SECONDARY"},
]


def obs(name: str, *, read_only: bool = False, rows: list[dict[str, Any]] | tuple = (),
        **kw: Any) -> Observation:
    host, port = name.rsplit(":", 1)
    variables = {"read_only": int(read_only), "server_id": kw.pop("server_id", None),
                 "server_uuid": kw.pop("server_uuid", ""), **kw.pop("variables", {})}
    return Observation(name=name, host=host, port=int(port), variables=variables,
                       channels=parse_replica_rows(rows), **kw)


def by_name(reading: Reading) -> dict[str, Any]:
    return {m.name: m for m in reading.members}


# --------------------------------------------------------------------------- replica rows


def test_mysql_8_replica_columns() -> None:
    c = parse_replica_row(MYSQL8_REPLICA)
    assert (c.source, c.io_running, c.sql_running, c.running, c.state) == (
        "db1.internal:3306", "Yes", "Yes", True, "streaming")
    assert c.seconds_behind == 3 and c.source_server_id == 101
    assert c.executed_gtid_set.endswith(":1-5040") and c.retrieved_gtid_set.endswith(":1-5042")
    assert (c.relay_source_log_file, c.exec_source_log_pos) == ("binlog.000042", 901_120)
    assert c.error_line == ""


def test_mariadb_replica_columns() -> None:
    c = parse_replica_row(MARIADB_REPLICA)
    assert (c.source, c.running, c.seconds_behind, c.gtid_io_pos, c.using_gtid) == (
        "127.0.0.1:3307", True, 0, "0-1-7", "Slave_Pos")
    assert c.io_state == "Waiting for master to send event"


def test_mysql_57_connecting_io_thread() -> None:
    c = parse_replica_row(MYSQL57_REPLICA_CONNECTING)
    assert c.state == "io: Connecting, sql: Yes" and not c.running
    assert c.seconds_behind is None
    assert c.error_line.startswith("io thread error 2003: error connecting to master 'repl@127.0.0.1:3307'")


def test_broken_sql_thread_is_one_line_with_the_errno() -> None:
    c = parse_replica_row(MARIADB_REPLICA_BROKEN)
    assert c.state == "io: Yes, sql: No"
    assert "\n" not in c.error_line and c.error_line.startswith("sql thread error 1396: Error 'Operation")
    assert len(c.error_line) <= 200


def test_reset_replica_leftover_rows_are_not_replication() -> None:
    assert parse_replica_rows([{**MARIADB_REPLICA, "Master_Host": ""}]) == ()


# --------------------------------------------------------------------------- async topology


def test_mysql_8_pair_resolves_the_source_by_uuid_and_lag_in_bytes() -> None:
    primary = obs("10.0.0.1:3306", server_id=101, server_uuid="3e11fa47-71ca-11e1-9e33-c80aa9429562",
                  binlog=("binlog.000042", 917_504))
    replica = obs("10.0.0.2:3306", read_only=True, rows=[MYSQL8_REPLICA],
                  variables={"super_read_only": 1})
    reading = assemble([primary, replica])
    members = by_name(reading)
    r = members["10.0.0.2:3306"]
    assert (r.role, r.upstream, r.replicating, r.lag_seconds) == (REPLICA, "10.0.0.1:3306", True, 3.0)
    assert r.lag_bytes == 917_504 - 901_120
    assert ("executed gtid set", MYSQL8_REPLICA["Executed_Gtid_Set"]) in r.details
    assert members["10.0.0.1:3306"].role == PRIMARY
    assert reading.leader == "10.0.0.1:3306" and reading.problems == ()


def test_lag_in_bytes_unknown_across_binlog_files() -> None:
    primary = obs("db1.internal:3306", binlog=("binlog.000043", 120))
    replica = obs("db2.internal:3306", read_only=True, rows=[MYSQL8_REPLICA])
    r = by_name(assemble([primary, replica]))["db2.internal:3306"]
    assert r.upstream == "db1.internal:3306" and r.lag_bytes is None


def test_localhost_and_loopback_are_the_same_source() -> None:
    primary = obs("localhost:3307")
    replica = obs("localhost:3308", read_only=True, rows=[MARIADB_REPLICA])
    assert by_name(assemble([primary, replica]))["localhost:3308"].upstream == "localhost:3307"


def test_broken_replica_error_and_details() -> None:
    reading = assemble([obs("127.0.0.1:3307"), obs("127.0.0.1:3308", read_only=True,
                                                   rows=[MARIADB_REPLICA_BROKEN])])
    r = by_name(reading)["127.0.0.1:3308"]
    assert (r.role, r.replicating, r.lag_seconds, r.state) == (REPLICA, False, None, "io: Yes, sql: No")
    assert "1396" in r.error and "\n" not in r.error
    assert dict(r.details)["last sql error"].startswith("1396: Error 'Operation CREATE USER")


def test_multi_source_draws_the_default_channel_and_lists_the_others() -> None:
    analytics = {**MARIADB_REPLICA, "Connection_name": "analytics", "Master_Host": "10.9.9.9",
                 "Master_Port": 3306, "Slave_IO_Running": "Connecting", "Last_IO_Errno": 2003,
                 "Last_IO_Error": "error connecting to master", "Seconds_Behind_Master": None}
    reading = assemble([obs("127.0.0.1:3307"),
                        obs("127.0.0.1:3308", read_only=True, rows=[analytics, MARIADB_REPLICA])])
    r = by_name(reading)["127.0.0.1:3308"]
    assert (r.upstream, r.state, r.replicating) == ("127.0.0.1:3307", "streaming", True)
    other = dict(r.details)["channel analytics"]
    assert other.startswith("10.9.9.9:3306 io: Connecting, sql: Yes")
    assert r.error == "channel analytics: io thread error 2003: error connecting to master"


def test_source_outside_the_configured_members() -> None:
    r = by_name(assemble([obs("127.0.0.1:3308", read_only=True, rows=[MYSQL8_REPLICA])]))["127.0.0.1:3308"]
    assert r.upstream == "db1.internal:3306"
    assert ("note", "the source db1.internal:3306 is not one of the configured members") in r.details


def test_read_only_without_replication_is_not_a_primary() -> None:
    reading = assemble([obs("127.0.0.1:3307", read_only=True)], product="MariaDB")
    m = reading.members[0]
    assert (m.role, m.state) == (UNKNOWN, "read-only, not replicating")
    assert "standalone read-only MariaDB server" in dict(m.details)["note"]
    assert reading.leader is None


def test_two_writable_primaries_are_a_problem() -> None:
    reading = assemble([obs("127.0.0.1:3307"), obs("127.0.0.1:3308"),
                        obs("127.0.0.1:3309", read_only=True, rows=[MARIADB_REPLICA])])
    assert len(reading.problems) == 1
    assert reading.problems[0].startswith("2 writable primaries that replicate from nobody "
                                          "(127.0.0.1:3307, 127.0.0.1:3308)")
    assert reading.leader == "127.0.0.1:3307"  # the one with a replica


def test_writable_replica_is_flagged() -> None:
    r = by_name(assemble([obs("127.0.0.1:3307"), obs("127.0.0.1:3308", rows=[MARIADB_REPLICA])]))
    assert r["127.0.0.1:3308"].role == REPLICA
    assert dict(r["127.0.0.1:3308"].details)["warning"].startswith("read_only is OFF on a replica")


def _points_at(port: int) -> dict[str, Any]:
    return {**MARIADB_REPLICA, "Master_Port": port}


def test_circular_replication_the_writable_side_is_the_primary() -> None:
    reading = assemble([obs("127.0.0.1:3307", rows=[_points_at(3308)]),
                        obs("127.0.0.1:3308", read_only=True, rows=[_points_at(3307)])])
    m = by_name(reading)
    assert (m["127.0.0.1:3307"].role, m["127.0.0.1:3307"].upstream) == (PRIMARY, None)
    assert dict(m["127.0.0.1:3307"].details)["circular replication"] == "also replicates from 127.0.0.1:3308"
    assert (m["127.0.0.1:3308"].role, m["127.0.0.1:3308"].upstream) == (REPLICA, "127.0.0.1:3307")
    assert reading.leader == "127.0.0.1:3307" and reading.problems == ()


def test_circular_replication_both_writable_is_split_brain() -> None:
    reading = assemble([obs("127.0.0.1:3307", rows=[_points_at(3308)]),
                        obs("127.0.0.1:3308", rows=[_points_at(3307)])])
    assert {m.role for m in reading.members} == {PRIMARY}
    assert len(reading.problems) == 1


def test_missing_grant_for_replica_status_leaves_the_role_unknown() -> None:
    o = Observation(name="127.0.0.1:3307", host="127.0.0.1", port=3307, variables={"read_only": 0},
                    replica_status_error="access denied for SHOW REPLICA STATUS — GRANT SLAVE MONITOR")
    m = assemble([o]).members[0]
    assert (m.role, m.error) == (UNKNOWN, "access denied for SHOW REPLICA STATUS — GRANT SLAVE MONITOR")


def test_unreachable_member() -> None:
    o = Observation(name="127.0.0.1:3399", host="127.0.0.1", port=3399, reachable=False,
                    state="unreachable", error="cannot connect to 127.0.0.1:3399: connection refused")
    reading = assemble([o, obs("127.0.0.1:3307")])
    m = by_name(reading)["127.0.0.1:3399"]
    assert (m.reachable, m.role, m.state, m.stats) == (False, UNKNOWN, "unreachable", None)
    assert reading.leader == "127.0.0.1:3307"


# --------------------------------------------------------------------------- group replication, galera


def test_group_replication_single_primary() -> None:
    members = parse_group_members(GROUP_ROWS)
    observations = [obs(f"db-{x}:3306", server_uuid=f"uuid-{x}", group=members,
                        read_only=x != "a") for x in "abc"]
    reading = assemble(observations)
    m = by_name(reading)
    assert (m["db-a:3306"].role, m["db-a:3306"].state, m["db-a:3306"].upstream) == (PRIMARY, "online", None)
    assert (m["db-b:3306"].role, m["db-b:3306"].upstream, m["db-b:3306"].replicating) == (
        REPLICA, "db-a:3306", True)
    assert m["db-c:3306"].state == "recovering" and m["db-c:3306"].error == ""
    assert dict(m["db-b:3306"].details)["group member db-a:3306"] == "ONLINE PRIMARY"
    assert reading.leader == "db-a:3306" and reading.problems == ()


def test_group_member_in_error_state() -> None:
    rows = [{"MEMBER_ID": "uuid-b", "MEMBER_HOST": "db-b", "MEMBER_PORT": 3306, "MEMBER_STATE": "ERROR",
             "MEMBER_ROLE": "SECONDARY"}]
    m = assemble([obs("db-b:3306", server_uuid="uuid-b", read_only=True,
                      group=parse_group_members(rows))]).members[0]
    assert (m.role, m.replicating) == (REPLICA, False)
    assert m.error == "Group Replication member state ERROR: see this server's error log"


def test_group_roles_on_57_come_from_the_primary_member_status() -> None:
    rows = [{k: v for k, v in r.items() if k != "MEMBER_ROLE"} for r in GROUP_ROWS]
    members = parse_group_members(rows, primary_uuid="uuid-b")
    assert [g.role for g in members] == ["SECONDARY", "PRIMARY", "SECONDARY"]


def test_server_without_a_group_shows_an_offline_placeholder() -> None:
    placeholder = [{"MEMBER_ID": "", "MEMBER_HOST": "", "MEMBER_PORT": None, "MEMBER_STATE": "OFFLINE",
                    "MEMBER_ROLE": ""}]
    assert parse_group_members(placeholder) == ()


def test_galera_nodes_are_all_primaries_without_a_split_brain_problem() -> None:
    nodes = [obs(f"10.0.0.{i}:3306", status=GALERA_SYNCED) for i in (1, 2, 3)]
    reading = assemble(nodes)
    assert {(m.role, m.state) for m in reading.members} == {(PRIMARY, "synced")}
    assert reading.problems == () and reading.leader == "10.0.0.1:3306"
    details = dict(reading.members[0].details)
    assert details["galera cluster size"] == "3" and details["wsrep_local_recv_queue"] == "0"


def test_galera_node_outside_the_primary_component() -> None:
    status = {**GALERA_SYNCED, "wsrep_cluster_status": "non-Primary", "wsrep_ready": "OFF",
              "wsrep_local_state_comment": "Initialized", "wsrep_cluster_size": "1"}
    reading = assemble([obs("10.0.0.3:3306", status=status),
                        obs("10.0.0.1:3306", status=GALERA_SYNCED)])
    m = by_name(reading)["10.0.0.3:3306"]
    assert (m.role, m.state) == (UNKNOWN, "initialized")
    assert m.error.startswith("Galera: not in the primary component (wsrep_cluster_status non-Primary)")
    assert reading.leader == "10.0.0.1:3306"


def test_wsrep_rows_without_galera_are_ignored() -> None:
    assert parse_galera(MARIADB_NO_GALERA) is None
    assert parse_galera({}) is None
    m = assemble([obs("127.0.0.1:3307", status=MARIADB_NO_GALERA)]).members[0]
    assert m.role == PRIMARY


# --------------------------------------------------------------------------- stats


def test_stats_from_status_processlist_and_extras() -> None:
    status = status_map([{"Variable_name": k, "Value": v} for k, v in {
        "Threads_connected": "12", "Threads_running": "3", "Questions": "123456", "Queries": "130000",
        "Slow_queries": "7", "Innodb_buffer_pool_read_requests": "1000", "Innodb_buffer_pool_reads": "20",
        "Innodb_row_lock_current_waits": "2"}.items()])
    threads = [
        {"command": "Sleep", "user": "app", "lock_wait": 0, "n": 8},
        {"command": "Query", "user": "app", "lock_wait": 0, "n": 2},
        {"command": "Query", "user": "app", "lock_wait": 1, "n": 1},
        {"command": "Binlog Dump GTID", "user": "repl", "lock_wait": 0, "n": 1},
        {"command": "Slave_SQL", "user": "system user", "lock_wait": 0, "n": 1},
        {"command": "Daemon", "user": "event_scheduler", "lock_wait": 0, "n": 1},
    ]
    stats = build_stats(status, max_connections=151, threads=threads,
                        longest={"time": 12, "time_ms": Decimal("12345.678"),
                                 "info": "SELECT *\n  FROM orders\n WHERE total > 100"},
                        trx={"n": 3, "longest": 40}, sizes=(("shop", 1024),))
    assert (stats.connections, stats.max_connections, stats.threads_running) == (12, 151, 3)
    assert dict(stats.counters) == {"queries": 123456.0, "slow_queries": 7.0}
    assert stats.by_state == (("active", 2), ("lock wait", 1), ("idle", 8), ("replication", 2),
                              ("system", 1))
    assert stats.cache_hit_ratio == pytest.approx(0.98)
    assert stats.lock_waiting == 3  # two InnoDB row lock waits + one metadata lock wait
    assert stats.longest_query_s == pytest.approx(12.345678)
    assert stats.longest_query == "SELECT * FROM orders WHERE total > 100"
    assert stats.longest_xact_s == 40.0
    assert stats.database_sizes == (("shop", 1024),)


def test_stats_of_an_idle_fresh_server() -> None:
    stats = build_stats({"Threads_connected": "1", "Queries": "5"}, max_connections=None)
    assert dict(stats.counters) == {"queries": 5.0}  # Queries when Questions is absent
    assert stats.cache_hit_ratio is None and stats.lock_waiting is None and stats.longest_query == ""


def test_database_sizes_decode_tablespace_names_and_keep_the_top() -> None:
    rows = [{"db": "my@002ddb", "bytes": Decimal(5000)}, {"db": "mysql", "bytes": 300},
            {"db": "performance_schema", "bytes": 0}] + [{"db": f"db{i}", "bytes": i} for i in range(20)]
    sizes = database_sizes(rows)
    assert sizes[0] == ("my-db", 5000) and sizes[1] == ("mysql", 300) and len(sizes) == 10
    assert "performance_schema" not in dict(sizes)


def test_top_statements_from_digests() -> None:
    rows = [{"DIGEST_TEXT": "SELECT * FROM `t` WHERE `id` = ?", "COUNT_STAR": 4,
             "SUM_TIMER_WAIT": 8_000_000_000}]  # 8 ms in picoseconds
    (s,) = top_statements(rows)
    assert (s.calls, s.total_ms, s.mean_ms) == (4, 8.0, 2.0)


# --------------------------------------------------------------------------- DSNs, plans, error lines


def test_dsn_forms() -> None:
    assert parse_dsn("mysql://monitor@10.0.1.5:3306") == MysqlTarget("10.0.1.5", 3306, "monitor")
    assert parse_dsn("mariadb://monitor@db.internal/app") == MysqlTarget("db.internal", 3306, "monitor",
                                                                          "app")
    assert parse_dsn("mysql://monitor@[::1]:3307").name == "[::1]:3307"


@pytest.mark.parametrize("dsn", ["postgresql://monitor@h:5432", "mysql://h:3306", "mysql://u:secret@h:x"])
def test_bad_dsn_is_one_line_without_the_dsn(dsn: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_dsn(dsn)
    assert "secret" not in str(err.value) and "mysql://monitor@10.0.1.5:3306" in str(err.value)


def test_collector_repr_has_no_password() -> None:
    c = MysqlCollector(["mysql://monitor@127.0.0.1:3307"], flavor="mysql", password="hunter2",
                       connect_timeout=1, statement_timeout=1)
    assert "hunter2" not in repr(c) and "hunter2" not in repr(c._sessions[0])


def test_plans_per_dialect() -> None:
    mysql = {q.key: q.alternatives for q in build_plan("mysql", stats=True)}
    assert mysql["replicas"] == ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS")
    assert "replication_group_members" in mysql["group"][0]
    mariadb = {q.key: q.alternatives for q in build_plan("mariadb", stats=False)}
    assert mariadb["replicas"] == ("SHOW ALL REPLICAS STATUS", "SHOW ALL SLAVES STATUS")
    assert "group" not in mariadb and "threads" not in mariadb


def _refused() -> pymysql.err.OperationalError:
    exc = pymysql.err.OperationalError(2003, "Can't connect to MySQL server on '127.0.0.1'")
    exc.__cause__ = ConnectionRefusedError(111, "Connect call failed")
    return exc


def _unknown_host() -> pymysql.err.OperationalError:
    exc = pymysql.err.OperationalError(2003, "Can't connect to MySQL server on 'db.invalid'")
    exc.__cause__ = socket.gaierror(-2, "Name or service not known")
    return exc


@pytest.mark.parametrize(("exc", "flavor", "expected"), [
    (_refused(), "mariadb", ("unreachable", "cannot connect to 127.0.0.1:3399: connection refused "
                                            "— is MariaDB running?")),
    (_unknown_host(), "mysql", ("unreachable", "cannot connect to 127.0.0.1:3399: unknown host 127.0.0.1 "
                                               "— check the DSN")),
    (TimeoutError(), "mysql", ("unreachable", "cannot connect to 127.0.0.1:3399: no answer within 3 s "
                                              "— check the host, port and firewall")),
    (pymysql.err.OperationalError(1045, "Access denied for user 'monitor'@'10.0.0.9' (using password: YES)"),
     "mysql", ("access denied", "access denied for monitor@10.0.0.9 — check ha.clusters[].mysql.password "
                                "and the GRANT (REPLICATION CLIENT, PROCESS, SELECT ON performance_schema.* "
                                "on MySQL)")),
    (pymysql.err.OperationalError(1040, "Too many connections"), "mysql",
     ("unreachable", "127.0.0.1:3399 refuses connections: too many connections (max_connections)")),
])
def test_connect_errors_name_the_fix(exc: BaseException, flavor: str, expected: tuple[str, str]) -> None:
    target = MysqlTarget("127.0.0.1", 3399, "monitor")
    assert connect_error(exc, target, flavor=flavor, timeout=3.0) == expected

"""Patroni's JSON as the HA tab reads it, who may take over, and when a
scheduled switchover happens. The /cluster and /patroni documents are shapes
recorded from Patroni 3.0.2 (this machine's) and Patroni 4 (its cluster_as_json)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from providers.ha.model import PRIMARY, REPLICA, STANDBY_LEADER, SYNC_REPLICA, Member, Reading
from providers.ha.patroni import (
    DEFAULT_MAXIMUM_LAG_ON_FAILOVER,
    HISTORY_KEPT,
    PatroniCollector,
    PatroniError,
    api_base,
    candidates,
    parse_history,
    parse_maximum_lag,
    parse_reading,
    parse_when,
)
from providers.ha.patroni_actions import human_bytes

# Patroni 3.0.2, as GET /cluster answered on this machine (pg3 leading).
CLUSTER_3 = {"members": [
    {"name": "pg1", "role": "replica", "state": "running", "api_url": "http://127.0.0.1:60233/patroni",
     "host": "127.0.0.1", "port": 36273, "timeline": 1, "lag": 0},
    {"name": "pg2", "role": "replica", "state": "running", "api_url": "http://127.0.0.1:60175/patroni",
     "host": "127.0.0.1", "port": 54937, "timeline": 1, "lag": 16777216},
    {"name": "pg3", "role": "leader", "state": "running", "api_url": "http://127.0.0.1:58305/patroni",
     "host": "127.0.0.1", "port": 33437, "timeline": 1},
]}
# The leader's GET /patroni (Patroni 3.0.2): its walsenders and versions.
LEADER_STATUS_3 = {
    "state": "running", "role": "master", "server_version": 150018, "xlog": {"location": 67108864},
    "timeline": 1, "replication": [
        {"usename": "replicator", "application_name": "pg2", "client_addr": "127.0.0.1", "state": "streaming",
         "sync_state": "async", "sync_priority": 0},
        {"usename": "replicator", "application_name": "pg1", "client_addr": "127.0.0.1", "state": "streaming",
         "sync_state": "async", "sync_priority": 0}],
    "patroni": {"version": "3.0.2", "scope": "stacktop-test"},
}
# Patroni 4: synchronous mode, replication_state as the state, LSNs per member, a paused
# cluster with a scheduled switchover, a member with no WAL position yet.
CLUSTER_4_SYNC = {
    "members": [
        {"name": "db1", "role": "leader", "state": "running", "api_url": "https://db1:8008/patroni",
         "host": "db1", "port": 5432, "timeline": 7, "tags": {"clonefrom": True}},
        {"name": "db2", "role": "sync_standby", "state": "streaming", "api_url": "https://db2:8008/patroni",
         "host": "db2", "port": 5432, "timeline": 7, "receive_lsn": "0/5000060", "receive_lag": 0,
         "replay_lsn": "0/5000000", "replay_lag": 96, "lsn": "0/5000060", "lag": 0},
        {"name": "db3", "role": "replica", "state": "streaming", "api_url": "https://db3:8008/patroni",
         "host": "db3", "port": 5432, "timeline": 7, "lag": 2048,
         "tags": {"replicatefrom": "db2", "nofailover": True, "noloadbalance": False},
         "pending_restart": True,
         "pending_restart_reason": {"max_connections": {"old_value": "100", "new_value": "200"}}},
        {"name": "db4", "role": "replica", "state": "in archive recovery", "api_url": "https://db4:8008/patroni",
         "host": "db4", "port": 5432, "timeline": 7, "lsn": "unknown", "lag": "unknown"},
    ],
    "pause": True,
    "scheduled_switchover": {"at": "2026-11-23T02:00:00+01:00", "from": "db1", "to": "db2"},
}
# A standby cluster: its leader replicates from another cluster's primary.
CLUSTER_STANDBY = {"members": [
    {"name": "dr1", "role": "standby_leader", "state": "streaming", "api_url": "http://dr1:8008/patroni",
     "host": "dr1", "port": 5432, "timeline": 3},
    {"name": "dr2", "role": "replica", "state": "running", "api_url": "http://dr2:8008/patroni",
     "host": "dr2", "port": 5432, "timeline": 3, "lag": "unknown"},
]}
HISTORY = [[1, 25165984, "no recovery target specified", "2026-11-22T13:46:27.273590+00:00", "pg1"],
           [2, 50331808, "no recovery target specified", "2026-11-22T13:47:01.002000+00:00"]]


def by_name(reading: Reading) -> dict[str, Member]:
    return {m.name: m for m in reading.members}


def test_patroni_3_roles_leader_upstreams_and_lag() -> None:
    reading = parse_reading(CLUSTER_3, HISTORY, LEADER_STATUS_3)
    m = by_name(reading)

    assert reading.leader == "pg3" and not reading.paused and reading.scheduled_switchover == ""
    leader = m["pg3"]
    assert (leader.role, leader.upstream, leader.lag_bytes, leader.replicating) == (PRIMARY, None, None, None)
    assert (m["pg1"].role, m["pg1"].upstream, m["pg1"].lag_bytes) == (REPLICA, "pg3", 0)
    assert m["pg2"].lag_bytes == 16777216
    assert all(x.replicating for x in (m["pg1"], m["pg2"]))
    replica = m["pg1"]
    assert (replica.host, replica.port, replica.timeline, replica.state) == ("127.0.0.1", 36273, 1, "running")
    assert dict(m["pg1"].details) == {"Patroni role": "replica", "API": "http://127.0.0.1:60233/patroni",
                                      "walsender": "streaming, async"}
    assert dict(m["pg3"].details)["Patroni"] == "3.0.2"
    assert dict(m["pg3"].details)["PostgreSQL"] == "15.18"
    assert [h.timeline for h in reading.history] == [1, 2]


def test_a_running_replica_missing_from_the_leaders_walsenders_is_not_replicating() -> None:
    status = {**LEADER_STATUS_3, "replication": LEADER_STATUS_3["replication"][:1]}  # pg2 only

    m = by_name(parse_reading(CLUSTER_3, leader_status=status))

    assert m["pg1"].replicating is False and m["pg2"].replicating is True
    assert "walsender" not in dict(m["pg1"].details)
    # Without the leader's status Patroni 3's "running" is all we know.
    assert by_name(parse_reading(CLUSTER_3))["pg1"].replicating is True


def test_patroni_4_sync_standby_tags_lsns_pause_and_scheduled_switchover() -> None:
    reading = parse_reading(CLUSTER_4_SYNC)
    m = by_name(reading)

    assert reading.paused is True
    assert reading.scheduled_switchover == "at 2026-11-23T02:00:00+01:00 from db1 to db2"
    assert (m["db2"].role, m["db2"].state, m["db2"].replicating) == (SYNC_REPLICA, "streaming", True)
    assert dict(m["db2"].details) == {
        "Patroni role": "sync_standby", "API": "https://db2:8008/patroni", "LSN": "0/5000060",
        "receive LSN": "0/5000060", "replay LSN": "0/5000000", "receive lag": "0 B", "replay lag": "96 B"}
    assert m["db3"].upstream == "db2"  # tags.replicatefrom
    assert dict(m["db3"].details)["tags"] == "replicatefrom=db2, nofailover"
    assert dict(m["db3"].details)["pending restart"] == "max_connections 100 → 200"
    assert (m["db4"].lag_bytes, m["db4"].replicating, m["db4"].upstream) == (None, False, "db1")
    assert dict(m["db4"].details)["lag"] == "unknown" and "LSN" not in dict(m["db4"].details)
    assert dict(m["db1"].details)["tags"] == "clonefrom"


def test_standby_leader_leads_a_standby_cluster() -> None:
    reading = parse_reading(CLUSTER_STANDBY)
    m = by_name(reading)

    assert reading.leader == "dr1"
    assert (m["dr1"].role, m["dr1"].upstream, m["dr1"].replicating) == (STANDBY_LEADER, None, None)
    assert (m["dr2"].upstream, m["dr2"].lag_bytes) == ("dr1", None)


def test_replicatefrom_naming_an_absent_member_falls_back_to_the_leader() -> None:
    cluster = {"members": [dict(CLUSTER_3["members"][2]),
                           {**CLUSTER_3["members"][0], "tags": {"replicatefrom": "gone"}}]}

    assert by_name(parse_reading(cluster))["pg1"].upstream == "pg3"


def test_a_member_whose_api_did_not_answer_is_unreachable() -> None:
    dead = {"http://127.0.0.1:60175": "connection refused"}

    reading = parse_reading(CLUSTER_3, dead_apis=dead)

    pg2 = by_name(reading)["pg2"]
    assert (pg2.reachable, pg2.state) == (False, "running")
    assert pg2.error == "Patroni REST API http://127.0.0.1:60175 unreachable: connection refused"
    assert by_name(reading)["pg1"].reachable and by_name(reading)["pg1"].error == ""
    assert {o.value: o.reason for o in candidates(reading)}["pg2"] == "unreachable"


def test_no_leader_and_unknown_roles() -> None:
    cluster = {"members": [{"name": "a", "role": "replica", "state": "running", "lag": 5},
                           {"name": "b", "role": "weird", "state": "stopped"}]}

    reading = parse_reading(cluster)

    assert reading.leader is None
    assert by_name(reading)["a"].upstream is None
    assert by_name(reading)["b"].role == "unknown" and by_name(reading)["b"].replicating is False


@pytest.mark.parametrize("bad", [None, [], {}, {"members": "x"}, "text"])
def test_something_else_than_cluster_json_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="not Patroni's /cluster JSON"):
        parse_reading(bad)


def test_history_rows_newest_last_malformed_skipped_and_capped() -> None:
    entries = parse_history([HISTORY[1], "junk", [], ["x", 1], HISTORY[0], [3, None, None]])

    assert [(e.timeline, e.lsn) for e in entries] == [(1, 25165984), (2, 50331808), (3, None)]
    assert entries[0].reason == "no recovery target specified; new leader pg1"
    assert entries[0].at == "2026-11-22T13:46:27.273590+00:00"
    assert entries[1].reason == "no recovery target specified" and entries[2].reason == ""
    many = parse_history([[i, i * 100, "r", "t"] for i in range(1, 31)])
    assert len(many) == HISTORY_KEPT and many[0].timeline == 11 and many[-1].timeline == 30
    assert parse_history(None) == () and parse_history({"no": "list"}) == ()


def test_maximum_lag_on_failover_from_config() -> None:
    assert parse_maximum_lag({"maximum_lag_on_failover": 2048}) == 2048
    assert parse_maximum_lag({"ttl": 30}) == DEFAULT_MAXIMUM_LAG_ON_FAILOVER
    assert parse_maximum_lag("not json object") is None


def member(name: str, role: str = REPLICA, state: str = "streaming", lag: int | None = 0,
           tags: str = "", reachable: bool = True) -> Member:
    details = (("tags", tags),) if tags else ()
    return Member(name=name, host="h", port=5432, role=role, state=state, lag_bytes=lag, details=details,
                  reachable=reachable)


def test_candidates_say_why_each_ineligible_member_cannot_take_over() -> None:
    reading = Reading(members=(
        member("pg1", PRIMARY, "running", None), member("pg2"), member("pg3", state="stopped"),
        member("pg4", tags="nofailover"), member("pg5", lag=20 * 1024 * 1024), member("pg6", reachable=False),
        member("pg7", tags="failover_priority=0, nosync"), member("pg8", lag=None),
    ), leader="pg1")

    options = candidates(reading, maximum_lag_bytes=1024 * 1024)

    assert [(o.value, o.reason) for o in options] == [
        ("pg1", "is the leader"), ("pg2", ""), ("pg3", "state stopped"), ("pg4", "tag nofailover"),
        ("pg5", "lag 20 MB > maximum_lag_on_failover 1 MB"), ("pg6", "unreachable"),
        ("pg7", "tag failover_priority 0"), ("pg8", "")]
    assert options[0].label == "pg1  primary  running"
    assert options[1].label == "pg2  replica  streaming  lag 0 B"
    assert options[7].label == "pg8  replica  streaming  lag unknown"
    # Without a limit, lag does not disqualify.
    assert candidates(reading)[4].reason == ""


def test_in_synchronous_mode_only_the_sync_standby_is_a_candidate() -> None:
    reading = parse_reading(CLUSTER_4_SYNC)

    reasons = {o.value: o.reason for o in candidates(reading, DEFAULT_MAXIMUM_LAG_ON_FAILOVER)}

    assert reasons == {"db1": "is the leader", "db2": "", "db3": "tag nofailover",
                       "db4": "state in archive recovery"}
    plain = parse_reading({"members": [*CLUSTER_4_SYNC["members"][:2],
                                       {**CLUSTER_4_SYNC["members"][2], "tags": {}}]})
    assert candidates(plain)[2].reason == "not the sync standby (synchronous mode)"


def test_human_bytes() -> None:
    assert [human_bytes(v) for v in (0, 1023, 1024, 1536, 20 * 1024**2, 3 * 1024**4)] == [
        "0 B", "1023 B", "1 KB", "1.5 KB", "20 MB", "3 TB"]


NEPAL = timezone(timedelta(hours=5, minutes=45))  # an offset no test machine's zone shares by chance
NOW = datetime(2026, 11, 22, 14, 0, 30, tzinfo=NEPAL)


@pytest.mark.parametrize(("text", "expected"), [
    ("in 10m", "2026-11-22T14:10:30+05:45"),
    ("30m", "2026-11-22T14:30:30+05:45"),
    ("in 1h30m", "2026-11-22T15:30:30+05:45"),
    ("2 h", "2026-11-22T16:00:30+05:45"),
    ("90s", "2026-11-22T14:02:00+05:45"),
    ("1d", "2026-11-23T14:00:30+05:45"),
    ("14:30", "2026-11-22T14:30:00+05:45"),
    ("14:00", "2026-11-23T14:00:00+05:45"),  # already past today: tomorrow
    ("9:05", "2026-11-23T09:05:00+05:45"),
    ("2026-11-23T02:00+01:00", "2026-11-23T02:00:00+01:00"),
    ("2026-11-23T02:00:00Z", "2026-11-23T02:00:00+00:00"),
    ("2026-11-23 02:00", "2026-11-23T02:00:00+05:45"),  # no offset: now's zone
])
def test_parse_when(text: str, expected: str) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "say when"),
    ("tomorrow-ish", "cannot read 'tomorrow-ish' as a time"),
    ("25:00", "not a time of day"),
    ("0m", "is not in the future"),
    ("2026-11-22T08:00:00+00:00", "is in the past"),
    ("10", "cannot read '10' as a time"),
])
def test_parse_when_refuses_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        parse_when(text, NOW)
    assert "\n" not in str(refused.value)


def test_parse_when_wall_clock_follows_the_zone_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    evening_before_dst = datetime(2026, 3, 28, 20, 0, tzinfo=berlin)  # +01:00; DST starts overnight

    assert parse_when("12:00", evening_before_dst) == "2026-03-29T12:00:00+02:00"


def test_parse_when_with_a_naive_now_uses_the_local_zone() -> None:
    result = datetime.fromisoformat(parse_when("in 5m", datetime.now()))

    assert result.tzinfo is not None
    assert timedelta(minutes=4) < result - datetime.now().astimezone() <= timedelta(minutes=5)


def test_collector_keeps_url_credentials_out_of_sight() -> None:
    collector = PatroniCollector(["http://admin:s3cret@10.0.0.1:8008/", "http://10.0.0.2:8008"],
                                 username=None, password=None, timeout=1)

    assert collector.urls == ["http://10.0.0.1:8008", "http://10.0.0.2:8008"]
    assert "s3cret" not in repr(collector) and "auth=True" in repr(collector)
    assert api_base("http://10.0.0.3:8008/patroni") == "http://10.0.0.3:8008"


async def test_urls_that_cannot_work_are_named_in_one_line() -> None:
    collector = PatroniCollector(["patroni-host:8008", "ftp://x"], username="u", password="pw", timeout=1)
    try:
        with pytest.raises(PatroniError) as reading:
            await collector.read()
        with pytest.raises(PatroniError) as acting:
            await collector.switchover("pg1", "pg2")
    finally:
        await collector.close()

    expected = ("no Patroni REST API answered: patroni-host:8008: not an http(s) URL; "
                "ftp://x: not an http(s) URL")
    assert str(reading.value) == str(acting.value) == expected
    empty = PatroniCollector([], username=None, password=None, timeout=1)
    with pytest.raises(PatroniError, match=r"set ha\.clusters"):
        await empty.read()

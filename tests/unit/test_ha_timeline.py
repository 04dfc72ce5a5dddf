"""The failover timeline: changes between polls become events, and they survive a restart."""

from __future__ import annotations

from pathlib import Path

from providers.ha.model import PRIMARY, REPLICA, UNKNOWN, HaEvent, Member
from providers.ha.timeline import (
    LEADER_CHANGED,
    MEMBER_BACK,
    MEMBER_LOST,
    REPLICATION_BROKEN,
    REPLICATION_RESTORED,
    TIMELINE_CHANGED,
    Timeline,
    detect,
)


def member(name: str, role: str = REPLICA, *, timeline: int = 1, reachable: bool = True,
           replicating: bool | None = True, error: str = "") -> Member:
    return Member(name, "10.0.0.1", 5432, role, "streaming" if reachable else "unreachable",
                  reachable=reachable, timeline=timeline, replicating=replicating, error=error)


PAIR = (member("pg1", PRIMARY, replicating=None), member("pg2"))


def test_first_poll_has_no_events() -> None:
    assert detect("main", (), None, PAIR, "pg1", 100.0) == []


def test_switchover_is_a_leader_change_and_a_timeline_change() -> None:
    after = (member("pg1", timeline=2), member("pg2", PRIMARY, timeline=2, replicating=None))
    events = detect("main", PAIR, "pg1", after, "pg2", 100.0)
    assert [(e.kind, e.text) for e in events] == [
        (LEADER_CHANGED, "leader pg1 → pg2"), (TIMELINE_CHANGED, "timeline 1 → 2")]


def test_lost_and_back_and_replication_broken_and_restored() -> None:
    lost = (PAIR[0], member("pg2", UNKNOWN, reachable=False, replicating=False, error="connection refused"))
    events = detect("main", PAIR, "pg1", lost, "pg1", 1.0)
    assert [(e.kind, e.member, e.text) for e in events] == [
        (MEMBER_LOST, "pg2", "pg2 lost: connection refused")]
    back = detect("main", lost, "pg1", PAIR, "pg1", 2.0)
    assert [e.kind for e in back] == [MEMBER_BACK, REPLICATION_RESTORED]
    broken = (PAIR[0], member("pg2", replicating=False, error="SQL thread stopped: 1396"))
    assert [(e.kind, e.text) for e in detect("main", PAIR, "pg1", broken, "pg1", 3.0)] == [
        (REPLICATION_BROKEN, "replication broken on pg2: SQL thread stopped: 1396")]


def test_leader_lost_reads_no_leader() -> None:
    events = detect("main", PAIR, "pg1", PAIR, None, 1.0)
    assert events[0].text == "no leader (was pg1)"


def test_events_survive_a_restart_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ha-timeline.jsonl"
    first = Timeline(str(path))
    first.record([HaEvent(1.0, "main", LEADER_CHANGED, "pg2", "leader pg1 → pg2"),
                  HaEvent(2.0, "shop", MEMBER_LOST, "db2", "db2 lost")])
    with path.open("a") as fh:
        fh.write('{"at": 3.0, "cluster": "main", "ki')  # a crash mid-write
    again = Timeline(str(path))
    assert [e.text for e in again.events()] == ["leader pg1 → pg2", "db2 lost"]
    assert [e.text for e in again.events("shop")] == ["db2 lost"]


def test_file_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    timeline = Timeline(str(path), keep=10)
    for i in range(35):
        timeline.record([HaEvent(float(i), "main", MEMBER_LOST, "pg2", f"event {i}")])
    lines = path.read_text().splitlines()
    assert len(lines) <= 20
    assert [e.text for e in Timeline(str(path), keep=10).events()][-1] == "event 34"
    assert len(timeline.events()) == 10


def test_unwritable_file_keeps_events_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    timeline = Timeline(str(blocker / "sub" / "t.jsonl"))  # a file where a directory should be
    timeline.record([HaEvent(1.0, "main", MEMBER_LOST, "pg2", "pg2 lost")])
    assert [e.text for e in timeline.events()] == ["pg2 lost"]

"""What the HA provider adds to a collector's reading: rates, health, members that
vanished, the timeline and fast polling after a leader change. The collectors
themselves are tested against real servers in tests/integration/test_ha_*.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.model import HaClusterSettings, PatroniSettings
from providers.ha.model import (
    BAD,
    BROKEN,
    DEGRADED,
    HEALTHY,
    OK,
    PRIMARY,
    REPLICA,
    UNKNOWN,
    WARN,
    DbStats,
    Member,
    Reading,
)
from providers.ha.provider import HaClusterProvider
from providers.ha.timeline import Timeline


class Scripted:
    """Hands out prepared readings (or raises prepared errors), one per read."""

    def __init__(self, script: list[Reading | Exception]) -> None:
        self.script: Iterator[Reading | Exception] = iter(script)
        self.closed = False

    async def read(self) -> Reading:
        item = next(self.script)
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        self.closed = True


def pg(name: str, role: str = REPLICA, **kw: object) -> Member:
    defaults: dict[str, object] = {"timeline": 1, "replicating": True if role == REPLICA else None,
                                   "upstream": "pg1" if role == REPLICA else None,
                                   "lag_bytes": 0, "lag_seconds": 0.0, "state": "streaming"}
    defaults.update(kw)
    return Member(name, "10.0.0.1", 5432, role, **defaults)  # type: ignore[arg-type]


SETTINGS = HaClusterSettings(name="main", engine="patroni", patroni=PatroniSettings(urls=("http://x",)),
                             lag_warn=10, lag_critical=60, lag_warn_bytes=1000)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def provider(script: list[Reading | Exception], tmp_path: Path, clock: Clock | None = None
             ) -> HaClusterProvider:
    clock = clock or Clock()
    return HaClusterProvider(SETTINGS, Scripted(script), Timeline(str(tmp_path / "t.jsonl")),
                             clock=clock, monotonic=clock)


async def test_rates_come_from_counter_deltas_and_skip_a_reset(tmp_path: Path) -> None:
    clock = Clock()

    def reading(xact: float) -> Reading:
        return Reading((pg("pg1", PRIMARY, stats=DbStats(counters=(("xact", xact),))),), leader="pg1")

    p = provider([reading(100), reading(150), reading(10)], tmp_path, clock)
    first = await p.poll()
    assert first.members[0].rates == ()
    clock.now += 5
    second = await p.poll()
    assert dict(second.members[0].rates) == {"xact_per_s": 10.0}
    assert second.metrics()["pg1.xact_per_s"] == 10.0
    clock.now += 5
    third = await p.poll()  # the server restarted: counters went down, no negative rate
    assert third.members[0].rates == ()


@pytest.mark.parametrize(("member", "health"), [
    (pg("pg2"), OK),
    (pg("pg2", lag_seconds=11.0), WARN),
    (pg("pg2", lag_bytes=5000), WARN),
    (pg("pg2", lag_seconds=61.0), BAD),
    (pg("pg2", replicating=False, error="IO thread: Connecting"), BAD),
    (pg("pg2", reachable=False, state="unreachable"), BAD),
])
async def test_member_health_follows_the_thresholds(member: Member, health: str, tmp_path: Path) -> None:
    snap = await provider([Reading((pg("pg1", PRIMARY), member), leader="pg1")], tmp_path).poll()
    assert snap.member("pg2").health == health  # type: ignore[union-attr]
    assert snap.health == (HEALTHY if health == OK else DEGRADED)


async def test_a_member_the_cluster_stops_listing_stays_marked_unreachable(tmp_path: Path) -> None:
    before = Reading((pg("pg1", PRIMARY), pg("pg2"), pg("pg3")), leader="pg1")
    after = Reading((pg("pg2", PRIMARY, timeline=2), pg("pg3", timeline=2, upstream="pg2")), leader="pg2")
    p = provider([before, after], tmp_path)
    await p.poll()
    snap = await p.poll()
    old = snap.member("pg1")
    assert old is not None and not old.reachable and old.role == UNKNOWN and old.health == BAD
    assert "as primary" in old.error
    assert snap.leader == "pg2"
    assert [e.text for e in snap.events] == ["leader pg1 → pg2", "timeline 1 → 2", "pg1 lost: " + old.error]


async def test_nothing_answering_keeps_the_last_members_unreachable(tmp_path: Path) -> None:
    p = provider([Reading((pg("pg1", PRIMARY), pg("pg2")), leader="pg1"),
                  RuntimeError("no Patroni REST API answered: http://x: connection refused")], tmp_path)
    await p.poll()
    snap = await p.poll()
    assert snap.health == BROKEN
    assert all(not m.reachable for m in snap.members)
    assert snap.problems == ("no Patroni REST API answered: http://x: connection refused",)


async def test_first_poll_failing_raises_for_the_runtime_to_report(tmp_path: Path) -> None:
    p = provider([RuntimeError("no Patroni REST API answered")], tmp_path)
    with pytest.raises(RuntimeError, match="no Patroni REST API answered"):
        await p.poll()


async def test_a_leader_change_makes_it_poll_again_soon(tmp_path: Path) -> None:
    woken: list[int] = []
    a = Reading((pg("pg1", PRIMARY), pg("pg2")), leader="pg1")
    b = Reading((pg("pg1"), pg("pg2", PRIMARY)), leader="pg2")
    p = provider([a, a, b, b], tmp_path)
    p.wake = lambda: woken.append(1)
    await p.poll()
    await p.poll()
    assert woken == []
    await p.poll()
    assert woken == [1]  # follows the change (min_gap spaces the polls)
    assert p.min_gap == 1.0


async def test_timeline_is_shared_and_survives_a_new_provider(tmp_path: Path) -> None:
    a = Reading((pg("pg1", PRIMARY), pg("pg2")), leader="pg1")
    b = Reading((pg("pg1"), pg("pg2", PRIMARY)), leader="pg2")
    p = provider([a, b], tmp_path)
    await p.poll()
    await p.poll()
    again = provider([b], tmp_path)
    snap = await again.poll()
    assert [e.text for e in snap.events] == ["leader pg1 → pg2"]


async def test_only_patroni_clusters_offer_actions(tmp_path: Path) -> None:
    assert {s.id for s in provider([], tmp_path).actions()} >= {"ha.switchover", "ha.failover"}
    plain = HaClusterProvider(HaClusterSettings(name="pg", engine="postgres"), Scripted([]),
                              Timeline(""))
    assert plain.actions() == []
    with pytest.raises(KeyError):
        plain.action_callable("ha.switchover")

"""PatroniCollector against a real three-member Patroni cluster on etcd.

The tests share one session cluster and leave it healthy; the ones that move
the leader wait for the old leader to rejoin, and the destructive one (a
killed leader) runs last and starts the killed member again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest

from providers.ha.model import PRIMARY, REPLICA, Reading
from providers.ha.patroni import AUTH_MESSAGE, PatroniCollector, PatroniError, candidates, parse_when
from tests.support.aws import free_port
from tests.support.patroni import (  # noqa: F401
    REST_PASSWORD,
    REST_USERNAME,
    PatroniCluster,
    patroni_cluster,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def cluster(patroni_cluster: PatroniCluster) -> PatroniCluster:  # noqa: F811
    """The session cluster, healthy (every earlier test leaves it so, this checks)."""
    await patroni_cluster.wait_for_async(patroni_cluster.is_healthy, 60, "a healthy cluster")
    return patroni_cluster


def make_collector(urls: list[str], password: str = REST_PASSWORD) -> PatroniCollector:
    return PatroniCollector(urls, username=REST_USERNAME, password=password, timeout=3.0)


@pytest.fixture
async def collector(cluster: PatroniCluster) -> AsyncIterator[PatroniCollector]:
    c = make_collector(cluster.rest_urls)
    try:
        yield c
    finally:
        await c.close()


async def read_until(collector: PatroniCollector, predicate: Callable[[Reading], bool], timeout: float,
                     what: str) -> Reading:
    """Read until `predicate` holds (a poll with a deadline: the way to wait on a real server)."""
    deadline = time.monotonic() + timeout
    reading: Reading | None = None
    last_error = ""
    while time.monotonic() < deadline:
        try:
            reading = await collector.read()
        except PatroniError as exc:
            reading = None
            last_error = str(exc)
        else:
            if predicate(reading):
                return reading
            last_error = ""
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what} not seen within {timeout:g} s; last reading: {reading} {last_error}")


def leader_timeline(reading: Reading) -> int:
    return next((m.timeline or 0 for m in reading.members if m.name == reading.leader), 0)


def replicas_of(reading: Reading) -> list[str]:
    return [m.name for m in reading.members if m.role == REPLICA]


async def test_read_shows_three_members_one_leader_two_streaming_replicas(
        cluster: PatroniCluster, collector: PatroniCollector) -> None:
    reading = await collector.read()

    assert [m.name for m in reading.members] == cluster.names
    leaders = [m for m in reading.members if m.role == PRIMARY]
    assert [m.name for m in leaders] == [reading.leader] == [cluster.leader()]
    replicas = [m for m in reading.members if m.role == REPLICA]
    assert len(replicas) == 2
    for m in replicas:
        assert m.state == "running" and m.replicating is True, m
        assert m.upstream == reading.leader
        assert m.lag_bytes is not None and m.lag_bytes <= cluster.maximum_lag_on_failover
        assert dict(m.details)["walsender"] == "streaming, async"
    for m in reading.members:
        assert m.reachable and m.host == "127.0.0.1" and m.port == cluster.pg_ports[m.name]
        assert m.timeline is not None and m.timeline >= 1
        assert dict(m.details)["API"] == f"{cluster.rest_url(m.name)}/patroni"
    assert len({m.timeline for m in reading.members}) == 1
    assert dict(leaders[0].details)["Patroni"].split(".")[0].isdigit()
    assert dict(leaders[0].details)["PostgreSQL"].split(".")[0].isdigit()
    assert reading.problems == () and not reading.paused and reading.scheduled_switchover == ""
    assert collector.maximum_lag_on_failover == cluster.maximum_lag_on_failover
    assert all(h.timeline < leaders[0].timeline for h in reading.history)


async def test_a_dead_first_url_still_reads_with_a_problem_line(cluster: PatroniCluster) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    collector = make_collector([dead, *cluster.rest_urls])
    try:
        reading = await collector.read()
    finally:
        await collector.close()

    assert len(reading.members) == 3 and reading.leader == cluster.leader()
    assert reading.problems == (f"{dead} unreachable: connection refused",)


async def test_candidates_mark_the_leader_ineligible_and_offer_the_replicas(
        collector: PatroniCollector) -> None:
    reading = await collector.read()

    options = {o.value: o for o in candidates(reading, collector.maximum_lag_on_failover)}

    assert set(options) == {m.name for m in reading.members}
    assert options[reading.leader].reason == "is the leader"
    for name in replicas_of(reading):
        assert options[name].reason == "", options[name]
        assert options[name].label.startswith(f"{name}  replica  running  lag ")


async def test_scheduled_switchover_shows_and_cancel_removes_it(collector: PatroniCollector) -> None:
    before = await collector.read()
    leader, candidate = before.leader, replicas_of(before)[0]
    at = parse_when("in 1h", datetime.now().astimezone())

    message = await collector.switchover(leader, candidate, at)
    assert message.startswith(f"switchover from {leader} to {candidate} scheduled for {at}")
    try:
        scheduled = await collector.read()
        assert scheduled.scheduled_switchover.startswith("at ")
        assert scheduled.scheduled_switchover.endswith(f"from {leader} to {candidate}")
        assert datetime.fromisoformat(scheduled.scheduled_switchover.split()[1]) == datetime.fromisoformat(at)
        assert scheduled.leader == leader
    finally:
        message = await collector.cancel_switchover()
    assert message.startswith("scheduled switchover cancelled")
    assert (await collector.read()).scheduled_switchover == ""
    with pytest.raises(PatroniError, match=r"^nothing to cancel: no switchover is scheduled$"):
        await collector.cancel_switchover()


async def test_patroni_refusals_come_back_as_one_line_in_patronis_words(
        collector: PatroniCollector) -> None:
    reading = await collector.read()
    candidate = replicas_of(reading)[0]

    with pytest.raises(PatroniError) as wrong_leader:
        await collector.switchover(candidate, reading.leader)
    assert str(wrong_leader.value) == (f"switchover from {candidate} to {reading.leader} refused: "
                                       "leader name does not match")
    with pytest.raises(PatroniError) as no_such:
        await collector.failover("pg9")
    assert str(no_such.value) == "failover to pg9 refused: candidate does not exists"
    assert (await collector.read()).leader == reading.leader


async def test_wrong_credentials_give_one_line_without_the_password(cluster: PatroniCluster) -> None:
    collector = make_collector(cluster.rest_urls, password="wrong-secret-42")
    try:
        leader = cluster.leader()
        with pytest.raises(PatroniError) as refused:
            await collector.switchover(leader, next(n for n in cluster.names if n != leader))
    finally:
        await collector.close()
    assert str(refused.value) == AUTH_MESSAGE
    assert "wrong-secret-42" not in str(refused.value) and "wrong-secret-42" not in repr(collector)
    assert cluster.leader() == leader


async def test_wrong_urls_give_one_line_naming_each(cluster: PatroniCluster) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    secret_url = f"http://admin:hunter2@127.0.0.1:{free_port()}"
    collector = make_collector([dead, cluster.etcd_url, secret_url])
    try:
        with pytest.raises(PatroniError) as nothing:
            await collector.read()
    finally:
        await collector.close()
    text = str(nothing.value)
    assert "\n" not in text and "hunter2" not in text
    assert text.startswith(f"no Patroni REST API answered: {dead}: connection refused; "
                           f"{cluster.etcd_url}: GET /cluster answered HTTP 404")
    assert text.endswith(f"; {secret_url.replace('admin:hunter2@', '')}: connection refused")


async def test_switchover_makes_the_candidate_leader_on_a_new_timeline(
        cluster: PatroniCluster, collector: PatroniCollector) -> None:
    before = await collector.read()
    leader, candidate = before.leader, replicas_of(before)[-1]
    old_timeline = next(m.timeline for m in before.members if m.name == leader)

    message = await collector.switchover(leader, candidate)

    assert message.startswith(f"switchover to {candidate} done: ")
    # Patroni writes the new leader key before the promoted member publishes its new
    # timeline (next HA loop), so wait for both rather than read them at one instant.
    after = await read_until(
        collector, lambda r: r.leader == candidate and leader_timeline(r) > old_timeline
        and any(h.timeline == old_timeline for h in r.history),
        30, f"{candidate} leading on a timeline after {old_timeline} with a /history row for it")
    new = next(m for m in after.members if m.name == candidate)
    assert new.role == PRIMARY and new.timeline is not None and new.timeline > old_timeline
    assert len(after.history) == len(before.history) + 1
    assert after.history[-1].timeline == old_timeline and after.history[-1].lsn
    assert after.history[-1].reason.endswith(f"new leader {candidate}")
    await cluster.wait_for_async(cluster.is_healthy, 60, f"{leader} back as a streaming replica")


async def test_failover_action_promotes_the_candidate(
        cluster: PatroniCluster, collector: PatroniCollector) -> None:
    before = await collector.read()
    candidate = replicas_of(before)[0]

    old_timeline = next(m.timeline for m in before.members if m.name == before.leader)

    message = await collector.failover(candidate)

    assert message.startswith(f"failover to {candidate} done: ")
    after = await read_until(
        collector, lambda r: r.leader == candidate and leader_timeline(r) > old_timeline
        and any(h.timeline == old_timeline for h in r.history), 30,
        f"{candidate} leading with a /history row for timeline {old_timeline}")
    assert after.history[-1].timeline == old_timeline
    await cluster.wait_for_async(cluster.is_healthy, 60, f"{before.leader} back as a streaming replica")


async def test_a_killed_leader_fails_over_and_its_dead_url_does_not_blind_us(
        cluster: PatroniCluster) -> None:
    """Destructive: runs last; the killed member is started again and rejoins."""
    old = cluster.leader()
    collector = make_collector([cluster.rest_url(old)])  # only the leader configured
    try:
        first = await collector.read()
        others, old_timeline = set(cluster.names) - {old}, leader_timeline(first)
        cluster.kill_member(old)
        try:
            # The DCS still lists the dead leader until its key expires (ttl): shown unreachable.
            during = await collector.read()
            dead = next(m for m in during.members if m.name == old)
            assert (dead.reachable, during.leader) == (False, old)
            assert dead.error == f"Patroni REST API {cluster.rest_url(old)} unreachable: connection refused"
            assert during.problems == (f"{cluster.rest_url(old)} unreachable: connection refused",)
            assert {o.value: o.reason for o in candidates(during)}[old] == "is the leader"

            def failed_over(r: Reading) -> bool:
                return (r.leader in others and leader_timeline(r) > old_timeline
                        and any(h.timeline == old_timeline for h in r.history)
                        and all(m.state != "running" for m in r.members if m.name == old))

            after = await read_until(collector, failed_over, cluster.ttl + 30,
                                     f"a new leader among {sorted(others)}")
        finally:
            cluster.start_member(old)
        assert after.problems[0] == f"{cluster.rest_url(old)} unreachable: connection refused"
        assert after.history[-1].timeline == old_timeline
        assert after.history[-1].reason.endswith(f"new leader {after.leader}")
        await cluster.wait_for_async(cluster.is_healthy, 90, f"{old} rejoined as a streaming replica")
        rejoined = await read_until(collector, lambda r: r.problems == () and len(r.members) == 3, 10,
                                    f"{old} answering again")
        assert next(m for m in rejoined.members if m.name == old).role == REPLICA
    finally:
        await collector.close()

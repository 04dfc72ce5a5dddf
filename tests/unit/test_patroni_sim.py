"""The demo's simulated Patroni cluster, through its REST API as a client sees it:
switchover, scheduled switchover on a fake clock, cancel, failover, Patroni's
refusals, and the life (lag, automatic switchovers) driven by explicit steps."""

from __future__ import annotations

import base64
import itertools
import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tui.demo.patroni_sim import MB, PatroniCluster, PatroniSim, scheduled_in

T0 = 1_790_000_000.0


@dataclass
class FakeClock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    sim: PatroniSim
    clock: FakeClock
    http: aiohttp.ClientSession

    @property
    def cluster(self) -> PatroniCluster:
        return self.sim.cluster

    def url(self, member: str) -> str:
        return self.sim.urls[int(member[2:]) - 1]

    async def get(self, path: str, member: str = "pg3") -> Any:
        async with self.http.get(self.url(member) + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def send(self, method: str, path: str, body: dict[str, Any] | None = None,
                   member: str = "pg3") -> tuple[int, str]:
        async with self.http.request(method, self.url(member) + path, json=body) as response:
            return response.status, await response.text()

    def advance(self, seconds: float, step: float = 1.0) -> None:
        while seconds > 0:
            dt = min(step, seconds)
            self.clock.now += dt
            seconds -= dt
            self.cluster.step()


async def _running(**auth: str) -> AsyncIterator[Running]:
    clock = FakeClock()
    cluster = PatroniCluster(seed=5, clock=clock, switchover_every=None)
    sim = PatroniSim(cluster, tick=None, switchover_delay=0.0, **auth)
    await sim.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Running(sim, clock, http)
    finally:
        await sim.stop()


@pytest.fixture
async def patroni() -> AsyncIterator[Running]:
    async for running in _running():
        yield running


def leader_of(cluster: dict[str, Any]) -> dict[str, Any]:
    (leader,) = [m for m in cluster["members"] if m["role"] == "leader"]
    return leader


async def test_cluster_lists_three_members_each_reachable_at_its_api_url(patroni: Running) -> None:
    cluster = await patroni.get("/cluster")
    assert cluster["scope"] == "demo"
    assert [m["name"] for m in cluster["members"]] == ["pg1", "pg2", "pg3"]
    assert leader_of(cluster)["name"] == "pg1"
    ports = {m["api_url"] for m in cluster["members"]}
    assert len(ports) == 3
    for m in cluster["members"]:
        async with patroni.http.get(m["api_url"]) as response:
            status = await response.json()
        assert status["patroni"]["name"] == m["name"]
        assert status["role"] == ("primary" if m["role"] == "leader" else "replica")
        if m["role"] != "leader":
            assert m["state"] == "streaming" and isinstance(m["lag"], int)
            assert {"receive_lag", "replay_lag", "lsn"} <= m.keys()
        async with patroni.http.get(m["api_url"].removesuffix("/patroni") + "/") as response:
            assert response.status == (200 if m["role"] == "leader" else 503)


async def test_switchover_moves_the_leader_opens_a_timeline_and_a_history_row(patroni: Running) -> None:
    before = await patroni.get("/cluster")
    history = await patroni.get("/history")
    timeline = leader_of(before)["timeline"]

    status, text = await patroni.send("POST", "/switchover", {"leader": "pg1", "candidate": "pg2"})

    assert (status, text) == (200, 'Successfully switched over to "pg2"')
    after = await patroni.get("/cluster", member="pg1")
    assert leader_of(after)["name"] == "pg2"
    assert leader_of(after)["timeline"] == timeline + 1
    rows = await patroni.get("/history")
    assert len(rows) == len(history) + 1
    assert rows[-1][0] == timeline and rows[-1][4] == "pg2"
    assert rows[-1][2] == "no recovery target specified"
    pg1 = next(m for m in after["members"] if m["name"] == "pg1")
    assert (pg1["role"], pg1["state"]) == ("replica", "starting")
    patroni.advance(patroni.cluster.restart_seconds + 1)
    pg1 = next(m for m in (await patroni.get("/cluster"))["members"] if m["name"] == "pg1")
    assert (pg1["state"], pg1["timeline"]) == ("streaming", timeline + 1)


@pytest.mark.parametrize(("body", "status", "text"), [
    ({"leader": "pg1", "candidate": "pg9"}, 412, "candidate does not exists"),
    ({"leader": "pg2", "candidate": "pg3"}, 412, "leader name does not match"),
    ({"candidate": "pg3"}, 400, "Switchover could be performed only from a specific leader"),
    ({"leader": "pg1", "candidate": "pg1"}, 400, "Switchover target and source are the same"),
])
async def test_wrong_switchover_is_refused_with_patronis_words(
        patroni: Running, body: dict[str, str], status: int, text: str) -> None:
    assert await patroni.send("POST", "/switchover", body) == (status, text)
    assert leader_of(await patroni.get("/cluster"))["name"] == "pg1"


async def test_a_candidate_too_far_behind_fails_the_switchover(patroni: Running) -> None:
    patroni.cluster.members["pg3"].receive_lsn -= 200 * MB  # far beyond maximum_lag_on_failover

    assert await patroni.send("POST", "/switchover", {"leader": "pg1", "candidate": "pg3"}) == (
        503, "Switchover failed")
    cluster = await patroni.get("/cluster")
    assert leader_of(cluster)["name"] == "pg1" and leader_of(cluster)["state"] == "running"


async def test_scheduled_switchover_shows_and_runs_at_its_time(patroni: Running) -> None:
    at = scheduled_in(patroni.cluster, 600)

    assert await patroni.send("POST", "/switchover", {"leader": "pg1", "candidate": "pg3", "scheduled_at": at}
                              ) == (202, "Switchover scheduled")

    assert (await patroni.get("/cluster"))["scheduled_switchover"] == {"at": at, "from": "pg1", "to": "pg3"}
    patroni.advance(590)
    assert leader_of(await patroni.get("/cluster"))["name"] == "pg1"
    patroni.advance(20)
    cluster = await patroni.get("/cluster")
    assert leader_of(cluster)["name"] == "pg3"
    assert "scheduled_switchover" not in cluster
    assert (await patroni.get("/history"))[-1][4] == "pg3"


async def test_cancelled_switchover_never_runs(patroni: Running) -> None:
    assert await patroni.send("DELETE", "/switchover") == (404, "no switchover is scheduled")
    at = scheduled_in(patroni.cluster, 60)
    await patroni.send("POST", "/switchover", {"leader": "pg1", "candidate": "pg2", "scheduled_at": at})

    assert await patroni.send("DELETE", "/switchover") == (200, "scheduled switchover deleted")

    assert "scheduled_switchover" not in await patroni.get("/cluster")
    patroni.advance(120)
    assert leader_of(await patroni.get("/cluster"))["name"] == "pg1"


@pytest.mark.parametrize(("at", "status", "text"), [
    (-60, 422, "Cannot schedule switchover in the past"),
    ("2030-01-01T10:00:00", 400, "Timezone information is mandatory for the scheduled switchover"),
    ("tomorrow", 422,
     "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601"),
])
async def test_bad_schedule_is_refused(patroni: Running, at: Any, status: int, text: str) -> None:
    when = scheduled_in(patroni.cluster, at) if isinstance(at, int) else at
    body = {"leader": "pg1", "candidate": "pg2", "scheduled_at": when}
    assert await patroni.send("POST", "/switchover", body) == (status, text)


async def test_failover_promotes_the_candidate(patroni: Running) -> None:
    assert await patroni.send("POST", "/failover", {}) == (400, "Bad request")
    assert await patroni.send("POST", "/failover", {"leader": "pg1"}) == (
        400, "Failover could be performed only to a specific candidate")

    assert await patroni.send("POST", "/failover", {"candidate": "pg3"}, member="pg2") == (
        200, 'Successfully failed over to "pg3"')
    assert leader_of(await patroni.get("/cluster"))["name"] == "pg3"


async def test_life_drifts_lag_with_rare_large_lag_and_switches_over_on_its_own() -> None:
    clock = FakeClock()
    cluster = PatroniCluster(seed=11, clock=clock, switchover_every=240.0)
    lags: list[int] = []
    leaders = []
    for _ in range(900):
        clock.now += 1
        cluster.step()
        lags += [cluster.lag_of(m) for m in cluster.members.values() if not m.leader]
        leaders.append(cluster.leader.name if cluster.leader else None)
    assert statistics.median(lags) < 1 * MB
    assert max(lags) > cluster.maximum_lag_on_failover
    assert sum(a != b for a, b in itertools.pairwise(leaders)) == 3  # every 240 s
    assert [row[0] for row in cluster.history_json()][-3:] == [3, 4, 5]


def test_same_seed_same_life() -> None:
    def run() -> dict[str, Any]:
        clock = FakeClock()
        cluster = PatroniCluster(seed=3, clock=clock)
        for _ in range(300):
            clock.now += 1
            cluster.step()
        return {"cluster": cluster.cluster_json(), "history": cluster.history_json()}

    assert run() == run()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_credentials_are_required_for_actions_when_configured() -> None:
    async for p in _running(username="admin", password="s3cret"):
        body = {"leader": "pg1", "candidate": "pg2"}
        assert await p.send("POST", "/switchover", body) == (401, "no auth header received")
        async with p.http.post(p.url("pg1") + "/switchover", json=body,
                               headers=basic("admin", "wrong")) as response:
            assert (response.status, await response.text()) == (401, "not authenticated")
            assert response.headers["WWW-Authenticate"] == 'Basic realm="Patroni"'
        async with p.http.post(p.url("pg1") + "/switchover", json=body,
                               headers=basic("admin", "s3cret")) as response:
            assert response.status == 200
        assert leader_of(await p.get("/cluster"))["name"] == "pg2"

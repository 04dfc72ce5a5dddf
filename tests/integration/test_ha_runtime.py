"""Several HA clusters polled together by the real Runtime: a wrong DSN, a wrong password
and an unreachable Patroni URL each become one line, and the healthy cluster keeps updating."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from config.model import DbMembersSettings, HaClusterSettings, PatroniSettings
from providers.ha.build import collector_for
from providers.ha.model import HEALTHY, HaSnapshot
from providers.ha.provider import HaClusterProvider
from providers.ha.timeline import Timeline
from providers.runtime import Runtime
from providers.store import Store
from tests.support.pg import (
    PgPair,
    free_port,
    pg_pair,  # noqa: F401
)
from tests.support.pg import healthy_pg_pair as pair  # noqa: F401

pytestmark = pytest.mark.integration


def pg_cluster(name: str, dsns: tuple[str, ...], password: str) -> HaClusterSettings:
    return HaClusterSettings(name=name, engine="postgres", interval=0.5, connect_timeout=1.0,
                             statement_timeout=2.0, db=DbMembersSettings(members=dsns, password=password))


async def test_bad_clusters_are_one_line_each_and_the_good_one_keeps_updating(
        pair: PgPair, tmp_path: Path) -> None:  # noqa: F811
    closed = free_port()
    dead_url = f"http://127.0.0.1:{free_port()}"
    clusters = [
        pg_cluster("good", pair.dsns, pair.password),
        pg_cluster("wrongpass", (pair.dsns[0],), "not-the-password"),
        pg_cluster("wrongdsn", (f"host=127.0.0.1 port={closed} user=x dbname=postgres",), "x"),
        HaClusterSettings(name="deadapi", engine="patroni", interval=0.5, connect_timeout=1.0,
                          statement_timeout=1.0, patroni=PatroniSettings(urls=(dead_url,))),
    ]
    timeline = Timeline(str(tmp_path / "t.jsonl"))
    providers = [HaClusterProvider(c, collector_for(c), timeline) for c in clusters]
    store = Store()
    runtime = Runtime(providers, store, max_concurrency=2, jitter=0.0, redact=lambda s: s)
    polled: dict[str, int] = {}
    enough = asyncio.Event()

    def on_poll(name: str) -> None:
        polled[name] = polled.get(name, 0) + 1
        if polled.get("ha.good", 0) >= 3 and all(polled.get(p.name) for p in providers):
            enough.set()

    runtime.subscribe(on_poll)
    runtime.start()
    try:
        async with asyncio.timeout(30):
            await enough.wait()
    finally:
        await runtime.stop()
        for p in providers:
            await p.close()

    good = store.latest("ha.good").snapshot  # type: ignore[union-attr]
    assert isinstance(good, HaSnapshot) and good.health == HEALTHY and len(good.members) == 2

    wrongpass = store.latest("ha.wrongpass").snapshot  # type: ignore[union-attr]
    (member,) = wrongpass.members  # type: ignore[attr-defined]
    assert not member.reachable and "\n" not in member.error
    assert "password authentication failed" in member.error
    assert "ha.clusters[].postgres.password" in member.error
    assert "not-the-password" not in member.error

    wrongdsn = store.latest("ha.wrongdsn").snapshot  # type: ignore[union-attr]
    (member,) = wrongdsn.members  # type: ignore[attr-defined]
    assert not member.reachable and "\n" not in member.error
    assert f"127.0.0.1:{closed}" in member.error

    # Nothing ever answered: no snapshot, the runtime holds the one-line error for the status line.
    assert store.latest("ha.deadapi") is None
    error = runtime.states["ha.deadapi"].last_error or ""
    assert dead_url in error and "\n" not in error

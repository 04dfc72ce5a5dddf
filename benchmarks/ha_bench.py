"""HA tab figures (issue 6) against real servers started here:

1. Switchover → Store: a three-member Patroni cluster on etcd (tests/support/patroni.py)
   polled by the real HA provider inside a Runtime (interval --interval, default 5 s, the
   config default). --switchovers times: the provider's switchover action (what the gate
   calls) to a healthy replica; t0 = Patroni answered 200 (the action returned). Measured:
   until Patroni's own /cluster names the new leader (read every 250 ms by this script, so
   an upper bound: Patroni's part), and until the Store holds a snapshot whose leader is the
   candidate (ours; the target is at most two poll intervals).
2. Poll cost per member: each engine's provider polled --polls times in a row against the
   Patroni cluster (3 members, REST only), a PostgreSQL primary + replica (tests/support/pg.py,
   stats on) and a MariaDB primary + replica (tests/support/mariadb.py, stats on): median
   wall and CPU time (this process) per poll, and per member.

Prints figures, the machine and the commit; asserts nothing.
    python benchmarks/ha_bench.py [--switchovers 5] [--polls 30] [--interval 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.model import DbMembersSettings, HaClusterSettings, PatroniSettings  # noqa: E402
from providers.base import ActionTarget  # noqa: E402
from providers.ha.build import collector_for  # noqa: E402
from providers.ha.provider import HaClusterProvider  # noqa: E402
from providers.ha.timeline import Timeline  # noqa: E402
from providers.runtime import Runtime  # noqa: E402
from providers.store import Store  # noqa: E402


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; {commit}"


def ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (f"median {statistics.median(values) * 1000:.0f} ms, min {min(values) * 1000:.0f}, "
            f"max {max(values) * 1000:.0f} (n={len(values)})")


def patroni_settings(cluster: Any, name: str, interval: float = 5.0) -> HaClusterSettings:
    return HaClusterSettings(name=name, engine="patroni", interval=interval, patroni=PatroniSettings(
        urls=tuple(cluster.rest_urls), username=cluster.rest_username, password=cluster.rest_password))


async def switchovers(cluster: Any, count: int, interval: float, tmp: str) -> None:
    settings = patroni_settings(cluster, "bench", interval)
    provider = HaClusterProvider(settings, collector_for(settings), Timeline(os.path.join(tmp, "t.jsonl")))
    store = Store()
    runtime = Runtime([provider], store, max_concurrency=2, jitter=0.0)
    changed = asyncio.Event()
    runtime.subscribe(lambda name: changed.set())
    runtime.start()

    async def until(check: Any) -> None:
        while not check():
            changed.clear()
            await changed.wait()

    def leader() -> str | None:
        stored = store.latest(provider.name)
        return stored.snapshot.leader if stored is not None else None  # type: ignore[attr-defined]

    ours: list[float] = []
    patronis: list[float] = []
    posts: list[float] = []
    try:
        await until(lambda: leader() is not None)
        for i in range(count):
            await asyncio.to_thread(cluster.wait_healthy)
            await until(lambda: all(m.health == "ok" for m in store.latest(provider.name).snapshot.members))  # type: ignore[union-attr,attr-defined]
            snap = store.latest(provider.name).snapshot  # type: ignore[union-attr]
            old = snap.leader  # type: ignore[attr-defined]
            candidate = next(m.name for m in snap.members if m.name != old)  # type: ignore[attr-defined]
            target = ActionTarget("cluster", "bench", "bench", {}, params={"candidate": candidate},
                                  provider=provider.name)
            posted = time.monotonic()
            result = await provider.action_callable("ha.switchover")(target)
            t0 = time.monotonic()
            posts.append(t0 - posted)
            if not result.ok:
                print(f"  switchover {i + 1}: FAILED {result.message}")
                continue

            def seen_by_patroni(cand: str = candidate) -> float:
                cluster.wait_for(lambda c: any(m["name"] == cand and m["role"] == "leader"
                                               for m in c["members"]), 60.0)
                return time.monotonic()

            published = asyncio.create_task(asyncio.to_thread(seen_by_patroni))
            await until(lambda cand=candidate: leader() == cand)
            ours.append(time.monotonic() - t0)
            patronis.append(await published - t0)
            print(f"  switchover {i + 1}: {old} → {candidate}: /cluster {patronis[-1] * 1000:.0f} ms, "
                  f"Store {ours[-1] * 1000:.0f} ms after the 200")
    finally:
        await runtime.stop()
        await provider.close()
    print(f"switchover POST → Patroni's 200 (Patroni answers when the new leader runs): {ms(posts)}")
    print(f"switchover 200 → /cluster names the new leader (read every 250 ms): {ms(patronis)}")
    print(f"switchover 200 → Store holds the new leader: {ms(ours)}; "
          f"poll interval {interval:g} s (target ≤ {2 * interval:g} s)")


async def poll_cost(name: str, provider: HaClusterProvider, polls: int) -> None:
    await provider.poll()  # connects
    walls, cpus = [], []
    members = 1
    for _ in range(polls):
        w, c = time.perf_counter(), time.process_time()
        snap = await provider.poll()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        members = max(1, len(snap.members))
    await provider.close()
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"  {name:<22} {members} members: poll median {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU; "
          f"per member {wall / members * 1000:.1f} ms wall, {cpu / members * 1000:.2f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--switchovers", type=int, default=5)
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    from tests.support.mariadb import running_mariadb_pair
    from tests.support.patroni import running_patroni_cluster
    from tests.support.pg import PgPair

    print(machine())
    tmp = tempfile.mkdtemp(prefix="stacktop-ha-bench-")
    started = time.monotonic()
    with running_patroni_cluster() as cluster:
        print(f"Patroni cluster healthy in {time.monotonic() - started:.1f} s")
        asyncio.run(switchovers(cluster, args.switchovers, args.interval, tmp))
        print("poll cost:")
        patroni = patroni_settings(cluster, "p")
        asyncio.run(poll_cost("patroni (REST)", HaClusterProvider(
            patroni, collector_for(patroni), Timeline("")), args.polls))
    pair = PgPair.create()
    try:
        pg = HaClusterSettings(name="pg", engine="postgres",
                               db=DbMembersSettings(members=pair.dsns, password=pair.password))
        asyncio.run(poll_cost("postgres (stats on)", HaClusterProvider(pg, collector_for(pg), Timeline("")),
                              args.polls))
    finally:
        pair.close()
    with running_mariadb_pair() as maria:
        mdb = HaClusterSettings(name="m", engine="mariadb",
                                db=DbMembersSettings(members=maria.dsns, password=maria.monitor_password))
        asyncio.run(poll_cost("mariadb (stats on)", HaClusterProvider(mdb, collector_for(mdb), Timeline("")),
                              args.polls))


if __name__ == "__main__":
    main()

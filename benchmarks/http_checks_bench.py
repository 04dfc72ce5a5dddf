"""HTTP health checks (issue 8), measured here:

1. Poll cost: the real HttpChecksProvider running N checks (all due) against a
   local aiohttp server answering at once: median wall time per poll, and the
   CPU time the process spent per poll (requests, fresh connections, statistics).
2. Statistics: the status (pruning, avg/p95/p99, error rate) of one check holding
   a full window of MAX_RESULTS results: median wall time per status.

Prints figures, the machine and the commit; asserts nothing.
    python benchmarks/http_checks_bench.py [--checks 50] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ha_bench import machine  # noqa: E402
from config.model import HttpCheckSettings  # noqa: E402
from providers.http_checks import MAX_RESULTS, CheckResult, HttpChecksProvider, _Check  # noqa: E402


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.2f} ms, min {min(values) * 1000:.2f}, "
            f"max {max(values) * 1000:.2f} (n={len(values)})")


async def bench_poll(checks: int, runs: int) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ok", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    now = [1_800_000_000.0]
    provider = HttpChecksProvider(
        [HttpCheckSettings(name=f"c{i}", url=f"http://127.0.0.1:{port}/ok?i={i}", interval=1.0,
                           body_match="ok") for i in range(checks)],
        clock=lambda: now[0])
    try:
        await provider.poll()  # the session, imports and the first connections
        walls, cpus = [], []
        for _ in range(runs):
            now[0] += 1.0
            wall, cpu = time.perf_counter(), time.process_time()
            snap = await provider.poll()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        up = sum(1 for c in snap.checks if c.state == "up")
        print(f"poll of {checks} checks ({up} up; server in the same process): wall {ms(walls)}")
        print(f"  CPU per poll (client and server): {ms(cpus)}")
    finally:
        await provider.close()
        await runner.cleanup()


def bench_status(runs: int) -> None:
    check = _Check(HttpCheckSettings(name="full", url="http://x/", window=1e9), str)
    for k in range(MAX_RESULTS):
        check.record(CheckResult(k % 20 != 0, float(k), 200, 0.01 + (k * 7919 % 1000) / 10_000))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        check.status(float(MAX_RESULTS))
        times.append(time.perf_counter() - started)
    print(f"status of a check with {MAX_RESULTS} results in its window: {ms(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(machine())
    asyncio.run(bench_poll(args.checks, args.runs))
    bench_status(args.runs)


if __name__ == "__main__":
    main()

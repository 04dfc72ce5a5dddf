"""Costs tab figures (issue 9), measured here:

1. Cost Explorer answer -> Spend: the real CostExplorer reading one injected
   answer from a moto server (daily x SERVICE x LINKED_ACCOUNT over last month
   and this month, paged as Cost Explorer pages), then the same from the disk
   cache after a restart: median wall time, and how many requests each sent.
2. Waste scan: scan_partition over a moto region seeded with N instances and M
   unattached volumes (plus 14 days of daily CPU for every instance): median wall
   time per scan, and the API calls it made.
3. Report rendering: render() of a snapshot with the answer of (1) and the
   findings of (2) as HTML, CSV and JSON: median time and size.

Prints figures, the machine and the commit; asserts nothing.
    python benchmarks/costs_bench.py [--services 40] [--accounts 20] [--instances 1000]
                                     [--volumes 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

from benchmarks.ha_bench import machine  # noqa: E402
from config.model import WasteSettings  # noqa: E402
from providers.costs.cache import CostCache  # noqa: E402
from providers.costs.explorer import CostExplorer  # noqa: E402
from providers.costs.model import CostsSnapshot  # noqa: E402
from providers.costs.prices import PriceTable  # noqa: E402
from providers.costs.report import render  # noqa: E402
from providers.costs.waste import scan_partition  # noqa: E402
from tests.support.aws import FaultProxy, MotoServer, boto_client  # noqa: E402
from tui.demo.ce_results import cost_and_usage_result, inject, paged, steady_days  # noqa: E402


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.1f} ms, min {min(values) * 1000:.1f}, "
            f"max {max(values) * 1000:.1f} (n={len(values)})")


def bench_explorer(url: str, services: int, accounts: int, runs: int) -> object:
    today = datetime.now(UTC).date()
    per_day = {(f"Service {s:02d}", f"{100000000000 + a:012d}"): 1.0 + s * 0.1 + a * 0.01
               for s in range(services) for a in range(accounts)}
    days = steady_days(today.strftime("%Y-%m"), today, per_day, growth=0.002)
    groups = sum(len(v) for v in days.values())
    result = cost_and_usage_result(days)
    pages = max(1, groups // 5000)  # Cost Explorer pages answers of this size
    spend = None
    cold, warm, sent = [], [], []
    for _ in range(runs):
        boto_client("ec2", url)  # keep moto warm
        with tempfile.TemporaryDirectory() as tmp, FaultProxy(url) as proxy:
            from urllib.request import Request, urlopen
            with urlopen(Request(f"{url}/moto-api/reset", data=b"", method="POST"), timeout=10) as r:
                r.read()
            inject(url, paged(result, pages))
            ce = boto_client("ce", proxy.url)
            explorer = CostExplorer(lambda c=ce: c, CostCache(str(Path(tmp) / "c.json")), use_forecast=False)
            started = time.perf_counter()
            spend = explorer.spend()
            cold.append(time.perf_counter() - started)
            sent.append(len(proxy.operations("ce")))
            again = CostExplorer(lambda c=ce: c, CostCache(str(Path(tmp) / "c.json")), use_forecast=False)
            started = time.perf_counter()
            again.spend()
            warm.append(time.perf_counter() - started)
            assert len(proxy.operations("ce")) == sent[-1]
    print(f"1. Cost Explorer: {services} services x {accounts} accounts x {len(days)} days = "
          f"{groups:,} groups in {pages} pages")
    print(f"   first read (moto + parse): {ms(cold)}; requests sent: {statistics.median(sent):.0f}")
    print(f"   after a restart (disk cache): {ms(warm)}; requests sent: 0")
    return spend


def bench_scan(url: str, instances: int, volumes: int, runs: int) -> list:
    from urllib.request import Request, urlopen

    from tui.demo.aws_fleet import seed_bulk

    with urlopen(Request(f"{url}/moto-api/reset", data=b"", method="POST"), timeout=10) as r:
        r.read()
    started = time.perf_counter()
    seed_bulk(url, regions=["us-east-1"], instances=instances, volumes=volumes)
    print(f"2. waste scan: seeded {instances} instances, {volumes} unattached volumes in "
          f"{time.perf_counter() - started:.1f} s")
    prices = PriceTable.load()
    times, calls, found = [], [], []
    for _ in range(runs):
        with FaultProxy(url) as proxy:
            clients = {s: boto_client(s, proxy.url) for s in ("ec2", "rds", "elbv2", "cloudwatch")}
            started = time.perf_counter()
            findings = scan_partition(clients.__getitem__, account="prod", region="us-east-1",
                                      settings=WasteSettings(), prices=prices, now=time.time())
            times.append(time.perf_counter() - started)
            calls.append(len(proxy.requests))
            found.append(len(findings))
    print(f"   scan: {ms(times)}; API calls {statistics.median(calls):.0f}; findings "
          f"{statistics.median(found):.0f}")
    return findings


def bench_report(spend: object, findings: list, runs: int) -> None:
    snapshot = CostsSnapshot(taken_at=time.time(), spend=spend, findings=tuple(findings))  # type: ignore[arg-type]
    for fmt in ("html", "csv", "json"):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            text = render(snapshot, fmt)
            times.append(time.perf_counter() - started)
        print(f"3. report {fmt}: {ms(times)}; {len(text.encode()) / 1024:.0f} KiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--volumes", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    server = MotoServer()
    try:
        spend = bench_explorer(server.url, args.services, args.accounts, args.runs)
        findings = bench_scan(server.url, args.instances, args.volumes, args.runs)
        bench_report(spend, findings, args.runs)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

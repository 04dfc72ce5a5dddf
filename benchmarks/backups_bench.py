"""Backups tab figures (issue 7), measured here:

1. Retention planner: plan_retention over N backups (a nightly series with hourly
   extras, GFS keep_daily 7 / weekly 4 / monthly 12 / yearly 5, max_age 5 years)
   in Europe/Berlin: median wall time per plan.
2. Poll cost of a dumps target: the real provider polling a directory of N dump
   files named by a pattern (listing + plan + status): median wall time per poll.
3. EBS listing: the real provider polling a target with N snapshots in a moto
   server (DescribeSnapshots paginated + plan + status): median per poll.
4. Cron: walking a year of nightly runs and a week of five-minute runs forward
   (next_after) and back (previous_before) in Europe/Berlin, and a rare schedule
   (Feb 29 that is a Sunday): median per walk.

Prints figures, the machine and the commit; asserts nothing.
    python benchmarks/backups_bench.py [--sizes 100,1000,10000] [--runs 7] [--snapshots 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ha_bench import machine  # noqa: E402
from config.model import (  # noqa: E402
    AwsAccountSettings,
    BackupSourceSettings,
    BackupTargetSettings,
    RetentionSettings,
)
from providers.backups.model import Backup  # noqa: E402
from providers.backups.provider import BackupTargetProvider  # noqa: E402
from providers.backups.retention import plan_retention  # noqa: E402

POLICY = RetentionSettings(keep_daily=7, keep_weekly=4, keep_monthly=12, keep_yearly=5, min_keep=3,
                           max_age=5 * 365 * 86400.0)
BERLIN = ZoneInfo("Europe/Berlin")


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.1f} ms, min {min(values) * 1000:.1f}, "
            f"max {max(values) * 1000:.1f} (n={len(values)})")


def series(n: int, now: float) -> list[Backup]:
    """n backups, every 2 h back from now (about 83 days per 1,000)."""
    return [Backup(f"b{i:06d}", now - i * 7200.0, size=10_000_000 + i) for i in range(n)]


def bench_planner(sizes: list[int], runs: int) -> None:
    now = time.time()
    for n in sizes:
        backups = series(n, now)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            plan = plan_retention(backups, POLICY, now, BERLIN)
            times.append(time.perf_counter() - t0)
        print(f"  plan {n:>6} backups: {ms(times)}; deletes {len(plan.delete)}")


def bench_dumps(sizes: list[int], runs: int) -> None:
    from providers.backups.dumps import DumpFilesSource

    now = time.time()
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="stacktop-bench-dumps-") as tmp:
            for b in series(n, now):
                name = datetime.fromtimestamp(b.time, UTC).strftime("db-%Y%m%d-%H%M%S.dump")
                (Path(tmp) / name).write_bytes(b"x")
            source = BackupSourceSettings("dumps", directory=tmp, pattern="db-%Y%m%d-%H%M%S.dump")
            target = BackupTargetSettings("db", source, schedule="0 */2 * * *", rpo=86400.0, retention=POLICY)
            provider = BackupTargetProvider(target, DumpFilesSource(source, "db"), None, BERLIN)
            times = asyncio.run(_polls(provider, runs))
            print(f"  dumps poll {n:>6} files: {ms(times)}")


def bench_ebs(count: int, runs: int) -> None:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    from providers.aws.session import AccountClients
    from providers.backups.aws_sources import EbsSnapshotSource

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=url,
                           aws_access_key_id="bench", aws_secret_access_key="bench")
        vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=100)["VolumeId"]
        t0 = time.perf_counter()
        for _ in range(count):
            ec2.create_snapshot(VolumeId=vol)
        seeded = time.perf_counter() - t0
        account = AwsAccountSettings("bench", regions=("us-east-1",), endpoint_url=url,
                                     access_key_id="bench", secret_access_key="bench")
        source = BackupSourceSettings("ebs", account="bench", region="us-east-1", volume_id=vol)
        target = BackupTargetSettings("vol", source, rpo=86400.0, retention=POLICY)
        clients = AccountClients(account, read_only=True, max_attempts=1)
        provider = BackupTargetProvider(target, EbsSnapshotSource(source, clients, "vol"), None, BERLIN)
        times = asyncio.run(_polls(provider, runs))
        print(f"  EBS poll {count} snapshots (moto, seeded in {seeded:.1f} s): {ms(times)}")
    finally:
        server.stop()


def bench_cron(runs: int) -> None:
    from providers.backups.cron import parse

    start = datetime(2026, 3, 25, tzinfo=BERLIN).timestamp()
    for expr, days in (("0 2 * * *", 365), ("*/5 * * * *", 7), ("0 0 29 2 */7", 365 * 40)):
        cron, end = parse(expr), start + days * 86400
        times, count = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            ts, count = start, 0
            while (ts := cron.next_after(ts, BERLIN)) < end:
                count += 1
            while (ts := cron.previous_before(ts, BERLIN)) > start:
                pass
            times.append(time.perf_counter() - t0)
        print(f"  {expr!r:>16} over {days} days ({count} runs, forward and back): {ms(times)}")


async def _polls(provider: BackupTargetProvider, runs: int) -> list[float]:
    await provider.poll()  # warm: imports, first listing
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await provider.poll()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--snapshots", type=int, default=1000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(machine())
    print("retention planner (Europe/Berlin, GFS 7/4/12/5, max_age 5y):")
    bench_planner(sizes, args.runs)
    print("dumps target poll (listing + plan + status):")
    bench_dumps(sizes, args.runs)
    print("cron walks (Europe/Berlin):")
    bench_cron(args.runs)
    print("EBS target poll:")
    bench_ebs(args.snapshots, args.runs)


if __name__ == "__main__":
    main()

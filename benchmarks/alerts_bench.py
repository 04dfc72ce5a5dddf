"""Alerts figures (issue 8), measured here:

1. Rule evaluation: RuleEngine.evaluate over R rules and S samples (a fleet of
   host, HA, backup and per-instance AWS samples; a quarter of the rules use a
   wildcard segment; each rule finds 1-5 % of its samples true) with the state in a
   SQLite file: median wall time per evaluation, and for the first one (which
   creates every pending alert).
2. The alerts provider's poll (samples read from a Store holding N EC2 instances'
   snapshots + evaluation + listing for the tab), as the console runs it.
3. Notifier routing: Notifier.process over A firing alerts in G groups with
   nothing due (the common case between sends).

Prints figures, the machine and the commit; asserts nothing.
    python benchmarks/alerts_bench.py [--rules 200] [--samples 2000] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ha_bench import machine  # noqa: E402
from config.model import AlertsSettings, ChannelSettings, RouteSettings  # noqa: E402
from providers.alerts.engine import RuleEngine  # noqa: E402
from providers.alerts.expr import parse  # noqa: E402
from providers.alerts.model import Rule  # noqa: E402
from providers.alerts.state import AlertStore  # noqa: E402
from providers.base import Sample, labels_of  # noqa: E402

METRICS = ("aws.ec2.cpu", "ha.lag_seconds", "backups.rpo_breached", "http.{n}.error_rate")


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.2f} ms, min {min(values) * 1000:.2f}, "
            f"max {max(values) * 1000:.2f} (n={len(values)})")


def fleet(n: int, now: float) -> list[Sample]:
    """n samples: instances' CPU, members' lag, targets' RPO flag, checks' error rate."""
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append(Sample("aws.ec2.cpu", labels_of(account="prod", region="eu-west-1",
                                                       instance=f"i-{i:017x}"), float(i % 100), now))
        elif kind == 1:
            out.append(Sample("ha.lag_seconds", labels_of(cluster=f"c{i % 20}", member=f"m{i}"),
                              float(i % 60), now))
        elif kind == 2:
            out.append(Sample("backups.rpo_breached", labels_of(target=f"t{i}"), float(i % 10 == 2), now))
        else:
            out.append(Sample(f"http.check{i}.error_rate", labels_of(check=f"check{i}"),
                              (i % 100) / 1000, now))
    return out


def rules(r: int) -> list[Rule]:
    exprs = ["aws.ec2.cpu > {t}", "ha.lag_seconds{{cluster=\"c{c}\"}} > {t}",
             "backups.rpo_breached{{target=~\"t{c}.*\"}} == 1", "http.*.error_rate > 0.098"]
    out = []
    for i in range(r):
        text = exprs[i % 4].format(t=97 + i % 3, c=i % 20)
        out.append(Rule(name=f"Rule{i}", expr=text, query=parse(text), for_=60.0))
    return out


def bench_engine(r: int, s: int, runs: int) -> None:
    now = time.time()
    samples = fleet(s, now)
    with tempfile.TemporaryDirectory() as tmp:
        store = AlertStore(str(Path(tmp) / "alerts.db"))
        engine = RuleEngine(rules(r), store, clock=lambda: now)
        started = time.perf_counter()
        engine.evaluate(samples, now)
        first = time.perf_counter() - started
        times = []
        for k in range(runs):
            started = time.perf_counter()
            engine.evaluate(samples, now + 5 * (k + 1))
            times.append(time.perf_counter() - started)
        listed = len(engine.alerts(now + 5 * runs))
        store.close()
    print(f"evaluate {r} rules over {s} samples: first {first * 1000:.1f} ms (creates {listed} alerts); "
          f"steady {ms(times)}")


def bench_notifier(alerts_n: int, groups: int, runs: int) -> None:
    from providers.alerts.model import FIRING, Alert, fingerprint
    from providers.alerts.notify import Notifier
    from providers.alerts.notify_log import NotificationLog

    now = time.time()
    alerts = []
    for i in range(alerts_n):
        labels = labels_of(alertname=f"Rule{i % groups}", severity="warning", instance=f"i{i}")
        alerts.append(Alert(fingerprint(labels), f"Rule{i % groups}", FIRING, "warning", labels,
                            active_since=now - 600, firing_since=now - 600))
    channel = ChannelSettings("hook", "webhook", url="http://127.0.0.1:9/none")
    route = RouteSettings(channels=("hook",), group_wait=1e9)  # nothing ever due: routing cost only

    async def run() -> list[float]:
        with tempfile.TemporaryDirectory() as tmp:
            notifier = Notifier((channel,), (route,), NotificationLog(str(Path(tmp) / "n.jsonl")),
                                state_path=str(Path(tmp) / "n.json"), clock=lambda: now)
            times = []
            for k in range(runs):
                started = time.perf_counter()
                notifier.process(alerts, now + k)
                times.append(time.perf_counter() - started)
            await notifier.close()
            return times

    print(f"notifier.process {alerts_n} firing alerts in {groups} groups, nothing due: "
          f"{ms(asyncio.run(run()))}")


def bench_provider(instances: int, runs: int) -> None:
    from providers.alerts.build import rule_from_settings
    from providers.alerts.provider import AlertsProvider
    from providers.aws.records import Ec2Instance, MetricWindow
    from providers.aws.snapshot import AwsSnapshot
    from providers.store import Store

    now = time.time()
    items = tuple(Ec2Instance("prod", "eu-west-1", f"i-{i:017x}", f"web-{i}", "t3.small", "running",
                              "eu-west-1a", "10.0.0.1", "", now - 86400, "linux",
                              metrics={"cpu": MetricWindow("cpu", "percent", (now,), (float(i % 100),))})
                  for i in range(instances))
    from config import load_settings

    settings = load_settings(str(ROOT / "config" / "default.yaml"), None)
    with tempfile.TemporaryDirectory() as tmp:
        alerts = AlertsSettings(state_file=str(Path(tmp) / "a.db"),
                                notification_log=str(Path(tmp) / "n.jsonl"), rules=settings.alerts.rules)
        provider = AlertsProvider(alerts, [rule_from_settings(r) for r in alerts.rules], user="bench")
        store = Store()
        store.put("aws.ec2", AwsSnapshot(now, "ec2", items, ()), time.monotonic())
        provider.bind_store(store)

        async def run() -> list[float]:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                await provider.poll()
                times.append(time.perf_counter() - started)
            await provider.close()
            return times

        times = asyncio.run(run())
    print(f"alerts provider poll, {len(alerts.rules)} default rules, store with {instances} EC2 "
          f"instances: {ms(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(machine())
    bench_engine(args.rules, args.samples, args.runs)
    bench_engine(args.rules * 5, args.samples * 5, max(5, args.runs // 3))
    bench_provider(1000, args.runs)
    bench_notifier(1000, 50, args.runs)


if __name__ == "__main__":
    main()

"""stacktop against a large AWS fleet in moto: poll time, EC2 view, filter latency, steady cost.

Issue 4 asks how the console copes with 10,000 EC2 instances and 5,000 volumes across
4 regions. This script builds that fleet in moto and measures, in this order:

1. moto: started as a separate process (aws_bench_seed.py: moto.server with a linear EC2
   tag lookup, or as installed with --moto-as-is; a free port on 127.0.0.1,
   MOTO_EC2_LOAD_DEFAULT_AMIS=false), so its CPU is never counted as stacktop's; seeded
   with `tui.demo.aws_fleet.seed_bulk` (timed). moto gives every instance a root volume,
   so EBS lists instances + volumes.
2. one full poll, in this process: `AwsServiceProvider.poll()` for ec2 with CloudWatch
   metrics (period 5 m, window 3 h: 3 queries per running instance, 500 per
   GetMetricData call), ec2 without metrics, and ebs, --polls times each, through the
   console's own Runtime (4 worker threads). Wall time and the CPU this process spent,
   for the first poll (every page parsed) and the later ones (the fleet unchanged: what
   the console pays every interval); item counts prove the poll read everything.
3. the console: `stacktop watch --config FILE` (host provider at its defaults, one AWS
   account "bench" with every interval at --aws-interval, 30 s) in a private tmux
   server, 120x40, TERM=tmux-256color, --runs times:
   - first frame: launch until the host view shows its process table and `host ● ok`;
   - launch to data: until the view bar shows `EC2 <all instances>`, and `EBS <all
     volumes>`;
   - data to first frame of the EC2 view: `e` pressed once both counts show, until the
     table shows data rows (the view is built then: first show); then `h`, `e` again
     --switches times (the view exists: a switch);
   - filter keystroke to frame: `/` (not timed), then one seeded instance id and Enter
     in ONE tmux command, until the only data row on screen is that instance; then `/`
     and Escape (clear, also timed) until all rows are back; --presses times;
   - a steady-state window of --seconds on the EC2 view: CPU % of one core (also per
     second), RSS and bytes/s written to the terminal (WindowMeter), and moto's CPU
     beside it; then --busy-presses filters sent while a poll is being read;
   - the console's own log: which polls failed, and why.
   A window holds a whole poll cycle of each service only by luck, so the report also
   gives the steady CPU over whole cycles: CPU per poll of the unchanged fleet (step 2)
   over interval + poll time, plus the console's idle CPU.

Latency is measured as in table_bench.py: from just before `tmux send-keys` until a
`capture-pane` (polled with a 2 ms pause) shows the change; nothing is subtracted.
moto is terminated (by its PID) at the end, also after an error or Ctrl-C.

    python benchmarks/aws_bench.py --runs 3 --seconds 60          # the reference run, ~13 min
    python benchmarks/aws_bench.py --instances 400 --volumes 200 --runs 1 --seconds 5 \\
        --presses 3 --polls 1                                     # a smoke test, ~1-2 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from tmuxbench import (
    MIB,
    TERM,
    BenchError,
    PrivateTmux,
    WindowMeter,
    app_process,
    cpu_seconds,
    format_table,
    have_tmux,
    machine,
    machine_line,
    median_range,
    poll_round_trip,
    reap,
    timed_keys,
    wait_for_screen,
)

ROOT = Path(__file__).resolve().parent.parent
SERVER = Path(__file__).resolve().with_name("aws_bench_seed.py")  # moto with a linear tag lookup
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # providers, config and tui.demo come from this checkout

ACCOUNT = "bench"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
FIRST_FRAME_MARKERS = ("PID", "host ● ok")
EC2_COUNT = re.compile(r"\bEC2 (\d[\d,]*)")
EBS_COUNT = re.compile(r"\bEBS (\d[\d,]*)")
# An EC2 data row starts with the account column; the detail pane's title starts with a space.
DATA_ROW = re.compile(rf"^{ACCOUNT}\s+\S+.*?\b(i-[0-9a-f]{{8,17}})\b", re.MULTILINE)
DATA_POLL = 0.1  # while waiting seconds for AWS data: fewer tmux clients competing for 2 cores
SETTLE = 0.3  # between presses, so one press's work never overlaps the next
METRIC_PERIOD = 300.0
METRIC_WINDOW = 3 * 3600.0
MAX_QUERIES = 500  # GetMetricData queries per call (providers/aws/cloudwatch.py)
EC2_QUERIES_PER_INSTANCE = 3  # cpu, net_in, net_out for each running instance
WORKERS = 4  # runtime.max_concurrency's default: the console's worker threads
BUSY_PERCENT = 60.0  # the app's CPU that says "a poll is being read" (idle: ~1 %)
BUSY_SAMPLE = 0.25
TARGETS = {"filter_ms": 50.0, "cpu_percent": 5.0, "rss_mb": 250.0}


# ------------------------------------------------------------------------ moto


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """moto in server mode, in a process of its own; stop() ends exactly that process."""

    def __init__(self, workdir: Path, python: str) -> None:
        self.workdir, self.python = workdir, python
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = workdir / "moto.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, as_is: bool, timeout: float = 60.0) -> None:
        self.port = free_port()
        env = dict(os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false")
        command = [self.python, str(SERVER), "--host", "127.0.0.1", "--port", str(self.port),
                   *(["--as-is"] if as_is else [])]
        with self.log_path.open("wb") as log:  # moto logs one line per request
            # A session of its own: Ctrl-C in the terminal reaches this script, which then
            # stops moto itself (in `finally`), rather than both racing to exit.
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"moto exited with status {self.proc.returncode}: {self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"moto did not answer on {self.endpoint} within {timeout:g} s")
            time.sleep(0.1)

    def process(self) -> psutil.Process:
        if self.proc is None:
            raise BenchError("moto is not running")
        return psutil.Process(self.proc.pid)

    def cpu_seconds(self) -> float:
        times = self.process().cpu_times()
        return times.user + times.system

    def rss_mb(self) -> float:
        return self.process().memory_info().rss / MIB

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return lines[-1] if lines else "no output"
        return "no output"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# ------------------------------------------------------------------------ polls


@dataclass
class PollFigures:
    """One kind of poll (ec2 with metrics, ec2 without, ebs), --polls times."""

    label: str
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)  # this process: botocore + our records
    moto_cpu_s: list[float] = field(default_factory=list)
    items: int = 0
    running: int = 0
    metric_queries: int = 0
    metric_calls: int = 0
    with_metrics: int = 0  # instances that came back with at least one metric window
    failures: list[str] = field(default_factory=list)  # polls where some region failed


async def _time_polls(endpoint: str, regions: tuple[str, ...], polls: int, moto: MotoServer | None,
                      ) -> tuple[list[PollFigures], list[str]]:
    from config.model import AwsAccountSettings, AwsMetricSettings
    from providers.aws.provider import AwsServiceProvider
    from providers.aws.session import AccountClients
    from providers.runtime import Runtime
    from providers.store import Store
    from tui.demo.aws_fleet import DEMO_ACCESS_KEY, DEMO_SECRET_KEY

    settings = AwsAccountSettings(name=ACCOUNT, regions=regions, endpoint_url=endpoint,
                                  access_key_id=DEMO_ACCESS_KEY, secret_access_key=DEMO_SECRET_KEY)
    kinds = (("ec2 with metrics", "ec2", True), ("ec2, metrics off", "ec2", False), ("ebs", "ebs", False))
    providers = []
    for _, service, metrics in kinds:
        # One account's clients per provider, created by its first poll, as the console does.
        clients = AccountClients(settings, read_only=True, max_attempts=1)
        providers.append(AwsServiceProvider(
            service, [clients], interval=30.0, timeout=600.0,
            metrics=AwsMetricSettings(enabled=metrics, period=METRIC_PERIOD, window=METRIC_WINDOW)))
    runtime = Runtime(providers, Store(), max_concurrency=WORKERS)  # binds run_blocking to its pool
    figures = [PollFigures(label) for label, _, _ in kinds]
    ids: list[str] = []
    try:
        for n in range(polls):
            for fig, provider in zip(figures, providers, strict=True):
                moto_before = moto.cpu_seconds() if moto else 0.0
                cpu_before = time.process_time()
                t0 = time.perf_counter()
                try:
                    snap = await provider.poll()
                    errors = [f"{p.region}: {p.error}" for p in snap.partitions if p.error]
                except Exception as exc:  # AwsUnavailable: every region failed
                    errors = [str(exc)]
                wall = time.perf_counter() - t0
                if errors:  # a failed poll is a figure too, but not a poll time
                    fig.failures.append(f"poll {n + 1} after {wall:.1f} s: {errors[0]}")
                    print(f"poll {n + 1}/{polls} {fig.label} FAILED after {wall:.1f} s: {errors[0]}",
                          file=sys.stderr)
                    continue
                fig.wall_s.append(wall)
                fig.cpu_s.append(time.process_time() - cpu_before)
                if moto:
                    fig.moto_cpu_s.append(moto.cpu_seconds() - moto_before)
                fig.items = len(snap.items)
                if provider.service == "ec2":
                    ids = sorted(i.id for i in snap.items)  # type: ignore[attr-defined]
                    fig.running = sum(1 for i in snap.items if getattr(i, "state", "") == "running")
                    if provider.metrics.enabled:
                        per_region: dict[str, int] = {}
                        for item in snap.items:
                            if item.state == "running":  # type: ignore[attr-defined]
                                per_region[item.region] = per_region.get(item.region, 0) + 1
                        fig.metric_queries = EC2_QUERIES_PER_INSTANCE * sum(per_region.values())
                        fig.metric_calls = sum(math.ceil(EC2_QUERIES_PER_INSTANCE * c / MAX_QUERIES)
                                               for c in per_region.values())
                        fig.with_metrics = sum(1 for i in snap.items if getattr(i, "metrics", None))
                moto_cpu = f", moto {fig.moto_cpu_s[-1]:.2f} s" if moto else ""
                print(f"poll {n + 1}/{polls} {fig.label}: {wall:.2f} s, {fig.items:,} items, "
                      f"CPU here {fig.cpu_s[-1]:.2f} s{moto_cpu}", file=sys.stderr)
    finally:
        await runtime.stop()
    for fig in figures:
        if not fig.wall_s:
            raise BenchError(f"every {fig.label} poll failed: {fig.failures[0]}")
    return figures, ids


def time_polls(endpoint: str, regions: tuple[str, ...], polls: int, moto: MotoServer | None,
               ) -> tuple[list[PollFigures], list[str]]:
    """Figures per kind of poll, and every instance id the polls saw (sorted)."""
    return asyncio.run(_time_polls(endpoint, regions, polls, moto))


# ------------------------------------------------------------------------ screens


def count(pattern: re.Pattern[str], screen: str) -> int | None:
    match = pattern.search(screen)
    return int(match.group(1).replace(",", "")) if match else None


def data_ids(screen: str) -> list[str]:
    return DATA_ROW.findall(screen)


def wait_for_counts(tmux: PrivateTmux, pane: str, instances: int, volumes: int, t0: float,
                    timeout: float) -> tuple[float, float]:
    """Seconds from t0 until the view bar shows `EC2 <instances>`, and `EBS <volumes>`
    (each on its own: whichever poll ends first), polled every 0.1 s."""
    seen: dict[str, float] = {}

    def ready(screen: str) -> bool:
        now = time.monotonic() - t0
        if count(EC2_COUNT, screen) == instances:
            seen.setdefault("ec2", now)
        if count(EBS_COUNT, screen) == volumes:
            seen.setdefault("ebs", now)
        return len(seen) == 2

    wait_for_screen(tmux, pane, ready, t0, timeout, f"the view bar's 'EC2 {instances}' and 'EBS {volumes}'",
                    interval=DATA_POLL)
    return seen["ec2"], seen["ebs"]


def wait_busy(app: psutil.Process, timeout: float) -> float | None:
    """Wait until the app burns >= BUSY_PERCENT of a core over BUSY_SAMPLE s (a poll of the
    fleet is being read); returns that CPU %, or None if no poll got that busy (a small fleet)."""
    deadline = time.monotonic() + timeout
    before, t_before = sum(cpu_seconds(app).values()), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(BUSY_SAMPLE)
        busy, t = sum(cpu_seconds(app).values()), time.monotonic()
        percent = (busy - before) / (t - t_before) * 100
        if percent >= BUSY_PERCENT:
            return percent
        before, t_before = busy, t
    return None


def ec2_rows_shown(screen: str) -> bool:
    return bool(data_ids(screen))


def host_shown(screen: str) -> bool:
    return "PID" in screen and not data_ids(screen)


def only(instance: str) -> Callable[[str], bool]:
    def ready(screen: str) -> bool:
        return data_ids(screen) == [instance]
    return ready


def several_rows(screen: str) -> bool:
    return len(data_ids(screen)) > 1


def bar_open(screen: str) -> bool:
    """The filter input has the keys: the bar's hint (or, in builds where the bar sat
    under the footer, the footer's Escape binding)."""
    return "Esc clears" in screen or "esc Clear filter" in screen


# ------------------------------------------------------------------------ one run


@dataclass
class AppRun:
    """The raw figures of one launch of `stacktop watch`; --json writes these."""

    first_frame_s: float
    launch_to_ec2_s: float
    launch_to_ebs_s: float
    ec2_view_first_s: float
    ec2_view_switch_s: list[float] = field(default_factory=list)
    filter_s: list[float] = field(default_factory=list)
    clear_s: list[float] = field(default_factory=list)
    poll_s: float = 0.0
    window_s: float = 0.0
    cpu_percent: float = 0.0
    rss_mb: float = 0.0
    bytes_per_s: float = 0.0
    moto_cpu_percent: float | None = None
    cpu_per_second: list[float] = field(default_factory=list)
    rss_max_mb: float = 0.0
    busy_filter_s: list[float] = field(default_factory=list)  # filter while a poll is being read
    busy_cpu_percent: list[float] = field(default_factory=list)  # the app's CPU just before each
    failures: dict[str, int] = field(default_factory=dict)  # failed polls the console logged, by message
    filtered_ids: list[str] = field(default_factory=list)


def write_config(path: Path, endpoint: str, regions: tuple[str, ...], interval: float, work: Path) -> None:
    from tui.demo.aws_fleet import DEMO_ACCESS_KEY, DEMO_SECRET_KEY

    every = ", ".join(f"{s}: {interval:g}s" for s in ("ec2", "ebs", "rds", "s3", "lambda", "elb"))
    path.write_text(
        "# written by benchmarks/aws_bench.py\n"
        f"log: {{file: {json.dumps(str(work / 'stacktop.log'))}}}\n"
        f"audit: {{file: {json.dumps(str(work / 'audit.jsonl'))}}}\n"
        "providers:\n"
        "  host: {enabled: true}\n"
        "  aws:\n"
        "    accounts:\n"
        f"      - name: {ACCOUNT}\n"
        f"        regions: [{', '.join(regions)}]\n"
        f"        endpoint_url: {endpoint}\n"
        f"        access_key_id: {DEMO_ACCESS_KEY}\n"
        f"        secret_access_key: {DEMO_SECRET_KEY}\n"
        f"    intervals: {{{every}}}\n"
        "    max_attempts: 1\n"
    )


def stacktop_command() -> str:
    """The installed console script next to this interpreter (as tests/support does)."""
    path = os.path.join(sysconfig.get_path("scripts"), "stacktop")
    if not os.path.exists(path):
        raise BenchError(f"{path} missing: install the project first (pip install -e .)")
    return path


FAILED = re.compile(r"^(?:provider (\S+) failed: |aws (\S+ \S+) failed: )(.*)$")


def logged_failures(log_file: Path) -> dict[str, int]:
    """The console's own log: how often each provider (or AWS partition) failed, and why."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in log_file.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                match = FAILED.match(json.loads(line).get("msg", ""))
                if match:
                    who = match.group(1) or "aws." + match.group(2).split()[0]
                    why = re.sub(r"\d+(\.\d+)?s\b", "Ns", match.group(3))[:80]
                    key = f"{who}: {why}"
                    out[key] = out.get(key, 0) + 1
    return out


def each_second(app: psutil.Process, end: float) -> tuple[list[float], float]:
    """Sleep until `end`, sampling the app's CPU (% of one core) over each second, and its
    largest RSS (MB): a poll of the fleet shows as a burst, the time between polls as quiet."""
    out: list[float] = []
    rss_max = 0.0
    before, t_before = sum(cpu_seconds(app).values()), time.monotonic()
    while (now := time.monotonic()) < end:
        time.sleep(min(1.0, end - now))
        busy, t = sum(cpu_seconds(app).values()), time.monotonic()
        out.append((busy - before) / (t - t_before) * 100)
        rss_max = max(rss_max, app.memory_info().rss / MIB)
        before, t_before = busy, t
    return out, rss_max


def one_run(args: argparse.Namespace, endpoint: str, moto: MotoServer | None, instances: int, volumes: int,
            picks: list[str]) -> AppRun:
    with tempfile.TemporaryDirectory(prefix="stacktop-aws-bench-") as tmp:
        work = Path(tmp)
        config = work / "config.yaml"
        write_config(config, endpoint, args.regions, args.aws_interval, work)
        command = "exec " + shlex.join([stacktop_command(), "watch", "--config", str(config),
                                        "--log-file", str(work / "stacktop.log")])
        tmux = PrivateTmux(work, args.width, args.height)
        pane_pid = 0
        try:
            t0 = time.monotonic()
            pane = tmux.new_session(command)
            first = wait_for_screen(tmux, pane, lambda s: all(m in s for m in FIRST_FRAME_MARKERS), t0,
                                    args.first_frame_timeout, "first frame (the host view)")
            pane_pid = tmux.pane_pid(pane)
            app = app_process(pane_pid)
            to_ec2, to_ebs = wait_for_counts(tmux, pane, instances, volumes, t0, args.data_timeout)
            time.sleep(SETTLE)
            view_first = timed_keys(tmux, pane, [["e"]], ec2_rows_shown, "EC2 rows after 'e'")
            switches = []
            for _ in range(args.switches):
                time.sleep(SETTLE)
                timed_keys(tmux, pane, [["h"]], host_shown, "the host view after 'h'")
                time.sleep(SETTLE)
                switches.append(timed_keys(tmux, pane, [["e"]], ec2_rows_shown, "EC2 rows after 'e'"))
            time.sleep(SETTLE)
            poll = poll_round_trip(tmux, pane)
            filters, clears = [], []
            for instance in picks[:args.presses]:
                tmux.send_keys(pane, "/", literal=True)
                wait_for_screen(tmux, pane, bar_open, time.monotonic(), 10.0, "the filter bar")
                time.sleep(SETTLE)
                filters.append(timed_keys(tmux, pane, [["-l", instance], ["Enter"]], only(instance),
                                          f"the {instance} filter"))
                time.sleep(SETTLE)
                tmux.send_keys(pane, "/", literal=True)
                wait_for_screen(tmux, pane, bar_open, time.monotonic(), 10.0, "the filter bar")
                time.sleep(SETTLE)
                clears.append(timed_keys(tmux, pane, [["Escape"]], several_rows, "the cleared filter"))
                time.sleep(SETTLE)
            meter = WindowMeter(tmux, pane, app, work)
            moto_start = moto.cpu_seconds() if moto else 0.0
            meter.start()
            w0 = time.monotonic()
            per_second, rss_max = each_second(app, w0 + args.seconds)
            meter.stop()
            moto_cpu = (moto.cpu_seconds() - moto_start) / (time.monotonic() - w0) * 100 if moto else None
            dead = tmux.dead_reason(pane)
            if dead:
                raise BenchError(f"{dead} during the window")
            if not ec2_rows_shown(tmux.capture(pane)):
                raise BenchError("the EC2 view was not on screen at the end of the window")
            busy_filters, busy_cpu = [], []
            for instance in picks[:args.busy_presses]:
                tmux.send_keys(pane, "/", literal=True)
                wait_for_screen(tmux, pane, bar_open, time.monotonic(), 10.0, "the filter bar")
                percent = wait_busy(app, args.busy_timeout)
                if percent is None:
                    print(f"no poll used >= {BUSY_PERCENT:g} % CPU within {args.busy_timeout:.0f} s: "
                          "no more filters during a poll", file=sys.stderr)
                    break
                busy_cpu.append(percent)
                busy_filters.append(timed_keys(tmux, pane, [["-l", instance], ["Enter"]], only(instance),
                                               f"the {instance} filter during a poll"))
                time.sleep(SETTLE)
                tmux.send_keys(pane, "/", literal=True)
                wait_for_screen(tmux, pane, bar_open, time.monotonic(), 30.0, "the filter bar")
                timed_keys(tmux, pane, [["Escape"]], several_rows, "the cleared filter")
                time.sleep(SETTLE)
        finally:
            tmux.kill()
            if pane_pid:
                reap(pane_pid)
        window = meter.result()
        failures = logged_failures(work / "stacktop.log")
    return AppRun(first_frame_s=first, launch_to_ec2_s=to_ec2, launch_to_ebs_s=to_ebs,
                  ec2_view_first_s=view_first, ec2_view_switch_s=switches, filter_s=filters,
                  clear_s=clears, poll_s=poll, window_s=window.seconds, cpu_percent=window.cpu_percent,
                  rss_mb=window.rss_mb, bytes_per_s=window.bytes_per_s, moto_cpu_percent=moto_cpu,
                  cpu_per_second=per_second, rss_max_mb=rss_max, busy_filter_s=busy_filters,
                  busy_cpu_percent=busy_cpu, filtered_ids=list(picks), failures=failures)


# ------------------------------------------------------------------------ report


def cell(values: list[float], fmt: str) -> str:
    median, spread = median_range(values, fmt)
    return f"{median} ({spread})"


def verdict(value: float, target: float) -> str:
    return "yes" if value <= target else "NO"


def report(args: argparse.Namespace, info: dict[str, str], setup: dict[str, Any], polls: list[PollFigures],
           runs: list[AppRun]) -> str:
    lines = [
        machine_line(info),
        f"code: {info['commit']}",
        f"load average (1, 5, 15 min): {info['load_start']} at the start, {info['load_end']} at the end "
        "(other programs share these cores)",
        f"fleet: {setup['instances']:,} instances, {setup['volumes']:,} volumes "
        f"({setup['volumes_listed']:,} listed, root volumes included) in "
        f"{len(args.regions)} regions ({', '.join(args.regions)})",
        f"moto {setup['moto_version']}: {setup['moto']}; seeding took {setup['seed_s']:.1f} s",
        f"console: stacktop watch, every AWS interval {args.aws_interval:g} s, host provider at its "
        f"defaults, metrics every {METRIC_PERIOD / 60:g} m over {METRIC_WINDOW / 3600:g} h",
        f"terminal: {args.width}x{args.height}, TERM={TERM}; window {args.seconds:g} s; "
        f"{args.runs} run(s), {args.polls} poll(s) each kind; median (min-max)",
        "",
        f"one full poll, in-process ({WORKERS} worker threads, as the console):",
        "",
    ]
    table = [["poll", "first: wall s", "CPU s here", "later: wall s", "CPU s here", "moto CPU s", "items",
              "failed", "GetMetricData"]]
    for fig in polls:
        metrics = (f"{fig.metric_queries:,} queries, {fig.metric_calls} calls, "
                   f"{fig.with_metrics:,} with data") if fig.metric_queries else "—"
        table.append([fig.label, f"{fig.wall_s[0]:.2f}", f"{fig.cpu_s[0]:.2f}",
                      cell(fig.wall_s[1:], "{:.2f}"), cell(fig.cpu_s[1:], "{:.2f}"),
                      cell(fig.moto_cpu_s, "{:.2f}"), f"{fig.items:,}",
                      f"{len(fig.failures)}/{len(fig.failures) + len(fig.wall_s)}", metrics])
    lines.append(format_table(table, right=[False, True, True, True, True, True, True, True, False]))
    lines.append("first: the first poll (new clients, every page parsed); later: the fleet unchanged "
                 "(what the console pays every interval); moto CPU: all polls")
    lines += [f"  {fig.label} failed: {why}" for fig in polls for why in fig.failures]
    lines += ["", "the console in tmux:", ""]
    per_run = {
        "first frame (host view) s": ([r.first_frame_s for r in runs], "{:.2f}"),
        "launch to EC2 count s": ([r.launch_to_ec2_s for r in runs], "{:.1f}"),
        "launch to EBS count s": ([r.launch_to_ebs_s for r in runs], "{:.1f}"),
        "EC2 view, first show ('e') ms": ([r.ec2_view_first_s * 1000 for r in runs], "{:.0f}"),
        "EC2 view, switch back ('h', 'e') ms": (
            [statistics.median(r.ec2_view_switch_s) * 1000 for r in runs if r.ec2_view_switch_s], "{:.0f}"),
        "filter: '/', id + Enter in one send ms": (
            [statistics.median(r.filter_s) * 1000 for r in runs if r.filter_s], "{:.0f}"),
        "clear: '/', Escape ms": ([statistics.median(r.clear_s) * 1000 for r in runs if r.clear_s], "{:.0f}"),
        "filter during a poll ms": (
            [statistics.median(r.busy_filter_s) * 1000 for r in runs if r.busy_filter_s], "{:.0f}"),
        "CPU % of one core, the window": ([r.cpu_percent for r in runs], "{:.1f}"),
        "busiest second, CPU %": ([max(r.cpu_per_second, default=0.0) for r in runs], "{:.0f}"),
        "seconds over 20 % CPU": ([sum(1 for v in r.cpu_per_second if v > 20) for r in runs], "{:.0f}"),
        "RSS MB, end of the window": ([r.rss_mb for r in runs], "{:.1f}"),
        "RSS MB, largest in the window": ([r.rss_max_mb for r in runs], "{:.1f}"),
        "KB/s to the terminal": ([r.bytes_per_s / 1024 for r in runs], "{:.1f}"),
        "moto CPU % (not stacktop's)": ([r.moto_cpu_percent for r in runs if r.moto_cpu_percent is not None],
                                        "{:.1f}"),
    }
    every = {
        "EC2 view, switch back ('h', 'e') ms": [v * 1000 for r in runs for v in r.ec2_view_switch_s],
        "filter: '/', id + Enter in one send ms": [v * 1000 for r in runs for v in r.filter_s],
        "clear: '/', Escape ms": [v * 1000 for r in runs for v in r.clear_s],
        "filter during a poll ms": [v * 1000 for r in runs for v in r.busy_filter_s],
    }
    rows = [["figure", "median (min-max)", "every press min-max"]]
    for label, (values, fmt) in per_run.items():
        spread = median_range(every[label], "{:.0f}")[1] if label in every else ""
        rows.append([label, cell(values, fmt), spread])
    lines.append(format_table(rows, right=[False, True, True]))
    poll = statistics.median(r.poll_s for r in runs) * 1000
    lines.append(f"keys: median of each run's median ({args.switches} switches, {args.presses} presses "
                 f"a run); send-keys at t0, capture-pane every 2 ms until the change shows; one capture-pane "
                 f"{poll:.1f} ms; nothing subtracted; Escape includes Textual's 100 ms ESCDELAY")
    lines.append(f"filter during a poll: after the window, {args.busy_presses} a run, sent once the app used "
                 f">= {BUSY_PERCENT:g} % of a core over {BUSY_SAMPLE:g} s (a poll being read)")
    filt = statistics.median(statistics.median(r.filter_s) for r in runs) * 1000
    cpu = statistics.median(r.cpu_percent for r in runs)
    rss = statistics.median(r.rss_mb for r in runs)
    estimate, parts = cycle_estimate(args, polls, runs)
    keys = sorted({key for r in runs for key in r.failures})
    lines += ["", "failed polls in the console's log, per run: " + ("none" if not keys else "")]
    lines += [f"  {key}: {', '.join(str(r.failures.get(key, 0)) for r in runs)}" for key in keys]
    lines += ["", f"cross-check, steady CPU over whole poll cycles: {estimate:.1f} % = {parts}",
              "  (CPU per poll of the unchanged fleet over interval + poll time; the window holds a whole "
              "cycle of each poll only by luck)"]
    lines += ["", "targets (issue 4):",
              f"  filter keystroke to frame <= {TARGETS['filter_ms']:g} ms: {filt:.0f} ms -> "
              f"{verdict(filt, TARGETS['filter_ms'])}",
              f"  steady CPU <= {TARGETS['cpu_percent']:g} %: {cpu:.1f} % over the {args.seconds:g} s "
              f"window -> {verdict(cpu, TARGETS['cpu_percent'])} (whole cycles: {estimate:.1f} % -> "
              f"{verdict(estimate, TARGETS['cpu_percent'])})",
              f"  RSS <= {TARGETS['rss_mb']:g} MB: {rss:.1f} MB -> {verdict(rss, TARGETS['rss_mb'])}"]
    return "\n".join(lines)


def cycle_estimate(args: argparse.Namespace, polls: list[PollFigures], runs: list[AppRun],
                   ) -> tuple[float, str]:
    """Steady CPU as the console pays it on average: each service's CPU per poll of an
    unchanged fleet (the later in-process polls, same code; the first if there was one poll)
    over its cycle (the interval counts from the end of a poll), plus the console's idle
    CPU between polls (median second of the windows). A cross-check of the window, which
    holds a whole poll cycle of each service only by luck."""
    parts, total = [], 0.0
    for fig in polls:
        if fig.label in ("ec2 with metrics", "ebs"):
            later = (fig.cpu_s[1:], fig.wall_s[1:]) if len(fig.cpu_s) > 1 else (fig.cpu_s, fig.wall_s)
            cpu_s, wall_s = statistics.median(later[0]), statistics.median(later[1])
            share = cpu_s / (args.aws_interval + wall_s) * 100
            total += share
            parts.append(f"{fig.label.split()[0]} {cpu_s:.1f} s / ({args.aws_interval:g} + {wall_s:.1f}) s "
                         f"= {share:.1f} %")
    idle = statistics.median(statistics.median(r.cpu_per_second) for r in runs if r.cpu_per_second)
    parts.append(f"idle {idle:.1f} %")
    return total + idle, " + ".join(parts)


# ------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="stacktop with a large EC2/EBS fleet in moto: poll time, EC2 view, filter latency, "
                    "steady CPU/RSS/bytes in tmux.")
    parser.add_argument("--instances", type=int, default=10_000, help="EC2 instances (default 10000)")
    parser.add_argument("--volumes", type=int, default=5_000,
                        help="EBS volumes besides the root volumes (default 5000)")
    parser.add_argument("--regions", default=",".join(REGIONS),
                        help=f"comma-separated regions (default {','.join(REGIONS)})")
    parser.add_argument("--runs", type=int, default=3, help="launches of the console (default 3)")
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state window (default 60)")
    parser.add_argument("--presses", type=int, default=10, help="filter presses per run (default 10)")
    parser.add_argument("--switches", type=int, default=5, help="'h' then 'e' switches per run (default 5)")
    parser.add_argument("--busy-presses", type=int, default=3,
                        help="filter presses per run while a poll is being read, after the window "
                             "(default 3; 0: none)")
    parser.add_argument("--polls", type=int, default=3, help="in-process polls of each kind (default 3)")
    parser.add_argument("--aws-interval", type=float, default=30.0, metavar="SECONDS",
                        help="every AWS poll interval in the console's config (default 30)")
    parser.add_argument("--moto-as-is", action="store_true",
                        help="run moto without aws_bench_seed.py's linear EC2 tag lookup (slow: the "
                             "10,000-instance fleet then times out)")
    parser.add_argument("--endpoint", metavar="URL",
                        help="use this moto server, already seeded, instead of starting and seeding one")
    parser.add_argument("--first-frame-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--data-timeout", type=float, default=600.0, metavar="SECONDS",
                        help="launch until the view bar shows the whole fleet (default 600)")
    parser.add_argument("--width", type=int, default=120, help="pane columns (default 120)")
    parser.add_argument("--height", type=int, default=40, help="pane rows (default 40)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for moto (default: this one)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures here")
    args = parser.parse_args(argv)
    args.regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
    if min(args.runs, args.presses, args.polls, args.instances) < 1:
        parser.error("--runs, --presses, --polls and --instances must be positive")
    if min(args.volumes, args.switches, args.busy_presses) < 0:
        parser.error("--volumes, --switches and --busy-presses must not be negative")
    if args.seconds <= 0 or not args.regions:
        parser.error("--seconds must be positive and --regions not empty")
    if args.height < 20:
        parser.error("--height must be at least 20: the checks read data rows off the screen")
    return args


def git_commit() -> str:
    """The commit measured (figures mean little without the code they came from)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("log", "-1", "--format=%h %s")[:90] or "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "providers", "tui", "widgets",
                "config")
    return head + (" + uncommitted changes in providers/tui/widgets/config" if dirty else "")


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: `finally` stops moto and the tmux server. Raised inside a poll,
    it also ends asyncio's task, which asyncio would report at length: we say it once."""
    logging.getLogger("asyncio").disabled = True
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not have_tmux():
        print("aws_bench: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    info = machine()
    info["commit"] = git_commit()
    info["load_start"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.monotonic()
    moto: MotoServer | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="stacktop-aws-bench-moto-") as tmp:
            try:
                import moto as moto_pkg
                setup: dict[str, Any] = {"moto_version": moto_pkg.__version__, "seed_s": 0.0}
                if args.endpoint:
                    endpoint = args.endpoint
                    setup["moto"] = f"already running at {endpoint} (--endpoint), not seeded or measured here"
                else:
                    moto = MotoServer(Path(tmp), args.python)
                    moto.start(args.moto_as_is)
                    endpoint = moto.endpoint
                    setup["moto"] = ("its own process, as installed (--moto-as-is)" if args.moto_as_is else
                                     "its own process, EC2 tag lookup made linear (aws_bench_seed.py)")
                    print(f"moto: pid {moto.process().pid} on {endpoint}", file=sys.stderr)
                    from tui.demo.aws_fleet import seed_bulk

                    t0 = time.monotonic()
                    seed_bulk(endpoint, regions=args.regions, instances=args.instances, volumes=args.volumes)
                    setup["seed_s"] = time.monotonic() - t0
                    print(f"seeded {args.instances:,} instances and {args.volumes:,} volumes in "
                          f"{setup['seed_s']:.1f} s", file=sys.stderr)
                polls, ids = time_polls(endpoint, args.regions, args.polls, moto)
                ec2 = next(p for p in polls if p.label.startswith("ec2"))
                ebs = next(p for p in polls if p.label == "ebs")
                if not args.endpoint and (ec2.items != args.instances
                                          or ebs.items != args.instances + args.volumes):
                    raise BenchError(f"the poll saw {ec2.items:,} instances and {ebs.items:,} volumes, "
                                     f"expected {args.instances:,} and {args.instances + args.volumes:,}")
                setup.update(instances=ec2.items, volumes=ebs.items - ec2.items, volumes_listed=ebs.items)
                # A poll starts within interval (+10 % jitter) of the last one's end and runs
                # about as long as the in-process one: wait that long for a busy poll, no longer.
                args.busy_timeout = 1.1 * args.aws_interval + max(p.wall_s[0] for p in polls) + 10
                wanted = max(args.presses, args.busy_presses)
                picks = [ids[(2 * n + 1) * len(ids) // (2 * wanted)] for n in range(wanted)]
                runs: list[AppRun] = []
                for index in range(args.runs):
                    run = one_run(args, endpoint, moto, ec2.items, ebs.items, picks)
                    runs.append(run)
                    print(f"run {index + 1}/{args.runs}: first frame {run.first_frame_s:.2f} s, "
                          f"EC2 count {run.launch_to_ec2_s:.1f} s, "
                          f"EC2 view {run.ec2_view_first_s * 1000:.0f} ms, "
                          f"filter {statistics.median(run.filter_s) * 1000:.0f} ms, "
                          f"CPU {run.cpu_percent:.1f} %, RSS {run.rss_mb:.0f} MB, "
                          f"{run.bytes_per_s / 1024:.1f} KB/s", file=sys.stderr)
                if moto:
                    setup["moto_rss_mb"] = moto.rss_mb()
            finally:
                if moto:
                    moto.stop()
    except BenchError as exc:
        print(f"aws_bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("aws_bench: interrupted", file=sys.stderr)
        return 130
    total = time.monotonic() - started
    info["load_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(report(args, info, setup, polls, runs))
    print(f"\nwhole benchmark: {total / 60:.1f} min")
    if args.json:
        document = {"machine": info, "term": TERM, "size": f"{args.width}x{args.height}",
                    "settings": {k: v for k, v in vars(args).items() if k != "json"},
                    "setup": setup, "total_s": total, "polls": [asdict(p) for p in polls],
                    "runs": [asdict(r) for r in runs]}
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

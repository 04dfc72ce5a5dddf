"""stacktop's Kubernetes views at scale: 20,000 pods, 500 nodes, 3,000 Deployments (issue 5).

The test API server (tui/demo/kube_api/server.py) runs in a process of its own
(k8s_bench_server.py: generate_bulk, a kubeconfig with context "bench", commands on stdin),
so its CPU is never counted as the console's. The console runs for real:
`stacktop --config FILE --log-file FILE` (host provider at its defaults, Kubernetes with
that kubeconfig and context, every other setting at its default: refresh 500 ms, metrics
every 15 s, pages of 500) in a private tmux server, 120x40, TERM=tmux-256color.

Each launch (--runs) measures the load:
  - first frame: launch until the host view shows `PID` and `host ● ok`;
  - `p` is pressed at once; then, polled every 0.1 s: launch until the view bar shows
    `n Nodes <nodes>`, until it shows `p Pods <pods>`, and until the Pods view itself
    shows all pods (its summary `Pods <pods>` and data rows);
  - `n` until the Nodes view shows its summary `Nodes <nodes>` and rows (first show), `p` back;
  - the table's own count: `/`, `-` (every pod name has one) shows `<pods> of <pods> rows`;
  - RSS of the app 5 s later (no events yet).
The last launch then goes on (its Pods view unfiltered unless said):
  1. a window of --seconds with no events: CPU % of one core, KB/s to the terminal, RSS;
  2. filter keystrokes, --presses pairs: with `/` open and empty, one character (timed until
     the bar's `M of <pods> rows` shows: the whole table was filtered), then BackSpace (timed
     until that count is gone: every row is back); send-keys at t0, capture-pane every 2 ms;
  3. `events RATE` (100/s): a window of --seconds with events: CPU, KB/s, RSS, the server's
     real rate; then the filter keystrokes again, under events;
  4. watch event to screen: the Pods view filtered to the marker pod (`/`, its name, Enter);
     --samples times: a random 0.3-0.8 s pause (the view refreshes every 500 ms: samples
     fall at every phase of it), `mark N` (the server sets the marker's restartCount to N and
     answers the monotonic time just after the store took it), then capture-pane every
     10 ms until the marker's Restarts column reads N; the figure is that time minus one
     capture-pane round trip (measured, printed on its own);
  5. events keep running until --soak seconds after they started; the app's RSS and CPU are
     sampled every 5 s from the start of the events: RSS at the end, largest, growth per minute;
  6. events stop; the log pod is opened (`/` its name, Enter, Enter): PodLogsScreen follows it;
     RSS before; the server appends --log-lines lines at --log-rate lines/s to that container;
     the status line (`N lines · M earlier lines dropped`) is read every 0.2 s until N + M
     counts every line; lines/s = lines / (launch of the append until all counted); RSS largest
     while it streams and 3 s after.

No assertion on timing: the script prints medians, ranges, the machine and the commit, and
says which of issue 5's targets were met. The server and the tmux server are stopped (by
PID / their own socket) at the end, also after an error or Ctrl-C.

    python benchmarks/k8s_bench.py                    # the reference run, ~7 min
    python benchmarks/k8s_bench.py --quick            # a smoke test at full scale, ~1.5 min
    python benchmarks/k8s_bench.py --pods 2000 --nodes 50 --deployments 300 --quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
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
SERVER = Path(__file__).resolve().with_name("k8s_bench_server.py")
FIRST_FRAME_MARKERS = ("PID", "host ● ok")
DATA_POLL = 0.1  # while waiting seconds for data: fewer tmux clients competing for 2 cores
EVENT_POLL = 0.010  # capture-pane pause while waiting for a watch event (target: 1 s)
SETTLE = 0.3  # between presses, so one press's work never overlaps the next
SAMPLE = 5.0  # CPU/RSS sampling step during events and windows
HINT = "Enter keeps · Esc clears"  # the filter bar while it has the keys
KEY_CHARS = "bcdfghjklmnpqrstvwxz"  # the pod names' alphabet: each matches a different share
KEY_TIMEOUT = 60.0  # a keystroke or event this late is a figure, not a failure
TARGETS = {"event_ms": 1000.0, "filter_ms": 50.0, "rss_mb": 300.0}

BAR_NODES = re.compile(r"\bn Nodes (\d+)")
BAR_PODS = re.compile(r"\bp Pods (\d+)")
SUMMARY_PODS = re.compile(r"^ Pods (\d+)\s{2,}", re.MULTILINE)
SUMMARY_NODES = re.compile(r"^ Nodes (\d+)\s{2,}", re.MULTILINE)
POD_ROW = re.compile(r"^\S+\s+\S+-[a-z0-9]{5}\s+\d+/\d+\s", re.MULTILINE)
NODE_ROW = re.compile(r"^(?:cp-\d+|node-\d+)\s", re.MULTILINE)
COUNT = re.compile(r"(\d+) of (\d+) rows")
LOG_STATUS = re.compile(r"^ ([\d,]+) lines(?: · ([\d,]+) earlier lines dropped)?", re.MULTILINE)


# ------------------------------------------------------------------------ the server


class KubeServer:
    """k8s_bench_server.py in its own process; one JSON line answers each command."""

    def __init__(self, workdir: Path, python: str) -> None:
        self.workdir, self.python = workdir, python
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.info: dict[str, Any] = {}
        self.log_path = workdir / "server.log"

    def start(self, pods: int, nodes: int, deployments: int, timeout: float = 300.0) -> dict[str, Any]:
        command = [self.python, str(SERVER), "--workdir", str(self.workdir), "--pods", str(pods),
                   "--nodes", str(nodes), "--deployments", str(deployments)]
        with self.log_path.open("w") as log:
            # A session of its own: Ctrl-C reaches this script, which stops the server in `finally`.
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         text=True, bufsize=1, start_new_session=True)
        threading.Thread(target=self._read, name="server-stdout", daemon=True).start()
        self.info = self._answer(timeout, "the server's first line (loading the cluster)")
        return self.info

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _answer(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise BenchError(f"no answer from the server within {timeout:g} s: {what}") from None
        if line is None:
            raise BenchError(f"the server exited ({what}): {self._log_tail()}")
        doc: dict[str, Any] = json.loads(line)
        if "error" in doc:
            raise BenchError(f"the server: {doc['error']}")
        return doc

    def command(self, text: str, timeout: float = 30.0) -> dict[str, Any]:
        if self.proc is None or self.proc.stdin is None:
            raise BenchError("the server is not running")
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self._answer(timeout, text)

    def process(self) -> psutil.Process:
        if self.proc is None:
            raise BenchError("the server is not running")
        return psutil.Process(self.proc.pid)

    def cpu_seconds(self) -> float:
        times = self.process().cpu_times()
        return times.user + times.system

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return lines[-1] if lines else "no output"
        return "no output"

    def stop(self) -> None:
        """`quit`, then SIGTERM and SIGKILL to exactly our process if it lingers."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert proc.stdin is not None
            proc.stdin.write("quit\n")
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# ------------------------------------------------------------------------ screens


def count(pattern: re.Pattern[str], screen: str) -> int | None:
    match = pattern.search(screen)
    return int(match.group(1)) if match else None


def pod_rows(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if POD_ROW.match(line)]


def restarts_of(screen: str, pod: str) -> str | None:
    """The Restarts cell of `pod`'s row, read under the header's `Restarts`."""
    lines = screen.splitlines()
    header = next((line for line in lines if "Restarts" in line and "Name" in line), None)
    row = next((line for line in lines if POD_ROW.match(line) and f" {pod} " in line), None)
    if header is None or row is None:
        return None
    cell = row[header.index("Restarts"):].split()
    return cell[0] if cell else None


def only_pod(pod: str) -> Callable[[str], bool]:
    def ready(screen: str) -> bool:
        rows = pod_rows(screen)
        return len(rows) == 1 and f" {pod} " in rows[0]
    return ready


def filter_count(screen: str) -> tuple[int, int] | None:
    match = COUNT.search(screen)
    return (int(match.group(1)), int(match.group(2))) if match else None


def log_lines_seen(screen: str) -> int | None:
    """Lines the log screen has taken in: held + dropped, from its status line."""
    match = LOG_STATUS.search(screen)
    if not match:
        return None
    return int(match.group(1).replace(",", "")) + int((match.group(2) or "0").replace(",", ""))


# ------------------------------------------------------------------------ figures


@dataclass
class Launch:
    """One launch's load figures (seconds from just before `tmux new-session`)."""

    first_frame_s: float
    bar_nodes_s: float
    bar_pods_s: float
    pods_view_s: float
    nodes_view_first_s: float
    pods_view_back_s: float
    table_rows: int
    rss_after_load_mb: float


@dataclass
class Window:
    """A steady window: CPU % of one core (whole window and each SAMPLE slice), KB/s, RSS."""

    seconds: float
    cpu_percent: float
    slices: list[float]
    kb_per_s: float
    rss_mb: float
    server_cpu_percent: float
    events_per_s: float = 0.0


@dataclass
class Steady:
    """The last launch's measurements after the load."""

    poll_ms: float = 0.0
    poll_events_ms: float = 0.0  # capture-pane round trip under events: subtracted from event_ms
    idle: Window | None = None
    busy: Window | None = None
    filter_type_ms: list[float] = field(default_factory=list)
    filter_back_ms: list[float] = field(default_factory=list)
    busy_filter_type_ms: list[float] = field(default_factory=list)
    busy_filter_back_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)  # capture round trip subtracted
    event_raw_ms: list[float] = field(default_factory=list)
    soak: list[tuple[float, float, float]] = field(default_factory=list)  # (s since events, RSS MB, CPU %)
    soak_events: int = 0
    log_lines: int = 0
    log_offered_s: float = 0.0
    log_seconds: float = 0.0
    log_rss_before_mb: float = 0.0
    log_rss_peak_mb: float = 0.0
    log_rss_after_mb: float = 0.0
    log_cpu_percent: float = 0.0
    log_samples: list[tuple[float, int, float]] = field(default_factory=list)  # (s, lines seen, RSS MB)


# ------------------------------------------------------------------------ the console


def stacktop_command() -> str:
    """The installed console script next to this interpreter (not a pyenv shim)."""
    path = os.path.join(sysconfig.get_path("scripts"), "stacktop")
    if not os.path.exists(path):
        raise BenchError(f"{path} missing: install the project first (pip install -e .)")
    return path


def write_config(path: Path, kubeconfig: str, context: str, work: Path) -> None:
    path.write_text(
        "# written by benchmarks/k8s_bench.py\n"
        f"log: {{file: {json.dumps(str(work / 'stacktop.log'))}}}\n"
        f"audit: {{file: {json.dumps(str(work / 'audit.jsonl'))}}}\n"
        "providers:\n"
        "  host: {enabled: true}\n"
        f"  kubernetes: {{enabled: true, kubeconfig: [{json.dumps(kubeconfig)}], contexts: [{context}]}}\n"
    )


def rss(app: psutil.Process) -> float:
    return app.memory_info().rss / MIB


def app_cpu(app: psutil.Process) -> float:
    return sum(cpu_seconds(app).values())


class Console:
    """One launch of stacktop in a private tmux server."""

    def __init__(self, args: argparse.Namespace, server: KubeServer, work: Path) -> None:
        self.args, self.server, self.work = args, server, work
        self.tmux = PrivateTmux(work, args.width, args.height)
        self.pane = ""
        self.pane_pid = 0
        self.app: psutil.Process | None = None

    def capture(self) -> str:
        return self.tmux.capture(self.pane)

    def wait(self, ready: Callable[[str], bool], what: str, timeout: float = 30.0,
             interval: float = DATA_POLL) -> float:
        return wait_for_screen(self.tmux, self.pane, ready, time.monotonic(), timeout, what,
                               interval=interval)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux.send_keys(self.pane, *keys, literal=literal)

    def proc(self) -> psutil.Process:
        if self.app is None:
            raise BenchError("the app is not running")
        return self.app

    # -- load --------------------------------------------------------------------------

    def launch(self) -> Launch:
        args, info = self.args, self.server.info
        config = self.work / "config.yaml"
        write_config(config, info["kubeconfig"], info["context"], self.work)
        command = "exec " + shlex.join([stacktop_command(), "--config", str(config),
                                        "--log-file", str(self.work / "stacktop.log")])
        pods, nodes = info["pods"], info["nodes"]
        t0 = time.monotonic()
        self.pane = self.tmux.new_session(command)
        first = wait_for_screen(self.tmux, self.pane, lambda s: all(m in s for m in FIRST_FRAME_MARKERS), t0,
                                args.first_frame_timeout, "first frame (the host view)")
        self.pane_pid = self.tmux.pane_pid(self.pane)
        self.app = app_process(self.pane_pid)
        self.keys("p")
        seen: dict[str, float] = {}

        def loaded(screen: str) -> bool:
            now = time.monotonic() - t0
            if count(BAR_NODES, screen) == nodes:
                seen.setdefault("nodes", now)
            if count(BAR_PODS, screen) == pods:
                seen.setdefault("pods", now)
            if count(SUMMARY_PODS, screen) == pods and pod_rows(screen):
                seen.setdefault("view", now)
            return len(seen) == 3

        wait_for_screen(self.tmux, self.pane, loaded, t0, args.data_timeout,
                        f"the view bar's Nodes {nodes} and Pods {pods}, and the Pods view's {pods}",
                        interval=DATA_POLL)
        time.sleep(SETTLE)
        nodes_first = timed_keys(self.tmux, self.pane, [["n"]],
                                 lambda s: count(SUMMARY_NODES, s) == nodes and bool(NODE_ROW.search(s)),
                                 f"the Nodes view with {nodes} after 'n'", timeout=30.0)
        time.sleep(SETTLE)
        pods_back = timed_keys(self.tmux, self.pane, [["p"]],
                               lambda s: count(SUMMARY_PODS, s) == pods and bool(pod_rows(s)),
                               "the Pods view after 'p'", timeout=30.0)
        time.sleep(SETTLE)
        rows = self.table_rows()
        time.sleep(5.0)
        return Launch(first, seen["nodes"], seen["pods"], seen["view"], nodes_first, pods_back, rows,
                      rss(self.proc()))

    def open_filter(self) -> None:
        self.keys("/", literal=True)
        # Type only once the bar has the keys: keys sent before that reach the table.
        self.wait(lambda s: HINT in s, "the filter bar", interval=0.02)

    def close_filter(self) -> None:
        """Escape in the open bar: the filter is cleared, all rows are back."""
        self.keys("Escape")
        self.wait(lambda s: HINT not in s and COUNT.search(s) is None and len(pod_rows(s)) > 1,
                  "the cleared filter")

    def table_rows(self) -> int:
        """The table's own row count: `-` is in every pod's name."""
        self.open_filter()
        self.keys("-", literal=True)
        self.wait(lambda s: filter_count(s) is not None, "the filter count", interval=0.02)
        shown = filter_count(self.capture())
        self.close_filter()
        return shown[1] if shown else 0

    def filter_to(self, pod: str) -> None:
        self.open_filter()
        self.keys(pod, literal=True)
        self.keys("Enter")
        self.wait(only_pod(pod), f"the Pods view filtered to {pod}")

    # -- steady ------------------------------------------------------------------------

    def window(self, seconds: float, events: bool) -> Window:
        app = self.proc()
        spy = self.py_spy("events" if events else "idle", seconds)
        meter = WindowMeter(self.tmux, self.pane, app, self.work)
        before_events = self.server.command("stats")["events"]
        server0 = self.server.cpu_seconds()
        meter.start()
        t0 = time.monotonic()
        slices = []
        while (now := time.monotonic()) < t0 + seconds:
            c0, s0 = app_cpu(app), now
            time.sleep(min(SAMPLE, t0 + seconds - now))
            slices.append((app_cpu(app) - c0) / (time.monotonic() - s0) * 100)
        meter.stop()
        server_cpu = (self.server.cpu_seconds() - server0) / (time.monotonic() - t0) * 100
        finish(spy)
        sent = self.server.command("stats")["events"] - before_events
        result = meter.result()
        return Window(result.seconds, result.cpu_percent, slices, result.bytes_per_s / 1024, result.rss_mb,
                      server_cpu, sent / result.seconds if events else 0.0)

    def filter_keys(self, presses: int, total: int) -> tuple[list[float], list[float]]:
        """(one character typed, BackSpace) keystroke to frame, ms; the bar open and empty."""
        typed, back = [], []
        self.open_filter()
        time.sleep(SETTLE)
        for n in range(presses):
            char = KEY_CHARS[n % len(KEY_CHARS)]
            typed.append(timed_keys(self.tmux, self.pane, [["-l", char]],
                                    lambda s: (c := filter_count(s)) is not None and c[1] == total,
                                    f"the count after typing {char!r}", timeout=KEY_TIMEOUT) * 1000)
            time.sleep(SETTLE)
            back.append(timed_keys(self.tmux, self.pane, [["BSpace"]],
                                   lambda s: COUNT.search(s) is None and HINT in s,
                                   "every row back after BackSpace", timeout=KEY_TIMEOUT) * 1000)
            time.sleep(SETTLE)
        self.close_filter()
        return typed, back

    def event_latency(self, samples: int, marker: str, first_n: int,
                      poll: float) -> tuple[list[float], list[float]]:
        """Watch event to screen, ms: raw, and minus one capture-pane round trip."""
        raw, net = [], []
        self.filter_to(marker)
        rng = random.Random(5)
        for i in range(samples):
            time.sleep(rng.uniform(0.3, 0.8))
            n = first_n + i
            t_event = float(self.server.command(f"mark {n}")["t"])
            seen = wait_for_screen(self.tmux, self.pane, lambda s, n=n: restarts_of(s, marker) == str(n),
                                   t_event, KEY_TIMEOUT, f"restarts {n} on the marker's row",
                                   interval=EVENT_POLL)
            raw.append(seen * 1000)
            net.append((seen - poll) * 1000)
        self.open_filter()
        self.close_filter()
        return raw, net

    def logs(self, pod: str, lines: int, rate: float, timeout: float) -> dict[str, Any]:
        app = self.proc()
        self.filter_to(pod)
        self.keys("Enter")
        self.wait(lambda s: pod in s.splitlines()[0] and "● following" in s and log_lines_seen(s) is not None,
                  "the log screen, following", timeout=30.0)
        time.sleep(3.0)
        base = log_lines_seen(self.capture()) or 0
        before = rss(app)
        cpu0 = app_cpu(app)
        spy = self.py_spy("logs", lines / rate)
        t_start = float(self.server.command(f"logs {lines} {rate:g}", timeout=30.0)["t"])
        samples: list[tuple[float, int, float]] = []
        peak = before
        seen = base
        while seen < base + lines:
            now = time.monotonic()
            if now - t_start > timeout:
                raise BenchError(f"the log screen counted {seen - base:,} of {lines:,} lines "
                                 f"in {timeout:g} s")
            dead = self.tmux.dead_reason(self.pane)
            if dead:
                raise BenchError(f"{dead} while following the log")
            seen = log_lines_seen(self.capture()) or seen
            mem = rss(app)
            peak = max(peak, mem)
            samples.append((time.monotonic() - t_start, seen - base, mem))
            time.sleep(0.2)
        t_done = time.monotonic()
        cpu = (app_cpu(app) - cpu0) / (t_done - t_start) * 100
        finish(spy)
        stats = self.server.command("stats")
        offered = (stats["logs_done_at"] or t_done) - t_start
        time.sleep(3.0)
        after = rss(app)
        self.keys("Escape")
        return {"log_lines": lines, "log_seconds": t_done - t_start, "log_offered_s": offered,
                "log_rss_before_mb": before, "log_rss_peak_mb": peak, "log_rss_after_mb": after,
                "log_cpu_percent": cpu, "log_samples": samples}

    def py_spy(self, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
        """With --py-spy DIR: `py-spy record` of the app for `seconds` into DIR/NAME.txt
        (raw collapsed stacks, per thread, line numbers); None without it."""
        if not self.args.py_spy:
            return None
        out = Path(self.args.py_spy) / f"{name}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(["py-spy", "record", "--pid", str(self.proc().pid), "--duration",
                                 str(max(1, round(seconds))), "--rate", "100", "--threads", "--format", "raw",
                                 "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        self.tmux.kill()
        if self.pane_pid:
            reap(self.pane_pid)


def finish(spy: subprocess.Popen[bytes] | None) -> None:
    """Wait for a py-spy recording to be written (it stops by itself after its duration)."""
    if spy is not None:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.terminate()
            spy.wait(timeout=10)


class Sampler:
    """App RSS and CPU every SAMPLE seconds in a thread, from start() until stop()."""

    def __init__(self, app: psutil.Process) -> None:
        self.app = app
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.t0 = 0.0

    def start(self) -> None:
        self.t0 = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(psutil.Error):
            c0, t0 = app_cpu(self.app), time.monotonic()
            self.samples.append((0.0, rss(self.app), 0.0))
            while not self._stop.wait(SAMPLE):
                c, t = app_cpu(self.app), time.monotonic()
                self.samples.append((t - self.t0, rss(self.app), (c - c0) / (t - t0) * 100))
                c0, t0 = c, t

    def stop(self) -> list[tuple[float, float, float]]:
        self._stop.set()
        self._thread.join(timeout=SAMPLE + 5)
        return self.samples


def steady(args: argparse.Namespace, console: Console, server: KubeServer) -> Steady:
    """The measurements after the load, in the last launch (see the module docstring)."""
    info = server.info
    pods = info["pods"]
    out = Steady()
    out.poll_ms = poll_round_trip(console.tmux, console.pane) * 1000
    print(f"idle window {args.seconds:g} s…", file=sys.stderr)
    out.idle = console.window(args.seconds, events=False)
    print(f"  CPU {out.idle.cpu_percent:.1f} %, RSS {out.idle.rss_mb:.0f} MB; filter keys…", file=sys.stderr)
    out.filter_type_ms, out.filter_back_ms = console.filter_keys(args.presses, pods)
    print(f"  type {statistics.median(out.filter_type_ms):.0f} ms, BackSpace "
          f"{statistics.median(out.filter_back_ms):.0f} ms; events {args.rate:g}/s…", file=sys.stderr)
    server.command(f"events {args.rate:g}")
    events_t0 = time.monotonic()
    events0 = server.command("stats")["events"]
    sampler = Sampler(console.proc())
    sampler.start()
    try:
        time.sleep(2.0)  # the first events reach the app
        out.busy = console.window(args.seconds, events=True)
        print(f"  CPU {out.busy.cpu_percent:.1f} %, RSS {out.busy.rss_mb:.0f} MB, "
              f"{out.busy.events_per_s:.0f} events/s; filter keys under events…", file=sys.stderr)
        out.busy_filter_type_ms, out.busy_filter_back_ms = console.filter_keys(args.presses, pods)
        print(f"  type {statistics.median(out.busy_filter_type_ms):.0f} ms; watch event to screen, "
              f"{args.samples} samples…", file=sys.stderr)
        out.poll_events_ms = poll_round_trip(console.tmux, console.pane) * 1000
        out.event_raw_ms, out.event_ms = console.event_latency(args.samples, info["marker"][1], 1001,
                                                               out.poll_events_ms / 1000)
        print(f"  median {statistics.median(out.event_ms):.0f} ms, max {max(out.event_ms):.0f} ms",
              file=sys.stderr)
        left = args.soak - (time.monotonic() - events_t0)
        if left > 0:
            print(f"events go on for {left:.0f} s more (soak)…", file=sys.stderr)
            end = time.monotonic() + left
            while time.monotonic() < end:
                time.sleep(min(10.0, end - time.monotonic()))
                dead = console.tmux.dead_reason(console.pane)
                if dead:
                    raise BenchError(f"{dead} during the soak")
    finally:
        out.soak = sampler.stop()
    out.soak_events = server.command("stats")["events"] - events0
    server.command("events 0")
    time.sleep(2.0)
    print(f"  RSS {out.soak[-1][1]:.0f} MB after {out.soak[-1][0]:.0f} s of events", file=sys.stderr)
    if not args.log_lines:
        return out
    print(f"log: {args.log_lines:,} lines at {args.log_rate:g}/s…", file=sys.stderr)
    figures = console.logs(info["log_pod"][1], args.log_lines, args.log_rate, args.log_timeout)
    for key, value in figures.items():
        setattr(out, key, value)
    print(f"  {out.log_lines / out.log_seconds:,.0f} lines/s, RSS {out.log_rss_before_mb:.0f} -> "
          f"{out.log_rss_peak_mb:.0f} (peak) -> {out.log_rss_after_mb:.0f} MB", file=sys.stderr)
    return out


# ------------------------------------------------------------------------ report


def cell(values: list[float], fmt: str) -> tuple[str, str]:
    return median_range(values, fmt)


def slope_mb_per_min(samples: list[tuple[float, float, float]]) -> float | None:
    """Least-squares RSS growth over the samples (MB per minute)."""
    if len(samples) < 3:
        return None
    xs = [s[0] / 60 for s in samples]
    ys = [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else None


def minute_means(samples: list[tuple[float, float, float]]) -> tuple[float | None, float | None]:
    """Mean RSS of the first and of the last minute of samples (None if the run is under 2 min):
    less swayed than a slope by RSS going up and down with each metrics read."""
    if not samples or samples[-1][0] < 120:
        return None, None
    end = samples[-1][0]
    first = [s[1] for s in samples if s[0] < 60]
    last = [s[1] for s in samples if s[0] > end - 60]
    return statistics.fmean(first), statistics.fmean(last)


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def report(args: argparse.Namespace, info: dict[str, Any], setup: dict[str, Any], launches: list[Launch],
           st: Steady) -> str:
    pods, nodes = setup["pods"], setup["nodes"]
    lines = [
        machine_line(info),
        f"code: {info['commit']}",
        f"load average (1, 5, 15 min): {info['load_start']} at the start, {info['load_end']} at the end "
        "(other programs share these cores)",
        f"cluster: {pods:,} pods, {nodes:,} nodes, {setup['deployments']:,} Deployments (generate_bulk) in "
        f"the test API server, its own process; loaded in {setup['load_s']:.1f} s",
        f"console: stacktop --config (host at its defaults; kubernetes refresh 500 ms, metrics 15 s), "
        f"{args.width}x{args.height}, TERM={TERM}; {len(launches)} launch(es), steady figures from the last",
        "",
    ]
    rows = [["figure", "median", "range", "n", "target"]]

    def add(label: str, values: list[float], fmt: str, target: str = "") -> None:
        med, spread = cell(values, fmt)
        rows.append([label, med, spread, str(len(values)), target])

    add("first frame (host view), s", [r.first_frame_s for r in launches], "{:.2f}")
    add(f"launch -> view bar 'Nodes {nodes}', s", [r.bar_nodes_s for r in launches], "{:.1f}")
    add(f"launch -> view bar 'Pods {pods}', s", [r.bar_pods_s for r in launches], "{:.1f}")
    add(f"launch -> Pods view shows {pods} ('p' at first frame), s", [r.pods_view_s for r in launches],
        "{:.1f}")
    add(f"'n' -> Nodes view with {nodes} (first show), ms", [r.nodes_view_first_s * 1000 for r in launches],
        "{:.0f}")
    add("'p' -> back to the Pods view, ms", [r.pods_view_back_s * 1000 for r in launches], "{:.0f}")
    add("RSS after the load (no events), MB", [r.rss_after_load_mb for r in launches], "{:.0f}",
        f"<= {TARGETS['rss_mb']:g}")
    if st.idle and st.busy:
        add("CPU % of one core, no events (5 s slices)", st.idle.slices, "{:.1f}")
        rows[-1][1] = f"{st.idle.cpu_percent:.1f}"
        add(f"CPU % of one core, {args.rate:g} events/s (5 s slices)", st.busy.slices, "{:.1f}")
        rows[-1][1] = f"{st.busy.cpu_percent:.1f}"
        rows.append(["KB/s to the terminal, no events / events",
                     f"{st.idle.kb_per_s:.1f} / {st.busy.kb_per_s:.1f}", "", "", ""])
        rows.append(["server CPU %, no events / events (not stacktop's)",
                     f"{st.idle.server_cpu_percent:.1f} / {st.busy.server_cpu_percent:.1f}", "", "", ""])
    add(f"filter: type one char, {pods} rows, ms", st.filter_type_ms, "{:.0f}",
        f"<= {TARGETS['filter_ms']:g}")
    add("filter: BackSpace (all rows back), ms", st.filter_back_ms, "{:.0f}", f"<= {TARGETS['filter_ms']:g}")
    add(f"filter: type one char, {args.rate:g} events/s, ms", st.busy_filter_type_ms, "{:.0f}")
    add(f"filter: BackSpace, {args.rate:g} events/s, ms", st.busy_filter_back_ms, "{:.0f}")
    add(f"watch event -> screen, {args.rate:g} events/s, ms", st.event_ms, "{:.0f}",
        f"<= {TARGETS['event_ms']:g}")
    if st.event_ms:
        rows[-1][2] += f" (max {max(st.event_ms):.0f})"
    if st.soak:
        growth = slope_mb_per_min(st.soak)
        rows.append([f"RSS after {st.soak[-1][0]:.0f} s of events, MB", f"{st.soak[-1][1]:.0f}",
                     f"{min(s[1] for s in st.soak):.0f}\N{EN DASH}{max(s[1] for s in st.soak):.0f}",
                     str(len(st.soak)), f"<= {TARGETS['rss_mb']:g}"])
        rows.append(["RSS growth under events, MB/min (least squares)",
                     "—" if growth is None else f"{growth:+.1f}", "", "", ""])
        first, last = minute_means(st.soak)
        if first is not None and last is not None:
            rows.append(["RSS mean, first minute of events -> last minute, MB", f"{first:.0f} -> {last:.0f}",
                         "", "", ""])
        add("CPU % under events, every 5 s of the whole run", [s[2] for s in st.soak[1:]], "{:.1f}")
    if st.log_seconds:
        rows.append([f"log: {st.log_lines:,} lines followed, lines/s",
                     f"{st.log_lines / st.log_seconds:,.0f}",
                     f"offered {st.log_lines / st.log_offered_s:,.0f}", "", ""])
        rows.append(["log: RSS before / peak / 3 s after, MB",
                     f"{st.log_rss_before_mb:.0f} / {st.log_rss_peak_mb:.0f} / {st.log_rss_after_mb:.0f}",
                     "", "", "bounded"])
        rows.append(["log: CPU % while following", f"{st.log_cpu_percent:.0f}", "", "", ""])
    lines.append(format_table(rows, right=[False, True, True, True, False]))
    lines.append(f"keys: send-keys at t0, capture-pane every 2 ms until the change shows, nothing "
                 f"subtracted; one capture-pane {st.poll_ms:.1f} ms")
    lines.append(f"watch event: from the server's monotonic time just after `mark N` until capture-pane "
                 f"shows N (polled every {EVENT_POLL * 1000:.0f} ms), minus one capture-pane under events "
                 f"({st.poll_events_ms:.1f} ms)")
    if st.event_raw_ms:
        lines.append(f"  without the subtraction: median {statistics.median(st.event_raw_ms):.0f} ms, "
                     f"max {max(st.event_raw_ms):.0f} ms")
    if st.busy:
        lines.append(f"events: {st.busy.events_per_s:.1f}/s measured in the window; {st.soak_events:,} "
                     f"during the run of events ({len(st.soak)} RSS samples)")
    rss_load = statistics.median(r.rss_after_load_mb for r in launches)
    lines += ["", "targets (issue 5):"]
    if st.event_ms:
        ev = statistics.median(st.event_ms)
        lines.append(f"  watch event -> screen <= {TARGETS['event_ms']:g} ms: median {ev:.0f} ms, max "
                     f"{max(st.event_ms):.0f} ms -> {verdict(ev, TARGETS['event_ms'])} (median), "
                     f"{verdict(max(st.event_ms), TARGETS['event_ms'])} (max)")
    if st.filter_type_ms:
        ft = statistics.median(st.filter_type_ms)
        fb = statistics.median(st.filter_back_ms)
        lines.append(f"  filter keystroke -> frame <= {TARGETS['filter_ms']:g} ms: type {ft:.0f} ms -> "
                     f"{verdict(ft, TARGETS['filter_ms'])}, BackSpace {fb:.0f} ms -> "
                     f"{verdict(fb, TARGETS['filter_ms'])}")
    lines.append(f"  RSS <= {TARGETS['rss_mb']:g} MB: after the load {rss_load:.0f} MB -> "
                 f"{verdict(rss_load, TARGETS['rss_mb'])}"
                 + (f"; after {st.soak[-1][0]:.0f} s of events {st.soak[-1][1]:.0f} MB -> "
                    f"{verdict(st.soak[-1][1], TARGETS['rss_mb'])}" if st.soak else ""))
    if st.log_seconds:
        grew = st.log_rss_after_mb - st.log_rss_before_mb
        lines.append(f"  log viewer bounded: {st.log_lines:,} lines, RSS {grew:+.0f} MB after "
                     f"(peak {st.log_rss_peak_mb - st.log_rss_before_mb:+.0f} MB)")
    return "\n".join(lines)


# ------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="stacktop's Kubernetes views with 20,000 pods: load, watch latency, filter keys, "
                    "CPU/RSS, log follow; in tmux, the test API server in its own process.")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 1 launch, 10 s windows, 10 presses and samples, no soak, "
                             "200,000 log lines (options given explicitly still win)")
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--deployments", type=int, default=3_000)
    parser.add_argument("--runs", type=int, help="launches measuring the load (default 3; quick 1)")
    parser.add_argument("--seconds", type=float, help="each CPU window (default 30; quick 10)")
    parser.add_argument("--presses", type=int,
                        help="filter keystroke pairs, each time (default 20; quick 10)")
    parser.add_argument("--samples", type=int, help="watch event samples (default 20; quick 10)")
    parser.add_argument("--rate", type=float, default=100.0, help="background events/s (default 100)")
    parser.add_argument("--soak", type=float,
                        help="seconds of events in all, from their start (default 300; quick 0: only as "
                             "long as the measurements under events take)")
    parser.add_argument("--log-lines", type=int, help="lines appended while following (default 1000000; "
                                                      "quick 200000; 0: no log test)")
    parser.add_argument("--log-rate", type=float, default=100_000.0,
                        help="lines/s the server appends (default 100000)")
    parser.add_argument("--log-timeout", type=float, default=180.0, metavar="SECONDS")
    parser.add_argument("--first-frame-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--data-timeout", type=float, default=180.0, metavar="SECONDS")
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=40)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the server")
    parser.add_argument("--py-spy", metavar="DIR",
                        help="also record the app with py-spy (100 Hz, raw stacks per thread) into "
                             "DIR/idle.txt, DIR/events.txt (the CPU windows) and DIR/logs.txt; sampling "
                             "slows the app, so the figures of such a run are not the reference")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures here")
    args = parser.parse_args(argv)
    defaults = {"runs": (3, 1), "seconds": (30.0, 10.0), "presses": (20, 10), "samples": (20, 10),
                "soak": (300.0, 0.0), "log_lines": (1_000_000, 200_000)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if min(args.runs, args.presses, args.samples, args.pods, args.nodes, args.deployments) < 1:
        parser.error("--runs, --presses, --samples, --pods, --nodes and --deployments must be positive")
    if args.seconds <= 0 or args.rate <= 0 or args.log_rate <= 0 or args.soak < 0 or args.log_lines < 0:
        parser.error("--seconds, --rate and --log-rate must be positive, --soak and --log-lines not negative")
    if args.height < 30:
        parser.error("--height must be at least 30: the checks read rows and the log status off the screen")
    return args


def git_commit() -> str:
    """`git rev-parse --short HEAD` and its subject; notes uncommitted changes to the app."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    subject = git("log", "-1", "--format=%s")[:70]
    dirty = git("status", "--porcelain", "--", "providers", "tui", "widgets", "config")
    return f"{head} {subject}" + (" + uncommitted changes in providers/tui/widgets/config" if dirty else "")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not have_tmux():
        print("k8s_bench: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    info = machine()
    info["commit"] = git_commit()
    info["load_start"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.monotonic()
    launches: list[Launch] = []
    st = Steady()
    server: KubeServer | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="stacktop-k8s-bench-") as tmp:
            work = Path(tmp)
            server = KubeServer(work, args.python)
            try:
                setup = server.start(args.pods, args.nodes, args.deployments)
                print(f"server: pid {server.process().pid} on {setup['url']}, {setup['pods']:,} pods "
                      f"loaded in {setup['load_s']:.1f} s", file=sys.stderr)
                for index in range(args.runs):
                    run_dir = work / f"run-{index + 1}"
                    run_dir.mkdir()
                    console = Console(args, server, run_dir)
                    try:
                        launch = console.launch()
                        launches.append(launch)
                        print(f"launch {index + 1}/{args.runs}: first frame {launch.first_frame_s:.2f} s, "
                              f"Pods view {launch.pods_view_s:.1f} s, table {launch.table_rows:,} rows, "
                              f"RSS {launch.rss_after_load_mb:.0f} MB", file=sys.stderr)
                        if index == args.runs - 1:
                            st = steady(args, console, server)
                    finally:
                        console.kill()
            finally:
                server.stop()
    except BenchError as exc:
        print(f"k8s_bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("k8s_bench: interrupted", file=sys.stderr)
        return 130
    total = time.monotonic() - started
    info["load_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(report(args, info, setup, launches, st))
    command = "python benchmarks/k8s_bench.py" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "")
    print(f"\ncommand: {command}\nwhole benchmark: {total / 60:.1f} min")
    if args.json:
        document = {"machine": info, "term": TERM, "size": f"{args.width}x{args.height}",
                    "settings": {k: v for k, v in vars(args).items() if k != "json"}, "setup": setup,
                    "total_s": total, "launches": [asdict(r) for r in launches], "steady": asdict(st)}
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

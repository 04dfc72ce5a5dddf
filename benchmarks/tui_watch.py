"""Measure what a Textual console costs the way a person runs it: in a real terminal.

The app runs in a private tmux server (its own socket, so no other tmux server is
touched) with a fixed pane size and TERM, because Textual's output and cost depend
on both. Per run it records: time to the first full frame, bytes written to the
terminal per second, CPU % of one core and RSS over a steady-state window, and the
import time of the entry point. It repeats the run and prints median and range.

    python benchmarks/tui_watch.py --runs 3 --seconds 60

Standard library and psutil only, so it runs wherever the app is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

DEFAULT_COMMAND = "stacktop watch --demo"
DEFAULT_MARKERS = ("PID", "host ● ok")
TERM = "tmux-256color"
POLL_INTERVAL = 0.020  # capture-pane cadence while waiting for the first frame
IMPORT_REPEATS = 5
MIB = 1024 * 1024


class BenchError(Exception):
    """A failure that ends the benchmark with one line and a non-zero exit."""


@dataclass
class RunResult:
    """The raw figures of one run; the JSON output is a list of these."""

    first_frame_s: float
    window_s: float
    bytes_written: int
    bytes_per_s: float
    cpu_percent: float
    rss_mb: float
    rss_children_mb: float
    import_cli_s: float
    import_app_s: float
    app_pid: int
    app_exe: str
    pane_size: str
    children: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- tmux


class PrivateTmux:
    """One tmux server on its own socket; `kill` touches only that server."""

    def __init__(self, workdir: Path, width: int, height: int) -> None:
        self.socket = f"stacktop-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height
        self.socket_path = ""
        # Our own config (-f) keeps the user's ~/.tmux.conf out of the measurement:
        # no status line (the pane is the whole window) and a fixed TERM.
        self.conf = workdir / "tmux.conf"
        self.conf.write_text(
            f'set -g default-terminal "{TERM}"\n'
            "set -g status off\n"
            "set -g remain-on-exit on\n"  # a crashed app leaves its pane to inspect
            "set -g history-limit 0\n"
        )

    def cmd(self, *args: str, check: bool = True) -> str:
        """Run a tmux client command against our server only; return stdout."""
        proc = subprocess.run(
            ["tmux", "-u", "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True, text=True, check=False,
        )
        if check and proc.returncode != 0:
            raise BenchError(f"tmux {args[0]} failed: {proc.stderr.strip() or proc.returncode}")
        return proc.stdout

    def new_session(self, command: str) -> str:
        """Start the server and the app in a detached pane; return the pane id."""
        out = self.cmd("new-session", "-d", "-s", "bench", "-x", str(self.width), "-y",
                       str(self.height), "-P", "-F", "#{pane_id} #{socket_path}", command)
        pane, _, self.socket_path = out.strip().partition(" ")
        return pane

    def kill(self) -> None:
        """Kill our server (the pane's process gets SIGHUP) and remove its socket file."""
        self.cmd("kill-server", check=False)
        if self.socket_path and Path(self.socket_path).name == self.socket:
            with contextlib.suppress(OSError):
                Path(self.socket_path).unlink()


# ---------------------------------------------------------------------- processes


def app_process(pane_pid: int) -> psutil.Process:
    """The app: the pane's process when run with `exec`, else its python child."""
    proc = psutil.Process(pane_pid)
    if _is_python(proc):
        return proc
    for child in proc.children(recursive=True):
        if _is_python(child):
            return child
    return proc


def _is_python(proc: psutil.Process) -> bool:
    """True for a Python interpreter, whatever script name it shows as."""
    try:
        return "python" in os.path.basename(proc.exe()).lower()
    except (psutil.Error, OSError):
        return False


def cpu_seconds(proc: psutil.Process) -> dict[int, float]:
    """User+system CPU seconds per pid for the app and its live descendants.

    The root's entry also holds the CPU of children it has already reaped, so a
    helper that exits during the window is still counted.
    """
    times: dict[int, float] = {}
    ct = proc.cpu_times()
    times[proc.pid] = ct.user + ct.system + ct.children_user + ct.children_system
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cct = child.cpu_times()
            times[child.pid] = cct.user + cct.system
    return times


def rss_mb(proc: psutil.Process) -> tuple[float, float]:
    """RSS of the app and, separately, the sum over its descendants, in MiB."""
    own = proc.memory_info().rss / MIB
    kids = 0.0
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            kids += child.memory_info().rss / MIB
    return own, kids


# ------------------------------------------------------------------------ imports


def _median_wall(argv: list[str], cwd: str, repeats: int) -> float:
    """Median wall time of a fresh interpreter running argv; fails loudly."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BenchError(f"{' '.join(argv)} failed: {last}")
    return statistics.median(samples)


def import_times(python: str, cwd: str) -> tuple[float, float]:
    """Import cost of tui.cli and tui.app, minus a bare interpreter's start-up.

    A fresh process each time, so nothing is already in sys.modules; the median of
    several runs damps the first run that may still write .pyc files.
    """
    bare = _median_wall([python, "-c", "pass"], cwd, IMPORT_REPEATS)
    cli = _median_wall([python, "-c", "import tui.cli"], cwd, IMPORT_REPEATS)
    app = _median_wall([python, "-c", "import tui.app"], cwd, IMPORT_REPEATS)
    return max(cli - bare, 0.0), max(app - bare, 0.0)


# ------------------------------------------------------------------------ one run


def _has_markers(screen: str, markers: list[str]) -> bool:
    return all(marker in screen for marker in markers)


def _pane_dead_reason(tmux: PrivateTmux, pane: str) -> str:
    """Why the wait ended early, from tmux's view of the pane (for the message)."""
    out = tmux.cmd("display", "-p", "-t", pane, "#{pane_dead} #{pane_dead_status}", check=False).split()
    if out and out[0] == "1":
        return f"the app exited with status {out[1] if len(out) > 1 else '?'}"
    return ""


def wait_first_frame(tmux: PrivateTmux, pane: str, markers: list[str], t0: float,
                     timeout: float) -> float:
    """Poll the screen every 20 ms; seconds from new-session until all markers show."""
    deadline = t0 + timeout
    next_poll = time.monotonic()
    while True:
        screen = tmux.cmd("capture-pane", "-p", "-t", pane, check=False)
        now = time.monotonic()
        if _has_markers(screen, markers):
            return now - t0
        dead = _pane_dead_reason(tmux, pane)
        if dead:
            raise BenchError(f"first frame never appeared: {dead}")
        if now >= deadline:
            raise BenchError(f"first frame never appeared within {timeout:g} s "
                             f"(waiting for {' + '.join(repr(m) for m in markers)})")
        next_poll += POLL_INTERVAL
        time.sleep(max(0.0, next_poll - time.monotonic()))


def one_run(args: argparse.Namespace, index: int) -> RunResult:
    """Imports first (with no app running), then launch, first frame, window."""
    import_cli, import_app = import_times(args.python, args.import_cwd)
    with tempfile.TemporaryDirectory(prefix="stacktop-bench-") as tmp:
        work = Path(tmp)
        command = args.command
        if "--log-file" not in shlex.split(command):
            # Keep the app's log out of the user's state dir.
            command += " --log-file " + shlex.quote(str(work / "stacktop.log"))
        tmux = PrivateTmux(work, args.width, args.height)
        pane_pid = 0
        try:
            t0 = time.monotonic()
            pane = tmux.new_session("exec " + command)
            first_frame = wait_first_frame(tmux, pane, args.marker, t0, args.first_frame_timeout)
            pane_pid = int(tmux.cmd("display", "-p", "-t", pane, "#{pane_pid}").strip())
            pane_size = tmux.cmd("display", "-p", "-t", pane, "#{pane_width}x#{pane_height}").strip()
            app = app_process(pane_pid)

            out_file = work / "pane-output.bin"
            out_file.touch()
            tmux.cmd("pipe-pane", "-o", "-t", pane, "cat >> " + shlex.quote(str(out_file)))
            cpu_start = cpu_seconds(app)
            w0 = time.monotonic()
            time.sleep(args.seconds)
            cpu_end = cpu_seconds(app)
            window = time.monotonic() - w0
            tmux.cmd("pipe-pane", "-t", pane)  # no command: close the pipe
            own_rss, kids_rss = rss_mb(app)
            children = [f"{c.pid} {c.name()}" for c in app.children(recursive=True)]
            dead = _pane_dead_reason(tmux, pane)
            if dead:
                raise BenchError(f"run {index + 1}: {dead} during the window")
            app_exe = app.exe()
        finally:
            tmux.kill()
            if pane_pid:
                _reap(pane_pid)
        time.sleep(0.3)  # let `cat` drain the last of the pipe before we read its size
        written = out_file.stat().st_size

    busy = sum(cpu_end[pid] - cpu_start.get(pid, 0.0) for pid in cpu_end)
    return RunResult(
        first_frame_s=first_frame, window_s=window, bytes_written=written,
        bytes_per_s=written / window, cpu_percent=busy / window * 100, rss_mb=own_rss,
        rss_children_mb=kids_rss, import_cli_s=import_cli, import_app_s=import_app,
        app_pid=app.pid, app_exe=app_exe, pane_size=pane_size, children=children,
    )


def _reap(pid: int) -> None:
    """Make sure the app we started is gone once its tmux server is killed."""
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        try:
            proc.wait(timeout=5)
        except psutil.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=5)


# ------------------------------------------------------------------------ report


def machine() -> dict[str, str]:
    """What the figures were measured on; they mean little without it."""
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{psutil.virtual_memory().total / 1024**3:.1f} GB",
        "python": sys.version.split()[0],
        "tmux": subprocess.run(["tmux", "-V"], capture_output=True, text=True,
                               check=False).stdout.strip(),
    }


FIGURES: list[tuple[str, str, str, float]] = [
    # (label, RunResult attribute, format, scale)
    ("first frame (s)", "first_frame_s", "{:.2f}", 1.0),
    ("bytes written (KB/s)", "bytes_per_s", "{:.1f}", 1 / 1024),
    ("CPU (% of one core)", "cpu_percent", "{:.1f}", 1.0),
    ("RSS (MB)", "rss_mb", "{:.1f}", 1.0),
    ("import tui.cli (s)", "import_cli_s", "{:.3f}", 1.0),
    ("import tui.app (s)", "import_app_s", "{:.3f}", 1.0),
]


def report(args: argparse.Namespace, runs: list[RunResult], info: dict[str, str]) -> str:
    """The table a person pastes into an issue: median and range per figure."""
    lines = [
        f"machine: {info['cores']} cores, {info['cpu']}, {info['ram']} RAM; "
        f"Python {info['python']}, {info['tmux']}",
        f"command: {args.command}",
        f"terminal: {args.width}x{args.height} (pane {runs[0].pane_size}), TERM={TERM}; "
        f"window {args.seconds:g} s; {len(runs)} run(s)",
        "",
    ]
    figures = list(FIGURES)
    if any(r.rss_children_mb for r in runs):
        figures.insert(4, ("RSS of children (MB)", "rss_children_mb", "{:.1f}", 1.0))
    rows = [("figure", "median", "range")]
    for label, attr, fmt, scale in figures:
        values = [getattr(r, attr) * scale for r in runs]
        rows.append((label, fmt.format(statistics.median(values)),
                     f"{fmt.format(min(values))}\N{EN DASH}{fmt.format(max(values))}"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for n, row in enumerate(rows):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}")
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    exes = {r.app_exe for r in runs}
    if exes and Path(args.python).resolve() not in {Path(e).resolve() for e in exes}:
        lines.append(f"note: the app ran {', '.join(sorted(exes))}, imports timed with {args.python}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="First frame, terminal bytes/s, CPU, RSS and import time of a TUI in tmux.")
    parser.add_argument("--command", default=DEFAULT_COMMAND,
                        help=f"command to launch (default: {DEFAULT_COMMAND!r}); "
                             "--log-file TMP is appended unless it has one")
    parser.add_argument("--marker", action="append", metavar="TEXT",
                        help="text that proves data arrived; repeat for several, all must show "
                             f"(default: {' and '.join(repr(m) for m in DEFAULT_MARKERS)})")
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="steady-state window per run (default 60)")
    parser.add_argument("--first-frame-timeout", type=float, default=20.0, metavar="SECONDS",
                        help="give up if the first frame has not shown by then (default 20)")
    parser.add_argument("--width", type=int, default=120, help="pane columns (default 120)")
    parser.add_argument("--height", type=int, default=40, help="pane rows (default 40)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter for the import timings (default: this one)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = parser.parse_args(argv)
    args.marker = args.marker or list(DEFAULT_MARKERS)
    if args.runs < 1 or args.seconds <= 0 or args.first_frame_timeout <= 0:
        parser.error("--runs, --seconds and --first-frame-timeout must be positive")
    # A neutral directory, so `import tui` finds the installed package, not the cwd.
    args.import_cwd = tempfile.gettempdir()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("tmux") is None:
        print("tui_watch: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    info = machine()
    runs: list[RunResult] = []
    try:
        for index in range(args.runs):
            runs.append(one_run(args, index))
            print(f"run {index + 1}/{args.runs}: first frame {runs[-1].first_frame_s:.2f} s, "
                  f"{runs[-1].bytes_per_s / 1024:.1f} KB/s, CPU {runs[-1].cpu_percent:.1f} %",
                  file=sys.stderr)
    except BenchError as exc:
        print(f"tui_watch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tui_watch: interrupted", file=sys.stderr)
        return 130
    print(report(args, runs, info))
    if args.json:
        document = {
            "machine": info, "command": args.command, "term": TERM,
            "size": f"{args.width}x{args.height}", "seconds": args.seconds,
            "markers": args.marker, "runs": [asdict(r) for r in runs],
        }
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

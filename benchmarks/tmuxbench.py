"""Shared parts of the terminal benchmarks: a private tmux server and what we measure in it.

The figures of a TUI depend on the terminal it draws in, so every benchmark here runs
its program in a tmux server of its own (its own socket, its own config) with a fixed
pane size and TERM, and reads the screen with `capture-pane` like a person would see it.
tui_watch.py, peers.py and table_bench.py import this module, which is why it holds only
mechanics and no policy: each script decides what a first frame is and what to report.

Scripts import it as `tmuxbench` (run them by path: `python benchmarks/NAME.py`).
Standard library and psutil only.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

TERM = "tmux-256color"
POLL_INTERVAL = 0.020  # capture-pane cadence while waiting for a first frame
MIB = 1024 * 1024


class BenchError(Exception):
    """A failure that ends the benchmark with one line and a non-zero exit."""


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
        """Start the server and the command in a detached pane; return the pane id."""
        out = self.cmd("new-session", "-d", "-s", "bench", "-x", str(self.width), "-y",
                       str(self.height), "-P", "-F", "#{pane_id} #{socket_path}", command)
        pane, _, self.socket_path = out.strip().partition(" ")
        return pane

    def capture(self, pane: str) -> str:
        """The visible screen as plain text (no escapes), one line per row."""
        return self.cmd("capture-pane", "-p", "-t", pane, check=False)

    def send_keys(self, pane: str, *keys: str, literal: bool = False) -> None:
        """Type into the pane; `literal` sends the text as characters, not key names."""
        self.cmd("send-keys", "-t", pane, *(["-l"] if literal else []), *keys)

    def pane_pid(self, pane: str) -> int:
        return int(self.cmd("display", "-p", "-t", pane, "#{pane_pid}").strip())

    def pane_size(self, pane: str) -> str:
        return self.cmd("display", "-p", "-t", pane, "#{pane_width}x#{pane_height}").strip()

    def dead_reason(self, pane: str) -> str:
        """Why a wait ended early, from tmux's view of the pane ('' while it lives)."""
        out = self.cmd("display", "-p", "-t", pane, "#{pane_dead} #{pane_dead_status}",
                       check=False).split()
        if out and out[0] == "1":
            return f"the app exited with status {out[1] if len(out) > 1 else '?'}"
        return ""

    def kill(self) -> None:
        """Kill our server (the pane's process gets SIGHUP) and remove its socket file."""
        self.cmd("kill-server", check=False)
        if self.socket_path and Path(self.socket_path).name == self.socket:
            with contextlib.suppress(OSError):
                Path(self.socket_path).unlink()


def have_tmux() -> bool:
    """The scripts exit 2 without tmux rather than fail half-way."""
    return shutil.which("tmux") is not None


# ---------------------------------------------------------------------- screens


def has_markers(screen: str, markers: Sequence[str]) -> bool:
    return all(marker in screen for marker in markers)


def wait_for_screen(tmux: PrivateTmux, pane: str, ready: Callable[[str], bool], t0: float,
                    timeout: float, what: str, interval: float = POLL_INTERVAL) -> float:
    """Poll the screen until `ready(screen)`; seconds from t0 (time.monotonic) until then.

    `interval` 0 polls back to back; each poll is one capture-pane round trip (a few
    ms), which is the resolution of every figure measured this way.
    """
    deadline = t0 + timeout
    next_poll = time.monotonic()
    checks = 0
    while True:
        screen = tmux.capture(pane)
        now = time.monotonic()
        if ready(screen):
            return now - t0
        checks += 1
        if checks % 10 == 0 or now >= deadline:  # the dead check costs one more round trip
            dead = tmux.dead_reason(pane)
            if dead:
                raise BenchError(f"{what} never appeared: {dead}")
        if now >= deadline:
            raise BenchError(f"{what} never appeared within {timeout:g} s")
        if interval:
            next_poll += interval
            time.sleep(max(0.0, next_poll - time.monotonic()))


def wait_first_frame(tmux: PrivateTmux, pane: str, markers: Sequence[str], t0: float,
                     timeout: float) -> float:
    """Seconds from t0 until every marker is on screen, polled every 20 ms."""
    what = f"first frame (waiting for {' + '.join(repr(m) for m in markers)})"
    return wait_for_screen(tmux, pane, lambda s: has_markers(s, markers), t0, timeout, what)


# ---------------------------------------------------------------------- key latency

LATENCY_POLL = 0.002  # capture-pane pause while timing a key


def timed_keys(tmux: PrivateTmux, pane: str, keys: list[list[str]], ready: Callable[[str], bool],
               what: str, timeout: float = 10.0) -> float:
    """Send one or more send-keys commands in ONE tmux call; seconds until `ready(screen)`."""
    argv: list[str] = []
    for n, key_args in enumerate(keys):
        argv += ([";"] if n else []) + ["send-keys", "-t", pane, *key_args]
    t0 = time.monotonic()
    tmux.cmd(*argv)
    return wait_for_screen(tmux, pane, ready, t0, timeout, what, interval=LATENCY_POLL)


def poll_round_trip(tmux: PrivateTmux, pane: str, samples: int = 20) -> float:
    """Median cost of one capture-pane: the resolution of every latency figure."""
    times = []
    for _ in range(samples):
        t0 = time.monotonic()
        tmux.capture(pane)
        times.append(time.monotonic() - t0)
    return statistics.median(times)


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


def reap(pid: int) -> None:
    """Make sure the process we started is gone once its tmux server is killed."""
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        try:
            proc.wait(timeout=5)
        except psutil.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=5)


# ------------------------------------------------------------------------ window


@dataclass
class Window:
    """What the app cost over one steady-state window."""

    seconds: float
    bytes_written: int
    cpu_percent: float
    rss_mb: float
    rss_children_mb: float
    children: list[str] = field(default_factory=list)

    @property
    def bytes_per_s(self) -> float:
        return self.bytes_written / self.seconds


class WindowMeter:
    """Records bytes written to the pane and the app's CPU between start() and stop().

    Bytes come from `pipe-pane -o` (what the app writes, before tmux re-encodes it),
    CPU from psutil (user+system of the app and its children, % of one core), RSS at
    stop(). Split in two so a caller can do work inside the window.
    """

    def __init__(self, tmux: PrivateTmux, pane: str, app: psutil.Process, workdir: Path) -> None:
        self.tmux, self.pane, self.app = tmux, pane, app
        self.out_file = workdir / f"pane-output-{uuid.uuid4().hex[:6]}.bin"
        self._cpu_start: dict[int, float] = {}
        self._t0 = 0.0
        self._window: Window | None = None

    def start(self) -> None:
        self.out_file.touch()
        self.tmux.cmd("pipe-pane", "-o", "-t", self.pane, "cat >> " + shlex.quote(str(self.out_file)))
        self._cpu_start = cpu_seconds(self.app)
        self._t0 = time.monotonic()

    def stop(self) -> None:
        """Close the window; the byte count is read by result() once `cat` has drained."""
        cpu_end = cpu_seconds(self.app)
        seconds = time.monotonic() - self._t0
        self.tmux.cmd("pipe-pane", "-t", self.pane)  # no command: close the pipe
        own, kids = rss_mb(self.app)
        children = [f"{c.pid} {c.name()}" for c in self.app.children(recursive=True)]
        busy = sum(cpu_end[pid] - self._cpu_start.get(pid, 0.0) for pid in cpu_end)
        self._window = Window(seconds=seconds, bytes_written=0, cpu_percent=busy / seconds * 100,
                              rss_mb=own, rss_children_mb=kids, children=children)

    def result(self) -> Window:
        """Call after the tmux server is gone (or 0.3 s after stop) so the file is complete."""
        if self._window is None:
            raise BenchError("WindowMeter.result() before stop()")
        time.sleep(0.3)  # let `cat` drain the last of the pipe before we read its size
        self._window.bytes_written = self.out_file.stat().st_size
        return self._window


# ------------------------------------------------------------------------ report


@dataclass
class Session:
    """One measured launch: first frame, then a steady-state window."""

    first_frame_s: float
    pane_size: str
    app_pid: int
    app_exe: str
    window: Window


def measure_session(
    work: Path, width: int, height: int, command: str, markers: Sequence[str],
    seconds: float, first_frame_timeout: float,
) -> Session:
    """Launch `command` in a private tmux server, wait for the first frame, measure
    `seconds` of steady state, then kill the server and reap the app."""
    tmux = PrivateTmux(work, width, height)
    pane_pid = 0
    try:
        t0 = time.monotonic()
        pane = tmux.new_session(command)
        first_frame = wait_first_frame(tmux, pane, markers, t0, first_frame_timeout)
        pane_pid = tmux.pane_pid(pane)
        pane_size = tmux.pane_size(pane)
        app = app_process(pane_pid)
        meter = WindowMeter(tmux, pane, app, work)
        meter.start()
        time.sleep(seconds)
        meter.stop()
        dead = tmux.dead_reason(pane)
        if dead:
            raise BenchError(f"{dead} during the window")
        app_exe = app.exe()
    finally:
        tmux.kill()
        if pane_pid:
            reap(pane_pid)
    return Session(first_frame, pane_size, app.pid, app_exe, meter.result())


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


def machine_line(info: dict[str, str]) -> str:
    return (f"machine: {info['cores']} cores, {info['cpu']}, {info['ram']} RAM; "
            f"Python {info['python']}, {info['tmux']}")


def median_range(values: Iterable[float], fmt: str) -> tuple[str, str]:
    """('median', 'min-max') formatted; the range shows how much one run can be trusted."""
    vals = list(values)
    if not vals:
        return "—", "—"
    return fmt.format(statistics.median(vals)), f"{fmt.format(min(vals))}\N{EN DASH}{fmt.format(max(vals))}"


def format_table(rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None) -> str:
    """Plain aligned columns with a dashed rule under the first row (the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = right or [i > 0 for i in range(len(widths))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)

"""Measure what a Textual console costs the way a person runs it: in a real terminal.

The app runs in a private tmux server (its own socket, so no other tmux server is
touched) with a fixed pane size and TERM, because Textual's output and cost depend
on both. Per run it records: time to the first full frame, bytes written to the
terminal per second, CPU % of one core and RSS over a steady-state window, and the
import time of the entry point. It repeats the run and prints median and range.

    python benchmarks/tui_watch.py --runs 3 --seconds 60

Standard library and psutil only, so it runs wherever the app is installed. The tmux
and measuring mechanics live in tmuxbench.py, shared with peers.py and table_bench.py.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tmuxbench import (
    TERM,
    BenchError,
    have_tmux,
    machine,
    machine_line,
    measure_session,
)

DEFAULT_COMMAND = "stacktop watch --demo"
DEFAULT_MARKERS = ("PID", "host ● ok")
IMPORT_REPEATS = 5


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


def one_run(args: argparse.Namespace, index: int) -> RunResult:
    """Imports first (with no app running), then launch, first frame, window."""
    import_cli, import_app = import_times(args.python, args.import_cwd)
    with tempfile.TemporaryDirectory(prefix="stacktop-bench-") as tmp:
        work = Path(tmp)
        command = args.command
        if "--log-file" not in shlex.split(command):
            # Keep the app's log out of the user's state dir.
            command += " --log-file " + shlex.quote(str(work / "stacktop.log"))
        try:
            session = measure_session(work, args.width, args.height, "exec " + command, args.marker,
                                      args.seconds, args.first_frame_timeout)
        except BenchError as exc:
            raise BenchError(f"run {index + 1}: {exc}") from None
    window = session.window

    return RunResult(
        first_frame_s=session.first_frame_s, window_s=window.seconds, bytes_written=window.bytes_written,
        bytes_per_s=window.bytes_per_s, cpu_percent=window.cpu_percent, rss_mb=window.rss_mb,
        rss_children_mb=window.rss_children_mb, import_cli_s=import_cli, import_app_s=import_app,
        app_pid=session.app_pid, app_exe=session.app_exe, pane_size=session.pane_size,
        children=window.children,
    )


# ------------------------------------------------------------------------ report


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
        machine_line(info),
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
    if not have_tmux():
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

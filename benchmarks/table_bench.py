"""What ResourceTable + MetricSpark cost under load, and how fast they answer a key.

DESIGN.md's naive-Textual figures (DataTable + Sparkline: 2.6 s to a first frame and
35 % CPU with 10,000 rows) are the reason these widgets exist; this script measures the
replacements the same way. It runs table_app.py in a private tmux server (120x40,
TERM=tmux-256color) for each --rows value and records:

- first frame: from `tmux new-session` until the screen shows the header and data rows;
  also, from the app's own clock, how long the initial apply() of all rows took;
- CPU % of one core, RSS, and bytes written to the terminal per second over a window,
  while 10 % of the rows and all 8 sparks change every second; and the median apply()
  time of one tick, from the app's clock;
- for the --latency-rows table (10,000 by default), keystroke-to-frame latency after the
  window, --presses times each: filter (`/`, then "row-NN" and Enter sent in one tmux
  command; until every data row on screen starts with row-NN), sort (`s`; until the
  header's arrow sits on the next column) and clear (`/`, then Escape; until a row not
  matching the filter is back).

Latency is measured from just before the `tmux send-keys` call until a `capture-pane`
shows the change; the screen is polled back to back with a 2 ms pause. Nothing is
subtracted: the figures include one tmux round trip for the keys and the resolution of
one capture-pane round trip (printed as "poll"). Escape also includes Textual's 100 ms
wait to tell a lone Escape from an escape sequence (ESCDELAY), as a user would feel it.

    python benchmarks/table_bench.py --runs 3 --seconds 60     # ~8 min
    python benchmarks/table_bench.py --runs 1 --seconds 5 --presses 3 --rows 10000
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tmuxbench import (
    TERM,
    BenchError,
    PrivateTmux,
    WindowMeter,
    app_process,
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

APP = Path(__file__).resolve().with_name("table_app.py")
LABELS = ("Name", "CPU%", "RSS", "Status")  # table_app.py's columns, in order
ROW_RE = re.compile(r"^ ?(row-\d+)\b", re.MULTILINE)  # a data row starts with its name
SORT_RE = re.compile(r"(Name|CPU%|RSS|Status)[▲▼]")
SETTLE = 0.3  # pause between presses, so one press's work never overlaps the next


@dataclass
class TableRun:
    """The raw figures of one run of table_app.py; --json writes these."""

    rows: int
    first_frame_s: float
    initial_apply_s: float
    launch_to_apply_s: float
    window_s: float
    bytes_written: int
    bytes_per_s: float
    cpu_percent: float
    rss_mb: float
    tick_apply_s: list[float] = field(default_factory=list)
    latency_s: dict[str, list[float]] = field(default_factory=dict)
    poll_s: float = 0.0


# ------------------------------------------------------------------------ screens


def data_rows(screen: str) -> list[str]:
    return ROW_RE.findall(screen)


def first_frame_ready(screen: str) -> bool:
    """Header and at least one data row: the table has drawn data, not only layout."""
    return all(label in screen for label in LABELS) and bool(data_rows(screen))


def filtered(prefix: str) -> Callable[[str], bool]:
    """Every data row on screen is `prefix`… (row-12 matches row-12, row-120, row-1200…)."""
    def ready(screen: str) -> bool:
        rows = data_rows(screen)
        return bool(rows) and all(r.startswith(prefix) for r in rows)
    return ready


def unfiltered(prefix: str) -> Callable[[str], bool]:
    def ready(screen: str) -> bool:
        return any(not r.startswith(prefix) for r in data_rows(screen))
    return ready


def sorted_by(label: str) -> Callable[[str], bool]:
    def ready(screen: str) -> bool:
        return sort_label(screen) == label
    return ready


def sort_label(screen: str) -> str | None:
    match = SORT_RE.search(screen)
    return match.group(1) if match else None


def bar_open(screen: str) -> bool:
    """The `/` bar has the keys (FilterBar shows its hint only while typing)."""
    return "Esc clears" in screen


# ------------------------------------------------------------------------ latency


def measure_latency(tmux: PrivateTmux, pane: str, presses: int) -> dict[str, list[float]]:
    """filter, clear and sort, `presses` times each; the app must show the table focused."""
    out: dict[str, list[float]] = {"filter": [], "clear": [], "sort": []}
    for i in range(presses):
        prefix = f"row-{12 + i}"
        tmux.send_keys(pane, "/", literal=True)
        wait_for_screen(tmux, pane, bar_open, time.monotonic(), 10.0, "the filter bar")
        time.sleep(SETTLE)
        out["filter"].append(timed_keys(tmux, pane, [["-l", prefix], ["Enter"]], filtered(prefix),
                                        f"the {prefix} filter"))
        time.sleep(SETTLE)
        tmux.send_keys(pane, "/", literal=True)
        wait_for_screen(tmux, pane, bar_open, time.monotonic(), 10.0, "the filter bar")
        time.sleep(SETTLE)
        out["clear"].append(timed_keys(tmux, pane, [["Escape"]], unfiltered(prefix), "the cleared filter"))
        time.sleep(SETTLE)
    for _ in range(presses):
        current = sort_label(tmux.capture(pane))
        if current is None:
            raise BenchError("no sort arrow in the table header")
        expected = LABELS[(LABELS.index(current) + 1) % len(LABELS)]
        out["sort"].append(timed_keys(tmux, pane, [["s"]], sorted_by(expected), f"sort by {expected}"))
        time.sleep(SETTLE)
    return out


# ------------------------------------------------------------------------ one run


def read_timings(path: Path) -> list[dict[str, float | str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def one_run(args: argparse.Namespace, rows: int) -> TableRun:
    """Launch table_app.py, first frame, window, then (for the big table) latencies."""
    with tempfile.TemporaryDirectory(prefix="stacktop-table-bench-") as tmp:
        work = Path(tmp)
        timings_file = work / "timings.jsonl"
        command = "exec " + shlex.join([args.python, str(APP), "--rows", str(rows), "--seed", str(args.seed),
                                        "--timings", str(timings_file)])
        tmux = PrivateTmux(work, args.width, args.height)
        pane_pid = 0
        latency: dict[str, list[float]] = {}
        poll = 0.0
        try:
            t0 = time.monotonic()
            pane = tmux.new_session(command)
            first_frame = wait_for_screen(tmux, pane, first_frame_ready, t0, args.first_frame_timeout,
                                          f"first frame of {rows} rows")
            pane_pid = tmux.pane_pid(pane)
            app = app_process(pane_pid)
            meter = WindowMeter(tmux, pane, app, work)
            meter.start()
            w0 = time.monotonic()
            time.sleep(args.seconds)
            meter.stop()
            w1 = time.monotonic()
            if rows == args.latency_rows:
                poll = poll_round_trip(tmux, pane)
                latency = measure_latency(tmux, pane, args.presses)
            dead = tmux.dead_reason(pane)
            if dead:
                raise BenchError(f"{rows} rows: {dead}")
        finally:
            tmux.kill()
            if pane_pid:
                reap(pane_pid)
        window = meter.result()
        events = read_timings(timings_file)
    stamps = {str(e["event"]): float(e["t"]) for e in events if e["event"] != "tick"}
    ticks = [float(e["apply_s"]) for e in events if e["event"] == "tick" and w0 <= float(e["t"]) <= w1]
    if "apply_start" not in stamps or "apply_end" not in stamps:
        raise BenchError(f"{rows} rows: table_app.py wrote no apply timings")
    return TableRun(
        rows=rows, first_frame_s=first_frame,
        initial_apply_s=stamps["apply_end"] - stamps["apply_start"],
        launch_to_apply_s=stamps["apply_start"] - t0, window_s=window.seconds,
        bytes_written=window.bytes_written, bytes_per_s=window.bytes_per_s,
        cpu_percent=window.cpu_percent, rss_mb=window.rss_mb, tick_apply_s=ticks,
        latency_s=latency, poll_s=poll,
    )


# ------------------------------------------------------------------------ report


def report(args: argparse.Namespace, runs: list[TableRun], info: dict[str, str]) -> str:
    lines = [
        machine_line(info),
        f"app: table_app.py (ResourceTable, 4 columns, + 8 MetricSparks; 10 % of rows and every "
        f"spark change each second), seed {args.seed}",
        f"terminal: {args.width}x{args.height}, TERM={TERM}; window {args.seconds:g} s; "
        f"{args.runs} run(s), median (min-max)",
        "",
    ]
    head = ["rows", "first frame s", "initial apply() s", "CPU %", "RSS MB", "KB/s", "tick apply() ms"]
    table = [head]
    for rows in args.rows:
        mine = [r for r in runs if r.rows == rows]
        cells = [f"{rows:,}"]
        for values, fmt in (
            ([r.first_frame_s for r in mine], "{:.2f}"),
            ([r.initial_apply_s for r in mine], "{:.3f}"),
            ([r.cpu_percent for r in mine], "{:.1f}"),
            ([r.rss_mb for r in mine], "{:.1f}"),
            ([r.bytes_per_s / 1024 for r in mine], "{:.1f}"),
            ([statistics.median(r.tick_apply_s) * 1000 for r in mine if r.tick_apply_s], "{:.1f}"),
        ):
            median, spread = median_range(values, fmt)
            cells.append(f"{median} ({spread})")
        table.append(cells)
    lines.append(format_table(table))
    lines.append("first frame: tmux new-session until header + data rows show (20 ms polls); "
                 "initial apply(): the app's own clock; tick apply(): median per run")
    timed = [r for r in runs if r.latency_s]
    if timed:
        lines += ["", f"keystroke to frame, {args.latency_rows:,} rows, {args.presses} presses per run "
                      "(median of each run's median, range of those):", ""]
        rows_out = [["action", "median ms", "range ms", "all presses min-max ms"]]
        for action, label in (("filter", '"/", then "row-NN"+Enter in one send'),
                              ("sort", '"s" (next column)'), ("clear", '"/", then Escape')):
            per_run = [statistics.median(r.latency_s[action]) * 1000 for r in timed]
            every = [v * 1000 for r in timed for v in r.latency_s[action]]
            median, spread = median_range(per_run, "{:.0f}")
            _, every_range = median_range(every, "{:.0f}")
            rows_out.append([f"{action}: {label}", median, spread, every_range])
        lines.append(format_table(rows_out))
        poll = statistics.median(r.poll_s for r in timed) * 1000
        lines.append(f"measured: send-keys at t0, then capture-pane every 2 ms until the change shows; "
                     f"one capture-pane round trip (the resolution) {poll:.1f} ms; nothing subtracted; "
                     "Escape includes Textual's 100 ms ESCDELAY")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="ResourceTable + MetricSpark: first frame, CPU, RSS, bytes/s and key latency in tmux.")
    parser.add_argument("--rows", type=int, action="append",
                        help="table size; repeat for several (default: 200 and 10000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per table size (default 3)")
    parser.add_argument("--seconds", type=float, default=60.0, help="steady-state window (default 60)")
    parser.add_argument("--presses", type=int, default=10,
                        help="presses per latency figure per run (default 10)")
    parser.add_argument("--latency-rows", type=int, default=10_000,
                        help="measure key latency on the run with this many rows (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of table_app.py's data (default 1)")
    parser.add_argument("--first-frame-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--width", type=int, default=120, help="pane columns (default 120)")
    parser.add_argument("--height", type=int, default=40, help="pane rows (default 40)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for table_app.py")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = parser.parse_args(argv)
    args.rows = args.rows or [200, 10_000]
    if args.runs < 1 or args.seconds <= 0 or args.presses < 1 or min(args.rows) < 1:
        parser.error("--runs, --seconds, --presses and --rows must be positive")
    if args.height < 20:
        parser.error("--height must be at least 20: the latency checks read data rows off the screen")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not have_tmux():
        print("table_bench: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    info = machine()
    runs: list[TableRun] = []
    try:
        for index in range(args.runs):
            for rows in args.rows:
                run = one_run(args, rows)
                runs.append(run)
                extra = ""
                if run.latency_s:
                    extra = ", latency ms " + ", ".join(
                        f"{k} {statistics.median(v) * 1000:.0f}" for k, v in run.latency_s.items())
                print(f"run {index + 1}/{args.runs} {rows} rows: first frame {run.first_frame_s:.2f} s, "
                      f"CPU {run.cpu_percent:.1f} %, {run.bytes_per_s / 1024:.1f} KB/s{extra}",
                      file=sys.stderr)
    except BenchError as exc:
        print(f"table_bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("table_bench: interrupted", file=sys.stderr)
        return 130
    print(report(args, runs, info))
    if args.json:
        document = {"machine": info, "term": TERM, "size": f"{args.width}x{args.height}",
                    "seconds": args.seconds, "seed": args.seed, "runs": [asdict(r) for r in runs]}
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What following a busy log costs, and proof that memory is bounded by
max_lines rather than by how many lines were followed.

Runs the real PodLogsScreen (so the real LogView, its worker and its header)
in a headless Textual app (`App.run_test`, 120x40) fed by a source that
yields --lines lines in batches of --batch, as a log stream delivers them.
The source gives the event loop a turn between batches, as a socket read
would, so the screen repaints while it follows. One in ten lines carries
ANSI colour codes, one in fifty is 400 characters long.

It prints lines/s (end to end, and counting only the time inside
append_lines), the rows LogView rendered (it renders visible rows only), the
buffer's length and dropped count, and RSS: before the app, when the buffer
first filled, the peak while following, and at the end. The growth from
"buffer full" to the peak is the figure that shows the bound. No assertions:
it reports.

    python benchmarks/log_view_bench.py                          # 1,000,000 lines, 500 a batch
    python benchmarks/log_view_bench.py --mode wrap --lines 200000
    python benchmarks/log_view_bench.py --mode search            # following with a query highlighted
    python benchmarks/log_view_bench.py --mode paused            # paused (f, PgUp) while it streams on

In paused mode the view soon sits on the oldest held line, and those keep
dropping off the front, so it repaints about as often as when following: the
pause saves repaints only while the lines on screen are still held.

Run one mode per process: RSS figures of a second run in the same process
would include what the first left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import psutil
from textual.app import App

from tui.screens.pod_logs import PodLogsScreen
from widgets.log_view import LogView

MB = 2**20
SIZE = (120, 40)
LEVELS = ("INFO", "INFO", "DEBUG", "INFO", "WARN", "INFO", "ERROR", "INFO")


def log_line(i: int) -> str:
    level = LEVELS[i % len(LEVELS)]
    seconds = i // 1000
    ts = f"2024-03-15T{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{i % 1000:03d}Z"
    if i % 10 == 3:
        level = f"\x1b[1;3{i % 7 + 1}m{level}\x1b[0m"
    status = 200 if i % 97 else 503
    text = f"{ts} {level} request {i} GET /api/v1/orders/{i % 9973} status={status} took={i % 250}ms"
    if i % 50 == 7:
        text += " payload=" + "x" * 400
    return text


@dataclass
class Run:
    """Figures of one run, filled in as it goes."""

    rss_before: int = 0
    rss_full: int | None = None
    rss_peak: int = 0
    rss_end: int = 0
    append_seconds: float = 0.0
    generate_seconds: float = 0.0
    rows_rendered: int = 0
    samples: list[tuple[int, int]] = field(default_factory=list)
    """(lines appended, RSS) every --sample-every batches."""


class BenchSource:
    """Yields the lines in batches and says when it is done; samples RSS on the way."""

    def __init__(self, args: argparse.Namespace, run: Run, process: psutil.Process) -> None:
        self.args = args
        self.run = run
        self.process = process
        self.started = 0.0
        self.finished = 0.0
        self.done = asyncio.Event()

    async def __call__(self, container: str, previous: bool) -> AsyncIterator[list[str]]:
        args, run = self.args, self.run
        self.started = time.perf_counter()
        sent = 0
        batches = 0
        try:
            while sent < args.lines:
                t0 = time.perf_counter()
                batch = [log_line(i) for i in range(sent, min(sent + args.batch, args.lines))]
                run.generate_seconds += time.perf_counter() - t0
                yield batch
                sent += len(batch)
                batches += 1
                if run.rss_full is None and sent >= args.max_lines:
                    gc.collect()
                    run.rss_full = self.process.memory_info().rss
                if batches % args.sample_every == 0:
                    rss = self.process.memory_info().rss
                    run.rss_peak = max(run.rss_peak, rss)
                    run.samples.append((sent, rss))
                await asyncio.sleep(0)  # a socket read would give the loop a turn here
        finally:
            self.finished = time.perf_counter()
            self.done.set()


class BenchApp(App[None]):
    def __init__(self, source: BenchSource, max_lines: int) -> None:
        super().__init__()
        self.source = source
        self.max_lines = max_lines

    def on_mount(self) -> None:
        self.push_screen(PodLogsScreen("bench/busy-pod", ["app"], self.source, max_lines=self.max_lines))


def instrument(run: Run) -> None:
    """Count rendered rows and time spent in append_lines (the widget's own cost)."""
    append, render_line = LogView.append_lines, LogView.render_line

    def timed_append(self: LogView, lines: list[str]) -> None:
        t0 = time.perf_counter()
        append(self, lines)
        run.append_seconds += time.perf_counter() - t0

    def counted_render_line(self: LogView, y: int):  # type: ignore[no-untyped-def]
        run.rows_rendered += 1
        return render_line(self, y)

    LogView.append_lines = timed_append  # type: ignore[method-assign]
    LogView.render_line = counted_render_line  # type: ignore[method-assign]


async def follow(args: argparse.Namespace) -> tuple[Run, BenchSource, LogView, float]:
    process = psutil.Process()
    run = Run()
    instrument(run)
    gc.collect()
    run.rss_before = run.rss_peak = process.memory_info().rss
    source = BenchSource(args, run, process)
    app = BenchApp(source, args.max_lines)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, PodLogsScreen)
        log = screen.log_view
        if args.mode == "wrap":
            await pilot.press("w")
        elif args.mode == "search":
            await pilot.press("slash", *"status=503", "enter", "f")  # highlight, keep following
        elif args.mode == "paused":
            await pilot.press("f", "pageup")  # reading older lines while the stream runs on
        await asyncio.wait_for(source.done.wait(), timeout=3600)
        t0 = time.perf_counter()
        await pilot.pause()  # the last frame
        last_frame = time.perf_counter() - t0
        gc.collect()
        run.rss_end = process.memory_info().rss
        run.rss_peak = max(run.rss_peak, run.rss_end)
    return run, source, log, last_frame


def machine() -> str:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = psutil.virtual_memory().total / 1024**3
    return (f"{os.cpu_count()} cores, {model}, {ram:.1f} GB RAM; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, textual {metadata.version('textual')}, "
            f"rich {metadata.version('rich')}")


def report(args: argparse.Namespace, run: Run, source: BenchSource, log: LogView, last_frame: float) -> str:
    wall = source.finished - source.started
    state = log.state
    full = run.rss_full if run.rss_full is not None else run.rss_end
    calls = -(-args.lines // args.batch)
    ui = wall - run.generate_seconds
    lines = [
        f"LogView follow benchmark: {args.lines:,} lines in batches of {args.batch}, "
        f"max_lines={args.max_lines:,}, mode={args.mode}, headless {SIZE[0]}x{SIZE[1]}",
        f"machine: {machine()}",
        "",
        f"end to end       {args.lines / wall:12,.0f} lines/s  ({wall:.2f} s, of which "
        f"{run.generate_seconds:.2f} s making the lines)",
        f"screen + widget  {args.lines / ui:12,.0f} lines/s  ({ui:.2f} s: worker, append, header, repaints)",
        f"append_lines     {args.lines / run.append_seconds:12,.0f} lines/s  ({run.append_seconds:.2f} s in "
        f"{calls:,} calls, {run.append_seconds / calls * 1e6:.0f} µs a batch)",
        f"rows rendered    {run.rows_rendered:12,}          (visible rows only: "
        f"{run.rows_rendered / args.lines:.3f} per line appended)",
        f"last frame       {last_frame * 1000:12.1f} ms",
        f"buffer           {state.lines:12,} lines held, {state.dropped:,} dropped, "
        f"{state.received:,} received"
        + (f"; /{state.query}: {state.matches:,} matching lines held" if state.query else ""),
        "",
        f"RSS before app        {run.rss_before / MB:8.1f} MB",
        f"RSS buffer full       {full / MB:8.1f} MB  (after the first {args.max_lines:,} lines)",
        f"RSS peak              {run.rss_peak / MB:8.1f} MB",
        f"RSS end               {run.rss_end / MB:8.1f} MB",
        f"growth, full -> peak  {(run.rss_peak - full) / MB:+8.1f} MB  over "
        f"{args.lines - args.max_lines:,} more lines",
        f"growth, full -> end   {(run.rss_end - full) / MB:+8.1f} MB",
    ]
    if run.samples:
        picks = [*run.samples[:: max(1, len(run.samples) // 5)], run.samples[-1]]
        along = ", ".join(f"{n // 1000:,}k: {rss / MB:.1f}" for n, rss in dict(picks).items())
        lines.append(f"RSS along the way (MB) {along}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--max-lines", type=int, default=10_000)
    parser.add_argument("--mode", choices=("follow", "wrap", "search", "paused"), default="follow")
    parser.add_argument("--sample-every", type=int, default=100, help="batches between RSS samples")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run, source, log, last_frame = asyncio.run(follow(args))
    print(report(args, run, source, log, last_frame))
    return 0


if __name__ == "__main__":
    sys.exit(main())

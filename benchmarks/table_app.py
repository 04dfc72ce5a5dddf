"""A stand-alone Textual app that loads a ResourceTable and 8 MetricSparks the way a busy tab would.

It exists so table_bench.py can measure our table and sparklines without stacktop's
providers in the way: N rows, 10 % of them changing two numeric cells every second,
8 sparks taking one sample each per tick, and a `/` filter bar like the console's.
The data is pseudo-random from a seed, so two runs draw the same screens.

    python benchmarks/table_app.py --rows 10000
    python benchmarks/table_app.py --rows 200 --timings /tmp/t.jsonl   # for table_bench.py

--timings appends one JSON object per line, {"event": ..., "t": time.monotonic()}:
"imported", "data_built", "apply_start", "apply_end", "first_refresh", then one "tick" per second
with the duration of that tick's apply() in "apply_s". CLOCK_MONOTONIC is shared by all
processes on Linux, so the bench can line these up with its own clock.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TextIO

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid

try:
    from widgets.filter_bar import FilterBar
    from widgets.metric_spark import MetricSpark
    from widgets.resource_table import Column, ResourceTable
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from widgets.filter_bar import FilterBar
    from widgets.metric_spark import MetricSpark
    from widgets.resource_table import Column, ResourceTable

STATUSES = ("running", "sleeping", "sleeping", "sleeping", "idle", "stopped", "zombie")
SPARKS = (  # label, unit, warn, critical, maximum
    ("CPU", "%", 70.0, 90.0, 100.0),
    ("Memory", "%", 80.0, 95.0, 100.0),
    ("Swap", "%", 50.0, 80.0, 100.0),
    ("Load", "", 2.0, 4.0, None),
    ("Disk read", " MB/s", None, None, None),
    ("Disk write", " MB/s", None, None, None),
    ("Net in", " MB/s", None, None, None),
    ("Net out", " MB/s", None, None, None),
)
HISTORY = 120  # samples kept per spark; wider than any spark at 120 columns
GIB = 1024**3


def write_event(timings: TextIO | None, event: str, **extra: float) -> None:
    """One timings line, flushed: the bench kills the app, so nothing waits for exit."""
    if timings:
        timings.write(json.dumps({"event": event, "t": time.monotonic(), **extra}) + "\n")
        timings.flush()


class Dataset:
    """Rows and spark samples from one seeded generator: the same run draws the same screens."""

    def __init__(self, rows: int, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.keys = [f"r{i}" for i in range(rows)]
        self.rows: dict[str, tuple[Any, ...]] = {
            key: (f"row-{i}", round(rng.uniform(0, 100), 1), rng.randrange(1 << 20, 2 * GIB),
                  rng.choice(STATUSES))
            for i, key in enumerate(self.keys)
        }
        self.samples = [deque([rng.uniform(5, 60)], maxlen=HISTORY) for _ in SPARKS]

    def snapshot(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The whole table, as ResourceTable.apply wants it (the widget diffs it by key)."""
        return list(self.rows.items())

    def tick(self) -> None:
        """10 % of the rows get a new CPU% and RSS; every spark gets one sample."""
        rng = self.rng
        for key in rng.sample(self.keys, len(self.keys) // 10):
            name, _, _, status = self.rows[key]
            self.rows[key] = (name, round(rng.uniform(0, 100), 1), rng.randrange(1 << 20, 2 * GIB), status)
        for history in self.samples:
            history.append(min(100.0, max(0.0, history[-1] + rng.uniform(-8, 8))))


class TableBenchApp(App[None]):
    """Table + sparks + filter bar, nothing else: what table_bench.py measures."""

    CSS = """
    #sparks { grid-size: 4 2; grid-gutter: 0 1; height: 6; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "open_filter", "Filter"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, data: Dataset, interval: float, timings: TextIO | None) -> None:
        super().__init__()
        self.data = data
        self.interval = interval
        self.timings = timings

    def log_event(self, event: str, **extra: float) -> None:
        write_event(self.timings, event, **extra)

    def compose(self) -> ComposeResult:
        with Grid(id="sparks"):
            for label, unit, warn, critical, maximum in SPARKS:
                yield MetricSpark(label, unit=unit, warn=warn, critical=critical, maximum=maximum)
        columns = [
            Column("name", "Name", width=24),
            Column("cpu", "CPU%", width=7, kind="percent"),
            Column("rss", "RSS", width=10, kind="bytes"),
            Column("status", "Status", width=9, kind="status"),
        ]
        yield ResourceTable(columns, sort_key="cpu", sort_reverse=True, id="table")
        yield FilterBar(id="filter-bar")  # the console's own `/` bar

    @property
    def table(self) -> ResourceTable:
        return self.query_one("#table", ResourceTable)

    def on_mount(self) -> None:
        snapshot = self.data.snapshot()
        self.log_event("apply_start")
        self.table.apply(snapshot)
        self.log_event("apply_end")
        self.show_sparks()
        self.table.focus()
        self.call_after_refresh(self.log_event, "first_refresh")
        self.set_interval(self.interval, self.tick)

    def show_sparks(self) -> None:
        for spark, history, (_, unit, *_rest) in zip(self.query(MetricSpark), self.data.samples, SPARKS,
                                                      strict=True):
            spark.show(history, f"{history[-1]:.1f}{unit}")

    def tick(self) -> None:
        self.data.tick()
        snapshot = self.data.snapshot()
        start = time.monotonic()
        self.table.apply(snapshot)
        self.log_event("tick", apply_s=time.monotonic() - start)
        self.show_sparks()

    # -- the `/` filter bar: wired as in tui/app.py -------------------------

    def action_open_filter(self) -> None:
        self.query_one(FilterBar).open(self.table.filter_text)

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.table.set_filter(event.value)

    def on_filter_bar_closed(self, event: FilterBar.Closed) -> None:
        if event.cleared:
            self.table.set_filter("")
        self.table.focus()

    def on_resource_table_filter_changed(self, event: ResourceTable.FilterChanged) -> None:
        self.query_one(FilterBar).show_state(event.text, event.shown, event.total, event.error)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="ResourceTable + 8 MetricSparks under a steady update load.")
    parser.add_argument("--rows", type=int, default=10_000, help="table rows (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the pseudo-random data (default 1)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks (default 1)")
    parser.add_argument("--timings", metavar="PATH", help="append JSON-lines timings here")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.interval <= 0:
        parser.error("--rows and --interval must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with open(args.timings, "a") if args.timings else contextlib.nullcontext() as timings:
        write_event(timings, "imported")
        data = Dataset(args.rows, args.seed)
        write_event(timings, "data_built")
        TableBenchApp(data, args.interval, timings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

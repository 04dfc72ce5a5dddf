"""ResourceTable layout at 80x24 and 120x40: widths, alignment, sort arrow,
status colours, the cursor, and a filtered view."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from widgets.resource_table import Column, ResourceTable

COLUMNS = [
    Column("name", "Name", min_width=10, flex=2, hotkey="N"),
    Column("ns", "Namespace", min_width=8),
    Column("cpu", "CPU", width=7, kind="percent", hotkey="C"),
    Column("mem", "Memory", width=9, kind="bytes"),
    Column("age", "Age", width=6, kind="age"),
    Column("status", "Status", width=16, kind="status"),
]
STATUSES = ["Running", "Pending", "CrashLoopBackOff", "Running", "Completed", "OOMKilled"]


def fleet(n: int = 200) -> list[tuple[str, tuple[object, ...]]]:
    return [
        (f"uid-{i}", (f"api-{i:03d}", ["prod", "staging", "kube-system"][i % 3], (i * 37) % 100 + 0.5,
                      (i * 7919) % 4096 * 2**20, i * 97 * 60, STATUSES[i % len(STATUSES)]))
        for i in range(n)
    ]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ResourceTable(COLUMNS, sort_key="cpu", sort_reverse=True, id="t")

    def on_mount(self) -> None:
        table = self.query_one(ResourceTable)
        table.apply(fleet())
        table.focus()


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sorted_table(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(TableApp(), terminal_size=size, press=["down", "down"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_filtered_inverted_regex(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.query_one(ResourceTable).set_filter("!re:^(prod|staging)$")

    assert snap_compare(TableApp(), terminal_size=size, run_before=run_before)

"""ResourceTable: keyed diffs, sort, filter and a cursor that never jumps away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import App, ComposeResult

from widgets.resource_table import Column, ResourceTable

COLUMNS = [
    Column("name", "Name", hotkey="N"),
    Column("cpu", "CPU%", width=7, kind="percent", hotkey="C"),
    Column("rss", "RSS", width=10, kind="bytes"),
    Column("status", "Status", width=9, kind="status"),
]


def rows(n: int, cpu: Any = None) -> list[tuple[str, tuple[Any, ...]]]:
    return [(f"k{i}", (f"web-{i}", float(i) if cpu is None else cpu(i), i * 2**20, "running"))
            for i in range(n)]


class TableApp(App[None]):
    def __init__(self, **table_args: Any) -> None:
        super().__init__()
        self.table_args = table_args

    def compose(self) -> ComposeResult:
        yield ResourceTable(COLUMNS, id="t", **self.table_args)


@pytest.fixture
async def table() -> Iterator[ResourceTable]:  # type: ignore[misc]
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        t = app.query_one(ResourceTable)
        t.focus()
        t.pilot = pilot  # type: ignore[attr-defined]
        yield t


def screen_rows(t: ResourceTable) -> list[str]:
    return ["".join(seg.text for seg in t.render_line(y)).rstrip() for y in range(t.size.height)]


async def test_insert_delete_change_in_place(table: ResourceTable) -> None:
    table.apply(rows(3))
    assert table.visible_keys() == ["k0", "k1", "k2"]
    table.apply([rows(3)[0], ("k9", ("new", 1.0, 0, "pending")), rows(3)[2]])
    assert table.visible_keys() == ["k0", "k9", "k2"]
    table.apply([("k0", ("web-0", 55.5, 0, "error")), ("k2", rows(3)[2][1])])
    assert table.visible_keys() == ["k0", "k2"]
    assert table.row_cells("k0") == ("web-0", "55.5%", "0 B", "error")


async def test_input_order_without_sort_and_moves(table: ResourceTable) -> None:
    table.apply(rows(4))
    table.apply(list(reversed(rows(4))))
    assert table.visible_keys() == ["k3", "k2", "k1", "k0"]


async def test_sort_is_numeric_aware_stable_and_keeps_missing_last(table: ResourceTable) -> None:
    data = [("a", ("web-10", 5.0, 1, "ok")), ("b", ("web-9", None, 1, "ok")),
            ("c", ("web-100", 5.0, 1, "ok")), ("d", ("web-2", 50.0, 1, "ok"))]
    table.apply(data)
    table.sort_by("name")
    assert table.visible_keys() == ["d", "b", "a", "c"]  # 2 < 9 < 10 < 100
    table.sort_by("cpu", reverse=True)
    assert table.visible_keys() == ["d", "a", "c", "b"]  # equal 5.0s keep input order; None last
    table.sort_by("cpu")
    assert table.visible_keys() == ["a", "c", "d", "b"]


async def test_reorder_under_sort_when_a_value_changes(table: ResourceTable) -> None:
    table.sort_by("cpu", reverse=True)
    table.apply(rows(5))
    assert table.visible_keys()[0] == "k4"
    table.apply(rows(5, cpu=lambda i: 99.0 if i == 1 else float(i)))
    assert table.visible_keys()[:2] == ["k1", "k4"]


async def test_cursor_stays_on_its_row_across_refresh_sort_and_filter(table: ResourceTable) -> None:
    table.apply(rows(50))
    table.move_cursor_to("k20")
    table.apply([("k-new", ("aaa", 0.0, 0, "ok")), *rows(50)])  # a row inserted above
    assert table.cursor_key == "k20"
    table.sort_by("cpu", reverse=True)
    assert table.cursor_key == "k20"
    table.set_filter("web-2")
    assert table.cursor_key == "k20"
    table.set_filter("")
    assert table.cursor_key == "k20"
    await table.pilot.pause()  # type: ignore[attr-defined]
    assert any(line.startswith("web-20 ") for line in screen_rows(table))  # still on screen


async def test_cursor_row_keeps_its_place_on_screen_when_rows_arrive_above(table: ResourceTable) -> None:
    table.apply(rows(100))
    table.move_cursor_to("k50")
    await table.pilot.pause()  # type: ignore[attr-defined]
    before = screen_rows(table).index(next(r for r in screen_rows(table) if r.startswith("web-50 ")))
    table.apply([(f"n{i}", (f"new-{i}", 0.0, 0, "ok")) for i in range(5)] + rows(100))
    await table.pilot.pause()  # type: ignore[attr-defined]
    after = screen_rows(table).index(next(r for r in screen_rows(table) if r.startswith("web-50 ")))
    assert before == after


async def test_when_the_cursor_row_goes_the_cursor_stays_at_its_place(table: ResourceTable) -> None:
    table.apply(rows(5))
    table.move_cursor_to("k2")
    table.apply([r for r in rows(5) if r[0] != "k2"])
    assert table.cursor_key == "k3"
    table.apply([])
    assert table.cursor_key is None and table.row_count == 0


async def test_bad_regex_keeps_the_previous_filter(table: ResourceTable) -> None:
    table.apply(rows(20))
    assert table.set_filter("web-1") is None
    shown = table.row_count
    error = table.set_filter("re:(")
    assert error and "bad regex" in error
    assert table.filter_text == "web-1" and table.row_count == shown


async def test_filter_and_sort_hotkeys_from_the_keyboard(table: ResourceTable) -> None:
    table.apply(rows(12))
    pilot = table.pilot  # type: ignore[attr-defined]
    await pilot.press("C")
    assert (table.sort_key, table.sort_reverse) == ("cpu", True)
    await pilot.press("C")
    assert (table.sort_key, table.sort_reverse) == ("cpu", False)
    await pilot.press("s")
    assert table.sort_key == "rss"
    await pilot.press("S")
    assert table.sort_reverse is False
    await pilot.press("end")
    assert table.cursor_row == 11
    await pilot.press("home", "down", "down")
    assert table.cursor_row == 2
    await pilot.press("pagedown")
    assert table.cursor_row > 2


async def test_an_unchanged_snapshot_repaints_nothing(table: ResourceTable, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table.apply(rows(30))
    await table.pilot.pause()  # type: ignore[attr-defined]
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(table, "refresh", lambda *regions, **kw: calls.append(regions))
    table.apply(rows(30))
    assert calls == []
    table.apply(rows(30, cpu=lambda i: 7.0 if i == 3 else float(i)))  # one visible row changed
    assert len(calls) == 1 and len(calls[0]) == 1
    region = calls[0][0]
    assert (region.y, region.height) == (4, 1)  # header + rows 0..2 above it
    cpu_x, cpu_width = table._column_layout()[1]
    assert (region.x, region.width) == (cpu_x, cpu_width)  # only the changed cell is resent
    calls.clear()
    table.apply(rows(30, cpu=lambda i: 7.0 if i == 3 else (1.0 if i == 29 else float(i))))
    assert calls == []  # row 29 is below the screen


@pytest.mark.parametrize("n", [0, 1, 100_000])
async def test_correct_with_0_1_and_100k_rows(n: int) -> None:
    app = TableApp(sort_key="cpu", sort_reverse=True)
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        t.apply(rows(n))
        await pilot.pause()
        assert t.row_count == n
        lines = screen_rows(t)
        if n == 0:
            assert lines[1] == "no rows" and t.cursor_key is None
        else:
            assert lines[1].startswith(f"web-{n - 1} ")
            t.set_filter(f"web-{n - 1}")
            assert t.cursor_key == f"k{n - 1}"
            t.focus()
            await pilot.press("end", "up", "home")
            assert t.cursor_row == 0


async def test_status_cells_are_coloured_by_severity(table: ResourceTable) -> None:
    table.apply([("a", ("x", 1.0, 1, "running")), ("b", ("y", 1.0, 1, "CrashLoopBackOff")),
                 ("c", ("z", 1.0, 1, "whatever"))])
    table.move_cursor_to("c")
    await table.pilot.pause()  # type: ignore[attr-defined]
    ok = table.get_component_rich_style("resource-table--ok").color
    error = table.get_component_rich_style("resource-table--error").color
    colours = [{seg.style.color for seg in table.render_line(y) if seg.style} for y in (1, 2)]
    assert ok in colours[0] and error in colours[1]
    assert len(list(table.render_line(1))) <= 3  # runs of one style, not a segment per cell


async def test_at_the_top_the_top_rows_stay_in_view_while_the_cursor_row_moves(
    table: ResourceTable,
) -> None:
    table.sort_by("cpu", reverse=True)
    table.apply(rows(40))
    await table.pilot.pause()  # type: ignore[attr-defined]
    table.move_cursor_to("k38")  # second from the top
    table.apply(rows(40, cpu=lambda i: 34.5 if i == 38 else float(i)))  # k38 drops to 5th place
    await table.pilot.pause()  # type: ignore[attr-defined]
    assert (table.cursor_key, table.cursor_row) == ("k38", 4)
    assert table.scroll_offset.y == 0
    assert screen_rows(table)[1].startswith("web-39 ")  # the top row is still the first line


@pytest.mark.parametrize("typed", [["w", "we", "web-1", "web-12"], ["web-1", "!web-1"],
                                   ["web", "re:web-1$", "web-1"], ["web-12", "web-1", "web"]])
async def test_filtering_while_typing_matches_a_fresh_filter(table: ResourceTable, typed: list[str]) -> None:
    table.apply(rows(150))
    for text in typed:
        table.set_filter(text)
    narrowed = table.visible_keys()
    table.set_filter("")
    table.set_filter(typed[-1])
    assert narrowed == table.visible_keys()

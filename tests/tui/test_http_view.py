"""The HTTP view of the Resources tab on recorded health-check snapshots: one
check down with a 500, one timing out, one slow, one not checked yet; the view
bar's count and mark, the summary line, the rows (down first), filter and
selection across polls, the detail pane (header names, never values), the
columns for 80 and 120 cells; and the screens at 80x24 and 120x40."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Static

from providers.base import Provider
from providers.http_checks import DOWN, PENDING, UP, HttpChecksSnapshot, HttpCheckStatus
from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, fill_polls, filter_to
from tui.app import StacktopApp
from tui.screens.http_view import NARROW, WIDE, HttpView, check_row, http_problem, summary_line
from tui.screens.resources import ResourcesTab
from widgets.resource_table import ResourceTable
from widgets.view_bar import ViewBar

TALL = (120, 40)
SHORT = (80, 24)
SIZES = [SHORT, TALL]


def recorded_check(name: str, url: str, state: str, i: int, *, base: float, spread: float = 0.02,
                   status: int | None = 200, error: str = "", failures: int = 0, samples: int = 30,
                   **kw: object) -> HttpCheckStatus:
    """A check after poll `i`: response times waving around `base` seconds."""
    if state == PENDING:
        return HttpCheckStatus(name=name, url=url, method="GET", expect="2xx or 3xx", body_match=None,
                               header_names=(), interval=30.0, timeout=5.0, window=900.0, state=PENDING)
    recent = tuple(round(base + spread * (((k + i) % 7) - 3) / 3, 4) for k in range(24 + i))[-60:]
    fields: dict[str, object] = dict(
        name=name, url=url, method="GET", expect="2xx or 3xx", body_match=None, header_names=(),
        interval=30.0, timeout=5.0, window=900.0, state=state, status=status,
        response_time=recent[-1] if status is not None else None, error=error,
        checked_at=FIXED_NOW + 30 * i - 2, latency_avg=base, latency_p95=base + spread * 0.8,
        latency_p99=base + spread, error_rate=failures / samples, samples=samples, failures=failures,
        consecutive_failures=0 if state == UP else 3, recent=recent)
    fields.update(kw)
    return HttpCheckStatus(**fields)  # type: ignore[arg-type]


def recorded_http_snapshot(i: int) -> HttpChecksSnapshot:
    """Five checks; from poll 3 on, `search` slows down past a second."""
    slow = 1.35 if i >= 3 else 0.42
    return HttpChecksSnapshot(taken_at=FIXED_NOW + 30 * i, checks=(
        recorded_check("web", "https://shop.example.com/", UP, i, base=0.087),
        recorded_check("api", "https://api.example.com/healthz", DOWN, i, base=0.045, status=500,
               error="HTTP 500 (expected 200)", failures=4, expect="200", body_match="ok",
               header_names=("Authorization",)),
        recorded_check("payments", "https://pay.example.com/status", DOWN, i, base=0.21, status=None,
               error="timed out after 5 s", failures=2),
        recorded_check("search", "https://admin:***@search.example.com/ping", UP, i, base=slow, spread=0.1),
        recorded_check("reports", "https://reports.example.com/up", PENDING, i, base=0.0),
    ))


class RecordedHttpProvider(Provider):
    """`http` replaying recorded snapshots (the checks' own behaviour is tested
    against a real server in tests/integration/test_http_checks.py)."""

    def __init__(self) -> None:
        super().__init__("http", interval=30.0, timeout=10.0)
        self.polls = 0

    async def poll(self) -> HttpChecksSnapshot:
        snap = recorded_http_snapshot(self.polls)
        self.polls += 1
        return snap


def http_app(tmp_path: Path) -> StacktopApp:
    app = build_app(tmp_path, providers=[RecordedHostProvider(), RecordedHttpProvider()],
                    start_runtime=False, clock=lambda: FIXED_NOW)
    state = app.runtime.states["host"]
    app.monotonic = lambda: (state.last_success or 0.0) + 1.0  # "data 1s old"
    return app


async def poll_all(pilot, times: int = 1) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        for name in list(pilot.app.runtime.providers):
            await pilot.app.runtime.poll_provider(name)
    await pilot.pause()


def view(app: StacktopApp) -> HttpView:
    found = app.query_one(ResourcesTab).view("http")
    assert isinstance(found, HttpView)
    return found


def cells(table: ResourceTable, key: str) -> dict[str, str]:
    return {c.key: text for c, text in zip(table.columns, table.row_cells(key) or (), strict=True)}


# -- rows as plain values --------------------------------------------------------------------------


def test_rows_and_summary_are_plain_values() -> None:
    snap = recorded_http_snapshot(0)
    api = check_row(snap.checks[1])
    assert str(api[2]) == "DOWN HTTP 500 (expected 200)" and api[2].health == DOWN
    assert api[3:10] == (500, 38, 45, 61, 65, pytest.approx(4 / 30 * 100), 3)
    assert check_row(snap.checks[4])[3:] == (None,) * 7 + ("",)  # pending: nothing measured yet
    assert str(summary_line(snap, None)) == "5 checks: 2 up  ·  2 down (api, payments)  ·  1 pending"
    assert str(summary_line(None, "timed out after 10s")) == "last poll failed: timed out after 10s"
    assert str(summary_line(None, None)) == "waiting for the first HTTP checks…"
    assert http_problem(snap) == "api: HTTP 500 (expected 200) (+1 more down)"
    assert http_problem(HttpChecksSnapshot(FIXED_NOW, snap.checks[:1])) is None


# -- the view as an operator drives it ---------------------------------------------------------------


async def test_the_view_lists_every_check_down_first_and_the_bar_marks_trouble(tmp_path: Path) -> None:
    app = http_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        assert app.query_one(ViewBar).plain() == " h Host  · a HTTP 5✖"
        await pilot.press("a")
        table = view(app).table
        assert table.visible_keys() == ["api", "payments", "reports", "web", "search"]  # then config order
        assert table.has_focus
        api = cells(table, "api")
        assert api["state"] == "DOWN HTTP 500 (expected 200)"
        assert (api["code"], api["last"], api["p95"], api["p99"], api["errors"], api["fails"]) == (
            "500", "38", "61", "65", "13.3%", "3")
        assert api["request"] == "GET https://api.example.com/healthz"
        assert cells(table, "payments")["state"] == "DOWN timed out after 5 s"
        assert cells(table, "payments")["last"] == "—"
        assert cells(table, "reports")["state"] == "pending"
        assert cells(table, "search")["request"] == "GET https://admin:***@search.example.com/ping"
        assert len(cells(table, "web")["trend"]) == 14
        summary = str(view(app).query_one(".summary", Static).render())
        assert summary == "5 checks: 2 up  ·  2 down (api, payments)  ·  1 pending"


async def test_filter_sort_and_the_selection_across_polls(tmp_path: Path) -> None:
    app = http_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("a")
        table = view(app).table
        await pilot.press("L")  # shift+l: by the last response time, slowest first
        assert table.sort_key == "last" and table.sort_reverse
        assert table.visible_keys()[:2] == ["search", "web"]
        await pilot.press("home", "down")
        assert table.selected_key() == "web"
        drawn = table.row_values("search")
        await poll_all(pilot, 3)  # search slows past a second
        assert table.row_values("search") != drawn
        assert cells(table, "search")["last"].startswith("1")
        assert table.selected_key() == "web"  # the cursor stayed with its row
        await filter_to(pilot, "pay")
        assert table.visible_keys() == ["payments"]
        assert table.total_rows == 5


async def test_the_detail_pane_names_headers_never_their_values(tmp_path: Path) -> None:
    app = http_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("a")
        pane = view(app).detail
        assert view(app).details_shown  # tall terminal
        assert pane.title == "api · GET https://api.example.com/healthz · DOWN"
        fields = dict(pane.fields)
        assert fields["Expects"] == "HTTP 200, body matching /ok/"
        assert fields["Headers"] == "Authorization (values hidden)"
        assert fields["Error"] == "HTTP 500 (expected 200) · 3 in a row"
        assert fields["Last check"] == "2s ago: HTTP 500 in 38 ms"
        assert fields["Window"] == "last 15m: 30 results, 4 failed (13.3%)"
        assert fields["Latency"] == "avg 45 ms · p95 61 ms · p99 65 ms"
        spark = pane.spark("latency")
        assert spark.values == recorded_http_snapshot(0).checks[1].recent and spark.value_text.endswith("ms")
        await pilot.press("down", "down")
        assert pane.title.startswith("reports ·") and dict(pane.fields)["Last check"] == "not checked yet"


async def test_columns_follow_the_width_and_keep_the_filter(tmp_path: Path) -> None:
    app = http_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("a")
        assert tuple(c.key for c in view(app).table.columns) == NARROW
        assert not view(app).details_shown  # 24 rows: the table first
        await filter_to(pilot, "web")
        await pilot.resize_terminal(*TALL)
        await pilot.pause()
        table = view(app).table
        assert tuple(c.key for c in table.columns) == WIDE
        assert table.filter_text == "web" and table.visible_keys() == ["web"]


async def test_before_the_first_poll_the_view_says_it_waits(tmp_path: Path) -> None:
    app = http_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert view(app).table.empty_text == "waiting for the HTTP checks…"
        assert str(view(app).query_one(".summary", Static).render()) == "waiting for the first HTTP checks…"
        assert app.query_one(ViewBar).plain() == "h Host ·  a HTTP … "


def test_the_recorded_snapshot_carries_no_header_values() -> None:
    assert "Bearer" not in json.dumps(recorded_http_snapshot(0).to_dict())


# -- the screens ---------------------------------------------------------------------------------------


async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
    await fill_polls(pilot, 6)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_http_view(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Down checks first in red with their reason, the summary line and the fleet
    sparklines; on 120x40 the request, avg, p99, the response-time sparkline column
    and the selected check's details."""
    assert snap_compare(http_app(tmp_path), terminal_size=size, run_before=fill, press=["a"])

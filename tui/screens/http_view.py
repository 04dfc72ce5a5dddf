"""The HTTP view of the Resources tab: one row per health check — UP, DOWN with
the reason, or pending — its last HTTP status and response time, avg/p95/p99 and
error rate over the check's window, consecutive failures and (from 110 cells) a
sparkline of its recent response times; a summary line and fleet sparklines at
the top; the selected check in full in the detail pane on tall terminals.

The rows are plain values made from the provider's snapshot here (the table
widget knows nothing of providers); the table diffs them, so a poll repaints only
the cells that changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from providers.base import Snapshot
from providers.http_model import DOWN, PENDING, UP, HttpChecksSnapshot, HttpCheckStatus
from providers.runtime import ProviderState
from providers.store import Store
from tui.screens.ha_rows import Tinted, spark_text
from tui.screens.table_swap import swap_table
from widgets.detail_pane import DetailPane, Field, SparkSpec
from widgets.formatting import human_age, human_duration, percent
from widgets.metric_spark import MetricSpark, locale_is_utf8
from widgets.resource_table import Column, ResourceTable

STATE_SEVERITY = {UP: "ok", DOWN: "error"}


def _state_severity(value: Any) -> str | None:
    return STATE_SEVERITY.get(getattr(value, "health", ""))


def _count_severity(value: Any) -> str | None:
    return "error" if value else None


COLUMNS = (
    Column("check", "Check", min_width=8, flex=2, hotkey="N"),
    Column("request", "Request", min_width=12, flex=4, hotkey="U"),
    Column("state", "Status", min_width=10, flex=4, kind="status", severity=_state_severity, hotkey="T"),
    Column("code", "HTTP", width=4, kind="number", hotkey="H"),
    Column("last", "Last ms", width=7, kind="number", hotkey="L"),
    Column("avg", "Avg", width=5, kind="number", hotkey="A"),
    Column("p95", "p95", width=5, kind="number", hotkey="P"),
    Column("p99", "p99", width=5, kind="number"),
    Column("errors", "Errors", width=6, kind="percent", hotkey="E"),
    Column("fails", "Fails", width=5, kind="status", align="right", severity=_count_severity, hotkey="F"),
    Column("trend", "Response times", width=14),
)
"""Every column a row has; `fit_columns` picks those a width shows. Times in milliseconds."""

WIDE = tuple(c.key for c in COLUMNS)
NARROW = ("check", "state", "code", "last", "p95", "errors", "fails")
"""On 80 cells the request (in the detail pane), avg, p99 and the sparkline give way."""
WIDE_MIN_WIDTH = 110
TREND_POINTS = 14
_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}

LATENCY = SparkSpec("latency", "Response time")


def fit_columns(width: int) -> tuple[Column, ...]:
    keys = WIDE if width >= WIDE_MIN_WIDTH else NARROW
    return tuple(COLUMNS[_INDEX[k]] for k in keys)


def project(row: Sequence[Any], columns: Sequence[Column]) -> tuple[Any, ...]:
    return tuple(row[_INDEX[c.key]] for c in columns)


def millis(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def time_text(seconds: float | None) -> str:
    """`87 ms`, `1.24 s`; "—" when there is no time."""
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def span_text(seconds: float) -> str:
    """A setting's round figure in one unit where it has one: 0.5s, 30s, 15m, 2h; else 1m30s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:.0f}{unit}"
    return f"{seconds:g}s" if seconds < 60 else human_duration(seconds)


def state_cell(check: HttpCheckStatus) -> Tinted:
    if check.state == UP:
        return Tinted("UP", UP)
    if check.state == DOWN:
        return Tinted(f"DOWN {check.error}".rstrip(), DOWN)
    return Tinted("pending")


def check_row(check: HttpCheckStatus, ascii: bool = False) -> tuple[Any, ...]:
    """One row in COLUMNS order."""
    pending = check.state == PENDING
    return (
        check.name,
        f"{check.method} {check.url}",
        state_cell(check),
        check.status,
        millis(check.response_time),
        millis(check.latency_avg),
        millis(check.latency_p95),
        millis(check.latency_p99),
        None if check.error_rate is None else check.error_rate * 100,
        None if pending else check.consecutive_failures,
        spark_text(check.recent, TREND_POINTS, ascii),
    )


def summary_line(snapshot: HttpChecksSnapshot | None, poll_error: str | None) -> Text:
    """`5 checks: 4 up  ·  1 down (api)  ·  1 pending`, after the poll's own failure if any."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if poll_error:
        out.append(f"last poll failed: {poll_error}", style="bold red")
        if snapshot is None:
            return out
        out.append("  ·  ", style="dim")
    if snapshot is None:
        out.append("waiting for the first HTTP checks…", style="dim")
        return out
    total = len(snapshot.checks)
    out.append(f"{total} check{'s' if total != 1 else ''}", style="bold")
    if not total:
        return out
    up = snapshot.count(UP)
    out.append(": ")
    out.append(f"{up} up", style="green" if up else "")
    down = [c.name for c in snapshot.checks if c.state == DOWN]
    if down:
        out.append("  ·  ", style="dim")
        out.append(f"{len(down)} down", style="bold red")
        out.append(f" ({', '.join(down)})")
    pending = snapshot.count(PENDING)
    if pending:
        out.append("  ·  ", style="dim")
        out.append(f"{pending} pending", style="dim")
    return out


def http_problem(snapshot: Snapshot | None) -> str | None:
    """The first check that is down, for the status line."""
    if not isinstance(snapshot, HttpChecksSnapshot):
        return None
    down = [c for c in snapshot.checks if c.state == DOWN]
    if not down:
        return None
    more = f" (+{len(down) - 1} more down)" if len(down) > 1 else ""
    return f"{down[0].name}: {down[0].error}{more}"


def detail(check: HttpCheckStatus, now: float) -> tuple[str, list[Field]]:
    """The pane's title and facts: what is asked, what passes, the last answer, the window."""
    expects = f"HTTP {check.expect}"
    if check.body_match is not None:
        expects += f", body matching /{check.body_match}/"
    headers = f"{', '.join(check.header_names)} (values hidden)" if check.header_names else "none"
    if check.checked_at is None:
        last = "not checked yet"
    else:
        answer = f"HTTP {check.status} in {time_text(check.response_time)}" if check.status else "no answer"
        last = f"{human_age(max(0.0, now - check.checked_at))} ago: {answer}"
    rate = percent(None if check.error_rate is None else check.error_rate * 100)
    fields: list[Field] = [
        ("Request", f"{check.method} {check.url}"),
        ("Expects", expects),
        ("Headers", headers),
        ("Schedule", f"every {span_text(check.interval)} · timeout {span_text(check.timeout)}"),
        ("Last check", last),
    ]
    if check.error:
        in_a_row = f" · {check.consecutive_failures} in a row" if check.consecutive_failures > 1 else ""
        fields.append(("Error", f"{check.error}{in_a_row}"))
    fields += [
        ("Window", f"last {span_text(check.window)}: {check.samples} "
                   f"result{'s' if check.samples != 1 else ''}, {check.failures} failed ({rate})"),
        ("Latency", f"avg {time_text(check.latency_avg)} · p95 {time_text(check.latency_p95)} · "
                    f"p99 {time_text(check.latency_p99)}"),
    ]
    return f"{check.name} · {check.method} {check.url} · {str(state_cell(check)).split(' ')[0]}", fields


class HttpView(Vertical):
    DEFAULT_CSS = """
    HttpView > .summary { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    HttpView > .fleet { height: 3; }
    HttpView > .fleet MetricSpark { width: 1fr; margin: 0 1; }
    HttpView > ResourceTable { height: 1fr; min-height: 3; }
    HttpView > DetailPane { display: none; }
    HttpView > DetailPane.-shown { display: block; }
    """

    DETAIL_HEIGHT = 10
    DETAIL_MIN_HEIGHT = 4
    TABLE_MIN_LINES = 7
    FIXED_LINES = 4
    """The summary line and the fleet sparklines."""
    FLEET = (("checks_up", "Checks up", None), ("checks_down", "Checks down", 1.0),
             ("response_time_max", "Slowest response", None))
    """(store series under the provider, label, value from which it is red)."""

    def __init__(self, store: Store, states: Mapping[str, ProviderState], *, provider: str = "http",
                 details: bool = False, ascii: bool | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.states = states
        self.provider = provider
        self.details_wanted = details
        self.ascii = (not locale_is_utf8()) if ascii is None else ascii
        self._token: tuple[int, str | None] = (-1, None)
        self._checks: dict[str, HttpCheckStatus] = {}
        self._rows: list[tuple[str, tuple[Any, ...]]] = []
        self._columns: tuple[Column, ...] = ()
        self._now = 0.0
        self._summary: Text | None = None

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", classes="summary")
        with Horizontal(classes="fleet"):
            for key, label, critical in self.FLEET:
                yield MetricSpark(label, critical=critical, id=f"http-fleet-{key}")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        yield DetailPane((LATENCY,), id="http-detail")

    def _new_table(self, columns: tuple[Column, ...], old: ResourceTable | None = None) -> ResourceTable:
        self._columns = columns
        keys = {c.key for c in columns}
        sort_key, reverse = "state", False  # down first, then pending, then up
        if old is not None and old.sort_key in keys:
            sort_key, reverse = old.sort_key, old.sort_reverse
        return ResourceTable(columns, sort_key=sort_key, sort_reverse=reverse,
                             empty_text=old.empty_text if old else "waiting for the HTTP checks…",
                             id="http-table")

    @property
    def table(self) -> ResourceTable:
        return self.query_one(ResourceTable)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def details_shown(self) -> bool:
        return self.detail.has_class("-shown")

    async def on_resize(self, event: events.Resize) -> None:
        columns = fit_columns(event.size.width - 1)
        if columns != self._columns:
            old = self.table
            await swap_table(old, self._new_table(columns, old), lambda t: self.mount(t, before=self.detail),
                             self._projected())
        self._layout_detail()

    def set_details(self, wanted: bool) -> bool:
        """Show or hide the detail pane; False when the terminal has no room for it."""
        self.details_wanted = wanted
        self._layout_detail()
        return self.details_shown == wanted

    def _layout_detail(self) -> None:
        room = self.size.height - self.FIXED_LINES - self.TABLE_MIN_LINES
        height = min(self.DETAIL_HEIGHT, room)
        shown = self.details_wanted and height >= self.DETAIL_MIN_HEIGHT
        pane = self.detail
        if shown and pane.styles.height != height:
            pane.styles.height = height
        was = pane.has_class("-shown")
        pane.set_class(shown, "-shown")
        if shown and not was:
            self._show_detail()

    # -- data ---------------------------------------------------------------------

    def update_from_store(self) -> None:
        """Redraw from the newest snapshot; nothing when neither it nor the poll status changed."""
        stored = self.store.latest(self.provider)
        state = self.states.get(self.provider)
        poll_error = state.last_error if state else None
        token = (stored.version if stored else 0, poll_error)
        if token == self._token:
            return
        self._token = token
        found = stored.snapshot if stored else None
        snap = found if isinstance(found, HttpChecksSnapshot) else None
        summary = summary_line(snap, poll_error)
        if summary != self._summary:
            self._summary = summary
            self.query_one(".summary", Static).update(summary)
        for key, _, _ in self.FLEET:
            values = self.store.series(f"{self.provider}.{key}").values()
            last = values[-1] if values else None
            text = time_text(last) if key == "response_time_max" else ("—" if last is None else f"{last:.0f}")
            self.query_one(f"#http-fleet-{key}", MetricSpark).show(values, text)
        table = self.table
        why = (f"no data yet: {poll_error}" if poll_error and snap is None
               else "no HTTP checks configured (providers.http.checks)" if snap is not None
               else "waiting for the HTTP checks…")
        if why != table.empty_text:
            table.empty_text = why
            if not table.total_rows:
                table.refresh()
        if snap is not None:
            self._now = snap.taken_at
            self._checks = {c.name: c for c in snap.checks}
            self._rows = [(c.name, check_row(c, self.ascii)) for c in snap.checks]
            table.apply(self._projected())
        self._show_detail()

    def _projected(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [(key, project(row, self._columns)) for key, row in self._rows]

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        self._show_detail()

    def selected(self) -> HttpCheckStatus | None:
        key = self.table.selected_key()
        return self._checks.get(key) if key else None

    def _show_detail(self) -> None:
        pane = self.detail
        if not pane.has_class("-shown"):
            return  # drawn when shown
        check = self.selected()
        if check is None:
            pane.show(self.table.empty_text if not self.table.row_count else "nothing selected", [])
            return
        title, fields = detail(check, self._now)
        last = check.recent[-1] if check.recent else None
        pane.show(title, fields, [(check.recent, time_text(last))])

"""The audit trail, full screen: every action tried from any console of this profile
— refused, cancelled, failed or done — newest first, with who (user and role), from
where (host, SSH client), what, on what, the result, how long it took and its message.

The file may hold years of records: it is read in a thread, and the newest
`LIMIT` are listed (the header says when there are more; `stacktop audit list`
reads them all). `/` filters by any text of a row (user, action, target, result…),
`r` reads the file again, `escape` closes. Every text shown passes through the
profile's redaction: a record written before a secret was declared, or by another
tool, must not show it here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from tui.screens.ha_rows import Tinted
from widgets.formatting import human_duration
from widgets.resource_table import Column, ResourceTable

LIMIT = 1000
"""Records listed at most: the newest. A screenful is read; a thousand is searched."""

Records = list[dict[str, Any]]
Redact = Callable[[str], str]


def load_records(path: Path) -> Records:
    """The records of the audit file and its rotated parts, oldest first (torn lines skipped).
    Imported here: the screen is built on first use, like the other heavy views."""
    from providers.audit.query import read_records

    return read_records(path)


# -- one record as a row ---------------------------------------------------------------------------

RESULT_HEALTH = {"ok": "ok", "failed": "error", "refused": "warn", "cancelled": "muted"}


def result_health(value: object) -> str | None:
    return getattr(value, "health", "") or None


def when(value: object, tz: tzinfo | None) -> datetime | None:
    """The record's time in the app's zone (None: the machine's), or None if unreadable."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment.astimezone(tz)


def _text(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


def who(record: Mapping[str, Any]) -> str:
    role = _text(record.get("role"))
    return f"{_text(record.get('user'))}({role})" if role else _text(record.get("user"))


def where(record: Mapping[str, Any]) -> str:
    host, client = _text(record.get("host")), _text(record.get("ssh_client"))
    return f"{host} ← {client}" if client else host


def target_text(record: Mapping[str, Any]) -> str:
    target = record.get("target")
    if not isinstance(target, Mapping):
        return _text(target)
    parts = (_text(target.get("kind")), _text(target.get("name") or target.get("id")))
    return " ".join(p for p in parts if p)


def took(value: object) -> str:
    if not isinstance(value, int | float):
        return ""
    return f"{value:.1f}s" if value < 60 else human_duration(value)


def params_text(record: Mapping[str, Any]) -> str:
    params = record.get("params")
    if not isinstance(params, Mapping) or not params:
        return ""
    return ", ".join(f"{k}={_text(v)}" for k, v in params.items())


def record_row(record: Mapping[str, Any], tz: tzinfo | None, redact: Redact) -> tuple[object, ...]:
    """A full COLUMNS row, each text redacted."""
    moment = when(record.get("time"), tz)
    short = moment.strftime("%m-%d %H:%M:%S") if moment else _text(record.get("time"))[5:19]
    result = _text(record.get("result"))
    return (short, redact(who(record)), redact(where(record)), redact(_text(record.get("action"))),
            redact(target_text(record)), Tinted(redact(result), RESULT_HEALTH.get(result, "")),
            took(record.get("duration_s")), redact(_text(record.get("message"))))


def record_detail(record: Mapping[str, Any], tz: tzinfo | None, redact: Redact) -> Text:
    """The selected record in full, a few lines under the table (the row cuts the message)."""
    moment = when(record.get("time"), tz)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if moment else _text(record.get("time"))
    first = f"{stamp} · {who(record)} on {where(record) or '?'}"
    if record.get("profile"):
        first += f" · profile {_text(record.get('profile'))}"
    target = record.get("target")
    ident = _text(target.get("id")) if isinstance(target, Mapping) else ""
    second = f"{_text(record.get('action'))}"
    if record.get("risk"):
        second += f" ({_text(record.get('risk'))})"
    second += f" on {target_text(record)}"
    if ident and ident not in target_text(record):
        second += f" [{ident}]"
    if params := params_text(record):
        second += f" · {params}"
    duration = took(record.get("duration_s"))
    second += f" → {_text(record.get('result'))}" + (f" in {duration}" if duration else "")
    out = Text(redact(first), style="dim")
    out.append("\n")
    out.append(redact(second), style="bold")
    out.append("\n")
    out.append(redact(_text(record.get("message"))))
    return out


def display_path(path: Path) -> str:
    """The file as the operator would type it: under their home, `~/…`."""
    try:
        return f"~/{path.relative_to(Path.home())}"
    except (ValueError, RuntimeError):  # elsewhere, or no home
        return str(path)


def record_key(record: Mapping[str, Any], index: int) -> str:
    """Stable across reloads: the record's chain hash when it has one, else its place."""
    return f"h:{record['hash']}" if record.get("hash") else f"i:{index}:{_text(record.get('time'))}"


@dataclass(frozen=True)
class AuditPage:
    """One read of the file, ready to show."""

    rows: tuple[tuple[str, tuple[object, ...]], ...]
    """Newest first, full COLUMNS rows."""
    records: Mapping[str, Mapping[str, Any]]
    total: int
    error: str | None = None


def read_page(path: Path, tz: tzinfo | None, redact: Redact, limit: int = LIMIT,
              reader: Callable[[Path], Records] = load_records) -> AuditPage:
    """Read and format in the worker thread: the UI thread only applies the rows."""
    try:
        records = reader(path)
    except Exception as exc:  # unreadable (permissions, a directory): one line, no traceback
        text = str(exc) if str(path) in str(exc) else f"cannot read {path}: {exc}"  # AuditError names it
        return AuditPage((), {}, 0, redact(text))
    newest = records[-limit:] if limit else records
    start = len(records) - len(newest)
    rows: list[tuple[str, tuple[object, ...]]] = []
    by_key: dict[str, Mapping[str, Any]] = {}
    for offset in range(len(newest) - 1, -1, -1):
        record = newest[offset]
        key = record_key(record, start + offset)
        if key in by_key:
            key = f"{key}:{start + offset}"
        rows.append((key, record_row(record, tz, redact)))
        by_key[key] = record
    return AuditPage(tuple(rows), by_key, len(records))


# -- the columns -----------------------------------------------------------------------------------

COLUMNS = (
    Column("when", "Time", width=14),
    Column("who", "User(role)", width=16),
    Column("where", "From", min_width=10, flex=2),
    Column("action", "Action", width=16),
    Column("target", "Target", min_width=10, flex=2),
    Column("result", "Result", width=9, kind="status", severity=result_health),
    Column("duration", "Took", width=6, align="right"),
    Column("message", "Message", min_width=12, flex=3),
)
WIDE = ("when", "who", "where", "action", "target", "result", "duration", "message")
NARROW = ("when", "who", "action", "target", "result")
"""On 80 cells the host, the duration and the message give way to the lines below the table,
which show the selected record in full (the year and the zone too)."""
WIDE_MIN_WIDTH = 110
_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


def fit_columns(width: int) -> tuple[Column, ...]:
    return tuple(COLUMNS[_INDEX[k]] for k in (WIDE if width >= WIDE_MIN_WIDTH else NARROW))


def project(row: Sequence[object], columns: Sequence[Column]) -> tuple[object, ...]:
    return tuple(row[_INDEX[c.key]] for c in columns)


# -- the screen ------------------------------------------------------------------------------------


class AuditTable(ResourceTable):
    """Newest first is the order that matters: no sorting. Muted for cancelled records."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {*ResourceTable.COMPONENT_CLASSES, "resource-table--muted"}
    DEFAULT_CSS = """
    AuditTable > .resource-table--muted { color: $text-muted; }
    """

    SORTABLE = False


class AuditFilter(Input):
    """The filter: rows containing the text in any column, as the tabs' `/` (re:, !)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "done(True)", "Clear filter"),
                                             Binding("enter", "done(False)", "Keep filter", show=False)]

    def action_done(self, cleared: bool) -> None:
        if cleared:
            self.value = ""
        screen = self.screen
        if isinstance(screen, AuditScreen):
            screen.table.focus()


class AuditScreen(Screen[None]):
    """The audit trail; see the module docstring."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", id="audit.close"),
        Binding("slash", "filter", "Filter", id="audit.filter"),
        Binding("r", "reload", "Reload", id="audit.reload"),
    ]
    DEFAULT_CSS = """
    AuditScreen > #audit-header { height: 1; padding: 0 1; background: $panel; text-style: bold;
                                  text-wrap: nowrap; text-overflow: ellipsis; }
    AuditScreen > #audit-filter-bar { height: 1; background: $boost; }
    AuditScreen > #audit-filter-bar Static { width: 2; padding-left: 1; }
    AuditScreen > #audit-filter-bar AuditFilter { width: 1fr; height: 1; border: none; padding: 0; }
    AuditScreen > AuditTable { height: 1fr; }
    AuditScreen > #audit-detail { height: auto; max-height: 5; padding: 0 1; background: $boost; }
    """

    def __init__(self, path: Path, *, tz: tzinfo | None = None, redact: Redact | None = None,
                 limit: int = LIMIT, reader: Callable[[Path], Records] = load_records) -> None:
        super().__init__()
        self.path = Path(path)
        self.tz = tz
        self.redact: Redact = redact or (lambda s: s)
        self.limit = limit
        self._reader = reader
        self._page: AuditPage | None = None
        self._worker: Worker[AuditPage] | None = None
        self._columns: tuple[Column, ...] = ()
        self.loads = 0
        """Reads shown so far (tests wait for the next)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="audit-header", markup=False)
        with Horizontal(id="audit-filter-bar"):
            yield Static("/")
            yield AuditFilter(placeholder="text in a user, action, target, result… (/ to type, Esc clears)",
                              id="audit-filter")
        yield self._new_table(fit_columns(self.app.size.width - 1))
        yield Static("", id="audit-detail", markup=False)
        yield Footer()

    def _new_table(self, columns: tuple[Column, ...]) -> AuditTable:
        self._columns = columns
        return AuditTable(columns, empty_text="reading the audit trail…", id="audit-table")

    @property
    def table(self) -> AuditTable:
        return self.query_one(AuditTable)

    def on_mount(self) -> None:
        self.table.focus()
        self._render_header()
        self.action_reload()

    async def on_resize(self) -> None:
        columns = fit_columns(self.size.width - 1)
        if columns == self._columns:
            return
        old = self.table
        filter_text, cursor, focused = old.filter_text, old.selected_key(), old.has_focus
        table = self._new_table(columns)
        await old.remove()
        await self.mount(table, after=self.query_one("#audit-filter-bar"))
        self._apply()
        table.set_filter(filter_text)
        if cursor is not None:
            table.move_cursor_to(cursor)
        if focused:
            table.focus()

    # -- reading ------------------------------------------------------------------

    def action_reload(self) -> None:
        """Read the file again in a thread (it may be large); the rows come when it is read."""
        path, tz, redact, limit, reader = self.path, self.tz, self.redact, self.limit, self._reader
        self._worker = self.run_worker(lambda: read_page(path, tz, redact, limit, reader), thread=True,
                                       group="audit-read", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return  # an older read, overtaken by a reload
        if event.state is WorkerState.ERROR:
            self._page = AuditPage((), {}, 0, self.redact(f"cannot read {self.path}: {event.worker.error}"))
            self._apply()
        elif event.state is WorkerState.SUCCESS and isinstance(event.worker.result, AuditPage):
            self._page = event.worker.result
            self._apply()

    def _apply(self) -> None:
        page = self._page
        if page is None:
            return
        table = self.table
        table.empty_text = (page.error or ("no action recorded yet" if not page.total
                                           else "no record matches the filter"))
        table.apply([(key, project(row, self._columns)) for key, row in page.rows])
        table.refresh()
        self.loads += 1
        self._render_header()
        self._show_detail()

    def _render_header(self, shown: int | None = None) -> None:
        page = self._page
        out = Text("Audit trail", style="bold")
        out.append(f" · {self.redact(display_path(self.path))}", style="")
        if page is None:
            out.append(" · reading…", style="dim")
        elif page.error:
            out.append(f" · {page.error}", style="bold red")
        else:
            listed = len(page.rows)
            if page.total > listed:
                out.append(f" · newest {listed:,} of {page.total:,} records (stacktop audit list has all)",
                           style="yellow")
            else:
                out.append(f" · {page.total:,} record{'s' if page.total != 1 else ''}")
            visible = self.table.row_count if shown is None else shown
            if self.table.filter_text:
                out.append(f" · {visible:,} match", style="bold")
        self.query_one("#audit-header", Static).update(out)

    # -- the filter and the selected record ---------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(AuditFilter).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.table.set_filter(event.value)

    def on_resource_table_filter_changed(self, event: ResourceTable.FilterChanged) -> None:
        event.stop()  # the app's filter bar belongs to the tabs under this screen
        self._render_header(event.shown)
        self._show_detail()

    def on_resource_table_cursor_moved(self, event: ResourceTable.CursorMoved) -> None:
        event.stop()
        self._show_detail()

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()

    def _show_detail(self) -> None:
        key = self.table.selected_key()
        record = self._page.records.get(key) if self._page is not None and key else None
        detail = self.query_one("#audit-detail", Static)
        detail.update(record_detail(record, self.tz, self.redact) if record is not None else "")
        detail.display = record is not None

    def selected_record(self) -> Mapping[str, Any] | None:
        key = self.table.selected_key()
        return self._page.records.get(key) if self._page is not None and key else None

    def action_close(self) -> None:
        self.dismiss(None)

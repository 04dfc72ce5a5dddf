"""Every binding, from the one key registry: the help can never disagree with the keys."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 80; max-width: 100%; height: 90%; border: thick $primary;
                            background: $surface; padding: 0 1; }
    HelpScreen .title { text-style: bold; height: 1; }
    HelpScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close help"),
    ]

    def __init__(self, rows: Sequence[tuple[str, str, str]], note: str = "") -> None:
        super().__init__()
        self._rows = rows
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys  (Esc to close)", classes="title")
            if self._note:
                yield Static(self._note)
            table: DataTable[str] = DataTable(cursor_type="row")
            table.add_columns("Key", "Does", "Where")
            for row in self._rows:
                table.add_row(*row)
            yield table

    def action_close(self) -> None:
        self.dismiss(None)

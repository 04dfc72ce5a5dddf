"""Every binding, from the one key registry: the help can never disagree with the keys."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.resource_table import Column, ResourceTable


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 80; max-width: 100%; height: 90%; border: thick $primary;
                            background: $surface; padding: 0 1; }
    HelpScreen .title { text-style: bold; height: 1; }
    HelpScreen ResourceTable { height: 1fr; }
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
            table = ResourceTable(
                [Column("key", "Key", width=14), Column("does", "Does", flex=3),
                 Column("where", "Where", width=10)], id="help-keys",
            )
            table.apply([(str(i), row) for i, row in enumerate(self._rows)])
            yield table

    def action_close(self) -> None:
        self.dismiss(None)

"""The `/` prompt: filters the focused table as you type; Enter keeps it, Escape clears it."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar { dock: bottom; height: 1; border: none; padding: 0 1; display: none; }
    FilterBar.-open { display: block; }
    """
    BINDINGS = [Binding("escape", "cancel", "Clear filter", show=True)]

    class Closed(Message):
        """The operator left the prompt; `cleared` is True after Escape."""

        def __init__(self, cleared: bool) -> None:
            super().__init__()
            self.cleared = cleared

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: text to match in any column", id=id)

    def open(self, current: str) -> None:
        self.value = current
        self.add_class("-open")
        self.focus()

    def action_cancel(self) -> None:
        self.value = ""
        self.remove_class("-open")
        self.post_message(self.Closed(cleared=True))

    async def action_submit(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed(cleared=False))

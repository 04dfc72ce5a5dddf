"""Confirmation in proportion to risk: y/n for safe actions, typing the
target's name for destructive ones. Dismisses with True/False, the typed
text, or None when cancelled."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ConfirmDialog(ModalScreen[bool | str | None]):
    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 70; max-width: 95%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmDialog .title { text-style: bold; margin-bottom: 1; }
    ConfirmDialog .hint { color: $text-muted; margin-top: 1; }
    ConfirmDialog.-destructive > Vertical { border: thick $error; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", show=False),
    ]

    def __init__(self, title: str, prompt: str, must_type: str | None) -> None:
        super().__init__(classes="-destructive" if must_type else "")
        self._title = title
        self._prompt = prompt
        self._must_type = must_type

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title")
            yield Static(self._prompt, markup=False)
            if self._must_type is not None:
                yield Input(placeholder="type the name shown above", id="typed")
                yield Static("Enter to confirm · Esc to cancel", classes="hint")
            else:
                yield Static("y to confirm · n or Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        if self._must_type is not None:
            self.query_one("#typed", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a name, y and n are letters, not answers.
        return not (action == "answer" and self._must_type is not None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_cancel(self) -> None:
        self.dismiss(None)

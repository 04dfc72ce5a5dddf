"""Asks for one whole number before an action (replicas for a scale): shows the
current value, checks what was typed with the caller's validator on every
Enter, and keeps the dialog open with the validator's one-line message until
the number is acceptable. Dismisses with the number, or None when cancelled.

The validator is the same function the provider uses, so the dialog cannot
accept what the provider would refuse.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NumberDialog(ModalScreen[int | None]):
    DEFAULT_CSS = """
    NumberDialog { align: center middle; }
    NumberDialog > Vertical {
        width: 70; max-width: 95%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    NumberDialog .title { text-style: bold; margin-bottom: 1; }
    NumberDialog .current { color: $text-muted; }
    NumberDialog .error { color: $error; height: auto; }
    NumberDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, current: str, validate: Callable[[str], int]) -> None:
        """`validate` returns the number or raises ValueError with the line to show."""
        super().__init__()
        self._title = title
        self._prompt = prompt
        self._current = current
        self._validate = validate
        self._error = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Static(self._prompt, markup=False)
            if self._current:
                yield Static(f"now: {self._current}", classes="current", markup=False)
            yield Input(placeholder=self._current or "a whole number", id="number")
            yield Static("", classes="error", id="number-error", markup=False)
            yield Static("Enter to continue · Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#number", Input).focus()

    @property
    def error(self) -> str:
        """The message under the field ("" when none)."""
        return self._error

    def _show_error(self, text: str) -> None:
        if text != self._error:
            self._error = text
            self.query_one("#number-error", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = self._validate(event.value)
        except ValueError as exc:
            lines = str(exc).strip().splitlines()
            self._show_error(lines[0] if lines else "not a valid number")
            return
        self.dismiss(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_error("")  # the old complaint no longer applies to what is typed now

    def action_cancel(self) -> None:
        self.dismiss(None)

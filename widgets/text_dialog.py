"""Asks for one value before an action (when to switch over, how many replicas):
checks what was typed with the caller's validator on every Enter, and keeps the
dialog open with the validator's one-line message until the value is
acceptable. While typing, a value the validator accepts is shown normalised
under the field ("→ 2026-11-23T02:00:00+01:00"), so the operator sees what the
action will get before pressing Enter; a half-typed value is not complained
about until Enter. Dismisses with the validated value, or None when cancelled.

The validator is the same function the provider uses, so the dialog cannot
accept what the provider would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

T = TypeVar("T")


class TextDialog(ModalScreen[T | None], Generic[T]):
    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical {
        width: 70; max-width: 95%; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    TextDialog .title { text-style: bold; margin-bottom: 1; }
    TextDialog .current { color: $text-muted; }
    TextDialog .preview { color: $text-muted; height: auto; }
    TextDialog .error { color: $error; height: auto; }
    TextDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    INVALID = "not a valid value"
    """Shown when the validator raises ValueError without a message."""

    def __init__(self, title: str, prompt: str, validate: Callable[[str], T], *, current: str = "",
                 placeholder: str = "", preview: bool = True, input_id: str = "text") -> None:
        """`validate` returns the value or raises ValueError with the line to show;
        `preview` shows what it makes of the text while it is typed."""
        super().__init__()
        self._title = title
        self._prompt = prompt
        self._current = current
        self._placeholder = placeholder
        self._validate = validate
        self._preview_wanted = preview
        self._input_id = input_id
        self._error = ""
        self._preview = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Static(self._prompt, markup=False)
            if self._current:
                yield Static(f"now: {self._current}", classes="current", markup=False)
            yield Input(placeholder=self._placeholder or self._current, id=self._input_id)
            yield Static("", classes="preview", id=f"{self._input_id}-preview", markup=False)
            yield Static("", classes="error", id=f"{self._input_id}-error", markup=False)
            yield Static("Enter to continue · Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one(f"#{self._input_id}", Input).focus()

    @property
    def error(self) -> str:
        """The message under the field ("" when none)."""
        return self._error

    @property
    def preview(self) -> str:
        """What the validator makes of the text typed so far ("" when it refuses it)."""
        return self._preview

    def _show(self, error: str | None = None, preview: str | None = None) -> None:
        if error is not None and error != self._error:
            self._error = error
            self.query_one(f"#{self._input_id}-error", Static).update(error)
        if preview is not None and preview != self._preview:
            self._preview = preview
            self.query_one(f"#{self._input_id}-preview", Static).update(preview)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = self._validate(event.value)
        except ValueError as exc:
            lines = str(exc).strip().splitlines()
            self._show(error=lines[0] if lines else self.INVALID)
            return
        self.dismiss(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        preview = ""
        if self._preview_wanted and event.value.strip():
            try:
                normalised = str(self._validate(event.value))
            except ValueError:
                normalised = ""
            preview = f"→ {normalised}" if normalised and normalised != event.value.strip() else ""
        # The old complaint no longer applies to what is typed now.
        self._show(error="", preview=preview)

    def action_cancel(self) -> None:
        self.dismiss(None)

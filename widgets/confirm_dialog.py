"""Confirmation in proportion to risk: y/n for safe actions, typing the
target's name for destructive ones. Dismisses with True/False, the typed
text, or None when cancelled.

A destructive action that touches many things (a prune) lists them: the lines
sit between the prompt and the answer, in a scrollable area (PageUp/PageDown
scroll it while the name is being typed), so the operator confirms exactly
what they read."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ConfirmDialog(ModalScreen[bool | str | None]):
    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 70; max-width: 95%; height: auto; max-height: 95%; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmDialog.-listing > Vertical { width: 100; padding: 0 1; }
    ConfirmDialog .title { text-style: bold; margin-bottom: 1; }
    ConfirmDialog .hint { color: $text-muted; margin-top: 1; }
    ConfirmDialog.-destructive > Vertical { border: thick $error; }
    ConfirmDialog #listing {
        height: auto; margin-top: 1; background: $boost; scrollbar-size-vertical: 1; overflow-x: hidden;
    }
    ConfirmDialog #listing > Static { text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", show=False),
        Binding("pageup", "scroll_listing(-1)", "Scroll the list up", show=False),
        Binding("pagedown", "scroll_listing(1)", "Scroll the list down", show=False),
    ]

    def __init__(self, title: str, prompt: str, must_type: str | None, listing: Sequence[str] = ()) -> None:
        classes = ("-destructive" if must_type else "", "-listing" if listing else "")
        super().__init__(classes=" ".join(c for c in classes if c))
        self._title = title
        self._prompt = prompt
        self._must_type = must_type
        self._listing = tuple(listing)

    @property
    def listing(self) -> tuple[str, ...]:
        return self._listing

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield Static(self._prompt, markup=False, id="prompt")
            if self._listing:
                with VerticalScroll(id="listing", can_focus=False):
                    yield Static("\n".join(self._listing), markup=False)
            if self._must_type is not None:
                yield Input(placeholder="type the name shown above", id="typed")
                scroll = f" · PgUp/PgDn scroll the list ({len(self._listing)} lines)" if self._listing else ""
                yield Static(f"Enter to confirm · Esc to cancel{scroll}", classes="hint")
            else:
                yield Static("y to confirm · n or Esc to cancel", classes="hint")

    LISTING_CHROME = 16
    """Screen lines the rest of the dialog takes (borders, title, a wrapped prompt, the input, the hint)."""

    def on_mount(self) -> None:
        self._fit_listing()
        if self._must_type is not None:
            self.query_one("#typed", Input).focus()

    def on_resize(self) -> None:
        self._fit_listing()

    def _fit_listing(self) -> None:
        """As many listed lines as the screen has room for (at most 60 % of it); the rest scroll."""
        found = self.query("#listing")
        if not found:
            return
        height = self.app.size.height
        room = max(3, min(height - self.LISTING_CHROME, height * 6 // 10))
        found.first().styles.height = min(len(self._listing), room)

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

    def action_scroll_listing(self, direction: int) -> None:
        found = self.query("#listing")
        if found:
            area = found.first(VerticalScroll)
            area.scroll_relative(y=direction * max(1, area.size.height - 1), animate=False)

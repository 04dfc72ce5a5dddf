"""Pick one of a few named choices (the namespace the Kubernetes views show):
arrows and Enter, or a click; Escape keeps what was there. Dismisses with the
chosen id, or None when cancelled."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class ChoiceDialog(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical {
        width: 50; max-width: 95%; height: auto; max-height: 90%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    ChoiceDialog .title { text-style: bold; margin-bottom: 1; }
    ChoiceDialog OptionList { height: auto; max-height: 20; }
    ChoiceDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str | None = None) -> None:
        """`choices` are (id, label) pairs; the cursor starts on `current`."""
        super().__init__()
        self._title = title
        self._choices = tuple(choices)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            yield OptionList(*(Option(label, id=choice_id) for choice_id, label in self._choices),
                             id="choices")
            yield Static("Enter to pick · Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one("#choices", OptionList)
        ids = [choice_id for choice_id, _ in self._choices]
        if self._current in ids:
            options.highlighted = ids.index(self._current)
        options.focus()

    @property
    def choice_ids(self) -> list[str]:
        return [choice_id for choice_id, _ in self._choices]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Pick one of a few named choices (the namespace the Kubernetes views show, the
member a switchover promotes): arrows and Enter, or a click; Escape keeps what
was there. A choice that cannot be picked now stays in the list, greyed, with
the reason beside it: the operator sees why the member they expected is not
offered instead of wondering where it went. Dismisses with the chosen id, or
None when cancelled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
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
    ChoiceDialog.-reasons > Vertical { width: 76; }
    ChoiceDialog .title { text-style: bold; margin-bottom: 1; }
    ChoiceDialog .prompt { margin-bottom: 1; }
    ChoiceDialog OptionList { height: auto; max-height: 20; }
    ChoiceDialog .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str | None = None, *,
                 prompt: str = "", reasons: Mapping[str, str] | None = None) -> None:
        """`choices` are (id, label) pairs; the cursor starts on `current` (or the
        first that can be picked). `reasons` maps the ids that cannot be picked
        to why not."""
        self._reasons = {k: v for k, v in (reasons or {}).items() if v}
        super().__init__(classes="-reasons" if self._reasons else "")
        self._title = title
        self._prompt = prompt
        self._choices = tuple(choices)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="title", markup=False)
            if self._prompt:
                yield Static(self._prompt, classes="prompt", markup=False)
            yield OptionList(*(self._option(choice_id, label) for choice_id, label in self._choices),
                             id="choices")
            hint = "Enter to pick · Esc to cancel"
            if self._reasons:
                hint += " · greyed: cannot be picked now"
            yield Static(hint, classes="hint")

    def _option(self, choice_id: str, label: str) -> Option:
        reason = self._reasons.get(choice_id)
        if not reason:
            return Option(Text(label), id=choice_id)
        return Option(Text.assemble(label, ("  — ", "dim"), (reason, "italic")), id=choice_id, disabled=True)

    def on_mount(self) -> None:
        options = self.query_one("#choices", OptionList)
        ids = self.enabled_ids
        start = self._current if self._current in ids else (ids[0] if ids else None)
        if start is not None:
            options.highlighted = self.choice_ids.index(start)
        options.focus()

    @property
    def choice_ids(self) -> list[str]:
        return [choice_id for choice_id, _ in self._choices]

    @property
    def enabled_ids(self) -> list[str]:
        """The choices that can be picked, in order."""
        return [choice_id for choice_id, _ in self._choices if choice_id not in self._reasons]

    def reason(self, choice_id: str) -> str:
        """Why `choice_id` cannot be picked ("" when it can)."""
        return self._reasons.get(choice_id, "")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id in self._reasons:  # disabled options are not selectable; be sure
            return
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

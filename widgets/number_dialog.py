"""Asks for one whole number before an action (replicas for a scale): a
TextDialog that shows the current value and whose validator returns an int.
Dismisses with the number, or None when cancelled.

The validator is the same function the provider uses, so the dialog cannot
accept what the provider would refuse.
"""

from __future__ import annotations

from collections.abc import Callable

from widgets.text_dialog import TextDialog


class NumberDialog(TextDialog[int]):
    INVALID = "not a valid number"

    def __init__(self, title: str, prompt: str, current: str, validate: Callable[[str], int]) -> None:
        """`validate` returns the number or raises ValueError with the line to show."""
        super().__init__(title, prompt, validate, current=current, placeholder=current or "a whole number",
                         preview=False, input_id="number")

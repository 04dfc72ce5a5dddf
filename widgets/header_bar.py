"""The top line: product, profile, a READ-ONLY badge in watch mode, and a clock.

The clock shows minutes, not seconds: one repaint a minute instead of one a
second matters over a slow SSH link.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class HeaderBar(Horizontal):
    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; }
    HeaderBar #title { width: auto; padding: 0 1; text-style: bold; }
    HeaderBar #profile { width: 1fr; color: $text-muted; }
    HeaderBar #badge { width: auto; padding: 0 1; background: $error; color: $text; text-style: bold; }
    HeaderBar #clock { width: auto; padding: 0 1; }
    """

    def __init__(
        self,
        title: str,
        profile: str,
        read_only: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._title = title
        self._profile = profile
        self._read_only = read_only
        self._clock = clock

    def compose(self) -> ComposeResult:
        yield Static(self._title, id="title")
        yield Static(Text(f"profile: {self._profile}"), id="profile")
        if self._read_only:
            yield Static("READ-ONLY", id="badge")
        yield Static(self._clock_text(), id="clock")

    def on_mount(self) -> None:
        self._arm()

    def _arm(self) -> None:
        # One-shot timer re-armed at each minute boundary: no drift, no per-second repaint.
        self.set_timer(60.05 - (self._clock() % 60), self._tick)

    def _tick(self) -> None:
        self.query_one("#clock", Static).update(self._clock_text(), layout=False)  # HH:MM, same width
        self._arm()

    def _clock_text(self) -> str:
        return time.strftime("%H:%M", time.localtime(self._clock()))

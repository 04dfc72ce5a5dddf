"""The top line: product, profile, who is acting and with which role, a READ-ONLY
badge in watch mode, and a clock.

On a shared bastion the operator must see whose hands the console is in before
pressing a key: `profile: prod · alice (operator)`. On a narrow terminal the words
give way first (`prod · alice (operator)`), then the profile's name is shortened;
the user and the role stay whole as long as they fit at all.

The clock shows minutes, not seconds: one repaint a minute instead of one a
second matters over a slow SSH link.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

ROLE_STYLES = {"viewer": "", "operator": "bold", "admin": "bold yellow"}
"""How a role reads beside the user: an admin session stands out."""


PROFILE_MIN = 6
"""Cells a shortened profile keeps (five letters and `…`); with less room it gives way."""


def fit_identity(profile: str, user: str, role: str, width: int) -> tuple[str, str, str]:
    """(profile part, separator, who) for `width` cells: `profile: prod · alice (operator)`,
    else `prod · alice (operator)`, else the profile's name cut short (`payments-pr… · alice
    (operator)`), else the user and the role alone, else those cut."""
    who = f"{user} ({role})" if user and role else user or (f"({role})" if role else "")
    sep = " · " if who else ""
    for shown in (f"profile: {profile}", profile):
        if len(shown) + len(sep) + len(who) <= width:
            return (shown, sep, who)
    room = width - len(sep) - len(who)
    if room >= PROFILE_MIN or (not who and room >= 2):
        return (profile[: room - 1] + "…", sep, who)
    if not who:
        return ("", "", "")
    return ("", "", who if len(who) <= width else who[: max(0, width - 1)] + "…")


class HeaderBar(Horizontal):
    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; }
    HeaderBar #title { width: auto; padding: 0 1; text-style: bold; }
    HeaderBar #profile { width: 1fr; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    HeaderBar #badge { width: auto; padding: 0 1; background: $error; color: $text; text-style: bold; }
    HeaderBar #clock { width: auto; padding: 0 1; }
    """

    def __init__(
        self,
        title: str,
        profile: str,
        read_only: bool,
        clock: Callable[[], float] = time.time,
        *,
        user: str = "",
        role: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._profile = profile
        self._user = user
        self._role = role
        self._read_only = read_only
        self._clock = clock
        self._shown: tuple[str, str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title, id="title")
        yield Static(self._identity(fit_identity(self._profile, self._user, self._role, 200)), id="profile")
        if self._read_only:
            yield Static("READ-ONLY", id="badge")
        yield Static(self._clock_text(), id="clock")

    @property
    def identity_text(self) -> str:
        """What the identity part shows now (tests read it)."""
        return str(self.query_one("#profile", Static).render())

    def on_mount(self) -> None:
        self._arm()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        if not self.is_attached:
            return
        place = self.query_one("#profile", Static)
        width = place.size.width - 1  # one cell of air before the badge or the clock
        if width <= 0:
            return
        shown = fit_identity(self._profile, self._user, self._role, width)
        if shown != self._shown:
            self._shown = shown
            place.update(self._identity(shown), layout=False)

    def _identity(self, parts: tuple[str, str, str]) -> Text:
        profile, sep, who = parts
        out = Text(profile, no_wrap=True, overflow="ellipsis", end="")
        out.append(sep)
        if who:
            out.append(who, style=ROLE_STYLES.get(self._role, ""))
        return out

    def _arm(self) -> None:
        # One-shot timer re-armed at each minute boundary: no drift, no per-second repaint.
        self.set_timer(60.05 - (self._clock() % 60), self._tick)

    def _tick(self) -> None:
        self.query_one("#clock", Static).update(self._clock_text(), layout=False)  # HH:MM, same width
        self._arm()

    def _clock_text(self) -> str:
        return time.strftime("%H:%M", time.localtime(self._clock()))

"""One line with each data source's health and the age of its data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

HEALTH_STYLE = {"ok": "green", "stale": "yellow", "error": "bold red", "pending": "dim"}
HEALTH_MARK = {"ok": "●", "stale": "◐", "error": "✖", "pending": "○"}


@dataclass(frozen=True)
class SourceStatus:
    name: str
    health: str
    age_text: str
    error: str | None = None


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $boost; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: tuple[SourceStatus, ...] = ()

    def show(self, sources: Sequence[SourceStatus]) -> None:
        as_tuple = tuple(sources)
        if as_tuple == self._shown:
            return
        self._shown = as_tuple
        self.update(render_sources(as_tuple), layout=False)  # height is fixed at 1


def render_sources(sources: Sequence[SourceStatus]) -> Text:
    """`host ● ok 1s │ aws ✖ error: timed out after 10s`"""
    out = Text()
    if not sources:
        out.append("no data sources configured — see `stacktop check`", style="dim")
        return out
    for i, s in enumerate(sources):
        if i:
            out.append(" │ ", style="dim")
        style = HEALTH_STYLE.get(s.health, "")
        out.append(f"{s.name} ")
        out.append(f"{HEALTH_MARK.get(s.health, '?')} {s.health}", style=style)
        if s.age_text:
            out.append(f" {s.age_text}", style="dim")
        if s.error:
            out.append(f": {s.error}", style=style)
    return out

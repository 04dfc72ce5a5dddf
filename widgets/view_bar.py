"""One line naming the views of a tab with their keys and counts.

It says at a glance what is there (`e EC2 61`), what has not answered yet
(`…`) and what is failing (a red mark), without opening each view. It draws
from plain values and repaints only when one of them changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widget import Widget

PROBLEM_MARK = "✖"


@dataclass(frozen=True)
class ViewTab:
    """One view as the bar shows it."""

    id: str
    key: str
    title: str
    count: str = ""
    """"61"; "…" before its first data; "" when a count means nothing."""
    problem: bool = False
    """Its source, or part of it, failed: the count gets a red mark."""


class ViewBar(Widget):
    """`h Host · e EC2 61 · v EBS 40✖ · …` with the active view highlighted."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "view-bar--key",
        "view-bar--active",
        "view-bar--count",
        "view-bar--problem",
        "view-bar--separator",
    }
    DEFAULT_CSS = """
    ViewBar { height: 1; padding: 0 1; link-style: none; link-color: $text; link-background: transparent;
              link-style-hover: bold; link-background-hover: $boost; }
    ViewBar > .view-bar--key { color: $accent; text-style: bold; }
    ViewBar > .view-bar--active { background: $primary; color: $text; text-style: bold; }
    ViewBar > .view-bar--count { color: $text-muted; }
    ViewBar > .view-bar--problem { color: $error; text-style: bold; }
    ViewBar > .view-bar--separator { color: $text-muted; }
    """

    class Selected(Message):
        """The operator clicked a view's name."""

        def __init__(self, view_id: str) -> None:
            super().__init__()
            self.view_id = view_id

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._tabs: tuple[ViewTab, ...] = ()
        self._active: str | None = None

    @property
    def tabs(self) -> tuple[ViewTab, ...]:
        return self._tabs

    @property
    def active(self) -> str | None:
        return self._active

    def show(self, tabs: Sequence[ViewTab], active: str | None) -> None:
        """Repaint only when a view, a count, a mark or the active view changed."""
        as_tuple = tuple(tabs)
        if as_tuple == self._tabs and active == self._active:
            return
        self._tabs, self._active = as_tuple, active
        self.refresh()

    def plain(self) -> str:
        """The bar as text, for tests and logs."""
        return self.render().plain

    def render(self) -> Text:
        style = {name: self.get_component_rich_style(f"view-bar--{name}", partial=True)
                 for name in ("key", "active", "count", "problem", "separator")}
        out = Text(no_wrap=True, overflow="crop", end="")
        for i, tab in enumerate(self._tabs):
            if i:
                out.append(" · ", style["separator"])
            click = Style.from_meta({"@click": f"select({tab.id!r})"})
            if tab.id == self._active:
                active = style["active"] + click
                out.append(f" {tab.key} {tab.title}", active)
                if tab.count:
                    out.append(f" {tab.count}", active)
                if tab.problem:
                    out.append(PROBLEM_MARK, active + style["problem"])
                out.append(" ", active)
                continue
            out.append(tab.key, style["key"] + click)
            out.append(f" {tab.title}", click)
            if tab.count:
                out.append(f" {tab.count}", style["count"] + click)
            if tab.problem:
                out.append(PROBLEM_MARK, style["problem"] + click)
        return out

    def action_select(self, view_id: str) -> None:
        self.post_message(self.Selected(view_id))

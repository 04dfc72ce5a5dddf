"""What an unconfigured tab shows instead of a blank screen: what it will
show, and the configuration that turns it on."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class SetupHint(VerticalScroll):
    DEFAULT_CSS = """
    SetupHint { padding: 1 2; }
    SetupHint .hint-title { text-style: bold; margin-bottom: 1; }
    SetupHint .hint-status { color: $warning; margin-bottom: 1; }
    SetupHint .hint-snippet { margin-top: 1; }
    """

    def __init__(self, title: str, shows: str, status: str, snippet: str, *, id: str | None = None):
        super().__init__(id=id)
        self._title = title
        self._shows = shows
        self._status = status
        self._snippet = snippet

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="hint-title")
        yield Static(self._status, classes="hint-status")
        yield Static(self._shows)
        yield Static(yaml_text(self._snippet), classes="hint-snippet")


_KEY = re.compile(r"^(\s*(?:- )?)([\w.-]+)(:)", re.MULTILINE)


def yaml_text(snippet: str) -> Text:
    """Keys in colour, values plain: enough highlighting for a snippet, without
    importing pygments (tens of milliseconds at start-up)."""
    text = Text(snippet)
    for match in _KEY.finditer(snippet):
        text.stylize("bold cyan", match.start(2), match.end(2))
    return text

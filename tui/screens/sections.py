"""What the sectioned tabs (Alerts, Costs) share below Textual: section heading rows
keyed "section:<name>", which the cursor passes over, and the detail pane's document
as a list of ready lines, facts first as aligned label/value lines."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

SECTION_PREFIX = "section:"


def section_key(section: str) -> str:
    return f"{SECTION_PREFIX}{section}"


def is_section(key: str | None) -> bool:
    """A heading row: nothing to select or act on."""
    return key is not None and key.startswith(SECTION_PREFIX)


class TextDoc:
    """A detail pane's lines, built at once (a few hundred at most), for DetailLines."""

    def __init__(self, lines: Sequence[Text]) -> None:
        self.lines = list(lines)

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, index: int) -> Text:
        return self.lines[index]

    def text(self) -> str:
        """Every line as plain text (tests)."""
        return "\n".join(line.plain for line in self.lines)


def field_lines(fields: Sequence[tuple[str, str, str]]) -> list[Text]:
    """(label, value, style): labels in one aligned, muted column."""
    width = max((len(label) for label, _, _ in fields), default=0)
    out = []
    for label, value, style in fields:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(label.ljust(width), style="bold dim")
        line.append("  ")
        line.append(value, style=style)
        out.append(line)
    return out

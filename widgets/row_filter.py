"""The `/` filter grammar shared by every table, as k9s users know it:

    text        rows containing `text` in any column (case-insensitive)
    re:^pg-\\d   rows matching a regular expression (case-insensitive)
    !text       rows NOT containing `text`;  !re:...  rows not matching
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class FilterError(ValueError):
    """A filter that cannot be applied; the message says what to fix."""


@dataclass(frozen=True)
class RowFilter:
    text: str
    inverted: bool
    needle: str
    pattern: re.Pattern[str] | None

    def matches(self, haystack: str) -> bool:
        """`haystack` is the row's cells, lower-cased, one per line: `^` and `$`
        anchor at each cell's edges."""
        found = bool(self.pattern.search(haystack)) if self.pattern else self.needle in haystack
        return found != self.inverted


def parse_filter(text: str) -> RowFilter | None:
    """None for an empty filter (every row); FilterError for a bad regex."""
    raw = text.strip()
    if not raw:
        return None
    body, inverted = (raw[1:], True) if raw.startswith("!") else (raw, False)
    if body.startswith("re:"):
        source = body[3:]
        if not source:
            raise FilterError("empty regex after 're:' — type a pattern, e.g. re:^web-\\d+")
        try:
            pattern = re.compile(source, re.IGNORECASE | re.MULTILINE)
        except re.error as exc:
            raise FilterError(f"bad regex '{source}': {exc.msg} at position {exc.pos}") from None
        return RowFilter(raw, inverted, "", pattern)
    if not body:
        return None  # a lone "!" while typing: nothing to invert yet
    return RowFilter(raw, inverted, body.lower(), None)

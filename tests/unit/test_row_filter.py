"""The `/` filter grammar: substring, re:, ! to invert; a bad regex is a message."""

from __future__ import annotations

import pytest

from widgets.row_filter import FilterError, parse_filter

ROWS = ["web-1\nrunning\n10.0.0.1", "web-12\nstopped\n10.0.0.12", "db-primary\nrunning\n10.0.1.5"]


def shown(text: str) -> list[str]:
    f = parse_filter(text)
    return [r.split("\n")[0] for r in ROWS if f is None or f.matches(r.lower())]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ["web-1", "web-12", "db-primary"]),
        ("   ", ["web-1", "web-12", "db-primary"]),
        ("WEB", ["web-1", "web-12"]),
        ("running", ["web-1", "db-primary"]),
        ("!running", ["web-12"]),
        ("re:^web-\\d$", ["web-1"]),
        ("re:10\\.0\\.0\\.1\\b", ["web-1"]),
        ("!re:^web", ["db-primary"]),
        ("re:PRIMARY", ["db-primary"]),
        ("nothing-matches", []),
        ("!", ["web-1", "web-12", "db-primary"]),
    ],
)
def test_grammar(text: str, expected: list[str]) -> None:
    assert shown(text) == expected


@pytest.mark.parametrize("text, fix", [("re:(", "bad regex '('"), ("re:", "empty regex"),
                                       ("!re:[a-", "bad regex '[a-'")])
def test_bad_regex_is_a_message_not_a_crash(text: str, fix: str) -> None:
    with pytest.raises(FilterError, match=fix.replace("(", r"\(").replace("[", r"\[")):
        parse_filter(text)

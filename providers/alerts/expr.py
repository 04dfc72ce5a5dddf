"""The rule expression language: one metric, optional label matchers, one comparison.

Small on purpose: an operator should read a rule at 3 a.m. and know when it fires,
and every rule must map to PromQL for `stacktop rules export`. The grammar:

    expr      = metric [ "{" [ matcher { "," matcher } [ "," ] ] "}" ] op number
    metric    = name { "." ( segment | "*" ) }     e.g. host.cpu.percent, http.*.error_rate
    name      = [A-Za-z_][A-Za-z0-9_-]*             (the provider: host, aws, http, ...)
    segment   = [A-Za-z0-9_-]+                      (host.load.1m is fine)
    matcher   = label ( "=" | "!=" | "=~" | "!~" ) '"' text '"'
    label     = [A-Za-z_][A-Za-z0-9_]*
    op        = ">" | ">=" | "<" | "<=" | "==" | "!="
    number    = [ "-" ] digits [ "." digits ] [ e[+-]digits ] [ unit ]
    unit      = ms s m h d  (to seconds) | B KB MB GB TB  (powers of 1000) | KiB MiB GiB TiB (of 1024)

`*` matches any one segment. Inside quotes `\\"` is a quote and `\\\\` a backslash;
regular expressions (=~, !~) are anchored at both ends and must compile. `%` is not a
unit: percent metrics already count 0-100, so write `> 80`, not `> 80%`.

`parse(text)` returns a providers.alerts.model.Query or raises ExprError with the
1-based column and a message that says what to write; `describe(query)` is the
normalised text (units folded into the number) that parses back to the same Query.
"""

from __future__ import annotations

import math
import re

from providers.alerts.model import COMPARE_OPS, MATCH_OPS, Matcher, Query

UNITS: dict[str, float] = {
    "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0,
    "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3, "TiB": 1024.0**4,
}
UNIT_HELP = "s, m, h, d (to seconds) or KB, MB, GB, KiB, MiB, GiB, TiB (to bytes)"
EXAMPLE = "host.cpu.percent > 80"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z%]+")
_MATCH_OPS_LONGEST_FIRST = sorted(MATCH_OPS, key=len, reverse=True)


class ExprError(ValueError):
    """What is wrong with an expression, where (1-based column), and what to write instead."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def parse(text: str) -> Query:
    """`METRIC[{MATCHERS}] OP NUMBER` -> Query; ExprError naming the fix otherwise."""
    return _Parser(text).expression()


def describe(query: Query) -> str:
    """The normalised text of ``query``: `metric{a="x", b=~"y"} op number`."""
    matchers = "{" + ", ".join(str(m) for m in query.matchers) + "}" if query.matchers else ""
    return f"{query.metric}{matchers} {query.op} {format_number(query.threshold)}"


def format_number(value: float) -> str:
    """Shortest text that reads back as ``value`` (80, 0.05, 1e+20, -3.5)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _shown(token: str) -> str:
    return f"'{token}'" if token else "the end"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -------------------------------------------------------------- helpers

    def fail(self, message: str, at: int | None = None) -> ExprError:
        return ExprError(message, (self.pos if at is None else at) + 1)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos:self.pos + size]

    def next_token(self) -> str:
        """The next few characters, for messages ('>' or 'and' or the end)."""
        rest = self.text[self.pos:].split(None, 1)
        return rest[0][:20] if rest else ""

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group(0)

    # -------------------------------------------------------------- grammar

    def expression(self) -> Query:
        self.skip_space()
        if self.pos == len(self.text):
            raise self.fail(f"the expression is empty — write METRIC OP NUMBER, e.g. {EXAMPLE}")
        metric = self.metric()
        self.skip_space()
        matchers: tuple[Matcher, ...] = ()
        if self.peek() == "{":
            matchers = self.matchers(metric)
            self.skip_space()
        subject = self.text[:self.pos].strip()
        op = self.operator(subject)
        self.skip_space()
        threshold = self.number(subject, op)
        self.skip_space()
        if self.pos < len(self.text):
            raise self.fail(f"unexpected {_shown(self.next_token())} after the threshold — a rule "
                            f"compares one metric with one number, e.g. {EXAMPLE}")
        return Query(metric, matchers, op, threshold)

    def metric(self) -> str:
        start = self.pos
        first = self.match(_NAME)
        if first is None:
            if self.peek() == "*":
                raise self.fail("a metric starts with a provider name (host, aws, http ...), not *; "
                                "* stands for a later segment, as in http.*.error_rate")
            got = _shown(self.next_token())
            raise self.fail(f"expected a metric at the start, like {EXAMPLE}; got {got}")
        while self.peek() == ".":
            self.pos += 1
            if self.peek() == "*":
                self.pos += 1
            elif self.match(_SEGMENT) is None:
                so_far = self.text[start:self.pos]
                raise self.fail(f"expected a name or * after '{so_far}' — metric paths look like "
                                "host.cpu.percent or http.*.error_rate")
        following = self.peek()
        if following and not (following.isspace() or following in "{<>=!"):
            raise self.fail(f"{following!r} cannot be part of a metric name — names use letters, "
                            "digits, '_' and '-', separated by dots")
        return self.text[start:self.pos]

    def matchers(self, metric: str) -> tuple[Matcher, ...]:
        open_at = self.pos
        self.pos += 1  # the "{"
        found: list[Matcher] = []
        while True:
            self.skip_space()
            if self.peek() == "}":
                self.pos += 1
                return tuple(found)
            if self.pos == len(self.text):
                raise self.fail("the label matchers are not closed — add '}' after the last one",
                                at=open_at)
            found.append(self.matcher())
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.pos == len(self.text):
                raise self.fail("the label matchers are not closed — add '}' after the last one",
                                at=open_at)
            elif self.peek() != "}":
                raise self.fail(f"expected ',' or '}}' after {found[-1]}, got "
                                f"{_shown(self.next_token())}")

    def matcher(self) -> Matcher:
        start = self.pos
        name = self.match(_LABEL)
        if name is None:
            raise self.fail(f"expected a label name like cluster=\"main\", got {_shown(self.next_token())}")
        self.skip_space()
        op = next((o for o in _MATCH_OPS_LONGEST_FIRST if self.text.startswith(o, self.pos)), None)
        if op is None:
            raise self.fail(f"expected =, !=, =~ or !~ after the label {name}, "
                            f"got {_shown(self.next_token())}")
        if op == "=" and self.peek(2) == "==":
            raise self.fail(f"a label matcher takes one '=': write {name}=\"value\"")
        self.pos += len(op)
        self.skip_space()
        value = self.string(f"{name}{op}")
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise self.fail(f"the regular expression of {name}{op} does not compile "
                                f"({exc.msg}) — write a Python regular expression like \"/data.*\"",
                                at=start) from None
        return Matcher(name, op, value)

    def string(self, before: str) -> str:
        if self.peek() != '"':
            hint = " (single quotes are not allowed)" if self.peek() == "'" else ""
            raise self.fail(f"expected a double-quoted value after {before}, "
                            f"like {before}\"main\"{hint}")
        open_at = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\\":
                escaped = self.text[self.pos + 1:self.pos + 2]
                if escaped not in ('"', "\\"):
                    raise self.fail(f"unknown escape '\\{escaped}' in a label value — only \\\" and "
                                    "\\\\ are escapes; write \\\\ for one backslash")
                out.append(escaped)
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise self.fail(f"the value after {before} is not closed — add the closing '\"'", at=open_at)

    def operator(self, subject: str) -> str:
        two, one = self.peek(2), self.peek()
        if len(two) == 2 and two in COMPARE_OPS:
            self.pos += 2
            return two
        if two in ("=>", "=<"):
            raise self.fail(f"write {two[::-1]}, not {two}")
        if one == "=":
            raise self.fail(f"write == to compare for equality, e.g. {subject} == 1")
        if one in COMPARE_OPS:
            self.pos += 1
            return one
        raise self.fail(f"expected a comparison like > 80 after {subject}; "
                        f"got {_shown(self.next_token())}")

    def number(self, subject: str, op: str) -> float:
        start = self.pos
        if self.peek() and self.peek() in "<>=!":
            doubled = op + self.peek()
            raise self.fail(f"{doubled!r} is not a comparison — use one of {' '.join(COMPARE_OPS)}")
        digits = self.match(_NUMBER)
        if digits is None:
            raise self.fail(f"expected a number after {op}, like {subject} {op} 80; "
                            f"got {_shown(self.next_token())}")
        value = float(digits)
        unit_at = self.pos
        unit = self.match(_WORD)
        if unit is None and self.text[self.pos:].lstrip().startswith("%"):
            unit = "%"
        if unit is not None:
            if unit == "%":
                raise self.fail(f"'%' is not a unit — write {digits}, not {digits}% (percent metrics "
                                "count 0-100; rates and ratios 0-1)", at=unit_at)
            if unit not in UNITS:
                raise self.fail(f"unknown unit {unit!r} after {digits} — use {UNIT_HELP}", at=unit_at)
            value *= UNITS[unit]
        if not math.isfinite(value):
            raise self.fail(f"{self.text[start:self.pos]} is too large a number", at=start)
        return value

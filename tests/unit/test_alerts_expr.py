"""The rule expression language: what parses to what, what each mistake says and where,
and that the normalised text always parses back to the same query."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.alerts.expr import ExprError, describe, format_number, parse
from providers.alerts.model import COMPARE_OPS, MATCH_OPS, Matcher, Query
from providers.base import Sample, labels_of

# ---------------------------------------------------------------- what parses


@pytest.mark.parametrize(("text", "query"), [
    ("host.cpu.percent > 80", Query("host.cpu.percent", (), ">", 80.0)),
    ("host.cpu.percent>80", Query("host.cpu.percent", (), ">", 80.0)),
    ("  host.cpu.percent   >=   80.5  ", Query("host.cpu.percent", (), ">=", 80.5)),
    ('aws.ec2.cpu{account="prod"} > 90',
     Query("aws.ec2.cpu", (Matcher("account", "=", "prod"),), ">", 90.0)),
    ("http.api.error_rate > 0.05", Query("http.api.error_rate", (), ">", 0.05)),
    ("http.*.consecutive_failures >= 2", Query("http.*.consecutive_failures", (), ">=", 2.0)),
    ('ha.lag_seconds{cluster="main"} > 30',
     Query("ha.lag_seconds", (Matcher("cluster", "=", "main"),), ">", 30.0)),
    ("backups.rpo_breached == 1", Query("backups.rpo_breached", (), "==", 1.0)),
    ("costs.month_to_date_ratio_of_budget > 0.9",
     Query("costs.month_to_date_ratio_of_budget", (), ">", 0.9)),
    ("host.load.1m < 0.5", Query("host.load.1m", (), "<", 0.5)),
    ("http.my-api.up != 1", Query("http.my-api.up", (), "!=", 1.0)),
    ("k8s.pods.not_ready <= -3", Query("k8s.pods.not_ready", (), "<=", -3.0)),
    ("_x > .5", Query("_x", (), ">", 0.5)),
    ("a > 1e3", Query("a", (), ">", 1000.0)),
    ('host.disk.percent{mount=~"/data.*", host!="db-1", x!~"a|b", y=""} > 90',
     Query("host.disk.percent", (Matcher("mount", "=~", "/data.*"), Matcher("host", "!=", "db-1"),
                                 Matcher("x", "!~", "a|b"), Matcher("y", "=", "")), ">", 90.0)),
    ('a{ b = "c" , } > 1', Query("a", (Matcher("b", "=", "c"),), ">", 1.0)),
    ("a{} > 1", Query("a", (), ">", 1.0)),
    ('a{b="say \\"hi\\" \\\\ {x}, y"} > 1', Query("a", (Matcher("b", "=", 'say "hi" \\ {x}, y'),), ">", 1.0)),
])
def test_parses(text: str, query: Query) -> None:
    assert parse(text) == query


@pytest.mark.parametrize(("threshold", "value"), [
    ("500ms", 0.5), ("30s", 30.0), ("5m", 300.0), ("2h", 7200.0), ("1d", 86400.0), ("1.5m", 90.0),
    ("10B", 10.0), ("2KB", 2e3), ("3MB", 3e6), ("1GB", 1e9), ("1TB", 1e12),
    ("1KiB", 1024.0), ("1MiB", 1024.0**2), ("2GiB", 2 * 1024.0**3), ("1TiB", 1024.0**4),
    ("-2m", -120.0),
])
def test_units_fold_into_the_threshold(threshold: str, value: float) -> None:
    assert parse(f"backups.age_seconds > {threshold}").threshold == value


def test_the_query_selects_and_compares_as_the_engine_uses_it() -> None:
    query = parse('http.*.error_rate{check!="canary"} > 0.05')
    samples = [Sample("http.api.error_rate", labels_of(check="api"), 0.2, 0.0),
               Sample("http.canary.error_rate", labels_of(check="canary"), 0.9, 0.0),
               Sample("http.api.latency_p95", labels_of(check="api"), 3.0, 0.0),
               Sample("http.api.x.error_rate", labels_of(check="api"), 1.0, 0.0)]
    assert [s.name for s in query.select(samples)] == ["http.api.error_rate"]
    assert query.compare(0.06) and not query.compare(0.05)


# ---------------------------------------------------------------- what each mistake says


@pytest.mark.parametrize(("text", "column", "says"), [
    ("", 1, "the expression is empty — write METRIC OP NUMBER, e.g. host.cpu.percent > 80"),
    ("   ", 4, "the expression is empty"),
    ("> 80", 1, "expected a metric at the start, like host.cpu.percent > 80; got '> 80'"[:60]),
    ("host.cpu.percent", 17, "expected a comparison like > 80 after host.cpu.percent; got the end"),
    ("host.cpu.percent 80", 18, "expected a comparison like > 80 after host.cpu.percent; got '80'"),
    ('aws.ec2.cpu{account="prod"}', 28, 'after aws.ec2.cpu{account="prod"}; got the end'),
    ("host.cpu.percent > 80%", 22, "'%' is not a unit — write 80, not 80%"),
    ("host.cpu.percent > 80 %", 22, "'%' is not a unit"),
    ("host.cpu.percent = 1", 18, "write == to compare for equality, e.g. host.cpu.percent == 1"),
    ("host.cpu.percent => 1", 18, "write >=, not =>"),
    ("host.cpu.percent =< 1", 18, "write <=, not =<"),
    ("host.cpu.percent >> 1", 19, "'>>' is not a comparison — use one of > >= < <= == !="),
    ("host.cpu.percent > x", 20, "expected a number after >, like host.cpu.percent > 80; got 'x'"),
    ("host.cpu.percent >", 19, "expected a number after >"),
    ("host.cpu. > 1", 10, "expected a name or * after 'host.cpu.'"),
    ("host..cpu > 1", 6, "expected a name or * after 'host.'"),
    ("*.cpu > 1", 1, "a metric starts with a provider name (host, aws, http ...), not *"),
    ("1host > 1", 1, "expected a metric at the start"),
    ("host.cpu.percent) > 1", 17, "')' cannot be part of a metric name"),
    ("host.cpu.percent > 1 and host.load.1m > 4", 22, "unexpected 'and' after the threshold"),
    ("host.cpu.percent > 5x", 21, "unknown unit 'x' after 5 — use s, m, h, d (to seconds)"),
    ("host.cpu.percent > 5M", 21, "unknown unit 'M' after 5"),
    ("host.cpu.percent > 1e999", 20, "1e999 is too large a number"),
    ('a{b="c" > 1', 9, "expected ',' or '}' after b=\"c\", got '>'"),
    ('a{b="c"', 2, "the label matchers are not closed — add '}' after the last one"),
    ("a{b=c} > 1", 5, 'expected a double-quoted value after b=, like b="main"'),
    ("a{b='c'} > 1", 5, "(single quotes are not allowed)"),
    ('a{b="c} > 1', 5, "the value after b= is not closed — add the closing '\"'"),
    ('a{b="c\\d"} > 1', 7, "unknown escape '\\d' in a label value"),
    ('a{b=="c"} > 1', 4, "a label matcher takes one '=': write b=\"value\""),
    ('a{1b="c"} > 1', 3, "expected a label name like cluster=\"main\""),
    ('a{b~"c"} > 1', 4, "expected =, !=, =~ or !~ after the label b"),
    ('a{b="c" c="d"} > 1', 9, "expected ',' or '}'"),
    ('host.disk.percent{mount=~"["} > 90', 19,
     "the regular expression of mount=~ does not compile (unterminated character set)"),
    ('a{b!~"(x"} > 1', 3, "the regular expression of b!~ does not compile"),
])
def test_each_mistake_says_what_to_write_and_where(text: str, column: int, says: str) -> None:
    with pytest.raises(ExprError) as caught:
        parse(text)
    assert says in str(caught.value)
    assert caught.value.column == column
    assert caught.value.message == str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_expr_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="expected a comparison"):
        parse("host.cpu.percent")


# ---------------------------------------------------------------- normalised text

@pytest.mark.parametrize(("text", "normal"), [
    ("host.cpu.percent>80", "host.cpu.percent > 80"),
    ("a{ b = \"c\" ,d=~\"x.*\" } >= 5m", 'a{b="c", d=~"x.*"} >= 300'),
    ("a{} == 1.50", "a == 1.5"),
    ("a > 1GiB", "a > 1073741824"),
    ("a < -0.25", "a < -0.25"),
    ('a{b="q\\"\\\\"} != 0', 'a{b="q\\"\\\\"} != 0'),
])
def test_describe_normalises(text: str, normal: str) -> None:
    assert describe(parse(text)) == normal


@pytest.mark.parametrize(("value", "text"), [
    (80.0, "80"), (0.05, "0.05"), (-3.0, "-3"), (1e20, "1e+20"), (1.5e-7, "1.5e-07"), (0.0, "0"),
])
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text
    assert float(text) == value


_first = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,8}\Z")
_segment = st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{1,8}\Z"), st.just("*"))
_metrics = st.builds(lambda first, rest: ".".join([first, *rest]), _first, st.lists(_segment, max_size=4))
_labels = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z")


@st.composite
def _matcher(draw: st.DrawFn) -> Matcher:
    op = draw(st.sampled_from(MATCH_OPS))
    value = draw(st.text(max_size=12))
    return Matcher(draw(_labels), op, re.escape(value) if "~" in op else value)


_queries = st.builds(Query, _metrics, st.lists(_matcher(), max_size=4).map(tuple),
                     st.sampled_from(COMPARE_OPS),
                     st.floats(allow_nan=False, allow_infinity=False))


@given(_queries)
def test_describe_parses_back_to_the_same_query(query: Query) -> None:
    text = describe(query)
    assert parse(text) == query
    assert describe(parse(text)) == text


@given(st.text(alphabet='hostcpu.*{}=!~"\\ ,<>-0123456789.%mKiB\'', max_size=40))
def test_any_text_parses_or_fails_with_a_column_inside_it(text: str) -> None:
    try:
        query = parse(text)
    except ExprError as exc:
        assert 1 <= exc.column <= len(text) + 1
        assert exc.message and "\n" not in exc.message
    else:
        assert parse(describe(query)) == query

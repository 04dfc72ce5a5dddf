"""Annotation templates: $value and $labels filled in, anything else left as written."""

from __future__ import annotations

import pytest

from providers.alerts.templates import check, format_value, render


@pytest.mark.parametrize(("value", "shown"), [
    (85.3, "85.3"), (0.0512, "0.0512"), (2.0, "2"), (1234567.0, "1.235e+06"), (99.98765, "99.99"),
    (-3.5, "-3.5"), (None, ""),
])
def test_value_has_at_most_four_significant_digits(value: float | None, shown: str) -> None:
    assert format_value(value) == shown


def test_value_and_labels_are_filled_in() -> None:
    text = render("CPU on {{ $labels.instance }} is {{ $value }}%", {"instance": "web-1"}, 85.3)
    assert text == "CPU on web-1 is 85.3%"


def test_whitespace_inside_braces_is_tolerated() -> None:
    assert render("{{$value}} {{   $labels.a   }}", {"a": "x"}, 1.5) == "1.5 x"


def test_missing_label_renders_empty() -> None:
    assert render("member [{{ $labels.member }}]", {}, 1.0) == "member []"


def test_unknown_expressions_are_left_as_written() -> None:
    template = "{{ humanize $value }} {{ .Value }} {{ $labels.bad-name }} {{ $value }}"
    assert render(template, {}, 3.0) == "{{ humanize $value }} {{ .Value }} {{ $labels.bad-name }} 3"


def test_text_without_templates_is_unchanged() -> None:
    assert render("disk full", {"a": "b"}, 9.0) == "disk full"


def test_check_accepts_known_forms() -> None:
    assert check("{{ $value }} on {{ $labels.host }}") is None
    assert check("plain text") is None


def test_check_names_the_unknown_expression_on_one_line() -> None:
    problem = check("lag {{ $values }} seconds")
    assert problem is not None and "{{ $values }}" in problem and "\n" not in problem
    assert "$labels.NAME" in problem


def test_check_reports_an_unclosed_brace() -> None:
    problem = check("lag {{ $value seconds")
    assert problem is not None and "unclosed" in problem

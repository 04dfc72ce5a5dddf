"""Annotation templates: `{{ $value }}` and `{{ $labels.NAME }}`, as in Prometheus
rules, so a rule file reads the same here and in a Prometheus rule export.

Only those two forms are filled in. Anything else between braces is left as
written (a summary never fails to render); `check` names it at config load so
a typo is caught there rather than showing up verbatim in a page at 3 am.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_EXPR = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_KNOWN = re.compile(r"\$value|\$labels\.([A-Za-z_][A-Za-z0-9_]*)")


def format_value(value: float | None) -> str:
    """Up to 4 significant digits, no exponent for everyday magnitudes: 85.3, 0.0512, 2."""
    if value is None:
        return ""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4g}"


def render(template: str, labels: Mapping[str, str], value: float | None) -> str:
    """The template with `$value` and `$labels.NAME` filled in (a missing label is empty)."""
    if "{{" not in template:
        return template

    def fill(found: re.Match[str]) -> str:
        known = _KNOWN.fullmatch(found.group(1))
        if known is None:
            return found.group(0)
        name = known.group(1)
        return format_value(value) if name is None else labels.get(name, "")

    return _EXPR.sub(fill, template)


def check(template: str) -> str | None:
    """One line naming the first expression `render` would leave as written, or None."""
    for found in _EXPR.finditer(template):
        if _KNOWN.fullmatch(found.group(1)) is None:
            return (f"unknown template expression {found.group(0)!r}: "
                    "use {{ $value }} or {{ $labels.NAME }}")
    rest = _EXPR.sub("", template)
    if "{{" in rest:
        return "unclosed '{{' in template: close it with '}}'"
    return None

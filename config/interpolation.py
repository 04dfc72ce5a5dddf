"""``${VAR}`` and ``${VAR:-default}`` in string values.

Secrets and per-machine details (passwords, account ids, home paths) belong in
the environment, not in a file that gets copied around. Only the selected
profile is interpolated, so a variable needed by another profile need not be set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from config.located_yaml import Located

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HOW = "write ${NAME} or ${NAME:-default}, and $${ for a literal ${"


def interpolate_text(text: str, env: Mapping[str, str]) -> tuple[str, bool]:
    """Return (text with variables replaced, whether any variable was used).

    Defaults may themselves hold variables: ``${A:-${B:-x}}``. A default is
    only looked at when it is needed. Raises ValueError naming the fix.
    """
    scanner = _Scanner(text, env)
    result, _ = scanner.expand(0, evaluate=True, inside_default=False)
    return result, scanner.used


class _Scanner:
    def __init__(self, text: str, env: Mapping[str, str]) -> None:
        self.text = text
        self.env = env
        self.used = False

    def expand(self, position: int, *, evaluate: bool, inside_default: bool) -> tuple[str, int]:
        """Expand from ``position`` to the end (or to the '}' closing a default)."""
        text, out = self.text, []
        while position < len(text):
            if text.startswith("$${", position):
                out.append("${")
                position += 3
            elif text.startswith("${", position):
                value, position = self.variable(position, evaluate=evaluate)
                out.append(value)
            elif inside_default and text[position] == "}":
                return "".join(out), position
            else:
                out.append(text[position])
                position += 1
        if inside_default:
            raise ValueError(f"unclosed '${{' — {_HOW}")
        return "".join(out), position

    def variable(self, start: int, *, evaluate: bool) -> tuple[str, int]:
        text = self.text
        name_match = _NAME.match(text, start + 2)
        if name_match is None:
            raise ValueError(f"malformed '${{' — {_HOW}")
        name, position = name_match.group(0), name_match.end()
        if evaluate:
            self.used = True
        value = self.env.get(name) if evaluate else None
        if text.startswith("}", position):
            if evaluate and value is None:
                raise ValueError(
                    f"environment variable {name} is not set "
                    f"(use ${{{name}:-default}} to give a default)"
                )
            return value or "", position + 1
        if text.startswith(":-", position):
            need_default = evaluate and not value
            default, position = self.expand(
                position + 2, evaluate=need_default, inside_default=True
            )
            return (default if need_default else value or ""), position + 1
        if position >= len(text):
            raise ValueError(f"unclosed '${{' — {_HOW}")
        raise ValueError(f"malformed '${{{name}{text[position]}' — {_HOW}")


def interpolate(node: Located, env: Mapping[str, str]) -> Located:
    """A copy of ``node`` with every string scalar interpolated; errors point at the value."""
    value = node.value
    if isinstance(value, dict):
        return node.replace(value={key: interpolate(item, env) for key, item in value.items()})
    if isinstance(value, list):
        return node.replace(value=[interpolate(item, env) for item in value])
    if isinstance(value, str) and "${" in value:
        try:
            text, used = interpolate_text(value, env)
        except ValueError as exc:
            raise node.error(str(exc)) from None
        return node.replace(value=text, interpolated=node.interpolated or used)
    return node

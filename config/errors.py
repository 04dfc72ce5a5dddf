"""The one error type a user can cause through configuration.

Every mistake in a config file ends up as a ``ConfigError`` whose ``str()`` is a
single line in the ``FILE:LINE:COL: KEY_PATH: MESSAGE`` form that editors and
terminals already know how to jump to, and whose message names the fix.
"""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration mistake, located as precisely as we know it."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        line: int | None = None,
        column: int | None = None,
        key_path: str = "",
    ) -> None:
        # One line, always: the message ends up on a terminal next to a prompt.
        self.message = " ".join(message.split())
        self.file = file
        self.line = line
        self.column = column
        self.key_path = key_path
        super().__init__(str(self))

    def __str__(self) -> str:
        location = self.file
        if self.file and self.line is not None:
            location += f":{self.line}"
            if self.column is not None:
                location += f":{self.column}"
        parts = [part for part in (location, self.key_path, self.message) if part]
        return ": ".join(parts)

    def __repr__(self) -> str:
        return f"ConfigError({str(self)!r})"

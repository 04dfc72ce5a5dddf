"""Logging to a file as JSON lines; nothing reaches the terminal the UI draws on."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

LEVELS = ("debug", "info", "warning", "error")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, secrets replaced by *** before writing."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(entry, ensure_ascii=False))


class LogSetupError(Exception):
    """The log file cannot be written; the message names the fix."""


def setup_logging(path: str, level: str, redact: Callable[[str], str]) -> None:
    """Send every logger to `path` only. Replaces handlers, including the
    last-resort stderr handler, so a warning never scribbles over the UI."""
    if level not in LEVELS:
        raise LogSetupError(f"unknown log level '{level}' — use one of: {', '.join(LEVELS)}")
    file = Path(path).expanduser()
    try:
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.FileHandler(file, encoding="utf-8")
        os.chmod(file, 0o600)
    except OSError as exc:
        raise LogSetupError(
            f"cannot write log file {file}: {exc.strerror} — set log.file or pass --log-file"
        ) from None
    handler.setFormatter(JsonLineFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.lastResort = None
    logging.captureWarnings(True)

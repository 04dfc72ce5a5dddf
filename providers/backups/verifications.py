"""The verification log: one JSON line per restore test, appended and fsync'ed.

It outlives the process (a restore test proved last week still counts), so it is a file,
append-only like the audit log (providers/actions.py): O_APPEND and a flock keep concurrent
writers' lines whole, fsync makes a recorded result survive a crash. Reading takes the tail only
(bounded memory whatever the file's size), skips a torn last line and lines that are not
ours. Nothing secret is written: messages are one line from our own code, passed through
`redact` as well.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from providers.backups.model import Check, Verification
from providers.jsonl import JsonLines

KIND = "stacktop.verification"
VERSION = 1


def default_path() -> Path:
    """$XDG_STATE_HOME/stacktop/verifications.jsonl: beside the default audit log."""
    from config.loader import state_dir

    return Path(state_dir(os.environ)) / "verifications.jsonl"


def to_record(v: Verification) -> dict[str, Any]:
    return {"kind": KIND, "v": VERSION, "target": v.target, "at": v.at, "ok": v.ok,
            "duration": v.duration, "backup_id": v.backup_id, "method": v.method,
            "message": v.message,
            "checks": [{"name": c.name, "value": c.value, "ok": c.ok, "expected": c.expected}
                       for c in v.checks]}


def from_record(data: Any) -> Verification | None:
    """A Verification from a decoded line, or None when the line is not one of ours."""
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None
    try:
        checks = tuple(Check(str(c["name"]), str(c["value"]), bool(c["ok"]), str(c.get("expected", "")))
                       for c in data.get("checks") or ())
        return Verification(target=str(data["target"]), at=float(data["at"]), ok=bool(data["ok"]),
                            duration=float(data["duration"]), backup_id=str(data["backup_id"]),
                            method=str(data["method"]), message=str(data["message"]), checks=checks)
    except (KeyError, TypeError, ValueError):
        return None


class VerificationLog:
    """Append and read restore-test results (thread-safe; the provider calls it from workers)."""

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 redact: Callable[[str], str] = str) -> None:
        self.path = Path(path) if path else default_path()
        self._file = JsonLines(self.path, KIND, redact)

    def record(self, v: Verification) -> None:
        """Append one line; flushed and fsync'ed before returning."""
        self._file.append(to_record(v))

    def recent(self, target: str, limit: int = 10) -> tuple[Verification, ...]:
        """The target's newest `limit` restore tests, newest first (by time, then by position)."""
        found: list[tuple[float, int, Verification]] = []
        for position, data in enumerate(self._file.backwards()):
            v = from_record(data)
            if v is None or v.target != target:
                continue
            found.append((v.at, -position, v))
            if len(found) >= limit:
                break
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return tuple(v for _, _, v in found[:limit])

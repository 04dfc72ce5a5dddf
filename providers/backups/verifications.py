"""The verification log: one JSON line per restore test, appended and fsync'ed.

It outlives the process (a restore test proved last week still counts), so it is a file,
append-only like the audit log (providers/actions.py): O_APPEND and a flock keep concurrent
writers' lines whole, fsync makes a recorded result survive a crash. Reading takes the tail only
(bounded memory whatever the file's size), skips a torn last line and lines that are not
ours. Nothing secret is written: messages are one line from our own code, passed through
`redact` as well.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from providers.backups.model import Check, Verification

KIND = "stacktop.verification"
VERSION = 1
BLOCK = 64 * 1024
MAX_SCAN = 16 * 1024 * 1024
"""Bytes read back from the end at most: older records do not count as recent."""


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
        self._redact = redact
        self._lock = threading.Lock()

    def record(self, v: Verification) -> None:
        """Append one line; flushed and fsync'ed before returning."""
        line = self._redact(json.dumps(to_record(v), sort_keys=True, ensure_ascii=False)) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # Writers (other threads, other stacktop processes) take turns, so the check for a
                # torn last line never sees another writer's line half-written.
                fcntl.flock(fd, fcntl.LOCK_EX)
                data = line.encode()
                # A torn line left by a crash must not swallow ours: start on a fresh line.
                if os.fstat(fd).st_size and not self._ends_with_newline():
                    data = b"\n" + data
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock

    def recent(self, target: str, limit: int = 10) -> tuple[Verification, ...]:
        """The target's newest `limit` restore tests, newest first (by time, then by position)."""
        found: list[tuple[float, int, Verification]] = []
        for position, raw in enumerate(self._lines_backwards()):
            if not raw.strip():
                continue
            try:
                v = from_record(json.loads(raw))
            except (ValueError, UnicodeDecodeError):
                continue  # a torn or foreign line
            if v is None or v.target != target:
                continue
            found.append((v.at, -position, v))
            if len(found) >= limit:
                break
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return tuple(v for _, _, v in found[:limit])

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _lines_backwards(self) -> Iterator[bytes]:
        """Whole lines from the end, at most MAX_SCAN bytes back, one block in memory at a time."""
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            return
        with f:
            end = f.seek(0, os.SEEK_END)
            stop = max(0, end - MAX_SCAN)
            pos, rest = end, b""
            while pos > stop:
                size = min(BLOCK, pos - stop)
                pos -= size
                f.seek(pos)
                chunk = f.read(size) + rest
                lines = chunk.split(b"\n")
                rest = lines[0]  # may be the tail of a line that starts in an earlier block
                yield from reversed(lines[1:])
            if stop == 0 and rest:
                yield rest

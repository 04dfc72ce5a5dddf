"""The notification log: one JSON line per message to one channel, after its last attempt.

"Did the page go out?" must be answerable after a crash or a restart, and by another stacktop
reading the same file, so it is an append-only file like the audit and verification logs:
O_APPEND plus a flock keep concurrent writers' lines whole, fsync makes a line survive a
crash, the file is 0600 in a 0700 directory. Reading takes only the tail (bounded memory
whatever the file's size) and skips a torn last line or lines that are not ours. Records
carry no URL and no secret; `redact` is applied to every line as well.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from providers.alerts.model import NotificationRecord

KIND = "stacktop.notification"
VERSION = 1
BLOCK = 64 * 1024
MAX_SCAN = 16 * 1024 * 1024
"""Bytes read back from the end at most: older sends are not "recent"."""


def default_path() -> Path:
    """$XDG_STATE_HOME/stacktop/notifications.jsonl: beside the audit log."""
    from config.loader import state_dir

    return Path(state_dir(os.environ)) / "notifications.jsonl"


def to_record(rec: NotificationRecord) -> dict[str, Any]:
    return {"kind": KIND, "v": VERSION, "at": rec.at, "channel": rec.channel, "channel_kind": rec.kind,
            "group": rec.group, "status": rec.status, "fingerprints": list(rec.fingerprints),
            "ok": rec.ok, "attempts": rec.attempts, "detail": rec.detail, "duration": rec.duration}


def from_record(data: Any) -> NotificationRecord | None:
    """A record from a decoded line, or None when the line is not one of ours."""
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None
    try:
        return NotificationRecord(
            at=float(data["at"]), channel=str(data["channel"]), kind=str(data["channel_kind"]),
            group=str(data["group"]), status=str(data["status"]),
            fingerprints=tuple(str(f) for f in data.get("fingerprints") or ()),
            ok=bool(data["ok"]), attempts=int(data["attempts"]), detail=str(data["detail"]),
            duration=float(data.get("duration") or 0.0))
    except (KeyError, TypeError, ValueError):
        return None


class NotificationLog:
    """Append and read notification outcomes (thread-safe: the notifier writes from a worker)."""

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 redact: Callable[[str], str] = str) -> None:
        self.path = Path(path) if path else default_path()
        self._redact = redact
        self._lock = threading.Lock()

    def record(self, rec: NotificationRecord) -> None:
        """Append one line; flushed and fsync'ed before returning."""
        line = self._redact(json.dumps(to_record(rec), sort_keys=True, ensure_ascii=False)) + "\n"
        data = line.encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # Writers (threads, other stacktop processes) take turns, so the torn-line check
                # below never sees another writer's line half-written.
                fcntl.flock(fd, fcntl.LOCK_EX)
                # A torn line left by a crash must not swallow ours: start on a fresh line.
                if os.fstat(fd).st_size and not self._ends_with_newline():
                    data = b"\n" + data
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock

    def recent(self, limit: int = 200) -> tuple[NotificationRecord, ...]:
        """The newest `limit` records, newest first."""
        return tuple(self._matching(lambda r: True, limit))

    def for_alert(self, fingerprint: str, limit: int = 20) -> tuple[NotificationRecord, ...]:
        """The newest `limit` messages that named this alert, newest first (the detail pane)."""
        return tuple(self._matching(lambda r: fingerprint in r.fingerprints, limit))

    def _matching(self, keep: Callable[[NotificationRecord], bool],
                  limit: int) -> Iterator[NotificationRecord]:
        if limit <= 0:
            return
        found = 0
        for raw in self._lines_backwards():
            if not raw.strip():
                continue
            try:
                rec = from_record(json.loads(raw))
            except (ValueError, UnicodeDecodeError):
                continue  # a torn or foreign line
            if rec is None or not keep(rec):
                continue
            yield rec
            found += 1
            if found >= limit:
                return

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

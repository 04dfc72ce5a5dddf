"""The notification log: one JSON line per message to one channel, after its last attempt.

"Did the page go out?" must be answerable after a crash or a restart, and by another stacktop
reading the same file, so it is an append-only file like the audit and verification logs:
O_APPEND plus a flock keep concurrent writers' lines whole, fsync makes a line survive a
crash, the file is 0600 in a 0700 directory. Reading takes only the tail (bounded memory
whatever the file's size) and skips a torn last line or lines that are not ours. Records
carry no URL and no secret; `redact` is applied to every line as well.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from providers.alerts.model import NotificationRecord
from providers.jsonl import JsonLines

KIND = "stacktop.notification"
VERSION = 1


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
        self._file = JsonLines(self.path, KIND, redact)

    def record(self, rec: NotificationRecord) -> None:
        """Append one line; flushed and fsync'ed before returning."""
        self._file.append(to_record(rec))

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
        for data in self._file.backwards():
            rec = from_record(data)
            if rec is None or not keep(rec):
                continue
            yield rec
            found += 1
            if found >= limit:
                return

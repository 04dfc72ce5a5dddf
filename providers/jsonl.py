"""Append-only JSON-lines files that outlive the process: the verification log and
the notification log.

O_APPEND plus a flock keep concurrent writers' lines whole (threads, or another
stacktop on the same file), fsync makes a line survive a crash, the file is 0600
in a 0700 directory. Reading walks back from the end in blocks (bounded memory
whatever the file's size) and skips a torn last line and lines of another kind.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BLOCK = 64 * 1024
MAX_SCAN = 16 * 1024 * 1024
"""Bytes read back from the end at most: older records do not count as recent."""


class JsonLines:
    def __init__(self, path: Path, kind: str, redact: Callable[[str], str] = str) -> None:
        self.path = path
        self.kind = kind
        """Every record carries "kind": lines without ours are someone else's."""
        self._redact = redact
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        """Append one line; flushed and fsync'ed before returning."""
        line = self._redact(json.dumps({"kind": self.kind, **record}, sort_keys=True, ensure_ascii=False))
        data = (line + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # Writers take turns, so the check for a torn last line never sees another
                # writer's line half-written.
                fcntl.flock(fd, fcntl.LOCK_EX)
                # A torn line left by a crash must not swallow ours: start on a fresh line.
                if os.fstat(fd).st_size and not self._ends_with_newline():
                    data = b"\n" + data
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock

    def backwards(self) -> Iterator[dict[str, Any]]:
        """Our records, newest first; torn and foreign lines skipped."""
        for raw in self._lines_backwards():
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                continue  # a torn or foreign line
            if isinstance(data, dict) and data.get("kind") == self.kind:
                yield data

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

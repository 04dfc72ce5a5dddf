"""Cost Explorer answers kept on disk, so a restart does not pay for them again.

Cost Explorer charges 0.01 USD for every request page; the console, `stacktop
watch` and the report command may each start many times a day. Every answer is
kept in one JSON file with the wall-clock time it arrived, so the data's age stays
honest across restarts (the screen shows when Cost Explorer answered, not when
the process started).

The file is 0600 (it holds the organisation's spend per account), replaced
atomically (write a temporary file, fsync, rename) so a crash never leaves half a
file, and re-read when another process replaced it. A corrupt or unreadable file
is logged once and treated as empty: the worst case is one more paid request,
never a failing tab.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import threading
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1
MAX_AGE_KEPT = 400 * 86400.0
"""Entries older than this are dropped when the file is rewritten (past months beyond
Cost Explorer's 13-month history are never asked for again)."""
FUTURE_SLACK = 60.0
"""An entry stamped later than now by more than this (the clock went back) is stale."""


class CostCache:
    """A small key -> (time, JSON value) store in one file; "" or None keeps it in memory only."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = os.fspath(path) if path else ""
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Any]] = {}
        self._stamp: tuple[int, int, int] | None = None
        self._complained: set[str] = set()

    # ------------------------------------------------------------------ reading
    def get(self, key: str, max_age: float, now: float) -> Any | None:
        """The value stored under `key` if it is at most `max_age` seconds old (math.inf: any age)."""
        with self._lock:
            self._refresh()
            entry = self._entries.get(key)
        if entry is None:
            return None
        at, value = entry
        if at > now + FUTURE_SLACK or (not math.isinf(max_age) and now - at > max_age):
            return None
        return copy.deepcopy(value)

    def fetched_at(self, key: str) -> float | None:
        """When the value under `key` was stored (the source's answer time)."""
        with self._lock:
            self._refresh()
            entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def keys(self) -> list[str]:
        with self._lock:
            self._refresh()
            return sorted(self._entries)

    # ------------------------------------------------------------------ writing
    def put(self, key: str, value: Any, now: float, *, replaces: str | None = None) -> None:
        """Store `value` (JSON-able) as of `now`; with `replaces`, drop the other keys with that
        prefix (an older day's answer for the same month is superseded, not kept forever)."""
        normal = json.loads(json.dumps(value))
        with self._lock:
            self._refresh()
            if replaces:
                for old in [k for k in self._entries if k.startswith(replaces) and k != key]:
                    del self._entries[old]
            self._entries[key] = (float(now), normal)
            for old in [k for k, (at, _) in self._entries.items() if now - at > MAX_AGE_KEPT]:
                del self._entries[old]
            self._write()

    # ------------------------------------------------------------------ disk
    def _refresh(self) -> None:
        """Re-read the file when it changed since we last read or wrote it (another process)."""
        if not self.path:
            return
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):  # not written yet (the put says why if it cannot)
            return
        except OSError as exc:
            self._complain("stat", f"costs cache {self.path} unreadable ({exc.strerror}); using memory only")
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            entries = _entries_of(data)
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else f"not a cache file: {str(exc)[:80]}"
            self._complain(f"read:{stamp}", f"costs cache {self.path} ignored ({why}); Cost Explorer "
                                            "will be asked again and the file rewritten")
            return
        for key, (at, value) in entries.items():
            mine = self._entries.get(key)
            if mine is None or mine[0] <= at:
                self._entries[key] = (at, value)

    def _write(self) -> None:
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        payload = json.dumps({"version": VERSION,
                              "entries": {k: {"at": at, "value": v} for k, (at, v) in
                                          sorted(self._entries.items())}},
                             separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        except OSError as exc:
            self._complain(f"mkdir:{exc.errno}", f"costs cache {self.path} not written (cannot create "
                                                 f"{directory}: {exc.strerror}); answers are kept in memory "
                                                 "only")
            return
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)  # a leftover temporary file may have been wider
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            st = os.stat(self.path)
            self._stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            self._complain(f"write:{exc.errno}", f"costs cache {self.path} not written ({exc.strerror}); "
                                                 "answers are kept in memory only")

    def _complain(self, what: str, line: str) -> None:
        if what not in self._complained:
            self._complained.add(what)
            log.warning("%s", line)


def _entries_of(data: Any) -> dict[str, tuple[float, Any]]:
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("unknown layout")
    if not isinstance(data.get("entries"), dict):
        raise ValueError("unknown layout")
    out: dict[str, tuple[float, Any]] = {}
    for key, entry in data["entries"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), int | float):
            raise ValueError(f"bad entry {key!r}")
        if "value" not in entry:
            raise ValueError(f"bad entry {key!r}")
        out[str(key)] = (float(entry["at"]), entry["value"])
    return out

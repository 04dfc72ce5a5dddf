"""Appending to the audit trail so that an edit, a removal or a reordering shows.

Each record gets `seq` (1, 2, … across rotations and processes), `prev` (the hash of
the record before it, 64 zeros for the first) and `hash`: SHA-256, or HMAC-SHA256 under
audit.key_file, of the record's canonical JSON without `hash`. The record is redacted
before it is hashed, so what is stored is what verifies.

Durability: one os.write of the whole line to an O_APPEND file, then fsync. Several
stacktop processes may share the file: an flock on the sibling FILE.lock (never rotated,
so it keeps working across renames) is held across reading the last record, rotating,
appending and updating FILE.head, so they keep one chain. FILE.head holds the seq and hash
of the newest record (replaced atomically), which lets verify notice the newest records cut.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import hmac
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from providers.jsonl import JsonLines

ZERO_HASH = "0" * 64
"""The `prev` of the first record ever written."""
CHAIN_FIELDS = ("seq", "prev", "hash")


class AuditError(Exception):
    """One line naming the file and the fix; never a traceback."""


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes that are hashed: the record without `hash`, keys sorted, no spaces."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any], key: bytes | None = None) -> str:
    """Hex SHA-256 of the canonical record, or HMAC-SHA256 when the log is keyed."""
    data = canonical(record)
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def is_chained(record: object) -> bool:
    """A record written with the chain (older stacktop versions wrote none)."""
    return (isinstance(record, dict) and isinstance(record.get("seq"), int)
            and not isinstance(record.get("seq"), bool)
            and isinstance(record.get("prev"), str) and isinstance(record.get("hash"), str))


def head_path(path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(path)}.head")


def lock_path(path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(path)}.lock")


def rotated_numbers(path: str | os.PathLike[str]) -> list[int]:
    """The N of every FILE.N beside `path`, ascending (gaps allowed: none is ever deleted)."""
    live = Path(path)
    pattern = re.compile(re.escape(live.name) + r"\.([1-9][0-9]*)")
    try:
        names = os.listdir(live.parent)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for name in names if (m := pattern.fullmatch(name)))


def log_files(path: str | os.PathLike[str]) -> list[Path]:
    """Every file of the trail that exists, oldest first: FILE.N … FILE.1, FILE."""
    live = Path(path)
    files = [Path(f"{live}.{n}") for n in reversed(rotated_numbers(live))]
    if live.exists():
        files.append(live)
    return files


def last_record(path: Path, accept: Callable[[dict[str, Any]], bool] = is_chained) -> dict[str, Any] | None:
    """The newest whole record of one file that `accept`s, read from the end (torn tail skipped)."""
    for raw in _lines_backwards(path):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and accept(data):
            return data
    return None


def _lines_backwards(path: Path) -> Iterator[bytes]:
    # The verification and notification logs' block-wise tail reader: bounded memory.
    return JsonLines(path, "audit")._lines_backwards()


def read_head(path: str | os.PathLike[str]) -> tuple[int, str] | None:
    """(seq, hash) of the newest record as the writer last recorded it; None when absent or unreadable."""
    try:
        data = json.loads(head_path(path).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    seq, digest = data.get("seq"), data.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str):
        return None
    return seq, digest


def load_key(path: str | os.PathLike[str]) -> bytes:
    """The secret of audit.key_file; refused when empty or readable by anyone but its owner."""
    where = os.fspath(path)
    try:
        mode = os.stat(where).st_mode
        text = Path(where).read_bytes()
    except FileNotFoundError:
        raise AuditError(f"audit.key_file {where} does not exist: create it with a random secret, "
                         f"e.g. head -c 32 /dev/urandom | base64 > {where}; chmod 600 {where}") from None
    except OSError as exc:
        raise AuditError(f"audit.key_file {where} cannot be read: {exc.strerror} "
                         f"(run stacktop as its owner)") from None
    if stat.S_IMODE(mode) & 0o077:
        raise AuditError(f"audit.key_file {where} is readable by others: chmod 600 {where}")
    key = text.strip()
    if not key:
        raise AuditError(f"audit.key_file {where} is empty: put a random secret in it, "
                         f"e.g. head -c 32 /dev/urandom | base64 > {where}")
    return key


def redact_values(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` with every string in it (keys too) through `redact`: JSON-able stays JSON-able."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_values(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_values(v, redact) for v in value]
    return value


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AuditLog:
    """The hash-chained, fsync'ed, rotated append-only audit file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        redact: Callable[[str], str] = str,
        *,
        rotate_bytes: int = 10 * 1024 * 1024,
        key: bytes | None = None,
    ) -> None:
        self.path = Path(path)
        self.rotate_bytes = rotate_bytes
        self._redact = redact
        self._key = key
        self._lock = asyncio.Lock()

    async def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append off the event loop; one append at a time from this object."""
        async with self._lock:
            return await asyncio.to_thread(self.append_sync, record)

    def append_sync(self, record: dict[str, Any]) -> dict[str, Any]:
        """Redact, chain and append `record`; durable on disk before returning. Returns what was stored."""
        body = self._redacted(record)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock_fd = os.open(lock_path(self.path), os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._error(exc) from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            seq, prev = self._tip()
            self._rotate_if_full()
            stored = {**body, "seq": seq + 1, "prev": prev}
            stored["hash"] = record_hash(stored, self._key)
            line = json.dumps(stored, sort_keys=True, ensure_ascii=False) + "\n"
            self._write_line(line.encode())
            self._write_head(stored["seq"], stored["hash"])
        except OSError as exc:
            raise self._error(exc) from None
        finally:
            os.close(lock_fd)  # releases the flock
        return stored

    def ready(self) -> None:
        """Raise AuditError unless a record could be appended now: an action whose
        attempt cannot be recorded is not run."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(lock_path(self.path), os.O_WRONLY | os.O_CREAT, 0o600))
            os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        except OSError as exc:
            raise self._error(exc) from None

    def _redacted(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record as it will be stored: its JSON text through redact (names like
        "password": "…" are caught in context); value by value if that broke the JSON."""
        body = {k: v for k, v in record.items() if k not in CHAIN_FIELDS}
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
        try:
            clean = json.loads(self._redact(text))
        except ValueError:
            clean = None
        if isinstance(clean, dict):
            return clean
        return redact_values(json.loads(text), self._redact)

    def _tip(self) -> tuple[int, str]:
        """(seq, hash) to chain on: the newest whole record, or the head file when it is
        further on (the newest file was removed: the gap then shows in verify)."""
        newest: dict[str, Any] | None = None
        for path in reversed(log_files(self.path)):
            newest = last_record(path)
            if newest is not None:
                break
        head = read_head(self.path)
        if newest is not None and (head is None or newest["seq"] >= head[0]):
            return newest["seq"], newest["hash"]
        if head is not None:
            return head
        return 0, ZERO_HASH

    def _rotate_if_full(self) -> None:
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return
        if size < self.rotate_bytes:
            return
        for n in reversed(rotated_numbers(self.path)):
            older = Path(f"{self.path}.{n + 1}")
            if older.exists():  # never overwrite a rotated file
                raise FileExistsError(f"{older} exists; rename it out of the way")
            os.rename(f"{self.path}.{n}", older)
        os.rename(self.path, f"{self.path}.1")
        _fsync_dir(self.path.parent)

    def _write_line(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and not self._ends_with_newline(size):
                # A writer killed mid-line left a torn fragment: keep it a line of its own.
                data = b"\n" + data
            written = os.write(fd, data)
            while written < len(data):  # a short write (a full disk raises instead)
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)

    def _ends_with_newline(self, size: int) -> bool:
        with self.path.open("rb") as f:
            f.seek(size - 1)
            return f.read(1) == b"\n"

    def _write_head(self, seq: int, digest: str) -> None:
        head = head_path(self.path)
        tmp = Path(f"{head}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, (json.dumps({"seq": seq, "hash": digest}) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, head)
        _fsync_dir(self.path.parent)

    def _error(self, exc: OSError) -> AuditError:
        reason = exc.strerror or str(exc)
        return AuditError(f"cannot write the audit log {self.path}: {reason}; make "
                          f"{self.path.parent} writable by this user or set audit.file elsewhere")

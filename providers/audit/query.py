"""Reading the audit trail back: the records of a period, and one line each for people."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from providers.audit.log import AuditError, last_record, log_files


def record_time(record: dict[str, Any]) -> float | None:
    """Epoch seconds of a record ("time"; records older than the chain wrote "ts")."""
    text = record.get("time", record.get("ts"))
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def read_records(
    path: str | os.PathLike[str],
    *,
    since: float | None = None,
    user: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The records at or after `since` (epoch seconds) of `user`, oldest first over every
    rotated file; at most the newest `limit`. Torn and unreadable lines are skipped."""
    found: list[dict[str, Any]] = []
    files = log_files(path)
    for number, file in enumerate(files):
        try:
            if since is not None and number < len(files) - 1 and _ends_before(file, since):
                continue  # a rotated file wholly older than the period: not read at all
            with file.open("rb") as f:
                for raw in f:
                    record = _parse(raw)
                    if record is None or (user is not None and record.get("user") != user):
                        continue
                    if since is not None and (record_time(record) or 0.0) < since:
                        continue
                    found.append(record)
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {file}: {exc.strerror or exc} "
                             f"(run as the log's owner, e.g. with sudo)") from None
    if limit is not None:
        found = found[-limit:] if limit > 0 else []
    return found


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _ends_before(file: Path, since: float) -> bool:
    newest = last_record(file, lambda r: record_time(r) is not None)
    return newest is not None and (record_time(newest) or 0.0) < since


def format_text(record: dict[str, Any]) -> str:
    """One line: when, who(role)@host from where, result, action, target, duration — message."""
    when = record_time(record)
    stamp = (datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%SZ") if when is not None
             else "????-??-?? ??:??:??Z")
    who = f"{record.get('user') or '?'}({record.get('role') or '?'})"
    if record.get("host"):
        who += f"@{record['host']}"
    parts = [stamp, who]
    if record.get("ssh_client"):
        parts.append(f"from {record['ssh_client']}")
    parts += [str(record.get("result") or "?"), str(record.get("action") or "?")]
    target = record.get("target")
    if isinstance(target, dict):
        kind, name, ident = target.get("kind"), target.get("name"), target.get("id")
        shown = " ".join(str(p) for p in (kind, name or ident) if p)
        if ident and name and ident != name:
            shown += f" ({ident})"
        if shown:
            parts.append(shown)
    duration = record.get("duration_s")
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        parts.append(f"{duration:.1f}s" if duration >= 0.1 else f"{duration * 1000:.0f}ms")
    line = " ".join(parts)
    message = record.get("message")
    return f"{line} — {message}" if message else line

"""Proving the audit chain whole, or naming FILE:LINE where it was edited, cut or reordered.

What is checked, oldest file first (FILE.N … FILE.1, FILE):
- each record's hash against its content (an edit),
- each record's seq and prev against the record before it (a removal, a reordering,
  a rewrite), and the first record against seq 1 / 64 zeros (older files removed),
- the newest record against FILE.head (the newest records removed).

A torn line (a writer killed mid-record) is a note, not a failure: a record that was
never whole was never acknowledged, and the chain around it proves nothing is missing.
Without audit.key_file anybody who can write the files can recompute a whole chain; the
key (or shipping the lines elsewhere) is what makes a rewrite detectable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from providers.audit.log import (
    ZERO_HASH,
    AuditError,
    head_path,
    is_chained,
    log_files,
    record_hash,
)


@dataclass
class VerifyReport:
    """The outcome of `verify`: problems make it fail, notes do not."""

    path: str
    records: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Entry:
    where: str  # FILE:LINE
    line: int
    seq: int
    prev: str
    hash: str


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verify(path: str | os.PathLike[str], key: bytes | None = None) -> VerifyReport:
    """Check every record of the trail at `path`; raises AuditError when a file cannot be read."""
    report = VerifyReport(os.fspath(path))
    files = log_files(path)
    report.files = len(files)
    if not files:
        report.problems.append(f"no audit log at {report.path}")
        return report
    entries: list[_Entry] = []
    edited: list[str] = []
    legacy = 0
    for number, file in enumerate(files):
        last_file = number == len(files) - 1
        try:
            legacy += _read_file(file, last_file, key, entries, edited, report)
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {file}: {exc.strerror or exc} "
                             f"(run as the log's owner, e.g. with sudo)") from None
    report.records = len(entries)
    if legacy:
        report.notes.append(f"{report.path}: {_plural(legacy, 'record')} from before the chain "
                            f"(written by an older stacktop) cannot be verified")
    if edited and len(edited) == len(entries):
        fix = ("it is keyed with another secret than audit.key_file" if key
               else "it was written with audit.key_file set: verify with the same key")
        report.problems.append(f"{report.path}: no record's hash matches its content: {fix} "
                               f"(or every record was edited)")
    else:
        report.problems.extend(edited)
    _check_links(entries, report)
    _check_head(Path(path), entries, report)
    return report


def _read_file(file: Path, last_file: bool, key: bytes | None, entries: list[_Entry],
               edited: list[str], report: VerifyReport) -> int:
    """Collect the chained records of one file; returns how many pre-chain records it held."""
    legacy = 0
    with file.open("rb") as f:
        lines = f.read().split(b"\n")
    torn_tail = lines[-1] != b""  # no newline after the last line
    if not torn_tail:
        lines.pop()
    for number, raw in enumerate(lines, 1):
        where = f"{file}:{number}"
        if not raw.strip():
            continue
        try:
            record: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict):
            if last_file and torn_tail and number == len(lines):
                report.notes.append(f"{where}: torn last line (a writer stopped mid-record)")
            else:
                report.notes.append(f"{where}: torn line (a writer stopped mid-record); "
                                    f"the chain is checked across it")
            continue
        if not is_chained(record):
            if entries:
                report.problems.append(f"{where}: a record without seq/prev/hash inside the chain "
                                       f"(added by hand?)")
            else:
                legacy += 1
            continue
        if record_hash(record, key) != record["hash"]:
            edited.append(f"{where}: record {record['seq']} was edited: its hash does not "
                          f"match its content")
        entries.append(_Entry(where, number, record["seq"], record["prev"], record["hash"]))
    return legacy


def _check_links(entries: list[_Entry], report: VerifyReport) -> None:
    if not entries:
        return
    first = entries[0]
    if first.seq != 1:
        report.problems.append(
            f"{first.where}: the log starts at record {first.seq}, not 1: "
            f"{_plural(first.seq - 1, 'earlier record')} missing (a rotated file removed?)")
    elif first.prev != ZERO_HASH:
        report.problems.append(f"{first.where}: record 1 does not start the chain (its prev is "
                               f"not zeros): it was rewritten")
    present = {e.seq for e in entries}
    seen_at: dict[int, str] = {first.seq: first.where}
    for before, entry in pairwise(entries):
        if entry.seq == before.seq + 1:
            if entry.prev != before.hash:
                report.problems.append(
                    f"{entry.where}: record {entry.seq} does not link to record {before.seq} "
                    f"before it: one of them was rewritten")
        elif entry.seq > before.seq + 1:
            # Missing numbers that appear elsewhere are a reordering, reported where the
            # order goes backwards; numbers nowhere are removed records.
            missing = sum(1 for s in range(before.seq + 1, entry.seq) if s not in present)
            if missing:
                hint = " (a rotated file removed?)" if entry.line == 1 else ""
                report.problems.append(
                    f"{entry.where}: record {entry.seq} follows {before.seq}: "
                    f"{_plural(missing, 'record')} removed{hint}")
        elif entry.seq in seen_at:
            report.problems.append(f"{entry.where}: record {entry.seq} appears again "
                                   f"(first at {seen_at[entry.seq]}): a copied line")
        else:
            report.problems.append(f"{entry.where}: record {entry.seq} comes after record "
                                   f"{before.seq}: records reordered")
        seen_at.setdefault(entry.seq, entry.where)


def _check_head(path: Path, entries: list[_Entry], report: VerifyReport) -> None:
    head_file = head_path(path)
    try:
        data: Any = json.loads(head_file.read_text())
    except FileNotFoundError:
        if entries and entries[-1].seq > 1:
            report.problems.append(f"{head_file}: missing: whether the newest records were "
                                   f"removed cannot be told (every append rewrites it)")
        return
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"{head_file}: unreadable ({exc}): it was tampered with")
        return
    seq = data.get("seq") if isinstance(data, dict) else None
    digest = data.get("hash") if isinstance(data, dict) else None
    if not isinstance(seq, int) or not isinstance(digest, str):
        report.problems.append(f"{head_file}: not a head record: it was tampered with")
        return
    if not entries:
        report.problems.append(f"{head_file}: says the newest record is {seq} but the log has "
                               f"none: every record removed")
        return
    last = entries[-1]
    by_seq = {e.seq: e.hash for e in entries}
    if seq > last.seq:
        report.problems.append(
            f"{last.where}: the log ends at record {last.seq} but {head_file.name} says {seq}: "
            f"the {_plural(seq - last.seq, 'newest record')} removed")
    elif seq == last.seq:
        if digest != last.hash:
            report.problems.append(f"{last.where}: record {last.seq} is not the one written last "
                                   f"({head_file.name} holds another hash): it was replaced")
    elif seq == last.seq - 1 and by_seq.get(seq) == digest:
        report.notes.append(f"{head_file}: one record behind (a writer stopped between the "
                            f"record and the head); the next append brings it up to date")
    else:
        report.problems.append(
            f"{last.where}: the log ends at record {last.seq} but {head_file.name} says {seq}: "
            f"records after {seq} were not written by stacktop")

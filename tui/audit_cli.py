"""`stacktop audit verify` and `stacktop audit list`: the trail read headless.

Both read only (they never append, so they run fine as a user who may read the log but
not write it) and answer in one line per problem: never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.durations import parse_duration
from providers.audit.log import AuditError, load_key, log_files, redact_values
from providers.audit.query import format_text, read_records
from providers.audit.verify import verify

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def add_audit_parser(
    subparsers: Any, common: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.ArgumentParser:
    """`audit verify` and `audit list` under `subparsers`; `common` adds --config/--profile."""
    audit = subparsers.add_parser("audit", help="verify or list the audit trail (audit.file)",
                                  description="The audit trail of every action attempted.")
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "verify", help="check the hash chain: exit 1 naming each edited, removed or reordered record",
        description="Check every record's hash and its link to the one before, oldest rotated "
                    "file first. Exit 0 when the chain is whole, 1 naming FILE:LINE of each problem.")
    listing = commands.add_parser("list", help="print the records of a period, oldest first")
    listing.add_argument("--since", metavar="DURATION", default="24h",
                         help="how far back, e.g. 30m, 24h, 7d (default 24h)")
    listing.add_argument("--user", metavar="USER", help="only this user's records")
    listing.add_argument("--format", choices=("text", "json"), default="text",
                         help="text: one line per record; json: one JSON object per line")
    if common is not None:
        common(check)
        common(listing)
    return audit


def _key(settings: Any) -> bytes | None:
    return load_key(settings.audit.key_file) if settings.audit.key_file else None


def _missing(settings: Any) -> bool:
    if log_files(settings.audit.file):
        return False
    print(f"no audit log at {settings.audit.file} (audit.file)", file=sys.stderr)
    return True


def run_audit_verify(settings: Any, args: argparse.Namespace) -> int:
    """Exit 0 with one summary line when the chain is intact; 1 with each problem on stderr."""
    try:
        key = _key(settings)
    except AuditError as exc:
        print(settings.redact(str(exc)), file=sys.stderr)
        return EXIT_USAGE
    if _missing(settings):
        return EXIT_FAILURE
    try:
        report = verify(settings.audit.file, key)
    except AuditError as exc:
        print(settings.redact(str(exc)), file=sys.stderr)
        return EXIT_FAILURE
    counted = f"{_count(report.records, 'record')} in {_count(report.files, 'file')}"
    for note in report.notes:
        print(f"note: {note}")
    if report.ok:
        print(f"audit log {settings.audit.file}: {counted}, chain intact")
        return EXIT_OK
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(f"audit log {settings.audit.file}: {counted}, "
          f"{_count(len(report.problems), 'problem')}: the chain is broken", file=sys.stderr)
    return EXIT_FAILURE


def run_audit_list(settings: Any, args: argparse.Namespace) -> int:
    """The records of the last `--since` (of `--user`), oldest first, as text or JSON lines."""
    since_text = getattr(args, "since", None) or "24h"
    try:
        since = time.time() - parse_duration(since_text)
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if _missing(settings):
            return EXIT_FAILURE
        records = read_records(settings.audit.file, since=since, user=getattr(args, "user", None))
    except AuditError as exc:
        print(settings.redact(str(exc)), file=sys.stderr)
        return EXIT_FAILURE
    as_json = getattr(args, "format", "text") == "json"
    out = sys.stdout
    for record in records:
        if as_json:  # value by value: the line stays JSON whatever redact masks
            line = json.dumps(redact_values(record, settings.redact), sort_keys=True, ensure_ascii=False)
        else:
            line = settings.redact(format_text(record))
        out.write(line + "\n")
    if not as_json and not records:
        who = f" by {args.user}" if getattr(args, "user", None) else ""
        print(f"no audit records{who} in the last {since_text} ({Path(settings.audit.file).name})",
              file=sys.stderr)
    out.flush()
    return EXIT_OK


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"

"""A writer killed with SIGKILL mid-stream leaves only whole lines (but maybe the last) and
a chain that verifies up to the last whole record; the next writer carries it on."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from providers.audit.log import AuditLog, log_files
from providers.audit.verify import verify

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RECORDS = 300
RECORD_BYTES = 2600  # at least one record: ~2 KB of params, the gate's fields, the chain

WRITER = """
import sys
from providers.audit.log import AuditLog
log = AuditLog(sys.argv[1], rotate_bytes=256 * 1024)
blob = "p" * 2000
i = 0
while True:
    i += 1
    log.append_sync({"time": "2026-11-22T17:03:12.345+00:00", "user": "alice", "role": "admin",
                     "action": "backups.prune", "target": {"kind": "repo", "id": "r-1", "name": "main"},
                     "params": {"n": i, "blob": blob}, "result": "ok", "message": "pruned"})
"""


def _total_size(path: Path) -> int:
    total = 0
    for file in log_files(path):
        with contextlib.suppress(FileNotFoundError):  # renamed by a rotation since the listing
            total += file.stat().st_size
    return total


def test_a_killed_writer_leaves_whole_lines_and_a_verifiable_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while _total_size(path) < RECORDS * RECORD_BYTES:
            assert writer.poll() is None, "the writer exited by itself"
            assert time.monotonic() < deadline, "the writer did not write 300 records in 60 s"
            time.sleep(0.005)  # another process's file grows: no event to await, so poll its size
    finally:
        writer.kill()  # SIGKILL, mid-stream
        writer.wait()
    assert writer.returncode == -9

    files = log_files(path)
    assert len(files) > 1  # it rotated on the way
    whole: list[dict[str, object]] = []
    for number, file in enumerate(files):
        data = file.read_bytes()
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        if number < len(files) - 1:
            assert tail == b"", f"{file} ends mid-line"
        whole += [json.loads(line) for line in lines]  # every line before the last is whole JSON
    assert len(whole) >= RECORDS
    assert [r["seq"] for r in whole] == list(range(1, len(whole) + 1))

    report = verify(path)
    assert report.ok, report.problems
    assert report.records == len(whole)
    assert all("torn last line" in note or "one record behind" in note for note in report.notes)

    after = AuditLog(path, rotate_bytes=256 * 1024).append_sync(
        {"time": "2026-11-22T17:04:00.000+00:00", "user": "bob", "action": "aws.ec2.start", "result": "ok"})
    assert after["seq"] == len(whole) + 1 and after["prev"] == whole[-1]["hash"]
    report = verify(path)
    assert report.ok, report.problems
    assert report.records == len(whole) + 1

"""`verify` names FILE:LINE of an edit, a removal (middle, newest, a whole rotated file),
a reordering and a copied line; a torn last line is only a note."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from providers.audit.log import AuditLog
from providers.audit.verify import verify


def write(path: Path, count: int, *, rotate_bytes: int = 10 * 1024 * 1024, key: bytes | None = None) -> None:
    log = AuditLog(path, rotate_bytes=rotate_bytes, key=key)
    for i in range(1, count + 1):
        log.append_sync({"time": f"2026-11-22T17:{i:02d}:00.000+00:00", "user": "alice", "role": "admin",
                         "action": "aws.ec2.stop", "target": {"kind": "instance", "id": f"i-{i}",
                                                              "name": f"web-{i}"},
                         "params": {}, "result": "ok", "message": f"stopped web-{i}"})


def edit_lines(path: Path, change: Any) -> None:
    """Rewrite the file's lines through `change(list of lines) -> list of lines`."""
    path.write_text("".join(change(path.read_text().splitlines(keepends=True))))


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    write(path, 5)
    return path


def test_an_intact_chain_is_ok(log: Path) -> None:
    report = verify(log)
    assert report.ok
    assert (report.records, report.files, report.problems, report.notes) == (5, 1, [], [])


def test_an_edited_record_is_named_by_file_and_line(log: Path) -> None:
    def edit(lines: list[str]) -> list[str]:
        record = json.loads(lines[2])
        record["result"] = "refused"  # someone hides that the stop ran
        return [*lines[:2], json.dumps(record, sort_keys=True) + "\n", *lines[3:]]

    edit_lines(log, edit)
    report = verify(log)
    assert not report.ok
    assert report.problems == [f"{log}:3: record 3 was edited: its hash does not match its content"]


def test_an_edit_with_a_recomputed_hash_breaks_the_link_to_the_next_record(log: Path) -> None:
    def forge(lines: list[str]) -> list[str]:
        record = json.loads(lines[2])
        record["user"] = "mallory"
        body = {k: v for k, v in record.items() if k != "hash"}
        record["hash"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                                   ensure_ascii=False).encode()).hexdigest()
        return [*lines[:2], json.dumps(record, sort_keys=True) + "\n", *lines[3:]]

    edit_lines(log, forge)
    assert verify(log).problems == [
        f"{log}:4: record 4 does not link to record 3 before it: one of them was rewritten"]


def test_a_deleted_middle_line_is_a_gap(log: Path) -> None:
    edit_lines(log, lambda lines: lines[:2] + lines[3:])
    report = verify(log)
    assert report.problems == [f"{log}:3: record 4 follows 2: 1 record removed"]
    assert report.records == 4


def test_a_deleted_last_line_is_caught_by_the_head_file(log: Path) -> None:
    edit_lines(log, lambda lines: lines[:-2])
    assert verify(log).problems == [
        f"{log}:3: the log ends at record 3 but audit.jsonl.head says 5: the 2 newest records removed"]


def test_a_deleted_head_file_is_a_problem_too(log: Path) -> None:
    log.with_name("audit.jsonl.head").unlink()
    edit_lines(log, lambda lines: lines[:-1])
    [problem] = verify(log).problems
    assert problem.startswith(f"{log}.head: missing")


def test_two_swapped_lines_are_a_reordering(log: Path) -> None:
    edit_lines(log, lambda lines: [lines[0], lines[2], lines[1], *lines[3:]])
    assert verify(log).problems == [f"{log}:3: record 2 comes after record 3: records reordered"]


def test_a_copied_line_is_named(log: Path) -> None:
    edit_lines(log, lambda lines: [*lines[:3], lines[2], *lines[3:]])
    assert verify(log).problems == [f"{log}:4: record 3 appears again (first at {log}:3): a copied line"]


def test_a_deleted_rotated_file_is_a_gap_at_the_next_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 30, rotate_bytes=1024)
    rotated = sorted(int(p.suffix[1:]) for p in tmp_path.glob("audit.jsonl.[0-9]*"))
    assert len(rotated) >= 3 and verify(path).ok
    middle = tmp_path / "audit.jsonl.2"
    removed = len(middle.read_text().splitlines())
    newer_first = json.loads((tmp_path / "audit.jsonl.1").read_text().splitlines()[0])["seq"]
    middle.unlink()
    assert verify(path).problems == [
        f"{tmp_path / 'audit.jsonl.1'}:1: record {newer_first} follows {newer_first - removed - 1}: "
        f"{removed} records removed (a rotated file removed?)"]


def test_a_deleted_oldest_file_shows_as_a_late_start(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 30, rotate_bytes=1024)
    oldest = max(tmp_path.glob("audit.jsonl.[0-9]*"), key=lambda p: int(p.suffix[1:]))
    removed = len(oldest.read_text().splitlines())
    oldest.unlink()
    [problem] = verify(path).problems
    assert problem.endswith(f":1: the log starts at record {removed + 1}, not 1: "
                            f"{removed} earlier records missing (a rotated file removed?)")


def test_a_torn_last_line_is_only_a_note(log: Path) -> None:
    with log.open("ab") as f:
        f.write(b'{"action": "aws.ec2.stop", "params": {"x": "abc')
    report = verify(log)
    assert report.ok and report.records == 5
    assert report.notes == [f"{log}:6: torn last line (a writer stopped mid-record)"]


def test_garbage_in_place_of_a_record_is_a_removal(log: Path) -> None:
    edit_lines(log, lambda lines: [*lines[:2], '{"action": "aws.ec2.st\n', *lines[3:]])
    report = verify(log)
    assert report.problems == [f"{log}:4: record 4 follows 2: 1 record removed"]


def test_a_keyed_log_needs_its_key(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 3, key=b"k-one")
    assert verify(path, b"k-one").ok
    [problem] = verify(path).problems
    assert problem.startswith(f"{path}: no record's hash matches its content: it was written with "
                              f"audit.key_file set")
    [problem] = verify(path, b"k-two").problems
    assert "keyed with another secret" in problem


def test_records_from_before_the_chain_are_a_note(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"ts": "2026-01-01T00:00:00+00:00", "action": "host.kill", "result": "ok"}\n')
    write(path, 2)
    report = verify(path)
    assert report.ok and report.records == 2
    assert report.notes == [f"{path}: 1 record from before the chain (written by an older stacktop) "
                            f"cannot be verified"]


def test_no_log_at_all_is_not_ok(tmp_path: Path) -> None:
    report = verify(tmp_path / "audit.jsonl")
    assert not report.ok and report.problems == [f"no audit log at {tmp_path / 'audit.jsonl'}"]

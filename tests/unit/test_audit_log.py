"""The audit writer: chain fields, keyed hashes, redaction before hashing, rotation that
keeps every record and the chain, and one chain when several processes share the file."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from config.redaction import redact
from providers.actions import AuditLog as ReExported
from providers.audit.log import ZERO_HASH, AuditError, AuditLog, load_key
from providers.audit.query import read_records
from providers.audit.verify import verify


def record(i: int, **extra: Any) -> dict[str, Any]:
    return {"time": "2026-11-22T17:03:12.345+00:00", "user": "alice", "role": "operator",
            "host": "bastion", "ssh_client": "10.0.0.5", "profile": "prod", "action": "aws.ec2.stop",
            "risk": "disruptive", "target": {"kind": "instance", "id": f"i-{i:04d}", "name": f"web-{i}"},
            "params": {}, "result": "ok", "message": f"stopped web-{i}", "duration_s": 1.2, **extra}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def canonical_sha256(stored: dict[str, Any], key: bytes | None = None) -> str:
    body = json.dumps({k: v for k, v in stored.items() if k != "hash"}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest() if key else hashlib.sha256(body).hexdigest()


def test_the_gate_still_imports_the_log_from_actions() -> None:
    assert ReExported is AuditLog


def test_each_record_carries_seq_prev_and_the_hash_of_its_content(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    returned = [log.append_sync(record(i)) for i in range(3)]
    stored = lines(path)
    assert stored == returned
    assert [r["seq"] for r in stored] == [1, 2, 3]
    assert stored[0]["prev"] == ZERO_HASH
    assert [r["prev"] for r in stored[1:]] == [r["hash"] for r in stored[:-1]]
    assert all(r["hash"] == canonical_sha256(r) for r in stored)
    # What the gate wrote is all there, beside the chain.
    assert stored[2]["target"] == {"kind": "instance", "id": "i-0002", "name": "web-2"}
    assert json.loads(path.with_name("audit.jsonl.head").read_text()) == {
        "seq": 3, "hash": stored[2]["hash"]}


async def test_async_append_runs_off_the_loop_and_keeps_order(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(4):
        await log.append(record(i))
    assert [r["target"]["name"] for r in lines(log.path)] == ["web-0", "web-1", "web-2", "web-3"]
    assert verify(log.path).ok


def test_a_keyed_log_hashes_with_hmac_and_a_plain_one_does_not_verify_under_it(tmp_path: Path) -> None:
    keyed, plain = tmp_path / "keyed.jsonl", tmp_path / "plain.jsonl"
    AuditLog(keyed, key=b"s3cret-key").append_sync(record(1))
    AuditLog(plain).append_sync(record(1))
    [k], [p] = lines(keyed), lines(plain)
    assert k["hash"] == canonical_sha256(k, b"s3cret-key") != canonical_sha256(k)
    assert p["hash"] == canonical_sha256(p)
    assert verify(keyed, b"s3cret-key").ok and not verify(keyed).ok
    assert verify(plain).ok and not verify(plain, b"s3cret-key").ok


def test_the_record_is_redacted_before_it_is_hashed_so_what_is_stored_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, lambda text: redact(text, {"plum-tree-4471"}))
    log.append_sync(record(1, message="login failed for plum-tree-4471",
                           params={"password": "hunter2-x", "dsn": "postgres://app:pw-77@db:5432/x"}))
    raw = path.read_text()
    for secret in ("plum-tree-4471", "hunter2-x", "pw-77"):
        assert secret not in raw
    [stored] = lines(path)
    assert stored["message"] == "login failed for ***"
    assert stored["params"] == {"password": "***", "dsn": "postgres://app:***@db:5432/x"}
    assert stored["hash"] == canonical_sha256(stored)
    assert verify(path).ok


def test_a_redaction_that_breaks_the_json_text_masks_value_by_value(tmp_path: Path) -> None:
    # A crude redact that masks to the end of the text would cut the JSON line short.
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, lambda text: re.sub(r"hunter2.*", "***", text))
    log.append_sync(record(1, message="login with hunter2 refused"))
    [stored] = lines(path)
    assert "hunter2" not in path.read_text()
    assert stored["message"] == "login with ***"
    assert stored["result"] == "ok" and verify(path).ok


def test_rotation_keeps_every_record_and_one_chain_across_files(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, rotate_bytes=2048)
    for i in range(40):
        log.append_sync(record(i))
    rotated = sorted(p.name for p in tmp_path.glob("audit.jsonl.[0-9]*"))
    assert len(rotated) >= 4
    # FILE.1 is the newest rotated file, FILE.N the oldest; each was full when renamed.
    oldest_first = [tmp_path / f"audit.jsonl.{n}" for n in range(len(rotated), 0, -1)] + [path]
    assert all(f.stat().st_size >= 2048 for f in oldest_first[:-1])
    chain = [r for f in oldest_first for r in lines(f)]
    assert [r["seq"] for r in chain] == list(range(1, 41))
    assert [r["target"]["name"] for r in chain] == [f"web-{i}" for i in range(40)]
    assert [r["prev"] for r in chain[1:]] == [r["hash"] for r in chain[:-1]]
    assert [r["seq"] for r in read_records(path)] == list(range(1, 41))
    report = verify(path)
    assert report.ok and report.records == 40 and report.files == len(rotated) + 1
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in oldest_first)


def test_the_chain_continues_in_a_new_process_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path, rotate_bytes=100).append_sync(record(1))
    AuditLog(path, rotate_bytes=100).append_sync(record(2))  # rotates: the live file is full
    assert [r["seq"] for r in lines(path)] == [2]
    assert lines(path)[0]["prev"] == lines(tmp_path / "audit.jsonl.1")[0]["hash"]
    assert verify(path).ok


def _writer(path: str, name: str, count: int, barrier: Any) -> None:
    log = AuditLog(path, rotate_bytes=8192)
    barrier.wait()  # both processes start appending together
    for i in range(count):
        log.append_sync(record(i, user=name))


def test_two_processes_sharing_one_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(path), name, 60, barrier)) for name in ("alice", "bob")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    records = read_records(path)
    assert [r["seq"] for r in records] == list(range(1, 121))
    assert [r["prev"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    for name in ("alice", "bob"):
        assert [r["target"]["name"] for r in records if r["user"] == name] == [f"web-{i}" for i in range(60)]
    report = verify(path)
    assert report.ok and report.records == 120 and report.notes == []


def test_a_torn_tail_stays_its_own_line_and_the_chain_goes_on_from_the_last_whole_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    first = log.append_sync(record(1))
    with path.open("ab") as f:
        f.write(b'{"action": "aws.ec2.sto')  # a writer killed mid-line
    second = AuditLog(path).append_sync(record(2))
    assert path.read_text().splitlines()[1] == '{"action": "aws.ec2.sto'
    assert second["seq"] == 2 and second["prev"] == first["hash"]
    assert read_records(path) == [first, second]
    report = verify(path)
    assert report.ok and report.records == 2
    assert report.notes == [
        f"{path}:2: torn line (a writer stopped mid-record); the chain is checked across it"]


def test_the_log_and_its_directory_are_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "stacktop" / "audit.jsonl"
    AuditLog(path).append_sync(record(1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.with_name("audit.jsonl.head").stat().st_mode) == 0o600


def test_an_unwritable_location_is_one_line_naming_the_file_and_the_setting(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    path = tmp_path / "not-a-dir" / "audit.jsonl"
    with pytest.raises(AuditError) as caught:
        AuditLog(path).append_sync(record(1))
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and "audit.file" in message


def test_the_key_file_is_read_stripped_and_must_be_private_and_not_empty(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    key.write_text("  c2VjcmV0LWtleQ==\n")
    key.chmod(0o600)
    assert load_key(key) == b"c2VjcmV0LWtleQ=="
    key.chmod(0o640)
    with pytest.raises(AuditError, match=f"audit.key_file {key} is readable by others: chmod 600 {key}"):
        load_key(key)
    key.write_text("\n \n")
    key.chmod(0o600)
    with pytest.raises(AuditError, match="is empty"):
        load_key(key)
    with pytest.raises(AuditError, match="does not exist"):
        load_key(tmp_path / "missing.key")


def test_the_writer_never_chains_on_a_removed_tail(tmp_path: Path) -> None:
    # Someone cut the newest record: the next one still continues from the head file's
    # seq, so the cut shows as a gap instead of disappearing into a fresh chain.
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(3):
        log.append_sync(record(i))
    kept = path.read_text().splitlines(keepends=True)[:2]
    path.write_text("".join(kept))
    log.append_sync(record(3))
    assert [r["seq"] for r in lines(path)] == [1, 2, 4]
    report = verify(path)
    assert report.problems == [f"{path}:3: record 4 follows 2: 1 record removed"]


"""The verification log: what the Backups tab shows as "last restore test" survives restarts,
torn lines and other tools' lines, and never reads the whole file."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from providers import jsonl
from providers.backups import verifications
from providers.backups.model import Check, Verification
from providers.backups.verifications import VerificationLog


def _v(target: str, at: float, ok: bool = True, backup_id: str = "b", **kw: object) -> Verification:
    return Verification(target=target, at=at, ok=ok, duration=1.25, backup_id=backup_id, method="pg_dump",
                        message="restored" if ok else "check 'rows' failed: 3 (expected >= 10)", **kw)


def test_recorded_results_come_back_newest_first_per_target(tmp_path: Path) -> None:
    log = VerificationLog(tmp_path / "state" / "v.jsonl")
    checks = (Check("rows", "3", False, ">= 10"), Check("user tables", "2", True, ">= 1"))
    log.record(_v("orders", 100.0, backup_id="orders-1.dump"))
    log.record(_v("users", 150.0))
    log.record(_v("orders", 200.0, ok=False, backup_id="orders-2.dump", checks=checks))

    again = VerificationLog(tmp_path / "state" / "v.jsonl")  # a new process reads what the old one wrote
    got = again.recent("orders")
    assert [v.backup_id for v in got] == ["orders-2.dump", "orders-1.dump"]
    assert got[0] == _v("orders", 200.0, ok=False, backup_id="orders-2.dump", checks=checks)
    assert [v.target for v in again.recent("users")] == ["users"]
    assert again.recent("nobody") == ()
    assert oct((tmp_path / "state" / "v.jsonl").stat().st_mode & 0o777) == "0o600"


def test_limit_keeps_the_newest(tmp_path: Path) -> None:
    log = VerificationLog(tmp_path / "v.jsonl")
    for i in range(25):
        log.record(_v("t", float(i), backup_id=f"b{i}"))
    assert [v.backup_id for v in log.recent("t", limit=3)] == ["b24", "b23", "b22"]
    assert len(log.recent("t")) == 10


def test_a_missing_file_is_no_history(tmp_path: Path) -> None:
    assert VerificationLog(tmp_path / "none.jsonl").recent("t") == ()


def test_torn_last_line_and_foreign_lines_are_skipped_and_the_next_record_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    log = VerificationLog(path)
    log.record(_v("t", 1.0, backup_id="first"))
    with path.open("a") as f:
        f.write("not json at all\n")
        f.write(json.dumps({"kind": "something.else", "target": "t"}) + "\n")
        f.write(json.dumps([1, 2, 3]) + "\n")
        f.write(json.dumps({"kind": verifications.KIND, "target": "t"}) + "\n")  # ours but incomplete
        f.write('{"kind": "stacktop.verification", "target": "t", "at": 5')  # a crash mid-write
    assert [v.backup_id for v in log.recent("t")] == ["first"]

    log.record(_v("t", 9.0, backup_id="after-crash"))
    assert [v.backup_id for v in log.recent("t")] == ["after-crash", "first"]
    assert path.read_text().endswith("\n")


def test_reading_takes_only_the_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v.jsonl"
    log = VerificationLog(path)
    log.record(_v("t", 1.0, backup_id="ancient"))
    with path.open("a") as f:
        f.write(("x" * 999 + "\n") * 300)  # 300 KB of other lines
    log.record(_v("t", 2.0, backup_id="recent"))
    monkeypatch.setattr(jsonl, "MAX_SCAN", 100 * 1024)
    monkeypatch.setattr(jsonl, "BLOCK", 4096)
    assert [v.backup_id for v in log.recent("t")] == ["recent"]
    monkeypatch.setattr(jsonl, "MAX_SCAN", 10 * 1024 * 1024)
    assert [v.backup_id for v in log.recent("t")] == ["recent", "ancient"]


def test_lines_longer_than_a_block_are_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "BLOCK", 64)
    log = VerificationLog(tmp_path / "v.jsonl")
    checks = tuple(Check(f"check {i}", str(i), True, ">= 0") for i in range(20))
    log.record(_v("t", 1.0, backup_id="one", checks=checks))
    log.record(_v("t", 2.0, backup_id="two"))
    got = log.recent("t")
    assert [v.backup_id for v in got] == ["two", "one"]
    assert got[1].checks == checks


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    logs = [VerificationLog(path) for _ in range(4)]  # separate objects: only O_APPEND keeps lines whole

    def write(log: VerificationLog, n: int) -> None:
        for i in range(25):
            log.record(_v(f"t{n}", float(i), checks=(Check("c", "x" * 500, True),)))

    threads = [threading.Thread(target=write, args=(log, n)) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 100
    assert all(verifications.from_record(json.loads(line)) is not None for line in lines)


def test_redact_applies_to_what_is_written(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    log = VerificationLog(path, redact=lambda s: s.replace("hunter2", "***"))
    log.record(Verification("t", 1.0, False, 0.1, "b", "pg_dump", "restore failed: password hunter2 bad"))
    assert "hunter2" not in path.read_text()
    assert log.recent("t")[0].message == "restore failed: password *** bad"


def test_default_path_is_in_the_state_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert VerificationLog("").path == tmp_path / "stacktop" / "verifications.jsonl"
    assert os.fspath(VerificationLog(None).path).endswith("verifications.jsonl")

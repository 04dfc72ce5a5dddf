"""CostCache: the disk cache that keeps Cost Explorer's paid answers across restarts."""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import threading
from pathlib import Path

import pytest

from providers.costs import cache as cache_module
from providers.costs.cache import CostCache

T0 = 1_790_000_000.0


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_value_is_returned_until_it_is_older_than_max_age(tmp_path: Path) -> None:
    cache = CostCache(tmp_path / "costs.json")
    cache.put("spend:a", {"x": [1, 2]}, T0)
    assert cache.get("spend:a", 3600, T0 + 3600) == {"x": [1, 2]}
    assert cache.get("spend:a", 3600, T0 + 3600.5) is None
    assert cache.get("spend:a", math.inf, T0 + 10 * 365 * 86400) == {"x": [1, 2]}
    assert cache.get("spend:b", math.inf, T0) is None
    assert cache.fetched_at("spend:a") == T0
    assert cache.fetched_at("spend:b") is None


def test_values_survive_a_restart_with_their_original_time(tmp_path: Path) -> None:
    CostCache(tmp_path / "costs.json").put("k", {"amount": 12.5}, T0)
    again = CostCache(tmp_path / "costs.json")
    assert again.get("k", 3600, T0 + 60) == {"amount": 12.5}
    assert again.fetched_at("k") == T0


def test_the_file_is_0600_whatever_the_umask_and_an_older_wider_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "costs.json"
    path.write_text(json.dumps({"version": 1, "entries": {}}))
    path.chmod(0o644)
    old = os.umask(0)
    try:
        CostCache(path).put("k", 1, T0)
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert json.loads(path.read_text())["entries"]["k"] == {"at": T0, "value": 1}


def test_a_missing_directory_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "stacktop" / "costs.json"
    CostCache(path).put("k", 1, T0)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_a_failed_write_leaves_the_previous_file_whole_and_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "costs.json"
    cache = CostCache(path)
    cache.put("k", "first", T0)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "fsync", broken_fsync)
    with caplog.at_level(logging.WARNING, logger="providers.costs.cache"):
        cache.put("k", "second", T0 + 1)
        cache.put("k", "third", T0 + 2)
    assert path.read_bytes() == before  # written to a temporary file, renamed only when complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.json"]
    assert cache.get("k", math.inf, T0 + 3) == "third"  # kept in memory
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [f"costs cache {path} not written (No space left on device); answers are kept in "
                     "memory only"]


def test_a_corrupt_file_is_ignored_with_one_log_line_and_rewritten(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "costs.json"
    path.write_text('{"version": 1, "entries": {"k": {"at": 17')
    cache = CostCache(path)
    with caplog.at_level(logging.WARNING, logger="providers.costs.cache"):
        assert cache.get("k", math.inf, T0) is None
        assert cache.get("k", math.inf, T0) is None
        assert cache.fetched_at("k") is None
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert line.startswith(f"costs cache {path} ignored (not a cache file: ") and "\n" not in line
    cache.put("k", 2, T0)
    assert json.loads(path.read_text())["entries"]["k"]["value"] == 2


@pytest.mark.parametrize("content", ['[1, 2]', '{"version": 9, "entries": {}}',
                                     '{"version": 1, "entries": []}',
                                     '{"version": 1, "entries": {"k": {"at": "yesterday", "value": 1}}}',
                                     '{"version": 1, "entries": {"k": {"at": 1.0}}}', '\x00\x01'])
def test_files_of_another_layout_are_treated_as_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "costs.json"
    path.write_text(content)
    assert CostCache(path).get("k", math.inf, T0) is None


def test_an_unwritable_location_keeps_values_in_memory(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "file").write_text("not a directory")
    cache = CostCache(tmp_path / "file" / "costs.json")
    with caplog.at_level(logging.WARNING, logger="providers.costs.cache"):
        cache.put("k", 1, T0)
    assert cache.get("k", 60, T0) == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"costs cache {tmp_path}/file/costs.json not written (cannot create {tmp_path}/file: File exists); "
        "answers are kept in memory only"]


def test_no_path_keeps_everything_in_memory() -> None:
    cache = CostCache("")
    cache.put("k", [1], T0)
    assert cache.get("k", 1, T0) == [1]


def test_replaces_drops_superseded_keys_with_the_prefix(tmp_path: Path) -> None:
    cache = CostCache(tmp_path / "costs.json")
    cache.put("spend:UnblendedCost:2026-11:2026-10-01:2026-11-14", 1, T0)
    cache.put("spend:UnblendedCost:2026-10:2026-09-01:2026-11-01", 2, T0)
    cache.put("spend:UnblendedCost:2026-11:2026-10-01:2026-11-15", 3, T0 + 86400,
              replaces="spend:UnblendedCost:2026-11:")
    assert CostCache(tmp_path / "costs.json").keys() == ["spend:UnblendedCost:2026-10:2026-09-01:2026-11-01",
                                                         "spend:UnblendedCost:2026-11:2026-10-01:2026-11-15"]


def test_entries_older_than_400_days_are_dropped_on_write(tmp_path: Path) -> None:
    cache = CostCache(tmp_path / "costs.json")
    cache.put("old", 1, T0)
    cache.put("new", 2, T0 + 401 * 86400)
    assert cache.keys() == ["new"]


def test_an_entry_from_the_future_is_stale(tmp_path: Path) -> None:
    cache = CostCache(tmp_path / "costs.json")
    cache.put("k", 1, T0 + 3600)  # written before the clock was set back an hour
    assert cache.get("k", math.inf, T0) is None
    assert cache.get("k", math.inf, T0 + 3600 - 30) == 1


def test_another_process_writing_the_file_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "costs.json"
    mine, theirs = CostCache(path), CostCache(path)
    mine.put("a", 1, T0)
    assert theirs.get("a", math.inf, T0) == 1
    theirs.put("b", 2, T0 + 1)
    assert mine.get("b", math.inf, T0 + 1) == 2
    mine.put("a", 3, T0 + 2)  # a rewrite keeps what the other wrote
    assert CostCache(path).keys() == ["a", "b"]


def test_returned_values_are_copies(tmp_path: Path) -> None:
    cache = CostCache(tmp_path / "costs.json")
    value = {"days": {"2026-11-01": [1.0]}}
    cache.put("k", value, T0)
    value["days"]["2026-11-01"].append(2.0)
    got = cache.get("k", math.inf, T0)
    assert got == {"days": {"2026-11-01": [1.0]}}
    got["days"].clear()
    assert cache.get("k", math.inf, T0) == {"days": {"2026-11-01": [1.0]}}


def test_concurrent_puts_from_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "costs.json"
    cache = CostCache(path)
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(20):
            cache.put(f"k{n}-{i}", i, T0)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(json.loads(path.read_text())["entries"]) == 160
    assert sorted(p.name for p in tmp_path.iterdir()) == ["costs.json"]

"""One stacktop per state file sends notifications: the lease is an exclusive lock
that dies with its holder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from providers.alerts.lease import NotifyLease


def test_a_second_holder_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    first, second = NotifyLease(str(tmp_path / "a.lock")), NotifyLease(str(tmp_path / "a.lock"))
    assert first.try_acquire() and first.held
    assert not second.try_acquire() and not second.held
    assert second.holder() == f"pid {os.getpid()}"
    first.release()
    assert second.try_acquire()
    second.release()


def test_the_lease_dies_with_its_process(tmp_path: Path) -> None:
    lock = tmp_path / "state" / "alerts.db.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from providers.alerts.lease import NotifyLease; "
         f"l = NotifyLease({str(lock)!r}); assert l.try_acquire(); print('held', flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = NotifyLease(str(lock))
        assert not mine.try_acquire()
        assert mine.holder() == f"pid {holder.pid}"
    finally:
        holder.kill()
        holder.wait()
    assert mine.try_acquire(), "a killed holder's lock must not outlive it"
    mine.release()

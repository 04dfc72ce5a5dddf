"""Which stacktop on this machine sends notifications and keeps the alert history.

The console and `stacktop agent` may run side by side on one bastion with the
same state file. Both evaluate the rules (the console must show them), but only
the holder of an exclusive lock on `<state file>.lock` writes alert state and
sends notifications: nobody gets every message twice. The lock dies with its
process, so when the agent stops, a running console takes over on its next
evaluation.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class NotifyLease:
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process holds it now."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds it, for the screen: "pid 4242", or "" when unknown."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.path.read_text().split()[0])
            return f"pid {pid}"
        return ""

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

"""Drive the real `stacktop` in a private tmux server, the way a person sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest


def require_tmux() -> str:
    """tmux's path; skip on a developer box without it, fail under CI=true."""
    path = shutil.which("tmux")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("tmux is not installed: .ci/run must apt-get install tmux")
    pytest.skip("tmux not installed")


class Tmux:
    """One private tmux server (-L) per test; killed at the end, never another one."""

    def __init__(self, width: int, height: int) -> None:
        self.binary = require_tmux()
        self.socket = f"stacktop-test-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height

    def _run(self, *args: str) -> str:
        return subprocess.run([self.binary, "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=10).stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        # pytest's process carries COLUMNS=80/LINES=24 (set by a plugin); the tmux server
        # inherits them, and they would override the pane's real size.
        self._run("new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height),
                  f"env -u COLUMNS -u LINES {exports} TERM=tmux-256color {command}; "
                  "echo EXIT=$?; sleep 30")

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-J", "-t", "t")

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", "t", *keys)

    def wait_for(self, *needles: str, timeout: float = 20.0) -> str:
        """Re-read the screen until every needle is on it (tmux offers no event for this)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if all(n in text for n in needles):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never showed {needles}:\n{text}")
            time.sleep(0.05)

    def kill(self) -> None:
        self._run("kill-server")

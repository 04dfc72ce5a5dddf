"""Shared fixtures. Tests that need a server start it themselves; under CI=true
nothing may skip for a missing server or package."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the developer's ~/.config or ~/.local/state."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.delenv("STACKTOP_CONFIG", raising=False)


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real process with a name no other process has (stk-sleeper): to find,
    filter and terminate without touching anything the test did not start."""
    binary = tmp_path / "stk-sleeper"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "600"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()

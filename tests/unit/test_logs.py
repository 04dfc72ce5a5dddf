"""Logs are JSON lines in a file, secrets redacted, nothing on the terminal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tui.logs import LogSetupError, setup_logging


@pytest.fixture(autouse=True)
def _restore_root_logger():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level, last_resort = list(root.handlers), root.level, logging.lastResort
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    logging.lastResort = last_resort


def test_json_lines_redacted_and_silent_on_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state" / "stacktop.log"
    setup_logging(str(path), "info", lambda s: s.replace("hunter2", "***"))
    log = logging.getLogger("providers.test")
    log.warning("login with password hunter2 failed")
    log.debug("not at info level")
    try:
        raise ValueError("token hunter2 rejected")
    except ValueError:
        log.exception("poll failed")
    logging.getLogger("stray").error("a warning that would hit stderr without handlers")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["msg"] for e in entries][:2] == ["login with password *** failed", "poll failed"]
    assert "hunter2" not in path.read_text()
    assert entries[1]["level"] == "error" and "ValueError" in entries[1]["exc"]
    assert (path.stat().st_mode & 0o777) == 0o600


def test_unwritable_log_file_is_one_line_with_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LogSetupError, match=r"cannot write log file .* — set log.file or pass --log-file"):
        setup_logging(str(blocker / "sub" / "x.log"), "info", str)

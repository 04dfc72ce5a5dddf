"""`stacktop check` on a bastion: who you are, which role and why; a config whose inline
secret others can read is called out with the fix."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def check(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.cli", "check", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env},
                          stdin=subprocess.DEVNULL)


def test_check_names_the_user_the_role_and_the_rule_that_gave_it(tmp_path: Path) -> None:
    me = getpass.getuser()
    config = tmp_path / "stacktop.yaml"
    config.write_text(f"roles: {{default: viewer, users: {{{me}: admin}}}}\n")
    config.chmod(0o600)
    done = check(config, SUDO_USER="someone-else" if os.geteuid() != 0 else "")
    assert done.returncode == 0, done.stderr
    assert f"  you       {me}: admin (user {me} in roles.users)" in done.stdout.splitlines()
    assert "warning" not in done.stdout


def test_an_unlisted_user_gets_the_default_role(tmp_path: Path) -> None:
    config = tmp_path / "stacktop.yaml"
    config.write_text("roles: {users: {nobody-here: admin}}\n")
    done = check(config)
    assert done.returncode == 0, done.stderr
    me = getpass.getuser()
    assert f"  you       {me}: viewer (roles.default (user and groups not listed))" in done.stdout


def test_a_readable_inline_secret_is_a_one_line_warning_with_the_fix(tmp_path: Path) -> None:
    config = tmp_path / "stacktop.yaml"
    config.write_text("providers:\n  http:\n    checks:\n      - name: api\n        url: http://127.0.0.1:9/\n"
                      "        headers: {Authorization: Bearer inline-token-99}\n")
    config.chmod(0o644)
    done = check(config)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stdout.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: config {config} holds secrets and is readable by group/others "
                        f"(mode 0644): chmod 600 {config}"]
    assert "inline-token-99" not in done.stdout
    config.chmod(0o600)
    assert "warning:" not in check(config).stdout


def test_sudo_user_is_the_person_only_when_running_as_root(tmp_path: Path) -> None:
    config = tmp_path / "stacktop.yaml"
    config.write_text("roles: {default: viewer, users: {nobody: operator}}\n")
    done = check(config, SUDO_USER="nobody")
    assert done.returncode == 0, done.stderr
    if os.geteuid() == 0:  # sudo ran us: SUDO_USER is who typed the command
        assert "  you       nobody via sudo: operator (user nobody in roles.users)" in done.stdout
    else:  # anyone can set the variable: it is ignored
        assert f"  you       {getpass.getuser()}: viewer" in done.stdout

"""The start-up warning about a config file whose literal secrets others can read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config import load_settings
from config.permissions import secret_file_warning

SECRET = "Pg-hunter2-literal"


def config_file(tmp_path: Path, body: str, mode: int) -> Path:
    path = tmp_path / "stacktop.yaml"
    path.write_text(body)
    os.chmod(path, mode)
    return path


LITERAL = f"""
log: {{file: /tmp/stacktop-test.log}}
ha:
  clusters:
    - name: main
      postgres:
        members: ["host=127.0.0.1 port=5432 user=app dbname=app"]
        password: "{SECRET}"
"""
FROM_ENV = LITERAL.replace(f'"{SECRET}"', "${STACKTOP_TEST_PG_PASSWORD}")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666, 0o755])
def test_a_literal_secret_in_a_shared_file_is_reported_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = config_file(tmp_path, LITERAL, mode)
    warning = secret_file_warning(str(path), frozenset({SECRET}))
    assert warning == (f"config {path} holds secrets and is readable by group/others "
                       f"(mode {mode:04o}): chmod 600 {path}")
    assert SECRET not in warning
    assert "\n" not in warning


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_private_file_is_fine(tmp_path: Path, mode: int) -> None:
    path = config_file(tmp_path, LITERAL, mode)
    assert secret_file_warning(str(path), frozenset({SECRET})) is None


def test_env_references_only_are_fine_even_when_shared(tmp_path: Path) -> None:
    path = config_file(tmp_path, FROM_ENV, 0o644)
    assert secret_file_warning(str(path), frozenset({SECRET})) is None


def test_no_secrets_at_all_is_fine(tmp_path: Path) -> None:
    path = config_file(tmp_path, "log: {level: info}\n", 0o644)
    assert secret_file_warning(str(path), frozenset()) is None
    assert secret_file_warning(str(path), frozenset({""})) is None


def test_a_file_that_cannot_be_stated_gives_no_warning(tmp_path: Path) -> None:
    assert secret_file_warning(str(tmp_path / "absent.yaml"), frozenset({SECRET})) is None
    assert secret_file_warning(str(tmp_path / "absent" / "x.yaml"), frozenset({SECRET})) is None


def test_chmod_600_silences_the_warning(tmp_path: Path) -> None:
    path = config_file(tmp_path, LITERAL, 0o644)
    assert secret_file_warning(str(path), frozenset({SECRET})) is not None
    os.chmod(path, 0o600)
    assert secret_file_warning(str(path), frozenset({SECRET})) is None


def test_with_the_secrets_the_loader_collected(tmp_path: Path) -> None:
    """The secrets come from load_settings: literal in the file warns, from the env does not."""
    env = {"HOME": str(tmp_path), "STACKTOP_TEST_PG_PASSWORD": SECRET}
    literal = config_file(tmp_path, LITERAL, 0o644)
    settings = load_settings(str(literal), env=env)
    assert SECRET in settings.secrets
    assert secret_file_warning(settings.source, settings.secrets) is not None
    from_env = config_file(tmp_path, FROM_ENV, 0o644)
    settings = load_settings(str(from_env), env=env)
    assert SECRET in settings.secrets
    assert secret_file_warning(settings.source, settings.secrets) is None

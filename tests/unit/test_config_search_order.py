"""find_config_path: --config, then $STACKTOP_CONFIG, then the user config, then the bundled one."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, find_config_path, load_settings
from config.loader import bundled_default_path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def _touch(path: Path, text: str = "role: viewer\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_explicit_path_wins_over_everything(tmp_path: Path, home: Path) -> None:
    explicit = _touch(tmp_path / "explicit.yaml")
    from_env = _touch(tmp_path / "env.yaml")
    _touch(home / ".config" / "stacktop" / "config.yaml")
    env = {"HOME": str(home), "STACKTOP_CONFIG": str(from_env)}
    assert find_config_path(str(explicit), env) == (str(explicit), "--config")


def test_missing_explicit_file_is_an_error_naming_the_flag(tmp_path: Path, home: Path) -> None:
    missing = tmp_path / "nope.yaml"
    _touch(home / ".config" / "stacktop" / "config.yaml")
    with pytest.raises(ConfigError) as caught:
        find_config_path(str(missing), {"HOME": str(home)})
    assert str(caught.value) == f"{missing}: file not found — check --config"


def test_relative_explicit_path_becomes_absolute(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path / "rel.yaml")
    monkeypatch.chdir(tmp_path)
    assert find_config_path("rel.yaml", {"HOME": str(home)}) == (
        str(tmp_path / "rel.yaml"),
        "--config",
    )


def test_env_variable_beats_user_config(tmp_path: Path, home: Path) -> None:
    from_env = _touch(tmp_path / "env.yaml")
    _touch(home / ".config" / "stacktop" / "config.yaml")
    env = {"HOME": str(home), "STACKTOP_CONFIG": str(from_env)}
    assert find_config_path(None, env) == (str(from_env), "$STACKTOP_CONFIG")


def test_env_variable_naming_a_missing_file_is_an_error(tmp_path: Path, home: Path) -> None:
    env = {"HOME": str(home), "STACKTOP_CONFIG": str(tmp_path / "gone.yaml")}
    with pytest.raises(ConfigError, match=r"check \$STACKTOP_CONFIG"):
        find_config_path(None, env)


def test_user_config_under_home(home: Path) -> None:
    user = _touch(home / ".config" / "stacktop" / "config.yaml")
    assert find_config_path(None, {"HOME": str(home)}) == (str(user), "user config")


def test_xdg_config_home_replaces_dot_config(tmp_path: Path, home: Path) -> None:
    _touch(home / ".config" / "stacktop" / "config.yaml")
    xdg_user = _touch(tmp_path / "xdg" / "stacktop" / "config.yaml")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert find_config_path(None, env) == (str(xdg_user), "user config")


def test_relative_xdg_config_home_is_ignored(home: Path) -> None:
    user = _touch(home / ".config" / "stacktop" / "config.yaml")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": "relative/dir"}
    assert find_config_path(None, env) == (str(user), "user config")


def test_bundled_default_when_nothing_else(home: Path) -> None:
    path, how = find_config_path(None, {"HOME": str(home), "STACKTOP_CONFIG": ""})
    assert how == "bundled default"
    assert path == bundled_default_path()
    assert Path(path).is_file()
    assert Path(path).parent.name == "config"


def test_bundled_default_monitors_the_local_host(home: Path) -> None:
    settings = load_settings(env={"HOME": str(home)})
    assert settings.source_kind == "bundled default"
    assert settings.profile == "default"
    assert settings.providers.host is not None
    assert settings.providers.host.interval == 2.0
    assert settings.log.file == str(home / ".local" / "state" / "stacktop" / "stacktop.log")
    assert settings.audit.file == str(home / ".local" / "state" / "stacktop" / "audit.jsonl")


def test_state_files_follow_xdg_state_home(tmp_path: Path, home: Path) -> None:
    settings = load_settings(env={"HOME": str(home), "XDG_STATE_HOME": str(tmp_path / "st")})
    assert settings.log.file == str(tmp_path / "st" / "stacktop" / "stacktop.log")
    assert settings.audit.file == str(tmp_path / "st" / "stacktop" / "audit.jsonl")

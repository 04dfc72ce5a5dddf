"""Settings as the app uses it: describe(), with_overrides(), overrides at load time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from config import ConfigError, Settings, load_settings

TEAM = Path(__file__).resolve().parents[2] / "config" / "examples" / "team.yaml"


def _team(tmp_path: Path, profile: str = "prod", **kwargs) -> Settings:
    return load_settings(str(TEAM), profile=profile, env={"HOME": str(tmp_path)}, **kwargs)


def test_describe_names_profile_file_role_and_enabled_providers(tmp_path: Path) -> None:
    lines = _team(tmp_path).describe()
    text = "\n".join(lines)
    assert lines[0].startswith("profile   prod  (profiles in file: base, staging, prod)")
    assert f"file      {TEAM}  (found via --config)" in lines
    assert "role      operator" in lines
    assert "host      interval 2s, timeout 5s" in text
    assert all("\n" not in line for line in lines)


def test_describe_says_when_no_provider_is_enabled(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("providers: {host: {enabled: false}}\n")
    lines = load_settings(str(path), env={"HOME": str(tmp_path)}).describe()
    assert "providers none enabled" in lines
    assert not [line for line in lines if line.startswith("host")]


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = _team(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.role = "admin"  # type: ignore[misc]


def test_refresh_override_sets_every_provider_interval(tmp_path: Path) -> None:
    settings = _team(tmp_path).with_overrides(refresh="500ms")
    assert settings.providers.host is not None
    assert settings.providers.host.interval == 0.5
    assert settings.providers.host.timeout == 5.0
    assert _team(tmp_path).with_overrides(refresh=7).providers.host.interval == 7.0


@pytest.mark.parametrize(("kwargs", "flag"), [
    ({"refresh": 0}, "--refresh"),
    ({"refresh": "soon"}, "--refresh"),
    ({"role": "root"}, "--role"),
    ({"log_level": "loud"}, "--log-level"),
])
def test_bad_command_line_overrides_name_the_flag(
    tmp_path: Path, kwargs: dict, flag: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _team(tmp_path).with_overrides(**kwargs)
    assert str(caught.value).startswith(f"{flag}: ")


def test_role_user_and_level_overrides(tmp_path: Path) -> None:
    settings = _team(tmp_path).with_overrides(role="viewer", user="dana", log_level="debug")
    assert (settings.role, settings.user, settings.log.level) == ("viewer", "dana", "debug")


def test_overrides_at_load_time_accept_dotted_and_nested_keys(tmp_path: Path) -> None:
    settings = _team(
        tmp_path,
        overrides={"providers.host.interval": "1s", "ui": {"history_points": 50}},
    )
    assert settings.providers.host is not None
    assert settings.providers.host.interval == 1.0
    assert settings.providers.host.timeout == 5.0  # from the file, not reset
    assert settings.ui.history_points == 50


def test_bad_override_is_reported_as_an_override(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _team(tmp_path, overrides={"providers.host.intervall": "1s"})
    assert str(caught.value) == (
        "overrides: providers.host.intervall: unknown key 'intervall' — did you mean 'interval'?"
    )

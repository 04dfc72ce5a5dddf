"""The profile schema: types, ranges, unknown keys, defaults, paths."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.model import (
    HostSettings,
    RuntimeSettings,
    UiSettings,
)
from config.schema import PROFILE_SCHEMA

REPO = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, text: str, profile: str | None = None):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(str(path), profile=profile, env={"HOME": str(tmp_path / "home")})


def _error(tmp_path: Path, text: str, profile: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text, profile)
    return caught.value


def test_unknown_key_suggests_the_nearest_spelling(tmp_path: Path) -> None:
    error = _error(tmp_path, "providers:\n  host:\n    top_proceses: 3\n")
    assert error.message == "unknown key 'top_proceses' — did you mean 'top_processes'?"
    assert (error.line, error.column) == (3, 5)


def test_unknown_key_without_a_near_match_lists_the_known_keys(tmp_path: Path) -> None:
    error = _error(tmp_path, "ui:\n  colour: blue\n")
    assert error.message == (
        "unknown key 'colour' — known keys here: refresh, history_points, watch_refresh"
    )


def test_misspelt_profiles_key_is_suggested(tmp_path: Path) -> None:
    error = _error(tmp_path, "profile:\n  prod: {}\n")
    assert "did you mean 'profiles'?" in error.message


def test_misspelt_extends_is_suggested(tmp_path: Path) -> None:
    error = _error(tmp_path, "profiles:\n  a: {}\n  b: {extend: a}\n", profile="b")
    assert error.key_path == "profiles.b.extend"
    assert "did you mean 'extends'?" in error.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ui: {history_points: '10'}\n", "expected a whole number, got the text '10'"),
        ("ui: {history_points: 12.5}\n", "expected a whole number, got 12.5"),
        ("providers: {host: {top_processes: true}}\n", "expected a whole number, got true"),
        ("providers: {host: {enabled: 'yes'}}\n", "expected true or false, got 'yes'"),
        ("runtime: {jitter: 0.9}\n", "must be between 0 and 0.5, got 0.9"),
        ("runtime: {stale_after: 1}\n", "must be at least 1.5, got 1"),
        ("ui: {refresh: 2h}\n", "must be between 100ms and 1h, got 2h"),
        ("providers: {host: {interval: ~}}\n", "remove the key to use the default (2s)"),
        ("providers: {host: {exclude_fstypes: tmpfs}}\n", "expected a list like [a, b]"),
        ("user: 42\n", "expected text, got 42 — quote it: '42'"),
        ("log: {level: verbose}\n", "expected one of debug, info, warning, error; got 'verbose'"),
        ("log: {file: ''}\n", "expected a file path, got an empty string"),
        ("ui: [1, 2]\n", "expected a mapping of settings (key: value), got a list"),
    ],
)
def test_type_and_range_errors(tmp_path: Path, text: str, message: str) -> None:
    error = _error(tmp_path, text)
    assert message in error.message
    assert error.line == 1


def test_yaml_numbers_are_seconds_for_durations(tmp_path: Path) -> None:
    settings = _load(tmp_path, "providers: {host: {interval: 3, timeout: 0.5}}\nui: {refresh: 2}\n")
    assert settings.providers.host is not None
    assert (settings.providers.host.interval, settings.providers.host.timeout) == (3.0, 0.5)
    assert settings.ui.refresh == 2.0


def test_integers_are_fine_for_float_keys(tmp_path: Path) -> None:
    settings = _load(tmp_path, "runtime: {jitter: 0, stale_after: 2}\n")
    assert (settings.runtime.jitter, settings.runtime.stale_after) == (0.0, 2.0)
    assert isinstance(settings.runtime.jitter, float)


def test_lists_become_tuples(tmp_path: Path) -> None:
    settings = _load(tmp_path, "providers:\n  host:\n    exclude_fstypes:\n      - zfs\n")
    assert settings.providers.host is not None
    assert settings.providers.host.exclude_fstypes == ("zfs",)


def test_disabled_host_provider_is_none(tmp_path: Path) -> None:
    assert _load(tmp_path, "providers: {host: {enabled: false}}\n").providers.host is None


def test_paths_expand_home_and_resolve_relative_to_the_config_file(tmp_path: Path) -> None:
    settings = _load(tmp_path, "log: {file: ~/logs/st.log}\naudit: {file: audit/a.jsonl}\n")
    assert settings.log.file == str(tmp_path / "home" / "logs" / "st.log")
    assert settings.audit.file == str(tmp_path / "audit" / "a.jsonl")


def test_null_optional_value_means_unset(tmp_path: Path) -> None:
    assert _load(tmp_path, "user: ~\nrole: viewer\n").user is None


@pytest.mark.parametrize(
    ("section", "dataclass_type"),
    [("ui", UiSettings), ("runtime", RuntimeSettings), ("providers.host", HostSettings)],
)
def test_schema_defaults_match_dataclass_defaults(section: str, dataclass_type: type) -> None:
    schema = PROFILE_SCHEMA
    for part in section.split("."):
        schema = schema.fields[part]
    dataclass_fields = {f.name: f.default for f in dataclasses.fields(dataclass_type)}
    assert set(dataclass_fields) == set(schema.fields)
    for name, default in dataclass_fields.items():
        assert schema.fields[name].default == default, f"{section}.{name}"


def test_empty_profile_gives_all_defaults(tmp_path: Path) -> None:
    settings = _load(tmp_path, "profiles:\n  p:\n")
    assert settings.role == "operator"
    assert settings.user is None
    assert settings.ui == UiSettings()
    assert settings.runtime == RuntimeSettings()
    assert settings.providers.host == HostSettings()
    assert settings.log.level == "info"


def test_config_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, config, config.loader, config.schema\n"
        "heavy = [m for m in ('textual', 'boto3', 'botocore', 'kubernetes', 'aiohttp', "
        "'psutil', 'rich', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""

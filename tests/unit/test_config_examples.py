"""Every shipped example and the bundled default load, in every profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_settings

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
SHIPPED = [*sorted((CONFIG_DIR / "examples").glob("*.yaml")), CONFIG_DIR / "default.yaml"]


def test_the_promised_examples_exist() -> None:
    names = {path.name for path in SHIPPED}
    assert {"single-host.yaml", "team.yaml", "multi-account.yaml", "default.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_example_loads_in_every_profile(path: Path, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}  # no other variables: defaults must carry the examples
    first = load_settings(str(path), env=env)
    assert first.profiles
    for profile in first.profiles:
        settings = load_settings(str(path), profile=profile, env=env)
        assert settings.profile == profile
        assert Path(settings.log.file).is_absolute()
        assert Path(settings.audit.file).is_absolute()


def test_team_profiles_differ_where_the_file_says(tmp_path: Path) -> None:
    path = str(CONFIG_DIR / "examples" / "team.yaml")
    env = {"HOME": str(tmp_path), "USER": "erin"}
    staging = load_settings(path, env=env)
    prod = load_settings(path, profile="prod", env=env)
    assert staging.profile == "staging"
    assert staging.providers.host is not None and staging.providers.host.interval == 5.0
    assert prod.log.level == "warning"
    assert prod.user == staging.user == "erin"


def test_multi_account_reads_the_environment(tmp_path: Path) -> None:
    path = str(CONFIG_DIR / "examples" / "multi-account.yaml")
    env = {"HOME": str(tmp_path), "STACKTOP_LOG_DIR": "/srv/log", "STACKTOP_USER": "ops"}
    settings = load_settings(path, profile="billing", env=env)
    assert settings.log.file == "/srv/log/stacktop.log"
    assert settings.user == "ops"
    assert settings.role == "viewer"
    assert settings.log.level == "warning"  # inherited from prod
    assert settings.providers.host is None

"""${VAR} and ${VAR:-default} in string values."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.interpolation import interpolate_text

GOOD = Path(__file__).resolve().parents[1] / "data" / "good_configs"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${NAME}", "bob"),
        ("user-${NAME}-x", "user-bob-x"),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),  # set but empty counts as unset with :-
        ("${EMPTY}", ""),
        ("${NAME:-fallback}", "bob"),
        ("$${NAME}", "${NAME}"),
        ("cost: $$5 and $${x}", "cost: $$5 and ${x}"),
        ("${UNSET:-${NAME}}", "bob"),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
        ("${NAME:-${ALSO_UNSET}}", "bob"),  # a default that is not needed is not evaluated
        ("no variables }", "no variables }"),
    ],
)
def test_interpolate_text(text: str, expected: str) -> None:
    env = {"NAME": "bob", "EMPTY": ""}
    assert interpolate_text(text, env)[0] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${MISSING}", "environment variable MISSING is not set (use ${MISSING:-default}"),
        ("${OPEN", "unclosed '${'"),
        ("${1BAD}", "malformed '${'"),
        ("${A-b}", "malformed '${A-'"),
        ("${UNSET:-${MISSING}}", "environment variable MISSING is not set"),
    ],
)
def test_interpolate_text_errors_name_the_fix(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        interpolate_text(text, {})
    assert message in str(caught.value)


def test_defaults_and_escape_in_a_file(tmp_path: Path) -> None:
    settings = load_settings(str(GOOD / "interpolation.yaml"), env={"HOME": str(tmp_path)})
    assert settings.user == "nobody"
    assert settings.log.file == "/var/log/${literal}/default-dir/x.log"
    assert settings.runtime.max_concurrency == 3
    assert settings.providers.host is not None
    assert settings.providers.host.interval == 0.75


def test_environment_values_are_converted_to_the_key_type(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "STACKTOP_TEST_USER": "carol",
        "STACKTOP_TEST_DIR": "prod",
        "STACKTOP_TEST_WORKERS": "12",
        "STACKTOP_TEST_INTERVAL": "1m",
        "STACKTOP_TEST_ENABLED": "false",
    }
    settings = load_settings(str(GOOD / "interpolation.yaml"), env=env)
    assert settings.user == "carol"
    assert settings.log.file == "/var/log/${literal}/prod/x.log"
    assert settings.runtime.max_concurrency == 12
    assert settings.providers.host is None


def test_environment_value_of_the_wrong_type_points_at_the_value(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "STACKTOP_TEST_WORKERS": "lots"}
    with pytest.raises(ConfigError) as caught:
        load_settings(str(GOOD / "interpolation.yaml"), env=env)
    assert (caught.value.line, caught.value.key_path) == (5, "runtime.max_concurrency")
    assert "expected a whole number, got 'lots'" in str(caught.value)


def test_missing_variable_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("role: viewer\nuser: ${STACKTOP_TEST_NOPE}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), env={"HOME": str(tmp_path)})
    assert str(caught.value) == (
        f"{path}:2:7: user: environment variable STACKTOP_TEST_NOPE is not set "
        "(use ${STACKTOP_TEST_NOPE:-default} to give a default)"
    )


def test_only_the_selected_profile_needs_its_variables(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "default_profile: local\n"
        "profiles:\n"
        "  local: {role: admin}\n"
        "  prod: {user: '${STACKTOP_TEST_PROD_USER}'}\n"
    )
    assert load_settings(str(path), env={"HOME": str(tmp_path)}).role == "admin"
    with pytest.raises(ConfigError, match="STACKTOP_TEST_PROD_USER is not set"):
        load_settings(str(path), profile="prod", env={"HOME": str(tmp_path)})


def test_quoted_yaml_number_is_still_rejected_even_though_env_text_is_converted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("runtime: {max_concurrency: '8'}\n")
    with pytest.raises(ConfigError, match="remove the quotes"):
        load_settings(str(path), env={"HOME": str(tmp_path)})

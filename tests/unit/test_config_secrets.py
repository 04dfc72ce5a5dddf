"""Secret fields: their values are collected while loading and redacted on the way out.

No profile key is secret yet, so a test-only schema marks some.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.located_yaml import parse_yaml
from config.schema import PROFILE_SCHEMA, integer, list_of, section, text, validate

GOOD = Path(__file__).resolve().parents[1] / "data" / "good_configs"

TEST_SCHEMA = section(
    "A profile with secrets, for tests.",
    **{
        **PROFILE_SCHEMA.fields,
        "user": text("Audit name, secret here to test describe().", secret=True),
        "database": section(
            "A made-up database section.",
            password=text("Password.", secret=True),
            api_tokens=list_of(text("A token.", secret=True), "Tokens."),
            pin=integer("A secret number.", secret=True, minimum=1000),
        ),
    },
)

ENV = {
    "STACKTOP_TEST_DB_USER": "svc-reporting-7",
    "STACKTOP_TEST_DB_PASSWORD": "hunter2-correct-horse",
    "STACKTOP_TEST_TOKEN": "tok-from-env-5678",
}


def _load(tmp_path: Path):
    env = {"HOME": str(tmp_path), **ENV}
    return load_settings(str(GOOD / "secrets.yaml"), env=env, schema=TEST_SCHEMA)


def test_secret_values_are_collected(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.secrets == {
        "svc-reporting-7",
        "hunter2-correct-horse",
        "tok-literal-1234",
        "tok-from-env-5678",
    }


def test_redact_replaces_every_secret(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    line = "login svc-reporting-7:hunter2-correct-horse with tok-from-env-5678 ok"
    assert settings.redact(line) == "login ***:*** with *** ok"


def test_describe_shows_secrets_as_stars(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.user == "svc-reporting-7"
    described = "\n".join(settings.describe())
    assert "user      ***" in described
    assert "svc-reporting-7" not in described


def test_non_secret_fields_are_not_collected(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("user: alice\nlog: {file: /tmp/x.log}\n")
    assert load_settings(str(path), env={"HOME": str(tmp_path)}).secrets == frozenset()


@pytest.mark.parametrize(
    "body",
    ["database: {password: 918273645}", "database: {pin: 123}", "database: {pin: 'x918273'}"],
)
def test_errors_on_secret_fields_do_not_echo_the_value(body: str) -> None:
    node = parse_yaml(body + "\n", "c.yaml")
    with pytest.raises(ConfigError) as caught:
        validate(TEST_SCHEMA, node)
    text_ = str(caught.value)
    assert "918273" not in text_ and "123" not in text_
    assert text_.startswith("c.yaml:1:")

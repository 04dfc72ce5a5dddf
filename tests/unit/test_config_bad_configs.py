"""Every mistake in tests/data/bad_configs/ is reported as one line at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config import ConfigError, load_settings

BAD_DIR = Path(__file__).resolve().parents[1] / "data" / "bad_configs"
MANIFEST = yaml.safe_load((BAD_DIR / "expected.yaml").read_text(encoding="utf-8"))


def test_every_bad_config_has_an_expectation_and_the_corpus_is_not_thin() -> None:
    files = {p.name for p in BAD_DIR.glob("*.yaml")} - {"expected.yaml"}
    assert files == set(MANIFEST)
    assert len(files) >= 14


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_config_is_one_line_with_file_line_and_fix(name: str, tmp_path: Path) -> None:
    expected = MANIFEST[name]
    path = BAD_DIR / name
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), env={"HOME": str(tmp_path)})
    text = str(caught.value)
    assert "\n" not in text
    assert "Traceback" not in text
    assert text.startswith(f"{path}:{expected['line']}:"), text
    assert expected["contains"] in text, text
    assert caught.value.file == str(path)
    assert caught.value.line == expected["line"]


def test_unknown_profile_selected_lists_the_profiles(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("profiles:\n  prod: {role: operator}\n  staging: {role: viewer}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), profile="prdo", env={"HOME": str(tmp_path)})
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert "unknown profile 'prdo'" in text
    assert "did you mean 'prod'?" in text
    assert text.endswith("profiles are: prod, staging")


def test_yaml_syntax_error_keeps_pyyaml_position_without_its_multiline_report(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("ui:\n  refresh: 1s\n    history_points: 10\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), env={"HOME": str(tmp_path)})
    error = caught.value
    assert (error.line, error.column) == (3, 19)
    assert "invalid YAML" in str(error)
    assert "\n" not in str(error)


def test_error_format_omits_unknown_parts() -> None:
    assert str(ConfigError("m", file="f.yaml", line=3, column=7, key_path="a.b")) == (
        "f.yaml:3:7: a.b: m"
    )
    assert str(ConfigError("m", file="f.yaml", line=3)) == "f.yaml:3: m"
    assert str(ConfigError("m", file="f.yaml", key_path="a")) == "f.yaml: a: m"
    assert str(ConfigError("m", key_path="--refresh")) == "--refresh: m"
    assert str(ConfigError("two\nlines", file="f")) == "f: two lines"

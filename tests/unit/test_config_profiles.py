"""Profiles: selection, extends, deep merge, and positions that survive merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings

GOOD = Path(__file__).resolve().parents[1] / "data" / "good_configs"


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def _load(path: str, tmp_path: Path, profile: str | None = None):
    return load_settings(path, profile=profile, env={"HOME": str(tmp_path)})


def test_extends_merges_three_levels_deep(tmp_path: Path) -> None:
    settings = _load(str(GOOD / "extends_merge.yaml"), tmp_path)
    assert settings.profile == "child"
    assert settings.role == "admin"  # child
    assert settings.ui.refresh == 3.0  # grandparent
    assert settings.ui.history_points == 200  # parent over grandparent
    assert settings.runtime.max_concurrency == 2  # grandparent
    host = settings.providers.host
    assert host is not None
    assert host.interval == 4.0  # grandparent
    assert host.timeout == 15.0  # parent over grandparent
    assert host.top_processes == 20  # parent


def test_lists_are_replaced_not_concatenated(tmp_path: Path) -> None:
    settings = _load(str(GOOD / "extends_merge.yaml"), tmp_path)
    assert settings.providers.host is not None
    assert settings.providers.host.exclude_interfaces == ("eth9",)


def test_extends_list_merges_left_to_right(tmp_path: Path) -> None:
    settings = _load(str(GOOD / "extends_merge.yaml"), tmp_path, profile="multi")
    assert settings.role == "operator"  # 'other' is merged after 'child'
    assert settings.ui.watch_refresh == 7.0  # only in other
    assert settings.ui.history_points == 200  # only in the child chain
    assert settings.providers.host is not None
    assert settings.providers.host.top_processes == 99
    assert settings.providers.host.exclude_interfaces == ("eth9",)


def test_profiles_are_listed_in_file_order(tmp_path: Path) -> None:
    settings = _load(str(GOOD / "extends_merge.yaml"), tmp_path)
    assert settings.profiles == ("grandparent", "parent", "child", "multi", "other")


def test_empty_section_keeps_what_was_inherited(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "profiles:\n"
        "  base: {providers: {host: {interval: 9s}}}\n"
        "  prod:\n"
        "    extends: base\n"
        "    providers:\n"
        "      host:\n",
    )
    settings = _load(path, tmp_path, profile="prod")
    assert settings.providers.host is not None
    assert settings.providers.host.interval == 9.0


def test_value_error_in_parent_points_at_the_parent(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "default_profile: prod\n"
        "profiles:\n"
        "  base:\n"
        "    providers:\n"
        "      host:\n"
        "        top_processes: 5000\n"
        "  prod:\n"
        "    extends: base\n",
    )
    with pytest.raises(ConfigError) as caught:
        _load(path, tmp_path)
    error = caught.value
    assert (error.line, error.column) == (6, 24)
    assert error.key_path == "profiles.base.providers.host.top_processes"


def test_unknown_key_in_parent_points_at_the_parent_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "default_profile: prod\n"
        "profiles:\n"
        "  base:\n"
        "    ui: {refrsh: 1s}\n"
        "  prod: {extends: base, role: admin}\n",
    )
    with pytest.raises(ConfigError) as caught:
        _load(path, tmp_path)
    assert str(caught.value) == (
        f"{path}:4:10: profiles.base.ui.refrsh: unknown key 'refrsh' — did you mean 'refresh'?"
    )


def test_child_value_overrides_bad_parent_value(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "profiles:\n"
        "  base: {ui: {refresh: soon}}\n"
        "  prod: {extends: base, ui: {refresh: 2s}}\n",
    )
    assert _load(path, tmp_path, profile="prod").ui.refresh == 2.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("profiles:\n  only: {role: admin}\n", "only"),
        ("profiles:\n  a: {}\n  default: {}\n", "default"),
        ("default_profile: b\nprofiles:\n  a: {}\n  b: {}\n", "b"),
        ("role: admin\n", "default"),
    ],
)
def test_profile_selection_without_a_request(tmp_path: Path, text: str, expected: str) -> None:
    assert _load(_write(tmp_path, text), tmp_path).profile == expected


def test_several_profiles_and_no_default_is_an_error_listing_them(tmp_path: Path) -> None:
    path = _write(tmp_path, "profiles:\n  a: {}\n  b: {}\n")
    with pytest.raises(ConfigError) as caught:
        _load(path, tmp_path)
    assert caught.value.line == 1
    assert "set 'default_profile: NAME', pass --profile" in str(caught.value)
    assert str(caught.value).endswith("profiles are: a, b")


def test_a_cycle_is_found_even_in_profiles_not_selected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "default_profile: ok\n"
        "profiles:\n"
        "  ok: {}\n"
        "  x: {extends: y}\n"
        "  y: {extends: [ok, x]}\n",
    )
    with pytest.raises(ConfigError) as caught:
        _load(path, tmp_path)
    assert caught.value.line == 5
    assert "profile 'x' extends itself through x -> y -> x" in str(caught.value)


def test_extends_must_name_profiles(tmp_path: Path) -> None:
    path = _write(tmp_path, "profiles:\n  a: {extends: {b: 1}}\n")
    with pytest.raises(ConfigError, match="extends must be a profile name or a list of names"):
        _load(path, tmp_path)


def test_yaml_merge_keys_work(tmp_path: Path) -> None:
    settings = _load(str(GOOD / "anchors.yaml"), tmp_path)
    assert settings.providers.host is not None
    assert (settings.providers.host.interval, settings.providers.host.timeout) == (3.0, 4.0)

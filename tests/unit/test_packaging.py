"""The installed console is the one we test: every source package ships in the wheel.

An editable install finds modules by path, so a package missing from pyproject.toml's list
works here and fails on a bastion that ran `pip install .` (the Security tab and the audit
trail were missing that way)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ("config", "providers", "widgets", "tui")


def source_packages() -> set[str]:
    found = set()
    for top in SOURCE_ROOTS:
        for module in (ROOT / top).rglob("*.py"):
            if "__pycache__" not in module.parts:
                found.add(".".join(module.parent.relative_to(ROOT).parts))
    return found


def test_every_directory_of_python_modules_is_a_declared_package() -> None:
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert source_packages() - declared == set(), "add these to [tool.setuptools] packages"
    assert declared - source_packages() == set(), "these declared packages hold no module"


def test_data_files_the_code_reads_are_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {path.relative_to(ROOT / "config").as_posix()
               for pattern in data["config"] for path in (ROOT / "config").glob(pattern)}
    on_disk = {path.relative_to(ROOT / "config").as_posix() for path in (ROOT / "config").rglob("*.yaml")}
    assert on_disk - shipped == set(), "add these to [tool.setuptools.package-data] config"

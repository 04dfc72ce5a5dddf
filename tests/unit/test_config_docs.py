"""docs/configuration.md stays in step with the schema."""

from __future__ import annotations

from pathlib import Path

from config.docgen import generated_block
from config.schema import iter_fields

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(
    encoding="utf-8"
)


def test_generated_key_table_is_current() -> None:
    assert generated_block() in DOC, "run: python -m config.docgen docs/configuration.md"


def test_every_key_path_is_documented() -> None:
    missing = [key for key, _ in iter_fields() if f"`{key}`" not in DOC]
    assert missing == []


def test_docs_cover_search_order_interpolation_and_error_format() -> None:
    for needle in ("--config", "$STACKTOP_CONFIG", "XDG_CONFIG_HOME", "config/default.yaml",
                   "extends", "${VAR:-default}", "$${", "FILE:LINE:COLUMN: KEY_PATH: MESSAGE"):
        assert needle in DOC, needle

"""YAML read into values that remember where they were written.

PyYAML's constructed objects forget their line numbers, and its SafeLoader keeps
the last of two duplicate keys without a word. We compose the node graph and
build our own tree of ``Located`` values instead, so that every later step
(extends-merging, interpolation, validation) can point at FILE:LINE:COL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from config.errors import ConfigError

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Located:
    """A YAML value plus the place it came from.

    ``value`` is a ``dict[str, Located]``, a ``list[Located]`` or a plain scalar.
    ``path`` is the key path where the value was written (``profiles.base.ui``),
    which stays true after the value is merged into another profile.
    """

    value: Any
    file: str
    line: int | None = None
    column: int | None = None
    path: str = ""
    key_line: int | None = None
    key_column: int | None = None
    interpolated: bool = False

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    def error(self, message: str, *, at_key: bool = False) -> ConfigError:
        """A ConfigError at this value (or at its key, for unknown-key mistakes)."""
        if at_key and self.key_line is not None:
            line, column = self.key_line, self.key_column
        else:
            line, column = self.line, self.column
        return ConfigError(message, file=self.file, line=line, column=column, key_path=self.path)

    def replace(self, **changes: Any) -> Located:
        return dataclasses.replace(self, **changes)

    def to_python(self) -> Any:
        """The plain value, positions dropped (for tests and debugging)."""
        if isinstance(self.value, dict):
            return {key: item.to_python() for key, item in self.value.items()}
        if isinstance(self.value, list):
            return [item.to_python() for item in self.value]
        return self.value


def join_path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def read_yaml(file: str) -> Located | None:
    """Parse ``file``; None when it holds no document at all."""
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise ConfigError("file not found", file=file) from None
    except IsADirectoryError:
        raise ConfigError("is a directory — point at a .yaml file", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", file=file) from None
    return parse_yaml(data, file)


def parse_yaml(data: bytes | str, file: str) -> Located | None:
    try:
        loader = yaml.SafeLoader(data)
    except ReaderError as exc:
        raise _reader_error(exc, data, file) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _Converter(loader, file).convert(node, "", None)
    except yaml.MarkedYAMLError as exc:
        raise yaml_error_to_config_error(exc, file) from None
    except ReaderError as exc:
        raise _reader_error(exc, data, file) from None
    finally:
        loader.dispose()


def from_python(value: Any, *, file: str, path: str = "") -> Located:
    """Wrap a plain value (e.g. command-line overrides) so it validates like YAML.

    Dotted keys ("ui.refresh") are expanded into nested mappings.
    """
    if isinstance(value, Mapping):
        items: dict[str, Located] = {}
        for raw_key, item in value.items():
            key = str(raw_key)
            head, _, rest = key.partition(".")
            nested = {rest: item} if rest else item
            child = from_python(nested, file=file, path=join_path(path, head))
            if head in items and items[head].is_mapping and child.is_mapping:
                child = child.replace(value={**items[head].value, **child.value})
            items[head] = child
        return Located(items, file=file, path=path)
    if isinstance(value, list | tuple):
        return Located(
            [from_python(item, file=file, path=f"{path}[{i}]") for i, item in enumerate(value)],
            file=file,
            path=path,
        )
    return Located(value, file=file, path=path)


class _Converter:
    """Turns a composed node graph into Located values, rejecting duplicate keys."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader = loader
        self.file = file
        self.active: set[int] = set()

    def convert(self, node: Node, path: str, key_node: Node | None) -> Located:
        start = node.start_mark
        base = Located(
            None,
            file=self.file,
            line=start.line + 1,
            column=start.column + 1,
            path=path,
            key_line=key_node.start_mark.line + 1 if key_node else None,
            key_column=key_node.start_mark.column + 1 if key_node else None,
        )
        if id(node) in self.active:
            raise base.error("an alias refers to itself — YAML anchors cannot be recursive")
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return base.replace(value=self._mapping(node, path, base))
            if isinstance(node, SequenceNode):
                items = [
                    self.convert(item, f"{path}[{i}]", None) for i, item in enumerate(node.value)
                ]
                return base.replace(value=items)
            try:
                value = self.loader.construct_object(node, deep=True)
            except ValueError as exc:
                raise base.error(f"cannot read value {node.value!r}: {exc}") from None
            return base.replace(value=value)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: str, base: Located) -> dict[str, Located]:
        merged: dict[str, Located] = {}
        own: dict[str, Located] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                for source in self._merge_sources(value_node, base):
                    for key, item in self.convert(source, path, None).value.items():
                        merged.setdefault(key, item)
                continue
            key = self._key_text(key_node, base)
            if key in first_seen:
                first = first_seen[key].start_mark
                raise ConfigError(
                    f"duplicate key {key!r} (first at line {first.line + 1}) — "
                    "remove one; YAML would silently keep only the last",
                    file=self.file,
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                    key_path=join_path(path, key),
                )
            first_seen[key] = key_node
            own[key] = self.convert(value_node, join_path(path, key), key_node)
        return {**merged, **own}

    def _merge_sources(self, value_node: Node, base: Located) -> list[MappingNode]:
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, MappingNode):
                raise base.error("'<<' merges mappings only — point it at an anchored mapping")
        return sources

    def _key_text(self, key_node: Node, base: Located) -> str:
        if not isinstance(key_node, ScalarNode):
            raise ConfigError(
                "a key must be a plain name, not a list or mapping",
                file=self.file,
                line=key_node.start_mark.line + 1,
                column=key_node.start_mark.column + 1,
                key_path=base.path,
            )
        return str(key_node.value)


_SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed", "check the indentation, or quote a value containing ': '"),
    ("expected ',' or ']'", "close the '[' with ']' or quote the value"),
    ("expected ',' or '}'", "close the '{' with '}' or quote the value"),
    ("expected <block end>", "check the indentation: keys of one mapping must line up"),
    ("could not find expected ':'", "a key needs ': ' after it — check quotes and indentation"),
    ("found undefined alias", "define the anchor (&name) before using it (*name)"),
    ("expected a single document", "keep one YAML document per file — remove the extra '---'"),
    ("end of stream", "close the quote or bracket that is still open"),
)


def yaml_error_to_config_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    """One line from PyYAML's multi-line report: where, what, and what to do."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    text = f"invalid YAML: {problem}"
    if "'\\t'" in problem:
        text = "invalid YAML: a tab character — indent with spaces, YAML does not allow tabs"
    if exc.context and exc.problem and exc.context_mark is not None:
        text += f" ({exc.context} at line {exc.context_mark.line + 1})"
    both = f"{exc.problem} {exc.context}"
    hint = next((fix for needle, fix in _SYNTAX_HINTS if needle in both), None)
    if hint:
        text += f" — {hint}"
    return ConfigError(
        text,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def _reader_error(exc: ReaderError, data: bytes | str, file: str) -> ConfigError:
    prefix = data[: exc.position]
    newline = b"\n" if isinstance(prefix, bytes) else "\n"
    line = prefix.count(newline) + 1  # type: ignore[arg-type]
    if exc.encoding != "unicode":
        message = f"the file is not valid {exc.encoding} text — save it as UTF-8"
    else:
        message = f"control character #x{exc.character:04x} is not allowed in YAML — remove it"
    return ConfigError(message, file=file, line=line)

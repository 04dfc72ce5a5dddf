"""Profiles in one file: which one is selected, and what it inherits.

A team keeps prod, staging and a shared base in one file; ``extends`` avoids
copying the shared part. Merging works on Located values, so a mistake that
lives in a parent profile is reported at the parent's own line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from config.errors import ConfigError
from config.located_yaml import Located
from config.schema import PROFILE_SCHEMA, show_value, unknown_key_message

IMPLICIT_PROFILE = "default"
_TOP_KEYS = ("profiles", "default_profile")
_EXAMPLE = "'providers: {host: {interval: 2s}}'"


@dataclass(frozen=True)
class ProfileFile:
    """The profiles of one file, before any of them is merged or validated."""

    file: str
    bodies: dict[str, Located]
    default_profile: Located | None
    profiles_node: Located | None  # the ``profiles:`` mapping, None for a one-profile file

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.bodies)


def split_profiles(root: Located | None, file: str) -> ProfileFile:
    """Find the profiles of a parsed file; a file without ``profiles:`` is one profile."""
    if root is None or (root.value is None):
        raise ConfigError(
            f"the file is empty — add settings such as {_EXAMPLE}, "
            "or copy config/default.yaml",
            file=file,
            line=1,
        )
    if not root.is_mapping:
        raise root.error(
            f"the top level must be a mapping (key: value lines), got {show_value(root.value)} — "
            f"start with 'profiles:' or with settings such as {_EXAMPLE}"
        )
    top: dict[str, Located] = root.value
    if "profiles" not in top:
        for key in ("default_profile", "extends"):
            if key in top:
                raise top[key].error(
                    "only allowed with a 'profiles:' section — without one, "
                    f"the whole file is the single profile '{IMPLICIT_PROFILE}'",
                    at_key=True,
                )
        return ProfileFile(file, {IMPLICIT_PROFILE: root}, None, None)

    for key, item in top.items():
        if key not in _TOP_KEYS:
            if key in PROFILE_SCHEMA.fields:
                message = (
                    "not allowed next to 'profiles:' — "
                    "move it into a profile (or into a base profile that others extend)"
                )
            else:
                message = unknown_key_message(key, _TOP_KEYS)
            raise item.error(message, at_key=True)
    profiles = top["profiles"]
    if not profiles.is_mapping:
        raise profiles.error(
            f"expected a mapping of profile name to settings, got {show_value(profiles.value)}"
        )
    if not profiles.value:
        raise profiles.error(
            "no profiles defined — add one, e.g. 'profiles: {local: {role: operator}}'"
        )
    bodies: dict[str, Located] = {}
    for name, body in profiles.value.items():
        if body.value is None:
            body = body.replace(value={})
        if not body.is_mapping:
            raise body.error(
                f"profile {name!r} must be a mapping of settings, got {show_value(body.value)}"
            )
        bodies[name] = body
    return ProfileFile(file, bodies, top.get("default_profile"), profiles)


def select_profile(profiles: ProfileFile, requested: str | None) -> str:
    """The requested profile, else default_profile, else the only one, else 'default'."""
    known = ", ".join(profiles.names)
    if requested is not None:
        if requested not in profiles.bodies:
            raise ConfigError(
                f"unknown profile {requested!r}{_did_you_mean(requested, profiles.names)} — "
                f"profiles are: {known}",
                file=profiles.file,
            )
        return requested
    chosen = profiles.default_profile
    if chosen is not None:
        if not isinstance(chosen.value, str):
            raise chosen.error(f"expected a profile name; profiles are: {known}")
        if chosen.value not in profiles.bodies:
            raise chosen.error(
                f"unknown profile {chosen.value!r}"
                f"{_did_you_mean(chosen.value, profiles.names)} — profiles are: {known}"
            )
        return chosen.value
    if len(profiles.bodies) == 1:
        return profiles.names[0]
    if IMPLICIT_PROFILE in profiles.bodies:
        return IMPLICIT_PROFILE
    where = profiles.profiles_node
    message = (
        f"several profiles and none chosen — set 'default_profile: NAME', "
        f"pass --profile, or name one '{IMPLICIT_PROFILE}'; profiles are: {known}"
    )
    raise where.error(message, at_key=True) if where else ConfigError(message, file=profiles.file)


def check_extends(profiles: ProfileFile) -> None:
    """Reject unknown parents and cycles in every profile, not only the selected one."""
    for name in profiles.names:
        _resolve(profiles, name, [])


def resolve_profile(profiles: ProfileFile, name: str) -> Located:
    """The profile body with everything it extends merged in, ``extends`` removed."""
    return _resolve(profiles, name, [])


def _resolve(profiles: ProfileFile, name: str, chain: list[str]) -> Located:
    body = profiles.bodies[name]
    own = {key: item for key, item in body.value.items() if key != "extends"}
    merged: Located | None = None
    for parent_node in _parent_nodes(body):
        parent = parent_node.value
        if parent not in profiles.bodies:
            raise parent_node.error(
                f"profile {name!r} extends unknown profile {parent!r}"
                f"{_did_you_mean(parent, profiles.names)} — "
                f"profiles are: {', '.join(profiles.names)}"
            )
        trail = [*chain, name]
        if parent in trail:
            cycle = [*trail[trail.index(parent):], parent]
            raise parent_node.error(
                f"profile {parent!r} extends itself through {' -> '.join(cycle)} — "
                "remove one of these extends"
            )
        resolved = _resolve(profiles, parent, trail)
        merged = resolved if merged is None else deep_merge(merged, resolved)
    own_node = body.replace(value=own)
    return own_node if merged is None else deep_merge(merged, own_node)


def _parent_nodes(body: Located) -> list[Located]:
    extends = body.value.get("extends")
    if extends is None or extends.value is None:
        return []
    if isinstance(extends.value, str):
        return [extends]
    if isinstance(extends.value, list) and all(isinstance(i.value, str) for i in extends.value):
        return list(extends.value)
    raise extends.error(
        f"extends must be a profile name or a list of names, got {show_value(extends.value)}"
    )


def deep_merge(base: Located, override: Located) -> Located:
    """Mappings merge key by key (override wins); anything else, lists too, is replaced.

    An empty value (``host:`` with nothing under it) over a mapping keeps the mapping.
    """
    if not (base.is_mapping and override.is_mapping):
        return override
    merged = dict(base.value)
    for key, item in override.value.items():
        previous = merged.get(key)
        if previous is not None and previous.is_mapping:
            if item.value is None:
                continue
            if item.is_mapping:
                merged[key] = deep_merge(previous, item)
                continue
        merged[key] = item
    return override.replace(value=merged)


def _did_you_mean(name: str, names: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""

"""Who is at the keyboard, and which role the profile gives them.

On a shared bastion engineers run ``sudo stacktop`` (so only root reads the
credentials and the config): the person is then SUDO_USER, which is trusted only
when the process really runs as root — any user can set the variable. The SSH
client address comes from SSH_CONNECTION (SSH_CLIENT as a fallback); sudo drops
both unless sudoers keeps them (``Defaults env_keep += "SSH_CONNECTION SSH_CLIENT"``).
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from config.model import ROLES, RoleSettings


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    groups: tuple[str, ...]
    role: str
    why: str
    """Which rule gave the role, e.g. "group sre in roles.groups"; shown by `stacktop check`."""
    host: str
    ssh_client: str | None
    via_sudo: bool = False


def _groups_of(user: str) -> tuple[str, ...]:
    """The user's primary and supplementary groups by name ((), for a user unknown here)."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return ()
    names = []
    for gid in os.getgrouplist(user, entry.pw_gid):
        try:
            names.append(grp.getgrgid(gid).gr_name)
        except KeyError:
            names.append(str(gid))
    return tuple(dict.fromkeys(names))


def _login(euid: int) -> str:
    try:
        return pwd.getpwuid(euid).pw_name
    except KeyError:
        return str(euid)


def ssh_client_of(env: Mapping[str, str]) -> str | None:
    """The SSH client's address, or None for a local session."""
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        value = env.get(name, "").split()
        if value:
            return value[0]
    return None


def role_for(user: str, groups: tuple[str, ...], roles: RoleSettings | None,
             fallback: str) -> tuple[str, str]:
    """(role, why): the user's own entry wins; else the highest of their groups'; else
    roles.default. Without a roles mapping everyone has the profile's `role`."""
    if roles is None:
        return fallback, "the profile's role (no roles configured)"
    if user in roles.users:
        return roles.users[user], f"user {user} in roles.users"
    matched = [(ROLES.index(roles.groups[g]), g) for g in groups if g in roles.groups]
    if matched:
        rank, group = max(matched)
        return ROLES[rank], f"group {group} in roles.groups"
    return roles.default, "roles.default (user and groups not listed)"


def resolve_identity(
    roles: RoleSettings | None,
    fallback_role: str,
    env: Mapping[str, str] | None = None,
    *,
    euid: int | None = None,
    groups_of: Callable[[str], tuple[str, ...]] = _groups_of,
) -> Identity:
    """The acting person and their role for this session."""
    env = os.environ if env is None else env
    euid = os.geteuid() if euid is None else euid
    sudo_user = env.get("SUDO_USER", "")
    via_sudo = euid == 0 and bool(sudo_user) and sudo_user != "root"
    user = sudo_user if via_sudo else _login(euid)
    groups = groups_of(user)
    role, why = role_for(user, groups, roles, fallback_role)
    return Identity(user=user, groups=groups, role=role, why=why, host=socket.gethostname(),
                    ssh_client=ssh_client_of(env), via_sudo=via_sudo)

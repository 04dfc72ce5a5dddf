"""Who is acting and which role the profile gives them (config/identity.py).

On a shared bastion the role decides who may stop instances or fail over databases,
so the person must be the one really at the keyboard: SUDO_USER only when the process
really runs as root, never a variable any user can set.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess

import pytest

from config.identity import Identity, resolve_identity, role_for, ssh_client_of
from config.model import RoleSettings

GROUPS = {
    "alice": ("alice", "dev", "sre"),
    "bob": ("bob", "dev", "ops"),
    "carol": ("carol",),
    "root": ("root",),
}
NOBODY = pwd.getpwnam("nobody")


def groups_of(user: str) -> tuple[str, ...]:
    return GROUPS.get(user, ())


ROLES = RoleSettings(
    default="viewer",
    users={"alice": "viewer", "dave": "admin"},
    groups={"dev": "viewer", "sre": "admin", "ops": "operator"},
)


def as_root(env: dict[str, str], roles: RoleSettings | None = ROLES, fallback: str = "operator") -> Identity:
    return resolve_identity(roles, fallback, env, euid=0, groups_of=groups_of)


def test_the_users_own_entry_wins_over_their_groups() -> None:
    alice = as_root({"SUDO_USER": "alice"})  # in sre (admin), listed herself as viewer
    assert (alice.user, alice.groups, alice.role) == ("alice", ("alice", "dev", "sre"), "viewer")
    assert alice.why == "user alice in roles.users"


def test_the_highest_role_of_the_users_groups() -> None:
    bob = as_root({"SUDO_USER": "bob"})  # dev (viewer) and ops (operator)
    assert (bob.role, bob.why) == ("operator", "group ops in roles.groups")
    # The order of the user's groups does not matter: the highest role wins.
    for order in (("erin", "sre", "ops", "dev"), ("dev", "ops", "erin", "sre")):
        erin = resolve_identity(ROLES, "viewer", {"SUDO_USER": "erin"}, euid=0,
                                groups_of=lambda user, order=order: order)
        assert (erin.role, erin.why) == ("admin", "group sre in roles.groups")


def test_a_user_in_no_listed_group_gets_roles_default() -> None:
    carol = as_root({"SUDO_USER": "carol"})
    assert (carol.role, carol.why) == ("viewer", "roles.default (user and groups not listed)")
    operators = RoleSettings(default="operator", groups={"sre": "admin"})
    carol = as_root({"SUDO_USER": "carol"}, operators)
    assert carol.role == "operator"


def test_without_roles_everyone_has_the_profiles_role() -> None:
    for fallback in ("viewer", "operator", "admin"):
        alice = as_root({"SUDO_USER": "alice"}, None, fallback)
        assert (alice.user, alice.role) == ("alice", fallback)
        assert alice.why == "the profile's role (no roles configured)"
    assert role_for("anyone", (), None, "admin") == ("admin", "the profile's role (no roles configured)")


def test_sudo_user_is_the_person_when_the_process_runs_as_root() -> None:
    asked: list[str] = []

    def spy(user: str) -> tuple[str, ...]:
        asked.append(user)
        return groups_of(user)

    bob = resolve_identity(ROLES, "viewer", {"SUDO_USER": "bob"}, euid=0, groups_of=spy)
    assert (bob.user, bob.via_sudo, bob.role) == ("bob", True, "operator")
    assert asked == ["bob"]  # bob's groups decide, not root's


def test_sudo_user_is_ignored_unless_the_process_runs_as_root() -> None:
    """Anyone can export SUDO_USER=dave: as an ordinary user it must gain nothing."""
    asked: list[str] = []

    def spy(user: str) -> tuple[str, ...]:
        asked.append(user)
        return groups_of(user)

    me = resolve_identity(ROLES, "operator", {"SUDO_USER": "dave"}, euid=NOBODY.pw_uid, groups_of=spy)
    assert (me.user, me.via_sudo, me.role) == ("nobody", False, "viewer")
    assert me.why == "roles.default (user and groups not listed)"
    assert asked == ["nobody"]
    dave = resolve_identity(ROLES, "operator", {"SUDO_USER": "dave"}, euid=0, groups_of=spy)
    assert (dave.user, dave.via_sudo, dave.role) == ("dave", True, "admin")


@pytest.mark.parametrize("sudo_user", ["root", ""])
def test_sudo_to_root_from_root_or_no_sudo_is_root_itself(sudo_user: str) -> None:
    env = {"SUDO_USER": sudo_user} if sudo_user else {}
    root = as_root(env)
    assert (root.user, root.via_sudo, root.groups) == ("root", False, ("root",))
    assert root.role == "viewer"  # root is not listed: roles.default, no role for being root


def test_the_ssh_client_address_comes_from_ssh_connection_then_ssh_client() -> None:
    connection = {"SSH_CONNECTION": "203.0.113.7 50522 10.0.0.5 22"}
    client = {"SSH_CLIENT": "198.51.100.4 50522 22"}
    assert ssh_client_of(connection) == "203.0.113.7"
    assert ssh_client_of(client) == "198.51.100.4"
    assert ssh_client_of({**client, **connection}) == "203.0.113.7"
    assert ssh_client_of({"SSH_CONNECTION": "2001:db8::7 50522 2001:db8::1 22"}) == "2001:db8::7"
    assert ssh_client_of({}) is None
    assert ssh_client_of({"SSH_CONNECTION": "", "SSH_CLIENT": "  "}) is None
    remote = as_root({"SUDO_USER": "alice", **connection})
    assert remote.ssh_client == "203.0.113.7"
    assert as_root({"SUDO_USER": "alice"}).ssh_client is None  # a local session
    assert remote.host == socket.gethostname()


def _id(*args: str) -> list[str]:
    return subprocess.run(["id", *args], capture_output=True, text=True, check=True).stdout.split()


def test_the_real_lookup_gives_the_current_users_real_groups() -> None:
    me = resolve_identity(None, "operator", {}, euid=os.geteuid())  # the real passwd and group files
    [login] = _id("-un")
    assert me.user == login == pwd.getpwuid(os.geteuid()).pw_name
    assert set(me.groups) == set(_id("-Gn", login))
    assert me.groups[0] == _id("-gn", login)[0]  # the primary group first
    # A role given to the user's real primary group reaches them.
    by_group = resolve_identity(RoleSettings(groups={me.groups[0]: "admin"}), "viewer", {},
                                euid=os.geteuid())
    assert (by_group.role, by_group.why) == ("admin", f"group {me.groups[0]} in roles.groups")


def test_the_real_lookup_of_another_user_through_sudo() -> None:
    other = resolve_identity(None, "operator", {"SUDO_USER": "nobody"}, euid=0)
    assert (other.user, other.via_sudo) == ("nobody", True)
    assert set(other.groups) == set(_id("-Gn", "nobody"))
    # As an ordinary process the uid decides, whatever SUDO_USER says.
    same = resolve_identity(None, "operator", {"SUDO_USER": "root"}, euid=NOBODY.pw_uid)
    assert (same.user, same.via_sudo, same.groups) == ("nobody", False, other.groups)


def test_an_unknown_user_has_no_groups_and_the_default_role() -> None:
    stranger = resolve_identity(ROLES, "operator", {"SUDO_USER": "no-such-user-x9"}, euid=0)
    assert (stranger.user, stranger.groups, stranger.role) == ("no-such-user-x9", (), "viewer")

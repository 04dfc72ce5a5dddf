"""Who is acting, shown where every operator of a shared bastion looks first: the header
names the user and the role beside the profile (on 80 columns too, and beside the
READ-ONLY badge); a refused action says which role it needs; a start-up warning is
said once; and no toast shows a secret."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual.widgets import Static

from config.redaction import redact
from providers.actions import ActionGate, AuditLog
from providers.runtime import Runtime
from providers.store import Store
from tests.support.apps import FIXED_NOW, RecordedHostProvider, audit_records, messages
from tui.app import StacktopApp
from widgets.header_bar import HeaderBar, fit_identity

TALL = (120, 40)
SHORT = (80, 24)


def app_as(tmp_path: Path, user: str, role: str, *, profile: str = "test", read_only: bool = False,
           warnings: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> StacktopApp:
    runtime = Runtime([RecordedHostProvider()], Store(120), max_concurrency=2,
                      redact=partial(redact, secrets=secrets))
    gate = ActionGate(runtime.providers, AuditLog(tmp_path / "audit.jsonl"), read_only=read_only, role=role,
                      user=user, refresh=runtime.refresh, host="bastion-1", ssh_client="203.0.113.7",
                      profile=profile)
    return StacktopApp(runtime, gate, profile=profile, read_only=read_only, clock=lambda: FIXED_NOW,
                       start_runtime=False, warnings=warnings)


def identity(app: StacktopApp) -> str:
    return app.query_one(HeaderBar).identity_text


async def poll(pilot) -> None:  # type: ignore[no-untyped-def]
    for name in list(pilot.app.runtime.providers):
        await pilot.app.runtime.poll_provider(name)
    await pilot.pause()


async def test_the_header_shows_the_user_and_the_role_beside_the_profile(tmp_path: Path) -> None:
    app = app_as(tmp_path, "alice", "viewer")
    async with app.run_test(size=TALL) as pilot:
        await pilot.pause()
        assert identity(app) == "profile: test · alice (viewer)"
    app = app_as(tmp_path, "carol", "admin", read_only=True)
    async with app.run_test(size=SHORT) as pilot:
        await pilot.pause()
        assert identity(app) == "profile: test · carol (admin)"
        assert str(app.query_one("#badge", Static).render()) == "READ-ONLY"  # the badge stays


async def test_80_columns_shorten_the_profile_before_the_user_and_the_role(tmp_path: Path) -> None:
    profile = "payments-production-eu-west-1-and-us-east-1-primary"
    app = app_as(tmp_path, "alice", "operator", profile=profile, read_only=True)
    async with app.run_test(size=SHORT) as pilot:
        await pilot.pause()
        shown = identity(app)
        assert shown.endswith(" · alice (operator)")
        assert shown.startswith("payments-production") and "…" in shown and "profile:" not in shown
        room = app.query_one("#profile", Static).size.width
        assert len(shown) < room  # one cell of air before the badge
        assert "READ-ONLY" in app.export_screenshot()
    # the wordings in order, on their own
    assert fit_identity("prod", "alice", "operator", 40) == ("profile: prod", " · ", "alice (operator)")
    assert fit_identity("prod", "alice", "operator", 24) == ("prod", " · ", "alice (operator)")
    assert fit_identity("production", "alice", "operator", 27) == ("product…", " · ", "alice (operator)")
    assert fit_identity("production", "alice", "operator", 24) == ("", "", "alice (operator)")
    assert fit_identity("production", "alice", "operator", 16) == ("", "", "alice (operator)")
    assert fit_identity("production", "alice", "operator", 10) == ("", "", "alice (op…")


async def test_a_refused_action_says_which_role_it_needs(tmp_path: Path) -> None:
    app = app_as(tmp_path, "alice", "viewer")
    async with app.run_test(size=TALL) as pilot:
        await poll(pilot)
        await pilot.press("k")  # terminate the selected process
        for _ in range(50):
            await pilot.pause()
            if messages(app):
                break
        assert messages(app)[-1] == ("Terminate refused: it is disruptive and needs the operator role; "
                                     "alice is viewer (roles in the profile)")
        record = audit_records(tmp_path)[-1]
        assert (record["user"], record["role"], record["result"], record["host"], record["ssh_client"]) == (
            "alice", "viewer", "refused", "bastion-1", "203.0.113.7")


async def test_a_start_up_warning_is_said_once_without_its_secret(tmp_path: Path) -> None:
    secret = "Sw0rdf1sh-prod"
    warning = (f"/etc/stacktop/config.yaml holds secrets (password={secret}) and is readable by others: "
               "chmod 600 /etc/stacktop/config.yaml")
    app = app_as(tmp_path, "alice", "operator", warnings=(warning,), secrets=(secret,))
    async with app.run_test(size=TALL) as pilot:
        await pilot.pause()
        shown = [n for n in app._notifications]
        assert len(shown) == 1 and shown[0].severity == "warning"
        assert "chmod 600 /etc/stacktop/config.yaml" in shown[0].message
        assert secret not in shown[0].message and "***" in shown[0].message
        await pilot.press("r")  # another toast: the warning is not said again
        await pilot.pause()
        assert sum("readable by others" in m for m in messages(app)) == 1
        assert secret not in app.export_screenshot()

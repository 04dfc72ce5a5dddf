"""The HA tab over a real three-member Patroni cluster on etcd, driven by keys:
a switchover chosen in the tab makes the candidate leader and the tab and its
timeline show it; a killed leader fails over, the tab shows the new leader, keeps
the dead one in the tree as unreachable, and the timeline records it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from config.model import HaClusterSettings, PatroniSettings
from providers.ha.build import collector_for
from providers.ha.provider import HaClusterProvider
from providers.ha.timeline import Timeline
from tests.support.apps import audit_records, build_app, polled
from tests.support.patroni import PatroniCluster, patroni_cluster  # noqa: F401
from tui.app import StacktopApp
from tui.screens.ha_view import HaView
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog

pytestmark = pytest.mark.integration


def cell(app: StacktopApp, key: str, column: str) -> str:
    table = app.query_one(HaView).table
    found = table.row_cells(key)
    if found is None:
        return ""
    return str(dict(zip([c.key for c in table.columns], found, strict=True))[column]).strip()


def timeline(app: StacktopApp) -> str:
    return str(app.query_one(HaView).query_one(".timeline-events").render())


def switched(text: str, old: str, new: str) -> bool:
    """The timeline shows the leader moving from `old` to `new`, directly or through a
    poll that saw no leader at all."""
    return f"leader {old} → {new}" in text or (
        f"no leader (was {old})" in text and f"leader none → {new}" in text)


async def until(pilot, check: Callable[[], bool], timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Wait poll by poll (each poll is an event) until `check` holds on screen."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not on screen within {timeout:g} s")
        event = polled(pilot.app, "ha.main")
        try:
            async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                await event.wait()
        except TimeoutError:
            pass
        await pilot.pause()


async def test_switchover_from_the_tab_then_a_killed_leader_fails_over(
        patroni_cluster: PatroniCluster, tmp_path: Path) -> None:  # noqa: F811
    cluster = patroni_cluster
    await cluster.wait_for_async(cluster.is_healthy, 90, "a healthy cluster")
    settings = HaClusterSettings(name="main", engine="patroni", interval=1.0, connect_timeout=1.0,
                                 statement_timeout=2.0, patroni=PatroniSettings(
                                     urls=tuple(cluster.rest_urls), username=cluster.rest_username,
                                     password=cluster.rest_password))
    provider = HaClusterProvider(settings, collector_for(settings), Timeline(str(tmp_path / "t.jsonl")))
    app = build_app(tmp_path, providers=[provider], role="operator")  # a switchover is disruptive
    old = cluster.leader()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: cell(app, "main", "endpoint").startswith(f"leader {old}"), 20,
                    f"leader {old}")
        await until(pilot, lambda: cell(app, "main", "state") == "healthy", 30, "a healthy cluster")

        # Switchover: x, the first eligible candidate (the leader is listed, greyed), the cluster's name.
        await pilot.press("x")
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, ChoiceDialog):
                break
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        assert dialog.reason(old) == "is the leader"
        candidate = dialog.enabled_ids[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*"main", "enter")
        await until(pilot, lambda: cell(app, "main", "endpoint").startswith(f"leader {candidate}"), 30,
                    f"the new leader {candidate}")
        # A poll may fall between the old leader's release and the new one's promotion:
        # then the timeline says so in two entries instead of one.
        await until(pilot, lambda: switched(timeline(app), old, candidate), 10, "the timeline entry")
        assert cell(app, f"main/{candidate}", "role") != cell(app, f"main/{old}", "role")
        # The tab may show the new leader before Patroni's 200 ends the action (it answers
        # once the new leader runs, and a poll can land in between): the audit follows the 200.
        await app.workers.wait_for_complete()
        [record] = audit_records(tmp_path)
        assert (record["action"], record["result"], record["params"], record["role"]) == (
            "ha.switchover", "ok", {"candidate": candidate}, "operator")

        # A crash: the leader's Patroni and PostgreSQL are killed; Patroni fails over after its ttl.
        await cluster.wait_for_async(cluster.is_healthy, 90, f"{old} back as a replica")
        cluster.kill_member(candidate)
        try:
            await until(pilot, lambda: cell(app, f"main/{candidate}", "state") == "unreachable", 15,
                        f"{candidate} unreachable")
            await until(pilot, lambda: not cell(app, "main", "endpoint").startswith(f"leader {candidate}")
                        and cell(app, "main", "endpoint").startswith("leader "), cluster.ttl + 40,
                        "a new leader after the failover")
            new = cell(app, "main", "endpoint").split()[1]
            assert new != candidate
            await until(pilot, lambda: f"leader {candidate} → {new}" in timeline(app)
                        or f"no leader (was {candidate})" in timeline(app), 5, "the failover in the timeline")
            # The dead former leader stays in the tree, marked unreachable.
            assert cell(app, f"main/{candidate}", "state") == "unreachable"
        finally:
            cluster.start_member(candidate)
    await cluster.wait_for_async(cluster.is_healthy, 90, f"{candidate} rejoined")
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert switched("\n".join(lines), old, candidate)  # kept in the timeline file

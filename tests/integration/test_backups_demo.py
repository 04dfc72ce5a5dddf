"""The `--demo` Backups backend read by the real providers: the newcomer sees one RPO
breach, one missed schedule and one stale restore test, next to healthy EBS and RDS
targets whose snapshots sit in the demo's moto with the times of a real history."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest

from config.loader import load_settings
from providers.backups.build import build_backup_providers
from providers.backups.model import BREACH, OK, STALE, TargetSnapshot
from tui.cli import DEMO_CONFIG
from tui.demo.aws_fleet import MotoDemoBackend
from tui.demo.backups_demo import BackupsDemoBackend
from tui.demo.harness import DemoHarness

pytestmark = pytest.mark.integration

DAY = 86400.0


@pytest.fixture(scope="module")
def demo_snapshots() -> Iterator[dict[str, TargetSnapshot]]:
    moto = MotoDemoBackend(pump_interval=3600.0)
    backups = BackupsDemoBackend(aws=moto)
    with DemoHarness([moto, backups]) as harness:
        settings = harness.configure(load_settings(str(DEMO_CONFIG)))
        providers = build_backup_providers(settings, read_only=True)

        async def poll_all() -> dict[str, TargetSnapshot]:
            return {p.settings.name: await p.poll() for p in providers}

        yield asyncio.run(poll_all())
    assert backups.dir is None  # stopped: its temporary directory is gone


def test_the_demo_shows_a_breach_a_missed_schedule_and_a_stale_restore_test(
        demo_snapshots: dict[str, TargetSnapshot]) -> None:
    orders, analytics, reports = (demo_snapshots[n] for n in ("orders-db", "analytics-db", "reports-db"))
    assert analytics.rpo_status == BREACH and analytics.status == "bad"
    assert analytics.age is not None and analytics.age > 3 * DAY
    assert reports.schedule is not None and reports.schedule.missed and reports.rpo_status == OK
    assert orders.verify_status == STALE and orders.verification is not None and orders.verification.ok
    assert orders.rpo_status == OK and orders.schedule is not None and not orders.schedule.missed
    assert len(orders.plan.delete) > 0 and len(orders.plan.keep) >= 7  # GFS has work to show


def test_demo_snapshots_in_moto_carry_a_daily_history(demo_snapshots: dict[str, TargetSnapshot]) -> None:
    ebs, rds = demo_snapshots["web-data"], demo_snapshots["orders-pg"]
    times = sorted((b.time for b in ebs.backups if b.id.startswith("snap-")), reverse=True)
    gaps = {round((a - b) / DAY) for a, b in itertools.pairwise(times)}
    assert len(times) >= 10 and 1 in gaps  # backdated nightly, not all "now"
    assert ebs.rpo_status == OK and len(ebs.plan.delete) >= 3
    kinds = {b.kind for b in rds.backups}
    assert {"manual", "automated"} <= kinds
    assert all(not b.deletable for b in rds.backups if b.kind == "automated")

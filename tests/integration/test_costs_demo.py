"""The demo's Costs tab has something true to show: the Cost Explorer answers the
demo injects into its moto add up on screen, each budget is in the state the demo
promises (the staging budget fires the bundled BudgetNearlySpent rule), and every
piece of seeded waste is found with its saving, beside the AWS demo fleet's own
orphaned volumes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config import load_settings
from providers.costs.model import BudgetState, CostsSnapshot, FindingKind
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.store import Store
from tui.cli import DEMO_CONFIG
from tui.demo.aws_fleet import MotoDemoBackend
from tui.demo.ce_results import steady_days
from tui.demo.costs_demo import DAILY, GROWTH, WEEKEND, CostsDemoBackend
from tui.demo.harness import DemoHarness

pytestmark = pytest.mark.integration


async def test_the_demo_costs_tab_adds_up_and_finds_the_seeded_waste() -> None:
    moto = MotoDemoBackend(pump_interval=3600.0)
    costs = CostsDemoBackend(aws=moto)
    with DemoHarness([moto, costs]) as harness:
        settings = harness.configure(load_settings(str(DEMO_CONFIG)))
        assert settings.costs.cache_file.startswith(str(costs.dir))  # never the user's cache
        providers = [p for p in build_providers(settings) if p.name in ("costs", "alerts")]
        runtime = Runtime(providers, Store(10), max_concurrency=4)
        try:
            await runtime.poll_once(["costs"])
            await runtime.poll_once(["alerts"])
        finally:
            await runtime.stop()
            for provider in providers:
                await provider.close()
        stored = runtime.store.latest("costs")
        assert stored is not None, runtime.states["costs"].last_error
        snap = stored.snapshot
        assert isinstance(snap, CostsSnapshot)

        today = datetime.now(UTC).date()
        month = today.strftime("%Y-%m")
        days = steady_days(month, today, DAILY, growth=GROWTH, weekend=WEEKEND)
        mtd = sum(sum(groups.values()) for day, groups in days.items() if day.startswith(month))
        assert snap.spend is not None and snap.spend_error is None
        assert snap.spend.month_to_date == pytest.approx(mtd)
        assert {line.label for line in snap.spend.by_account} == {"prod", "staging"}
        budgets = {b.name: b for b in snap.budgets}
        assert budgets["rds"].state is BudgetState.OK
        if mtd:  # on the 1st nothing is spent yet and no budget can be nearly spent
            assert budgets["staging"].ratio == pytest.approx(0.93, abs=0.001)
            assert budgets["monthly"].state is not BudgetState.OK  # the forecast passes it
            alerts = runtime.store.latest("alerts")
            assert alerts is not None
            firing = {dict(a.labels).get("budget") for a in alerts.snapshot.alerts  # type: ignore[attr-defined]
                      if a.name == "BudgetNearlySpent" and a.state == "firing"}
            assert firing == {"staging"}

        found = {(f.kind.value, f.resource_id, f.monthly_savings) for f in snap.findings}
        assert costs.fleet.expected_set() <= found
        orphans = [f for f in snap.findings if f.kind is FindingKind.UNATTACHED_VOLUME
                   and f.resource_id not in {e.resource_id for e in costs.fleet.expected}]
        assert orphans, "the AWS demo fleet's orphaned volumes are waste too"
        assert snap.potential_savings > costs.fleet.total_savings()
        assert snap.recommendations_note.startswith("not available")

"""The costs provider end to end against moto in server mode: Cost Explorer answers
injected, a fleet with known waste seeded, everything read through the real
settings, the runtime, the disk cache and the ActionGate.

Requests are counted over the wire by the FaultProxy in front of moto.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_settings
from config.model import BudgetSettings, Settings
from providers.actions import ActionGate, AuditLog, ConfirmRequest, Outcome
from providers.costs.action_specs import DELETE_VOLUME, RELEASE_ADDRESS, TARGET_KIND
from providers.costs.build import build_costs_providers
from providers.costs.model import CostsSnapshot, Finding, FindingKind
from providers.costs.provider import CostsProvider
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.store import Store
from tests.support.aws import DEFAULT_ACCOUNT, FaultProxy, boto_client
from tui.demo.ce_results import cost_and_usage_result, inject, steady_days
from tui.demo.costs_fleet import WasteFleet, seed_waste

pytestmark = pytest.mark.integration

EC2, RDS = "Amazon Elastic Compute Cloud - Compute", "Amazon Relational Database Service"
PER_DAY = {(EC2, DEFAULT_ACCOUNT): 100.0, (RDS, DEFAULT_ACCOUNT): 40.0}


def today() -> Any:
    return datetime.now(UTC).date()


def write_config(tmp_path: Path, endpoint: str, extra: str = "") -> Path:
    path = tmp_path / "costs.yaml"
    path.write_text(f"""providers:
  host: {{enabled: false}}
  aws:
    accounts:
      - name: prod
        endpoint_url: {endpoint}
        access_key_id: testing
        secret_access_key: ${{STACKTOP_TEST_AWS_SECRET}}
        regions: [us-east-1]
costs:
  cache_file: {tmp_path / 'cache.json'}
  budgets:
    - {{name: monthly, amount: 100000}}
    - {{name: ec2, amount: 10, service: {EC2}}}
{extra}""")
    return path


def kept_by_backups(fleet: WasteFleet) -> str:
    """The backups target whose retention keeps the fleet's shop-orders snapshots."""
    return (f"backups:\n  targets:\n    - name: shop-orders\n      source: {{ebs: {{account: prod, "
            f"region: {fleet.region}, volume_id: {fleet.kept_volume}}}}}\n")


def settings_for(tmp_path: Path, endpoint: str, extra: str = "") -> Settings:
    return load_settings(str(write_config(tmp_path, endpoint, extra)),
                         env={"HOME": str(tmp_path), "STACKTOP_TEST_AWS_SECRET": "testing"})


def injected_days(moto_url: str) -> dict[str, dict[tuple[str, str], float]]:
    day = today()
    days = steady_days(day.strftime("%Y-%m"), day, PER_DAY)
    inject(moto_url, [cost_and_usage_result(days)])
    return days


RUNTIMES: dict[int, Runtime] = {}


async def poll(settings: Settings, *, read_only: bool = True) -> tuple[CostsProvider, CostsSnapshot]:
    """One poll through a runtime, left running so actions have its thread pool;
    `close` stops both."""
    [provider] = build_costs_providers(settings, read_only=read_only)
    assert isinstance(provider, CostsProvider)
    store = Store(10)
    runtime = RUNTIMES[id(provider)] = Runtime([provider], store, max_concurrency=4)
    await runtime.poll_once(["costs"])
    stored = store.latest("costs")
    assert stored is not None, runtime.states["costs"].last_error
    assert isinstance(stored.snapshot, CostsSnapshot)
    return provider, stored.snapshot


async def close(provider: CostsProvider) -> None:
    runtime = RUNTIMES.pop(id(provider), None)
    if runtime is not None:
        await runtime.stop()
    await provider.close()


@pytest.fixture
def fleet(moto_url: str) -> Iterator[WasteFleet]:
    yield seed_waste(moto_url)


@pytest.fixture
async def proxy_settings(tmp_path: Path, fault_proxy: FaultProxy, moto_url: str,
                         fleet: WasteFleet) -> AsyncIterator[Settings]:
    injected_days(moto_url)
    yield settings_for(tmp_path, fault_proxy.url, extra=kept_by_backups(fleet))


async def test_spend_budgets_findings_and_advice_in_one_snapshot(
        proxy_settings: Settings, fault_proxy: FaultProxy, moto_url: str, fleet: WasteFleet) -> None:
    provider, snap = await poll(proxy_settings)
    try:
        month = today().strftime("%Y-%m")
        days = steady_days(month, today(), PER_DAY)
        mtd = sum(sum(v.values()) for d, v in days.items() if d.startswith(month))
        assert snap.spend_error is None and snap.spend is not None
        assert snap.spend.month_to_date == pytest.approx(mtd)
        assert [line.label for line in snap.spend.by_account] == ["prod"]  # the configured name
        budgets = {b.name: b for b in snap.budgets}
        assert budgets["monthly"].ratio == pytest.approx(mtd / 100000)
        ec2_mtd = sum(v[(EC2, DEFAULT_ACCOUNT)] for d, v in days.items() if d.startswith(month))
        assert budgets["ec2"].spent == pytest.approx(ec2_mtd)
        assert budgets["ec2"].state.value == ("over" if ec2_mtd >= 10 else "ok")
        found = {(f.kind.value, f.resource_id, f.monthly_savings) for f in snap.findings}
        assert found == fleet.expected_set()
        assert snap.potential_savings == pytest.approx(fleet.total_savings())
        assert [f.monthly_savings for f in snap.findings] == sorted(
            (f.monthly_savings for f in snap.findings), reverse=True)
        assert snap.recommendations_note.startswith("not available: ")
        assert "bundled table of" in snap.price_note
        assert fault_proxy.operations("ce").count("GetCostAndUsage") == 1
        assert snap.ce_requests == len(fault_proxy.operations("ce"))
    finally:
        await close(provider)


async def test_a_restart_within_the_hour_sends_no_cost_explorer_request(
        proxy_settings: Settings, fault_proxy: FaultProxy) -> None:
    first, before = await poll(proxy_settings)
    await close(first)
    paid = len(fault_proxy.operations("ce"))
    assert paid >= 1
    second, after = await poll(proxy_settings)  # a new process: only the cache file is shared
    try:
        assert len(fault_proxy.operations("ce")) == paid
        assert after.ce_requests == 0
        assert after.spend is not None and before.spend is not None
        assert after.spend.month_to_date == before.spend.month_to_date
        assert after.spend.fetched_at == before.spend.fetched_at  # the data's age is honest
    finally:
        await close(second)


async def test_missing_cost_explorer_permission_is_one_line_and_findings_still_show(
        proxy_settings: Settings, fault_proxy: FaultProxy, fleet: WasteFleet) -> None:
    fault_proxy.deny("ce")
    provider, snap = await poll(proxy_settings)
    try:
        assert snap.spend is None and snap.spend_error is not None
        assert "\n" not in snap.spend_error and "ce:GetCostAndUsage" in snap.spend_error
        assert {f.resource_id for f in snap.findings} == {e.resource_id for e in fleet.expected}
    finally:
        await close(provider)


async def test_an_empty_month_is_zero_spend_not_an_error(tmp_path: Path, moto_url: str) -> None:
    # Nothing injected: Cost Explorer answers no rows, as for a new account.
    settings = settings_for(tmp_path, moto_url)
    settings = dataclasses.replace(settings, costs=dataclasses.replace(
        settings.costs, waste=dataclasses.replace(settings.costs.waste, enabled=False)))
    provider, snap = await poll(settings)
    try:
        assert snap.spend_error is None and snap.spend is not None
        assert snap.spend.month_to_date == 0 and snap.spend.by_service == ()
        assert all(b.ratio == 0 for b in snap.budgets)
    finally:
        await close(provider)


class Gate:
    def __init__(self, provider: CostsProvider, tmp_path: Path, *, read_only: bool) -> None:
        self.audit = tmp_path / "audit.jsonl"
        self.gate = ActionGate({provider.name: provider}, AuditLog(self.audit), read_only=read_only,
                               role="admin", user="tester", refresh=lambda _: None)
        self.asked: list[ConfirmRequest] = []

    async def run(self, spec: Any, finding: Finding, typed: str) -> Any:
        async def confirm(request: ConfirmRequest) -> str:
            self.asked.append(request)
            return typed

        key = "volume_id" if spec is DELETE_VOLUME else "allocation_id"
        target_name = finding.name if spec is RELEASE_ADDRESS else finding.resource_id
        from providers.base import ActionTarget

        target = ActionTarget(TARGET_KIND[spec.id], finding.resource_id, target_name, {
            "account": finding.account, "region": finding.region,
            key: finding.detail(key) or finding.resource_id, "public_ip": finding.detail("public_ip")})
        return await self.gate.execute(spec, target, confirm)


def finding_of(snap: CostsSnapshot, kind: FindingKind) -> Finding:
    return next(f for f in snap.findings if f.kind is kind)


async def test_delete_volume_and_release_address_through_the_gate(
        tmp_path: Path, moto_url: str, fleet: WasteFleet) -> None:
    injected_days(moto_url)
    provider, snap = await poll(settings_for(tmp_path, moto_url, kept_by_backups(fleet)), read_only=False)
    try:
        volume = finding_of(snap, FindingKind.UNATTACHED_VOLUME)
        address = finding_of(snap, FindingKind.UNASSOCIATED_EIP)
        gate = Gate(provider, tmp_path, read_only=False)
        wrong = await gate.run(DELETE_VOLUME, volume, "vol-not-this-one")
        assert wrong.outcome is Outcome.CANCELLED
        done = await gate.run(DELETE_VOLUME, volume, volume.resource_id)
        assert done.outcome is Outcome.DONE, done.message
        assert gate.asked[-1].must_type == volume.resource_id
        released = await gate.run(RELEASE_ADDRESS, address, address.name)
        assert released.outcome is Outcome.DONE, released.message
        ec2 = boto_client("ec2", moto_url)
        volumes = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
        assert volume.resource_id not in volumes
        allocations = {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}
        assert address.detail("allocation_id") not in allocations
        left = provider.snapshot()
        assert volume.resource_id not in {f.resource_id for f in left.findings}
        assert address.resource_id not in {f.resource_id for f in left.findings}
        records = [json.loads(line) for line in gate.audit.read_text().splitlines()]
        assert [r["result"] for r in records] == ["cancelled", "ok", "ok"]
        assert records[1]["action"] == DELETE_VOLUME.id and records[1]["target"]["id"] == volume.resource_id
    finally:
        await close(provider)


async def test_watch_mode_never_deletes(tmp_path: Path, moto_url: str, fleet: WasteFleet) -> None:
    injected_days(moto_url)
    provider, snap = await poll(settings_for(tmp_path, moto_url), read_only=True)
    try:
        volume = finding_of(snap, FindingKind.UNATTACHED_VOLUME)
        gate = Gate(provider, tmp_path, read_only=True)
        refused = await gate.run(DELETE_VOLUME, volume, volume.resource_id)
        assert refused.outcome is Outcome.REFUSED and "read-only" in refused.message
        # Below the gate too: the read-only session refuses DeleteVolume before sending it.
        from providers.base import ActionTarget

        direct = await provider.action_callable(DELETE_VOLUME.id)(ActionTarget(
            "ebs-volume", volume.resource_id, volume.resource_id,
            {"account": "prod", "region": volume.region, "volume_id": volume.resource_id}))
        assert not direct.ok and "read-only" in direct.message and "\n" not in direct.message
        ec2 = boto_client("ec2", moto_url)
        assert volume.resource_id in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    finally:
        await close(provider)


async def test_a_nearly_spent_budget_fires_the_bundled_rule(tmp_path: Path, moto_url: str) -> None:
    days = injected_days(moto_url)
    month = today().strftime("%Y-%m")
    mtd = sum(sum(v.values()) for d, v in days.items() if d.startswith(month))
    settings = settings_for(tmp_path, moto_url, extra=f"alerts:\n  state_file: {tmp_path / 'alerts.db'}\n")
    budget = BudgetSettings(name="tight", amount=max(mtd / 0.95, 1.0))
    settings = dataclasses.replace(settings, costs=dataclasses.replace(
        settings.costs, budgets=(budget,), waste=dataclasses.replace(settings.costs.waste, enabled=False)))
    providers = [p for p in build_providers(settings) if p.name in ("costs", "alerts")]
    store = Store(10)
    runtime = Runtime(providers, store, max_concurrency=4)
    try:
        await runtime.poll_once(["costs"])
        await runtime.poll_once(["alerts"])
        alerts = store.latest("alerts")
        assert alerts is not None
        firing = [a for a in alerts.snapshot.alerts  # type: ignore[attr-defined]
                  if a.name == "BudgetNearlySpent" and a.state == "firing"]
        if mtd > 0:  # on the 1st of a month nothing is spent yet, and nothing may fire
            assert [dict(a.labels)["budget"] for a in firing] == ["tight"]
            assert firing[0].value == pytest.approx(0.95, abs=0.001)
        else:
            assert firing == []
    finally:
        await runtime.stop()
        for p in providers:
            await p.close()


def test_profiles_get_costs_when_they_have_aws_and_not_when_disabled(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "http://127.0.0.1:9")
    assert "costs" in {p.name for p in build_providers(settings)}
    off = settings_for(tmp_path, "http://127.0.0.1:9", extra="  enabled: false\n")
    assert "costs" not in {p.name for p in build_providers(off)}
    asyncio.run(_close_all(build_providers(settings)))


async def _close_all(providers: list[Any]) -> None:
    for provider in providers:
        await close(provider)

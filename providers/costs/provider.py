"""The `costs` provider: spend, budgets, waste and Kubernetes namespaces in one snapshot.

Its parts move at different speeds and cost different amounts, so each has its
own clock. Cost Explorer answers come through the explorer's disk cache: a poll
every minute sends a paid request at most once per `costs.interval` (hourly),
and a restart within the hour sends none. The waste scan (free Describe calls
and one GetMetricData per partition) runs in the background every
`waste.interval` and wakes the provider when it is done, so the first screen
does not wait for it. Kubernetes namespace costs are recomputed every poll from
the k8s providers' latest snapshots (no request at all).

A part that fails keeps its last good answer on screen with one line saying
what to fix; the others carry on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from config.model import AwsAccountSettings, BackupTargetSettings, CostsSettings
from providers.aws.errors import explain
from providers.aws.session import AccountClients
from providers.base import ActionCallable, ActionResult, ActionTarget, Provider
from providers.costs.action_specs import ACTIONS, DELETE_VOLUME, RELEASE_ADDRESS
from providers.costs.budgets import budget_statuses, read_aws_budgets
from providers.costs.cache import CostCache
from providers.costs.explorer import CostExplorer, CostsError
from providers.costs.model import BudgetStatus, CostsSnapshot, Finding, NamespaceCost, Recommendation, Spend
from providers.costs.prices import PriceTable
from providers.costs.waste import scan_partition, snapshot_keeper, sort_findings

log = logging.getLogger(__name__)

POLL_INTERVAL = 60.0
"""How often the snapshot is rebuilt: cheap (cache hits, no request), and keeps data ages honest."""
ALL_ENABLED = "all-enabled"
KUBE_STATE_KEY = "kubernetes-meter"


class CostsProvider(Provider):
    """`costs`: every part of the Costs tab, each on its own clock."""

    def __init__(
        self,
        settings: CostsSettings,
        accounts: Sequence[AccountClients],
        *,
        ce_account: AccountClients | None,
        backup_targets: Sequence[BackupTargetSettings] = (),
        kubernetes: bool = False,
        month: str | None = None,
        timeout: float = 300.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__("costs", POLL_INTERVAL, timeout)
        self.settings = settings
        self.accounts = {a.name: a for a in accounts}
        self.ce_account = ce_account
        self.backup_targets = tuple(backup_targets)
        self.kubernetes = kubernetes and settings.kubernetes.enabled
        self.month = month
        """A past month for `report costs --month`; None: the current one."""
        self._clock = clock
        self._monotonic = monotonic
        self.cache = CostCache(settings.cache_file)
        self.explorer: CostExplorer | None = None
        if ce_account is not None:
            self.explorer = CostExplorer(lambda: ce_account.client("ce", "us-east-1"), self.cache,
                                         metric=settings.metric, ttl=settings.interval, clock=clock,
                                         use_forecast=settings.forecast, account=ce_account.name)
        self._prices: PriceTable | None = None
        self._price_error: str | None = None
        self._account_ids: dict[str, str] = {}
        self._spend: Spend | None = None
        self._spend_error: str | None = None
        self._aws_budgets: tuple[BudgetStatus, ...] = ()
        self._budgets_checked = float("-inf")
        self._findings: dict[tuple[str, str], tuple[Finding, ...]] = {}
        self._partition_errors: dict[tuple[str, str], str] = {}
        self._findings_at: float | None = None
        self._scan_due = float("-inf")
        self._scan: asyncio.Task[None] | None = None
        self._recommendations: tuple[Recommendation, ...] = ()
        self._recommendations_note = ""
        self._recs_due = float("-inf")
        self._recs: asyncio.Task[None] | None = None
        self._meter: Any = None
        self._store: Any = None

    def bind_store(self, store: Any) -> None:
        self._store = store

    # -- polling -------------------------------------------------------------

    async def prime(self) -> None:
        """A one-shot read (`snapshot`, `report costs`) waits for the scan and the advice."""
        self._start_background()
        await asyncio.gather(*(t for t in (self._scan, self._recs) if t is not None))

    async def poll(self) -> CostsSnapshot:
        self._start_background()
        await self._price_table()  # once: Kubernetes namespaces need node prices too
        if self.explorer is not None:
            await self._read_spend()
        return self.snapshot()

    def snapshot(self) -> CostsSnapshot:
        """What is known now, without asking anything."""
        findings = sort_findings([f for part in self._findings.values() for f in part])
        budgets: tuple[BudgetStatus, ...] = ()
        if self._spend is not None:
            budgets = budget_statuses(self.settings.budgets, self._spend, self._account_ids)
        prices = self._prices.note if self._prices is not None else (self._price_error or "")
        return CostsSnapshot(
            taken_at=self._clock(),
            spend=self._spend,
            spend_error=self._spend_error,
            budgets=budgets + self._aws_budgets,
            findings=tuple(findings),
            findings_error=self._findings_error(),
            findings_at=self._findings_at,
            recommendations=self._recommendations,
            recommendations_note=self._recommendations_note,
            namespaces=self._namespaces(),
            price_note=prices,
            ce_requests=self.explorer.requests if self.explorer is not None else 0,
        )

    async def _read_spend(self) -> None:
        assert self.explorer is not None
        explorer = self.explorer
        try:
            if not self._account_ids:
                self._account_ids = await self.run_blocking(self._resolve_account_ids)
                explorer.account_labels = {v: k for k, v in self._account_ids.items()}
            self._spend = await self.run_blocking(explorer.spend, self.month)
            self._spend_error = None
        except CostsError as exc:
            self._spend_error = str(exc)  # the last good spend stays on screen
        except Exception as exc:
            account = self.ce_account
            assert account is not None
            self._spend_error = "Cost Explorer: " + explain(
                exc, account=account.name, region="us-east-1", service="ce",
                endpoint=account.account.endpoint_url)
        if self.settings.aws_budgets and self._monotonic() >= self._budgets_checked + self.settings.interval:
            self._budgets_checked = self._monotonic()
            self._aws_budgets = await self._read_aws_budgets()

    def _resolve_account_ids(self) -> dict[str, str]:
        """Configured name -> 12-digit id (STS GetCallerIdentity, free), so Cost Explorer's
        linked accounts show by the names the operator chose. An account that does not
        answer keeps showing as its id."""
        ids: dict[str, str] = {}
        for name, account in self.accounts.items():
            try:
                ids[name] = account.client("sts", account.home_region).get_caller_identity()["Account"]
            except Exception as exc:  # labels only: the spend itself still shows
                log.info("costs: no account id for %s: %s", name, exc)
        return ids

    async def _read_aws_budgets(self) -> tuple[BudgetStatus, ...]:
        account = self.ce_account
        if account is None:
            return ()
        account_id = self._account_ids.get(account.name)
        if not account_id:
            return ()
        client = account.client("budgets", "us-east-1")
        try:
            return tuple(await self.run_blocking(
                lambda: read_aws_budgets(client, account_id, account=account.name)))
        except Exception as exc:  # AWS Budgets is optional: the configured budgets still show
            log.info("costs: AWS Budgets did not answer: %s", exc)
            return self._aws_budgets

    # -- background parts ------------------------------------------------------

    def _start_background(self) -> None:
        now = self._monotonic()
        waste = self.settings.waste
        if waste.enabled and self.accounts and self._idle(self._scan) and now >= self._scan_due:
            self._scan_due = now + waste.interval
            self._scan = asyncio.ensure_future(self._run_scan())
        if (self.settings.recommendations and self.explorer is not None and self._idle(self._recs)
                and now >= self._recs_due):
            self._recs_due = now + self.settings.interval
            self._recs = asyncio.ensure_future(self._run_recommendations())

    @staticmethod
    def _idle(task: asyncio.Task[None] | None) -> bool:
        return task is None or task.done()

    async def _run_recommendations(self) -> None:
        assert self.explorer is not None
        items, note = await self.run_blocking(self.explorer.recommendations)
        self._recommendations, self._recommendations_note = tuple(items), note
        self.wake()

    async def _run_scan(self) -> None:
        try:
            prices = await self._price_table()
            if prices is None:
                return
            pairs = await self._partitions()
            await asyncio.gather(*(self._scan_partition(account, region, prices)
                                   for account, region in pairs))
            self._findings_at = self._clock()
        finally:
            self.wake()

    async def _price_table(self) -> PriceTable | None:
        if self._prices is None and self._price_error is None:
            try:
                self._prices = await self.run_blocking(PriceTable.load, self.settings.waste.prices)
            except (OSError, ValueError) as exc:
                self._price_error = f"costs.waste.prices: {exc}"
        return self._prices

    async def _partitions(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for account in self.accounts.values():
            regions: Sequence[str] = account.account.regions
            if ALL_ENABLED in regions:
                try:
                    client = account.client("ec2", account.home_region)
                    answer = await self.run_blocking(lambda c=client: c.describe_regions(AllRegions=False))
                    regions = sorted(r["RegionName"] for r in answer.get("Regions", ()))
                except Exception as exc:
                    self._partition_errors[(account.name, ALL_ENABLED)] = explain(
                        exc, account=account.name, region=ALL_ENABLED, service="ec2",
                        endpoint=account.account.endpoint_url)
                    continue
            self._partition_errors.pop((account.name, ALL_ENABLED), None)
            pairs += [(account.name, region) for region in regions]
        return pairs

    async def _scan_partition(self, account_name: str, region: str, prices: PriceTable) -> None:
        account = self.accounts[account_name]
        keeper = snapshot_keeper(self.backup_targets, account=account_name, region=region,
                                 home_region=account.home_region)

        def scan() -> list[Finding]:
            return scan_partition(lambda service: account.client(service, region), account=account_name,
                                  region=region, settings=self.settings.waste, prices=prices,
                                  now=self._clock(), keeps_snapshot=keeper)

        try:
            found = await self.run_blocking(scan)
        except Exception as exc:  # this partition's last findings stay; the others carry on
            self._partition_errors[(account_name, region)] = explain(
                exc, account=account_name, region=region, service="ec2",
                endpoint=account.account.endpoint_url)
            return
        self._partition_errors.pop((account_name, region), None)
        self._findings[(account_name, region)] = tuple(found)

    def _findings_error(self) -> str | None:
        errors = self._partition_errors
        if self._price_error:
            return self._price_error
        if not errors:
            return None
        (account, region), first = next(iter(sorted(errors.items())))
        more = f" (and {len(errors) - 1} more account/regions)" if len(errors) > 1 else ""
        return f"waste scan {account}/{region}: {first}{more}"

    # -- Kubernetes ------------------------------------------------------------

    def _namespaces(self) -> tuple[NamespaceCost, ...]:
        if not self.kubernetes or self._store is None:
            return ()
        nodes, pods = self._latest_items("k8s.nodes"), self._latest_items("k8s.pods")
        if nodes is None or pods is None:
            return ()
        from providers.costs.kube_costs import KubeCostMeter, namespace_costs

        if self._meter is None:
            self._meter = KubeCostMeter(max_gap=2 * max(self.interval, 60.0))
            saved = self.cache.get(KUBE_STATE_KEY, float("inf"), self._clock())
            if saved:
                self._meter.restore(saved)
        prices = self._prices

        def node_hourly(region: str, instance_type: str) -> float | None:
            return prices.ec2_hourly(region, instance_type) if prices is not None else None

        rates = namespace_costs(nodes, pods, node_hourly=node_hourly, settings=self.settings.kubernetes)
        now = self._clock()
        out = tuple(self._meter.update(rates, now))
        self.cache.put(KUBE_STATE_KEY, self._meter.state(), now)
        return out

    def _latest_items(self, name: str) -> tuple[Any, ...] | None:
        stored = self._store.latest(name)
        return None if stored is None else tuple(getattr(stored.snapshot, "items", ()))

    # -- actions ---------------------------------------------------------------

    def actions(self) -> list:  # type: ignore[type-arg]
        return list(ACTIONS) if self.accounts else []

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in (DELETE_VOLUME.id, RELEASE_ADDRESS.id):
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            from providers.costs.fixes import FixRefused, delete_volume, release_address

            account_name, region = target.details.get("account", ""), target.details.get("region", "")
            account = self.accounts.get(account_name)
            key = "volume_id" if action_id == DELETE_VOLUME.id else "allocation_id"
            resource = target.details.get(key, "")
            if account is None or not resource:
                return ActionResult(False, f"{target.name}: unknown account or id — refresh and retry")
            client = account.client("ec2", region)
            fix = delete_volume if action_id == DELETE_VOLUME.id else release_address
            try:
                message = await self.run_blocking(fix, client, resource)
            except FixRefused as exc:
                return ActionResult(False, str(exc))
            except Exception as exc:
                return ActionResult(False, f"{target.name}: " + explain(
                    exc, account=account_name, region=region, service="ec2",
                    endpoint=account.account.endpoint_url))
            self._forget(account_name, region, resource)
            return ActionResult(True, message)

        return run

    def _forget(self, account: str, region: str, resource_id: str) -> None:
        """The fixed finding leaves the screen now, not at the next scan."""
        part = self._findings.get((account, region), ())
        self._findings[(account, region)] = tuple(f for f in part if f.resource_id != resource_id)

    async def close(self) -> None:
        for task in (self._scan, self._recs):
            if task is not None and not task.done():
                task.cancel()
        for account in self.accounts.values():
            account.close()


def ce_account_of(settings: CostsSettings,
                  accounts: Sequence[AwsAccountSettings]) -> AwsAccountSettings | None:
    """The account whose Cost Explorer is read: the configured one, else the first."""
    if not accounts:
        return None
    return next((a for a in accounts if a.name == settings.account), accounts[0])

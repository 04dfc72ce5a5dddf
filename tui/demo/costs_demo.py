"""DemoBackend for the Costs tab: Cost Explorer answers injected into the demo's
moto (two months of daily spend for both demo accounts, growing a little each
day), a seeded fleet with known waste (tui/demo/costs_fleet.py), and budgets
chosen so the tab shows every state: the monthly total heading over budget by
the forecast, the staging account's budget nearly spent (the bundled
BudgetNearlySpent rule fires), and a service budget well within.

The cache lives in a temporary directory removed on stop: the demo never reads
or writes the user's Cost Explorer cache.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.model import BudgetSettings, CostsSettings, Settings, WasteSettings

PROD_ID = "123456789012"
STAGING_ID = "210987654321"
EC2 = "Amazon Elastic Compute Cloud - Compute"
RDS = "Amazon Relational Database Service"
# Per-day spend on the first day of last month, in USD: (service, account) -> amount.
DAILY = {
    (EC2, PROD_ID): 142.0, (RDS, PROD_ID): 64.0, ("Amazon Simple Storage Service", PROD_ID): 18.0,
    ("EC2 - Other", PROD_ID): 22.5, ("Amazon Elastic Load Balancing", PROD_ID): 9.1,
    ("AmazonCloudWatch", PROD_ID): 6.2, ("AWS Lambda", PROD_ID): 2.4,
    ("AWS Data Transfer", PROD_ID): 11.3, ("Amazon Elastic Container Service for Kubernetes", PROD_ID): 7.2,
    (EC2, STAGING_ID): 38.0, (RDS, STAGING_ID): 16.0, ("Amazon Simple Storage Service", STAGING_ID): 3.1,
    ("EC2 - Other", STAGING_ID): 6.4, ("Amazon Elastic Load Balancing", STAGING_ID): 4.5,
    ("AmazonCloudWatch", STAGING_ID): 1.5,
}
GROWTH = 0.004
WEEKEND = 0.85
ACCOUNT_NAMES = {PROD_ID: "Example Corp Production", STAGING_ID: "Example Corp Staging"}


class CostsDemoBackend:
    """DemoBackend (see tui/demo/harness.py); `aws` is the started MotoDemoBackend."""

    name = "costs"

    def __init__(self, aws: Any = None, *, now: float | None = None) -> None:
        self.aws = aws
        self.now = now
        self.dir: Path | None = None
        self.fleet: Any = None
        self.budgets: tuple[BudgetSettings, ...] = ()

    def start(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="stacktop-demo-costs-"))
        url = getattr(self.aws, "url", None)
        if url is None:
            return  # no moto: the tab shows what Kubernetes alone gives
        from tui.demo.ce_results import cost_and_usage_result, inject, steady_days
        from tui.demo.costs_fleet import seed_waste

        now = self.now if self.now is not None else time.time()
        today = datetime.fromtimestamp(now, UTC).date()
        month = today.strftime("%Y-%m")
        results = []
        # Today's query first, then tomorrow's: a demo left running past midnight UTC
        # asks a new query, which takes the next result in moto's queue.
        for day in (today, today + timedelta(days=1)):
            series = steady_days(day.strftime("%Y-%m"), day, DAILY, growth=GROWTH, weekend=WEEKEND)
            results.append(cost_and_usage_result(series, account_names=ACCOUNT_NAMES,
                                                 estimated_from=(day - timedelta(days=2)).isoformat()))
        inject(url, results, account_id=PROD_ID)
        series = steady_days(month, today, DAILY, growth=GROWTH, weekend=WEEKEND)
        self.budgets = demo_budgets(series, month)
        self.fleet = seed_waste(url, now=now)

    def stop(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def configure(self, settings: Settings) -> Settings:
        if self.dir is None:
            raise RuntimeError("CostsDemoBackend.configure() before start()")
        costs = CostsSettings(
            cache_file=str(self.dir / "costs-cache.json"),
            budgets=self.budgets,
            waste=WasteSettings(interval=600.0),
        )
        return dataclasses.replace(settings, costs=costs)


def demo_budgets(series: dict[str, dict[tuple[str, str], float]], month: str) -> tuple[BudgetSettings, ...]:
    """Budgets sized from the injected spend so each state shows whatever the date:
    the total forecast beyond its budget, staging 93 % spent, RDS well within."""
    this_month = {day: groups for day, groups in series.items() if day.startswith(month)}
    total = sum(sum(groups.values()) for groups in this_month.values())
    staging = sum(v for groups in this_month.values() for (_, account), v in groups.items()
                  if account == STAGING_ID)
    per_day = sum(DAILY.values())
    return (
        BudgetSettings(name="monthly", amount=round(per_day * 30 * 1.02, -2)),
        BudgetSettings(name="staging", amount=max(round(staging / 0.93, 2), 1.0), account="staging"),
        BudgetSettings(name="rds", amount=max(round(total * 0.6, -1), 100.0), service=RDS),
    )

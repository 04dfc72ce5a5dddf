"""Plain data of the Costs tab, shared by the provider, the screens and the reports.

Money is a float in the bill's currency (`Spend.currency`, USD unless the payer
account bills otherwise); months are "YYYY-MM" and days "YYYY-MM-DD" in UTC, as
Cost Explorer reports them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from providers.base import Sample, Snapshot, labels_of

OWN_FORECAST_METHOD = "estimated: mean of last 7 days"
AWS_FORECAST_METHOD = "AWS Cost Explorer forecast"


@dataclass(frozen=True, slots=True)
class CostLine:
    """One service's or one account's spend this month and last month."""

    key: str
    """The Cost Explorer value: a service name, or a 12-digit account id."""
    label: str
    """What the screen shows: the service name, or the account's configured name."""
    month_to_date: float
    last_month: float


@dataclass(frozen=True, slots=True)
class DailyCost:
    day: str
    amount: float
    estimated: bool = False
    """Cost Explorer marks days whose figures may still change."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """Spend expected by the end of the month (month to date included)."""

    amount: float
    method: str
    """AWS_FORECAST_METHOD or OWN_FORECAST_METHOD, shown next to the figure."""
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class Spend:
    """What Cost Explorer says about one month (and the one before, for comparison)."""

    month: str
    currency: str
    month_to_date: float
    last_month: float
    daily: tuple[DailyCost, ...]
    """Every day of the previous month and of this month so far, oldest first."""
    by_service: tuple[CostLine, ...]
    """Largest month-to-date first."""
    by_account: tuple[CostLine, ...]
    fetched_at: float
    """When Cost Explorer answered (wall clock): the data's age on screen."""
    forecast: Forecast | None = None
    complete: bool = False
    """True for a past month: nothing is still to come."""

    def this_month(self) -> tuple[DailyCost, ...]:
        return tuple(d for d in self.daily if d.day.startswith(self.month))

    def spend_of(self, account: str | None = None, service: str | None = None) -> float:
        """Month to date of one account (id or label) or one service; everything without either."""
        if account:
            return sum(line.month_to_date for line in self.by_account if account in (line.key, line.label))
        if service:
            return sum(line.month_to_date for line in self.by_service if service in (line.key, line.label))
        return self.month_to_date


class BudgetState(enum.Enum):
    OK = "ok"
    WARN = "warn"
    OVER = "over"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    name: str
    scope: str
    """"all spend", "account prod" or "service Amazon Relational Database Service"."""
    amount: float
    spent: float
    forecast: float | None
    source: str
    """"config" or "AWS Budgets"."""
    warn: float = 0.8

    @property
    def ratio(self) -> float:
        return self.spent / self.amount if self.amount else 0.0

    @property
    def forecast_ratio(self) -> float | None:
        return None if self.forecast is None or not self.amount else self.forecast / self.amount

    @property
    def state(self) -> BudgetState:
        worst = max(self.ratio, self.forecast_ratio or 0.0)
        if self.ratio >= 1.0:
            return BudgetState.OVER
        return BudgetState.WARN if worst >= self.warn else BudgetState.OK


class FindingKind(enum.Enum):
    UNATTACHED_VOLUME = "unattached-volume"
    UNASSOCIATED_EIP = "unassociated-eip"
    STOPPED_INSTANCE = "stopped-instance"
    OLD_SNAPSHOT = "old-snapshot"
    IDLE_RDS = "idle-rds"
    IDLE_LB = "idle-load-balancer"
    LOW_CPU_EC2 = "low-utilisation-ec2"
    PREVIOUS_GENERATION = "previous-generation"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of waste and what fixing it saves."""

    kind: FindingKind
    resource_id: str
    """vol-…, eipalloc-…, i-…, snap-…, a DB identifier, a load balancer ARN."""
    name: str
    """The Name tag, the public IP of an address, else the id: what is typed to confirm."""
    account: str
    region: str
    reason: str
    """One line: "unattached for 41 days", "stopped 63 days ago"."""
    evidence: str
    """What was measured: "CPU ≤ 10 % on 9 of 14 days (mean 3.2 %)"."""
    monthly_cost: float
    """What the resource costs a month today (estimated from the price table)."""
    monthly_savings: float
    """What the suggested action saves a month (a downsize saves the difference)."""
    action: str
    """What to do: "delete the volume (snapshot it first if unsure)", "resize to m5.large"."""
    action_id: str = ""
    """The ActionSpec that performs it from the console; "" when only advised."""
    details: tuple[tuple[str, str], ...] = ()
    """Extra facts for the detail pane and the action target (size, type, allocation id)."""

    def detail(self, key: str) -> str:
        return next((v for k, v in self.details if k == key), "")


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A reservation or Savings Plans purchase Cost Explorer suggests."""

    kind: str
    """"Reserved Instances" or "Savings Plans"."""
    description: str
    """"3 x m5.large (us-east-1, Linux)", "Compute Savings Plan, 1.20 USD/hour"."""
    term: str
    payment: str
    upfront: float
    monthly_savings: float
    savings_percent: float | None = None


@dataclass(frozen=True, slots=True)
class NamespaceCost:
    """One namespace's share of its cluster's node cost (requests x node price share)."""

    context: str
    namespace: str
    pods: int
    cpu_request: float
    """Cores requested by its running pods."""
    memory_request: float
    """Bytes requested."""
    hourly: float
    month_to_date: float
    """Accumulated while stacktop watched, plus the current rate over the hours before."""
    month_projection: float
    """The hourly rate over every hour of the month."""


@dataclass(frozen=True)
class CostsSnapshot(Snapshot):
    """Everything the Costs tab shows. Each part may be missing with a one-line note."""

    spend: Spend | None = None
    spend_error: str | None = None
    budgets: tuple[BudgetStatus, ...] = ()
    findings: tuple[Finding, ...] = ()
    """Largest monthly savings first."""
    findings_error: str | None = None
    findings_at: float | None = None
    recommendations: tuple[Recommendation, ...] = ()
    recommendations_note: str = ""
    """Why there are none: "not available: …", "no recommendation for this account"."""
    namespaces: tuple[NamespaceCost, ...] = ()
    price_note: str = ""
    """Which price table the estimates come from: "prices: bundled table of 2026-11-01 (estimates)"."""
    ce_requests: int = 0
    """Paid Cost Explorer requests made by this process (0.01 USD each)."""

    @property
    def potential_savings(self) -> float:
        return sum(f.monthly_savings for f in self.findings)

    def metrics(self) -> Mapping[str, float]:
        out: dict[str, float] = {"potential_savings_monthly": self.potential_savings}
        if self.spend is not None:
            out["month_to_date"] = self.spend.month_to_date
            if self.spend.forecast is not None:
                out["forecast"] = self.spend.forecast.amount
        return out

    def alert_samples(self, provider: str) -> Iterable[Sample]:
        """costs.month_to_date, costs.forecast, costs.potential_savings_monthly, and per
        budget costs.month_to_date_ratio_of_budget{budget} and costs.forecast_ratio_of_budget{budget}."""
        samples = list(super().alert_samples(provider))
        for b in self.budgets:
            labels = labels_of(budget=b.name, source=b.source)
            samples.append(Sample(f"{provider}.month_to_date_ratio_of_budget", labels, b.ratio,
                                  self.taken_at))
            if b.forecast_ratio is not None:
                samples.append(Sample(f"{provider}.forecast_ratio_of_budget", labels, b.forecast_ratio,
                                      self.taken_at))
        return samples

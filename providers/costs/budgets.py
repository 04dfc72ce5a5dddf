"""Budgets: the ones in stacktop's config, measured against Cost Explorer's spend, and
the ones defined in AWS Budgets, which measures them itself.

A configured budget for one account or one service gets a forecast by scaling:
its month to date times (the whole forecast / the whole month to date), i.e. it is
assumed to keep its share of the spend. Without a forecast, or before anything was
spent this month, there is nothing to scale and the forecast is None (never a
division by zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from config.model import BudgetSettings
from providers.costs.explorer import CostsError, one_line
from providers.costs.model import BudgetStatus, Spend

CONFIG_SOURCE = "config"
AWS_SOURCE = "AWS Budgets"
ALL_SPEND = "all spend"
MAX_PAGES = 20


def budget_statuses(budgets: Sequence[BudgetSettings], spend: Spend,
                    account_ids: Mapping[str, str]) -> tuple[BudgetStatus, ...]:
    """Each configured budget against `spend` (account_ids: configured account name -> 12-digit id)."""
    whole = spend.forecast.amount if spend.forecast is not None else None
    out = []
    for budget in budgets:
        if budget.account:
            scope = f"account {budget.account}"
            spent = spend.spend_of(account=account_ids.get(budget.account) or budget.account)
        elif budget.service:
            scope = f"service {budget.service}"
            spent = spend.spend_of(service=budget.service)
        else:
            scope = ALL_SPEND
            spent = spend.month_to_date
        if scope == ALL_SPEND:
            forecast = whole
        elif whole is not None and spend.month_to_date > 0:
            forecast = spent * (whole / spend.month_to_date)
        else:
            forecast = None
        out.append(BudgetStatus(name=budget.name, scope=scope, amount=float(budget.amount), spent=spent,
                                forecast=forecast, source=CONFIG_SOURCE, warn=budget.warn))
    return tuple(out)


def parse_aws_budgets(answer: Mapping[str, Any]) -> tuple[BudgetStatus, ...]:
    """The monthly COST budgets of one DescribeBudgets page (usage, RI and Savings Plans
    coverage budgets, and quarterly or annual ones, do not compare with a month's spend)."""
    out = []
    for budget in answer.get("Budgets") or ():
        if budget.get("BudgetType") != "COST" or budget.get("TimeUnit") != "MONTHLY":
            continue
        limit = budget.get("BudgetLimit") or {}
        if limit.get("Amount") in (None, ""):
            continue
        calculated = budget.get("CalculatedSpend") or {}
        forecasted = (calculated.get("ForecastedSpend") or {}).get("Amount")
        out.append(BudgetStatus(
            name=str(budget.get("BudgetName") or "?"), scope=_scope(budget.get("CostFilters") or {}),
            amount=_number(limit.get("Amount")),
            spent=_number((calculated.get("ActualSpend") or {}).get("Amount")),
            forecast=None if forecasted in (None, "") else _number(forecasted), source=AWS_SOURCE))
    return tuple(out)


def read_aws_budgets(client: Any, account_id: str, *, account: str = "") -> tuple[BudgetStatus, ...]:
    """Every monthly cost budget of `account_id` (blocking; the "budgets" client lives in
    us-east-1). Raises CostsError with one line (`account`: the name shown, default the id)."""
    out: list[BudgetStatus] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"AccountId": account_id, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        try:
            page = client.describe_budgets(**kwargs)
        except Exception as exc:
            raise CostsError(describe_budgets_failure(exc, account=account or account_id)) from None
        out.extend(parse_aws_budgets(page))
        token = page.get("NextToken") or None
        if not token:
            break
    return tuple(out)


def describe_budgets_failure(exc: BaseException, *, account: str) -> str:
    """One line for a failed DescribeBudgets: what to grant, or what happened."""
    from providers.aws.errors import ACCESS_DENIED, error_code, explain

    if error_code(exc) in ACCESS_DENIED:
        return (f"AWS Budgets: access denied for account {account} — grant budgets:ViewBudget (read) to the "
                "role or user, or set costs.aws_budgets: false")
    return one_line("AWS Budgets: " + explain(exc, account=account, region="us-east-1", service="budgets"))


def _scope(filters: Mapping[str, Sequence[str]]) -> str:
    """"all spend", "service X", "account 123456789012", or the filters when they are more."""
    present = {k: list(v) for k, v in filters.items() if v}
    if not present:
        return ALL_SPEND
    if len(present) == 1:
        (key, values), = present.items()
        if len(values) == 1 and key in ("Service", "LinkedAccount"):
            return f"{'service' if key == 'Service' else 'account'} {values[0]}"
    return "filtered: " + "; ".join(f"{k}={','.join(v)}" for k, v in sorted(present.items()))


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0

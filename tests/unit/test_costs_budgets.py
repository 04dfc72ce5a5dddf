"""Budgets from config against Cost Explorer's spend, and AWS Budgets' answers parsed."""

from __future__ import annotations

import pytest

from config.model import BudgetSettings
from providers.costs.budgets import budget_statuses, parse_aws_budgets
from providers.costs.model import OWN_FORECAST_METHOD, BudgetState, BudgetStatus, CostLine, Forecast, Spend

PROD, STAGING = "111111111111", "222222222222"
EC2, RDS = "Amazon Elastic Compute Cloud - Compute", "Amazon Relational Database Service"


def spend(mtd: float = 1000.0, forecast: float | None = 2000.0, *, prod: float = 700.0,
          staging: float = 300.0, ec2: float = 600.0, rds: float = 400.0) -> Spend:
    return Spend(month="2026-11", currency="USD", month_to_date=mtd, last_month=1800.0, daily=(),
                 by_service=(CostLine(EC2, EC2, ec2, 0.0), CostLine(RDS, RDS, rds, 0.0)),
                 by_account=(CostLine(PROD, "prod", prod, 0.0), CostLine(STAGING, "staging", staging, 0.0)),
                 fetched_at=0.0,
                 forecast=None if forecast is None else Forecast(forecast, OWN_FORECAST_METHOD))


def test_each_scope_measures_its_own_spend_and_scales_the_forecast() -> None:
    budgets = (BudgetSettings("all", 2500.0), BudgetSettings("prod", 1200.0, account="prod"),
               BudgetSettings("db", 500.0, service=RDS, warn=0.9))
    assert budget_statuses(budgets, spend(), {"prod": PROD}) == (
        BudgetStatus("all", "all spend", 2500.0, 1000.0, 2000.0, "config", 0.8),
        BudgetStatus("prod", "account prod", 1200.0, 700.0, 1400.0, "config", 0.8),
        BudgetStatus("db", f"service {RDS}", 500.0, 400.0, 800.0, "config", 0.9),
    )


def test_an_account_is_found_by_id_or_by_its_label_without_an_id() -> None:
    s = spend(prod=700.0, staging=300.0)
    by_id = budget_statuses((BudgetSettings("s", 1000.0, account="stg"),), s, {"stg": STAGING})
    by_label = budget_statuses((BudgetSettings("s", 1000.0, account="staging"),), s, {})
    unknown = budget_statuses((BudgetSettings("s", 1000.0, account="nowhere"),), s, {})
    assert (by_id[0].spent, by_label[0].spent, unknown[0].spent) == (300.0, 300.0, 0.0)
    assert unknown[0].forecast == 0.0


def test_thresholds_warn_on_spend_or_forecast_and_over_only_on_spend() -> None:
    statuses = budget_statuses((BudgetSettings("ok", 5000.0), BudgetSettings("forecast-warn", 2400.0),
                                BudgetSettings("spent-warn", 1200.0), BudgetSettings("over", 1000.0),
                                BudgetSettings("ok-at-0.95", 2200.0, warn=0.95)),
                               spend(mtd=1000.0, forecast=2000.0), {})
    assert [(b.name, b.ratio, b.forecast_ratio, b.state) for b in statuses] == [
        ("ok", 0.2, 0.4, BudgetState.OK),
        ("forecast-warn", 1000 / 2400, 2000 / 2400, BudgetState.WARN),
        ("spent-warn", 1000 / 1200, 2000 / 1200, BudgetState.WARN),
        ("over", 1.0, 2.0, BudgetState.OVER),
        ("ok-at-0.95", 1000 / 2200, 2000 / 2200, BudgetState.OK),
    ]


def test_without_a_forecast_or_any_spend_nothing_is_scaled_and_nothing_divides_by_zero() -> None:
    budgets = (BudgetSettings("all", 100.0), BudgetSettings("prod", 100.0, account="prod"),
               BudgetSettings("ec2", 100.0, service=EC2))
    no_forecast = budget_statuses(budgets, spend(forecast=None), {"prod": PROD})
    assert [b.forecast for b in no_forecast] == [None, None, None]
    empty = budget_statuses(budgets, spend(mtd=0.0, forecast=0.0, prod=0.0, staging=0.0, ec2=0.0, rds=0.0),
                            {"prod": PROD})
    assert [(b.spent, b.forecast, b.ratio, b.state) for b in empty] == [
        (0.0, 0.0, 0.0, BudgetState.OK), (0.0, None, 0.0, BudgetState.OK), (0.0, None, 0.0, BudgetState.OK)]


def test_aws_budgets_keeps_monthly_cost_budgets_with_their_scope() -> None:
    answer = {"Budgets": [
        {"BudgetName": "org-monthly", "BudgetLimit": {"Amount": "5000.0", "Unit": "USD"},
         "TimeUnit": "MONTHLY", "BudgetType": "COST", "CostFilters": {},
         "CalculatedSpend": {"ActualSpend": {"Amount": "1234.56", "Unit": "USD"},
                             "ForecastedSpend": {"Amount": "4321.5", "Unit": "USD"}}},
        {"BudgetName": "ec2", "BudgetLimit": {"Amount": "900", "Unit": "USD"}, "TimeUnit": "MONTHLY",
         "BudgetType": "COST", "CostFilters": {"Service": [EC2]},
         "CalculatedSpend": {"ActualSpend": {"Amount": "455", "Unit": "USD"}}},
        {"BudgetName": "prod", "BudgetLimit": {"Amount": "3000", "Unit": "USD"}, "TimeUnit": "MONTHLY",
         "BudgetType": "COST", "CostFilters": {"LinkedAccount": [PROD]}},
        {"BudgetName": "mixed", "BudgetLimit": {"Amount": "10", "Unit": "USD"}, "TimeUnit": "MONTHLY",
         "BudgetType": "COST", "CostFilters": {"Service": [EC2], "Region": ["us-east-1", "eu-west-1"]}},
        {"BudgetName": "yearly", "BudgetLimit": {"Amount": "60000", "Unit": "USD"}, "TimeUnit": "ANNUALLY",
         "BudgetType": "COST"},
        {"BudgetName": "hours", "BudgetLimit": {"Amount": "744", "Unit": "Hrs"}, "TimeUnit": "MONTHLY",
         "BudgetType": "USAGE"},
        {"BudgetName": "ri-coverage", "BudgetLimit": {"Amount": "80", "Unit": "PERCENTAGE"},
         "TimeUnit": "MONTHLY", "BudgetType": "RI_COVERAGE"},
        {"BudgetName": "no-limit", "TimeUnit": "MONTHLY", "BudgetType": "COST"},
    ]}
    assert parse_aws_budgets(answer) == (
        BudgetStatus("org-monthly", "all spend", 5000.0, 1234.56, 4321.5, "AWS Budgets"),
        BudgetStatus("ec2", f"service {EC2}", 900.0, 455.0, None, "AWS Budgets"),
        BudgetStatus("prod", f"account {PROD}", 3000.0, 0.0, None, "AWS Budgets"),
        BudgetStatus("mixed", f"filtered: Region=us-east-1,eu-west-1; Service={EC2}", 10.0, 0.0, None,
                     "AWS Budgets"),
    )


@pytest.mark.parametrize("answer", [{}, {"Budgets": []}, {"Budgets": None}])
def test_no_aws_budgets(answer: dict[str, object]) -> None:
    assert parse_aws_budgets(answer) == ()

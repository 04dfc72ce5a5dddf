"""Reservation and Savings Plans purchase recommendations, parsed from Cost Explorer's answers.

Pure functions over the wire shapes of GetReservationPurchaseRecommendation and
GetSavingsPlansPurchaseRecommendation (every figure there is a string): moto does
not implement either call, so these are tested against recorded answers
(tests/data/costs/) and the explorer reports "not available" against moto.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from providers.costs.model import Recommendation

RESERVED_INSTANCES = "Reserved Instances"
SAVINGS_PLANS = "Savings Plans"

TERMS = {"ONE_YEAR": "1 year", "THREE_YEARS": "3 years"}
PAYMENTS = {"NO_UPFRONT": "no upfront", "PARTIAL_UPFRONT": "partial upfront", "ALL_UPFRONT": "all upfront",
            "LIGHT_UTILIZATION": "light utilization", "MEDIUM_UTILIZATION": "medium utilization",
            "HEAVY_UTILIZATION": "heavy utilization"}
PLAN_NAMES = {"COMPUTE_SP": "Compute Savings Plan", "EC2_INSTANCE_SP": "EC2 Instance Savings Plan",
              "SAGEMAKER_SP": "SageMaker Savings Plan", "DATABASE_SP": "Database Savings Plan"}


def parse_reservations(answer: Mapping[str, Any]) -> list[Recommendation]:
    """One Recommendation per instance type and region to reserve, largest saving first."""
    out: list[Recommendation] = []
    for rec in answer.get("Recommendations") or ():
        term = _label(TERMS, rec.get("TermInYears"))
        payment = _label(PAYMENTS, rec.get("PaymentOption"))
        for detail in rec.get("RecommendationDetails") or ():
            percent = detail.get("EstimatedMonthlySavingsPercentage")
            out.append(Recommendation(
                kind=RESERVED_INSTANCES, description=_reservation_description(detail), term=term,
                payment=payment, upfront=_number(detail.get("UpfrontCost")),
                monthly_savings=_number(detail.get("EstimatedMonthlySavingsAmount")),
                savings_percent=None if percent in (None, "") else _number(percent)))
    return sorted(out, key=lambda r: (-r.monthly_savings, r.description))


def parse_savings_plans(answer: Mapping[str, Any]) -> list[Recommendation]:
    """One Recommendation per Savings Plan commitment suggested, largest saving first."""
    rec = answer.get("SavingsPlansPurchaseRecommendation") or {}
    name = PLAN_NAMES.get(str(rec.get("SavingsPlansType") or ""), "Savings Plan")
    term = _label(TERMS, rec.get("TermInYears"))
    payment = _label(PAYMENTS, rec.get("PaymentOption"))
    out: list[Recommendation] = []
    for detail in rec.get("SavingsPlansPurchaseRecommendationDetails") or ():
        currency = str(detail.get("CurrencyCode") or "USD")
        plan = detail.get("SavingsPlansDetails") or {}
        scope = ", ".join(str(v) for v in (plan.get("InstanceFamily"), plan.get("Region")) if v)
        description = f"{name}, {_rate(_number(detail.get('HourlyCommitmentToPurchase')))} {currency}/hour"
        percent = detail.get("EstimatedSavingsPercentage")
        out.append(Recommendation(
            kind=SAVINGS_PLANS, description=description + (f" ({scope})" if scope else ""), term=term,
            payment=payment, upfront=_number(detail.get("UpfrontCost")),
            monthly_savings=_number(detail.get("EstimatedMonthlySavingsAmount")),
            savings_percent=None if percent in (None, "") else _number(percent)))
    return sorted(out, key=lambda r: (-r.monthly_savings, r.description))


def _reservation_description(detail: Mapping[str, Any]) -> str:
    count = _count(detail.get("RecommendedNumberOfInstancesToPurchase"))
    instance = detail.get("InstanceDetails") or {}
    if "EC2InstanceDetails" in instance:
        d = instance["EC2InstanceDetails"]
        what, facts = d.get("InstanceType"), (d.get("Region"), d.get("Platform"))
        if d.get("Tenancy") not in (None, "", "shared", "Shared"):
            facts += (f"{d['Tenancy']} tenancy",)
    elif "RDSInstanceDetails" in instance:
        d = instance["RDSInstanceDetails"]
        what = d.get("InstanceType")
        facts = (d.get("Region"), d.get("DatabaseEngine"), d.get("DeploymentOption"))
    elif "ElastiCacheInstanceDetails" in instance:
        d = instance["ElastiCacheInstanceDetails"]
        what, facts = d.get("NodeType"), (d.get("Region"), d.get("ProductDescription"))
    elif "RedshiftInstanceDetails" in instance:
        d = instance["RedshiftInstanceDetails"]
        what, facts = d.get("NodeType"), (d.get("Region"),)
    elif "MemoryDBInstanceDetails" in instance:
        d = instance["MemoryDBInstanceDetails"]
        what, facts = d.get("NodeType"), (d.get("Region"),)
    elif "ESInstanceDetails" in instance:
        d = instance["ESInstanceDetails"]
        what = ".".join(str(v) for v in (d.get("InstanceClass"), d.get("InstanceSize")) if v)
        facts = (d.get("Region"),)
    else:
        what, facts = "instances", ()
    shown = ", ".join(str(f) for f in facts if f)
    return f"{count} x {what or 'instances'}" + (f", {shown}" if shown else "")


def _label(names: Mapping[str, str], value: Any) -> str:
    return names.get(str(value or ""), str(value or "").replace("_", " ").lower())


def _count(value: Any) -> str:
    number = _number(value)
    return str(int(number)) if number == int(number) else f"{number:g}"


def _rate(value: float) -> str:
    """An hourly commitment: cents, or a tenth of a cent when that is what was asked for."""
    return f"{value:.2f}" if round(value, 2) == round(value, 6) else f"{value:.3f}"


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0

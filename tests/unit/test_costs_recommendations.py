"""Purchase recommendations and the forecast, parsed from recorded Cost Explorer answers.

moto implements neither GetReservationPurchaseRecommendation,
GetSavingsPlansPurchaseRecommendation nor GetCostForecast, so the answers in
tests/data/costs/ are written from the AWS API reference; the first test holds
them to botocore's output shapes so a typo in a recording cannot pass for a field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from providers.costs.explorer import forecast_from
from providers.costs.model import Recommendation
from providers.costs.recommendations import parse_reservations, parse_savings_plans

DATA = Path(__file__).resolve().parents[1] / "data" / "costs"
RECORDED = {"GetCostForecast": "get_cost_forecast.json",
            "GetReservationPurchaseRecommendation": "get_reservation_purchase_recommendation.json",
            "GetSavingsPlansPurchaseRecommendation": "get_savings_plans_purchase_recommendation.json"}


def recorded(operation: str) -> dict[str, Any]:
    return json.loads((DATA / RECORDED[operation]).read_text())  # type: ignore[no-any-return]


def check_shape(value: Any, shape: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), where
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{where}: not in {shape.name}: {sorted(unknown)}"
        for name, member in value.items():
            check_shape(member, shape.members[name], f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            check_shape(item, shape.member, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), where
        if shape.enum:
            assert value in shape.enum, f"{where}: {value!r} not one of {shape.enum}"
    elif kind == "boolean":
        assert isinstance(value, bool), where
    else:
        raise AssertionError(f"{where}: unexpected shape type {kind}")


@pytest.mark.parametrize("operation", sorted(RECORDED))
def test_recorded_answers_match_botocores_output_shapes(operation: str) -> None:
    model = botocore.session.get_session().get_service_model("ce").operation_model(operation)
    check_shape(recorded(operation), model.output_shape, operation)


def test_reservation_recommendations_from_the_recorded_answer() -> None:
    assert parse_reservations(recorded("GetReservationPurchaseRecommendation")) == [
        Recommendation(kind="Reserved Instances", description="2 x c5.xlarge, US West (Oregon), Linux/UNIX",
                       term="1 year", payment="no upfront", upfront=0.0, monthly_savings=91.98,
                       savings_percent=37.06),
        Recommendation(kind="Reserved Instances",
                       description="3 x m5.large, US East (N. Virginia), Linux/UNIX", term="1 year",
                       payment="no upfront", upfront=0.0, monthly_savings=78.84, savings_percent=37.5),
    ]


def test_savings_plans_recommendations_from_the_recorded_answer() -> None:
    assert parse_savings_plans(recorded("GetSavingsPlansPurchaseRecommendation")) == [
        Recommendation(kind="Savings Plans", description="Compute Savings Plan, 1.20 USD/hour", term="1 year",
                       payment="no upfront", upfront=0.0, monthly_savings=336.45, savings_percent=27.75),
        Recommendation(kind="Savings Plans", description="Compute Savings Plan, 0.456 USD/hour",
                       term="1 year", payment="no upfront", upfront=0.0, monthly_savings=87.42,
                       savings_percent=20.8),
    ]


def test_forecast_remainder_from_the_recorded_answer() -> None:
    assert forecast_from(recorded("GetCostForecast")) == {
        "mean": 1834.2154718826, "low": 1702.8832103771, "high": 1965.5477333881}


def test_a_forecast_without_total_is_refused_and_without_intervals_has_no_bounds() -> None:
    with pytest.raises(ValueError, match="no Total"):
        forecast_from({"ForecastResultsByTime": []})
    assert forecast_from({"Total": {"Amount": "12.5", "Unit": "USD"}}) == {"mean": 12.5, "low": None,
                                                                           "high": None}
    assert forecast_from({"Total": {"Amount": "12.5"}, "ForecastResultsByTime": [
        {"MeanValue": "12.5", "PredictionIntervalLowerBound": "10"}]})["high"] is None


def test_other_reservation_kinds_and_partial_details_still_describe_something() -> None:
    answer = {"Recommendations": [{
        "TermInYears": "THREE_YEARS", "PaymentOption": "PARTIAL_UPFRONT",
        "RecommendationDetails": [
            {"InstanceDetails": {"RDSInstanceDetails": {"InstanceType": "db.r6g.large",
                                                        "Region": "EU (Ireland)",
                                                        "DatabaseEngine": "PostgreSQL",
                                                        "DeploymentOption": "Multi-AZ"}},
             "RecommendedNumberOfInstancesToPurchase": "1.0", "UpfrontCost": "1520.5",
             "EstimatedMonthlySavingsAmount": "60.25"},
            {"InstanceDetails": {"EC2InstanceDetails": {"InstanceType": "m5.large",
                                                        "Region": "US East (Ohio)", "Platform": "Linux/UNIX",
                                                        "Tenancy": "Dedicated"}},
             "RecommendedNumberOfInstancesToPurchase": "2", "EstimatedMonthlySavingsAmount": "not a number"},
            {"InstanceDetails": {}, "RecommendedNumberOfInstancesToPurchase": "2.5"},
        ]}]}
    assert parse_reservations(answer) == [
        Recommendation("Reserved Instances", "1 x db.r6g.large, EU (Ireland), PostgreSQL, Multi-AZ",
                       "3 years", "partial upfront", 1520.5, 60.25, None),
        Recommendation("Reserved Instances", "2 x m5.large, US East (Ohio), Linux/UNIX, Dedicated tenancy",
                       "3 years", "partial upfront", 0.0, 0.0, None),
        Recommendation("Reserved Instances", "2.5 x instances", "3 years", "partial upfront", 0.0, 0.0, None),
    ]


def test_ec2_instance_savings_plans_name_family_and_region() -> None:
    answer = {"SavingsPlansPurchaseRecommendation": {
        "SavingsPlansType": "EC2_INSTANCE_SP", "TermInYears": "THREE_YEARS", "PaymentOption": "ALL_UPFRONT",
        "SavingsPlansPurchaseRecommendationDetails": [{
            "SavingsPlansDetails": {"Region": "us-east-1", "InstanceFamily": "m5"}, "CurrencyCode": "EUR",
            "HourlyCommitmentToPurchase": "2", "UpfrontCost": "52560",
            "EstimatedMonthlySavingsAmount": "410.7", "EstimatedSavingsPercentage": "31.2"}]}}
    assert parse_savings_plans(answer) == [
        Recommendation("Savings Plans", "EC2 Instance Savings Plan, 2.00 EUR/hour (m5, us-east-1)", "3 years",
                       "all upfront", 52560.0, 410.7, 31.2)]


def test_empty_answers_recommend_nothing() -> None:
    assert parse_reservations({}) == [] and parse_reservations({"Recommendations": []}) == []
    assert parse_savings_plans({}) == []
    assert parse_savings_plans({"SavingsPlansPurchaseRecommendation": {}}) == []

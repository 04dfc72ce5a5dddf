"""CostExplorer and AWS Budgets against moto in server mode, with Cost Explorer results injected.

Requests are counted over the wire by the FaultProxy in front of moto: what the
tests count is what AWS would bill. moto does not implement GetCostForecast or
the purchase recommendations (HTTP 500, an HTML page); the paths where they
answer go through a small local server that answers those operations with the
recorded answers of tests/data/costs/ and forwards everything else to moto, so
boto3 serialises and parses them for real.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from providers.costs.budgets import read_aws_budgets
from providers.costs.cache import CostCache
from providers.costs.explorer import (
    RECOMMENDATIONS_TTL,
    CostExplorer,
    CostsError,
    cost_and_usage_request,
    describe_failure,
)
from providers.costs.forecast import COMPLETE_METHOD
from providers.costs.model import (
    AWS_FORECAST_METHOD,
    OWN_FORECAST_METHOD,
    BudgetStatus,
    CostLine,
    Recommendation,
)
from tests.support.aws import DEFAULT_ACCOUNT, FaultProxy, boto_client, unused_local_url
from tui.demo.ce_results import cost_and_usage_result, inject, paged, period_days, steady_days

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "costs"
PROD, STAGING, SANDBOX = "111111111111", "222222222222", "333333333333"
EC2, RDS, S3 = "Amazon Elastic Compute Cloud - Compute", "Amazon Relational Database Service", \
    "Amazon Simple Storage Service"
TODAY = date(2026, 11, 15)
NOON = datetime(2026, 11, 15, 12, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def ce_calls(proxy: FaultProxy) -> list[str]:
    return proxy.operations("ce")


def explorer(url: str, cache: CostCache, clock: Clock, **kwargs: Any) -> CostExplorer:
    kwargs.setdefault("account", "payer")
    return CostExplorer(lambda: boto_client("ce", url), cache, clock=clock, **kwargs)


def fleet_days() -> dict[str, dict[tuple[str, str], float]]:
    """October: 10 a day in EC2/prod, 4 in RDS/staging; November until the 14th: a little more
    every day, S3 in an account Cost Explorer names itself."""
    days: dict[str, dict[tuple[str, str], float]] = {}
    for day in period_days("2026-11", TODAY):
        n = int(day[-2:])
        if day.startswith("2026-10"):
            days[day] = {(EC2, PROD): 10.0, (RDS, STAGING): 4.0}
        else:
            days[day] = {(EC2, PROD): 12.0 + n, (RDS, STAGING): 5.0, (S3, SANDBOX): 0.5}
    return days


NAMES = {SANDBOX: "sandbox-lab", STAGING: "Staging (CE name)"}


# --------------------------------------------------------------------------- spend


def test_month_to_date_breakdowns_and_daily_series(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days(), account_names=NAMES,
                                                   estimated_from="2026-11-13")])
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), Clock(),
                  account_labels={PROD: "prod", STAGING: "staging"})
    spend = ce.spend()

    ec2_nov = sum(12.0 + n for n in range(1, 15))  # 273
    assert spend.month == "2026-11" and spend.currency == "USD" and not spend.complete
    assert spend.month_to_date == pytest.approx(ec2_nov + 14 * 5.0 + 14 * 0.5)
    assert spend.last_month == pytest.approx(31 * 14.0)
    assert spend.by_service == (CostLine(EC2, EC2, pytest.approx(ec2_nov), 310.0),  # type: ignore[arg-type]
                                CostLine(RDS, RDS, 70.0, 124.0), CostLine(S3, S3, 7.0, 0.0))
    assert spend.by_account == (CostLine(PROD, "prod", pytest.approx(ec2_nov), 310.0),  # type: ignore[arg-type]
                                CostLine(STAGING, "staging", 70.0, 124.0),  # configured name beats CE's
                                CostLine(SANDBOX, "sandbox-lab", 7.0, 0.0))  # CE's description
    assert [d.day for d in spend.daily] == period_days("2026-11", TODAY)
    assert spend.daily[0].day == "2026-10-01" and spend.daily[-1].day == "2026-11-14"
    assert [d.amount for d in spend.this_month()] == [pytest.approx(12.0 + n + 5.5) for n in range(1, 15)]
    assert [d.day for d in spend.daily if d.estimated] == ["2026-11-13", "2026-11-14"]
    assert spend.fetched_at == NOON
    assert spend.spend_of(account="prod") == pytest.approx(ec2_nov)
    assert spend.spend_of(service=S3) == 7.0


def test_the_query_is_one_daily_grouped_query_from_the_first_of_last_month(fault_proxy: FaultProxy,
                                                                          tmp_path: Path) -> None:
    from moto.ce.models import ce_backends

    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), Clock(), metric="AmortizedCost").spend()
    bodies = [json.loads(b) for b in ce_backends[DEFAULT_ACCOUNT]["global"].cost_usage_results]
    assert bodies == [{"TimePeriod": {"Start": "2026-10-01", "End": "2026-11-15"}, "Granularity": "DAILY",
                       "Metrics": ["AmortizedCost"],
                       "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                   {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]}]
    assert bodies[0] == cost_and_usage_request(date(2026, 10, 1), TODAY, "AmortizedCost")
    assert ce_calls(fault_proxy) == ["GetCostAndUsage", "GetCostForecast"]


def test_our_forecast_when_get_cost_forecast_is_not_implemented(fault_proxy: FaultProxy,
                                                                 tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    spend = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), Clock()).spend()
    # last 7 complete days: the 8th..14th, EC2 12+n, RDS 5, S3 0.5 -> mean 12 + 11 + 5.5 = 28.5; 16 days left
    assert spend.forecast is not None
    assert spend.forecast.method == OWN_FORECAST_METHOD
    assert spend.forecast.amount == pytest.approx(350.0 + 28.5 * 16)
    assert [(r.operation, r.status) for r in fault_proxy.requests if r.service == "ce"] == [
        ("GetCostAndUsage", 200), ("GetCostForecast", 500)]


def test_forecast_disabled_never_asks(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    days = steady_days("2026-11", TODAY, {(EC2, PROD): 10.0}, weekend=0.5)  # weekends: 1st, 7th, 8th, 14th
    inject(fault_proxy.url, [cost_and_usage_result(days)])
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), Clock(), use_forecast=False)
    spend = ce.spend()
    assert spend.month_to_date == pytest.approx(4 * 5.0 + 10 * 10.0)
    assert spend.forecast is not None and spend.forecast.method == OWN_FORECAST_METHOD
    assert spend.forecast.amount == pytest.approx(120.0 + (5 + 50 + 5) / 7 * 16)  # the 8th..14th, 16 to come
    assert ce_calls(fault_proxy) == ["GetCostAndUsage"] and ce.requests == 1


# --------------------------------------------------------------------------- the cache


def test_the_cache_saves_every_request_within_the_hour_and_across_a_restart(fault_proxy: FaultProxy,
                                                                            tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    clock = Clock()
    first = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), clock)
    spend = first.spend()
    assert first.requests == 2 and len(ce_calls(fault_proxy)) == 2  # the query, the forecast (which failed)

    clock.now = NOON + 3599
    again = first.spend()
    assert again == spend and again.fetched_at == NOON  # the age is the answer's, not the poll's
    assert first.requests == 2 and len(ce_calls(fault_proxy)) == 2

    restarted = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), clock)
    after_restart = restarted.spend()
    assert after_restart == spend and after_restart.fetched_at == NOON
    assert restarted.requests == 0 and len(ce_calls(fault_proxy)) == 2  # the failed forecast is cached too


def test_after_the_ttl_it_asks_again(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    clock = Clock()
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), clock, ttl=1800)
    ce.spend()
    clock.now = NOON + 1801
    spend = ce.spend()
    assert ce_calls(fault_proxy) == ["GetCostAndUsage", "GetCostForecast"] * 2
    assert spend.fetched_at == NOON + 1801 and ce.requests == 4


def test_a_new_day_is_a_new_query_and_replaces_the_old_answer(fault_proxy: FaultProxy,
                                                               tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    clock, cache = Clock(), CostCache(tmp_path / "c.json")
    explorer(fault_proxy.url, cache, clock).spend()
    clock.now = NOON + 86400 - 3600  # tomorrow 11:00, less than a day later
    explorer(fault_proxy.url, cache, clock).spend()
    assert ce_calls(fault_proxy).count("GetCostAndUsage") == 2
    keys = cache.keys()
    assert [k for k in keys if k.startswith("spend:")] == [
        "spend:UnblendedCost:2026-11:2026-10-01:2026-11-16"]


def test_a_complete_month_is_never_asked_again_once_final(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    october = {day: {(EC2, PROD): 3.0} for day in period_days("2026-10", TODAY)}
    september = {day: {(EC2, PROD): 2.0} for day in period_days("2026-09", TODAY)}
    inject(fault_proxy.url, [cost_and_usage_result(october), cost_and_usage_result(september,
                                                                                    estimated_from="2026-09-30")])
    clock = Clock()
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), clock)
    oct_spend, sep_spend = ce.spend("2026-10"), ce.spend("2026-09")
    assert (oct_spend.month_to_date, oct_spend.last_month, oct_spend.complete) == (93.0, 90.0, True)
    assert oct_spend.forecast is not None
    assert (oct_spend.forecast.amount, oct_spend.forecast.method) == (93.0, COMPLETE_METHOD)
    assert ce_calls(fault_proxy) == ["GetCostAndUsage", "GetCostAndUsage"]  # no forecast for past months
    assert sep_spend.month_to_date == 60.0

    clock.now = NOON + 40 * 86400
    assert ce.spend("2026-10") == oct_spend  # final: kept for good
    ce.spend("2026-09")  # its last day was still an estimate: asked again after the TTL
    assert ce_calls(fault_proxy) == ["GetCostAndUsage"] * 3


def test_concurrent_polls_pay_once(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), Clock())
    barrier = threading.Barrier(4)
    results: list[object] = []

    def poll() -> None:
        barrier.wait()
        results.append(ce.spend().month_to_date)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [pytest.approx(350.0)] * 4
    assert ce_calls(fault_proxy) == ["GetCostAndUsage", "GetCostForecast"]


# --------------------------------------------------------------------------- pages


def test_every_page_is_read_merged_by_day_and_counted(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    whole = cost_and_usage_result(fleet_days(), account_names=NAMES)
    pages = paged(whole, 3)
    assert [p.get("NextPageToken") for p in pages] == ["page-2-of-3", "page-3-of-3", None]
    cut = {r["TimePeriod"]["Start"] for r in pages[0]["ResultsByTime"]} & \
        {r["TimePeriod"]["Start"] for r in pages[1]["ResultsByTime"]}
    assert cut, "the pages should split a day, as Cost Explorer may"
    inject(fault_proxy.url, [whole, *pages])  # the first query gets `whole`; a second explorer pages
    clock = Clock()
    one = explorer(fault_proxy.url, CostCache(None), clock, use_forecast=False).spend()
    fault_proxy.clear()
    clock.now = NOON + 86400  # a new day: a new body, so the queued pages answer it
    ce = explorer(fault_proxy.url, CostCache(None), clock, use_forecast=False)
    three = ce.spend()
    assert ce_calls(fault_proxy) == ["GetCostAndUsage"] * 3 and ce.requests == 3
    assert (three.month_to_date, three.last_month, three.by_service, three.by_account, three.daily) == \
        (one.month_to_date, one.last_month, one.by_service, one.by_account, one.daily)


def test_a_query_whose_data_changed_between_pages_is_restarted_once(fault_proxy: FaultProxy,
                                                                    tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    fault_proxy.add_fault("ce", operation="GetCostAndUsage", code="RequestChangedException", times=1,
                          message="The data changed while you were paging")
    ce = explorer(fault_proxy.url, CostCache(None), Clock(), use_forecast=False)
    assert ce.spend().month_to_date == pytest.approx(350.0)
    assert ce.requests == 2


# --------------------------------------------------------------------------- bad input


def test_missing_ce_permission_is_one_line_naming_the_permission(fault_proxy: FaultProxy,
                                                                 tmp_path: Path) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())])
    fault_proxy.deny("ce")
    cache = CostCache(tmp_path / "c.json")
    ce = explorer(fault_proxy.url, cache, Clock(), account="prod")
    with pytest.raises(CostsError) as caught:
        ce.spend()
    assert str(caught.value) == ("Cost Explorer: access denied for account prod — grant ce:GetCostAndUsage "
                                 "(read) to the role or user")
    assert ce_calls(fault_proxy) == ["GetCostAndUsage"]  # no forecast after a failed query
    fault_proxy.clear_faults()
    assert ce.spend().month_to_date == pytest.approx(350.0)  # a failure is not cached


def test_cost_explorer_not_enabled_says_how_to_enable_it(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    fault_proxy.add_fault("ce", code="AccessDeniedException",
                          message="User not enabled for cost explorer access")
    with pytest.raises(CostsError, match=r"^Cost Explorer is not enabled for account payer — enable it in "
                                         r"the AWS Billing console \(data appears within 24 hours\)$"):
        explorer(fault_proxy.url, CostCache(None), Clock()).spend()


def test_an_empty_month_is_zeros_not_an_error(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), Clock())
    spend = ce.spend()  # nothing injected: moto answers {"ResultsByTime": []}
    assert (spend.month_to_date, spend.last_month, spend.daily, spend.by_service, spend.by_account,
            spend.forecast, spend.currency) == (0.0, 0.0, (), (), (), None, "USD")


def test_a_month_with_no_spend_yet_forecasts_from_last_month(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    days = {day: ({(EC2, PROD): 7.0} if day < "2026-11-01" else {}) for day in period_days("2026-11", TODAY)}
    inject(fault_proxy.url, [cost_and_usage_result(days)])
    spend = explorer(fault_proxy.url, CostCache(None), Clock()).spend()
    assert (spend.month_to_date, spend.last_month) == (0.0, 217.0)
    assert [line.month_to_date for line in spend.by_service] == [0.0]
    assert spend.forecast is not None and spend.forecast.amount == pytest.approx(0.0)  # 7 zero days


def test_on_the_first_the_query_covers_last_month_only(fault_proxy: FaultProxy, tmp_path: Path) -> None:
    first = datetime(2026, 11, 1, 0, 30, tzinfo=UTC).timestamp()
    days = {day: {(EC2, PROD): 7.0} for day in period_days("2026-11", date(2026, 11, 1))}
    assert min(days) == "2026-10-01" and max(days) == "2026-10-31"
    inject(fault_proxy.url, [cost_and_usage_result(days)])
    spend = explorer(fault_proxy.url, CostCache(None), Clock(first)).spend()
    assert (spend.month, spend.month_to_date, spend.last_month, spend.this_month()) == \
        ("2026-11", 0.0, 217.0, ())
    assert spend.forecast is not None and spend.forecast.amount == pytest.approx(7.0 * 30)


def test_a_future_or_malformed_month_is_one_line(fault_proxy: FaultProxy) -> None:
    ce = explorer(fault_proxy.url, CostCache(None), Clock())
    with pytest.raises(CostsError, match=r"^month 2026-12 has not started yet \(today is 2026-11-15 UTC\)$"):
        ce.spend("2026-12")
    with pytest.raises(CostsError, match=r"^month '11/2026' is not YYYY-MM \(e\.g\. 2026-11\)$"):
        ce.spend("11/2026")
    assert ce_calls(fault_proxy) == []


def test_an_unimplemented_operation_is_not_available_at_this_endpoint_without_html(moto_url: str) -> None:
    with pytest.raises(ClientError) as caught:
        boto_client("ce", moto_url).get_cost_forecast(
            TimePeriod={"Start": "2026-11-15", "End": "2026-12-01"}, Metric="UNBLENDED_COST",
            Granularity="MONTHLY")
    assert "<html" in str(caught.value).lower()  # what moto really answers
    line = describe_failure(caught.value, operation="GetCostForecast", account="prod", endpoint=moto_url)
    assert line == f"Cost Explorer: GetCostForecast is not available at this endpoint ({moto_url}), HTTP 500"


def test_throttling_and_unreachable_endpoints_are_one_line(fault_proxy: FaultProxy) -> None:
    fault_proxy.add_fault("ce", code="LimitExceededException", message="Rate exceeded")
    with pytest.raises(CostsError) as caught:
        explorer(fault_proxy.url, CostCache(None), Clock()).spend()
    assert str(caught.value) == ("Cost Explorer: request limit exceeded (LimitExceededException) — it "
                                 "answers again later; costs.interval sets how often stacktop asks")
    down = unused_local_url()
    with pytest.raises(CostsError) as caught:
        explorer(down, CostCache(None), Clock()).spend()
    assert str(caught.value) == (f"Cost Explorer: cannot reach {down} — check the network, a proxy, or "
                                 "endpoint_url")


# --------------------------------------------------------------------------- recommendations


def test_recommendations_are_not_available_against_moto_and_that_is_cached_a_day(fault_proxy: FaultProxy,
                                                                                 tmp_path: Path) -> None:
    clock = Clock()
    ce = explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), clock)
    items, note = ce.recommendations()
    assert items == ()
    assert note == ("not available: this endpoint does not answer GetReservationPurchaseRecommendation or "
                    "GetSavingsPlansPurchaseRecommendation (HTTP 500)")
    assert ce_calls(fault_proxy) == ["GetReservationPurchaseRecommendation",
                                     "GetSavingsPlansPurchaseRecommendation"]
    clock.now = NOON + RECOMMENDATIONS_TTL - 1
    assert explorer(fault_proxy.url, CostCache(tmp_path / "c.json"), clock).recommendations() == (items, note)
    assert len(ce_calls(fault_proxy)) == 2
    clock.now = NOON + RECOMMENDATIONS_TTL + 1
    ce.recommendations()
    assert len(ce_calls(fault_proxy)) == 4


def test_recommendations_denied_say_what_to_grant(fault_proxy: FaultProxy) -> None:
    fault_proxy.deny("ce", operation="GetSavingsPlansPurchaseRecommendation")
    items, note = explorer(fault_proxy.url, CostCache(None), Clock(), account="prod").recommendations()
    assert items == ()
    assert note == ("not available: this endpoint does not answer GetReservationPurchaseRecommendation "
                    "(HTTP 500); Savings Plans: access denied for account prod — grant "
                    "ce:GetSavingsPlansPurchaseRecommendation (read) to the role or user")


class RecordedAnswers:
    """A local endpoint that answers the operations moto lacks with the recorded answers and
    forwards every other request to moto."""

    FILES = {"GetCostForecast": "get_cost_forecast.json",
             "GetReservationPurchaseRecommendation": "get_reservation_purchase_recommendation.json",
             "GetSavingsPlansPurchaseRecommendation": "get_savings_plans_purchase_recommendation.json"}

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        files = {op: (DATA / name).read_bytes() for op, name in self.FILES.items()}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                if operation in files:
                    status, headers, payload = 200, [("Content-Type", "application/x-amz-json-1.1")], \
                        files[operation]
                else:
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                    conn.request("POST", self.path, body=body, headers=dict(self.headers.items()))
                    resp = conn.getresponse()
                    status, payload = resp.status, resp.read()
                    headers = [(k, v) for k, v in resp.getheaders()
                               if k.lower() not in ("content-length", "transfer-encoding", "connection")]
                    conn.close()
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()


@pytest.fixture
def recorded(moto_url: str) -> Iterator[FaultProxy]:
    """boto3 -> FaultProxy (counts) -> RecordedAnswers -> moto."""
    answers = RecordedAnswers(moto_url)
    proxy = FaultProxy(answers.url)
    try:
        yield proxy
    finally:
        proxy.close()
        answers.close()


def test_recommendations_where_cost_explorer_answers(recorded: FaultProxy) -> None:
    ce = explorer(recorded.url, CostCache(None), Clock())
    items, note = ce.recommendations()
    assert note == ""
    assert [(r.kind, r.description, r.monthly_savings) for r in items] == [
        ("Savings Plans", "Compute Savings Plan, 1.20 USD/hour", 336.45),
        ("Reserved Instances", "2 x c5.xlarge, US West (Oregon), Linux/UNIX", 91.98),
        ("Savings Plans", "Compute Savings Plan, 0.456 USD/hour", 87.42),
        ("Reserved Instances", "3 x m5.large, US East (N. Virginia), Linux/UNIX", 78.84),
    ]
    assert items[0] == Recommendation("Savings Plans", "Compute Savings Plan, 1.20 USD/hour", "1 year",
                                      "no upfront", 0.0, 336.45, 27.75)
    assert ce.requests == 2


def test_the_aws_forecast_where_cost_explorer_answers(recorded: FaultProxy) -> None:
    inject(recorded.url, [cost_and_usage_result(fleet_days())])
    clock = Clock()
    ce = explorer(recorded.url, CostCache(None), clock)
    spend = ce.spend()
    assert spend.forecast is not None
    assert spend.forecast.method == AWS_FORECAST_METHOD
    assert spend.forecast.amount == pytest.approx(350.0 + 1834.2154718826)
    assert spend.forecast.low == pytest.approx(350.0 + 1702.8832103771)
    assert spend.forecast.high == pytest.approx(350.0 + 1965.5477333881)
    clock.now = NOON + 600
    assert ce.spend().forecast == spend.forecast
    assert ce_calls(recorded) == ["GetCostAndUsage", "GetCostForecast"]


# --------------------------------------------------------------------------- AWS Budgets


def create_budget(url: str, name: str, amount: str, *, budget_type: str = "COST", unit: str = "MONTHLY",
                  actual: str | None = None, forecast: str | None = None,
                  filters: dict[str, list[str]] | None = None) -> None:
    budget: dict[str, Any] = {"BudgetName": name, "BudgetLimit": {"Amount": amount, "Unit": "USD"},
                              "TimeUnit": unit, "BudgetType": budget_type}
    if actual is not None:
        budget["CalculatedSpend"] = {"ActualSpend": {"Amount": actual, "Unit": "USD"}}
        if forecast is not None:
            budget["CalculatedSpend"]["ForecastedSpend"] = {"Amount": forecast, "Unit": "USD"}
    if filters:
        budget["CostFilters"] = filters
    boto_client("budgets", url).create_budget(AccountId=DEFAULT_ACCOUNT, Budget=budget)


def test_aws_budgets_over_moto(fault_proxy: FaultProxy) -> None:
    create_budget(moto_base(fault_proxy), "org", "5000", actual="1234.5", forecast="4100")
    create_budget(moto_base(fault_proxy), "rds", "800", actual="820", forecast="1500",
                  filters={"Service": [RDS]})
    create_budget(moto_base(fault_proxy), "hours", "744", budget_type="USAGE")
    create_budget(moto_base(fault_proxy), "quarter", "15000", unit="QUARTERLY")
    create_budget(moto_base(fault_proxy), "new", "100")  # moto reports zero spend for it
    statuses = read_aws_budgets(boto_client("budgets", fault_proxy.url), DEFAULT_ACCOUNT)
    assert sorted(statuses, key=lambda b: b.name) == [
        BudgetStatus("new", "all spend", 100.0, 0.0, 0.0, "AWS Budgets"),
        BudgetStatus("org", "all spend", 5000.0, 1234.5, 4100.0, "AWS Budgets"),
        BudgetStatus("rds", f"service {RDS}", 800.0, 820.0, 1500.0, "AWS Budgets"),
    ]
    assert fault_proxy.operations("budgets") == ["DescribeBudgets"]
    assert read_aws_budgets(boto_client("budgets", fault_proxy.url), "999999999999") == ()


def test_aws_budgets_denied_is_one_line_naming_the_permission(fault_proxy: FaultProxy) -> None:
    fault_proxy.deny("budgets")
    with pytest.raises(CostsError) as caught:
        read_aws_budgets(boto_client("budgets", fault_proxy.url), DEFAULT_ACCOUNT, account="prod")
    assert str(caught.value) == ("AWS Budgets: access denied for account prod — grant budgets:ViewBudget "
                                 "(read) to the role or user, or set costs.aws_budgets: false")


def moto_base(proxy: FaultProxy) -> str:
    return f"http://{proxy.target_host}:{proxy.target_port}"


def test_injected_results_belong_to_one_account(fault_proxy: FaultProxy) -> None:
    inject(fault_proxy.url, [cost_and_usage_result(fleet_days())], account_id="210987654321")
    spend = explorer(fault_proxy.url, CostCache(None), Clock(), use_forecast=False).spend()
    assert (spend.month_to_date, spend.last_month, spend.daily) == (0.0, 0.0, ())

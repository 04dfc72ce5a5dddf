"""Spend, forecast and purchase recommendations from AWS Cost Explorer, cached on disk.

Cost Explorer charges 0.01 USD for every request page, so a month costs ONE
GetCostAndUsage query (DAILY, grouped by SERVICE and LINKED_ACCOUNT, from the first
day of the previous month): month to date, last month, the daily series, both
breakdowns and the 7-day window of our own forecast all come out of that one
answer. Every answer goes through CostCache: the current month is asked again
after `ttl` (hourly by default), a finished month whose figures are final never.
`requests` counts every request sent (retries included), for the screen.

Requests go out in a fixed order — GetCostAndUsage page 1, 2, … of a month, then
GetCostForecast — which is what lets tests and the demo inject moto's answers
as a queue (see tui/demo/ce_results.py).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from providers.costs.cache import CostCache
from providers.costs.forecast import (
    COMPLETE_METHOD,
    is_complete,
    month_of,
    next_first,
    own_forecast,
    previous_month,
    query_period,
)
from providers.costs.model import AWS_FORECAST_METHOD, CostLine, DailyCost, Forecast, Recommendation, Spend
from providers.costs.recommendations import parse_reservations, parse_savings_plans

log = logging.getLogger(__name__)

FORECAST_METRICS = {
    "UnblendedCost": "UNBLENDED_COST", "BlendedCost": "BLENDED_COST", "AmortizedCost": "AMORTIZED_COST",
    "NetUnblendedCost": "NET_UNBLENDED_COST", "NetAmortizedCost": "NET_AMORTIZED_COST",
    "UsageQuantity": "USAGE_QUANTITY", "NormalizedUsageAmount": "NORMALIZED_USAGE_AMOUNT",
}
GROUP_BY = ({"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})
PREDICTION_INTERVAL = 80
MAX_PAGES = 200
"""A runaway page loop stops here (2 USD) with a line instead of paying on."""
RECOMMENDATIONS_TTL = 86400.0
"""Cost Explorer recomputes purchase recommendations about once a day."""
RESERVATION_QUERY = {"Service": "Amazon Elastic Compute Cloud - Compute",
                     "LookbackPeriodInDays": "SIXTY_DAYS", "TermInYears": "ONE_YEAR",
                     "PaymentOption": "NO_UPFRONT"}
SAVINGS_PLANS_QUERY = {"SavingsPlansType": "COMPUTE_SP", "TermInYears": "ONE_YEAR",
                       "PaymentOption": "NO_UPFRONT", "LookbackPeriodInDays": "SIXTY_DAYS"}
RECOMMENDATION_PAGES = 5


class CostsError(RuntimeError):
    """Cost Explorer could not answer; the message is one line that says what to fix."""


def cost_and_usage_request(start: date, end: date, metric: str) -> dict[str, Any]:
    """The GetCostAndUsage parameters of the one query per month (first page)."""
    return {"TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()}, "Granularity": "DAILY",
            "Metrics": [metric], "GroupBy": [dict(g) for g in GROUP_BY]}


def forecast_request(today: date, metric: str) -> dict[str, Any]:
    """GetCostForecast from today (not yet in the daily figures) to the end of the month."""
    return {"TimePeriod": {"Start": today.isoformat(), "End": next_first(today.replace(day=1)).isoformat()},
            "Metric": FORECAST_METRICS.get(metric, "UNBLENDED_COST"), "Granularity": "MONTHLY",
            "PredictionIntervalLevel": PREDICTION_INTERVAL}


# ---------------------------------------------------------------------------- pure parts


def merge_pages(pages: Sequence[Mapping[str, Any]], metric: str) -> dict[str, Any]:
    """The pages of one GetCostAndUsage answer as one compact, JSON-able record.

    A day's groups may be split across pages (a page ends wherever Cost Explorer
    cuts it), so groups are gathered by the day's start, not by result. The record:
    {"unit": "USD", "days": {day: {"estimated": bool, "groups": [[service, account, amount]]}},
    "names": {account id: description}}.
    """
    unit = ""
    days: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for page in pages:
        for result in page.get("ResultsByTime") or ():
            day = str((result.get("TimePeriod") or {}).get("Start", ""))[:10]
            if not day:
                continue
            entry = days.setdefault(day, {"estimated": False, "groups": []})
            entry["estimated"] = bool(entry["estimated"] or result.get("Estimated"))
            for group in result.get("Groups") or ():
                keys = list(group.get("Keys") or ())
                value = (group.get("Metrics") or {}).get(metric) or {}
                amount = _number(value.get("Amount"))
                unit = unit or str(value.get("Unit") or "")
                service = keys[0] if keys else ""
                account = keys[1] if len(keys) > 1 else ""
                entry["groups"].append([service, account, amount])
        for attr in page.get("DimensionValueAttributes") or ():
            value_id = str(attr.get("Value") or "")
            description = str((attr.get("Attributes") or {}).get("description") or "")
            if value_id and description:
                names[value_id] = description
    return {"unit": unit or "USD", "days": dict(sorted(days.items())), "names": names}


def spend_from(data: Mapping[str, Any], month: str, *, fetched_at: float, complete: bool,
               account_labels: Mapping[str, str] | None = None) -> Spend:
    """Spend of `month` from a merge_pages record (nothing divides: an empty answer is all zeros)."""
    this_prefix, last_prefix = month + "-", previous_month(month) + "-"
    names = dict(data.get("names") or {})
    labels = dict(account_labels or {})
    daily: list[DailyCost] = []
    services: dict[str, list[float]] = {}
    accounts: dict[str, list[float]] = {}
    for day, entry in sorted((data.get("days") or {}).items()):
        if day.startswith(this_prefix):
            column = 0
        elif day.startswith(last_prefix):
            column = 1
        else:
            continue
        total = 0.0
        for service, account, amount in entry.get("groups") or ():
            total += amount
            services.setdefault(service, [0.0, 0.0])[column] += amount
            accounts.setdefault(account, [0.0, 0.0])[column] += amount
        daily.append(DailyCost(day=day, amount=total, estimated=bool(entry.get("estimated"))))

    def lines(sums: Mapping[str, list[float]], label: Callable[[str], str]) -> tuple[CostLine, ...]:
        out = [CostLine(key=key, label=label(key), month_to_date=mtd, last_month=last)
               for key, (mtd, last) in sums.items() if mtd or last]
        return tuple(sorted(out, key=lambda c: (-c.month_to_date, -c.last_month, c.label)))

    return Spend(
        month=month, currency=str(data.get("unit") or "USD"),
        month_to_date=sum(d.amount for d in daily if d.day.startswith(this_prefix)),
        last_month=sum(d.amount for d in daily if d.day.startswith(last_prefix)),
        daily=tuple(daily),
        by_service=lines(services, lambda key: key or "(no service)"),
        by_account=lines(accounts, lambda key: labels.get(key) or names.get(key) or key or "(no account)"),
        fetched_at=fetched_at, complete=complete)


def forecast_from(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The remainder of the month from a GetCostForecast answer: {"mean", "low", "high"} (JSON-able)."""
    total = (answer.get("Total") or {}).get("Amount")
    if total is None:
        raise ValueError("the answer has no Total")
    results = list(answer.get("ForecastResultsByTime") or ())
    lows = [r.get("PredictionIntervalLowerBound") for r in results]
    highs = [r.get("PredictionIntervalUpperBound") for r in results]
    return {"mean": _number(total),
            "low": sum(_number(v) for v in lows) if results and None not in lows else None,
            "high": sum(_number(v) for v in highs) if results and None not in highs else None}


def describe_failure(exc: BaseException, *, operation: str, account: str = "",
                     endpoint: str | None = None) -> str:
    """One line for a failed Cost Explorer call: what happened and what to grant or change."""
    from botocore.exceptions import ClientError

    from providers.aws.errors import ACCESS_DENIED, THROTTLED, error_code, explain

    who = f" for account {account}" if account else ""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        message = str((exc.response.get("Error") or {}).get("Message") or "")
        if unanswered_status(exc) is not None:
            where = f" ({endpoint})" if endpoint else ""
            return one_line(f"Cost Explorer: {operation} is not available at this endpoint{where}, "
                            f"HTTP {status or code}")
        if code in ACCESS_DENIED:
            if "not enabled" in message.lower():
                return one_line(f"Cost Explorer is not enabled{who} — enable it in the AWS Billing console "
                                "(data appears within 24 hours)")
            return one_line(f"Cost Explorer: access denied{who} — grant ce:{operation} (read) to the role "
                            "or user")
        if code == "DataUnavailableException":
            return one_line(f"Cost Explorer has no data for this period{who} — it keeps 13 months, and a new "
                            "account shows data after about 24 hours")
        if code == "LimitExceededException" or code in THROTTLED:
            return one_line(f"Cost Explorer: request limit exceeded ({code}) — it answers again later; "
                            "costs.interval sets how often stacktop asks")
    return one_line("Cost Explorer: " + explain(exc, account=account or "?", region="us-east-1", service="ce",
                                                endpoint=endpoint))


def unanswered_status(exc: BaseException) -> int | None:
    """The HTTP status when the endpoint does not implement the call at all (moto answers 500 with
    an HTML page: botocore then reports the status as the code), else None."""
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return None
    code = str((exc.response.get("Error") or {}).get("Code") or "")
    message = str((exc.response.get("Error") or {}).get("Message") or "")
    if code.isdigit() or message.lstrip().startswith("<"):
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return int(status or code or 0)
    return None


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace collapsed (no newline ever reaches the status line), markup dropped, bounded."""
    text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


# ---------------------------------------------------------------------------- the explorer


class CostExplorer:
    """Cost Explorer for one payer (or standalone) account, through a disk cache.

    `client` makes (or returns) the boto3 "ce" client; it is called only when a
    request is really needed, so a cached answer needs no credentials. Blocking:
    the provider calls it through run_blocking.
    """

    def __init__(self, client: Callable[[], Any], cache: CostCache, *, metric: str = "UnblendedCost",
                 ttl: float = 3600.0, clock: Callable[[], float] = time.time,
                 account_labels: Mapping[str, str] | None = None, use_forecast: bool = True,
                 account: str = "") -> None:
        self._make_client = client
        self._counted: set[int] = set()
        self._cache = cache
        self.metric = metric
        self.ttl = float(ttl)
        self._clock = clock
        self.account_labels = dict(account_labels or {})
        self.use_forecast = use_forecast
        self.account = account
        """Named in error lines ("access denied for account prod")."""
        self.requests = 0
        """Paid requests sent by this client: 0.01 USD each. Counted per HTTP attempt (a
        botocore before-send hook), so the retries botocore makes on throttling count too."""
        self._lock = threading.RLock()  # two polls racing must not both pay for the same answer

    # ------------------------------------------------------------------ spend
    def spend(self, month: str | None = None) -> Spend:
        """Spend of `month` ("YYYY-MM"; None: the current UTC month), with its forecast."""
        now = self._clock()
        today = datetime.fromtimestamp(now, UTC).date()
        month = month or month_of(today)
        try:
            start, end = query_period(month, today)
        except ValueError as exc:
            raise CostsError(one_line(str(exc))) from None
        complete = is_complete(month, today)
        key = f"spend:{self.metric}:{month}:{start.isoformat()}:{end.isoformat()}"
        with self._lock:
            data = self._cache.get(key, self.ttl, now)
            if data is None:
                kept = self._cache.get(key, math.inf, now)
                data = kept if kept is not None and kept.get("final") else None
            if data is None:
                pages = self._cost_and_usage(start, end)
                fetched_at = self._clock()
                data = merge_pages(pages, self.metric)
                data["final"] = complete and not any(d["estimated"] for d in data["days"].values())
                self._cache.put(key, data, fetched_at, replaces=f"spend:{self.metric}:{month}:")
            else:
                fetched_at = self._cache.fetched_at(key) or now
            spend = spend_from(data, month, fetched_at=fetched_at, complete=complete,
                               account_labels=self.account_labels)
            forecast = self._forecast(spend, today, now)
        return dataclasses.replace(spend, forecast=forecast)

    def _cost_and_usage(self, start: date, end: date) -> list[dict[str, Any]]:
        from providers.aws.errors import error_code

        request = cost_and_usage_request(start, end, self.metric)
        pages: list[dict[str, Any]] = []
        token: str | None = None
        restarted = False
        while True:
            kwargs = dict(request, NextPageToken=token) if token else request
            try:
                client = self._client()
                page = client.get_cost_and_usage(**kwargs)
            except Exception as exc:
                if error_code(exc) == "RequestChangedException" and not restarted:
                    restarted, pages, token = True, [], None  # the data changed between pages: start over
                    continue
                raise CostsError(describe_failure(exc, operation="GetCostAndUsage", account=self.account,
                                                  endpoint=self._endpoint())) from None
            pages.append(page)
            token = page.get("NextPageToken") or None
            if not token:
                return pages
            if len(pages) >= MAX_PAGES:
                raise CostsError(f"Cost Explorer: more than {MAX_PAGES} pages for one month — stopped "
                                 "paying; too many service/account groups for this console")

    # ------------------------------------------------------------------ forecast
    def _forecast(self, spend: Spend, today: date, now: float) -> Forecast | None:
        if spend.complete:
            return Forecast(amount=spend.month_to_date, method=COMPLETE_METHOD)
        if self.use_forecast:
            remainder = self._aws_forecast(spend.month, today, now)
            if remainder is not None:
                mtd = spend.month_to_date
                low, high = remainder.get("low"), remainder.get("high")
                return Forecast(amount=mtd + remainder["mean"], method=AWS_FORECAST_METHOD,
                                low=None if low is None else mtd + low,
                                high=None if high is None else mtd + high)
        return own_forecast(spend.daily, spend.month, today)

    def _aws_forecast(self, month: str, today: date, now: float) -> dict[str, Any] | None:
        """The rest of the month from GetCostForecast (cached, failures too), or None."""
        key = f"forecast:{self.metric}:{month}:{today.isoformat()}"
        outcome = self._cache.get(key, self.ttl, now)
        if outcome is None:
            why = ""
            try:
                client = self._client()
                answer = client.get_cost_forecast(**forecast_request(today, self.metric))
                outcome = {"ok": True, **forecast_from(answer)}
            except ValueError as exc:
                why = f"Cost Explorer: the forecast answer is unusable ({exc})"
            except Exception as exc:
                why = describe_failure(exc, operation="GetCostForecast", account=self.account,
                                       endpoint=self._endpoint())
            if outcome is None:
                log.info("costs: %s; using our own forecast", why)
                outcome = {"ok": False, "why": why}
            self._cache.put(key, outcome, self._clock(), replaces=f"forecast:{self.metric}:{month}:")
        return outcome if outcome.get("ok") else None

    # ------------------------------------------------------------------ recommendations
    def recommendations(self) -> tuple[tuple[Recommendation, ...], str]:
        """Reserved Instances and Savings Plans purchases Cost Explorer suggests (cached a day, the
        failure too); never raises: the note says why there are none ("not available: …")."""
        key = "recommendations:" + ":".join(str(v) for v in RESERVATION_QUERY.values())
        with self._lock:
            now = self._clock()
            cached = self._cache.get(key, RECOMMENDATIONS_TTL, now)
            if cached is None:
                cached = self._ask_recommendations()
                self._cache.put(key, cached, self._clock(), replaces="recommendations:")
        items = tuple(Recommendation(**item) for item in cached.get("items") or ())
        return items, str(cached.get("note") or "")

    def _ask_recommendations(self) -> dict[str, Any]:
        items: list[Recommendation] = []
        unanswered: list[tuple[str, int]] = []
        failures: list[str] = []
        for kind, operation, query, parse in (
                ("Reserved Instances", "GetReservationPurchaseRecommendation", RESERVATION_QUERY,
                 parse_reservations),
                ("Savings Plans", "GetSavingsPlansPurchaseRecommendation", SAVINGS_PLANS_QUERY,
                 parse_savings_plans)):
            try:
                for page in self._recommendation_pages(operation, query):
                    items.extend(parse(page))
            except Exception as exc:
                status = unanswered_status(exc)
                if status is not None:
                    unanswered.append((operation, status))
                else:
                    why = describe_failure(exc, operation=operation, account=self.account,
                                           endpoint=self._endpoint())
                    failures.append(f"{kind}: {why.removeprefix('Cost Explorer: ')}")
        if unanswered:
            statuses = sorted({str(status) for _, status in unanswered})
            failures.insert(0, f"this endpoint does not answer {' or '.join(op for op, _ in unanswered)} "
                               f"(HTTP {', '.join(statuses)})")
        note = "not available: " + "; ".join(failures) if failures else ""
        items.sort(key=lambda r: (-r.monthly_savings, r.kind, r.description))
        return {"items": [_as_dict(r) for r in items], "note": one_line(note, 400)}

    def _recommendation_pages(self, operation: str, query: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        method = "get_reservation_purchase_recommendation" if operation.startswith("GetReservation") else \
            "get_savings_plans_purchase_recommendation"
        pages: list[Mapping[str, Any]] = []
        token: str | None = None
        while len(pages) < RECOMMENDATION_PAGES:
            client = self._client()
            page = getattr(client, method)(**(dict(query, NextPageToken=token) if token else dict(query)))
            pages.append(page)
            token = page.get("NextPageToken") or None
            if not token:
                break
        return pages

    def _client(self) -> Any:
        client = self._make_client()
        if id(client) not in self._counted:
            self._counted.add(id(client))
            client.meta.events.register("before-send.ce", self._count_attempt)
        return client

    def _count_attempt(self, **_: Any) -> None:
        with self._lock:
            self.requests += 1

    def _endpoint(self) -> str | None:
        try:
            return str(self._client().meta.endpoint_url)
        except Exception:
            return None


def _as_dict(r: Recommendation) -> dict[str, Any]:
    return {"kind": r.kind, "description": r.description, "term": r.term, "payment": r.payment,
            "upfront": r.upfront, "monthly_savings": r.monthly_savings, "savings_percent": r.savings_percent}


__all__ = ["CostExplorer", "CostsError", "cost_and_usage_request", "describe_failure", "forecast_from",
           "forecast_request", "merge_pages", "one_line", "spend_from", "unanswered_status"]

"""Cost Explorer answers for moto: what the demo and the tests inject.

moto 5.2.1 does not track cost; its GetCostAndUsage answers from a queue filled
through ``POST /moto-api/static/ce/cost-and-usage-results`` (this module's
:func:`inject`). How it picks an answer (moto/ce/models.py):

- results are keyed by the *exact JSON body* boto3 sent. A body seen before gets
  the same answer again; a body never seen takes the next queued result (and
  keeps it); with the queue empty the answer is ``{"ResultsByTime": []}``.
- so results are matched by the ORDER of first-seen request bodies, not by
  their dates. CostExplorer (providers/costs/explorer.py) sends its queries in a
  fixed order: for each spend(month) call, page 1, page 2, … of that month's one
  query (a follow-up page's body differs by its NextPageToken, so each page takes
  the next result). Inject one result per page, in the order the months are asked.
- the answer is returned verbatim, ``NextPageToken`` included: a two-page answer
  is two results, the first carrying a token (:func:`paged`).
- the queue belongs to one account (``account_id``; moto's default 123456789012,
  which is where any unknown access key lands) and ``/moto-api/reset`` empties it.
- the body contains the period's End (today, for the current month): after
  midnight UTC the query is a new body and takes the next result — a long-running
  demo injects a result for the next day ahead of time, or re-injects.

GetCostForecast and the purchase recommendations are not implemented by moto
(HTTP 500 with an HTML page): the explorer falls back to its own forecast and
says "not available".

No Textual here: the demo backend and the tests both import it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.request import Request, urlopen

from providers.costs.forecast import query_period

DEFAULT_ACCOUNT = "123456789012"
INJECT_PATH = "/moto-api/static/ce/cost-and-usage-results"
GROUP_DEFINITIONS = ({"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"})


def cost_and_usage_result(days: Mapping[str, Mapping[tuple[str, str], float]], *,
                          metric: str = "UnblendedCost", account_names: Mapping[str, str] = {},
                          estimated_from: str | None = None, unit: str = "USD") -> dict[str, Any]:
    """One GetCostAndUsage answer in wire shape for CostExplorer.spend()'s query.

    `days`: "YYYY-MM-DD" -> {(service, account id): amount}; give every day of the
    query period (Cost Explorer lists zero days too). Days on or after
    `estimated_from` are marked Estimated. `account_names` become the
    DimensionValueAttributes descriptions, as Cost Explorer reports account names.
    """
    results = []
    for day in sorted(days):
        end = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        groups = [{"Keys": [service, account], "Metrics": {metric: {"Amount": _amount(amount), "Unit": unit}}}
                  for (service, account), amount in sorted(days[day].items())]
        results.append({"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups,
                        "Estimated": bool(estimated_from is not None and day >= estimated_from)})
    accounts = sorted({account for groups in days.values() for _, account in groups} | set(account_names))
    attributes = [{"Value": a, "Attributes": {"description": account_names[a]}}
                  for a in accounts if a in account_names]
    return {"GroupDefinitions": [dict(g) for g in GROUP_DEFINITIONS], "ResultsByTime": results,
            "DimensionValueAttributes": attributes}


def paged(result: Mapping[str, Any], pages: int) -> list[dict[str, Any]]:
    """`result` cut into `pages` answers chained by NextPageToken, as Cost Explorer pages.

    The cut runs through the groups (a day may be split across two pages, as
    Cost Explorer does), so a reader that merges results by day is tested too.
    """
    flat = [(r, g) for r in result.get("ResultsByTime") or () for g in (r.get("Groups") or [None])]
    size = max(1, -(-len(flat) // max(1, pages)))
    out: list[dict[str, Any]] = []
    for index in range(0, max(len(flat), 1), size):
        chunk = flat[index:index + size]
        results: list[dict[str, Any]] = []
        for r, g in chunk:
            if not results or results[-1]["TimePeriod"] != r["TimePeriod"]:
                results.append({**r, "Groups": []})
            if g is not None:
                results[-1]["Groups"].append(g)
        out.append({"GroupDefinitions": list(result.get("GroupDefinitions") or ()), "ResultsByTime": results,
                    "DimensionValueAttributes": list(result.get("DimensionValueAttributes") or ())})
    for number, page in enumerate(out[:-1], start=1):
        page["NextPageToken"] = f"page-{number + 1}-of-{len(out)}"
    return out


def period_days(month: str, today: date) -> list[str]:
    """Every day CostExplorer.spend(month) asks for on `today` (the previous month too)."""
    start, end = query_period(month, today)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days)]


def steady_days(month: str, today: date, per_day: Mapping[tuple[str, str], float], *,
                growth: float = 0.0, weekend: float = 1.0) -> dict[str, dict[tuple[str, str], float]]:
    """A plausible daily series over spend(month)'s period: `per_day` each day, growing by
    `growth` (a fraction) a day from the period's first day, times `weekend` on Saturdays and Sundays."""
    out: dict[str, dict[tuple[str, str], float]] = {}
    for index, day in enumerate(period_days(month, today)):
        factor = (1.0 + growth) ** index * (weekend if date.fromisoformat(day).weekday() >= 5 else 1.0)
        out[day] = {key: round(amount * factor, 6) for key, amount in per_day.items()}
    return out


def inject(endpoint_url: str, results: Sequence[Mapping[str, Any]], account_id: str = DEFAULT_ACCOUNT,
           timeout: float = 10.0) -> None:
    """Queue `results` in moto's Cost Explorer of `account_id` (one per first-seen request body)."""
    body = json.dumps({"results": list(results), "account_id": account_id}).encode("utf-8")
    request = Request(endpoint_url.rstrip("/") + INJECT_PATH, data=body, method="POST",
                      headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=timeout) as response:
        response.read()
        if response.status != 201:
            raise RuntimeError(f"moto did not take the Cost Explorer results: HTTP {response.status}")


def _amount(value: float) -> str:
    """Cost Explorer's amounts are decimal strings with up to 10 decimals."""
    text = f"{value:.10f}".rstrip("0")
    return text + "0" if text.endswith(".") else text

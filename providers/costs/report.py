"""The monthly costs report (`stacktop report costs`): one CostsSnapshot as JSON, CSV or HTML.

Why three formats: JSON feeds scripts and dashboards (a versioned schema they can
rely on), CSV feeds the spreadsheet finance already keeps, HTML is what gets mailed
to the people who ask why the bill grew. All three come from the same snapshot the
Costs tab shows, so the report never disagrees with the screen.

JSON — schema "stacktop.costs.report/1", described by tests/data/costs/report.schema.json:
top-level keys schema, month, currency, complete, generated_at, data_fetched_at,
findings_at, totals {month_to_date, last_month, forecast, forecast_method,
forecast_low, forecast_high, potential_savings_monthly}, daily, by_service,
by_account, budgets, findings, recommendations, namespaces, notes. Money is rounded
to cents in the bill's currency; times are ISO 8601 UTC ("2026-10-14T09:00:00Z");
null where a figure is unknown. A change that breaks readers bumps the /1.

CSV — one file, RFC 4180 (the csv module, CRLF line ends), header row then one row
per item, with these columns in this order:

    section      total | service | account | daily | budget | finding | recommendation | namespace
    name         total: month_to_date, last_month, forecast, potential_savings_monthly;
                 service: the service; account: the account's name; daily: the day (YYYY-MM-DD);
                 budget: the budget's name; finding: the resource's name; recommendation:
                 what to buy; namespace: the namespace
    account      the 12-digit account id (account rows) or the finding's account; else empty
    region       the finding's region; else empty
    amount       month to date (total, service, account, budget spent, namespace), the day's
                 spend (daily), the monthly savings (finding, recommendation); 2 decimals,
                 no currency symbol, no thousands separator; empty when unknown
    last_month   last month's spend (total, service, account); else empty
    detail       the rest as "key: value; key: value" (kind, reason, action, forecast method...)

HTML — one self-contained file (inline style and SVG; no script, font, image or link
to fetch), printable. Every text that came from AWS or Kubernetes (Name tags,
namespaces) is HTML-escaped: a tag can hold "<script>".

Settings never reach this module: the snapshot holds no secret, and the report is
written as rendered.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from providers.costs.model import (
    BudgetState,
    BudgetStatus,
    CostLine,
    CostsSnapshot,
    Finding,
    NamespaceCost,
    Recommendation,
    Spend,
)
from providers.html_page import STYLE as _STYLE
from providers.html_page import card as _card
from providers.html_page import h as _h
from providers.html_page import iso as _iso
from providers.html_page import when as _when
from providers.html_page import write_atomic as write_atomic

SCHEMA = "stacktop.costs.report/1"
FORMATS = ("html", "csv", "json")
CSV_COLUMNS = ("section", "name", "account", "region", "amount", "last_month", "detail")
GIB = 1024 ** 3


def render(snapshot: CostsSnapshot, fmt: str) -> str:
    """The report in `fmt` ("html", "csv" or "json")."""
    if fmt == "json":
        return render_json(snapshot)
    if fmt == "csv":
        return render_csv(snapshot)
    if fmt == "html":
        return render_html(snapshot)
    raise ValueError(f"unknown report format '{fmt}' — use one of {', '.join(FORMATS)}")



def report_month(snapshot: CostsSnapshot) -> str:
    """The month reported: Cost Explorer's, else the month the snapshot was taken (UTC)."""
    if snapshot.spend is not None:
        return snapshot.spend.month
    return datetime.fromtimestamp(snapshot.taken_at, UTC).strftime("%Y-%m")


def previous_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def days_in(month: str) -> int:
    year, mon = (int(p) for p in month.split("-"))
    return calendar.monthrange(year, mon)[1]





def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 1)


def _findings(snapshot: CostsSnapshot) -> list[Finding]:
    """Largest savings first, whatever order the snapshot came in (ties by name: stable output)."""
    return sorted(snapshot.findings, key=lambda f: (-f.monthly_savings, f.name, f.resource_id))


def _namespaces(snapshot: CostsSnapshot) -> list[NamespaceCost]:
    return sorted(snapshot.namespaces, key=lambda n: (-n.month_to_date, n.context, n.namespace))


def _notes(snapshot: CostsSnapshot) -> list[tuple[str, str]]:
    """(part, text): why a part is missing, and what the estimates rest on."""
    notes: list[tuple[str, str]] = []
    if snapshot.spend_error:
        notes.append(("spend", snapshot.spend_error))
    if snapshot.findings_error:
        notes.append(("findings", snapshot.findings_error))
    if snapshot.recommendations_note:
        notes.append(("recommendations", snapshot.recommendations_note))
    if snapshot.price_note:
        notes.append(("prices", snapshot.price_note))
    return notes


def _worst_budget(budgets: Sequence[BudgetStatus]) -> BudgetStatus | None:
    return max(budgets, key=lambda b: b.ratio, default=None)


# ---------------------------------------------------------------- JSON


def _line_json(line: CostLine) -> dict[str, Any]:
    return {"key": line.key, "label": line.label, "month_to_date": _money(line.month_to_date),
            "last_month": _money(line.last_month)}


def _budget_json(b: BudgetStatus) -> dict[str, Any]:
    return {"name": b.name, "scope": b.scope, "source": b.source, "amount": _money(b.amount),
            "spent": _money(b.spent), "used_percent": _percent(b.ratio), "forecast": _money(b.forecast),
            "forecast_percent": _percent(b.forecast_ratio), "warn_percent": _percent(b.warn),
            "state": b.state.value}


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"kind": f.kind.value, "resource_id": f.resource_id, "name": f.name, "account": f.account,
            "region": f.region, "reason": f.reason, "evidence": f.evidence,
            "monthly_cost": _money(f.monthly_cost), "monthly_savings": _money(f.monthly_savings),
            "action": f.action, "details": dict(f.details)}


def _recommendation_json(r: Recommendation) -> dict[str, Any]:
    return {"kind": r.kind, "description": r.description, "term": r.term, "payment": r.payment,
            "upfront": _money(r.upfront), "monthly_savings": _money(r.monthly_savings),
            "savings_percent": None if r.savings_percent is None else round(r.savings_percent, 1)}


def _namespace_json(n: NamespaceCost) -> dict[str, Any]:
    return {"context": n.context, "namespace": n.namespace, "pods": n.pods,
            "cpu_request_cores": round(n.cpu_request, 3), "memory_request_bytes": int(n.memory_request),
            "hourly": round(n.hourly, 6), "month_to_date": _money(n.month_to_date),
            "month_projection": _money(n.month_projection)}


def report_document(snapshot: CostsSnapshot) -> dict[str, Any]:
    """The JSON report as plain data (schema stacktop.costs.report/1)."""
    spend = snapshot.spend
    forecast = spend.forecast if spend is not None else None
    return {
        "schema": SCHEMA,
        "month": report_month(snapshot),
        "currency": spend.currency if spend is not None else None,
        "complete": spend.complete if spend is not None else False,
        "generated_at": _iso(snapshot.taken_at),
        "data_fetched_at": _iso(spend.fetched_at) if spend is not None else None,
        "findings_at": _iso(snapshot.findings_at),
        "totals": {
            "month_to_date": _money(spend.month_to_date) if spend is not None else None,
            "last_month": _money(spend.last_month) if spend is not None else None,
            "forecast": _money(forecast.amount) if forecast is not None else None,
            "forecast_method": forecast.method if forecast is not None else None,
            "forecast_low": _money(forecast.low) if forecast is not None else None,
            "forecast_high": _money(forecast.high) if forecast is not None else None,
            "potential_savings_monthly": _money(snapshot.potential_savings),
        },
        "daily": [{"day": d.day, "amount": _money(d.amount), "estimated": d.estimated}
                  for d in (spend.daily if spend is not None else ())],
        "by_service": [_line_json(line) for line in (spend.by_service if spend is not None else ())],
        "by_account": [_line_json(line) for line in (spend.by_account if spend is not None else ())],
        "budgets": [_budget_json(b) for b in snapshot.budgets],
        "findings": [_finding_json(f) for f in _findings(snapshot)],
        "recommendations": [_recommendation_json(r) for r in snapshot.recommendations],
        "namespaces": [_namespace_json(n) for n in _namespaces(snapshot)],
        "notes": [{"part": part, "text": text} for part, text in _notes(snapshot)],
    }


def render_json(snapshot: CostsSnapshot) -> str:
    return json.dumps(report_document(snapshot), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- CSV


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _pct_text(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:.1f}%"


def _detail(*pairs: tuple[str, object]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in pairs if v not in (None, ""))


def _csv_rows(snapshot: CostsSnapshot) -> Iterable[tuple[str, ...]]:
    spend = snapshot.spend
    if spend is not None:
        forecast = spend.forecast
        yield ("total", "month_to_date", "", "", _num(spend.month_to_date), _num(spend.last_month),
               _detail(("month", spend.month), ("currency", spend.currency),
                       ("complete", "yes" if spend.complete else "no")))
        yield ("total", "last_month", "", "", _num(spend.last_month), "",
               _detail(("month", previous_month(spend.month))))
        if forecast is not None:
            yield ("total", "forecast", "", "", _num(forecast.amount), "",
                   _detail(("method", forecast.method), ("low", _num(forecast.low)),
                           ("high", _num(forecast.high))))
    yield ("total", "potential_savings_monthly", "", "", _num(snapshot.potential_savings), "",
           _detail(("findings", len(snapshot.findings))))
    if spend is not None:
        for line in spend.by_service:
            yield ("service", line.label, "", "", _num(line.month_to_date), _num(line.last_month),
                   _detail(("key", line.key if line.key != line.label else "")))
        for line in spend.by_account:
            yield ("account", line.label, line.key, "", _num(line.month_to_date), _num(line.last_month), "")
        for day in spend.daily:
            yield ("daily", day.day, "", "", _num(day.amount), "", "estimated" if day.estimated else "")
    for b in snapshot.budgets:
        yield ("budget", b.name, "", "", _num(b.spent), "",
               _detail(("scope", b.scope), ("budget", _num(b.amount)), ("used", _pct_text(b.ratio)),
                       ("forecast", _num(b.forecast)),
                       ("forecast used", _pct_text(b.forecast_ratio)),
                       ("state", b.state.value), ("source", b.source)))
    for f in _findings(snapshot):
        yield ("finding", f.name, f.account, f.region, _num(f.monthly_savings), "",
               _detail(("kind", f.kind.value), ("resource", f.resource_id), ("reason", f.reason),
                       ("evidence", f.evidence), ("monthly cost", _num(f.monthly_cost)),
                       ("action", f.action)))
    for r in snapshot.recommendations:
        yield ("recommendation", r.description, "", "", _num(r.monthly_savings), "",
               _detail(("kind", r.kind), ("term", r.term), ("payment", r.payment),
                       ("upfront", _num(r.upfront)),
                       ("savings", "" if r.savings_percent is None else f"{r.savings_percent:.1f}%")))
    for n in _namespaces(snapshot):
        yield ("namespace", n.namespace, "", "", _num(n.month_to_date), "",
               _detail(("context", n.context), ("pods", n.pods), ("cpu cores", f"{n.cpu_request:.3f}"),
                       ("memory GiB", f"{n.memory_request / GIB:.2f}"), ("hourly", f"{n.hourly:.4f}"),
                       ("month projection", _num(n.month_projection))))


def render_csv(snapshot: CostsSnapshot) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(snapshot))
    return out.getvalue()


# ---------------------------------------------------------------- HTML



def _fmt(value: float | None, currency: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}"
    return f"{text} {_h(currency)}" if currency else text



def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"



def _totals_html(snapshot: CostsSnapshot, spend: Spend | None) -> str:
    cur = spend.currency if spend is not None else ""
    cards: list[str] = []
    if spend is not None:
        prev = previous_month(spend.month)
        if spend.complete:
            cards.append(_card("Month total", _fmt(spend.month_to_date, cur), _h(spend.month)))
        else:
            cards.append(_card("Month to date", _fmt(spend.month_to_date, cur),
                               f"{len(spend.this_month())} day(s) of {days_in(spend.month)}"))
            if spend.forecast is not None:
                band = ""
                if spend.forecast.low is not None and spend.forecast.high is not None:
                    band = f" (range {_fmt(spend.forecast.low)} to {_fmt(spend.forecast.high)})"
                cards.append(_card("Forecast to month end", _fmt(spend.forecast.amount, cur),
                                   _h(spend.forecast.method) + band))
            else:
                cards.append(_card("Forecast to month end", "—", "no forecast"))
        cards.append(_card("Last month", _fmt(spend.last_month, cur), _h(prev)))
    worst = _worst_budget(snapshot.budgets)
    if worst is not None:
        sub = f"{_h(worst.name)}: {_fmt(worst.spent)} of {_fmt(worst.amount, cur)}"
        if worst.forecast_ratio is not None:
            sub += f"; forecast {worst.forecast_ratio * 100:.0f} %"
        over = sum(1 for b in snapshot.budgets if b.state is BudgetState.OVER)
        if len(snapshot.budgets) > 1:
            sub += f"<br>the highest of {len(snapshot.budgets)} budgets; {over} over"
        cards.append(_card("Budget used", f"{worst.ratio * 100:.0f} %", sub, worst.state.value))
    else:
        cards.append(_card("Budget used", "—", "no budget configured"))
    count = len(snapshot.findings)
    cards.append(_card("Potential savings", _fmt(snapshot.potential_savings, cur) + " / month",
                       f"{count} finding(s)" + (" (estimates)" if count else "")))
    return '<section class="totals">' + "".join(cards) + "</section>"


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above `value`: round axis labels."""
    if value <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    return next(step * base for step in (1, 2, 2.5, 5, 10) if step * base >= value * (1 - 1e-12))


def daily_chart_svg(spend: Spend) -> str:
    """Daily spend of the month as bars, last month's days as a dashed line across the same width.

    One <svg> with its own <title>s (hover tooltips), no external reference, styled by
    the page's classes so that print and screen agree.
    """
    width, height = 760, 240
    left, right, top, bottom = 64, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    month, prev = spend.month, previous_month(spend.month)
    this = [d for d in spend.daily if d.day.startswith(month)]
    last = [d for d in spend.daily if d.day.startswith(prev)]
    n_this, n_last = days_in(month), days_in(prev)
    top_value = _nice_ceiling(max((d.amount for d in (*this, *last)), default=0.0))

    def y(amount: float) -> float:
        return top + plot_h - max(0.0, amount) / top_value * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{_h(f"daily spend in {month}, bars; {prev} dashed")}">']
    for i in range(5):
        value = top_value * i / 4
        gy = y(value)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        label = f"{value:,.0f}" if top_value >= 10 else f"{value:,.2f}"
        parts.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">{label}</text>')
    slot = plot_w / n_this
    for d in this:
        index = int(d.day[8:10]) - 1
        bar_h = max(0.0, d.amount) / top_value * plot_h
        klass = "bar est" if d.estimated else "bar"
        note = " (estimated)" if d.estimated else ""
        parts.append(f'<rect class="{klass}" x="{left + index * slot + slot * 0.15:.1f}" '
                     f'y="{top + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}">'
                     f"<title>{_h(d.day)}: {_fmt(d.amount, spend.currency)}{note}</title></rect>")
    if last:
        step = plot_w / n_last
        points = " ".join(f"{left + (int(d.day[8:10]) - 0.5) * step:.1f},{y(d.amount):.1f}" for d in last)
        parts.append(f'<polyline class="last" points="{points}"><title>{_h(prev)}</title></polyline>')
    for day in range(1, n_this + 1):
        if day == 1 or day % 5 == 0:
            parts.append(f'<text x="{left + (day - 0.5) * slot:.1f}" y="{height - 10}" '
                         f'text-anchor="middle">{day}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _lines_table(lines: Sequence[CostLine], first: str, cur: str, ids: bool) -> str:
    if not lines:
        return '<p class="note">No spend recorded.</p>'
    biggest = max((line.month_to_date for line in lines), default=0.0) or 1.0
    rows = []
    for line in lines:
        label = _h(line.label)
        if ids and line.key != line.label:
            label += f' <span class="id">{_h(line.key)}</span>'
        share = max(0.0, line.month_to_date) / biggest * 100
        rows.append(f"<tr><td>{label}</td><td class=\"num\">{_fmt(line.month_to_date)}</td>"
                    f"<td class=\"num\">{_fmt(line.last_month)}</td>"
                    f'<td><span class="share" style="width:{share:.1f}%"></span></td></tr>')
    total_mtd = sum(line.month_to_date for line in lines)
    total_last = sum(line.last_month for line in lines)
    return (f'<table><thead><tr><th>{_h(first)}</th><th class="num">This month ({_h(cur)})</th>'
            f'<th class="num">Last month ({_h(cur)})</th><th style="width:30%">Share</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody><tfoot><tr><td>Total</td>"
            f'<td class="num">{_fmt(total_mtd)}</td><td class="num">{_fmt(total_last)}</td><td></td></tr>'
            "</tfoot></table>")


def _budgets_html(budgets: Sequence[BudgetStatus], cur: str) -> str:
    if not budgets:
        return '<p class="note">No budget configured (costs.budgets, or AWS Budgets).</p>'
    rows = []
    for b in budgets:
        state = b.state.value
        forecast = "—" if b.forecast is None else (
            f"{_fmt(b.forecast)} ({(b.forecast_ratio or 0) * 100:.0f} %)")
        rows.append(
            f"<tr><td>{_h(b.name)}</td><td>{_h(b.scope)}</td><td class=\"num\">{_fmt(b.amount)}</td>"
            f'<td class="num">{_fmt(b.spent)}</td>'
            f'<td class="num {state}">{b.ratio * 100:.0f} %</td>'
            f'<td><span class="meter"><span class="{state}" style="width:{min(100.0, b.ratio * 100):.1f}%">'
            f"</span></span></td><td class=\"num\">{forecast}</td>"
            f'<td class="{state}">{_h(_STATE_TEXT[b.state])}</td><td>{_h(b.source)}</td></tr>')
    return (f"<table><thead><tr><th>Budget</th><th>Scope</th><th class=\"num\">Amount ({_h(cur)})</th>"
            f'<th class="num">Spent</th><th class="num">Used</th><th></th><th class="num">Forecast</th>'
            f"<th>State</th><th>Source</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


_STATE_TEXT = {BudgetState.OK: "ok", BudgetState.WARN: "warning", BudgetState.OVER: "over budget"}


def _findings_html(snapshot: CostsSnapshot, cur: str) -> str:
    parts = []
    if snapshot.findings_error:
        parts.append(f'<p class="note">Finder: {_h(snapshot.findings_error)}</p>')
    findings = _findings(snapshot)
    if not findings:
        if not snapshot.findings_error:
            parts.append('<p class="note">No idle or wasted resource found.</p>')
        return "".join(parts)
    rows = []
    for f in findings:
        resource = _h(f.name)
        if f.resource_id != f.name:
            resource += f'<br><span class="id">{_h(f.resource_id)}</span>'
        rows.append(
            f'<tr><td class="num">{_fmt(f.monthly_savings)}</td><td class="num">{_fmt(f.monthly_cost)}</td>'
            f"<td>{_h(f.kind.value)}</td><td>{resource}</td><td>{_h(f.account)}<br>"
            f'<span class="id">{_h(f.region)}</span></td><td>{_h(f.reason)}<br>'
            f'<span class="id">{_h(f.evidence)}</span></td><td>{_h(f.action)}</td></tr>')
    total_cost = sum(f.monthly_cost for f in findings)
    parts.append(
        f'<table><thead><tr><th class="num">Saves / month ({_h(cur)})</th><th class="num">Costs / month</th>'
        "<th>Kind</th><th>Resource</th><th>Account / region</th><th>Reason / evidence</th><th>Action</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody><tfoot><tr>"
        f'<td class="num">{_fmt(snapshot.potential_savings)}</td><td class="num">{_fmt(total_cost)}</td>'
        f'<td colspan="5">Total of {len(findings)} finding(s), estimated</td></tr></tfoot></table>')
    return "".join(parts)


def _recommendations_html(snapshot: CostsSnapshot, cur: str) -> str:
    if not snapshot.recommendations:
        note = snapshot.recommendations_note or "no recommendation"
        return f'<p class="note">{_h(note)}</p>'
    rows = "".join(
        f"<tr><td>{_h(r.kind)}</td><td>{_h(r.description)}</td><td>{_h(r.term)}</td><td>{_h(r.payment)}</td>"
        f'<td class="num">{_fmt(r.upfront)}</td><td class="num">{_fmt(r.monthly_savings)}</td>'
        f'<td class="num">{"—" if r.savings_percent is None else f"{r.savings_percent:.0f} %"}</td></tr>'
        for r in snapshot.recommendations)
    note = f'<p class="note">{_h(snapshot.recommendations_note)}</p>' if snapshot.recommendations_note else ""
    return (f"<table><thead><tr><th>Kind</th><th>Purchase</th><th>Term</th><th>Payment</th>"
            f'<th class="num">Upfront ({_h(cur)})</th><th class="num">Saves / month</th>'
            f'<th class="num">Savings</th></tr></thead><tbody>{rows}</tbody></table>{note}')


def _namespaces_html(snapshot: CostsSnapshot, cur: str) -> str:
    namespaces = _namespaces(snapshot)
    if not namespaces:
        return '<p class="note">No Kubernetes cost (costs.kubernetes off, or no cluster watched).</p>'
    rows = "".join(
        f"<tr><td>{_h(n.context)}</td><td>{_h(n.namespace)}</td><td class=\"num\">{n.pods}</td>"
        f'<td class="num">{n.cpu_request:.2f}</td><td class="num">{n.memory_request / GIB:.2f}</td>'
        f'<td class="num">{n.hourly:.4f}</td><td class="num">{_fmt(n.month_to_date)}</td>'
        f'<td class="num">{_fmt(n.month_projection)}</td></tr>'
        for n in namespaces)
    return (f"<table><thead><tr><th>Context</th><th>Namespace</th><th class=\"num\">Pods</th>"
            f'<th class="num">CPU requested (cores)</th><th class="num">Memory requested (GiB)</th>'
            f'<th class="num">Per hour ({_h(cur)})</th><th class="num">Month to date</th>'
            f'<th class="num">Month projection</th></tr></thead><tbody>{rows}</tbody>'
            f'<tfoot><tr><td colspan="6">Total</td>'
            f'<td class="num">{_fmt(sum(n.month_to_date for n in namespaces))}</td>'
            f'<td class="num">{_fmt(sum(n.month_projection for n in namespaces))}</td></tr></tfoot></table>'
            '<p class="note">Each pod\'s CPU and memory requests times its node\'s hourly price share '
            "(the OpenCost method); month to date accumulates while stacktop watched.</p>")


def render_html(snapshot: CostsSnapshot) -> str:
    spend = snapshot.spend
    month = report_month(snapshot)
    cur = spend.currency if spend is not None else "USD"
    title = f"stacktop costs — {month}"
    meta = [f"Generated {_h(_when(snapshot.taken_at))}"]
    if spend is not None:
        meta.append(f"Cost Explorer data of {_h(_when(spend.fetched_at))} "
                    f"({_age(snapshot.taken_at - spend.fetched_at)} old when written)")
        meta.append(f"amounts in {_h(spend.currency)}")
        if spend.complete:
            meta.append("the month is complete")
    body = [f"<header><h1>{_h(title)}</h1><p class=\"meta\">{' · '.join(meta)}</p></header>"]
    if snapshot.spend_error:
        body.append(f'<p class="note over">Spend: {_h(snapshot.spend_error)}</p>')
    body.append(_totals_html(snapshot, spend))
    if spend is not None:
        body.append("<section><h2>Daily spend</h2>")
        if spend.daily:
            prev = previous_month(spend.month)
            body.append(daily_chart_svg(spend))
            body.append('<p class="legend">'
                        f'<span><i class="swatch" style="background:var(--bar)"></i>{_h(spend.month)}</span>'
                        '<span><i class="swatch" style="background:var(--bar-est)"></i>'
                        "estimated (may still change)</span>"
                        f'<span><i class="swatch" style="background:var(--last)"></i>{_h(prev)} (dashed)'
                        "</span></p>")
        else:
            body.append('<p class="note">No daily figures.</p>')
        body.append("</section>")
        body.append("<section><h2>Spend by service</h2>"
                    + _lines_table(spend.by_service, "Service", cur, ids=False) + "</section>")
        body.append("<section><h2>Spend by account</h2>"
                    + _lines_table(spend.by_account, "Account", cur, ids=True) + "</section>")
    body.append("<section><h2>Budgets</h2>" + _budgets_html(snapshot.budgets, cur) + "</section>")
    body.append("<section><h2>Idle and wasted resources</h2>" + _findings_html(snapshot, cur) + "</section>")
    body.append("<section><h2>Reservations and Savings Plans</h2>"
                + _recommendations_html(snapshot, cur) + "</section>")
    body.append("<section><h2>Kubernetes cost per namespace</h2>" + _namespaces_html(snapshot, cur)
                + "</section>")
    footer = []
    if snapshot.price_note:
        footer.append(_h(snapshot.price_note))
    if snapshot.findings_at is not None:
        footer.append(f"resources scanned {_h(_when(snapshot.findings_at))}")
    footer.append("savings and resource costs are estimates; spend is what Cost Explorer reports")
    if snapshot.ce_requests:
        footer.append(f"{snapshot.ce_requests} paid Cost Explorer request(s) made for this report")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_h(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(body)
            + f"\n<footer>{' · '.join(footer)}</footer>\n</body></html>\n")

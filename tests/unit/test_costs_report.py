"""The costs report in its three formats, from hand-built snapshots: the figures an operator
reads are the snapshot's, the JSON keeps its schema, the CSV its columns, and the HTML is
one self-contained page in which an AWS Name tag can never become markup."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from providers.costs.model import (
    AWS_FORECAST_METHOD,
    OWN_FORECAST_METHOD,
    BudgetStatus,
    CostLine,
    CostsSnapshot,
    DailyCost,
    Finding,
    FindingKind,
    Forecast,
    NamespaceCost,
    Recommendation,
    Spend,
)
from providers.costs.report import CSV_COLUMNS, SCHEMA, render, write_atomic

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "data" / "costs" / "report.schema.json"
EVIL = '<script>alert("x")</script>'
EVIL_URL = "https://evil.example/track.png"
TAKEN = datetime(2026, 10, 14, 9, 30, tzinfo=UTC).timestamp()
EC2 = "Amazon Elastic Compute Cloud - Compute"
FETCHED = datetime(2026, 10, 14, 8, 0, tzinfo=UTC).timestamp()


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def finding(kind: FindingKind, rid: str, name: str, cost: float, savings: float, **kw: str) -> Finding:
    return Finding(kind=kind, resource_id=rid, name=name, account=kw.get("account", "prod"),
                   region=kw.get("region", "eu-west-1"), reason=kw.get("reason", "unattached for 41 days"),
                   evidence=kw.get("evidence", "State available since 2026-09-03"), monthly_cost=cost,
                   monthly_savings=savings, action=kw.get("action", "delete the volume"),
                   details=(("size_gib", "100"),))


def october(*, forecast: Forecast | None = None, complete: bool = False,
            findings: tuple[Finding, ...] | None = None, **kw: object) -> CostsSnapshot:
    last = tuple(DailyCost(f"2026-09-{d:02d}", 40.0 + d) for d in range(1, 31))
    this = tuple(DailyCost(f"2026-10-{d:02d}", 80.0 + d / 3, estimated=d >= 13) for d in range(1, 15))
    spend = Spend(
        month="2026-10", currency="USD", month_to_date=1234.567, last_month=1665.0,
        daily=last + this,
        by_service=(CostLine(EC2, EC2, 800.25, 1000.5),
                    CostLine("Amazon Relational Database Service", "Amazon Relational Database Service",
                             434.317, 664.5)),
        by_account=(CostLine("111111111111", "prod", 1000.0, 1400.0),
                    CostLine("222222222222", "staging", 234.567, 265.0)),
        fetched_at=FETCHED, forecast=forecast, complete=complete)
    if findings is None:
        findings = (
            finding(FindingKind.UNASSOCIATED_EIP, "eipalloc-1", "203.0.113.7", 3.65, 3.65,
                    action="release the address"),
            finding(FindingKind.UNATTACHED_VOLUME, "vol-0abc", EVIL, 80.0, 80.0),
            finding(FindingKind.LOW_CPU_EC2, "i-0123", 'web, "blue"', 140.16, 70.08,
                    reason="CPU <= 10 % on 9 of 14 days", evidence="mean 3.2 %", action="resize to m5.large"),
            finding(FindingKind.OLD_SNAPSHOT, "snap-9", EVIL_URL, 5.0, 5.0, region="us-east-1"),
        )
    defaults: dict[str, object] = dict(
        taken_at=TAKEN, spend=spend,
        budgets=(BudgetStatus("all", "all spend", 3000.0, 1234.567, 2700.0, "config"),
                 BudgetStatus("rds", "service Amazon Relational Database Service", 500.0, 434.317, 950.0,
                              "config"),
                 BudgetStatus("staging", "account staging", 200.0, 234.567, None, "AWS Budgets", warn=0.9)),
        findings=findings, findings_at=TAKEN - 600,
        recommendations=(Recommendation("Reserved Instances", "3 x m5.large (eu-west-1, Linux)", "1 year",
                                        "No Upfront", 0.0, 61.32, 27.5),),
        recommendations_note="",
        namespaces=(NamespaceCost("kind-a", "shop", 12, 3.5, 6 * 1024 ** 3, 0.136, 45.7, 101.2),
                    NamespaceCost("kind-a", "monitoring", 4, 1.25, 2 * 1024 ** 3, 0.05, 60.1, 37.2)),
        price_note="prices: bundled table of 2026-11-01, estimates", ce_requests=3)
    defaults.update(kw)
    return CostsSnapshot(**defaults)  # type: ignore[arg-type]


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))).validate(doc)


# ---------------------------------------------------------------- JSON


def test_json_has_the_schema_and_the_exact_totals() -> None:
    snap = october(forecast=Forecast(2890.4, AWS_FORECAST_METHOD, 2700.0, 3100.0))
    doc = json.loads(render(snap, "json"))
    validate(doc)
    assert doc["schema"] == SCHEMA == "stacktop.costs.report/1"
    assert (doc["month"], doc["currency"], doc["complete"]) == ("2026-10", "USD", False)
    assert doc["generated_at"] == "2026-10-14T09:30:00Z"
    assert doc["data_fetched_at"] == "2026-10-14T08:00:00Z"
    assert doc["totals"] == {"month_to_date": 1234.57, "last_month": 1665.0, "forecast": 2890.4,
                             "forecast_method": AWS_FORECAST_METHOD, "forecast_low": 2700.0,
                             "forecast_high": 3100.0, "potential_savings_monthly": 158.73}
    assert len(doc["daily"]) == 44 and doc["daily"][0] == {"day": "2026-09-01", "amount": 41.0,
                                                            "estimated": False}
    assert doc["daily"][-1] == {"day": "2026-10-14", "amount": 84.67, "estimated": True}
    assert [a["label"] for a in doc["by_account"]] == ["prod", "staging"]
    assert doc["by_account"][1] == {"key": "222222222222", "label": "staging", "month_to_date": 234.57,
                                    "last_month": 265.0}
    assert [(b["name"], b["state"], b["used_percent"]) for b in doc["budgets"]] == [
        ("all", "warn", 41.2), ("rds", "warn", 86.9), ("staging", "over", 117.3)]
    assert [f["monthly_savings"] for f in doc["findings"]] == [80.0, 70.08, 5.0, 3.65]
    assert doc["findings"][0]["name"] == EVIL and doc["findings"][0]["details"] == {"size_gib": "100"}
    assert doc["recommendations"][0]["monthly_savings"] == 61.32
    assert [n["namespace"] for n in doc["namespaces"]] == ["monitoring", "shop"]
    assert doc["namespaces"][1]["memory_request_bytes"] == 6 * 1024 ** 3
    assert doc["notes"] == [{"part": "prices", "text": "prices: bundled table of 2026-11-01, estimates"}]


def test_json_without_spend_still_validates_and_says_why() -> None:
    snap = october(spend=None, spend_error="access denied to ce:GetCostAndUsage in prod/us-east-1",
                   findings=(), findings_error="eu-west-1: cannot reach ec2", budgets=(), namespaces=(),
                   recommendations=(), recommendations_note="not available: moto has no such API")
    doc = json.loads(render(snap, "json"))
    validate(doc)
    assert doc["month"] == "2026-10" and doc["currency"] is None
    assert doc["totals"]["month_to_date"] is None and doc["totals"]["potential_savings_monthly"] == 0
    assert [n["part"] for n in doc["notes"]] == ["spend", "findings", "recommendations", "prices"]


def test_schema_rejects_what_the_report_must_not_drift_into() -> None:
    doc = json.loads(render(october(), "json"))
    validate(doc)
    for broken in ({**doc, "extra": 1}, {**doc, "totals": {**doc["totals"], "month_to_date": "1,234.57"}},
                   {k: v for k, v in doc.items() if k != "findings"}, {**doc, "month": "2026-13"}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


# ---------------------------------------------------------------- CSV


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def test_csv_has_the_documented_columns_and_round_trips_names() -> None:
    text = render(october(forecast=Forecast(2890.4, OWN_FORECAST_METHOD)), "csv")
    assert text.startswith("section,name,account,region,amount,last_month,detail\r\n")
    rows = csv_rows(text)
    assert {r["section"] for r in rows} == {"total", "service", "account", "daily", "budget", "finding",
                                           "recommendation", "namespace"}
    totals = {r["name"]: r for r in rows if r["section"] == "total"}
    mtd = totals["month_to_date"]
    assert (mtd["amount"], mtd["last_month"]) == ("1234.57", "1665.00")
    assert totals["forecast"]["amount"] == "2890.40"
    assert f"method: {OWN_FORECAST_METHOD}" in totals["forecast"]["detail"]
    assert totals["potential_savings_monthly"]["amount"] == "158.73"
    accounts = [(r["name"], r["account"], r["amount"], r["last_month"])
                for r in rows if r["section"] == "account"]
    assert accounts == [("prod", "111111111111", "1000.00", "1400.00"),
                        ("staging", "222222222222", "234.57", "265.00")]
    findings = [r for r in rows if r["section"] == "finding"]
    assert [r["name"] for r in findings] == [EVIL, 'web, "blue"', EVIL_URL, "203.0.113.7"]
    assert findings[1]["detail"].startswith("kind: low-utilisation-ec2; resource: i-0123; ")
    assert (findings[2]["account"], findings[2]["region"]) == ("prod", "us-east-1")
    assert len([r for r in rows if r["section"] == "daily"]) == 44
    budget = next(r for r in rows if r["name"] == "staging" and r["section"] == "budget")
    assert budget["amount"] == "234.57"
    assert "used: 117.3%" in budget["detail"] and "state: over" in budget["detail"]
    for row in rows:
        for column in ("amount", "last_month"):
            assert re.fullmatch(r"(-?\d+\.\d\d)?", row[column]), row


def test_csv_quotes_by_rfc_4180() -> None:
    text = render(october(), "csv")
    assert '"web, ""blue"""' in text  # the comma and the quotes of a Name tag survive
    assert all(line.endswith("\r") or not line for line in text.split("\n"))


# ---------------------------------------------------------------- HTML


class Page(HTMLParser):
    """What a browser would see: elements, attributes, text, and the style sheet."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.style = ""
        self.title = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)
        self._in.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
        elif self._in and self._in[-1] == "title" and "svg" not in self._in and "head" in self._in:
            self.title += data
        else:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


def page(snapshot: CostsSnapshot) -> tuple[str, Page]:
    html = render(snapshot, "html")
    parsed = Page()
    parsed.feed(html)
    parsed.close()
    return html, parsed


def test_html_is_one_self_contained_page_with_the_totals() -> None:
    html, p = page(october(forecast=Forecast(2890.4, OWN_FORECAST_METHOD)))
    assert html.startswith("<!DOCTYPE html>")
    assert p.title == "stacktop costs — 2026-10"
    assert p.tags.count("svg") == 1
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(p.tags)
    assert "url(" not in p.style and "@import" not in p.style and "@media print" in p.style
    assert not [v for k, v in p.attrs if "://" in v or k in ("src", "href") or k.startswith("on")]
    # Every "://" in the file is in the text (the escaped Name tag), none in markup or style.
    assert html.count("://") == p.all_text.count("://") == 1
    text = p.all_text
    for figure in ("1,234.57 USD", "2,890.40 USD", "1,665.00 USD", "158.73 USD", OWN_FORECAST_METHOD,
                   "117 %", "the highest of 3 budgets; 1 over", "2026-10-14 08:00 UTC",
                   "prices: bundled table of 2026-11-01, estimates"):
        assert figure in text, figure


def test_html_escapes_names_from_tags() -> None:
    html, p = page(october())
    assert EVIL in p.all_text  # shown as text...
    assert "script" not in p.tags  # ...never run
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script" not in html


def test_html_lists_findings_largest_savings_first_with_their_total() -> None:
    shuffled = tuple(reversed(october().findings))
    _, p = page(october(findings=shuffled))
    text = p.all_text
    positions = [text.index(name) for name in (EVIL, 'web, "blue"', EVIL_URL, "203.0.113.7")]
    assert positions == sorted(positions)
    assert "158.73" in text and "Total of 4 finding(s)" in text


def test_html_budgets_are_coloured_by_state() -> None:
    html, _ = page(october())
    assert re.search(r'<td class="num over">117 %</td>', html)
    assert re.search(r'<td class="num warn">87 %</td>', html)
    assert "over budget" in html


def test_html_chart_has_a_bar_per_day_and_last_month_as_a_line() -> None:
    html, _ = page(october())
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert svg.count('<rect class="bar"') == 12 and svg.count('<rect class="bar est"') == 2
    points = re.search(r'<polyline class="last" points="([^"]+)"', svg)
    assert points and len(points.group(1).split()) == 30
    assert "2026-10-14: 84.67 USD (estimated)" in svg


def test_html_of_a_past_month_shows_its_total_and_no_forecast() -> None:
    _, p = page(october(complete=True))
    assert "Month total" in p.all_text and "Forecast to month end" not in p.all_text
    assert "the month is complete" in p.all_text


def test_html_without_spend_or_findings_says_why() -> None:
    _, p = page(october(spend=None, spend_error="access denied to ce:GetCostAndUsage in prod/us-east-1",
                        findings=(), findings_error="eu-west-1: cannot reach ec2", recommendations=(),
                        recommendations_note="not available: no recommendation API", namespaces=()))
    text = p.all_text
    assert p.title == "stacktop costs — 2026-10" and "svg" not in p.tags
    for line in ("access denied to ce:GetCostAndUsage", "eu-west-1: cannot reach ec2",
                 "not available: no recommendation API", "No Kubernetes cost"):
        assert line in text, line


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        render(october(), "xml")


# ---------------------------------------------------------------- writing


def test_write_atomic_replaces_and_keeps_a_shareable_mode(tmp_path: Path) -> None:
    target = tmp_path / "costs.csv"
    target.write_text("old")
    old_umask = os.umask(0o022)
    try:
        write_atomic(target, "a,b\r\n1,2\r\n")
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["costs.csv"]


def test_write_atomic_into_a_missing_directory_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "costs.html", "x")
    assert list(tmp_path.iterdir()) == []

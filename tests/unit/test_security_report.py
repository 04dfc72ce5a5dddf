"""The security report: the JSON keeps its schema and the tab's counts, the HTML escapes what clusters send.

Readers of the JSON are scripts (the schema file is their contract); readers of the
HTML are people, who must see every finding and never run a pod's name as markup.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from providers.security.model import Check, Finding, SecuritySnapshot, Severity, SourceStatus, sort_findings
from providers.security.report import FORMATS, SCHEMA, render

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "data" / "security" / "report.schema.json"
TAKEN = 1_792_000_000.0          # 2026-10-14T17:46:40Z
GENERATED = TAKEN + 90.0
EVIL = '<script>alert("pwn")</script>'

FINDINGS = sort_findings([
    Finding(Check.SG_OPEN_PORT, Severity.CRITICAL, "aws:123456789012/eu-west-1", "sg-0abc:5432",
            "PostgreSQL open to the internet", "inbound 5432/tcp from 0.0.0.0/0 (rule sgr-1)",
            "restrict the rule to the application's security group"),
    Finding(Check.S3_PUBLIC, Severity.CRITICAL, "aws:123456789012/global", "acme-exports",
            "Bucket is public", "bucket policy grants s3:GetObject to *", "enable Block Public Access"),
    Finding(Check.K8S_PRIVILEGED, Severity.HIGH, "k8s:prod", f"ops/{EVIL}/shell",
            "Privileged container shell", "securityContext.privileged: true & more",
            "set securityContext.privileged: false"),
    Finding(Check.K8S_ROOT, Severity.MEDIUM, "k8s:prod", "web/static-site/nginx",
            "Container nginx may run as root", "no runAsNonRoot and no runAsUser",
            "set securityContext.runAsNonRoot: true"),
    Finding(Check.IAM_OLD_KEY, Severity.MEDIUM, "aws:123456789012/global", "key/bob/AKIA…WXYZ",
            "Access key older than 90 days", "created 2026-03-01, 227 days ago", "rotate the key"),
])
SOURCES = (
    SourceStatus("k8s:prod", None, TAKEN - 30, 412),
    SourceStatus("aws:123456789012/eu-west-1", None, TAKEN - 20, 57),
    SourceStatus("aws:123456789012/global", None, TAKEN - 20, 9),
    SourceStatus("k8s:staging", f"forbidden: cannot list services at cluster scope {EVIL}", TAKEN - 25, 80),
)
SNAPSHOT = SecuritySnapshot(taken_at=TAKEN, findings=FINDINGS, sources=SOURCES, ignored=3)
EMPTY = SecuritySnapshot(taken_at=TAKEN, sources=(SourceStatus("k8s:prod", None, TAKEN, 12),))


def validate(doc: object) -> None:
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))).validate(doc)


def test_json_validates_and_round_trips_the_tab_counts() -> None:
    doc = json.loads(render(SNAPSHOT, "json", profile="prod", generated_at=GENERATED))

    validate(doc)
    assert doc["schema"] == SCHEMA == "stacktop.security.report/1"
    assert doc["profile"] == "prod"
    assert doc["generated_at"] == "2026-10-14T17:48:10Z" and doc["taken_at"] == "2026-10-14T17:46:40Z"
    assert doc["counts"] == SNAPSHOT.counts() == {"critical": 2, "high": 1, "medium": 2, "low": 0}
    assert doc["total"] == sum(doc["counts"].values()) == len(FINDINGS)
    assert doc["ignored"] == 3 and doc["scanning"] is False
    assert [f["key"] for f in doc["findings"]] == [f.key for f in FINDINGS]  # the tab's order
    bucket = next(f for f in doc["findings"] if f["resource"] == "acme-exports")
    assert bucket == {"key": "s3-public:acme-exports", "check": "s3-public", "severity": "critical",
                     "source": "aws:123456789012/global", "resource": "acme-exports",
                     "title": "Bucket is public", "evidence": "bucket policy grants s3:GetObject to *",
                     "remedy": "enable Block Public Access"}
    # Every finding comes back whole: the JSON is the snapshot, not a summary of it.
    assert {(f["check"], f["severity"], f["source"], f["resource"], f["title"], f["evidence"], f["remedy"])
            for f in doc["findings"]} == {(f.check.value, f.severity.value, f.source, f.resource, f.title,
                                          f.evidence, f.remedy) for f in FINDINGS}


def test_json_lists_every_source_and_the_one_that_failed() -> None:
    doc = json.loads(render(SNAPSHOT, "json", profile="prod", generated_at=GENERATED))

    assert [s["source"] for s in doc["sources"]] == sorted(s.source for s in SOURCES)
    failed = [s for s in doc["sources"] if not s["ok"]]
    assert [(s["source"], s["error"], s["checks"]) for s in failed] == [
        ("k8s:staging", f"forbidden: cannot list services at cluster scope {EVIL}", 80)]
    assert all(s["error"] is None for s in doc["sources"] if s["ok"])


def test_schema_rejects_what_the_report_must_not_drift_into() -> None:
    good = json.loads(render(SNAPSHOT, "json", profile="prod", generated_at=GENERATED))
    bad_docs = [
        {**good, "schema": "stacktop.security.report/2"},
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "counts"},
        {**good, "findings": [{**good["findings"][0], "severity": "urgent"}]},
        {**good, "findings": [{**good["findings"][0], "check": "k8s-something-else"}]},
        {**good, "sources": [{**good["sources"][0], "scanned_at": "yesterday"}]},
    ]
    for doc in bad_docs:
        with pytest.raises(jsonschema.ValidationError):
            validate(doc)


def test_html_escapes_what_the_estate_sends() -> None:
    page = render(SNAPSHOT, "html", profile="prod", generated_at=GENERATED)

    assert "<script" not in page.lower()
    assert "ops/&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;/shell" in page
    assert "securityContext.privileged: true &amp; more" in page
    assert "cluster scope &lt;script&gt;" in page  # a source's error is escaped too


def test_html_shows_every_finding_under_its_severity() -> None:
    page = render(SNAPSHOT, "html", profile="prod", generated_at=GENERATED)
    text = re.sub(r"<[^>]+>", " ", page)

    headings = re.findall(r'<h2 class="(\w+)">(\w+) <span class="count">\((\d+)\)</span></h2>', page)
    assert headings == [("critical", "Critical", "2"), ("high", "High", "1"), ("medium", "Medium", "2")]
    for f in FINDINGS:
        if "<" not in f.resource:
            assert f.resource in text
    assert "sg-0abc:5432" in page and "rotate the key" in page
    # The summary: one card per severity, and the accepted findings counted.
    assert re.search(r'Critical</div><div class="value critical">2<', page)
    assert re.search(r'Low</div><div class="value">0<', page)
    assert "3 accepted findings not listed" in page
    assert "1 source could not be scanned completely" in page


def test_html_is_one_printable_self_contained_page() -> None:
    page = render(SNAPSHOT, "html", profile="prod", generated_at=GENERATED)

    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "@media print" in page
    for outside in ("<link", " src=", "http://", "https://", "@import", "url("):
        assert outside not in page
    assert "<title>stacktop security — prod</title>" in page


def test_empty_snapshot_says_no_findings() -> None:
    page = render(EMPTY, "html", profile="dev", generated_at=GENERATED)
    doc = json.loads(render(EMPTY, "json", profile="dev", generated_at=GENERATED))

    assert "no findings" in page.lower()
    assert "<h2 class=\"critical\"" not in page
    validate(doc)
    assert doc["findings"] == [] and doc["total"] == 0
    assert doc["counts"] == {"critical": 0, "high": 0, "medium": 0, "low": 0}


def test_a_first_scan_still_running_is_not_a_clean_bill() -> None:
    page = render(SecuritySnapshot(taken_at=TAKEN, scanning=True), "html", profile="dev",
                  generated_at=GENERATED)

    assert "first scan has not finished" in page
    assert "nothing scanned matched" not in page


def test_unknown_format_names_the_formats() -> None:
    assert FORMATS == ("html", "json")
    with pytest.raises(ValueError, match=r"unknown report format 'csv' — use one of html, json"):
        render(SNAPSHOT, "csv", profile="prod", generated_at=GENERATED)

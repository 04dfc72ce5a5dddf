"""The security report (`stacktop report security`): one SecuritySnapshot as JSON or HTML.

JSON feeds scripts and ticket bots (a versioned schema they can rely on); HTML is the
page mailed to whoever owns the fixes. Both come from the snapshot the Security tab
shows, so the report never disagrees with the screen.

JSON — schema "stacktop.security.report/1", described by tests/data/security/report.schema.json:
schema, generated_at, taken_at, profile, scanning, ignored, total, counts {critical, high,
medium, low}, sources [{source, ok, error, scanned_at, checks}], findings [{key, check,
severity, source, resource, title, evidence, remedy}] in the tab's order (severity, then
source, check, resource). Times are ISO 8601 UTC ("2026-10-14T09:00:00Z"), null when
unknown. A change that breaks readers bumps the /1.

HTML — one self-contained file (inline style; no script, font, image or link to fetch),
printable, in the costs report's look. Every text from a cloud or a cluster (resource
names, evidence, errors) is HTML-escaped: a pod can be named "<script>".

Settings never reach this module; findings hold no secret (access keys are already
shown as redact() prints them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from providers.html_page import STYLE as _STYLE
from providers.html_page import card as _card
from providers.html_page import h as _h
from providers.html_page import iso as _iso
from providers.html_page import when as _when
from providers.security.model import Finding, SecuritySnapshot, Severity, SourceStatus, sort_findings

SCHEMA = "stacktop.security.report/1"
FORMATS = ("html", "json")


def render(snapshot: SecuritySnapshot, fmt: str, *, profile: str, generated_at: float) -> str:
    """The report in `fmt` ("html" or "json"); ValueError names the formats for any other."""
    if fmt == "json":
        return json.dumps(report_document(snapshot, profile=profile, generated_at=generated_at),
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return render_html(snapshot, profile=profile, generated_at=generated_at)
    raise ValueError(f"unknown report format '{fmt}' — use one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------- JSON


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"key": f.key, "check": f.check.value, "severity": f.severity.value, "source": f.source,
            "resource": f.resource, "title": f.title, "evidence": f.evidence, "remedy": f.remedy}


def _source_json(s: SourceStatus) -> dict[str, Any]:
    return {"source": s.source, "ok": s.error is None, "error": s.error, "scanned_at": _iso(s.scanned_at),
            "checks": s.checks}


def report_document(snapshot: SecuritySnapshot, *, profile: str, generated_at: float) -> dict[str, Any]:
    """The JSON report as plain data (schema stacktop.security.report/1)."""
    findings = sort_findings(snapshot.findings)
    return {
        "schema": SCHEMA,
        "generated_at": _iso(generated_at),
        "taken_at": _iso(snapshot.taken_at),
        "profile": profile,
        "scanning": snapshot.scanning,
        "ignored": snapshot.ignored,
        "total": len(findings),
        "counts": snapshot.counts(),
        "sources": [_source_json(s) for s in sorted(snapshot.sources, key=lambda s: s.source)],
        "findings": [_finding_json(f) for f in findings],
    }


# ---------------------------------------------------------------- HTML

_SECURITY_STYLE = """
:root { --critical: #b3261e; --high: #c2410c; --medium: #a86500; --low: #5f6b7a; }
.critical { color: var(--critical); } .high { color: var(--high); }
.medium { color: var(--medium); } .low { color: var(--low); }
h2 .count { color: var(--muted); font-weight: 400; font-size: 14px; }
td.resource { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px;
  word-break: break-all; }
td .title { font-weight: 600; }
td .evidence, td .remedy { margin-top: 2px; }
td .remedy::before { content: "Fix: "; color: var(--muted); }
.none { font-size: 16px; color: var(--ok); }
.error { color: var(--over); }
"""

_SEVERITY_TITLE = {Severity.CRITICAL: "Critical", Severity.HIGH: "High", Severity.MEDIUM: "Medium",
                   Severity.LOW: "Low"}


def _summary_html(snapshot: SecuritySnapshot) -> str:
    counts = snapshot.counts()
    cards = [_card(_SEVERITY_TITLE[s], str(counts[s.value]), cls=s.value if counts[s.value] else "")
             for s in Severity]
    if snapshot.ignored:
        cards.append(_card("Accepted", str(snapshot.ignored), "listed in security.ignore"))
    return f'<div class="totals">{"".join(cards)}</div>'


def _sources_html(sources: Sequence[SourceStatus]) -> str:
    if not sources:
        return '<p class="note">No source was scanned.</p>'
    rows = []
    for s in sorted(sources, key=lambda s: s.source):
        state = (f'<span class="error">{_h(s.error)}</span>' if s.error is not None
                 else '<span class="ok">scanned</span>')
        when = _h(_when(s.scanned_at)) if s.scanned_at is not None else "—"
        rows.append(f"<tr><td>{_h(s.source)}</td><td>{state}</td><td class=\"num\">{s.checks}</td>"
                    f"<td>{when}</td></tr>")
    return ('<table><thead><tr><th>Source</th><th>Status</th><th class="num">Resources examined</th>'
            f"<th>Scanned</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _severity_html(severity: Severity, findings: Sequence[Finding]) -> str:
    rows = "".join(
        f'<tr><td class="resource">{_h(f.resource)}<div class="id">{_h(f.check.value)}</div></td>'
        f"<td>{_h(f.source)}</td>"
        f'<td><div class="title">{_h(f.title)}</div><div class="evidence">{_h(f.evidence)}</div>'
        f'<div class="remedy">{_h(f.remedy)}</div></td></tr>'
        for f in findings)
    return (f'<section><h2 class="{severity.value}">{_SEVERITY_TITLE[severity]} '
            f'<span class="count">({len(findings)})</span></h2>'
            "<table><thead><tr><th>Resource</th><th>Source</th><th>Finding</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def render_html(snapshot: SecuritySnapshot, *, profile: str, generated_at: float) -> str:
    findings = sort_findings(snapshot.findings)
    title = f"stacktop security — {profile}"
    meta = [f"Generated {_h(_when(generated_at))}", f"scan of {_h(_when(snapshot.taken_at))}",
            f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"]
    body = [f"<header><h1>{_h(title)}</h1><p class=\"meta\">{' · '.join(meta)}</p></header>"]
    if snapshot.scanning:
        body.append('<p class="note warn">The first scan has not finished: findings may be missing.</p>')
    failed = [s for s in snapshot.sources if s.error is not None]
    if failed:
        some = "1 source" if len(failed) == 1 else f"{len(failed)} sources"
        their = "its" if len(failed) == 1 else "their"
        body.append(f'<p class="note over">{some} could not be scanned completely: {their} findings may '
                    "be missing (see Sources).</p>")
    body.append(_summary_html(snapshot))
    if not findings:
        body.append('<section><p class="none">No findings: nothing scanned matched a check.</p></section>'
                    if not snapshot.scanning else '<section><p class="note">No findings yet.</p></section>')
    for severity in Severity:
        group = [f for f in findings if f.severity is severity]
        if group:
            body.append(_severity_html(severity, group))
    body.append("<section><h2>Sources</h2>" + _sources_html(snapshot.sources) + "</section>")
    footer = ["findings are read-only observations; stacktop changes nothing",
              "accept a finding on purpose with security.ignore: CHECK:RESOURCE"]
    if snapshot.ignored:
        footer.append(f"{snapshot.ignored} accepted finding{'' if snapshot.ignored == 1 else 's'} not listed")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_h(title)}</title><style>{_STYLE}{_SECURITY_STYLE}</style></head>\n<body>\n"
            + "\n".join(body)
            + f"\n<footer>{' · '.join(footer)}</footer>\n</body></html>\n")

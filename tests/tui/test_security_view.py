"""The Security tab as an operator drives it, on SecuritySnapshots built here and put in
the Store by a small provider that replays them (the scans themselves are tested against
moto and the test Kubernetes API server): findings in severity order under their
sections, the counts in the tab's label, the totals and the failed sources, the detail
pane's evidence, remedy and ignore key, the `/` filter, the first scan still running,
and what the tab says when there is nothing to scan."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.widgets import Static

from providers.base import Provider
from providers.security.model import Check, Finding, SecuritySnapshot, Severity, SourceStatus, sort_findings
from tests.support.apps import FIXED_NOW, RecordedHostProvider, build_app, filter_to
from tui.app import StacktopApp
from tui.keymap import help_rows
from tui.screens.security_rows import NARROW, SETUP_STATUS, WIDE, finding_key, tab_labels
from tui.screens.security_view import SecurityView
from widgets.resource_table import ResourceTable
from widgets.setup_hint import SetupHint

TALL = (120, 40)
SHORT = (80, 24)
NOW = FIXED_NOW
PROD = "aws:111111111111/eu-west-1"
GLOBAL = "aws:111111111111/global"
KUBE = "k8s:kind-stacktop"
STAGING = "aws:222222222222/us-east-1"


def finding(check: Check, severity: Severity, source: str, resource: str, title: str, evidence: str,
            remedy: str) -> Finding:
    return Finding(check, severity, source, resource, title, evidence, remedy)


SSH = finding(Check.SG_OPEN_PORT, Severity.HIGH, PROD, "sg-0abc:22", "SSH open to the world",
              "sg-0abc (bastion-sg) allows tcp 22 from 0.0.0.0/0",
              "aws ec2 revoke-security-group-ingress --group-id sg-0abc --protocol tcp --port 22 "
              "--cidr 0.0.0.0/0, then allow only your office or VPN range")
POSTGRES = finding(Check.SG_OPEN_PORT, Severity.CRITICAL, PROD, "sg-0db:5432",
                   "PostgreSQL port open to the world", "sg-0db (orders-db-sg) allows tcp 5432 from ::/0",
                   "remove the ::/0 rule on port 5432; reach the database through the VPC or a bastion")
BUCKET = finding(Check.S3_PUBLIC, Severity.CRITICAL, GLOBAL, "shop-public-dump", "bucket is public",
                 "bucket policy grants s3:GetObject to Principal *; no public access block",
                 "aws s3api put-public-access-block --bucket shop-public-dump "
                 "--public-access-block-configuration BlockPublicPolicy=true")
NO_MFA = finding(Check.IAM_NO_MFA, Severity.HIGH, GLOBAL, "user/bob", "console user without MFA",
                 "bob has a console password and no MFA device", "enable an MFA device for bob")
PRIVILEGED = finding(Check.K8S_PRIVILEGED, Severity.HIGH, KUBE, "shop/debug-0/shell",
                     "privileged container", "securityContext.privileged: true",
                     "drop privileged: true; grant only the capabilities it needs")
VOLUME = finding(Check.EBS_UNENCRYPTED, Severity.MEDIUM, PROD, "vol-0aaa111", "EBS volume not encrypted",
                 "Encrypted: false (gp3, 100 GiB, attached to i-0web1)",
                 "snapshot it, copy the snapshot with encryption, create a volume from the copy and swap it")
ROOT = finding(Check.K8S_ROOT, Severity.MEDIUM, KUBE, "shop/web-1/nginx", "container runs as root",
               "no runAsNonRoot, runAsUser unset and the image's user is root", "set runAsNonRoot: true")
OLD_KEY = finding(Check.IAM_OLD_KEY, Severity.MEDIUM, GLOBAL, "key/carol/AKIA…WXYZ", "access key is old",
                  "created 2026-01-02, 320 days ago", "rotate the key")
FINDINGS = (VOLUME, SSH, OLD_KEY, BUCKET, PRIVILEGED, POSTGRES, NO_MFA, ROOT)
SOURCES = (SourceStatus(PROD, None, NOW - 12 * 60, 41), SourceStatus(GLOBAL, None, NOW - 12 * 60, 17),
           SourceStatus(KUBE, None, NOW - 12 * 60, 96))
DENIED = "access denied to ec2:DescribeSecurityGroups: grant it to the role stacktop-read"


def snapshot(**changes: Any) -> SecuritySnapshot:
    base = SecuritySnapshot(NOW, findings=sort_findings(FINDINGS), sources=SOURCES, ignored=3)
    return dataclasses.replace(base, **changes)


class SecurityReplay(Provider):
    """`security` replaying the snapshot a test sets."""

    def __init__(self, snap: SecuritySnapshot | None = None) -> None:
        super().__init__("security", interval=30.0, timeout=5.0)
        self.snapshot = snap if snap is not None else snapshot()

    async def poll(self) -> SecuritySnapshot:
        return self.snapshot


def security_app(tmp_path: Path, provider: Provider | None = None, *, with_security: bool = True,
                 role: str = "operator") -> StacktopApp:
    providers: list[Provider] = [RecordedHostProvider()]
    if with_security:
        providers.append(provider or SecurityReplay())
    return build_app(tmp_path, providers=providers, start_runtime=False, clock=lambda: NOW, role=role)


# -- reading the screen back -----------------------------------------------------------------------


async def poll_all(pilot) -> None:  # type: ignore[no-untyped-def]
    for name in list(pilot.app.runtime.providers):
        await pilot.app.runtime.poll_provider(name)
    await pilot.pause()


async def show_security(pilot) -> SecurityView:  # type: ignore[no-untyped-def]
    await poll_all(pilot)
    await pilot.press("6")
    await pilot.pause()
    return view(pilot.app)


def view(app: StacktopApp) -> SecurityView:
    return app.query_one(SecurityView)


def table(app: StacktopApp) -> ResourceTable:
    return view(app).table


def cell(app: StacktopApp, row: str, column: str) -> str:
    t = table(app)
    found = t.row_cells(row)
    assert found is not None, row
    return dict(zip([c.key for c in t.columns], found, strict=True))[column]


def text_of(app: StacktopApp, widget_id: str) -> str:
    return str(view(app).query_one(f"#{widget_id}", Static).render())


def tab_label(app: StacktopApp) -> str:
    return str(app.query_one("#tabs").get_tab("security").label)  # type: ignore[attr-defined]


def pane_lines(app: StacktopApp) -> list[str]:
    doc = view(app).selected_doc()
    assert doc is not None
    return doc.text().splitlines()


# -- the table ---------------------------------------------------------------------------------------


async def test_findings_are_listed_under_their_severity_most_severe_first(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        keys = table(app).visible_keys()
        assert [k for k in keys if k.startswith("section:")] == [
            "section:critical", "section:high", "section:medium", "section:sources"]  # no low: no section
        findings = [k for k in keys if k.startswith("finding:")]
        # within a severity: by source, check and resource, as the report lists them
        order = (POSTGRES, BUCKET, SSH, NO_MFA, PRIVILEGED, VOLUME, OLD_KEY, ROOT)
        assert findings == [finding_key(f) for f in order]
        # each finding sits below its own section's heading
        for f in FINDINGS:
            above = [k for k in keys[:keys.index(finding_key(f))] if k.startswith("section:")]
            assert above[-1] == f"section:{f.severity.value}"
        assert cell(app, "section:critical", "severity") == "CRITICAL · 2"
        assert [c.key for c in table(app).columns] == list(WIDE)
        assert [cell(app, finding_key(SSH), c) for c in WIDE] == [
            "high", "sg-open-port", "sg-0abc:22", PROD, "SSH open to the world"]
        assert table(app).selected_key() == finding_key(POSTGRES)  # not the heading above it
        await pilot.press("s")  # the sections' order is the table's: no sorting
        assert table(app).sort_key is None


async def test_severity_cells_carry_their_colour(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        t = table(app)
        styles = {sev: t.get_component_rich_style(f"resource-table--{sev}") for sev in
                  ("critical", "high", "medium", "low")}
        assert styles["critical"].color == styles["high"].color != styles["medium"].color
        assert styles["medium"].color != styles["low"].color
        assert styles["critical"].bold and styles["critical"].reverse
        # a critical row's severity cell is drawn in the critical style (off the cursor's row,
        # which draws plain), a medium one's in the medium style
        for f in (BUCKET, VOLUME):
            row = t.visible_keys().index(finding_key(f)) + 1  # + the header line
            strip = t.render_line(row - t.scroll_offset.y)
            cells = [seg for seg in strip if seg.text.strip() == f.severity.value]
            assert cells, [seg.text for seg in strip]
            assert cells[0].style is not None and cells[0].style.color == styles[f.severity.value].color


async def test_the_totals_line_counts_severities_sources_age_and_ignored(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        assert text_of(app, "security-totals") == (
            "2 critical  3 high  3 medium  0 low · 3 sources scanned · scanned 12m ago · 3 ignored")
        assert not view(app).query_one("#security-errors").display


async def test_a_failed_source_shows_as_a_line_and_in_sources(tmp_path: Path) -> None:
    failed = (*SOURCES, SourceStatus(STAGING, DENIED, NOW - 60, 0))
    app = security_app(tmp_path, SecurityReplay(snapshot(sources=failed)))
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        assert "4 sources scanned (1 failed)" in text_of(app, "security-totals")
        errors = view(app).query_one("#security-errors", Static)
        assert errors.display and str(errors.render()) == f"{STAGING}: {DENIED}"
        keys = table(app).visible_keys()
        sources = keys[keys.index("section:sources") + 1:]
        assert sources[0] == f"source:{STAGING}"  # the failed one first
        assert cell(app, "section:sources", "severity") == "SOURCES · 4 · 1 failed"
        assert [cell(app, f"source:{STAGING}", c) for c in ("severity", "resource", "title")] == [
            "error", STAGING, DENIED]
        assert cell(app, f"source:{KUBE}", "title") == "96 resources checked · scanned 12m ago"
        assert tab_label(app).endswith(" !")
        app._refresh_status()
        await pilot.pause()
        status = str(app.query_one("#status").render())
        assert "security ◑" in status  # answered, but not every source did


async def test_the_label_counts_the_two_most_severe_levels(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        assert tab_label(app) == "6 Security"  # before the first poll
        await poll_all(pilot)
        assert tab_label(app) == "6 Security 2 crit 3 high"  # from any tab
    low = dataclasses.replace(OLD_KEY, severity=Severity.LOW)
    assert tab_labels("6", "Security", snapshot(findings=(VOLUME, low)), False)[0] == "6 Security 1 med 1 low"
    assert tab_labels("6", "Security", snapshot(findings=()), False)[0] == "6 Security ok"
    assert tab_labels("6", "Security", snapshot(findings=(), sources=(), scanning=True), False)[0] == (
        "6 Security …")
    assert tab_labels("6", "Security", None, True) == ["6 Security !"]
    assert tab_labels("6", "Security", snapshot(), False) == [
        "6 Security 2 crit 3 high", "6 Security 2 crit", "6 Security"]


async def test_80_columns_keep_severity_check_resource_and_title(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        security = await show_security(pilot)
        assert [c.key for c in table(app).columns] == list(NARROW)
        assert not security.details_shown
        assert tab_label(app).startswith("6 Security")
        screen = app.export_screenshot()
        assert "sg-0abc:22" in screen and "CRITICAL" in screen


# -- the detail pane ---------------------------------------------------------------------------------


async def test_the_detail_pane_shows_evidence_remedy_and_the_ignore_key(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        security = await show_security(pilot)
        assert security.details_shown  # 40 rows: shown without asking
        assert table(app).move_cursor_to(finding_key(SSH))
        await pilot.pause()
        lines = pane_lines(app)
        text = " ".join(" ".join(line.split()) for line in lines)
        assert str(security.query_one(".detail-title", Static).render()) == "high · sg-open-port · sg-0abc:22"
        assert lines[0].split() == ["severity", "high"]
        assert "evidence sg-0abc (bastion-sg) allows tcp 22 from 0.0.0.0/0" in text
        assert ("remedy aws ec2 revoke-security-group-ingress --group-id sg-0abc --protocol tcp --port 22 "
                "--cidr 0.0.0.0/0, then allow only your office or VPN range") in text
        assert "accept add 'sg-open-port:sg-0abc:22' to security.ignore to accept it" in text
        assert f"source {PROD}" in text
        width = security.lines.scrollable_content_region.width
        assert all(len(line) <= width for line in lines)  # the long remedy wraps instead of being cut
        # a source's row tells what it answered
        assert table(app).move_cursor_to(f"source:{GLOBAL}")
        await pilot.pause()
        text = " ".join(" ".join(line.split()) for line in pane_lines(app))
        assert "state answered" in text and "resources 17 checked" in text


async def test_i_shows_the_pane_on_80x24_and_enter_gives_it_the_keys(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        security = await show_security(pilot)
        assert not security.details_shown
        await pilot.press("i")
        await pilot.pause()
        assert security.details_shown
        assert "evidence" in " ".join(pane_lines(app))
        await pilot.press("enter")
        assert security.lines.has_focus
        await pilot.press("escape")
        assert security.table.has_focus
        await pilot.press("i")
        assert not security.details_shown
        assert ("i", "Toggle the detail pane", "Security tab") in help_rows(app.keys, False, app.views)


# -- the filter ----------------------------------------------------------------------------------------


async def test_the_filter_narrows_the_findings(tmp_path: Path) -> None:
    app = security_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        await filter_to(pilot, "sg-open-port")
        shown = [k for k in table(app).visible_keys() if k.startswith("finding:")]
        assert shown == [finding_key(POSTGRES), finding_key(SSH)]
        await pilot.press("slash", "ctrl+u", *"k8s", "enter")  # a new filter (ctrl+u clears the prompt)
        await pilot.pause()
        shown = [k for k in table(app).visible_keys() if k.startswith("finding:")]
        assert shown == [finding_key(PRIVILEGED), finding_key(ROOT)]
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert len([k for k in table(app).visible_keys() if k.startswith("finding:")]) == len(FINDINGS)


# -- the first scan, an empty estate, nothing to scan ----------------------------------------------------


async def test_the_first_scan_running_is_said_not_taken_for_a_clean_estate(tmp_path: Path) -> None:
    replay = SecurityReplay(snapshot(findings=(), sources=(), ignored=0, scanning=True))
    app = security_app(tmp_path, replay)
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        assert "first scan running…" in text_of(app, "security-totals")
        assert cell(app, "note:findings", "severity").startswith("first scan running…")
        assert tab_label(app) == "6 Security …"
        replay.snapshot = snapshot(findings=(), ignored=0)  # the scan ended: nothing found
        await poll_all(pilot)
        assert "first scan running" not in text_of(app, "security-totals")
        assert cell(app, "note:findings", "severity") == "no finding in 154 resources of 3 sources"
        assert tab_label(app) == "6 Security ok"
        replay.snapshot = snapshot()
        await poll_all(pilot)
        assert tab_label(app) == "6 Security 2 crit 3 high"
        assert finding_key(BUCKET) in table(app).visible_keys()


async def test_without_aws_or_kubernetes_the_tab_says_what_to_configure(tmp_path: Path) -> None:
    app = security_app(tmp_path, with_security=False)
    async with app.run_test(size=TALL) as pilot:
        await pilot.press("6")
        await pilot.pause()
        hint = app.query_one("#security-hint", SetupHint)
        texts = " ".join(str(s.render()) for s in hint.query(Static))
        assert SETUP_STATUS in texts
        assert "providers.aws" in texts and "providers.kubernetes" in texts and "security.ignore" in texts
        assert not app.query(SecurityView)
        assert not [k for k in app.keys if k.id == "security.details"]


async def test_scan_texts_pass_through_the_redaction(tmp_path: Path) -> None:
    from config.redaction import redact

    token = "ghp_" + "a1B2" * 9
    leaky = dataclasses.replace(PRIVILEGED, evidence=f"env GITHUB_TOKEN={token} in the pod spec")
    app = security_app(tmp_path, SecurityReplay(snapshot(findings=(leaky,))))
    app.redact = redact
    async with app.run_test(size=TALL) as pilot:
        await show_security(pilot)
        assert table(app).move_cursor_to(finding_key(leaky))
        await pilot.pause()
        text = "\n".join(pane_lines(app))
        assert token not in text and "***" in text
        assert token not in app.export_screenshot()

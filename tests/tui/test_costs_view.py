"""The Costs tab as an operator drives it, on CostsSnapshots built here and put in the
Store by a small provider that replays them (Cost Explorer, the waste finder and the
Kubernetes meter are tested on their own): the totals with their provenance, the
sections and the findings sorted by savings, the detail pane, the two fixes through
the gate with typed confirmation, the refusals, a Cost Explorer failure as one line,
the tab's label, and a chart that is plotted only when the days change."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider
from providers.costs.action_specs import ACTIONS, DELETE_VOLUME, RELEASE_ADDRESS
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
    Spend,
)
from tests.support.apps import FIXED_NOW, RecordedHostProvider, audit_records, build_app, messages
from tui.app import StacktopApp
from tui.keymap import help_rows
from tui.screens import costs_rows
from tui.screens.costs_rows import NARROW, WIDE
from tui.screens.costs_view import CostsView
from tui.screens.planned import CONFIGURED_STATUS
from widgets.confirm_dialog import ConfirmDialog
from widgets.metric_spark import MetricSpark
from widgets.resource_table import ResourceTable
from widgets.setup_hint import SetupHint

TALL = (120, 40)
SHORT = (80, 24)
NOW = FIXED_NOW  # 2026-11-18 11:06:40 UTC
READ_ONLY = "refused: read-only mode (restart without 'watch'/--read-only to act)"
PROD, STAGING = "111111111111", "222222222222"

# -- the fixture: November 2026 to the 18th, six services, two accounts, two budgets, five findings --

EC2_COMPUTE = "Amazon Elastic Compute Cloud - Compute"
OCTOBER = tuple(DailyCost(f"2026-10-{d:02d}", 40.0 + d % 7) for d in range(1, 32))
NOVEMBER = tuple(DailyCost(f"2026-11-{d:02d}", 44.0 + (d % 5) * 3.0 + (12.0 if d in (9, 10) else 0.0),
                           estimated=d == 18) for d in range(1, 19))


def spend(daily: Sequence[DailyCost] = OCTOBER + NOVEMBER, forecast: Forecast | None = None) -> Spend:
    month = [d for d in daily if d.day.startswith("2026-11")]
    mtd = round(sum(d.amount for d in month), 2)
    last = round(sum(d.amount for d in daily if d.day.startswith("2026-10")), 2)
    services = (
        CostLine(EC2_COMPUTE, EC2_COMPUTE, 412.5, 610.2),
        CostLine("Amazon Relational Database Service", "Amazon Relational Database Service", 298.75, 402.0),
        CostLine("EC2 - Other", "EC2 - Other", 61.2, 88.4),
        CostLine("Amazon Simple Storage Service", "Amazon Simple Storage Service", 45.3, 40.1),
        CostLine("AmazonCloudWatch", "AmazonCloudWatch", 18.0, 9.5),
        CostLine("AWS Lambda", "AWS Lambda", mtd - 835.75, 120.0),
    )
    accounts = (CostLine(PROD, "prod", round(mtd * 0.7, 2), round(last * 0.72, 2)),
                CostLine(STAGING, "staging", round(mtd * 0.3, 2), round(last * 0.28, 2)))
    return Spend("2026-11", "USD", mtd, last, tuple(daily), services, accounts, fetched_at=NOW - 12 * 60,
                 forecast=forecast or Forecast(1573.4, OWN_FORECAST_METHOD))


def finding(kind: FindingKind, rid: str, name: str, reason: str, cost: float, savings: float, action: str,
            action_id: str = "", account: str = "prod", region: str = "eu-west-1", evidence: str = "",
            details: tuple[tuple[str, str], ...] = ()) -> Finding:
    return Finding(kind, rid, name, account, region, reason, evidence or reason, cost, savings, action,
                   action_id, details)


VOLUME = finding(FindingKind.UNATTACHED_VOLUME, "vol-0a1b2c3d4e5f60001", "vol-0a1b2c3d4e5f60001",
                 "unattached for 41 days", 50.0, 50.0, "delete the volume (snapshot it first if unsure)",
                 DELETE_VOLUME.id, evidence="500 GiB gp2, available since 2026-10-08",
                 details=(("volume_id", "vol-0a1b2c3d4e5f60001"), ("size_gb", "500"), ("type", "gp2")))
ADDRESS = finding(FindingKind.UNASSOCIATED_EIP, "eipalloc-0f1e2d3c4b5a60002", "203.0.113.10",
                  "not associated with an instance or network interface", 3.65, 3.65, "release the address",
                  RELEASE_ADDRESS.id, account="staging", region="us-east-1",
                  details=(("allocation_id", "eipalloc-0f1e2d3c4b5a60002"), ("public_ip", "203.0.113.10")))
STOPPED = finding(FindingKind.STOPPED_INSTANCE, "i-0c0ffee0000000003", "batch-old", "stopped 63 days ago",
                  24.0, 24.0, "terminate it, or snapshot and delete its volumes",
                  details=(("instance_id", "i-0c0ffee0000000003"), ("type", "m5.xlarge")))
LOW_CPU = finding(FindingKind.LOW_CPU_EC2, "i-0aaaa00000000004", "api-2", "CPU <= 10 % on 9 of 14 days",
                  140.16, 70.08, "resize to m5.large", evidence="CPU <= 10 % on 9 of 14 days (mean 3.2 %)")
SNAPSHOT = finding(FindingKind.OLD_SNAPSHOT, "snap-0bbbb00000000005", "snap-0bbbb00000000005",
                   "412 days old, no retention keeps it", 5.0, 5.0, "delete the snapshot", region="us-east-1")
FINDINGS = (SNAPSHOT, VOLUME, ADDRESS, LOW_CPU, STOPPED)  # not in savings order: the tab sorts
BUDGETS = (
    BudgetStatus("monthly", "all spend", 1500.0, 0.0, None, "config"),
    BudgetStatus("prod-rds", "service Amazon Relational Database Service", 250.0, 298.75, 520.0, "config"),
)
NAMESPACES = (
    NamespaceCost("kind-stacktop", "shop", 12, 3.2, 8 * 2**30, 0.1363, 57.9, 98.1),
    NamespaceCost("kind-stacktop", "kube-system", 9, 0.95, 2 * 2**30, 0.0312, 13.2, 22.5),
)
RECOMMENDATIONS_NOTE = "not available: Cost Explorer has no purchase recommendation for this account"


def snapshot(**changes: Any) -> CostsSnapshot:
    s = spend()
    budgets = tuple(dataclasses.replace(b, spent=s.month_to_date, forecast=s.forecast.amount)  # type: ignore[union-attr]
                    if b.name == "monthly" else b for b in BUDGETS)
    base = CostsSnapshot(NOW, spend=s, budgets=budgets, findings=FINDINGS, findings_at=NOW - 5 * 60,
                         recommendations_note=RECOMMENDATIONS_NOTE, namespaces=NAMESPACES,
                         price_note="prices: bundled table of 2026-11-01, estimates", ce_requests=2)
    return dataclasses.replace(base, **changes)


class CostsReplay(Provider):
    """`costs` replaying the snapshot a test sets; its fixes record their targets and succeed
    (the real fixes re-check the resource first and are tested against moto)."""

    def __init__(self, snap: CostsSnapshot | None = None) -> None:
        super().__init__("costs", interval=60.0, timeout=5.0)
        self.snapshot = snap if snap is not None else snapshot()
        self.calls: list[tuple[str, ActionTarget]] = []

    async def poll(self) -> CostsSnapshot:
        return self.snapshot

    def actions(self) -> list[ActionSpec]:
        return list(ACTIONS)

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in {s.id for s in ACTIONS}:
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target))
            return ActionResult(True, f"{action_id} {target.name} done")

        return run


def costs_app(tmp_path: Path, provider: Provider | None = None, *, read_only: bool = False,
              with_costs: bool = True, role: str = "operator") -> StacktopApp:
    providers: list[Provider] = [RecordedHostProvider()]
    if with_costs:
        providers.append(provider or CostsReplay())
    return build_app(tmp_path, read_only=read_only, providers=providers, start_runtime=False,
                     clock=lambda: NOW, role=role)


# -- reading the screen back -----------------------------------------------------------------------


async def poll_all(pilot) -> None:  # type: ignore[no-untyped-def]
    for name in list(pilot.app.runtime.providers):
        await pilot.app.runtime.poll_provider(name)
    await pilot.pause()


async def show_costs(pilot) -> CostsView:  # type: ignore[no-untyped-def]
    await poll_all(pilot)
    await pilot.press("5")
    await pilot.pause()
    return view(pilot.app)


def view(app: StacktopApp) -> CostsView:
    return app.query_one(CostsView)


def table(app: StacktopApp) -> ResourceTable:
    return view(app).table


def provider(app: StacktopApp) -> CostsReplay:
    found = app.runtime.providers["costs"]
    assert isinstance(found, CostsReplay)
    return found


def key(f: Finding) -> str:
    return f"finding:{f.kind.value}:{f.account}:{f.region}:{f.resource_id}"


def cell(app: StacktopApp, row: str, column: str) -> str:
    t = table(app)
    found = t.row_cells(row)
    assert found is not None, row
    return dict(zip([c.key for c in t.columns], found, strict=True))[column]


def text_of(app: StacktopApp, widget_id: str) -> str:
    return str(view(app).query_one(f"#{widget_id}", Static).render())


def totals(app: StacktopApp) -> str:
    return text_of(app, "costs-totals")


def provenance(app: StacktopApp) -> str:
    return text_of(app, "costs-provenance")


def detail_title(app: StacktopApp) -> str:
    return str(view(app).query_one(".detail-title", Static).render())


def pane_lines(app: StacktopApp) -> list[str]:
    doc = view(app).selected_doc()
    assert doc is not None
    return doc.text().splitlines()


def field(lines: list[str], label: str) -> str:
    found = [line[len(label):].strip() for line in lines if line.startswith(label + "  ")]
    assert found, (label, lines)
    return found[0]


def tab_label(app: StacktopApp) -> str:
    return str(app.query_one("#tabs").get_tab("costs").label)  # type: ignore[attr-defined]


async def select(pilot, row: str) -> None:  # type: ignore[no-untyped-def]
    assert table(pilot.app).move_cursor_to(row), row
    await pilot.pause()


async def wait_for_screen(pilot, kind: type) -> object:  # type: ignore[no-untyped-def]
    for _ in range(30):  # the action runs in a worker: wait for its dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
    raise AssertionError(f"no {kind.__name__}; screen is {pilot.app.screen}")


def dialog_text(screen) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(s.render()) for s in screen.query(Static)]


# -- the totals and the table ------------------------------------------------------------------------


async def test_the_totals_show_the_snapshots_figures_and_where_they_come_from(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        assert totals(app) == ("MTD $924  forecast $1,573  budget 120% used (prod-rds)  savings $153/mo  "
                               "last month $1,330")
        assert provenance(app) == (
            "forecast: estimated: mean of last 7 days · Cost Explorer data 12 min old · 2 CE requests this "
            "session · waste scan 5 min ago · prices: bundled table of 2026-11-01, estimates")
        line = view(app).query_one("#costs-totals", Static).render()
        over = next(span for span in line.spans if line.plain[span.start:span.end] == "120% used")  # type: ignore[attr-defined]
        assert "red" in str(over.style)
    aws = dataclasses.replace(spend(), forecast=Forecast(1610.0, AWS_FORECAST_METHOD, 1540.0, 1702.5))
    app = costs_app(tmp_path, CostsReplay(snapshot(spend=aws, budgets=(BUDGETS[0],), ce_requests=1)))
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        assert totals(app).startswith("MTD $924  forecast $1,610  budget 0% used (monthly)  savings")
        assert provenance(app).startswith("forecast: AWS Cost Explorer forecast ($1,540 to $1,702) · "
                                          "Cost Explorer data 12 min old · 1 CE request this session")


async def test_the_ages_keep_counting_between_polls(tmp_path: Path) -> None:
    clock = [NOW]
    app = costs_app(tmp_path)
    app.clock = lambda: clock[0]
    async with app.run_test(size=SHORT) as pilot:
        costs = await show_costs(pilot)
        assert "Cost Explorer data 12 min old" in provenance(app)
        costs.refresh_ages()
        assert "Cost Explorer data 12 min old" in provenance(app)
        clock[0] = NOW + 50 * 60
        costs.refresh_ages()
        await pilot.pause()
        assert "Cost Explorer data 1 h 2 min old" in provenance(app)
        assert "waste scan 55 min ago" in provenance(app)


async def test_sections_in_order_and_findings_sorted_by_savings_largest_first(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        keys = table(app).visible_keys()
        assert [k for k in keys if k.startswith("section:")] == [
            "section:services", "section:accounts", "section:budgets", "section:findings",
            "section:recommendations", "section:namespaces"]
        assert [k for k in keys if k.startswith("finding:")] == [key(f) for f in (LOW_CPU, VOLUME, STOPPED,
                                                                                   SNAPSHOT, ADDRESS)]
        assert table(app).selected_key() == "service:Amazon Elastic Compute Cloud - Compute"  # not a heading
        assert [c.key for c in table(app).columns] == list(WIDE)
        columns = ("item", "where", "place", "detail", "amount", "compare", "pct", "note")
        assert [cell(app, key(VOLUME), c) for c in columns] == [
            "vol-0a1b2c3d4e5f60001", "EBS volume", "prod/eu-west-1", "unattached for 41 days", "$50.00",
            "$50.00", "^d", "delete the volume (snapshot it first if unsure)"]
        assert [cell(app, key(ADDRESS), c) for c in ("item", "place", "pct")] == [
            "203.0.113.10", "staging/us-east-1", "^r"]
        assert cell(app, key(STOPPED), "pct") == ""  # advice only
        # EC2: 412.50 over 17.46 of 30 days against 610.20 last month
        assert [cell(app, "service:Amazon Elastic Compute Cloud - Compute", c) for c in
                ("item", "where", "amount", "compare", "pct")] == ["EC2 - Compute", "███▏     45%", "$412.50",
                                                                  "$610.20", "+16%"]
        assert [cell(app, f"account:{PROD}", c) for c in ("item", "detail", "amount")] == [
            "prod", PROD, "$646.80"]
        assert [cell(app, "budget:config:prod-rds", c) for c in ("item", "amount", "compare", "pct")] == [
            "prod-rds", "$298.75", "$250.00", "120%"]
        assert cell(app, "budget:config:monthly", "detail") == "forecast 105% · config"
        assert cell(app, "note:recommendations", "item") == RECOMMENDATIONS_NOTE
        assert [cell(app, "namespace:kind-stacktop/shop", c) for c in
                ("item", "where", "detail", "amount", "compare", "pct")] == [
            "shop", "kind-stacktop", "12 pods · 3.20 CPU · 8.0 GB", "$57.90", "$98.10", "$0.14"]
        await pilot.press("s")  # the sections' order is the table's: no sorting
        assert table(app).sort_key is None


async def test_80_columns_keep_item_kind_reason_and_the_figures(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        costs = await show_costs(pilot)
        assert [c.key for c in table(app).columns] == list(NARROW)
        assert not costs.details_shown
        assert costs.plot() is None  # the sparkline on 80x24, and plotext never loaded for it
        spark = costs.query_one("#costs-spark", MetricSpark)
        assert spark.display and len(spark.values) == 18 * 2  # two cells a day: 30 days in 78 cells
        assert spark.value_text.startswith("2026-11: $53.00 on 11-18 (estimated) · mean $51.33/day")
        await select(pilot, key(VOLUME))
        await pilot.resize_terminal(*TALL)
        for _ in range(5):
            await pilot.pause()
        assert [c.key for c in table(app).columns] == list(WIDE)
        assert table(app).selected_key() == key(VOLUME) and table(app).has_focus
        assert costs.details_shown


# -- the detail pane -------------------------------------------------------------------------------


async def test_details_of_a_finding_a_budget_and_a_namespace(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        await select(pilot, key(VOLUME))
        assert detail_title(app) == "vol-0a1b2c3d4e5f60001 · unattached EBS volume · prod/eu-west-1"
        lines = pane_lines(app)
        assert field(lines, "reason") == "unattached for 41 days"
        assert field(lines, "evidence") == "500 GiB gp2, available since 2026-10-08"
        assert field(lines, "costs") == "$50.00/month (estimate)"
        assert field(lines, "saves") == "$50.00/month"
        assert field(lines, "action") == "delete the volume (snapshot it first if unsure)"
        assert field(lines, "from here").startswith("ctrl+d deletes it here (type the volume id")
        assert field(lines, "size_gb") == "500"
        assert lines[-1] == "prices: bundled table of 2026-11-01, estimates"
        await select(pilot, key(LOW_CPU))
        lines = pane_lines(app)
        assert field(lines, "name") == "api-2" and field(lines, "resource") == "i-0aaaa00000000004"
        assert field(lines, "saves") == "$70.08/month"
        assert field(lines, "from here") == "no fix from the console: do it in AWS"
        await select(pilot, "budget:config:prod-rds")
        assert detail_title(app) == "budget prod-rds · service Amazon Relational Database Service · config"
        lines = pane_lines(app)
        assert [field(lines, k) for k in ("spent", "budget", "used", "forecast", "state")] == [
            "$298.75", "$250.00", "120%", "$520.00 by the month's end (208%)", "over"]
        await select(pilot, "namespace:kind-stacktop/shop")
        lines = pane_lines(app)
        assert [field(lines, k) for k in ("pods", "CPU requested", "hourly", "month projection")] == [
            "12", "3.200 cores", "$0.14/h", "$98.10"]
        await select(pilot, f"account:{STAGING}")
        lines = pane_lines(app)
        assert field(lines, "id") == STAGING and field(lines, "share") == "30.0% of $924.00"


async def test_i_toggles_the_pane_on_80x24(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        costs = await show_costs(pilot)
        await pilot.press("i")
        await pilot.pause()
        assert costs.details_shown
        assert detail_title(app) == "service Amazon Elastic Compute Cloud - Compute"
        await pilot.press("i")
        await pilot.pause()
        assert not costs.details_shown


# -- actions ---------------------------------------------------------------------------------------


async def test_ctrl_d_deletes_an_unattached_volume_after_its_id_is_typed(tmp_path: Path) -> None:
    app = costs_app(tmp_path, role="admin")  # both fixes are destructive: admins only
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        await select(pilot, key(VOLUME))
        await pilot.press("ctrl+d")
        confirm = await wait_for_screen(pilot, ConfirmDialog)
        assert ("Delete the selected unattached EBS volume and its data (type its id to confirm): ebs-volume "
                "vol-0a1b2c3d4e5f60001 (vol-0a1b2c3d4e5f60001). Type 'vol-0a1b2c3d4e5f60001' to confirm."
                in dialog_text(confirm))
        await pilot.press(*"vol-0a1b2c3d4e5f60001", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app).calls
        assert action == DELETE_VOLUME.id
        assert (target.kind, target.id, target.name) == ("ebs-volume", VOLUME.resource_id, VOLUME.resource_id)
        assert dict(target.details) == {"account": "prod", "region": "eu-west-1",
                                        "volume_id": "vol-0a1b2c3d4e5f60001"}
        assert messages(app)[-1] == "costs.ebs.delete vol-0a1b2c3d4e5f60001 done"
    [record] = audit_records(tmp_path)
    assert (record["action"], record["result"], record["target"]) == (
        DELETE_VOLUME.id, "ok", {"kind": "ebs-volume", "id": VOLUME.resource_id, "name": VOLUME.resource_id})


async def test_ctrl_r_releases_an_address_after_the_address_is_typed(tmp_path: Path) -> None:
    app = costs_app(tmp_path, role="admin")  # both fixes are destructive: admins only
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        await select(pilot, key(ADDRESS))
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press(*"203.0.113.1", "enter")  # a typo: nothing is released
        await app.workers.wait_for_complete()
        assert provider(app).calls == []
        assert messages(app)[-1] == "Release address cancelled: typed name did not match '203.0.113.10'"
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press(*"203.0.113.10", "enter")
        await app.workers.wait_for_complete()
        [(action, target)] = provider(app).calls
        assert (action, target.kind, target.id, target.name) == (
            RELEASE_ADDRESS.id, "elastic-ip", ADDRESS.resource_id, "203.0.113.10")
        assert dict(target.details) == {"account": "staging", "region": "us-east-1",
                                        "allocation_id": ADDRESS.resource_id, "public_ip": "203.0.113.10"}


async def test_the_fix_keys_on_other_rows_say_why_in_one_line(tmp_path: Path) -> None:
    app = costs_app(tmp_path, role="admin")  # both fixes are destructive: admins only
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        await select(pilot, key(STOPPED))
        await pilot.press("ctrl+d")
        await app.workers.wait_for_complete()
        await select(pilot, key(ADDRESS))
        await pilot.press("ctrl+d")
        await app.workers.wait_for_complete()
        await select(pilot, "budget:config:monthly")
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert messages(app) == [
            "no fix from the console for this finding: terminate it, or snapshot and delete its volumes",
            "Delete volume: this is an unassociated Elastic IP: ctrl+r is its fix",
            "Release address: select an unassociated Elastic IP in the FINDINGS section first",
        ]
        assert provider(app).calls == [] and audit_records(tmp_path) == []


async def test_an_operator_is_refused_the_fixes_and_told_the_role_they_need(tmp_path: Path) -> None:
    app = costs_app(tmp_path)  # an operator: a volume's data and a public address cannot come back
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        await select(pilot, key(VOLUME))
        await pilot.press("ctrl+d")
        await app.workers.wait_for_complete()
        await select(pilot, key(ADDRESS))
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert messages(app) == [
            "Delete volume refused: it is destructive and needs the admin role; tester is operator "
            "(roles in the profile)",
            "Release address refused: it is destructive and needs the admin role; tester is operator "
            "(roles in the profile)",
        ]
        assert provider(app).calls == []
    assert [(r["action"], r["result"], r["role"], r["target"]["id"]) for r in audit_records(tmp_path)] == [
        (DELETE_VOLUME.id, "refused", "operator", VOLUME.resource_id),
        (RELEASE_ADDRESS.id, "refused", "operator", ADDRESS.resource_id)]


async def test_watch_mode_refuses_the_fixes_without_a_dialog(tmp_path: Path) -> None:
    app = costs_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        await select(pilot, key(VOLUME))
        await pilot.press("ctrl+d")
        await app.workers.wait_for_complete()
        await select(pilot, key(STOPPED))  # whatever is selected: the answer is read-only
        await pilot.press("ctrl+d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert messages(app) == [f"Delete volume {READ_ONLY}", f"Delete volume {READ_ONLY}"]
        assert provider(app).calls == []
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert not {"Delete", "Release"} & shown and "Details" in shown
    # Both attempts are audited: read-only refuses whatever is selected.
    records = [(r["action"], r["result"]) for r in audit_records(tmp_path)]
    assert records == [(DELETE_VOLUME.id, "refused")] * 2


async def test_the_fix_keys_work_in_the_costs_tab_only(tmp_path: Path) -> None:
    app = costs_app(tmp_path, role="admin")  # both fixes are destructive: admins only
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("ctrl+d")  # the Resources tab: not the Costs tab's key here
        await app.workers.wait_for_complete()
        assert messages(app) == []
        app.action_run_action(DELETE_VOLUME.id)  # the palette can ask from anywhere
        await app.workers.wait_for_complete()
        assert messages(app) == ["Delete volume: select a finding in the Costs tab first (key 5)"]
        await pilot.press("5")
        await pilot.pause()
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert {"Delete", "Release", "Details"} <= shown and "Sort" not in shown


def test_help_names_the_costs_keys_by_their_tab(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    listed = {(k, where) for k, _, where in help_rows(app.keys, False, app.views)}
    assert {("ctrl+d", "Costs tab"), ("ctrl+r", "Costs tab"), ("i", "Costs tab")} <= listed


# -- failures, the label, the status line ----------------------------------------------------------


async def test_a_cost_explorer_failure_is_one_line_and_the_findings_still_show(tmp_path: Path) -> None:
    why = ("Cost Explorer: access denied for account 111111111111 — grant ce:GetCostAndUsage (read) to the "
           "role or user")
    app = costs_app(tmp_path, CostsReplay(snapshot(spend=None, spend_error=why, budgets=())))
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        assert totals(app) == why
        assert provenance(app).startswith("savings $153/mo · 2 CE requests this session · waste scan")
        keys = table(app).visible_keys()
        assert keys[0] == "section:findings" and key(VOLUME) in keys and "section:services" not in keys
        assert table(app).selected_key() == key(LOW_CPU)
        assert not view(app).query_one("#costs-spark").display and view(app).plot() is None
        status = str(app.query_one("#status").render())
        assert f"costs ◑ partial: {why}" in status
        assert tab_label(app) == "5 Costs !"


async def test_a_failed_waste_scan_is_a_note_in_its_section(tmp_path: Path) -> None:
    why = "waste: prod/eu-west-1: access denied to ec2:DescribeVolumes"
    app = costs_app(tmp_path, CostsReplay(snapshot(findings=(), findings_error=why)))
    async with app.run_test(size=SHORT) as pilot:
        await show_costs(pilot)
        assert cell(app, "note:findings", "item") == why
        t = table(app)
        line = t.render_line(t.visible_keys().index("note:findings") + 1 - t.scroll_offset.y)
        assert line.text.rstrip() == why  # across the line, not cut to the first column
        [segment] = [s for s in line if why in s.text]
        assert segment.style is not None and segment.style.color == t.get_component_rich_style(
            "resource-table--error").color
    app = costs_app(tmp_path, CostsReplay(snapshot(findings=())))
    async with app.run_test(size=SHORT) as pilot:
        await show_costs(pilot)
        assert cell(app, "note:findings", "item") == "no idle or wasted resource found"


async def test_with_kubernetes_alone_the_tab_shows_the_namespaces(tmp_path: Path) -> None:
    kube_only = CostsSnapshot(NOW, namespaces=NAMESPACES)
    app = costs_app(tmp_path, CostsReplay(kube_only))
    async with app.run_test(size=SHORT) as pilot:
        await show_costs(pilot)
        assert totals(app) == "no AWS spend: Cost Explorer needs an account in providers.aws"
        assert table(app).visible_keys() == ["section:namespaces", "namespace:kind-stacktop/shop",
                                             "namespace:kind-stacktop/kube-system"]
        assert tab_label(app) == "5 Costs"


async def test_the_tab_label_shows_month_to_date_and_the_budget_mark_from_any_tab(tmp_path: Path) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.pause()
        assert tab_label(app) == "5 Costs $924 MTD OVER"
        # Six tabs: beside "1 Resources  2 HA  3 Backups  4 Alerts  6 Security" 72 columns leave
        # 18 cells, no room for "MTD"; 60 columns leave 6, and the shortest label keeps the mark.
        await pilot.resize_terminal(72, 24)
        await pilot.pause()
        await pilot.pause()
        assert tab_label(app) == "5 Costs $924 OVER"
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        await pilot.pause()
        assert tab_label(app) == "5 Costs OVER"
        warn = (BUDGETS[0],)  # 924 of 1500 spent, forecast 1573: warns
        provider(app).snapshot = snapshot(budgets=tuple(
            dataclasses.replace(b, spent=924.0, forecast=1573.4) for b in warn))
        await pilot.resize_terminal(*TALL)
        await poll_all(pilot)
        assert tab_label(app) == "5 Costs $924 MTD !"
        provider(app).snapshot = snapshot(budgets=())
        await poll_all(pilot)
        assert tab_label(app) == "5 Costs $924 MTD"


async def test_without_a_costs_source_the_tab_says_what_to_configure(tmp_path: Path) -> None:
    app = costs_app(tmp_path, with_costs=False)
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("5")
        await pilot.pause()
        texts = [str(s.render()) for s in app.query_one(SetupHint).query(Static)]
        status = CONFIGURED_STATUS["costs"]
        assert status in texts and status.startswith("Not configured")
        assert any("costs:\n  budgets:\n    - name: monthly\n      amount: 5000" in t for t in texts)
        assert not app.query(CostsView)
        assert tab_label(app) == "5 Costs"
        await pilot.press("ctrl+d")  # nothing to delete: the key is not bound here
        await app.workers.wait_for_complete()
        assert messages(app) == []


# -- the chart -------------------------------------------------------------------------------------


class BarCalls:
    """Counts plotext bar plots of the tab's chart (the costly part of a tick)."""

    def __init__(self, panel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = panel.plt.bar

        def bar(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(panel.plt, "bar", bar)


async def wait_for_plot(pilot) -> Any:  # type: ignore[no-untyped-def]
    for _ in range(20):  # mounted after the first frame, then drawn
        await pilot.pause()
        plot = view(pilot.app).plot()
        if plot is not None and plot.series is not None and not plot.pending:
            return plot
    raise AssertionError("no chart")


async def test_the_chart_is_plotted_only_when_the_days_change(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    app = costs_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_costs(pilot)
        plot = await wait_for_plot(pilot)
        assert plot.series.positions == tuple(float(d) for d in range(1, 19))
        assert plot.series.values == tuple(d.amount for d in NOVEMBER)
        assert not view(app).query_one("#costs-spark").display  # the chart has the room
        calls = BarCalls(plot, monkeypatch)
        # A new poll: other figures move (requests, services), the days do not.
        provider(app).snapshot = snapshot(ce_requests=3, findings=(VOLUME,))
        await poll_all(pilot)
        assert provenance(app).split(" · ")[2] == "3 CE requests this session"
        assert calls.count == 0
        # Cost Explorer's next hour: today's figure grew.
        grown = (*OCTOBER, *NOVEMBER[:-1], DailyCost("2026-11-18", 61.0, estimated=True))
        provider(app).snapshot = snapshot(spend=spend(grown))
        await poll_all(pilot)
        assert calls.count == 1 and plot.series.values[-1] == 61.0
        # Hidden (another tab), a change waits; shown again, it is plotted once.
        await pilot.press("1")
        provider(app).snapshot = snapshot(spend=spend((*grown[:-1], DailyCost("2026-11-18", 64.0))))
        await poll_all(pilot)
        assert calls.count == 1
        await pilot.press("5")
        await pilot.pause()
        await pilot.pause()
        assert calls.count == 2 and plot.series.values[-1] == 64.0


# -- plain functions -------------------------------------------------------------------------------


def test_money_fits_its_column() -> None:
    assert [costs_rows.money(v) for v in (0.0, 3.654, 1234.5, 12_345.6, 2_345_678.0, -1.5)] == [
        "$0.00", "$3.65", "$1,234.50", "$12,346", "$2.35M", "-$1.50"]
    assert costs_rows.money(924.0, "USD", 100) == "$924" and costs_rows.money(12.5, "EUR") == "€12.50"
    assert costs_rows.money(3.0, "JPY") == "JPY 3.00"
    assert [costs_rows.compact_money(v) for v in (924.4, 12_345.0, 2_345_678.0)] == [
        "$924", "$12.3k", "$2.3M"]
    assert costs_rows.hourly_text(0.001) == "<$0.01/h" and costs_rows.hourly_text(0.001, unit="") == "<$0.01"
    big = snapshot(spend=dataclasses.replace(spend(), month_to_date=8341.0), budgets=())
    assert costs_rows.tab_labels("5", "Costs", big, False) == [
        "5 Costs $8,341 MTD", "5 Costs $8,341", "5 Costs $8.3k", "5 Costs"]


def test_the_change_is_this_months_pace_against_last_month() -> None:
    line = CostLine("x", "x", 50.0, 100.0)
    assert costs_rows.pace_change(line, 0.5) == 0.0  # half the month, half the spend: no change
    assert costs_rows.pace_change(line, 0.05) is None  # too early to say
    assert str(costs_rows.change_cell(CostLine("x", "x", 5.0, 0.0), 0.5)) == "new"
    assert str(costs_rows.change_cell(CostLine("x", "x", 80.0, 100.0), 0.5)) == "+60%"


def test_services_past_the_tenth_share_one_row_the_detail_lists() -> None:
    lines = tuple(CostLine(f"Service {i:02d}", f"Service {i:02d}", 100.0 - i, 50.0) for i in range(13))
    s = dataclasses.replace(spend(), by_service=lines, month_to_date=sum(c.month_to_date for c in lines))
    found = costs_rows.listing(snapshot(spend=s), NOW)
    keys = [k for k, _ in found.rows if k.startswith("service:")]
    assert len(keys) == 11 and keys[-1] == costs_rows.OTHER_SERVICES
    rest = dict(found.rows)[costs_rows.OTHER_SERVICES]
    assert (str(rest[0]), rest[4]) == ("3 more services", "$267.00")  # 90 + 89 + 88
    title, doc = costs_rows.detail_for(costs_rows.OTHER_SERVICES, found.items[costs_rows.OTHER_SERVICES],
                                       snapshot(spend=s), NOW)
    assert title == "3 more services" and doc is not None and "Service 12" in doc.text()


def test_an_address_without_an_allocation_id_has_no_console_fix() -> None:
    classic = dataclasses.replace(ADDRESS, action_id="", resource_id="198.51.100.7", details=())
    assert costs_rows.target_for(RELEASE_ADDRESS.id, classic) == (
        "no fix from the console for this finding: release the address")
    assert costs_rows.fix_word(classic) == ""

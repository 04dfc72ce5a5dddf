"""The Alerts tab as an operator drives it, on snapshots built here and put in the
Store by small providers that replay them (the rule engine and the Alertmanager
client are tested on their own): the sections and their order, severity colours,
labels, sources, the summary line and the tab's counts, the empty state, the
detail pane's history, and silence / expire / acknowledge through the gate —
whichever of the two providers owns the alert or silence acts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.style import Style
from textual.widgets import Static

from providers.alerts.action_specs import ACKNOWLEDGE, ALERT_ACTIONS, EXPIRE_SILENCE, SILENCE
from providers.alerts.model import (
    ALERTMANAGER,
    FIRING,
    PENDING,
    RESOLVED,
    Alert,
    AlertmanagerSnapshot,
    AlertsSnapshot,
    Matcher,
    NotificationRecord,
    Silence,
    Transition,
    fingerprint,
)
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider, labels_of
from tests.support.apps import FIXED_NOW, RecordedHostProvider, audit_records, build_app, messages
from tui.app import StacktopApp
from tui.keymap import help_rows
from tui.screens.alerts_rows import NARROW, WIDE, value_text
from tui.screens.alerts_view import AlertsView
from tui.screens.planned import CONFIGURED_STATUS
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.resource_table import ResourceTable
from widgets.setup_hint import SetupHint
from widgets.text_dialog import TextDialog

TALL = (120, 40)
SHORT = (80, 24)
UTC = ZoneInfo("UTC")
NOW = FIXED_NOW
READ_ONLY = "refused: read-only mode (restart without 'watch'/--read-only to act)"
SILENCE_ID = "3f9a2c1e-7b4d-4e0a-9c2f-5d8e1a6b7c90"
AM_SILENCE_ID = "a1b2c3d4-0000-4000-8000-000000000001"


# -- the fixture: 2 firing (one from Alertmanager), 1 pending, 1 silenced, 2 resolved, 1 silence ---


def make_alert(name: str, state: str, severity: str, source: str = "stacktop", *, value: float | None = None,
               values: Sequence[float] = (), since: float = 0.0, firing_for: float | None = None,
               resolved_ago: float | None = None, summary: str = "", expr: str = "",
               silenced_by: tuple[str, ...] = (), acked_by: str = "", ack_comment: str = "",
               extra: tuple[tuple[str, str], ...] = (), **labels: str) -> Alert:
    """An alert `since` seconds active; `firing_for` seconds of it firing."""
    all_labels = labels_of(alertname=name, severity=severity, **labels)
    annotations = (("summary", summary), *extra) if summary else extra
    return Alert(
        fingerprint=fingerprint(all_labels), name=name, state=state, severity=severity, labels=all_labels,
        annotations=annotations, source=source, value=value, values=tuple(values), expr=expr,
        active_since=NOW - since, firing_since=NOW - firing_for if firing_for is not None else None,
        resolved_at=NOW - resolved_ago if resolved_ago is not None else None,
        last_evaluated=NOW - 2 if source == "stacktop" else 0.0, silenced_by=silenced_by,
        acked_by=acked_by, ack_comment=ack_comment,
        generator_url="http://prometheus:9090/graph?g0.expr=kube_pod_restarts" if source == ALERTMANAGER
        else "",
    )


DISK = make_alert(
    "HostDiskAlmostFull", FIRING, "critical", value=93.4, values=[88.0, 89.5, 90.4, 91.2, 92.0, 92.8, 93.4],
    since=1020, firing_for=720, summary="Disk /data is 93.4% full", expr="host.disk.percent > 90",
    acked_by="alice", ack_comment="swapping the disk tonight", mount="/data",
    extra=(("description", "Writes fail once it is full."), ("runbook_url", "https://runbooks/disk-full")))
CRASH = make_alert("KubePodCrashLooping", FIRING, "warning", ALERTMANAGER, since=300, firing_for=300,
                   summary="Pod shop/api-7d9f restarts", namespace="shop", pod="api-7d9f")
LATENCY = make_alert("HttpLatencyHigh", PENDING, "info", value=0.84, values=[0.3, 0.5, 0.84], since=90,
                     summary="api p95 at 0.84s", expr="http.api.latency_p95 > 0.5", check="api")
RPO = make_alert("BackupRpoBreached", FIRING, "warning", value=1.0, since=7200, firing_for=7200,
                 summary="web-ebs has no backup within its RPO", expr="backups.rpo_breached == 1",
                 silenced_by=(SILENCE_ID,), target="web-ebs")
CPU = make_alert("HostCpuHigh", RESOLVED, "warning", value=41.0, since=2400, firing_for=1800,
                 resolved_ago=1500, summary="CPU at 41%", expr="host.cpu.percent > 80")
LAG = make_alert("HaLagHigh", RESOLVED, "critical", value=2.0, since=12000, firing_for=11000,
                 resolved_ago=10800, summary="pg2 lags 2s", expr="ha.lag_seconds > 30", cluster="main",
                 member="pg2")
RPO_SILENCE = Silence(SILENCE_ID, (Matcher("alertname", "=", "BackupRpoBreached"),
                                   Matcher("target", "=", "web-ebs")),
                      NOW - 3600, NOW + 6600, "bob", "EBS snapshots paused during the migration")
AM_SILENCE = Silence(AM_SILENCE_ID, (Matcher("namespace", "=~", "stag.*"),), NOW - 60, NOW + 3 * 86400,
                     "carol", "staging is being rebuilt", source=ALERTMANAGER)
NOTIFICATIONS = (
    NotificationRecord(NOW - 12, "slack-ops", "slack", "route0:{alertname=HostDiskAlmostFull}", FIRING,
                       (DISK.fingerprint,), True, 1, "HTTP 200", 0.2),
    NotificationRecord(NOW - 700, "email-oncall", "email", "route1:{alertname=HostDiskAlmostFull}", FIRING,
                       (DISK.fingerprint,), False, 4, "SMTP 451: try again later", 14.0),
    NotificationRecord(NOW - 710, "slack-ops", "slack", "route0:{alertname=HostDiskAlmostFull}", FIRING,
                       (DISK.fingerprint,), True, 1, "HTTP 200", 0.1),
    NotificationRecord(NOW - 1500, "slack-ops", "slack", "route0:{alertname=HostCpuHigh}", RESOLVED,
                       (CPU.fingerprint,), True, 1, "HTTP 200", 0.1),
)
TRANSITIONS = (
    Transition(NOW - 90, LATENCY.fingerprint, LATENCY.name, LATENCY.labels, "inactive", PENDING, 0.84),
    Transition(NOW - 720, DISK.fingerprint, DISK.name, DISK.labels, PENDING, FIRING, 91.2),
    Transition(NOW - 1020, DISK.fingerprint, DISK.name, DISK.labels, "inactive", PENDING, 90.4),
    Transition(NOW - 1500, CPU.fingerprint, CPU.name, CPU.labels, FIRING, RESOLVED, 41.0),
)


def engine_snapshot(alerts: Sequence[Alert] = (DISK, LATENCY, RPO, CPU, LAG),
                    silences: Sequence[Silence] = (RPO_SILENCE,)) -> AlertsSnapshot:
    return AlertsSnapshot(NOW, alerts=tuple(alerts), silences=tuple(silences), notifications=NOTIFICATIONS,
                          transitions=TRANSITIONS, rules=18,
                          rules_without_data=("CostsBudgetNearlySpent", "K8sPodsNotReady"),
                          notifier="2 channels")


def manager_snapshot(alerts: Sequence[Alert] = (CRASH,),
                     silences: Sequence[Silence] = ()) -> AlertmanagerSnapshot:
    return AlertmanagerSnapshot(NOW, url="http://127.0.0.1:9093", alerts=tuple(alerts),
                                silences=tuple(silences), version="0.27.0")


class ReplayProvider(Provider):
    """`alerts` or `alertmanager` replaying the snapshot a test sets; its actions record
    their targets and succeed (the real providers' actions are tested elsewhere)."""

    def __init__(self, name: str, snapshot: AlertsSnapshot | AlertmanagerSnapshot, interval: float) -> None:
        super().__init__(name, interval=interval, timeout=5.0)
        self.snapshot = snapshot
        self.calls: list[tuple[str, ActionTarget]] = []

    async def poll(self) -> AlertsSnapshot | AlertmanagerSnapshot:
        return self.snapshot

    def actions(self) -> list[ActionSpec]:
        return list(ALERT_ACTIONS)

    def action_callable(self, action_id: str) -> ActionCallable:
        if action_id not in {s.id for s in ALERT_ACTIONS}:
            raise KeyError(action_id)

        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target))
            return ActionResult(True, f"{self.name}: {action_id} {target.name} done")

        return run


def alert_providers(engine: AlertsSnapshot | None = None,
                    manager: AlertmanagerSnapshot | None = None) -> list[Provider]:
    """Both providers with the mixed fixture (pass one explicitly to have only that one)."""
    if engine is None and manager is None:
        engine, manager = engine_snapshot(), manager_snapshot()
    found: list[Provider] = []
    if engine is not None:
        found.append(ReplayProvider("alerts", engine, 5.0))
    if manager is not None:
        found.append(ReplayProvider("alertmanager", manager, 15.0))
    return found


def alerts_app(tmp_path: Path, providers: list[Provider] | None = None, *,
               read_only: bool = False) -> StacktopApp:
    chosen = alert_providers() if providers is None else providers
    app = build_app(tmp_path, read_only=read_only, providers=[RecordedHostProvider(), *chosen],
                    start_runtime=False, clock=lambda: NOW)
    app.tz = UTC
    return app


# -- reading the screen back -----------------------------------------------------------------------


async def poll_all(pilot) -> None:  # type: ignore[no-untyped-def]
    for name in list(pilot.app.runtime.providers):
        await pilot.app.runtime.poll_provider(name)
    await pilot.pause()


async def show_alerts(pilot) -> AlertsView:  # type: ignore[no-untyped-def]
    await poll_all(pilot)
    await pilot.press("4")
    await pilot.pause()
    return view(pilot.app)


def view(app: StacktopApp) -> AlertsView:
    return app.query_one(AlertsView)


def table(app: StacktopApp) -> ResourceTable:
    return view(app).table


def key(alert: Alert) -> str:
    return f"alert:{alert.source}:{alert.fingerprint}"


def cell(app: StacktopApp, row: str, column: str) -> str:
    t = table(app)
    found = t.row_cells(row)
    assert found is not None, row
    return dict(zip([c.key for c in t.columns], found, strict=True))[column]


def cell_colour(app: StacktopApp, row: str, text: str) -> Style:
    t = table(app)
    y = t.visible_keys().index(row) + 1 - t.scroll_offset.y
    for segment in t.render_line(y):
        if text in segment.text:
            return segment.style or Style()
    raise AssertionError(f"{text!r} not on the line of {row}")


def colour(app: StacktopApp, name: str) -> Style:
    return table(app).get_component_rich_style(f"resource-table--{name}")


def summary(app: StacktopApp) -> str:
    return str(view(app).query_one(".summary", Static).render())


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
    return str(app.query_one("#tabs").get_tab("alerts").label)  # type: ignore[attr-defined]


async def select(pilot, row: str) -> None:  # type: ignore[no-untyped-def]
    assert table(pilot.app).move_cursor_to(row), row
    await pilot.pause()


def calls(app: StacktopApp, name: str) -> list[tuple[str, ActionTarget]]:
    provider = app.runtime.providers[name]
    assert isinstance(provider, ReplayProvider)
    return provider.calls


async def wait_for_screen(pilot, kind: type) -> object:  # type: ignore[no-untyped-def]
    for _ in range(30):  # the action runs in a worker: wait for its dialog
        await pilot.pause()
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
    raise AssertionError(f"no {kind.__name__}; screen is {pilot.app.screen}")


def dialog_text(screen) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(s.render()) for s in screen.query(Static)]


# -- the table -------------------------------------------------------------------------------------


async def test_sections_list_firing_pending_silenced_resolved_then_the_silences(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        assert table(app).visible_keys() == [
            "section:firing", key(DISK), key(CRASH),  # critical before warning
            "section:pending", key(LATENCY),
            "section:silenced", key(RPO),
            "section:resolved", key(CPU), key(LAG),  # newest first
            "section:silences", f"silence:stacktop:{SILENCE_ID}",
        ]
        assert [c.key for c in table(app).columns] == list(WIDE)
        assert table(app).selected_key() == key(DISK)  # the cursor starts on an alert, not a heading
        columns = ("severity", "alert", "labels", "value", "age", "source", "ack")
        assert [cell(app, key(DISK), c) for c in columns] == [
            "critical", "HostDiskAlmostFull", "mount=/data", "93.4", "12m ago", "stacktop", "✓ alice"]
        assert [cell(app, key(CRASH), c) for c in columns] == [
            "warning", "KubePodCrashLooping", "namespace=shop pod=api-7d9f", "—", "5m ago", "AM", ""]
        assert [cell(app, key(LATENCY), c) for c in columns] == [
            "info", "HttpLatencyHigh", "check=api", "0.84", "1m ago", "stacktop", ""]
        assert cell(app, key(RPO), "age") == "2h ago"
        assert [cell(app, key(CPU), "age"), cell(app, key(LAG), "age")] == ["25m ago", "3h ago"]
        assert cell(app, key(LAG), "labels") == "cluster=main member=pg2"
        assert cell(app, key(DISK), "summary") == "Disk /data is 93.4% full"
        assert cell(app, key(DISK), "trend") == "▁▃▄▅▆▇█"  # from its lowest to its highest
        assert [cell(app, "section:firing", c) for c in ("alert", "labels")] == ["2 alerts", "1 critical"]
        silence = f"silence:stacktop:{SILENCE_ID}"
        assert [cell(app, silence, c) for c in ("severity", "alert", "labels", "summary", "age", "ack")] == [
            "active", "alertname=BackupRpoBreached target=web-ebs",
            "EBS snapshots paused during the migration", "mutes 1 alert", "in 1h50m", "bob"]

        await select(pilot, key(CRASH))  # the cursor's line is drawn in the cursor's colours
        error, warn, info, muted, ok = (colour(app, c) for c in ("error", "warn", "info", "muted", "ok"))
        assert len({error.color, warn.color, info.color, muted.color}) == 4
        assert cell_colour(app, key(DISK), "critical").color == error.color
        assert cell_colour(app, key(LATENCY), "info").color == info.color
        assert cell_colour(app, key(RPO), "warning").color == muted.color  # silenced: nobody needs to act
        assert cell_colour(app, key(LAG), "critical").color == muted.color  # resolved
        assert cell_colour(app, "section:firing", "FIRING").color == error.color
        assert cell_colour(app, "section:pending", "PENDING").color == warn.color
        assert cell_colour(app, "section:resolved", "RESOLVED").color == ok.color
        await select(pilot, key(DISK))
        assert cell_colour(app, key(CRASH), "warning").color == warn.color

        assert summary(app) == (
            "2 firing (1 critical), 1 pending, 1 silenced, 2 resolved in 24h  ·  "
            "18 rules, 2 without data  ·  notifications: 2 channels, last send 12s ago ok  ·  "
            "Alertmanager 0.27.0: 1 alert")


async def test_the_cursor_passes_over_the_section_rows(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await pilot.press("down", "down")
        assert table(app).selected_key() == key(LATENCY)  # past PENDING
        await pilot.press("up")
        assert table(app).selected_key() == key(CRASH)
        await pilot.press("up", "up")
        assert table(app).selected_key() == key(DISK)  # FIRING is the top: back down
        await pilot.press("end")
        assert table(app).selected_key() == f"silence:stacktop:{SILENCE_ID}"


async def test_s_silences_here_it_does_not_sort(tmp_path: Path) -> None:
    app = alerts_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        order = table(app).visible_keys()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        assert table(app).visible_keys() == order and table(app).sort_key is None
        assert messages(app) == [f"Silence {READ_ONLY}"]


async def test_the_tab_label_counts_what_needs_someone_from_any_tab(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)  # the Resources tab is shown: the label counts anyway
        await pilot.pause()
        assert tab_label(app) == "4 Alerts 2 firing 1 pending"  # the silenced one is not counted
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        assert tab_label(app) == "4 Alerts 2 firing"  # no room for the pending count
    app = alerts_app(tmp_path, alert_providers(engine=engine_snapshot(alerts=(CPU,), silences=())))
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        assert tab_label(app) == "4 Alerts ok"


async def test_nothing_firing_says_how_many_rules_are_evaluated_and_how_often(tmp_path: Path) -> None:
    app = alerts_app(tmp_path, alert_providers(engine=engine_snapshot(alerts=(), silences=())))
    async with app.run_test(size=SHORT) as pilot:
        alerts = await show_alerts(pilot)
        assert table(app).visible_keys() == []
        assert table(app).empty_text == "No alerts firing. 18 rules evaluated every 5s; 2 without data."
        assert "No alerts firing. 18 rules evaluated every 5s" in str(table(app).render_line(1).text)
        assert summary(app).startswith("nothing firing  ·  18 rules, 2 without data")
        assert not alerts.details_shown
        await pilot.press("x")
        await app.workers.wait_for_complete()
        assert messages(app) == ["select an alert or a silence first"]


async def test_80_columns_keep_severity_name_labels_value_age_source_and_ack(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        alerts = await show_alerts(pilot)
        assert [c.key for c in table(app).columns] == list(NARROW)
        assert cell(app, key(DISK), "ack") == "✓ alice"
        assert not alerts.details_shown  # 24 rows: the table has them
        await select(pilot, key(LATENCY))
        await pilot.resize_terminal(*TALL)
        for _ in range(5):
            await pilot.pause()
        assert [c.key for c in table(app).columns] == list(WIDE)
        assert table(app).selected_key() == key(LATENCY) and table(app).has_focus
        assert alerts.details_shown
        assert detail_title(app) == "HttpLatencyHigh · pending · info · stacktop"


async def test_a_new_poll_updates_rows_in_place_and_the_cursor_stays_on_its_alert(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await select(pilot, key(LATENCY))
        before = table(app)
        new = make_alert("HostMemoryHigh", FIRING, "critical", value=97.0, since=30, firing_for=10,
                         summary="memory at 97%", expr="host.memory.percent > 95")
        moved = make_alert("HttpLatencyHigh", PENDING, "info", value=0.91, values=[0.3, 0.5, 0.84, 0.91],
                           since=95, summary="api p95 at 0.91s", check="api")
        provider = app.runtime.providers["alerts"]
        assert isinstance(provider, ReplayProvider)
        provider.snapshot = engine_snapshot(alerts=(new, DISK, moved, RPO, CPU, LAG))
        await poll_all(pilot)
        assert table(app) is before  # the same table, rows diffed in
        assert table(app).visible_keys()[:4] == ["section:firing", key(new), key(DISK), key(CRASH)]
        assert table(app).selected_key() == key(LATENCY)
        assert cell(app, key(LATENCY), "value") == "0.91"
        assert tab_label(app) == "4 Alerts 3 firing 1 pending"


class BrokenProvider(ReplayProvider):
    async def poll(self) -> AlertsSnapshot:
        raise RuntimeError("Alertmanager at http://127.0.0.1:9093 refused the connection")


async def test_a_source_that_fails_says_so_and_the_other_still_lists(tmp_path: Path) -> None:
    engine = dataclasses.replace(engine_snapshot(alerts=(DISK,), silences=()),
                                 problems=("rules/extra.yaml:12: unknown label 'sevrity'",))
    broken = BrokenProvider("alertmanager", manager_snapshot(), 15.0)
    app = alerts_app(tmp_path, [*alert_providers(engine=engine), broken])
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        assert table(app).visible_keys() == ["section:firing", key(DISK)]
        why = "RuntimeError: Alertmanager at http://127.0.0.1:9093 refused the connection"
        text = summary(app)
        assert text.startswith(f"1 firing (1 critical)  ·  Alertmanager: no data: {why}  ·  18 rules")
        assert "rules/extra.yaml:12: unknown label 'sevrity'" in text
        assert tab_label(app) == "4 Alerts 1 firing"
        status = str(app.query_one("#status").render())
        assert "alerts ◑ partial" in status  # the engine's problem
    app = alerts_app(tmp_path, [BrokenProvider("alertmanager", manager_snapshot(), 15.0)])
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        assert table(app).empty_text == f"no data: alertmanager: {why}"
        assert tab_label(app) == "4 Alerts !"


def test_values_fit_the_value_column() -> None:
    assert [value_text(v) for v in (None, 93.44, 0.0512, 2.0, 1250.0, 16_777_216.0, 512.5, -3.25)] == [
        "—", "93.4", "0.0512", "2", "1250", "16.8M", "512", "-3.2"]


async def test_without_rules_or_alertmanager_the_tab_says_how_to_configure_them(tmp_path: Path) -> None:
    app = alerts_app(tmp_path, providers=[])
    async with app.run_test(size=SHORT) as pilot:
        await poll_all(pilot)
        await pilot.press("4")
        await pilot.pause()
        texts = [str(s.render()) for s in app.query_one(SetupHint).query(Static)]
        status = CONFIGURED_STATUS["alerts"]
        assert status in texts and status.startswith("Not configured")
        assert any("alerts:\n  rules:" in t for t in texts)
        assert not app.query(AlertsView)
        assert tab_label(app) == "4 Alerts"
        await pilot.press("s")  # nothing to silence: the key is not bound here
        await app.workers.wait_for_complete()
        assert messages(app) == []


# -- the detail pane ------------------------------------------------------------------------------


async def test_details_show_the_alert_its_transitions_and_notification_history(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        alerts = await show_alerts(pilot)
        assert alerts.details_shown
        assert detail_title(app) == "HostDiskAlmostFull · firing · critical · stacktop"
        lines = pane_lines(app)
        assert field(lines, "state") == ("firing for 12m00s (since 2026-11-18 10:54:40; "
                                         "pending from 2026-11-18 10:49:40)")
        assert field(lines, "severity") == "critical"
        assert field(lines, "source") == "stacktop rule engine"
        assert field(lines, "expr") == "host.disk.percent > 90"
        assert field(lines, "value") == "93.4  ▁▃▄▅▆▇█"
        assert field(lines, "labels") == "alertname=HostDiskAlmostFull mount=/data severity=critical"
        assert field(lines, "summary") == "Disk /data is 93.4% full"
        assert field(lines, "description") == "Writes fail once it is full."
        assert field(lines, "runbook_url") == "https://runbooks/disk-full"
        assert field(lines, "acked by") == "alice: swapping the disk tonight"
        at = lines.index(" Transitions, newest first (2) ")
        assert lines[at + 1:at + 3] == ["2026-11-18 10:54:40  pending → firing  91.2",
                                        "2026-11-18 10:49:40  inactive → pending  90.4"]
        at = lines.index(" Notifications, newest first (3) ")
        assert lines[at + 1:at + 4] == [
            "2026-11-18 11:06:28  slack-ops     firing    ok      HTTP 200",
            "2026-11-18 10:55:00  email-oncall  firing    FAILED  SMTP 451: try again later (4 attempts)",
            "2026-11-18 10:54:50  slack-ops     firing    ok      HTTP 200",
        ]

        await select(pilot, key(RPO))
        lines = pane_lines(app)
        assert field(lines, "silenced by") == (
            f"{SILENCE_ID} · alertname=BackupRpoBreached target=web-ebs · ends in 1h50m · "
            "bob: EBS snapshots paused during the migration")
        assert "none sent (2 channels)" in lines

        await select(pilot, key(CRASH))
        assert detail_title(app) == "KubePodCrashLooping · firing · warning · AM"
        lines = pane_lines(app)
        assert field(lines, "source") == "Alertmanager (http://127.0.0.1:9093)"
        assert field(lines, "link").startswith("http://prometheus:9090/graph")
        assert "Alertmanager routes and notifies this alert; its history is in Alertmanager." in lines

        await select(pilot, key(CPU))
        lines = pane_lines(app)
        assert field(lines, "state") == "resolved 25m ago (at 2026-11-18 10:41:40, active 15m00s)"
        assert lines[lines.index(" Notifications, newest first (1) ") + 1] == (
            "2026-11-18 10:41:40  slack-ops  resolved  ok      HTTP 200")


async def test_an_inhibited_alertmanager_alert_is_muted_and_names_its_cause(tmp_path: Path) -> None:
    node = make_alert("NodeDown", FIRING, "critical", ALERTMANAGER, since=600, firing_for=600,
                      summary="node-3 is down", instance="node-3")
    effect = dataclasses.replace(
        make_alert("TargetDown", FIRING, "warning", ALERTMANAGER, since=590, firing_for=590,
                   instance="node-3"),
        inhibited_by=(node.fingerprint,))
    app = alerts_app(tmp_path, alert_providers(engine=engine_snapshot(alerts=(DISK,), silences=()),
                                               manager=manager_snapshot(alerts=(node, effect))))
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        assert table(app).visible_keys() == ["section:firing", key(node), key(DISK),  # newest first
                                             "section:silenced", key(effect)]
        assert cell(app, key(effect), "ack") == "inhibited"
        assert tab_label(app) == "4 Alerts 2 firing"  # the effect pages nobody: the cause does
        assert summary(app).startswith("2 firing (2 critical), 1 silenced  ·  ")
        await select(pilot, key(effect))
        assert field(pane_lines(app), "inhibited by") == (
            f"NodeDown instance=node-3 ({node.fingerprint}; an inhibit rule in Alertmanager)")


async def test_a_silences_details_show_what_it_mutes_now(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await select(pilot, f"silence:stacktop:{SILENCE_ID}")
        assert detail_title(app) == f"silence {SILENCE_ID} · active · stacktop"
        lines = pane_lines(app)
        assert field(lines, "matchers") == 'alertname="BackupRpoBreached", target="web-ebs"'
        assert field(lines, "starts") == "2026-11-18 10:06:40"
        assert field(lines, "ends") == "2026-11-18 12:56:40 (in 1h50m)"
        assert field(lines, "created by") == "bob"
        assert field(lines, "comment") == "EBS snapshots paused during the migration"
        assert lines[lines.index(" Mutes now (1) ") + 1] == (
            "warning   BackupRpoBreached  target=web-ebs  firing 2h ago")


async def test_i_toggles_the_pane_on_80x24_and_enter_lets_the_arrows_scroll_it(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=SHORT) as pilot:
        alerts = await show_alerts(pilot)
        assert not alerts.details_shown
        await pilot.press("i")
        await pilot.pause()
        assert alerts.details_shown
        assert detail_title(app) == "HostDiskAlmostFull · firing · critical · stacktop"
        await pilot.press("enter")
        assert alerts.lines.has_focus
        await pilot.press("pagedown")
        await pilot.pause()
        assert alerts.lines.scroll_offset.y > 0
        await pilot.press("escape")
        assert table(app).has_focus
        await pilot.press("i")
        await pilot.pause()
        assert not alerts.details_shown


# -- actions ---------------------------------------------------------------------------------------


async def test_silence_asks_what_then_how_long_and_why_then_confirms(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await pilot.press("s")
        choice = await wait_for_screen(pilot, ChoiceDialog)
        assert isinstance(choice, ChoiceDialog)
        assert choice.choice_ids == ["exact", "rule"]
        assert "Silence alert HostDiskAlmostFull" in dialog_text(choice)
        await pilot.press("down", "enter")  # every HostDiskAlmostFull alert
        text = await wait_for_screen(pilot, TextDialog)
        assert isinstance(text, TextDialog)
        await pilot.press(*"soon", "enter")
        await pilot.pause()
        assert app.screen is text  # kept open with the one line saying what to type
        assert text.error == ("'soon' is not a duration; type a duration and a comment, "
                              "e.g. 2h replacing the disk")
        await pilot.press(*["backspace"] * 4)
        await pilot.press(*"2h disk swap", "enter")
        confirm = await wait_for_screen(pilot, ConfirmDialog)
        assert ("Silence the matching alerts: alert HostDiskAlmostFull, scope → rule, "
                "silence → 2h disk swap? [y/n]") in dialog_text(confirm)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        [(action, target)] = calls(app, "alerts")
        assert action == SILENCE.id
        assert (target.kind, target.id, target.provider) == ("alert", DISK.fingerprint, "alerts")
        assert dict(target.params) == {"scope": "rule", "silence": "2h disk swap"}
        assert calls(app, "alertmanager") == []
        assert messages(app)[-1] == "alerts: alerts.silence HostDiskAlmostFull done"
    [record] = audit_records(tmp_path)
    assert (record["action"], record["result"], record["params"]) == (
        SILENCE.id, "ok", {"scope": "rule", "silence": "2h disk swap"})


async def test_silencing_an_alertmanager_alert_goes_to_alertmanager(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await select(pilot, key(CRASH))
        await pilot.press("s")
        await wait_for_screen(pilot, ChoiceDialog)
        await pilot.press("enter")  # this alert only
        await wait_for_screen(pilot, TextDialog)
        await pilot.press(*"1h restarting the api", "enter")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        [(action, target)] = calls(app, "alertmanager")
        assert (action, target.provider, dict(target.params)) == (
            SILENCE.id, "alertmanager", {"scope": "exact", "silence": "1h restarting the api"})
        assert calls(app, "alerts") == []


async def test_with_only_alertmanager_the_tab_lists_and_silences_its_alerts(tmp_path: Path) -> None:
    manager = manager_snapshot(silences=(AM_SILENCE,))
    app = alerts_app(tmp_path, alert_providers(manager=manager))
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        assert table(app).visible_keys() == ["section:firing", key(CRASH), "section:silences",
                                             f"silence:alertmanager:{AM_SILENCE_ID}"]
        assert summary(app) == "1 firing  ·  Alertmanager 0.27.0: 1 alert"
        assert cell(app, f"silence:alertmanager:{AM_SILENCE_ID}", "alert") == 'namespace=~"stag.*"'
        assert cell(app, f"silence:alertmanager:{AM_SILENCE_ID}", "age") == "in 3d"
        await pilot.press("s")
        await wait_for_screen(pilot, ChoiceDialog)
        await pilot.press("enter")
        await wait_for_screen(pilot, TextDialog)
        await pilot.press(*"30m deploy", "enter")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert [a for a, _ in calls(app, "alertmanager")] == [SILENCE.id]
        await select(pilot, f"silence:alertmanager:{AM_SILENCE_ID}")
        await pilot.press("x")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert [(a, t.kind, t.id) for a, t in calls(app, "alertmanager")][-1] == (
            EXPIRE_SILENCE.id, "silence", AM_SILENCE_ID)


async def test_expire_on_a_silence_row(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await pilot.press("x")  # on an alert: which silence to select instead
        await app.workers.wait_for_complete()
        assert messages(app) == ["HostDiskAlmostFull is not silenced"]
        await select(pilot, key(RPO))
        await pilot.press("x")
        await app.workers.wait_for_complete()
        assert messages(app)[-1] == (f"BackupRpoBreached is silenced by {SILENCE_ID}: "
                                     "select the silence to expire it")
        await select(pilot, f"silence:stacktop:{SILENCE_ID}")
        await pilot.press("x")
        confirm = await wait_for_screen(pilot, ConfirmDialog)
        assert "Expire the silence now: silence 3f9a2c1e? [y/n]" in dialog_text(confirm)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        [(action, target)] = calls(app, "alerts")
        assert (action, target.kind, target.id, target.provider) == (
            EXPIRE_SILENCE.id, "silence", SILENCE_ID, "alerts")
        await pilot.press("s")  # a silence is not silenced
        await app.workers.wait_for_complete()
        assert messages(app)[-1] == "select an alert for this action"


async def test_acknowledge_takes_an_optional_comment(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await pilot.press("a")  # already acknowledged
        await app.workers.wait_for_complete()
        assert messages(app) == ["HostDiskAlmostFull is already acknowledged by alice"]
        await select(pilot, key(LATENCY))
        await pilot.press("a")
        await wait_for_screen(pilot, TextDialog)
        await pilot.press(*"looking at it", "enter")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        [(action, target)] = calls(app, "alerts")
        assert (action, target.id, dict(target.params)) == (
            ACKNOWLEDGE.id, LATENCY.fingerprint, {"comment": "looking at it"})


async def test_an_alertmanager_alert_cannot_be_acknowledged(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await select(pilot, key(CRASH))
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, TextDialog | ConfirmDialog)
        assert messages(app) == ["Alertmanager alerts cannot be acknowledged here; silence them instead"]
        assert calls(app, "alertmanager") == calls(app, "alerts") == []


async def test_watch_mode_refuses_silence_expire_and_acknowledge_without_a_dialog(tmp_path: Path) -> None:
    app = alerts_app(tmp_path, read_only=True)
    async with app.run_test(size=TALL) as pilot:
        await show_alerts(pilot)
        await select(pilot, key(LATENCY))
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await select(pilot, f"silence:stacktop:{SILENCE_ID}")
        await pilot.press("x")
        await app.workers.wait_for_complete()
        await select(pilot, key(LATENCY))
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceDialog | TextDialog | ConfirmDialog)
        assert messages(app) == [f"Silence {READ_ONLY}", f"Expire silence {READ_ONLY}",
                                 f"Acknowledge {READ_ONLY}"]
        assert calls(app, "alerts") == []
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert not {"Silence", "Expire", "Acknowledge"} & shown  # hidden from the footer in watch mode
        assert "Details" in shown  # reads stay
    assert [(r["action"], r["result"]) for r in audit_records(tmp_path)] == [
        (SILENCE.id, "refused"), (EXPIRE_SILENCE.id, "refused"), (ACKNOWLEDGE.id, "refused")]


async def test_the_alert_keys_work_in_the_alerts_tab_only(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    async with app.run_test(size=TALL) as pilot:
        await poll_all(pilot)
        await pilot.press("a")  # the Resources tab: a is not the Alerts tab's here
        await app.workers.wait_for_complete()
        assert messages(app) == []
        app.action_run_action(SILENCE.id)  # the palette can ask from anywhere
        await app.workers.wait_for_complete()
        assert messages(app) == ["Silence: select an alert or a silence in the Alerts tab first (key 4)"]
        await pilot.press("4")
        await pilot.pause()
        shown = {b.description for _, b, on, _ in app.active_bindings.values() if on and b.show}
        assert {"Silence", "Expire", "Acknowledge", "Details"} <= shown
        assert "Sort" not in shown


def test_help_names_the_alert_keys_by_their_tab(tmp_path: Path) -> None:
    app = alerts_app(tmp_path)
    listed = {(key, where) for key, _, where in help_rows(app.keys, False, app.views)}
    assert {(k, "Alerts tab") for k in ("s", "x", "a", "i")} <= listed

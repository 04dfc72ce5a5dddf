"""The Alerts tab against a real Alertmanager, as an operator uses it: an alert
posted to Alertmanager appears in the tab with its source, and a silence made
from the tab (s, this alert only, a duration and a comment, y) suppresses it in
Alertmanager itself — the team's other tools see the silence too."""

from __future__ import annotations

import uuid
from pathlib import Path

from config.model import AlertmanagerSettings
from providers.alerts.action_specs import SILENCE
from providers.alerts.alertmanager import AlertmanagerProvider
from tests.support.apps import RecordedHostProvider, audit_records, build_app
from tests.support.prometheus import PromStack, http, prom_stack, wait_for  # noqa: F401 (fixture)
from tui.screens.alerts_view import AlertsView
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.resource_table import ResourceTable
from widgets.text_dialog import TextDialog


async def _screen(pilot, kind: type) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):  # the action runs in a worker: its dialogs come in turn
        await pilot.pause()
        if isinstance(pilot.app.screen, kind):
            return
    raise AssertionError(f"no {kind.__name__}; screen is {pilot.app.screen}")


async def test_an_alertmanager_alert_is_listed_and_silenced_from_the_tab(
        prom_stack: PromStack, tmp_path: Path) -> None:  # noqa: F811
    name = f"DiskFull{uuid.uuid4().hex[:6]}"
    prom_stack.post_alert({"alertname": name, "severity": "critical", "instance": "db-2"},
                          {"summary": "db-2 disk 97 % full"})
    provider = AlertmanagerProvider(AlertmanagerSettings(url=prom_stack.alertmanager_url), user="ana")
    app = build_app(tmp_path, providers=[RecordedHostProvider(), provider], start_runtime=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.runtime.poll_provider("alertmanager")
        await pilot.press("4")
        await pilot.pause()
        view = app.query_one(AlertsView)
        table = view.query_one(ResourceTable)
        listed = app.store.latest("alertmanager").snapshot.alerts  # type: ignore[union-attr]
        ours = next(a for a in listed if a.name == name)
        row = f"alert:alertmanager:{ours.fingerprint}"
        assert row in table.visible_keys()
        assert table.move_cursor_to(row)
        await pilot.pause()

        await pilot.press("s")
        await _screen(pilot, ChoiceDialog)
        await pilot.press("enter")  # this alert only
        await _screen(pilot, TextDialog)
        await pilot.press(*"1h disk swap on db-2", "enter")
        await _screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await app.workers.wait_for_complete()

        def suppressed() -> list[str]:
            found = [a for a in prom_stack.am_alerts() if a["labels"]["alertname"] == name]
            if found and found[0]["status"]["state"] == "suppressed":
                return found[0]["status"]["silencedBy"]
            return []

        (silence_id,) = await wait_for(suppressed, 15, f"{name} suppressed in Alertmanager")
        silence = next(s for s in prom_stack.am_silences() if s["id"] == silence_id)
        assert (silence["createdBy"], silence["comment"]) == ("ana", "disk swap on db-2")
        assert {(m["name"], m["value"]) for m in silence["matchers"]} == {
            ("alertname", name), ("severity", "critical"), ("instance", "db-2")}

        await app.runtime.poll_provider("alertmanager")
        await pilot.pause()
        listed = app.store.latest("alertmanager").snapshot.alerts  # type: ignore[union-attr]
        silenced = next(a for a in listed if a.name == name)
        assert silenced.silenced_by == (silence_id,)
    (record,) = [r for r in audit_records(tmp_path) if r["action"] == SILENCE.id]
    assert record["result"] == "ok" and record["target"]["name"] == name
    # The Alertmanager is shared by this module's tests: leave no silence behind.
    status, _ = http("DELETE", f"{prom_stack.alertmanager_url}/api/v2/silence/{silence_id}")
    assert status == 200

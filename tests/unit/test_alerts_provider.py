"""The `alerts` provider as the console and the agent run it side by side on one
state file: both show the same alerts, one sends, silences made in either are
seen by both, and the other takes over when the sender stops."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from config.model import AlertsSettings
from providers.alerts import action_specs as specs
from providers.alerts.expr import parse
from providers.alerts.model import FIRING, Rule
from providers.alerts.provider import AlertsProvider
from providers.base import Snapshot
from providers.store import Store


@dataclass(frozen=True)
class Gauge(Snapshot):
    value: float = 0.0

    def metrics(self) -> Mapping[str, float]:
        return {"value": self.value}


def provider(tmp_path: Path, store: Store, *, passive: bool = False) -> AlertsProvider:
    settings = AlertsSettings(state_file=str(tmp_path / "alerts.db"),
                              notification_log=str(tmp_path / "notifications.jsonl"))
    rule = Rule("GaugeHigh", "gauge.value > 1", parse("gauge.value > 1"), severity="critical")
    p = AlertsProvider(settings, [rule], user="ana", read_only=passive)
    p.bind_store(store)
    return p


async def test_two_stacktops_share_one_state_file(tmp_path: Path) -> None:
    store = Store()
    store.put("gauge", Gauge(time.time(), 5.0), time.monotonic())
    agent, console = provider(tmp_path, store), provider(tmp_path, store)
    try:
        first = await agent.poll()
        assert [(a.name, a.state) for a in first.alerts] == [("GaugeHigh", FIRING)]
        assert first.notifier == "no notification channels configured"
        shown = await console.poll()
        assert [(a.name, a.state) for a in shown.alerts] == [("GaugeHigh", FIRING)]
        assert shown.notifier.startswith("notifications sent by another stacktop (pid ")

        # The operator silences it from the console: the agent sees the silence.
        alert = shown.alerts[0]
        target = specs.target_for_alert(specs.SILENCE.id, alert)
        assert not isinstance(target, str)
        target = type(target)(**{**target.__dict__, "params": {"scope": "exact", "silence": "1h disk swap"}})
        result = await console.action_callable(specs.SILENCE.id)(target)
        assert result.ok, result.message
        seen_by_agent = await agent.poll()
        assert seen_by_agent.alerts[0].silenced_by and seen_by_agent.silences[0].created_by == "ana"
    finally:
        await agent.close()
    taken_over = await console.poll()
    assert taken_over.notifier == "no notification channels configured"
    await console.close()


async def test_a_passive_stacktop_never_takes_the_lease(tmp_path: Path) -> None:
    store = Store()
    store.put("gauge", Gauge(time.time(), 5.0), time.monotonic())
    watch = provider(tmp_path, store, passive=True)
    shown = await watch.poll()
    assert shown.alerts[0].state == FIRING
    assert shown.notifier == "read-only: this console sends no notifications"
    refused = await watch.action_callable(specs.ACKNOWLEDGE.id)(
        specs.target_for_alert(specs.ACKNOWLEDGE.id, shown.alerts[0]))  # type: ignore[arg-type]
    assert not refused.ok
    await watch.close()
    # It wrote no alert history: a later sender starts from nothing.
    sender = provider(tmp_path, store)
    assert [t.to_state for t in (await sender.poll()).transitions] == [FIRING]
    await sender.close()

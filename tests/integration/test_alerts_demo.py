"""The demo's Alerts tab has something to show: the default rules fire on the demo's
services (payments is down) and the notification reaches the demo's receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from config import load_settings
from providers.alerts.model import FIRING, AlertsSnapshot
from providers.http_checks import HttpChecksSnapshot
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.store import Store
from tui.cli import DEMO_CONFIG
from tui.demo.alerts_demo import CHANNEL, AlertsDemoBackend


@pytest.fixture
def backend() -> Iterator[AlertsDemoBackend]:
    demo = AlertsDemoBackend()
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


async def test_default_rules_fire_on_the_demo_and_notify_its_receiver(backend: AlertsDemoBackend) -> None:
    settings = backend.configure(load_settings(str(DEMO_CONFIG), None))
    assert [c.name for c in settings.providers.http.checks] == ["shop", "api", "payments"]
    runtime = Runtime(build_providers(settings, alerting=True), Store())
    sent: asyncio.Future[AlertsSnapshot] = asyncio.get_running_loop().create_future()

    def on_poll(name: str) -> None:
        stored = runtime.store.latest("alerts")
        if name != "alerts" or stored is None or sent.done():
            return
        snapshot = stored.snapshot
        assert isinstance(snapshot, AlertsSnapshot)
        if any(r.ok and r.channel == CHANNEL for r in snapshot.notifications):
            sent.set_result(snapshot)

    runtime.subscribe(on_poll)
    runtime.start()
    try:
        snapshot = await asyncio.wait_for(sent, 60)
    finally:
        await runtime.stop()
    firing = [(a.name, a.label("check")) for a in snapshot.alerts if a.state == FIRING]
    assert ("HttpCheckFailing", "payments") in firing
    assert snapshot.notifier.startswith("1 channel")
    received = backend.received()
    assert received and received[0]["status"] == "firing"
    assert received[0]["commonLabels"]["alertname"] == "HttpCheckFailing"
    http = runtime.store.latest("http")
    assert http is not None and isinstance(http.snapshot, HttpChecksSnapshot)
    payments = next(c for c in http.snapshot.checks if c.name == "payments")
    assert payments.error.startswith("HTTP 503")

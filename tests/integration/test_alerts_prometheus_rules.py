"""A Prometheus query feeds one of stacktop's rules, end to end: the configured
query is polled from a real Prometheus scraping a real node exporter, becomes the
samples prometheus.<name>{labels}, and the rule engine fires on them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from config import load_settings
from providers.alerts.model import FIRING, AlertsSnapshot
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.store import Store
from tests.support.prometheus import PromStack, prom_stack, wait_for  # noqa: F401 (fixture)


async def test_a_prometheus_query_fires_a_stacktop_rule(prom_stack: PromStack, tmp_path: Path) -> None:  # noqa: F811
    await wait_for(lambda: prom_stack.series_exist('node_load1{job="node"}'), 30, "node exporter scraped")
    config = tmp_path / "stacktop.yaml"
    config.write_text(f"""
log: {{file: {tmp_path / "stacktop.log"}}}
providers:
  host: {{enabled: false}}
  prometheus:
    url: {prom_stack.prometheus_url}
    interval: 1s
    queries:
      - name: node_up
        query: up{{job="node"}}
alerts:
  evaluation_interval: 1s
  state_file: {tmp_path / "alerts.db"}
  notification_log: {tmp_path / "notifications.jsonl"}
  default_rules: false
  rules:
    - name: NodeScraped
      expr: prometheus.node_up{{job="node"}} == 1
      severity: info
      annotations: {{summary: "{{{{ $labels.instance }}}} is up"}}
""")
    settings = load_settings(str(config), None)
    runtime = Runtime(build_providers(settings, alerting=True), Store())
    fired: asyncio.Future[AlertsSnapshot] = asyncio.get_running_loop().create_future()

    def on_poll(name: str) -> None:
        stored = runtime.store.latest("alerts")
        if name == "alerts" and stored is not None and not fired.done():
            snapshot = stored.snapshot
            assert isinstance(snapshot, AlertsSnapshot)
            if any(a.state == FIRING for a in snapshot.alerts):
                fired.set_result(snapshot)

    runtime.subscribe(on_poll)
    runtime.start()
    try:
        snapshot = await asyncio.wait_for(fired, 30)
    finally:
        await runtime.stop()
    (alert,) = snapshot.alerts
    assert alert.name == "NodeScraped" and alert.value == 1.0
    instance = alert.label("instance")
    assert instance.startswith("127.0.0.1:") and alert.summary == f"{instance} is up"
    assert alert.label("job") == "node"

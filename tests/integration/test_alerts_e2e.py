"""Alerting end to end, through the same code the console and `stacktop agent` run:
a configuration file, the real HTTP checks provider polling a local service, the
rule engine in the `alerts` provider, the notifier and a local webhook receiver.

The service and the receiver are one local aiohttp server (tests/support/receivers):
/svc is the health endpoint, /hook and /slack the notification channels.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from config import load_settings
from providers.alerts.model import FIRING, RESOLVED, AlertsSnapshot
from providers.alerts.state import AlertStore
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.store import Store
from tests.support.receivers import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, receiver: WebhookReceiver, keep_firing_for: str = "0s") -> Path:
    state = tmp_path / "state"
    path = tmp_path / "stacktop.yaml"
    path.write_text(f"""
profiles:
  default:
    log: {{file: {tmp_path / "stacktop.log"}}}
    providers:
      host: {{enabled: false}}
      http:
        checks:
          - name: svc
            url: {receiver.url("/svc")}
            interval: 1s
            timeout: 1s
    alerts:
      evaluation_interval: 1s
      state_file: {state / "alerts.db"}
      notification_log: {state / "notifications.jsonl"}
      default_rules: false
      rules:
        - name: SvcDown
          expr: http.svc.consecutive_failures >= 2
          keep_firing_for: {keep_firing_for}
          severity: critical
          annotations:
            summary: "svc failed {{{{ $value }}}} checks in a row"
      channels:
        - name: hook
          webhook: {{url: "{receiver.url("/hook")}"}}
        - name: team-slack
          slack: {{url: "{receiver.url("/slack")}"}}
      routes:
        - channels: [hook, team-slack]
          group_wait: 0s
          group_interval: 1s
""")
    return path


async def test_a_failing_health_check_fires_notifies_and_resolves(tmp_path: Path) -> None:
    async with WebhookReceiver() as receiver:
        receiver.respond("/svc", then=500)
        settings = load_settings(str(write_config(tmp_path, receiver)), None)
        runtime = Runtime(build_providers(settings, alerting=True), Store())
        runtime.start()
        try:
            firing = (await receiver.wait_for(1, "/hook", timeout=30))[0].json
            assert firing["status"] == "firing"
            alert = firing["alerts"][0]
            assert alert["labels"]["alertname"] == "SvcDown"
            assert alert["labels"]["check"] == "svc"
            assert alert["annotations"]["summary"].startswith("svc failed ")
            slack = (await receiver.wait_for(1, "/slack", timeout=10))[0].json
            assert "SvcDown" in json.dumps(slack)

            receiver.respond("/svc", then=200)  # the service recovers
            resolved = (await receiver.wait_for(2, "/hook", timeout=30))[1].json
            assert resolved["status"] == "resolved"
            assert resolved["alerts"][0]["labels"]["alertname"] == "SvcDown"
        finally:
            await runtime.stop()
    snapshot = runtime.store.latest("alerts")
    assert snapshot is not None and isinstance(snapshot.snapshot, AlertsSnapshot)
    log_file = tmp_path / "state" / "notifications.jsonl"
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    sent = sorted((r["channel"], r["status"]) for r in records if r["ok"])
    assert sent == [("hook", "firing"), ("hook", "resolved"),
                    ("team-slack", "firing"), ("team-slack", "resolved")]


async def _agent(config: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "agent", "--config", str(config), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _line(process: asyncio.subprocess.Process, needle: str, seen: list[str],
                timeout: float = 30) -> str:
    """Read the agent's stderr until a line holds `needle`."""
    assert process.stderr is not None

    async def read() -> str:
        while True:
            raw = await process.stderr.readline()  # type: ignore[union-attr]
            if not raw:
                raise AssertionError(f"agent exited before logging {needle!r}:\n" + "".join(seen))
            seen.append(raw.decode())
            if needle in seen[-1]:
                return seen[-1]

    return await asyncio.wait_for(read(), timeout)


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 30)


async def test_the_agent_runs_headless_and_a_restart_neither_renotifies_nor_forgets(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    async with WebhookReceiver() as receiver:
        receiver.respond("/svc", then=500)
        # A restarted agent counts failures from zero: keep_firing_for carries the alert over.
        config = write_config(tmp_path, receiver, keep_firing_for="5s")
        seen: list[str] = []
        agent = await _agent(config, env)
        try:
            await _line(agent, "stacktop agent started", seen)
            await _line(agent, "alert SvcDown inactive -> firing", seen)
            await receiver.wait_for(1, "/hook", timeout=30)
        finally:
            code = await _stop(agent)
        assert code == 0, "".join(seen)
        assert "Traceback" not in "".join(seen)
        store = AlertStore(str(tmp_path / "state" / "alerts.db"))
        (row,) = store.load_alerts().values()
        store.close()
        assert row.state == FIRING
        first_firing_since = row.firing_since

        # Restart while the service is still down: the alert is still the same firing one.
        seen2: list[str] = []
        agent = await _agent(config, env)
        try:
            await _line(agent, "stacktop agent started", seen2)
            checks_before = len(receiver.to("/svc"))
            await receiver.wait_for(checks_before + 3, "/svc", timeout=30)  # three more checks
            await receiver.wait_for(1, "/hook")
            assert len(receiver.to("/hook")) == 1, "the restart sent the firing message again"
            receiver.respond("/svc", then=200)
            await _line(agent, "alert SvcDown firing -> resolved", seen2)
            resolved = (await receiver.wait_for(2, "/hook", timeout=30))[1].json
            assert resolved["status"] == "resolved"
        finally:
            code = await _stop(agent)
        assert code == 0, "".join(seen2)
    assert not any("inactive -> firing" in line for line in seen2), "".join(seen2)
    store = AlertStore(str(tmp_path / "state" / "alerts.db"))
    history = store.transitions()
    (row,) = store.load_alerts().values()
    store.close()
    assert row.state == RESOLVED and row.firing_since == first_firing_since
    changes = [(t.from_state, t.to_state) for t in reversed(history)]
    assert changes == [("inactive", FIRING), (FIRING, RESOLVED)]


async def test_the_agent_says_what_to_fix_when_a_profile_has_no_rules(tmp_path: Path) -> None:
    config = tmp_path / "none.yaml"
    config.write_text(f"log: {{file: {tmp_path / 'x.log'}}}\nalerts: {{default_rules: false}}\n")
    agent = await _agent(config, dict(os.environ))
    _, err = await asyncio.wait_for(agent.communicate(), 30)
    assert agent.returncode == 2
    assert err.decode().strip() == ("stacktop: no alert rules in this profile: add alerts.rules or keep "
                                    "alerts.default_rules on")


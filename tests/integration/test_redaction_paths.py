"""One set of secrets fed through every way stacktop speaks, and looked for afterwards:
the JSON log, `stacktop snapshot --format json`, the audit trail, notification payloads
(Slack, Discord, Alertmanager webhook, email) and the screen. None may appear; where a
secret was, `***` (or AKIA…WXYZ for an access key id) shows instead.

Everything is real: a config file loaded by the loader, a local aiohttp service and
webhook receiver, an SMTP server, the CLI as a subprocess, the gate writing the audit
file, the console driven by Pilot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from config.model import ChannelSettings, RouteSettings, Settings
from providers.actions import ActionGate
from providers.alerts.model import FIRING, Alert, fingerprint
from providers.alerts.notify import Notifier
from providers.alerts.notify_log import NotificationLog
from providers.audit.log import AuditLog
from providers.audit.verify import verify
from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider, Risk, Snapshot
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.store import Store
from tests.support.apps import FIXED_NOW, RecordedHostProvider, recorded_aws_snapshot
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver
from tui.app import StacktopApp
from tui.logs import setup_logging
from widgets.detail_pane import DetailPane
from widgets.resource_table import ResourceTable
from widgets.status_line import StatusLine

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")]

ROOT = Path(__file__).resolve().parents[2]

# -- the secrets -------------------------------------------------------------------------------------

API_KEY = "hdr-Secret-7Q2w9E"
"""A config secret: an HTTP check's header value, from the environment."""
HOOK_TOKEN = "hook-Tok-4R5t6Y"
"""A config secret: a webhook channel's header value."""
URL_PASSWORD = "Url-Pw-3x9K"
QUERY_TOKEN = "qTok-8h7g6f"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BEARER = "bearer-Tok-8d7f6e5c4b"
SLACK_PATH = "T0AB12CD3/B0EF45GH6/aBcDeFgHiJkLmNoPqRsTuVwX"
SLACK_HOOK = f"https://hooks.slack.com/services/{SLACK_PATH}"
DB_PASSWORD = "Pg-Pass-5r4e3w"
GITHUB_TOKEN = "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"

SECRETS = (API_KEY, HOOK_TOKEN, URL_PASSWORD, QUERY_TOKEN, AWS_KEY_ID, AWS_SECRET_KEY, BEARER,
           SLACK_PATH, DB_PASSWORD, GITHUB_TOKEN)
ENV = {"STACKTOP_TEST_API_KEY": API_KEY, "STACKTOP_TEST_HOOK_TOKEN": HOOK_TOKEN,
       "STACKTOP_TEST_URL_PW": URL_PASSWORD, "STACKTOP_TEST_QUERY_TOKEN": QUERY_TOKEN}

LEAKY_TEXT = (f"connect postgres://app:{DB_PASSWORD}@orders-db:5432/orders failed; "
              f"key {AWS_KEY_ID} secret {AWS_SECRET_KEY}; Authorization: Bearer {BEARER}; "
              f"header {API_KEY}; hook {SLACK_HOOK}; password={DB_PASSWORD}")
"""One text holding every kind: config secrets and credential shapes."""


def assert_clean(text: str, where: str) -> None:
    """No secret, not even the tail of one, in `text`."""
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}"
        if len(secret) > 12:
            assert secret[-10:] not in text, f"the tail of {secret!r} leaked into {where}"


def write_config(tmp_path: Path, service: WebhookReceiver | None = None, *, alerts: str = "") -> Path:
    checks = ""
    if service is not None:
        checks = f"""
      http:
        checks:
          - name: api
            url: "http://127.0.0.1:{service.port}/ok?token=${{STACKTOP_TEST_QUERY_TOKEN}}"
            headers: {{X-Api-Key: "${{STACKTOP_TEST_API_KEY}}", Authorization: "Bearer {BEARER}"}}
            interval: 1s
            timeout: 2s
          - name: login
            url: "{service.url("/moved")}"
            expect_status: [200]
            headers: {{X-Api-Key: "${{STACKTOP_TEST_API_KEY}}"}}
            interval: 1s
            timeout: 2s"""
    else:
        checks = """
      http:
        checks:
          - name: api
            url: "http://127.0.0.1:9/ok"
            headers: {X-Api-Key: "${STACKTOP_TEST_API_KEY}"}"""
    path = tmp_path / "stacktop.yaml"
    path.write_text(f"""
profiles:
  default:
    log: {{file: "{tmp_path / "stacktop.log"}", level: debug}}
    audit: {{file: "{tmp_path / "audit.jsonl"}"}}
    providers:
      host: {{enabled: false}}{checks}
    alerts:
      state_file: "{tmp_path / "state" / "alerts.db"}"
      notification_log: "{tmp_path / "state" / "notifications.jsonl"}"
      default_rules: false{alerts}
""")
    os.chmod(path, 0o600)
    return path


def load(path: Path, tmp_path: Path) -> Settings:
    return load_settings(str(path), env={"HOME": str(tmp_path), **ENV})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    loaded = load(write_config(tmp_path), tmp_path)
    assert API_KEY in loaded.secrets
    return loaded


# -- (a) the JSON log ---------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, last_resort = list(root.handlers), root.level, logging.lastResort
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    logging.lastResort = last_resort


def test_the_json_log_never_holds_a_secret(tmp_path: Path, settings: Settings, restore_logging: None) -> None:
    path = tmp_path / "logs" / "stacktop.log"
    setup_logging(str(path), "debug", settings.redact)
    log = logging.getLogger("providers.test")
    log.warning("poll failed: %s", LEAKY_TEXT)
    log.info("dsn %s", f"mysql://root:{DB_PASSWORD}@10.0.0.5:3306/shop")
    try:
        raise ConnectionError(f"refused with token {GITHUB_TOKEN} and key {AWS_SECRET_KEY}")
    except ConnectionError:
        log.exception("request failed")
    text = path.read_text()
    assert_clean(text, "the log")
    entries = [json.loads(line) for line in text.splitlines()]  # still one JSON object per line
    first = entries[0]["msg"]
    assert "postgres://app:***@orders-db:5432/orders" in first
    assert "key AKIA…MPLE secret ***" in first and "Bearer ***" in first
    assert "header ***" in first and "https://hooks.slack.com/services/***" in first
    assert entries[1]["msg"] == "dsn mysql://root:***@10.0.0.5:3306/shop"
    assert "ConnectionError: refused with token *** and key ***" in entries[2]["exc"]


# -- (b) stacktop snapshot --format json -------------------------------------------------------------


async def test_snapshot_json_never_holds_a_secret(tmp_path: Path) -> None:
    async with WebhookReceiver() as service:
        # The loader refuses credentials in a check's URL; a password comes back in a redirect,
        # to a URL quoting the API key too.
        service.respond("/moved", then=Reply(302, headers=(
            ("Location", f"http://admin:{URL_PASSWORD}@127.0.0.1:{service.port}/login/{API_KEY}"
                         f"?api_key={API_KEY}&next=%2F"),)))
        config = write_config(tmp_path, service)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui.cli", "snapshot", "--config", str(config), "--format", "json",
            cwd=ROOT, env={**os.environ, "HOME": str(tmp_path), **ENV},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        # The checks really sent the secrets where they belong.
        [ok] = service.to("/ok")
        assert ok.headers["X-Api-Key"] == API_KEY
        assert ok.headers["Authorization"] == f"Bearer {BEARER}"
        assert service.to("/moved")[0].headers["X-Api-Key"] == API_KEY
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == 0, stderr
    assert_clean(stdout, "the snapshot")
    assert_clean(stderr, "stderr")
    assert_clean((tmp_path / "stacktop.log").read_text(), "the snapshot's log")
    checks = {c["name"]: c for c in json.loads(stdout)["providers"]["http"]["data"]["checks"]}
    assert checks["api"]["url"] == f"http://127.0.0.1:{service.port}/ok?token=***"
    assert checks["api"]["state"] == "up"
    login = checks["login"]
    assert login["state"] == "down"
    assert login["error"].startswith(f"HTTP 302 to http://admin:***@127.0.0.1:{service.port}/login/***")


# -- (c) an audit record ------------------------------------------------------------------------------

ROTATE = ActionSpec("vault.rotate", "R", "Rotate", "Rotate the credential", Risk.SAFE, "vault")
BREAK = ActionSpec("vault.break", "B", "Break", "Break the credential", Risk.SAFE, "vault")


class Vault(Provider):
    """A test double for an action (the path under test is the gate and the audit file): its
    result message and its exception quote the secrets they were given."""

    def __init__(self) -> None:
        super().__init__("vault", 60.0, 5.0)
        self.seen: list[ActionTarget] = []

    async def poll(self) -> Snapshot:
        return Snapshot(time.time())  # never polled here: only its actions are run

    def actions(self) -> list[ActionSpec]:
        return [ROTATE, BREAK]

    def action_callable(self, action_id: str) -> ActionCallable:
        async def rotate(target: ActionTarget) -> ActionResult:
            self.seen.append(target)
            return ActionResult(True, f"rotated {target.name}: new {LEAKY_TEXT}")

        async def broken(target: ActionTarget) -> ActionResult:
            self.seen.append(target)
            raise RuntimeError(f"vault said 403 for Bearer {BEARER} on {target.params['dsn']}")

        return {"vault.rotate": rotate, "vault.break": broken}[action_id]


async def test_audit_records_never_hold_a_secret(tmp_path: Path, settings: Settings) -> None:
    vault = Vault()
    gate = ActionGate({"vault": vault}, AuditLog(settings.audit.file, settings.redact), read_only=False,
                      role="operator", user="tester", refresh=lambda name: None, redact=settings.redact)
    target = ActionTarget("credential", "cred-1", "orders-db", params={
        "token": GITHUB_TOKEN, "dsn": f"postgres://app:{DB_PASSWORD}@orders-db/orders",
        "header": API_KEY, "aws": AWS_SECRET_KEY})

    async def yes(request):  # type: ignore[no-untyped-def]
        return True

    async def no(request):  # type: ignore[no-untyped-def]
        return False

    done = await gate.execute(ROTATE, target, yes)
    failed = await gate.execute(BREAK, target, yes)
    cancelled = await gate.execute(ROTATE, target, no)
    assert [t.params["token"] for t in vault.seen] == [GITHUB_TOKEN, GITHUB_TOKEN]  # the action got them
    assert_clean(done.message + failed.message + cancelled.message, "what the gate shows")
    text = Path(settings.audit.file).read_text()
    assert_clean(text, "the audit trail")
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["result"] for r in records] == ["ok", "failed", "cancelled"]
    assert records[0]["params"] == {"token": "***", "dsn": "postgres://app:***@orders-db/orders",
                                    "header": "***", "aws": "***"}
    assert "Bearer ***" in records[0]["message"] and "AKIA…MPLE" in records[0]["message"]
    assert "vault said 403 for Bearer *** on postgres://app:***@orders-db/orders" in records[1]["message"]
    assert verify(settings.audit.file).ok  # the chain covers what was written: redacted


# -- (d) notification payloads ------------------------------------------------------------------------

ANNOTATION = (f"runbook {SLACK_HOOK}; password={DB_PASSWORD}; "
              f"dsn postgres://app:{DB_PASSWORD}@orders-db/orders; hook token {HOOK_TOKEN}")


async def test_an_alert_fired_end_to_end_notifies_without_its_secrets(tmp_path: Path) -> None:
    """A failing health check fires a rule whose annotations quote secrets; the webhook and
    Slack receivers get the alert, but not the secrets; nor does the notification log."""
    async with WebhookReceiver() as receiver:
        receiver.respond("/ok", then=500)
        receiver.respond("/moved", then=500)
        alerts = f"""
      evaluation_interval: 1s
      rules:
        - name: ApiDown
          expr: http.api.consecutive_failures >= 1
          severity: critical
          annotations:
            summary: "api down: {ANNOTATION}"
            description: "{ANNOTATION}"
      channels:
        - name: hook
          webhook:
            url: "{receiver.url("/hook")}"
            headers: {{X-Hook-Token: "${{STACKTOP_TEST_HOOK_TOKEN}}"}}
        - name: team-slack
          slack: {{url: "{receiver.url("/slack")}"}}
      routes:
        - channels: [hook, team-slack]
          group_wait: 0s
          group_interval: 1s"""
        settings = load(write_config(tmp_path, receiver, alerts=alerts), tmp_path)
        runtime = Runtime(build_providers(settings, alerting=True), Store(), redact=settings.redact)
        runtime.start()
        try:
            [hook] = await receiver.wait_for(1, "/hook", timeout=30)
            [slack] = await receiver.wait_for(1, "/slack", timeout=30)
        finally:
            await runtime.stop()
    assert hook.headers["X-Hook-Token"] == HOOK_TOKEN  # the channel's own secret went as a header
    for request, where in ((hook, "the webhook payload"), (slack, "the Slack payload")):
        body = request.body.decode()
        assert_clean(body, where)
        assert "ApiDown" in body
        assert "https://hooks.slack.com/services/***" in body and "password=***" in body
        assert "postgres://app:***@orders-db/orders" in body and "hook token ***" in body
    annotations = hook.json["alerts"][0]["annotations"]
    assert annotations["description"] == (
        "runbook https://hooks.slack.com/services/***; password=***; "
        "dsn postgres://app:***@orders-db/orders; hook token ***")
    assert_clean((tmp_path / "state" / "notifications.jsonl").read_text(), "the notification log")


def leaky_alert() -> Alert:
    labels = tuple(sorted({"alertname": "DbDown", "severity": "critical", "instance": "orders-db",
                           "dsn": f"postgres://app:{DB_PASSWORD}@orders-db/orders"}.items()))
    return Alert(fingerprint(labels), "DbDown", FIRING, "critical", labels,
                 (("summary", f"orders-db down (header {API_KEY})"), ("description", LEAKY_TEXT)),
                 value=1.0, active_since=FIXED_NOW - 300, firing_since=FIXED_NOW - 60,
                 generator_url=f"https://grafana.example/d/x?api_key={API_KEY}")


async def test_every_channel_kind_sends_redacted_payloads(tmp_path: Path, settings: Settings) -> None:
    """Slack, Discord, webhook JSON and email (subject and both bodies), with the profile's
    redaction: config secrets from anywhere in the profile are masked, not only the channels'."""
    async with WebhookReceiver() as hooks, SmtpReceiver(tmp_path / "smtp") as smtp:
        channels = [
            ChannelSettings(name="slack", kind="slack", url=hooks.url("/slack")),
            ChannelSettings(name="discord", kind="discord", url=hooks.url("/discord")),
            ChannelSettings(name="hook", kind="webhook", url=hooks.url("/hook")),
            ChannelSettings(name="mail", kind="email", host=smtp.host, port=smtp.port,
                            username=smtp.username, password=smtp.password,
                            sender="stacktop@example.com", recipients=("ops@example.com",), timeout=5.0),
        ]
        log = NotificationLog(tmp_path / "notify.jsonl")
        notifier = Notifier(channels, [RouteSettings(channels=tuple(c.name for c in channels), group_wait=0.0,
                                                     group_by=("alertname", "dsn"))],
                            log, clock=lambda: FIXED_NOW, tls_context=smtp.client_context(),
                            redact=settings.redact)
        notifier.process([leaky_alert()])
        await notifier.drain()
        await notifier.close()
        bodies = {path: hooks.to(path)[0].body.decode() for path in ("/slack", "/discord", "/hook")}
        [mail] = smtp.received
    for path, body in bodies.items():
        assert_clean(body, f"the {path[1:]} payload")
        assert "postgres://app:***@orders-db/orders" in body, path
    assert "header ***" in bodies["/hook"] and "api_key=***" in bodies["/hook"]
    subject = str(mail.message["Subject"])
    plain = mail.message.get_body(("plain",)).get_content()
    rich = html.unescape(mail.message.get_body(("html",)).get_content())
    for part, where in ((subject, "the email subject"), (plain, "the email text"), (rich, "the email HTML")):
        assert_clean(part, where)
    assert "DbDown" in subject and "header ***" in plain and "Bearer ***" in rich
    assert [r.ok for r in log.recent()] == [True] * 4
    assert_clean((tmp_path / "notify.jsonl").read_text(), "the notification log")


# -- (e) the screen -----------------------------------------------------------------------------------


class LeakyEc2(Provider):
    """aws.ec2 replaying the recorded fleet, with web-1 named by an access key id and tagged
    and stopped with secrets (people do put them in tags)."""

    def __init__(self) -> None:
        super().__init__("aws.ec2", interval=60.0, timeout=5.0)
        self.polls = 0

    async def poll(self) -> AwsSnapshot:
        snap = recorded_aws_snapshot("ec2", self.polls)
        self.polls += 1
        first, *rest = snap.items
        leaky = dataclasses.replace(
            first, name=AWS_KEY_ID, state_reason=f"Authorization: Bearer {BEARER}",
            tags=(("Name", AWS_KEY_ID), ("db", f"postgres://app:{DB_PASSWORD}@orders-db/orders"),
                  ("api", API_KEY), ("deploy", GITHUB_TOKEN)))
        return dataclasses.replace(snap, items=(leaky, *rest))


class FailingRds(Provider):
    """aws.rds whose every poll fails with an error quoting a DSN and a secret key."""

    def __init__(self) -> None:
        super().__init__("aws.rds", interval=60.0, timeout=5.0)

    async def poll(self) -> AwsSnapshot:
        raise ConnectionError(f"postgres://rds:{URL_PASSWORD}@db refused {AWS_SECRET_KEY}")


def screen_text(app: StacktopApp) -> str:
    """What the terminal shows, as plain text (the SVG screenshot without its markup)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]*>", "", svg)).replace("\xa0", " ")


async def test_the_screen_never_shows_a_secret(tmp_path: Path, settings: Settings) -> None:
    runtime = Runtime([RecordedHostProvider(), LeakyEc2(), FailingRds()], Store(120), max_concurrency=2,
                      redact=settings.redact)
    gate = ActionGate(runtime.providers, AuditLog(tmp_path / "audit.jsonl", settings.redact),
                      read_only=False, role="operator", user="tester", refresh=runtime.refresh,
                      redact=settings.redact)
    app = StacktopApp(runtime, gate, profile="test", read_only=False, clock=lambda: FIXED_NOW,
                      start_runtime=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for name in list(runtime.providers):
            await runtime.poll_provider(name)
        await pilot.pause()
        await pilot.press("e")  # the EC2 view
        await pilot.press("slash", *"AKIA", "enter")  # the filter sees the masked name
        await pilot.pause()
        table = app.query_one("#ec2-table", ResourceTable)
        assert table.row_count == 1
        key = table.visible_keys()[0]
        assert "AKIA…MPLE" in (table.row_cells(key) or ())
        pane = app.query_one("#ec2-detail", DetailPane)
        for _ in range(50):
            if pane.title.startswith("AKIA"):
                break
            await pilot.pause()
        shown = screen_text(app)
        status = str(app.query_one(StatusLine).render())
    assert_clean(shown, "the screen")
    assert_clean(pane.title + repr(pane.fields) + status, "the widgets")
    assert "AKIA…MPLE" in shown  # the table cell and the detail title
    fields = dict(pane.fields)
    assert fields["Tags"] == "db=postgres://app:***@orders-db/orders · api=*** · deploy=***"
    assert fields["Reason"] == "Authorization: Bearer ***"
    assert "db=postgres://app:***@orders-db/orders" in shown
    assert "Authorization: Bearer ***" in shown
    assert "postgres://rds:***@db refused ***" in status

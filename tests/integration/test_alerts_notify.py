"""Notifications against real local receivers (an aiohttp webhook server, aiosmtpd with STARTTLS
and AUTH): payloads, grouping, dedup, repeat and resolved timing on an injected clock, retries
on an injected sleep, and a failing channel that delays nobody."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from config.model import ChannelSettings, RouteSettings
from providers.alerts.model import FIRING, PENDING, RESOLVED, Alert, fingerprint
from providers.alerts.notify import Notifier
from providers.alerts.notify_log import NotificationLog
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver

pytestmark = [pytest.mark.integration,
              # aiosmtpd sets its own deprecated attribute when AUTH succeeds.
              pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")]

T0 = 1_700_000_000.0
SLACK = "/services/T0000/B0000/SlackToken0123456789"
DISCORD = "/api/webhooks/1234/DiscordToken-abcdef"
HOOK = "/alertmanager-receiver"
GOOD, BAD = "/good", "/bad"
KEY = "route0:{alertname=HostCpuHigh}"


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


class Sleeper:
    """The notifier's sleep: records each wait and, while `gate` is clear, blocks on it."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.entered.set()
        await self.gate.wait()


@dataclass
class Rig:
    n: Notifier
    clock: Clock
    sleeper: Sleeper
    log_path: Path
    state_path: Path

    def process(self, *alerts: Alert, advance: float = 0.0) -> None:
        self.clock.advance(advance)
        self.n.process(alerts)

    async def step(self, *alerts: Alert, advance: float = 0.0) -> None:
        """process() then let every message it started finish."""
        self.process(*alerts, advance=advance)
        await self.n.drain()


def route(*channels: str, **kw: object) -> RouteSettings:
    kw = {"group_wait": 0.0, "group_interval": 300.0, "repeat_interval": 3600.0, **kw}
    return RouteSettings(channels=channels, **kw)  # type: ignore[arg-type]


def hook(name: str, url: str, kind: str = "webhook", **kw: object) -> ChannelSettings:
    return ChannelSettings(name=name, kind=kind, url=url, **{"attempts": 4, "backoff": 2.0, **kw})  # type: ignore[arg-type]


def alert(name: str = "HostCpuHigh", state: str = FIRING, severity: str = "critical", *,
          summary: str = "", **labels: str) -> Alert:
    pairs = tuple(sorted({"alertname": name, "severity": severity, **labels}.items()))
    return Alert(fingerprint(pairs), name, state, severity, pairs,
                 (("summary", summary or f"{name} on {labels.get('instance', '?')}"),),
                 value=93.5, active_since=T0 - 300, firing_since=T0 - 60)


def resolved(a: Alert, at: float) -> Alert:
    return replace(a, state=RESOLVED, resolved_at=at)


@pytest.fixture
async def hooks() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Callable[..., Rig]]:
    """Makes notifiers sharing one log and one state file under tmp_path (a second one is a
    restart); closes them all after the test."""
    made: list[Notifier] = []

    def make(channels: list[ChannelSettings], routes: list[RouteSettings] | None = None, *,
             clock: Clock | None = None, **kw: object) -> Rig:
        clock = clock or Clock()
        sleeper = Sleeper()
        log_path, state_path = tmp_path / "state" / "notify.jsonl", tmp_path / "state" / "notify-state.json"
        routes = routes if routes is not None else [route(*(c.name for c in channels))]
        n = Notifier(channels, routes, NotificationLog(log_path), state_path=state_path, clock=clock,
                     sleep=sleeper, **kw)  # type: ignore[arg-type]
        made.append(n)
        return Rig(n, clock, sleeper, log_path, state_path)

    yield make
    for n in made:
        await n.close(timeout=1.0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- payloads reach real receivers -----------------------------------------------------------------


async def test_one_firing_group_reaches_slack_discord_and_webhook_receivers(hooks, rig) -> None:
    r = rig([hook("slack", hooks.url(SLACK), "slack"), hook("discord", hooks.url(DISCORD), "discord"),
             hook("am", hooks.url(HOOK), headers=(("Authorization", "Bearer hdr-token-42"),))],
            external_url="http://stacktop.example")
    a1 = alert(instance="web1", summary="CPU at 93% on web1")
    a2 = alert(instance="web2", summary="CPU at 91% on web2")
    await r.step(a1, a2, alert("Other", state=PENDING))

    [s] = hooks.to(SLACK)
    assert s.json["text"] == "[FIRING:2] HostCpuHigh (critical)"
    [attachment] = s.json["attachments"]
    assert attachment["color"] == "#d32f2f"
    assert "CPU at 93% on web1" in attachment["text"] and "CPU at 91% on web2" in attachment["text"]
    assert s.headers["Content-Type"].startswith("application/json")

    [d] = hooks.to(DISCORD)
    assert d.json["content"] == "[FIRING:2] HostCpuHigh (critical)\nhttp://stacktop.example"
    assert sorted(e["title"] for e in d.json["embeds"]) == ["CPU at 91% on web2", "CPU at 93% on web1"]

    [w] = hooks.to(HOOK)
    assert w.headers["Authorization"] == "Bearer hdr-token-42"
    body = w.json
    assert (body["version"], body["status"], body["receiver"], body["groupKey"]) == ("4", "firing", "am", KEY)
    assert body["groupLabels"] == {"alertname": "HostCpuHigh"}
    assert body["commonLabels"] == {"alertname": "HostCpuHigh", "severity": "critical"}
    assert body["externalURL"] == "http://stacktop.example"
    assert sorted(x["fingerprint"] for x in body["alerts"]) == sorted([a1.fingerprint, a2.fingerprint])
    assert {x["labels"]["instance"] for x in body["alerts"]} == {"web1", "web2"}
    assert all(x["status"] == "firing" and x["endsAt"] == "0001-01-01T00:00:00Z" for x in body["alerts"])
    assert len(hooks.requests) == 3  # the pending alert was not sent anywhere

    records = r.n.recent()
    assert sorted(x.channel for x in records) == ["am", "discord", "slack"]
    assert all(x.ok and x.detail == "HTTP 200" and x.attempts == 1 and x.group == KEY for x in records)
    assert all(set(x.fingerprints) == {a1.fingerprint, a2.fingerprint} for x in records)
    assert [x.channel for x in r.n.for_alert(a1.fingerprint)] == [x.channel for x in records]
    assert r.n.status() == "3 channels, 1 route; last send 0s ago ok"


async def test_email_over_starttls_with_auth(tmp_path, rig) -> None:
    async with SmtpReceiver(tmp_path / "smtp") as smtp:
        mail = ChannelSettings(name="mail", kind="email", host=smtp.host, port=smtp.port,
                               username=smtp.username, password=smtp.password, sender="stacktop@example.com",
                               recipients=("ops@example.com", "oncall@example.com"), timeout=5.0)
        r = rig([mail], tls_context=smtp.client_context())
        await r.step(alert(instance="web1", summary="CPU at 93% on web1"))

        [got] = smtp.received
        assert got.tls and got.login == "alerts"
        assert got.mail_from == "stacktop@example.com"
        assert got.rcpt_tos == ("ops@example.com", "oncall@example.com")
        assert got.message["Subject"] == "[FIRING:1] HostCpuHigh (critical)"
        text = got.message.get_body(("plain",)).get_content()
        assert "- CPU at 93% on web1" in text and "Value: 93.5" in text
        assert "CPU at 93% on web1" in got.message.get_body(("html",)).get_content()
        [rec] = r.n.recent()
        assert (rec.ok, rec.kind, rec.detail, rec.attempts) == (True, "email", "SMTP 250", 1)


async def test_email_wrong_password_is_final_and_never_logged(tmp_path, rig, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with SmtpReceiver(tmp_path / "smtp") as smtp:
        mail = ChannelSettings(name="mail", kind="email", host=smtp.host, port=smtp.port,
                               username=smtp.username, password="Wr0ng-Pa55word",
                               recipients=("a@example.com",))
        r = rig([mail], tls_context=smtp.client_context())
        await r.step(alert())
        [rec] = r.n.recent()
        assert not rec.ok and rec.attempts == 1 and r.sleeper.waits == []
        assert rec.detail == "SMTP 535: authentication failed (check username and password)"
        assert smtp.failed_logins >= 1 and smtp.received == []  # smtplib tries PLAIN, then LOGIN
        assert "Wr0ng-Pa55word" not in r.log_path.read_text() + caplog.text


async def test_email_refuses_an_untrusted_certificate(tmp_path, rig) -> None:
    async with SmtpReceiver(tmp_path / "smtp") as smtp:
        mail = ChannelSettings(name="mail", kind="email", host=smtp.host, port=smtp.port,
                               username=smtp.username, password=smtp.password, recipients=("a@example.com",))
        r = rig([mail])  # the system's CAs: the self-signed certificate is not trusted
        await r.step(alert())
        [rec] = r.n.recent()
        assert (rec.ok, rec.detail, rec.attempts) == (False, "TLS certificate not trusted", 1)
        assert smtp.received == []


# -- grouping, dedup, repeat, resolved -------------------------------------------------------------


async def test_repeated_process_calls_send_once(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a = alert(instance="web1")
    r.process(a)
    r.process(a)  # the first is still in flight: not sent twice
    await r.n.drain()
    for _ in range(10):
        await r.step(a, advance=59)
    assert len(hooks.to(HOOK)) == 1
    assert len(r.n.recent()) == 1


async def test_unchanged_group_is_repeated_after_repeat_interval(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a = alert(instance="web1")
    await r.step(a)
    await r.step(a, advance=3599)
    assert len(hooks.to(HOOK)) == 1
    await r.step(a, advance=1)
    assert len(hooks.to(HOOK)) == 2
    assert hooks.to(HOOK)[1].json == hooks.to(HOOK)[0].json
    await r.step(a, advance=3599)
    assert len(hooks.to(HOOK)) == 2


async def test_new_alert_in_a_sent_group_waits_for_group_interval(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a1, a2 = alert(instance="web1"), alert(instance="web2")
    await r.step(a1)
    await r.step(a1, a2, advance=100)
    assert len(hooks.to(HOOK)) == 1
    await r.step(a1, a2, advance=200)
    assert len(hooks.to(HOOK)) == 2
    assert len(hooks.to(HOOK)[1].json["alerts"]) == 2


async def test_resolved_message_is_sent_once_after_the_alert_resolves(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a = alert(instance="web1")
    await r.step(a)
    await r.step(resolved(a, T0 + 60), advance=60)
    assert len(hooks.to(HOOK)) == 1  # group_interval has not passed since the firing message
    await r.step(resolved(a, T0 + 60), advance=240)
    assert len(hooks.to(HOOK)) == 2
    body = hooks.to(HOOK)[1].json
    assert body["status"] == "resolved"
    [only] = body["alerts"]
    assert (only["status"], only["fingerprint"]) == ("resolved", a.fingerprint)
    assert only["endsAt"] == "2023-11-14T22:14:20.000Z"
    assert r.n.recent()[0].status == "resolved"
    # Reported once: the engine keeps listing it as resolved for a while, nothing more is sent.
    for _ in range(3):
        await r.step(resolved(a, T0 + 60), advance=3600)
    assert len(hooks.to(HOOK)) == 2


async def test_a_firing_alert_that_disappears_counts_as_resolved(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    await r.step(alert(instance="web1"))
    await r.step(advance=300)
    assert [x["status"] for x in hooks.to(HOOK)[1].json["alerts"]] == ["resolved"]


async def test_no_resolved_message_when_send_resolved_is_false_and_no_flapping(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))], [route("am", send_resolved=False)])
    a = alert(instance="web1")
    await r.step(a)
    for _ in range(3):
        await r.step(resolved(a, r.clock.t), advance=400)
    assert len(hooks.to(HOOK)) == 1
    # It fires again within repeat_interval: the channel was told it fires and never otherwise.
    await r.step(a, advance=400)
    assert len(hooks.to(HOOK)) == 1


async def test_resolve_then_fire_again_is_news(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a = alert(instance="web1")
    await r.step(a)
    await r.step(resolved(a, r.clock.t), advance=300)
    await r.step(a, advance=10)
    assert len(hooks.to(HOOK)) == 2  # group_interval since the resolved message has not passed
    await r.step(a, advance=290)
    assert [m.json["status"] for m in hooks.to(HOOK)] == ["firing", "resolved", "firing"]


async def test_group_wait_collects_two_alerts_into_one_message(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))], [route("am", group_wait=30.0)])
    a1, a2 = alert(instance="web1"), alert(instance="web2")
    await r.step(a1)
    await r.step(a1, a2, advance=10)
    await r.step(a1, a2, advance=19)
    assert hooks.requests == []
    await r.step(a1, a2, advance=1)
    [only] = hooks.to(HOOK)
    assert {x["labels"]["instance"] for x in only.json["alerts"]} == {"web1", "web2"}


async def test_groups_follow_group_by(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))], [route("am", group_by=("alertname", "instance"))])
    await r.step(alert(instance="web1"), alert(instance="web2"), alert("DiskFull", instance="web1"))
    keys = sorted(m.json["groupKey"] for m in hooks.to(HOOK))
    assert keys == ["route0:{alertname=DiskFull,instance=web1}",
                    "route0:{alertname=HostCpuHigh,instance=web1}",
                    "route0:{alertname=HostCpuHigh,instance=web2}"]


# -- routing ---------------------------------------------------------------------------------------


async def test_routes_in_order_with_continue_and_anchored_regexes(hooks, rig) -> None:
    chans = [hook(name, hooks.url(f"/{name}")) for name in ("pager", "web", "rest")]
    routes = [route("pager", match=(("severity", "critical"),), continue_=True),
              route("web", match_re=(("instance", "web.*"),)),
              route("rest")]
    r = rig(chans, routes)
    await r.step(alert(instance="web1"), alert("DiskFull", severity="warning", instance="db1"),
                 alert("LoadHigh", severity="warning", instance="xweb1"))
    assert [m.json["commonLabels"]["alertname"] for m in hooks.to("/pager")] == ["HostCpuHigh"]
    assert [m.json["commonLabels"]["alertname"] for m in hooks.to("/web")] == ["HostCpuHigh"]
    assert sorted(m.json["commonLabels"]["alertname"] for m in hooks.to("/rest")) == ["DiskFull", "LoadHigh"]
    assert r.n.unrouted == 0


async def test_an_alert_no_route_takes_is_not_sent_but_counted(hooks, rig) -> None:
    r = rig([hook("pager", hooks.url("/pager"))], [route("pager", match=(("severity", "critical"),))])
    await r.step(alert("DiskFull", severity="warning"))
    assert hooks.requests == []
    assert r.n.unrouted == 1
    assert r.n.status() == "1 channel, 1 route; 1 firing alert matches no route; nothing sent yet"


async def test_no_routes_means_every_channel(hooks, rig) -> None:
    r = rig([hook("a", hooks.url("/a")), hook("b", hooks.url("/b"))], [])
    await r.step(alert())
    assert hooks.requests == []  # the default group_wait: 30 s
    await r.step(alert(), advance=30)
    assert len(hooks.to("/a")) == 1 and len(hooks.to("/b")) == 1


# -- retries, and a failing channel delays nobody --------------------------------------------------


async def test_a_failing_channel_is_retried_with_backoff_and_delays_no_other(hooks, rig) -> None:
    hooks.respond(BAD, then=500)
    r = rig([hook("bad", hooks.url(BAD)), hook("good", hooks.url(GOOD))])
    r.sleeper.gate.clear()  # the bad channel's first backoff blocks until the test says so
    r.process(alert(instance="web1"))  # returns at once: sends are tasks

    await hooks.wait_for(1, GOOD)
    await asyncio.wait_for(r.sleeper.entered.wait(), 10)
    # The healthy receiver has its message while the failing channel sits in its first backoff.
    assert len(hooks.to(BAD)) == 1 and r.sleeper.waits == [2.0]

    r.sleeper.gate.set()
    await r.n.drain()
    assert len(hooks.to(BAD)) == 4
    assert r.sleeper.waits == [2.0, 4.0, 8.0]
    by_channel = {x.channel: x for x in r.n.recent()}
    assert (by_channel["good"].ok, by_channel["good"].attempts) == (True, 1)
    bad = by_channel["bad"]
    assert (bad.ok, bad.attempts, bad.detail) == (False, 4, "HTTP 500 after 4 attempts")
    assert len(hooks.to(GOOD)) == 1


async def test_a_channel_that_finally_failed_is_tried_again_after_group_interval(hooks, rig) -> None:
    hooks.respond(BAD, 500, 500)
    r = rig([hook("good", hooks.url(GOOD)), hook("bad", hooks.url(BAD), attempts=2)])
    a = alert()
    await r.step(a)
    assert [x.ok for x in r.n.recent() if x.channel == "bad"] == [False]
    await r.step(a, advance=299)
    assert len(hooks.to(BAD)) == 2
    await r.step(a, advance=1)
    assert len(hooks.to(BAD)) == 3 and len(hooks.to(GOOD)) == 1
    assert r.n.recent()[0].channel == "bad" and r.n.recent()[0].ok


async def test_429_retry_after_is_honoured(hooks, rig) -> None:
    hooks.respond(HOOK, Reply(429, headers=(("Retry-After", "7"),)))
    r = rig([hook("am", hooks.url(HOOK))])
    await r.step(alert())
    assert r.sleeper.waits == [7.0]
    [rec] = r.n.recent()
    assert (rec.ok, rec.attempts, rec.detail) == (True, 2, "HTTP 200")


async def test_429_with_a_long_retry_after_waits_for_the_next_interval(hooks, rig) -> None:
    hooks.respond(HOOK, Reply(429, headers=(("Retry-After", "120"),)))
    r = rig([hook("am", hooks.url(HOOK))])
    await r.step(alert())
    assert r.sleeper.waits == []
    [rec] = r.n.recent()
    assert (rec.ok, rec.attempts, rec.detail) == (False, 1, "HTTP 429 (retry after 120 s)")


async def test_404_is_not_retried(hooks, rig) -> None:
    hooks.respond(SLACK, then=Reply(404, body="no_service"))
    r = rig([hook("ops", hooks.url(SLACK), "slack")])
    await r.step(alert())
    assert len(hooks.to(SLACK)) == 1 and r.sleeper.waits == []
    [rec] = r.n.recent()
    assert (rec.ok, rec.attempts, rec.detail) == (False, 1, "HTTP 404 (no_service)")
    assert r.n.status() == "1 channel, 1 route; last send 0s ago failed (ops: HTTP 404 (no_service))"


async def test_timeouts_and_refused_connections_are_retried(hooks, rig) -> None:
    hooks.respond(HOOK, then=Reply(200, delay=2.0))
    r = rig([hook("slow", hooks.url(HOOK), timeout=0.2, attempts=2),
             hook("down", f"http://127.0.0.1:{closed_port()}/x", attempts=3, backoff=1.0)])
    await r.step(alert())
    by_channel = {x.channel: x for x in r.n.recent()}
    assert by_channel["slow"].detail == "timed out after 0.2 s (2 attempts)"
    assert by_channel["down"].detail == "connection refused after 3 attempts"
    assert sorted(r.sleeper.waits) == [1.0, 2.0, 2.0]


# -- secrets ---------------------------------------------------------------------------------------


async def test_secrets_never_reach_the_log_or_logging(hooks, rig, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    hooks.respond(SLACK, then=500)
    hooks.respond(HOOK, then=403)
    port = closed_port()
    r = rig([hook("slack", hooks.url(SLACK), "slack", attempts=2),
             hook("discord", f"http://127.0.0.1:{port}{DISCORD}", "discord", attempts=2),
             hook("am", hooks.url(HOOK), headers=(("Authorization", "Bearer hdr-SeCrEt-99"),))])
    await r.step(alert())
    await r.n.close()
    written = r.log_path.read_text() + (r.state_path.read_text() if r.state_path.exists() else "")
    assert len(r.n.recent()) == 3 and not any(x.ok for x in r.n.recent())
    secrets = ("SlackToken0123456789", "DiscordToken-abcdef", "hdr-SeCrEt-99", "/services/", "/api/webhooks")
    for secret in secrets:
        assert secret not in written
        assert secret not in caplog.text
    assert "notification to slack (slack) failed: HTTP 500 after 2 attempts" in caplog.text


# -- restarts, acknowledgements, silences ----------------------------------------------------------


async def test_a_restart_with_the_same_state_does_not_resend(hooks, rig) -> None:
    first = rig([hook("am", hooks.url(HOOK))])
    a = alert()
    await first.step(a)
    await first.n.close()
    assert oct(first.state_path.stat().st_mode & 0o777) == "0o600"
    saved = json.loads(first.state_path.read_text())
    assert saved["sent"][0]["group"] == KEY and saved["sent"][0]["firing"] == [a.fingerprint]

    again = rig([hook("am", hooks.url(HOOK))], clock=Clock(T0 + 600))
    for _ in range(3):
        await again.step(a, advance=60)
    assert len(hooks.to(HOOK)) == 1
    await again.step(a, advance=3600)  # the repeat is still due on the original schedule
    assert len(hooks.to(HOOK)) == 2


async def test_acknowledged_alerts_are_not_repeated_but_stay_listed(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a1 = alert(instance="web1")
    await r.step(a1)
    acked = replace(a1, acked_by="ana", ack_comment="on it")
    for _ in range(3):
        await r.step(acked, advance=3600)
    assert len(hooks.to(HOOK)) == 1
    a2 = alert(instance="web2")
    await r.step(acked, a2, advance=60)  # the group changed: the acked alert is listed too
    assert len(hooks.to(HOOK)) == 2
    assert {x["labels"]["instance"] for x in hooks.to(HOOK)[1].json["alerts"]} == {"web1", "web2"}
    await r.step(acked, a2, advance=3600)  # web2 is not acknowledged: repeats resume
    assert len(hooks.to(HOOK)) == 3


async def test_silenced_alerts_are_not_sent_and_count_as_new_when_the_silence_ends(hooks, rig) -> None:
    r = rig([hook("am", hooks.url(HOOK))])
    a = alert(instance="web1")
    muted = replace(a, silenced_by=("s1",))
    await r.step(muted)
    await r.step(muted, advance=3600)
    assert hooks.requests == [] and r.n.recent() == ()
    await r.step(a, advance=60)
    assert len(hooks.to(HOOK)) == 1
    # Silenced again, then resolved while silenced: no resolved message.
    await r.step(muted, advance=300)
    await r.step(replace(resolved(a, r.clock.t), silenced_by=("s1",)), advance=300)
    await r.step(resolved(a, r.clock.t - 300), advance=300)
    assert len(hooks.to(HOOK)) == 1
    # Firing again after its silence: news, even within repeat_interval of the first message.
    await r.step(a, advance=300)
    assert len(hooks.to(HOOK)) == 2


@pytest.mark.parametrize("send_resolved", [True, False])
async def test_silence_ending_on_a_still_firing_alert_is_news(hooks, rig, send_resolved) -> None:
    r = rig([hook("am", hooks.url(HOOK))], [route("am", send_resolved=send_resolved)])
    a = alert(instance="web1")
    await r.step(a)
    await r.step(replace(a, silenced_by=("s1",)), advance=60)
    await r.step(a, advance=340)
    assert len(hooks.to(HOOK)) == 2


# -- status ----------------------------------------------------------------------------------------


async def test_status_lines(hooks, rig) -> None:
    assert rig([]).n.status() == "no channels configured"
    r = rig([hook("a", hooks.url("/a")), hook("b", hooks.url("/b"))],
            [route("a"), route("b", match=(("team", "db"),))])
    assert r.n.status() == "2 channels, 2 routes; nothing sent yet"
    await r.step(alert())
    r.clock.advance(12)
    assert r.n.status() == "2 channels, 2 routes; last send 12s ago ok"


async def test_close_gives_up_on_a_stuck_channel_and_logs_it(hooks, rig) -> None:
    hooks.respond(BAD, then=500)
    r = rig([hook("bad", hooks.url(BAD))])
    r.sleeper.gate.clear()  # stuck in its first backoff for ever
    r.process(alert())
    await asyncio.wait_for(r.sleeper.entered.wait(), 10)
    await asyncio.wait_for(r.n.close(timeout=0.05), 5)
    [rec] = r.n.recent()
    assert (rec.ok, rec.detail) == (False, "cancelled: stacktop stopped")

"""AlertmanagerProvider against a real Alertmanager fed by a real Prometheus
(tests/support/prometheus.py): alerts listed with their state, silences made
and expired through the provider's actions and checked in Alertmanager itself."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from config.model import AlertmanagerSettings
from providers.alerts import action_specs as specs
from providers.alerts.alertmanager import AlertmanagerError, AlertmanagerProvider
from providers.alerts.model import ALERTMANAGER, FIRING, Alert, Matcher
from providers.base import ActionTarget
from tests.support.prometheus import (  # noqa: F401
    ALWAYS_FIRING,
    AUTH_PASSWORD,
    AUTH_USER,
    PromStack,
    Server,
    alertmanager_with_auth,
    free_ports,
    http,
    prom_stack,
    wait_for,
)


@pytest.fixture
async def provider(prom_stack: PromStack) -> AsyncIterator[AlertmanagerProvider]:  # noqa: F811
    p = AlertmanagerProvider(AlertmanagerSettings(url=prom_stack.alertmanager_url, timeout=5.0),
                             user="alice")
    try:
        yield p
    finally:
        await p.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def alert_in_snapshot(provider: AlertmanagerProvider, name: str) -> Alert:
    async def found() -> Alert | None:
        return next((a for a in (await provider.poll()).alerts if a.name == name), None)

    return await wait_for(found, 10, f"{name} in the provider's snapshot")


def silence_target(alert: Alert, scope: str, text: str) -> ActionTarget:
    target = specs.target_for_alert(specs.SILENCE.id, alert)
    assert isinstance(target, ActionTarget)
    assert target.provider == "alertmanager"
    return dataclasses.replace(target, params={"scope": scope, "silence": text})


async def test_posted_alert_is_listed_with_its_labels(prom_stack: PromStack,  # noqa: F811
                                                      provider: AlertmanagerProvider) -> None:
    name = unique("DiskAlmostFull")
    prom_stack.post_alert({"alertname": name, "severity": "critical", "instance": "db-2:9100"},
                          {"summary": "disk 97 % full", "runbook": "https://wiki/disk"})
    alert = await alert_in_snapshot(provider, name)
    assert alert.source == ALERTMANAGER and alert.state == FIRING
    assert alert.severity == "critical"
    assert alert.labels == (("alertname", name), ("instance", "db-2:9100"), ("severity", "critical"))
    assert alert.annotations == (("runbook", "https://wiki/disk"), ("summary", "disk 97 % full"))
    assert alert.summary == "disk 97 % full"
    assert len(alert.fingerprint) == 16 and not alert.silenced
    assert abs(alert.active_since - time.time()) < 30 and alert.firing_since == alert.active_since
    assert alert.generator_url == "http://stacktop.test/graph"
    snapshot = await provider.poll()
    assert snapshot.version == "0.25.0" or snapshot.version.count(".") == 2
    assert snapshot.url == prom_stack.alertmanager_url
    assert snapshot.metrics()["firing"] >= 1
    assert snapshot.alert_samples("alertmanager") == []

    nameless = unique("NoSeverity")
    prom_stack.post_alert({"alertname": nameless})
    assert (await alert_in_snapshot(provider, nameless)).severity == "warning"


async def test_an_inhibited_alert_is_muted_and_names_its_cause(prom_stack: PromStack,  # noqa: F811
                                                              provider: AlertmanagerProvider) -> None:
    incident, cause_name, effect_name = unique("inc"), unique("NodeDown"), unique("ServiceDown")
    prom_stack.post_alert({"alertname": cause_name, "inhibit": "cause", "incident": incident})
    prom_stack.post_alert({"alertname": effect_name, "inhibit": "effect", "incident": incident})
    cause = await alert_in_snapshot(provider, cause_name)

    async def inhibited() -> Alert | None:
        found = next((a for a in (await provider.poll()).alerts if a.name == effect_name), None)
        return found if found is not None and found.inhibited_by else None

    effect = await wait_for(inhibited, 10, f"{effect_name} inhibited by {cause_name}")
    assert effect.inhibited_by == (cause.fingerprint,)
    assert effect.muted and not effect.silenced and effect.state == FIRING  # Alertmanager: suppressed
    assert not cause.muted

    async def unmuted() -> set[str]:
        return {a.name for a in (await provider.poll()).alerts
                if a.name in (cause_name, effect_name) and not a.muted}

    assert await unmuted() == {cause_name}  # what needs someone: the cause, not its effects

    prom_stack.post_alert({"alertname": cause_name, "inhibit": "cause", "incident": incident}, ends_in=-1)

    async def released() -> Alert | None:
        found = next((a for a in (await provider.poll()).alerts if a.name == effect_name), None)
        return found if found is not None and not found.inhibited_by else None

    assert not (await wait_for(released, 10, f"{effect_name} released when {cause_name} resolves")).muted
    assert await unmuted() == {effect_name}


async def test_prometheus_rule_alert_arrives(prom_stack: PromStack,  # noqa: F811
                                             provider: AlertmanagerProvider) -> None:
    async def found() -> Alert | None:
        return next((a for a in (await provider.poll()).alerts if a.name == ALWAYS_FIRING), None)

    alert = await wait_for(found, 30, f"{ALWAYS_FIRING} sent by Prometheus")
    assert alert.state == FIRING and alert.severity == "warning"
    assert alert.generator_url.startswith(prom_stack.prometheus_url + "/graph")
    assert alert.summary == "always firing, for the tests"


async def test_silence_then_expire_through_the_actions(prom_stack: PromStack,  # noqa: F811
                                                       provider: AlertmanagerProvider) -> None:
    assert [s.id for s in provider.actions()] == [specs.SILENCE.id, specs.EXPIRE_SILENCE.id]
    woken: list[bool] = []
    provider.wake = lambda: woken.append(True)
    name = unique("HostDown")
    prom_stack.post_alert({"alertname": name, "severity": "critical", "instance": "db-1"})
    alert = await alert_in_snapshot(provider, name)

    result = await provider.action_callable(specs.SILENCE.id)(
        silence_target(alert, specs.SCOPE_EXACT, "2h replacing the disk"))
    assert result.ok, result.message
    assert result.message.startswith(f"Silenced {name} in Alertmanager for 2h (silence ")
    assert woken == [True]

    silences = [s for s in prom_stack.am_silences() if s["comment"] == "replacing the disk"
                and s["status"]["state"] == "active"]
    assert len(silences) == 1
    made = silences[0]
    assert result.message.endswith(f"(silence {made['id'][:8]})")
    assert made["createdBy"] == "alice"
    assert {(m["name"], m["value"], m["isRegex"], m.get("isEqual", True)) for m in made["matchers"]} == {
        ("alertname", name, False, True), ("instance", "db-1", False, True),
        ("severity", "critical", False, True)}
    duration = _parse(made["endsAt"]) - _parse(made["startsAt"])
    assert abs(duration - 7200) < 5

    in_am = next(a for a in prom_stack.am_alerts() if a["labels"]["alertname"] == name)
    assert in_am["status"]["state"] == "suppressed"
    assert in_am["status"]["silencedBy"] == [made["id"]]

    snapshot = await provider.poll()
    silenced = next(a for a in snapshot.alerts if a.name == name)
    assert silenced.silenced_by == (made["id"],) and silenced.state == FIRING
    listed = next(s for s in snapshot.silences if s.id == made["id"])
    assert listed.source == ALERTMANAGER and listed.created_by == "alice"
    assert listed.comment == "replacing the disk" and listed.state(time.time()) == "active"
    assert set(listed.matchers) == {Matcher("alertname", "=", name), Matcher("instance", "=", "db-1"),
                                    Matcher("severity", "=", "critical")}

    target = specs.target_for_silence(specs.EXPIRE_SILENCE.id, listed, time.time())
    assert isinstance(target, ActionTarget) and target.provider == "alertmanager"
    expired = await provider.action_callable(specs.EXPIRE_SILENCE.id)(target)
    assert expired.ok and expired.message == f"Expired silence {made['id'][:8]} in Alertmanager"
    assert woken == [True, True]
    state = next(s for s in prom_stack.am_silences() if s["id"] == made["id"])["status"]["state"]
    assert state == "expired"
    in_am = next(a for a in prom_stack.am_alerts() if a["labels"]["alertname"] == name)
    assert in_am["status"]["state"] == "active"
    after = await provider.poll()
    assert not next(a for a in after.alerts if a.name == name).silenced
    gone = next(s for s in after.silences if s.id == made["id"])
    assert gone.state(time.time()) == "expired", "recently expired silences stay listed"
    expired_flags = [s.state(time.time()) == "expired" for s in after.silences]
    assert expired_flags == sorted(expired_flags), "live silences first, then the expired"

    again = await provider.action_callable(specs.EXPIRE_SILENCE.id)(target)
    assert not again.ok
    assert again.message == f"Expire silence: {made['id'][:8]} has expired already"


async def test_rule_scope_silences_every_instance(prom_stack: PromStack,  # noqa: F811
                                                  provider: AlertmanagerProvider) -> None:
    name = unique("ApiSlow")
    prom_stack.post_alert({"alertname": name, "instance": "api-1"})
    prom_stack.post_alert({"alertname": name, "instance": "api-2"})
    alert = await alert_in_snapshot(provider, name)
    result = await provider.action_callable(specs.SILENCE.id)(
        silence_target(alert, specs.SCOPE_RULE, "30m deploy in progress"))
    assert result.ok and result.message.startswith(f"Silenced every {name} alert in Alertmanager for 30m")
    made = next(s for s in prom_stack.am_silences() if s["comment"] == "deploy in progress"
                and s["status"]["state"] == "active")
    try:
        assert [(m["name"], m["value"]) for m in made["matchers"]] == [("alertname", name)]
        states = {a["labels"]["instance"]: a["status"]["state"] for a in prom_stack.am_alerts()
                  if a["labels"]["alertname"] == name}
        assert states == {"api-1": "suppressed", "api-2": "suppressed"}
    finally:
        http("DELETE", f"{prom_stack.alertmanager_url}/api/v2/silence/{made['id']}")


async def test_regex_and_negative_matchers_of_a_silence_made_elsewhere(
        prom_stack: PromStack, provider: AlertmanagerProvider) -> None:  # noqa: F811
    now = time.time()
    body = {"matchers": [
        {"name": "alertname", "value": "Disk.*", "isRegex": True, "isEqual": True},
        {"name": "env", "value": "dev", "isRegex": False, "isEqual": False},
        {"name": "instance", "value": "db-[0-9]+", "isRegex": True, "isEqual": False}],
        "startsAt": _format(now), "endsAt": _format(now + 600), "createdBy": "bob", "comment": "elsewhere"}
    status, answer = http("POST", prom_stack.alertmanager_url + "/api/v2/silences", body)
    assert status == 200, answer
    try:
        listed = next(s for s in (await provider.poll()).silences if s.id == answer["silenceID"])
        assert listed.matchers == (Matcher("alertname", "=~", "Disk.*"), Matcher("env", "!=", "dev"),
                                   Matcher("instance", "!~", "db-[0-9]+"))
        assert listed.created_by == "bob" and abs(listed.ends_at - now - 600) < 1
    finally:
        http("DELETE", f"{prom_stack.alertmanager_url}/api/v2/silence/{answer['silenceID']}")


async def test_silence_refusals_are_one_line(prom_stack: PromStack,  # noqa: F811
                                            provider: AlertmanagerProvider) -> None:
    name = unique("Flaky")
    prom_stack.post_alert({"alertname": name})
    alert = await alert_in_snapshot(provider, name)
    silence = provider.action_callable(specs.SILENCE.id)
    no_comment = await silence(silence_target(alert, specs.SCOPE_EXACT, "2h"))
    assert not no_comment.ok and no_comment.message.startswith("Silence: add a comment after 2h")
    too_long = await silence(silence_target(alert, specs.SCOPE_EXACT, "90d forever"))
    assert not too_long.ok and "a silence lasts from 1m to 30d" in too_long.message
    gone = dataclasses.replace(alert, fingerprint="0123456789abcdef")
    missing = await silence(silence_target(gone, specs.SCOPE_EXACT, "1h why not"))
    assert not missing.ok
    assert missing.message == f"Silence: {name} is no longer in Alertmanager (resolved?); nothing silenced"
    unknown = await provider.action_callable(specs.EXPIRE_SILENCE.id)(
        ActionTarget("silence", str(uuid.uuid4()), "x", provider="alertmanager"))
    assert not unknown.ok and "is not in Alertmanager" in unknown.message
    with pytest.raises(KeyError):
        provider.action_callable(specs.ACKNOWLEDGE.id)


async def test_alert_posted_after_the_last_poll_can_still_be_silenced(
        prom_stack: PromStack, provider: AlertmanagerProvider) -> None:  # noqa: F811
    """The dialog may be newer than the provider's last poll: it asks Alertmanager again."""
    name = unique("JustNow")
    prom_stack.post_alert({"alertname": name})
    fingerprint = await wait_for(lambda: next((a["fingerprint"] for a in prom_stack.am_alerts()
                                               if a["labels"]["alertname"] == name), None), 10, name)
    fresh = AlertmanagerProvider(AlertmanagerSettings(url=prom_stack.alertmanager_url), user="carol")
    try:
        alert = Alert(fingerprint, name, FIRING, "warning", (("alertname", name),), source=ALERTMANAGER)
        result = await fresh.action_callable(specs.SILENCE.id)(
            silence_target(alert, specs.SCOPE_EXACT, "1h looking"))
        assert result.ok, result.message
        made = next(s for s in prom_stack.am_silences() if s["createdBy"] == "carol"
                    and s["status"]["state"] == "active")
        http("DELETE", f"{prom_stack.alertmanager_url}/api/v2/silence/{made['id']}")
    finally:
        await fresh.close()


async def test_basic_auth(alertmanager_with_auth: Server) -> None:  # noqa: F811
    url = alertmanager_with_auth.url
    good = AlertmanagerProvider(AlertmanagerSettings(url=url, username=AUTH_USER, password=AUTH_PASSWORD),
                                user="alice")
    wrong = AlertmanagerProvider(AlertmanagerSettings(url=url, username=AUTH_USER, password="guessed-pw"),
                                 user="alice")
    anonymous = AlertmanagerProvider(AlertmanagerSettings(url=url), user="alice")
    in_url = AlertmanagerProvider(AlertmanagerSettings(
        url=url.replace("http://", f"http://{AUTH_USER}:{AUTH_PASSWORD}@")), user="alice")
    try:
        assert (await good.poll()).version
        assert (await in_url.poll()).url == url
        with pytest.raises(AlertmanagerError) as caught:
            await wrong.poll()
        assert str(caught.value) == f"Alertmanager at {url}: refused the credentials (HTTP 401)"
        with pytest.raises(AlertmanagerError, match=r"HTTP 401\); set username/password or bearer_token$"):
            await anonymous.poll()
        refused = await wrong.action_callable(specs.EXPIRE_SILENCE.id)(
            ActionTarget("silence", str(uuid.uuid4()), "x", provider="alertmanager"))
        assert not refused.ok and "HTTP 401" in refused.message and "guessed-pw" not in refused.message
    finally:
        for p in (good, wrong, anonymous, in_url):
            await p.close()


async def test_unreachable_alertmanager_fails_in_one_line() -> None:
    (port,) = free_ports(1)
    provider = AlertmanagerProvider(AlertmanagerSettings(url=f"http://am:pw-secret@127.0.0.1:{port}/"),
                                    user="alice")
    try:
        with pytest.raises(AlertmanagerError) as caught:
            await provider.poll()
        assert str(caught.value) == f"Alertmanager at http://127.0.0.1:{port}: connection refused"
    finally:
        await provider.close()


def _parse(text: str) -> float:
    from providers.alerts.alertmanager import parse_time

    value = parse_time(text)
    assert value is not None
    return value


def _format(seconds: float) -> str:
    from providers.alerts.alertmanager import format_time

    return format_time(seconds)

"""What each channel kind receives: Slack, Discord (within its limits), the Alertmanager webhook
shape and email; and the notification log that records every outcome."""

from __future__ import annotations

import json
import os
from pathlib import Path

from config.model import ChannelSettings
from providers.alerts import channels, notify_log
from providers.alerts.channels import Group
from providers.alerts.model import FIRING, RESOLVED, Alert, NotificationRecord, fingerprint
from providers.alerts.notify import Notifier
from providers.alerts.notify_log import NotificationLog

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def alert(name: str = "HostCpuHigh", state: str = FIRING, severity: str = "critical", *,
          summary: str = "", description: str = "", value: float | None = 93.5, acked_by: str = "",
          generator_url: str = "", **labels: str) -> Alert:
    pairs = tuple(sorted({"alertname": name, "severity": severity, **labels}.items()))
    annotations = tuple((k, v) for k, v in (("summary", summary), ("description", description)) if v)
    return Alert(fingerprint(pairs), name, state, severity, pairs, annotations, value=value,
                 active_since=T0 - 60, firing_since=T0,
                 resolved_at=T0 + 600 if state == RESOLVED else None, acked_by=acked_by,
                 generator_url=generator_url)


def group(*alerts: Alert, labels: tuple[tuple[str, str], ...] = (("alertname", "HostCpuHigh"),),
          channel: str = "ops", external_url: str = "") -> Group:
    return Group(channel, "route0:{" + ",".join(f"{k}={v}" for k, v in labels) + "}", labels,
                 firing=tuple(a for a in alerts if a.state == FIRING),
                 resolved=tuple(a for a in alerts if a.state != FIRING), external_url=external_url)


# -- titles and small helpers ----------------------------------------------------------------------


def test_title_counts_firing_and_names_the_group_like_alertmanager() -> None:
    two = group(alert(instance="web1"), alert(instance="web2"))
    assert two.title == "[FIRING:2] HostCpuHigh (critical)"
    assert two.status == FIRING
    done = group(alert(state=RESOLVED, instance="web1"))
    assert done.title == "[RESOLVED] HostCpuHigh (critical)"
    assert done.status == RESOLVED
    by_cluster = group(alert("HaLag", severity="warning", cluster="main"),
                       labels=(("alertname", "HaLag"), ("cluster", "main")))
    assert by_cluster.title == "[FIRING:1] HaLag (main warning)"
    mixed = group(alert("A", severity="warning"), alert("B", severity="critical"), labels=())
    assert mixed.title == "[FIRING:2] alerts"
    assert mixed.severity == "critical"


def test_title_is_one_line_whatever_the_labels_hold() -> None:
    g = group(alert("Evil\r\nBcc: x@y", instance="a"), labels=(("alertname", "Evil\r\nBcc: x@y"),))
    assert "\n" not in g.title and "\r" not in g.title


def test_helpers() -> None:
    assert channels.cut("abcdef", 4) == "abc…"
    assert channels.cut("abc", 3) == "abc"
    assert channels.rfc3339(T0) == "2023-11-14T22:13:20.000Z"
    assert channels.rfc3339(None) == "0001-01-01T00:00:00Z"
    assert [channels.value_text(v) for v in (3.0, 93.456789, 0.05, 12345.6, None)] == [
        "3", "93.457", "0.05", "12346", ""]


# -- Slack -----------------------------------------------------------------------------------------


def test_slack_message_has_text_and_one_coloured_attachment_per_section() -> None:
    firing = alert(summary="CPU at 93% on web1", instance="web1")
    gone = alert(state=RESOLVED, summary="CPU at 95% on web2", instance="web2")
    body = channels.slack(group(firing, gone, external_url="https://grafana.example/d/1"))
    assert body["text"] == "[FIRING:1] HostCpuHigh (critical)"
    first, second = body["attachments"]
    assert first["color"] == channels.COLOURS["critical"]
    assert first["title"] == "Firing (1)"
    assert first["title_link"] == "https://grafana.example/d/1"
    assert "CPU at 93% on web1 (value 93.5) [instance=web1]" in first["text"]
    assert {"title": "severity", "value": "critical", "short": True} in first["fields"]
    assert second["color"] == channels.RESOLVED_COLOUR
    assert second["title"] == "Resolved (1)"
    assert "CPU at 95% on web2" in second["text"]
    json.dumps(body)  # plain JSON


def test_slack_colours_follow_the_worst_severity_and_escape_control_characters() -> None:
    body = channels.slack(group(alert(severity="warning", summary="a <b> & c")))
    assert body["attachments"][0]["color"] == channels.COLOURS["warning"]
    assert "a &lt;b&gt; &amp; c" in body["attachments"][0]["text"]


def test_slack_lists_at_most_twenty_alerts_and_counts_the_rest() -> None:
    many = [alert(instance=f"web{i:02}") for i in range(25)]
    text = channels.slack(group(*many))["attachments"][0]["text"]
    assert text.count("•") == 20
    assert text.endswith("… and 5 more")


# -- Discord ---------------------------------------------------------------------------------------


def test_discord_message_has_content_and_an_embed_per_alert() -> None:
    body = channels.discord(group(alert(summary="CPU high", description="Check top", instance="web1",
                                        generator_url="http://stacktop.local/alerts"),
                                  alert(state=RESOLVED, summary="CPU high", instance="web2")))
    assert body["content"] == "[FIRING:1] HostCpuHigh (critical)"
    assert body["allowed_mentions"] == {"parse": []}  # an alert's text never pings @everyone
    first, second = body["embeds"]
    assert first["title"] == "CPU high"
    assert first["color"] == int(channels.COLOURS["critical"][1:], 16)
    assert first["description"].startswith("Check top\n")
    assert first["url"] == "http://stacktop.local/alerts"
    assert {"name": "Value", "value": "93.5", "inline": True} in first["fields"]
    assert second["title"] == "RESOLVED: CPU high"
    assert second["color"] == int(channels.RESOLVED_COLOUR[1:], 16)
    assert "url" not in second


def _assert_within_discord_limits(body: dict) -> None:
    assert len(body["content"]) <= channels.DISCORD_CONTENT
    assert len(body["embeds"]) <= channels.DISCORD_EMBEDS
    total = 0
    for e in body["embeds"]:
        assert len(e["title"]) <= channels.DISCORD_TITLE
        assert len(e.get("description", "")) <= channels.DISCORD_DESCRIPTION
        assert len(e["fields"]) <= channels.DISCORD_FIELDS
        for f in e["fields"]:
            assert len(f["name"]) <= channels.DISCORD_FIELD_NAME
            assert len(f["value"]) <= channels.DISCORD_FIELD_VALUE
        total += channels._embed_size(e)
    assert total <= channels.DISCORD_TOTAL


def test_discord_truncates_long_text_with_an_ellipsis() -> None:
    huge = alert(summary="S" * 400, description="D" * 5000, instance="x" * 2000)
    body = channels.discord(group(huge, labels=(("alertname", "A" * 3000),)))
    _assert_within_discord_limits(body)
    embed = body["embeds"][0]
    assert embed["title"].endswith("…") and len(embed["title"]) == channels.DISCORD_TITLE
    assert embed["description"].endswith("…")
    assert body["content"].endswith("…") and len(body["content"]) == channels.DISCORD_CONTENT


def test_discord_keeps_ten_embeds_and_the_total_under_6000() -> None:
    many = [alert(summary=f"alert {i}", description="d" * 1500, instance=f"web{i}") for i in range(14)]
    body = channels.discord(group(*many))
    _assert_within_discord_limits(body)
    assert len(body["embeds"]) == 10
    assert body["embeds"][-1]["title"] == "… and 5 more"
    assert body["content"] == "[FIRING:14] HostCpuHigh (critical)"


def test_discord_field_values_are_cut_at_1024() -> None:
    embed = channels._discord_embed(alert(severity="s" * 2000))
    assert len(embed["fields"][0]["value"]) == channels.DISCORD_FIELD_VALUE
    assert embed["fields"][0]["value"].endswith("…")


# -- generic webhook (Alertmanager's shape) --------------------------------------------------------


def test_webhook_payload_is_alertmanagers_version_4() -> None:
    firing = alert(summary="CPU high", instance="web1", generator_url="http://stacktop/a")
    gone = alert(state=RESOLVED, summary="CPU high", instance="web2")
    body = channels.webhook(group(firing, gone, channel="am-receiver", external_url="http://stacktop"))
    assert set(body) == {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                         "commonLabels", "commonAnnotations", "externalURL", "alerts"}
    assert body["version"] == "4"
    assert body["groupKey"] == "route0:{alertname=HostCpuHigh}"
    assert body["status"] == "firing"
    assert body["receiver"] == "am-receiver"
    assert body["groupLabels"] == {"alertname": "HostCpuHigh"}
    assert body["commonLabels"] == {"alertname": "HostCpuHigh", "severity": "critical"}
    assert body["commonAnnotations"] == {"summary": "CPU high"}
    assert body["externalURL"] == "http://stacktop"
    assert body["truncatedAlerts"] == 0
    one, two = body["alerts"]
    assert one == {"status": "firing", "labels": dict(firing.labels), "annotations": {"summary": "CPU high"},
                   "startsAt": "2023-11-14T22:13:20.000Z", "endsAt": "0001-01-01T00:00:00Z",
                   "generatorURL": "http://stacktop/a", "fingerprint": firing.fingerprint}
    assert two["status"] == "resolved"
    assert two["endsAt"] == "2023-11-14T22:23:20.000Z"
    assert two["generatorURL"] == "http://stacktop"  # the alert has none: the external URL


def test_webhook_all_resolved_says_resolved() -> None:
    assert channels.webhook(group(alert(state=RESOLVED)))["status"] == "resolved"


# -- email -----------------------------------------------------------------------------------------


def test_email_subject_addresses_and_both_bodies() -> None:
    msg = channels.email(group(alert(summary="CPU high <web1>", instance="web1"),
                               alert(summary="CPU high on web2", instance="web2", acked_by="ana"),
                               external_url="https://runbooks.example/cpu"),
                         "stacktop@example.com", ["ops@example.com", "oncall@example.com"])
    assert msg["Subject"] == "[FIRING:2] HostCpuHigh (critical)"
    assert msg["From"] == "stacktop@example.com"
    assert msg["To"] == "ops@example.com, oncall@example.com"
    assert msg["Date"] and msg["Message-ID"]
    text = msg.get_body(("plain",)).get_content()
    assert "Firing (2):" in text
    assert "- CPU high <web1>" in text
    assert "Labels: alertname=HostCpuHigh, instance=web1, severity=critical" in text
    assert "Acknowledged by ana" in text
    assert "More: https://runbooks.example/cpu" in text
    page = msg.get_body(("html",)).get_content()
    assert "CPU high &lt;web1&gt;" in page and "<web1>" not in page


def test_email_subject_survives_newlines_in_labels() -> None:
    msg = channels.email(group(alert("X\nBcc: evil@example.com"), labels=(("alertname", "X\nBcc: e"),)),
                         "a@example.com", ["b@example.com"])
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"]


# -- secrets ---------------------------------------------------------------------------------------


def test_scrub_hides_every_secret_of_a_channel() -> None:
    ch = ChannelSettings(name="hook", kind="webhook", url="https://hooks.example/services/T0/B0/SeCrEt",
                         headers=(("Authorization", "Bearer tok-123456"),), password="hunter22")
    text = "failed for https://hooks.example/services/T0/B0/SeCrEt with Bearer tok-123456 and hunter22"
    out = Notifier._scrub(text, ch)
    assert "SeCrEt" not in out and "tok-123456" not in out and "hunter22" not in out


def test_error_reasons_are_quoted_only_in_known_harmless_forms() -> None:
    assert channels.error_reason(b"no_service\n") == "no_service"
    assert channels.error_reason(b'{"message": "Unknown Webhook", "code": 10015}') == "Unknown Webhook"
    assert channels.error_reason(b"bad request for /services/T0/B0/SeCrEt") == ""
    assert channels.error_reason(b'{"message": "see https://x/y?token=abc"}') == ""
    assert channels.error_reason(b"[1, 2]") == ""
    assert channels.error_reason(b"") == ""


# -- the notification log --------------------------------------------------------------------------


def rec(at: float, channel: str = "ops", ok: bool = True,
        fps: tuple[str, ...] = ("aa",)) -> NotificationRecord:
    return NotificationRecord(at=at, channel=channel, kind="slack", group="route0:{alertname=A}",
                              status="firing", fingerprints=fps, ok=ok, attempts=1 if ok else 4,
                              detail="HTTP 200" if ok else "HTTP 500 after 4 attempts", duration=0.25)


def test_log_returns_newest_first_and_survives_a_new_process(tmp_path: Path) -> None:
    path = tmp_path / "state" / "notifications.jsonl"
    log = NotificationLog(path)
    log.record(rec(1.0, fps=("aa", "bb")))
    log.record(rec(2.0, channel="mail", ok=False, fps=("bb",)))
    log.record(rec(3.0, fps=("cc",)))
    again = NotificationLog(path)
    assert [r.at for r in again.recent()] == [3.0, 2.0, 1.0]
    assert again.recent()[1] == rec(2.0, channel="mail", ok=False, fps=("bb",))
    assert [r.at for r in again.recent(limit=2)] == [3.0, 2.0]
    assert [r.at for r in again.for_alert("bb")] == [2.0, 1.0]
    assert again.for_alert("zz") == ()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


def test_log_skips_a_torn_last_line_and_foreign_lines(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    log = NotificationLog(path)
    log.record(rec(1.0))
    with path.open("ab") as f:
        f.write(b'{"kind": "something.else"}\n{"kind": "stacktop.notification", "at": 2, "chan')
    assert [r.at for r in log.recent()] == [1.0]
    log.record(rec(3.0))  # a crash's torn line does not swallow the next record
    assert [r.at for r in log.recent()] == [3.0, 1.0]


def test_log_reads_only_the_tail(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "n.jsonl"
    log = NotificationLog(path)
    path.write_text("".join(json.dumps(notify_log.to_record(rec(float(i)))) + "\n" for i in range(2000)))
    monkeypatch.setattr("providers.jsonl.MAX_SCAN", 10_000)
    got = log.recent(limit=5000)
    assert got[0].at == 1999.0
    assert 0 < len(got) < 2000  # older lines are beyond the scan window
    assert os.path.getsize(path) > 10_000


def test_missing_log_is_empty(tmp_path: Path) -> None:
    assert NotificationLog(tmp_path / "none.jsonl").recent() == ()


def test_log_applies_redact(tmp_path: Path) -> None:
    log = NotificationLog(tmp_path / "n.jsonl", redact=lambda s: s.replace("ops", "***"))
    log.record(rec(1.0))
    assert "ops" not in (tmp_path / "n.jsonl").read_text()

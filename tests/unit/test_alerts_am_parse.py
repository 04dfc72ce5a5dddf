"""Parsing of recorded Alertmanager v2 and Prometheus API answers (recorded from
Alertmanager 0.25 / Prometheus 2.42, then varied the way other versions and
proxies write them: nanoseconds, offsets, no isEqual)."""

from __future__ import annotations

import json
import math

import pytest

from providers.alerts.alertmanager import (
    format_time,
    matcher_json,
    parse_alert,
    parse_alerts,
    parse_matcher,
    parse_silence,
    parse_silences,
    parse_time,
)
from providers.alerts.http_api import error_text, split_credentials
from providers.alerts.model import ALERTMANAGER, FIRING, PENDING, Matcher
from providers.alerts.prometheus import PrometheusError, parse_instant, parse_range

ALERTS = json.loads("""[
 {"annotations": {"summary": "db-1 down"}, "endsAt": "2026-11-22T15:49:20.257Z",
  "fingerprint": "251096a51337be7d", "receivers": [{"name": "null"}],
  "startsAt": "2026-11-22T15:44:20.257Z",
  "status": {"inhibitedBy": [], "silencedBy": ["4d40a14a-1fe5-4ed1-a9a7-736ab56b8e9a"],
             "state": "suppressed"},
  "updatedAt": "2026-11-22T15:44:20.258Z", "generatorURL": "http://stacktop.test/graph",
  "labels": {"severity": "critical", "alertname": "HostDown", "instance": "db-1:9100"}},
 {"annotations": {}, "endsAt": "2026-11-22T15:49:20.123456789Z", "fingerprint": "00aa11bb22cc33dd",
  "receivers": [{"name": "null"}], "startsAt": "2026-11-22T17:44:21.987654321+02:00",
  "status": {"inhibitedBy": [], "silencedBy": [], "state": "unprocessed"},
  "updatedAt": "2026-11-22T15:44:21.5Z", "generatorURL": "",
  "labels": {"alertname": "JustArrived"}},
 {"annotations": {"summary": "older"}, "endsAt": "2026-11-22T15:49:20Z", "fingerprint": "ffee000000000001",
  "receivers": [{"name": "null"}], "startsAt": "2026-11-22T15:00:00Z",
  "status": {"inhibitedBy": ["ffee000000000009"], "silencedBy": [], "state": "suppressed"},
  "updatedAt": "2026-11-22T15:44:20Z", "labels": {"alertname": "Inhibited", "severity": "info"}},
 {"labels": {"alertname": "NoFingerprint"}},
 "not an alert"
]""")

SILENCES = json.loads("""[
 {"id": "4d40a14a-1fe5-4ed1-a9a7-736ab56b8e9a", "status": {"state": "active"},
  "updatedAt": "2026-11-22T15:44:20.259Z", "comment": "replacing the disk", "createdBy": "alice",
  "endsAt": "2026-11-22T17:44:20.258123456Z",
  "matchers": [{"isEqual": true, "isRegex": false, "name": "alertname", "value": "HostDown"},
               {"isEqual": true, "isRegex": true, "name": "instance", "value": "db-[0-9]+:.*"}],
  "startsAt": "2026-11-22T15:44:20.259Z"},
 {"id": "0b0b0b0b-old0-4ed1-a9a7-736ab56b8e9a", "status": {"state": "active"},
  "comment": "from an Alertmanager before 0.22: no isEqual", "createdBy": "bob",
  "endsAt": "2026-11-22T18:00:00+01:00", "startsAt": "2026-11-22T14:00:00+01:00",
  "matchers": [{"isRegex": true, "name": "job", "value": "node|blackbox"}]},
 {"id": "negative", "status": {"state": "pending"}, "comment": "tonight", "createdBy": "carol",
  "startsAt": "2026-11-22T22:00:00Z", "endsAt": "2026-11-23T02:00:00Z",
  "matchers": [{"isEqual": false, "isRegex": false, "name": "env", "value": "dev"},
               {"isEqual": false, "isRegex": true, "name": "instance", "value": "web-.*"}]},
 {"id": "expired-recently", "status": {"state": "expired"}, "comment": "done", "createdBy": "dave",
  "startsAt": "2026-11-22T14:00:00Z", "endsAt": "2026-11-22T15:30:00Z",
  "matchers": [{"isEqual": true, "isRegex": false, "name": "alertname", "value": "X"}]},
 {"id": "expired-long-ago", "status": {"state": "expired"}, "comment": "old", "createdBy": "erin",
  "startsAt": "2026-11-20T14:00:00Z", "endsAt": "2026-11-20T15:30:00Z",
  "matchers": [{"isEqual": true, "isRegex": false, "name": "alertname", "value": "Y"}]},
 {"comment": "no id"}
]""")

NOW = parse_time("2026-11-22T15:45:00Z") or 0.0


def test_rfc3339_times() -> None:
    assert parse_time("2026-11-22T15:45:00Z") == 1795362300.0
    assert parse_time("2026-11-22T15:45:00.123456789Z") == pytest.approx(1795362300.123456789, abs=1e-6)
    assert parse_time("2026-11-22T17:45:00.5+02:00") == 1795362300.5
    assert parse_time("2026-11-22T10:45:00-05:00") == 1795362300.0
    assert parse_time("2026-11-22t15:45:00z") == 1795362300.0
    for nothing in ("0001-01-01T00:00:00.000Z", "", "yesterday", None, 17):
        assert parse_time(nothing) is None
    assert format_time(1795362300.1239) == "2026-11-22T15:45:00.123Z"
    assert parse_time(format_time(1795362300.5)) == 1795362300.5


def test_alerts() -> None:
    alerts = parse_alerts(ALERTS)
    assert [a.name for a in alerts] == ["Inhibited", "HostDown", "JustArrived"], "firing first, oldest first"
    down = alerts[1]
    assert down.fingerprint == "251096a51337be7d" and down.source == ALERTMANAGER
    assert down.state == FIRING and down.severity == "critical"
    assert down.labels == (("alertname", "HostDown"), ("instance", "db-1:9100"), ("severity", "critical"))
    assert down.annotations == (("summary", "db-1 down"),) and down.summary == "db-1 down"
    assert down.silenced_by == ("4d40a14a-1fe5-4ed1-a9a7-736ab56b8e9a",) and down.silenced
    assert down.active_since == down.firing_since == parse_time("2026-11-22T15:44:20.257Z")
    assert down.last_evaluated == parse_time("2026-11-22T15:44:20.258Z")
    assert down.generator_url == "http://stacktop.test/graph"

    inhibited = alerts[0]
    assert inhibited.state == FIRING and not inhibited.silenced, "inhibited is not silenced"
    assert inhibited.inhibited_by == ("ffee000000000009",) and inhibited.muted, "but nobody is paged"
    assert down.muted and not down.inhibited_by and not alerts[2].muted
    assert inhibited.severity == "info"

    pending = alerts[2]
    assert pending.state == PENDING and pending.firing_since is None
    assert pending.severity == "warning", "no severity label: warning"
    assert pending.active_since == pytest.approx(parse_time("2026-11-22T15:44:21.987654321Z") or 0, abs=1e-6)
    assert pending.annotations == () and pending.generator_url == ""


def test_alert_without_alertname_is_still_listed() -> None:
    alert = parse_alert({"fingerprint": "1", "labels": {"job": "x"}, "status": {"state": "active"}})
    assert alert is not None and alert.name == "(no alertname)" and alert.active_since == 0.0
    assert parse_alert({"fingerprint": "2"}) is not None
    assert parse_alerts(None) == ()


def test_matchers() -> None:
    def parsed(regex: bool, equal: bool | None) -> Matcher | None:
        item = {"name": "a", "value": "b", "isRegex": regex}
        return parse_matcher(item if equal is None else {**item, "isEqual": equal})

    assert parsed(False, True) == Matcher("a", "=", "b")
    assert parsed(False, False) == Matcher("a", "!=", "b")
    assert parsed(True, None) == Matcher("a", "=~", "b"), "before 0.22 there was no isEqual"
    assert parsed(True, True) == Matcher("a", "=~", "b")
    assert parsed(True, False) == Matcher("a", "!~", "b")
    assert parse_matcher({"name": "a"}) == Matcher("a", "=", "")
    assert parse_matcher({"value": "nameless"}) is None
    for op in ("=", "!=", "=~", "!~"):
        m = Matcher("instance", op, "db-.*")
        assert parse_matcher(matcher_json(m)) == m


def test_silences() -> None:
    silences = parse_silences(SILENCES, NOW)
    first_id, old_id = "4d40a14a-1fe5-4ed1-a9a7-736ab56b8e9a", "0b0b0b0b-old0-4ed1-a9a7-736ab56b8e9a"
    assert [s.id for s in silences] == [old_id, first_id, "negative", "expired-recently"], \
        "live ones soonest end first, then the recently expired; long expired ones are left out"
    by_id = {s.id: s for s in silences}
    first = by_id[first_id]
    assert first.source == ALERTMANAGER and first.created_by == "alice"
    assert first.comment == "replacing the disk"
    assert first.matchers == (Matcher("alertname", "=", "HostDown"),
                              Matcher("instance", "=~", "db-[0-9]+:.*"))
    assert first.ends_at == pytest.approx(parse_time("2026-11-22T17:44:20.258Z") or 0, abs=1e-3)
    assert first.state(NOW) == "active"
    assert first.mutes((("alertname", "HostDown"), ("instance", "db-1:9100")), NOW)
    assert not first.mutes((("alertname", "HostDown"), ("instance", "web-1:9100")), NOW)
    old = by_id[old_id]
    assert old.matchers == (Matcher("job", "=~", "node|blackbox"),)
    assert old.starts_at == parse_time("2026-11-22T13:00:00Z")
    assert old.ends_at == parse_time("2026-11-22T17:00:00Z")
    negative = by_id["negative"]
    assert negative.matchers == (Matcher("env", "!=", "dev"), Matcher("instance", "!~", "web-.*"))
    assert negative.state(NOW) == "pending"
    assert by_id["expired-recently"].state(NOW) == "expired"
    assert parse_silence({"id": "x"}) is not None and parse_silence({"comment": "no id"}) is None


# --- Prometheus -------------------------------------------------------------------------------------

VECTOR = json.loads("""{"resultType": "vector", "result": [
 {"metric": {"__name__": "up", "instance": "127.0.0.1:9100", "job": "node"}, "value": [1795362300.123, "1"]},
 {"metric": {"instance": "b:9100"}, "value": [1795362300.123, "NaN"]},
 {"metric": {"instance": "c:9100"}, "value": [1795362300.123, "+Inf"]},
 {"metric": {"instance": "d:9100"}, "value": [1795362300.123, "-0.25"]},
 {"metric": {"instance": "e:9100"}, "value": [1795362300.123]}
]}""")


def test_prometheus_instant_results() -> None:
    points = parse_instant("up", VECTOR)
    assert [(p.labels, p.at, p.value) for p in points] == [
        ((("instance", "127.0.0.1:9100"), ("job", "node")), 1795362300.123, 1.0),
        ((("instance", "d:9100"),), 1795362300.123, -0.25)]
    (scalar,) = parse_instant("two", {"resultType": "scalar", "result": [1795362300.5, "2"]})
    assert scalar.labels == () and scalar.value == 2.0
    assert parse_instant("nan", {"resultType": "scalar", "result": [1795362300.5, "NaN"]}) == []
    assert parse_instant("none", {"resultType": "vector", "result": []}) == []
    with pytest.raises(PrometheusError, match=r"^query r returns a range vector; use an instant expression"):
        parse_instant("r", {"resultType": "matrix", "result": []})
    with pytest.raises(PrometheusError, match=r"^query s returns a string"):
        parse_instant("s", {"resultType": "string", "result": [1, "x"]})
    with pytest.raises(PrometheusError):
        parse_instant("x", None)


def test_prometheus_range_results() -> None:
    found = parse_range({"resultType": "matrix", "result": [
        {"metric": {"__name__": "up", "job": "node"}, "values": [[10, "1"], [12, "NaN"], [14, "0"]]},
        {"metric": {}, "values": [[10, "Inf"]]}]})
    assert found == {(("job", "node"),): [(10.0, 1.0), (14.0, 0.0)], (): []}
    assert parse_range({"resultType": "vector", "result": []}) == {}
    assert all(math.isfinite(v) for points in found.values() for _, v in points)


def test_error_text_and_credentials() -> None:
    body = '{"status":"error","errorType":"bad_data","error":"1:7: parse error: unclosed left parenthesis"}'
    assert error_text(400, "Bad Request", body) == "1:7: parse error: unclosed left parenthesis"
    assert error_text(500, "Internal Server Error", '"silence not found"\n') == "silence not found"
    assert error_text(502, "Bad Gateway", "<html><body>nginx</body></html>") == "Bad Gateway"
    assert error_text(400, "Bad Request", "bad\nmatchers") == "bad matchers"
    assert split_credentials("http://u:p@am.example:9093/") == ("http://am.example:9093", "u", "p")
    assert split_credentials(" http://am.example/sub/ ") == ("http://am.example/sub", None, None)

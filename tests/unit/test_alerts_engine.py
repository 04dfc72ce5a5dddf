"""The rule engine with an injected clock: states, flapping, missing data, silences,
acknowledgements and state that survives a restart."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from providers.alerts.engine import MAX_VALUES, SAVE_EVERY, RuleEngine
from providers.alerts.model import FIRING, INACTIVE, PENDING, RESOLVED, Matcher, Query, Rule, fingerprint
from providers.alerts.state import AlertStore
from providers.base import Sample

T0 = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def cpu_rule(for_: float = 300.0, keep: float = 0.0, **kw: object) -> Rule:
    base: dict[str, object] = dict(
        name="HostCpuHigh", expr="host.cpu.percent > 80", query=Query("host.cpu.percent", (), ">", 80.0),
        for_=for_, keep_firing_for=keep, severity="warning",
        annotations=(("summary", "CPU at {{ $value }}% on {{ $labels.host }}"),))
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def lag_rule(**kw: object) -> Rule:
    base: dict[str, object] = dict(
        name="ReplicationLag", expr='ha.lag_seconds{cluster="main"} > 30',
        query=Query("ha.lag_seconds", (Matcher("cluster", "=", "main"),), ">", 30.0),
        for_=0.0, severity="critical")
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def cpu(value: float, at: float = T0) -> list[Sample]:
    return [Sample("host.cpu.percent", (), value, at)]


def lag(values: dict[str, float], cluster: str = "main") -> list[Sample]:
    return [Sample("ha.lag_seconds", (("cluster", cluster), ("member", m)), v, T0) for m, v in values.items()]


def engine(rules: list[Rule], clock: Clock, store: AlertStore | None = None, **kw: object) -> RuleEngine:
    return RuleEngine(rules, store or AlertStore(None, clock=clock), clock=clock, **kw)  # type: ignore[arg-type]


def moves(transitions: list) -> list[tuple[str, str]]:
    return [(t.from_state, t.to_state) for t in transitions]


def test_pending_then_firing_after_for() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=300)], clock)
    assert moves(e.evaluate(cpu(91))) == [(INACTIVE, PENDING)]
    (alert,) = e.alerts()
    assert alert.state == PENDING and alert.active_since == T0 and alert.firing_since is None
    clock.tick(299)
    assert e.evaluate(cpu(92)) == []
    clock.tick(1)
    assert moves(e.evaluate(cpu(93))) == [(PENDING, FIRING)]
    (alert,) = e.alerts()
    assert alert.state == FIRING and alert.active_since == T0 and alert.firing_since == T0 + 300
    assert alert.values == (91.0, 92.0, 93.0) and alert.value == 93.0
    assert alert.summary == "CPU at 93% on "
    assert dict(alert.labels) == {"alertname": "HostCpuHigh", "severity": "warning"}
    assert alert.fingerprint == fingerprint(alert.labels) and alert.expr == "host.cpu.percent > 80"
    clock.tick(60)
    assert e.evaluate(cpu(95)) == []
    assert e.alerts()[0].firing_since == T0 + 300


def test_for_zero_fires_on_the_first_evaluation() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0)], clock)
    (t,) = e.evaluate(cpu(99))
    assert (t.from_state, t.to_state, t.value, t.name) == (INACTIVE, FIRING, 99.0, "HostCpuHigh")
    assert e.alerts()[0].firing_since == T0 == e.alerts()[0].active_since


def test_pending_that_clears_is_dropped_without_firing() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=300)], clock)
    e.evaluate(cpu(91))
    clock.tick(100)
    assert moves(e.evaluate(cpu(50))) == [(PENDING, INACTIVE)]
    assert e.alerts() == ()
    clock.tick(100)
    e.evaluate(cpu(91))
    assert e.alerts()[0].active_since == T0 + 200, "for starts over"
    assert [t.to_state for t in e.transitions()] == [PENDING, INACTIVE, PENDING]


def test_keep_firing_for_prevents_flapping() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0, keep=120)], clock)
    seen = e.evaluate(cpu(90))
    for value in (70, 90, 75, 60, 85):
        clock.tick(30)
        seen += e.evaluate(cpu(value))
    assert moves(seen) == [(INACTIVE, FIRING)], "one firing period, no resolved"
    (alert,) = e.alerts()
    assert alert.state == FIRING and alert.values == (90.0, 70.0, 90.0, 75.0, 60.0, 85.0)


def test_resolves_once_keep_firing_for_has_passed() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0, keep=120)], clock)
    e.evaluate(cpu(90))
    clock.tick(60)
    assert e.evaluate(cpu(50)) == []
    clock.tick(59)
    assert e.evaluate(cpu(50)) == []
    clock.tick(1)
    (t,) = e.evaluate(cpu(40))
    assert (t.from_state, t.to_state, t.value) == (FIRING, RESOLVED, 40.0)
    (alert,) = e.alerts()
    assert alert.state == RESOLVED and alert.resolved_at == T0 + 120


def test_without_keep_firing_for_a_false_evaluation_resolves() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0)], clock)
    e.evaluate(cpu(90))
    clock.tick(5)
    assert moves(e.evaluate(cpu(10))) == [(FIRING, RESOLVED)]
    clock.tick(5)
    assert moves(e.evaluate(cpu(90))) == [(RESOLVED, FIRING)]
    assert e.alerts()[0].firing_since == T0 + 10


def test_missing_data_keeps_state_and_names_the_rule() -> None:
    clock = Clock()
    costs = Rule("BudgetNearlySpent", "costs.month_to_date_ratio_of_budget > 0.9",
                 Query("costs.month_to_date_ratio_of_budget", (), ">", 0.9))
    e = engine([cpu_rule(for_=0), costs], clock)
    e.evaluate(cpu(90))
    assert e.rules_without_data() == ("BudgetNearlySpent",)
    clock.tick(600)
    assert e.evaluate([]) == [], "no samples: not a recovery"
    assert e.rules_without_data() == ("HostCpuHigh", "BudgetNearlySpent")
    (alert,) = e.alerts()
    assert alert.state == FIRING and alert.last_evaluated == T0
    clock.tick(5)
    assert moves(e.evaluate(cpu(10))) == [(FIRING, RESOLVED)]


def test_samples_the_matchers_exclude_are_missing_data() -> None:
    clock = Clock()
    e = engine([lag_rule()], clock)
    e.evaluate(lag({"pg2": 90}))
    clock.tick(5)
    assert e.evaluate(lag({"pg2": 5}, cluster="other")) == []
    assert e.rules_without_data() == ("ReplicationLag",)
    assert e.alerts()[0].state == FIRING


def test_label_sets_are_separate_alerts() -> None:
    clock = Clock()
    e = engine([lag_rule()], clock)
    assert len(e.evaluate(lag({"pg2": 90, "pg3": 45, "pg1": 0}))) == 2
    members = sorted(a.label("member") for a in e.alerts())
    assert members == ["pg2", "pg3"]
    clock.tick(5)
    (t,) = e.evaluate(lag({"pg2": 90, "pg3": 10, "pg1": 0}))
    assert (dict(t.labels)["member"], t.to_state, t.value) == ("pg3", RESOLVED, 10.0)
    assert [(a.label("member"), a.state) for a in e.alerts()] == [("pg2", FIRING), ("pg3", RESOLVED)]


def test_rule_labels_override_sample_labels() -> None:
    clock = Clock()
    rule = lag_rule(labels=(("member", "any"), ("team", "db")), severity="critical")
    e = engine([rule], clock)
    sample_labels = (("cluster", "main"), ("member", "pg2"), ("severity", "low"))
    samples = [Sample("ha.lag_seconds", sample_labels, 99, T0)]
    e.evaluate(samples)
    (alert,) = e.alerts()
    assert dict(alert.labels) == {"alertname": "ReplicationLag", "cluster": "main", "member": "any",
                                  "severity": "critical", "team": "db"}


def test_wildcard_metric_rule() -> None:
    clock = Clock()
    rule = Rule("HttpErrors", "http.*.error_rate > 0.05", Query("http.*.error_rate", (), ">", 0.05))
    e = engine([rule], clock)
    samples = [Sample("http.api.error_rate", (("check", "api"),), 0.2, T0),
               Sample("http.web.error_rate", (("check", "web"),), 0.0, T0),
               Sample("http.api.up", (("check", "api"),), 1.0, T0)]
    e.evaluate(samples)
    assert [a.label("check") for a in e.alerts()] == ["api"]


def test_sorted_firing_then_pending_then_resolved_by_severity_then_newest() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0), lag_rule(), cpu_rule(name="Slow", for_=600, severity="info")], clock)
    e.evaluate(cpu(90) + lag({"pg2": 99}))
    clock.tick(10)
    e.evaluate(cpu(90) + lag({"pg2": 99, "pg3": 99}))
    clock.tick(10)
    e.evaluate(cpu(90) + lag({"pg2": 99}))
    order = [(a.name, a.label("member"), a.state) for a in e.alerts()]
    assert order == [("ReplicationLag", "pg2", FIRING), ("HostCpuHigh", "", FIRING),
                     ("Slow", "", PENDING), ("ReplicationLag", "pg3", RESOLVED)]


def test_silences_mute_matching_alerts_only_until_they_end() -> None:
    clock = Clock()
    e = engine([lag_rule()], clock)
    e.evaluate(lag({"pg2": 90, "pg3": 45, "db10": 50}))
    silence = e.silence((Matcher("member", "=~", "pg.*"),), 600, "failover drill", "ana")
    assert silence.starts_at == T0 and silence.ends_at == T0 + 600 and silence.created_by == "ana"
    muted = {a.label("member"): a.silenced_by for a in e.alerts()}
    assert muted == {"pg2": (silence.id,), "pg3": (silence.id,), "db10": ()}
    not_db = e.silence((Matcher("member", "!~", "db.*"), Matcher("alertname", "=", "ReplicationLag")),
                       60, "x", "bo")
    assert {a.label("member"): len(a.silenced_by) for a in e.alerts()} == {"pg2": 2, "pg3": 2, "db10": 0}
    clock.tick(60)
    assert {a.label("member"): a.silenced_by for a in e.alerts()}["pg2"] == (silence.id,)
    assert [s.id for s in e.silences()] == [silence.id, not_db.id], "the ended one is still listed"
    clock.tick(540)
    assert all(not a.silenced for a in e.alerts())


def test_expire_silence_unmutes_now() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0)], clock)
    e.evaluate(cpu(90))
    s = e.silence((Matcher("alertname", "=", "HostCpuHigh"),), 3600, "deploy", "ana")
    assert e.alerts()[0].silenced
    clock.tick(10)
    expired = e.expire_silence(s.id)
    assert expired is not None and expired.ends_at == T0 + 10
    assert not e.alerts()[0].silenced
    assert e.expire_silence("nope") is None
    clock.tick(86401)
    assert e.silences() == (), "expired silences are listed for the resolved retention only"


def test_silence_needs_matchers_and_a_duration() -> None:
    e = engine([cpu_rule()], Clock())
    with pytest.raises(ValueError):
        e.silence((), 60, "x", "ana")
    with pytest.raises(ValueError):
        e.silence((Matcher("a", "=", "b"),), 0, "x", "ana")


def test_acknowledgement_shows_and_is_cleared_on_resolve() -> None:
    clock = Clock()
    store = AlertStore(None, clock=clock)
    e = engine([cpu_rule(for_=0)], clock, store)
    e.evaluate(cpu(90))
    fp = e.alerts()[0].fingerprint
    assert e.acknowledge("0" * 16, "ana", "x") is None
    ack = e.acknowledge(fp, "ana", "looking at it")
    assert ack is not None and ack.at == T0
    (alert,) = e.alerts()
    assert (alert.acked_by, alert.ack_comment) == ("ana", "looking at it")
    clock.tick(5)
    e.evaluate(cpu(10))
    assert store.acks() == {}
    assert e.alerts()[0].acked_by == ""
    assert e.acknowledge(fp, "ana", "late") is None, "resolved alerts cannot be acknowledged"
    clock.tick(5)
    e.evaluate(cpu(95))
    assert e.alerts()[0].acked_by == "", "a new firing period starts unacknowledged"


def test_restart_keeps_firing_since_active_since_and_history(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    clock = Clock()
    rules = [cpu_rule(for_=0), lag_rule(for_=300)]
    first = engine(rules, clock, AlertStore(path, clock=clock))
    first.evaluate(cpu(90) + lag({"pg2": 90}))
    clock.tick(200)
    first.evaluate(cpu(91) + lag({"pg2": 91}))
    first.store.close()

    clock.tick(60)
    second = engine(rules, clock, AlertStore(path, clock=clock))
    by_name = {a.name: a for a in second.alerts()}
    assert by_name["HostCpuHigh"].state == FIRING and by_name["HostCpuHigh"].firing_since == T0
    assert by_name["HostCpuHigh"].values == (90.0, 91.0)
    assert by_name["ReplicationLag"].state == PENDING and by_name["ReplicationLag"].active_since == T0
    assert len(second.transitions()) == 2
    clock.tick(40)
    assert moves(second.evaluate(cpu(92) + lag({"pg2": 92}))) == [(PENDING, FIRING)], "no re-page of CPU"
    assert [(t.name, t.to_state) for t in second.transitions()] == [
        ("ReplicationLag", FIRING), ("ReplicationLag", PENDING), ("HostCpuHigh", FIRING)]


def test_rules_removed_from_config_are_dropped_on_load(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    clock = Clock()
    first = engine([cpu_rule(for_=0), lag_rule()], clock, AlertStore(path, clock=clock))
    first.evaluate(cpu(90) + lag({"pg2": 90}))
    first.acknowledge(first.alerts()[0].fingerprint, "ana", "")
    first.store.close()
    store = AlertStore(path, clock=clock)
    second = engine([cpu_rule(for_=0)], clock, store)
    assert [a.name for a in second.alerts()] == ["HostCpuHigh"]
    assert [row.name for row in store.load_alerts().values()] == ["HostCpuHigh"]
    assert store.acks() == {}


def test_persist_false_loads_but_writes_no_alerts_or_transitions(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    clock = Clock()
    writer = engine([cpu_rule(for_=0)], clock, AlertStore(path, clock=clock))
    writer.evaluate(cpu(90))
    viewer_store = AlertStore(path, clock=clock)
    viewer = engine([cpu_rule(for_=0), lag_rule()], clock, viewer_store, persist=False)
    assert viewer.alerts()[0].firing_since == T0
    clock.tick(5)
    viewer.evaluate(cpu(10) + lag({"pg2": 99}))
    assert {a.name: a.state for a in viewer.alerts()} == {"ReplicationLag": FIRING, "HostCpuHigh": RESOLVED}
    assert [row.state for row in viewer_store.load_alerts().values()] == [FIRING]
    assert len(viewer_store.transitions()) == 1
    s = viewer.silence((Matcher("alertname", "=", "HostCpuHigh"),), 600, "ops", "ana")
    lag_fp = next(a.fingerprint for a in viewer.alerts() if a.name == "ReplicationLag")
    assert viewer.acknowledge(lag_fp, "ana", "mine") is not None
    assert [x.id for x in writer.silences()] == [s.id], "the operator's actions are shared"
    assert lag_fp in writer.store.acks()


def test_resolved_alerts_are_forgotten_after_retention(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    clock = Clock()
    e = engine([cpu_rule(for_=0)], clock, AlertStore(path, clock=clock), resolved_retention=3600)
    e.evaluate(cpu(90))
    clock.tick(10)
    e.evaluate(cpu(10))
    clock.tick(3599)
    assert e.alerts()[0].state == RESOLVED
    clock.tick(1)
    assert e.alerts() == (), "hidden at once"
    e.evaluate([])
    assert e.store.load_alerts() == {}, "and forgotten on the next evaluation, missing data or not"


def test_values_keep_the_last_sixty() -> None:
    clock = Clock()
    e = engine([cpu_rule(for_=0)], clock)
    for i in range(100):
        clock.tick(1)
        e.evaluate(cpu(81.0 + i))
    values = e.alerts()[0].values
    assert len(values) == MAX_VALUES and values[-1] == 180.0 and values[0] == 121.0


def test_two_hundred_rules_over_two_thousand_samples_is_fast() -> None:
    clock = Clock()
    rules = [Rule(f"R{i}", f"m{i % 50}.v > 90", Query(f"m{i % 50}.v", (Matcher("zone", "=", f"z{i % 4}"),),
                                                     ">", 90.0), for_=60) for i in range(190)]
    rules += [Rule(f"W{i}", "m*.v", Query("*.v", (), ">", 99.5)) for i in range(10)]
    samples = [Sample(f"m{i % 50}.v", (("host", f"h{i}"), ("zone", f"z{i % 4}")), float(i % 100), T0)
               for i in range(2000)]
    e = engine(rules, clock)
    e.evaluate(samples)
    best = float("inf")
    for _ in range(5):
        clock.tick(5)
        started = time.perf_counter()
        e.evaluate(samples)
        best = min(best, time.perf_counter() - started)
    assert best < 0.05, f"evaluation took {best * 1000:.1f} ms"


def test_value_only_changes_are_written_every_save_every_and_on_flush() -> None:
    clock = Clock()
    store = AlertStore(None, clock=clock)
    e = engine([cpu_rule(for_=0)], clock, store)
    e.evaluate(cpu(90))
    (fp,) = store.load_alerts()
    clock.tick(5)
    e.evaluate(cpu(91))
    assert store.load_alerts()[fp].values == [90.0], "a state change is written at once, a value later"
    clock.tick(SAVE_EVERY)
    e.evaluate(cpu(92))
    assert store.load_alerts()[fp].values == [90.0, 91.0, 92.0]
    clock.tick(5)
    e.evaluate(cpu(93))
    e.flush()
    assert store.load_alerts()[fp].last_true == clock.now
    clock.tick(5)
    e.evaluate(cpu(10))
    assert store.load_alerts()[fp].state == RESOLVED, "and a resolve at once"

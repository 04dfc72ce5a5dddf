"""Kubernetes namespace costs: the OpenCost split and the month-to-date meter, to the cent.

Round default prices (0.04 per vCPU-hour, 0.005 per GiB-hour: 8 to 1) keep every
figure below checkable by hand; docs/costs-kubernetes.md walks the same numbers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from config.model import KubeCostSettings
from providers.costs.kube_costs import (
    IDLE,
    KubeCostMeter,
    NamespaceRate,
    NodeHourly,
    hours_in_month,
    namespace_costs,
    node_price,
)
from providers.costs.model import NamespaceCost
from providers.k8s.records import KubeNode, KubePod

GIB = 1024 ** 3
SETTINGS = KubeCostSettings(cpu_hour=0.04, memory_gib_hour=0.005)
PRICES = {("eu-west-1", "m5.xlarge"): 0.192}


def node_hourly_calls() -> tuple[list[tuple[str, str]], NodeHourly]:
    calls: list[tuple[str, str]] = []

    def node_hourly(region: str, instance_type: str) -> float | None:
        calls.append((region, instance_type))
        return PRICES.get((region, instance_type))

    return calls, node_hourly


def node(name: str, cores: float, gib: float, context: str = "prod", **labels: str) -> KubeNode:
    return KubeNode(context=context, name=name, ready="True", cpu_capacity=cores,
                    cpu_allocatable=cores - 0.1, memory_capacity=gib * GIB,
                    memory_allocatable=(gib - 1) * GIB, labels=tuple(sorted(labels.items())))


def pod(namespace: str, name: str, node_name: str, cores: float, gib: float, phase: str = "Running",
        context: str = "prod") -> KubePod:
    return KubePod(context=context, namespace=namespace, name=name, phase=phase, node=node_name,
                   cpu_request=cores, memory_request=gib * GIB)


KNOWN = node("node-a", 4, 16, **{"node.kubernetes.io/instance-type": "m5.xlarge",
                                 "topology.kubernetes.io/region": "eu-west-1"})
UNKNOWN = node("node-b", 2, 8, **{"node.kubernetes.io/instance-type": "x9.huge",
                                  "topology.kubernetes.io/region": "eu-west-1"})
PODS = [
    pod("shop", "web-1", "node-a", 1, 2),            # 1 x 0.032 + 2 x 0.004 = 0.040
    pod("shop", "web-2", "node-b", 0.5, 1),          # 0.5 x 0.04 + 1 x 0.005 = 0.025
    pod("shop", "pending-2", "node-b", 0.25, 0, phase="Pending"),  # bound: 0.010
    pod("shop", "pending-1", "", 4, 8, phase="Pending"),  # not scheduled: free
    pod("monitoring", "agent-1", "node-a", 0.25, 0.5),  # 0.008 + 0.002 = 0.010
    pod("monitoring", "agent-2", "node-b", 0.25, 0.5),  # 0.010 + 0.0025 = 0.0125
    pod("batch", "job-1", "node-a", 2, 4, phase="Succeeded"),  # finished: free
    pod("batch", "job-2", "node-b", 1, 1, phase="Failed"),
    pod("dev", "orphan", "node-gone", 1, 1),          # node not listed: defaults, 0.045
]


def by_namespace(rates: list[NamespaceRate]) -> dict[str, NamespaceRate]:
    return {r.namespace: r for r in rates}


# -- the split -------------------------------------------------------------------------


def test_a_known_node_price_is_split_in_the_ratio_of_the_default_prices() -> None:
    calls, node_hourly = node_hourly_calls()
    price = node_price(KNOWN, node_hourly=node_hourly, settings=SETTINGS)
    assert calls == [("eu-west-1", "m5.xlarge")]
    assert price.known and price.hourly == 0.192
    # 4 x 0.04 + 16 x 0.005 = 0.24 at the defaults; 0.192 / 0.24 = 0.8 of each.
    assert price.cpu_hour == pytest.approx(0.032) and price.memory_gib_hour == pytest.approx(0.004)
    assert 4 * price.cpu_hour + 16 * price.memory_gib_hour == pytest.approx(0.192)


def test_an_unknown_node_costs_its_capacity_at_the_default_prices() -> None:
    _, node_hourly = node_hourly_calls()
    price = node_price(UNKNOWN, node_hourly=node_hourly, settings=SETTINGS)
    assert not price.known
    assert (price.hourly, price.cpu_hour, price.memory_gib_hour) == (pytest.approx(0.12), 0.04, 0.005)


def test_the_beta_labels_name_the_price_and_a_node_without_labels_asks_nothing() -> None:
    calls, node_hourly = node_hourly_calls()
    beta = node("old", 4, 16, **{"beta.kubernetes.io/instance-type": "m5.xlarge",
                                 "failure-domain.beta.kubernetes.io/region": "eu-west-1"})
    assert node_price(beta, node_hourly=node_hourly, settings=SETTINGS).hourly == 0.192
    bare = node("kind-control-plane", 4, 16)
    assert not node_price(bare, node_hourly=node_hourly, settings=SETTINGS).known
    assert calls == [("eu-west-1", "m5.xlarge")]


def test_the_default_settings_give_opencosts_split() -> None:
    settings = KubeCostSettings()
    price = node_price(KNOWN, node_hourly=lambda r, t: 0.192, settings=settings)
    assert price.cpu_hour / price.memory_gib_hour == pytest.approx(0.031611 / 0.004237)
    assert 4 * price.cpu_hour + 16 * price.memory_gib_hour == pytest.approx(0.192)


# -- per namespace ---------------------------------------------------------------------


def test_two_nodes_several_namespaces_finished_pods_free_and_idle_the_rest() -> None:
    _, node_hourly = node_hourly_calls()
    rates = namespace_costs([KNOWN, UNKNOWN], PODS, node_hourly=node_hourly, settings=SETTINGS)
    assert [r.namespace for r in rates] == ["shop", "dev", "monitoring", IDLE]
    got = by_namespace(rates)
    assert "batch" not in got  # only finished pods: costs nothing, no row
    shop, dev, mon, idle = got["shop"], got["dev"], got["monitoring"], got[IDLE]
    assert (shop.pods, shop.cpu_request, shop.memory_request) == (3, 1.75, 3 * GIB)
    assert shop.hourly == pytest.approx(0.040 + 0.025 + 0.010)
    assert (dev.pods, dev.hourly) == (1, pytest.approx(0.045))
    assert (mon.pods, mon.cpu_request, mon.memory_request) == (2, 0.5, 1 * GIB)
    assert mon.hourly == pytest.approx(0.010 + 0.0125)
    # Idle: each node's price minus what its pods request (pods on unknown nodes aside).
    node_a_requested = 0.040 + 0.010
    node_b_requested = 0.025 + 0.010 + 0.0125
    assert idle.hourly == pytest.approx((0.192 - node_a_requested) + (0.12 - node_b_requested))
    assert idle.hourly == pytest.approx(0.2145)
    assert (idle.pods, idle.cpu_request, idle.memory_request) == (0, 2.75 + 1.0, (13.5 + 6.5) * GIB)
    # Everything adds up to the nodes plus the pod on the unlisted node.
    assert sum(r.hourly for r in rates) == pytest.approx(0.192 + 0.12 + 0.045)


def test_contexts_are_kept_apart_and_idle_closes_each() -> None:
    _, node_hourly = node_hourly_calls()
    nodes = [KNOWN, node("node-a", 2, 8, context="staging")]
    pods = [pod("shop", "web-1", "node-a", 1, 2),
            pod("shop", "web-1", "node-a", 1, 2, context="staging")]
    rates = namespace_costs(nodes, pods, node_hourly=node_hourly, settings=SETTINGS)
    assert [(r.context, r.namespace) for r in rates] == [
        ("prod", "shop"), ("prod", IDLE), ("staging", "shop"), ("staging", IDLE)]
    assert [round(r.hourly, 6) for r in rates] == [0.04, 0.152, 0.05, 0.07]


def test_an_overcommitted_resource_leaves_no_idle_of_that_resource() -> None:
    nodes = [node("small", 1, 4)]  # 0.04 + 0.02 = 0.06 an hour
    pods = [pod("shop", "big", "small", 1.5, 1)]  # bound by hand beyond capacity
    rates = by_namespace(namespace_costs(nodes, pods, node_hourly=lambda r, t: None, settings=SETTINGS))
    assert rates["shop"].hourly == pytest.approx(1.5 * 0.04 + 1 * 0.005)
    assert rates[IDLE].cpu_request == 0.0 and rates[IDLE].memory_request == 3 * GIB
    assert rates[IDLE].hourly == pytest.approx(3 * 0.005)


def test_no_nodes_no_idle_row_and_pods_at_the_defaults() -> None:
    rates = namespace_costs([], [pod("shop", "web-1", "node-a", 2, 4)], node_hourly=lambda r, t: 1.0,
                            settings=SETTINGS)
    assert [(r.namespace, round(r.hourly, 6)) for r in rates] == [("shop", 0.1)]


# -- the meter -------------------------------------------------------------------------


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def rate(namespace: str, hourly: float, context: str = "prod", pods: int = 1) -> NamespaceRate:
    return NamespaceRate(context, namespace, pods, 0.5, GIB, hourly)


def rows(costs: tuple[NamespaceCost, ...]) -> dict[str, tuple[float, float, float]]:
    return {c.namespace: (round(c.hourly, 9), round(c.month_to_date, 9), round(c.month_projection, 9))
            for c in costs}


def test_first_sight_assumes_the_rate_since_the_month_began_then_accrues_the_previous_rate() -> None:
    meter = KubeCostMeter(max_gap=7200)
    t0 = at("2026-11-11T00:00:00")  # 240 hours into a 720-hour month
    first = meter.update([rate("shop", 0.075), rate(IDLE, 0.2)], t0)
    assert rows(first) == {"shop": (0.075, 18.0, 54.0), IDLE: (0.2, 48.0, 144.0)}
    assert [c.namespace for c in first] == ["shop", IDLE]  # idle last despite the larger figure
    # One hour later the rate changed: the hour just past is charged at the old rate.
    second = meter.update([rate("shop", 0.1), rate(IDLE, 0.2)], t0 + 3600)
    assert rows(second)["shop"] == (0.1, 18.075, 72.0)
    assert rows(second)[IDLE] == (0.2, 48.2, 144.0)
    # A namespace appearing later is assumed to have cost its rate since the month began.
    third = meter.update([rate("shop", 0.1), rate("batch", 0.5), rate(IDLE, 0.2)], t0 + 7200)
    assert rows(third)["batch"] == (0.5, 0.5 * 242, 360.0)
    assert [c.namespace for c in third] == ["batch", "shop", IDLE]


def test_a_gap_longer_than_the_cap_accrues_only_the_cap() -> None:
    meter = KubeCostMeter(max_gap=2 * 3600)
    t0 = at("2026-11-01T00:00:00")
    meter.update([rate("shop", 1.0)], t0)
    after_suspend = meter.update([rate("shop", 1.0)], t0 + 10 * 3600)
    assert rows(after_suspend)["shop"][1] == 2.0
    backwards = meter.update([rate("shop", 1.0)], t0 + 5 * 3600)  # the clock went back
    assert rows(backwards)["shop"][1] == 2.0


def test_a_namespace_that_went_away_keeps_its_cost_this_month_at_rate_zero() -> None:
    meter = KubeCostMeter(max_gap=7200)
    t0 = at("2026-11-01T00:00:00")
    meter.update([rate("shop", 1.0), rate("tmp", 3.0)], t0)
    gone = meter.update([rate("shop", 1.0)], t0 + 3600)
    tmp = next(c for c in gone if c.namespace == "tmp")
    assert (tmp.pods, tmp.hourly, tmp.month_to_date, tmp.month_projection) == (0, 0.0, 3.0, 0.0)


def test_the_month_rolls_over_at_midnight_utc_splitting_the_interval() -> None:
    meter = KubeCostMeter(max_gap=7200)
    meter.update([rate("shop", 1.0)], at("2026-11-30T23:30:00"))
    december = meter.update([rate("shop", 2.0), rate("new", 4.0)], at("2026-12-01T00:30:00"))
    assert hours_in_month(at("2026-12-01T00:30:00")) == 744
    # shop was watched across midnight: half an hour of December at the old rate, nothing assumed.
    assert rows(december)["shop"] == (2.0, 0.5, 2.0 * 744)
    # new was first seen at 00:30: half an hour assumed at its rate.
    assert rows(december)["new"] == (4.0, 2.0, 4.0 * 744)


def test_a_rollover_while_suspended_starts_the_month_at_first_sight() -> None:
    meter = KubeCostMeter(max_gap=7200)
    meter.update([rate("shop", 1.0)], at("2026-11-30T20:00:00"))
    december = meter.update([rate("shop", 2.0)], at("2026-12-01T06:00:00"))
    # The two trusted hours after 20:00 were November's; December's six hours are assumed at 2.0.
    assert rows(december)["shop"] == (2.0, 12.0, 2.0 * 744)


def test_a_capped_gap_across_midnight_charges_the_new_month_only_its_trusted_part() -> None:
    meter = KubeCostMeter(max_gap=7200)
    meter.update([rate("shop", 1.0)], at("2026-11-30T23:00:00"))
    december = meter.update([rate("shop", 1.0)], at("2026-12-01T05:00:00"))
    # The 23:00 rate is trusted until 01:00: one hour of it is December's; 01:00 to 05:00 is not
    # charged (nobody watched), as within a month.
    assert rows(december)["shop"][1] == 1.0


def test_state_survives_json_and_a_restart_continues_the_month() -> None:
    meter = KubeCostMeter(max_gap=7200)
    t0 = at("2026-11-11T00:00:00")
    meter.update([rate("shop", 0.075), rate(IDLE, 0.2)], t0)
    meter.update([rate("shop", 0.1), rate(IDLE, 0.2)], t0 + 3600)
    saved = json.loads(json.dumps(meter.state()))
    restarted = KubeCostMeter(max_gap=7200)
    assert restarted.restore(saved)
    resumed = restarted.update([rate("shop", 0.1), rate(IDLE, 0.2)], t0 + 5400)
    continued = meter.update([rate("shop", 0.1), rate(IDLE, 0.2)], t0 + 5400)
    assert resumed == continued
    assert rows(resumed)["shop"] == (0.1, 18.125, 72.0)


def test_a_state_from_another_month_is_dropped_at_the_next_update() -> None:
    old = KubeCostMeter(max_gap=7200)
    old.update([rate("shop", 1.0), rate("tmp", 5.0)], at("2026-10-20T00:00:00"))
    meter = KubeCostMeter(max_gap=7200)
    assert meter.restore(old.state())
    now = at("2026-11-02T00:00:00")
    november = meter.update([rate("shop", 1.0)], now)
    assert rows(november) == {"shop": (1.0, 24.0, 720.0)}


@pytest.mark.parametrize("bad", [{}, {"version": 99}, {"version": 1, "rates": [["prod"]]},
                                 {"version": 1, "entries": "nonsense"}, {"version": 1, "last": "soon"}])
def test_a_state_that_is_not_one_is_refused_and_changes_nothing(bad: dict[str, object]) -> None:
    meter = KubeCostMeter(max_gap=7200)
    t0 = at("2026-11-11T00:00:00")
    meter.update([rate("shop", 1.0)], t0)
    before = meter.state()
    assert not meter.restore(bad)
    assert meter.state() == before


def test_the_worked_example_in_the_docs_is_what_the_code_computes() -> None:
    """docs/costs-kubernetes.md walks this cluster with the default prices: keep its figures true."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "costs-kubernetes.md").read_text(encoding="utf-8")
    doc = re.sub(r"\s+", " ", text)
    prices = {("us-east-1", "m5.xlarge"): 0.192}
    nodes = [node("node-a", 4, 16, **{"node.kubernetes.io/instance-type": "m5.xlarge",
                                      "topology.kubernetes.io/region": "us-east-1"}),
             node("node-b", 2, 8)]
    pods = [pod("shop", "web-1", "node-a", 1, 2), pod("shop", "web-2", "node-b", 0.5, 1),
            pod("monitoring", "agent-1", "node-a", 0.25, 0.5),
            pod("batch", "job-1", "node-a", 2, 4, phase="Succeeded")]
    rates = namespace_costs(nodes, pods, node_hourly=lambda r, t: prices.get((r, t)),
                            settings=KubeCostSettings())
    costs = KubeCostMeter(max_gap=7200).update(rates, at("2026-11-11T00:00:00"))
    for c in costs:
        row = (f"| {c.namespace} | {c.pods or ''} | {c.cpu_request:g} | {c.memory_request / GIB:g} GiB | "
               f"{c.hourly:.6f} | {c.month_to_date:.2f} | {c.month_projection:.2f} |")
        assert re.sub(r"\s+", " ", row) in doc
    a = node_price(nodes[0], node_hourly=lambda r, t: prices.get((r, t)), settings=KubeCostSettings())
    assert f"**{a.cpu_hour:.6f} per vCPU and {a.memory_gib_hour:.6f} per GiB**" in doc

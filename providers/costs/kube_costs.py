"""Kubernetes cost per namespace: the OpenCost allocation method over requests.

Each node's hourly price is split into a price per vCPU and per GiB in the ratio
of the default prices (`cpu_hour` : `memory_gib_hour`) over the node's capacity,
so a node whose cloud price is known costs exactly that price, and a node whose
price is unknown costs its capacity at the default prices. A pod costs its CPU
requests x its node's vCPU price plus its memory requests x its node's GiB price;
what no pod requests is the context's "(idle)" row. `KubeCostMeter` turns those
hourly rates into this month's cost while stacktop watches. docs/costs-kubernetes.md
has the method with a worked example.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from config.model import KubeCostSettings
from providers.costs.model import NamespaceCost
from providers.k8s.records import KubeNode, KubePod

GIB = 1024.0 ** 3
IDLE = "(idle)"
"""The namespace name of the row holding node capacity that no pod requests."""

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")

NodeHourly = Callable[[str, str], float | None]
"""(region, instance type) -> the node's price per hour, None when the price table lacks it."""


@dataclass(frozen=True, slots=True)
class NamespaceRate:
    """What one namespace costs per hour now (or, for IDLE, the capacity nobody requests)."""

    context: str
    namespace: str
    pods: int
    cpu_request: float
    """Cores requested by its running pods (IDLE: cores of capacity not requested)."""
    memory_request: float
    """Bytes requested (IDLE: bytes of capacity not requested)."""
    hourly: float


@dataclass(frozen=True, slots=True)
class NodePrice:
    """One node's hourly price and its split into a price per vCPU and per GiB."""

    hourly: float
    cpu_hour: float
    memory_gib_hour: float
    known: bool
    """True when the price came from node_hourly; False: capacity at the default prices."""


def _label(node: KubeNode, names: Sequence[str]) -> str:
    labels = dict(node.labels)
    return next((labels[n] for n in names if labels.get(n)), "")


def node_price(node: KubeNode, *, node_hourly: NodeHourly, settings: KubeCostSettings) -> NodePrice:
    """The node's price (cloud price from its labels, else capacity x default prices), split
    per vCPU and per GiB in the ratio of the default prices (OpenCost's split)."""
    cores = node.cpu_capacity or node.cpu_allocatable
    gib = (node.memory_capacity or node.memory_allocatable) / GIB
    at_defaults = cores * settings.cpu_hour + gib * settings.memory_gib_hour
    instance_type, region = _label(node, INSTANCE_TYPE_LABELS), _label(node, REGION_LABELS)
    price = node_hourly(region, instance_type) if instance_type and region else None
    if price is None:
        return NodePrice(at_defaults, settings.cpu_hour, settings.memory_gib_hour, False)
    # price = cores x cpu + gib x mem with cpu : mem = cpu_hour : memory_gib_hour.
    scale = price / at_defaults if at_defaults > 0 else 1.0
    return NodePrice(price, settings.cpu_hour * scale, settings.memory_gib_hour * scale, True)


def counts(pod: KubePod) -> bool:
    """Pods that hold node resources: running, or pending but already bound to a node."""
    return pod.phase == "Running" or (pod.phase == "Pending" and bool(pod.node))


def namespace_costs(nodes: Sequence[KubeNode], pods: Sequence[KubePod], *, node_hourly: NodeHourly,
                    settings: KubeCostSettings) -> list[NamespaceRate]:
    """Hourly cost per (context, namespace) from requests x node price share, plus an IDLE row
    per context with nodes. Pods on a node not (yet) listed are priced at the default prices.

    `nodes` and `pods` are the items of the k8s.nodes and k8s.pods snapshots (other records
    are skipped). Largest hourly first within a context, IDLE last; contexts by name.
    """
    prices: dict[tuple[str, str], NodePrice] = {}
    node_by_key: dict[tuple[str, str], KubeNode] = {}
    for node in nodes:
        if isinstance(node, KubeNode):
            key = (node.context, node.name)
            node_by_key[key] = node
            prices[key] = node_price(node, node_hourly=node_hourly, settings=settings)
    default = NodePrice(0.0, settings.cpu_hour, settings.memory_gib_hour, False)
    totals: dict[tuple[str, str], list[float]] = {}  # pods, cores, bytes, hourly
    requested: dict[tuple[str, str], list[float]] = {}  # per node: cores, bytes
    for pod in pods:
        if not isinstance(pod, KubePod) or not counts(pod):
            continue
        node_key = (pod.context, pod.node)
        price = prices.get(node_key, default)
        row = totals.setdefault((pod.context, pod.namespace), [0.0, 0.0, 0.0, 0.0])
        row[0] += 1
        row[1] += pod.cpu_request
        row[2] += pod.memory_request
        row[3] += pod.cpu_request * price.cpu_hour + pod.memory_request / GIB * price.memory_gib_hour
        if node_key in node_by_key:
            used = requested.setdefault(node_key, [0.0, 0.0])
            used[0] += pod.cpu_request
            used[1] += pod.memory_request
    idle: dict[str, list[float]] = {}  # per context: cores, bytes, hourly
    for key, node in node_by_key.items():
        price = prices[key]
        cores_req, bytes_req = requested.get(key, (0.0, 0.0))
        # Per resource, never below zero: an overcommitted resource leaves nothing idle.
        free_cores = max(0.0, (node.cpu_capacity or node.cpu_allocatable) - cores_req)
        free_bytes = max(0.0, (node.memory_capacity or node.memory_allocatable) - bytes_req)
        row = idle.setdefault(node.context, [0.0, 0.0, 0.0])
        row[0] += free_cores
        row[1] += free_bytes
        row[2] += free_cores * price.cpu_hour + free_bytes / GIB * price.memory_gib_hour
    rates = [NamespaceRate(context, namespace, int(r[0]), r[1], r[2], r[3])
             for (context, namespace), r in totals.items()]
    rates.extend(NamespaceRate(context, IDLE, 0, r[0], r[1], r[2]) for context, r in idle.items())
    return sorted(rates, key=lambda r: (r.context, r.namespace == IDLE, -r.hourly, r.namespace))


# -- the meter ------------------------------------------------------------------------


def month_of(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m")


def month_start(when: float) -> float:
    day = datetime.fromtimestamp(when, UTC)
    return datetime(day.year, day.month, 1, tzinfo=UTC).timestamp()


def hours_in_month(when: float) -> int:
    day = datetime.fromtimestamp(when, UTC)
    return calendar.monthrange(day.year, day.month)[1] * 24


@dataclass(slots=True)
class _Entry:
    """One namespace's cost this month."""

    accumulated: float = 0.0
    """Rate x hours over the time stacktop watched."""
    assumed: float = 0.0
    """The first-seen rate x the hours of the month before stacktop first saw it."""
    first_seen: float = 0.0


class KubeCostMeter:
    """This month's cost per namespace from hourly rates observed at each poll.

    Between two updates a namespace accrues the rate seen at the earlier one, for at most
    `max_gap` seconds: a suspended laptop or a stopped console does not invent cost for the
    time nobody watched. Intervals are split at UTC month boundaries; a new month starts
    from zero. When a namespace is first seen in a month, the hours of the month before
    that are charged at its first-seen rate: this ASSUMES its requests held since the
    month began (stated in docs/costs-kubernetes.md). A namespace that disappears keeps
    what it cost this month, at rate 0.
    """

    STATE_VERSION = 1

    def __init__(self, max_gap: float) -> None:
        self.max_gap = max_gap
        self._month = ""
        self._last: float | None = None
        self._rates: dict[tuple[str, str], NamespaceRate] = {}
        self._entries: dict[tuple[str, str], _Entry] = {}

    def update(self, rates: Iterable[NamespaceRate], now: float) -> tuple[NamespaceCost, ...]:
        """Accrue the previous rates up to `now`, adopt `rates`, and return this month's rows."""
        start = month_start(now)
        month = month_of(now)
        if month != self._month:
            self._month, self._entries = month, {}
        if self._last is not None:
            begin = max(self._last, start)
            end = min(now, self._last + self.max_gap)
            if end > begin:
                for key, rate in self._rates.items():
                    entry = self._entries.get(key)
                    if entry is None:  # watched since `begin` in this month
                        entry = self._entries[key] = _Entry(first_seen=begin)
                        entry.assumed = rate.hourly * (begin - start) / 3600.0
                    entry.accumulated += rate.hourly * (end - begin) / 3600.0
        self._rates = {(r.context, r.namespace): r for r in rates}
        for key, rate in self._rates.items():
            if key not in self._entries:
                self._entries[key] = _Entry(first_seen=now, assumed=rate.hourly * (now - start) / 3600.0)
        self._last = now
        return self._rows(now)

    def _rows(self, now: float) -> tuple[NamespaceCost, ...]:
        hours = hours_in_month(now)
        rows = []
        for key, entry in self._entries.items():
            rate = self._rates.get(key)
            rows.append(NamespaceCost(
                context=key[0], namespace=key[1], pods=rate.pods if rate else 0,
                cpu_request=rate.cpu_request if rate else 0.0,
                memory_request=rate.memory_request if rate else 0.0,
                hourly=rate.hourly if rate else 0.0,
                month_to_date=entry.accumulated + entry.assumed,
                month_projection=(rate.hourly if rate else 0.0) * hours,
            ))
        return tuple(sort_namespaces(rows))

    def state(self) -> dict[str, Any]:
        """JSON-able, for the provider's cache: restored after a restart."""
        return {
            "version": self.STATE_VERSION, "month": self._month, "last": self._last,
            "rates": [[r.context, r.namespace, r.pods, r.cpu_request, r.memory_request, r.hourly]
                      for r in self._rates.values()],
            "entries": [[c, n, e.accumulated, e.assumed, e.first_seen]
                        for (c, n), e in self._entries.items()],
        }

    def restore(self, state: Mapping[str, Any]) -> bool:
        """Take over a saved state; False (and nothing changed) when it is not one.

        A state from another month is accepted here and dropped at the next update, after
        the part of its last interval that falls in the new month (up to `max_gap`) accrued.
        """
        try:
            if state.get("version") != self.STATE_VERSION:
                return False
            last = state.get("last")
            last = None if last is None else float(last)
            rates = {(str(c), str(n)): NamespaceRate(str(c), str(n), int(p), float(cpu), float(mem), float(h))
                     for c, n, p, cpu, mem, h in state.get("rates", ())}
            entries = {(str(c), str(n)): _Entry(float(a), float(s), float(f))
                       for c, n, a, s, f in state.get("entries", ())}
            month = str(state.get("month", ""))
        except (AttributeError, TypeError, ValueError):
            return False
        self._month, self._last, self._rates, self._entries = month, last, rates, entries
        return True


def sort_namespaces(rows: Iterable[NamespaceCost]) -> list[NamespaceCost]:
    """Contexts by name; in each, the largest month to date first and IDLE last."""
    return sorted(rows, key=lambda r: (r.context, r.namespace == IDLE, -r.month_to_date, r.namespace))

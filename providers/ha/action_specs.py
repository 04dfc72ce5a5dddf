"""The HA actions, declared once for every Patroni cluster, and how a cluster
becomes their target.

One spec serves all clusters: the target names the cluster's provider
(`ha.<cluster>`), so the same key works on whichever cluster is selected.
Keys live in the HA tab's scope only.
"""

from __future__ import annotations

from datetime import datetime

from providers.base import ActionChoice, ActionSpec, ActionTarget, Risk, TextParameter
from providers.ha.model import HaSnapshot

PROVIDER_PREFIX = "ha."


def _parse_when(text: str) -> str:
    from providers.ha.patroni import parse_when  # the parser lives with the Patroni client

    return parse_when(text, datetime.now().astimezone())


SWITCHOVER = ActionSpec(
    "ha.switchover", "x", "Switchover",
    "Switch the leader over to a healthy replica (a few seconds without writes)",
    Risk.DISRUPTIVE, "ha", choice=ActionChoice("candidate", "New leader"),
)
SCHEDULE_SWITCHOVER = ActionSpec(
    "ha.schedule_switchover", "X", "Schedule switchover",
    "Schedule a switchover to a healthy replica at a given time",
    Risk.DISRUPTIVE, "ha", choice=ActionChoice("candidate", "New leader"),
    text=TextParameter("at", "When (in 30m, 02:00, or 2026-11-23T02:00+01:00)", _parse_when, "in 30m"),
)
CANCEL_SWITCHOVER = ActionSpec(
    "ha.cancel_switchover", "ctrl+x", "Cancel switchover", "Cancel the scheduled switchover",
    Risk.SAFE, "ha",
)
FAILOVER = ActionSpec(
    "ha.failover", "F", "Failover",
    "FAILOVER without the leader's consent: writes not yet replicated to the candidate are LOST",
    Risk.DESTRUCTIVE, "ha", choice=ActionChoice("candidate", "Promote"),
)
PATRONI_ACTIONS = (SWITCHOVER, SCHEDULE_SWITCHOVER, CANCEL_SWITCHOVER, FAILOVER)


def provider_name(cluster: str) -> str:
    return f"{PROVIDER_PREFIX}{cluster}"


def target_for(spec_id: str, snapshot: HaSnapshot, maximum_lag_bytes: int | None = None
               ) -> ActionTarget | str:
    """The cluster as the target of `spec_id`, or one line saying why it cannot be."""
    if snapshot.kind != "patroni":
        return f"{snapshot.cluster} is a {snapshot.kind} cluster: switchover and failover need Patroni"
    details = {"cluster": snapshot.cluster, "leader": snapshot.leader or "none"}
    if spec_id == CANCEL_SWITCHOVER.id:
        if not snapshot.scheduled_switchover:
            return f"{snapshot.cluster} has no scheduled switchover"
        details["scheduled"] = snapshot.scheduled_switchover
        return ActionTarget("cluster", snapshot.cluster, snapshot.cluster, details,
                            provider=provider_name(snapshot.cluster))
    if spec_id in (SWITCHOVER.id, SCHEDULE_SWITCHOVER.id) and not snapshot.leader:
        return f"{snapshot.cluster} has no leader to switch over from: use failover (F)"
    from providers.ha.model import Reading
    from providers.ha.patroni import candidates

    reading = Reading(members=snapshot.members, leader=snapshot.leader)
    lag_limit = maximum_lag_bytes if maximum_lag_bytes is not None else snapshot.max_failover_lag
    options = tuple(candidates(reading, lag_limit))
    if not any(not o.reason for o in options):
        reasons = "; ".join(f"{o.value}: {o.reason}" for o in options) or "no replicas"
        return f"{snapshot.cluster}: no member can take over ({reasons})"
    return ActionTarget("cluster", snapshot.cluster, snapshot.cluster, details, options=options,
                        provider=provider_name(snapshot.cluster))

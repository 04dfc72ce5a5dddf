"""The plain data every HA collector returns and the HA tab draws.

A collector (postgres, patroni, mysql, kubernetes operators) turns one round of
reads into a `Reading`: members with their role, state, upstream and lag, and
raw counters. The provider (providers/ha/provider.py) adds what needs memory
of earlier polls: rates from counter deltas, health, members that vanished,
and the event timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from providers.base import Sample, Snapshot, labels_of

# Roles, the same words for every engine (the detail pane shows the engine's own).
PRIMARY = "primary"
REPLICA = "replica"
SYNC_REPLICA = "sync_replica"
STANDBY_LEADER = "standby_leader"
UNKNOWN = "unknown"
LEADER_ROLES = frozenset({PRIMARY, STANDBY_LEADER})

# Health of a member and of a cluster.
OK, WARN, BAD = "ok", "warn", "bad"
HEALTHY, DEGRADED, BROKEN = "healthy", "degraded", "broken"


@dataclass(frozen=True, slots=True)
class Statement:
    """One row of pg_stat_statements: the slow-query view."""

    query: str
    calls: int
    total_ms: float
    mean_ms: float


@dataclass(frozen=True, slots=True)
class DbStats:
    """Database stats of one member. `counters` are monotonic totals the provider
    turns into per-second rates (e.g. "xact" -> "xact_per_s")."""

    connections: int | None = None
    max_connections: int | None = None
    by_state: tuple[tuple[str, int], ...] = ()
    counters: tuple[tuple[str, float], ...] = ()
    cache_hit_ratio: float | None = None
    longest_query_s: float | None = None
    longest_query: str = ""
    longest_xact_s: float | None = None
    lock_waiting: int | None = None
    threads_running: int | None = None
    database_sizes: tuple[tuple[str, int], ...] = ()
    top_statements: tuple[Statement, ...] = ()
    statements_note: str = ""
    """Why there are no top statements (e.g. "pg_stat_statements is not installed")."""


@dataclass(frozen=True, slots=True)
class Member:
    """One database server of a cluster, as last seen."""

    name: str
    host: str
    port: int | None
    role: str
    state: str
    reachable: bool = True
    upstream: str | None = None
    """Name of the member it replicates from; None for a leader or when unknown."""
    timeline: int | None = None
    lag_bytes: int | None = None
    lag_seconds: float | None = None
    replicating: bool | None = None
    """None: not a replica; False: a replica whose replication is broken."""
    error: str = ""
    """One line when something is wrong with this member (unreachable, SQL error)."""
    discovered: bool = False
    """Seen only in an upstream's replication list, not configured."""
    details: tuple[tuple[str, str], ...] = ()
    """Engine-specific facts for the detail pane, in order (label, value)."""
    stats: DbStats | None = None
    health: str = ""
    """Set by the provider: ok, warn or bad."""
    rates: tuple[tuple[str, float], ...] = ()
    """Set by the provider from counter deltas, e.g. ("xact_per_s", 12.5)."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One row of Patroni's /history: a timeline switch."""

    timeline: int
    lsn: int | None
    reason: str
    at: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What one collector read in one poll."""

    members: tuple[Member, ...]
    leader: str | None = None
    paused: bool = False
    scheduled_switchover: str = ""
    """"" when none; otherwise one line, e.g. "at 2026-11-22T10:00:00+00:00 from pg1 to pg2"."""
    history: tuple[HistoryEntry, ...] = ()
    problems: tuple[str, ...] = ()
    """One line each, what failed without failing the whole read (one URL down)."""


@dataclass(frozen=True, slots=True)
class HaEvent:
    """A change seen between two polls: role, timeline, member lost or back,
    replication broken or restored."""

    at: float
    cluster: str
    kind: str
    member: str
    text: str


@dataclass(frozen=True)
class HaSnapshot(Snapshot):
    """One cluster as the HA tab shows it."""

    cluster: str = ""
    kind: str = ""
    members: tuple[Member, ...] = ()
    leader: str | None = None
    health: str = HEALTHY
    summary: str = ""
    paused: bool = False
    scheduled_switchover: str = ""
    history: tuple[HistoryEntry, ...] = ()
    events: tuple[HaEvent, ...] = field(default_factory=tuple)
    problems: tuple[str, ...] = ()
    max_failover_lag: int | None = None
    """Patroni's maximum_lag_on_failover (bytes): a replica further behind may not take over."""

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    def metrics(self) -> Mapping[str, float]:
        """Per member: lag, connections and rates, for the sparklines."""
        out: dict[str, float] = {}
        for m in self.members:
            if m.lag_bytes is not None:
                out[f"{m.name}.lag_bytes"] = m.lag_bytes
            if m.lag_seconds is not None:
                out[f"{m.name}.lag_seconds"] = m.lag_seconds
            if m.stats is not None:
                if m.stats.connections is not None:
                    out[f"{m.name}.connections"] = m.stats.connections
                if m.stats.threads_running is not None:
                    out[f"{m.name}.threads_running"] = m.stats.threads_running
                if m.stats.cache_hit_ratio is not None:
                    out[f"{m.name}.cache_hit_ratio"] = m.stats.cache_hit_ratio
            for key, value in m.rates:
                out[f"{m.name}.{key}"] = value
        return out

    def alert_samples(self, provider: str) -> list[Sample]:
        """ha.<figure>{cluster, member}: one rule covers every member of every cluster.
        member_unreachable and replication_broken are 0/1, so `== 1` rules read plainly."""
        out: list[Sample] = []
        for m in self.members:
            labels = labels_of(cluster=self.cluster, member=m.name)
            figures: dict[str, float | None] = {
                "lag_seconds": m.lag_seconds,
                "lag_bytes": None if m.lag_bytes is None else float(m.lag_bytes),
                "member_unreachable": 0.0 if m.reachable else 1.0,
                "replication_broken": 1.0 if m.replicating is False else 0.0,
            }
            if m.stats is not None and m.stats.connections is not None:
                figures["connections"] = float(m.stats.connections)
            out += [Sample(f"ha.{key}", labels, value, self.taken_at)
                    for key, value in figures.items() if value is not None]
        out.append(Sample("ha.degraded", labels_of(cluster=self.cluster),
                          0.0 if self.health == HEALTHY else 1.0, self.taken_at))
        return out


class Collector(Protocol):
    """Reads one cluster. `read` raises only when nothing at all could be read
    (every member unreachable is still a Reading: members marked unreachable)."""

    async def read(self) -> Reading: ...

    async def close(self) -> None: ...

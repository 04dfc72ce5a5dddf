"""One provider per HA cluster (`ha.<name>`): a collector's reading plus what
needs memory of earlier polls — rates from counter deltas, health against the
lag thresholds, members that vanished (a dead former leader stays in the tree,
marked unreachable), and the event timeline.

After an action, and whenever the leader just changed, the provider polls
every `FOLLOW_GAP` seconds for `FOLLOW_FOR` seconds: a switchover shows within
a second or two of Patroni publishing it, not one interval later.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

from config.model import HaClusterSettings
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider
from providers.ha import model as m
from providers.ha.model import Collector, HaSnapshot, Member, Reading
from providers.ha.timeline import Timeline, detect

log = logging.getLogger(__name__)

FORGET_AFTER = 24 * 3600.0
"""A member gone from the cluster's own list is kept (unreachable) this long."""
FOLLOW_GAP = 1.0
FOLLOW_FOR = 30.0


class HaClusterProvider(Provider):
    def __init__(self, settings: HaClusterSettings, collector: Collector, timeline: Timeline, *,
                 stats_collector: Callable[[Sequence[Member]], Collector | None] | None = None,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        timeout = settings.connect_timeout + settings.statement_timeout + 2.0
        super().__init__(f"ha.{settings.name}", settings.interval, timeout)
        self.settings = settings
        self.collector = collector
        self.timeline = timeline
        self.min_gap = FOLLOW_GAP
        self._stats_factory = stats_collector
        self._stats: Collector | None = None
        self._stats_key: tuple[tuple[str, int | None], ...] = ()
        self._clock = clock
        self._monotonic = monotonic
        self._last: HaSnapshot | None = None
        self._counters: dict[str, tuple[float, dict[str, float]]] = {}
        self._seen: dict[str, tuple[float, Member]] = {}
        self._follow_until = 0.0

    # -- polling -------------------------------------------------------------

    async def poll(self) -> HaSnapshot:
        now = self._clock()
        try:
            reading = await self.collector.read()
        except Exception as exc:  # nothing answered: keep the last picture, marked unreachable
            if self._last is None:
                raise
            reading = self._unreachable_reading(str(exc) or type(exc).__name__)
        if self._stats_factory is not None:
            reading = await self._merge_stats(reading)
        members = self._with_vanished(reading.members, now)
        members = tuple(self._judge(self._with_rates(member, now)) for member in members)
        previous = self._last
        events = detect(self.settings.name, previous.members if previous else (),
                        previous.leader if previous else None, members, reading.leader, now)
        self.timeline.record(events)
        if previous is not None and reading.leader != previous.leader:
            self._follow_until = self._monotonic() + FOLLOW_FOR
        snapshot = HaSnapshot(
            taken_at=now, cluster=self.settings.name, kind=self.settings.engine, members=members,
            leader=reading.leader, health=cluster_health(members, reading.leader),
            summary=summary(members, reading.leader), paused=reading.paused,
            scheduled_switchover=reading.scheduled_switchover, history=reading.history,
            events=self.timeline.events(self.settings.name), problems=reading.problems,
            max_failover_lag=getattr(self.collector, "maximum_lag_on_failover", None),
        )
        self._last = snapshot
        if self._monotonic() < self._follow_until:
            self.wake()  # min_gap spaces these polls FOLLOW_GAP apart
        return snapshot

    def _unreachable_reading(self, error: str) -> Reading:
        assert self._last is not None
        members = tuple(dataclasses.replace(
            mem, reachable=False, state="unreachable", error=error, lag_seconds=None, lag_bytes=None,
            replicating=None if mem.replicating is None else False, stats=None)
            for mem in self._last.members)
        return Reading(members=members, leader=None, problems=(error,))

    async def _merge_stats(self, reading: Reading) -> Reading:
        """Patroni with pg_user: each member's own PostgreSQL for lag in seconds and stats."""
        assert self._stats_factory is not None
        key = tuple(sorted((mem.host, mem.port) for mem in reading.members if mem.host))
        if key != self._stats_key:
            if self._stats is not None:
                await self._stats.close()
            self._stats = self._stats_factory(reading.members)
            self._stats_key = key
        if self._stats is None:
            return reading
        try:
            extra = await self._stats.read()
        except Exception as exc:
            return dataclasses.replace(reading, problems=(*reading.problems, f"stats: {exc}"))
        by_addr = {(x.host, x.port): x for x in extra.members if x.reachable}
        merged = []
        for mem in reading.members:
            x = by_addr.get((mem.host, mem.port))
            if x is not None:
                mem = dataclasses.replace(
                    mem, stats=x.stats,
                    lag_seconds=mem.lag_seconds if mem.lag_seconds is not None else x.lag_seconds)
            merged.append(mem)
        return dataclasses.replace(reading, members=tuple(merged))

    def _with_vanished(self, members: Sequence[Member], now: float) -> tuple[Member, ...]:
        """Members the cluster no longer lists stay, unreachable, until FORGET_AFTER."""
        for mem in members:
            self._seen[mem.name] = (now, mem)
        present = {mem.name for mem in members}
        kept = list(members)
        for name, (seen_at, mem) in list(self._seen.items()):
            if name in present:
                continue
            if now - seen_at > FORGET_AFTER:
                del self._seen[name]
                continue
            was = f"last seen {time.strftime('%H:%M:%S', time.localtime(seen_at))} as {mem.role}"
            kept.append(dataclasses.replace(
                mem, reachable=False, state="unreachable", role=m.UNKNOWN, upstream=None,
                lag_bytes=None, lag_seconds=None, stats=None, rates=(),
                replicating=None if mem.replicating is None else False,
                error=f"no longer listed by the cluster ({was})",
                details=(("last seen", was), *mem.details)))
        return tuple(kept)

    def _with_rates(self, member: Member, now: float) -> Member:
        if member.stats is None or not member.stats.counters:
            return member
        current = dict(member.stats.counters)
        previous = self._counters.get(member.name)
        self._counters[member.name] = (now, current)
        if previous is None:
            return member
        then, before = previous
        elapsed = now - then
        if elapsed <= 0:
            return member
        rates = tuple((f"{k}_per_s", (v - before[k]) / elapsed) for k, v in current.items()
                      if k in before and v >= before[k])  # a restart resets counters: skip once
        return dataclasses.replace(member, rates=rates)

    def _judge(self, member: Member) -> Member:
        return dataclasses.replace(member, health=member_health(member, self.settings))

    # -- actions ---------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        if self.settings.engine != "patroni":
            return []
        from providers.ha.action_specs import PATRONI_ACTIONS

        return list(PATRONI_ACTIONS)

    def action_callable(self, action_id: str) -> ActionCallable:
        from providers.ha import action_specs as specs

        handlers = {specs.SWITCHOVER.id: self._switchover, specs.SCHEDULE_SWITCHOVER.id: self._switchover,
                    specs.FAILOVER.id: self._failover, specs.CANCEL_SWITCHOVER.id: self._cancel}
        if self.settings.engine != "patroni" or action_id not in handlers:
            raise KeyError(action_id)
        return handlers[action_id]

    def _candidate(self, target: ActionTarget) -> str:
        """The chosen candidate, checked again against the latest poll (the dialog may be old)."""
        from providers.ha.patroni import candidates

        candidate = target.params.get("candidate", "")
        last = self._last
        if last is None:
            raise ValueError("no poll of the cluster yet")
        reading = Reading(members=last.members, leader=last.leader)
        options = {o.value: o for o in candidates(reading, last.max_failover_lag)}
        option = options.get(candidate)
        if option is None:
            raise ValueError(f"{candidate or 'no candidate'} is not a member of {last.cluster}")
        if option.reason:
            raise ValueError(f"{candidate} cannot take over: {option.reason}")
        return candidate

    async def _switchover(self, target: ActionTarget) -> ActionResult:
        try:
            candidate = self._candidate(target)
            leader = self._last.leader if self._last else None
            if not leader:
                return ActionResult(False, f"{self.settings.name} has no leader: use failover")
            message = await self.collector.switchover(  # type: ignore[attr-defined]
                leader, candidate, target.params.get("at") or None)
        except Exception as exc:
            return ActionResult(False, f"Switchover failed: {exc}")
        self._follow()
        return ActionResult(True, message)

    async def _failover(self, target: ActionTarget) -> ActionResult:
        try:
            candidate = self._candidate(target)
            message = await self.collector.failover(candidate)  # type: ignore[attr-defined]
        except Exception as exc:
            return ActionResult(False, f"Failover failed: {exc}")
        self._follow()
        return ActionResult(True, message)

    async def _cancel(self, target: ActionTarget) -> ActionResult:
        try:
            message = await self.collector.cancel_switchover()  # type: ignore[attr-defined]
        except Exception as exc:
            return ActionResult(False, f"Cancel failed: {exc}")
        return ActionResult(True, message)

    def _follow(self) -> None:
        """Poll every second for a while: the new leader shows as soon as the cluster says so."""
        self._follow_until = self._monotonic() + FOLLOW_FOR
        self.wake()

    async def close(self) -> None:
        await self.collector.close()
        if self._stats is not None:
            await self._stats.close()


def member_health(member: Member, settings: HaClusterSettings) -> str:
    """ok, warn or bad, from reachability, replication and the lag thresholds."""
    if not member.reachable or member.replicating is False:
        return m.BAD
    lag_s = member.lag_seconds
    if lag_s is not None and lag_s > settings.lag_critical:
        return m.BAD
    if member.error:
        return m.WARN
    if lag_s is not None and lag_s > settings.lag_warn:
        return m.WARN
    if member.lag_bytes is not None and member.lag_bytes > settings.lag_warn_bytes:
        return m.WARN
    if member.state in WARN_STATES:
        return m.WARN
    return m.OK


WARN_STATES = frozenset({"stopped", "starting", "stopping", "restarting", "crashed", "start failed",
                         "restart failed", "initializing new cluster", "creating replica", "not ready"})


def cluster_health(members: Sequence[Member], leader: str | None) -> str:
    """broken: no leader (and no reachable primary: Galera is multi-primary) or nothing
    reachable; degraded: any member not ok; else healthy."""
    writable = leader or any(mem.reachable and mem.role in m.LEADER_ROLES for mem in members)
    if not writable or not any(mem.reachable for mem in members):
        return m.BROKEN
    if any(mem.health != m.OK for mem in members):
        return m.DEGRADED
    return m.HEALTHY


def summary(members: Sequence[Member], leader: str | None) -> str:
    up = sum(1 for mem in members if mem.reachable)
    replicas = [mem for mem in members if mem.name != leader and mem.reachable]
    worst_s = max((mem.lag_seconds for mem in replicas if mem.lag_seconds is not None), default=None)
    worst_b = max((mem.lag_bytes for mem in replicas if mem.lag_bytes is not None), default=None)
    primaries = [mem.name for mem in members if mem.reachable and mem.role in m.LEADER_ROLES]
    lead = (f"leader {leader}" if leader else f"multi-primary ({len(primaries)})" if len(primaries) > 1
            else "NO LEADER")
    parts = [f"{up}/{len(members)} up", lead]
    if worst_b is not None:
        parts.append(f"max lag {_bytes(worst_b)}")
    if worst_s is not None:
        parts.append(f"{worst_s:.1f} s")
    return ", ".join(parts)


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"

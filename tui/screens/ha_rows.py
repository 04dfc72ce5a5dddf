"""What the HA tab shows, as plain functions of HaSnapshots: the topology tree
(cluster row, then leader → its replicas → cascaded replicas), the table's
columns and rows, the summary line, the tab's label, the detail pane's facts
and sparklines, and the event timeline.

No Textual here (Rich text only): everything is easy to test on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text

from providers.ha.model import (
    BAD,
    BROKEN,
    DEGRADED,
    HEALTHY,
    LEADER_ROLES,
    OK,
    PRIMARY,
    REPLICA,
    STANDBY_LEADER,
    SYNC_REPLICA,
    UNKNOWN,
    WARN,
    HaEvent,
    HaSnapshot,
    Member,
)
from widgets.detail_pane import Field, SparkSpec
from widgets.formatting import human_bytes, human_duration, human_number, percent
from widgets.metric_spark import ASCII_RAMP, BLOCKS
from widgets.resource_table import Column

PROVIDER_PREFIX = "ha."

# -- cells that carry their health -----------------------------------------------------------


@dataclass(frozen=True)
class Tinted:
    """A cell's text and the health that colours it. Equal texts with another
    health are another value, so the table repaints the colour too."""

    text: str
    health: str = ""

    def __str__(self) -> str:
        return self.text


SEVERITY = {OK: "ok", WARN: "warn", BAD: "error", HEALTHY: "ok", DEGRADED: "warn", BROKEN: "error"}
"""Member health (ok/warn/bad) and cluster health (healthy/degraded/broken) as table colours."""


def tinted_severity(value: Any) -> str | None:
    return SEVERITY.get(getattr(value, "health", ""))


def member_health(member: Member) -> str:
    """The provider's judgement; an unreachable member it did not judge is bad."""
    if member.health:
        return member.health
    return BAD if not member.reachable or member.replicating is False else ""


# -- the tree --------------------------------------------------------------------------------

UNICODE_TREE = ("├─ ", "└─ ", "│  ", "   ")
ASCII_TREE = ("|- ", "`- ", "|  ", "   ")


def is_leader(snapshot: HaSnapshot, member: Member) -> bool:
    return member.name == snapshot.leader or member.role in LEADER_ROLES


def tree(snapshot: HaSnapshot, ascii: bool = False) -> list[tuple[Member, str]]:
    """Members in tree order with the glyphs before each name: the leader, then each
    of its replicas followed by the replicas cascading from it, depth first. A
    replica whose upstream is unknown (or not in the cluster) hangs under the
    leader, where streaming replicas are unless told otherwise; members that fit
    nowhere (no leader, a loop) follow as roots of their own."""
    tee, last, pipe, blank = ASCII_TREE if ascii else UNICODE_TREE
    names = {m.name for m in snapshot.members}
    leader = snapshot.leader if snapshot.leader in names else None
    if leader is None:
        leader = next((m.name for m in snapshot.members if m.role == PRIMARY), None)
    children: dict[str, list[Member]] = {}
    roots: list[Member] = []
    for m in snapshot.members:
        if m.name == leader or (m.role in LEADER_ROLES and m.upstream not in names):
            roots.append(m)
            continue
        parent = m.upstream if m.upstream in names and m.upstream != m.name else leader
        if parent is None:
            roots.append(m)
        else:
            children.setdefault(parent, []).append(m)
    roots.sort(key=lambda m: (m.name != leader, m.role not in LEADER_ROLES))
    out: list[tuple[Member, str]] = []
    seen: set[str] = set()

    def walk(member: Member, prefix: str, glyph: str) -> None:
        seen.add(member.name)
        out.append((member, prefix + glyph))
        kids = [k for k in children.get(member.name, ()) if k.name not in seen]
        below = prefix + ("" if not glyph else (pipe if glyph == tee else blank))
        for i, kid in enumerate(kids):
            if kid.name not in seen:
                walk(kid, below, last if i == len(kids) - 1 else tee)

    for root in roots:
        walk(root, "", "")
    for m in snapshot.members:  # a replication loop: nothing reached them from a root
        if m.name not in seen:
            walk(m, "", "")
    return out


# -- the table -------------------------------------------------------------------------------

COLUMNS = (
    Column("name", "Name", min_width=14, flex=1, kind="status", severity=tinted_severity),
    Column("endpoint", "Endpoint", min_width=12, flex=1),
    Column("role", "Role", width=11),
    Column("state", "State", width=11, kind="status", severity=tinted_severity),
    Column("timeline", "TL", width=3, align="right"),
    Column("lag", "Lag", width=9, align="right"),
    Column("lag_s", "Lag s", width=6, align="right"),
    Column("trend", "Lag trend", width=12),
)
TREND_MIN_WIDTH = 100
"""Below this many cells the lag sparkline column gives way (the detail pane has it)."""
TREND_POINTS = 12


def fit_columns(width: int) -> tuple[Column, ...]:
    return COLUMNS if width >= TREND_MIN_WIDTH else COLUMNS[:-1]


ROLE_TEXT = {PRIMARY: "primary", REPLICA: "replica", SYNC_REPLICA: "sync rep", STANDBY_LEADER: "stby leader",
             UNKNOWN: "unknown"}
ROLE_WORDS = {PRIMARY: "primary", REPLICA: "replica", SYNC_REPLICA: "synchronous replica",
              STANDBY_LEADER: "standby leader", UNKNOWN: "role unknown"}


def cluster_key(cluster: str) -> str:
    return cluster


def member_key(cluster: str, member: str) -> str:
    return f"{cluster}/{member}"


def split_key(key: str) -> tuple[str, str | None]:
    """(cluster, member) of a row key; member None for a cluster row."""
    cluster, _, member = key.partition("/")
    return cluster, member or None


def state_text(member: Member) -> str:
    return member.state if member.reachable else "unreachable"


BYTELESS_ENGINES = frozenset({"mysql", "mariadb"})
"""Engines that report replication lag in seconds only: no bytes column to fill."""


NOT_REPORTED = "—"
"""A replica's lag that was not read (unreachable, broken, or Patroni without a SQL login)."""


def lag_bytes_text(member: Member, leader: bool, kind: str = "") -> str:
    if leader or (member.lag_bytes is None and kind in BYTELESS_ENGINES):
        return ""
    return NOT_REPORTED if member.lag_bytes is None else human_bytes(member.lag_bytes)


def lag_seconds_text(member: Member, leader: bool) -> str:
    if leader:
        return ""
    return NOT_REPORTED if member.lag_seconds is None else human_duration(member.lag_seconds)


def spark_text(values: Sequence[float], width: int, ascii: bool = False) -> str:
    """The newest `width` values as one line of bars, scaled to their own maximum."""
    shown = list(values)[-width:]
    if not shown:
        return ""
    top = max(shown)
    ramp = ASCII_RAMP[1:] if ascii else BLOCKS
    steps = len(ramp) - 1
    return "".join(ramp[0] if top <= 0 or v <= 0 else ramp[min(steps, round(v / top * steps))] for v in shown)


def endpoint(member: Member) -> str:
    return f"{member.host}:{member.port}" if member.port is not None else member.host


def cluster_row(snapshot: HaSnapshot) -> tuple[Any, ...]:
    """`main  leader pg1 · 3 members · paused  patroni  healthy  4  1.2 MB  3s`: the worst
    replica lag of the cluster, the leader's timeline."""
    leader = snapshot.member(snapshot.leader) if snapshot.leader else None
    replicas = [m for m in snapshot.members if not is_leader(snapshot, m) and m.reachable]
    worst_bytes = max((m.lag_bytes for m in replicas if m.lag_bytes is not None), default=None)
    worst_seconds = max((m.lag_seconds for m in replicas if m.lag_seconds is not None), default=None)
    parts = [f"leader {snapshot.leader}" if snapshot.leader else "no leader",
             f"{len(snapshot.members)} member{'s' if len(snapshot.members) != 1 else ''}"]
    if snapshot.paused:
        parts.append("paused")
    if snapshot.scheduled_switchover:
        parts.append("switchover scheduled")
    return (
        Tinted(snapshot.cluster, snapshot.health),
        " · ".join(parts),
        snapshot.kind,
        Tinted(snapshot.health, snapshot.health),
        "" if leader is None or leader.timeline is None else str(leader.timeline),
        "" if worst_bytes is None else human_bytes(worst_bytes),
        "" if worst_seconds is None else human_duration(worst_seconds),
        "",
    )


def member_row(snapshot: HaSnapshot, member: Member, glyphs: str, trend: str) -> tuple[Any, ...]:
    health = member_health(member)
    leader = is_leader(snapshot, member)
    return (
        Tinted(f" {glyphs}{member.name}", health),
        endpoint(member),
        ROLE_TEXT.get(member.role, member.role),
        Tinted(state_text(member), health),
        "" if member.timeline is None else str(member.timeline),
        lag_bytes_text(member, leader, snapshot.kind),
        lag_seconds_text(member, leader),
        "" if leader else trend,  # a new leader's lag history is its past as a replica
    )


def missing_row(cluster: str, why: str) -> tuple[Any, ...]:
    """A configured cluster with no snapshot yet: waiting, or why its poll failed."""
    return (Tinted(cluster, BROKEN if why else ""), why or "waiting for the first poll…", "",
            Tinted("no data" if why else "…", BROKEN if why else ""), "", "", "", "")


def trend_series(cluster: str, member: str) -> tuple[str, str]:
    """The Store series the lag trend draws: bytes where the engine has them (PostgreSQL),
    else seconds (MySQL)."""
    base = f"{PROVIDER_PREFIX}{cluster}.{member}."
    return base + "lag_bytes", base + "lag_seconds"


class RowCache:
    """Rows of members that did not change are reused: a poll that moved one replica's
    lag formats one row. A row is reused when its member and its trend are equal
    (snapshots are new objects each poll, so identity would never hit)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Any, tuple[Any, ...]]] = {}

    def rows(self, snapshots: Iterable[tuple[str, HaSnapshot | None, str]],
             trends: Mapping[str, Sequence[float]], ascii: bool = False) -> list[tuple[str, tuple[Any, ...]]]:
        """`snapshots`: (cluster, snapshot or None, poll error) in display order;
        `trends`: member row key -> lag values for the sparkline."""
        out: list[tuple[str, tuple[Any, ...]]] = []
        fresh: dict[str, tuple[Any, tuple[Any, ...]]] = {}

        def cached(key: str, source: Any, build: Any) -> None:
            hit = self._rows.get(key)
            row = hit[1] if hit is not None and hit[0] == source else build()
            fresh[key] = (source, row)
            out.append((key, row))

        for cluster, snap, error in snapshots:
            key = cluster_key(cluster)
            if snap is None:
                cached(key, ("missing", error), lambda c=cluster, e=error: missing_row(c, e))
                continue
            header = (snap.cluster, snap.kind, snap.health, snap.leader, snap.paused,
                      snap.scheduled_switchover, snap.members)
            cached(key, header, lambda s=snap: cluster_row(s))
            for member, glyphs in tree(snap, ascii):
                mkey = member_key(cluster, member.name)
                trend = spark_text(trends.get(mkey, ()), TREND_POINTS, ascii)
                source = (member, glyphs, trend, snap.leader)
                cached(mkey, source, lambda s=snap, m=member, g=glyphs, t=trend: member_row(s, m, g, t))
        self._rows = fresh
        return out


# -- the summary line and the tab's label -----------------------------------------------------


def summary_line(snapshots: Iterable[tuple[str, HaSnapshot | None, str]]) -> Text:
    """One phrase per cluster, coloured by its health: `main healthy · shop degraded: db2 broken`."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    colours = {HEALTHY: "green", DEGRADED: "yellow", BROKEN: "bold red"}
    for i, (cluster, snap, error) in enumerate(snapshots):
        if i:
            out.append("  ·  ", style="dim")
        out.append(cluster, style="bold")
        if snap is None:
            if error:
                out.append(f" no data: {error}", style="bold red")
            else:
                out.append(" waiting…", style="dim")
            continue
        out.append(f" {snap.health}", style=colours.get(snap.health, ""))
        if snap.summary and snap.health != HEALTHY:
            out.append(f": {snap.summary}")
        if snap.paused:
            out.append(" (paused)", style="yellow")
    return out


def ha_problem(snapshot: object) -> str | None:
    """The first thing an HA snapshot could not read (one Patroni URL down), for the status line."""
    if not isinstance(snapshot, HaSnapshot) or not snapshot.problems:
        return None
    more = f" (+{len(snapshot.problems) - 1} more)" if len(snapshot.problems) > 1 else ""
    return snapshot.problems[0] + more


def tab_counts(healths: Iterable[str | None]) -> str:
    """`1 ok 1 !`: clusters healthy, and not (degraded, broken or not answering)."""
    seen = list(healths)
    if not seen:
        return ""
    ok = sum(1 for h in seen if h == HEALTHY)
    bad = len(seen) - ok
    return f"{ok} ok" + (f" {bad} !" if bad else "")


# -- the detail pane --------------------------------------------------------------------------

SPARKS = (
    SparkSpec("lag_bytes", "lag", warn=16 * 2**20),
    SparkSpec("lag_seconds", "lag s", warn=10, critical=60),
    SparkSpec("xact_per_s", "transactions/s"),
    SparkSpec("rows_per_s", "rows/s"),
    SparkSpec("queries_per_s", "queries/s"),
    SparkSpec("slow_queries_per_s", "slow queries/s", warn=1),
    SparkSpec("connections", "connections"),
)
"""The member sparklines the pane may show, in order; only those whose series exist
(the engine reports them) are shown."""


def spark_value(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    if key == "lag_bytes":
        return human_bytes(value)
    if key == "lag_seconds":
        return human_duration(value)
    if key.endswith("_per_s"):
        return f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return human_number(value)


def member_sparks(present: Iterable[str]) -> tuple[SparkSpec, ...]:
    """The SparkSpecs for the metrics a member has series for."""
    have = set(present)
    return tuple(s for s in SPARKS if s.key in have)


def _short(text: str, width: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def ratio_percent(ratio: float) -> str:
    """`99.2%` for 0.992 (a ratio); a collector that already reports percent (> 1) is shown as is."""
    return percent(ratio * 100 if ratio <= 1 else ratio)


def stats_fields(member: Member) -> list[Field]:
    stats = member.stats
    if stats is None:
        return []
    fields: list[Field] = []
    if stats.connections is not None:
        text = str(stats.connections)
        if stats.max_connections:
            text += f" of {stats.max_connections}"
        if stats.by_state:
            text += " · " + " · ".join(f"{state} {n}" for state, n in stats.by_state)
        fields.append(("connections", text))
    activity = []
    if stats.cache_hit_ratio is not None:
        activity.append(f"cache hit {ratio_percent(stats.cache_hit_ratio)}")
    if stats.lock_waiting is not None:
        activity.append(f"{stats.lock_waiting} waiting on locks")
    if stats.threads_running is not None:
        activity.append(f"{stats.threads_running} threads running")
    if activity:
        fields.append(("activity", " · ".join(activity)))
    longest = []
    if stats.longest_query_s is not None:
        query = f" ({_short(stats.longest_query, 50)})" if stats.longest_query else ""
        longest.append(f"query {human_duration(stats.longest_query_s)}{query}")
    if stats.longest_xact_s is not None:
        longest.append(f"transaction {human_duration(stats.longest_xact_s)}")
    if longest:
        fields.append(("longest", " · ".join(longest)))
    if stats.database_sizes:
        fields.append(("databases", " · ".join(f"{name} {human_bytes(size)}"
                                               for name, size in stats.database_sizes)))
    if stats.top_statements:
        for i, s in enumerate(stats.top_statements):
            fields.append(("top statements" if i == 0 else "",
                           f"{s.calls} calls · {s.total_ms / 1000:.1f} s total · {s.mean_ms:.1f} ms mean · "
                           f"{_short(s.query)}"))
    elif stats.statements_note:
        fields.append(("top statements", stats.statements_note))
    return fields


def member_detail(snapshot: HaSnapshot, member: Member) -> tuple[str, list[Field]]:
    """The pane's title and facts for a member: who it is and how it replicates first,
    then what is wrong, then the engine's own facts and its database stats."""
    leader = is_leader(snapshot, member)
    role = ROLE_WORDS.get(member.role, member.role)
    title = f"{member.name} · {role} in {snapshot.cluster} ({snapshot.kind})"
    state = [state_text(member)]
    if member.timeline is not None:
        state.append(f"timeline {member.timeline}")
    fields: list[Field] = [("state", " · ".join(state)), ("endpoint", endpoint(member))]
    if not leader:
        lag = " / ".join(x for x in (
            human_bytes(member.lag_bytes) if member.lag_bytes is not None else "",
            human_duration(member.lag_seconds) if member.lag_seconds is not None else "") if x)
        parts = [f"from {member.upstream}" if member.upstream else "upstream unknown"]
        if lag:
            parts.append(f"{lag} behind")
        if member.replicating is False:
            parts.append("replication BROKEN")
        fields.append(("replicates", " · ".join(parts)))
    if member.error:
        fields.append(("error", member.error))
    if member.discovered:
        fields.append(("discovered", "seen in an upstream's replication list, not configured"))
    fields += [(label, value) for label, value in member.details]
    fields += stats_fields(member)
    return title, fields


def history_time(at: str, tz: tzinfo | None) -> str:
    """Patroni's `2026-11-22T13:59:26.349548+00:00` as `2026-11-22 13:59` local time;
    a text that is not ISO 8601 is shown as it came."""
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return at
    if when.tzinfo is not None:
        when = when.astimezone(tz)
    return when.strftime("%Y-%m-%d %H:%M")


def cluster_detail(snapshot: HaSnapshot, tz: tzinfo | None = None) -> tuple[str, list[Field]]:
    """The pane for a cluster row: health and why, leader, paused or scheduled
    switchover, problems, then Patroni's timeline history, newest first."""
    title = f"{snapshot.cluster} · {snapshot.kind} cluster · {snapshot.health}"
    unreachable = sum(1 for m in snapshot.members if not m.reachable)
    members = f"{len(snapshot.members)}" + (f" ({unreachable} unreachable)" if unreachable else "")
    fields: list[Field] = []
    if snapshot.summary:
        fields.append(("health", f"{snapshot.health}: {snapshot.summary}"))
    fields += [("leader", snapshot.leader or "none"), ("members", members)]
    if snapshot.paused:
        fields.append(("paused", "yes: Patroni does not fail over or restart anything (maintenance)"))
    if snapshot.scheduled_switchover:
        fields.append(("switchover", snapshot.scheduled_switchover))
    for i, problem in enumerate(snapshot.problems):
        fields.append(("problems" if i == 0 else "", problem))
    for i, h in enumerate(sorted(snapshot.history, key=lambda h: h.timeline, reverse=True)):
        lsn = f" at LSN {h.lsn:X}" if h.lsn is not None else ""
        when = f"{history_time(h.at, tz)}: " if h.at else ""
        fields.append(("history" if i == 0 else "", f"timeline {h.timeline}{lsn} · {when}{h.reason or '—'}"))
    return title, fields


# -- the event timeline ------------------------------------------------------------------------

KIND_STYLES = (
    (("lost", "broken", "failover", "unreachable", "error", "failed", "vanished"), "bold red"),
    (("leader", "timeline", "switchover", "role", "promot", "demot", "paused", "scheduled"), "yellow"),
    (("back", "restored", "resumed", "recovered", "joined"), "green"),
)
"""The provider's event kinds (providers/ha/timeline.py: leader_changed, member_lost, …)
by the words in them, so a kind added later still gets a sensible colour."""


def kind_style(kind: str) -> str:
    """Bad news red, changes of leader or timeline yellow, recoveries green."""
    word = kind.lower()
    for needles, style in KIND_STYLES:
        if any(n in word for n in needles):
            return style
    return ""


def kind_text(kind: str) -> str:
    """`leader changed` for `leader_changed`."""
    return kind.replace("_", " ")


def event_time(at: float, now: float, tz: tzinfo | None) -> str:
    """Local time: `10:42:03` today, `11-17 10:42` on another day."""
    when = datetime.fromtimestamp(at, tz)
    if when.date() == datetime.fromtimestamp(now, tz).date():
        return when.strftime("%H:%M:%S")
    return when.strftime("%m-%d %H:%M")


def newest_events(snapshots: Iterable[HaSnapshot], limit: int) -> list[HaEvent]:
    """The newest `limit` events of every cluster, newest first."""
    merged = [e for s in snapshots for e in s.events]
    merged.sort(key=lambda e: e.at, reverse=True)
    return merged[:limit]


def timeline_text(events: Sequence[HaEvent], now: float, tz: tzinfo | None) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if not events:
        out.append("no events yet: role changes, failovers and broken replication show here", style="dim")
        return out
    cluster_width = max(len(e.cluster) for e in events)
    kind_width = max(len(kind_text(e.kind)) for e in events)
    for i, e in enumerate(events):
        if i:
            out.append("\n")
        out.append(event_time(e.at, now, tz).rjust(11), style="dim")
        out.append(f"  {e.cluster.ljust(cluster_width)}  ")
        out.append(kind_text(e.kind).ljust(kind_width), style=kind_style(e.kind))
        out.append(f"  {e.text}")
    return out

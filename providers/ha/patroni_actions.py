"""What the operator picks before a Patroni switchover or failover: the members
that can take over (and why the others cannot), and when a scheduled
switchover should happen.

Pure functions over a Reading, so the dialog, the provider and the tests agree
on eligibility without another round trip to Patroni.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from providers.base import ActionOption
from providers.ha.model import LEADER_ROLES, REPLICA, SYNC_REPLICA, Member, Reading

TAGS_LABEL = "tags"
"""Member.details label holding Patroni's tags, e.g. "nofailover, replicatefrom=pg1"."""

RUNNING_STATES = frozenset({"running", "streaming"})
"""Patroni's states of a member whose PostgreSQL can be promoted."""

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB")


def human_bytes(value: int) -> str:
    """1048576 -> "1 MB", 1536 -> "1.5 KB" (powers of 1024, as patronictl counts)."""
    size = float(value)
    for unit in _BYTE_UNITS:
        if abs(size) < 1024 or unit == _BYTE_UNITS[-1]:
            if unit == "B" or size == int(size):
                return f"{int(size)} {unit}"
            return f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_tags(tags: Mapping[str, object]) -> str:
    """Patroni's tags as one detail line: true flags by name, false flags left out,
    other values as key=value (nofailover, replicatefrom=pg1)."""
    parts = []
    for key, value in tags.items():
        if value is True:
            parts.append(str(key))
        elif value is False or value is None:
            continue
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def member_tags(member: Member) -> dict[str, str | bool]:
    """The tags a Member carries in its details (the inverse of format_tags)."""
    text = next((value for label, value in member.details if label == TAGS_LABEL), "")
    tags: dict[str, str | bool] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        tags[key] = value if sep else True
    return tags


def _label(member: Member) -> str:
    parts = [member.name, member.role, member.state or "unknown"]
    if member.role not in LEADER_ROLES:
        parts.append("lag unknown" if member.lag_bytes is None else f"lag {human_bytes(member.lag_bytes)}")
    return "  ".join(parts)


def _reason(member: Member, reading: Reading, sync_mode: bool, maximum_lag_bytes: int | None) -> str:
    if member.role in LEADER_ROLES or member.name == reading.leader:
        return "is the leader"
    if not member.reachable:
        return "unreachable"
    if member.state not in RUNNING_STATES:
        return f"state {member.state or 'unknown'}"
    tags = member_tags(member)
    if tags.get("nofailover") is True:
        return "tag nofailover"
    if str(tags.get("failover_priority", "")).strip() == "0":
        return "tag failover_priority 0"
    if sync_mode and member.role == REPLICA:
        return "not the sync standby (synchronous mode)"
    lag = member.lag_bytes
    if maximum_lag_bytes is not None and lag is not None and lag > maximum_lag_bytes:
        return f"lag {human_bytes(lag)} > maximum_lag_on_failover {human_bytes(maximum_lag_bytes)}"
    return ""


def candidates(reading: Reading, maximum_lag_bytes: int | None = None) -> list[ActionOption]:
    """Every member as a choice for the new leader; those Patroni would refuse carry
    the reason, so the dialog can show them greyed out instead of failing after
    the confirmation."""
    sync_mode = any(m.role == SYNC_REPLICA for m in reading.members)
    return [ActionOption(value=m.name, label=_label(m),
                         reason=_reason(m, reading, sync_mode, maximum_lag_bytes))
            for m in reading.members]


_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_DURATION_PART = re.compile(r"(\d+)\s*(sec|min|s|m|h|d)", re.IGNORECASE)
_DURATION = re.compile(r"(?:in\s+)?((?:\d+\s*(?:sec|min|s|m|h|d)\s*)+)", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_HOW = "type e.g. 'in 10m', '30m', '1h30m', '14:30' or 2026-11-22T10:00+01:00"


def _is_system_local(now: datetime) -> bool:
    return now.utcoffset() == now.astimezone().utcoffset()


def _wall_clock(now: datetime, day: date, hour: int, minute: int) -> datetime:
    """A wall-clock time on `day` in now's zone; the system zone's rules (DST) when
    `now` is local time, which is what datetime.now().astimezone() gives."""
    naive = datetime.combine(day, time(hour, minute))
    if now.tzinfo is None or _is_system_local(now):
        return naive.astimezone()
    return naive.replace(tzinfo=now.tzinfo)


def parse_when(text: str, now: datetime) -> str:
    """When a scheduled switchover should happen, as ISO 8601 with an offset (what
    Patroni requires); ValueError with one line for anything else or the past."""
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"say when: {_HOW}")
    if now.tzinfo is None:
        now = now.astimezone()
    when: datetime
    if duration := _DURATION.fullmatch(stripped):
        seconds = sum(int(n) * _UNIT_SECONDS[unit.lower()]
                      for n, unit in _DURATION_PART.findall(duration.group(1)))
        if seconds <= 0:
            raise ValueError(f"{stripped!r} is not in the future; {_HOW}")
        when = now + timedelta(seconds=seconds)
    elif clock := _CLOCK.fullmatch(stripped):
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"{stripped!r} is not a time of day (00:00 to 23:59)")
        when = _wall_clock(now, now.date(), hour, minute)
        if when <= now:
            when = _wall_clock(now, now.date() + timedelta(days=1), hour, minute)
    else:
        try:
            when = datetime.fromisoformat(stripped)
        except ValueError:
            raise ValueError(f"cannot read {stripped!r} as a time; {_HOW}") from None
        if when.tzinfo is None:
            when = (when.astimezone() if _is_system_local(now) else when.replace(tzinfo=now.tzinfo))
        if when <= now:
            raise ValueError(f"{when.isoformat(timespec='seconds')} is in the past "
                             f"(now {now.isoformat(timespec='seconds')})")
    return when.isoformat(timespec="seconds")

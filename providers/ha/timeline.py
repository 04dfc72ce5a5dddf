"""The failover timeline: what changed between two polls of a cluster, kept in
a small JSON-lines file so a restart does not forget last night's failover.

Detection compares successive member lists: the leader, the timeline, members
lost or back, replication broken or restored. The file is append-only; when it
grows past twice the kept number of events it is rewritten with the newest.
A torn or foreign line is skipped, never fatal: the timeline is a convenience,
the cluster's own state is the truth.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Iterable, Sequence

from providers.ha.model import HaEvent, Member

log = logging.getLogger(__name__)

LEADER_CHANGED = "leader_changed"
TIMELINE_CHANGED = "timeline_changed"
MEMBER_LOST = "member_lost"
MEMBER_BACK = "member_back"
REPLICATION_BROKEN = "replication_broken"
REPLICATION_RESTORED = "replication_restored"
KINDS = (LEADER_CHANGED, TIMELINE_CHANGED, MEMBER_LOST, MEMBER_BACK, REPLICATION_BROKEN,
         REPLICATION_RESTORED)


def detect(cluster: str, before: Sequence[Member], before_leader: str | None,
           after: Sequence[Member], after_leader: str | None, at: float) -> list[HaEvent]:
    """Events between two polls of one cluster (none on the first poll: `before` empty)."""
    if not before:
        return []
    events: list[HaEvent] = []
    if after_leader != before_leader:
        text = (f"leader {before_leader or 'none'} → {after_leader}" if after_leader
                else f"no leader (was {before_leader})")
        events.append(HaEvent(at, cluster, LEADER_CHANGED, after_leader or before_leader or "", text))
    old_tl = max((m.timeline for m in before if m.timeline is not None), default=None)
    new_tl = max((m.timeline for m in after if m.timeline is not None), default=None)
    if old_tl is not None and new_tl is not None and new_tl != old_tl:
        events.append(HaEvent(at, cluster, TIMELINE_CHANGED, after_leader or "",
                              f"timeline {old_tl} → {new_tl}"))
    old = {m.name: m for m in before}
    for m in after:
        prev = old.get(m.name)
        if prev is None:
            continue
        if prev.reachable and not m.reachable:
            events.append(HaEvent(at, cluster, MEMBER_LOST, m.name,
                                  f"{m.name} lost" + (f": {m.error}" if m.error else "")))
        elif not prev.reachable and m.reachable:
            events.append(HaEvent(at, cluster, MEMBER_BACK, m.name, f"{m.name} back ({m.role})"))
        if m.reachable and prev.replicating is True and m.replicating is False:
            events.append(HaEvent(at, cluster, REPLICATION_BROKEN, m.name,
                                  f"replication broken on {m.name}" + (f": {m.error}" if m.error else "")))
        elif prev.replicating is False and m.replicating is True:
            events.append(HaEvent(at, cluster, REPLICATION_RESTORED, m.name,
                                  f"replication restored on {m.name}"))
    return events


class Timeline:
    """Events of every cluster, newest last, bounded in memory and on disk."""

    def __init__(self, path: str, keep: int = 500) -> None:
        self.path = path
        self.keep = keep
        self._events: deque[HaEvent] = deque(maxlen=keep)
        self._lines_on_disk = 0
        self._loaded = False

    def _load(self) -> None:
        self._loaded = True
        if not self.path:
            return
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.readlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("HA timeline %s not read: %s", self.path, exc)
            return
        self._lines_on_disk = len(lines)
        for line in lines:
            try:
                raw = json.loads(line)
                event = HaEvent(float(raw["at"]), str(raw["cluster"]), str(raw["kind"]),
                                str(raw["member"]), str(raw["text"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash, or an edit: skip it
            self._events.append(event)

    def events(self, cluster: str | None = None, limit: int = 100) -> tuple[HaEvent, ...]:
        """The newest `limit` events (of one cluster), oldest first."""
        if not self._loaded:
            self._load()
        chosen = [e for e in self._events if cluster is None or e.cluster == cluster]
        return tuple(chosen[-limit:])

    def record(self, events: Iterable[HaEvent]) -> None:
        """Remember and append; a failing disk is logged, the events stay in memory."""
        if not self._loaded:
            self._load()
        new = list(events)
        if not new:
            return
        self._events.extend(new)
        if not self.path:
            return
        try:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
            if self._lines_on_disk + len(new) > 2 * self.keep:
                self._rewrite()
            else:
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.writelines(_line(e) for e in new)
                self._lines_on_disk += len(new)
        except OSError as exc:
            log.warning("HA timeline %s not written: %s", self.path, exc)

    def _rewrite(self) -> None:
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.writelines(_line(e) for e in self._events)
        os.replace(tmp, self.path)
        self._lines_on_disk = len(self._events)


def _line(event: HaEvent) -> str:
    return json.dumps({"at": round(event.at, 3), "cluster": event.cluster, "kind": event.kind,
                       "member": event.member, "text": event.text}, ensure_ascii=False) + "\n"

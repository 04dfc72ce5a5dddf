"""Who hears about which alert, and when: routing, grouping, dedup and delivery.

The rules are Alertmanager's, so people who know it are not surprised:

- Routes are tried in order; the first whose `match` (label equality, severity included) and
  `match_re` (fully anchored) both hold takes the alert, unless it says `continue`. An alert no
  route takes is not sent (counted in `unrouted`). No routes at all: every alert goes to every
  channel, with the default timings.
- Alerts of one route are grouped by the values of its `group_by` labels ("..." = all labels).
  A new group waits `group_wait` for companions, then sends; afterwards a channel hears again
  when new alerts fire or (send_resolved) its alerts resolve, once `group_interval` has passed
  since its last message; an unchanged group still firing is repeated after `repeat_interval`.
- Pending alerts are never sent. Silenced alerts count as not there: no message, no resolved
  message, and when the silence ends while it still fires it is new again. Acknowledged alerts
  are still listed but never cause a repeat. A resolved alert is reported once, then dropped.
- What each channel was last told about each group (and when) is kept in `state_path`, written
  atomically after each change, so a restart does not send the same thing again.

Decisions happen in `process()`, called after each rule evaluation (so timings have the
evaluation interval's granularity). It never waits: each (group, channel) message is its own
task with its own retries, and one message per (group, channel) is in flight at most. A slow or
failing channel delays nobody; one that finally failed is tried again after `group_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import re
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from config.model import ChannelSettings, RouteSettings
from config.redaction import redact as redact_text
from providers.alerts import channels as kinds
from providers.alerts.channels import Group, SendResult
from providers.alerts.model import FIRING, RESOLVED, SEVERITY_ORDER, Alert, Labels, NotificationRecord
from providers.alerts.notify_log import NotificationLog

log = logging.getLogger(__name__)

STATE_VERSION = 1
CLOSE_TIMEOUT = 10.0
"""How long close() lets messages in flight finish before cancelling them."""
DEFAULT_SENDER = "stacktop@localhost"


@dataclass(slots=True)
class _Sent:
    """What one channel was last told about one group: the firing alerts, and when."""

    route: int
    at: float
    firing: frozenset[str]


@dataclass(slots=True)
class _Group:
    route: int
    key: str
    labels: Labels
    first_seen: float
    firing: dict[str, Alert] = field(default_factory=dict)
    known: dict[str, Alert] = field(default_factory=dict)
    """The newest version of each alert still firing or still owed a resolved message."""


@dataclass(slots=True)
class _Bucket:
    """One process() call's alerts of one group."""

    route: int
    labels: Labels
    firing: dict[str, Alert] = field(default_factory=dict)
    resolved: dict[str, Alert] = field(default_factory=dict)
    silenced: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Job:
    pair: tuple[str, str]
    route: int
    channel: ChannelSettings
    group: Group
    decided_at: float
    firing: frozenset[str]


def _order(a: Alert) -> tuple[Any, ...]:
    return (SEVERITY_ORDER.get(a.severity, 9), a.name, a.labels)


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class Notifier:
    """Routes, groups, dedups and delivers alerts to the configured channels."""

    def __init__(self, channels: Sequence[ChannelSettings], routes: Sequence[RouteSettings],
                 log: NotificationLog, *, state_path: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 external_url: str = "", tls_context: ssl.SSLContext | None = None,
                 redact: Callable[[str], str] | None = None) -> None:
        self._channels = {c.name: c for c in channels}
        if redact is None:
            # Without the profile's redaction: the credential shapes and the channels' own secrets.
            secrets = frozenset(s for c in channels for s in (c.url, c.password, *(v for _, v in c.headers))
                                if s)
            redact = functools.partial(redact_text, secrets=secrets)
        self._redact: Callable[[str], str] = redact
        """Every payload and every log record passes through it (secrets never leave in a message)."""
        names = tuple(self._channels)
        self._routes: list[RouteSettings] = list(routes) or (
            [RouteSettings(channels=names)] if names else [])
        self._res = [self._compile(i, r) for i, r in enumerate(self._routes)]
        self._log = log
        self._state_path = Path(state_path) if state_path else None
        self._clock = clock
        self._sleep = sleep
        self._external_url = external_url
        self._tls_context = tls_context
        self._groups: dict[str, _Group] = {}
        self._sent: dict[tuple[str, str], _Sent] = {}
        self._failed: dict[tuple[str, str], float] = {}
        self._inflight: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._last: NotificationRecord | None = None
        self.unrouted = 0
        """Firing alerts in the last process() that no route takes."""
        for route in self._routes:
            for name in route.channels:
                if name not in self._channels:
                    log.warning("a route names channel %r, which is not configured: skipped", name)
        self._load()
        with contextlib.suppress(OSError):
            newest = self._log.recent(1)
            self._last = newest[0] if newest else None

    # -- routing -----------------------------------------------------------------------------------

    @staticmethod
    def _compile(index: int, route: RouteSettings) -> list[tuple[str, re.Pattern[str]]] | None:
        try:
            return [(k, re.compile(v)) for k, v in route.match_re]
        except re.error:
            log.warning("route %d has an invalid match_re: it matches nothing", index)
            return None

    def _route_indexes(self, labels: Labels) -> list[int]:
        have = dict(labels)
        out: list[int] = []
        for i, route in enumerate(self._routes):
            patterns = self._res[i]
            if patterns is None:
                continue
            if all(have.get(k, "") == v for k, v in route.match) and all(
                    p.fullmatch(have.get(k, "")) for k, p in patterns):
                out.append(i)
                if not route.continue_:
                    break
        return out

    def _group_of(self, route: int, labels: Labels) -> tuple[str, Labels]:
        by = self._routes[route].group_by
        have = dict(labels)
        chosen = tuple(labels) if "..." in by else tuple((k, have[k]) for k in by if have.get(k))
        return f"route{route}:{{" + ",".join(f"{k}={v}" for k, v in chosen) + "}", chosen

    # -- deciding ----------------------------------------------------------------------------------

    def process(self, alerts: Sequence[Alert], now: float | None = None) -> None:
        """Take the engine's current alerts and start whatever messages are due. Never waits."""
        now = self._clock() if now is None else now
        buckets: dict[str, _Bucket] = {}
        unrouted: set[str] = set()
        for a in alerts:
            if a.state not in (FIRING, RESOLVED):
                continue
            indexes = self._route_indexes(a.labels)
            if not indexes and a.state == FIRING and not a.silenced:
                unrouted.add(a.fingerprint)
            for index in indexes:
                key, labels = self._group_of(index, a.labels)
                bucket = buckets.setdefault(key, _Bucket(index, labels))
                if a.silenced:
                    bucket.silenced.add(a.fingerprint)
                elif a.state == FIRING:
                    bucket.firing[a.fingerprint] = a
                else:
                    bucket.resolved[a.fingerprint] = a
        self.unrouted = len(unrouted)
        changed = False
        for key in list(buckets.keys() | self._groups.keys()):
            bucket = buckets.get(key)
            if bucket is None:
                g = self._groups[key]
                bucket = _Bucket(g.route, g.labels)
            changed |= self._update(key, bucket, now)
        changed |= self._prune(now)
        if changed:
            self._save()

    def _update(self, key: str, bucket: _Bucket, now: float) -> bool:
        route = self._routes[bucket.route]
        names = [n for n in route.channels if n in self._channels]
        changed = False
        # Silenced: forget it was sent, so no resolved message follows and its return is news.
        for name in names:
            entry = self._sent.get((key, name))
            if entry and entry.firing & bucket.silenced:
                entry.firing = entry.firing - bucket.silenced
                changed = True
        told = set().union(*(e.firing for n in names if (e := self._sent.get((key, n)))))
        g = self._groups.get(key)
        if g is None:
            if not bucket.firing and not (told & bucket.resolved.keys()):
                return changed
            g = self._groups[key] = _Group(bucket.route, key, bucket.labels, first_seen=now)
        for fp in bucket.silenced:
            g.known.pop(fp, None)
        g.firing = dict(bucket.firing)
        g.known.update(bucket.firing)
        g.known.update({fp: a for fp, a in bucket.resolved.items() if fp in g.known or fp in told})
        for fp, a in list(g.known.items()):
            if a.state == FIRING and fp not in bucket.firing:
                # Gone from the engine's listing without a resolved state: it ended now.
                g.known[fp] = replace(a, state=RESOLVED, resolved_at=now)
        for name in names:
            job = self._decide(g, route, self._channels[name], now)
            if job is not None:
                self._start(job)
        owed: set[str] = set()
        for name in names:
            entry = self._sent.get((key, name))
            if entry is None:
                continue
            if route.send_resolved:
                gone = entry.firing - g.firing.keys()
                # Ended but unknown (e.g. gone while stacktop was down): nothing to report it with.
                # A channel that could not be told for a whole repeat_interval: give up on it.
                drop = gone if now - entry.at > route.repeat_interval else gone - g.known.keys()
                if drop:
                    entry.firing = entry.firing - drop
                    changed = True
                owed |= entry.firing - g.firing.keys()
        g.known = {fp: a for fp, a in g.known.items() if fp in g.firing or fp in owed}
        busy = any((key, n) in self._inflight for n in names)
        if not g.firing and not owed and not busy:
            del self._groups[key]
        return changed

    def _decide(self, g: _Group, route: RouteSettings, channel: ChannelSettings, now: float) -> _Job | None:
        pair = (g.key, channel.name)
        if pair in self._inflight or now - g.first_seen < route.group_wait:
            return None
        failed = self._failed.get(pair)
        if failed is not None and now - failed < route.group_interval:
            return None
        entry = self._sent.get(pair)
        firing = g.firing.keys()
        resolved: list[str] = []
        if entry is None:
            if not firing:
                return None
        else:
            if now - entry.at < route.group_interval:
                return None
            if route.send_resolved:
                resolved = [fp for fp in entry.firing - firing
                            if fp in g.known and g.known[fp].state != FIRING]
            new = bool(firing - entry.firing)
            repeat = (now - entry.at >= route.repeat_interval
                      and any(not a.acked_by for a in g.firing.values()))
            if not (new or resolved or repeat):
                return None
        group = Group(channel=channel.name, key=g.key, labels=g.labels,
                      firing=tuple(sorted(g.firing.values(), key=_order)),
                      resolved=tuple(sorted((g.known[fp] for fp in resolved),
                                            key=lambda a: (a.resolved_at or 0.0, _order(a)))),
                      external_url=self._external_url)
        return _Job(pair, g.route, channel, group, now, frozenset(firing))

    def _prune(self, now: float) -> bool:
        """Forget what was told about groups long gone (after their repeat_interval)."""
        drop = []
        for pair, entry in self._sent.items():
            key, name = pair
            if key in self._groups or pair in self._inflight:
                continue
            if (entry.route >= len(self._routes) or name not in self._channels
                    or now - entry.at > self._routes[entry.route].repeat_interval):
                drop.append(pair)
        for pair in drop:
            del self._sent[pair]
        for pair in [p for p in self._failed if p[0] not in self._groups]:
            del self._failed[pair]
        return bool(drop)

    # -- delivering --------------------------------------------------------------------------------

    def _start(self, job: _Job) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(job), name=f"notify {job.channel.name}")
        self._inflight[job.pair] = task

    async def _deliver(self, job: _Job) -> None:
        """Send with retries, then log the outcome; the pair counts as in flight until logged."""
        try:
            rec = await self._attempt(job)
            try:
                await asyncio.to_thread(self._log.record, rec)
            except OSError as exc:
                log.warning("cannot write the notification log %s: %s", self._log.path, exc.strerror)
        finally:
            self._inflight.pop(job.pair, None)

    async def _attempt(self, job: _Job) -> NotificationRecord:
        channel = job.channel
        started = time.monotonic()
        attempts, result = 0, SendResult(False, "not sent", False)
        try:
            payload = self._payload(job)
            for attempt in range(1, max(1, channel.attempts) + 1):
                attempts = attempt
                result = await self._send_once(channel, payload)
                if result.ok or not result.retryable or attempt >= channel.attempts:
                    break
                wait = channel.backoff * 2 ** (attempt - 1)
                if result.retry_after is not None:
                    if result.retry_after > kinds.MAX_RETRY_AFTER:
                        result = result._replace(detail=f"{result.detail} (retry after "
                                                        f"{result.retry_after:g} s)")
                        break
                    wait = result.retry_after
                await self._sleep(wait)
        except asyncio.CancelledError:
            result = SendResult(False, "cancelled: stacktop stopped", False)
            with contextlib.suppress(OSError):
                self._log.record(self._finish(job, result, attempts, started))
            raise
        except Exception as exc:  # a bug of ours must not kill the notifier
            result = SendResult(False, f"internal error ({type(exc).__name__})", False)
        return self._finish(job, result, attempts, started)

    def _finish(self, job: _Job, result: SendResult, attempts: int, started: float) -> NotificationRecord:
        """Advance the state (on success only) and say how it went; returns the log record."""
        detail = result.detail
        if not result.ok and attempts > 1:
            detail += f" ({attempts} attempts)" if " after " in detail else f" after {attempts} attempts"
        detail = self._redact(self._scrub(detail, job.channel))
        rec = NotificationRecord(at=self._clock(), channel=job.channel.name, kind=job.channel.kind,
                                 group=self._redact(job.group.key), status=job.group.status,
                                 fingerprints=job.group.fingerprints, ok=result.ok, attempts=attempts,
                                 detail=detail, duration=round(time.monotonic() - started, 3))
        if result.ok:
            self._sent[job.pair] = _Sent(job.route, job.decided_at, job.firing)
            self._failed.pop(job.pair, None)
            self._save()
            log.info("notified %s (%s) of %s: %s", job.channel.name, job.channel.kind,
                     self._redact(job.group.title), detail)
        else:
            self._failed[job.pair] = job.decided_at
            log.warning("notification to %s (%s) failed: %s", job.channel.name, job.channel.kind, detail)
        self._last = rec
        return rec

    def _payload(self, job: _Job) -> Any:
        """The message, with every text in it redacted (the email: subject and body)."""
        channel, group = job.channel, kinds.redact_group(job.group, self._redact)
        if channel.kind == "slack":
            return kinds.redact_payload(kinds.slack(group), self._redact)
        if channel.kind == "discord":
            return kinds.redact_payload(kinds.discord(group), self._redact)
        if channel.kind == "webhook":
            return kinds.redact_payload(kinds.webhook(group), self._redact)
        if channel.kind == "email":
            sender = channel.sender or (channel.username if "@" in (channel.username or "") else None)
            return kinds.email(group, sender or DEFAULT_SENDER, channel.recipients)
        raise ValueError(f"unknown channel kind {channel.kind!r}")

    async def _send_once(self, channel: ChannelSettings, payload: Any) -> SendResult:
        if channel.kind == "email":
            if not channel.host or not channel.recipients:
                return SendResult(False, "no host or recipients configured", False)
            return await kinds.send_email(channel, payload, self._tls_context)
        if not channel.url:
            return SendResult(False, "no url configured", False)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=True)
        return await kinds.send_http(self._session, channel.url, payload, dict(channel.headers),
                                     channel.timeout)

    @staticmethod
    def _scrub(text: str, channel: ChannelSettings) -> str:
        """Belt and braces: our details never quote secrets, but if one ever did, hide it."""
        secrets = [channel.url or "", channel.password or ""] + [v for _, v in channel.headers]
        if channel.url:
            parts = urlsplit(channel.url)
            secrets += [parts.path, parts.query]
        for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    # -- lifecycle and reading ---------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait for every message in flight (and those their completion starts) to finish."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight.values()), return_exceptions=True)

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Let messages in flight finish for up to `timeout` seconds, cancel the rest, close HTTP."""
        tasks = list(self._inflight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def recent(self, limit: int = 200) -> tuple[NotificationRecord, ...]:
        """The newest outcomes, newest first (from the log: other processes' sends included)."""
        return self._log.recent(limit)

    def for_alert(self, fingerprint: str, limit: int = 20) -> tuple[NotificationRecord, ...]:
        return self._log.for_alert(fingerprint, limit)

    def status(self, now: float | None = None) -> str:
        """One line for the Alerts tab and `stacktop agent`: "3 channels, 2 routes; last send 12s ago ok"."""
        if not self._channels:
            return "no channels configured"
        now = self._clock() if now is None else now
        parts = [f"{_plural(len(self._channels), 'channel')}, {_plural(len(self._routes), 'route')}"]
        if self.unrouted:
            verb = "matches" if self.unrouted == 1 else "match"
            parts.append(f"{_plural(self.unrouted, 'firing alert')} {verb} no route")
        if self._inflight:
            parts.append(f"{len(self._inflight)} sending")
        last = self._last
        if last is None:
            parts.append("nothing sent yet")
        elif last.ok:
            parts.append(f"last send {_ago(now - last.at)} ago ok")
        else:
            parts.append(f"last send {_ago(now - last.at)} ago failed ({last.channel}: {last.detail})")
        return "; ".join(parts)

    # -- state -------------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._state_path is None:
            return
        try:
            data = json.loads(self._state_path.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("notification state %s unreadable (%s): starting afresh", self._state_path,
                        type(exc).__name__)
            return
        entries = data.get("sent") if isinstance(data, dict) else None
        for item in entries if isinstance(entries, list) else ():
            try:
                pair = (str(item["group"]), str(item["channel"]))
                self._sent[pair] = _Sent(int(item["route"]), float(item["at"]),
                                         frozenset(str(f) for f in item["firing"]))
            except (KeyError, TypeError, ValueError):
                continue

    def _save(self) -> None:
        """Atomically: a crash leaves the old state or the new, never half of one."""
        if self._state_path is None:
            return
        data = {"version": STATE_VERSION,
                "sent": [{"group": k, "channel": n, "route": e.route, "at": e.at, "firing": sorted(e.firing)}
                         for (k, n), e in sorted(self._sent.items())]}
        path = self._state_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(data, f, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("cannot save the notification state %s: %s", path, exc.strerror)

"""A simulated three-member Patroni cluster behind Patroni's REST API, for `--demo`.

The HA provider talks to it exactly as to real Patroni 4.1 (the newest /cluster
shape: scope, lsn, receive/replay lag): every member has its own REST port
and `api_url`, /cluster, /history and /config read the same shared state, and
POST /switchover, POST /failover and DELETE /switchover answer with Patroni's
own status codes and texts (patroni/api.py). The cluster lives: WAL flows,
replica lag wanders with bursts of megabytes, now and then one replica falls
far behind, and every few minutes an automatic switchover opens a timeline.

`PatroniCluster` is the state machine (no I/O, a clock and a seeded RNG, so
tests drive it with `step()` and a fake clock); `PatroniSim` serves it with
aiohttp inside whatever event loop starts it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

PATRONI_VERSION = "4.1.4"
SERVER_VERSION = 160004
MB = 1024 * 1024
HISTORY_REASON = "no recovery target specified"


def format_lsn(lsn: int) -> str:
    """PostgreSQL's text form of an LSN, e.g. 5/1A2B3C."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


@dataclass
class SimMember:
    """One simulated Patroni member and its PostgreSQL."""

    name: str
    pg_port: int
    api_url: str = ""
    leader: bool = False
    pg_state: str = "running"
    """Patroni's postgres state: running, stopping, starting."""
    timeline: int = 1
    receive_lsn: int = 0
    replay_lsn: int = 0
    base_lag: float = 0.0
    burst: float = 0.0
    started_at: float = 0.0
    ready_at: float = 0.0
    """When a demoted leader, restarting as a replica, streams again."""


@dataclass
class _Episode:
    """One replica falling far behind and catching up again."""

    member: str
    start: float
    duration: float
    peak: float

    def lag(self, now: float) -> float:
        x = (now - self.start) / self.duration
        if x <= 0 or x >= 1:
            return 0.0
        return self.peak * (x / 0.6 if x < 0.6 else (1 - x) / 0.4)

    def bulk_rate(self, now: float) -> float:
        """Extra WAL per second on the leader while the lag builds (a bulk load)."""
        x = (now - self.start) / self.duration
        return 1.2 * self.peak / (0.6 * self.duration) if 0 <= x < 0.6 else 0.0


@dataclass
class _Operation:
    """A switchover or failover between its request and its outcome."""

    action: str
    leader: str
    candidate: str | None


@dataclass
class PatroniCluster:
    """The cluster's state and life; every method runs on one thread (the loop's)."""

    scope: str = "demo"
    members_count: int = 3
    seed: int = 1
    clock: Callable[[], float] = time.time
    switchover_every: float | None = 240.0
    """Seconds between automatic switchovers; None: only on request."""
    restart_seconds: float = 3.0
    synchronous_mode: bool = False
    maximum_lag_on_failover: int = 16 * MB
    members: dict[str, SimMember] = field(default_factory=dict)
    history: list[list[Any]] = field(default_factory=list)
    scheduled: dict[str, str] | None = None
    """{"at", "from", "to"} as /cluster shows it, while a switchover is scheduled."""
    paused: bool = False
    extra_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        now = self.clock()
        self._last = now
        self._scheduled_at: datetime | None = None
        self._operation: _Operation | None = None
        self._episode: _Episode | None = None
        self._pending_wal = 0.0
        self._next_episode = now + self.rng.uniform(45, 90)
        self._next_auto = now + self.switchover_every if self.switchover_every else math.inf
        self.wal_rate = 512 * 1024.0
        self.timeline = 3
        self.leader_lsn = 0x5_1A00_0000 + self.rng.randrange(0, 1 << 24)
        self.events: list[str] = []
        """What happened, one line each (for tests and the demo's log)."""
        for i in range(self.members_count):
            name = f"pg{i + 1}"
            m = SimMember(name=name, pg_port=5433 + i, leader=(i == 0), timeline=self.timeline,
                          started_at=now - 86400 * 3 + i * 60)
            m.base_lag = 0 if m.leader else self.rng.uniform(0, 64 * 1024)
            m.receive_lsn = m.replay_lsn = self.leader_lsn - int(m.base_lag)
            self.members[name] = m
        day = 86400
        self.history = [
            [1, 0x1_0300_0028, HISTORY_REASON, _iso(now - 9 * day), "pg2"],
            [2, 0x3_4C00_00A0, HISTORY_REASON, _iso(now - 2 * day), "pg1"],
        ]

    # ------------------------------------------------------------------ reading

    @property
    def leader(self) -> SimMember | None:
        return next((m for m in self.members.values() if m.leader), None)

    def sync_standby(self) -> str | None:
        if not self.synchronous_mode:
            return None
        replicas = [m for m in self.members.values() if not m.leader and self._streaming(m)]
        return min(replicas, key=lambda m: m.name).name if replicas else None

    def _streaming(self, m: SimMember) -> bool:
        return m.pg_state == "running" and not m.leader

    def lag_of(self, m: SimMember) -> int:
        return 0 if m.leader else max(0, self.leader_lsn - m.receive_lsn)

    def cluster_json(self) -> dict[str, Any]:
        """GET /cluster, as utils.cluster_as_json plus the scope."""
        sync = self.sync_standby()
        out: list[dict[str, Any]] = []
        for m in sorted(self.members.values(), key=lambda m: m.name):
            role = "leader" if m.leader else ("sync_standby" if m.name == sync else "replica")
            state = m.pg_state
            if not m.leader and m.pg_state == "running":
                state = "streaming"
            member: dict[str, Any] = {"name": m.name, "role": role, "state": state, "api_url": m.api_url,
                                      "host": "127.0.0.1", "port": m.pg_port, "timeline": m.timeline}
            if not m.leader:
                for prefix, lsn in (("receive_", m.receive_lsn), ("replay_", m.replay_lsn),
                                    ("", m.receive_lsn)):
                    member[f"{prefix}lag"] = max(0, self.leader_lsn - lsn)
                    member[f"{prefix}lsn"] = format_lsn(min(lsn, self.leader_lsn))
            out.append(member)
        result: dict[str, Any] = {"members": out}
        if self.paused:
            result["pause"] = True
        if self.scheduled:
            result["scheduled_switchover"] = dict(self.scheduled)
        result["scope"] = self.scope
        return result

    def history_json(self) -> list[list[Any]]:
        return [list(row) for row in self.history]

    def config_json(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "ttl": 30, "loop_wait": 10, "retry_timeout": 10,
            "maximum_lag_on_failover": self.maximum_lag_on_failover,
            "postgresql": {"use_pg_rewind": True, "use_slots": True,
                           "parameters": {"hot_standby": "on", "wal_level": "replica", "max_wal_senders": 10,
                                          "max_replication_slots": 10, "wal_log_hints": "on"}},
        }
        if self.synchronous_mode:
            config["synchronous_mode"] = True
        if self.paused:
            config["pause"] = True
        config.update(self.extra_config)
        return config

    def status_json(self, name: str) -> dict[str, Any]:
        """GET /patroni of one member (api.get_postgresql_status plus the status extras)."""
        m = self.members[name]
        now = self.clock()
        result: dict[str, Any] = {"state": m.pg_state}
        if m.pg_state in ("running", "starting"):
            result["postmaster_start_time"] = datetime.fromtimestamp(m.started_at, UTC).strftime(
                "%Y-%m-%d %H:%M:%S.%f+00:00")
            result["server_version"] = SERVER_VERSION
            if m.leader:
                result["role"] = "primary"
                result["xlog"] = {"location": self.leader_lsn}
                result["replication"] = [
                    {"usename": "replicator", "application_name": r.name, "client_addr": "127.0.0.1",
                     "state": "streaming", "sync_state": "sync" if r.name == self.sync_standby() else "async",
                     "sync_priority": 1 if r.name == self.sync_standby() else 0}
                    for r in sorted(self.members.values(), key=lambda r: r.name) if self._streaming(r)]
            else:
                result["role"] = "replica"
                result["xlog"] = {"received_location": m.receive_lsn, "replayed_location": m.replay_lsn,
                                  "replayed_timestamp": _iso(now - self.lag_of(m) / max(self.wal_rate, 1.0)),
                                  "paused": False}
                if m.name == self.sync_standby():
                    result["sync_standby"] = True
                if m.pg_state == "running":
                    result["replication_state"] = "streaming"
            result["timeline"] = m.timeline
        else:
            result["role"] = "primary" if m.leader else "replica"
        if self.leader is None:
            result["cluster_unlocked"] = True
        result["dcs_last_seen"] = int(now)
        result["database_system_identifier"] = "7301234567890123456"
        if self.paused:
            result["pause"] = True
        result["patroni"] = {"version": PATRONI_VERSION, "scope": self.scope, "name": name}
        return result

    # ------------------------------------------------------------------ life

    def step(self, dt: float | None = None) -> None:
        """Advance the cluster's life to the clock's now (or by `dt` seconds of it)."""
        now = self.clock()
        if dt is None:
            dt = max(0.0, now - self._last)
        self._last = now
        rng = self.rng
        drift = math.exp(rng.gauss(0, 0.25) * math.sqrt(dt))
        self.wal_rate = min(4 * MB, max(128 * 1024, self.wal_rate * drift))
        if self._episode is None and now >= self._next_episode and self._operation is None:
            sync = self.sync_standby()
            laggers = [m for m in self.members.values() if self._streaming(m) and m.name != sync]
            if laggers:
                victim = rng.choice(sorted(laggers, key=lambda m: m.name))
                self._episode = _Episode(victim.name, now, rng.uniform(20, 45), rng.uniform(40, 300) * MB)
                self.events.append(f"{victim.name} falls behind")
        if self._episode is not None and now >= self._episode.start + self._episode.duration:
            self.events.append(f"{self._episode.member} caught up")
            self._episode = None
            self._next_episode = now + rng.uniform(90, 240)
        # Lag needs WAL to lag behind: a write burst on the leader, which one replica cannot keep up with.
        written = self.wal_rate * dt
        emitted = self._pending_wal * (1 - 0.5 ** dt)
        self._pending_wal -= emitted
        written += emitted
        if self._episode is not None:
            written += self._episode.bulk_rate(now) * dt
        leader = self.leader
        if leader is not None and leader.pg_state == "running":
            self.leader_lsn += int(written)
            leader.receive_lsn = leader.replay_lsn = self.leader_lsn
        sync = self.sync_standby()
        for m in sorted(self.members.values(), key=lambda m: m.name):
            if m.leader:
                continue
            if m.pg_state == "starting" and now >= m.ready_at:
                m.pg_state = "running"
                m.timeline = self.timeline
            step_sd = 24 * 1024 * math.sqrt(dt)
            m.base_lag = min(256 * 1024, max(0.0, m.base_lag + rng.gauss(0, step_sd)))
            m.burst *= 0.5 ** (dt / 2.0)
            if m.name != sync and rng.random() < 1 - (1 - 0.04) ** dt:
                size = rng.uniform(1, 6) * MB
                m.burst += size
                self._pending_wal += size
            lag = m.base_lag + (0 if m.name == sync else m.burst)
            if self._episode is not None and self._episode.member == m.name:
                lag += self._episode.lag(now)
            if m.pg_state != "running":
                continue  # a restarting member's position stands still
            m.receive_lsn = max(m.receive_lsn, self.leader_lsn - int(lag))
            m.replay_lsn = max(m.replay_lsn, m.receive_lsn - int(rng.uniform(0, 48 * 1024)))
            m.replay_lsn = min(m.replay_lsn, m.receive_lsn)
        if self.scheduled is not None and self._scheduled_at is not None \
                and now >= self._scheduled_at.timestamp() and self._operation is None:
            self._run_scheduled()
        elif now >= self._next_auto and self._operation is None and not self.paused and not self.scheduled:
            self._next_auto = now + (self.switchover_every or math.inf)
            if leader is not None:
                best = self._best_candidate()
                if best is not None:
                    self._switch(leader, best, "automatic switchover")

    def _best_candidate(self, exclude: str | None = None) -> SimMember | None:
        sync = self.sync_standby()
        healthy = [m for m in self.members.values()
                   if self._streaming(m) and m.name != exclude and (sync is None or m.name == sync)
                   and self.lag_of(m) <= self.maximum_lag_on_failover]
        return min(healthy, key=lambda m: (self.lag_of(m), m.name)) if healthy else None

    def _switch(self, old: SimMember | None, new: SimMember, why: str, *, lossless: bool = True) -> None:
        """Promote `new`: a new timeline, a /history row, `old` restarts as a replica.

        A switchover lets the candidate catch up first; a failover promotes it
        where it is, and what it had not received is lost.
        """
        now = self.clock()
        end_lsn = self.leader_lsn if lossless else new.receive_lsn
        self.history.append([self.timeline, end_lsn, HISTORY_REASON, _iso(now), new.name])
        self.timeline += 1
        self.leader_lsn = end_lsn
        for m in self.members.values():
            m.receive_lsn = min(m.receive_lsn, end_lsn)
            m.replay_lsn = min(m.replay_lsn, m.receive_lsn)
            if m.pg_state == "running":
                m.timeline = self.timeline
        new.leader, new.pg_state, new.burst, new.base_lag = True, "running", 0.0, 0.0
        new.receive_lsn = new.replay_lsn = end_lsn
        if old is not None and old is not new:
            old.leader = False
            old.pg_state = "starting"
            old.ready_at = now + self.restart_seconds
            old.started_at = now
            old.receive_lsn = old.replay_lsn = end_lsn
        if self._episode is not None and self._episode.member == new.name:
            self._episode = None
            self._next_episode = now + self.rng.uniform(90, 240)
        self.events.append(f"{why}: {old.name if old else 'none'} -> {new.name} (timeline {self.timeline})")

    # ------------------------------------------------------------------ requests

    def request(self, action: str, body: dict[str, Any]) -> tuple[int, str, _Operation | None]:
        """Check a POST /switchover or /failover as api.do_POST_failover does.

        Returns (status, text, None) when answered at once (an error, or a
        scheduled switchover: 202), or (0, "", operation) to carry out.
        """
        leader = body.get("leader") or None
        candidate = body.get("candidate") or body.get("member") or None
        scheduled_at = body.get("scheduled_at")
        status, data = 400, ""
        if action == "failover" and not candidate:
            data = "Failover could be performed only to a specific candidate"
        elif action == "switchover" and not leader:
            data = "Switchover could be performed only from a specific leader"
        when: datetime | None = None
        if not data and scheduled_at:
            if action == "failover":
                data = "Failover can't be scheduled"
            elif self.paused:
                data = "Can't schedule switchover in the paused state"
            else:
                status, data, when = self._parse_schedule(scheduled_at, action)
        if not data and self.paused and not candidate:
            data = "Switchover is possible only to a specific candidate in a paused state"
        if action == "failover" and leader:
            action = "switchover"  # Patroni: a failover naming the leader is a switchover
        if not data and leader == candidate:
            data = "Switchover target and source are the same"
        if not data and not scheduled_at:
            data = self._failover_possible(leader, candidate, action)
            if data:
                status = 412
        if data:
            return status, data, None
        if self._operation is not None:
            return 503, "failed to write failover key into DCS", None
        if when is not None:
            self._scheduled_at = when
            self.scheduled = {"at": when.isoformat(), "from": str(leader)}
            if candidate:
                self.scheduled["to"] = str(candidate)
            self.events.append(f"switchover scheduled at {when.isoformat()}")
            return 202, "Switchover scheduled", None
        current = self.leader
        op = _Operation(action, current.name if current else "", candidate)
        self._operation = op
        if current is not None:
            current.pg_state = "stopping"
        return 0, "", op

    def _parse_schedule(self, text: Any, action: str) -> tuple[int, str, datetime | None]:
        try:
            when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            return 422, ("Unable to parse scheduled timestamp. "
                         "It should be in an unambiguous format, e.g. ISO 8601"), None
        if when.tzinfo is None:
            return 400, f"Timezone information is mandatory for the scheduled {action}", None
        if when.timestamp() < self.clock():
            return 422, f"Cannot schedule {action} in the past", None
        return 0, "", when

    def _failover_possible(self, leader: str | None, candidate: str | None, action: str) -> str:
        current = self.leader
        if leader and (current is None or current.name != leader):
            return "leader name does not match"
        sync = self.sync_standby()
        if candidate:
            if action == "switchover" and self.synchronous_mode and candidate != sync:
                return "candidate name does not match with sync_standby"
            if candidate not in self.members:
                return "candidate does not exists"
            pool = [self.members[candidate]]
        elif self.synchronous_mode:
            pool = [m for m in self.members.values() if m.name == sync]
            if not pool:
                return f"{action} is not possible: can not find sync_standby"
        else:
            pool = [m for m in self.members.values() if current is None or m.name != current.name]
            if not pool:
                return f"{action} is not possible: cluster does not have members except leader"
        if any(m.pg_state != "stopping" for m in pool):
            return ""
        return f"{action} is not possible: no good candidates have been found"

    def complete(self, op: _Operation) -> tuple[int, str]:
        """The outcome of an operation once its simulated delay is over (api.poll_failover_result)."""
        self._operation = None
        old = self.members.get(op.leader)
        if old is not None and old.pg_state == "stopping":
            old.pg_state = "running"
        if op.candidate:
            new: SimMember | None = self.members[op.candidate]
            if op.action == "switchover" and (not self._streaming(new)  # type: ignore[arg-type]
                                              or self.lag_of(new) > self.maximum_lag_on_failover):  # type: ignore[arg-type]
                new = None  # the leader finds no healthy candidate and stays (Patroni's ha loop)
        else:
            new = self._best_candidate(exclude=op.leader)
        if new is None or new.leader:
            self.events.append(f"{op.action} to {op.candidate or 'any'} failed")
            return 503, f"{op.action.title()} failed"
        self._switch(old if old is not None and old.leader else None, new, op.action,
                     lossless=op.action == "switchover")
        return 200, f'Successfully {op.action[:-4]}ed over to "{new.name}"'

    def cancel_scheduled(self) -> tuple[int, str]:
        """DELETE /switchover."""
        if self.scheduled is None:
            return 404, "no switchover is scheduled"
        self.scheduled = self._scheduled_at = None
        self.events.append("scheduled switchover deleted")
        return 200, "scheduled switchover deleted"

    def _run_scheduled(self) -> None:
        """A scheduled switchover at its time; Patroni drops it when it cannot be done."""
        assert self.scheduled is not None
        leader_name, candidate = self.scheduled.get("from"), self.scheduled.get("to")
        self.scheduled = self._scheduled_at = None
        leader = self.leader
        if leader is None or leader.name != leader_name:
            self.events.append("scheduled switchover dropped: leader name does not match")
            return
        if candidate:
            new: SimMember | None = self.members.get(candidate)
            if new is None or not self._streaming(new) or self.lag_of(new) > self.maximum_lag_on_failover:
                new = None
        else:
            new = self._best_candidate(exclude=leader.name)
        if new is None:
            self.events.append("scheduled switchover dropped: no healthy candidate")
            return
        self._switch(leader, new, "scheduled switchover")

    def patch_config(self, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH /config: `pause` (patronictl pause/resume) and any other key kept as given."""
        for key, value in body.items():
            if key == "pause":
                self.paused = bool(value)
            elif key == "maximum_lag_on_failover" and isinstance(value, int):
                self.maximum_lag_on_failover = value
            elif value is None:
                self.extra_config.pop(key, None)
            else:
                self.extra_config[key] = value
        return self.config_json()


# ---------------------------------------------------------------------- HTTP

_MEMBER = web.AppKey("member", str)
_HEALTH_PATHS = ("/", "/primary", "/master", "/read-write", "/leader", "/standby-leader", "/standby_leader",
                 "/replica", "/read-only", "/health", "/sync", "/synchronous", "/async", "/asynchronous",
                 "/liveness", "/readiness")


class PatroniSim:
    """Serves a PatroniCluster: one aiohttp site per member on 127.0.0.1, free ports.

    `start()` and `stop()` run in the caller's event loop; the life ticks every
    `tick` seconds (None: only explicit `cluster.step()` calls, for tests).
    """

    def __init__(self, cluster: PatroniCluster | None = None, *, tick: float | None = 1.0,
                 switchover_delay: float = 1.2, username: str | None = None,
                 password: str | None = None) -> None:
        self.cluster = cluster or PatroniCluster()
        self.tick = tick
        self.switchover_delay = switchover_delay
        self._auth_key = (base64.b64encode(f"{username}:{password}".encode()).decode()
                          if username is not None and password is not None else None)
        self._runners: list[web.AppRunner] = []
        self._life: asyncio.Task[None] | None = None
        self.urls: list[str] = []

    async def start(self) -> list[str]:
        """Listen (one port per member) and start the life; returns the members' base URLs."""
        try:
            for name, member in self.cluster.members.items():
                app = web.Application()
                app[_MEMBER] = name
                app.router.add_route("*", "/{tail:.*}", self._handle)
                runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                self._runners.append(runner)
                port = runner.addresses[0][1]
                url = f"http://127.0.0.1:{port}"
                member.api_url = f"{url}/patroni"
                self.urls.append(url)
        except BaseException:
            await self.stop()
            raise
        if self.tick:
            self._life = asyncio.get_running_loop().create_task(self._live(self.tick))
        return list(self.urls)

    async def stop(self) -> None:
        if self._life is not None:
            self._life.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._life
            self._life = None
        while self._runners:
            with contextlib.suppress(Exception):
                await self._runners.pop().cleanup()

    async def _live(self, tick: float) -> None:
        while True:
            await asyncio.sleep(tick)
            self.cluster.step()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.app[_MEMBER]
        path, method = request.path, request.method
        c = self.cluster
        if method == "GET":
            if path == "/cluster":
                return web.json_response(c.cluster_json())
            if path == "/history":
                return web.json_response(c.history_json())
            if path == "/config":
                return web.json_response(c.config_json())
            if path == "/patroni":
                return web.json_response(c.status_json(name))
            return web.json_response(c.status_json(name), status=self._health(name, path))
        if method in ("HEAD", "OPTIONS"):
            return web.Response(status=self._health(name, path))
        if method in ("POST", "DELETE", "PATCH"):
            denied = self._check_auth(request)
            if denied is not None:
                return denied
        if method == "POST" and path in ("/switchover", "/failover"):
            body = await self._json_body(request)
            if isinstance(body, web.Response):
                return body
            status, text, op = c.request(path[1:], body)
            if op is not None:
                await asyncio.sleep(self.switchover_delay)
                status, text = c.complete(op)
            return web.Response(status=status, text=text, content_type="text/html")
        if method == "DELETE" and path == "/switchover":
            status, text = c.cancel_scheduled()
            return web.Response(status=status, text=text, content_type="text/html")
        if method == "PATCH" and path == "/config":
            body = await self._json_body(request)
            if isinstance(body, web.Response):
                return body
            return web.json_response(c.patch_config(body))
        return web.Response(status=501, text=f"Unsupported method ('{method}')", content_type="text/html")

    def _health(self, name: str, path: str) -> int:
        """The health-check endpoints' status codes (api.do_GET), for this member."""
        c = self.cluster
        m = c.members[name]
        running = m.pg_state == "running"
        leader = m.leader and running
        replica = not m.leader and running
        sync = name == c.sync_standby()
        ok = {
            "/": leader, "/primary": leader, "/master": leader, "/read-write": leader, "/leader": m.leader,
            "/standby-leader": False, "/standby_leader": False, "/replica": replica,
            "/read-only": leader or replica, "/health": running, "/sync": replica and sync,
            "/synchronous": replica and sync, "/async": replica and not sync,
            "/asynchronous": replica and not sync, "/liveness": True, "/readiness": running,
        }.get(path, False) if path in _HEALTH_PATHS else False
        return 200 if ok else 503

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self._auth_key is None:
            return None
        header = request.headers.get("Authorization")
        if not header:
            reason = "no auth header received"
        elif not header.startswith("Basic ") or not hmac.compare_digest(header[6:], self._auth_key):
            reason = "not authenticated"
        else:
            return None
        return web.Response(status=401, text=reason, content_type="text/html",
                            headers={"WWW-Authenticate": 'Basic realm="Patroni"'})

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
        if request.content_length is None:
            return web.Response(status=411, text="Length Required", content_type="text/html")
        try:
            body = json.loads(await request.text())
        except ValueError:
            body = None
        if isinstance(body, dict) and body:
            return body
        return web.Response(status=400, text="Bad request", content_type="text/html")


def scheduled_in(cluster: PatroniCluster, seconds: float) -> str:
    """An ISO timestamp `seconds` after the cluster's now, for scheduled_at."""
    return (datetime.fromtimestamp(cluster.clock(), UTC) + timedelta(seconds=seconds)).isoformat()

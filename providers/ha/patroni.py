"""Patroni's REST API: the cluster as its members see it, and the switchover,
failover and cancel calls.

Any member's API describes the whole cluster (GET /cluster reads the DCS), so
one answering URL is enough; the members' own api_url values are remembered so
that a dead configured leader does not blind us. Parsing is kept in pure
functions (`parse_reading`, `parse_history`) the unit tests feed recorded JSON.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from providers.ha.model import (
    PRIMARY,
    REPLICA,
    STANDBY_LEADER,
    SYNC_REPLICA,
    UNKNOWN,
    HistoryEntry,
    Member,
    Reading,
)
from providers.ha.patroni_actions import TAGS_LABEL, candidates, format_tags, human_bytes, parse_when

__all__ = ["PatroniCollector", "PatroniError", "candidates", "parse_history", "parse_reading", "parse_when"]

HISTORY_KEPT = 20
ACTION_TIMEOUT = 60.0
"""Patroni answers a switchover only once it is done (it polls for up to ~20 s)."""
DEFAULT_MAXIMUM_LAG_ON_FAILOVER = 1048576
"""Patroni's own default when /config does not set it."""
AUTH_MESSAGE = "Patroni REST API refused the credentials — check ha.clusters[].patroni.username/password"

ROLES = {
    "leader": PRIMARY,
    "master": PRIMARY,
    "primary": PRIMARY,
    "promoted": PRIMARY,
    "standby_leader": STANDBY_LEADER,
    "sync_standby": SYNC_REPLICA,
    "quorum_standby": SYNC_REPLICA,
    "replica": REPLICA,
}
_DOWN_STATES = frozenset({"stopped", "stopping", "crashed", "start failed", "starting", "restarting",
                          "creating replica", "initializing new cluster", "in archive recovery",
                          "restart failed", "stop failed", "unknown"})


class PatroniError(Exception):
    """One line saying what to fix; never carries a password."""


class _Failed(Exception):
    """One URL did not give us what we asked for (the reason is one line)."""

    def __init__(self, reason: str, *, auth: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.auth = auth


# --- URLs -----------------------------------------------------------------------------------------

def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """The URL without user:password@ (which must never be shown) and what it held."""
    parts = urlsplit(url.strip())
    if parts.username is None and parts.password is None:
        return url.strip().rstrip("/"), None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)).rstrip("/")
    return clean, parts.username, parts.password


def api_base(api_url: str) -> str:
    """A member's api_url ("http://10.0.0.1:8008/patroni") as the base we call paths on."""
    base = api_url.strip().rstrip("/")
    return base[: -len("/patroni")] if base.endswith("/patroni") else base


# --- parsing --------------------------------------------------------------------------------------

def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _one_line(text: Any, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _server_version(number: Any) -> str:
    """150004 -> "15.4", 90624 -> "9.6.24"."""
    value = _int(number)
    if value is None:
        return str(number)
    if value >= 100000:
        return f"{value // 10000}.{value % 10000}"
    return f"{value // 10000}.{value // 100 % 100}.{value % 100}"


def parse_history(rows: Any) -> tuple[HistoryEntry, ...]:
    """/history rows [timeline, lsn, reason, timestamp, (new_leader)] → entries,
    newest last, the last HISTORY_KEPT of them. Malformed rows are skipped."""
    entries = []
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, list | tuple) or not row:
            continue
        timeline = _int(row[0])
        if timeline is None:
            continue
        reason = _one_line(row[2]) if len(row) > 2 and row[2] is not None else ""
        if len(row) > 4 and row[4]:
            reason = f"{reason}; new leader {row[4]}" if reason else f"new leader {row[4]}"
        at = str(row[3]) if len(row) > 3 and row[3] is not None else ""
        entries.append(HistoryEntry(timeline=timeline, lsn=_int(row[1]) if len(row) > 1 else None,
                                    reason=reason, at=at))
    entries.sort(key=lambda e: e.timeline)
    return tuple(entries[-HISTORY_KEPT:])


def parse_maximum_lag(config: Any) -> int | None:
    """maximum_lag_on_failover from /config (Patroni's default when it is not set)."""
    if not isinstance(config, Mapping):
        return None
    if "maximum_lag_on_failover" not in config:
        return DEFAULT_MAXIMUM_LAG_ON_FAILOVER
    return _int(config.get("maximum_lag_on_failover"))


def _scheduled_line(scheduled: Any) -> str:
    if not isinstance(scheduled, Mapping):
        return ""
    parts = [f"at {scheduled.get('at', '?')}"]
    if scheduled.get("from"):
        parts.append(f"from {scheduled['from']}")
    if scheduled.get("to"):
        parts.append(f"to {scheduled['to']}")
    return " ".join(parts)


def _replicating(state: str, name: str, upstream: str | None, leader: str | None,
                 walsenders: Mapping[str, Mapping[str, Any]] | None) -> bool:
    """Whether a replica receives WAL. Patroni 4 says "streaming"; Patroni 3 only says
    "running", so the leader's walsender list (GET /patroni) settles it when we have it."""
    if state == "streaming":
        return True
    if state in _DOWN_STATES or state != "running":
        return False
    if walsenders is not None and upstream is not None and upstream == leader:
        return name in walsenders
    return True


def _restart_reason(reason: Any) -> str:
    """Patroni 4's {param: {old_value, new_value}} as "max_connections 100 → 200"."""
    if isinstance(reason, Mapping) and reason:
        parts = []
        for param, diff in reason.items():
            if isinstance(diff, Mapping):
                parts.append(f"{param} {diff.get('old_value', '?')} → {diff.get('new_value', '?')}")
            else:
                parts.append(str(param))
        return _one_line(", ".join(parts))
    return _one_line(reason) if isinstance(reason, str) and reason else "yes"


def _member_details(raw: Mapping[str, Any], role_word: str,
                    walsender: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    details: list[tuple[str, str]] = [("Patroni role", role_word or "?")]
    if raw.get("api_url"):
        details.append(("API", str(raw["api_url"])))
    tags = raw.get("tags")
    if isinstance(tags, Mapping) and (text := format_tags(tags)):
        details.append((TAGS_LABEL, text))
    if raw.get("pending_restart"):
        details.append(("pending restart", _restart_reason(raw.get("pending_restart_reason"))))
    restart = raw.get("scheduled_restart")
    if isinstance(restart, Mapping) and restart.get("schedule"):
        details.append(("scheduled restart", str(restart["schedule"])))
    elif isinstance(restart, str) and restart:
        details.append(("scheduled restart", restart))
    if raw.get("lag") == "unknown":
        details.append(("lag", "unknown"))
    for key, label in (("lsn", "LSN"), ("receive_lsn", "receive LSN"), ("replay_lsn", "replay LSN")):
        value = raw.get(key)
        if value not in (None, "", "unknown"):
            details.append((label, str(value)))
    for key, label in (("receive_lag", "receive lag"), ("replay_lag", "replay lag")):
        value = _int(raw.get(key))
        if value is not None:
            details.append((label, human_bytes(value)))
    if walsender is not None:
        words = [str(walsender.get(k)) for k in ("state", "sync_state") if walsender.get(k)]
        details.append(("walsender", ", ".join(words) or "connected"))
    if raw.get("site"):
        details.append(("site", str(raw["site"])))
    if raw.get("version"):
        details.append(("Patroni", str(raw["version"])))
    return tuple(details)


def _host_port(raw: Mapping[str, Any]) -> tuple[str, int | None]:
    host = raw.get("host")
    if not host and raw.get("api_url"):
        host = urlsplit(str(raw["api_url"])).hostname
    return str(host or ""), _int(raw.get("port"))


def parse_reading(cluster: Any, history: Any = None, leader_status: Any = None,
                  problems: Sequence[str] = (), dead_apis: Mapping[str, str] | None = None) -> Reading:
    """GET /cluster (plus /history and the leader's GET /patroni when we have them)
    as a Reading. A member whose REST API (base URL in `dead_apis`, with the reason)
    did not answer this round is still listed by the DCS until its key expires: it is
    shown unreachable. Raises ValueError when `cluster` is not Patroni's /cluster JSON."""
    if not isinstance(cluster, Mapping) or not isinstance(cluster.get("members"), list):
        raise ValueError("the answer is not Patroni's /cluster JSON (no members list)")
    raws = [m for m in cluster["members"] if isinstance(m, Mapping) and m.get("name")]
    leader = next((str(m["name"]) for m in raws
                   if ROLES.get(str(m.get("role", ""))) in (PRIMARY, STANDBY_LEADER)), None)
    names = {str(m["name"]) for m in raws}
    walsenders: dict[str, Mapping[str, Any]] | None = None
    status = leader_status if isinstance(leader_status, Mapping) else None
    if status is not None:
        rows = status.get("replication")
        walsenders = {str(r.get("application_name")): r for r in rows if isinstance(r, Mapping)} \
            if isinstance(rows, list) else {}
    members = []
    for raw in raws:
        name = str(raw["name"])
        role_word = str(raw.get("role", ""))
        role = ROLES.get(role_word, UNKNOWN)
        state = str(raw.get("state") or "")
        host, port = _host_port(raw)
        upstream: str | None = None
        replicating: bool | None = None
        lag = None
        if name != leader and role not in (PRIMARY, STANDBY_LEADER):
            tags = raw.get("tags") if isinstance(raw.get("tags"), Mapping) else {}
            wanted = tags.get("replicatefrom")
            upstream = str(wanted) if wanted and str(wanted) in names else leader
            lag = _int(raw.get("lag"))
            replicating = _replicating(state, name, upstream, leader, walsenders)
        details = list(_member_details(raw, role_word, (walsenders or {}).get(name)))
        if name == leader and status is not None:
            version = status.get("patroni", {}).get("version") if isinstance(status.get("patroni"),
                                                                               Mapping) else None
            if version and not raw.get("version"):
                details.append(("Patroni", str(version)))
            if status.get("server_version"):
                details.append(("PostgreSQL", _server_version(status["server_version"])))
        base = api_base(str(raw["api_url"])) if raw.get("api_url") else None
        dead = (dead_apis or {}).get(base) if base else None
        members.append(Member(
            name=name, host=host, port=port, role=role, state=state, reachable=dead is None,
            upstream=upstream, timeline=_int(raw.get("timeline")), lag_bytes=lag,
            replicating=replicating, details=tuple(details),
            error=f"Patroni REST API {base} unreachable: {dead}" if dead is not None else "",
        ))
    return Reading(
        members=tuple(members), leader=leader, paused=bool(cluster.get("pause")),
        scheduled_switchover=_scheduled_line(cluster.get("scheduled_switchover")),
        history=parse_history(history) if history is not None else (),
        problems=tuple(problems),
    )


# --- HTTP -----------------------------------------------------------------------------------------

def _reason(exc: BaseException, timeout: float) -> str:
    """One line for why a request failed, without the exception's internals."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate not trusted"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(os_error, socket.gaierror):
            return f"host not found ({os_error.strerror})"
        if isinstance(os_error, ssl.SSLError):
            return f"TLS failed ({_one_line(os_error.reason or os_error, 80)})"
        return _one_line((os_error.strerror or str(os_error)) if os_error else "cannot connect", 100).lower()
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed before an answer"
    if isinstance(exc, aiohttp.NonHttpUrlClientError | aiohttp.InvalidURL):
        return "not an http(s) URL"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return _one_line(exc, 100) or type(exc).__name__
    return type(exc).__name__


def _text_of(status: int, reason: str | None, body: str) -> str:
    """Patroni's answer as one line (its error pages from send_error are HTML)."""
    text = body.strip()
    if not text or text.startswith("<"):
        return f"HTTP {status} {reason or ''}".strip()
    return _one_line(text)


class PatroniCollector:
    """Reads one Patroni cluster and carries out its switchover, failover and cancel."""

    def __init__(self, urls: Sequence[str], *, username: str | None, password: str | None,
                 timeout: float) -> None:
        self.urls: list[str] = []
        for url in urls:
            clean, user, secret = _split_credentials(url)
            if clean and clean not in self.urls:
                self.urls.append(clean)
            username = username or user
            password = password if password is not None else secret
        self.timeout = timeout
        self._headers = {"Accept": "application/json"}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._session: aiohttp.ClientSession | None = None
        self._known: list[str] = []
        """Bases of the members' api_url seen in the last good read."""
        self._last_good: str | None = None
        self.maximum_lag_on_failover: int | None = None
        """From /config after each read: a replica further behind cannot take over."""

    def __repr__(self) -> str:
        return f"PatroniCollector(urls={self.urls!r}, auth={'Authorization' in self._headers})"

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                                  headers=self._headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _order(self) -> list[str]:
        """Configured URLs first (so a dead one is reported each round), then the
        members' own URLs learnt from the last good read."""
        return self.urls + [u for u in self._known if u not in self.urls]

    async def _get_json(self, base: str, path: str) -> Any:
        try:
            async with self._http().get(base + path) as response:
                body = await response.text()
                if response.status == 401:
                    raise _Failed("refused the credentials (HTTP 401)", auth=True)
                if response.status != 200:
                    text, status = _text_of(response.status, response.reason, body), f"HTTP {response.status}"
                    answer = text if text.startswith(status) else f"{status}: {text}"
                    raise _Failed(f"GET {path} answered {answer}")
        except _Failed:
            raise
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            raise _Failed(_reason(exc, self.timeout)) from None
        try:
            return json.loads(body)
        except ValueError:
            raise _Failed(f"GET {path} answered with something that is not JSON") from None

    async def _optional(self, base: str | None, path: str, problems: list[str], what: str) -> Any:
        if base is None:
            return None
        try:
            return await self._get_json(base, path)
        except _Failed as failed:
            problems.append(f"{what} ({base}{path}): {failed.reason}")
            return None

    async def read(self) -> Reading:
        if not self.urls and not self._known:
            raise PatroniError("no Patroni REST API URL configured — set ha.clusters[].patroni.urls")
        failures: list[tuple[str, _Failed]] = []
        cluster: Any = None
        good: str | None = None
        for base in self._order():
            try:
                cluster = await self._get_json(base, "/cluster")
                parse_reading(cluster)  # a non-Patroni answer counts as a dead URL
            except _Failed as failed:
                failures.append((base, failed))
                continue
            except ValueError as exc:
                failures.append((base, _Failed(str(exc))))
                continue
            good = base
            break
        if good is None:
            if any(f.auth for _, f in failures):
                raise PatroniError(AUTH_MESSAGE)
            raise PatroniError("no Patroni REST API answered: "
                               + "; ".join(f"{url}: {f.reason}" for url, f in failures))
        self._last_good = good
        dead = {url: f.reason for url, f in failures}
        members = [m for m in cluster["members"] if isinstance(m, Mapping)]
        self._known = list(dict.fromkeys(api_base(str(m["api_url"])) for m in members if m.get("api_url")))
        leader_roles = (PRIMARY, STANDBY_LEADER)
        leader = next((m for m in members if ROLES.get(str(m.get("role", ""))) in leader_roles), {})
        leader_base = api_base(str(leader["api_url"])) if leader.get("api_url") else None
        extra: list[str] = []
        history, config, status = await asyncio.gather(
            self._optional(good, "/history", extra, "history unavailable"),
            self._optional(good, "/config", extra, "configuration unavailable"),
            self._leader_status(leader_base, dead),
        )
        if config is not None:
            self.maximum_lag_on_failover = parse_maximum_lag(config)
        problems = [f"{url} unreachable: {reason}" for url, reason in dead.items()]
        return parse_reading(cluster, history, status, problems + extra, dead)

    async def _leader_status(self, base: str | None, dead: dict[str, str]) -> Any:
        """The leader's GET /patroni: its walsenders (is each replica streaming?) and
        versions. A leader whose API does not answer joins `dead`."""
        if base is None or base in dead:
            return None
        try:
            return await self._get_json(base, "/patroni")
        except _Failed as failed:
            dead[base] = failed.reason
            return None

    # --- actions ----------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None, what: str
                    ) -> tuple[int, str]:
        """The call on the last good URL; on the next ones only when it could not even
        connect (a request that reached Patroni is never sent twice)."""
        order = list(dict.fromkeys(([self._last_good] if self._last_good else []) + self._order()))
        if not order:
            raise PatroniError("no Patroni REST API URL configured — set ha.clusters[].patroni.urls")
        timeout = aiohttp.ClientTimeout(total=ACTION_TIMEOUT, sock_connect=self.timeout)
        failures: list[str] = []
        for base in order:
            try:
                async with self._http().request(method, base + path, json=body, timeout=timeout) as response:
                    text = await response.text()
            except (aiohttp.ClientConnectorError, aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
                failures.append(f"{base}: {_reason(exc, self.timeout)}")  # never sent: try the next
                continue
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise PatroniError(f"{what}: {base} {_reason(exc, ACTION_TIMEOUT)} — "
                                   "look at the cluster before trying again") from None
            if response.status == 401:
                raise PatroniError(AUTH_MESSAGE)
            if response.status == 403:
                raise PatroniError(f"{what}: {base} denied access ({_text_of(403, response.reason, text)}) "
                                   "— check Patroni's restapi allowlist")
            self._last_good = base
            return response.status, _text_of(response.status, response.reason, text)
        raise PatroniError("no Patroni REST API answered: " + "; ".join(failures))

    async def switchover(self, leader: str, candidate: str, at: str | None = None) -> str:
        body: dict[str, Any] = {"leader": leader, "candidate": candidate}
        if at:
            body["scheduled_at"] = at
        what = f"switchover from {leader} to {candidate}" + (f" at {at}" if at else "")
        status, text = await self._send("POST", "/switchover", body, what)
        if status == 202 or (at and status == 200):
            return f"switchover from {leader} to {candidate} scheduled for {at}"
        if status == 200:
            if "instead of" in text:
                return f"switchover done, but not to {candidate}: {text}"
            return f"switchover to {candidate} done: {text}"
        raise PatroniError(f"{what} {'failed' if status >= 500 else 'refused'}: {text}")

    async def failover(self, candidate: str) -> str:
        what = f"failover to {candidate}"
        status, text = await self._send("POST", "/failover", {"candidate": candidate}, what)
        if status == 200:
            if "instead of" in text:
                return f"failover done, but not to {candidate}: {text}"
            return f"failover to {candidate} done: {text}"
        raise PatroniError(f"{what} {'failed' if status >= 500 else 'refused'}: {text}")

    async def cancel_switchover(self) -> str:
        status, text = await self._send("DELETE", "/switchover", None, "cancel of the scheduled switchover")
        if status == 200:
            return f"scheduled switchover cancelled: {text}"
        if status == 404:
            raise PatroniError(f"nothing to cancel: {text}")
        raise PatroniError(f"cancel of the scheduled switchover failed: {text}")


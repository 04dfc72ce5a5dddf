"""The `alertmanager` provider: Alertmanager's alerts and silences, through its v2 API.

Its alerts are listed in the Alerts tab beside stacktop's own (source
"alertmanager"), and the tab's silence and expire keys act on Alertmanager
itself: a silence made here mutes the alert for every receiver Alertmanager
routes to, not only in this console.

Alertmanager states map onto stacktop's: active and suppressed alerts are
firing (suppressed ones carry the ids of the silences muting them in
silenced_by, or the fingerprints of the alerts inhibiting them in
inhibited_by), unprocessed ones are pending. The parsing functions take the
API's JSON as it comes, so they are tested on recorded answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from config.durations import format_duration
from config.model import AlertmanagerSettings
from providers.alerts import action_specs as specs
from providers.alerts.http_api import ApiError, JsonApi
from providers.alerts.model import (
    ALERTMANAGER,
    FIRING,
    PENDING,
    Alert,
    AlertmanagerSnapshot,
    Matcher,
    Silence,
)
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider

EXPIRED_KEPT = 3600.0
"""Expired silences stay listed this long (Alertmanager itself keeps them for days)."""
ALERT_FILTER = {"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "true"}


class AlertmanagerError(Exception):
    """One line: what failed and what to fix."""


# --- parsing --------------------------------------------------------------------------------------

def parse_time(text: Any) -> float | None:
    """RFC 3339 as Alertmanager writes it ("2024-05-01T12:34:56.123456789Z", offsets,
    nanoseconds) -> UTC seconds; None for empty, malformed or the zero time."""
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip().replace("z", "Z")
    fraction = ""
    if "." in value:
        head, rest = value.split(".", 1)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
        value = head + zone
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year <= 1:
        return None
    return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def format_time(seconds: float) -> str:
    """UTC seconds -> RFC 3339 with milliseconds, as the v2 API accepts."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _pairs(mapping: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(mapping, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


def parse_alert(item: Any) -> Alert | None:
    """One gettableAlert -> Alert; None when it has no fingerprint (not an alert)."""
    if not isinstance(item, dict) or not item.get("fingerprint"):
        return None
    labels = _pairs(item.get("labels"))
    label = dict(labels)
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    state = PENDING if status.get("state") == "unprocessed" else FIRING
    starts = parse_time(item.get("startsAt")) or 0.0
    return Alert(
        fingerprint=str(item["fingerprint"]),
        name=label.get("alertname", "") or "(no alertname)",
        state=state,
        severity=label.get("severity") or "warning",
        labels=labels,
        annotations=_pairs(item.get("annotations")),
        source=ALERTMANAGER,
        active_since=starts,
        firing_since=starts if state == FIRING else None,
        last_evaluated=parse_time(item.get("updatedAt")) or 0.0,
        silenced_by=tuple(str(s) for s in status.get("silencedBy") or ()),
        inhibited_by=tuple(str(s) for s in status.get("inhibitedBy") or ()),
        generator_url=str(item.get("generatorURL") or ""),
    )


def parse_matcher(item: Any) -> Matcher | None:
    """{name, value, isRegex, isEqual} -> Matcher (isEqual is absent before 0.22: equal)."""
    if not isinstance(item, dict) or not item.get("name"):
        return None
    regex, equal = bool(item.get("isRegex")), item.get("isEqual", True) is not False
    op = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[(regex, equal)]
    return Matcher(str(item["name"]), op, str(item.get("value", "")))


def parse_silence(item: Any) -> Silence | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    matchers = tuple(m for m in (parse_matcher(x) for x in item.get("matchers") or ()) if m is not None)
    return Silence(
        id=str(item["id"]), matchers=matchers,
        starts_at=parse_time(item.get("startsAt")) or 0.0, ends_at=parse_time(item.get("endsAt")) or 0.0,
        created_by=str(item.get("createdBy") or ""), comment=str(item.get("comment") or ""),
        source=ALERTMANAGER,
    )


def parse_alerts(items: Any) -> tuple[Alert, ...]:
    """Firing before pending, then oldest first (the longest-running trouble on top)."""
    alerts = [a for a in (parse_alert(x) for x in items or ()) if a is not None]
    alerts.sort(key=lambda a: (a.state != FIRING, a.active_since, a.name, a.fingerprint))
    return tuple(alerts)


def parse_silences(items: Any, now: float) -> tuple[Silence, ...]:
    """Active and pending ones (soonest end first), then those expired within EXPIRED_KEPT."""
    silences = [s for s in (parse_silence(x) for x in items or ()) if s is not None]
    live = sorted((s for s in silences if s.state(now) != "expired"), key=lambda s: (s.ends_at, s.id))
    gone = sorted((s for s in silences if s.state(now) == "expired" and now - s.ends_at <= EXPIRED_KEPT),
                  key=lambda s: -s.ends_at)
    return (*live, *gone)


def matcher_json(m: Matcher) -> dict[str, Any]:
    return {"name": m.name, "value": m.value, "isRegex": m.op in ("=~", "!~"), "isEqual": m.op in ("=", "=~")}


# --- the provider ---------------------------------------------------------------------------------

class AlertmanagerProvider(Provider):
    def __init__(self, settings: AlertmanagerSettings, *, user: str, redact: Callable[[str], str] = str,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__("alertmanager", settings.interval, settings.timeout + 1.0)
        self.settings = settings
        self.user = user
        self._api = JsonApi(settings.url, timeout=settings.timeout, username=settings.username,
                            password=settings.password, bearer_token=settings.bearer_token,
                            redact=redact)
        self._clock = clock
        self._version = ""
        self._last: AlertmanagerSnapshot | None = None

    @property
    def url(self) -> str:
        return self._api.url

    async def close(self) -> None:
        await self._api.close()

    def _fail(self, exc: ApiError) -> AlertmanagerError:
        return AlertmanagerError(self._api.clean(f"Alertmanager at {self.url}: {exc}"))

    async def fetch_alerts(self) -> tuple[Alert, ...]:
        try:
            return parse_alerts(await self._api.request("GET", "/api/v2/alerts", params=ALERT_FILTER))
        except ApiError as exc:
            raise self._fail(exc) from None

    async def poll(self) -> AlertmanagerSnapshot:
        now = self._clock()
        requests: list[Any] = [self._api.request("GET", "/api/v2/alerts", params=ALERT_FILTER),
                               self._api.request("GET", "/api/v2/silences")]
        if not self._version:
            requests.append(self._api.request("GET", "/api/v2/status"))
        answers = await asyncio.gather(*requests, return_exceptions=True)
        for answer in answers[:2]:
            if isinstance(answer, ApiError):
                raise self._fail(answer)
            if isinstance(answer, BaseException):
                raise answer
        if len(answers) > 2 and isinstance(answers[2], dict):
            # Only the version: the status also carries the whole configuration, receivers'
            # secrets included, which must not travel further.
            info = answers[2].get("versionInfo")
            self._version = str(info.get("version") or "") if isinstance(info, dict) else ""
        snapshot = AlertmanagerSnapshot(taken_at=now, url=self.url, alerts=parse_alerts(answers[0]),
                                        silences=parse_silences(answers[1], now), version=self._version)
        self._last = snapshot
        return snapshot

    # -- actions ---------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        return [specs.SILENCE, specs.EXPIRE_SILENCE]

    def action_callable(self, action_id: str) -> ActionCallable:
        handlers = {specs.SILENCE.id: self._silence, specs.EXPIRE_SILENCE.id: self._expire}
        return handlers[action_id]

    async def _find_alert(self, fingerprint: str) -> Alert | None:
        """The alert from the last poll, else from a fresh listing (the dialog may be newer)."""
        known = self._last.alerts if self._last is not None else ()
        found = next((a for a in known if a.fingerprint == fingerprint), None)
        if found is None:
            found = next((a for a in await self.fetch_alerts() if a.fingerprint == fingerprint), None)
        return found

    async def _silence(self, target: ActionTarget) -> ActionResult:
        try:
            seconds, comment = specs.silence_duration_and_comment(target.params.get("silence", ""))
        except ValueError as exc:
            return ActionResult(False, f"Silence: {exc}")
        scope = target.params.get("scope", specs.SCOPE_EXACT)
        if scope not in (specs.SCOPE_EXACT, specs.SCOPE_RULE):
            return ActionResult(False, f"Silence: unknown scope {scope!r}; choose exact or rule")
        try:
            alert = await self._find_alert(target.id)
        except AlertmanagerError as exc:
            return ActionResult(False, f"Silence: {exc}")
        if alert is None:
            return ActionResult(False, f"Silence: {target.name} is no longer in Alertmanager "
                                       "(resolved?); nothing silenced")
        matchers = specs.silence_matchers(alert, scope)
        now = self._clock()
        body = {"matchers": [matcher_json(m) for m in matchers], "startsAt": format_time(now),
                "endsAt": format_time(now + seconds), "createdBy": self.user, "comment": comment}
        try:
            answer = await self._api.request("POST", "/api/v2/silences", body=body)
        except ApiError as exc:
            return ActionResult(False, self._api.clean(f"Alertmanager refused the silence: {exc}"))
        silence_id = str(answer.get("silenceID", "")) if isinstance(answer, dict) else ""
        self.wake()
        what = f"every {alert.name} alert" if scope == specs.SCOPE_RULE else alert.name
        return ActionResult(True, f"Silenced {what} in Alertmanager for {format_duration(seconds)} "
                                  f"(silence {silence_id[:8] or '?'})")

    async def _expire(self, target: ActionTarget) -> ActionResult:
        silence_id = target.id.strip()
        if not silence_id:
            return ActionResult(False, "Expire silence: no silence selected")
        path = f"/api/v2/silence/{quote(silence_id, safe='')}"
        short = silence_id[:8]
        try:
            # Alertmanager expires an expired silence again without a word, and answers
            # 500 for an unknown one: ask first, so the operator reads what really happened.
            found = parse_silence(await self._api.request("GET", path))
            if found is not None and found.state(self._clock()) == "expired":
                return ActionResult(False, f"Expire silence: {short} has expired already")
            await self._api.request("DELETE", path)
        except ApiError as exc:
            if exc.status == 404 or "not found" in str(exc):
                return ActionResult(False, f"Expire silence: {short} is not in Alertmanager "
                                           "(expired long ago, or another Alertmanager?)")
            return ActionResult(False, self._api.clean(f"Alertmanager refused to expire silence "
                                                       f"{short}: {exc}"))
        self.wake()
        return ActionResult(True, f"Expired silence {short} in Alertmanager")

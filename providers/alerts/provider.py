"""The `alerts` provider: stacktop's own rule engine, run like any other provider.

Each poll reads every other provider's newest snapshot from the store as
samples, evaluates the rules, hands the alerts to the notifier and returns
what the Alerts tab shows. Running as a provider gives it the runtime's
scheduling, timeouts and error display for free, and the same code serves
the console and `stacktop agent`.

Files are opened on the first poll, not at build time: `stacktop check`
builds providers only to list them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from config.model import AlertsSettings
from providers.alerts import action_specs as specs
from providers.alerts.lease import NotifyLease
from providers.alerts.model import Alert, AlertsSnapshot, NotificationRecord, Rule
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider, Sample
from providers.store import Store

log = logging.getLogger(__name__)

NOT_RULE_INPUTS = frozenset({specs.ALERTS_PROVIDER, specs.ALERTMANAGER_PROVIDER})


class AlertsProvider(Provider):
    def __init__(self, settings: AlertsSettings, rules: Sequence[Rule], *, user: str,
                 read_only: bool = False, redact: Callable[[str], str] = str,
                 clock: Callable[[], float] = time.time, tls_context: Any = None) -> None:
        super().__init__(specs.ALERTS_PROVIDER, settings.evaluation_interval,
                         max(10.0, settings.evaluation_interval * 2))
        self.settings = settings
        self.rules = tuple(rules)
        self.user = user
        self.read_only = read_only
        """Watch mode: evaluate and show, never write state or send."""
        self._redact = redact
        self._clock = clock
        self._tls_context = tls_context
        self._store: Store | None = None
        self._state: Any = None
        self._engine: Any = None
        self._notifier: Any = None
        self._log: Any = None
        self._lease = NotifyLease(settings.state_file + ".lock")
        self._lock = asyncio.Lock()
        self._last: AlertsSnapshot | None = None

    def bind_store(self, store: Store) -> None:
        self._store = store

    # -- evaluation ------------------------------------------------------------

    def samples(self) -> list[Sample]:
        """Every other provider's newest snapshot, as rule inputs."""
        store = self._store
        if store is None:
            return []
        out: list[Sample] = []
        for name in store.names():
            if name in NOT_RULE_INPUTS:
                continue
            stored = store.latest(name)
            if stored is not None:
                out += stored.snapshot.alert_samples(name)
        return out

    async def poll(self) -> AlertsSnapshot:
        async with self._lock:
            await asyncio.to_thread(self._open)
            samples = self.samples()
            now = self._clock()
            engine = self._engine
            transitions = await asyncio.to_thread(engine.evaluate, samples, now)
            for t in transitions:
                log.info("alert %s %s -> %s %s", t.name, t.from_state, t.to_state,
                         self._redact(" ".join(f"{k}={v}" for k, v in t.labels)))
            alerts: tuple[Alert, ...] = await asyncio.to_thread(engine.alerts, now)
            if self._notifier is not None:
                self._notifier.process(alerts, now)
            silences = await asyncio.to_thread(engine.silences, now)
            history = await asyncio.to_thread(engine.transitions, 200)
            notifications: tuple[NotificationRecord, ...] = ()
            if self._log is not None:
                notifications = tuple(await asyncio.to_thread(self._log.recent, 200))
            snapshot = AlertsSnapshot(
                taken_at=now, alerts=alerts, silences=tuple(silences), notifications=notifications,
                transitions=tuple(history), rules=len(self.rules),
                rules_without_data=tuple(engine.rules_without_data()), notifier=self._notifier_line(),
            )
            self._last = snapshot
            return snapshot

    def _open(self) -> None:
        """Open state on the first poll; take the lease over when its holder has gone."""
        from providers.alerts.engine import RuleEngine
        from providers.alerts.notify_log import NotificationLog
        from providers.alerts.state import AlertStore

        if self._state is None:
            self._state = AlertStore(self.settings.state_file)
            self._log = NotificationLog(self.settings.notification_log, redact=self._redact)
        holder = not self.read_only and self._lease.try_acquire()
        if self._engine is None or (holder and not self._engine_persists):
            # A new holder reloads: the previous holder's history is the truth.
            self._engine = RuleEngine(self.rules, self._state, clock=self._clock,
                                      resolved_retention=self.settings.resolved_retention,
                                      persist=holder)
            self._engine_persists = holder
        if holder and self._notifier is None and self.settings.channels:
            from providers.alerts.notify import Notifier

            self._notifier = Notifier(
                self.settings.channels, self.settings.routes, self._log,
                state_path=self.settings.state_file + ".notify.json", clock=self._clock,
                external_url=self.settings.external_url, tls_context=self._tls_context,
                redact=self._redact,
            )

    _engine_persists = False

    def _notifier_line(self) -> str:
        channels = len(self.settings.channels)
        if self.read_only:
            return "read-only: this console sends no notifications"
        if not self._lease.held:
            who = self._lease.holder()
            return f"notifications sent by another stacktop{f' ({who})' if who else ''}"
        if not channels:
            return "no notification channels configured"
        if self._notifier is not None:
            return str(self._notifier.status())
        return f"{channels} channel(s)"

    # -- actions ---------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        return list(specs.ALERT_ACTIONS)

    def action_callable(self, action_id: str) -> ActionCallable:
        handlers = {specs.SILENCE.id: self._silence, specs.EXPIRE_SILENCE.id: self._expire,
                    specs.ACKNOWLEDGE.id: self._acknowledge}
        if action_id not in handlers:
            raise KeyError(action_id)
        handler = handlers[action_id]

        async def run(target: ActionTarget) -> ActionResult:
            if self.read_only:
                return ActionResult(False, "refused: read-only mode")
            async with self._lock:
                await asyncio.to_thread(self._open)
                result = await handler(target)
            self.wake()
            return result

        return run

    def _alert(self, fingerprint: str) -> Alert | None:
        last = self._last
        return next((a for a in last.alerts if a.fingerprint == fingerprint), None) if last else None

    async def _silence(self, target: ActionTarget) -> ActionResult:
        alert = self._alert(target.id)
        if alert is None:
            return ActionResult(False, f"Silence: alert {target.name} is no longer listed; nothing silenced")
        try:
            duration, comment = specs.silence_duration_and_comment(target.params.get("silence", ""))
        except ValueError as exc:
            return ActionResult(False, f"Silence: {exc}")
        matchers = specs.silence_matchers(alert, target.params.get("scope", specs.SCOPE_EXACT))
        silence = await asyncio.to_thread(self._engine.silence, matchers, duration, comment, self.user,
                                          self._clock())
        from config.durations import format_duration

        shown = ", ".join(str(m) for m in matchers)
        return ActionResult(True, f"Silenced {shown} for {format_duration(duration)} "
                                  f"(silence {silence.id[:8]})")

    async def _expire(self, target: ActionTarget) -> ActionResult:
        expired = await asyncio.to_thread(self._engine.expire_silence, target.id, self._clock())
        if expired is None:
            return ActionResult(False, f"Expire silence: no silence {target.name}; nothing changed")
        return ActionResult(True, f"Expired silence {target.name}")

    async def _acknowledge(self, target: ActionTarget) -> ActionResult:
        ack = await asyncio.to_thread(self._engine.acknowledge, target.id, self.user,
                                      target.params.get("comment", ""), self._clock())
        if ack is None:
            return ActionResult(False, f"Acknowledge: {target.name} is not firing or pending any more")
        return ActionResult(True, f"Acknowledged {target.name}: repeat notifications stop until it resolves")

    async def close(self) -> None:
        if self._notifier is not None:
            await self._notifier.close()
        if self._engine is not None:
            await asyncio.to_thread(self._engine.flush)
        if self._state is not None:
            await asyncio.to_thread(self._state.close)
        self._lease.release()

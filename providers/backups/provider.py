"""One provider per backup target (`backups.<target>`): the source's listing plus
what needs policy and memory — the retention plan, RPO and schedule status, and
the restore-test history from the verification log.

Actions run their blocking work in threads of their own (`asyncio.to_thread`):
a pgBackRest full backup or a restore test takes minutes and must not hold the
runtime's pool that polls every other provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Protocol

from config.model import BackupTargetSettings
from providers.backups import action_specs as specs
from providers.backups.model import Backup, Source, TargetSnapshot, Verification
from providers.backups.retention import plan_retention
from providers.backups.status import build_snapshot
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider

log = logging.getLogger(__name__)

Verifier = Callable[[Backup], Verification]
"""Restores one backup into a scratch instance and checks it (blocking; never raises)."""


class VerificationHistory(Protocol):
    """What the provider needs of the verification log (providers/backups/verifications.py)."""

    def record(self, verification: Verification) -> None: ...

    def recent(self, target: str, limit: int = 10) -> Sequence[Verification]: ...


class BackupTargetProvider(Provider):
    def __init__(self, settings: BackupTargetSettings, source: Source, history: VerificationHistory | None,
                 tz: tzinfo, *, verifier: Verifier | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(specs.provider_name(settings.name), settings.interval, settings.timeout)
        self.settings = settings
        self.source = source
        self.history = history
        self.tz = tz
        self.verifier = verifier
        self._clock = clock
        self._last: TargetSnapshot | None = None
        self._busy: str | None = None
        """The action running on this target now: a second one is refused, not queued."""

    # -- polling ---------------------------------------------------------------

    async def poll(self) -> TargetSnapshot:
        reading = await self.run_blocking(self.source.read)
        verifications: Sequence[Verification] = ()
        if self.history is not None:
            verifications = await self.run_blocking(self.history.recent, self.settings.name)
        snapshot = build_snapshot(self.settings, reading, verifications, self._clock(), self.tz,
                                  backup_modes=self.source.backup_modes,
                                  verifiable=self.verifier is not None)
        self._last = snapshot
        return snapshot

    # -- actions -----------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        return list(specs.BACKUP_ACTIONS)

    def action_callable(self, action_id: str) -> ActionCallable:
        handlers = {specs.BACKUP_NOW.id: self._backup_now, specs.PRUNE.id: self._prune,
                    specs.VERIFY.id: self._verify}
        if action_id not in handlers:
            raise KeyError(action_id)
        handler = handlers[action_id]

        async def run(target: ActionTarget) -> ActionResult:
            if self._busy is not None:
                return ActionResult(False, f"{self.settings.name}: {self._busy} is still running; "
                                           "wait for it to finish")
            self._busy = next(s.title for s in specs.BACKUP_ACTIONS if s.id == action_id).lower()
            try:
                return await handler(target)
            finally:
                self._busy = None
                self.wake()

        return run

    async def _backup_now(self, target: ActionTarget) -> ActionResult:
        mode = target.params.get("mode") or (self.source.backup_modes[:1] or ("",))[0]
        if mode not in self.source.backup_modes:
            offered = ", ".join(self.source.backup_modes) or "none"
            return ActionResult(False, f"Backup now: {self.settings.name} cannot take a {mode or 'backup'} "
                                       f"(offered: {offered})")
        try:
            message = await asyncio.to_thread(self.source.backup_now, mode)
        except Exception as exc:
            return ActionResult(False, f"Backup now failed: {_one_line(exc)}")
        return ActionResult(True, message)

    async def _prune(self, target: ActionTarget) -> ActionResult:
        """Delete what the operator saw in the plan, and only what a fresh plan still
        deletes: a backup that became the newest good one since is kept."""
        shown = [i for i in target.params.get("delete", "").split(specs.DELETE_SEPARATOR) if i]
        if not shown:
            return ActionResult(False, "Prune: the confirmed plan listed no backup; nothing deleted")
        try:
            reading = await asyncio.to_thread(self.source.read)
        except Exception as exc:
            return ActionResult(False, f"Prune: could not list the backups again, nothing deleted: "
                                       f"{_one_line(exc)}")
        backups = {b.id: b for b in reading.backups}
        fresh = plan_retention(reading.backups, self.settings.retention, self._clock(), self.tz)
        deleted: list[str] = []
        skipped: list[str] = []
        failed: list[str] = []
        for backup_id in shown:
            decision = fresh.decision(backup_id)
            backup = backups.get(backup_id)
            if backup is None or decision is None:
                skipped.append(f"{backup_id} (gone already)")
                continue
            if decision.keep:
                skipped.append(f"{backup_id} (kept now: {'; '.join(decision.reasons)})")
                continue
            try:
                message = await asyncio.to_thread(self.source.delete, backup)
            except Exception as exc:
                failed.append(f"{backup_id}: {_one_line(exc)}")
                log.warning("prune %s: %s failed: %s", self.settings.name, backup_id, _one_line(exc))
                continue
            log.info("prune %s: %s", self.settings.name, message)
            deleted.append(backup_id)
        parts = [f"Prune {self.settings.name}: deleted {len(deleted)} of {len(shown)}"
                 + (f" ({', '.join(deleted)})" if deleted else "")]
        if skipped:
            parts.append(f"skipped {', '.join(skipped)}")
        if failed:
            parts.append(f"failed {'; '.join(failed)}")
        return ActionResult(not failed, "; ".join(parts))

    async def _verify(self, target: ActionTarget) -> ActionResult:
        if self.verifier is None:
            return ActionResult(False, f"Verify: {self.settings.name} has no restore test configured")
        last = self._last
        backup = last.newest_good if last is not None else None
        wanted = target.details.get("backup")
        if last is not None and wanted:
            backup = last.backup(wanted) or backup
        if backup is None:
            return ActionResult(False, f"Verify: {self.settings.name} has no good backup to restore")
        verification = await asyncio.to_thread(self.verifier, backup)
        if self.history is not None:
            await asyncio.to_thread(self.history.record, verification)
        if verification.ok:
            return ActionResult(True, f"Verify {self.settings.name}: {verification.message}")
        return ActionResult(False, f"Verify {self.settings.name}: {backup.id} FAILED after "
                                   f"{verification.duration:.0f} s: {verification.message}")

    async def close(self) -> None:
        await asyncio.to_thread(self.source.close)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]

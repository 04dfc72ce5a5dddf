"""The one gate every mutating operation passes through.

It refuses in read-only mode, checks the operator's role, demands
confirmation in proportion to risk, writes an fsync'ed audit record and
asks the runtime to re-poll, so the screen shows the truth afterwards.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from providers.audit.log import AuditError, AuditLog  # AuditLog also importable from here
from providers.base import ActionResult, ActionSpec, ActionTarget, Provider, role_allows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmRequest:
    """What the UI must ask. For destructive actions the operator types `must_type`."""

    spec: ActionSpec
    target: ActionTarget
    prompt: str
    must_type: str | None


# The UI answers with True/False (y/n) or the typed text; None means cancelled.
Confirmer = Callable[[ConfirmRequest], Awaitable[bool | str | None]]


class Outcome(enum.Enum):
    REFUSED = "refused"
    CANCELLED = "cancelled"
    DONE = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class GateResult:
    outcome: Outcome
    message: str


class ActionGate:
    """Runs an ActionSpec against a target, or says why it will not."""

    def __init__(
        self,
        providers: dict[str, Provider],
        audit: AuditLog,
        *,
        read_only: bool,
        role: str,
        user: str,
        refresh: Callable[[str], None],
        redact: Callable[[str], str] = str,
        host: str = "",
        ssh_client: str | None = None,
        profile: str = "",
    ) -> None:
        self.providers = providers
        self.audit = audit
        self.read_only = read_only
        self.role = role
        self.user = user
        self.host = host or socket.gethostname()
        self.ssh_client = ssh_client
        self.profile = profile
        self._refresh = refresh
        self._redact = redact

    def refusal(self, spec: ActionSpec) -> str | None:
        """Why `spec` may not run at all here, or None when it may."""
        if self.read_only:
            return f"{spec.title} refused: read-only mode (restart without 'watch'/--read-only to act)"
        if not role_allows(self.role, spec.risk):
            return (
                f"{spec.title} refused: it is {spec.risk.value} and needs the "
                f"{spec.min_role} role; {self.user} is {self.role} (roles in the profile)"
            )
        return None

    def confirm_request(self, spec: ActionSpec, target: ActionTarget) -> ConfirmRequest:
        # A target that lists what it touches (a prune's plan) shows that listing instead:
        # its params (the ids to delete) would only repeat it, unreadably, in one line.
        chosen = "" if target.listing else "".join(f", {k} → {v}" for k, v in target.params.items())
        if spec.risk.typed_confirmation:
            return ConfirmRequest(
                spec, target,
                self._redact(f"{spec.description}: {target.kind} {target.name} ({target.id}){chosen}. "
                             f"Type '{target.name}' to confirm."),
                must_type=target.name,
            )
        return ConfirmRequest(
            spec, target, self._redact(f"{spec.description}: {target.kind} {target.name}{chosen}? [y/n]"),
            None,
        )

    async def execute(
        self, spec: ActionSpec, target: ActionTarget, confirm: Confirmer
    ) -> GateResult:
        refusal = self.refusal(spec)
        if refusal:
            await self._record(spec, target, Outcome.REFUSED, refusal)
            return GateResult(Outcome.REFUSED, refusal)
        try:
            await asyncio.to_thread(self.audit.ready)
        except AuditError as exc:
            log.error("%s refused: %s", spec.id, exc)
            return GateResult(Outcome.REFUSED, self._redact(f"{spec.title} refused: {exc}"))
        request = self.confirm_request(spec, target)
        answer = await confirm(request)
        if answer is None or answer is False:
            message = f"{spec.title} cancelled"
            await self._record(spec, target, Outcome.CANCELLED, message)
            return GateResult(Outcome.CANCELLED, message)
        if request.must_type is not None and answer != request.must_type:
            message = f"{spec.title} cancelled: typed name did not match '{request.must_type}'"
            await self._record(spec, target, Outcome.CANCELLED, message)
            return GateResult(Outcome.CANCELLED, message)
        provider = self.providers[target.provider or spec.provider]
        started = time.monotonic()
        try:
            result = await provider.action_callable(spec.id)(target)
        except Exception as exc:  # the provider's bug must still be audited and shown
            log.exception("action %s failed", spec.id)
            result = ActionResult(False, f"{spec.title} failed: {type(exc).__name__}: {exc}")
        outcome = Outcome.DONE if result.ok else Outcome.FAILED
        unrecorded = await self._record(spec, target, outcome, result.message, time.monotonic() - started)
        self._refresh(target.provider or spec.provider)
        message = result.message + (f" — NOT AUDITED: {unrecorded}" if unrecorded else "")
        return GateResult(outcome, self._redact(message))

    async def record_cancelled(self, spec: ActionSpec, target: ActionTarget) -> str:
        """The operator backed out before the gate's confirmation (a candidate or value
        dialog closed): still an attempt, so it is recorded. Returns the message to show."""
        message = f"{spec.title} cancelled"
        unrecorded = await self._record(spec, target, Outcome.CANCELLED, message)
        return message + (f" — NOT AUDITED: {unrecorded}" if unrecorded else "")

    async def _record(
        self,
        spec: ActionSpec,
        target: ActionTarget,
        outcome: Outcome,
        message: str,
        duration: float | None = None,
    ) -> str | None:
        """Append the attempt's record; the error when it could not be written, else None."""
        record: dict[str, object] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user": self.user,
            "role": self.role,
            "host": self.host,
            "ssh_client": self.ssh_client,
            "profile": self.profile,
            "action": spec.id,
            "risk": spec.risk.value,
            "target": {"kind": target.kind, "id": target.id, "name": target.name},
            "params": dict(target.params),
            "result": outcome.value,
            "message": message,
            "duration_s": None if duration is None else round(duration, 3),
        }
        try:
            await self.audit.append(record)
        except AuditError as exc:  # the disk filled between the check and the record
            log.error("audit record of %s not written: %s", spec.id, exc)
            return str(exc)
        return None

"""The Backups actions, declared once for every target, and how a target's
snapshot becomes their target.

One spec serves all targets: the ActionTarget names the target's provider
(`backups.<target>`), so the same key works on whichever target is selected.
Prune lists its plan in the confirmation and carries the ids the operator saw
in params["delete"]: the provider deletes no backup outside that list.
"""

from __future__ import annotations

from datetime import UTC, datetime

from providers.backups.model import TargetSnapshot
from providers.base import ActionChoice, ActionOption, ActionSpec, ActionTarget, Risk

PROVIDER_PREFIX = "backups."
DELETE_SEPARATOR = ","
LISTING_MAX = 40
"""Plan lines the confirmation shows; a longer plan says how many more (all are deleted)."""

BACKUP_NOW = ActionSpec(
    "backups.backup_now", "b", "Backup now", "Take a backup now", Risk.SAFE, "backups",
    choice=ActionChoice("mode", "Backup type"),
)
PRUNE = ActionSpec(
    "backups.prune", "P", "Prune",
    "Delete the backups the retention plan lists (shown below); nothing else is touched",
    Risk.DESTRUCTIVE, "backups",
)
VERIFY = ActionSpec(
    "backups.verify", "V", "Verify",
    "Restore the newest backup into a scratch PostgreSQL and run the sanity checks",
    Risk.SAFE, "backups",
)
BACKUP_ACTIONS = (BACKUP_NOW, PRUNE, VERIFY)


def provider_name(target: str) -> str:
    return f"{PROVIDER_PREFIX}{target}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def target_for(spec_id: str, snap: TargetSnapshot) -> ActionTarget | str:
    """The target as the ActionTarget of `spec_id`, or one line saying why it cannot be."""
    name = snap.target
    details = {"target": name, "source": snap.label or snap.source_kind}
    provider = provider_name(name)
    if spec_id == BACKUP_NOW.id:
        if not snap.backup_modes:
            return f"{name}: {snap.source_kind} backups cannot be started from stacktop"
        options = tuple(ActionOption(mode, mode) for mode in snap.backup_modes)
        return ActionTarget("backup target", name, name, details, options=options, provider=provider)
    if spec_id == PRUNE.id:
        doomed = [b for b in (snap.backup(i) for i in snap.plan.delete) if b is not None]
        if not doomed:
            kept = len(snap.plan.keep)
            return f"{name}: the retention plan deletes nothing ({kept} kept)"
        lines = []
        for b in doomed[:LISTING_MAX]:
            decision = snap.plan.decision(b.id)
            why = "; ".join(decision.reasons) if decision else ""
            lines.append(f"delete {b.id}  {_when(b.time)}  {why}")
        if len(doomed) > LISTING_MAX:
            lines.append(f"… and {len(doomed) - LISTING_MAX} more")
        details["deletes"] = str(len(doomed))
        details["keeps"] = str(len(snap.plan.keep))
        params = {"delete": DELETE_SEPARATOR.join(b.id for b in doomed)}
        return ActionTarget("backup target", name, name, details, params=params, provider=provider,
                            listing=tuple(lines))
    if spec_id == VERIFY.id:
        if not snap.verifiable:
            return f"{name}: restore tests need a pg_dump or pgBackRest source with verify configured"
        if snap.newest_good is None:
            return f"{name}: no good backup to restore"
        details["backup"] = snap.newest_good.id
        details["taken"] = _when(snap.newest_good.time)
        return ActionTarget("backup target", name, name, details, provider=provider)
    return f"unknown backup action {spec_id}"

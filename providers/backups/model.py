"""The plain data of the Backups tab: what a source lists, what retention decides,
what a restore test proved, and the per-target snapshot the tab draws.

A source (EBS, RDS, AWS Backup, VolumeSnapshots, pgBackRest, dump files) turns
one listing into a `SourceReading`. The provider (providers/backups/provider.py)
adds what needs policy and memory: the retention plan, the RPO and schedule
status and the verification history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from providers.base import Sample, Snapshot, labels_of

# Backup states, the same words for every source (details keep the source's own).
COMPLETED, RUNNING, FAILED = "completed", "running", "failed"

# Status words of a target and its parts.
OK, WARN, BREACH, UNKNOWN, NA = "ok", "warn", "breach", "unknown", "n/a"
NEVER, STALE = "never", "stale"
BAD = "bad"


@dataclass(frozen=True, slots=True)
class Backup:
    """One backup as its source lists it. `time` is the point in time it restores to
    (UTC epoch seconds): snapshot start, pgBackRest stop time, the dump's name or mtime."""

    id: str
    """Unique within the target: snapshot id, pgBackRest label, file name or S3 key."""
    time: float
    status: str = COMPLETED
    size: int | None = None
    """Bytes, as the source reports them (EBS: the volume size; pgBackRest: repository size)."""
    kind: str = ""
    """The source's own word: full/incr/diff, manual/automated, pg_dump, snapshot."""
    deletable: bool = True
    """False when something else owns its life (RDS automated snapshots, AWS Backup
    recovery points under a plan's lifecycle): retention shows it, prune never deletes it."""
    depends_on: tuple[str, ...] = ()
    """Backups this one needs to restore (pgBackRest incr/diff: its full and prior backups)."""
    duration: float | None = None
    note: str = ""
    """Why it is not deletable, or the error of a failed backup."""
    details: tuple[tuple[str, str], ...] = ()

    @property
    def good(self) -> bool:
        return self.status == COMPLETED


@dataclass(frozen=True, slots=True)
class SourceReading:
    """One listing of a target's source."""

    backups: tuple[Backup, ...]
    label: str = ""
    """What is protected, as the operator knows it: "EBS vol-0ab… (prod/eu-west-1)"."""
    facts: tuple[tuple[str, str], ...] = ()
    """Source facts for the detail pane: RDS backup window and retention, plan rules…"""
    schedules: tuple[str, ...] = ()
    """Schedules where they live (AWS Backup plan rules, the RDS backup window)."""
    problems: tuple[str, ...] = ()
    """One line each, e.g. "AWS Backup recovery points: not available at this endpoint"."""


class Source(Protocol):
    """Blocking calls (SDKs, subprocesses, files): the provider runs them in its thread pool."""

    kind: str
    backup_modes: tuple[str, ...]
    """What `backup now` can take, e.g. ("full", "incr"); () when it cannot."""

    def read(self) -> SourceReading: ...

    def backup_now(self, mode: str) -> str:
        """Start or take a backup; the one-line result. Raises with one line on failure."""
        ...

    def delete(self, backup: Backup) -> str:
        """Delete one backup; the one-line result. Raises with one line on failure."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Decision:
    """Retention's verdict on one backup and why: the rules that keep it
    ("newest good", "daily 2026-11-21", "weekly 2026-W47", "monthly 2026-11",
    "yearly 2026", "last 3", "min_keep 2", "running", "needed by <id>",
    "not deletable: …", "within max_age 30d", "failed, no good backup since",
    "status <word>") or why it goes ("older than max_age 90d", "no rule keeps it", "failed")."""

    backup_id: str
    keep: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    decisions: tuple[Decision, ...]
    """Newest first, one per backup."""

    @property
    def delete(self) -> tuple[str, ...]:
        return tuple(d.backup_id for d in self.decisions if not d.keep)

    @property
    def keep(self) -> tuple[str, ...]:
        return tuple(d.backup_id for d in self.decisions if d.keep)

    def decision(self, backup_id: str) -> Decision | None:
        return next((d for d in self.decisions if d.backup_id == backup_id), None)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    value: str
    ok: bool
    expected: str = ""


@dataclass(frozen=True, slots=True)
class Verification:
    """One restore test, as the verification log records it."""

    target: str
    at: float
    ok: bool
    duration: float
    backup_id: str
    method: str
    """pg_dump | pgbackrest"""
    message: str
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    expression: str
    previous_run: float | None
    next_run: float | None
    missed: bool
    """The newest good backup is older than the last expected run plus the grace."""
    note: str = ""


@dataclass(frozen=True)
class TargetSnapshot(Snapshot):
    target: str
    source_kind: str
    label: str
    backups: tuple[Backup, ...]
    """Newest first."""
    newest_good: Backup | None
    age: float | None
    """Seconds from the newest good backup to taken_at."""
    rpo: float | None
    rpo_status: str
    """ok | warn | breach | n/a (no rpo) — breach also when there is no good backup."""
    schedule: ScheduleStatus | None
    count: int
    total_size: int | None
    plan: RetentionPlan
    verification: Verification | None
    """The newest restore test."""
    verifications: tuple[Verification, ...]
    """Recent restore tests, newest first (at most 10)."""
    verify_status: str
    """ok | failed | stale | never | n/a (the source cannot be restore-tested)."""
    status: str
    """ok | warn | bad: the worst of RPO, schedule, verification and problems."""
    facts: tuple[tuple[str, str], ...] = ()
    schedules: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    backup_modes: tuple[str, ...] = ()
    verifiable: bool = False

    def metrics(self) -> Mapping[str, float]:
        out: dict[str, float] = {"count": float(self.count),
                                 "rpo_breached": 1.0 if self.rpo_status == BREACH else 0.0,
                                 "schedule_missed": 1.0 if self.schedule and self.schedule.missed else 0.0}
        if self.total_size is not None:
            out["size_bytes"] = float(self.total_size)
        if self.age is not None:
            out["age_seconds"] = self.age
        return out

    def alert_samples(self, provider: str) -> list[Sample]:
        """backups.<figure>{target}: one rule covers every target."""
        figures = dict(self.metrics())
        figures["verify_failed"] = 1.0 if self.verify_status == "failed" else 0.0
        labels = labels_of(target=self.target)
        return [Sample(f"backups.{key}", labels, value, self.taken_at) for key, value in figures.items()]

    def backup(self, backup_id: str) -> Backup | None:
        return next((b for b in self.backups if b.id == backup_id), None)

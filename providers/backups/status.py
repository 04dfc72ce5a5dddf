"""The verdicts of the Backups tab: is the newest good backup young enough (RPO), is the
schedule being kept, was a restore proven lately, and the one status word of a target.

Pure functions of a listing, the target's settings, the clock and the zone, so the
provider, the demo and the tests all judge the same way, and a test needs no server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from config.durations import format_duration
from config.model import BackupTargetSettings, VerifySettings
from providers.backups.cron import parse
from providers.backups.model import (
    BAD,
    BREACH,
    FAILED,
    NA,
    NEVER,
    OK,
    RUNNING,
    STALE,
    WARN,
    Backup,
    ScheduleStatus,
    SourceReading,
    TargetSnapshot,
    Verification,
)
from providers.backups.retention import newest_first, plan_retention

RPO_WARN_FRACTION = 0.8
"""Without rpo_warn the RPO turns warn at 80 % of the rpo: time to look before it breaches."""
HISTORY = 10
"""Restore tests a snapshot carries (newest first)."""


def rpo_status(age: float | None, settings: BackupTargetSettings) -> str:
    """ok | warn | breach | n/a for the newest good backup's `age` (None: there is none).

    No rpo and no rpo_warn: n/a. No good backup is a breach (warn with only rpo_warn):
    nothing at all is older than any objective. An age equal to the rpo is still warn."""
    rpo, warn_at = settings.rpo, settings.rpo_warn
    if warn_at is None and rpo is not None:
        warn_at = rpo * RPO_WARN_FRACTION
    if rpo is None and warn_at is None:
        return NA
    if age is None:
        return BREACH if rpo is not None else WARN
    if rpo is not None and age > rpo:
        return BREACH
    return WARN if warn_at is not None and age >= warn_at else OK


def schedule_status(expr: str | None, newest_good_time: float | None, grace: float, now: float,
                    tz: tzinfo) -> ScheduleStatus | None:
    """The schedule's previous and next run, and whether the run that should be done by now
    (the last one at least `grace` ago) left no good backup at or after its time.

    None without a schedule. A malformed expression gives a status whose note is the
    one-line parse error (the config loader rejects it first; this keeps a poll alive).
    A missed schedule's note names the run: "missed the 2026-05-10 02:00 CEST run (grace 1h)"."""
    if expr is None or not expr.strip():
        return None
    try:
        cron = parse(expr)
    except ValueError as exc:
        return ScheduleStatus(expr.strip(), None, None, False, note=str(exc))
    due = cron.previous_before(now - grace, tz)
    missed = newest_good_time is None or newest_good_time < due
    note = f"missed the {_wall(due, tz)} run (grace {format_duration(grace)})" if missed else ""
    return ScheduleStatus(cron.expression, cron.previous_before(now, tz), cron.next_after(now, tz), missed,
                          note)


def _wall(ts: float, tz: tzinfo) -> str:
    local = datetime.fromtimestamp(ts, tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def verify_status(latest: Verification | None, verifiable: bool, every: float, now: float) -> str:
    """ok | failed | stale | never | n/a from the newest restore test.

    n/a when the target cannot be restore-tested; a failed newest test is "failed" even
    if an older one passed (the backup it tested did not restore); a passing one older
    than `every` is "stale"."""
    if not verifiable:
        return NA
    if latest is None:
        return NEVER
    if not latest.ok:
        return FAILED
    return STALE if now - latest.at > every else OK


def status_reasons(*, rpo: str, schedule: ScheduleStatus | None, verify: str, backups: Sequence[Backup],
                   problems: Sequence[str]) -> list[tuple[str, str]]:
    """Why a target is not ok, worst first, as (bad|warn, one line).

    bad  — no good backup; RPO breached; the newest restore test failed.
    warn — RPO nearly breached; a missed schedule or a malformed one; a restore test
           stale, or never run on a target that can be tested; the newest finished
           backup failed; any problem the source reported (a listing that failed
           entirely lists no backup, so it is already "no good backup": bad).
    """
    bad: list[str] = []
    warn: list[str] = []
    if not any(b.good for b in backups):
        bad.append("no good backup")
    elif rpo == BREACH:
        bad.append("RPO breached")
    if verify == FAILED:
        bad.append("the newest restore test failed")
    if rpo == WARN:
        warn.append("RPO nearly breached")
    if schedule is not None and schedule.missed:
        warn.append(f"schedule: {schedule.note or 'missed'}")
    elif schedule is not None and schedule.next_run is None and schedule.note:
        warn.append(f"schedule: {schedule.note}")
    if verify == STALE:
        warn.append("restore test stale")
    elif verify == NEVER:
        warn.append("never restore-tested")
    finished = [b for b in newest_first(backups) if b.status != RUNNING]
    if finished and finished[0].status == FAILED:
        warn.append("the newest backup failed" + (f": {finished[0].note}" if finished[0].note else ""))
    warn.extend(problems)
    return [(BAD, line) for line in bad] + [(WARN, line) for line in warn]


def overall_status(*, rpo: str, schedule: ScheduleStatus | None, verify: str, backups: Sequence[Backup],
                   problems: Sequence[str]) -> str:
    """ok | warn | bad: the worst of `status_reasons` (whose docstring lists the rules)."""
    reasons = status_reasons(rpo=rpo, schedule=schedule, verify=verify, backups=backups, problems=problems)
    return reasons[0][0] if reasons else OK


def size_trend(backups: Sequence[Backup]) -> list[float]:
    """Sizes of the good backups that report one, oldest first: the sparkline of growth."""
    return [float(b.size) for b in reversed(newest_first(backups)) if b.good and b.size is not None]


def build_snapshot(target: BackupTargetSettings, reading: SourceReading,
                   verifications: Sequence[Verification], now: float, tz: tzinfo, *,
                   backup_modes: Sequence[str], verifiable: bool) -> TargetSnapshot:
    """Everything the tab shows of one target at `now`.

    `count` is the good and running backups (what holds or will hold data); `total_size`
    sums those of them that report a size (None when none does). The verification
    history keeps this target's tests only, the newest `HISTORY` first."""
    backups = tuple(newest_first(reading.backups))
    newest_good = next((b for b in backups if b.good), None)
    age = max(0.0, now - newest_good.time) if newest_good is not None else None
    rpo = rpo_status(age, target)
    schedule = schedule_status(target.schedule, newest_good.time if newest_good else None, target.grace,
                               now, tz)
    counted = [b for b in backups if b.good or b.status == RUNNING]
    sizes = [b.size for b in counted if b.size is not None]
    history = tuple(sorted((v for v in verifications if v.target == target.name),
                           key=lambda v: v.at, reverse=True)[:HISTORY])
    latest = history[0] if history else None
    every = (target.verify or VerifySettings()).every
    verify = verify_status(latest, verifiable, every, now)
    return TargetSnapshot(
        taken_at=now,
        target=target.name,
        source_kind=target.source.kind,
        label=reading.label,
        backups=backups,
        newest_good=newest_good,
        age=age,
        rpo=target.rpo,
        rpo_status=rpo,
        schedule=schedule,
        count=len(counted),
        total_size=sum(sizes) if sizes else None,
        plan=plan_retention(backups, target.retention, now, tz),
        verification=latest,
        verifications=history,
        verify_status=verify,
        status=overall_status(rpo=rpo, schedule=schedule, verify=verify, backups=backups,
                              problems=reading.problems),
        facts=reading.facts,
        schedules=reading.schedules,
        problems=reading.problems,
        backup_modes=tuple(backup_modes),
        verifiable=verifiable,
    )

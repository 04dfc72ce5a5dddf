"""Which backups a prune deletes and which rule keeps each of the others.

Grandfather-father-son as restic (`forget --keep-*`) and borg (`prune`) count it:
`keep_daily 7` keeps, for each of the 7 most recent local days that have a good
backup, the newest good backup of that day; weekly (ISO weeks), monthly and yearly
likewise; `keep_last N` keeps the N newest good ones. Days, weeks and months are
those of the target's zone, never of the process, so a plan is the same on every
machine and a backup taken at 00:30 local time belongs to the day it says.

Safety comes before the rules, because a prune cannot be undone:

* nothing is deleted without a policy (`RetentionSettings.configured`);
* the newest good backup and the `min_keep` newest good ones are always kept,
  also when they are older than `max_age`;
* running backups are kept and are never counted as good;
* backups the source may not delete (AWS Backup lifecycles, RDS automated
  snapshots) are kept, and still fill a day/week/month like any good backup;
* every backup a kept backup depends on (pgBackRest incr/diff chains) is kept;
* a backup in a state other than completed/running/failed is kept ("status …").

`max_age` only overrides the keep_* rules. With max_age and no keep_* rule, the
good backups younger than max_age are kept ("within max_age"), as an operator
writing only `max_age: 30d` means.

Failed backups are deleted ("failed") once a good backup is newer than them:
they restore nothing and some hold space (a partial dump, an EBS snapshot in
error). Failed backups newer than the newest good one are kept ("failed, no good
backup since"): they are the evidence that backups are failing right now, and the
target shows "newest backup failed" only while they exist. A prune must not hide that.

Kept decisions carry every rule that keeps them, so the operator sees why; the
plan is idempotent: pruning it and planning again at the same `now` deletes nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from config.durations import format_duration
from config.model import RetentionSettings
from providers.backups.model import FAILED, RUNNING, Backup, Decision, RetentionPlan

NO_POLICY = "no retention policy"
NEWEST_GOOD = "newest good"
RUNNING_REASON = "running"
FAILED_REASON = "failed"
FAILED_RECENT = "failed, no good backup since"
NO_RULE = "no rule keeps it"


def _iso_week(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year:04d}-W{week:02d}"


_PERIODS: tuple[tuple[str, str, Callable[[datetime], str]], ...] = (
    ("daily", "keep_daily", lambda local: local.date().isoformat()),
    ("weekly", "keep_weekly", _iso_week),
    ("monthly", "keep_monthly", lambda local: f"{local.year:04d}-{local.month:02d}"),
    ("yearly", "keep_yearly", lambda local: f"{local.year:04d}"),
)


def newest_first(backups: Sequence[Backup]) -> list[Backup]:
    """Newest first; equal times by id, so every caller lists ties the same way."""
    return sorted(backups, key=lambda b: (b.time, b.id), reverse=True)


def plan_retention(backups: Sequence[Backup], policy: RetentionSettings, now: float,
                   tz: tzinfo) -> RetentionPlan:
    """The decision on every backup, newest first. Pure: the same input gives the same plan."""
    ordered = newest_first(backups)
    good = [b for b in ordered if b.good]
    reasons: dict[str, list[str]] = {b.id: [] for b in ordered}
    max_age = format_duration(policy.max_age) if policy.max_age is not None else ""

    def young(backup: Backup) -> bool:
        return policy.max_age is None or backup.time >= now - policy.max_age

    if good:
        reasons[good[0].id].append(NEWEST_GOOD)
    for backup in good[:policy.keep_last]:
        if young(backup):
            reasons[backup.id].append(f"last {policy.keep_last}")
    for name, setting, bucket in _PERIODS:
        for backup, label in _newest_per_period(good, getattr(policy, setting), bucket, tz):
            if young(backup):
                reasons[backup.id].append(f"{name} {label}")
    if policy.max_age is not None and not _keeps_by_rule(policy):
        for backup in good:
            if young(backup):
                reasons[backup.id].append(f"within max_age {max_age}")
    for backup in good[:policy.min_keep]:
        reasons[backup.id].append(f"min_keep {policy.min_keep}")

    newest_good_time = good[0].time if good else None
    for backup in ordered:
        if backup.status == RUNNING:
            reasons[backup.id].append(RUNNING_REASON)
        elif backup.status == FAILED:
            if newest_good_time is None or backup.time > newest_good_time:
                reasons[backup.id].append(FAILED_RECENT)
        elif not backup.good:  # a state this planner does not know: never guess it is garbage
            reasons[backup.id].append(f"status {backup.status}")
        if not backup.deletable:
            reasons[backup.id].append(f"not deletable: {backup.note}" if backup.note else "not deletable")
    _keep_dependencies(ordered, reasons)

    decisions = []
    for backup in ordered:
        kept = reasons[backup.id]
        if kept:
            decisions.append(Decision(backup.id, True, tuple(kept)))
        elif not policy.configured:
            decisions.append(Decision(backup.id, True, (NO_POLICY,)))
        else:
            decisions.append(Decision(backup.id, False, (_why_delete(backup, young(backup), max_age),)))
    return RetentionPlan(tuple(decisions))


def _keeps_by_rule(policy: RetentionSettings) -> bool:
    return bool(policy.keep_last or policy.keep_daily or policy.keep_weekly or policy.keep_monthly
                or policy.keep_yearly)


def _newest_per_period(good: Sequence[Backup], count: int, bucket: Callable[[datetime], str],
                       tz: tzinfo) -> list[tuple[Backup, str]]:
    """For the `count` most recent periods with a good backup, the newest good one of each."""
    chosen: list[tuple[Backup, str]] = []
    seen: set[str] = set()
    for backup in good:  # newest first
        if len(chosen) >= count:
            break
        label = bucket(datetime.fromtimestamp(backup.time, tz))
        if label not in seen:
            seen.add(label)
            chosen.append((backup, label))
    return chosen


def _keep_dependencies(ordered: Sequence[Backup], reasons: dict[str, list[str]]) -> None:
    """Everything a kept backup needs to restore is kept too, transitively."""
    by_id = {b.id: b for b in ordered}
    pending = deque(b for b in ordered if reasons[b.id])
    while pending:
        backup = pending.popleft()
        for dep in backup.depends_on:
            if dep not in by_id or dep == backup.id:
                continue
            was_kept = bool(reasons[dep])
            reason = f"needed by {backup.id}"
            if reason not in reasons[dep]:
                reasons[dep].append(reason)
            if not was_kept:
                pending.append(by_id[dep])


def _why_delete(backup: Backup, young: bool, max_age: str) -> str:
    if not backup.good:
        return FAILED_REASON
    if not young:
        return f"older than max_age {max_age}"
    return NO_RULE

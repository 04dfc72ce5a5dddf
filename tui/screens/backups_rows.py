"""What the Backups tab shows, as plain functions of TargetSnapshots: the targets
table (columns for 80 and 120 cells), the summary line, the tab's label and the
detail pane's lines — the target's facts, its restore tests and its backups
with retention's verdict on each.

No Textual here (Rich text only). A target may list thousands of backups: the
detail's backup lines are formatted one at a time, when drawn (`DetailDoc.line`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from rich.text import Text

from providers.backups.model import (
    BAD,
    BREACH,
    COMPLETED,
    FAILED,
    NA,
    NEVER,
    OK,
    RUNNING,
    STALE,
    UNKNOWN,
    WARN,
    Backup,
    Decision,
    TargetSnapshot,
    Verification,
)
from providers.backups.status import status_reasons
from tui.screens.ha_rows import Tinted, spark_text
from widgets.detail_pane import Field
from widgets.formatting import human_age, human_bytes, human_duration
from widgets.resource_table import Column

PROVIDER_PREFIX = "backups."

SEVERITY = {OK: "ok", WARN: "warn", BAD: "error", BREACH: "error", FAILED: "error", STALE: "warn",
            NEVER: "warn", UNKNOWN: "warn", "missed": "error"}
"""Target, RPO, schedule and restore-test words as table colours; n/a stays plain."""


def tinted_severity(value: object) -> str | None:
    return SEVERITY.get(getattr(value, "health", ""))


SOURCE_WORDS = {"pgbackrest": "pgBackRest", "ebs": "EBS snapshots", "rds": "RDS snapshots",
                "aws_backup": "AWS Backup", "kubernetes": "VolumeSnapshots", "dumps": "dump files"}


def source_word(kind: str) -> str:
    return SOURCE_WORDS.get(kind, kind)


# -- the table -----------------------------------------------------------------------------------

COLUMNS = (
    Column("target", "Target", min_width=10, flex=2, kind="status", severity=tinted_severity),
    Column("source", "Source", min_width=10, flex=3),
    Column("newest", "Newest", width=6, kind="duration"),
    Column("rpo", "RPO", width=10, kind="status", severity=tinted_severity),
    Column("schedule", "Next run", width=9, kind="status", severity=tinted_severity),
    Column("count", "#", width=4, kind="number"),
    Column("size", "Size", width=8, kind="bytes"),
    Column("trend", "Size trend", width=12),
    Column("retention", "Retention", width=15),
    Column("prune", "Prune", width=8),
    Column("verified", "Restore test", width=14, kind="status", severity=tinted_severity),
)
"""Every column a row has; `fit_columns` picks those a width shows."""

WIDE = ("target", "source", "newest", "rpo", "schedule", "count", "size", "trend", "retention", "verified")
NARROW = ("target", "newest", "rpo", "schedule", "count", "size", "prune", "verified")
"""On 80 cells the source (in the detail pane and the summary) and the size trend give way,
and retention says only what a prune deletes."""
WIDE_MIN_WIDTH = 110
TREND_POINTS = 12
_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


def fit_columns(width: int) -> tuple[Column, ...]:
    keys = WIDE if width >= WIDE_MIN_WIDTH else NARROW
    return tuple(COLUMNS[_INDEX[k]] for k in keys)


def project(row: Sequence[object], columns: Sequence[Column]) -> tuple[object, ...]:
    """A full row's values for the columns shown."""
    return tuple(row[_INDEX[c.key]] for c in columns)


def short_duration(seconds: float) -> str:
    """A policy's round figure in one unit where it has one: 26h, 3d, 90m; else 1d02h."""
    s = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return human_duration(seconds)


def local(ts: float, tz: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ts, tz).strftime(fmt)


def rpo_text(snap: TargetSnapshot) -> Tinted:
    """`ok 26h`, `warn 26h`, `BREACH 26h`; only the word with only rpo_warn set; `n/a` without either."""
    if snap.rpo_status == NA:
        return Tinted("n/a")
    word = "BREACH" if snap.rpo_status == BREACH else snap.rpo_status
    return Tinted(f"{word} {short_duration(snap.rpo)}" if snap.rpo is not None else word, snap.rpo_status)


def next_run_text(ts: float, now: float, tz: tzinfo | None) -> str:
    """`02:00` today, `Thu 01:00` within the week, `11-25 01:00` later."""
    when, today = datetime.fromtimestamp(ts, tz), datetime.fromtimestamp(now, tz)
    days = (when.date() - today.date()).days
    if days == 0:
        return when.strftime("%H:%M")
    if 0 < days < 7:
        return when.strftime("%a %H:%M")
    return when.strftime("%m-%d %H:%M")


def schedule_text(snap: TargetSnapshot, tz: tzinfo | None) -> Tinted:
    schedule = snap.schedule
    if schedule is None:
        return Tinted("—")
    if schedule.missed:
        return Tinted("MISSED", "missed")
    if schedule.next_run is None:
        return Tinted("?", UNKNOWN)
    return Tinted(next_run_text(schedule.next_run, snap.taken_at, tz), OK)


def verified_text(snap: TargetSnapshot) -> Tinted:
    """`ok 2d ago`, `FAILED 1d ago`, `stale 9d ago`, `never`, `n/a`."""
    status, last = snap.verify_status, snap.verification
    ago = f" {human_age(snap.taken_at - last.at)} ago" if last is not None else ""
    if status == NA:
        return Tinted("n/a")
    if status == NEVER or last is None:
        return Tinted(status, status)
    word = "FAILED" if status == FAILED else status
    return Tinted(f"{word}{ago}", status)


def retention_text(snap: TargetSnapshot) -> str:
    deletes, keeps = len(snap.plan.delete), len(snap.plan.keep)
    return f"keep {keeps}" + (f" del {deletes}" if deletes else "")


def prune_text(snap: TargetSnapshot) -> str:
    """`7 of 15`: of every backup listed (a failed one is listed, and may be deleted, but not counted)."""
    deletes = len(snap.plan.delete)
    return f"{deletes} of {len(snap.backups)}" if deletes else "none"


def size_trend(snap: TargetSnapshot, ascii: bool = False, points: int = TREND_POINTS) -> str:
    """The sizes of the newest good backups, oldest first: a dump that suddenly
    shrinks (an empty database, a broken job) shows as a dip."""
    sizes: list[float] = []
    for b in snap.backups:  # newest first: stop once there are enough
        if b.good and b.size is not None:
            sizes.append(float(b.size))
            if len(sizes) == points:
                break
    return spark_text(sizes[::-1], points, ascii)


def target_row(snap: TargetSnapshot, tz: tzinfo | None, ascii: bool = False) -> tuple[object, ...]:
    """One row in COLUMNS order."""
    return (
        Tinted(snap.target, snap.status),
        snap.label or source_word(snap.source_kind),
        snap.age,
        rpo_text(snap),
        schedule_text(snap, tz),
        snap.count,
        snap.total_size,
        size_trend(snap, ascii),
        retention_text(snap),
        prune_text(snap),
        verified_text(snap),
    )


def missing_row(target: str, why: str) -> tuple[object, ...]:
    """A configured target with no snapshot yet: waiting, or why its listing failed."""
    what = f"no data: {why}" if why else "waiting for the first listing…"
    return (Tinted(target, BAD if why else ""), what, None, Tinted(""), Tinted(""), None, None, "", "", "",
            Tinted(""))


# -- the summary line, the tab's label, the status line ------------------------------------------


def summary_line(entries: Iterable[tuple[str, TargetSnapshot | None, str]]) -> Text:
    """`5 targets: 2 ok · 1 RPO breach (web-ebs) · 1 missed schedule (shop-dumps) · …`"""
    shown = list(entries)
    snaps = [s for _, s, _ in shown if s is not None]
    groups: list[tuple[str, str, list[str]]] = [  # worst first: a narrow line keeps those
        ("RPO breach", "bold red", [s.target for s in snaps if s.rpo_status == BREACH]),
        ("no data", "bold red", [t for t, s, e in shown if s is None and e]),
        ("missed schedule", "bold red", [s.target for s in snaps if s.schedule and s.schedule.missed]),
        ("failed restore test", "bold red", [s.target for s in snaps if s.verify_status == FAILED]),
        ("stale restore test", "yellow", [s.target for s in snaps if s.verify_status == STALE]),
        ("never restore-tested", "yellow", [s.target for s in snaps if s.verify_status == NEVER]),
        ("with problems", "yellow", [s.target for s in snaps if s.problems]),
        ("RPO warning", "yellow", [s.target for s in snaps if s.rpo_status == WARN]),
    ]
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    out.append(f"{len(shown)} target{'s' if len(shown) != 1 else ''}", style="bold")
    ok = sum(1 for s in snaps if s.status == OK)
    out.append(": ")
    out.append(f"{ok} ok", style="green" if ok else "")
    for words, style, names in groups:
        if not names:
            continue
        out.append("  ·  ", style="dim")
        plural = "s" if len(names) > 1 and not words.startswith(("with", "no ", "never")) else ""
        out.append(f"{len(names)} {words}{plural}", style=style)
        out.append(f" ({', '.join(names)})")
    waiting = sum(1 for _, s, e in shown if s is None and not e)
    if waiting:
        out.append("  ·  ", style="dim")
        out.append(f"{waiting} waiting…", style="dim")
    return out


def tab_counts(statuses: Iterable[str | None]) -> str:
    """`2 ok 3 !`: targets all right, and those that are not (RPO breach, missed
    schedule, failed or stale restore test, problems listing, no data)."""
    seen = list(statuses)
    if not seen:
        return ""
    ok = sum(1 for s in seen if s == OK)
    bad = len(seen) - ok
    return f"{ok} ok" + (f" {bad} !" if bad else "")


def backup_problem(snapshot: object) -> str | None:
    """The first thing a target's listing could not read, for the status line."""
    if not isinstance(snapshot, TargetSnapshot) or not snapshot.problems:
        return None
    more = f" (+{len(snapshot.problems) - 1} more)" if len(snapshot.problems) > 1 else ""
    return snapshot.problems[0] + more


# -- the detail pane -------------------------------------------------------------------------------


def detail_title(snap: TargetSnapshot) -> str:
    return f"{snap.target} · {source_word(snap.source_kind)} · {snap.status}"


def verification_summary(snap: TargetSnapshot) -> str:
    last = snap.verification
    status = snap.verify_status
    if status == NA:
        return "n/a: restore tests need a pg_dump or pgBackRest source with verify configured"
    if last is None:
        return "never: no restore test recorded (V runs one)"
    ago = human_age(snap.taken_at - last.at)
    word = {FAILED: "FAILED", STALE: "stale"}.get(status, status)
    result = "passed" if last.ok else "FAILED"
    return f"{word}: last test {ago} ago {result} ({last.backup_id}, {human_duration(last.duration)})"


def head_fields(snap: TargetSnapshot, tz: tzinfo | None) -> list[Field]:
    """Facts first (what is protected and how), then the policy's verdicts, then problems."""
    fields: list[Field] = []
    if snap.status != OK:
        why = status_reasons(rpo=snap.rpo_status, schedule=snap.schedule, verify=snap.verify_status,
                             backups=snap.backups, problems=snap.problems)
        fields.append(("status", f"{snap.status}: " + "; ".join(line for _, line in why) if why
                       else snap.status))
    fields.append(("source", f"{source_word(snap.source_kind)} · {snap.label}" if snap.label
                   else source_word(snap.source_kind)))
    fields += list(snap.facts)
    newest = snap.newest_good
    if newest is None:
        fields.append(("newest good", "none: no completed backup is listed"))
    else:
        age = human_duration(snap.age) if snap.age is not None else "?"
        fields.append(("newest good", f"{local(newest.time, tz)} · {age} ago · {newest.id}"))
    if snap.rpo is not None:
        fields.append(("rpo", f"{rpo_text(snap).text} (newest good backup at most "
                              f"{short_duration(snap.rpo)} old)"))
    s = snap.schedule
    if s is not None:
        parts = [s.expression]
        if s.next_run is not None:
            parts.append(f"next {local(s.next_run, tz)}")
        if s.previous_run is not None:
            parts.append(f"previous {local(s.previous_run, tz)}")
        if s.missed:
            parts.append("MISSED: no good backup since the previous run")
        if s.note:
            parts.append(s.note)
        fields.append(("schedule", " · ".join(parts)))
    for i, where in enumerate(snap.schedules):
        fields.append(("runs" if i == 0 else "", where))
    deletes, keeps = len(snap.plan.delete), len(snap.plan.keep)
    plan = f"keeps {keeps}, deletes {deletes}" + (" (P prunes them after you confirm)" if deletes else "")
    fields.append(("retention", plan))
    fields.append(("restore test", verification_summary(snap)))
    for i, problem in enumerate(snap.problems):
        fields.append(("problems" if i == 0 else "", problem))
    return fields


def _field_lines(fields: Sequence[Field]) -> list[Text]:
    """Labels in one aligned, muted column; bad news in red, problems in yellow."""
    width = max((len(label) for label, _ in fields), default=0)
    out = []
    problems = False
    for label, value in fields:
        problems = label == "problems" or (problems and label == "")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(label.ljust(width), style="bold dim")
        line.append("  ")
        missed = value.find("MISSED")
        if label == "status":  # why the target is not ok, in its colour
            line.append(value, style="bold red" if value.startswith(BAD) else "yellow")
        elif missed > 0:  # the schedule is fine to read; what went wrong stands out
            line.append(value[:missed])
            line.append(value[missed:], style="bold red")
        else:
            bad = missed == 0 or value.startswith(("BREACH", "FAILED", "none"))
            line.append(value, style="bold red" if bad else "yellow" if problems else "")
        out.append(line)
    return out


def section(title: str) -> Text:
    return Text(title, style="bold reverse", no_wrap=True, end="")


def verification_lines(verifications: Sequence[Verification], tz: tzinfo | None) -> list[Text]:
    """One line per restore test, newest first; a failed test's failed checks below it."""
    out: list[Text] = []
    for v in verifications:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(local(v.at, tz), style="dim")
        line.append("  ")
        line.append("ok    " if v.ok else "FAILED", style="green" if v.ok else "bold red")
        line.append(f"  {human_duration(v.duration):>6}  {v.backup_id}  {v.method}  {v.message}")
        out.append(line)
        for c in v.checks:
            if c.ok:
                continue
            expected = f" (expected {c.expected})" if c.expected else ""
            out.append(Text(f"      check {c.name}: {c.value}{expected}", style="red", no_wrap=True,
                            overflow="ellipsis", end=""))
    return out


STATUS_STYLES = {COMPLETED: "", RUNNING: "yellow", FAILED: "bold red"}


STATUS_WORDS = {COMPLETED: "ok", RUNNING: "running", FAILED: "FAILED"}


def backup_line(b: Backup, decision: Decision | None, now: float, tz: tzinfo | None,
                id_width: int, kind_width: int = 9) -> Text:
    """`2026-11-18 01:00  10h06m  incr   1.2 GB  ok  <id>  KEEP (daily 2026-11-18)`"""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(local(b.time, tz))
    size = human_bytes(b.size) if b.size is not None else "—"
    line.append(f"  {human_duration(now - b.time):>6}  {b.kind[:kind_width]:<{kind_width}}  {size:>8}  ")
    line.append(f"{STATUS_WORDS.get(b.status, b.status):<7}", style=STATUS_STYLES.get(b.status, ""))
    line.append(f"  {b.id:<{id_width}}  ")
    if decision is None:
        line.append("not planned", style="dim")
    elif decision.keep:
        line.append("KEEP", style="green")
        line.append(f" ({', '.join(decision.reasons)})", style="dim")
    else:
        line.append("DELETE", style="bold red")
        line.append(f" ({', '.join(decision.reasons)})")
    if b.note and not (decision and any(b.note in r for r in decision.reasons)):  # said once
        line.append(f"  {b.note}", style="dim" if b.good else "red")
    return line


class DetailDoc:
    """The detail pane's lines for one snapshot. The head (facts, restore tests) is
    built at once; a backup's line only when it is drawn, so a target with thousands
    of backups costs the lines on screen."""

    def __init__(self, snap: TargetSnapshot, tz: tzinfo | None) -> None:
        self.snap = snap
        self.tz = tz
        head = _field_lines(head_fields(snap, tz))
        head.append(Text(""))
        head.append(section(f" Restore tests, newest first ({len(snap.verifications)}) "))
        head += verification_lines(snap.verifications, tz) or [
            Text("none recorded" if snap.verifiable else "this source cannot be restore-tested here",
                 style="dim")]
        head.append(Text(""))
        deletes = len(snap.plan.delete)
        head.append(section(f" Backups, newest first ({len(snap.backups)}; retention deletes {deletes}) "))
        self.head = head
        self._decisions = {d.backup_id: d for d in snap.plan.decisions}
        self._id_width = min(40, max((len(b.id) for b in snap.backups), default=0))
        self._kind_width = min(11, max((len(b.kind) for b in snap.backups), default=0))

    def __len__(self) -> int:
        return len(self.head) + max(1, len(self.snap.backups))

    def line(self, index: int) -> Text:
        if index < len(self.head):
            return self.head[index]
        i = index - len(self.head)
        backups = self.snap.backups
        if not backups:
            return Text("no backups listed", style="dim")
        b = backups[i]
        return backup_line(b, self._decisions.get(b.id), self.snap.taken_at, self.tz, self._id_width,
                           self._kind_width)

    def text(self) -> str:
        """Every line as plain text (tests, and a small target's pane at a glance)."""
        return "\n".join(self.line(i).plain for i in range(len(self)))

"""What the Security tab shows, as plain functions of the `security` provider's
SecuritySnapshot: the totals line (findings per severity, sources, the scan's age,
what `security.ignore` hides), the sources that failed, the one table (section rows
CRITICAL / HIGH / MEDIUM / LOW, one row per finding, then SOURCES), its columns for 80
and 120 cells, the tab's label, the status line's problem, the detail pane's lines and
what the tab says when no source is configured.

Every text that comes from a scan passes through the profile's `redact` before it is
shown: evidence quotes tags, annotations and rules, and nobody audited what they hold.

No Textual here (Rich text only): everything is easy to test on its own.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from providers.security.model import Finding, SecuritySnapshot, Severity, SourceStatus
from tui.screens.ha_rows import Tinted
from tui.screens.planned import PlannedTab
from tui.screens.sections import TextDoc, is_section, section_key
from widgets.formatting import human_age
from widgets.resource_table import Column

PROVIDER = "security"
"""The provider whose SecuritySnapshot the tab shows; its presence makes the tab exist."""

Redact = Callable[[str], str]


def _same(text: str) -> str:
    return text


# -- colours ---------------------------------------------------------------------------------------

SEVERITY_STYLES = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
                   Severity.LOW: "blue"}
"""A severity's colour in Rich text (the totals line, the detail pane); the table's cells use
the matching component classes (SecurityTable)."""

SHORT = {Severity.CRITICAL: "crit", Severity.HIGH: "high", Severity.MEDIUM: "med", Severity.LOW: "low"}
"""A severity in a tab label's few cells."""


def tinted_health(value: object) -> str | None:
    """The colour class a cell carries (Tinted.health): critical / high / medium / low, or
    ok / error / muted for the sources and notes."""
    return getattr(value, "health", "") or None


# -- the table -------------------------------------------------------------------------------------

COLUMNS = (
    Column("severity", "Severity", width=8, kind="status", severity=tinted_health),
    Column("check", "Check", width=18),
    Column("resource", "Resource", min_width=12, flex=3),
    Column("source", "Source", min_width=14, flex=3),
    Column("title", "Title", min_width=16, flex=4),
)
"""Every column a row has; `fit_columns` picks those a width shows."""

WIDE = ("severity", "check", "resource", "source", "title")
NARROW = ("severity", "check", "resource", "title")
"""On 80 cells the source gives way (the detail pane has it)."""
WIDE_MIN_WIDTH = 110
_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


def fit_columns(width: int) -> tuple[Column, ...]:
    keys = WIDE if width >= WIDE_MIN_WIDTH else NARROW
    return tuple(COLUMNS[_INDEX[k]] for k in keys)


def project(row: Sequence[object], columns: Sequence[Column]) -> tuple[object, ...]:
    """A full row's values for the columns shown."""
    return tuple(row[_INDEX[c.key]] for c in columns)


SOURCES = "sources"
SECTION_TITLES = {s: s.value.upper() for s in Severity} | {SOURCES: "SOURCES"}
NOTE_PREFIX = "note:"


def is_note(key: str | None) -> bool:
    return key is not None and key.startswith(NOTE_PREFIX)


def full_width(key: str) -> bool:
    """Rows whose first cell is drawn across the line: section headings and notes."""
    return is_section(key) or is_note(key)


HEADING_HEALTH = {Severity.CRITICAL: "high", Severity.HIGH: "high", Severity.MEDIUM: "medium",
                  Severity.LOW: "low"}
"""A section's heading in its severity's colour; CRITICAL's not reversed across the whole line."""


def section_row(title: str, health: str) -> tuple[object, ...]:
    return (Tinted(title, health), "", "", "", "")


def note_row(text: str, health: str = "muted") -> tuple[object, ...]:
    return (Tinted(text, health), "", "", "", "")


def finding_key(f: Finding) -> str:
    return f"finding:{f.source}:{f.key}"


def source_key(s: SourceStatus) -> str:
    return f"source:{s.source}"


def finding_row(f: Finding, redact: Redact = _same) -> tuple[object, ...]:
    return (Tinted(f.severity.value, f.severity.value), f.check.value, redact(f.resource), redact(f.source),
            redact(f.title))


def scan_age(scanned_at: float | None, now: float) -> str:
    return "not scanned yet" if scanned_at is None else f"scanned {human_age(now - scanned_at)} ago"


def source_row(s: SourceStatus, now: float, redact: Redact = _same) -> tuple[object, ...]:
    if s.error:
        return (Tinted("error", "error"), "source", redact(s.source), "", redact(s.error))
    what = f"{s.checks} resource{'s' if s.checks != 1 else ''} checked · {scan_age(s.scanned_at, now)}"
    return (Tinted("ok", "ok"), "source", redact(s.source), "", what)


@dataclass(frozen=True)
class Listing:
    """The table's rows (full COLUMNS rows, keyed) and what each key stands for."""

    rows: tuple[tuple[str, tuple[object, ...]], ...]
    items: Mapping[str, object]
    """Row key -> the Finding or SourceStatus it shows (a note row: its text)."""

    def finding(self, key: str | None) -> Finding | None:
        found = self.items.get(key) if key else None
        return found if isinstance(found, Finding) else None


def listing(snap: SecuritySnapshot | None, now: float, redact: Redact = _same) -> Listing:
    """Sections in severity order, each finding once; then every source with what it answered."""
    if snap is None:
        return Listing((), {})
    rows: list[tuple[str, tuple[object, ...]]] = []
    items: dict[str, object] = {}
    by_severity: dict[Severity, list[Finding]] = {s: [] for s in Severity}
    for f in snap.findings:
        by_severity[f.severity].append(f)
    for severity, found in by_severity.items():
        if not found:
            continue
        rows.append((section_key(severity.value),
                     section_row(f"{SECTION_TITLES[severity]} · {len(found)}", HEADING_HEALTH[severity])))
        for f in sorted(found, key=lambda f: (f.source, f.check.value, f.resource)):
            key = finding_key(f)
            if key not in items:
                rows.append((key, finding_row(f, redact)))
                items[key] = f
    if not snap.findings:
        text = ("first scan running… findings show here when it ends" if snap.scanning
                else empty_words(snap))
        health = "muted" if snap.scanning or not snap.sources else "ok"
        rows.append((f"{NOTE_PREFIX}findings", note_row(text, health)))
        items[f"{NOTE_PREFIX}findings"] = text
    if snap.sources:
        failed = sum(1 for s in snap.sources if s.error)
        title = f"SOURCES · {len(snap.sources)}" + (f" · {failed} failed" if failed else "")
        rows.append((section_key(SOURCES), section_row(title, "error" if failed else "info")))
        for s in sorted(snap.sources, key=lambda s: (s.error is None, s.source)):
            rows.append((source_key(s), source_row(s, now, redact)))
            items[source_key(s)] = s
    return Listing(tuple(rows), items)


def empty_words(snap: SecuritySnapshot) -> str:
    """No finding: say what was looked at, so an empty account is not taken for a clean one."""
    if not snap.sources:
        return "no source scanned: the profile has no AWS account or Kubernetes context to scan"
    answered = [s for s in snap.sources if not s.error]
    checked = sum(s.checks for s in answered)
    if not answered:
        return "no finding, but no source answered: see SOURCES"
    ignored = f" ({snap.ignored} accepted in security.ignore)" if snap.ignored else ""
    return (f"no finding in {checked} resource{'s' if checked != 1 else ''} of {len(answered)} "
            f"source{'s' if len(answered) != 1 else ''}{ignored}")


def empty_text(snap: SecuritySnapshot | None, error: str | None) -> str:
    if snap is None:
        return f"no data: {error}" if error else "waiting for the first security poll…"
    return "nothing to show yet"


# -- the totals line and the failed sources --------------------------------------------------------


def newest_scan(snap: SecuritySnapshot) -> float | None:
    """When the findings shown were last read: the newest scan of a source that answered
    (a failed source's attempt found nothing), else of any source."""
    times = ([s.scanned_at for s in snap.sources if s.scanned_at is not None and not s.error]
             or [s.scanned_at for s in snap.sources if s.scanned_at is not None])
    return max(times) if times else None


def totals_line(snap: SecuritySnapshot | None, now: float, error: str | None = None,
                redact: Redact = _same) -> Text:
    """`2 critical  5 high  1 medium  0 low · 4 sources (1 failed) · scanned 12m ago · 3 ignored`:
    the counts first, since a narrow line keeps only its start."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if snap is None:
        if error:
            out.append(f"no data: {redact(error)}", style="bold red")
        else:
            out.append("waiting for the first security poll…", style="dim")
        return out
    counts = snap.counts()
    for i, severity in enumerate(Severity):
        n = counts[severity.value]
        if i:
            out.append("  ")
        out.append(str(n), style=SEVERITY_STYLES[severity] if n else "dim")
        out.append(f" {severity.value}", style="" if n else "dim")
    if snap.scanning:
        out.append(" · ", style="dim")
        out.append("first scan running…", style="bold")
    failed = sum(1 for s in snap.sources if s.error)
    if snap.sources:
        out.append(" · ", style="dim")
        out.append(f"{len(snap.sources)} source{'s' if len(snap.sources) != 1 else ''} scanned")
        if failed:
            out.append(f" ({failed} failed)", style="bold red")
    scanned = newest_scan(snap)
    if scanned is not None:
        out.append(f" · {scan_age(scanned, now)}", style="dim")
    if snap.ignored:
        out.append(f" · {snap.ignored} ignored", style="dim")
    return out


ERROR_LINES = 2
"""Failed sources named above the table; the rest are counted (SOURCES lists them all)."""


def error_lines(snap: SecuritySnapshot | None, redact: Redact = _same,
                limit: int = ERROR_LINES) -> list[Text]:
    """One red line per source that did not answer: `aws:staging/eu-west-1: access denied …`."""
    if snap is None:
        return []
    failed = [s for s in snap.sources if s.error]
    lines = []
    for s in failed[:limit]:
        line = Text(no_wrap=True, overflow="ellipsis", end="", style="red")
        line.append(f"{redact(s.source)}: ", style="bold red")
        line.append(redact(s.error or ""))
        lines.append(line)
    if len(failed) > limit:
        lines[-1] = Text(f"{len(failed) - limit + 1} more sources failed: see SOURCES below "
                         f"(first: {redact(failed[limit - 1].source)})", style="red", no_wrap=True,
                         overflow="ellipsis", end="")
    return lines


# -- the tab's label and the status line --------------------------------------------------------


def tab_labels(key: str, title: str, snap: SecuritySnapshot | None, failed: bool) -> list[str]:
    """`6 Security 2 crit 5 high`, then shorter ones for a narrow tab bar: the two most severe
    levels with findings; `ok` when a finished scan found nothing; `!` when a source failed."""
    plain = f"{key} {title}"
    if snap is None:
        return [f"{plain} !" if failed else plain]
    failed = failed or any(s.error for s in snap.sources)
    mark = " !" if failed else ""
    counts = snap.counts()
    present = [s for s in Severity if counts[s.value]]
    if not present:
        if snap.scanning:
            return [f"{plain} …{mark}", plain]
        return [f"{plain} ok{mark}" if snap.sources else plain, plain]
    top = present[:2]
    words = " ".join(f"{counts[s.value]} {SHORT[s]}" for s in top)
    first = f"{counts[top[0].value]} {SHORT[top[0]]}"
    return [f"{plain} {words}{mark}", f"{plain} {first}{mark}", f"{plain}{mark}"]


def security_problem(snapshot: object) -> str | None:
    """The first source that did not answer, for the status line."""
    if not isinstance(snapshot, SecuritySnapshot):
        return None
    failed = [s for s in snapshot.sources if s.error]
    if not failed:
        return None
    more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
    return f"{failed[0].source}: {failed[0].error}{more}"


# -- the detail pane -------------------------------------------------------------------------------

SecurityDoc = TextDoc


def ignore_hint(f: Finding, redact: Redact = _same) -> str:
    return f"add '{redact(f.key)}' to security.ignore to accept it"


def _wrapped_fields(fields: Sequence[tuple[str, str, str]], width: int) -> list[Text]:
    """(label, value, style): labels in one aligned, muted column; long values wrap under
    themselves (a remedy is often a whole command)."""
    label_width = max((len(label) for label, _, _ in fields), default=0)
    room = max(20, width - label_width - 2)
    out: list[Text] = []
    for label, value, style in fields:
        pieces = textwrap.wrap(value, room, break_on_hyphens=False, replace_whitespace=False) or [""]
        for n, piece in enumerate(pieces):
            line = Text(no_wrap=True, overflow="ellipsis", end="")
            line.append((label if n == 0 else "").ljust(label_width), style="bold dim")
            line.append("  ")
            line.append(piece, style=style)
            out.append(line)
    return out


def finding_title(f: Finding, redact: Redact = _same) -> str:
    return f"{f.severity.value} · {f.check.value} · {redact(f.resource)}"


def finding_doc(f: Finding, width: int, redact: Redact = _same) -> SecurityDoc:
    return SecurityDoc(_wrapped_fields([
        ("severity", f.severity.value, SEVERITY_STYLES[f.severity]),
        ("check", f.check.value, ""),
        ("what", redact(f.title), "bold"),
        ("resource", redact(f.resource), ""),
        ("source", redact(f.source), ""),
        ("evidence", redact(f.evidence), ""),
        ("remedy", redact(f.remedy), "green"),
        ("accept", ignore_hint(f, redact), "dim"),
    ], width))


def source_doc(s: SourceStatus, now: float, width: int, redact: Redact = _same) -> SecurityDoc:
    fields = [
        ("source", redact(s.source), ""),
        ("state", "error" if s.error else "answered", "bold red" if s.error else "green"),
    ]
    if s.error:
        fields.append(("error", redact(s.error), "red"))
    fields += [
        ("resources", f"{s.checks} checked", ""),
        ("scan", scan_age(s.scanned_at, now), ""),
    ]
    if s.error:
        fields.append(("findings", "the last good scan's findings stay listed until it answers again", "dim"))
    return SecurityDoc(_wrapped_fields(fields, width))


def detail_for(key: str | None, item: object, now: float, width: int,
               redact: Redact = _same) -> tuple[str, SecurityDoc | None]:
    """(title, lines) of the selected row."""
    if item is None or key is None:
        return "", None
    if isinstance(item, Finding):
        return finding_title(item, redact), finding_doc(item, width, redact)
    if isinstance(item, SourceStatus):
        return f"source {redact(item.source)}", source_doc(item, now, width, redact)
    if isinstance(item, str):
        return item, SecurityDoc([Text(item)])
    return "", None


# -- no source configured --------------------------------------------------------------------------

SETUP_STATUS = (
    "Not configured: security findings need providers.aws (security groups, EBS, RDS, S3, IAM, root "
    "account use) or providers.kubernetes (pods and services), and security.enabled left on. Add them "
    "like the snippet; then `stacktop check` shows what will be scanned. Try `stacktop --demo`."
)

SETUP = PlannedTab(
    "Security — holes in the estate: no AWS account or Kubernetes cluster configured",
    "Security groups open to the world on SSH, RDP or database ports; unencrypted EBS volumes, RDS "
    "instances and S3 buckets; public buckets and databases; IAM users without MFA, old access keys and "
    "recent root use; privileged, root, hostNetwork and hostPath pods and LoadBalancers open to the "
    "world. Each with its evidence and remedy; accept one with security.ignore.",
    "providers:\n  aws:\n    accounts:\n      - name: prod\n        profile: prod\n"
    "        regions: [eu-west-1]\n  kubernetes:\n    enabled: true\n    contexts: [prod]\n"
    "security:\n  interval: 1h\n  ignore:\n    - sg-open-port:sg-0abc1234:22   # the bastion's own SSH\n",
)
"""What the tab shows when the profile has nothing to scan."""

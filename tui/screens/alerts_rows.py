"""What the Alerts tab shows, as plain functions of the `alerts` provider's
AlertsSnapshot (stacktop's rule engine) and the `alertmanager` provider's
AlertmanagerSnapshot, either of which may be missing: the one table (section
rows FIRING / PENDING / SILENCED / RESOLVED, then SILENCES), its columns for 80
and 120 cells, the summary line, the tab's counts and the detail pane's lines
for an alert or a silence.

No Textual here (Rich text only): everything is easy to test on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.text import Text

from providers.alerts.model import (
    ALERTMANAGER,
    FIRING,
    PENDING,
    RESOLVED,
    SEVERITY_ORDER,
    Alert,
    AlertmanagerSnapshot,
    AlertsSnapshot,
    Matcher,
    NotificationRecord,
    Silence,
    Transition,
)
from tui.screens.ha_rows import Tinted
from tui.screens.sections import TextDoc, field_lines, section_key
from widgets.formatting import human_age, human_duration
from widgets.metric_spark import ASCII_RAMP, BLOCKS
from widgets.resource_table import Column

ALERTS_PROVIDER = "alerts"
ALERTMANAGER_PROVIDER = "alertmanager"
PROVIDERS = (ALERTS_PROVIDER, ALERTMANAGER_PROVIDER)
"""The providers whose snapshots the tab merges; either one makes the tab exist."""

RESOLVED_WINDOW = 86400.0
"""The summary counts the alerts resolved within this (the table lists all the engine keeps)."""

# -- colours ---------------------------------------------------------------------------------------

SEVERITY_HEALTH = {"critical": "error", "warning": "warn", "info": "info"}
"""A severity as the table's colour class: critical red, warning yellow, info blue."""

SECTION_SILENCED, SECTION_SILENCES = "silenced", "silences"
SECTIONS = (FIRING, PENDING, SECTION_SILENCED, RESOLVED)
SECTION_HEALTH = {FIRING: "error", PENDING: "warn", SECTION_SILENCED: "muted", RESOLVED: "ok",
                  SECTION_SILENCES: "info"}


def tinted_health(value: object) -> str | None:
    """The colour class a cell carries (Tinted.health): ok / warn / error / info / muted."""
    return getattr(value, "health", "") or None


def severity_cell(alert: Alert) -> Tinted:
    """Firing and pending alerts in their severity's colour; silenced and resolved ones muted
    (nobody needs to act on them)."""
    if alert.state == RESOLVED or alert.muted:
        return Tinted(alert.severity, "muted")
    return Tinted(alert.severity, SEVERITY_HEALTH.get(alert.severity, "warn"))


# -- which alert goes where ------------------------------------------------------------------------


def section_of(alert: Alert) -> str:
    if alert.state == RESOLVED:
        return RESOLVED
    return SECTION_SILENCED if alert.muted else alert.state


def _severity_rank(alert: Alert) -> int:
    return SEVERITY_ORDER.get(alert.severity, len(SEVERITY_ORDER))


def since(alert: Alert) -> float:
    """When the alert entered the state it is listed under."""
    if alert.state == RESOLVED and alert.resolved_at is not None:
        return alert.resolved_at
    if alert.state == FIRING and alert.firing_since is not None:
        return alert.firing_since
    return alert.active_since


def sectioned(alerts: Iterable[Alert]) -> list[tuple[str, list[Alert]]]:
    """The non-empty sections in table order. Active ones: the worst severity first, then
    the newest trouble; resolved ones: newest first."""
    by_section: dict[str, list[Alert]] = {s: [] for s in SECTIONS}
    for alert in alerts:
        by_section.setdefault(section_of(alert), []).append(alert)
    out = []
    for name in SECTIONS:
        found = by_section.get(name, [])
        if not found:
            continue
        if name == RESOLVED:
            found.sort(key=lambda a: (-since(a), a.name, a.labels))
        else:
            found.sort(key=lambda a: (_severity_rank(a), -since(a), a.name, a.labels))
        out.append((name, found))
    return out


def shown_silences(silences: Iterable[Silence], now: float) -> list[Silence]:
    """Active and pending silences, the soonest to end first (expired ones are history)."""
    live = [s for s in silences if s.state(now) != "expired"]
    return sorted(live, key=lambda s: (s.ends_at, s.id))


def alert_key(alert: Alert) -> str:
    return f"alert:{alert.source}:{alert.fingerprint}"


def silence_key(silence: Silence) -> str:
    return f"silence:{silence.source}:{silence.id}"


# -- cells ----------------------------------------------------------------------------------------

HIDDEN_LABELS = frozenset({"alertname", "severity"})


def identifying_labels(alert: Alert) -> str:
    """`cluster=main member=pg2`: what tells this instance from the rule's others."""
    return " ".join(f"{k}={v}" for k, v in alert.labels if k not in HIDDEN_LABELS)


def matchers_text(matchers: Sequence[Matcher]) -> str:
    """`alertname=DiskFull cluster=main`, or `name=~"pg.*"` where the op is not plain equality."""
    return " ".join(f"{m.name}={m.value}" if m.op == "=" else str(m) for m in matchers)


def value_text(value: float | None) -> str:
    """A value in six cells at most: 93.2, 0.0512, 1250, 16.8M."""
    if value is None:
        return "—"
    size = abs(value)
    for limit, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")):
        if size >= limit:
            return f"{value / limit:.1f}{unit}"
    if float(value).is_integer():
        return str(int(value))
    if size >= 100:
        return f"{value:.0f}"
    if size >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"


def trend_text(values: Sequence[float], width: int, ascii: bool = False) -> str:
    """The newest `width` values as bars from their lowest to their highest: a disk going
    from 88 to 93 % shows its climb (scaled from zero it would be a flat full bar)."""
    shown = list(values)[-width:]
    if not shown:
        return ""
    ramp = ASCII_RAMP[1:] if ascii else BLOCKS
    low, high = min(shown), max(shown)
    if high == low:
        return ramp[len(ramp) // 2] * len(shown)
    steps = len(ramp) - 1
    return "".join(ramp[round((v - low) / (high - low) * steps)] for v in shown)


def ago(seconds: float) -> str:
    return f"{human_age(seconds)} ago"


def ends_in(silence: Silence, now: float) -> str:
    """`in 1h50m` (active: when it ends), `starts 2h` (pending: when it starts)."""
    if silence.state(now) == "pending":
        return f"starts {human_age(silence.starts_at - now)}"
    left = silence.ends_at - now
    return f"in {human_duration(left) if left < 86400 else human_age(left)}"


def source_word(source: str) -> str:
    return "AM" if source == ALERTMANAGER else "stacktop"


def ack_text(alert: Alert, ascii: bool = False) -> str:
    if not alert.acked_by:
        return "inhibited" if alert.inhibited_by and not alert.silenced_by else ""
    return f"{'+' if ascii else '✓'} {alert.acked_by}"


# -- the table ------------------------------------------------------------------------------------

COLUMNS = (
    Column("severity", "Severity", width=8, kind="status", severity=tinted_health),
    Column("alert", "Alert", min_width=12, flex=4),
    Column("labels", "Labels", min_width=10, flex=3),
    Column("summary", "Summary", min_width=12, flex=3),
    Column("value", "Value", width=7, align="right"),
    Column("trend", "Trend", width=8),
    Column("age", "Age", width=9),
    Column("source", "Source", width=8),
    Column("ack", "Ack", width=9),
)
"""Every column a row has; `fit_columns` picks those a width shows."""

WIDE = ("severity", "alert", "labels", "summary", "value", "trend", "age", "source", "ack")
NARROW = ("severity", "alert", "labels", "value", "age", "source", "ack")
"""On 80 cells the summary and the value's trend give way (the detail pane has both)."""
WIDE_MIN_WIDTH = 110
TREND_POINTS = 10
_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


def fit_columns(width: int) -> tuple[Column, ...]:
    keys = WIDE if width >= WIDE_MIN_WIDTH else NARROW
    columns = tuple(COLUMNS[_INDEX[k]] for k in keys)
    if keys is NARROW:  # "✓ alice" is enough on 80 cells
        columns = tuple(Column(c.key, c.label, width=7) if c.key == "ack" else c for c in columns)
    return columns


def project(row: Sequence[object], columns: Sequence[Column]) -> tuple[object, ...]:
    """A full row's values for the columns shown."""
    return tuple(row[_INDEX[c.key]] for c in columns)


def alert_row(alert: Alert, now: float, ascii: bool = False) -> tuple[object, ...]:
    """One alert in COLUMNS order."""
    return (
        severity_cell(alert),
        alert.name,
        identifying_labels(alert),
        alert.annotation("summary"),
        value_text(alert.value),
        trend_text(alert.values, TREND_POINTS, ascii),
        ago(now - since(alert)),
        source_word(alert.source),
        ack_text(alert, ascii),
    )


SECTION_WORDS = {FIRING: "FIRING", PENDING: "PENDING", SECTION_SILENCED: "SILENCED", RESOLVED: "RESOLVED"}


def section_row(section: str, alerts: Sequence[Alert]) -> tuple[object, ...]:
    """`FIRING  3 alerts  1 critical`: the section's name in its colour, and its count."""
    count = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    critical = sum(1 for a in alerts if a.severity == "critical")
    note = ""
    if critical and section in (FIRING, PENDING):
        note = f"{critical} critical"
    elif section == RESOLVED:
        note = "newest first"
    return (Tinted(SECTION_WORDS[section], SECTION_HEALTH[section]), count, note, "", "", "", "", "", "")


def silences_header_row(count: int) -> tuple[object, ...]:
    """The silences' section row names what their cells hold (they are not alerts)."""
    return (Tinted("SILENCES", SECTION_HEALTH[SECTION_SILENCES]), f"{count} · matchers", "comment", "", "",
            "", "ends", "", "by")


def silence_row(silence: Silence, now: float, mutes: int) -> tuple[object, ...]:
    state = silence.state(now)
    return (
        Tinted(state, "info" if state == "active" else "muted"),
        matchers_text(silence.matchers),
        silence.comment,
        f"mutes {mutes} alert{'s' if mutes != 1 else ''}" if state == "active" else "not started",
        "",
        "",
        ends_in(silence, now),
        source_word(silence.source),
        silence.created_by,
    )


@dataclass(frozen=True)
class Listing:
    """Both providers' alerts and silences, merged, with the table's rows (full COLUMNS
    rows, keyed) and what each key stands for."""

    rows: tuple[tuple[str, tuple[object, ...]], ...]
    alerts: Mapping[str, Alert]
    silences: Mapping[str, Silence]


def all_alerts(engine: AlertsSnapshot | None, manager: AlertmanagerSnapshot | None) -> list[Alert]:
    return [*(engine.alerts if engine else ()), *(manager.alerts if manager else ())]


def all_silences(engine: AlertsSnapshot | None, manager: AlertmanagerSnapshot | None) -> list[Silence]:
    return [*(engine.silences if engine else ()), *(manager.silences if manager else ())]


def muted_by(silence: Silence, alerts: Iterable[Alert], now: float) -> list[Alert]:
    """The active or pending alerts `silence` mutes now: as their provider says
    (silenced_by), else by its matchers."""
    return [a for a in alerts if a.state != RESOLVED and a.source == silence.source
            and (silence.id in a.silenced_by or (not a.silenced_by and silence.mutes(a.labels, now)))]


def listing(engine: AlertsSnapshot | None, manager: AlertmanagerSnapshot | None, now: float,
            ascii: bool = False) -> Listing:
    alerts = all_alerts(engine, manager)
    rows: list[tuple[str, tuple[object, ...]]] = []
    by_key: dict[str, Alert] = {}
    for section, members in sectioned(alerts):
        rows.append((section_key(section), section_row(section, members)))
        for alert in members:
            key = alert_key(alert)
            if key in by_key:
                continue  # one instance, listed once
            by_key[key] = alert
            rows.append((key, alert_row(alert, now, ascii)))
    silences = shown_silences(all_silences(engine, manager), now)
    by_silence: dict[str, Silence] = {}
    if silences:
        rows.append((section_key(SECTION_SILENCES), silences_header_row(len(silences))))
        for silence in silences:
            key = silence_key(silence)
            by_silence[key] = silence
            rows.append((key, silence_row(silence, now, len(muted_by(silence, alerts, now)))))
    return Listing(tuple(rows), by_key, by_silence)


def empty_text(engine: AlertsSnapshot | None, manager: AlertmanagerSnapshot | None,
               interval: float | None, errors: Mapping[str, str] | None = None) -> str:
    """What the table says with nothing to list: that rules are evaluated, not that data is missing."""
    if engine is None and manager is None:
        if errors:
            return "no data: " + "; ".join(f"{name}: {why}" for name, why in errors.items())
        return "waiting for the first evaluation of the alert rules…"
    parts = ["No alerts firing."]
    if engine is not None:
        every = f" every {human_duration(interval)}" if interval else ""
        parts.append(f"{engine.rules} rule{'s' if engine.rules != 1 else ''} evaluated{every}"
                     + (f"; {len(engine.rules_without_data)} without data" if engine.rules_without_data
                        else "") + ".")
    if manager is not None:
        parts.append("Alertmanager lists none.")
    return " ".join(parts)


# -- the summary line, the tab's label, the status line ------------------------------------------


def _sep(out: Text) -> None:
    out.append("  ·  ", style="dim")


def notifications_text(engine: AlertsSnapshot, now: float) -> Text:
    """`notifications: 2 channels, last send 12s ago ok` (or FAILED, in red)."""
    out = Text("notifications: ", end="")
    out.append(engine.notifier or "no channels configured")
    if engine.notifications:
        last = engine.notifications[0]
        out.append(f", last send {ago(now - last.at)} ")
        out.append("ok" if last.ok else f"FAILED ({last.channel}: {last.detail})",
                   style="green" if last.ok else "bold red")
    return out


def summary_line(engine: AlertsSnapshot | None, manager: AlertmanagerSnapshot | None, now: float,
                 errors: Mapping[str, str] | None = None) -> Text:
    """`3 firing (1 critical), 2 pending, 1 silenced, 4 resolved in 24h · 18 rules, 2 without
    data · notifications: 2 channels, last send 12s ago ok`: the worst first, since a
    narrow line keeps only its start."""
    errors = errors or {}
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if engine is None and manager is None and not errors:
        out.append("waiting for the first evaluation of the alert rules…", style="dim")
        return out
    alerts = all_alerts(engine, manager)
    firing = [a for a in alerts if a.state == FIRING and not a.muted]
    critical = sum(1 for a in firing if a.severity == "critical")
    if firing:
        out.append(f"{len(firing)} firing", style="bold red")
        if critical:
            out.append(f" ({critical} critical)", style="bold red")
    else:
        out.append("nothing firing", style="green")
    counts = (
        (sum(1 for a in alerts if a.state == PENDING and not a.muted), "pending", "yellow"),
        (sum(1 for a in alerts if a.state != RESOLVED and a.muted), "silenced", "dim"),
        (sum(1 for a in alerts if a.state == RESOLVED and a.resolved_at is not None
             and now - a.resolved_at <= RESOLVED_WINDOW), "resolved in 24h", "green"),
    )
    for count, words, style in counts:
        if count:
            out.append(", ")
            out.append(f"{count} {words}", style=style)
    for name, error in errors.items():
        _sep(out)
        who = "Alertmanager" if name == ALERTMANAGER_PROVIDER else "rule engine"
        out.append(f"{who}: no data: {error}", style="bold red")
    if engine is not None:
        _sep(out)
        out.append(f"{engine.rules} rule{'s' if engine.rules != 1 else ''}")
        if engine.rules_without_data:
            out.append(f", {len(engine.rules_without_data)} without data", style="yellow")
        _sep(out)
        out.append_text(notifications_text(engine, now))
        if engine.problems:
            _sep(out)
            more = f" (+{len(engine.problems) - 1} more)" if len(engine.problems) > 1 else ""
            out.append(engine.problems[0] + more, style="yellow")
    if manager is not None:
        _sep(out)
        version = f" {manager.version}" if manager.version else ""
        count = len(manager.alerts)
        out.append(f"Alertmanager{version}: {count} alert{'s' if count != 1 else ''}")
    return out


def tab_counts(alerts: Iterable[Alert]) -> tuple[int, int]:
    """(firing, pending), leaving out the silenced: what needs someone now."""
    firing = pending = 0
    for a in alerts:
        if a.muted:
            continue
        firing += a.state == FIRING
        pending += a.state == PENDING
    return firing, pending


def tab_label(key: str, title: str, counts: tuple[int, int] | None, with_pending: bool = True) -> str:
    """`4 Alerts 3 firing 2 pending`; `4 Alerts ok` when nothing needs anyone; `4 Alerts !`
    when no source answers (None)."""
    if counts is None:
        return f"{key} {title} !"
    firing, pending = counts
    if not firing and not pending:
        return f"{key} {title} ok"
    parts = [key, title]
    if firing:
        parts.append(f"{firing} firing")
    if pending and (with_pending or not firing):
        parts.append(f"{pending} pending")
    return " ".join(parts)


def alerts_problem(snapshot: object) -> str | None:
    """The first thing the rule engine could not do (a rule file, the state file), for the status line."""
    if not isinstance(snapshot, AlertsSnapshot) or not snapshot.problems:
        return None
    more = f" (+{len(snapshot.problems) - 1} more)" if len(snapshot.problems) > 1 else ""
    return snapshot.problems[0] + more


# -- the detail pane -------------------------------------------------------------------------------


def clock_text(ts: float, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def section(title: str) -> Text:
    return Text(title, style="bold reverse", no_wrap=True, end="")


STATE_STYLES = {FIRING: "bold red", PENDING: "yellow", RESOLVED: "green"}
SEVERITY_STYLES = {"critical": "bold red", "warning": "yellow", "info": "blue"}


def alert_title(alert: Alert) -> str:
    return f"{alert.name} · {alert.state} · {alert.severity} · {source_word(alert.source)}"


def state_text(alert: Alert, now: float, tz: tzinfo | None) -> str:
    """`firing for 12m (since 2026-11-18 10:02:13, pending from 10:00:13)`."""
    if alert.state == RESOLVED and alert.resolved_at is not None:
        lasted = alert.resolved_at - alert.active_since
        fired = f", active {human_duration(lasted)}" if alert.active_since else ""
        return f"resolved {ago(now - alert.resolved_at)} (at {clock_text(alert.resolved_at, tz)}{fired})"
    start = since(alert)
    text = f"{alert.state} for {human_duration(now - start)} (since {clock_text(start, tz)}"
    if alert.state == FIRING and alert.firing_since is not None and alert.active_since < alert.firing_since:
        text += f"; pending from {clock_text(alert.active_since, tz)}"
    return text + ")"


def alert_fields(alert: Alert, silences: Mapping[str, Silence], now: float, tz: tzinfo | None,
                 ascii: bool = False, manager_url: str = "",
                 peers: Mapping[str, Alert] | None = None) -> list[tuple[str, str, str]]:
    """The facts of the detail pane; `peers` (fingerprint → alert) names the inhibitors."""
    fields: list[tuple[str, str, str]] = [
        ("state", state_text(alert, now, tz), STATE_STYLES.get(alert.state, "")),
        ("severity", alert.severity, SEVERITY_STYLES.get(alert.severity, "")),
        ("source", "stacktop rule engine" if alert.source != ALERTMANAGER
         else f"Alertmanager{f' ({manager_url})' if manager_url else ''}", ""),
    ]
    if alert.expr:
        fields.append(("expr", alert.expr, ""))
    if alert.value is not None or alert.values:
        spark = trend_text(alert.values, 30, ascii)
        fields.append(("value", f"{value_text(alert.value)}  {spark}".rstrip(), ""))
    fields.append(("labels", " ".join(f"{k}={v}" for k, v in alert.labels), ""))
    for key in ("summary", "description", "runbook_url"):
        if text := alert.annotation(key):
            fields.append((key, " ".join(text.split()), ""))
    for key, text in alert.annotations:
        if key not in ("summary", "description", "runbook_url"):
            fields.append((key, " ".join(text.split()), ""))
    for i, sid in enumerate(alert.silenced_by):
        silence = silences.get(sid)
        what = (f"{sid} · {matchers_text(silence.matchers)} · ends {ends_in(silence, now)} · "
                f"{silence.created_by}: {silence.comment}" if silence is not None else sid)
        fields.append(("silenced by" if i == 0 else "", what, "dim"))
    for i, fingerprint in enumerate(alert.inhibited_by):
        cause = (peers or {}).get(fingerprint)
        what = (f"{cause.name} {identifying_labels(cause)} ({fingerprint}; an inhibit rule in Alertmanager)"
                if cause is not None else f"{fingerprint} (an inhibit rule in Alertmanager)")
        fields.append(("inhibited by" if i == 0 else "", " ".join(what.split()), "dim"))
    if alert.acked_by:
        fields.append(("acked by", f"{alert.acked_by}: {alert.ack_comment}" if alert.ack_comment
                       else alert.acked_by, "green"))
    if alert.last_evaluated and alert.source != ALERTMANAGER:
        fields.append(("evaluated", ago(now - alert.last_evaluated), "dim"))
    if alert.generator_url:
        fields.append(("link", alert.generator_url, "dim"))
    return fields


def transition_line(t: Transition, tz: tzinfo | None) -> Text:
    """`2026-11-18 10:02:13  pending → firing  93.2`"""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(clock_text(t.at, tz), style="dim")
    line.append(f"  {t.from_state} → ")
    line.append(t.to_state, style=STATE_STYLES.get(t.to_state, ""))
    if t.value is not None:
        line.append(f"  {value_text(t.value)}")
    return line


def notification_line(n: NotificationRecord, tz: tzinfo | None, channel_width: int = 0) -> Text:
    """`2026-11-18 10:03:00  ops-slack  firing    ok      HTTP 200`; a failed send in red with why."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(clock_text(n.at, tz), style="dim")
    line.append(f"  {n.channel:<{channel_width}}  ")
    line.append(f"{n.status:<8}", style="red" if n.status == FIRING else "green")
    line.append("  ")
    line.append("ok    " if n.ok else "FAILED", style="green" if n.ok else "bold red")
    tries = f" ({n.attempts} attempts)" if n.attempts > 1 else ""
    line.append(f"  {n.detail}{tries}", style="" if n.ok else "red")
    return line


AlertDoc = TextDoc
"""The detail pane's lines for one alert or one silence."""


def alert_doc(alert: Alert, engine: AlertsSnapshot | None, silences: Mapping[str, Silence], now: float,
              tz: tzinfo | None, ascii: bool = False, manager_url: str = "",
              peers: Mapping[str, Alert] | None = None) -> AlertDoc:
    """Facts, then its transitions and its notifications (newest first). Alertmanager's
    alerts have neither here: Alertmanager keeps and sends those."""
    lines = field_lines(alert_fields(alert, silences, now, tz, ascii, manager_url, peers))
    if alert.source == ALERTMANAGER:
        lines.append(Text(""))
        lines.append(Text("Alertmanager routes and notifies this alert; its history is in Alertmanager.",
                          style="dim"))
        return AlertDoc(lines)
    transitions = [t for t in (engine.transitions if engine else ()) if t.fingerprint == alert.fingerprint]
    lines.append(Text(""))
    lines.append(section(f" Transitions, newest first ({len(transitions)}) "))
    lines += [transition_line(t, tz) for t in transitions] or [Text("none recorded", style="dim")]
    sent = [n for n in (engine.notifications if engine else ()) if alert.fingerprint in n.fingerprints]
    lines.append(Text(""))
    lines.append(section(f" Notifications, newest first ({len(sent)}) "))
    width = max((len(n.channel) for n in sent), default=0)
    if sent:
        lines += [notification_line(n, tz, width) for n in sent]
    else:
        why = engine.notifier if engine is not None and engine.notifier else "no channels configured"
        lines.append(Text(f"none sent ({why})", style="dim"))
    return AlertDoc(lines)


def silence_title(silence: Silence, now: float) -> str:
    return f"silence {silence.id} · {silence.state(now)} · {source_word(silence.source)}"


def silence_doc(silence: Silence, alerts: Iterable[Alert], now: float, tz: tzinfo | None) -> AlertDoc:
    """Its matchers, times, creator and comment, then the alerts it mutes now."""
    state = silence.state(now)
    fields: list[tuple[str, str, str]] = [
        ("matchers", ", ".join(str(m) for m in silence.matchers), ""),
        ("state", state, "blue" if state == "active" else "dim"),
        ("starts", clock_text(silence.starts_at, tz), ""),
        ("ends", f"{clock_text(silence.ends_at, tz)} ({ends_in(silence, now)})", ""),
        ("created by", silence.created_by, ""),
        ("comment", silence.comment, ""),
        ("source", "stacktop" if silence.source != ALERTMANAGER else "Alertmanager", ""),
        ("id", silence.id, "dim"),
    ]
    lines = field_lines(fields)
    muted = muted_by(silence, alerts, now)
    lines.append(Text(""))
    lines.append(section(f" Mutes now ({len(muted)}) "))
    for a in muted:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(f"{a.severity:<8}", style=SEVERITY_STYLES.get(a.severity, ""))
        line.append(f"  {a.name}  {identifying_labels(a)}  {a.state} {ago(now - since(a))}")
        lines.append(line)
    if not muted:
        lines.append(Text("no alert matches it now" if state == "active" else "it has not started yet",
                          style="dim"))
    return AlertDoc(lines)

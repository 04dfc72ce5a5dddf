"""The rule engine: per rule and label set, inactive -> pending -> firing -> resolved.

It is synchronous and does no I/O besides the state store, so it is tested with
an injected clock and runs the same in the console and in `stacktop agent`.

Choices that keep notifications quiet:
- `for` must hold continuously before an alert fires; `keep_firing_for` keeps a
  firing alert firing through short dips, so a value hovering at the threshold
  gives one firing period, not a page per crossing.
- A rule whose query selects no samples at all (its provider is down or not
  configured) leaves its alerts as they are: missing data is not recovery.
- State and history are in the store, so a restart neither re-pages firing
  alerts nor restarts a pending alert's `for`.
"""

from __future__ import annotations

import operator
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from uuid import uuid4

from providers.alerts import templates
from providers.alerts.model import (
    FIRING,
    INACTIVE,
    PENDING,
    RESOLVED,
    SEVERITY_ORDER,
    Ack,
    Alert,
    Labels,
    Matcher,
    Query,
    Rule,
    Silence,
    Transition,
    fingerprint,
)
from providers.alerts.state import AlertRow, AlertStore
from providers.base import Sample

_IDENTITY_CACHE = 100_000
SAVE_EVERY = 30.0
"""Seconds between writes of a row whose state did not change (its value did)."""
MAX_VALUES = 60
"""Values kept per alert for its sparkline."""
_STATE_ORDER = {FIRING: 0, PENDING: 1, RESOLVED: 2}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
    "!=": operator.ne}
"""Query.compare without building a dict per sample (it runs once per rule and sample)."""


class RuleEngine:
    """Evaluates rules over samples and keeps the alerts' state in an AlertStore.

    persist=False is for a process that only displays (another one holds the
    notifier): it loads the shared state but never writes alert rows or
    transitions; silences and acknowledgements are still written, being the
    operator's own actions."""

    def __init__(self, rules: Sequence[Rule], store: AlertStore, *,
                 clock: Callable[[], float] = time.time, resolved_retention: float = 86400.0,
                 persist: bool = True) -> None:
        self.rules = tuple(rules)
        self.store = store
        self.clock = clock
        self.resolved_retention = resolved_retention
        self.persist = persist
        self._by_name: dict[str, list[Rule]] = defaultdict(list)
        for rule in self.rules:
            self._by_name[rule.name].append(rule)
        self._predicates = {(r.name, r.query): _predicate(r.query.matchers) for r in self.rules}
        self._labels: dict[tuple[int, Labels], tuple[Labels, str]] = {}
        """(rule, sample labels) -> (alert labels, fingerprint): both are the same every evaluation."""
        self._without_data: tuple[str, ...] = ()
        self._dirty: dict[str, AlertRow] = {}
        """Rows changed since they were last written (persist only)."""
        self._saved_at: dict[str, float] = {}
        loaded = store.load_alerts()
        dropped = [fp for fp, row in loaded.items() if row.name not in self._by_name]
        self._alerts: dict[str, AlertRow] = {fp: row for fp, row in loaded.items()
                                             if row.name in self._by_name}
        if persist and dropped:
            store.delete_alerts(dropped)
            store.remove_acks(dropped)

    # -- evaluation -----------------------------------------------------------

    def evaluate(self, samples: Sequence[Sample], now: float | None = None) -> list[Transition]:
        """One evaluation of every rule; returns the state changes (also appended to the history)."""
        now = self.clock() if now is None else now
        by_metric: dict[str, list[Sample]] = defaultdict(list)
        for s in samples:
            by_metric[s.name].append(s)
        wild: dict[str, list[Sample]] = {}
        by_rule: dict[str, list[AlertRow]] = defaultdict(list)
        for row in self._alerts.values():
            by_rule[row.name].append(row)

        transitions: list[Transition] = []
        changed: dict[str, AlertRow] = {}
        forgotten: list[str] = []
        resolved: list[str] = []
        without_data: list[str] = []
        for name, rules in self._by_name.items():
            true: dict[str, tuple[Rule, Sample, Labels]] = {}
            selections: list[tuple[Rule, list[Sample]]] = []
            for rule in rules:
                selected = _select(rule.query, by_metric, self._predicates[rule.name, rule.query], wild)
                if selected:
                    selections.append((rule, selected))
                compare, threshold = _COMPARE[rule.query.op], rule.query.threshold
                for s in selected:
                    if compare(s.value, threshold):
                        labels, fp = self._identity(rule, s)
                        true[fp] = (rule, s, labels)
            if not selections:
                without_data.append(name)
                continue
            for fp, (rule, s, labels) in true.items():
                row = self._alerts.get(fp)
                transitions += self._true(rule, fp, labels, s.value, row, now)
                changed[fp] = self._alerts[fp]
            stale = [row for row in by_rule.get(name, ()) if row.fingerprint not in true
                     and row.state in (PENDING, FIRING)]
            current: dict[str, float] = {}
            if any(row.state == FIRING for row in stale):
                # The values below the threshold, for the sparkline of a firing alert kept firing.
                current = {self._identity(rule, s)[1]: s.value for rule, selected in selections
                           for s in selected if not rule.query.compare(s.value)}
            for row in stale:
                value = current.get(row.fingerprint)
                if row.state == PENDING:
                    transitions.append(_transition(row, PENDING, INACTIVE, now, value))
                    del self._alerts[row.fingerprint]
                    forgotten.append(row.fingerprint)
                    continue
                row.last_evaluated = now
                if value is not None:
                    row.value = value
                    row.values.append(value)
                    del row.values[:-MAX_VALUES]
                if now - row.last_true >= self._keep_firing_for(name):
                    row.state = RESOLVED
                    row.resolved_at = now
                    transitions.append(_transition(row, FIRING, RESOLVED, now, value))
                    resolved.append(row.fingerprint)
                changed[row.fingerprint] = row

        for fp, row in list(self._alerts.items()):
            if row.state == RESOLVED and now - (row.resolved_at or now) >= self.resolved_retention:
                del self._alerts[fp]
                changed.pop(fp, None)
                forgotten.append(fp)
        self._without_data = tuple(without_data)
        if self.persist:
            self._save(changed, forgotten, transitions, now)
            if resolved:
                self.store.remove_acks(resolved)
        return transitions

    def _save(self, changed: dict[str, AlertRow], forgotten: list[str], transitions: list[Transition],
              now: float) -> None:
        """Rows that changed state are written at once, with their transitions; rows that only
        have a new value are written every SAVE_EVERY seconds (a crash loses at most that much
        sparkline), which keeps a large firing set from rewriting the file every evaluation."""
        moved = {t.fingerprint for t in transitions}
        self._dirty.update(changed)
        for fp in forgotten:
            self._dirty.pop(fp, None)
            self._saved_at.pop(fp, None)
        due = [fp for fp in self._dirty
               if fp in moved or now - self._saved_at.get(fp, -SAVE_EVERY) >= SAVE_EVERY]
        self.store.apply(save=[self._dirty[fp] for fp in due], delete=forgotten, transitions=transitions)
        for fp in due:
            del self._dirty[fp]
            self._saved_at[fp] = now

    def flush(self) -> None:
        """Write the rows whose newest values are not saved yet (call before closing the store)."""
        if self.persist and self._dirty:
            now = self.clock()
            self.store.apply(save=list(self._dirty.values()))
            self._saved_at.update(dict.fromkeys(self._dirty, now))
            self._dirty.clear()

    def _identity(self, rule: Rule, sample: Sample) -> tuple[Labels, str]:
        """The alert's labels and fingerprint for this rule and sample, memoised."""
        key = (id(rule), sample.labels)
        found = self._labels.get(key)
        if found is None:
            if len(self._labels) >= _IDENTITY_CACHE:
                self._labels.clear()
            labels = _alert_labels(rule, sample)
            found = self._labels[key] = (labels, fingerprint(labels))
        return found

    def _keep_firing_for(self, name: str) -> float:
        return max(r.keep_firing_for for r in self._by_name[name])

    def _true(self, rule: Rule, fp: str, labels: Labels, value: float, row: AlertRow | None,
              now: float) -> list[Transition]:
        out: list[Transition] = []
        if row is None or row.state in (INACTIVE, RESOLVED):
            before = INACTIVE if row is None else row.state
            values = [] if row is None else row.values
            row = AlertRow(fingerprint=fp, name=rule.name, state=PENDING, labels=labels, values=values,
                           active_since=now)
            self._alerts[fp] = row
            if rule.for_ > 0:
                out.append(_transition(row, before, PENDING, now, value))
            else:
                row.state = FIRING
                row.firing_since = now
                out.append(_transition(row, before, FIRING, now, value))
        elif row.state == PENDING and now - row.active_since >= rule.for_:
            row.state = FIRING
            row.firing_since = now
            out.append(_transition(row, PENDING, FIRING, now, value))
        row.labels = labels
        row.value = value
        row.values.append(value)
        del row.values[:-MAX_VALUES]
        row.last_true = now
        row.last_evaluated = now
        row.expr = rule.expr
        row.severity = rule.severity
        as_map = dict(labels)
        row.annotations = tuple((k, templates.render(t, as_map, value)) for k, t in rule.annotations)
        return out

    def rules_without_data(self) -> tuple[str, ...]:
        """Rules whose query selected no sample in the last evaluation (state left untouched)."""
        return self._without_data

    # -- what is shown ----------------------------------------------------------

    def alerts(self, now: float | None = None) -> tuple[Alert, ...]:
        """Firing, then pending, then recently resolved; by severity, newest first."""
        now = self.clock() if now is None else now
        active = [s for s in self.store.silences(now, include_expired_since=now) if s.state(now) == "active"]
        acks = self.store.acks()
        out: list[Alert] = []
        for row in self._alerts.values():
            if row.state not in _STATE_ORDER:
                continue
            if row.state == RESOLVED and now - (row.resolved_at or now) >= self.resolved_retention:
                continue
            ack = acks.get(row.fingerprint)
            if ack is not None and (row.state == RESOLVED or ack.at < row.active_since):
                ack = None  # from an earlier firing period: acks end when their alert resolves
            out.append(Alert(
                fingerprint=row.fingerprint, name=row.name, state=row.state, severity=row.severity,
                labels=row.labels, annotations=row.annotations, value=row.value,
                values=tuple(row.values), expr=row.expr, active_since=row.active_since,
                firing_since=row.firing_since, resolved_at=row.resolved_at,
                last_evaluated=row.last_evaluated,
                silenced_by=tuple(s.id for s in active if s.mutes(row.labels, now)),
                acked_by=ack.by if ack else "", ack_comment=ack.comment if ack else "",
            ))
        out.sort(key=_sort_key)
        return tuple(out)

    def silences(self, now: float | None = None) -> tuple[Silence, ...]:
        """Active and pending, then those expired within the resolved retention."""
        now = self.clock() if now is None else now
        return self.store.silences(now, include_expired_since=now - self.resolved_retention)

    def transitions(self, limit: int = 200) -> list[Transition]:
        """Newest first, from the store: with persist=False, the writing process's history."""
        return self.store.transitions(limit=limit)

    # -- the operator's actions -------------------------------------------------

    def silence(self, matchers: Sequence[Matcher], duration: float, comment: str, by: str,
                now: float | None = None) -> Silence:
        """Mute every alert the matchers all match, from now for `duration` seconds."""
        if not matchers:
            raise ValueError("a silence needs at least one label matcher")
        if duration <= 0:
            raise ValueError("a silence needs a positive duration")
        now = self.clock() if now is None else now
        return self.store.add_silence(Silence(id=str(uuid4()), matchers=tuple(matchers), starts_at=now,
                                              ends_at=now + duration, created_by=by, comment=comment))

    def expire_silence(self, silence_id: str, now: float | None = None) -> Silence | None:
        now = self.clock() if now is None else now
        return self.store.expire_silence(silence_id, now)

    def acknowledge(self, fingerprint: str, by: str, comment: str = "",
                    now: float | None = None) -> Ack | None:
        """Record that someone is on it; None when no such pending or firing alert."""
        row = self._alerts.get(fingerprint)
        if row is None or row.state not in (PENDING, FIRING):
            return None
        now = self.clock() if now is None else now
        ack = Ack(fingerprint=fingerprint, by=by, comment=comment, at=max(now, row.active_since))
        self.store.add_ack(ack)
        return ack


def _select(query: Query, by_metric: dict[str, list[Sample]], keep: Callable[[Sample], bool] | None,
            wild: dict[str, list[Sample]]) -> list[Sample]:
    """Query.select over samples grouped by metric name. A wildcard scans the names
    once per evaluation, whatever the number of rules sharing it (`wild` caches)."""
    if "*" in query.metric:
        candidates = wild.get(query.metric)
        if candidates is None:
            candidates = wild[query.metric] = [s for name, group in by_metric.items()
                                               if query.metric_matches(name) for s in group]
    else:
        candidates = by_metric.get(query.metric, [])
    if keep is None:
        return list(candidates)
    return [s for s in candidates if keep(s)]


def _predicate(matchers: tuple[Matcher, ...]) -> Callable[[Sample], bool] | None:
    """Matcher.matches for every matcher, compiled once per rule: `name="value"` is a
    pair lookup in the sorted labels, regexes are compiled; None when there are none."""
    if not matchers:
        return None
    pairs = tuple((m.name, m.value) for m in matchers if m.op == "=" and m.value)
    rest = tuple((m.name, m.op, re.compile(m.value) if m.op in ("=~", "!~") else m.value)
                 for m in matchers if not (m.op == "=" and m.value))
    if not rest:
        if len(pairs) == 1:
            pair = pairs[0]
            return lambda s: pair in s.labels
        return lambda s: all(p in s.labels for p in pairs)

    def keep(s: Sample) -> bool:
        if pairs and not all(p in s.labels for p in pairs):
            return False
        labels = dict(s.labels)
        for name, op, want in rest:
            have = labels.get(name, "")
            if op == "=":
                ok = have == want
            elif op == "!=":
                ok = have != want
            else:
                ok = (want.fullmatch(have) is not None) == (op == "=~")  # type: ignore[union-attr]
            if not ok:
                return False
        return True

    return keep


def _alert_labels(rule: Rule, sample: Sample) -> Labels:
    """The sample's labels, then the rule's (they win), then alertname and severity."""
    labels = dict(sample.labels)
    labels.update(rule.labels)
    labels["alertname"] = rule.name
    labels["severity"] = rule.severity
    return tuple(sorted(labels.items()))


def _transition(row: AlertRow, before: str, after: str, now: float, value: float | None = None) -> Transition:
    return Transition(at=now, fingerprint=row.fingerprint, name=row.name, labels=row.labels,
                      from_state=before, to_state=after, value=row.value if value is None else value)


def _sort_key(a: Alert) -> tuple[int, int, float, str]:
    newest = {FIRING: a.firing_since, PENDING: a.active_since, RESOLVED: a.resolved_at}[a.state] or 0.0
    return (_STATE_ORDER[a.state], SEVERITY_ORDER.get(a.severity, len(SEVERITY_ORDER)), -newest,
            a.fingerprint)

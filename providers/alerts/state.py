"""The alerting state on disk: alert rows, the transition history, silences and
acknowledgements, in one SQLite file.

SQLite because two processes share it (the console and `stacktop agent`): WAL
lets one read while the other writes, and every write is its own short
transaction, so a silence made in the console is seen by the agent on its next
read. The file holds who silenced what and why, so it is created 0600 in a 0700
directory. Growth is bounded: old transitions are pruned on open and every few
thousand appends.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from providers.alerts.model import Ack, Labels, Matcher, Silence, Transition

TRANSITION_MAX_AGE = 30 * 86400.0
TRANSITION_MAX_ROWS = 100_000
SILENCE_MAX_AGE = 30 * 86400.0
"""Expired silences older than this are forgotten on open."""
_PRUNE_EVERY = 5_000
"""Appended transitions between two prunes in a long-running process."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL,
    labels TEXT NOT NULL, annotations TEXT NOT NULL, value REAL, "values" TEXT NOT NULL,
    active_since REAL NOT NULL, firing_since REAL, resolved_at REAL, last_true REAL NOT NULL,
    last_evaluated REAL NOT NULL, expr TEXT NOT NULL, severity TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, fingerprint TEXT NOT NULL,
    name TEXT NOT NULL, labels TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL,
    value REAL);
CREATE INDEX IF NOT EXISTS transitions_fp ON transitions (fingerprint, id);
CREATE INDEX IF NOT EXISTS transitions_at ON transitions (at);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_at REAL NOT NULL, ends_at REAL NOT NULL,
    created_by TEXT NOT NULL, comment TEXT NOT NULL, expired_at REAL);
CREATE TABLE IF NOT EXISTS acks (
    fingerprint TEXT PRIMARY KEY, "by" TEXT NOT NULL, comment TEXT NOT NULL, at REAL NOT NULL);
"""

_ALERT_COLUMNS = ("fingerprint", "name", "state", "labels", "annotations", "value", "values",
                  "active_since", "firing_since", "resolved_at", "last_true", "last_evaluated",
                  "expr", "severity")


class StateError(Exception):
    """The state file cannot be used; the message is one line naming the file and the fix."""


@dataclass(slots=True)
class AlertRow:
    """One alert's mutable state as the engine keeps it and the store saves it."""

    fingerprint: str
    name: str
    state: str
    labels: Labels
    annotations: Labels = ()
    value: float | None = None
    values: list[float] = field(default_factory=list)
    """Recent values, oldest first (the engine keeps at most 60)."""
    active_since: float = 0.0
    firing_since: float | None = None
    resolved_at: float | None = None
    last_true: float = 0.0
    last_evaluated: float = 0.0
    expr: str = ""
    severity: str = ""


def _pairs(text: str) -> Labels:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def _dump_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    return json.dumps([[k, v] for k, v in pairs], separators=(",", ":"))


def _row_to_alert(r: sqlite3.Row) -> AlertRow:
    return AlertRow(
        fingerprint=r["fingerprint"], name=r["name"], state=r["state"], labels=_pairs(r["labels"]),
        annotations=_pairs(r["annotations"]), value=r["value"],
        values=[float(v) for v in json.loads(r["values"])], active_since=r["active_since"],
        firing_since=r["firing_since"], resolved_at=r["resolved_at"], last_true=r["last_true"],
        last_evaluated=r["last_evaluated"], expr=r["expr"], severity=r["severity"],
    )


def _alert_params(a: AlertRow) -> tuple[Any, ...]:
    return (a.fingerprint, a.name, a.state, _dump_pairs(a.labels), _dump_pairs(a.annotations), a.value,
            json.dumps(a.values, separators=(",", ":")), a.active_since, a.firing_since, a.resolved_at,
            a.last_true, a.last_evaluated, a.expr, a.severity)


def _row_to_silence(r: sqlite3.Row) -> Silence:
    matchers = tuple(Matcher(str(n), str(o), str(v)) for n, o, v in json.loads(r["matchers"]))
    return Silence(id=r["id"], matchers=matchers, starts_at=r["starts_at"], ends_at=r["ends_at"],
                   created_by=r["created_by"], comment=r["comment"])


class AlertStore:
    """The SQLite state file (path None: in memory, for tests). Safe to call from any
    thread of one process; several processes may open the same file."""

    def __init__(self, path: str | os.PathLike[str] | None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = None if path is None else os.fspath(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._appended = 0
        self._db = self._open()

    # -- opening ------------------------------------------------------------

    def _problem(self, exc: BaseException) -> StateError:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "locked" in reason or "busy" in reason:
            return StateError(f"alert state file {self.path}: {reason} (another process has held it "
                              "for over 5 s); try again")
        return StateError(f"alert state file {self.path}: {reason}; "
                          "move it aside and stacktop starts a fresh one")

    def _open(self) -> sqlite3.Connection:
        target = ":memory:"
        if self.path is not None:
            target = self.path
            try:
                parent = os.path.dirname(os.path.abspath(self.path))
                os.makedirs(parent, mode=0o700, exist_ok=True)
                if not os.path.exists(self.path):
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
                elif not os.access(self.path, os.R_OK | os.W_OK):
                    raise StateError(f"alert state file {self.path}: not readable and writable by this "
                                     "user; fix its owner or permissions")
            except OSError as exc:
                raise StateError(f"alert state file {self.path}: cannot create it "
                                 f"({exc.strerror or exc}); check the directory's permissions") from None
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(target, timeout=5.0, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 5000")
            if self.path is not None:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            self._prune(db)
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            raise self._problem(exc) from None
        return db

    def _prune(self, db: sqlite3.Connection) -> None:
        now = self._clock()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM transitions WHERE at < ?", (now - TRANSITION_MAX_AGE,))
            db.execute("DELETE FROM transitions WHERE id <= (SELECT MAX(id) FROM transitions) - ?",
                       (TRANSITION_MAX_ROWS,))
            db.execute("DELETE FROM silences WHERE ends_at < ?", (now - SILENCE_MAX_AGE,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short transaction; any SQLite failure becomes a one-line StateError."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._problem(exc) from None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._problem(exc) from None

    # -- alerts -------------------------------------------------------------

    def load_alerts(self) -> dict[str, AlertRow]:
        return {r["fingerprint"]: _row_to_alert(r) for r in self._read("SELECT * FROM alerts")}

    def save_alerts(self, rows: Iterable[AlertRow]) -> None:
        self.apply(save=rows)

    def delete_alerts(self, fingerprints: Iterable[str]) -> None:
        self.apply(delete=fingerprints)

    def append_transitions(self, transitions: Iterable[Transition]) -> None:
        self.apply(transitions=transitions)

    def apply(self, *, save: Iterable[AlertRow] = (), delete: Iterable[str] = (),
              transitions: Iterable[Transition] = ()) -> None:
        """One evaluation's changes in one transaction: upserted rows, forgotten ones and
        the history, so a crash never leaves a state without its transition."""
        saved = [_alert_params(a) for a in save]
        deleted = [(fp,) for fp in delete]
        history = [(t.at, t.fingerprint, t.name, _dump_pairs(t.labels), t.from_state, t.to_state, t.value)
                   for t in transitions]
        if not (saved or deleted or history):
            return
        columns = ", ".join(f'"{c}"' for c in _ALERT_COLUMNS)
        marks = ", ".join("?" for _ in _ALERT_COLUMNS)
        with self._write() as db:
            if saved:
                db.executemany(f"INSERT OR REPLACE INTO alerts ({columns}) VALUES ({marks})", saved)
            if deleted:
                db.executemany("DELETE FROM alerts WHERE fingerprint = ?", deleted)
            if history:
                db.executemany("INSERT INTO transitions (at, fingerprint, name, labels, from_state, "
                               "to_state, value) VALUES (?, ?, ?, ?, ?, ?, ?)", history)
        self._appended += len(history)
        if self._appended >= _PRUNE_EVERY:
            self._appended = 0
            with self._lock:
                try:
                    self._prune(self._db)
                except sqlite3.Error as exc:
                    raise self._problem(exc) from None

    def transitions(self, fingerprint: str | None = None, limit: int = 200) -> list[Transition]:
        """Newest first."""
        if fingerprint is None:
            rows = self._read("SELECT * FROM transitions ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._read("SELECT * FROM transitions WHERE fingerprint = ? ORDER BY id DESC LIMIT ?",
                              (fingerprint, limit))
        return [Transition(at=r["at"], fingerprint=r["fingerprint"], name=r["name"],
                           labels=_pairs(r["labels"]), from_state=r["from_state"],
                           to_state=r["to_state"], value=r["value"]) for r in rows]

    # -- silences -----------------------------------------------------------

    def add_silence(self, silence: Silence) -> Silence:
        matchers = json.dumps([[m.name, m.op, m.value] for m in silence.matchers], separators=(",", ":"))
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO silences (id, matchers, starts_at, ends_at, created_by, "
                       "comment, expired_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                       (silence.id, matchers, silence.starts_at, silence.ends_at, silence.created_by,
                        silence.comment))
        return silence

    def expire_silence(self, silence_id: str, now: float) -> Silence | None:
        """Ends it now (an already expired one keeps its end); None for an unknown id."""
        with self._write() as db:
            row = db.execute("SELECT * FROM silences WHERE id = ?", (silence_id,)).fetchone()
            if row is None:
                return None
            if row["ends_at"] > now:
                db.execute("UPDATE silences SET ends_at = ?, expired_at = ? WHERE id = ?",
                           (now, now, silence_id))
            row = db.execute("SELECT * FROM silences WHERE id = ?", (silence_id,)).fetchone()
        return _row_to_silence(row)

    def silences(self, now: float, include_expired_since: float) -> tuple[Silence, ...]:
        """Active and pending ones (newest first), then those that ended since
        `include_expired_since` (most recently ended first)."""
        rows = self._read("SELECT * FROM silences WHERE ends_at > ? OR ends_at >= ?",
                          (now, include_expired_since))
        found = [_row_to_silence(r) for r in rows]
        live = sorted((s for s in found if s.ends_at > now), key=lambda s: (-s.starts_at, s.id))
        ended = sorted((s for s in found if s.ends_at <= now), key=lambda s: (-s.ends_at, s.id))
        return tuple(live + ended)

    # -- acknowledgements ---------------------------------------------------

    def add_ack(self, ack: Ack) -> None:
        with self._write() as db:
            db.execute('INSERT OR REPLACE INTO acks (fingerprint, "by", comment, at) VALUES (?, ?, ?, ?)',
                       (ack.fingerprint, ack.by, ack.comment, ack.at))

    def remove_ack(self, fingerprint: str) -> None:
        self.remove_acks((fingerprint,))

    def remove_acks(self, fingerprints: Iterable[str]) -> None:
        gone = [(fp,) for fp in fingerprints]
        if gone:
            with self._write() as db:
                db.executemany("DELETE FROM acks WHERE fingerprint = ?", gone)

    def acks(self) -> dict[str, Ack]:
        return {r["fingerprint"]: Ack(fingerprint=r["fingerprint"], by=r["by"], comment=r["comment"],
                                      at=r["at"])
                for r in self._read("SELECT * FROM acks")}

    def close(self) -> None:
        with self._lock:
            self._db.close()

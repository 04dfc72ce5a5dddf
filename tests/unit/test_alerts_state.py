"""The SQLite state file: round trips, sharing between processes, growth bounds and
one-line errors for a file that cannot be used."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from providers.alerts import state as state_mod
from providers.alerts.model import FIRING, PENDING, Ack, Matcher, Silence, Transition
from providers.alerts.state import AlertRow, AlertStore, StateError

T0 = 1_700_000_000.0
LABELS = (("alertname", "CpuHigh"), ("instance", "web-1"), ("severity", "warning"))


def _row(fp: str = "a" * 16, **kw: object) -> AlertRow:
    base: dict[str, object] = dict(fingerprint=fp, name="CpuHigh", state=FIRING, labels=LABELS,
                                   annotations=(("summary", "CPU 91"),), value=91.0, values=[80.0, 91.0],
                                   active_since=T0, firing_since=T0 + 60, resolved_at=None,
                                   last_true=T0 + 120, last_evaluated=T0 + 120,
                                   expr="host.cpu.percent > 80", severity="warning")
    base.update(kw)
    return AlertRow(**base)  # type: ignore[arg-type]


def _silence(sid: str, starts: float, ends: float) -> Silence:
    return Silence(id=sid, matchers=(Matcher("alertname", "=~", "Cpu.*"), Matcher("instance", "!=", "x")),
                   starts_at=starts, ends_at=ends, created_by="ana", comment="swap disk")


def test_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state" / "alerts.db"
    store = AlertStore(path, clock=lambda: T0)
    store.add_silence(_silence("s1", T0, T0 + 60))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_alert_rows_round_trip_and_delete() -> None:
    store = AlertStore(None, clock=lambda: T0)
    row = _row()
    other = _row("b" * 16, state=PENDING, firing_since=None, values=[])
    store.save_alerts([row, other])
    loaded = store.load_alerts()
    assert loaded == {row.fingerprint: row, other.fingerprint: other}
    row.value = 95.0
    row.values.append(95.0)
    store.save_alerts([row])
    assert store.load_alerts()[row.fingerprint].values == [80.0, 91.0, 95.0]
    store.delete_alerts([row.fingerprint])
    assert list(store.load_alerts()) == [other.fingerprint]


def test_transitions_newest_first_filtered_and_limited() -> None:
    store = AlertStore(None, clock=lambda: T0)
    store.append_transitions([Transition(T0 + i, "a" * 16 if i % 2 else "b" * 16, "CpuHigh", LABELS,
                                         "pending", "firing", float(i)) for i in range(10)])
    newest = store.transitions(limit=3)
    assert [t.at for t in newest] == [T0 + 9, T0 + 8, T0 + 7]
    assert newest[0].labels == LABELS and newest[0].value == 9.0
    only_a = store.transitions("a" * 16)
    assert [t.at for t in only_a] == [T0 + 9, T0 + 7, T0 + 5, T0 + 3, T0 + 1]


def test_old_transitions_and_silences_are_pruned_on_open(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "alerts.db"
    store = AlertStore(path, clock=lambda: T0)
    old = [Transition(T0 - 31 * 86400, "a" * 16, "CpuHigh", LABELS, "pending", "firing")]
    recent = [Transition(T0 + i, "a" * 16, "CpuHigh", LABELS, "pending", "firing") for i in range(5)]
    store.append_transitions(old + recent)
    store.add_silence(_silence("ancient", T0 - 40 * 86400, T0 - 39 * 86400))
    store.close()
    monkeypatch.setattr(state_mod, "TRANSITION_MAX_ROWS", 3)
    again = AlertStore(path, clock=lambda: T0)
    assert [t.at for t in again.transitions()] == [T0 + 4, T0 + 3, T0 + 2]
    assert again.silences(T0, include_expired_since=0.0) == ()


def test_silences_listing_and_expiry() -> None:
    store = AlertStore(None)
    active = store.add_silence(_silence("active", T0 - 10, T0 + 3600))
    store.add_silence(_silence("later", T0 + 600, T0 + 7200))
    store.add_silence(_silence("ended", T0 - 7200, T0 - 100))
    store.add_silence(_silence("long-gone", T0 - 90000, T0 - 86500))
    assert [s.id for s in store.silences(T0, include_expired_since=T0 - 3600)] == ["later", "active", "ended"]
    assert store.silences(T0, include_expired_since=T0)[1] == active
    expired = store.expire_silence("active", T0 + 5)
    assert expired is not None and expired.ends_at == T0 + 5 and expired.state(T0 + 5) == "expired"
    assert expired.matchers == active.matchers
    again = store.expire_silence("active", T0 + 50)
    assert again is not None and again.ends_at == T0 + 5
    assert store.expire_silence("no-such-id", T0) is None


def test_acks_add_replace_remove() -> None:
    store = AlertStore(None)
    store.add_ack(Ack("a" * 16, "ana", "looking", T0))
    store.add_ack(Ack("a" * 16, "bo", "mine now", T0 + 5))
    store.add_ack(Ack("b" * 16, "ana", "", T0))
    assert store.acks()["a" * 16] == Ack("a" * 16, "bo", "mine now", T0 + 5)
    store.remove_ack("a" * 16)
    assert list(store.acks()) == ["b" * 16]


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    console, agent = AlertStore(path), AlertStore(path)
    try:
        console.add_silence(_silence("s1", T0, T0 + 600))
        assert [s.id for s in agent.silences(T0, include_expired_since=T0)] == ["s1"]
        agent.expire_silence("s1", T0 + 10)
        assert console.silences(T0 + 20, include_expired_since=T0)[0].ends_at == T0 + 10
        console.add_ack(Ack("a" * 16, "ana", "on it", T0))
        assert agent.acks()["a" * 16].by == "ana"
        agent.append_transitions([Transition(T0, "a" * 16, "CpuHigh", LABELS, "inactive", "pending")])
        assert len(console.transitions()) == 1
    finally:
        console.close()
        agent.close()


def test_corrupt_file_is_one_line_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    path.write_bytes(b"this is not a database, just some text" * 100)
    with pytest.raises(StateError) as caught:
        AlertStore(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "move it aside" in message


def test_a_directory_in_the_way_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    path.mkdir()
    with pytest.raises(StateError) as caught:
        AlertStore(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_use_after_close_is_a_state_error() -> None:
    store = AlertStore(None)
    store.close()
    with pytest.raises(StateError):
        store.acks()

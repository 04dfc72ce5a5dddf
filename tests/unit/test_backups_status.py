"""The verdicts a target shows: RPO, schedule kept or missed, restore test, the one status
word, the size trend, and the snapshot that assembles them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from config.model import BackupSourceSettings, BackupTargetSettings, RetentionSettings, VerifySettings
from providers.backups.model import (
    COMPLETED,
    FAILED,
    RUNNING,
    Backup,
    ScheduleStatus,
    SourceReading,
    Verification,
)
from providers.backups.status import (
    build_snapshot,
    overall_status,
    rpo_status,
    schedule_status,
    size_trend,
    status_reasons,
    verify_status,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOUR, DAY = 3600.0, 86400.0
TARGET = BackupTargetSettings("orders", BackupSourceSettings("dumps", directory="/srv/dumps"))


def at(tz: tzinfo, *fields: int) -> float:
    return datetime(*fields, tzinfo=tz).timestamp()  # type: ignore[misc]


def wall(ts: float | None, tz: tzinfo = BERLIN) -> str | None:
    return None if ts is None else f"{datetime.fromtimestamp(ts, tz):%Y-%m-%d %H:%M %Z}"


# --- RPO ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "rpo", "rpo_warn", "expected"),
    [
        (10 * HOUR, None, None, "n/a"),
        (None, None, None, "n/a"),
        (10 * HOUR, DAY, None, "ok"),
        (19 * HOUR, DAY, None, "ok"),
        (19.2 * HOUR, DAY, None, "warn"),  # 80 % of a day
        (DAY, DAY, None, "warn"),  # at the objective, not past it
        (DAY + 1, DAY, None, "breach"),
        (None, DAY, None, "breach"),  # no good backup at all
        (13 * HOUR, DAY, 12 * HOUR, "warn"),
        (11 * HOUR, DAY, 12 * HOUR, "ok"),
        (13 * HOUR, None, 12 * HOUR, "warn"),  # only a warning level: never a breach
        (None, None, 12 * HOUR, "warn"),
    ],
)
def test_rpo_status(age: float | None, rpo: float | None, rpo_warn: float | None, expected: str) -> None:
    assert rpo_status(age, replace(TARGET, rpo=rpo, rpo_warn=rpo_warn)) == expected


# --- schedule --------------------------------------------------------------------------------------


def test_nightly_run_missed_once_the_grace_is_over() -> None:
    newest = at(BERLIN, 2026, 5, 9, 2, 5)  # yesterday's run
    status = schedule_status("0 2 * * *", newest, HOUR, at(BERLIN, 2026, 5, 10, 3, 30), BERLIN)
    assert status is not None and status.missed
    assert wall(status.previous_run) == "2026-05-10 02:00 CEST"
    assert wall(status.next_run) == "2026-05-11 02:00 CEST"
    assert status.note == "missed the 2026-05-10 02:00 CEST run (grace 1h)"


def test_nightly_run_still_within_its_grace_is_not_missed() -> None:
    newest = at(BERLIN, 2026, 5, 9, 2, 5)
    status = schedule_status("0 2 * * *", newest, HOUR, at(BERLIN, 2026, 5, 10, 2, 30), BERLIN)
    assert status == ScheduleStatus("0 2 * * *", previous_run=at(BERLIN, 2026, 5, 10, 2),
                                    next_run=at(BERLIN, 2026, 5, 11, 2), missed=False)


def test_tonights_backup_keeps_the_schedule() -> None:
    newest = at(BERLIN, 2026, 5, 10, 2, 4)
    status = schedule_status("0 2 * * *", newest, HOUR, at(BERLIN, 2026, 5, 10, 3, 30), BERLIN)
    assert status is not None and not status.missed


def test_weekday_schedule_is_not_missed_on_sunday() -> None:
    friday = at(BERLIN, 2026, 5, 8, 2, 10)
    status = schedule_status("0 2 * * 1-5", friday, HOUR, at(BERLIN, 2026, 5, 10, 12), BERLIN)  # Sunday
    assert status is not None and not status.missed
    assert wall(status.next_run) == "2026-05-11 02:00 CEST"


def test_the_run_moved_by_spring_forward_counts() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29: the job runs at 03:00 CEST.
    newest = at(BERLIN, 2026, 3, 29, 3, 1)
    status = schedule_status("30 2 * * *", newest, HOUR, at(BERLIN, 2026, 3, 29, 5), BERLIN)
    assert status is not None and not status.missed
    assert wall(status.previous_run) == "2026-03-29 03:00 CEST"


def test_no_good_backup_misses_the_schedule() -> None:
    status = schedule_status("@hourly", None, 15 * 60, at(UTC, 2026, 5, 10, 12, 20), UTC)
    assert status is not None and status.missed
    assert status.note == "missed the 2026-05-10 12:00 UTC run (grace 15m)"


def test_no_schedule_no_status() -> None:
    assert schedule_status(None, None, HOUR, at(UTC, 2026, 5, 10), UTC) is None
    assert schedule_status("  ", None, HOUR, at(UTC, 2026, 5, 10), UTC) is None


def test_a_malformed_schedule_is_a_note_not_an_exception() -> None:
    status = schedule_status("0 25 * * *", None, HOUR, at(UTC, 2026, 5, 10), UTC)
    assert status == ScheduleStatus("0 25 * * *", None, None, False,
                                    note='"0 25 * * *": hour 25 is out of range 0-23')


# --- verification -----------------------------------------------------------------------------


def verification(at_: float, ok: bool = True, backup_id: str = "b1") -> Verification:
    message = "restored, 3 checks passed" if ok else "pg_restore failed"
    return Verification("orders", at_, ok, 42.0, backup_id, "pg_dump", message)


@pytest.mark.parametrize(
    ("latest", "verifiable", "expected"),
    [
        (verification(at(UTC, 2026, 5, 9)), False, "n/a"),
        (None, False, "n/a"),
        (None, True, "never"),
        (verification(at(UTC, 2026, 5, 9), ok=False), True, "failed"),
        (verification(at(UTC, 2026, 5, 9)), True, "ok"),
        (verification(at(UTC, 2026, 5, 2, 23)), True, "stale"),  # older than the 7 days
        (verification(at(UTC, 2026, 5, 3)), True, "ok"),  # exactly 7 days
    ],
)
def test_verify_status(latest: Verification | None, verifiable: bool, expected: str) -> None:
    assert verify_status(latest, verifiable, 7 * DAY, at(UTC, 2026, 5, 10)) == expected


# --- overall --------------------------------------------------------------------------------------


GOOD = Backup("good", at(UTC, 2026, 5, 10, 2))
MISSED = ScheduleStatus("0 2 * * *", 1.0, 2.0, True, "missed the 2026-05-10 02:00 UTC run (grace 1h)")
KEPT = ScheduleStatus("0 2 * * *", 1.0, 2.0, False)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({}, ("ok", [])),
        ({"rpo": "n/a", "verify": "n/a"}, ("ok", [])),
        ({"backups": []}, ("bad", [("bad", "no good backup")])),
        ({"backups": [], "rpo": "breach"}, ("bad", [("bad", "no good backup")])),
        ({"rpo": "breach"}, ("bad", [("bad", "RPO breached")])),
        ({"verify": "failed"}, ("bad", [("bad", "the newest restore test failed")])),
        ({"rpo": "warn"}, ("warn", [("warn", "RPO nearly breached")])),
        ({"schedule": MISSED},
         ("warn", [("warn", "schedule: missed the 2026-05-10 02:00 UTC run (grace 1h)")])),
        ({"schedule": ScheduleStatus("0 25 * * *", None, None, False, "hour 25 is out of range 0-23")},
         ("warn", [("warn", "schedule: hour 25 is out of range 0-23")])),
        ({"verify": "stale"}, ("warn", [("warn", "restore test stale")])),
        ({"verify": "never"}, ("warn", [("warn", "never restore-tested")])),
        ({"backups": [Backup("x", at(UTC, 2026, 5, 11), FAILED, note="disk full"), GOOD]},
         ("warn", [("warn", "the newest backup failed: disk full")])),
        ({"backups": [Backup("x", at(UTC, 2026, 5, 11, 1), RUNNING),
                      Backup("y", at(UTC, 2026, 5, 11), FAILED), GOOD]},
         ("warn", [("warn", "the newest backup failed")])),  # a running one is not finished
        ({"backups": [Backup("x", at(UTC, 2026, 5, 11), RUNNING), GOOD]}, ("ok", [])),
        ({"problems": ["AWS Backup recovery points: not available at this endpoint"]},
         ("warn", [("warn", "AWS Backup recovery points: not available at this endpoint")])),
        ({"rpo": "warn", "verify": "failed", "schedule": MISSED},
         ("bad", [("bad", "the newest restore test failed"), ("warn", "RPO nearly breached"),
                  ("warn", "schedule: missed the 2026-05-10 02:00 UTC run (grace 1h)")])),
    ],
)
def test_overall_status_and_why(case: dict[str, object], expected: tuple[str, list[tuple[str, str]]]) -> None:
    args: dict[str, object] = {"rpo": "ok", "schedule": KEPT, "verify": "ok", "backups": [GOOD],
                               "problems": []}
    args.update(case)
    assert (overall_status(**args), status_reasons(**args)) == expected  # type: ignore[arg-type]


# --- size trend and the snapshot --------------------------------------------------------------------


def test_size_trend_is_good_sizes_oldest_first() -> None:
    backups = [
        Backup("d3", at(UTC, 2026, 5, 3), size=300),
        Backup("d1", at(UTC, 2026, 5, 1), size=100),
        Backup("d4", at(UTC, 2026, 5, 4), RUNNING, size=50),
        Backup("d2", at(UTC, 2026, 5, 2), size=None),
        Backup("d2b", at(UTC, 2026, 5, 2, 12), FAILED, size=7),
        Backup("d5", at(UTC, 2026, 5, 5), size=320),
    ]
    assert size_trend(backups) == [100.0, 300.0, 320.0]
    assert size_trend([]) == []


def test_snapshot_of_a_dump_target() -> None:
    now = at(BERLIN, 2026, 5, 10, 3, 30)
    target = replace(TARGET, schedule="0 2 * * *", rpo=DAY, retention=RetentionSettings(keep_daily=2),
                     verify=VerifySettings(every=7 * DAY))
    reading = SourceReading(
        backups=(
            Backup("orders-0508.dump", at(BERLIN, 2026, 5, 8, 2, 5), size=1000),
            Backup("orders-0510.dump.partial", at(BERLIN, 2026, 5, 10, 2, 0), RUNNING, size=400),
            Backup("orders-0509.dump", at(BERLIN, 2026, 5, 9, 2, 5), size=1100),
            Backup("orders-0507.dump", at(BERLIN, 2026, 5, 7, 2, 5), size=None),
            Backup("orders-0506.dump", at(BERLIN, 2026, 5, 6, 2, 5), FAILED, note="disk full"),
        ),
        label="/srv/dumps (orders)",
        facts=(("pattern", "orders-%m%d.dump"),),
        problems=(),
    )
    history = [verification(at(UTC, 2026, 5, day), ok=day != 9) for day in range(1, 10)]
    history += [verification(at(UTC, 2026, 4, 30)), verification(at(UTC, 2026, 4, 29)),
                replace(verification(at(UTC, 2026, 5, 10)), target="other")]

    snap = build_snapshot(target, reading, history, now, BERLIN, backup_modes=("pg_dump",), verifiable=True)

    assert [b.id for b in snap.backups] == ["orders-0510.dump.partial", "orders-0509.dump",
                                           "orders-0508.dump", "orders-0507.dump", "orders-0506.dump"]
    assert snap.newest_good is not None and snap.newest_good.id == "orders-0509.dump"
    assert snap.age == now - at(BERLIN, 2026, 5, 9, 2, 5)
    assert (snap.rpo, snap.rpo_status) == (DAY, "breach")  # 25 h 25 m old: tonight's is still running
    assert snap.schedule is not None and snap.schedule.missed
    assert (snap.count, snap.total_size) == (4, 400 + 1100 + 1000)
    assert snap.plan.delete == ("orders-0507.dump", "orders-0506.dump")
    assert snap.plan.decision("orders-0510.dump.partial").reasons == ("running",)  # type: ignore[union-attr]
    assert [v.at for v in snap.verifications] == [at(UTC, 2026, 5, d) for d in range(9, 0, -1)] + [
        at(UTC, 2026, 4, 30)]
    assert snap.verification is snap.verifications[0]
    assert snap.verify_status == "failed"  # the newest test, on 9 May, failed
    assert snap.status == "bad"
    assert (snap.label, snap.facts, snap.backup_modes, snap.verifiable) == (
        "/srv/dumps (orders)", (("pattern", "orders-%m%d.dump"),), ("pg_dump",), True)
    assert snap.taken_at == now
    assert snap.metrics() == {"count": 4.0, "rpo_breached": 1.0, "schedule_missed": 1.0,
                              "size_bytes": 2500.0, "age_seconds": snap.age}


def test_snapshot_of_an_empty_listing_that_reported_a_problem() -> None:
    reading = SourceReading((), problems=("pgbackrest info: stanza 'main' does not exist",))
    snap = build_snapshot(replace(TARGET, schedule="0 25 * * *"), reading, [], at(UTC, 2026, 5, 10), UTC,
                          backup_modes=(), verifiable=False)
    assert (snap.newest_good, snap.age, snap.count, snap.total_size) == (None, None, 0, None)
    assert (snap.rpo_status, snap.verify_status, snap.status) == ("n/a", "n/a", "bad")
    assert snap.schedule is not None and snap.schedule.note.endswith("hour 25 is out of range 0-23")
    assert snap.plan.decisions == ()
    assert snap.problems == ("pgbackrest info: stanza 'main' does not exist",)


def test_a_backup_stamped_in_the_future_is_zero_seconds_old() -> None:
    reading = SourceReading((Backup("skewed", at(UTC, 2026, 5, 10, 0, 1), COMPLETED),))
    snap = build_snapshot(replace(TARGET, rpo=DAY), reading, [], at(UTC, 2026, 5, 10), UTC,
                          backup_modes=(), verifiable=False)
    assert (snap.age, snap.rpo_status, snap.status) == (0.0, "ok", "ok")

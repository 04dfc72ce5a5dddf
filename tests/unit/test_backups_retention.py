"""The retention planner: what Prune would delete and why the rest stays.

Examples first (what an operator reads in the plan), then the safety invariants
as hypothesis properties over backups packed around DST transitions."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.model import RetentionSettings
from providers.backups.model import COMPLETED, FAILED, RUNNING, Backup, RetentionPlan
from providers.backups.retention import plan_retention
from tests.support.zones import offset_changes

BERLIN = ZoneInfo("Europe/Berlin")
DST_ZONES = (ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe"),
             ZoneInfo("Pacific/Chatham"))
DAY = 86400.0


def at(tz: tzinfo, *fields: int) -> float:
    return datetime(*fields, tzinfo=tz).timestamp()  # type: ignore[misc]


def nightly(first: date, days: int, tz: tzinfo, hour: int = 1, minute: int = 30) -> list[Backup]:
    """One good backup a night at hour:minute local time, id = its local date."""
    out = []
    for n in range(days):
        day = first + timedelta(days=n)
        out.append(Backup(day.isoformat(), at(tz, day.year, day.month, day.day, hour, minute)))
    return out


def kept(plan: RetentionPlan) -> dict[str, tuple[str, ...]]:
    return {d.backup_id: d.reasons for d in plan.decisions if d.keep}


def deleted(plan: RetentionPlan) -> dict[str, tuple[str, ...]]:
    return {d.backup_id: d.reasons for d in plan.decisions if not d.keep}


# --- examples -------------------------------------------------------------------------------------


def test_sixty_nights_with_7_daily_4_weekly_6_monthly() -> None:
    backups = nightly(date(2026, 1, 1), 60, BERLIN)  # 2026-01-01 … 2026-03-01 (a Sunday)
    policy = RetentionSettings(keep_daily=7, keep_weekly=4, keep_monthly=6)
    plan = plan_retention(backups, policy, at(BERLIN, 2026, 3, 1, 12), BERLIN)

    assert kept(plan) == {
        "2026-03-01": ("newest good", "daily 2026-03-01", "weekly 2026-W09", "monthly 2026-03", "min_keep 1"),
        "2026-02-28": ("daily 2026-02-28", "monthly 2026-02"),
        "2026-02-27": ("daily 2026-02-27",),
        "2026-02-26": ("daily 2026-02-26",),
        "2026-02-25": ("daily 2026-02-25",),
        "2026-02-24": ("daily 2026-02-24",),
        "2026-02-23": ("daily 2026-02-23",),
        "2026-02-22": ("weekly 2026-W08",),  # Sundays end ISO weeks
        "2026-02-15": ("weekly 2026-W07",),
        "2026-02-08": ("weekly 2026-W06",),
        "2026-01-31": ("monthly 2026-01",),  # only three months exist, so only three monthly
    }
    assert len(plan.delete) == 60 - 11
    assert set(deleted(plan).values()) == {("no rule keeps it",)}
    assert [d.backup_id for d in plan.decisions] == [b.id for b in reversed(backups)]  # newest first


def test_without_a_policy_nothing_is_deleted() -> None:
    backups = [*nightly(date(2026, 1, 1), 5, BERLIN), Backup("broken", at(BERLIN, 2025, 12, 1), FAILED)]
    plan = plan_retention(backups, RetentionSettings(), at(BERLIN, 2026, 3, 1), BERLIN)
    assert plan.delete == ()
    assert kept(plan)["2026-01-05"] == ("newest good", "min_keep 1")
    assert kept(plan)["2026-01-04"] == ("no retention policy",)
    assert kept(plan)["broken"] == ("no retention policy",)


def test_max_age_overrides_the_keep_rules_but_not_min_keep() -> None:
    backups = nightly(date(2026, 5, 1), 10, BERLIN)  # May 1 … May 10
    policy = RetentionSettings(keep_daily=10, min_keep=2, max_age=3 * DAY)
    plan = plan_retention(backups, policy, at(BERLIN, 2026, 5, 20, 12), BERLIN)  # all older than 3d
    assert kept(plan) == {
        "2026-05-10": ("newest good", "min_keep 2"),
        "2026-05-09": ("min_keep 2",),
    }
    assert deleted(plan)["2026-05-01"] == ("older than max_age 3d",)
    assert len(plan.delete) == 8


def test_max_age_alone_keeps_what_is_younger() -> None:
    backups = nightly(date(2026, 5, 1), 10, BERLIN)
    plan = plan_retention(backups, RetentionSettings(max_age=4 * DAY), at(BERLIN, 2026, 5, 10, 12), BERLIN)
    assert kept(plan) == {
        "2026-05-10": ("newest good", "within max_age 4d", "min_keep 1"),
        "2026-05-09": ("within max_age 4d",),
        "2026-05-08": ("within max_age 4d",),
        "2026-05-07": ("within max_age 4d",),
    }
    assert deleted(plan)["2026-05-06"] == ("older than max_age 4d",)


def test_keep_last_counts_good_backups_only() -> None:
    backups = [
        Backup("now", at(BERLIN, 2026, 5, 10, 3), RUNNING),
        Backup("bad", at(BERLIN, 2026, 5, 10, 2), FAILED, note="disk full"),
        *nightly(date(2026, 5, 6), 4, BERLIN),  # May 6 … May 9
        Backup("old-bad", at(BERLIN, 2026, 5, 1), FAILED),
    ]
    plan = plan_retention(backups, RetentionSettings(keep_last=2), at(BERLIN, 2026, 5, 10, 4), BERLIN)
    assert kept(plan) == {
        "now": ("running",),
        "bad": ("failed, no good backup since",),  # the evidence that last night failed
        "2026-05-09": ("newest good", "last 2", "min_keep 1"),
        "2026-05-08": ("last 2",),
    }
    assert deleted(plan) == {"2026-05-07": ("no rule keeps it",), "2026-05-06": ("no rule keeps it",),
                             "old-bad": ("failed",)}


def test_a_target_that_never_succeeded_loses_nothing() -> None:
    backups = [Backup(f"try{n}", at(BERLIN, 2026, 5, n), FAILED) for n in range(1, 4)]
    plan = plan_retention(backups, RetentionSettings(keep_last=1), at(BERLIN, 2026, 5, 5), BERLIN)
    assert plan.delete == ()
    assert set(kept(plan).values()) == {("failed, no good backup since",)}


def test_a_backup_the_source_may_not_delete_is_kept_and_fills_its_day() -> None:
    lifecycle = "AWS Backup plan lifecycle"
    backups = [
        Backup("manual", at(BERLIN, 2026, 5, 10, 1)),
        Backup("automated", at(BERLIN, 2026, 5, 10, 3), deletable=False, note=lifecycle),
        Backup("old-automated", at(BERLIN, 2026, 4, 1, 3), deletable=False, note=lifecycle),
        Backup("may-9", at(BERLIN, 2026, 5, 9, 1)),
    ]
    plan = plan_retention(backups, RetentionSettings(keep_daily=2), at(BERLIN, 2026, 5, 10, 12), BERLIN)
    assert kept(plan) == {
        "automated": ("newest good", "daily 2026-05-10", "min_keep 1", f"not deletable: {lifecycle}"),
        "may-9": ("daily 2026-05-09",),
        "old-automated": (f"not deletable: {lifecycle}",),
    }
    assert deleted(plan) == {"manual": ("no rule keeps it",)}


def test_an_incremental_chain_keeps_what_it_needs() -> None:
    backups = [
        Backup("F1", at(BERLIN, 2026, 5, 1), kind="full"),
        Backup("I1", at(BERLIN, 2026, 5, 2), kind="incr", depends_on=("F1",)),
        Backup("I2", at(BERLIN, 2026, 5, 3), kind="incr", depends_on=("F1", "I1")),
        Backup("F0", at(BERLIN, 2026, 4, 24), kind="full"),
        Backup("I0", at(BERLIN, 2026, 4, 25), kind="incr", depends_on=("F0", "gone")),
    ]
    plan = plan_retention(backups, RetentionSettings(keep_last=1), at(BERLIN, 2026, 5, 4), BERLIN)
    assert kept(plan) == {
        "I2": ("newest good", "last 1", "min_keep 1"),
        "I1": ("needed by I2",),
        "F1": ("needed by I2", "needed by I1"),
    }
    assert set(deleted(plan)) == {"I0", "F0"}


def test_local_days_follow_the_target_zone_across_fall_back() -> None:
    # Berlin, 2026-10-25 has 25 hours. 22:30 UTC on 24 October is 00:30 CEST on the 25th,
    # 23:30 UTC on the 25th is 00:30 CET on the 26th.
    backups = [
        Backup("a", at(UTC, 2026, 10, 24, 21, 30)),  # 23:30 CEST on the 24th
        Backup("b", at(UTC, 2026, 10, 24, 22, 30)),  # 00:30 CEST on the 25th
        Backup("c", at(UTC, 2026, 10, 25, 0, 30)),   # 02:30 CEST, first pass
        Backup("d", at(UTC, 2026, 10, 25, 1, 30)),   # 02:30 CET, second pass
        Backup("e", at(UTC, 2026, 10, 25, 23, 30)),  # 00:30 CET on the 26th
    ]
    policy = RetentionSettings(keep_daily=3)
    plan = plan_retention(backups, policy, at(UTC, 2026, 10, 26, 12), BERLIN)
    assert kept(plan) == {"e": ("newest good", "daily 2026-10-26", "min_keep 1"), "d": ("daily 2026-10-25",),
                          "a": ("daily 2026-10-24",)}
    in_utc = plan_retention(backups, policy, at(UTC, 2026, 10, 26, 12), UTC)
    assert kept(in_utc) == {"e": ("newest good", "daily 2026-10-25", "min_keep 1"),
                            "b": ("daily 2026-10-24",)}


def test_weeks_are_iso_weeks_across_new_year() -> None:
    backups = nightly(date(2026, 12, 26), 12, BERLIN)  # 2026-12-26 … 2027-01-06
    plan = plan_retention(backups, RetentionSettings(keep_weekly=3, keep_yearly=2),
                          at(BERLIN, 2027, 1, 7), BERLIN)
    assert kept(plan) == {
        "2027-01-06": ("newest good", "weekly 2027-W01", "yearly 2027", "min_keep 1"),
        "2027-01-03": ("weekly 2026-W53",),  # 2026 has 53 ISO weeks; Sunday 3 January ends the last
        "2026-12-31": ("yearly 2026",),
        "2026-12-27": ("weekly 2026-W52",),
    }


# --- invariants ------------------------------------------------------------------------------------


ANCHORS = {tz: offset_changes(tz, 2026) for tz in DST_ZONES}
ANCHORS[UTC] = [at(UTC, 2026, 1, 1), at(UTC, 2026, 6, 30, 23, 59)]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Backup], RetentionSettings, float, tzinfo]:
    tz = draw(st.sampled_from((UTC, *DST_ZONES)))
    anchor = draw(st.sampled_from(ANCHORS[tz]))
    count = draw(st.integers(0, 24))
    near = st.integers(-4 * 3600, 4 * 3600).map(float)  # dense around the transition
    far = st.floats(-50 * DAY, 50 * DAY, allow_nan=False)
    backups = []
    for n in range(count):
        deps = draw(st.lists(st.integers(0, max(count - 1, 0)), max_size=3)) if draw(st.booleans()) else []
        backups.append(Backup(
            id=f"b{n:02d}",
            time=anchor + draw(st.one_of(near, far, st.sampled_from([0.0, 1800.0, -1800.0]))),
            status=draw(st.sampled_from([COMPLETED] * 5 + [RUNNING, FAILED])),
            deletable=draw(st.sampled_from([True] * 5 + [False])),
            note="plan lifecycle",
            depends_on=tuple(f"b{d:02d}" for d in deps),
        ))
    small = st.integers(0, 4)
    policy = RetentionSettings(
        keep_last=draw(small), keep_daily=draw(st.integers(0, 8)), keep_weekly=draw(small),
        keep_monthly=draw(small), keep_yearly=draw(st.integers(0, 2)), min_keep=draw(small),
        max_age=draw(st.one_of(st.none(), st.sampled_from([3600.0, DAY, 7 * DAY, 30 * DAY]))),
    )
    now = anchor + draw(st.floats(-DAY, 60 * DAY, allow_nan=False))
    return backups, policy, now, tz


def _check_safety(backups: Sequence[Backup], policy: RetentionSettings, plan: RetentionPlan) -> None:
    by_id = {b.id: b for b in backups}
    doomed = set(plan.delete)
    assert sorted(d.backup_id for d in plan.decisions) == sorted(by_id)
    times = [by_id[d.backup_id].time for d in plan.decisions]
    assert times == sorted(times, reverse=True)
    assert all(d.reasons for d in plan.decisions)

    good = sorted((b for b in backups if b.good), key=lambda b: (b.time, b.id), reverse=True)
    if good:
        assert good[0].id not in doomed, "deleted the newest good backup"
    left = [b for b in good if b.id not in doomed]
    assert len(left) >= min(policy.min_keep, len(good)), "fewer than min_keep good backups left"
    for backup in backups:
        if backup.status == RUNNING or not backup.deletable:
            assert backup.id not in doomed
        if backup.id not in doomed:
            assert not doomed & set(backup.depends_on), f"deleted a backup {backup.id} needs"
    if not policy.configured:
        assert not doomed


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_safety_invariants_and_idempotence(scenario: tuple[list[Backup], RetentionSettings, float, tzinfo]
                                           ) -> None:
    backups, policy, now, tz = scenario
    plan = plan_retention(backups, policy, now, tz)
    _check_safety(backups, policy, plan)

    pruned = [b for b in backups if b.id not in set(plan.delete)]
    again = plan_retention(pruned, policy, now, tz)
    assert again.delete == ()
    assert again.decisions == tuple(d for d in plan.decisions if d.keep)  # same reasons too


@contextmanager
def process_zone(name: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_process_zone_changes_nothing(scenario: tuple[list[Backup], RetentionSettings, float, tzinfo]
                                          ) -> None:
    backups, policy, now, tz = scenario
    plans = []
    for name in ("UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham", "Europe/Berlin"):
        with process_zone(name):
            plans.append(plan_retention(backups, policy, now, tz))
    assert all(p == plans[0] for p in plans)


def test_the_process_zone_is_set_and_restored() -> None:
    before = (os.environ.get("TZ"), time.tzname)
    with process_zone("Pacific/Chatham"):
        assert time.strftime("%z", time.localtime(at(UTC, 2026, 6, 1))) == "+1245"
    assert (os.environ.get("TZ"), time.tzname) == before


def test_a_thousand_backups_keep_a_policy_sized_set() -> None:
    """Timing is in benchmarks/backups_bench.py; here, that 1,000 backups plan to the policy's size."""
    backups = nightly(date(2024, 1, 1), 1000, BERLIN)
    plan = plan_retention(backups, RetentionSettings(keep_daily=30, keep_weekly=12, keep_monthly=24,
                                                     keep_yearly=5), at(BERLIN, 2026, 10, 1), BERLIN)
    assert len(plan.keep) + len(plan.delete) == 1000  # every backup has a verdict
    assert 30 <= len(plan.keep) < 30 + 12 + 24 + 5  # the dailies, and overlaps counted once

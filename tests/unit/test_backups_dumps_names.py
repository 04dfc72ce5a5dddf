"""Dump file names: which names are a target's dumps and what time each names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.backups.dumps import DumpSourceError, NamePattern, strip_in_progress


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_time_is_read_from_the_name_in_utc() -> None:
    p = NamePattern.compile("orders-%Y%m%d-%H%M%S.dump")
    assert p.timed
    assert p.time("orders-20261121-031500.dump") == _utc(2026, 11, 21, 3, 15, 0)
    assert p.matches("orders-20261121-031500.dump")


@pytest.mark.parametrize("name", [
    "orders-20261121-031500.dump.gz",   # different suffix
    "users-20261121-031500.dump",       # another target's dumps in the same directory
    "orders-2026112-031500.dump",       # a digit short
    "orders-20261321-031500.dump",      # month 13: the shape, not a date
    "orders-20260230-031500.dump",      # 30 February
    "xorders-20261121-031500.dump",
])
def test_names_that_do_not_fit_are_not_ours(name: str) -> None:
    assert NamePattern.compile("orders-%Y%m%d-%H%M%S.dump").time(name) is None


def test_offset_in_the_name_is_honoured() -> None:
    p = NamePattern.compile("db_%Y-%m-%dT%H%M%z.sql.gz")
    assert p.time("db_2026-03-29T0230+0200.sql.gz") == _utc(2026, 3, 29, 0, 30)
    assert p.time("db_2026-03-29T0230-05:30.sql.gz") == _utc(2026, 3, 29, 8, 0)
    assert p.time("db_2026-03-29T0230Z.sql.gz") == _utc(2026, 3, 29, 2, 30)


def test_shell_date_shapes_and_wildcards() -> None:
    assert NamePattern.compile("backup-%F_%T.tar.gz").time("backup-2026-01-02_03:04:05.tar.gz") \
        == _utc(2026, 1, 2, 3, 4, 5)
    assert NamePattern.compile("dump.%s.sql").time("dump.1790000000.sql") == 1790000000.0
    p = NamePattern.compile("orders-*-%Y%m%d.dump")
    assert p.time("orders-host-a.example-20260105.dump") == _utc(2026, 1, 5)
    assert NamePattern.compile("x-%y%j.dump").time("x-26032.dump") == _utc(2026, 2, 1)
    assert NamePattern.compile("x-%d%b%Y.dump").time("x-07Mar2026.dump") == _utc(2026, 3, 7)
    assert NamePattern.compile("100%%-%Y.dump").time("100%-2026.dump") == _utc(2026, 1, 1)


def test_a_pattern_without_date_fields_filters_but_does_not_time() -> None:
    p = NamePattern.compile("orders-*.dump")
    assert not p.timed
    assert p.matches("orders-anything.dump") and not p.matches("users-x.dump")
    assert p.time("orders-anything.dump") is None


@pytest.mark.parametrize("pattern, word", [("x-%A.dump", "%A"), ("dir/x-%Y.dump", "directory")])
def test_unsupported_patterns_say_what_to_use(pattern: str, word: str) -> None:
    with pytest.raises(DumpSourceError, match=word) as info:
        NamePattern.compile(pattern)
    assert "\n" not in str(info.value)


def test_in_progress_suffixes() -> None:
    assert strip_in_progress("a.dump.partial") == ("a.dump", True)
    assert strip_in_progress("a.dump.tmp") == ("a.dump", True)
    assert strip_in_progress("a.dump") == ("a.dump", False)
    assert strip_in_progress(".partial") == (".partial", False)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2068, 12, 31),
                    timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
       st.sampled_from(["t-%Y%m%d-%H%M%S.dump", "t_%F_%T.sql", "t-%Y-%m-%dT%H%M%S%z.dump",
                        "%y%j-%H%M%S.tar.gz", "t-%s.dump"]))
def test_the_name_a_backup_gets_reads_back_as_its_time(when: datetime, pattern: str) -> None:
    p = NamePattern.compile(pattern)
    name = p.name_for(when)
    assert p.time(name) == when.timestamp()


def test_name_for_uses_utc_and_fills_wildcards() -> None:
    when = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert NamePattern.compile("o-%Y%m%d-%H%M.dump").name_for(when.astimezone(UTC)) == "o-20260501-1000.dump"
    assert NamePattern.compile("o-*-%Y.dump").name_for(when) == "o-stacktop-2026.dump"

"""pgBackRest `info --output=json` parsing and error lines, on outputs recorded from real runs.

tests/data/pgbackrest/ was recorded with pgBackRest 2.45 against the cluster of
tests/support/pgbackrest.py (encrypted repository, stanza "main"):

- info_no_backups.json: right after stanza-create (status 2 "no valid backups");
- info_missing_stanza.json: `--stanza=nosuch` (status 1 "missing stanza path");
- info_chain.json: full F, incr I1 on F, diff D on F, incr I2 on D;
- info_lock_held.json: the same, while the stanza's backup lock was held (how a
  running backup shows: pgBackRest lists completed backups only);
- errors.json: stdout/stderr/exit code of failing commands (bad stanza, lock held,
  expiring the last full); temp paths shortened to /tmp/stk-pgbr.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from config.model import RetentionSettings
from providers.backups.model import COMPLETED, RUNNING, Backup
from providers.backups.pgbackrest import (
    RUNNING_ID,
    PgBackRestError,
    _load_json,
    first_error_line,
    mask,
    parse_info,
    secrets_of,
)
from providers.backups.retention import plan_retention

DATA = Path(__file__).resolve().parent.parent / "data" / "pgbackrest"
F = "20261122-150145F"
I1 = "20261122-150145F_20261122-150148I"
D = "20261122-150145F_20261122-150150D"
I2 = "20261122-150145F_20261122-150153I"
NOW = 1795360000.0


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def by_id(backups: tuple[Backup, ...]) -> dict[str, Backup]:
    return {b.id: b for b in backups}


def detail(backup: Backup, key: str) -> str:
    return dict(backup.details)[key]


def test_a_chain_lists_every_backup_newest_first_timed_by_its_stop() -> None:
    raw = load("info_chain.json")[0]["backup"]
    reading = parse_info(load("info_chain.json"), "main", now=NOW)
    assert [b.id for b in reading.backups] == [I2, D, I1, F]
    assert [b.kind for b in reading.backups] == ["incr", "diff", "incr", "full"]
    for b, r in zip(reading.backups, reversed(raw), strict=True):
        assert b.status == COMPLETED and b.good
        assert b.time == r["timestamp"]["stop"]
        assert b.duration == r["timestamp"]["stop"] - r["timestamp"]["start"]
        assert b.size == r["info"]["repository"]["size"] > 0
        assert detail(b, "WAL start/stop") == f"{r['archive']['start']} / {r['archive']['stop']}"
        assert detail(b, "pgBackRest") == "2.45" and detail(b, "repo") == "1"
        assert detail(b, "PostgreSQL") == "15"
    assert reading.problems == ()
    assert reading.label == "pgBackRest stanza main (PostgreSQL 15)"


def test_dependencies_follow_the_prior_chain_so_expire_never_takes_a_needed_full() -> None:
    backups = by_id(parse_info(load("info_chain.json"), "main", now=NOW).backups)
    assert backups[F].depends_on == ()
    assert backups[I1].depends_on == (F,)
    assert backups[D].depends_on == (F,)
    assert backups[I2].depends_on == (D, F)


def test_retention_keeping_only_the_newest_keeps_what_it_needs() -> None:
    reading = parse_info(load("info_chain.json"), "main", now=NOW)
    plan = plan_retention(reading.backups, RetentionSettings(keep_last=1), NOW, UTC)
    assert set(plan.keep) == {I2, D, F}
    assert plan.delete == (I1,)


def test_details_show_sizes_and_wal_for_the_operator() -> None:
    full = by_id(parse_info(load("info_chain.json"), "main", now=NOW).backups)[F]
    keys = [k for k, _ in full.details]
    for key in ("label", "type", "started", "stopped", "WAL start/stop", "LSN start/stop",
                "database size", "database backup delta", "repository size", "repository delta"):
        assert key in keys
    assert detail(full, "database size").endswith("MiB")


def test_stanza_facts_name_status_cipher_wal_range_and_postgres() -> None:
    facts = dict(parse_info(load("info_chain.json"), "main", now=NOW).facts)
    assert facts["stanza"] == "main" and facts["status"] == "ok"
    assert facts["cipher"] == "aes-256-cbc"
    assert facts["repo1"] == "ok, cipher aes-256-cbc"
    archive = load("info_chain.json")[0]["archive"][0]
    assert facts["WAL archive 15-1"] == f"{archive['min']} … {archive['max']}"
    assert facts["PostgreSQL"].startswith("15 (system id ")
    assert "lock" not in facts


def test_a_new_stanza_without_backups_says_so_in_one_problem() -> None:
    reading = parse_info(load("info_no_backups.json"), "main", now=NOW)
    assert reading.backups == ()
    assert reading.problems == ("stanza main: no valid backups",)
    assert dict(reading.facts)["status"] == "error 2: no valid backups"


def test_a_missing_stanza_is_one_problem_line() -> None:
    reading = parse_info(load("info_missing_stanza.json"), "nosuch", now=NOW)
    assert reading.backups == ()
    assert reading.problems == ("stanza nosuch: missing stanza path",)


def test_a_held_backup_lock_is_one_running_row_that_retention_keeps() -> None:
    reading = parse_info(load("info_lock_held.json"), "main", now=NOW)
    running = [b for b in reading.backups if b.status == RUNNING]
    assert [b.id for b in running] == [RUNNING_ID]
    assert running[0].time == NOW and not running[0].deletable and running[0].kind == ""
    assert reading.backups[0].id == RUNNING_ID
    assert dict(reading.facts)["lock"] == "backup/expire running"
    plan = plan_retention(reading.backups, RetentionSettings(keep_last=1), NOW, UTC)
    assert RUNNING_ID in plan.keep


def test_a_backup_this_source_started_is_named_by_its_mode_and_start() -> None:
    reading = parse_info(load("info_lock_held.json"), "main", now=NOW, ours=("incr", NOW - 5))
    running = by_id(reading.backups)[RUNNING_ID]
    assert running.kind == "incr" and running.time == NOW - 5


def test_newer_pgbackrest_progress_shows_in_the_running_note() -> None:
    payload = copy.deepcopy(load("info_lock_held.json"))
    payload[0]["status"]["lock"]["backup"].update({"size": 4 * 1024**3, "size-cplt": 1024**3})
    reading = parse_info(payload, "main", now=NOW)
    assert "25.0% of 4.0 GiB copied" in by_id(reading.backups)[RUNNING_ID].note
    assert "25.0%" in dict(reading.facts)["lock"]


def test_a_backup_with_page_checksum_errors_is_kept_but_reported() -> None:
    payload = copy.deepcopy(load("info_chain.json"))
    payload[0]["backup"][0]["error"] = True
    reading = parse_info(payload, "main", now=NOW)
    full = by_id(reading.backups)[F]
    assert full.status == COMPLETED and "checksum" in full.note
    assert reading.problems == (f"backup {F}: {full.note}",)


def test_a_second_repository_in_error_gets_its_own_line() -> None:
    payload = copy.deepcopy(load("info_chain.json"))
    stanza = payload[0]
    stanza["repo"].append({"cipher": "none", "key": 2,
                           "status": {"code": 1, "message": "missing stanza path"}})
    stanza["status"] = {"code": 4, "message": "different across repos", "lock": {"backup": {"held": False}}}
    reading = parse_info(payload, "main", now=NOW)
    assert reading.problems == ("stanza main: different across repos",
                                "stanza main repo2: missing stanza path")


@pytest.mark.parametrize("payload", [{"name": "main"}, [], [{"name": "other", "backup": []}]])
def test_output_without_the_stanza_is_one_line(payload: Any) -> None:
    with pytest.raises(PgBackRestError) as err:
        parse_info(payload, "main", now=NOW)
    assert "\n" not in str(err.value) and "stanza main" in str(err.value)


@pytest.mark.parametrize(("case", "expected"), [
    ("backup_bad_stanza", "ERROR: [037]: backup command requires option: pg1-path; "
                          "HINT: does this stanza exist?"),
    ("backup_lock_held", "ERROR: [050]: unable to acquire lock on file "
                         "'/tmp/stk-pgbr/lock/main-backup.lock': Resource temporarily unavailable; "
                         "HINT: is another pgBackRest process running?"),
    ("expire_last_full", "ERROR: [075]: repo1: full backup 20261122-150145F cannot be expired until another "
                         "full backup has been created on this repo"),
])
def test_the_first_error_line_of_real_failures(case: str, expected: str) -> None:
    rec = load("errors.json")[case]
    assert rec["returncode"] != 0
    assert first_error_line(rec["stderr"], rec["stdout"]) == expected


def test_warnings_before_the_error_are_skipped() -> None:
    rec = load("errors.json")["expire_bad_stanza"]
    assert rec["stderr"].startswith("WARN:")
    line = first_error_line(rec["stderr"], rec["stdout"])
    assert line.startswith("ERROR: [055]: repo1: unable to load info file") and "\n" not in line


def test_without_an_error_line_the_first_plain_line_is_used() -> None:
    assert first_error_line("runuser: user nobody-such does not exist\n") == \
        "runuser: user nobody-such does not exist"
    assert first_error_line("", "") == ""


def test_secret_options_and_environment_are_masked() -> None:
    command = ["pgbackrest", "--repo1-cipher-pass=hunter2-x", "--repo1-s3-key-secret=AKIA/abc",
               "--repo1-cipher-type=aes-256-cbc", "--config=/etc/pgbackrest.conf"]
    env = {"PGBACKREST_REPO2_CIPHER_PASS": "env-pass-9", "PGBACKREST_STANZA": "main", "HOME": "/root"}
    secrets = secrets_of(command, env)
    assert set(secrets) == {"hunter2-x", "AKIA/abc", "env-pass-9"}
    text = "ERROR: [031]: bad --repo1-cipher-pass=hunter2-x env-pass-9 AKIA/abc main aes-256-cbc"
    assert mask(text, secrets) == "ERROR: [031]: bad --repo1-cipher-pass=*** *** *** main aes-256-cbc"


def test_log_lines_before_the_json_are_skipped() -> None:
    text = "INFO: info command begin 2.45\n" + (DATA / "info_no_backups.json").read_text()
    assert _load_json(text, "pgbackrest info (stanza main)", [])[0]["name"] == "main"


@pytest.mark.parametrize("text", ["", "hello secret-value\nmore", "[not json"])
def test_output_that_is_not_json_is_one_line_without_secrets(text: str) -> None:
    with pytest.raises(PgBackRestError) as err:
        _load_json(text, "pgbackrest info (stanza main)", ["secret-value"])
    message = str(err.value)
    assert message.startswith("pgbackrest info (stanza main): output is not JSON")
    assert "\n" not in message and "secret-value" not in message

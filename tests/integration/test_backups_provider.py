"""A backup target end to end: the real provider behind the real ActionGate, with
pg_dump files of a real PostgreSQL 15 and EBS snapshots in moto.

What an operator would notice: Backup now adds a backup the next poll lists;
Prune deletes exactly what its confirmation listed — never a backup that
appeared or became precious after the plan was shown — and a mistyped name
deletes nothing; Verify restores the newest dump and the tab then says so; in
watch mode nothing runs; every attempt is audited without the password.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import sql

from config.model import (
    BackupSettings,
    BackupSourceSettings,
    BackupTargetSettings,
    RetentionSettings,
    VerifyCheckSettings,
    VerifySettings,
)
from providers.actions import ActionGate, AuditLog, ConfirmRequest, Outcome
from providers.backups import action_specs as specs
from providers.backups.build import verifier_for
from providers.backups.dumps import DumpFilesSource
from providers.backups.model import COMPLETED, OK, TargetSnapshot
from providers.backups.provider import BackupTargetProvider
from providers.backups.verifications import VerificationLog
from tests.support.pg import PRIMARY, PgPair, pg_pair  # noqa: F401

pytestmark = pytest.mark.integration

PATTERN = "shop-%Y%m%d-%H%M%S.dump"
DAY = 86400.0


@pytest.fixture(scope="module")
def shop_db(pg_pair: PgPair) -> Iterator[str]:  # noqa: F811
    name = f"stk_shop_{uuid.uuid4().hex[:8]}"
    pg_pair.execute(PRIMARY, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    pg_pair.execute(PRIMARY, "CREATE TABLE orders (id int PRIMARY KEY);"
                             "INSERT INTO orders SELECT generate_series(1, 250)", dbname=name)
    try:
        yield name
    finally:
        pg_pair.execute(PRIMARY, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _name(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(PATTERN)


def _old_dumps(directory: Path, now: float, days: int) -> list[str]:
    """Nightly files from `days` nights ago up to last night (contents do not matter to prune)."""
    names = []
    for i in range(days, 0, -1):
        name = _name(now - i * DAY)
        (directory / name).write_bytes(b"old dump")
        names.append(name)
    return names


class Target:
    """A dumps target with its provider, behind a gate whose confirmations the test answers."""

    def __init__(self, tmp: Path, *, dsn: str | None = None, retention: RetentionSettings,
                 verify: VerifySettings | None = None, read_only: bool = False) -> None:
        self.dir = tmp / "dumps"
        self.dir.mkdir(exist_ok=True)
        source = BackupSourceSettings("dumps", directory=str(self.dir), pattern=PATTERN, dsn=dsn)
        self.settings = BackupTargetSettings("shop", source, retention=retention, verify=verify,
                                             timezone="UTC")
        backups = BackupSettings(verification_log=str(tmp / "verifications.jsonl"))
        self.source = DumpFilesSource(source, "shop")
        self.history = VerificationLog(backups.verification_log)
        self.provider = BackupTargetProvider(self.settings, self.source, self.history, UTC,
                                             verifier=verifier_for(self.settings, self.source, backups))
        self.audit_path = tmp / "audit.jsonl"
        self.gate = ActionGate({self.provider.name: self.provider}, AuditLog(self.audit_path),
                               read_only=read_only, role="admin", user="tester", refresh=lambda _: None)
        self.asked: list[ConfirmRequest] = []
        self.answer: bool | str | None = True

    async def confirm(self, request: ConfirmRequest) -> bool | str | None:
        self.asked.append(request)
        return self.answer

    async def snapshot(self) -> TargetSnapshot:
        return await self.provider.poll()

    async def run(self, spec_id: str, snap: TargetSnapshot, **params: str):  # type: ignore[no-untyped-def]
        spec = next(s for s in specs.BACKUP_ACTIONS if s.id == spec_id)
        target = specs.target_for(spec_id, snap)
        assert not isinstance(target, str), target
        if params:
            from dataclasses import replace

            target = replace(target, params={**target.params, **params})
        return await self.gate.execute(spec, target, self.confirm)

    def files(self) -> set[str]:
        return {p.name for p in self.dir.iterdir()}

    def audit(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.audit_path.read_text().splitlines()]


async def test_backup_now_then_verify_through_the_gate(tmp_path: Path, pg_pair: PgPair,  # noqa: F811
                                                       shop_db: str) -> None:
    verify = VerifySettings(database=shop_db, checks=(
        VerifyCheckSettings("select count(*) from orders", min=250, name="orders"),))
    t = Target(tmp_path, dsn=pg_pair.dsn(PRIMARY, dbname=shop_db, user="postgres"),
               retention=RetentionSettings(keep_daily=7), verify=verify)
    before = await t.snapshot()
    assert before.count == 0 and before.verify_status == "never"

    done = await t.run(specs.BACKUP_NOW.id, before, mode="pg_dump")
    assert done.outcome is Outcome.DONE, done.message
    after = await t.snapshot()
    assert after.count == 1 and after.newest_good is not None and after.newest_good.status == COMPLETED
    assert after.rpo_status == "n/a" and after.age is not None and after.age < 600

    verified = await t.run(specs.VERIFY.id, after)
    assert verified.outcome is Outcome.DONE, verified.message
    shown = await t.snapshot()
    assert shown.verify_status == OK
    assert shown.verification is not None and shown.verification.backup_id == after.newest_good.id
    assert [c.value for c in shown.verification.checks] == ["250"]
    results = [r["result"] for r in t.audit()]
    assert results == ["ok", "ok"]


async def test_prune_deletes_exactly_the_listed_plan(tmp_path: Path) -> None:
    t = Target(tmp_path, retention=RetentionSettings(keep_last=3, min_keep=3))
    now = datetime.now(UTC).timestamp()
    names = _old_dumps(t.dir, now, 8)
    snap = await t.snapshot()
    target = specs.target_for(specs.PRUNE.id, snap)
    assert not isinstance(target, str)
    assert len(target.listing) == 5 and all(line.startswith("delete shop-") for line in target.listing)

    t.answer = "shop"  # the target's name, typed
    result = await t.run(specs.PRUNE.id, snap)
    assert result.outcome is Outcome.DONE, result.message
    assert t.asked[-1].must_type == "shop"
    assert t.files() == set(names[-3:])
    assert "deleted 5 of 5" in result.message


async def test_a_mistyped_name_deletes_nothing(tmp_path: Path) -> None:
    t = Target(tmp_path, retention=RetentionSettings(keep_last=2, min_keep=2))
    names = _old_dumps(t.dir, datetime.now(UTC).timestamp(), 5)
    t.answer = "shpo"
    result = await t.run(specs.PRUNE.id, await t.snapshot())
    assert result.outcome is Outcome.CANCELLED
    assert t.files() == set(names)
    assert t.audit()[-1]["result"] == "cancelled"


async def test_prune_never_deletes_outside_the_shown_plan(tmp_path: Path) -> None:
    """Between the plan being shown and confirmed, older dumps arrive (a fresh plan
    would delete them too) and the newest ones vanish (a listed one becomes the
    newest good backup): only listed backups that a fresh plan still deletes go."""
    t = Target(tmp_path, retention=RetentionSettings(keep_last=2, min_keep=1))
    now = datetime.now(UTC).timestamp()
    names = _old_dumps(t.dir, now, 6)  # plan: delete the 4 oldest
    snap = await t.snapshot()
    listed = specs.target_for(specs.PRUNE.id, snap)
    assert not isinstance(listed, str)
    assert listed.params["delete"].split(",") == list(reversed(names[:4]))

    arrived = [_name(now - 30 * DAY), _name(now - 31 * DAY)]
    for name in arrived:
        (t.dir / name).write_bytes(b"restored from tape")
    for name in names[-2:]:
        os.unlink(t.dir / name)  # someone removed the two newest: names[3] is now the newest

    t.answer = "shop"
    spec = specs.PRUNE
    result = await t.gate.execute(spec, listed, t.confirm)
    assert t.files() == {names[3], names[2], *arrived}
    assert "deleted 2 of 4" in result.message and names[3] in result.message and "kept now" in result.message


async def test_watch_mode_refuses_every_backup_action(tmp_path: Path) -> None:
    t = Target(tmp_path, retention=RetentionSettings(keep_last=1), read_only=True)
    names = _old_dumps(t.dir, datetime.now(UTC).timestamp(), 3)
    snap = await t.snapshot()
    result = await t.run(specs.PRUNE.id, snap)
    assert result.outcome is Outcome.REFUSED and "read-only" in result.message
    assert t.files() == set(names) and t.asked == []


async def test_an_unreadable_directory_is_one_line_and_nothing_is_deleted(tmp_path: Path) -> None:
    t = Target(tmp_path, retention=RetentionSettings(keep_last=1))
    names = _old_dumps(t.dir, datetime.now(UTC).timestamp(), 3)
    snap = await t.snapshot()
    listed = specs.target_for(specs.PRUNE.id, snap)
    assert not isinstance(listed, str)
    moved = tmp_path / "elsewhere"
    t.dir.rename(moved)
    with pytest.raises(Exception) as raised:
        await t.snapshot()
    assert "\n" not in str(raised.value) and str(t.dir) in str(raised.value)
    t.answer = "shop"
    result = await t.gate.execute(specs.PRUNE, listed, t.confirm)
    assert result.outcome is Outcome.FAILED and "nothing deleted" in result.message
    assert {p.name for p in moved.iterdir()} == set(names)

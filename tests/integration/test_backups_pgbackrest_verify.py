"""pgBackRest end to end through the provider and the gate: Backup now takes a real
full then an incremental backup, Verify restores the newest (the incremental on its
full) into a scratch PostgreSQL and proves the rows written before it are there,
and the tab then shows the restore test as passed."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC
from pathlib import Path

import pytest

from config.model import (
    BackupSettings,
    BackupTargetSettings,
    RetentionSettings,
    VerifyCheckSettings,
    VerifySettings,
)
from providers.actions import ActionGate, AuditLog, ConfirmRequest, Outcome
from providers.backups import action_specs as specs
from providers.backups.build import verifier_for
from providers.backups.model import OK
from providers.backups.provider import BackupTargetProvider
from providers.backups.scratch import processes_in
from providers.backups.verifications import VerificationLog
from tests.support.pgbackrest import PgBackRestCluster, pgbackrest_cluster  # noqa: F401

pytestmark = pytest.mark.integration


async def test_backup_now_then_verify_the_incremental(tmp_path: Path,
                                                      pgbackrest_cluster: PgBackRestCluster) -> None:  # noqa: F811
    cluster = pgbackrest_cluster
    cluster.execute("CREATE TABLE IF NOT EXISTS ledger (id int); TRUNCATE ledger;"
                    "INSERT INTO ledger SELECT generate_series(1, 300)")
    verify = VerifySettings(checks=(
        VerifyCheckSettings("select count(*) from ledger", min=300, name="ledger"),))
    settings = BackupTargetSettings("ledger", cluster.settings(), retention=RetentionSettings(keep_last=5),
                                    verify=verify, timezone="UTC")
    scratch = Path(tempfile.mkdtemp(prefix="stacktop-test-scratch-"))  # /tmp: postgres may enter it
    scratch.chmod(0o755)
    backups = BackupSettings(verification_log=str(tmp_path / "verifications.jsonl"), scratch_dir=str(scratch))
    source = cluster.source(timeout=120.0)
    provider = BackupTargetProvider(settings, source, VerificationLog(backups.verification_log), UTC,
                                    verifier=verifier_for(settings, source, backups))
    gate = ActionGate({provider.name: provider}, AuditLog(tmp_path / "audit.jsonl"), read_only=False,
                      role="operator", user="tester", refresh=lambda _: None)

    async def yes(_: ConfirmRequest) -> bool:
        return True

    async def run(spec: specs.ActionSpec, **params: str) -> str:
        from dataclasses import replace

        target = specs.target_for(spec.id, await provider.poll())
        assert not isinstance(target, str), target
        result = await gate.execute(spec, replace(target, params={**target.params, **params}), yes)
        assert result.outcome is Outcome.DONE, result.message
        return result.message

    await run(specs.BACKUP_NOW, mode="full")
    cluster.execute("INSERT INTO ledger SELECT generate_series(301, 400)")
    await run(specs.BACKUP_NOW, mode="incr")
    snap = await provider.poll()
    assert [b.kind for b in snap.backups[:2]] == ["incr", "full"]
    assert snap.backups[1].id in snap.backups[0].depends_on

    message = await run(specs.VERIFY)
    shown = await provider.poll()
    assert shown.verify_status == OK, message
    assert shown.verification is not None and shown.verification.backup_id == snap.backups[0].id
    assert [c.value for c in shown.verification.checks] == ["400"]  # the incremental's rows too
    try:
        assert list(scratch.iterdir()) == [] and processes_in(str(scratch)) == []  # nothing left behind
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

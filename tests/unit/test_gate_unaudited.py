"""No audit, no action: an attempt the gate cannot record is refused before it runs."""

from __future__ import annotations

from pathlib import Path

from providers.actions import ActionGate, AuditLog, Outcome
from tests.unit.test_action_gate import TARGET, Door


async def _yes(_request: object) -> bool:
    return True


async def test_an_unwritable_audit_log_refuses_the_action_with_the_fix(tmp_path: Path) -> None:
    # A file where the audit directory should be: no user, root included, can create it.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    door = Door()
    gate = ActionGate({"door": door}, AuditLog(blocker / "audit.jsonl"), read_only=False,
                      role="admin", user="alice", refresh=lambda _: None)
    spec = next(s for s in door.actions() if s.id == "door.knock")

    result = await gate.execute(spec, TARGET, _yes)

    assert result.outcome is Outcome.REFUSED
    assert result.message.startswith("Knock refused: cannot write the audit log")
    assert "set audit.file" in result.message and "\n" not in result.message
    assert door.calls == []  # the door was never knocked on


async def test_a_record_lost_after_the_action_ran_says_so(tmp_path: Path) -> None:
    class FailsToRecord(AuditLog):
        async def append(self, record: dict) -> dict:  # type: ignore[override]
            from providers.audit.log import AuditError

            raise AuditError(f"cannot write the audit log {self.path}: No space left on device")

    door = Door()
    gate = ActionGate({"door": door}, FailsToRecord(tmp_path / "audit.jsonl"), read_only=False,
                      role="admin", user="alice", refresh=lambda _: None)
    spec = next(s for s in door.actions() if s.id == "door.knock")

    result = await gate.execute(spec, TARGET, _yes)

    assert result.outcome is Outcome.DONE and door.calls == [("door.knock", "d-1")]
    assert "NOT AUDITED: cannot write the audit log" in result.message

"""The one gate: read-only refusal, roles, confirmation by risk, fsync'ed audit, re-poll."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from providers.actions import ActionGate, AuditLog, ConfirmRequest, Outcome
from providers.base import ActionResult, ActionSpec, ActionTarget, Provider, Risk, Snapshot


@dataclass(frozen=True)
class Empty(Snapshot):
    pass


class Door(Provider):
    """A provider with one safe and one destructive action that record their calls."""

    def __init__(self) -> None:
        super().__init__("door", 1.0, 1.0)
        self.calls: list[tuple[str, str]] = []

    async def poll(self) -> Empty:
        return Empty(time.time())

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec("door.knock", "n", "Knock", "Knock on the door", Risk.SAFE, "door"),
            ActionSpec("door.break", "b", "Break", "Break the door", Risk.DESTRUCTIVE, "door"),
            ActionSpec("door.jam", "j", "Jam", "Jam the door", Risk.SAFE, "door"),
        ]

    def action_callable(self, action_id: str):  # type: ignore[no-untyped-def]
        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target.id))
            if action_id == "door.jam":
                raise RuntimeError("hinge stuck, token=s3cr3t")
            return ActionResult(True, f"{action_id} done on {target.name}")

        return run


TARGET = ActionTarget("door", "d-1", "front-door")


def make(tmp_path: Path, *, read_only: bool = False, role: str = "admin"):  # type: ignore[no-untyped-def]
    door = Door()
    refreshed: list[str] = []
    gate = ActionGate({"door": door}, AuditLog(tmp_path / "audit" / "audit.jsonl",
                                               redact=lambda s: s.replace("s3cr3t", "***")),
                      read_only=read_only, role=role, user="alice", refresh=refreshed.append,
                      redact=lambda s: s.replace("s3cr3t", "***"))
    specs = {s.id: s for s in door.actions()}
    return gate, door, specs, refreshed


def answering(answer):  # type: ignore[no-untyped-def]
    asked: list[ConfirmRequest] = []

    async def confirm(request: ConfirmRequest):  # type: ignore[no-untyped-def]
        asked.append(request)
        return answer

    return confirm, asked


def audit(tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(x) for x in (tmp_path / "audit" / "audit.jsonl").read_text().splitlines()]


async def test_read_only_refuses_before_asking_and_audits(tmp_path: Path) -> None:
    gate, door, specs, refreshed = make(tmp_path, read_only=True)
    confirm, asked = answering(True)
    result = await gate.execute(specs["door.knock"], TARGET, confirm)
    assert result.outcome is Outcome.REFUSED and "read-only" in result.message
    assert asked == [] and door.calls == [] and refreshed == []
    assert [r["result"] for r in audit(tmp_path)] == ["refused"]


async def test_role_below_the_action_is_refused_with_the_fix(tmp_path: Path) -> None:
    gate, door, specs, _ = make(tmp_path, role="operator")
    result = await gate.execute(specs["door.break"], TARGET, answering("front-door")[0])
    assert result.outcome is Outcome.REFUSED
    assert result.message == (
        "Break refused: it is destructive and needs the admin role; alice is operator "
        "(roles in the profile)"
    )
    assert door.calls == []
    record = audit(tmp_path)[-1]
    assert record["result"] == "refused" and record["role"] == "operator"
    assert record["message"] == result.message


@pytest.mark.parametrize("role", ["viewer"])
async def test_viewer_cannot_run_even_safe_actions(tmp_path: Path, role: str) -> None:
    gate, door, specs, _ = make(tmp_path, role=role)
    result = await gate.execute(specs["door.knock"], TARGET, answering(True)[0])
    assert result.outcome is Outcome.REFUSED and door.calls == []


async def test_safe_action_asks_yes_no_then_runs_audits_and_repolls(tmp_path: Path) -> None:
    gate, door, specs, refreshed = make(tmp_path)
    confirm, asked = answering(True)
    result = await gate.execute(specs["door.knock"], TARGET, confirm)
    assert asked[0].must_type is None and "[y/n]" in asked[0].prompt
    assert result.outcome is Outcome.DONE
    assert door.calls == [("door.knock", "d-1")]
    assert refreshed == ["door"]
    record = audit(tmp_path)[-1]
    assert record["user"] == "alice" and record["action"] == "door.knock"
    assert record["target"] == {"kind": "door", "id": "d-1", "name": "front-door"}
    assert record["result"] == "ok" and "duration_s" in record


async def test_answering_no_runs_nothing(tmp_path: Path) -> None:
    gate, door, specs, refreshed = make(tmp_path)
    result = await gate.execute(specs["door.knock"], TARGET, answering(False)[0])
    assert result.outcome is Outcome.CANCELLED and door.calls == [] and refreshed == []


@pytest.mark.parametrize("typed", ["front-dor", "FRONT-DOOR", "", " front-door", None, True])
async def test_destructive_action_needs_the_exact_name(tmp_path: Path, typed) -> None:  # type: ignore[no-untyped-def]
    gate, door, specs, _ = make(tmp_path)
    result = await gate.execute(specs["door.break"], TARGET, answering(typed)[0])
    assert result.outcome is Outcome.CANCELLED
    assert door.calls == []


async def test_destructive_action_runs_when_the_name_is_typed(tmp_path: Path) -> None:
    gate, door, specs, _ = make(tmp_path)
    confirm, asked = answering("front-door")
    result = await gate.execute(specs["door.break"], TARGET, confirm)
    assert asked[0].must_type == "front-door"
    assert result.outcome is Outcome.DONE and door.calls == [("door.break", "d-1")]


async def test_a_crashing_action_is_audited_as_failed_without_secrets(tmp_path: Path) -> None:
    gate, _, specs, refreshed = make(tmp_path)
    result = await gate.execute(specs["door.jam"], TARGET, answering(True)[0])
    assert result.outcome is Outcome.FAILED
    assert "hinge stuck" in result.message and "s3cr3t" not in result.message
    raw = (tmp_path / "audit" / "audit.jsonl").read_text()
    assert "s3cr3t" not in raw and '"result": "failed"' in raw
    assert refreshed == ["door"]  # the screen shows the truth after a failure too


async def test_audit_file_is_private_and_append_only(tmp_path: Path) -> None:
    gate, _, specs, _ = make(tmp_path)
    for _ in range(3):
        await gate.execute(specs["door.knock"], TARGET, answering(True)[0])
    path = tmp_path / "audit" / "audit.jsonl"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(audit(tmp_path)) == 3


async def test_each_record_is_fsynced_before_execute_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    gate, _, specs, _ = make(tmp_path)
    await gate.execute(specs["door.knock"], TARGET, answering(True)[0])
    # The record once; then the head file (seq and hash of the newest record) and the directory.
    assert synced.count(str(tmp_path / "audit" / "audit.jsonl")) == 1
    assert len(audit(tmp_path)) == 1

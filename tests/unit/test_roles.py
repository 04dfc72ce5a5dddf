"""The role-by-action matrix: every action stacktop declares, for every role, through the gate.

viewer reads only; operator runs safe and disruptive actions; admin runs all. The gate
refuses exactly what the role does not allow, says which role is needed, records the
refusal with the role, and confirms in proportion to the risk (a typed name for
disruptive and destructive actions, y/n for safe ones).
"""

from __future__ import annotations

import importlib
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from providers.actions import ActionGate, AuditLog, ConfirmRequest, Outcome
from providers.base import (
    ROLE_ORDER,
    ActionResult,
    ActionSpec,
    ActionTarget,
    Provider,
    Risk,
    Snapshot,
    role_allows,
)
from providers.host import HostProvider

ROLES = ("viewer", "operator", "admin")

ALLOWED: dict[str, set[Risk]] = {
    "viewer": set(),
    "operator": {Risk.SAFE, Risk.DISRUPTIVE},
    "admin": {Risk.SAFE, Risk.DISRUPTIVE, Risk.DESTRUCTIVE},
}
"""The issue's rule, written out rather than derived from the code under test."""

EXPECTED_RISKS: dict[str, Risk] = {
    # Changes nothing a user of the service notices.
    "aws.ec2.start": Risk.SAFE,
    "alerts.silence": Risk.SAFE,
    "alerts.expire_silence": Risk.SAFE,
    "alerts.acknowledge": Risk.SAFE,
    "backups.backup_now": Risk.SAFE,
    "backups.verify": Risk.SAFE,
    "ha.cancel_switchover": Risk.SAFE,
    "k8s.cordon": Risk.SAFE,
    "k8s.uncordon": Risk.SAFE,
    # Interrupts service, loses no data.
    "aws.ec2.stop": Risk.DISRUPTIVE,
    "aws.ec2.reboot": Risk.DISRUPTIVE,
    "aws.rds.reboot": Risk.DISRUPTIVE,
    "k8s.scale": Risk.DISRUPTIVE,
    "k8s.restart": Risk.DISRUPTIVE,
    "k8s.delete_pod": Risk.DISRUPTIVE,
    "host.terminate": Risk.DISRUPTIVE,
    "ha.switchover": Risk.DISRUPTIVE,
    "ha.schedule_switchover": Risk.DISRUPTIVE,
    # Can lose data or cannot be undone.
    "ha.failover": Risk.DESTRUCTIVE,
    "backups.prune": Risk.DESTRUCTIVE,
    "costs.ebs.delete": Risk.DESTRUCTIVE,
    "costs.eip.release": Risk.DESTRUCTIVE,
}


def _specs_in(value: Any) -> Iterator[ActionSpec]:
    if isinstance(value, ActionSpec):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _specs_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _specs_in(item)


def declared_specs() -> list[ActionSpec]:
    """Every ActionSpec in a providers/*/action_specs.py module, and the host provider's."""
    root = Path(__file__).resolve().parents[2] / "providers"
    found: dict[str, ActionSpec] = {}
    modules = sorted(root.glob("*/action_specs.py"))
    assert modules, f"no action_specs modules under {root}"
    for path in modules:
        module = importlib.import_module(f"providers.{path.parent.name}.action_specs")
        for spec in _specs_in(list(vars(module).values())):
            assert found.setdefault(spec.id, spec) == spec, f"two different specs share the id {spec.id}"
    for spec in HostProvider().actions():
        assert found.setdefault(spec.id, spec) == spec, f"two different specs share the id {spec.id}"
    return sorted(found.values(), key=lambda s: s.id)


SPECS = declared_specs()
MATRIX = [(role, spec) for role in ROLES for spec in SPECS]


class Recorder(Provider):
    """Acts on nothing: records each call, so the test sees whether the gate let it through."""

    def __init__(self) -> None:
        super().__init__("recorder", 1.0, 1.0)
        self.calls: list[tuple[str, str]] = []

    async def poll(self) -> Snapshot:
        return Snapshot(time.time())

    def action_callable(self, action_id: str):  # type: ignore[no-untyped-def]
        async def run(target: ActionTarget) -> ActionResult:
            self.calls.append((action_id, target.id))
            return ActionResult(True, f"{action_id} done on {target.name}")

        return run


TARGET = ActionTarget("thing", "t-0123", "web-03", {"region": "eu-west-1"}, params={"replicas": "3"},
                      provider="recorder")


def make_gate(tmp_path: Path, role: str) -> tuple[ActionGate, Recorder, list[str]]:
    recorder = Recorder()
    refreshed: list[str] = []
    gate = ActionGate({"recorder": recorder}, AuditLog(tmp_path / "audit.jsonl"), read_only=False,
                      role=role, user="alice", refresh=refreshed.append, host="bastion-1",
                      ssh_client="203.0.113.7", profile="prod")
    return gate, recorder, refreshed


def answering(answer: bool | str | None):  # type: ignore[no-untyped-def]
    asked: list[ConfirmRequest] = []

    async def confirm(request: ConfirmRequest) -> bool | str | None:
        asked.append(request)
        return answer

    return confirm, asked


def the_right_answer(spec: ActionSpec) -> bool | str:
    return TARGET.name if spec.risk is not Risk.SAFE else True


def audit_records(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_every_declared_action_is_collected_and_classified_as_the_issue_says() -> None:
    assert SPECS, "no ActionSpec found"
    assert {s.risk for s in SPECS} == set(Risk)  # each risk is exercised by the matrix
    assert {s.id: s.risk for s in SPECS} == EXPECTED_RISKS


def test_roles_are_ordered_and_an_unknown_role_may_run_nothing() -> None:
    assert sorted(ROLE_ORDER, key=ROLE_ORDER.__getitem__) == list(ROLES)
    for risk in Risk:
        assert not role_allows("superuser", risk) and not role_allows("", risk)
    assert {r: r.required_role for r in Risk} == {
        Risk.SAFE: "operator", Risk.DISRUPTIVE: "operator", Risk.DESTRUCTIVE: "admin"}
    assert all(s.min_role == s.risk.required_role for s in SPECS)


@pytest.mark.parametrize(("role", "spec"), MATRIX, ids=[f"{r}-{s.id}" for r, s in MATRIX])
async def test_the_gate_lets_through_exactly_what_the_role_allows(
    tmp_path: Path, role: str, spec: ActionSpec
) -> None:
    allowed = spec.risk in ALLOWED[role]
    assert role_allows(role, spec.risk) is allowed
    gate, recorder, refreshed = make_gate(tmp_path, role)
    refusal = gate.refusal(spec)
    assert (refusal is None) is allowed
    confirm, asked = answering(the_right_answer(spec))
    result = await gate.execute(spec, TARGET, confirm)
    [record] = audit_records(tmp_path)
    assert (record["user"], record["role"], record["host"], record["ssh_client"], record["profile"]) == (
        "alice", role, "bastion-1", "203.0.113.7", "prod")
    assert (record["action"], record["risk"]) == (spec.id, spec.risk.value)
    assert record["target"] == {"kind": "thing", "id": "t-0123", "name": "web-03"}
    when = datetime.fromisoformat(record["time"])  # ISO UTC to the millisecond
    assert when.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - when) < timedelta(minutes=1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", record["time"])
    if allowed:
        assert result.outcome is Outcome.DONE, result.message
        assert len(asked) == 1 and recorder.calls == [(spec.id, "t-0123")] and refreshed == ["recorder"]
        assert record["result"] == "ok" and record["duration_s"] is not None
    else:
        needed = "admin" if spec.risk is Risk.DESTRUCTIVE else "operator"
        assert refusal == result.message == (
            f"{spec.title} refused: it is {spec.risk.value} and needs the {needed} role; "
            f"alice is {role} (roles in the profile)")
        assert asked == [] and recorder.calls == [] and refreshed == []  # nothing asked, nothing run
        assert (record["result"], record["message"], record["duration_s"]) == ("refused", refusal, None)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
async def test_confirmation_is_in_proportion_to_the_risk(tmp_path: Path, spec: ActionSpec) -> None:
    gate, recorder, _ = make_gate(tmp_path, "admin")
    request = gate.confirm_request(spec, TARGET)
    if spec.risk is Risk.SAFE:
        assert request.must_type is None
        assert request.prompt == f"{spec.description}: thing web-03, replicas → 3? [y/n]"
        result = await gate.execute(spec, TARGET, answering(True)[0])
        assert result.outcome is Outcome.DONE and recorder.calls == [(spec.id, "t-0123")]
        return
    assert request.must_type == "web-03"
    assert request.prompt == (
        f"{spec.description}: thing web-03 (t-0123), replicas → 3. Type 'web-03' to confirm.")
    # A y (or any other text) is not the name: nothing runs, and the attempt is recorded.
    for answer in (True, "y", "web-0", "WEB-03"):
        result = await gate.execute(spec, TARGET, answering(answer)[0])
        assert result.outcome is Outcome.CANCELLED, answer
    assert recorder.calls == []
    result = await gate.execute(spec, TARGET, answering("web-03")[0])
    assert result.outcome is Outcome.DONE and recorder.calls == [(spec.id, "t-0123")]
    assert [r["result"] for r in audit_records(tmp_path)] == ["cancelled"] * 4 + ["ok"]


async def test_an_unknown_role_is_refused_even_a_safe_action_and_told_what_is_needed(tmp_path: Path) -> None:
    safe = next(s for s in SPECS if s.risk is Risk.SAFE)
    gate, recorder, _ = make_gate(tmp_path, "superuser")
    result = await gate.execute(safe, TARGET, answering(True)[0])
    assert result.outcome is Outcome.REFUSED and recorder.calls == []
    assert result.message.endswith("needs the operator role; alice is superuser (roles in the profile)")
    assert [(r["result"], r["role"]) for r in audit_records(tmp_path)] == [("refused", "superuser")]

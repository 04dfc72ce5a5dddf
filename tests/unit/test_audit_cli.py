"""`stacktop audit verify` and `audit list` as functions: what the operator reads and the
exit status, with Settings loaded from a real config file."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_settings
from providers.audit.log import AuditLog
from tui.audit_cli import add_audit_parser, run_audit_list, run_audit_verify

SECRET = "plum-tree-4471"


def settings_for(tmp_path: Path, *, key_file: Path | None = None) -> Any:
    config = tmp_path / "config.yaml"
    text = (f"audit:\n  file: {tmp_path / 'state' / 'audit.jsonl'}\n"
            + (f"  key_file: {key_file}\n" if key_file else "")
            + "providers:\n  alertmanager:\n    url: http://127.0.0.1:9\n    username: u\n"
              "    password: ${AM_PASSWORD}\n")
    config.write_text(text)
    return load_settings(str(config), env={"HOME": str(tmp_path), "AM_PASSWORD": SECRET})


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="milliseconds")


def append(settings: Any, key: bytes | None = None, **fields: Any) -> None:
    record = {"time": ago(minutes=5), "user": "alice", "role": "admin", "host": "bastion",
              "ssh_client": "10.0.0.5", "action": "aws.ec2.stop",
              "target": {"kind": "instance", "id": "i-0abc", "name": "web-1"},
              "params": {}, "result": "ok", "message": "stopped", "duration_s": 1.234, **fields}
    AuditLog(settings.audit.file, key=key).append_sync(record)


def args(**values: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"since": "24h", "user": None, "format": "text", **values})


def test_verify_an_intact_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(tmp_path)
    for _ in range(3):
        append(settings)
    assert run_audit_verify(settings, args()) == 0
    out, err = capsys.readouterr()
    assert out == f"audit log {settings.audit.file}: 3 records in 1 file, chain intact\n" and err == ""


def test_verify_names_each_problem_on_stderr_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path)
    for _ in range(4):
        append(settings)
    path = Path(settings.audit.file)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], lines[2], lines[1], lines[3]]))
    assert run_audit_verify(settings, args()) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}:3: record 2 comes after record 3: records reordered",
        f"audit log {path}: 4 records in 1 file, 1 problem: the chain is broken",
    ]


def test_verify_without_a_log_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path)
    assert run_audit_verify(settings, args()) == 1
    assert capsys.readouterr().err == f"no audit log at {settings.audit.file} (audit.file)\n"


def test_verify_uses_the_key_file_and_refuses_a_readable_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_text("k3y-material\n")
    key_file.chmod(0o600)
    settings = settings_for(tmp_path, key_file=key_file)
    append(settings, key=b"k3y-material")
    assert run_audit_verify(settings, args()) == 0
    assert "chain intact" in capsys.readouterr().out
    key_file.chmod(0o644)
    assert run_audit_verify(settings, args()) == 2
    assert capsys.readouterr().err == (
        f"audit.key_file {key_file} is readable by others: chmod 600 {key_file}\n")


def test_list_prints_the_period_as_text_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(tmp_path)
    append(settings, time=ago(days=3), message="too old")
    append(settings)
    append(settings, user="bob", role="operator", ssh_client=None, result="refused", duration_s=None,
           message="Stop refused: it is disruptive and needs the operator role")
    assert run_audit_list(settings, args()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("Z alice(admin)@bastion from 10.0.0.5 ok aws.ec2.stop instance web-1 (i-0abc) "
                             "1.2s — stopped")
    assert lines[1].endswith("Z bob(operator)@bastion refused aws.ec2.stop instance web-1 (i-0abc) — "
                             "Stop refused: it is disruptive and needs the operator role")
    stamp = lines[0].split(" alice")[0]
    assert datetime.strptime(stamp, "%Y-%m-%d %H:%M:%SZ")  # 2026-11-22 17:03:12Z
    assert run_audit_list(settings, args(since="7d", user="alice")) == 0
    assert [line.split(" — ")[-1] for line in capsys.readouterr().out.splitlines()] == ["too old", "stopped"]


def test_list_as_json_is_one_object_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = settings_for(tmp_path)
    append(settings)
    append(settings, user="bob")
    assert run_audit_list(settings, args(format="json", user="bob")) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["user"] == "bob" and record["seq"] == 2 and len(record["hash"]) == 64


def test_list_masks_secrets_even_in_records_written_before_they_were_configured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path)
    append(settings, message=f"login with {SECRET} failed", params={"token": "Bearer abcDEF123456789xyz"})
    for fmt in ("text", "json"):
        assert run_audit_list(settings, args(format=fmt)) == 0
        out = capsys.readouterr().out
        assert "login with *** failed" in out
        assert SECRET not in out and "abcDEF123456789xyz" not in out


def test_list_with_a_bad_since_or_no_log_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path)
    assert run_audit_list(settings, args(since="yesterday")) == 2
    assert capsys.readouterr().err == (
        "--since: expected a duration like 2s, 500ms, 5m or 1h, got 'yesterday'\n")
    assert run_audit_list(settings, args()) == 1
    assert capsys.readouterr().err == f"no audit log at {settings.audit.file} (audit.file)\n"


def test_the_parser_reads_the_documented_command_lines() -> None:
    parser = argparse.ArgumentParser(prog="stacktop")
    add_audit_parser(parser.add_subparsers(dest="command"),
                     common=lambda p: p.add_argument("--config"))
    parsed = parser.parse_args(["audit", "list", "--since", "7d", "--user", "bob", "--format", "json"])
    assert (parsed.audit_command, parsed.since, parsed.user, parsed.format) == ("list", "7d", "bob", "json")
    parsed = parser.parse_args(["audit", "verify", "--config", "c.yaml"])
    assert (parsed.audit_command, parsed.config) == ("verify", "c.yaml")
    assert parser.parse_args(["audit", "list"]).since == "24h"

"""The `stacktop` command as a user runs it: exit codes, one-line errors, JSON shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from providers.base import Provider, Snapshot
from tests.support import stacktop_command
from tui import cli

pytestmark = pytest.mark.integration

BAD_DIR = Path(__file__).resolve().parents[1] / "data" / "bad_configs"
MANIFEST = yaml.safe_load((BAD_DIR / "expected.yaml").read_text(encoding="utf-8"))
EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "examples"


def stacktop(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script exactly as a user would."""
    return subprocess.run([stacktop_command(), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def test_version_and_help() -> None:
    assert stacktop("--version").stdout.strip().startswith("stacktop ")
    out = stacktop("--help").stdout
    for word in ("watch", "check", "snapshot", "--demo", "--read-only", "--refresh", "--profile"):
        assert word in out


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_check_answers_every_bad_config_with_one_line_and_exit_2(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = BAD_DIR / name
    assert cli.main(["check", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"stacktop: config error: {path}:{MANIFEST[name]['line']}:")
    assert MANIFEST[name]["contains"] in lines[0]


def test_check_as_a_subprocess_prints_no_traceback() -> None:
    done = stacktop("check", "--config", str(BAD_DIR / "unknown_key.yaml"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "did you mean 'interval'?" in done.stderr


def test_check_unknown_profile_and_missing_file() -> None:
    done = stacktop("check", "--config", str(EXAMPLES / "team.yaml"), "--profile", "prdo")
    assert done.returncode == 2 and "profiles are:" in done.stderr
    done = stacktop("check", "--config", "/nonexistent/stacktop.yaml")
    assert done.returncode == 2 and "/nonexistent/stacktop.yaml" in done.stderr


def test_check_good_config_says_what_would_be_polled(tmp_path: Path) -> None:
    done = stacktop("check", "--config", str(EXAMPLES / "single-host.yaml"))
    assert done.returncode == 0, done.stderr
    assert "would poll: host" in done.stdout


def test_stacktop_config_env_is_used() -> None:
    done = stacktop("check", env={"STACKTOP_CONFIG": str(BAD_DIR / "bad_enum.yaml")})
    assert done.returncode == 2 and "bad_enum.yaml:2:" in done.stderr


def test_snapshot_json_has_the_documented_shape() -> None:
    done = stacktop("snapshot", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) == {"profile", "taken_at", "providers"}
    assert doc["taken_at"].endswith("Z")
    host = doc["providers"]["host"]
    assert host["status"] == "ok" and host["error"] is None and host["age_s"] >= 0
    data = host["data"]
    assert 0 <= data["cpu"]["percent"] <= 100
    assert 0 < data["memory"]["percent"] < 100
    assert 0 < data["memory"]["used_bytes"] < data["memory"]["total_bytes"]
    assert data["disks"] and {"mount", "total_bytes", "used_bytes", "percent"} <= set(data["disks"][0])
    assert data["net"]["rx_bytes_per_s"] is not None and data["net"]["tx_bytes_per_s"] is not None
    assert all("cmdline" not in p for p in data["processes"])  # command lines can hold passwords


def test_snapshot_text_and_only() -> None:
    done = stacktop("snapshot", "--format", "text", "--only", "host", "--demo")
    assert done.returncode == 0, done.stderr
    assert "cpu" in done.stdout and "memory" in done.stdout
    done = stacktop("snapshot", "--only", "aws")
    assert done.returncode == 2 and "unknown provider 'aws'" in done.stderr


@dataclass(frozen=True)
class Nothing(Snapshot):
    pass


class Unreachable(Provider):
    async def poll(self) -> Nothing:
        raise ConnectionRefusedError("connect to 127.0.0.1:1 refused")


def test_snapshot_exits_1_and_names_the_failed_provider(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import providers.registry as registry

    real = registry.build_providers
    monkeypatch.setattr(registry, "build_providers",
                        lambda s: [*real(s), Unreachable("db", 1.0, 2.0)])
    assert cli.main(["snapshot", "--format", "json", "--sample-window", "0.1"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["providers"]["db"]["status"] == "error"
    assert doc["providers"]["db"]["error"] == "ConnectionRefusedError: connect to 127.0.0.1:1 refused"
    assert doc["providers"]["host"]["status"] == "ok"
    assert "provider db error: ConnectionRefusedError" in err


@pytest.mark.parametrize(
    "args, fix",
    [
        (["--refresh", "0"], "between 0.1 and 3600"),
        (["--refresh", "soon"], "expected seconds"),
        (["--log-level", "loud"], "invalid choice"),
        (["snapshot", "--format", "xml"], "invalid choice"),
        (["--log-file", "/proc/stacktop/denied.log"], "cannot write log file"),
    ],
)
def test_usage_errors_exit_2_with_the_fix(args: list[str], fix: str) -> None:
    done = stacktop(*args)
    assert done.returncode == 2
    assert fix in done.stderr and "Traceback" not in done.stderr


def test_the_module_entry_point_matches_the_console_script() -> None:
    done = subprocess.run([sys.executable, "-m", "tui.cli", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.stdout == stacktop("--version").stdout


def test_logs_are_json_lines_in_the_state_dir() -> None:
    started = time.time()
    assert stacktop("snapshot", "--only", "host").returncode == 0
    log = Path(os.environ["XDG_STATE_HOME"]) / "stacktop" / "stacktop.log"
    assert log.exists() and log.stat().st_mtime >= started - 1
    for line in log.read_text().splitlines():
        json.loads(line)


def test_check_without_profile_validates_every_profile(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("default_profile: prod\nprofiles:\n  prod: {role: operator}\n"
                    "  staging:\n    providers:\n      host: {interval: soon}\n")
    done = stacktop("check", "--config", str(path))
    assert done.returncode == 2 and f"{path}:6:" in done.stderr and "'soon'" in done.stderr
    done = stacktop("check", "--config", str(path), "--profile", "prod")
    assert done.returncode == 0 and "would poll: host" in done.stdout

"""`stacktop snapshot` and the runtime with AWS configured, against moto:
a broken account or endpoint is one line, and everything else keeps working."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from config.loader import load_settings
from providers.registry import build_providers
from providers.runtime import Health, Runtime
from providers.store import Store
from tests.support import stacktop_command
from tests.support.aws import TEST_KEY, boto_client, unused_local_url

pytestmark = pytest.mark.integration


def write_config(tmp_path: Path, endpoint: str, name: str = "prod") -> Path:
    path = tmp_path / "aws.yaml"
    path.write_text(f"""
providers:
  host:
    interval: 1s
  aws:
    accounts:
      - name: {name}
        regions: [us-east-1, eu-west-1]
        endpoint_url: {endpoint}
        access_key_id: {TEST_KEY}
        secret_access_key: ${{STACKTOP_TEST_AWS_SECRET}}
    max_attempts: 1
""")
    return path


def snapshot(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACKTOP_TEST_AWS_SECRET": "s3cr3t-value-never-shown"}
    return subprocess.run([stacktop_command(), "snapshot", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


def test_snapshot_lists_instances_from_moto(moto_url: str, tmp_path: Path) -> None:
    ec2 = boto_client("ec2", moto_url, region="eu-west-1")
    ec2.run_instances(ImageId="ami-12345678", MinCount=2, MaxCount=2, InstanceType="m5.large")

    done = snapshot(write_config(tmp_path, moto_url), "--only", "aws.ec2,aws.ebs")

    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    ec2_data = document["providers"]["aws.ec2"]["data"]
    assert [i["type"] for i in ec2_data["items"]] == ["m5.large", "m5.large"]
    assert {p["region"] for p in ec2_data["partitions"]} == {"us-east-1", "eu-west-1"}
    assert "s3cr3t-value-never-shown" not in done.stdout + done.stderr


def test_snapshot_of_an_unreachable_endpoint_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = snapshot(write_config(tmp_path, unused_local_url()), "--only", "aws.ec2")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("stacktop: provider aws.ec2 error: ") and "cannot reach http://127.0.0.1:" in line
    assert "Traceback" not in done.stderr


async def test_a_dead_aws_endpoint_leaves_the_host_provider_working(tmp_path: Path) -> None:
    settings = load_settings(str(write_config(tmp_path, unused_local_url())),
                             env={**os.environ, "STACKTOP_TEST_AWS_SECRET": "x"})
    runtime = Runtime(build_providers(settings), Store(10), max_concurrency=4)
    done = asyncio.Event()
    reported: set[str] = set()

    def on_poll(name: str) -> None:
        reported.add(name)
        if reported == set(runtime.states):
            done.set()

    runtime.subscribe(on_poll)
    runtime.start()
    try:
        await asyncio.wait_for(done.wait(), 60)
    finally:
        await runtime.stop()
    assert runtime.health("host") is Health.OK
    for name in ("aws.ec2", "aws.ebs", "aws.rds", "aws.s3", "aws.lambda", "aws.elb"):
        assert runtime.health(name) is Health.ERROR
        assert "cannot reach http://127.0.0.1:" in (runtime.states[name].last_error or "")

"""End to end in a real terminal: the README's `--demo` command, watch mode's refusal,
and a clean exit with nothing but the UI ever written to the terminal."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import stacktop_command
from tests.support.terminal import Tmux

pytestmark = pytest.mark.integration


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    term = Tmux(80, 24)
    yield term
    term.kill()


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state"),
            "PATH": os.environ["PATH"]}


def test_watch_demo_shows_live_host_and_refuses_actions(tmux: Tmux, tmp_path: Path) -> None:
    tmux.start(f"{stacktop_command()} watch --demo", env_for(tmp_path))
    # The demo seeds its AWS estate in moto before the first frame (~6 s here).
    screen = tmux.wait_for("READ-ONLY", "host ● ok", "PID", "CPU", timeout=90)
    assert "Terminate" not in screen  # action keys hidden from the footer
    tmux.keys("2")  # the simulated Patroni cluster and MariaDB pair, live
    tmux.wait_for("leader pg", "patroni", "mariadb", "Events, newest first", timeout=30)
    tmux.keys("3")  # the demo's backup history: one breach, one missed schedule, one stale test
    tmux.wait_for("RPO breach (analytics-db)", "BREACH 26h", "MISSED", "stale 12d ago", timeout=30)
    tmux.keys("4")  # the default rules firing on the demo: the down service, the RPO breach
    tmux.wait_for("FIRING", "HttpCheckFail", "BackupRpoBre", timeout=60)
    tmux.keys("s")  # silencing is an action: refused in watch mode
    tmux.wait_for("read-only")
    tmux.keys("5")  # Cost Explorer answers injected into the demo's moto; the totals first
    tmux.wait_for("MTD $", "forecast", "SPEND BY SERVICE", "Cost Explorer data", timeout=60)
    tmux.keys("1")
    tmux.wait_for("PID")
    tmux.keys("k")
    tmux.wait_for("Terminate refused")  # not the silence's toast, which may still show
    tmux.keys("q")
    final = tmux.wait_for("EXIT=0")
    assert "Traceback" not in final
    audit = (tmp_path / "state" / "stacktop" / "audit.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in audit]
    # Every attempt is audited, refused ones too: the terminate, and the silence when an
    # alert row was selected or not (whichever the demo showed at that instant).
    assert all(r["result"] == "refused" for r in records)
    assert [r["action"] for r in records if r["action"] != "alerts.silence"] == ["host.terminate"]


def test_demo_stops_an_ec2_instance_in_moto_after_the_name_is_typed(tmp_path: Path) -> None:
    term = Tmux(120, 40)
    try:
        term.start(f"{stacktop_command()} --demo", env_for(tmp_path))
        term.wait_for("PID", timeout=90)
        term.wait_for("aws ● ok", timeout=60)
        term.keys("e")
        # The AWS demo fleet's 60 instances and the Costs tab's seeded waste fleet's 8.
        term.wait_for("EC2 68", "api-01", "2 accounts · 2 regions ok")
        term.keys("/")
        term.wait_for("Esc clears")
        term.keys("web-03")
        term.keys("Enter")
        screen = term.wait_for("2 of 68 rows", "web-03 · i-")  # one per prod region; the cursor on one
        where = re.search(r"web-03 · (i-[0-9a-f]+) · prod/([a-z0-9-]+) · running", screen)
        assert where, screen
        term.keys("x")
        term.wait_for("'web-03' to confirm", "Stop instance")
        term.keys("web-03")
        term.keys("Enter")
        term.wait_for("Stopping i-")  # the toast
        term.wait_for(f"{where[1]} · prod/{where[2]} · stopped", timeout=30)  # re-polled
        term.keys("q")
        term.wait_for("EXIT=0")
    finally:
        term.kill()
    [record] = [json.loads(line) for line in
                (tmp_path / "state" / "stacktop" / "audit.jsonl").read_text().splitlines()]
    assert (record["action"], record["result"], record["target"]["name"]) == ("aws.ec2.stop", "ok", "web-03")


def test_console_exits_cleanly_on_a_config_error(tmux: Tmux, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers:\n  host:\n    intervall: 2s\n")
    tmux.start(f"{stacktop_command()} --config {bad}", env_for(tmp_path))
    screen = tmux.wait_for("EXIT=2")
    assert "did you mean 'interval'?" in screen and "Traceback" not in screen


def test_demo_cluster_pods_logs_and_scale_through_the_gate(tmp_path: Path) -> None:
    """The README's `--demo`: a live generated cluster, a crash-looping pod's log,
    and a scale that the demo's controller carries out."""
    term = Tmux(120, 40)
    try:
        term.start(f"{stacktop_command()} --demo", env_for(tmp_path))
        term.wait_for("PID", timeout=90)
        term.wait_for("k8s ● ok", timeout=60)
        term.keys("p")
        term.wait_for("CrashLoopBackOff", "Pending")
        term.keys("/")
        term.wait_for("Esc clears")
        term.keys("cart-")
        term.keys("Enter")
        term.wait_for("2 of ")
        term.keys("Down")  # the crash-looping pod sorts after the healthy one
        term.wait_for("· demo/shop · CrashLoopBackOff")  # the detail pane follows the cursor
        term.keys("Enter")
        term.wait_for("following", "panic: runtime error")  # its log, followed live
        term.keys("Escape")
        term.wait_for("Not ready", "N Namespace")  # back on the Pods view
        term.keys("w")
        term.wait_for("Workloads", "Rollout", "Replicas ")  # rows, and the detail of the first
        term.keys("/")
        term.wait_for("Esc clears")
        term.keys("hello")
        term.keys("Enter")
        term.wait_for("1 of ", "Deployment hello · demo/default")
        term.keys("+")
        term.wait_for("Replicas, 0 to 1000", "now: 1")
        term.keys("3")
        term.keys("Enter")
        # A scale is disruptive: the workload's name is typed (y is not an answer here).
        term.wait_for("replicas → 3.", "Type 'hello'", "type the name shown above")
        term.keys("hello")
        term.keys("Enter")
        term.wait_for("scaled to 3")
        term.wait_for("3/3", timeout=30)  # the demo's controller started two pods
        term.keys("q")
        term.wait_for("EXIT=0")
    finally:
        term.kill()
    [record] = [json.loads(line) for line in
                (tmp_path / "state" / "stacktop" / "audit.jsonl").read_text().splitlines()]
    assert (record["action"], record["result"], record["params"]) == ("k8s.scale", "ok", {"replicas": "3"})

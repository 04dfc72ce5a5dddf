"""The demo's Security tab has something true to show: every hole the demo seeds into
its moto and its Kubernetes API is found, none of the clean look-alikes is, and the
demo's other fleets add what a real estate would (their unencrypted volumes)."""

from __future__ import annotations

import pytest

from config import load_settings
from providers.registry import build_providers
from providers.runtime import Runtime
from providers.security.model import Check, SecuritySnapshot
from providers.store import Store
from tui.cli import DEMO_CONFIG
from tui.demo.aws_fleet import MotoDemoBackend
from tui.demo.harness import DemoHarness
from tui.demo.kube_demo import KubeDemoBackend
from tui.demo.security_demo import SecurityDemoBackend

pytestmark = pytest.mark.integration


async def test_the_demo_security_tab_finds_every_seeded_hole_and_no_look_alike() -> None:
    moto, kube = MotoDemoBackend(pump_interval=3600.0), KubeDemoBackend(life_period=3600.0)
    security = SecurityDemoBackend(aws=moto, kube=kube)
    with DemoHarness([moto, kube, security]) as harness:
        settings = harness.configure(load_settings(str(DEMO_CONFIG)))
        providers = [p for p in build_providers(settings) if p.name == "security"]
        runtime = Runtime(providers, Store(10), max_concurrency=4)
        try:
            await runtime.poll_once(["security"])
        finally:
            await runtime.stop()
        stored = runtime.store.latest("security")
        assert stored is not None, runtime.states["security"].last_error
        snap = stored.snapshot
        assert isinstance(snap, SecuritySnapshot)
        assert [s.error for s in snap.sources if s.error] == []
        found = {(f.check.value, f.resource) for f in snap.findings}
        assert security.expected_aws.keys() <= found
        assert security.expected_kube <= found
        look_alikes = set(security.expected_aws.clean)
        assert look_alikes and not {r.split(":")[0] for _, r in found} & look_alikes
        # The AWS demo fleet's own volumes are unencrypted, as a real estate's often are.
        assert any(f.check is Check.EBS_UNENCRYPTED and f.resource not in security.expected_aws.ids.values()
                   for f in snap.findings)

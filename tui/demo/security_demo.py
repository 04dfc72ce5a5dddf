"""DemoBackend for the Security tab: each misconfiguration the scan knows, seeded
beside clean look-alikes into the demo's moto (prod account, us-east-1) and its
Kubernetes test API, so `--demo` shows every kind of finding and none of the
look-alikes. The demo's other fleets add what a real estate would (their volumes
are unencrypted, their pods set no securityContext): the tab shows those too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from config.model import SecuritySettings, Settings


class SecurityDemoBackend:
    """DemoBackend (see tui/demo/harness.py); `aws` and `kube` are the started backends."""

    name = "security"

    def __init__(self, aws: Any = None, kube: Any = None) -> None:
        self.aws = aws
        self.kube = kube
        self.expected_aws: Any = None
        self.expected_kube: set[tuple[str, str]] = set()

    def start(self) -> None:
        url = getattr(self.aws, "url", None)
        if url is not None:
            from tui.demo.aws_fleet import PROD_ACCOUNT
            from tui.demo.security_fleet import seed_security_fleet

            self.expected_aws = seed_security_fleet(url, PROD_ACCOUNT, "us-east-1")
        kubeconfig = getattr(self.kube, "kubeconfig", None)
        if kubeconfig is not None:
            from kubernetes import config

            from tui.demo.security_cluster import seed_security_cluster

            api = config.new_client_from_config(config_file=str(kubeconfig))
            try:
                self.expected_kube = seed_security_cluster(api)
            finally:
                api.close()

    def stop(self) -> None:
        """Nothing to stop: the seeds live in the other backends' servers."""

    def configure(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, security=SecuritySettings(interval=600.0))

"""Starts the demo's embedded servers, points the settings at them, and stops
them again, in reverse order, whatever happens in between.

Each provider with a remote API adds one DemoBackend: moto seeded with an AWS
fleet, the test Kubernetes API serving a generated cluster, and the HA
simulators (a Patroni cluster's REST API, a MariaDB primary and replica), and
the backups' dump directories, snapshots and verification log, and the
services the HTTP checks watch with the receiver the notifications go to.
The host needs none: it is real.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from config.model import Settings

log = logging.getLogger(__name__)


class DemoBackend(Protocol):
    name: str

    def start(self) -> None:
        """Start listening on 127.0.0.1 and seed data; raise if it cannot."""

    def stop(self) -> None:
        """Stop and release ports; must not raise."""

    def configure(self, settings: Settings) -> Settings:
        """Return settings whose providers point at this backend."""


class DemoError(Exception):
    """A demo backend could not start; the message names it and why."""


class DemoHarness:
    """Context manager around the demo backends."""

    def __init__(self, backends: Sequence[DemoBackend]) -> None:
        self.backends = list(backends)
        self._started: list[DemoBackend] = []

    def __enter__(self) -> DemoHarness:
        for backend in self.backends:
            try:
                backend.start()
            except Exception as exc:
                self.stop()
                raise DemoError(f"demo backend '{backend.name}' failed to start: {exc}") from None
            self._started.append(backend)
            log.info("demo backend %s started", backend.name)
        return self

    def configure(self, settings: Settings) -> Settings:
        for backend in self._started:
            settings = backend.configure(settings)
        return settings

    def stop(self) -> None:
        while self._started:
            backend = self._started.pop()
            try:
                backend.stop()
            except Exception:
                log.exception("demo backend %s failed to stop", backend.name)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def default_backends() -> list[DemoBackend]:
    """The backends `--demo` starts; the host provider is real and needs none."""
    from tui.demo.alerts_demo import AlertsDemoBackend
    from tui.demo.aws_fleet import MotoDemoBackend  # imports boto3 only when the demo runs
    from tui.demo.backups_demo import BackupsDemoBackend
    from tui.demo.costs_demo import CostsDemoBackend
    from tui.demo.ha_demo import HaDemoBackend
    from tui.demo.kube_demo import KubeDemoBackend
    from tui.demo.security_demo import SecurityDemoBackend

    moto, kube = MotoDemoBackend(), KubeDemoBackend()
    # After moto and kube: the backups, costs and security backends seed into their servers.
    return [moto, kube, HaDemoBackend(), BackupsDemoBackend(aws=moto), AlertsDemoBackend(),
            CostsDemoBackend(aws=moto), SecurityDemoBackend(aws=moto, kube=kube)]

"""The `security` provider: findings from every AWS account and Kubernetes context.

A scan reads IAM, S3 and every security group, so it runs in the background every
`security.interval` (hourly by default) and wakes the provider when it is done;
polls in between only rebuild the snapshot, so the tab's ages stay honest and the
first screen never waits. Each source fails alone: its error is one line and its
last findings stay on screen, marked by the source's scan time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from config.model import SecuritySettings
from providers.base import Provider
from providers.security.model import Finding, SecuritySnapshot, SourceStatus, sort_findings

log = logging.getLogger(__name__)

POLL_INTERVAL = 30.0
"""How often the snapshot is rebuilt from what the last scan found (no request)."""

Scan = Callable[[], tuple[list[Finding], list[SourceStatus]]]
"""One source's blocking scan: its findings and statuses."""


class SecurityProvider(Provider):
    """`security`: one scan per AWS account and Kubernetes context, in worker threads."""

    def __init__(
        self,
        settings: SecuritySettings,
        scans: Mapping[str, Scan],
        *,
        timeout: float = 600.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        on_close: Sequence[Callable[[], None]] = (),
    ) -> None:
        super().__init__("security", POLL_INTERVAL, timeout)
        self.settings = settings
        self.scans = dict(scans)
        self._clock = clock
        self._monotonic = monotonic
        self._on_close = tuple(on_close)
        self._ignore = frozenset(settings.ignore)
        self._findings: dict[str, list[Finding]] = {}
        """By source ("aws:prod/eu-west-1", "k8s:prod"): what its last good scan found."""
        self._statuses: dict[str, SourceStatus] = {}
        self._scan_due = float("-inf")
        self._scan: asyncio.Task[None] | None = None
        self._scanned = False

    async def prime(self) -> None:
        """A one-shot read (`report security`, `snapshot`) waits for a whole scan."""
        self._start_scan()
        if self._scan is not None:
            await self._scan

    async def poll(self) -> SecuritySnapshot:
        self._start_scan()
        return self.snapshot()

    def snapshot(self) -> SecuritySnapshot:
        """What the scans found so far, less what the profile accepts (security.ignore)."""
        every = [f for part in self._findings.values() for f in part]
        kept = [f for f in every if f.key not in self._ignore]
        statuses = list(self._statuses.values())
        return SecuritySnapshot(taken_at=self._clock(), findings=sort_findings(kept),
                                sources=tuple(sorted(statuses, key=lambda s: s.source)),
                                ignored=len(every) - len(kept), scanning=not self._scanned)

    def _start_scan(self) -> None:
        now = self._monotonic()
        if (self._scan is None or self._scan.done()) and now >= self._scan_due and self.scans:
            self._scan_due = now + self.settings.interval
            self._scan = asyncio.ensure_future(self._run_scan())

    async def _run_scan(self) -> None:
        try:
            await asyncio.gather(*(self._scan_one(name, scan) for name, scan in self.scans.items()))
            self._scanned = True
        finally:
            self.wake()

    async def _scan_one(self, name: str, scan: Scan) -> None:
        try:
            findings, statuses = await self.run_blocking(scan)
        except Exception as exc:  # a bug in one source must not hide the others
            log.exception("security scan of %s failed", name)
            findings, statuses = [], [SourceStatus(name, error=f"scan failed: {type(exc).__name__}: {exc}",
                                                   scanned_at=self._clock())]
        fresh: dict[str, list[Finding]] = {}
        for finding in findings:
            fresh.setdefault(finding.source, []).append(finding)
        for status in statuses:
            self._statuses[status.source] = status
            if status.error is None:
                self._findings[status.source] = fresh.pop(status.source, [])
            # A source that failed keeps its last findings: a denied call hides no hole.
        for source, part in fresh.items():
            self._findings[source] = part

    async def close(self) -> None:
        if self._scan is not None and not self._scan.done():
            self._scan.cancel()
        for close in self._on_close:
            close()


def describe_counts(snapshot: Any) -> str:
    """"2 critical, 5 high, 1 medium" (severities with findings), or "no findings"."""
    counts = snapshot.counts()
    text = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n)
    return text or "no findings"

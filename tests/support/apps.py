"""Builders for the app under test: real host provider by default, or
recorded host snapshots where a test needs a pixel-stable screen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from providers.actions import ActionGate, AuditLog
from providers.base import Provider
from providers.host import (
    CpuStats,
    DeviceRates,
    DiskIo,
    DiskUsage,
    HostProvider,
    HostSnapshot,
    MemoryStats,
    NetIo,
    ProcessInfo,
)
from providers.runtime import Runtime
from providers.store import Store
from tui.app import StacktopApp

FIXED_NOW = 1_795_000_000.0  # 2026-11-18, a fixed wall clock for stable screens


def build_app(
    tmp_path: Path,
    *,
    read_only: bool = False,
    providers: Sequence[Provider] | None = None,
    role: str = "operator",
    start_runtime: bool = True,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> StacktopApp:
    if providers is None:
        # Every process listed, so a test's own child is always in the table.
        providers = [HostProvider(interval=0.5, timeout=5, top_processes=100_000)]
    runtime = Runtime(providers, Store(120), max_concurrency=2)
    gate = ActionGate(
        runtime.providers, AuditLog(tmp_path / "audit.jsonl"), read_only=read_only, role=role,
        user="tester", refresh=runtime.refresh,
    )
    return StacktopApp(runtime, gate, profile="test", read_only=read_only, clock=clock,
                       monotonic=monotonic, start_runtime=start_runtime)


def polled(app: StacktopApp, name: str = "host") -> asyncio.Event:
    """An event set after the next completed poll of `name`."""
    event = asyncio.Event()

    def on_poll(polled_name: str) -> None:
        if polled_name == name:
            event.set()

    app.runtime.subscribe(on_poll)
    return event


class RecordedHostProvider(Provider):
    """Replays host snapshots made from fixed numbers: same screen on every machine."""

    def __init__(self, count: int = 30) -> None:
        super().__init__("host", interval=2.0, timeout=5.0)
        self._snapshots = [recorded_host_snapshot(i) for i in range(count)]
        self._next = 0
        self._real = HostProvider()

    async def poll(self) -> HostSnapshot:
        snap = self._snapshots[self._next % len(self._snapshots)]
        self._next += 1
        return snap

    def actions(self):  # type: ignore[no-untyped-def]
        return self._real.actions()


def recorded_host_snapshot(i: int) -> HostSnapshot:
    wave = [12, 18, 25, 40, 63, 71, 55, 38, 30, 22]
    cpu = float(wave[i % len(wave)])
    procs = (
        ProcessInfo(812, "postgres", "postgres", 31.5 - i % 3, 4.2, 512 * 2**20, "running", 1.0),
        ProcessInfo(1204, "nginx", "www-data", 8.0, 0.6, 48 * 2**20, "sleeping", 2.0),
        ProcessInfo(1, "systemd", "root", 0.0, 0.1, 12 * 2**20, "sleeping", 3.0),
        ProcessInfo(977, "node_exporter", "prometheus", 1.5, 0.3, 24 * 2**20, "sleeping", 4.0),
        ProcessInfo(2211, "backup-agent", "backup", 0.5, 1.9, 230 * 2**20, "sleeping", 5.0),
    )
    return HostSnapshot(
        taken_at=FIXED_NOW + 2 * i,
        hostname="bastion-1",
        boot_time=FIXED_NOW - 86400 * 12,
        cpu=CpuStats(cpu, (cpu - 5, cpu + 5), (1.25, 0.98, 0.75), 2),
        memory=MemoryStats(41.0 + i % 4, 3_300_000_000, 4_700_000_000, 8_000_000_000, 0.0, 0, 0),
        disks=(DiskUsage("/", "/dev/vda1", "ext4", 100 * 2**30, 43 * 2**30, 57 * 2**30, 43.0),),
        disk_io=DiskIo(2.0 * 2**20, 512.0 * 1024 * (i % 5), (DeviceRates("vda", 2.0 * 2**20, 0.0),)),
        net=NetIo(
            300.0 * 1024 + 10_000 * i, 120.0 * 1024, (DeviceRates("eth0", 300.0 * 1024, 120.0 * 1024),)
        ),
        processes=procs,
        process_count=143,
    )

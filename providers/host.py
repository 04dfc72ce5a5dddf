"""The local host through psutil: CPU, memory, disks, network and processes.

Collection is blocking (psutil reads /proc), so it runs in the runtime's
thread pool. Rates come from counter deltas (see providers.rates).
"""

from __future__ import annotations

import os
import pwd
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psutil

from providers.base import (
    ActionResult,
    ActionSpec,
    ActionTarget,
    Provider,
    Risk,
    Sample,
    Snapshot,
    labels_of,
)
from providers.rates import CounterRates, cpu_busy_percent

DEFAULT_EXCLUDE_FSTYPES = (
    "squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "cgroup2", "nsfs", "tracefs",
)


@dataclass(frozen=True)
class CpuStats:
    percent: float | None
    per_core: tuple[float | None, ...]
    load_avg: tuple[float, float, float]
    count: int


@dataclass(frozen=True)
class MemoryStats:
    percent: float
    used_bytes: int
    available_bytes: int
    total_bytes: int
    swap_percent: float
    swap_used_bytes: int
    swap_total_bytes: int


@dataclass(frozen=True)
class DiskUsage:
    mount: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float


@dataclass(frozen=True)
class DeviceRates:
    """Bytes per second for one disk (read/write) or interface (rx/tx); None until two samples."""

    name: str
    in_bytes_per_s: float | None
    out_bytes_per_s: float | None


@dataclass(frozen=True)
class DiskIo:
    read_bytes_per_s: float | None
    write_bytes_per_s: float | None
    disks: tuple[DeviceRates, ...]


@dataclass(frozen=True)
class NetIo:
    rx_bytes_per_s: float | None
    tx_bytes_per_s: float | None
    interfaces: tuple[DeviceRates, ...]


@dataclass(frozen=True)
class ProcessInfo:
    """A process row. The command line is left out on purpose: it often holds passwords."""

    pid: int
    name: str
    user: str
    cpu_percent: float
    memory_percent: float
    rss_bytes: int
    status: str
    create_time: float


@dataclass(frozen=True)
class HostSnapshot(Snapshot):
    hostname: str
    boot_time: float
    cpu: CpuStats
    memory: MemoryStats
    disks: tuple[DiskUsage, ...]
    disk_io: DiskIo
    net: NetIo
    processes: tuple[ProcessInfo, ...]
    process_count: int

    def metrics(self) -> Mapping[str, float]:
        values: dict[str, float | None] = {
            "cpu.percent": self.cpu.percent,
            "memory.percent": self.memory.percent,
            "disk.read_bytes_per_s": self.disk_io.read_bytes_per_s,
            "disk.write_bytes_per_s": self.disk_io.write_bytes_per_s,
            "net.rx_bytes_per_s": self.net.rx_bytes_per_s,
            "net.tx_bytes_per_s": self.net.tx_bytes_per_s,
            "disk.io_bytes_per_s": _total(self.disk_io.read_bytes_per_s, self.disk_io.write_bytes_per_s),
            "net.bytes_per_s": _total(self.net.rx_bytes_per_s, self.net.tx_bytes_per_s),
            "load.1m": self.cpu.load_avg[0],
        }
        return {k: v for k, v in values.items() if v is not None}

    def alert_samples(self, provider: str) -> list[Sample]:
        """The host figures, plus host.disk.percent per mount (a rule per disk would
        not survive a new mount)."""
        host = labels_of(host=self.hostname)
        out = [Sample(f"{provider}.{key}", host, float(value), self.taken_at)
               for key, value in self.metrics().items()]
        out += [Sample(f"{provider}.disk.percent", labels_of(host=self.hostname, mount=d.mount),
                       d.percent, self.taken_at) for d in self.disks]
        return out


def _total(a: float | None, b: float | None) -> float | None:
    return None if a is None and b is None else (a or 0.0) + (b or 0.0)


def _device_rates(
    tracker: CounterRates,
    counters: Mapping[str, Any],
    in_field: str,
    out_field: str,
    counted: list[str],
    now: float,
) -> tuple[float | None, float | None, tuple[DeviceRates, ...]]:
    """Per-device in/out rates from psutil counters, and totals over `counted` devices."""
    readings: dict[str, float] = {}
    for dev, c in counters.items():
        readings[f"{dev}\0in"] = float(getattr(c, in_field))
        readings[f"{dev}\0out"] = float(getattr(c, out_field))
    rates = tracker.update(readings, now)
    devices = tuple(
        DeviceRates(d, rates.get(f"{d}\0in"), rates.get(f"{d}\0out")) for d in sorted(counters)
    )
    return (
        _sum_rates(rates, [f"{d}\0in" for d in counted]),
        _sum_rates(rates, [f"{d}\0out" for d in counted]),
        devices,
    )


def _sum_rates(rates: Mapping[str, float | None], keys: list[str]) -> float | None:
    """Total over devices; None only when no device has a rate yet."""
    known = [rates[k] for k in keys if rates.get(k) is not None]
    return sum(known) if known else None  # type: ignore[arg-type]


class HostProvider(Provider):
    """Polls the machine stacktop runs on. `source` is psutil (swappable in tests)."""

    TERMINATE = "host.terminate"
    sample_window = 0.5

    def __init__(
        self,
        name: str = "host",
        interval: float = 2.0,
        timeout: float = 10.0,
        top_processes: int = 50,
        exclude_fstypes: tuple[str, ...] = DEFAULT_EXCLUDE_FSTYPES,
        exclude_interfaces: tuple[str, ...] = ("lo",),
        source: Any = psutil,
        min_rate_window: float = 0.2,
    ) -> None:
        """`min_rate_window`: samples closer than this give no rates (CPU time is
        counted in 10 ms ticks: too coarse below)."""
        super().__init__(name, interval, timeout)
        self.top_processes = top_processes
        self.exclude_fstypes = frozenset(exclude_fstypes)
        self.exclude_interfaces = frozenset(exclude_interfaces)
        self._ps = source
        self._cpu_total: dict[str, float] | None = None
        self._cpu_cores: list[dict[str, float]] | None = None
        self.min_rate_window = min_rate_window
        self._disk_rates = CounterRates(min_rate_window)
        self._net_rates = CounterRates(min_rate_window)
        self._last_cpu_sample: float | None = None
        self._users: dict[int, str] = {}
        self._hostname = socket.gethostname()

    async def prime(self) -> None:
        await self.run_blocking(self._collect)

    async def poll(self) -> HostSnapshot:
        return await self.run_blocking(self._collect)

    # -- collection (worker thread) -----------------------------------

    def _collect(self) -> HostSnapshot:
        now = time.monotonic()
        return HostSnapshot(
            taken_at=time.time(),
            hostname=self._hostname,
            boot_time=self._ps.boot_time(),
            cpu=self._cpu(now),
            memory=(memory := self._memory()),
            disks=self._disks(),
            disk_io=self._disk_io(now),
            net=self._net_io(now),
            processes=self._processes(memory.total_bytes),
            process_count=len(self._ps.pids()),
        )

    def _cpu(self, now: float) -> CpuStats:
        total = self._ps.cpu_times()._asdict()
        cores = [t._asdict() for t in self._ps.cpu_times(percpu=True)]
        previous_total, previous_cores = self._cpu_total, self._cpu_cores
        if self._last_cpu_sample is None or now - self._last_cpu_sample < self.min_rate_window:
            previous_total = previous_cores = None
        self._last_cpu_sample = now
        percent = cpu_busy_percent(previous_total, total)
        if previous_cores is None or len(previous_cores) != len(cores):
            per_core: tuple[float | None, ...] = tuple(None for _ in cores)
        else:
            per_core = tuple(cpu_busy_percent(p, c) for p, c in zip(previous_cores, cores, strict=True))
        self._cpu_total, self._cpu_cores = total, cores
        try:
            load = tuple(float(x) for x in self._ps.getloadavg())
        except (AttributeError, OSError):
            load = (0.0, 0.0, 0.0)
        return CpuStats(percent, per_core, load, len(cores))  # type: ignore[arg-type]

    def _memory(self) -> MemoryStats:
        vm = self._ps.virtual_memory()
        sw = self._ps.swap_memory()
        return MemoryStats(
            percent=float(vm.percent),
            used_bytes=int(vm.total - vm.available),
            available_bytes=int(vm.available),
            total_bytes=int(vm.total),
            swap_percent=float(sw.percent),
            swap_used_bytes=int(sw.used),
            swap_total_bytes=int(sw.total),
        )

    def _disks(self) -> tuple[DiskUsage, ...]:
        seen: set[str] = set()
        out: list[DiskUsage] = []
        for part in self._ps.disk_partitions(all=False):
            if part.fstype in self.exclude_fstypes or part.mountpoint in seen:
                continue
            try:
                usage = self._ps.disk_usage(part.mountpoint)
            except OSError:  # unmounted between the two calls, or no permission
                continue
            seen.add(part.mountpoint)
            out.append(
                DiskUsage(part.mountpoint, part.device, part.fstype, int(usage.total),
                          int(usage.used), int(usage.free), float(usage.percent))
            )
        return tuple(sorted(out, key=lambda d: d.mount))

    def _disk_io(self, now: float) -> DiskIo:
        counters = self._ps.disk_io_counters(perdisk=True) or {}
        # Whole disks only for the total: partitions would count the same bytes twice.
        read, write, disks = _device_rates(
            self._disk_rates, counters, "read_bytes", "write_bytes", _whole_disks(counters), now
        )
        return DiskIo(read, write, disks)

    def _net_io(self, now: float) -> NetIo:
        counters = self._ps.net_io_counters(pernic=True) or {}
        counted = [n for n in counters if n not in self.exclude_interfaces]
        rx, tx, nics = _device_rates(self._net_rates, counters, "bytes_recv", "bytes_sent", counted, now)
        return NetIo(rx, tx, nics)

    def _processes(self, total_memory: int) -> tuple[ProcessInfo, ...]:
        # Every attribute here is a /proc read per process per poll: memory_percent
        # is derived from memory_info (psutil would read it again) and user names
        # come from a uid cache (psutil asks NSS each time).
        rows: list[ProcessInfo] = []
        attrs = ["pid", "name", "uids", "cpu_percent", "memory_info", "status", "create_time"]
        for proc in self._ps.process_iter(attrs):
            info = proc.info
            mem = info.get("memory_info")
            rss = int(mem.rss) if mem else 0
            rows.append(
                ProcessInfo(
                    pid=int(info["pid"]),
                    name=info.get("name") or "?",
                    user=self._user_name(info.get("uids")),
                    cpu_percent=float(info.get("cpu_percent") or 0.0),
                    memory_percent=rss / total_memory * 100.0 if total_memory else 0.0,
                    rss_bytes=rss,
                    status=str(info.get("status") or "?"),
                    create_time=float(info.get("create_time") or 0.0),
                )
            )
        n = self.top_processes
        by_cpu = sorted(rows, key=lambda p: (-p.cpu_percent, p.pid))[:n]
        by_mem = sorted(rows, key=lambda p: (-p.rss_bytes, p.pid))[:n]
        chosen = {p.pid: p for p in by_cpu + by_mem}
        return tuple(sorted(chosen.values(), key=lambda p: (-p.cpu_percent, -p.rss_bytes, p.pid)))

    def _user_name(self, uids: Any) -> str:
        if uids is None:
            return "?"
        uid = int(uids.real)
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:  # a uid with no passwd entry (containers): show the number
                name = str(uid)
            self._users[uid] = name
        return name

    # -- actions -------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                id=self.TERMINATE,
                key="k",
                title="Terminate",
                description="Send SIGTERM to the selected process",
                risk=Risk.DISRUPTIVE,
                provider=self.name,
            )
        ]

    def action_callable(self, action_id: str):  # type: ignore[no-untyped-def]
        if action_id == self.TERMINATE:
            return self.terminate
        raise KeyError(action_id)

    async def terminate(self, target: ActionTarget) -> ActionResult:
        return await self.run_blocking(self._terminate, target)

    def _terminate(self, target: ActionTarget) -> ActionResult:
        pid = int(target.id)
        try:
            proc = self._ps.Process(pid)
            # The PID may have been reused since the row was drawn: check identity first.
            expected = target.details.get("create_time")
            if proc.name() != target.name or (
                expected is not None and abs(proc.create_time() - float(expected)) > 0.01
            ):
                return ActionResult(False, f"pid {pid} is no longer {target.name}; refresh and retry")
            proc.terminate()
            try:
                proc.wait(timeout=3)
                return ActionResult(True, f"{target.name} (pid {pid}) exited after SIGTERM")
            except self._ps.TimeoutExpired:
                return ActionResult(True, f"sent SIGTERM to {target.name} (pid {pid}); still running")
        except self._ps.NoSuchProcess:
            return ActionResult(False, f"pid {pid} ({target.name}) has already exited")
        except self._ps.AccessDenied:
            return ActionResult(
                False, f"permission denied for pid {pid}: run stacktop as its owner or root"
            )


def _whole_disks(names: Mapping[str, Any]) -> list[str]:
    """Disks that are not partitions of another listed disk (sda, not sda1)."""
    sys_block = "/sys/block"
    if os.path.isdir(sys_block):
        return [n for n in names if os.path.exists(os.path.join(sys_block, n))]
    return [
        n for n in names
        if not any(o != n and n.startswith(o) and n[len(o):].lstrip("p").isdigit() for o in names)
    ]

"""The host provider against this machine's real psutil, and across counter resets."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from providers.base import ActionTarget
from providers.host import HostProvider, HostSnapshot
from providers.runtime import Runtime
from providers.store import Store

pytestmark = pytest.mark.integration


async def sampled(provider: HostProvider) -> HostSnapshot:
    """A baseline, the provider's sample window, then the poll: as `stacktop snapshot` does."""
    runtime = Runtime([provider], Store(10))
    await runtime.poll_once()
    stored = runtime.store.latest(provider.name)
    await runtime.stop()
    assert stored is not None, runtime.states[provider.name].last_error
    return stored.snapshot  # type: ignore[return-value]


async def test_real_host_numbers_are_sane() -> None:
    snap = await sampled(HostProvider(top_processes=5))
    mem = psutil.virtual_memory()
    assert snap.memory.total_bytes == mem.total
    assert 0 <= snap.cpu.percent <= 100
    assert len(snap.cpu.per_core) == psutil.cpu_count()
    assert any(d.mount == "/" for d in snap.disks)
    assert all(d.fstype not in ("proc", "sysfs", "tmpfs") for d in snap.disks)
    assert snap.net.rx_bytes_per_s is not None and snap.net.rx_bytes_per_s >= 0
    assert snap.disk_io.read_bytes_per_s is not None and snap.disk_io.read_bytes_per_s >= 0
    assert 1 <= len(snap.processes) <= 10  # top 5 by CPU plus top 5 by memory
    assert abs(snap.process_count - len(psutil.pids())) < 20


async def test_network_rate_sees_real_loopback_traffic() -> None:
    """Send 8 MB over 127.0.0.1 between two samples: the lo rate must show it."""
    provider = HostProvider(exclude_interfaces=(), min_rate_window=0.0)
    runtime = Runtime([provider], Store(10))
    await runtime.prime_all()
    payload = b"x" * (8 * 2**20)
    received = 0

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        while chunk := await reader.read(2**16):
            received += len(chunk)
        writer.close()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    await runtime.poll_provider("host")
    snap = runtime.store.latest("host").snapshot
    await runtime.stop()
    lo = next(i for i in snap.net.interfaces if i.name == "lo")
    assert lo.in_bytes_per_s is not None and lo.in_bytes_per_s > 0
    assert snap.net.rx_bytes_per_s is not None  # total includes lo when not excluded


class ResettingPsutil:
    """Real psutil, except the counters a test scripts: resets, vanishing NICs."""

    def __init__(self, nets: list[dict[str, int]], disks: list[dict[str, int]]) -> None:
        self._nets = iter(nets)
        self._disks = iter(disks)

    def __getattr__(self, name: str) -> Any:
        return getattr(psutil, name)

    def net_io_counters(self, pernic: bool = False) -> dict[str, Any]:
        return {n: SimpleNamespace(bytes_recv=v, bytes_sent=v // 2) for n, v in next(self._nets).items()}

    def disk_io_counters(self, perdisk: bool = False) -> dict[str, Any]:
        return {d: SimpleNamespace(read_bytes=v, write_bytes=v) for d, v in next(self._disks).items()}


def test_counter_reset_and_vanished_interface_never_give_negative_rates() -> None:
    source = ResettingPsutil(
        nets=[{"eth0": 10**9, "wg0": 5000}, {"eth0": 10}, {"eth0": 2010, "wg0": 10**12}],
        disks=[{"vda": 10**10}, {"vda": 0}, {"vda": 4096}],
    )
    provider = HostProvider(source=source, top_processes=1, min_rate_window=0.0)
    first = provider._collect()
    second = provider._collect()  # eth0 reset, wg0 vanished, vda reset
    third = provider._collect()  # wg0 back with a huge counter
    assert first.net.rx_bytes_per_s is None
    assert second.net.rx_bytes_per_s is None and second.disk_io.read_bytes_per_s is None
    rates = {i.name: i.in_bytes_per_s for i in third.net.interfaces}
    assert rates["wg0"] is None  # no absurd 10^12 B/s spike
    assert rates["eth0"] is not None and rates["eth0"] > 0
    assert third.net.rx_bytes_per_s == rates["eth0"]


async def test_terminate_sends_sigterm_to_the_named_process(sleeper) -> None:  # type: ignore[no-untyped-def]
    provider = HostProvider()
    target = ActionTarget("process", str(sleeper.pid), "stk-sleeper",
                          {"create_time": repr(psutil.Process(sleeper.pid).create_time())})
    result = await provider.terminate(target)
    assert result.ok, result.message
    assert "exited after SIGTERM" in result.message
    assert not psutil.pid_exists(sleeper.pid)


async def test_terminate_refuses_a_reused_pid(sleeper) -> None:  # type: ignore[no-untyped-def]
    provider = HostProvider()
    target = ActionTarget("process", str(sleeper.pid), "nginx", {})
    result = await provider.terminate(target)
    assert not result.ok and "no longer nginx" in result.message
    assert sleeper.poll() is None


def test_samples_too_close_together_give_no_rates_rather_than_noise() -> None:
    provider = HostProvider(top_processes=1)
    provider._collect()
    quick = provider._collect()  # milliseconds later
    assert quick.cpu.percent is None and quick.net.rx_bytes_per_s is None

"""`stacktop snapshot`: poll every configured provider once, print, exit.

Uses the same Runtime and Store as the console, with no Textual at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from providers.runtime import Health, Runtime


def collect(
    runtime: Runtime, profile: str, names: Sequence[str], sample_window: float | None
) -> dict[str, Any]:
    """Poll `names` once and shape the documented JSON document."""

    async def run() -> None:
        try:
            await runtime.poll_once(names, sample_window=sample_window)
        finally:
            await runtime.stop()

    asyncio.run(run())
    providers: dict[str, Any] = {}
    for name in names:
        state = runtime.states[name]
        stored = runtime.store.latest(name)
        age = state.age()
        providers[name] = {
            "status": "error" if state.last_error else runtime.health(name).value,
            "error": state.last_error,
            "age_s": round(age, 3) if age is not None else None,
            "data": stored.snapshot.to_dict() if stored else None,
        }
    return {
        "profile": profile,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "providers": providers,
    }


def failed(document: dict[str, Any]) -> list[str]:
    return [n for n, p in document["providers"].items() if p["status"] != Health.OK.value]


def render_text(document: dict[str, Any]) -> str:
    """A short human summary; the JSON carries everything."""
    lines = [f"profile {document['profile']} at {document['taken_at']}"]
    for name, entry in document["providers"].items():
        if entry["status"] != "ok":
            lines.append(f"{name}: {entry['status']}: {entry['error'] or 'no data'}")
            continue
        data = entry["data"]
        if name == "host" and data:
            lines.append(_host_text(data))
        else:
            lines.append(f"{name}: ok")
    return "\n".join(lines)


def _host_text(d: dict[str, Any]) -> str:
    from widgets.formatting import human_bytes, human_rate, percent

    cpu, mem, net, io = d["cpu"], d["memory"], d["net"], d["disk_io"]
    out = [
        f"host {d['hostname']}: cpu {percent(cpu['percent'])}, load {cpu['load_avg'][0]:.2f}, "
        f"memory {percent(mem['percent'])} ({human_bytes(mem['used_bytes'])} of "
        f"{human_bytes(mem['total_bytes'])})",
        f"  network rx {human_rate(net['rx_bytes_per_s'])} tx {human_rate(net['tx_bytes_per_s'])}; "
        f"disk read {human_rate(io['read_bytes_per_s'])} write {human_rate(io['write_bytes_per_s'])}",
    ]
    out += [
        f"  {disk['mount']}: {percent(disk['percent'])} of {human_bytes(disk['total_bytes'])}"
        for disk in d["disks"]
    ]
    top = d["processes"][:5]
    out.append("  top: " + ", ".join(f"{p['name']}({p['pid']}) {p['cpu_percent']:.0f}%" for p in top))
    return "\n".join(out)


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False)

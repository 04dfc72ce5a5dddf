"""Plausible container log lines for the demo cluster, in the formats operators
actually read: nginx and envoy access logs, logfmt and JSON app logs, klog,
PostgreSQL and Redis. Each line carries its own timestamp so a log viewer's
time handling, level colouring and search have something real to chew on.
"""

from __future__ import annotations

import time
from random import Random

_PATHS = ("/", "/api/v1/cart", "/api/v1/products", "/api/v1/checkout", "/api/v1/search?q=shoes",
          "/healthz", "/metrics", "/api/v1/orders/8812", "/static/app.js", "/v1/charges")
_METHODS = ("GET", "GET", "GET", "GET", "POST", "PUT", "DELETE")
_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", "kube-probe/1.31", "Go-http-client/1.1",
           "curl/8.5.0", "Prometheus/2.55.1")
_WARNINGS = ("slow request", "retrying upstream call", "cache miss storm", "connection pool near capacity",
             "deprecated API version used by client")
_ERRORS = ("upstream request failed", "database query failed", "payment provider returned 502",
           "failed to publish event")
_CAUSES = ('"context deadline exceeded"', '"connection reset by peer"', '"EOF"', '"i/o timeout"')
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def flavour_of(image: str) -> str:
    """Which log format a container writes, guessed from its image."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0]
    if name in ("nginx", "hello"):
        return "nginx"
    if name == "envoy":
        return "envoy"
    if name == "postgres":
        return "postgres"
    if name == "redis":
        return "redis"
    if image.startswith(("registry.k8s.io/", "quay.io/", "grafana/", "fluent/")):
        return "klog"
    if name in ("payments-api", "ledger", "fraud-model"):
        return "json"
    return "logfmt"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _level(rng: Random) -> str:
    r = rng.random()
    return "ERROR" if r < 0.03 else "WARN" if r < 0.12 else "INFO"


def log_line(flavour: str, rng: Random, ts: float, service: str) -> str:
    """One line of ``flavour`` at ``ts``; about 9 % WARN and 3 % ERROR."""
    level = _level(rng)
    path = rng.choice(_PATHS)
    method = rng.choice(_METHODS)
    client = f"10.244.{rng.randrange(1, 8)}.{rng.randrange(2, 250)}"
    status = 500 if level == "ERROR" else 429 if level == "WARN" and rng.random() < 0.3 else \
        201 if method == "POST" else 200
    took = rng.randrange(1, 40) if level == "INFO" else rng.randrange(800, 5000)
    if flavour == "nginx":
        if level == "ERROR":
            stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(ts))
            return (f"{stamp} [error] 29#29: *{rng.randrange(1, 99999)} upstream timed out (110: Connection "
                    f'timed out) while reading response header from upstream, client: {client}, server: _, '
                    f'request: "{method} {path} HTTP/1.1", upstream: "http://10.96.{rng.randrange(255)}.'
                    f'{rng.randrange(255)}:8080{path}"')
        stamp = time.strftime("%d/", time.gmtime(ts)) + _MONTHS[time.gmtime(ts).tm_mon - 1] + \
            time.strftime("/%Y:%H:%M:%S +0000", time.gmtime(ts))
        return (f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {rng.randrange(120, 48000)} '
                f'"-" "{rng.choice(_AGENTS)}" {took / 1000:.3f}')
    if flavour == "envoy":
        return (f'[{_iso(ts)}] "{method} {path} HTTP/1.1" {status} - 0 {rng.randrange(120, 9000)} {took} '
                f'{max(took - 2, 0)} "{client}" "{rng.choice(_AGENTS)}" "{rng.getrandbits(64):016x}" '
                f'"{service}" "127.0.0.1:8080"')
    if flavour == "json":
        lvl = level.lower()
        if level == "INFO":
            return (f'{{"time":"{_iso(ts)}","level":"{lvl}","msg":"request completed","method":"{method}",'
                    f'"path":"{path}","status":{status},"duration_ms":{took},'
                    f'"trace_id":"{rng.getrandbits(64):016x}"}}')
        msg = rng.choice(_WARNINGS if level == "WARN" else _ERRORS)
        return (f'{{"time":"{_iso(ts)}","level":"{lvl}","msg":"{msg}","service":"{service}",'
                f'"error":{rng.choice(_CAUSES)},"duration_ms":{took}}}')
    if flavour == "postgres":
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d} UTC"
        pid = rng.randrange(100, 9999)
        if level == "ERROR":
            return f'{stamp} [{pid}] ERROR:  duplicate key value violates unique constraint "orders_pkey"'
        if level == "WARN":
            return f"{stamp} [{pid}] WARNING:  there is already a transaction in progress"
        if rng.random() < 0.5:
            return f"{stamp} [{pid}] LOG:  checkpoint starting: time"
        return (f"{stamp} [{pid}] LOG:  checkpoint complete: wrote {rng.randrange(10, 900)} buffers "
                f"({rng.random() * 3:.1f}%); write={rng.random() * 30:.3f} s, sync=0.002 s")
    if flavour == "redis":
        tm = time.gmtime(ts)
        stamp = f"{tm.tm_mday} {_MONTHS[tm.tm_mon - 1]} {tm.tm_year} {time.strftime('%H:%M:%S', tm)}." \
                f"{int(ts * 1000) % 1000:03d}"
        if level != "INFO":
            return f"1:M {stamp} # WARNING: {rng.choice(_WARNINGS)}"
        return f"1:M {stamp} * {rng.randrange(10, 500)} changes in 300 seconds. Saving..."
    if flavour == "klog":
        tm = time.gmtime(ts)
        stamp = time.strftime("%m%d %H:%M:%S", tm) + f".{int(ts * 1e6) % 1_000_000:06d}"
        letter = level[0] if level != "WARN" else "W"
        if level == "INFO":
            return (f'{letter}{stamp}       1 controller.go:{rng.randrange(80, 900)}] "Synced" '
                    f'elapsed="{took}ms"')
        return (f'{letter}{stamp}       1 reflector.go:{rng.randrange(80, 900)}] "{rng.choice(_ERRORS)}" '
                f"err={rng.choice(_CAUSES)}")
    # logfmt, the default for the shop's Go services
    if level == "INFO":
        return (f"{_iso(ts)} INFO  http request method={method} path={path} status={status} "
                f"duration={took}ms request_id={rng.getrandbits(32):08x}")
    if level == "WARN":
        return f"{_iso(ts)} WARN  {rng.choice(_WARNINGS)} service={service} duration={took}ms"
    return (f"{_iso(ts)} ERROR {rng.choice(_ERRORS)} service={service} err={rng.choice(_CAUSES)} "
            f"attempt={rng.randrange(1, 4)}")


def log_lines(flavour: str, rng: Random, *, start: float, end: float, count: int, service: str) -> list[str]:
    """``count`` lines spread evenly from ``start`` to ``end``, oldest first."""
    if count <= 0:
        return []
    step = max(end - start, 0.0) / count
    return [log_line(flavour, rng, start + step * (i + rng.random()), service) for i in range(count)]


def startup_lines(flavour: str, at: float, service: str, image: str) -> list[str]:
    """What a container prints when it starts."""
    version = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    if flavour == "postgres":
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)) + ".000 UTC"
        return [f"{stamp} [1] LOG:  starting PostgreSQL {version} on x86_64-pc-linux-gnu",
                f'{stamp} [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
                f"{stamp} [1] LOG:  database system is ready to accept connections"]
    if flavour == "redis":
        return ["1:C Redis version=" + version + ", bits=64, commit=00000000, modified=0, just started",
                "1:M * Ready to accept connections tcp"]
    if flavour in ("nginx", "envoy"):
        return [f"{_iso(at)} [notice] 1#1: using the \"epoll\" event method",
                f"{_iso(at)} [notice] 1#1: start worker processes"]
    return [f"{_iso(at)} INFO  starting {service} version={version}",
            f"{_iso(at + 0.2)} INFO  listening addr=:8080"]


def crash_lines(at: float, service: str, *, oom: bool) -> list[str]:
    """How the previous container's log ends: a Go panic, or an OOM kill."""
    if oom:
        return [f"{_iso(at - 1)} WARN  heap usage high service={service} heap_mb=498",
                f"{_iso(at - 0.5)} INFO  building index segment shard=3",
                "Killed"]
    return [
        f"{_iso(at - 0.1)} ERROR failed to load state service={service} err=\"redis: nil\"",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x8a5f1c]",
        "",
        "goroutine 1 [running]:",
        "main.(*Store).Load(0x0, {0xc000124000, 0x1f})",
        f"\t/src/internal/{service}/store.go:142 +0x1c",
        "main.main()",
        f"\t/src/cmd/{service}/main.go:57 +0x2a5",
    ]

"""The Kubernetes side of k8s_bench.py: the test API server with a bulk cluster, in its own process.

    python benchmarks/k8s_bench_server.py --workdir /tmp/x        # 20,000 pods, as k8s_bench starts it
    python benchmarks/k8s_bench_server.py --workdir /tmp/x --pods 2000 --nodes 50 --deployments 300

Loads `generate_bulk` into `KubeApiServer` (tui/demo/kube_api/server.py), writes a kubeconfig
(context "bench") into --workdir, and prints ONE JSON line on stdout: the URL, the kubeconfig,
the counts, the marker pod and the log pod, and how long the load took. Then it reads commands
from stdin, one a line, and answers each with one JSON line on stdout:

    events RATE                  mutate random pods at RATE MODIFIED events/s (0 stops);
                                 each is a restart (restartCount+1, lastState terminated, a new
                                 running state) or a readiness flip (a container and the pod's
                                 Ready/ContainersReady conditions), alternately; the pod's
                                 PodMetrics drift too (metrics.k8s.io has no watch: read on the
                                 console's metrics interval, not an event)
    mark N                       set the marker pod's first container restartCount to N;
                                 answers {"t": time.monotonic() just after the store took it}
                                 (CLOCK_MONOTONIC: the same clock in every process on Linux)
    logs N RATE                  wait (up to 10 s) for a follower of the log pod's container,
                                 then append N lines at RATE lines/s in a thread (every 10 ms a
                                 share); answers at once with {"t": start}
    stats                        events sent and their real rate, log lines appended, followers
    quit                         stop and exit (stdin closing does the same)

The marker pod and the log pod are never touched by the background events. Only the standard
library and this checkout (tui/demo/kube_api) are used; the bench stops this process by its PID.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tui.demo comes from this checkout

from tui.demo.kube_api import objects as k  # noqa: E402
from tui.demo.kube_api.cluster import generate_bulk  # noqa: E402
from tui.demo.kube_api.loglines import log_lines  # noqa: E402
from tui.demo.kube_api.server import KubeApiServer  # noqa: E402
from tui.demo.kube_demo import write_demo_kubeconfig  # noqa: E402

CONTEXT = "bench"
TOKEN = "stacktop-bench-token"
TICK = 0.010  # the event and log threads' step
LOG_TEMPLATES = 1000

Obj = dict[str, Any]


def say(lock: threading.Lock, doc: dict[str, Any]) -> None:
    """One JSON line on stdout (the bench reads them in order)."""
    with lock:
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()


class Bench:
    """The served cluster and the levers the bench pulls."""

    def __init__(self, server: KubeApiServer, pods: list[tuple[str, str]], marker: tuple[str, str, str],
                 log_pod: tuple[str, str, str], seed: int) -> None:
        self.server = server
        self.marker = marker
        self.log_pod = log_pod
        self.rng = random.Random(seed)
        self.pods = [p for p in pods if p not in (marker[:2], log_pod[:2])]
        self.rate = 0.0
        self.events = 0
        self.events_since = 0
        self.rate_t0 = time.monotonic()
        self.kinds = {"restart": 0, "ready": 0}
        self.lines_appended = 0
        self.logs_done_at: float | None = None
        self._stop = threading.Event()
        self._events_thread: threading.Thread | None = None
        self._logs_thread: threading.Thread | None = None

    # -- background events ---------------------------------------------------------

    def set_rate(self, rate: float) -> None:
        self.rate = max(0.0, rate)
        self.events_since, self.rate_t0 = 0, time.monotonic()
        if self.rate and self._events_thread is None:
            self._events_thread = threading.Thread(target=self._run_events, name="bench-events", daemon=True)
            self._events_thread.start()

    def _run_events(self) -> None:
        """Keeps `events_since` at rate * elapsed, a few per 10 ms step."""
        while not self._stop.is_set():
            rate, t0 = self.rate, self.rate_t0
            due = int(rate * (time.monotonic() - t0)) - self.events_since if rate else 0
            for _ in range(max(0, due)):
                if rate != self.rate or t0 != self.rate_t0:
                    break
                self._one_event()
                self.events_since += 1
            self._stop.wait(TICK)

    def _one_event(self) -> None:
        namespace, name = self.pods[self.rng.randrange(len(self.pods))]
        now = time.time()
        kind = "restart" if self.events % 2 == 0 else "ready"
        rng = self.rng

        def restart(pod: Obj) -> None:
            cs = pod["status"]["containerStatuses"][0]
            started = k.parse_time(cs["state"].get("running", {}).get("startedAt", k.rfc3339(now - 60)))
            cs["lastState"] = k.terminated_state("Error", 1, started=started, finished=now,
                                                 container_id=cs.get("containerID"))
            cs["restartCount"] = int(cs.get("restartCount", 0)) + 1
            cs["state"] = k.running_state(now)
            cs["containerID"] = f"containerd://{rng.getrandbits(128):032x}{rng.getrandbits(128):032x}"

        def ready(pod: Obj) -> None:
            statuses = pod["status"]["containerStatuses"]
            statuses[0]["ready"] = not statuses[0]["ready"]
            ok = all(s["ready"] for s in statuses)
            unready = [s["name"] for s in statuses if not s["ready"]]
            for cond in pod["status"].get("conditions", ()):
                if cond["type"] in ("Ready", "ContainersReady"):
                    cond["status"] = "True" if ok else "False"
                    cond["lastTransitionTime"] = k.rfc3339(now)
                    if ok:
                        cond.pop("reason", None)
                        cond.pop("message", None)
                    else:
                        cond["reason"] = "ContainersNotReady"
                        cond["message"] = f"containers with unready status: [{' '.join(unready)}]"

        self.server.mutate("Pod", namespace, name, restart if kind == "restart" else ready)
        self.kinds[kind] += 1
        self.events += 1

        def drift(metrics: Obj) -> None:
            for c in metrics.get("containers", ()):
                cores = k.parse_quantity(c["usage"]["cpu"]) * math.exp(rng.gauss(0, 0.15))
                c["usage"]["cpu"] = k.cpu_quantity(max(int(cores * 1e9), 1_000_000))
            metrics["timestamp"] = k.rfc3339(now)

        self.server.mutate("PodMetrics", namespace, name, drift)

    # -- the marker --------------------------------------------------------------------

    def mark(self, n: int) -> float:
        namespace, name, _ = self.marker

        def set_restarts(pod: Obj) -> None:
            pod["status"]["containerStatuses"][0]["restartCount"] = n

        self.server.mutate("Pod", namespace, name, set_restarts)
        return time.monotonic()

    # -- logs --------------------------------------------------------------------------

    def logs(self, count: int, rate: float) -> float:
        namespace, name, container = self.log_pod
        self.server.wait_log_followers(namespace, name, 1, timeout=10.0)
        now = time.time()
        base = log_lines("logfmt", random.Random(1), start=now - 600, end=now, count=LOG_TEMPLATES,
                         service=container)
        self.lines_appended, self.logs_done_at = 0, None
        t0 = time.monotonic()

        def run() -> None:
            sent = 0
            while sent < count and not self._stop.is_set():
                due = min(count, int(rate * (time.monotonic() - t0)) + 1) - sent
                if due > 0:
                    batch = [f"{base[i % LOG_TEMPLATES]} seq={i}" for i in range(sent, sent + due)]
                    self.server.append_log(namespace, name, container, batch)
                    sent += due
                    self.lines_appended = sent
                self._stop.wait(TICK)
            self.logs_done_at = time.monotonic()

        self._logs_thread = threading.Thread(target=run, name="bench-logs", daemon=True)
        self._logs_thread.start()
        return t0

    def stats(self) -> dict[str, Any]:
        namespace, name, _ = self.log_pod
        elapsed = time.monotonic() - self.rate_t0
        return {"events": self.events, "kinds": dict(self.kinds), "rate": self.rate,
                "real_rate": self.events_since / elapsed if self.rate and elapsed > 0 else 0.0,
                "lines_appended": self.lines_appended, "logs_done_at": self.logs_done_at,
                "log_followers": self.server.log_followers(namespace, name),
                "pod_watchers": self.server.watchers("pods")}

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._events_thread, self._logs_thread):
            if thread is not None:
                thread.join(timeout=5)


def load(args: argparse.Namespace) -> tuple[KubeApiServer, list[tuple[str, str]], dict[str, Any]]:
    """Start the server and fill it; the pods' (namespace, name) in the order generated."""
    server = KubeApiServer(token=TOKEN)
    url = server.start()
    t0 = time.monotonic()
    pods: list[tuple[str, str]] = []
    first_container: dict[tuple[str, str], str] = {}

    def keep(objs: Any) -> Any:
        for obj in objs:
            if obj["kind"] == "Pod":
                key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
                pods.append(key)
                first_container[key] = obj["spec"]["containers"][0]["name"]
            yield obj

    server.put_many(keep(generate_bulk(pods=args.pods, nodes=args.nodes, deployments=args.deployments,
                                       seed=args.seed)))
    load_s = time.monotonic() - t0
    if len(pods) < 3:
        raise SystemExit("k8s_bench_server: need at least 3 pods")
    # The marker in the middle of the list, the log pod a third in: not the first rows on screen.
    marker = pods[len(pods) // 2]
    log_pod = pods[len(pods) // 3]
    info = {"url": url, "load_s": load_s, "pods": len(pods), "nodes": args.nodes,
            "deployments": args.deployments,
            "marker": [*marker, first_container[marker]], "log_pod": [*log_pod, first_container[log_pod]]}
    return server, pods, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="test Kubernetes API server for k8s_bench.py")
    parser.add_argument("--workdir", required=True, help="where the kubeconfig is written")
    parser.add_argument("--pods", type=int, default=20_000)
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--deployments", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = threading.Lock()
    server, pods, info = load(args)
    kubeconfig = write_demo_kubeconfig(Path(args.workdir) / "kubeconfig", info["url"], TOKEN, context=CONTEXT)
    info.update(kubeconfig=str(kubeconfig), context=CONTEXT, token=TOKEN)
    bench = Bench(server, pods, tuple(info["marker"]), tuple(info["log_pod"]), args.seed)
    say(out, info)
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            try:
                if words[0] == "events":
                    bench.set_rate(float(words[1]))
                    say(out, {"ok": "events", "rate": bench.rate})
                elif words[0] == "mark":
                    say(out, {"ok": "mark", "n": int(words[1]), "t": bench.mark(int(words[1]))})
                elif words[0] == "logs":
                    say(out, {"ok": "logs", "t": bench.logs(int(words[1]), float(words[2]))})
                elif words[0] == "stats":
                    say(out, {"ok": "stats", **bench.stats()})
                elif words[0] == "quit":
                    say(out, {"ok": "quit"})
                    break
                else:
                    say(out, {"error": f"unknown command {words[0]!r}"})
            except (IndexError, ValueError, TimeoutError) as exc:
                say(out, {"error": f"{line.strip()}: {exc}"})
    finally:
        bench.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

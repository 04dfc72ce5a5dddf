"""Real Prometheus, Alertmanager and node exporter for tests (RECIPES.md,
"Prometheus, Alertmanager, exporters"): each on a free 127.0.0.1 port in a
temporary directory, waited for on /-/ready, stopped by PID (terminate, then
kill). Nothing but the processes started here is ever signalled.

Prometheus scrapes the node exporter and evaluates its rules every 2 s, and
resends alerts every 2 s (without --rules.alert.resend-delay the first alert
would wait a minute). Its rule file holds one always-firing alert,
TestAlwaysFiring (severity=warning), sent to the Alertmanager. Tests that need
alerts with chosen labels POST them to Alertmanager directly (`post_alert`).

    def test_x(prom_stack: PromStack): ...      # session-scoped fixture; import it

Under CI=true a missing binary fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.support.servers import skip_or_fail

PROMETHEUS, ALERTMANAGER, NODE_EXPORTER, PROMTOOL = (
    "prometheus", "prometheus-alertmanager", "prometheus-node-exporter", "promtool")
INTERVAL = "2s"
ALWAYS_FIRING = "TestAlwaysFiring"
AUTH_USER, AUTH_PASSWORD = "stacktop", "am-test-pass"
AUTH_HASH = "$2b$04$pILl7bnmXKYoSjdUGni1Su/1X7VWmSCjbHLEuTdoSKuxxUiitiK6C"
"""bcrypt of AUTH_PASSWORD (cost 4: the server checks it on every request)."""
NODE_COLLECTORS = ("cpu", "meminfo", "loadavg", "filesystem", "time")
"""What the exported host rules need; the node exporter's other collectors only cost time."""


def free_ports(count: int) -> list[int]:
    """Distinct free ports (all bound at once, so none is handed out twice)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def missing_binaries(*names: str) -> str:
    return ", ".join(n for n in (names or (PROMETHEUS, ALERTMANAGER, NODE_EXPORTER, PROMTOOL))
                     if shutil.which(n) is None)


def require_binaries(*names: str) -> None:
    """Skip (fail under CI=true) when one of the servers is not installed."""
    missing = missing_binaries(*names)
    if missing:
        skip_or_fail(f"needs {missing}: apt-get install prometheus prometheus-alertmanager "
                     "prometheus-node-exporter")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def http(method: str, url: str, body: Any = None, *, timeout: float = 5.0,
         headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON or text) of one request; HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text) if text.strip() else None
    except ValueError:
        return status, text


def get_json(url: str) -> Any:
    status, body = http("GET", url)
    assert status == 200, f"GET {url}: HTTP {status}: {body}"
    return body


async def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy (returned) or fail after `timeout`
    seconds naming `what`. For external servers, which cannot tell us when they are done."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            last = result
            if result:
                return result
        except (AssertionError, OSError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last: {last!r}")
        await asyncio.sleep(every)


@dataclass
class Server:
    """One started binary: its URL, log and process."""

    name: str
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """SIGTERM to our PID, SIGKILL if it does not go within 10 s. Idempotent."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_server(name: str, argv: Sequence[str], url: str, ready_path: str, log: Path,
                 timeout: float = 30.0, headers: Mapping[str, str] | None = None) -> Server:
    """Start `argv` (stdout and stderr to `log`) and wait until GET url+ready_path is 200."""
    with log.open("ab") as out:
        process = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = Server(name, url, log, process)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(OSError, ValueError):
            if http("GET", url + ready_path, timeout=1.0, headers=headers)[0] == 200:
                return server
        if time.monotonic() >= deadline:
            server.stop()
            raise RuntimeError(f"{name} not ready on {url} within {timeout:g} s:\n{_tail(log)}")
        time.sleep(0.05)  # a subprocess starting: nothing to await in this sync fixture


def start_node_exporter(root: Path) -> Server:
    (port,) = free_ports(1)
    argv = [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
            *(f"--collector.{c}" for c in NODE_COLLECTORS)]
    return start_server("node exporter", argv, f"http://127.0.0.1:{port}", "/metrics",
                        root / "node-exporter.log")


def start_alertmanager(root: Path, name: str = "alertmanager", *, basic_auth: bool = False) -> Server:
    """One null receiver, group_wait 1s, and one inhibit rule: a firing alert labelled
    inhibit=cause mutes those labelled inhibit=effect with the same `incident` (no other test
    uses these labels). With basic_auth, AUTH_USER/AUTH_PASSWORD are required."""
    home = root / name
    home.mkdir(parents=True, exist_ok=True)
    config = {"route": {"receiver": "null", "group_wait": "1s", "group_interval": "1s",
                        "repeat_interval": "1h"},
              "receivers": [{"name": "null"}],
              "inhibit_rules": [{"source_matchers": ["inhibit=cause"], "target_matchers": ["inhibit=effect"],
                                 "equal": ["incident"]}]}
    (home / "am.yml").write_text(yaml.safe_dump(config))
    (port,) = free_ports(1)
    argv = [ALERTMANAGER, f"--config.file={home / 'am.yml'}", f"--storage.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
            f"--web.external-url=http://127.0.0.1:{port}"]
    headers = None
    if basic_auth:
        (home / "web.yml").write_text(yaml.safe_dump({"basic_auth_users": {AUTH_USER: AUTH_HASH}}))
        argv.append(f"--web.config.file={home / 'web.yml'}")
        headers = auth_header()  # /-/ready wants the credentials too
    return start_server(name, argv, f"http://127.0.0.1:{port}", "/-/ready", home / "am.log", headers=headers)


def auth_header(user: str = AUTH_USER, password: str = AUTH_PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ALWAYS_FIRING_RULES = {"groups": [{"name": "test", "rules": [{
    "alert": ALWAYS_FIRING, "expr": "vector(1)",
    "labels": {"severity": "warning"},
    "annotations": {"summary": "always firing, for the tests"},
}]}]}


def start_prometheus(root: Path, node_exporter: str, *, name: str = "prometheus",
                     alertmanager: str | None = None, rules: Mapping[str, Any] | None = None) -> Server:
    """Scrapes `node_exporter` every 2 s, loads rules/*.yml (reloadable: POST /-/reload),
    and sends alerts to `alertmanager` when given."""
    home = root / name
    (home / "rules").mkdir(parents=True, exist_ok=True)
    if rules is not None:
        (home / "rules" / "base.yml").write_text(yaml.safe_dump(dict(rules), sort_keys=False))
    config: dict[str, Any] = {
        "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL},
        "rule_files": [str(home / "rules" / "*.yml")],
        "scrape_configs": [{"job_name": "node",
                            "static_configs": [{"targets": [node_exporter.split("://", 1)[-1]]}]}],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"api_version": "v2", "static_configs": [
            {"targets": [alertmanager.split("://", 1)[-1]]}]}]}
    (home / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    argv = [PROMETHEUS, f"--config.file={home / 'prometheus.yml'}", f"--storage.tsdb.path={home / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url={url}",
            f"--rules.alert.resend-delay={INTERVAL}", "--web.enable-lifecycle"]
    return start_server(name, argv, url, "/-/ready", home / "prometheus.log")


@dataclass
class PromStack:
    """A node exporter, an Alertmanager, and a Prometheus scraping the one and alerting the other."""

    root: Path
    servers: list[Server] = field(default_factory=list)

    def _server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)

    @property
    def prometheus_url(self) -> str:
        return self._server("prometheus").url

    @property
    def alertmanager_url(self) -> str:
        return self._server("alertmanager").url

    @property
    def node_exporter_url(self) -> str:
        return self._server("node exporter").url

    def start(self) -> None:
        atexit.register(self.stop)
        try:
            self.servers.append(start_node_exporter(self.root))
            self.servers.append(start_alertmanager(self.root))
            self.servers.append(start_prometheus(self.root, self.node_exporter_url,
                                                 alertmanager=self.alertmanager_url,
                                                 rules=ALWAYS_FIRING_RULES))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Prometheus first (it would keep sending alerts), then the others. Idempotent."""
        atexit.unregister(self.stop)
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers the tests use ----------------------------------------------------

    def post_alert(self, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None,
                   *, ends_in: float = 300.0, url: str | None = None,
                   headers: Mapping[str, str] | None = None) -> None:
        """POST one alert to Alertmanager (/api/v2/alerts), firing for `ends_in` seconds; a
        negative `ends_in` resolves it (it ended that long ago)."""
        now = time.time()
        alert = {"labels": dict(labels), "annotations": dict(annotations or {}),
                 "startsAt": _rfc3339(min(now, now + ends_in - 60)), "endsAt": _rfc3339(now + ends_in),
                 "generatorURL": "http://stacktop.test/graph"}
        status, body = http("POST", (url or self.alertmanager_url) + "/api/v2/alerts", [alert],
                            headers=headers)
        assert status == 200, f"POST /api/v2/alerts: HTTP {status}: {body}"

    def am_alerts(self) -> list[dict[str, Any]]:
        return get_json(self.alertmanager_url + "/api/v2/alerts")

    def am_silences(self) -> list[dict[str, Any]]:
        return get_json(self.alertmanager_url + "/api/v2/silences")

    def prom(self, path: str) -> Any:
        """GET a Prometheus API path; its `data` (asserting status success)."""
        answer = get_json(self.prometheus_url + path)
        assert answer.get("status") == "success", answer
        return answer["data"]

    def series_exist(self, expr: str) -> bool:
        """True once an instant query of `expr` has a result (e.g. after the first scrapes)."""
        return bool(self.prom(f"/api/v1/query?query={quote(expr)}")["result"])


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}Z"


def check_rules(path: Path | str) -> subprocess.CompletedProcess[str]:
    """`promtool check rules FILE`: returncode 0 and "SUCCESS" when Prometheus would load it."""
    return subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


@contextlib.contextmanager
def running_prom_stack() -> Iterator[PromStack]:
    stack = PromStack(Path(tempfile.mkdtemp(prefix="stacktop-prom-")))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


_shared: PromStack | None = None
_users = 0


@pytest.fixture(scope="session")
def prom_stack() -> Iterator[PromStack]:
    """One node exporter + Alertmanager + Prometheus per session. Tests leave no silence
    behind (they expire what they create) and pick alert labels of their own.

    Each test module that imports this fixture gets its own session-scoped instance of
    it from pytest, so the stack itself is shared here and stopped by the last user."""
    global _shared, _users
    require_binaries(PROMETHEUS, ALERTMANAGER, NODE_EXPORTER)
    if _shared is None:
        stack = PromStack(Path(tempfile.mkdtemp(prefix="stacktop-prom-")))
        stack.start()
        _shared = stack
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


@pytest.fixture(scope="session")
def alertmanager_with_auth() -> Iterator[Server]:
    """An Alertmanager that wants basic auth (AUTH_USER / AUTH_PASSWORD)."""
    require_binaries(ALERTMANAGER)
    root = Path(tempfile.mkdtemp(prefix="stacktop-am-auth-"))
    server: Server | None = None
    try:
        server = start_alertmanager(root, "alertmanager-auth", basic_auth=True)
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)

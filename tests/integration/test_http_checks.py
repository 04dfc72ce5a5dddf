"""HTTP health checks against a real local aiohttp server (and a TLS one with a
self-signed certificate): response times and nearest-rank percentiles, 500s,
timeouts that do not hold up the poll, redirects not followed, body matches,
expected statuses, consecutive failures, the window, and secrets — header
values and URL passwords — never in a snapshot, an error line or a log.

Polls are driven by calling `poll()` with an injected clock: no sleeping to
wait for time to pass (the server's /slow delay is the only wait)."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from config.model import HttpCheckSettings
from providers.http_checks import (
    DOWN,
    PENDING,
    UP,
    CheckResult,
    HttpChecksProvider,
    HttpCheckStatus,
    _Check,
    mask_url,
    nearest_rank,
)

pytestmark = pytest.mark.integration

TOKEN = "Bearer s3cret-token-0451"
PASSWORD = "hunter2-pw"


class Clock:
    """The provider's wall clock, moved by the test."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Server:
    base: str
    port: int
    flaky: list[int] = field(default_factory=lambda: [200])
    """Statuses /flaky answers, in turn (the last one repeats)."""
    delays: list[float] = field(default_factory=list)
    """Seconds /slow waits without ?delay=, in turn (then 0.3)."""
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at teardown: /hang answers then."""
    hanging: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a request reached /hang."""

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def requests(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.seen if p == path]


def build_app(server: Server) -> web.Application:
    async def record(request: web.Request) -> None:
        server.seen.append((request.path, dict(request.headers)))

    async def ok(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="ok")

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        default = server.delays.pop(0) if server.delays else 0.3
        await asyncio.sleep(float(request.query.get("delay", default)))
        return web.Response(text="slow but fine")

    async def error(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=500, text="boom")

    async def hang(request: web.Request) -> web.Response:
        await record(request)
        server.hanging.set()
        await server.release.wait()
        return web.Response(text="too late")

    async def redirect(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound("/login")

    async def body(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="status: healthy\nversion: 1.4.2\n")

    async def auth(request: web.Request) -> web.Response:
        await record(request)
        if request.headers.get("Authorization") != TOKEN:
            return web.Response(status=401, text="who are you?")
        return web.Response(text="welcome")

    async def flaky(request: web.Request) -> web.Response:
        await record(request)
        status = server.flaky.pop(0) if len(server.flaky) > 1 else server.flaky[0]
        return web.Response(status=status, text=str(status))

    async def echo(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text=f"{request.method} {await request.text()}")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/slow", slow)
    app.router.add_get("/error", error)
    app.router.add_get("/hang", hang)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/body", body)
    app.router.add_get("/auth", auth)
    app.router.add_get("/flaky", flaky)
    app.router.add_route("*", "/echo", echo)
    return app


async def start(server_ssl: ssl.SSLContext | None = None) -> tuple[Server, web.AppRunner]:
    server = Server("", 0)
    runner = web.AppRunner(build_app(server), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    port = runner.addresses[0][1]
    server.port = port
    server.base = f"{'https' if server_ssl else 'http'}://127.0.0.1:{port}"
    return server, runner


async def stop(server: Server, runner: web.AppRunner) -> None:
    server.release.set()
    await runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv, runner = await start()
    try:
        yield srv
    finally:
        await stop(srv, runner)


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*self_signed(tmp_path))
    srv, runner = await start(context)
    try:
        yield srv
    finally:
        await stop(srv, runner)


def self_signed(tmp_path: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no CA signed."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def check(name: str, url: str, **kw: object) -> HttpCheckSettings:
    kw.setdefault("interval", 1.0)
    kw.setdefault("timeout", 2.0)
    return HttpCheckSettings(name=name, url=url, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def make() -> AsyncIterator[object]:
    """Providers built in a test, closed after it (their sessions)."""
    made: list[HttpChecksProvider] = []

    def build(*checks: HttpCheckSettings, clock: Clock | None = None, **kw: object) -> HttpChecksProvider:
        provider = HttpChecksProvider(checks, clock=clock or Clock(), **kw)  # type: ignore[arg-type]
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.close()


def by_name(snapshot: object, name: str) -> HttpCheckStatus:
    return next(c for c in snapshot.checks if c.name == name)  # type: ignore[attr-defined]


# -- percentiles -----------------------------------------------------------------------------------


def test_nearest_rank_percentiles_are_measured_values() -> None:
    hundred = [float(v) for v in range(1, 101)]
    assert nearest_rank(hundred, 95) == 95.0
    assert nearest_rank(hundred, 99) == 99.0
    assert nearest_rank(hundred, 50) == 50.0
    four = [0.1, 0.2, 0.3, 0.4]
    assert nearest_rank(four, 95) == 0.4  # rank ceil(3.8) = 4
    assert nearest_rank(four, 50) == 0.2  # rank ceil(2.0) = 2
    assert nearest_rank(four, 0) == 0.1
    assert nearest_rank([7.0], 99) == 7.0
    assert nearest_rank([], 95) is None


def test_window_statistics_over_known_samples() -> None:
    """20 results: 18 completed (10..180 ms) and 2 timeouts; the statistics exactly."""
    state = _Check(check("api", "http://127.0.0.1/", window=60.0), str)
    times = [0.01 * k for k in range(1, 19)]
    for k, t in enumerate(times):
        state.record(CheckResult(True, 100.0 + k, 200, t))
    state.record(CheckResult(False, 119.0, error="timed out after 2 s"))
    state.record(CheckResult(False, 120.0, error="timed out after 2 s"))
    status = state.status(120.0)
    assert status.samples == 20 and status.failures == 2
    assert status.latency_avg == pytest.approx(sum(times) / 18)
    assert status.latency_p95 == pytest.approx(0.18)  # rank ceil(17.1) = 18 of 18
    assert status.latency_p99 == pytest.approx(0.18)
    assert status.error_rate == pytest.approx(0.1)
    assert status.consecutive_failures == 2
    assert status.state == DOWN and status.response_time is None
    assert status.recent == pytest.approx(tuple(times))
    # 60 s later the first ten completed results have left the window.
    later = state.status(100.0 + 9 + 60.0 + 0.5)
    assert later.samples == 10
    assert later.latency_p95 == pytest.approx(0.18)
    assert later.latency_avg == pytest.approx(sum(times[10:]) / 8)


# -- results against the server ----------------------------------------------------------------------


async def test_ok_check_records_status_and_response_time(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("web", server.url("/ok")))
    snap = await provider.poll()
    web_check = by_name(snap, "web")
    assert (web_check.state, web_check.status, web_check.error) == (UP, 200, "")
    assert web_check.response_time is not None and 0 < web_check.response_time < 2
    assert (web_check.samples, web_check.error_rate, web_check.consecutive_failures) == (1, 0.0, 0)
    assert web_check.latency_avg == web_check.latency_p95 == web_check.latency_p99 == web_check.response_time
    assert server.requests("/ok")[0]["User-Agent"] == "stacktop-http-check"


async def test_slow_responses_are_timed_to_the_full_body(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    """Delays of 0, 0.1, 0.2 and 0.3 s: each time at least its delay, and the
    percentiles are the slowest (nearest rank over four)."""
    clock = Clock()
    server.delays[:] = [0.0, 0.1, 0.2, 0.3]
    provider = make(check("slow", server.url("/slow")), clock=clock)
    measured = []
    for delay in (0.0, 0.1, 0.2, 0.3):
        snap = await provider.poll()
        clock.advance(1.0)
        status = by_name(snap, "slow")
        assert status.response_time is not None and status.response_time >= delay
        measured.append(status.response_time)
    assert status.samples == 4 and status.state == UP
    assert status.recent == tuple(measured)
    assert status.latency_p95 == status.latency_p99 == max(measured) >= 0.3
    assert status.latency_avg == pytest.approx(sum(measured) / 4)
    assert status.latency_avg >= 0.15


async def test_a_500_is_a_failure_with_its_status(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("any", server.url("/error")),
                    check("strict", server.url("/error"), expect_status=(200,)),
                    check("either", server.url("/error"), expect_status=(200, 204)))
    snap = await provider.poll()
    assert by_name(snap, "any").error == "HTTP 500 (expected 2xx or 3xx)"
    assert by_name(snap, "strict").error == "HTTP 500 (expected 200)"
    assert by_name(snap, "either").error == "HTTP 500 (expected 200 or 204)"
    strict = by_name(snap, "strict")
    assert (strict.state, strict.status) == (DOWN, 500)
    assert (strict.error_rate, strict.consecutive_failures) == (1.0, 1)
    assert strict.response_time is not None  # a response came: it has a time
    assert snap.metrics()["strict.up"] == 0.0
    assert snap.metrics()["strict.error_rate"] == 1.0


async def test_consecutive_failures_count_up_and_reset_and_the_error_rate(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    server.flaky[:] = [200, 500, 503, 500, 200]
    clock = Clock()
    provider = make(check("flaky", server.url("/flaky")), clock=clock)
    seen = []
    for _ in range(5):
        status = by_name(await provider.poll(), "flaky")
        seen.append((status.state, status.consecutive_failures))
        clock.advance(1.0)
    assert seen == [(UP, 0), (DOWN, 1), (DOWN, 2), (DOWN, 3), (UP, 0)]
    assert status.error_rate == pytest.approx(0.6)
    assert (status.samples, status.failures) == (5, 3)


async def test_a_timeout_is_reported_promptly_and_other_checks_still_answer(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("stuck", server.url("/hang"), timeout=0.5), check("web", server.url("/ok")))
    assert provider.timeout == 2.0 + 5.0  # the longest check timeout, and room to report it
    started = time.monotonic()
    snap = await provider.poll()
    elapsed = time.monotonic() - started
    assert server.hanging.is_set()
    assert 0.45 <= elapsed < 1.5  # the check's timeout, not the provider's
    stuck = by_name(snap, "stuck")
    assert (stuck.state, stuck.error, stuck.status, stuck.response_time) == (
        DOWN, "timed out after 0.5 s", None, None)
    assert stuck.latency_p95 is None and stuck.recent == ()
    assert by_name(snap, "web").state == UP
    # No response time to report: those metrics are left out, not zero.
    metrics = snap.metrics()
    assert "stuck.response_time" not in metrics and "stuck.latency_p95" not in metrics
    assert metrics["stuck.up"] == 0.0 and metrics["stuck.consecutive_failures"] == 1.0


async def test_connection_refused(make) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = make(check("gone", f"http://127.0.0.1:{port}/"))
    status = by_name(await provider.poll(), "gone")
    assert (status.state, status.error) == (DOWN, "connection refused")


async def test_redirects_are_not_followed(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("loose", server.url("/redirect")),
                    check("strict", server.url("/redirect"), expect_status=(200,)))
    snap = await provider.poll()
    assert (by_name(snap, "loose").state, by_name(snap, "loose").status) == (UP, 302)
    assert by_name(snap, "strict").error == "HTTP 302 to /login (expected 200)"
    assert server.requests("/login") == []


async def test_body_match_passes_and_fails(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("healthy", server.url("/body"), body_match=r"status: health(y|ier)"),
                    check("ready", server.url("/body"), body_match="ready"),
                    check("broken", server.url("/body"), body_match="(unclosed"))
    snap = await provider.poll()
    assert by_name(snap, "healthy").state == UP
    ready = by_name(snap, "ready")
    assert (ready.state, ready.status, ready.error) == (DOWN, 200, "body does not match /ready/")
    broken = by_name(snap, "broken")
    assert broken.state == DOWN and broken.error.startswith("body_match /(unclosed/ is not a valid regular")


async def test_method_and_body_are_sent(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("post", server.url("/echo"), method="post", body='{"ping": 1}',
                          body_match=r'^POST \{"ping": 1\}$'))
    status = by_name(await provider.poll(), "post")
    assert (status.state, status.method) == (UP, "POST")


async def test_headers_are_sent_but_never_shown_or_logged(server: Server, make, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    provider = make(check("api", server.url("/auth"), headers=(("Authorization", TOKEN),)),
                    check("wrong", server.url("/auth"), headers=(("Authorization", TOKEN + "x"),),
                          expect_status=(200,)))
    snap = await provider.poll()
    assert by_name(snap, "api").state == UP
    assert TOKEN in [h.get("Authorization") for h in server.requests("/auth")]
    wrong = by_name(snap, "wrong")
    assert wrong.error == "HTTP 401 (expected 200)"
    assert by_name(snap, "api").header_names == ("Authorization",)
    shown = json.dumps(snap.to_dict()) + repr(snap) + caplog.text
    assert "s3cret" not in shown


async def test_url_password_and_secret_query_values_are_masked(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    url = f"http://admin:{PASSWORD}@127.0.0.1:{server.port}/ok?token=abc123tok&page=2"
    provider = make(check("basic", url), check("tenant", server.url("/slow?delay=0&tenant=acme-7")),
                    redact=lambda text: text.replace("acme-7", "***"))
    snap = await provider.poll()
    assert by_name(snap, "basic").url == f"http://admin:***@127.0.0.1:{server.port}/ok?token=***&page=2"
    assert by_name(snap, "basic").state == UP  # the password was sent (as basic auth)
    assert "Basic " in server.requests("/ok")[0]["Authorization"]
    assert by_name(snap, "tenant").url == server.url("/slow?delay=0&tenant=***")
    shown = json.dumps(snap.to_dict())
    assert PASSWORD not in shown and "abc123tok" not in shown and "acme-7" not in shown


def test_mask_url() -> None:
    assert mask_url("https://u:p@h.example:8443/x?api_key=1&q=2") == "https://u:***@h.example:8443/x?api_key=***&q=2"
    assert mask_url("https://h.example/health") == "https://h.example/health"
    assert mask_url("http://u@h/") == "http://u@h/"  # a user alone is no secret
    assert mask_url("http://h/?monkey=1&signup=2&X-Amz-Signature=3") == "http://h/?monkey=1&signup=2&X-Amz-Signature=***"


async def test_tls_verification(tls_server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("strict", tls_server.url("/ok")),
                    check("lax", tls_server.url("/ok"), verify_tls=False))
    snap = await provider.poll()
    strict = by_name(snap, "strict")
    assert strict.state == DOWN
    assert strict.error == "TLS: certificate verify failed (self-signed certificate)"
    assert by_name(snap, "lax").state == UP


# -- scheduling and the window --------------------------------------------------------------------


async def test_each_poll_runs_only_the_checks_that_are_due(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider = make(check("fast", server.url("/ok"), interval=1.0),
                    check("slow", server.url("/body"), interval=3.0), clock=clock)
    assert provider.interval == 1.0
    for _ in range(7):  # t = 0 .. 6
        snap = await provider.poll()
        clock.advance(1.0)
    assert len(server.requests("/ok")) == 7
    assert len(server.requests("/body")) == 3  # t = 0, 3, 6
    # A poll a little early (runtime jitter) still runs what is due before the next one.
    clock.advance(-0.1)
    await provider.poll()
    assert len(server.requests("/ok")) == 8
    assert by_name(snap, "slow").samples == 3


async def test_r_runs_every_check_once_even_those_not_due(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider = make(check("fast", server.url("/ok"), interval=1.0),
                    check("hourly", server.url("/body"), interval=3600.0), clock=clock)
    await provider.poll()
    clock.advance(1.0)
    await provider.poll()
    assert [len(server.requests(p)) for p in ("/ok", "/body")] == [2, 1]
    provider.refresh_requested()  # what the runtime calls for the key r
    clock.advance(1.0)
    snap = await provider.poll()
    assert [len(server.requests(p)) for p in ("/ok", "/body")] == [3, 2]
    assert by_name(snap, "hourly").samples == 2
    clock.advance(1.0)
    await provider.poll()  # then each check keeps its own interval again
    assert [len(server.requests(p)) for p in ("/ok", "/body")] == [4, 2]


async def test_a_check_never_runs_twice_at_once_and_is_pending_until_it_answers(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider = make(check("stuck", server.url("/hang"), timeout=0.5), clock=clock)
    first = asyncio.create_task(provider.poll())
    await asyncio.wait_for(server.hanging.wait(), 5)
    clock.advance(1.0)  # due again, but still running
    second = await provider.poll()
    assert by_name(second, "stuck").state == PENDING
    assert by_name(second, "stuck").metrics() == {}
    assert (await first).checks[0].error == "timed out after 0.5 s"
    assert len(server.requests("/hang")) == 1


async def test_results_leave_the_window(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    server.flaky[:] = [500, 200]
    provider = make(check("api", server.url("/flaky"), window=10.0, interval=5.0), clock=clock)
    await provider.poll()  # t=0: a failure
    clock.advance(5.0)
    await provider.poll()  # t=5
    clock.advance(7.0)
    api = by_name(await provider.poll(), "api")  # t=12: the failure at t=0 has left
    assert (api.samples, api.failures, api.error_rate) == (2, 0, 0.0)
    clock.advance(30.0)
    api = by_name(await provider.poll(), "api")  # t=42: only this one
    assert (api.samples, api.state) == (1, UP)


async def test_close_releases_the_session_and_a_later_poll_opens_another(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    provider = make(check("web", server.url("/ok")), clock=clock)
    await provider.poll()
    await provider.close()
    assert provider._session is None
    clock.advance(1.0)
    assert by_name(await provider.poll(), "web").state == UP


# -- what rules see ----------------------------------------------------------------------------------


async def test_alert_samples_name_each_check(server: Server, make) -> None:  # type: ignore[no-untyped-def]
    provider = make(check("api", server.url("/ok")), check("db", server.url("/error")))
    snap = await provider.poll()
    samples = {(s.name, s.labels): s.value for s in snap.alert_samples("http")}
    assert samples[("http.api.up", (("check", "api"),))] == 1.0
    assert samples[("http.db.up", (("check", "db"),))] == 0.0
    assert samples[("http.db.error_rate", (("check", "db"),))] == 1.0
    assert samples[("http.db.consecutive_failures", (("check", "db"),))] == 1.0
    assert {name for name, _ in samples if name.startswith("http.api.")} == {
        f"http.api.{k}" for k in ("up", "response_time", "latency_avg", "latency_p95", "latency_p99",
                                  "error_rate", "consecutive_failures")}
    assert all(s.at == snap.taken_at for s in snap.alert_samples("http"))
    # The fleet figures are for the view's sparklines, not rules.
    assert snap.metrics()["checks_up"] == 1.0 and snap.metrics()["checks_down"] == 1.0
    assert not any(s.name.startswith("http.checks_") for s in snap.alert_samples("http"))


def test_check_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        HttpChecksProvider([check("a", "http://x/"), check("a", "http://y/")])

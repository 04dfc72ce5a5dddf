"""HTTP health checks: one provider ("http") runs every configured check.

The provider polls at the shortest check interval; each poll runs only the checks
that are due, concurrently, and never one check twice at once. A failed check is
data (ok=False and one line saying why), never a failed poll.

Measured per request: the time to the full body, on a fresh connection (DNS,
connect and TLS included, as a user's first request would see them; a pooled
connection would hide a listener that stopped accepting). Redirects are not
followed: a 302 to a login page shows as a 302.

Over each check's `window`: avg, p95 and p99 of the response times of completed
requests (a response was read, whatever its status; timeouts and refused
connections have no response time), using nearest-rank percentiles (the value
at rank ceil(p/100 * n) of the sorted times: always a time that was measured);
the error rate (failed / all results); consecutive failures (reset by a success).

Secrets: header values and request bodies are never in a snapshot, an error line
or a log; a URL's password (and secret-looking query values) is masked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import re
import time
from collections import deque
from collections.abc import Callable, Sequence

import aiohttp

from config.model import HttpCheckSettings
from providers.base import Provider

# Re-exported: the provider's public names live in the aiohttp-free model.
from providers.http_model import (  # noqa: F401
    DOWN,
    MASK,
    PENDING,
    SECRET_QUERY,
    UP,
    CheckResult,
    HttpChecksSnapshot,
    HttpCheckStatus,
    mask_url,
    nearest_rank,
)

MAX_RESULTS = 10_000
"""Results kept per check, whatever the window (an 0.1 s interval over an hour)."""
RECENT = 60
"""Response times a snapshot carries per check, for the sparklines."""
MAX_BODY = 1 << 20
"""Bytes of a body kept for `body_match`; the rest is read (it is timed) and dropped."""
USER_AGENT = "stacktop-http-check"


class _Check:
    """A check's settings and what it has seen."""

    def __init__(self, settings: HttpCheckSettings, redact: Callable[[str], str]) -> None:
        self.settings = settings
        self.url = redact(mask_url(settings.url))
        self.results: deque[CheckResult] = deque(maxlen=MAX_RESULTS)
        """The results within the window (pruned when a status is taken)."""
        self.last: CheckResult | None = None
        """Kept even when it left the window: a check slower than its window still has a state."""
        self.consecutive_failures = 0
        self.next_due: float | None = None
        self.pattern: re.Pattern[str] | None = None
        self.pattern_error = ""
        if settings.body_match is not None:
            try:
                self.pattern = re.compile(settings.body_match)
            except re.error as exc:
                self.pattern_error = (f"body_match /{settings.body_match}/ is not a valid regular "
                                      f"expression: {exc}")

    def record(self, result: CheckResult) -> None:
        self.results.append(result)
        self.last = result
        self.consecutive_failures = 0 if result.ok else self.consecutive_failures + 1

    def status(self, now: float) -> HttpCheckStatus:
        s = self.settings
        while self.results and self.results[0].at < now - s.window:
            self.results.popleft()
        pending = HttpCheckStatus(
            name=s.name, url=self.url, method=s.method.upper(), expect=expect_text(s),
            body_match=s.body_match, header_names=tuple(k for k, _ in s.headers), interval=s.interval,
            timeout=s.timeout, window=s.window, state=PENDING)
        last = self.last
        if last is None:  # never checked yet
            return pending
        times = [r.response_time for r in self.results if r.response_time is not None]
        ranked = sorted(times)
        failures = sum(1 for r in self.results if not r.ok)
        return dataclasses.replace(
            pending, state=UP if last.ok else DOWN, status=last.status, response_time=last.response_time,
            error=last.error, checked_at=last.at, latency_avg=sum(times) / len(times) if times else None,
            latency_p95=nearest_rank(ranked, 95), latency_p99=nearest_rank(ranked, 99),
            error_rate=failures / len(self.results) if self.results else None,
            consecutive_failures=self.consecutive_failures, samples=len(self.results), failures=failures,
            recent=tuple(times[-RECENT:]))


class HttpChecksProvider(Provider):
    """Every configured HTTP health check, as one provider named "http"."""

    def __init__(self, checks: Sequence[HttpCheckSettings], *, redact: Callable[[str], str] = str,
                 clock: Callable[[], float] = time.time) -> None:
        names = [c.name for c in checks]
        if len(set(names)) != len(names):
            raise ValueError("HTTP check names must be unique")
        interval = min((c.interval for c in checks), default=30.0)
        super().__init__("http", interval, max((c.timeout for c in checks), default=10.0) + 5.0)
        self._redact = redact
        self._clock = clock
        self._checks = [_Check(c, redact) for c in checks]
        self._running: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._everything_due = False

    def refresh_requested(self) -> None:
        """`r`: the next poll runs every check, not only those whose interval is up."""
        self._everything_due = True

    def _due(self, check: _Check, now: float) -> bool:
        """Due, or due sooner than half a poll interval from now (the poll nearest to
        its time runs it): a 30 s check on a 10 s poll with jitter runs every third
        poll, not every fourth."""
        if check.settings.name in self._running:
            return False
        return check.next_due is None or check.next_due - now < self.interval / 2

    async def poll(self) -> HttpChecksSnapshot:
        now = self._clock()
        everything, self._everything_due = self._everything_due, False
        due = [c for c in self._checks if (everything and c.settings.name not in self._running)
               or self._due(c, now)]
        for check in due:
            self._running.add(check.settings.name)
            check.next_due = now + check.settings.interval
        try:
            outcomes = await asyncio.gather(*(self._run(c) for c in due), return_exceptions=True)
        finally:
            self._running.difference_update(c.settings.name for c in due)
        for check, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, CheckResult):
                check.record(outcome)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # a bug: a check that fails gives a result, not an exception
        taken = self._clock()
        return HttpChecksSnapshot(taken_at=taken, checks=tuple(c.status(taken) for c in self._checks))

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True, limit=0),
                cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": USER_AGENT})
        return self._session

    async def _run(self, check: _Check) -> CheckResult:
        s = check.settings
        if check.pattern_error:
            return CheckResult(False, self._clock(), error=self._redact(check.pattern_error))
        started = time.perf_counter()
        try:
            async with self._client().request(
                s.method.upper(), s.url, headers=dict(s.headers), data=s.body, allow_redirects=False,
                ssl=s.verify_tls, timeout=aiohttp.ClientTimeout(total=s.timeout),
            ) as response:
                body = bytearray()
                async for chunk in response.content.iter_chunked(1 << 16):
                    if len(body) < MAX_BODY:
                        body += chunk[: MAX_BODY - len(body)]
                elapsed = time.perf_counter() - started
                status, location = response.status, response.headers.get("Location", "")
                charset = response.charset or "utf-8"
        except TimeoutError:
            return CheckResult(False, self._clock(), error=f"timed out after {s.timeout:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return CheckResult(False, self._clock(), error=self._redact(describe_failure(exc)))
        error = self._judge(check, status, location, bytes(body), charset)
        return CheckResult(not error, self._clock(), status, elapsed, self._redact(error))

    @staticmethod
    def _judge(check: _Check, status: int, location: str, body: bytes, charset: str) -> str:
        """"" when the response passes, else one line saying why not."""
        s = check.settings
        passed = status in s.expect_status if s.expect_status else 200 <= status < 400
        if not passed:
            where = f" to {mask_url(location)}" if location and 300 <= status < 400 else ""
            return f"HTTP {status}{where} (expected {expect_text(s)})"
        if check.pattern is not None:
            try:
                text = body.decode(charset, errors="replace")
            except LookupError:  # a charset Python does not know
                text = body.decode("utf-8", errors="replace")
            if not check.pattern.search(text):
                return f"body does not match /{check.pattern.pattern}/"
        return ""

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def expect_text(settings: HttpCheckSettings) -> str:
    """What passes, in the words of an error line: "200 or 204", "2xx or 3xx"."""
    return " or ".join(map(str, settings.expect_status)) if settings.expect_status else "2xx or 3xx"


def describe_failure(exc: BaseException) -> str:
    """One line for a request that got no response; never the URL (it may hold secrets)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        reason = getattr(exc.certificate_error, "verify_message", "") or ""
        return "TLS: certificate verify failed" + (f" ({reason})" if reason else "")
    if isinstance(exc, aiohttp.ClientSSLError):
        reason = getattr(getattr(exc, "os_error", None), "reason", None) or "handshake failed"
        return f"TLS: {str(reason).lower().replace('_', ' ')}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve host {exc.host}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "connection refused"
        reason = exc.os_error.strerror or type(exc.os_error).__name__
        return f"cannot connect to {exc.host}:{exc.port}: {reason}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without a response"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the response body was cut short"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid URL (check the scheme and host)"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"bad HTTP response: {exc.message}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__

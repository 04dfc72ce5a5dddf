"""DemoBackend for the Alerts tab: three services to health-check and a webhook
receiver for the notifications, on one local aiohttp server.

- `shop` answers 200 quickly;
- `api` answers 200 with a latency that drifts between 0.1 s and 1.6 s;
- `payments` answers 503: the default rule HttpCheckFailing fires after two checks;
- POST /hooks/stacktop is the demo's notification channel: it keeps what it
  receives, so the Alerts tab's notification log shows real sends (HTTP 200).

With the demo's other backends the default rules also fire on real demo data
(the analytics-db backup breaches its RPO). Alert state and the notification
log go to a temporary directory removed on stop: the demo never writes the
user's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import os
import shutil
import tempfile
import time
from typing import Any

from aiohttp import web

from config.model import ChannelSettings, HttpCheckSettings, RouteSettings, Settings
from tui.demo.loop_thread import LoopThread

RECEIVER_PATH = "/hooks/stacktop"
CHANNEL = "demo-receiver"


class DemoServices:
    """The aiohttp app: health endpoints and the receiver (runs on the backend's loop)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.received: list[dict[str, Any]] = []
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/shop/health", self._shop)
        app.router.add_get("/api/health", self._api)
        app.router.add_get("/payments/health", self._payments)
        app.router.add_post(RECEIVER_PATH, self._receive)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _shop(self, request: web.Request) -> web.Response:
        await asyncio.sleep(0.02)
        return web.json_response({"status": "ok"})

    def api_latency(self) -> float:
        """Seconds: a slow wave between 0.1 and 1.6 over ten minutes."""
        return 0.85 + 0.75 * math.sin(self._clock() / 600 * 2 * math.pi)

    async def _api(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.api_latency())
        return web.json_response({"status": "ok"})

    async def _payments(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "down", "reason": "card processor unreachable"}, status=503)

    async def _receive(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="expected JSON")
        self.received.append(body)
        del self.received[:-200]
        return web.Response(text="ok")


class AlertsDemoBackend:
    """DemoBackend (see tui/demo/harness.py) for HTTP checks and notifications."""

    name = "alerts"

    def __init__(self) -> None:
        self.services = DemoServices()
        self._loop = LoopThread("alerts-demo-services")
        self._dir: str | None = None

    def start(self) -> None:
        try:
            self._loop.start()
            self._loop.run(self.services.start())
            self._dir = tempfile.mkdtemp(prefix="stacktop-demo-alerts-")
        except Exception:
            self.stop()
            raise

    def received(self) -> list[dict[str, Any]]:
        """What the receiver got so far (a copy, taken on the server's loop)."""
        return self._loop.call(lambda: list(self.services.received))

    def stop(self) -> None:
        if self._loop.running:
            with contextlib.suppress(Exception):  # stopping must not raise
                self._loop.run(self.services.stop(), timeout=10.0)
        self._loop.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def configure(self, settings: Settings) -> Settings:
        if self._dir is None or not self.services.url:
            raise RuntimeError("AlertsDemoBackend.configure() before start()")
        base = self.services.url
        checks = (
            HttpCheckSettings("shop", f"{base}/shop/health", interval=5.0, timeout=3.0),
            HttpCheckSettings("api", f"{base}/api/health", interval=5.0, timeout=3.0),
            HttpCheckSettings("payments", f"{base}/payments/health", interval=5.0, timeout=3.0),
        )
        names = {c.name for c in checks}
        kept = tuple(c for c in settings.providers.http.checks if c.name not in names)
        http = dataclasses.replace(settings.providers.http, checks=kept + checks)
        channel = ChannelSettings(CHANNEL, "webhook", url=f"{base}{RECEIVER_PATH}", timeout=5.0)
        route = RouteSettings(channels=(CHANNEL,), group_by=("alertname",), group_wait=2.0,
                              group_interval=30.0, repeat_interval=3600.0, continue_=True)
        alerts = dataclasses.replace(
            settings.alerts,
            state_file=os.path.join(self._dir, "alerts.db"),
            notification_log=os.path.join(self._dir, "notifications.jsonl"),
            evaluation_interval=min(settings.alerts.evaluation_interval, 2.0),
            channels=(*settings.alerts.channels, channel),
            routes=(route, *settings.alerts.routes),
        )
        return dataclasses.replace(settings, providers=dataclasses.replace(settings.providers, http=http),
                                   alerts=alerts)

"""`stacktop agent`: the providers, the rule engine and the notifications with no
UI, for systemd or a Kubernetes Deployment.

It runs until SIGTERM or SIGINT, then closes every provider (the notifier
drains in-flight sends) and exits 0. Alert transitions, provider failures and
recoveries go to stderr as one line each (the journal or `kubectl logs`) as
well as to the JSON log file; secrets are redacted from both.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from providers.runtime import Runtime

log = logging.getLogger("stacktop.agent")


class _Redacting(logging.Formatter):
    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record).splitlines()[0])


def log_to_stderr(redact: Callable[[str], str]) -> None:
    """Info and above also to stderr, one line per record (no tracebacks)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting(redact))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


async def run_agent(runtime: Runtime, describe: str, stop: asyncio.Event | None = None) -> None:
    """Poll until `stop` is set (by SIGTERM/SIGINT when not given)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    errors: dict[str, str | None] = {}

    def watch(name: str) -> None:
        state = runtime.states.get(name)
        if state is None:
            return
        before = errors.get(name)
        if state.last_error != before:
            if state.last_error:
                log.warning("provider %s failing: %s", name, state.last_error)
            elif before:
                log.info("provider %s recovered", name)
            errors[name] = state.last_error

    unsubscribe = runtime.subscribe(watch)
    log.info("stacktop agent started: %s", describe)
    runtime.start()
    try:
        await stop.wait()
    finally:
        log.info("stacktop agent stopping")
        unsubscribe()
        await runtime.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

"""DemoBackend for the HA tab: a simulated Patroni cluster and a simulated MariaDB pair.

Both simulators run in one daemon thread with its own event loop, on free
ports of 127.0.0.1. `configure` adds two clusters to `settings.ha`: "demo"
(Patroni, the three members' REST URLs) and "shop" (MariaDB primary and
replica, reached as the monitoring user with a password made up for this
run). The HA timeline goes to a temporary directory removed on stop: the
demo never writes the user's state.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Coroutine
from typing import Any, TypeVar

from config.model import DbMembersSettings, HaClusterSettings, PatroniSettings, Settings
from tui.demo.loop_thread import START_TIMEOUT, LoopThread

log = logging.getLogger(__name__)

PATRONI_CLUSTER = "demo"
MARIADB_CLUSTER = "shop"
MONITOR_USER = "monitor"
T = TypeVar("T")


class HaDemoBackend:
    """DemoBackend (see tui/demo/harness.py) for the Patroni and MariaDB simulators."""

    name = "ha"

    def __init__(self, *, seed: int = 7, switchover_every: float | None = 240.0, tick: float = 1.0,
                 switchover_delay: float = 1.2) -> None:
        self.seed = seed
        self.switchover_every = switchover_every
        self.tick = tick
        self.switchover_delay = switchover_delay
        self.patroni: Any = None
        self.mysql: Any = None
        self.patroni_urls: tuple[str, ...] = ()
        self.mariadb_dsns: tuple[str, ...] = ()
        self.timeline_file = ""
        self._dir: str | None = None
        self._loop = LoopThread("ha-demo-simulators")

    def start(self) -> None:
        from tui.demo.mysql_sim import MysqlSim
        from tui.demo.patroni_sim import PatroniCluster, PatroniSim

        try:
            self._loop.start()
            self._dir = tempfile.mkdtemp(prefix="stacktop-demo-ha-")
            self.timeline_file = os.path.join(self._dir, "ha-timeline.jsonl")
            cluster = PatroniCluster(scope=PATRONI_CLUSTER, seed=self.seed,
                                     switchover_every=self.switchover_every)
            self.patroni = PatroniSim(cluster, tick=self.tick, switchover_delay=self.switchover_delay)
            self.patroni_urls = tuple(self._run(self.patroni.start()))
            self.mysql = MysqlSim(user=MONITOR_USER, seed=self.seed, tick=self.tick)
            self.mariadb_dsns = tuple(self._run(self.mysql.start()))
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        """Simulators, then the loop and its thread, then the temporary directory; never raises."""
        if self._loop.running:
            for part, what in ((self.mysql, "MariaDB simulator"), (self.patroni, "Patroni simulator")):
                if part is None:
                    continue
                try:
                    self._run(part.stop(), timeout=10.0)
                except Exception:
                    log.exception("demo %s did not stop", what)
        self._loop.stop()
        self.patroni = self.mysql = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def configure(self, settings: Settings) -> Settings:
        if self.patroni is None or self.mysql is None:
            raise RuntimeError("HaDemoBackend.configure() before start()")
        password = self.mysql.password
        demo = (
            HaClusterSettings(name=PATRONI_CLUSTER, engine="patroni",
                              patroni=PatroniSettings(urls=self.patroni_urls)),
            HaClusterSettings(name=MARIADB_CLUSTER, engine="mariadb",
                              db=DbMembersSettings(members=self.mariadb_dsns, password=password)),
        )
        names = {c.name for c in demo}
        kept = tuple(c for c in settings.ha.clusters if c.name not in names)
        ha = dataclasses.replace(settings.ha, timeline_file=self.timeline_file, clusters=kept + demo)
        return dataclasses.replace(settings, ha=ha, secrets=settings.secrets | {password})

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = START_TIMEOUT) -> T:
        """Run `coro` on the simulators' loop and wait for its result."""
        return self._loop.run(coro, timeout)

    def call(self, fn: Any, *args: Any) -> Any:
        """Call `fn(*args)` on the simulators' loop (their state belongs to that thread)."""
        return self._loop.call(fn, *args)

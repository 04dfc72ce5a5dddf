"""DemoBackend: the test Kubernetes API serving a generated cluster that changes.

The same provider code as production reads it through a kubeconfig written to
a private temporary directory; only the endpoint differs. The cluster's
"life" (restarts, rollouts, log lines, metrics) and a small controller that
honours scale, restart, delete and cordon keep every view moving and make
the console's actions visible.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from config.model import KubernetesSettings, Settings

log = logging.getLogger(__name__)

DEMO_CONTEXT = "demo"
DEMO_TOKEN = "stacktop-demo-token"


def write_demo_kubeconfig(path: Path, url: str, token: str, context: str = DEMO_CONTEXT) -> Path:
    """A minimal kubeconfig, readable only by this user (it holds a token)."""
    text = (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {context}\n  cluster:\n    server: {url}\n"
        f"users:\n- name: {context}\n  user:\n    token: {token}\n"
        f"contexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {context}\n"
        f"current-context: {context}\n"
    )
    path.touch(mode=0o600)
    path.write_text(text)
    return path


class KubeDemoBackend:
    """DemoBackend for Kubernetes (see tui/demo/harness.py)."""

    name = "kubernetes (test API)"

    def __init__(self, *, seed: int = 7, life_period: float = 2.0) -> None:
        self.seed = seed
        self.life_period = life_period
        self.server: Any = None
        self.life: Any = None
        self.kubeconfig: Path | None = None
        self._dir: str | None = None

    def start(self) -> None:
        from tui.demo.kube_api.cluster import ClusterLife, generate_cluster, seed_logs
        from tui.demo.kube_api.server import KubeApiServer

        try:
            self.server = KubeApiServer(token=DEMO_TOKEN)
            url = self.server.start()
            objects = generate_cluster(seed=self.seed, now=time.time())
            self.server.put_many(objects)
            seed_logs(self.server, objects)
            self._dir = tempfile.mkdtemp(prefix="stacktop-demo-kube-")
            self.kubeconfig = write_demo_kubeconfig(Path(self._dir) / "kubeconfig", url, DEMO_TOKEN)
            self.life = ClusterLife(self.server, seed=self.seed, period=self.life_period)
            self.life.start()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        """Life first (it writes to the server), then the server; logs, never raises."""
        for part, what in ((self.life, "cluster life"), (self.server, "test API server")):
            if part is None:
                continue
            try:
                part.stop()
            except Exception:
                log.exception("demo %s did not stop", what)
        self.life = self.server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = self.kubeconfig = None

    def configure(self, settings: Settings) -> Settings:
        if self.kubeconfig is None:
            raise RuntimeError("KubeDemoBackend.configure() before start()")
        kube = KubernetesSettings(kubeconfig=(str(self.kubeconfig),), contexts=(DEMO_CONTEXT,),
                                  metrics_interval=5.0)
        providers = dataclasses.replace(settings.providers, kubernetes=kube)
        return dataclasses.replace(settings, providers=providers,
                                   secrets=settings.secrets | {DEMO_TOKEN})

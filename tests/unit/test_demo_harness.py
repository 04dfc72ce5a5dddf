"""The demo harness starts backends, points settings at them and always stops them."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

import pytest

from config import load_settings
from config.model import Settings
from tui.demo.harness import DemoError, DemoHarness


class LoopbackBackend:
    """A real listening socket on 127.0.0.1, like the embedded servers later issues add."""

    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name = name
        self.log = log
        self.fail = fail
        self.sock: socket.socket | None = None
        self.port = 0

    def start(self) -> None:
        if self.fail:
            raise OSError("address already in use")
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        self.log.append(f"start {self.name}")

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()  # type: ignore[union-attr]
            conn.sendall(b"demo\n")
            conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        if self.sock:
            self.sock.close()
        self.log.append(f"stop {self.name}")

    def configure(self, settings: Settings) -> Settings:
        return replace(settings, user=f"{settings.user or ''}+{self.name}:{self.port}")


def test_backends_start_serve_configure_and_stop_in_reverse() -> None:
    log: list[str] = []
    backends = [LoopbackBackend("aws", log), LoopbackBackend("k8s", log)]
    with DemoHarness(backends) as demo:
        settings = demo.configure(load_settings(None, None))
        with socket.create_connection(("127.0.0.1", backends[0].port), timeout=5) as conn:
            assert conn.recv(16) == b"demo\n"
        assert f"+aws:{backends[0].port}+k8s:{backends[1].port}" in (settings.user or "")
    assert log == ["start aws", "start k8s", "stop k8s", "stop aws"]


def test_a_backend_that_cannot_start_stops_the_others_and_names_itself() -> None:
    log: list[str] = []
    backends = [LoopbackBackend("aws", log), LoopbackBackend("k8s", log, fail=True)]
    harness = DemoHarness(backends)
    with pytest.raises(DemoError, match="demo backend 'k8s' failed to start: address already in use"):
        harness.__enter__()
    assert harness._started == []
    assert log == ["start aws", "stop aws"]

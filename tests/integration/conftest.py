"""Fixtures for tests against local servers: moto in server mode and the fault proxy.

One moto server per session (starting it costs ~0.3 s plus first-use imports);
every test that asks for ``moto_url`` gets it freshly reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.aws import TEST_KEY, FaultProxy, MotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and config that cannot come from the host (and moto account routing by key)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials-absent"))
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                 "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    # Never ask an instance metadata service (there is none; it would only cost time).
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto_url(moto_server: MotoServer, aws_env: None) -> str:
    """The session's moto server, with every account and region wiped."""
    moto_server.reset()
    return moto_server.url


@pytest.fixture
def fault_proxy(moto_url: str) -> Iterator[FaultProxy]:
    """A FaultProxy in front of a freshly reset moto; closed (threads joined) after the test."""
    proxy = FaultProxy(moto_url)
    try:
        yield proxy
    finally:
        proxy.close()

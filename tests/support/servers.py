"""What a test does when a real server it needs is not installed."""

from __future__ import annotations

import os

import pytest


def skip_or_fail(reason: str) -> None:
    """Missing server software: a failure under CI=true (CI installs it), a skip on a developer machine."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)

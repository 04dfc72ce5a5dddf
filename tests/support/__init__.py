"""Helpers shared by the test suites."""

import os
import sysconfig


def stacktop_command() -> str:
    """The installed console script next to this interpreter (pyenv shims may not
    know it yet when pip ran as `python -m pip`)."""
    path = os.path.join(sysconfig.get_path("scripts"), "stacktop")
    if not os.path.exists(path):
        raise AssertionError(f"{path} missing: install the project first (pip install -e '.[test]')")
    return path

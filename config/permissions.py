"""A warning at start when the config file itself holds secrets that others can read.

Secrets belong in the environment (`${PG_PASSWORD}`); a value written into the file is
only as private as the file. On a shared bastion a 0644 config hands every user the
database password, so stacktop says so, once, with the command that fixes it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

SHARED_READ = stat.S_IRGRP | stat.S_IROTH


def secret_file_warning(path: str, secrets: Iterable[str]) -> str | None:
    """One line when `path` literally contains one of `secrets` and its group or others may
    read it; None otherwise, and None when the file cannot be stat'ed or read (then the
    loader has already said what is wrong with it)."""
    wanted = [s for s in secrets if s]
    if not wanted:
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except (OSError, ValueError):
        return None
    if not mode & SHARED_READ:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            body = f.read()
    except OSError:
        return None
    if not any(secret in body for secret in wanted):
        return None  # only ${ENV} references: nothing secret in the file itself
    return (f"config {path} holds secrets and is readable by group/others (mode {mode:04o}): "
            f"chmod 600 {path}")

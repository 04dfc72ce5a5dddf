"""Build the `security` provider from a profile, and read one scan for a report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from config.model import Settings
from providers.base import Provider
from providers.security.model import SecuritySnapshot


class SecurityError(Exception):
    """Security findings cannot be read; the message says what to configure."""


def wants_security(settings: Settings) -> bool:
    return settings.security.enabled and (settings.providers.aws is not None
                                          or settings.providers.kubernetes is not None)


def build_security_providers(settings: Settings, accounts: Sequence[object] = (), *,
                             read_only: bool = True) -> list[Provider]:
    """`accounts`: the AccountClients the AWS providers use (sessions shared); built here
    when the caller has none. Scans only read, so the clients may be read-only ones."""
    if not wants_security(settings):
        return []
    from providers.security.provider import SecurityProvider

    scans = {}
    closers = []
    aws = settings.providers.aws
    if aws is not None:
        from providers.aws.session import AccountClients
        from providers.security.aws_checks import scan_account

        clients = [a for a in accounts if isinstance(a, AccountClients)]
        if not clients:
            clients = [AccountClients(a, read_only=read_only, max_attempts=aws.max_attempts)
                       for a in aws.accounts]
            closers += [c.close for c in clients]
        for c in clients:
            scans[f"aws:{c.name}"] = partial(_scan_aws, scan_account, c, settings)
    kube = settings.providers.kubernetes
    if kube is not None:
        from providers.security.k8s_checks import scan_kubernetes

        # A client per scan (hourly): a kubeconfig fixed meanwhile is read again.
        scans["k8s"] = partial(scan_kubernetes, kube)
    return [SecurityProvider(settings.security, scans, on_close=closers)]


def _scan_aws(scan_account: object, clients: object, settings: Settings) -> object:
    return scan_account(clients, settings.security, time.time())  # type: ignore[operator]


async def collect_security(settings: Settings) -> SecuritySnapshot:
    """One whole scan with no UI (`stacktop report security`), read-only clients."""
    from providers.runtime import Runtime
    from providers.store import Store

    providers = build_security_providers(settings, read_only=True)
    if not providers:
        raise SecurityError("nothing to scan: configure providers.aws or providers.kubernetes "
                            "(and leave security.enabled true)")
    store = Store(10)
    runtime = Runtime(providers, store, max_concurrency=settings.runtime.max_concurrency,
                      redact=settings.redact)
    try:
        await runtime.poll_once(["security"])
    finally:
        await runtime.stop()
    stored = store.latest("security")
    if stored is None:
        raise SecurityError(runtime.states["security"].last_error or "security: no answer")
    snapshot = stored.snapshot
    assert isinstance(snapshot, SecuritySnapshot)
    return snapshot

"""Which providers a profile asks for, built from its settings."""

from __future__ import annotations

from config.model import Settings
from providers.base import Provider
from providers.host import HostProvider


def build_providers(settings: Settings) -> list[Provider]:
    providers: list[Provider] = []
    host = settings.providers.host
    if host is not None:
        providers.append(
            HostProvider(
                interval=host.interval,
                timeout=host.timeout,
                top_processes=host.top_processes,
                exclude_fstypes=tuple(host.exclude_fstypes),
                exclude_interfaces=tuple(host.exclude_interfaces),
            )
        )
    return providers

"""Which providers a profile asks for, built from its settings."""

from __future__ import annotations

from config.model import AWS_SERVICES, Settings
from providers.base import Provider
from providers.host import HostProvider


def build_providers(settings: Settings, *, read_only: bool = True, alerting: bool = False) -> list[Provider]:
    """Read-only unless the caller is the interactive console: a headless
    snapshot or a check can never reach a mutating SDK call. Only with `alerting`
    (the console and `stacktop agent`) may the rule engine keep alert history and
    send notifications; a `snapshot` or the read-only watch screen only shows them."""
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
    aws = settings.providers.aws
    accounts: list[object] = []
    if aws is not None:
        # Imported here: boto3 costs ~0.2 s to import, and profiles without AWS never pay it.
        from providers.aws.provider import AwsServiceProvider
        from providers.aws.session import AccountClients

        clients = [AccountClients(a, read_only=read_only, max_attempts=aws.max_attempts)
                   for a in aws.accounts]
        accounts = list(clients)
        for service in AWS_SERVICES:
            providers.append(AwsServiceProvider(
                service, clients, interval=aws.intervals[service], timeout=aws.timeout,
                metrics=aws.metrics,
            ))
    kube = settings.providers.kubernetes
    if kube is not None:
        # Imported here: the kubernetes client costs ~0.3 s to import.
        from providers.k8s.provider import build_kube_providers

        providers += build_kube_providers(kube, read_only=read_only)
    if settings.ha.clusters:
        # Imported here: database drivers load only when a cluster is configured.
        from providers.ha.build import build_ha_providers

        providers += build_ha_providers(settings)
    if settings.backups.targets:
        # Imported here: SDKs and drivers load only for the backup sources in use.
        from providers.backups.build import build_backup_providers

        providers += build_backup_providers(settings, read_only=read_only)
    if settings.costs.enabled and (aws is not None or kube is not None):
        # Imported here: the costs provider loads boto3 and the price table only when used.
        from providers.costs.build import build_costs_providers

        providers += build_costs_providers(settings, accounts, read_only=read_only)
    if settings.security.enabled and (aws is not None or kube is not None):
        # Imported here: the checks load only for profiles with something to scan.
        from providers.security.build import build_security_providers

        providers += build_security_providers(settings, accounts, read_only=read_only)
    # Last: the rule engine reads what the others found. Cheap to build; files open on first poll.
    from providers.alerts.build import build_alert_providers

    providers += build_alert_providers(settings, passive=not alerting)
    return providers

"""The costs provider from settings, and the one-shot read behind `stacktop report costs`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from config.model import Settings
from providers.base import Provider

if TYPE_CHECKING:
    from providers.costs.model import CostsSnapshot


def wants_costs(settings: Settings) -> bool:
    """Costs need an AWS account (Cost Explorer, the waste finder) or a cluster (namespaces)."""
    providers = settings.providers
    return settings.costs.enabled and (providers.aws is not None or providers.kubernetes is not None)


def build_costs_providers(settings: Settings, accounts: Sequence[object] = (), *,
                          read_only: bool = True, month: str | None = None) -> list[Provider]:
    """`accounts`: the AccountClients the AWS providers use (sessions and credentials shared);
    built here when the caller has none."""
    if not wants_costs(settings):
        return []
    from providers.aws.session import AccountClients
    from providers.costs.provider import CostsProvider, ce_account_of

    aws = settings.providers.aws
    clients = [a for a in accounts if isinstance(a, AccountClients)]
    if aws is not None and not clients:
        clients = [AccountClients(a, read_only=read_only, max_attempts=aws.max_attempts)
                   for a in aws.accounts]
    ce = ce_account_of(settings.costs, aws.accounts) if aws is not None else None
    ce_clients = next((c for c in clients if ce is not None and c.name == ce.name), None)
    return [CostsProvider(settings.costs, clients, ce_account=ce_clients,
                          backup_targets=settings.backups.targets,
                          kubernetes=settings.providers.kubernetes is not None, month=month)]


async def collect_report(settings: Settings, month: str | None) -> CostsSnapshot:
    """Everything a monthly report needs, read once with no UI: Cost Explorer (through the
    same disk cache as the console, so a report right after the console costs nothing),
    budgets, a waste scan, the advice, and namespace costs when a cluster is configured.
    Raises CostsError (one line) when costs are not configured or Cost Explorer fails."""
    from providers.costs.explorer import CostsError
    from providers.costs.model import CostsSnapshot
    from providers.runtime import Runtime
    from providers.store import Store

    providers = build_costs_providers(settings, read_only=True, month=month)
    if not providers:
        raise CostsError("costs are not configured: add providers.aws (Cost Explorer) or "
                         "providers.kubernetes, and keep costs.enabled true")
    kube: list[Provider] = []
    if settings.providers.kubernetes is not None and settings.costs.kubernetes.enabled:
        from providers.k8s.provider import build_kube_providers

        kube = [p for p in build_kube_providers(settings.providers.kubernetes, read_only=True)
                if p.name in ("k8s.nodes", "k8s.pods")]
    store = Store(settings.ui.history_points)
    runtime = Runtime([*kube, *providers], store, max_concurrency=settings.runtime.max_concurrency,
                      redact=settings.redact)
    try:
        if kube:
            await runtime.poll_once([p.name for p in kube])
        await runtime.poll_once(["costs"])
    finally:
        await runtime.stop()
        for provider in [*kube, *providers]:
            await provider.close()
    stored = store.latest("costs")
    if stored is None:
        raise CostsError(runtime.states["costs"].last_error or "costs: no answer")
    snapshot = stored.snapshot
    assert isinstance(snapshot, CostsSnapshot)
    return snapshot

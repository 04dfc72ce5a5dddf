"""HA providers from settings: one per cluster, each with its engine's collector,
all sharing one timeline file. Drivers are imported only for engines in use."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from config.model import HaClusterSettings, KubernetesSettings, Settings
from providers.ha.model import Collector, Member
from providers.ha.provider import HaClusterProvider
from providers.ha.timeline import Timeline


def build_ha_providers(settings: Settings, timeline: Timeline | None = None) -> list[HaClusterProvider]:
    ha = settings.ha
    if not ha.clusters:
        return []
    timeline = timeline or Timeline(ha.timeline_file)
    kube = settings.providers.kubernetes
    providers = []
    for cluster in ha.clusters:
        providers.append(HaClusterProvider(cluster, collector_for(cluster, kube), timeline,
                                           stats_collector=_patroni_stats(cluster)))
    return providers


def collector_for(cluster: HaClusterSettings, kube: KubernetesSettings | None = None) -> Collector:
    """The collector of the cluster's engine (its driver imported here, on first use)."""
    if cluster.engine == "postgres":
        from providers.ha.postgres import PostgresCollector

        assert cluster.db is not None
        return PostgresCollector(cluster.db.members, password=cluster.db.password,
                                 connect_timeout=cluster.connect_timeout,
                                 statement_timeout=cluster.statement_timeout, stats=cluster.stats)
    if cluster.engine in ("mysql", "mariadb"):
        from providers.ha.mysql import MysqlCollector

        assert cluster.db is not None
        return MysqlCollector(cluster.db.members, flavor=cluster.engine, password=cluster.db.password,
                              connect_timeout=cluster.connect_timeout,
                              statement_timeout=cluster.statement_timeout, stats=cluster.stats)
    if cluster.engine == "patroni":
        from providers.ha.patroni import PatroniCollector

        assert cluster.patroni is not None
        p = cluster.patroni
        return PatroniCollector(p.urls, username=p.username, password=p.password,
                                timeout=cluster.connect_timeout + cluster.statement_timeout)
    if cluster.engine == "kubernetes":
        from providers.ha.kube_operators import OperatorCollector, kube_settings

        assert cluster.kubernetes is not None
        return OperatorCollector(cluster.kubernetes, kube_settings(kube))
    raise ValueError(f"unknown HA engine {cluster.engine!r}")


def _patroni_stats(cluster: HaClusterSettings) -> Callable[[Sequence[Member]], Collector | None] | None:
    """For Patroni with pg_user: a PostgreSQL collector over the members Patroni lists."""
    p = cluster.patroni
    if cluster.engine != "patroni" or p is None or not p.pg_user or not cluster.stats:
        return None

    def build(members: Sequence[Member]) -> Collector | None:
        from providers.ha.postgres import PostgresCollector

        dsns = [f"host={mem.host} port={mem.port} user={p.pg_user} dbname={p.pg_database}"
                for mem in members if mem.host and mem.port]
        if not dsns:
            return None
        return PostgresCollector(dsns, password=p.pg_password, connect_timeout=cluster.connect_timeout,
                                 statement_timeout=cluster.statement_timeout, stats=True,
                                 password_setting="ha.clusters[].patroni.pg_password")

    return build

"""The settings the rest of stacktop consumes: plain, frozen, already validated.

Nothing downstream sees YAML, defaults or positions; it gets these dataclasses.
Secret values seen while loading travel with them so every output path
(screens, logs, snapshots, audit records) can redact through one method.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from config.durations import format_duration, parse_duration
from config.errors import ConfigError
from config.redaction import REDACTED as REDACTED  # re-exported: older imports use it
from config.redaction import redact
from config.schema import DEFAULT_EXCLUDE_FSTYPES

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class UiSettings:
    refresh: float = 1.0
    history_points: int = 300
    watch_refresh: float = 2.0


@dataclass(frozen=True, slots=True)
class LogSettings:
    file: str
    level: str = "info"


@dataclass(frozen=True, slots=True)
class AuditSettings:
    file: str
    rotate_bytes: int = 10 * 1024 * 1024
    """The live file is renamed to FILE.1 (older ones shift up, none deleted) past this size."""
    key_file: str | None = None
    """A file holding a secret key: records are chained with HMAC-SHA256 under it, so a
    chain cannot be recomputed by whoever cannot read the key. None: plain SHA-256."""


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    max_concurrency: int = 4
    backoff_cap: float = 300.0
    jitter: float = 0.1
    stale_after: float = 3.0


@dataclass(frozen=True, slots=True)
class HostSettings:
    enabled: bool = True
    interval: float = 2.0
    timeout: float = 10.0
    top_processes: int = 50
    exclude_fstypes: tuple[str, ...] = DEFAULT_EXCLUDE_FSTYPES
    exclude_interfaces: tuple[str, ...] = ("lo",)


@dataclass(frozen=True, slots=True)
class AwsAccountSettings:
    """One account: how to get credentials and which regions to show."""

    name: str
    regions: tuple[str, ...] = ("us-east-1",)
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = "stacktop"
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None

    def credentials_source(self) -> str:
        """How credentials are found, for `stacktop check` (never the keys themselves)."""
        base = (f"profile {self.profile}" if self.profile
                else "static keys" if self.access_key_id else "default credentials chain")
        return f"role {self.role_arn} via {base}" if self.role_arn else base


AWS_SERVICES = ("ec2", "ebs", "rds", "s3", "lambda", "elb")


@dataclass(frozen=True, slots=True)
class AwsMetricSettings:
    enabled: bool = True
    period: float = 300.0
    window: float = 10800.0


@dataclass(frozen=True, slots=True)
class AwsSettings:
    accounts: tuple[AwsAccountSettings, ...]
    intervals: Mapping[str, float]  # service (AWS_SERVICES) -> seconds
    timeout: float = 60.0
    max_attempts: int = 3
    metrics: AwsMetricSettings = AwsMetricSettings()


KUBE_IN_CLUSTER = "in-cluster"  # the context name shown for a service-account connection


@dataclass(frozen=True, slots=True)
class KubernetesSettings:
    """Which clusters to watch and how; kubeconfig paths already resolved."""

    kubeconfig: tuple[str, ...]
    contexts: tuple[str, ...] = ()  # empty: the kubeconfig's current context
    in_cluster: bool = False
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    refresh: float = 0.5
    metrics_interval: float = 15.0
    timeout: float = 30.0
    watch_timeout: float = 300.0
    page_size: int = 500

    def describe_contexts(self) -> str:
        if self.in_cluster:
            return "in-cluster service account"
        return ", ".join(self.contexts) if self.contexts else "the current context"


@dataclass(frozen=True, slots=True)
class DbMembersSettings:
    """Members of a directly-reached database cluster; the password kept apart from the DSNs."""

    members: tuple[str, ...] = ()
    password: str | None = None


@dataclass(frozen=True, slots=True)
class PatroniSettings:
    urls: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None
    pg_user: str | None = None
    pg_password: str | None = None
    pg_database: str = "postgres"


@dataclass(frozen=True, slots=True)
class OperatorClusterSettings:
    """A Zalando, CloudNativePG or Percona resource read through the Kubernetes API."""

    kind: str
    name: str
    namespace: str = "default"
    context: str | None = None


@dataclass(frozen=True, slots=True)
class HaClusterSettings:
    """One cluster and the one way it is reached (`engine` says which field is set)."""

    name: str
    engine: str  # postgres | patroni | mysql | mariadb | kubernetes
    interval: float = 5.0
    connect_timeout: float = 3.0
    statement_timeout: float = 5.0
    stats: bool = True
    lag_warn: float = 10.0
    lag_critical: float = 60.0
    lag_warn_bytes: int = 16 * 1024 * 1024
    db: DbMembersSettings | None = None  # postgres, mysql, mariadb
    patroni: PatroniSettings | None = None
    kubernetes: OperatorClusterSettings | None = None


    def describe_source(self) -> str:
        """Where the cluster is read from (DSNs and URLs carry no passwords: the schema refuses them)."""
        if self.patroni is not None:
            return ", ".join(self.patroni.urls)
        if self.kubernetes is not None:
            k = self.kubernetes
            return f"{k.kind} {k.namespace}/{k.name}" + (f" in {k.context}" if k.context else "")
        return ", ".join(self.db.members) if self.db is not None else ""


@dataclass(frozen=True, slots=True)
class HaSettings:
    timeline_file: str = ""
    clusters: tuple[HaClusterSettings, ...] = ()


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """Grandfather-father-son retention. Nothing is ever deleted unless at least one
    keep_* rule or max_age is given: an empty policy keeps everything."""

    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    min_keep: int = 1
    max_age: float | None = None
    """Seconds; older good backups go even when a keep_* rule would keep them
    (never below min_keep, never the newest good one)."""

    @property
    def configured(self) -> bool:
        return bool(self.keep_last or self.keep_daily or self.keep_weekly or self.keep_monthly
                    or self.keep_yearly or self.max_age is not None)

    def summary(self) -> str:
        """One phrase for `stacktop check`, e.g. "keep last 3, 7 daily, 4 weekly; min 2; max age 400d"."""
        if not self.configured:
            return "keep everything (no retention rule)"
        keeps = [f"{count} {word}" for count, word in (
            (self.keep_last, "last"), (self.keep_daily, "daily"), (self.keep_weekly, "weekly"),
            (self.keep_monthly, "monthly"), (self.keep_yearly, "yearly")) if count]
        if self.keep_last:
            keeps[0] = f"last {self.keep_last}"
        parts = ["keep " + ", ".join(keeps)] if keeps else []
        parts.append(f"min {self.min_keep}")
        if self.max_age is not None:
            parts.append(f"max age {format_duration(self.max_age)}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class VerifyCheckSettings:
    """A sanity query run in the scratch restore: its single value must lie in [min, max]."""

    query: str
    min: float | None = None
    max: float | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class VerifySettings:
    database: str = "postgres"
    """The database the checks run in (a pg_dump is restored into a database of this name)."""
    checks: tuple[VerifyCheckSettings, ...] = ()
    timeout: float = 1800.0
    every: float = 7 * 86400.0
    """A last successful restore test older than this is "stale"."""


@dataclass(frozen=True, slots=True)
class BackupSourceSettings:
    """Where a target's backups live: exactly one `kind`, with the fields that kind uses."""

    kind: str
    """ebs | rds | aws_backup | kubernetes | pgbackrest | dumps"""
    # AWS (ebs, rds, aws_backup, dumps in S3): an account of providers.aws and one of its regions.
    account: str | None = None
    region: str | None = None
    volume_id: str | None = None
    """ebs: the volume; or `tags` select its snapshots (all tags must match)."""
    tags: tuple[tuple[str, str], ...] = ()
    instance: str | None = None
    """rds: the DBInstanceIdentifier."""
    vault: str | None = None
    """aws_backup: the backup vault; `resource_arn` narrows its recovery points."""
    resource_arn: str | None = None
    # kubernetes: VolumeSnapshots of one PVC (context None: the current context).
    context: str | None = None
    namespace: str = "default"
    pvc: str | None = None
    snapshot_class: str | None = None
    # pgbackrest: `command` is the argv prefix (e.g. sudo -u postgres pgbackrest --config=…).
    stanza: str | None = None
    command: tuple[str, ...] = ("pgbackrest",)
    # dumps: a local directory, or an S3 bucket and prefix (with account/region).
    directory: str | None = None
    bucket: str | None = None
    prefix: str = ""
    pattern: str | None = None
    """File name with strftime fields, e.g. orders-%Y%m%d-%H%M%S.dump: names that match are
    listed and timed by the name (UTC unless the pattern has %z); None: every file, by mtime."""
    format: str = "pg_dump"
    """pg_dump (custom or plain SQL) | mysqldump | tar"""
    dsn: str | None = None
    """dumps: what `backup now` runs pg_dump against (libpq DSN without a password)."""
    password: str | None = None

    def describe_source(self) -> str:
        """Where the backups are listed from, for `stacktop check` (DSNs carry no password:
        the schema refuses them; the password itself is never shown)."""
        where = f" in {self.account}/{self.region}" if self.account else ""
        if self.kind == "ebs":
            what = self.volume_id or "tagged " + ", ".join(f"{k}={v}" for k, v in self.tags)
            return f"EBS snapshots of {what}{where}"
        if self.kind == "rds":
            return f"RDS snapshots of {self.instance}{where}"
        if self.kind == "aws_backup":
            of = f" of {self.resource_arn}" if self.resource_arn else ""
            return f"AWS Backup vault {self.vault}{of}{where}"
        if self.kind == "kubernetes":
            context = f" in {self.context}" if self.context else ""
            return f"VolumeSnapshots of PVC {self.namespace}/{self.pvc}{context}"
        if self.kind == "pgbackrest":
            via = "" if self.command == ("pgbackrest",) else f" via {' '.join(self.command)}"
            return f"pgBackRest stanza {self.stanza}{via}"
        if self.kind == "dumps":
            place = self.directory if self.bucket is None else f"s3://{self.bucket}/{self.prefix}{where}"
            named = f" named {self.pattern}" if self.pattern else ""
            return f"{self.format} files in {place}{named}"
        return self.kind


@dataclass(frozen=True, slots=True)
class BackupTargetSettings:
    name: str
    source: BackupSourceSettings
    interval: float = 300.0
    """How often the source is listed."""
    timeout: float = 60.0
    schedule: str | None = None
    """Cron expression (5 fields, or @daily/@hourly/…) of the job that takes backups."""
    grace: float = 3600.0
    rpo: float | None = None
    rpo_warn: float | None = None
    """Age at which the RPO status turns warn; None: 80 % of rpo."""
    retention: RetentionSettings = RetentionSettings()
    verify: VerifySettings | None = None
    timezone: str | None = None
    """IANA zone of day/week/month boundaries and of the schedule; None: the machine's."""


@dataclass(frozen=True, slots=True)
class BackupSettings:
    targets: tuple[BackupTargetSettings, ...] = ()
    verification_log: str = ""
    pg_bin_dir: str | None = None
    """Where initdb/pg_ctl/pg_restore for scratch restores live; None: PATH, then
    /usr/lib/postgresql/<newest>/bin."""
    scratch_dir: str | None = None
    """Parent of scratch data directories; None: the system temp directory."""


# --------------------------------------------------------------------------- alerts


SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True)
class AlertRuleSettings:
    """One rule as written; `expr` is already checked by providers.alerts.expr.parse."""

    name: str
    expr: str
    for_: float = 0.0
    """Seconds the expression must hold before pending becomes firing."""
    keep_firing_for: float = 0.0
    """Seconds a firing alert stays firing after the expression stops holding (no flapping)."""
    severity: str = "warning"
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    """Templates: {{ $value }} and {{ $labels.NAME }} are filled in per alert."""
    origin: str = ""
    """FILE:LINE where the rule was written, for messages about it."""


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """Where notifications go: exactly one kind, with the fields that kind uses."""

    name: str
    kind: str
    """slack | discord | webhook | email"""
    url: str | None = None
    """slack, discord, webhook: the (secret) webhook URL."""
    headers: tuple[tuple[str, str], ...] = ()
    """webhook: extra request headers (values are secrets)."""
    # email
    host: str | None = None
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    # every kind
    timeout: float = 10.0
    attempts: int = 4
    """Tries per notification (the first plus retries) on 5xx, 429, timeouts, refused connections."""
    backoff: float = 2.0
    """Seconds before the first retry; doubled before each next one."""

    def describe(self) -> str:
        """Where it sends, for `stacktop check` (never the URL: it is the secret)."""
        if self.kind == "email":
            return f"email via {self.host}:{self.port} to {', '.join(self.recipients)}"
        return {"slack": "Slack webhook", "discord": "Discord webhook"}.get(self.kind, "JSON webhook")


@dataclass(frozen=True, slots=True)
class RouteSettings:
    """Which alerts go to which channels, and how often. Routes are tried in order;
    the first that matches takes the alert unless it says `continue`."""

    channels: tuple[str, ...]
    match: tuple[tuple[str, str], ...] = ()
    """Label equality (severity is a label); all must hold. Empty: every alert."""
    match_re: tuple[tuple[str, str], ...] = ()
    """Label regular expressions (fully anchored); all must hold."""
    group_by: tuple[str, ...] = ("alertname",)
    group_wait: float = 30.0
    """How long a new group waits for more alerts before its first message."""
    group_interval: float = 300.0
    """How long before a group that changed (new or resolved alerts) is sent again."""
    repeat_interval: float = 4 * 3600.0
    """How long before an unchanged, still firing group is sent again."""
    send_resolved: bool = True
    continue_: bool = False


@dataclass(frozen=True, slots=True)
class AlertsSettings:
    evaluation_interval: float = 5.0
    state_file: str = ""
    """SQLite file: alert states, transitions, silences and acknowledgements."""
    notification_log: str = ""
    """JSON lines: every send attempt's outcome."""
    default_rules: bool = True
    """Load the bundled rules (config/rules/default.yaml) before the profile's."""
    rules: tuple[AlertRuleSettings, ...] = ()
    """The bundled rules (when default_rules), then rule_files', then the profile's own;
    a later rule of the same name replaces an earlier one."""
    channels: tuple[ChannelSettings, ...] = ()
    routes: tuple[RouteSettings, ...] = ()
    resolved_retention: float = 86400.0
    """How long resolved alerts stay listed."""
    external_url: str = ""
    """Linked from notifications (e.g. a runbook index or a Grafana)."""


@dataclass(frozen=True, slots=True)
class HttpCheckSettings:
    name: str
    url: str
    method: str = "GET"
    expect_status: tuple[int, ...] = ()
    """Statuses that pass; empty: any 2xx or 3xx."""
    body_match: str | None = None
    """A regular expression the body must contain (searched, not anchored)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Request headers; their values are secrets (Authorization…)."""
    body: str | None = None
    interval: float = 30.0
    timeout: float = 10.0
    window: float = 900.0
    """Span the averages, percentiles and error rate are computed over."""
    verify_tls: bool = True


@dataclass(frozen=True, slots=True)
class HttpSettings:
    checks: tuple[HttpCheckSettings, ...] = ()


@dataclass(frozen=True, slots=True)
class PrometheusQuerySettings:
    name: str
    """Becomes the metric prometheus.NAME, labelled by the result's labels."""
    query: str
    range: float = 3600.0
    """How far back the first poll backfills the sparkline with a range query."""
    step: float = 60.0


@dataclass(frozen=True, slots=True)
class PrometheusSettings:
    url: str
    queries: tuple[PrometheusQuerySettings, ...] = ()
    interval: float = 30.0
    timeout: float = 10.0
    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None


@dataclass(frozen=True, slots=True)
class AlertmanagerSettings:
    url: str
    interval: float = 15.0
    timeout: float = 10.0
    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """A monthly budget over everything, one account (by name) or one service."""

    name: str
    amount: float
    account: str | None = None
    service: str | None = None
    warn: float = 0.8


@dataclass(frozen=True, slots=True)
class WasteSettings:
    enabled: bool = True
    interval: float = 3600.0
    stopped_days: int = 14
    snapshot_days: int = 90
    idle_days: int = 7
    lb_min_requests: int = 100
    low_cpu_percent: float = 10.0
    low_cpu_days: int = 4
    prices: str | None = None
    """A YAML price table merged over config/prices/aws.yaml."""


@dataclass(frozen=True, slots=True)
class KubeCostSettings:
    enabled: bool = True
    cpu_hour: float = 0.031611
    memory_gib_hour: float = 0.004237


@dataclass(frozen=True, slots=True)
class CostsSettings:
    enabled: bool = True
    account: str | None = None
    """The providers.aws account whose Cost Explorer is read; None: the first."""
    interval: float = 3600.0
    cache_file: str = ""
    metric: str = "UnblendedCost"
    forecast: bool = True
    recommendations: bool = True
    aws_budgets: bool = True
    budgets: tuple[BudgetSettings, ...] = ()
    waste: WasteSettings = WasteSettings()
    kubernetes: KubeCostSettings = KubeCostSettings()


@dataclass(frozen=True, slots=True)
class RoleSettings:
    """Who may do what: Unix users and groups mapped to roles (for shared bastions)."""

    default: Role = "viewer"
    """The role of a user matched by neither `users` nor `groups`."""
    users: Mapping[str, Role] = field(default_factory=dict)
    """Unix user name -> role; wins over the user's groups."""
    groups: Mapping[str, Role] = field(default_factory=dict)
    """Unix group name -> role; a member gets the highest role of their groups."""


SECURITY_PORTS: tuple[int, ...] = (22, 3389, 1433, 1521, 3306, 5432, 5439, 6379, 9200, 11211, 27017)
"""SSH, RDP and the usual database ports: open to the world, each is a finding."""


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    enabled: bool = True
    interval: float = 3600.0
    ports: tuple[int, ...] = SECURITY_PORTS
    key_max_age: float = 90 * 86400.0
    root_use_window: float = 30 * 86400.0
    ignore: tuple[str, ...] = ()
    """Findings accepted on purpose, as CHECK:RESOURCE (e.g. sg-open-port:sg-0abc:22)."""


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    host: HostSettings | None  # None when the host provider is disabled
    aws: AwsSettings | None = None  # None when no account is configured
    kubernetes: KubernetesSettings | None = None  # None unless enabled
    http: HttpSettings = HttpSettings()
    prometheus: PrometheusSettings | None = None
    alertmanager: AlertmanagerSettings | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    profile: str
    source: str
    source_kind: str
    profiles: tuple[str, ...]
    role: Role
    user: str | None
    ui: UiSettings
    log: LogSettings
    audit: AuditSettings
    runtime: RuntimeSettings
    providers: ProviderSettings
    secrets: frozenset[str] = frozenset()
    ha: HaSettings = HaSettings()
    backups: BackupSettings = BackupSettings()
    alerts: AlertsSettings = AlertsSettings()
    costs: CostsSettings = CostsSettings()
    roles: RoleSettings | None = None
    """None: everyone has `role` (a single-user machine)."""
    security: SecuritySettings = SecuritySettings()

    def redact(self, text: str) -> str:
        """``text`` with every secret value seen while loading, and every known
        credential shape, masked: the one redaction all outputs go through."""
        return redact(text, self.secrets)

    def describe(self) -> list[str]:
        """Human-readable lines for ``stacktop check``; secrets appear as ***."""
        ui, runtime = self.ui, self.runtime
        lines = [
            f"profile   {self.profile}  (profiles in file: {', '.join(self.profiles)})",
            f"file      {self.source}  (found via {self.source_kind})",
            f"role      {self.role}" if self.roles is None else "role      by Unix user and group (roles)",
            f"user      {self.user if self.user is not None else '(OS user)'}",
            f"ui        refresh {format_duration(ui.refresh)}, "
            f"watch refresh {format_duration(ui.watch_refresh)}, "
            f"history {ui.history_points} points",
            f"log       {self.log.file}  (level {self.log.level})",
            f"audit     {self.audit.file}  (chained with "
            f"{'HMAC-SHA256, audit.key_file' if self.audit.key_file else 'SHA-256'}; "
            f"rotated at {format_bytes(self.audit.rotate_bytes)})",
            f"runtime   {runtime.max_concurrency} workers, "
            f"backoff cap {format_duration(runtime.backoff_cap)}, "
            f"jitter {runtime.jitter:g}, stale after {runtime.stale_after:g} intervals",
        ]
        host, aws, kube = self.providers.host, self.providers.aws, self.providers.kubernetes
        http, prom, am = self.providers.http, self.providers.prometheus, self.providers.alertmanager
        if (host is None and aws is None and kube is None and not http.checks and prom is None
                and am is None):
            lines.append("providers none enabled")
        if host is not None:
            lines.append(
                f"host      interval {format_duration(host.interval)}, "
                f"timeout {format_duration(host.timeout)}, "
                f"top {host.top_processes} processes, "
                f"network total excludes {', '.join(host.exclude_interfaces) or 'nothing'}"
            )
        if aws is not None:
            intervals = ", ".join(f"{k} {format_duration(v)}" for k, v in aws.intervals.items())
            metrics = (f"metrics every {format_duration(aws.metrics.period)} over "
                       f"{format_duration(aws.metrics.window)}" if aws.metrics.enabled
                       else "metrics off")
            lines.append(f"aws       {len(aws.accounts)} account(s); {intervals}; {metrics}")
            for account in aws.accounts:
                where = f" at {account.endpoint_url}" if account.endpoint_url else ""
                lines.append(f"  account {account.name}: {', '.join(account.regions)}; "
                             f"{account.credentials_source()}{where}")
        if kube is not None:
            where = "" if kube.in_cluster else f" from {':'.join(kube.kubeconfig)}"
            lines.append(f"k8s       {kube.describe_contexts()}{where}; namespaces "
                         f"{', '.join(kube.namespaces) or 'all'}; updates at most every "
                         f"{format_duration(kube.refresh)}, metrics every "
                         f"{format_duration(kube.metrics_interval)}")
        if self.ha.clusters:
            lines.append(f"ha        {len(self.ha.clusters)} cluster(s); timeline {self.ha.timeline_file}")
            for c in self.ha.clusters:
                lines.append(f"  cluster {c.name}: {c.engine} {c.describe_source()}; "
                             f"every {format_duration(c.interval)}")
        backups = self.backups
        if backups.targets:
            lines.append(f"backups   {len(backups.targets)} target(s); "
                         f"restore tests logged to {backups.verification_log}")
            for t in backups.targets:
                rpo = f"rpo {format_duration(t.rpo)}" if t.rpo is not None else "no rpo"
                lines.append(f"  target {t.name}: {t.source.describe_source()}; "
                             f"schedule {t.schedule or 'none'}; {rpo}; {t.retention.summary()}")
        lines += self._describe_alerting()
        lines += self._describe_costs()
        lines += self._describe_security()
        return [self.redact(line) for line in lines]

    def _describe_security(self) -> list[str]:
        lines = []
        if self.roles is not None:
            users = ", ".join(f"{u}={r}" for u, r in sorted(self.roles.users.items())) or "none"
            groups = ", ".join(f"{g}={r}" for g, r in sorted(self.roles.groups.items())) or "none"
            lines.append(f"roles     default {self.roles.default}; users {users}; groups {groups}")
        sec = self.security
        if sec.enabled and (self.providers.aws is not None or self.providers.kubernetes is not None):
            ignored = f"; {len(sec.ignore)} ignored" if sec.ignore else ""
            lines.append(f"security  scan every {format_duration(sec.interval)}; ports "
                         f"{', '.join(str(p) for p in sec.ports)}; keys older than "
                         f"{format_duration(sec.key_max_age)}{ignored}")
        return lines

    def _describe_costs(self) -> list[str]:
        costs, aws = self.costs, self.providers.aws
        if not costs.enabled or (aws is None and self.providers.kubernetes is None):
            return []
        if aws is not None:
            account = costs.account or aws.accounts[0].name
            where = (f"Cost Explorer of {account} every {format_duration(costs.interval)} "
                     f"({costs.metric}, cached in {costs.cache_file})")
        else:
            where = "no AWS account: Kubernetes namespaces only"
        budgets = ", ".join(f"{b.name} {b.amount:g}" for b in costs.budgets) or "none"
        waste = (f"waste scan every {format_duration(costs.waste.interval)}" if costs.waste.enabled
                 else "waste scan off")
        return [f"costs     {where}; budgets {budgets}; {waste}"]

    def _describe_alerting(self) -> list[str]:
        """The alerts, http, prometheus and alertmanager lines (never a webhook URL)."""
        alerts, http = self.alerts, self.providers.http
        bundled_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules", "default.yaml")
        bundled = sum(1 for r in alerts.rules if r.origin.rpartition(":")[0] == bundled_file)
        lines = [f"alerts    {len(alerts.rules)} rules ({bundled} bundled); evaluated every "
                 f"{format_duration(alerts.evaluation_interval)}; state {alerts.state_file}; "
                 f"{len(alerts.channels)} channels, {len(alerts.routes)} routes"]
        lines += [f"  channel {c.name}: {c.describe()}" for c in alerts.channels]
        if http.checks:
            checks = ", ".join(f"{c.name} ({c.method} {_without_query(c.url)} every "
                               f"{format_duration(c.interval)})"
                               for c in http.checks)
            lines.append(f"http      {len(http.checks)} checks: {checks}")
        prom, am = self.providers.prometheus, self.providers.alertmanager
        if prom is not None:
            names = ", ".join(q.name for q in prom.queries) or "none"
            lines.append(f"prometheus {prom.url}; {len(prom.queries)} queries ({names}); "
                         f"every {format_duration(prom.interval)}")
        if am is not None:
            lines.append(f"alertmanager {am.url}; every {format_duration(am.interval)}")
        return lines

    def with_overrides(
        self,
        *,
        refresh: float | str | None = None,
        role: str | None = None,
        user: str | None = None,
        log_level: str | None = None,
    ) -> Settings:
        """Apply command-line flags; ``refresh`` sets every provider's poll interval."""
        result = self
        if refresh is not None:
            seconds = _positive_duration(refresh, "--refresh")
            host, aws, kube = self.providers.host, self.providers.aws, self.providers.kubernetes
            if host is not None:
                host = dataclasses.replace(host, interval=seconds)
            if aws is not None:
                aws = dataclasses.replace(aws, intervals=dict.fromkeys(aws.intervals, seconds))
            if kube is not None:
                # Watches push changes; --refresh only caps how often the screen takes them.
                kube = dataclasses.replace(kube, refresh=min(seconds, 60.0))
            http = HttpSettings(checks=tuple(dataclasses.replace(c, interval=seconds)
                                             for c in self.providers.http.checks))
            prom, am = self.providers.prometheus, self.providers.alertmanager
            if prom is not None:
                prom = dataclasses.replace(prom, interval=seconds)
            if am is not None:
                am = dataclasses.replace(am, interval=seconds)
            result = dataclasses.replace(result, providers=dataclasses.replace(
                self.providers, host=host, aws=aws, kubernetes=kube, http=http, prometheus=prom,
                alertmanager=am))
        if role is not None:
            _check_choice(role, ROLES, "--role")
            result = dataclasses.replace(result, role=role)
        if user is not None:
            if not user.strip():
                raise ConfigError("expected a user name, got an empty string", key_path="--user")
            result = dataclasses.replace(result, user=user)
        if log_level is not None:
            _check_choice(log_level, LOG_LEVELS, "--log-level")
            result = dataclasses.replace(
                result, log=dataclasses.replace(self.log, level=log_level)
            )
        return result


def format_bytes(n: int) -> str:
    """10485760 -> "10 MiB": sizes in `stacktop check` as they were probably written."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _without_query(url: str) -> str:
    """A URL for `stacktop check`: a query string may carry a token, so it shows as ?…"""
    base, query_mark, _ = url.partition("?")
    base = base.partition("#")[0]
    return base + ("?…" if query_mark else "")


def _positive_duration(value: float | str, flag: str) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(str(exc), key_path=flag) from None
    if seconds <= 0:
        raise ConfigError(f"must be greater than 0, got {value!r}", key_path=flag)
    return seconds


def _check_choice(value: str, choices: tuple[str, ...], flag: str) -> None:
    if value not in choices:
        raise ConfigError(f"expected one of {', '.join(choices)}; got {value!r}", key_path=flag)

"""What the tabs whose data sources are not configured will show, and the
configuration that will turn them on, so no tab is ever a blank screen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedTab:
    title: str
    shows: str
    snippet: str


STATUS = (
    "Not configured. This build does not read this section yet: the snippet shows "
    "the planned configuration; `stacktop check` lists what is polled today."
)

CONFIGURED_STATUS = {
    "resources": "No host, AWS or Kubernetes provider is enabled in this profile.",
    "ha": "No cluster is configured in this profile: add ha.clusters like the snippet, "
          "then `stacktop check` shows what will be polled. Try `stacktop --demo`.",
    "backups": "No backup target is configured in this profile: add backups.targets like the snippet "
               "(one per thing to protect, with its source; config/examples/backups.yaml has every kind), "
               "then `stacktop check` shows what will be listed. Try `stacktop --demo`.",
    "alerts": "Not configured: this profile has no alert rules and no Alertmanager. Add alerts.rules like "
              "the snippet (or leave alerts.default_rules on with any provider enabled), or "
              "providers.alertmanager.url; then `stacktop check` lists the rules. Try `stacktop --demo`.",
    "costs": "Not configured: costs need providers.aws (Cost Explorer spend, budgets, the idle-resource "
             "finder) or providers.kubernetes (cost per namespace), and costs.enabled left on. Add them like "
             "the snippet; then `stacktop check` shows what will be read. Try `stacktop --demo`.",
}
"""Tabs whose sources exist in this build: what to configure, not what is planned."""

PLANNED: dict[str, PlannedTab] = {
    "resources": PlannedTab(
        "Resources — no data source is enabled",
        "Live CPU, memory, disk and network sparklines of this machine, a chart of any "
        "metric over time and the process table (sort, filter, terminate); EC2, EBS, RDS, "
        "S3, Lambda and load balancers of your AWS accounts with CloudWatch sparklines and "
        "guarded start/stop/reboot. Later: Kubernetes workloads.",
        "providers:\n  host:\n    enabled: true\n  aws:\n    accounts:\n"
        "      - name: prod\n        profile: prod        # from ~/.aws/config\n"
        "        regions: [eu-west-1]\n",
    ),
    "ha": PlannedTab(
        "HA — replicated databases: no cluster configured",
        "Which node is primary now, whether replicas keep up (lag in bytes and seconds, "
        "sparklines), PostgreSQL streaming, Patroni and MySQL/MariaDB topologies as trees, "
        "a failover timeline, and a guarded switchover.",
        "ha:\n  clusters:\n    - name: main\n      patroni:\n        urls: [http://10.0.0.11:8008]\n"
        "    - name: shop\n      mariadb:\n        members: [mysql://monitor@10.0.1.5:3306]\n"
        "        password: ${SHOP_MONITOR_PASSWORD}\n",
    ),
    "backups": PlannedTab(
        "Backups — is the data safe: no backup target configured",
        "Per thing to protect (EBS and RDS snapshots, AWS Backup, Kubernetes VolumeSnapshots, "
        "pgBackRest, dump files): the newest good backup and its age, RPO status, the schedule "
        "and its next run, what retention deletes next and why it keeps the rest, restore-test "
        "results; backup now, prune and verify through confirmed, audited actions.",
        "backups:\n  targets:\n    - name: orders-db\n      source: {pgbackrest: {stanza: main}}\n"
        "      schedule: \"0 2 * * *\"\n      rpo: 26h\n"
        "      retention: {keep_daily: 7, keep_weekly: 4, keep_monthly: 6}\n"
        "      verify: {checks: [{query: \"SELECT count(*) FROM orders\", min: 1}]}\n"
        "    - name: data-volume\n"
        "      source: {ebs: {account: prod, region: eu-west-1, volume_id: vol-0123456789abcdef0}}\n"
        "      rpo: 1d\n",
    ),
    "alerts": PlannedTab(
        "Alerts — trouble before users notice: no rules and no Alertmanager",
        "Firing, pending, silenced and recently resolved alerts from stacktop's own rules over "
        "every provider's data and from Alertmanager, with severity, age, source, the value's "
        "sparkline and the notification history (Slack, Discord, webhooks, email); silence, "
        "expire a silence and acknowledge through confirmed, audited actions.",
        "alerts:\n  rules:\n    - name: HostCpuHigh\n      expr: host.cpu.percent > 80\n      for: 5m\n"
        "      severity: warning\n      annotations:\n        summary: \"CPU at {{ $value }}%\"\n"
        "providers:\n  alertmanager:\n    url: http://alertmanager:9093\n",
    ),
    "costs": PlannedTab(
        "Costs — what it is costing: no AWS account or Kubernetes cluster configured",
        "Month-to-date and forecast spend by service and account, budgets, idle resources "
        "with monthly savings (delete an unattached volume, release an unused address), "
        "reservation advice and Kubernetes cost per namespace. Cost Explorer is read hourly "
        "and cached: each request costs 0.01 USD.",
        "providers:\n  aws:\n    accounts:\n      - name: prod\n        profile: prod\n"
        "        regions: [eu-west-1]\n"
        "costs:\n  budgets:\n    - name: monthly\n      amount: 5000\n"
        "    - name: prod-rds\n      amount: 800\n      account: prod\n"
        "      service: Amazon Relational Database Service\n",
    ),
}

"""Alerting providers from settings: stacktop's rule engine (`alerts`) whenever any
rule is configured (the bundled defaults count), HTTP health checks, and the
Prometheus and Alertmanager readers. Their libraries load only when used."""

from __future__ import annotations

import getpass
from collections.abc import Callable

from config.model import AlertRuleSettings, Settings
from providers.alerts.model import Rule
from providers.base import Provider


def rule_from_settings(rule: AlertRuleSettings) -> Rule:
    """The rule with its expression parsed (the loader checked it: this cannot fail
    for settings that loaded)."""
    from providers.alerts.expr import parse

    return Rule(name=rule.name, expr=rule.expr, query=parse(rule.expr), for_=rule.for_,
                keep_firing_for=rule.keep_firing_for, severity=rule.severity, labels=rule.labels,
                annotations=rule.annotations, origin=rule.origin)


def build_alert_providers(settings: Settings, *, passive: bool,
                          redact: Callable[[str], str] | None = None) -> list[Provider]:
    """`passive`: the rule engine evaluates and shows, but never writes alert history
    nor sends (a one-shot snapshot, the read-only watch screen)."""
    redact = redact or settings.redact
    user = settings.user or getpass.getuser()
    out: list[Provider] = []
    http = settings.providers.http
    if http.checks:
        from providers.http_checks import HttpChecksProvider

        out.append(HttpChecksProvider(http.checks, redact=redact))
    prometheus = settings.providers.prometheus
    if prometheus is not None:
        from providers.alerts.prometheus import PrometheusProvider

        out.append(PrometheusProvider(prometheus, redact=redact))
    alertmanager = settings.providers.alertmanager
    if alertmanager is not None:
        from providers.alerts.alertmanager import AlertmanagerProvider

        out.append(AlertmanagerProvider(alertmanager, user=user, redact=redact))
    alerts = settings.alerts
    if alerts.rules:
        from providers.alerts.provider import AlertsProvider

        rules = [rule_from_settings(r) for r in alerts.rules]
        out.append(AlertsProvider(alerts, rules, user=user, read_only=passive, redact=redact))
    return out

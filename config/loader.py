"""Find the config file, pick a profile, and turn it into Settings.

The steps, in order: locate the file (--config, $STACKTOP_CONFIG, the user's
config, the bundled default), parse it with positions, select the profile,
merge what it extends, interpolate ${VAR}, apply overrides, validate against
the schema, and build the frozen dataclasses. Every failure is a ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.errors import ConfigError
from config.interpolation import interpolate
from config.located_yaml import Located, from_python, read_yaml
from config.model import (
    AlertmanagerSettings,
    AlertRuleSettings,
    AlertsSettings,
    AuditSettings,
    AwsAccountSettings,
    AwsMetricSettings,
    AwsSettings,
    BackupSettings,
    BackupSourceSettings,
    BackupTargetSettings,
    BudgetSettings,
    ChannelSettings,
    CostsSettings,
    DbMembersSettings,
    HaClusterSettings,
    HaSettings,
    HostSettings,
    HttpCheckSettings,
    HttpSettings,
    KubeCostSettings,
    KubernetesSettings,
    LogSettings,
    OperatorClusterSettings,
    PatroniSettings,
    PrometheusQuerySettings,
    PrometheusSettings,
    ProviderSettings,
    RetentionSettings,
    RoleSettings,
    RouteSettings,
    RuntimeSettings,
    SecuritySettings,
    Settings,
    UiSettings,
    VerifyCheckSettings,
    VerifySettings,
    WasteSettings,
)
from config.profiles import (
    check_extends,
    deep_merge,
    resolve_profile,
    select_profile,
    split_profiles,
)
from config.schema import (
    CHANNEL_KINDS,
    ENGINES,
    PROFILE_SCHEMA,
    RULE_FILE_SCHEMA,
    Field,
    engine_given,
    locate,
    source_kind,
    validate,
)

FOUND_BY_FLAG = "--config"
FOUND_BY_ENV = "$STACKTOP_CONFIG"
FOUND_IN_USER_CONFIG = "user config"
FOUND_BUNDLED = "bundled default"
OVERRIDES_SOURCE = "overrides"


def bundled_default_path() -> str:
    """config/default.yaml as shipped inside the package."""
    return str(Path(__file__).resolve().parent / "default.yaml")


def bundled_rules_path() -> str:
    """config/rules/default.yaml: the default alert rules (alerts.default_rules)."""
    return str(Path(__file__).resolve().parent / "rules" / "default.yaml")


def examples_dir() -> str:
    return str(Path(__file__).resolve().parent / "examples")


def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def _xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> str:
    """An XDG base directory; relative values are ignored, as the spec says."""
    value = env.get(variable, "")
    if value and os.path.isabs(value):
        return value
    return os.path.join(_home(env), fallback)


def user_config_path(env: Mapping[str, str]) -> str:
    return os.path.join(_xdg_dir(env, "XDG_CONFIG_HOME", ".config"), "stacktop", "config.yaml")


def state_dir(env: Mapping[str, str]) -> str:
    """Where the log and audit files go unless configured: $XDG_STATE_HOME/stacktop."""
    return os.path.join(_xdg_dir(env, "XDG_STATE_HOME", os.path.join(".local", "state")),
                        "stacktop")


def find_config_path(
    explicit: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(absolute path, how it was found); a named file that is missing is an error."""
    env = os.environ if env is None else env
    if explicit:
        return _must_exist(explicit, "check --config"), FOUND_BY_FLAG
    from_env = env.get("STACKTOP_CONFIG", "")
    if from_env:
        return _must_exist(from_env, "check $STACKTOP_CONFIG"), FOUND_BY_ENV
    user = user_config_path(env)
    if os.path.isfile(user):
        return os.path.abspath(user), FOUND_IN_USER_CONFIG
    return bundled_default_path(), FOUND_BUNDLED


def _must_exist(path: str, fix: str) -> str:
    absolute = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(absolute):
        raise ConfigError(f"file not found — {fix}", file=absolute)
    return absolute


def load_settings(
    path: str | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    schema: Field = PROFILE_SCHEMA,
) -> Settings:
    """Load, merge and validate one profile; raise ConfigError naming the fix.

    ``overrides`` is a nested (or dotted-key) mapping applied over the profile,
    e.g. ``{"providers.host.interval": "1s"}``; it is validated like the file.
    """
    env = os.environ if env is None else env
    source, source_kind = find_config_path(path, env)
    profiles = split_profiles(read_yaml(source), source)
    check_extends(profiles)
    name = select_profile(profiles, profile)
    body = interpolate(resolve_profile(profiles, name), env)
    if overrides:
        body = deep_merge(body, from_python(dict(overrides), file=OVERRIDES_SOURCE))
    values, secrets = validate(
        schema, body, home=_home(env), extra_names=("extends", "profiles")
    )
    rules = load_alert_rules(values["alerts"], body, home=_home(env))
    return build_settings(
        values,
        profile=name,
        source=source,
        source_kind=source_kind,
        profiles=profiles.names,
        secrets=secrets,
        env=env,
        alert_rules=rules,
    )


def build_settings(
    values: Mapping[str, Any],
    *,
    profile: str,
    source: str,
    source_kind: str,
    profiles: tuple[str, ...],
    secrets: frozenset[str],
    env: Mapping[str, str],
    alert_rules: tuple[AlertRuleSettings, ...] = (),
) -> Settings:
    """Validated plain values -> Settings, filling defaults that depend on the machine.
    ``alert_rules`` are the merged rules of every source (load_alert_rules)."""
    defaults_dir = state_dir(env)
    log = values["log"]
    host = values["providers"]["host"]
    return Settings(
        profile=profile,
        source=source,
        source_kind=source_kind,
        profiles=profiles,
        role=values["role"],
        user=values["user"],
        ui=UiSettings(**values["ui"]),
        log=LogSettings(
            file=log["file"] or os.path.join(defaults_dir, "stacktop.log"), level=log["level"]
        ),
        audit=AuditSettings(
            file=values["audit"]["file"] or os.path.join(defaults_dir, "audit.jsonl"),
            rotate_bytes=values["audit"]["rotate_bytes"], key_file=values["audit"]["key_file"]),
        runtime=RuntimeSettings(**values["runtime"]),
        providers=ProviderSettings(
            host=HostSettings(**host) if host["enabled"] else None,
            aws=_aws_settings(values["providers"]["aws"]),
            kubernetes=_kubernetes_settings(values["providers"]["kubernetes"], env),
            **_alerting_providers(values["providers"]),
        ),
        secrets=secrets,
        ha=_ha_settings(values["ha"], defaults_dir),
        backups=_backup_settings(values["backups"], defaults_dir),
        alerts=_alerts_settings(values["alerts"], defaults_dir, alert_rules),
        costs=_costs_settings(values["costs"], defaults_dir),
        roles=_role_settings(values["roles"]),
        security=SecuritySettings(**{**values["security"], "ports": tuple(values["security"]["ports"]),
                                     "ignore": tuple(values["security"]["ignore"])}),
    )


def _role_settings(roles: Mapping[str, Any] | None) -> RoleSettings | None:
    if roles is None:
        return None
    return RoleSettings(default=roles["default"], users=dict(roles["users"] or {}),
                        groups=dict(roles["groups"] or {}))


def _costs_settings(costs: Mapping[str, Any], defaults_dir: str) -> CostsSettings:
    plain = {k: v for k, v in costs.items() if k not in ("budgets", "waste", "kubernetes", "cache_file")}
    return CostsSettings(
        **plain,
        cache_file=costs["cache_file"] or os.path.join(defaults_dir, "costs-cache.json"),
        budgets=tuple(BudgetSettings(**b) for b in costs["budgets"]),
        waste=WasteSettings(**costs["waste"]),
        kubernetes=KubeCostSettings(**costs["kubernetes"]),
    )


def _ha_settings(ha: Mapping[str, Any], defaults_dir: str) -> HaSettings:
    clusters = []
    for c in ha["clusters"]:
        engine = next(e for e in ENGINES if engine_given(c, e))
        body = c[engine]
        common = {k: c[k] for k in ("name", "interval", "connect_timeout", "statement_timeout", "stats",
                                    "lag_warn", "lag_critical", "lag_warn_bytes")}
        if engine == "patroni":
            extra: dict[str, Any] = {"patroni": PatroniSettings(**{**body, "urls": tuple(body["urls"])})}
        elif engine == "kubernetes":
            extra = {"kubernetes": OperatorClusterSettings(**body)}
        else:
            extra = {"db": DbMembersSettings(members=tuple(body["members"]), password=body["password"])}
        clusters.append(HaClusterSettings(engine=engine, **common, **extra))
    return HaSettings(timeline_file=ha["timeline_file"] or os.path.join(defaults_dir, "ha-timeline.jsonl"),
                      clusters=tuple(clusters))


def _backup_settings(backups: Mapping[str, Any], defaults_dir: str) -> BackupSettings:
    targets = []
    for t in backups["targets"]:
        verify = t["verify"]
        targets.append(BackupTargetSettings(
            name=t["name"],
            source=_backup_source(t["source"]),
            interval=t["interval"],
            timeout=t["timeout"],
            schedule=t["schedule"],
            grace=t["grace"],
            rpo=t["rpo"],
            rpo_warn=t["rpo_warn"],
            retention=RetentionSettings(**t["retention"]),
            verify=None if verify is None else VerifySettings(
                database=verify["database"],
                checks=tuple(VerifyCheckSettings(**check) for check in verify["checks"]),
                timeout=verify["timeout"],
                every=verify["every"],
            ),
            timezone=t["timezone"],
        ))
    return BackupSettings(
        targets=tuple(targets),
        verification_log=backups["verification_log"]
        or os.path.join(defaults_dir, "backup-verifications.jsonl"),
        pg_bin_dir=backups["pg_bin_dir"],
        scratch_dir=backups["scratch_dir"],
    )


def load_alert_rules(alerts: Mapping[str, Any], body: Located | None, *,
                     home: str | None = None) -> tuple[AlertRuleSettings, ...]:
    """The bundled rules (when default_rules), then each rule file's, then the profile's.
    A later rule replaces an earlier one of the same name, in its place, so a profile can
    retune a bundled rule by writing one of the same name. Errors in a rule file point
    into that file."""
    merged: dict[str, AlertRuleSettings] = {}
    sources: list[tuple[Located | None, str]] = []
    if alerts["default_rules"]:
        sources.append((None, bundled_rules_path()))
    for i, path in enumerate(alerts["rule_files"]):
        sources.append((_node_at(body, f"alerts.rule_files[{i}]"), path))
    for listed_at, path in sources:
        for rule in _rule_file(path, listed_at, home):
            merged[rule.name] = rule
    for i, rule in enumerate(alerts["rules"]):
        node = _node_at(body, f"alerts.rules[{i}]")
        merged[rule["name"]] = _alert_rule(rule, _origin(node))
    return tuple(merged.values())


def _node_at(body: Located | None, where: str) -> Located | None:
    return None if body is None else locate(body, where)


def _origin(node: Located | None) -> str:
    if node is None:
        return ""
    return f"{node.file}:{node.line}" if node.line is not None else node.file


def _rule_file(path: str, listed_at: Located | None, home: str | None) -> list[AlertRuleSettings]:
    if not os.path.isfile(path):
        message = (f"rule file {path} not found — check the path (a relative path starts at "
                   "this config file's directory)")
        raise listed_at.error(message) if listed_at is not None else ConfigError(message, file=path)
    node = read_yaml(path)
    if node is None:
        raise ConfigError("the rule file is empty — give a top-level rules: list", file=path, line=1)
    if isinstance(node.value, dict) and "groups" in node.value and "rules" not in node.value:
        raise node.value["groups"].error(
            "this looks like a Prometheus rule file (groups:) — a stacktop rule file holds a "
            "top-level rules: list of {name, expr, for, severity, labels, annotations}",
            at_key=True)
    values, _ = validate(RULE_FILE_SCHEMA, node, home=home)
    return [_alert_rule(rule, _origin(locate(node, f"rules[{i}]")))
            for i, rule in enumerate(values["rules"])]


def _alert_rule(rule: Mapping[str, Any], origin: str) -> AlertRuleSettings:
    return AlertRuleSettings(
        name=rule["name"],
        expr=rule["expr"],
        for_=rule["for"],
        keep_firing_for=rule["keep_firing_for"],
        severity=rule["severity"],
        labels=tuple(sorted((rule["labels"] or {}).items())),
        annotations=tuple((rule["annotations"] or {}).items()),
        origin=origin,
    )


def _alerts_settings(alerts: Mapping[str, Any], defaults_dir: str,
                     rules: tuple[AlertRuleSettings, ...]) -> AlertsSettings:
    return AlertsSettings(
        evaluation_interval=alerts["evaluation_interval"],
        state_file=alerts["state_file"] or os.path.join(defaults_dir, "alerts.db"),
        notification_log=alerts["notification_log"]
        or os.path.join(defaults_dir, "notifications.jsonl"),
        default_rules=alerts["default_rules"],
        rules=rules,
        channels=tuple(_channel(c) for c in alerts["channels"]),
        routes=tuple(_route(r) for r in alerts["routes"]),
        resolved_retention=alerts["resolved_retention"],
        external_url=alerts["external_url"],
    )


def _channel(channel: Mapping[str, Any]) -> ChannelSettings:
    kind = next(k for k in CHANNEL_KINDS if channel[k] is not None)  # the schema demands one
    body = channel[kind]
    common = {k: channel[k] for k in ("name", "timeout", "attempts", "backoff")}
    if kind == "email":
        body = _unset_empty(body)
        return ChannelSettings(kind=kind, host=body["host"], port=body["port"],
                               starttls=body["starttls"], username=body["username"],
                               password=body["password"], sender=body["from"],
                               recipients=tuple(body["to"]), **common)
    headers = tuple(sorted((body.get("headers") or {}).items()))
    return ChannelSettings(kind=kind, url=body["url"], headers=headers, **common)


def _route(route: Mapping[str, Any]) -> RouteSettings:
    return RouteSettings(
        channels=tuple(route["channels"]),
        match=tuple(sorted((route["match"] or {}).items())),
        match_re=tuple(sorted((route["match_re"] or {}).items())),
        group_by=tuple(route["group_by"]),
        group_wait=route["group_wait"],
        group_interval=route["group_interval"],
        repeat_interval=route["repeat_interval"],
        send_resolved=route["send_resolved"],
        continue_=route["continue"],
    )


def _alerting_providers(providers: Mapping[str, Any]) -> dict[str, Any]:
    """providers.http, .prometheus and .alertmanager as ProviderSettings keywords."""
    http, prometheus, alertmanager = (providers["http"], providers["prometheus"],
                                      providers["alertmanager"])
    checks = tuple(HttpCheckSettings(**{
        **check,
        "expect_status": tuple(check["expect_status"]),
        "headers": tuple(sorted((check["headers"] or {}).items())),
    }) for check in http["checks"])
    out: dict[str, Any] = {"http": HttpSettings(checks=checks)}
    if prometheus is not None:
        queries = tuple(PrometheusQuerySettings(**q) for q in prometheus["queries"])
        out["prometheus"] = PrometheusSettings(**{**_unset_empty(prometheus), "queries": queries})
    if alertmanager is not None:
        out["alertmanager"] = AlertmanagerSettings(**_unset_empty(alertmanager))
    return out


def _unset_empty(body: Mapping[str, Any]) -> dict[str, Any]:
    """Credentials given as ${VAR:-} with VAR unset are absent, not empty."""
    return {k: (None if k in _CREDENTIALS and v == "" else v) for k, v in body.items()}


_CREDENTIALS = ("username", "password", "bearer_token")


def _backup_source(source: Mapping[str, Any]) -> BackupSourceSettings:
    """The one given kind's keys, flattened (an S3 place of dumps becomes account/region/bucket)."""
    kind = source_kind(source)
    assert kind is not None  # the schema demands exactly one
    body = dict(source[kind])
    if kind == "ebs":
        body["tags"] = tuple(sorted((body["tags"] or {}).items()))
    if kind == "dumps":
        body.update(body.pop("s3") or {})
    return BackupSourceSettings(kind=kind, **body)


def _aws_settings(aws: Mapping[str, Any]) -> AwsSettings | None:
    if not aws["accounts"]:
        return None
    return AwsSettings(
        accounts=tuple(AwsAccountSettings(**account) for account in aws["accounts"]),
        intervals=dict(aws["intervals"]),
        timeout=aws["timeout"],
        max_attempts=aws["max_attempts"],
        metrics=AwsMetricSettings(**aws["metrics"]),
    )


def default_kubeconfig(env: Mapping[str, str]) -> tuple[str, ...]:
    """$KUBECONFIG's paths (colon-separated, as kubectl reads it), else ~/.kube/config."""
    paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if paths:
        return tuple(os.path.abspath(os.path.expanduser(p)) for p in paths)
    home = env.get("HOME") or os.path.expanduser("~")
    return (os.path.join(home, ".kube", "config"),)


def _kubernetes_settings(kube: Mapping[str, Any], env: Mapping[str, str]) -> KubernetesSettings | None:
    if not kube["enabled"]:
        return None
    return KubernetesSettings(
        kubeconfig=tuple(kube["kubeconfig"]) or default_kubeconfig(env),
        contexts=tuple(kube["contexts"]),
        in_cluster=kube["in_cluster"],
        namespaces=tuple(kube["namespaces"]),
        refresh=kube["refresh"],
        metrics_interval=kube["metrics_interval"],
        timeout=kube["timeout"],
        watch_timeout=kube["watch_timeout"],
        page_size=kube["page_size"],
    )


def redact(value: str, settings: Settings) -> str:
    """``value`` with the secrets of ``settings`` replaced by ***."""
    return settings.redact(value)

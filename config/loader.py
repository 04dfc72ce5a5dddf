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
from config.located_yaml import from_python, read_yaml
from config.model import (
    AuditSettings,
    AwsAccountSettings,
    AwsMetricSettings,
    AwsSettings,
    BackupSettings,
    BackupSourceSettings,
    BackupTargetSettings,
    DbMembersSettings,
    HaClusterSettings,
    HaSettings,
    HostSettings,
    KubernetesSettings,
    LogSettings,
    OperatorClusterSettings,
    PatroniSettings,
    ProviderSettings,
    RetentionSettings,
    RuntimeSettings,
    Settings,
    UiSettings,
    VerifyCheckSettings,
    VerifySettings,
)
from config.profiles import (
    check_extends,
    deep_merge,
    resolve_profile,
    select_profile,
    split_profiles,
)
from config.schema import ENGINES, PROFILE_SCHEMA, Field, engine_given, source_kind, validate

FOUND_BY_FLAG = "--config"
FOUND_BY_ENV = "$STACKTOP_CONFIG"
FOUND_IN_USER_CONFIG = "user config"
FOUND_BUNDLED = "bundled default"
OVERRIDES_SOURCE = "overrides"


def bundled_default_path() -> str:
    """config/default.yaml as shipped inside the package."""
    return str(Path(__file__).resolve().parent / "default.yaml")


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
    return build_settings(
        values,
        profile=name,
        source=source,
        source_kind=source_kind,
        profiles=profiles.names,
        secrets=secrets,
        env=env,
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
) -> Settings:
    """Validated plain values -> Settings, filling defaults that depend on the machine."""
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
        audit=AuditSettings(file=values["audit"]["file"] or os.path.join(defaults_dir,
                                                                           "audit.jsonl")),
        runtime=RuntimeSettings(**values["runtime"]),
        providers=ProviderSettings(
            host=HostSettings(**host) if host["enabled"] else None,
            aws=_aws_settings(values["providers"]["aws"]),
            kubernetes=_kubernetes_settings(values["providers"]["kubernetes"], env),
        ),
        secrets=secrets,
        ha=_ha_settings(values["ha"], defaults_dir),
        backups=_backup_settings(values["backups"], defaults_dir),
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

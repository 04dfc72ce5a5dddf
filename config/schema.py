"""A small declarative schema: one declaration validates, coerces and documents.

Each key of a profile is declared once here with its kind, default, limits and
a one-line doc. The same declarations check a user's file (unknown keys, wrong
types, out-of-range values, each with FILE:LINE:COL) and produce the key
reference in docs/configuration.md, so the docs cannot drift from the code.
No pydantic: ``stacktop check`` must start fast and this is all we need.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from config.durations import format_duration, parse_duration
from config.errors import ConfigError
from config.located_yaml import Located, join_path

KINDS = ("str", "int", "float", "bool", "duration", "enum", "path", "list", "section")


@dataclass(frozen=True, eq=False)
class Field:
    """One key: what it holds, its default, its limits, and why it exists."""

    kind: str
    doc: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    item: Field | None = None
    fields: Mapping[str, Field] = field(default_factory=dict)
    secret: bool = False
    default_doc: str | None = None
    required: bool = False
    check: Callable[[Any], str | None] | None = None
    """For sections and lists: a rule across keys; returns what to fix, or None."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")


def text(doc: str, default: str | None = None, *, secret: bool = False,
         default_doc: str | None = None, required: bool = False) -> Field:
    return Field("str", doc, default, secret=secret, default_doc=default_doc, required=required)


def integer(doc: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None, secret: bool = False) -> Field:
    return Field("int", doc, default, minimum, maximum, secret=secret)


def number(doc: str, default: float | None = None, *, minimum: float | None = None,
           maximum: float | None = None) -> Field:
    return Field("float", doc, default, minimum, maximum)


def boolean(doc: str, default: bool | None = None) -> Field:
    return Field("bool", doc, default)


def duration(doc: str, default: float | None = None, *, minimum: float | None = None,
             maximum: float | None = None) -> Field:
    return Field("duration", doc, default, minimum, maximum)


def enum(doc: str, choices: Sequence[str], default: str | None = None) -> Field:
    return Field("enum", doc, default, choices=tuple(choices))


def path(doc: str, default: str | None = None, *, default_doc: str | None = None) -> Field:
    return Field("path", doc, default, default_doc=default_doc)


def list_of(item: Field, doc: str, default: Sequence[Any] = (), *,
            check: Callable[[Any], str | None] | None = None, default_doc: str | None = None) -> Field:
    return Field("list", doc, tuple(default), item=item, check=check, default_doc=default_doc)


def section(doc: str, check: Callable[[Any], str | None] | None = None, **fields: Field) -> Field:
    return Field("section", doc, fields=fields, check=check)


# --------------------------------------------------------------------------- the profile body

DEFAULT_EXCLUDE_FSTYPES = (
    "squashfs", "tmpfs", "devtmpfs", "overlay", "proc", "sysfs", "cgroup2", "nsfs", "tracefs",
)

_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
ALL_ENABLED_REGIONS = "all-enabled"


def _check_aws_account(account: Mapping[str, Any]) -> str | None:
    if bool(account["access_key_id"]) != bool(account["secret_access_key"]):
        return "give both access_key_id and secret_access_key, or neither"
    if account["access_key_id"] and account["profile"]:
        return "give either a profile or static keys (access_key_id), not both"
    if account["role_arn"] and not str(account["role_arn"]).startswith("arn:"):
        return "role_arn must be an ARN like arn:aws:iam::123456789012:role/stacktop-readonly"
    return None


def _check_regions(regions: Sequence[str]) -> str | None:
    if not regions:
        return f"regions is empty — list at least one region, or [{ALL_ENABLED_REGIONS}]"
    if ALL_ENABLED_REGIONS in regions and len(regions) > 1:
        return f"{ALL_ENABLED_REGIONS} stands alone — remove the other regions or use a list"
    for region in regions:
        if region != ALL_ENABLED_REGIONS and not _REGION_NAME.match(region):
            return f"{region!r} is not a region name like eu-west-1 (or {ALL_ENABLED_REGIONS})"
    if len(set(regions)) != len(regions):
        return "a region is listed twice"
    return None


def _check_aws_accounts(accounts: Sequence[Mapping[str, Any]]) -> str | None:
    seen: set[str] = set()
    for account in accounts:
        if account["name"] in seen:
            return f"two accounts are named {account['name']!r} — names must be unique"
        seen.add(account["name"])
    return None


def _check_kube_contexts(contexts: Sequence[str]) -> str | None:
    if len(set(contexts)) != len(contexts):
        return "a context is listed twice"
    if any(not c.strip() for c in contexts):
        return "a context name is empty"
    return None


def _check_kube_namespaces(namespaces: Sequence[str]) -> str | None:
    for namespace in namespaces:
        if not _DNS_LABEL.match(namespace):
            return (f"{namespace!r} is not a namespace name (lower-case letters, digits and '-', "
                    "at most 63 characters)")
    if len(set(namespaces)) != len(namespaces):
        return "a namespace is listed twice"
    return None


def _check_kubernetes(kube: Mapping[str, Any]) -> str | None:
    if kube["in_cluster"] and kube["contexts"]:
        return "in_cluster uses the pod's service account: remove contexts, or set in_cluster: false"
    return None


ENGINES = ("postgres", "patroni", "mysql", "mariadb", "kubernetes")
OPERATOR_KINDS = ("zalando", "cloudnativepg", "percona")


def engine_given(cluster: Mapping[str, Any], engine: str) -> bool:
    body = cluster[engine]
    key = {"patroni": "urls", "kubernetes": "name"}.get(engine, "members")
    return bool(body[key])


def _check_ha_cluster(cluster: Mapping[str, Any]) -> str | None:
    given = [e for e in ENGINES if engine_given(cluster, e)]
    if len(given) != 1:
        which = f"got {' and '.join(given)}" if given else "got none"
        return ("give exactly one of postgres.members, patroni.urls, mysql.members, "
                f"mariadb.members or kubernetes.name ({which})")
    for engine in ("postgres", "mysql", "mariadb"):
        for dsn in cluster[engine]["members"]:
            if re.search(r"://[^/@:]*:[^/@]*@", dsn) or re.search(r"(^|\s)password\s*=", dsn):
                return (f"{engine}.members: take the password out of the DSN and set "
                        f"{engine}.password: ${{ENV_VAR}} (a DSN is shown on screen and in logs)")
    for url in cluster["patroni"]["urls"]:
        if not re.match(r"^https?://[^/\s]+", url):
            return f"patroni.urls: {url!r} is not an http(s) URL like http://10.0.0.11:8008"
        if "@" in url.split("://", 1)[1].split("/", 1)[0]:
            return "patroni.urls: put credentials in patroni.username/password, not in the URL"
    return None


def _check_ha_clusters(clusters: Sequence[Mapping[str, Any]]) -> str | None:
    names = [c["name"] for c in clusters]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        return f"cluster names must be unique; {', '.join(dupes)} appears more than once"
    for name in names:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", name):
            return (f"cluster name {name!r}: use letters, digits, '-' and '_' "
                    "(it becomes a provider name, ha.NAME)")
    return None


def _db_members(engine: str, example: str) -> Field:
    return section(
        f"A {engine} cluster reached directly.",
        members=list_of(text(f"A DSN, e.g. {example}."), "Member DSNs (without the password)."),
        password=text("Password for every member; use ${ENV_VAR}.", secret=True),
    )


PROFILE_SCHEMA = section(
    "One profile: everything stacktop needs to know to run.",
    role=enum(
        "What actions the operator may run: viewer reads only, operator runs everyday "
        "actions, admin also runs destructive ones.",
        ("viewer", "operator", "admin"),
        "operator",
    ),
    user=text(
        "Name written to the audit log for every action.",
        default_doc="the OS user",
    ),
    ui=section(
        "The terminal screen.",
        refresh=duration(
            "How often ages and the clock on screen are redrawn.",
            1.0, minimum=0.1, maximum=3600.0,
        ),
        history_points=integer(
            "Points kept per series (ring buffer) for sparklines and charts.",
            300, minimum=10, maximum=100_000,
        ),
        watch_refresh=duration(
            "Redraw interval of the read-only watch mode.", 2.0, minimum=0.1, maximum=3600.0,
        ),
    ),
    log=section(
        "stacktop's own log (JSON lines; never the terminal).",
        file=path(
            "Log file; ~ and relative paths (to the config file) are expanded.",
            default_doc="$XDG_STATE_HOME/stacktop/stacktop.log, "
            "else ~/.local/state/stacktop/stacktop.log",
        ),
        level=enum("Lowest level written to the log.", ("debug", "info", "warning", "error"),
                   "info"),
    ),
    audit=section(
        "The append-only record of every action run.",
        file=path(
            "Audit file (JSON lines, fsync'ed per record).",
            default_doc="audit.jsonl in the log's default directory",
        ),
    ),
    runtime=section(
        "How providers are polled.",
        max_concurrency=integer(
            "Worker threads for blocking SDK calls, shared by all providers.",
            4, minimum=1, maximum=64,
        ),
        backoff_cap=duration(
            "Longest wait between retries of a failing provider.", 300.0, minimum=1.0,
        ),
        jitter=number(
            "Random spread of each poll, as a fraction of the interval.",
            0.1, minimum=0.0, maximum=0.5,
        ),
        stale_after=number(
            "Data older than this many intervals is shown as stale.", 3.0, minimum=1.5,
        ),
    ),
    providers=section(
        "Where data comes from; each provider has its own section.",
        host=section(
            "The machine stacktop runs on: CPU, memory, disks, network, processes.",
            enabled=boolean("Poll this host at all.", True),
            interval=duration("Time between polls.", 2.0, minimum=0.2),
            timeout=duration("A poll slower than this counts as failed.", 10.0, minimum=0.1),
            top_processes=integer(
                "Processes listed, busiest first.", 50, minimum=1, maximum=1000,
            ),
            exclude_fstypes=list_of(
                text("A filesystem type."),
                "Filesystem types not shown in the disk list.",
                DEFAULT_EXCLUDE_FSTYPES,
            ),
            exclude_interfaces=list_of(
                text("A network interface name."),
                "Interfaces left out of the network total (still listed on their own).",
                ("lo",),
            ),
        ),
        aws=section(
            "Amazon Web Services: EC2, EBS, RDS, S3, Lambda and load balancers of each account.",
            accounts=list_of(
                section(
                    "One AWS account (or one set of credentials) and the regions to show.",
                    name=text("Short name shown in the account column, e.g. prod.", required=True),
                    profile=text(
                        "Named profile from ~/.aws/config to use.",
                        default_doc="the default credentials chain",
                    ),
                    role_arn=text(
                        "Role to assume with STS (credentials refreshed before they expire).",
                    ),
                    external_id=text("External id the role's trust policy asks for.", secret=True),
                    session_name=text("Role session name, seen in CloudTrail.", "stacktop"),
                    regions=list_of(
                        text("A region name, or all-enabled."),
                        "Regions to poll; [all-enabled] asks EC2 which regions the account has on.",
                        ("us-east-1",),
                        check=_check_regions,
                    ),
                    endpoint_url=text(
                        "Send every call here instead of AWS (moto, LocalStack).",
                        default_doc="AWS itself",
                    ),
                    access_key_id=text(
                        "Static key id, for test endpoints; prefer a profile or a role.",
                    ),
                    secret_access_key=text("Static secret key, for test endpoints.", secret=True),
                    check=_check_aws_account,
                ),
                "AWS accounts to show; none means no AWS views.",
                check=_check_aws_accounts,
            ),
            intervals=section(
                "Time between polls of each service (AWS APIs are rate-limited: keep these long).",
                ec2=duration("EC2 instances.", 30.0, minimum=1.0),
                ebs=duration("EBS volumes.", 60.0, minimum=1.0),
                rds=duration("RDS instances.", 60.0, minimum=1.0),
                s3=duration("S3 buckets (their sizes are daily CloudWatch metrics).", 300.0,
                            minimum=1.0),
                elb=duration("Load balancers and target health.", 60.0, minimum=1.0),
                **{"lambda": duration("Lambda functions.", 300.0, minimum=1.0)},
            ),
            timeout=duration("A poll slower than this counts as failed.", 60.0, minimum=1.0),
            max_attempts=integer(
                "Attempts per API call; throttled calls are retried with jittered backoff.",
                3, minimum=1, maximum=10,
            ),
            metrics=section(
                "CloudWatch metrics shown as sparklines (GetMetricData, 500 queries a call).",
                enabled=boolean("Fetch CloudWatch metrics at all.", True),
                period=duration("Width of one data point.", 300.0, minimum=60.0),
                window=duration("How far back each sparkline reaches.", 10800.0, minimum=300.0),
            ),
        ),
        kubernetes=section(
            "Kubernetes: nodes, workloads, pods, events and volume claims of each context, "
            "kept current by list+watch.",
            enabled=boolean("Show Kubernetes views at all.", False),
            kubeconfig=list_of(
                path("A kubeconfig file."),
                "Kubeconfig files, merged like kubectl merges $KUBECONFIG.",
                default_doc="$KUBECONFIG, else ~/.kube/config",
            ),
            in_cluster=boolean(
                "Use the pod's service account (stacktop running inside the cluster).", False,
            ),
            contexts=list_of(
                text("A context name from the kubeconfig."),
                "Contexts shown side by side (a context column tells them apart).",
                default_doc="the kubeconfig's current context",
                check=_check_kube_contexts,
            ),
            namespaces=list_of(
                text("A namespace name."),
                "Namespaces to watch; pods, workloads, events and claims elsewhere are not read.",
                default_doc="all namespaces",
                check=_check_kube_namespaces,
            ),
            refresh=duration(
                "Shortest time between two screen updates from watch events.", 0.5,
                minimum=0.1, maximum=60.0,
            ),
            metrics_interval=duration(
                "Time between reads of metrics.k8s.io (CPU and memory in use).", 15.0,
                minimum=1.0,
            ),
            timeout=duration("A list page or an action slower than this fails.", 30.0, minimum=1.0),
            watch_timeout=duration(
                "A watch is reopened after this long (the server closes it anyway).", 300.0,
                minimum=10.0, maximum=3600.0,
            ),
            page_size=integer("Objects per list page (limit/continue).", 500, minimum=10,
                              maximum=10000),
            check=_check_kubernetes,
        ),
    ),
    ha=section(
        "Replicated databases shown on the HA tab.",
        timeline_file=path(
            "Where role changes, failovers and lost members are remembered across restarts.",
            default_doc="ha-timeline.jsonl in the log's default directory",
        ),
        clusters=list_of(
            section(
                "One replicated database cluster, reached one way.",
                name=text("Short name shown on the tab, e.g. main.", required=True),
                interval=duration("Time between polls.", 5.0, minimum=0.5),
                connect_timeout=duration("Connecting to one member slower than this fails.", 3.0,
                                         minimum=0.1, maximum=120.0),
                statement_timeout=duration("A monitoring query slower than this is cancelled.", 5.0,
                                           minimum=0.1, maximum=300.0),
                stats=boolean("Read database stats (connections, rates, slow queries) per member.",
                              True),
                lag_warn=duration("Replica lag shown as a warning.", 10.0, minimum=0.0),
                lag_critical=duration("Replica lag shown as broken.", 60.0, minimum=0.0),
                lag_warn_bytes=integer("Replica lag in bytes shown as a warning.", 16 * 1024 * 1024,
                                       minimum=0),
                postgres=_db_members("PostgreSQL", "postgresql://monitor@10.0.0.5:5432/postgres"),
                patroni=section(
                    "A Patroni cluster: any member's REST API reveals the others.",
                    urls=list_of(text("A Patroni REST URL, e.g. http://10.0.0.11:8008."),
                                 "Patroni REST URLs, tried in order."),
                    username=text("Basic auth user of the REST API (restapi.authentication)."),
                    password=text("Basic auth password; use ${ENV_VAR}.", secret=True),
                    pg_user=text("PostgreSQL user (pg_monitor) for lag in seconds and stats "
                                 "of each member.", default_doc="no stats, Patroni's view only"),
                    pg_password=text("Password of pg_user; use ${ENV_VAR}.", secret=True),
                    pg_database=text("Database pg_user connects to.", "postgres"),
                ),
                mysql=_db_members("MySQL", "mysql://monitor@10.0.1.5:3306"),
                mariadb=_db_members("MariaDB", "mysql://monitor@10.0.1.5:3306"),
                kubernetes=section(
                    "A cluster run by a Kubernetes operator, read through the Kubernetes provider.",
                    kind=enum("Which operator's resource.", OPERATOR_KINDS, "cloudnativepg"),
                    name=text("The resource's name."),
                    namespace=text("The resource's namespace.", "default"),
                    context=text("Kubeconfig context.", default_doc="the kubeconfig's current context"),
                ),
                check=_check_ha_cluster,
            ),
            "Clusters to show; none leaves the HA tab with setup hints.",
            check=_check_ha_clusters,
        ),
    ),
)


# --------------------------------------------------------------------------- validation


def validate(
    schema: Field,
    node: Located | None,
    *,
    home: str | None = None,
    extra_names: Sequence[str] = (),
) -> tuple[dict[str, Any], frozenset[str]]:
    """Check ``node`` against a section schema; return (plain values, secret values seen).

    Missing keys get their defaults. ``extra_names`` are keys handled elsewhere
    (like ``extends``) that are offered as spelling suggestions.
    """
    validator = _Validator(home or os.path.expanduser("~"))
    values = validator.section(schema, node, extra_names)
    return values, frozenset(validator.secrets)


class _Validator:
    def __init__(self, home: str) -> None:
        self.home = home
        self.secrets: set[str] = set()

    def section(self, schema: Field, node: Located | None,
                extra_names: Sequence[str] = ()) -> dict[str, Any]:
        items: dict[str, Located] = {}
        if node is not None and node.value is not None:
            if not isinstance(node.value, dict):
                raise node.error(
                    f"expected a mapping of settings (key: value), got {show_value(node.value)}"
                )
            items = node.value
        for key, item in items.items():
            if key not in schema.fields:
                raise item.error(unknown_key_message(key, [*schema.fields, *extra_names]),
                                 at_key=True)
        result: dict[str, Any] = {}
        for name, child in schema.fields.items():
            if child.required and name not in items:
                message = f"missing key {name!r} — {child.doc[0].lower()}{child.doc[1:]}"
                if node is None:
                    raise ConfigError(message)
                raise node.error(message)
            if child.kind == "section":
                result[name] = self.section(child, items.get(name))
            elif name in items:
                result[name] = self.value(child, items[name])
            else:
                result[name] = child.default
        if schema.check is not None and node is not None and (problem := schema.check(result)):
            raise node.error(problem)
        return result

    def value(self, spec: Field, node: Located) -> Any:
        if node.value is None:
            if spec.default is None:
                return None
            raise node.error(
                f"a value is required here — remove the key to use the default "
                f"({_format_default(spec)})"
            )
        if spec.kind == "section":
            return self.section(spec, node)
        if spec.kind == "list":
            if not isinstance(node.value, list):
                raise node.error(
                    f"expected a list like [a, b], got {show_value(node.value, spec.secret)}"
                )
            assert spec.item is not None
            values = tuple(self.value(spec.item, item) for item in node.value)
            if spec.check is not None and (problem := spec.check(values)):
                raise node.error(problem)
            return values
        result = self.scalar(spec, node)
        if spec.secret and isinstance(result, str) and result:
            self.secrets.add(result)
        return result

    def scalar(self, spec: Field, node: Located) -> Any:
        value = node.value
        shown = show_value(value, spec.secret)
        if spec.kind in ("str", "path"):
            if not isinstance(value, str):
                quotable = type(value) in (int, float) and not spec.secret
                hint = f" — quote it: '{value}'" if quotable else ""
                raise node.error(f"expected text, got {shown}{hint}")
            if spec.kind == "path":
                return self.path(value, node)
            return value
        if spec.kind == "enum":
            if not isinstance(value, str) or value not in spec.choices:
                raise node.error(f"expected one of {', '.join(spec.choices)}; got {shown}")
            return value
        if spec.kind == "bool":
            return self.boolean(value, node, shown)
        if spec.kind == "duration":
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                raise node.error(str(exc) if not spec.secret else "expected a duration") from None
            return self.in_range(spec, node, seconds, format_duration)
        if spec.kind == "int":
            return self.in_range(spec, node, self.integer(value, node, shown), _plain_number)
        if spec.kind == "float":
            return self.in_range(spec, node, self.floating(value, node, shown), _plain_number)
        raise AssertionError(spec.kind)

    def integer(self, value: Any, node: Located, shown: str) -> int:
        if isinstance(value, str) and node.interpolated:
            try:
                return int(value.strip())
            except ValueError:
                pass
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _looks_numeric(value):
            raise node.error(f"expected a whole number, got the text {shown} — remove the quotes")
        raise node.error(f"expected a whole number, got {shown}")

    def floating(self, value: Any, node: Located, shown: str) -> float:
        if isinstance(value, str) and node.interpolated and _looks_numeric(value):
            value = float(value)
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and math.isfinite(value):
            return float(value)
        if isinstance(value, str) and _looks_numeric(value):
            raise node.error(f"expected a number, got the text {shown} — remove the quotes")
        raise node.error(f"expected a number, got {shown}")

    def boolean(self, value: Any, node: Located, shown: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and node.interpolated:
            lowered = value.strip().lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0", ""):
                return False
        raise node.error(f"expected true or false, got {shown}")

    def in_range(self, spec: Field, node: Located, number: float, fmt: Any) -> Any:
        low, high = spec.minimum, spec.maximum
        too_low = low is not None and number < low
        too_high = high is not None and number > high
        if too_low or too_high:
            if low is not None and high is not None:
                bound = f"between {fmt(low)} and {fmt(high)}"
            elif low is not None:
                bound = f"at least {fmt(low)}"
            else:
                bound = f"at most {fmt(high)}"
            got = "a secret value" if spec.secret else fmt(number)
            raise node.error(f"must be {bound}, got {got}")
        return number

    def path(self, value: str, node: Located) -> str:
        if not value.strip():
            raise node.error("expected a file path, got an empty string")
        home_relative = value == "~" or value.startswith("~/")
        value = self.home + value[1:] if home_relative else os.path.expanduser(value)
        if not os.path.isabs(value):
            base = os.path.dirname(node.file) if os.path.isabs(node.file) else os.getcwd()
            value = os.path.join(base, value)
        return os.path.normpath(value)


def unknown_key_message(key: str, known: Sequence[str]) -> str:
    """'unknown key' plus the nearest known spelling, or the list of known keys."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} — did you mean {close[0]!r}?"
    return f"unknown key {key!r} — known keys here: {', '.join(known)}"


def _looks_numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def show_value(value: Any, secret: bool = False) -> str:
    """A short, single-line description of a bad value, never echoing a secret."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if secret:
        return "a hidden (secret) value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    return str(value)


# --------------------------------------------------------------------------- documentation


def iter_fields(schema: Field = PROFILE_SCHEMA, prefix: str = "") -> Iterator[tuple[str, Field]]:
    """Every key path with its declaration, sections before their keys."""
    for name, child in schema.fields.items():
        key_path = join_path(prefix, name)
        yield key_path, child
        if child.kind == "section":
            yield from iter_fields(child, key_path)
        elif child.kind == "list" and child.item is not None and child.item.kind == "section":
            yield from iter_fields(child.item, key_path + "[]")


def _type_text(spec: Field) -> str:
    fmt = format_duration if spec.kind == "duration" else _plain_number
    names = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
             "duration": "duration", "path": "path", "section": "section"}
    if spec.kind == "enum":
        kind = "one of " + ", ".join(f"`{choice}`" for choice in spec.choices)
    elif spec.kind == "list":
        assert spec.item is not None
        kind = f"list of {_type_text(spec.item)}s"
    else:
        kind = names[spec.kind]
    if spec.minimum is not None and spec.maximum is not None:
        kind += f" ({fmt(spec.minimum)} to {fmt(spec.maximum)})"
    elif spec.minimum is not None:
        kind += f" (≥ {fmt(spec.minimum)})"
    elif spec.maximum is not None:
        kind += f" (≤ {fmt(spec.maximum)})"
    if spec.secret:
        kind += ", secret"
    return kind


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _format_default(spec: Field) -> str:
    default = spec.default
    if spec.kind == "section":
        return ""
    if spec.required:
        return "required"
    if default is None or (spec.default_doc and default == ()):
        return spec.default_doc or "unset"
    if spec.kind == "duration":
        return format_duration(default)
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple | list):
        return "[" + ", ".join(str(item) for item in default) + "]"
    return str(default)


def render_markdown(schema: Field = PROFILE_SCHEMA) -> str:
    """The key reference table of docs/configuration.md."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key_path, spec in iter_fields(schema):
        default = _format_default(spec)
        if spec.kind != "section":
            default = f"`{default}`" if spec.default is not None else default
        cells = [f"`{key_path}`", _type_text(spec), default, spec.doc]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"

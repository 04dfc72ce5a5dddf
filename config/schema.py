"""A small declarative schema: one declaration validates, coerces and documents.

Each key of a profile is declared once here with its kind, default, limits and
a one-line doc. The same declarations check a user's file (unknown keys, wrong
types, out-of-range values, each with FILE:LINE:COL) and produce the key
reference in docs/configuration.md, so the docs cannot drift from the code.
No pydantic: ``stacktop check`` must start fast and this is all we need.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from config.durations import format_duration, parse_duration
from config.errors import ConfigError
from config.located_yaml import Located, join_path

KINDS = ("str", "int", "float", "bool", "duration", "enum", "path", "list", "section", "map", "argv")

Problem = str | tuple[str, str] | None
"""What a cross-key check returns: None when fine, else what to fix — either at the
checked node itself, or ("where", "what") with `where` a key path below it
(``source.ebs.account``, ``[2].name``) so the error points at the line to change."""


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
    optional: bool = False
    """For sections: absent means None rather than all defaults (for one-of choices)."""
    check: Callable[[Any], Problem] | None = None
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
           maximum: float | None = None, default_doc: str | None = None) -> Field:
    return Field("float", doc, default, minimum, maximum, default_doc=default_doc)


def boolean(doc: str, default: bool | None = None) -> Field:
    return Field("bool", doc, default)


def duration(doc: str, default: float | None = None, *, minimum: float | None = None,
             maximum: float | None = None, default_doc: str | None = None) -> Field:
    return Field("duration", doc, default, minimum, maximum, default_doc=default_doc)


def enum(doc: str, choices: Sequence[str], default: str | None = None) -> Field:
    return Field("enum", doc, default, choices=tuple(choices))


def path(doc: str, default: str | None = None, *, default_doc: str | None = None) -> Field:
    return Field("path", doc, default, default_doc=default_doc)


def list_of(item: Field, doc: str, default: Sequence[Any] = (), *,
            check: Callable[[Any], Problem] | None = None, default_doc: str | None = None) -> Field:
    return Field("list", doc, tuple(default), item=item, check=check, default_doc=default_doc)


def section(doc: str, check: Callable[[Any], Problem] | None = None, **fields: Field) -> Field:
    return Field("section", doc, fields=fields, check=check)


def mapping_of(item: Field, doc: str, *, default_doc: str | None = None) -> Field:
    """Free-form names to values (tags): the names are the user's, the values checked."""
    return Field("map", doc, None, item=item, default_doc=default_doc)


def command(doc: str, default: Sequence[str]) -> Field:
    """A command line: one string split like a shell would, or a list of arguments."""
    return Field("argv", doc, tuple(default))


def required(spec: Field) -> Field:
    return dataclasses.replace(spec, required=True)


def optional(spec: Field) -> Field:
    return dataclasses.replace(spec, optional=True)


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


def dsn_has_password(dsn: str) -> bool:
    """A URL with user:password@ or a key=value DSN with password=: both end up on screens."""
    return bool(re.search(r"://[^/@:]*:[^/@]*@", dsn) or re.search(r"(^|\s)password\s*=", dsn))


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
            if dsn_has_password(dsn):
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


# --------------------------------------------------------------------------- backups

SOURCE_KINDS = ("ebs", "rds", "aws_backup", "kubernetes", "pgbackrest", "dumps")
AWS_SOURCE_KINDS = ("ebs", "rds", "aws_backup")
DUMP_FORMATS = ("pg_dump", "mysqldump", "tar")
PATTERN_FIELDS = ("Y", "m", "d", "H", "M", "S", "z", "j")
_TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_VOLUME_ID = re.compile(r"^vol-[0-9a-f]{8,17}$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def source_kind(source: Mapping[str, Any]) -> str | None:
    """Which of SOURCE_KINDS a validated `source` section gives (the first, if several)."""
    return next((kind for kind in SOURCE_KINDS if source.get(kind) is not None), None)


def check_pattern(pattern: str) -> str | None:
    """What is wrong with a dump file name pattern, or None."""
    if "/" in pattern:
        return "a pattern is a file name, not a path — put the directory in dumps.directory"
    for field_name in re.findall(r"%(.?)", pattern.replace("%%", "")):
        if field_name not in PATTERN_FIELDS:
            shown = f"%{field_name}" if field_name else "a lone % at the end"
            return (f"{shown} is not allowed in a pattern — use "
                    f"{' '.join('%' + f for f in PATTERN_FIELDS)} (and %% for a literal %)")
    return None


def _check_ebs(ebs: Mapping[str, Any]) -> Problem:
    volume_id, tags = ebs["volume_id"], ebs["tags"]
    if volume_id and tags:
        return "give volume_id or tags, not both"
    if not volume_id and not tags:
        return "give volume_id (vol-…) or tags (key: value pairs its snapshots carry)"
    if volume_id and not _VOLUME_ID.match(volume_id):
        return "volume_id", f"{volume_id!r} is not a volume id like vol-0123456789abcdef0"
    return None


def _check_aws_backup(body: Mapping[str, Any]) -> Problem:
    arn = body["resource_arn"]
    if arn and not arn.startswith("arn:"):
        return "resource_arn", ("resource_arn must be an ARN like "
                                "arn:aws:ec2:eu-west-1:123456789012:volume/vol-…")
    return None


def _check_kube_source(body: Mapping[str, Any]) -> Problem:
    if not _DNS_LABEL.match(body["namespace"]):
        return "namespace", (f"{body['namespace']!r} is not a namespace name (lower-case letters, "
                             "digits and '-', at most 63 characters)")
    if not _DNS_SUBDOMAIN.match(body["pvc"]):
        return "pvc", (f"{body['pvc']!r} is not a PersistentVolumeClaim name "
                       "(lower-case letters, digits, '-', '.')")
    return None


def _check_s3(s3: Mapping[str, Any]) -> Problem:
    if not _BUCKET.match(s3["bucket"]):
        return "bucket", f"{s3['bucket']!r} is not an S3 bucket name (lower-case letters, digits, '-', '.')"
    if s3["prefix"].startswith("/"):
        return "prefix", "an S3 prefix does not start with / — write backups/orders/"
    return None


def _check_dumps(dumps: Mapping[str, Any]) -> Problem:
    if dumps["directory"] and dumps["s3"] is not None:
        return "give directory or s3, not both"
    if not dumps["directory"] and dumps["s3"] is None:
        return "give directory (a local path) or s3 (account, region, bucket, prefix)"
    if dumps["pattern"] is not None and (problem := check_pattern(dumps["pattern"])):
        return "pattern", problem
    if dumps["dsn"] and dsn_has_password(dumps["dsn"]):
        return "dsn", ("take the password out of the DSN and set dumps.password: ${ENV_VAR} "
                       "(a DSN is shown on screen and in logs)")
    return None


def _check_backup_source(source: Mapping[str, Any]) -> Problem:
    given = [kind for kind in SOURCE_KINDS if source[kind] is not None]
    if len(given) == 1:
        return None
    message = ("give exactly one of ebs, rds, aws_backup, kubernetes, pgbackrest or dumps "
               f"({'got ' + ' and '.join(given) if given else 'got none'})")
    return (given[1], message) if given else message


def _check_backup_target(target: Mapping[str, Any]) -> Problem:
    name = target["name"]
    if not _TARGET_NAME.match(name):
        return "name", (f"target name {name!r}: use lower-case letters, digits, '-' and '_' "
                        "(it becomes a provider name, backups.NAME)")
    if target["schedule"] is not None and (problem := check_schedule(target["schedule"])):
        return "schedule", problem
    rpo, warn = target["rpo"], target["rpo_warn"]
    if warn is not None and rpo is None:
        return "rpo_warn", "rpo_warn needs rpo: set rpo (the oldest the newest good backup may be)"
    if warn is not None and rpo is not None and warn >= rpo:
        return "rpo_warn", (f"rpo_warn must be less than rpo ({format_duration(rpo)}), "
                            f"got {format_duration(warn)}")
    if target["timezone"] is not None and (problem := check_timezone(target["timezone"])):
        return "timezone", problem
    kind = source_kind(target["source"])
    if target["verify"] is not None:
        dumps = target["source"]["dumps"]
        if kind == "dumps" and dumps["format"] != "pg_dump":
            return "verify", (f"restore tests read pg_dump files; this target's dumps are "
                              f"{dumps['format']} — remove verify or set format: pg_dump")
        if kind not in ("pgbackrest", "dumps"):
            return "verify", (f"restore tests need a pgbackrest or dumps (pg_dump) source; this "
                              f"target's source is {kind} — remove verify")
    return None


def check_schedule(expression: str) -> str | None:
    """What is wrong with a cron expression, or None (the parser of the schedule status)."""
    from providers.backups.cron import parse  # the one parser the schedule status uses too

    try:
        parse(expression)
    except ValueError as exc:
        message = " ".join(str(exc).split())
        if "5 fields" not in message:
            message += " (fields: minute hour day-of-month month day-of-week, e.g. '30 2 * * *')"
        return f"not a cron schedule: {message}"
    return None


def check_timezone(name: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} — use an IANA name like Europe/Berlin or UTC"
    return None


def _check_verify_check(check: Mapping[str, Any]) -> Problem:
    if check["min"] is not None and check["max"] is not None and check["min"] > check["max"]:
        return "max", f"max ({check['max']:g}) is below min ({check['min']:g}) — no value could pass"
    if not check["query"].strip():
        return "query", "the query is empty — give a query that returns one value"
    return None


def _check_backup_targets(targets: Sequence[Mapping[str, Any]]) -> Problem:
    seen: set[str] = set()
    for i, target in enumerate(targets):
        if target["name"] in seen:
            return f"[{i}].name", f"target names must be unique; {target['name']} appears more than once"
        seen.add(target["name"])
    return None


def _check_backup_references(profile: Mapping[str, Any]) -> Problem:
    """Backup sources name AWS accounts and Kubernetes contexts configured under providers."""
    providers = profile["providers"]
    accounts = {a["name"]: a for a in providers["aws"]["accounts"]}
    kube = providers["kubernetes"]
    for i, target in enumerate(profile["backups"]["targets"]):
        kind = source_kind(target["source"])
        body = target["source"][kind]
        where = f"backups.targets[{i}].source.{kind}"
        if kind == "dumps":
            if body["s3"] is None:
                continue
            body, where = body["s3"], where + ".s3"
        if kind in (*AWS_SOURCE_KINDS, "dumps"):
            problem = _aws_reference(body["account"], body["region"], accounts)
            if problem:
                return f"{where}.{problem[0]}", problem[1]
        if kind == "kubernetes":
            if not kube["enabled"]:
                return where, "a kubernetes source needs providers.kubernetes.enabled: true"
            if body["context"] and kube["contexts"] and body["context"] not in kube["contexts"]:
                return f"{where}.context", (f"context {body['context']!r} is not one of "
                                            f"providers.kubernetes.contexts: {', '.join(kube['contexts'])}")
    return None


def _aws_reference(account: str, region: str,
                   accounts: Mapping[str, Mapping[str, Any]]) -> tuple[str, str] | None:
    if not accounts:
        return "account", (f"unknown AWS account {account!r} — providers.aws.accounts is empty: "
                           "add the account there")
    if account not in accounts:
        close = difflib.get_close_matches(account, list(accounts), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return "account", (f"unknown AWS account {account!r} — {hint}providers.aws.accounts has: "
                           f"{', '.join(accounts)}")
    regions = accounts[account]["regions"]
    if not _REGION_NAME.match(region):
        return "region", f"{region!r} is not a region name like eu-west-1"
    if ALL_ENABLED_REGIONS not in regions and region not in regions:
        return "region", (f"region {region!r} is not one of account {account}'s regions "
                          f"({', '.join(regions)}) — add it there or pick one of those")
    return None


def _aws_place(what: str) -> dict[str, Field]:
    return {
        "account": required(text(f"Account (providers.aws.accounts name) that owns the {what}.")),
        "region": required(text(f"Region of the {what}; one of the account's regions.")),
    }


BACKUP_SOURCE = required(section(
    "Where the target's backups live: exactly one of ebs, rds, aws_backup, kubernetes, "
    "pgbackrest or dumps.",
    ebs=optional(section(
        "EBS snapshots of one volume, or all snapshots carrying some tags.",
        **_aws_place("snapshots"),
        volume_id=text("The volume, e.g. vol-0123456789abcdef0."),
        tags=mapping_of(text("A tag value."), "Tags the snapshots carry (all must match).",
                        default_doc="none"),
        check=_check_ebs,
    )),
    rds=optional(section(
        "RDS snapshots (manual and automated) of one DB instance, with its backup window.",
        **_aws_place("instance"),
        instance=required(text("The DBInstanceIdentifier.")),
    )),
    aws_backup=optional(section(
        "AWS Backup recovery points in one vault.",
        **_aws_place("vault"),
        vault=required(text("The backup vault's name.")),
        resource_arn=text("Only recovery points of this resource.", default_doc="the whole vault"),
        check=_check_aws_backup,
    )),
    kubernetes=optional(section(
        "VolumeSnapshots (snapshot.storage.k8s.io/v1) of one PersistentVolumeClaim; "
        "needs providers.kubernetes.",
        context=text("Kubeconfig context.", default_doc="the first of providers.kubernetes"),
        namespace=text("The claim's namespace.", "default"),
        pvc=required(text("The PersistentVolumeClaim whose snapshots to list.")),
        snapshot_class=text("VolumeSnapshotClass of snapshots taken by backup now.",
                            default_doc="the cluster's default class"),
        check=_check_kube_source,
    )),
    pgbackrest=optional(section(
        "A pgBackRest stanza, read with `pgbackrest info --output=json`.",
        stanza=required(text("The stanza name.")),
        command=command("The pgbackrest command line, e.g. sudo -u postgres pgbackrest "
                        "--config=/etc/pgbackrest/pgbackrest.conf.", ("pgbackrest",)),
    )),
    dumps=optional(section(
        "Dump files (pg_dump, mysqldump, tar) in a local directory or an S3 prefix.",
        directory=path("Local directory holding the dump files.", default_doc="unset: use s3"),
        s3=optional(section(
            "An S3 bucket and prefix holding the dump files.",
            **_aws_place("bucket"),
            bucket=required(text("The bucket.")),
            prefix=text("Key prefix of the dumps, e.g. backups/orders/.", "",
                        default_doc="the whole bucket"),
            check=_check_s3,
        )),
        pattern=text("File name with strftime fields (%Y %m %d %H %M %S %z %j) the dumps are "
                     "named and timed by, e.g. orders-%Y%m%d-%H%M%S.dump (UTC unless %z); "
                     "* is any text; without date fields it only selects files.",
                     default_doc="every file, timed by its modification time"),
        format=enum("What the files are.", DUMP_FORMATS, "pg_dump"),
        dsn=text("libpq DSN that backup now dumps, without the password.",
                 default_doc="no backup now"),
        password=text("Password for dsn; use ${ENV_VAR}.", secret=True),
        check=_check_dumps,
    )),
    check=_check_backup_source,
))

BACKUPS_SCHEMA = section(
    "Backups shown on the Backups tab: what is protected, where its backups live, and the "
    "policy they are judged by.",
    verification_log=path(
        "Where restore tests are recorded (JSON lines).",
        default_doc="backup-verifications.jsonl in the log's default directory",
    ),
    pg_bin_dir=path("Directory with initdb, pg_ctl, pg_restore and pg_dump for restore tests.",
                    default_doc="PATH, then /usr/lib/postgresql/<newest>/bin"),
    scratch_dir=path("Parent directory of the scratch PostgreSQL data directories of restore "
                     "tests.", default_doc="the system temp directory"),
    targets=list_of(
        section(
            "One thing to protect, where its backups live and the policy they are judged by.",
            name=required(text("Short name shown on the tab, e.g. orders-db ([a-z0-9_-]).")),
            source=BACKUP_SOURCE,
            interval=duration("Time between listings of the source.", 300.0, minimum=5.0),
            timeout=duration("A listing slower than this fails.", 60.0, minimum=1.0),
            schedule=text("Cron expression of the job that takes the backups (5 fields or "
                          "@daily); shows the next run and flags a missed one.",
                          default_doc="no schedule status"),
            grace=duration("How late a scheduled backup may be before it counts as missed.",
                           3600.0, minimum=0.0),
            rpo=duration("Oldest the newest good backup may be (recovery point objective).",
                         minimum=60.0, default_doc="no RPO status"),
            rpo_warn=duration("Age of the newest good backup shown as a warning; less than rpo.",
                              minimum=0.0, default_doc="80 % of rpo"),
            timezone=text("IANA zone of days, weeks and months (retention) and of the schedule.",
                          default_doc="the machine's zone"),
            retention=section(
                "Grandfather-father-son retention; without any keep_* or max_age nothing is "
                "ever deleted.",
                keep_last=integer("Newest good backups kept.", 0, minimum=0),
                keep_daily=integer("Days for which the newest good backup is kept.", 0, minimum=0),
                keep_weekly=integer("Weeks (Monday to Sunday) likewise.", 0, minimum=0),
                keep_monthly=integer("Months likewise.", 0, minimum=0),
                keep_yearly=integer("Years likewise.", 0, minimum=0),
                min_keep=integer("Good backups never pruned below this count.", 1, minimum=1),
                max_age=duration("Good backups older than this go even when a keep_* rule "
                                 "would keep them (never below min_keep, never the newest).",
                                 minimum=60.0, default_doc="no age limit"),
            ),
            verify=optional(section(
                "Restore tests: the newest pg_dump or pgBackRest backup restored into a scratch "
                "PostgreSQL and checked.",
                database=text("Database the checks run in (a pg_dump is restored into it).",
                              "postgres"),
                checks=list_of(
                    section(
                        "A query returning one number that must lie between min and max.",
                        name=text("Short name shown with the result.", "",
                                  default_doc="the query"),
                        query=required(text("A query returning one value, e.g. "
                                            "SELECT count(*) FROM orders.")),
                        min=number("Lowest value that passes.", default_doc="no lower bound"),
                        max=number("Highest value that passes.", default_doc="no upper bound"),
                        check=_check_verify_check,
                    ),
                    "Sanity checks run after the restore.",
                ),
                timeout=duration("A restore test slower than this fails.", 1800.0, minimum=10.0),
                every=duration("A last successful restore test older than this is stale.",
                               7 * 86400.0, minimum=3600.0),
            )),
            check=_check_backup_target,
        ),
        "Targets on the Backups tab; none leaves the tab with setup hints.",
        check=_check_backup_targets,
    ),
)


# --------------------------------------------------------------------------- alerts

ALERT_SEVERITIES = ("critical", "warning", "info")
CHANNEL_KINDS = ("slack", "discord", "webhook", "email")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT")
_RULE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_CHECK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_HTTP_URL = re.compile(r"^https?://[^/\s?#]+[^\s]*$")
RESERVED_LABELS = ("alertname", "severity")


def check_regex(pattern: str) -> str | None:
    """What is wrong with a regular expression, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"the regular expression does not compile ({exc.msg}) — check its brackets and escapes"
    return None


def check_url(url: str, example: str, *, secret: bool = False, credentials: str = "") -> str | None:
    """What is wrong with an http(s) URL, or None; a secret URL is never echoed."""
    shown = "this value" if secret else repr(url)
    if not _HTTP_URL.match(url):
        return f"{shown} is not an http(s) URL like {example}"
    if credentials and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        return f"take the credentials out of the URL and set {credentials} (a URL is shown on screen)"
    return None


_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_TEMPLATE_KNOWN = re.compile(r"\$value|\$labels\.[A-Za-z_][A-Za-z0-9_]*")


def check_template(template: str) -> str | None:
    """What an annotation template uses that is not filled in, or None: only
    {{ $value }} and {{ $labels.NAME }} are (providers/alerts/templates.py)."""
    for found in _TEMPLATE.finditer(template):
        if _TEMPLATE_KNOWN.fullmatch(found.group(1)) is None:
            return (f"unknown template expression {found.group(0)!r}: "
                    "use {{ $value }} or {{ $labels.NAME }}")
    if "{{" in _TEMPLATE.sub("", template):
        return "unclosed '{{' in template: close it with '}}'"
    return None


def _check_label_names(labels: Mapping[str, Any] | None, what: str) -> Problem:
    for name in labels or {}:
        if not _LABEL_NAME.match(name):
            return f"{what}.{name}", (f"{name!r} is not a label name (letters, digits and '_', "
                                      "not first a digit)")
    return None


def _check_rule(rule: Mapping[str, Any]) -> Problem:
    from providers.alerts.expr import ExprError, parse  # the parser the engine uses

    if not _RULE_NAME.match(rule["name"]):
        return "name", (f"rule name {rule['name']!r}: start with a letter, then letters, digits and "
                        "'_' (it becomes the alertname label), e.g. HostCpuHigh")
    try:
        parse(rule["expr"])
    except ExprError as exc:
        return "expr", f"{exc.message} (at character {exc.column} of the expression)"
    if problem := _check_label_names(rule["labels"], "labels"):
        return problem
    for name in RESERVED_LABELS:
        if name in (rule["labels"] or {}):
            fix = "set severity: on the rule" if name == "severity" else "rename the rule"
            return f"labels.{name}", f"the label {name} is set by stacktop — {fix}"
    for key, template in (rule["annotations"] or {}).items():
        if problem := check_template(template):
            return f"annotations.{key}", problem
    return None


def _check_unique_names(items: Sequence[Mapping[str, Any]], what: str) -> tuple[str, str] | None:
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        name = item["name"]
        if name in first:
            return f"[{i}].name", (f"{what} {name!r} is defined twice in this list (also [{first[name]}]) "
                                   "— names must be unique")
        first[name] = i
    return None


def _check_rules(rules: Sequence[Mapping[str, Any]]) -> Problem:
    return _check_unique_names(rules, "rule")


def _check_hook(body: Mapping[str, Any]) -> Problem:
    if problem := check_url(body["url"], "https://hooks.example.com/… (use ${ENV_VAR})", secret=True):
        return "url", problem
    return None


def _check_email(email: Mapping[str, Any]) -> Problem:
    if not email["to"]:
        return "to", "to is empty — list at least one recipient address"
    for address in (email["from"], *email["to"]):
        if "@" not in address or any(c.isspace() for c in address.strip()):
            return ("from" if address == email["from"] else "to"), (
                f"{address!r} is not an email address like oncall@example.com")
    if email["password"] and not email["username"]:
        return "password", "a password needs a username: set username too"
    return None


def _check_channel(channel: Mapping[str, Any]) -> Problem:
    if not _CHANNEL_NAME.match(channel["name"]):
        return "name", f"channel name {channel['name']!r}: use letters, digits, '-' and '_'"
    given = [kind for kind in CHANNEL_KINDS if channel[kind] is not None]
    if len(given) == 1:
        return None
    message = ("give exactly one of slack, discord, webhook or email "
               f"({'got ' + ' and '.join(given) if given else 'got none'})")
    return (given[1], message) if given else message


def _check_channels(channels: Sequence[Mapping[str, Any]]) -> Problem:
    return _check_unique_names(channels, "channel")


def _check_route(route: Mapping[str, Any]) -> Problem:
    if not route["channels"]:
        return "channels", "channels is empty — name at least one channel of alerts.channels"
    if problem := _check_label_names(route["match"], "match"):
        return problem
    if problem := _check_label_names(route["match_re"], "match_re"):
        return problem
    for name, pattern in (route["match_re"] or {}).items():
        if problem := check_regex(pattern):
            return f"match_re.{name}", problem
    for i, name in enumerate(route["group_by"]):
        if not _LABEL_NAME.match(name):
            return f"group_by[{i}]", f"{name!r} is not a label name (letters, digits and '_')"
    return None


def _check_alerts(alerts: Mapping[str, Any]) -> Problem:
    """Routes name configured channels."""
    known = [c["name"] for c in alerts["channels"]]
    for i, route in enumerate(alerts["routes"]):
        for j, name in enumerate(route["channels"]):
            if name in known:
                continue
            where = f"routes[{i}].channels[{j}]"
            if not known:
                return where, f"unknown channel {name!r} — alerts.channels is empty: add the channel there"
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return where, f"unknown channel {name!r} — {hint}alerts.channels has: {', '.join(known)}"
    if alerts["external_url"] and (problem := check_url(alerts["external_url"], "https://grafana.example.com")):
        return "external_url", problem
    return None


def _hook(what: str, example: str) -> Field:
    return optional(section(
        f"{what}.",
        url=required(text(f"The webhook URL, e.g. {example}; a secret: use ${{ENV_VAR}}.", secret=True)),
        check=_check_hook,
    ))


RULE = section(
    "One alert rule: when its expression holds (for long enough) an alert fires.",
    name=required(text("Rule name, the alertname label, e.g. HostCpuHigh ([A-Za-z][A-Za-z0-9_]*); "
                       "a rule of the same name replaces an earlier one.")),
    expr=required(text("METRIC{MATCHERS} OP NUMBER, e.g. host.cpu.percent > 80 "
                       "(see docs/alert-rules.md).")),
    **{"for": duration("How long the expression must hold before the alert fires (pending until "
                       "then).", 0.0, minimum=0.0)},
    keep_firing_for=duration("A firing alert stays firing this long after the expression stops "
                             "holding (against flapping).", 0.0, minimum=0.0),
    severity=enum("How bad: routes and colours go by it.", ALERT_SEVERITIES, "warning"),
    labels=mapping_of(text("A label value."), "Extra labels on the alert (routes and silences "
                      "match them).", default_doc="none"),
    annotations=mapping_of(text("A template."), "summary, description, runbook_url …; "
                           "{{ $value }} and {{ $labels.NAME }} are filled in.", default_doc="none"),
    check=_check_rule,
)

RULES = list_of(RULE, "Alert rules; see docs/alert-rules.md.", check=_check_rules)

RULE_FILE_SCHEMA = section("A rule file: a top-level rules: list.", rules=RULES)

CHANNEL = section(
    "One place notifications go: exactly one of slack, discord, webhook or email.",
    name=required(text("Channel name routes refer to, e.g. oncall-slack.")),
    slack=_hook("A Slack incoming webhook", "https://hooks.slack.com/services/T…/B…/…"),
    discord=_hook("A Discord webhook", "https://discord.com/api/webhooks/…/…"),
    webhook=optional(section(
        "A generic JSON POST of the alerts (Alertmanager-like payload).",
        url=required(text("The URL to POST to; a secret: use ${ENV_VAR}.", secret=True)),
        headers=mapping_of(text("A header value (a secret).", secret=True),
                           "Extra request headers, e.g. Authorization: Bearer ${TOKEN}.",
                           default_doc="none"),
        check=_check_hook,
    )),
    email=optional(section(
        "Email over SMTP.",
        host=required(text("The SMTP server.")),
        port=integer("The SMTP port.", 587, minimum=1, maximum=65535),
        starttls=boolean("Upgrade the connection with STARTTLS before logging in.", True),
        username=text("SMTP login.", default_doc="no login"),
        password=text("SMTP password; use ${ENV_VAR}.", secret=True),
        **{"from": required(text("Sender address, e.g. stacktop@example.com."))},
        to=required(list_of(text("An address."), "Recipient addresses.")),
        check=_check_email,
    )),
    timeout=duration("A send slower than this fails (and is retried).", 10.0, minimum=0.1),
    attempts=integer("Tries per notification (the first plus retries) on 5xx, 429, timeouts and "
                     "refused connections.", 4, minimum=1, maximum=10),
    backoff=duration("Wait before the first retry; doubled before each next one.", 2.0, minimum=0.0),
    check=_check_channel,
)

ROUTE = section(
    "Which alerts go to which channels, and how often; the first matching route takes an "
    "alert unless it says continue.",
    channels=required(list_of(text("A channel name."), "Channels (names of alerts.channels) that "
                              "get the alerts.")),
    match=mapping_of(text("A label value."), "Labels the alert must have (severity is a label).",
                     default_doc="every alert"),
    match_re=mapping_of(text("A regular expression."), "Labels that must match these regular "
                        "expressions (anchored at both ends).", default_doc="none"),
    group_by=list_of(text("A label name."), "Alerts with the same values of these labels go out "
                     "in one message.", ("alertname",)),
    group_wait=duration("How long a new group waits for more alerts before its first message.",
                        30.0, minimum=0.0),
    group_interval=duration("How long before a group that changed is sent again.", 300.0,
                            minimum=1.0),
    repeat_interval=duration("How long before an unchanged, still firing group is sent again.",
                             4 * 3600.0, minimum=60.0),
    send_resolved=boolean("Also say when the alerts resolve.", True),
    check=_check_route,
    **{"continue": boolean("Keep trying later routes after this one matched.", False)},
)

ALERTS_SCHEMA = section(
    "Alert rules evaluated over every provider's data, and where notifications go.",
    check=_check_alerts,
    evaluation_interval=duration("Time between rule evaluations.", 5.0, minimum=1.0),
    state_file=path("SQLite file of alert states, transitions, silences and acknowledgements.",
                    default_doc="alerts.db in the log's default directory"),
    notification_log=path("Where every notification's outcome is recorded (JSON lines).",
                          default_doc="notifications.jsonl in the log's default directory"),
    default_rules=boolean("Load the bundled rules (config/rules/default.yaml) first.", True),
    rule_files=list_of(path("A YAML file with a top-level rules: list (relative to this file)."),
                       "Rule files, read after the bundled rules and before rules below.",
                       default_doc="none"),
    rules=RULES,
    channels=list_of(CHANNEL, "Where notifications go.", check=_check_channels),
    routes=list_of(ROUTE, "Which alerts go to which channels; none: nothing is sent."),
    resolved_retention=duration("How long resolved alerts stay listed.", 86400.0, minimum=60.0),
    external_url=text("Linked from notifications (a Grafana or a runbook index).", "",
                      default_doc="none"),
)


# --------------------------------------------------------------------------- costs

CE_METRICS = ("UnblendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost", "BlendedCost")
_BUDGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def _check_budgets(budgets: Sequence[Mapping[str, Any]]) -> Problem:
    for i, budget in enumerate(budgets):
        if not _BUDGET_NAME.match(budget["name"]):
            return f"[{i}].name", (f"{budget['name']!r} is not a budget name: letters, digits, "
                                   "'.', '_' and '-', like prod-ec2")
        if budget["account"] and budget["service"]:
            return f"[{i}]", "a budget covers one account or one service (or everything): set one of them"
    duplicate = _check_unique_names(budgets, "budget")
    return duplicate


def _check_costs_references(profile: Mapping[str, Any]) -> Problem:
    """costs.account and budgets name accounts configured under providers.aws."""
    costs = profile["costs"]
    names = [a["name"] for a in profile["providers"]["aws"]["accounts"]]
    wanted = [("costs.account", costs["account"])]
    wanted += [(f"costs.budgets[{i}].account", b["account"]) for i, b in enumerate(costs["budgets"])]
    for where, account in wanted:
        if account and account not in names:
            close = difflib.get_close_matches(account, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            has = f"providers.aws.accounts has: {', '.join(names)}" if names else \
                "providers.aws.accounts is empty: add the account there"
            return where, f"unknown AWS account {account!r} — {hint}{has}"
    return None


def _check_references(profile: Mapping[str, Any]) -> Problem:
    return _check_backup_references(profile) or _check_costs_references(profile)


BUDGET = section(
    "A monthly budget for everything, one account or one service.",
    name=required(text("Shown in the Costs tab and as the budget label of alert samples.")),
    amount=required(number("Monthly amount in the bill's currency (USD).", minimum=0.01)),
    account=text("Only this account's spend (a providers.aws.accounts name).",
                 default_doc="every account"),
    service=text("Only this service's spend, as Cost Explorer names it, e.g. Amazon Elastic "
                 "Compute Cloud - Compute.", default_doc="every service"),
    warn=number("Used fraction shown as a warning (yellow); 1.0 and above is red.", 0.8,
                minimum=0.01, maximum=1.0),
)

COSTS_SCHEMA = section(
    "Spend from AWS Cost Explorer, budgets, idle resources and Kubernetes cost per namespace.",
    enabled=boolean("Show costs when providers.aws or providers.kubernetes is configured.", True),
    account=text("Account whose Cost Explorer is read: the management (payer) account sees "
                 "every linked account.", default_doc="the first of providers.aws.accounts"),
    interval=duration("Time between Cost Explorer reads. Each request costs 0.01 USD: keep "
                      "it hourly or slower.", 3600.0, minimum=300.0),
    cache_file=path("Cost Explorer answers kept across restarts (JSON).",
                    default_doc="costs-cache.json in the log's default directory"),
    metric=enum("Which Cost Explorer cost: UnblendedCost matches the invoice; AmortizedCost "
                "spreads reservation fees over the month.", CE_METRICS, "UnblendedCost"),
    forecast=boolean("Ask GetCostForecast (one request per interval); otherwise, or when it "
                     "does not answer, estimate from the mean of the last 7 days.", True),
    recommendations=boolean("Read reservation and Savings Plans purchase recommendations "
                            "(two requests a day).", True),
    aws_budgets=boolean("Also list the budgets defined in AWS Budgets.", True),
    budgets=list_of(BUDGET, "Monthly budgets; used % and forecast against each.",
                    check=_check_budgets),
    waste=section(
        "The idle and waste finder.",
        enabled=boolean("Look for idle and wasted resources.", True),
        interval=duration("Time between scans.", 3600.0, minimum=60.0),
        stopped_days=integer("Instances stopped longer than this (their volumes still cost).",
                             14, minimum=1),
        snapshot_days=integer("Snapshots older than this that no retention policy keeps.", 90,
                              minimum=1),
        idle_days=integer("Days without connections (RDS) or with too few requests (load "
                          "balancers) before they count as idle.", 7, minimum=1, maximum=14),
        lb_min_requests=integer("A load balancer with fewer requests a day than this is idle.",
                                100, minimum=0),
        low_cpu_percent=number("Daily average CPU at or below this is a low day.", 10.0,
                               minimum=0.1, maximum=100.0),
        low_cpu_days=integer("Low days out of the last 14 that make an instance low-utilisation.",
                             4, minimum=1, maximum=14),
        prices=path("YAML price table merged over the bundled one (config/prices/aws.yaml).",
                    default_doc="the bundled table only"),
    ),
    kubernetes=section(
        "Cost per namespace: requests x the node's hourly price share (the OpenCost method).",
        enabled=boolean("Compute Kubernetes cost per namespace.", True),
        cpu_hour=number("Price of one vCPU-hour for nodes of unknown instance type.", 0.031611,
                        minimum=0.0),
        memory_gib_hour=number("Price of one GiB-hour of memory for nodes of unknown type.",
                               0.004237, minimum=0.0),
    ),
)


# --------------------------------------------------------------------------- http, prometheus, alertmanager


def _check_http_check(check: Mapping[str, Any]) -> Problem:
    if not _CHECK_NAME.match(check["name"]):
        return "name", (f"check name {check['name']!r}: use lower-case letters, digits, '-' and '_' "
                        "(it becomes the metric path http.NAME.…)")
    if problem := check_url(check["url"], "https://api.example.com/health",
                            credentials="headers (Authorization: ${TOKEN})"):
        return "url", problem
    if check["body_match"] is not None and (problem := check_regex(check["body_match"])):
        return "body_match", problem
    if check["body"] is not None and check["method"] not in ("POST", "PUT"):
        return "body", f"a body is sent with POST or PUT, not {check['method']} — set method or remove body"
    if check["window"] < check["interval"]:
        return "window", (f"window ({format_duration(check['window'])}) is shorter than the interval "
                          f"({format_duration(check['interval'])}) — it would hold at most one request")
    return None


def _check_http_checks(checks: Sequence[Mapping[str, Any]]) -> Problem:
    return _check_unique_names(checks, "check")


def _check_auth(body: Mapping[str, Any], example: str) -> Problem:
    if problem := check_url(body["url"], example, credentials="username and password"):
        return "url", problem
    if body["password"] and not body["username"]:
        return "password", "a password needs a username: set username too"
    if body["bearer_token"] and body["username"]:
        return "bearer_token", "give username/password or bearer_token, not both"
    return None


def _check_prometheus(body: Mapping[str, Any]) -> Problem:
    for i, query in enumerate(body["queries"]):
        if not _QUERY_NAME.match(query["name"]):
            return f"queries[{i}].name", (
                f"query name {query['name']!r}: start with a lower-case letter, then lower-case "
                "letters, digits and '_' (it becomes the metric prometheus.NAME)")
        if not query["query"].strip():
            return f"queries[{i}].query", "the query is empty — give a PromQL expression"
    if problem := _check_unique_names(body["queries"], "query"):
        return f"queries{problem[0]}", problem[1]
    return _check_auth(body, "http://prometheus:9090")


def _check_alertmanager(body: Mapping[str, Any]) -> Problem:
    return _check_auth(body, "http://alertmanager:9093")


def _auth_fields(what: str) -> dict[str, Field]:
    return {
        "username": text(f"Basic auth user of {what}.", default_doc="no basic auth"),
        "password": text("Basic auth password; use ${ENV_VAR}.", secret=True),
        "bearer_token": text("Bearer token instead of basic auth; use ${ENV_VAR}.", secret=True),
    }


HTTP_SCHEMA = section(
    "HTTP health checks: status, latency (avg/p95/p99 over a window), error rate and "
    "consecutive failures of each URL.",
    checks=list_of(
        section(
            "One URL requested on an interval.",
            name=required(text("Short name ([a-z0-9_-]); the metrics are http.NAME.…")),
            url=required(text("The http(s) URL to request.")),
            method=enum("Request method.", HTTP_METHODS, "GET"),
            expect_status=list_of(integer("A status code.", minimum=100, maximum=599),
                                  "Statuses that pass.", default_doc="any 2xx or 3xx"),
            body_match=text("A regular expression the response body must contain.",
                            default_doc="any body"),
            headers=mapping_of(text("A header value (a secret).", secret=True),
                               "Request headers, e.g. Authorization: Bearer ${TOKEN}.",
                               default_doc="none"),
            body=text("Request body (POST and PUT).", default_doc="none"),
            interval=duration("Time between requests.", 30.0, minimum=1.0),
            timeout=duration("A response slower than this fails.", 10.0, minimum=0.1),
            window=duration("Span of the latency percentiles and the error rate.", 900.0, minimum=1.0),
            verify_tls=boolean("Check the server's TLS certificate.", True),
            check=_check_http_check,
        ),
        "URLs to check; none leaves the http view with setup hints.",
        check=_check_http_checks,
    ),
)

PROMETHEUS_SCHEMA = optional(section(
    "A Prometheus server: configured queries become series (prometheus.NAME) for sparklines "
    "and rules.",
    url=required(text("Base URL, e.g. http://prometheus:9090.")),
    queries=list_of(
        section(
            "One PromQL query, polled as an instant query.",
            name=required(text("Metric name ([a-z][a-z0-9_]*): rules see prometheus.NAME.")),
            query=required(text("The PromQL expression, e.g. sum by (job) (up).")),
            range=duration("How far back the first poll backfills the sparkline.", 3600.0,
                           minimum=0.0),
            step=duration("Resolution of that backfill.", 60.0, minimum=1.0),
        ),
        "Queries to poll.",
    ),
    interval=duration("Time between polls.", 30.0, minimum=1.0),
    timeout=duration("A query slower than this fails.", 10.0, minimum=0.1),
    **_auth_fields("Prometheus"),
    check=_check_prometheus,
))

ALERTMANAGER_SCHEMA = optional(section(
    "An Alertmanager: its alerts are listed on the Alerts tab; silences made there go to it.",
    url=required(text("Base URL, e.g. http://alertmanager:9093.")),
    interval=duration("Time between polls.", 15.0, minimum=1.0),
    timeout=duration("A request slower than this fails.", 10.0, minimum=0.1),
    **_auth_fields("Alertmanager"),
    check=_check_alertmanager,
))


ROLE_NAMES = ("viewer", "operator", "admin")

ROLES_SCHEMA = optional(section(
    "Who may do what, by Unix user and group (SUDO_USER when run through sudo as root). "
    "viewer reads only; operator also runs safe and disruptive actions (stop, reboot, "
    "switchover, scale); admin also runs destructive ones (failover, delete, prune). "
    "Absent: everyone has the profile's role.",
    default=enum("Role of a user matched by neither users nor groups.", ROLE_NAMES, "viewer"),
    users=mapping_of(enum("A role.", ROLE_NAMES), "Unix user name: role. Wins over the "
                     "user's groups.", default_doc="none"),
    groups=mapping_of(enum("A role.", ROLE_NAMES), "Unix group name: role. A member of "
                      "several gets the highest.", default_doc="none"),
))

SECURITY_SCHEMA = section(
    "Security findings (Security tab, stacktop report security): open ports, unencrypted "
    "data, missing MFA, old keys, root use; privileged or root pods.",
    enabled=boolean("Scan when providers.aws or providers.kubernetes is configured.", True),
    interval=duration("Time between scans (IAM, S3 and every security group are read).",
                      3600.0, minimum=300.0),
    ports=list_of(integer("A TCP port.", minimum=1, maximum=65535),
                  "Ports that must not be open to 0.0.0.0/0 or ::/0.",
                  (22, 3389, 1433, 1521, 3306, 5432, 5439, 6379, 9200, 11211, 27017)),
    key_max_age=duration("Access keys older than this are a finding.", 90 * 86400.0,
                         minimum=86400.0),
    root_use_window=duration("Root account use (credential report) within this is a finding.",
                             30 * 86400.0, minimum=86400.0),
    ignore=list_of(text("CHECK:RESOURCE, as the finding shows it."),
                   "Findings accepted on purpose (a bastion's port 22), hidden from the tab "
                   "and reports."),
)

PROFILE_SCHEMA = section(
    "One profile: everything stacktop needs to know to run.",
    check=_check_references,
    role=enum(
        "Role of everyone when roles is not configured (a single-user machine): viewer "
        "reads only, operator runs safe and disruptive actions, admin also destructive ones.",
        ROLE_NAMES,
        "operator",
    ),
    roles=ROLES_SCHEMA,
    user=text(
        "A display name recorded beside the Unix user in audit records; never used to "
        "choose a role.",
        default_doc="none",
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
            "Audit file (JSON lines, fsync'ed per record, each chained to the one before).",
            default_doc="audit.jsonl in the log's default directory",
        ),
        rotate_bytes=integer("Past this size the file becomes FILE.1 (older ones shift to "
                             "FILE.2 …; none is deleted) and the chain goes on in a new file.",
                             10 * 1024 * 1024, minimum=4096),
        key_file=path("A file holding a secret (readable by stacktop only): records are "
                      "chained with HMAC-SHA256 under it, so nobody without it can forge "
                      "a chain.", default_doc="none: plain SHA-256"),
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
        http=HTTP_SCHEMA,
        prometheus=PROMETHEUS_SCHEMA,
        alertmanager=ALERTMANAGER_SCHEMA,
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
    backups=BACKUPS_SCHEMA,
    alerts=ALERTS_SCHEMA,
    costs=COSTS_SCHEMA,
    security=SECURITY_SCHEMA,
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
            if child.kind == "section" and not (child.optional and name not in items):
                result[name] = self.section(child, items.get(name))
            elif name in items:
                result[name] = self.value(child, items[name])
            else:
                result[name] = child.default
        if schema.check is not None and node is not None and (problem := schema.check(result)):
            raise problem_error(node, problem)
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
                raise problem_error(node, problem)
            return values
        if spec.kind == "map":
            return self.mapping(spec, node)
        if spec.kind == "argv":
            return self.argv(node)
        result = self.scalar(spec, node)
        if spec.secret and isinstance(result, str) and result:
            self.secrets.add(result)
        return result

    def mapping(self, spec: Field, node: Located) -> dict[str, Any]:
        if not isinstance(node.value, dict):
            raise node.error(f"expected a mapping like {{name: value}}, got {show_value(node.value)}")
        assert spec.item is not None
        return {key: self.value(spec.item, item) for key, item in node.value.items()}

    def argv(self, node: Located) -> tuple[str, ...]:
        value = node.value
        if isinstance(value, str):
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise node.error(f"cannot split this command line ({exc}) — check its quotes, "
                                 "or write it as a list of arguments") from None
        elif isinstance(value, list):
            words = []
            for item in value:
                if not isinstance(item.value, str):
                    raise item.error(f"expected text, got {show_value(item.value)} — quote it")
                words.append(item.value)
        else:
            raise node.error(f"expected a command line (text or a list of arguments), "
                             f"got {show_value(value)}")
        if not words or not words[0].strip():
            raise node.error("the command is empty — give the program to run, e.g. pgbackrest")
        return tuple(words)

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


_PATH_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def locate(node: Located, where: str) -> Located:
    """The node at key path ``where`` below ``node``, or the deepest one written on the way
    (a key left to its default has no line of its own; its section does)."""
    for index, key in _PATH_STEP.findall(where):
        value = node.value
        if key and isinstance(value, dict) and key in value:
            node = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            node = value[int(index)]
        else:
            break
    return node


def problem_error(node: Located, problem: str | tuple[str, str]) -> ConfigError:
    """A check's problem as an error at the line it names."""
    if isinstance(problem, tuple):
        where, message = problem
        return locate(node, where).error(message)
    return node.error(problem)


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
             "duration": "duration", "path": "path", "section": "section",
             "argv": "command line (string or list)"}
    if spec.kind == "enum":
        kind = "one of " + ", ".join(f"`{choice}`" for choice in spec.choices)
    elif spec.kind == "list":
        assert spec.item is not None
        kind = f"list of {_type_text(spec.item)}s"
    elif spec.kind == "map":
        assert spec.item is not None
        kind = f"mapping of name to {_type_text(spec.item)}"
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
        return "required" if spec.required else "optional" if spec.optional else ""
    if spec.required:
        return "required"
    if default is None or (spec.default_doc and default in ((), "")):
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
            literal = spec.default is not None and not spec.required and not (
                spec.default in ("", ()) and spec.default_doc)
            default = f"`{default}`" if literal else default
        cells = [f"`{key_path}`", _type_text(spec), default, spec.doc]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"

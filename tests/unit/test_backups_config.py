"""The `backups` section as an operator writes it: what it becomes, and each mistake as
one line at the key to change."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.model import (
    BackupSettings,
    BackupSourceSettings,
    BackupTargetSettings,
    RetentionSettings,
    VerifyCheckSettings,
    VerifySettings,
)
from config.schema import PROFILE_SCHEMA, check_pattern

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "examples" / "backups.yaml"

AWS = """\
providers:
  aws:
    accounts:
      - {name: prod, regions: [eu-west-1, us-east-1]}
      - {name: lab, regions: [all-enabled]}
"""


def load(tmp_path: Path, body: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(body))
    return load_settings(str(path), env={"HOME": str(tmp_path), **(env or {})})


def error(tmp_path: Path, body: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, body)
    assert "\n" not in str(caught.value)
    return caught.value


def one_target(source: str, extra: str = "", head: str = "") -> str:
    return head + "backups:\n  targets:\n    - name: t\n      source:\n" + textwrap.indent(
        textwrap.dedent(source), " " * 8) + textwrap.indent(textwrap.dedent(extra), " " * 6)


# ---------------------------------------------------------------- what a file becomes


def test_example_has_every_source_kind_mapped_into_the_dataclasses(tmp_path: Path) -> None:
    settings = load_settings(str(EXAMPLE), env={"HOME": str(tmp_path)})
    targets = {t.name: t for t in settings.backups.targets}
    assert {t.source.kind for t in targets.values()} == {
        "ebs", "rds", "aws_backup", "kubernetes", "pgbackrest", "dumps"}
    pgbr = targets["orders-pgbackrest"]
    assert pgbr.source.command == ("sudo", "-u", "postgres", "pgbackrest",
                                   "--config=/etc/pgbackrest/pgbackrest.conf")
    assert pgbr.source.stanza == "main"
    assert (pgbr.rpo, pgbr.rpo_warn, pgbr.timezone) == (26 * 3600, 25 * 3600, "Europe/Berlin")
    assert pgbr.retention == RetentionSettings(keep_daily=7, keep_weekly=4, keep_monthly=12, min_keep=3)
    assert pgbr.verify == VerifySettings(
        database="orders", checks=(VerifyCheckSettings(query="SELECT count(*) FROM orders", min=1.0,
                                                       name="orders exist"),))
    s3 = targets["shop-dumps"].source
    assert (s3.account, s3.region, s3.bucket, s3.prefix, s3.directory, s3.format) == (
        "prod", "eu-west-1", "acme-db-dumps", "shop/", None, "mysqldump")
    assert targets["app-snapshots"].source.tags == (("app", "shop"), ("backup", "nightly"))
    kube = targets["shop-pvc"].source
    assert (kube.namespace, kube.pvc, kube.snapshot_class, kube.context) == (
        "shop", "data-shop-db-0", "csi-snapclass", None)
    assert targets["shop-pvc"].interval == 60.0


def test_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, one_target("pgbackrest: {stanza: main}\n"))
    target = settings.backups.targets[0]
    assert target == BackupTargetSettings(
        name="t", source=BackupSourceSettings(kind="pgbackrest", stanza="main"))
    assert settings.backups.verification_log == str(
        tmp_path / ".local" / "state" / "stacktop" / "backup-verifications.jsonl")
    assert (settings.backups.pg_bin_dir, settings.backups.scratch_dir) == (None, None)


def test_no_backups_section_means_no_targets(tmp_path: Path) -> None:
    assert load(tmp_path, "role: viewer\n").backups.targets == ()


@pytest.mark.parametrize(("section", "dataclass_type"), [
    ("backups.targets[].retention", RetentionSettings),
    ("backups.targets[].verify", VerifySettings),
    ("backups.targets[].verify.checks[]", VerifyCheckSettings),
])
def test_schema_defaults_match_dataclass_defaults(section: str, dataclass_type: type) -> None:
    schema = PROFILE_SCHEMA
    for part in section.split("."):
        schema = schema.fields[part.removesuffix("[]")]
        if part.endswith("[]"):
            assert schema.item is not None
            schema = schema.item
    for f in dataclasses.fields(dataclass_type):
        expected = f.default if f.default is not dataclasses.MISSING else None
        if f.name == "checks":
            continue
        assert schema.fields[f.name].default == expected, f"{section}.{f.name}"


def test_target_defaults_match_the_dataclass() -> None:
    schema = PROFILE_SCHEMA.fields["backups"].fields["targets"].item
    assert schema is not None
    for name in ("interval", "timeout", "schedule", "grace", "rpo", "rpo_warn", "timezone"):
        assert schema.fields[name].default == BackupTargetSettings.__dataclass_fields__[name].default


def test_paths_are_resolved(tmp_path: Path) -> None:
    settings = load(tmp_path, """\
        backups:
          verification_log: state/verify.jsonl
          pg_bin_dir: /usr/lib/postgresql/15/bin
          scratch_dir: ~/scratch
          targets:
            - name: d
              source: {dumps: {directory: dumps}}
        """)
    assert settings.backups.verification_log == str(tmp_path / "state" / "verify.jsonl")
    assert settings.backups.scratch_dir == str(tmp_path / "scratch")
    assert settings.backups.targets[0].source.directory == str(tmp_path / "dumps")


def test_pgbackrest_command_as_list_and_string(tmp_path: Path) -> None:
    listed = load(tmp_path, one_target(
        "pgbackrest: {stanza: m, command: [sudo, -u, postgres, pgbackrest]}\n"))
    split = load(tmp_path, one_target(
        "pgbackrest: {stanza: m, command: \"pgbackrest '--config=/a b.conf'\"}\n"))
    assert listed.backups.targets[0].source.command == ("sudo", "-u", "postgres", "pgbackrest")
    assert split.backups.targets[0].source.command == ("pgbackrest", "--config=/a b.conf")


def test_dumps_password_is_a_secret_and_check_lines_never_show_it(tmp_path: Path) -> None:
    settings = load(tmp_path, one_target("""\
        dumps:
          directory: /var/backups/orders
          dsn: host=db user=backup dbname=orders
          password: ${ORDERS_PW}
        """), env={"ORDERS_PW": "s3cret-pw-123"})
    assert settings.backups.targets[0].source.password == "s3cret-pw-123"
    assert "s3cret-pw-123" in settings.secrets
    text = "\n".join(settings.describe())
    assert "s3cret-pw-123" not in text


def test_any_region_of_an_all_enabled_account(tmp_path: Path) -> None:
    settings = load(tmp_path, one_target(
        "rds: {account: lab, region: ap-south-2, instance: db1}\n", head=AWS))
    assert settings.backups.targets[0].source.region == "ap-south-2"


def test_kubernetes_source_with_a_listed_context(tmp_path: Path) -> None:
    head = "providers:\n  kubernetes: {enabled: true, contexts: [prod, staging]}\n"
    settings = load(tmp_path, one_target("kubernetes: {context: staging, pvc: data}\n", head=head))
    assert settings.backups.targets[0].source.context == "staging"
    assert settings.backups.targets[0].source.namespace == "default"


def test_describe_lists_every_target(tmp_path: Path) -> None:
    settings = load_settings(str(EXAMPLE), env={"HOME": str(tmp_path)})
    lines = settings.describe()
    header = next(i for i, line in enumerate(lines) if line.startswith("backups "))
    assert lines[header].startswith("backups   8 target(s); restore tests logged to ")
    body = lines[header + 1:header + 9]
    assert body[0] == ("  target orders-pgbackrest: pgBackRest stanza main via sudo -u postgres pgbackrest "
                       "--config=/etc/pgbackrest/pgbackrest.conf; schedule 30 1 * * *; rpo 1d2h; "
                       "keep 7 daily, 4 weekly, 12 monthly; min 3")
    assert body[1] == ("  target orders-dumps: pg_dump files in /var/backups/orders named "
                       "orders-%Y%m%d-%H%M%S.dump; schedule 15 */6 * * *; rpo 7h; "
                       "keep last 8, 14 daily, 6 monthly; min 1; max age 400d")
    assert "s3://acme-db-dumps/shop/ in prod/eu-west-1; schedule none; rpo 2d" in body[2]
    assert body[4].endswith("EBS snapshots of tagged app=shop, backup=nightly in prod/us-east-1; "
                            "schedule none; rpo 1d; keep everything (no retention rule)")
    assert "VolumeSnapshots of PVC shop/data-shop-db-0" in body[7]


def test_settings_default_is_an_empty_backup_section() -> None:
    assert BackupSettings().targets == ()


# ---------------------------------------------------------------- mistakes, one line each


@pytest.mark.parametrize(("body", "line", "message"), [
    (one_target("{}\n"), 5, "give exactly one of ebs, rds, aws_backup, kubernetes, pgbackrest or dumps "
                            "(got none)"),
    ("backups:\n  targets:\n    - name: t\n      rpo: 1d\n", 3, "missing key 'source' — where the target's"),
    (one_target("pgbackrest: {stanza: a}\n") + "    - name: t\n      source: {pgbackrest: {stanza: b}}\n",
     6, "target names must be unique; t appears more than once"),
    ("backups:\n  targets:\n    - name: Orders\n      source: {pgbackrest: {stanza: a}}\n", 3,
     "target name 'Orders': use lower-case letters, digits, '-' and '_'"),
    (one_target("pgbackrest: {stanza: a}\n", "timezone: Europe/Berln\n"), 6,
     "unknown time zone 'Europe/Berln' — use an IANA name like Europe/Berlin or UTC"),
    (one_target("pgbackrest: {stanza: a}\n", "rpo_warn: 1h\n"), 6, "rpo_warn needs rpo"),
    (one_target("pgbackrest: {stanza: a}\n", "schedule: '0 0 * *'\n"), 6,
     "not a cron schedule: \"0 0 * *\": expected 5 fields"),
    (one_target("pgbackrest: {stanza: a}\n", "retention: {keep_daily: -1}\n"), 6,
     "must be at least 0, got -1"),
    (one_target("pgbackrest: {stanza: a}\n", "retention: {min_keep: 0}\n"), 6, "must be at least 1, got 0"),
    (one_target("pgbackrest: {stanza: a}\n", "verify: {checks: [{query: SELECT 1, min: 5, max: 2}]}\n"),
     6, "max (2) is below min (5) — no value could pass"),
    (one_target("pgbackrest: {stanza: a}\n", "verify: {checks: [{min: 5}]}\n"),
     6, "missing key 'query'"),
    (one_target("pgbackrest: {stanza: a, command: \"pgbackrest '--config\"}\n"), 5,
     "cannot split this command line (No closing quotation) — check its quotes"),
    (one_target("pgbackrest: {stanza: a, command: []}\n"), 5, "the command is empty"),
    (one_target("pgbackrest: {command: pgbackrest}\n"), 5, "missing key 'stanza'"),
    (one_target("dumps: {directory: /d, format: mysqldump}\n",
                "verify: {checks: [{query: SELECT 1}]}\n"), 6,
     "restore tests read pg_dump files; this target's dumps are mysqldump — remove verify or set format: "
     "pg_dump"),
    (one_target("dumps: {format: pg_dump}\n"), 5, "give directory (a local path) or s3"),
    (one_target("dumps: {directory: /d, s3: {account: prod, region: eu-west-1, bucket: b1b}}\n", head=AWS),
     10, "give directory or s3, not both"),
    (one_target("dumps: {directory: /d, pattern: '%Y/%m/%d.dump'}\n"), 5,
     "a pattern is a file name, not a path"),
    (one_target("dumps: {directory: /d, dsn: host=db password=x dbname=o}\n"), 5,
     "take the password out of the DSN and set dumps.password"),
    (one_target("dumps: {s3: {account: prod, region: eu-west-1, bucket: Bad_Bucket}}\n", head=AWS), 10,
     "'Bad_Bucket' is not an S3 bucket name"),
    (one_target("dumps: {s3: {account: prod, region: eu-west-3, bucket: dumps}}\n", head=AWS), 10,
     "region 'eu-west-3' is not one of account prod's regions (eu-west-1, us-east-1) — add it there"),
    (one_target("ebs: {account: prod, region: eu-west-1}\n", head=AWS), 10,
     "give volume_id (vol-…) or tags"),
    (one_target("ebs: {account: prod, region: eu-west-1, volume_id: vol-1, tags: {a: b}}\n", head=AWS), 10,
     "give volume_id or tags, not both"),
    (one_target("ebs: {account: prod, region: eu-west-1, volume_id: vol-1}\n", head=AWS), 10,
     "'vol-1' is not a volume id like vol-0123456789abcdef0"),
    (one_target("ebs: {account: prod, region: eu-west-1, tags: [a, b]}\n", head=AWS), 10,
     "expected a mapping like {name: value}, got a list"),
    (one_target("ebs: {account: prod, region: eu-west-1, tags: {tier: 1}}\n", head=AWS), 10,
     "expected text, got 1 — quote it: '1'"),
    (one_target("rds: {account: prod, instance: db1}\n", head=AWS), 10, "missing key 'region'"),
    (one_target("rds: {account: prod, region: euwest1, instance: db1}\n", head=AWS), 10,
     "'euwest1' is not a region name like eu-west-1"),
    (one_target("rds: {account: prod, region: eu-west-1, instance: db1}\n"), 5,
     "unknown AWS account 'prod' — providers.aws.accounts is empty: add the account there"),
    (one_target("aws_backup: {account: lab, region: eu-west-1, vault: v, resource_arn: vol-1}\n", head=AWS),
     10, "resource_arn must be an ARN like arn:aws:"),
    (one_target("kubernetes: {namespace: Shop, pvc: data}\n"), 5, "'Shop' is not a namespace name"),
    (one_target("kubernetes: {context: dev, pvc: data}\n",
                head="providers:\n  kubernetes: {enabled: true, contexts: [prod]}\n"), 7,
     "context 'dev' is not one of providers.kubernetes.contexts: prod"),
])
def test_mistake_is_one_line_at_the_key_to_fix(tmp_path: Path, body: str, line: int, message: str) -> None:
    caught = error(tmp_path, body)
    assert caught.line == line, str(caught)
    assert message in str(caught), str(caught)
    assert str(caught).startswith(f"{tmp_path / 'config.yaml'}:{line}:")


def test_error_points_at_the_nested_key(tmp_path: Path) -> None:
    caught = error(tmp_path, one_target("""\
        ebs:
          account: prod
          region: eu-west-1
          volume_id: vol-1
        """, head=AWS))
    assert caught.key_path == "backups.targets[0].source.ebs.volume_id"
    assert caught.line == 13


def test_errors_in_a_profile_name_the_profile_path(tmp_path: Path) -> None:
    caught = error(tmp_path, """\
        default_profile: prod
        profiles:
          base:
            backups:
              targets:
                - name: t
                  source: {pgbackrest: {stanza: a}}
                  rpo: 1h
                  rpo_warn: 2h
          prod:
            extends: base
        """)
    assert caught.key_path == "profiles.base.backups.targets[0].rpo_warn"
    assert caught.line == 9


def test_a_secret_password_is_not_echoed_in_a_type_error(tmp_path: Path) -> None:
    caught = error(tmp_path, one_target("dumps: {directory: /d, password: [hunter2]}\n"))
    assert "hunter2" not in str(caught)


@pytest.mark.parametrize("pattern", [
    "orders-%Y%m%d-%H%M%S.dump", "db_%Y-%j.sql.gz", "x-%Y%m%dT%H%M%S%z.tar", "100%%-%Y%m%d.dump",
    "orders-*.dump", "latest.dump"])
def test_good_patterns(pattern: str) -> None:
    assert check_pattern(pattern) is None


@pytest.mark.parametrize(("pattern", "message"), [
    ("orders-%F.dump", "%F is not allowed"),
    ("orders-%Y%m%d-%", "a lone % at the end is not allowed"),
    ("orders-%y%m%d.dump", "%y is not allowed"),
])
def test_bad_patterns(pattern: str, message: str) -> None:
    problem = check_pattern(pattern)
    assert problem is not None and message in problem

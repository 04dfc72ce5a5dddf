"""The plain functions behind the views: no app, no terminal."""

from __future__ import annotations

import pytest

from providers.aws.records import PartitionStatus
from providers.aws.snapshot import AwsSnapshot
from tests.support.apps import FIXED_NOW, recorded_aws_snapshot, recorded_ec2, recorded_rds
from tui.keymap import RESOURCE_VIEWS, available_views, detail_keys, help_rows, scope_label, view_keys
from tui.screens.aws_views import (
    EC2,
    SERVICES,
    age_of,
    column_widths,
    ec2_target,
    empty_text,
    fit_columns,
    format_unit,
    partition_line,
    partition_problem,
    rds_target,
)
from tui.screens.resources import action_scopes
from widgets.status_line import SourceStatus, group_sources, render_sources


def test_aws_sources_share_one_entry_with_the_worst_health() -> None:
    sources = [
        SourceStatus("host", "ok", ""),
        SourceStatus("aws.ec2", "ok", ""),
        SourceStatus("aws.rds", "error", "3m", "timed out after 10s"),
        SourceStatus("aws.s3", "partial", "", "prod: access denied"),
        SourceStatus("aws.elb", "error", "5m", "connection refused"),
    ]
    host, aws = group_sources(sources)
    assert host == sources[0]
    assert aws == SourceStatus("aws", "error", "3m", "rds: timed out after 10s", "2/4")
    assert render_sources([host, aws]).plain == (
        "host ● ok │ aws ✖ error 2/4 3m: rds: timed out after 10s")


def test_a_healthy_family_is_one_short_entry() -> None:
    ok = [SourceStatus(f"aws.{s}", "ok", "") for s in ("ec2", "ebs", "rds")]
    assert render_sources(group_sources(ok)).plain == "aws ● ok"


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("width", [79, 99, 119, 159])
def test_every_view_fits_its_columns_whole(service: str, width: int) -> None:
    view = SERVICES[service]
    columns = [view.columns[i] for i in fit_columns(view, width)]
    assert sum(column_widths(columns, width)) + len(columns) - 1 <= width
    assert [c.key for c in columns][:2] == ["account", "region"]


def test_narrow_terminals_give_up_the_least_needed_columns_first() -> None:
    wide = [EC2.columns[i].key for i in fit_columns(EC2, 119)]
    narrow = [EC2.columns[i].key for i in fit_columns(EC2, 79)]
    assert "public_ip" in wide and "launched" not in wide
    assert narrow == ["account", "region", "name", "id", "type", "state", "cpu"]


def _snapshot(*parts: PartitionStatus, service: str = "ec2") -> AwsSnapshot:
    return AwsSnapshot(FIXED_NOW, service, (), parts)


def test_partition_line_says_who_answered_and_why_not() -> None:
    ok = [PartitionStatus("prod", r, True, 3, None, FIXED_NOW) for r in ("us-east-1", "eu-west-1")]
    assert partition_line(_snapshot(*ok), None) == ("1 account · 2 regions ok", False)
    failing = PartitionStatus("staging", "eu-west-1", False, 0, "access denied to ec2:DescribeInstances",
                              FIXED_NOW - 300)
    text, problem = partition_line(_snapshot(*ok, failing), None)
    assert problem
    assert text == "2/3 answered · staging/eu-west-1: access denied to ec2:DescribeInstances (data 5m old)"
    s3 = [PartitionStatus(a, "global", True, 1) for a in ("prod", "staging")]
    assert partition_line(_snapshot(*s3, service="s3"), None) == ("2 accounts ok", False)
    assert partition_line(None, None) == ("waiting for the first answer from AWS…", False)
    assert partition_line(None, "AwsUnavailable: prod/us-east-1: no credentials") == (
        "no answer yet: AwsUnavailable: prod/us-east-1: no credentials", True)
    metrics = PartitionStatus("prod", "us-east-1", True, 3, "metrics: throttled")
    assert partition_line(_snapshot(metrics), None) == (
        "1 account · 1 region ok · prod/us-east-1: metrics: throttled", False)


def test_empty_text_names_where_it_looked() -> None:
    snap = recorded_aws_snapshot("ec2", 0)
    empty = AwsSnapshot(snap.taken_at, "ec2", (), snap.partitions)
    assert empty_text(EC2, empty, None) == (
        "no EC2 instances in prod/eu-west-1, prod/us-east-1, staging/us-east-1; "
        "staging/eu-west-1 did not answer")
    assert empty_text(EC2, None, None) == "waiting for EC2 instances…"
    assert partition_problem(snap) == (
        "staging/eu-west-1: access denied to ec2:Describe* — grant it to the role stacktop-read "
        "(AccessDenied, staging/eu-west-1)")
    assert partition_problem(recorded_aws_snapshot("rds", 0)) is None


def test_values_print_in_their_unit_and_ages_change_only_with_their_cell() -> None:
    assert format_unit(41.25, "percent") == "41.2%"
    assert format_unit(3 * 2**30, "bytes") == "3.0 GB"
    assert format_unit(4.26, "seconds") == "4.3s"
    assert format_unit(690, "gib") == "690 GiB"
    assert format_unit(12.0, "count") == "12"
    assert format_unit(None, "count") == "—"
    assert age_of(FIXED_NOW - 3 * 86400 - 500, FIXED_NOW) == 3 * 86400
    assert age_of(FIXED_NOW - 3 * 86400 - 900, FIXED_NOW) == age_of(FIXED_NOW - 3 * 86400, FIXED_NOW)
    assert age_of(None, FIXED_NOW) is None


def test_action_targets_carry_account_region_and_the_aws_id() -> None:
    web_1 = recorded_ec2(0, FIXED_NOW)[0]
    target = ec2_target(web_1)
    assert (target.kind, target.id, target.name) == ("ec2-instance", web_1.key, "web-1")
    assert dict(target.details) == {"account": "prod", "region": "us-east-1",
                                    "instance_id": "i-001a1b2c3d4e5f601", "state": "running"}
    db = rds_target(recorded_rds(0, FIXED_NOW)[0])
    assert (db.kind, db.name, db.details["db_instance_id"], db.details["state"]) == (
        "rds-instance", "orders-db", "orders-db", "available")


def test_keymap_views_scopes_and_help_labels() -> None:
    views = available_views(["host", "aws.ec2", "aws.rds"])
    assert [v.id for v in views] == ["host", "ec2", "rds"]
    assert view_keys(available_views(["host"])) == []  # one view: nothing to pick
    keys = {k.id: k for k in view_keys(views) + detail_keys(views)}
    assert (keys["view.ec2"].key, keys["view.ec2"].action, keys["view.ec2"].scope) == (
        "e", "show_view('ec2')", "resources")
    assert keys["view.next"].key == "right_square_bracket"
    assert keys["view.details"].scope == "resources.aws"
    assert detail_keys(available_views(["host"])) == []
    assert action_scopes(views) == {"host.terminate": "resources.host", "aws.ec2.start": "resources.ec2",
                                    "aws.ec2.stop": "resources.ec2", "aws.ec2.reboot": "resources.ec2",
                                    "aws.rds.reboot": "resources.rds"}
    assert scope_label("resources.ec2", views) == "EC2 view"
    assert scope_label("resources.host", available_views(["host"])) == "resources"
    assert ("i", "Toggle the detail pane", "AWS views") in help_rows(detail_keys(views), False, views)
    assert len({v.key for v in RESOURCE_VIEWS}) == len(RESOURCE_VIEWS)

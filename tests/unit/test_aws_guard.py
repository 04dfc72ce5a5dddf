"""The read-only guard lives inside botocore: it refuses before any byte is sent,
so these tests point clients at a port nothing listens on — a refused call never
gets as far as trying to connect."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from config.model import AwsAccountSettings
from providers.aws.session import (
    ACTION_OPERATIONS,
    READ_OPERATIONS,
    AccountClients,
    ReadOnlyViolation,
    guarded_session,
)


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _clients(read_only: bool) -> AccountClients:
    account = AwsAccountSettings(name="prod", regions=("eu-west-1",), endpoint_url=_dead_url(),
                                 access_key_id="AKIDTEST", secret_access_key="secret")
    return AccountClients(account, read_only=read_only, max_attempts=1)


@pytest.mark.parametrize("operation", ["stop_instances", "start_instances", "reboot_instances",
                                       "terminate_instances"])
def test_read_only_session_refuses_mutating_ec2_calls_before_sending(operation: str) -> None:
    ec2 = _clients(read_only=True).client("ec2", "eu-west-1")
    with pytest.raises(ReadOnlyViolation, match="read-only session: ec2:"):
        getattr(ec2, operation)(InstanceIds=["i-0123456789abcdef0"])


def test_read_only_session_refuses_rds_reboot_and_s3_writes() -> None:
    clients = _clients(read_only=True)
    with pytest.raises(ReadOnlyViolation, match="rds:RebootDBInstance"):
        clients.client("rds", "eu-west-1").reboot_db_instance(DBInstanceIdentifier="db")
    with pytest.raises(ReadOnlyViolation, match="s3:PutObject"):
        clients.client("s3", "eu-west-1").put_object(Bucket="b", Key="k", Body=b"x")


def test_reads_pass_the_guard_and_reach_the_network() -> None:
    ec2 = _clients(read_only=True).client("ec2", "eu-west-1")
    with pytest.raises(EndpointConnectionError):
        ec2.describe_instances()


def test_read_write_session_allows_actions_but_nothing_stacktop_does_not_use() -> None:
    ec2 = _clients(read_only=False).client("ec2", "eu-west-1")
    with pytest.raises(EndpointConnectionError):
        ec2.stop_instances(InstanceIds=["i-0123456789abcdef0"])
    with pytest.raises(ReadOnlyViolation, match="not an operation stacktop makes"):
        ec2.terminate_instances(InstanceIds=["i-0123456789abcdef0"])


def test_allow_list_is_explicit_reads_only() -> None:
    assert not READ_OPERATIONS & ACTION_OPERATIONS
    # GenerateCredentialReport only builds IAM's report that GetCredentialReport reads.
    assert all(op.startswith(("Describe", "List", "Get")) or op in ("AssumeRole", "GenerateCredentialReport")
               for op in READ_OPERATIONS)
    assert "GetObject" not in READ_OPERATIONS  # reads data, not metadata


def test_guard_applies_to_any_session_it_is_given() -> None:
    session = guarded_session(boto3.Session(aws_access_key_id="a", aws_secret_access_key="b"),
                              read_only=True)
    lam = session.client("lambda", region_name="eu-west-1", endpoint_url=_dead_url())
    with pytest.raises(ReadOnlyViolation):
        lam.delete_function(FunctionName="f")

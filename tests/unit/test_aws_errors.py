"""Each AWS failure an operator can cause or meet becomes one line naming the fix."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ProfileNotFound

from providers.aws.errors import explain, is_throttling
from providers.aws.session import ReadOnlyViolation


def client_error(code: str, operation: str = "DescribeInstances", message: str = "no") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def say(exc: BaseException, **kw: str) -> str:
    args = {"account": "prod", "region": "eu-west-1", "service": "ec2"} | kw
    return explain(exc, **args)


@pytest.mark.parametrize(("exc", "fragment"), [
    (NoCredentialsError(), "set profile, role_arn or keys in providers.aws.accounts"),
    (ProfileNotFound(profile="prod-sso"), "check the profile name against ~/.aws/config"),
    (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "cannot reach"),
    (client_error("UnauthorizedOperation"), "access denied to ec2:DescribeInstances in prod/eu-west-1"),
    (client_error("AccessDenied"), "grant it to the role or user"),
    (client_error("ExpiredToken"), "have expired (ExpiredToken) — renew them"),
    (client_error("RequestExpired"), "renew them"),
    (client_error("AuthFailure"), "rejected the credentials"),
    (client_error("OptInRequired"), "region eu-west-1 is not enabled for account prod"),
    (client_error("RequestLimitExceeded"), "throttled by AWS (RequestLimitExceeded)"),
    (client_error("Throttling"), "retrying with backoff"),
    (client_error("AccessDenied", "AssumeRole"), "cannot assume"),
    (client_error("WeirdThing", message="first line\nsecond line"),
     "ec2:DescribeInstances failed: WeirdThing: first line"),
])
def test_each_failure_is_one_line_with_the_fix(exc: BaseException, fragment: str) -> None:
    text = say(exc)
    assert fragment in text
    assert "\n" not in text and "Traceback" not in text


def test_endpoint_named_when_known() -> None:
    text = say(EndpointConnectionError(endpoint_url="x"), endpoint="http://127.0.0.1:4566")
    assert text.startswith("cannot reach http://127.0.0.1:4566")


def test_read_only_violation_is_shown_as_is() -> None:
    assert say(ReadOnlyViolation("read-only session: ec2:StopInstances refused")).startswith("read-only")


def test_throttling_detection() -> None:
    assert is_throttling(client_error("ThrottlingException"))
    assert not is_throttling(client_error("AccessDenied"))

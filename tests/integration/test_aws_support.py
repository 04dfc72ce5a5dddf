"""The AWS test helpers themselves: moto's account separation, the fault proxy's
records and faults per wire protocol, clean shutdown, and moto behaviours the
provider relies on (pagination), so a moto upgrade that changes them shows here."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.support.aws import (
    ACCESS_DENIED,
    DEFAULT_ACCOUNT,
    EXPIRED_TOKEN,
    INTERNAL_ERROR,
    OPT_IN_REQUIRED,
    PRESETS,
    SECOND_ACCOUNT,
    TEST_KEY,
    THROTTLING,
    FaultProxy,
    MotoServer,
    assumed_credentials,
    boto_client,
    iter_instances,
    preset,
    rest_operation,
    unused_local_url,
)

pytestmark = pytest.mark.integration

AMI = "ami-12345678"


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _wait_threads_gone(predicate: Callable[[threading.Thread], bool], timeout: float = 3.0) -> list[str]:
    """Join the matching threads (up to `timeout` in all); the names of those still alive."""
    deadline = time.monotonic() + timeout
    for thread in [t for t in threading.enumerate() if predicate(t)]:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threading.enumerate() if predicate(t) and t.is_alive()]


# ------------------------------------------------------------------ moto and accounts

def test_reset_wipes_state(moto_server: MotoServer, moto_url: str) -> None:
    s3 = boto_client("s3", moto_url)
    s3.create_bucket(Bucket="wiped-by-reset")
    moto_server.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_assumed_role_reaches_a_separate_account(moto_url: str) -> None:
    role = f"arn:aws:iam::{SECOND_ACCOUNT}:role/never-created"
    creds = assumed_credentials(moto_url, role)
    who = boto_client("sts", moto_url, **creds).get_caller_identity()
    assert who["Account"] == SECOND_ACCOUNT
    assert who["Arn"] == f"arn:aws:sts::{SECOND_ACCOUNT}:assumed-role/never-created/tests"
    assert boto_client("sts", moto_url).get_caller_identity()["Account"] == DEFAULT_ACCOUNT

    staging = boto_client("ec2", moto_url, **creds)
    staging.run_instances(ImageId=AMI, MinCount=2, MaxCount=2)
    assert len(list(iter_instances(staging))) == 2
    assert list(iter_instances(boto_client("ec2", moto_url))) == []  # the base account sees none

    # The role was never created: AssumeRole does not look it up.
    with pytest.raises(ClientError) as err:
        boto_client("iam", moto_url, **creds).get_role(RoleName="never-created")
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"


def test_reset_forgets_assumed_keys(moto_server: MotoServer, moto_url: str) -> None:
    """The pitfall in the module docstring: old temporary keys fall back to the default account."""
    creds = assumed_credentials(moto_url, f"arn:aws:iam::{SECOND_ACCOUNT}:role/r")
    moto_server.reset()
    assert boto_client("sts", moto_url, **creds).get_caller_identity()["Account"] == DEFAULT_ACCOUNT


def test_a_separate_moto_server_releases_its_port_and_thread() -> None:
    before = set(threading.enumerate())
    server = MotoServer()
    boto_client("s3", server.url).list_buckets()
    server.stop()
    assert _refused(server.port)
    assert _wait_threads_gone(lambda t: t not in before) == []


def test_unused_local_url_refuses_connections(aws_env: None) -> None:
    ec2 = boto_client("ec2", unused_local_url())
    with pytest.raises(EndpointConnectionError):
        ec2.describe_instances()


# ------------------------------------------------------------------ moto behaviours the provider meets

def test_moto_pagination_behaviours(moto_url: str) -> None:
    ec2 = boto_client("ec2", moto_url)
    for _ in range(7):
        ec2.run_instances(ImageId=AMI, MinCount=2, MaxCount=2)
    # describe_instances pages by *reservation* (AWS: by instance), 100 a page when MaxResults is absent.
    page = ec2.describe_instances(MaxResults=5)
    assert len(page["Reservations"]) == 5 and page.get("NextToken")
    assert sum(len(r["Instances"]) for r in page["Reservations"]) == 10
    assert len(list(iter_instances(ec2, MaxResults=5))) == 14
    # Every instance gets a root volume; describe_volumes ignores MaxResults (one page, no token).
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)
    volumes = ec2.describe_volumes(MaxResults=5)
    assert len(volumes["Volumes"]) == 15 and not volumes.get("NextToken")

    elb = boto_client("elbv2", moto_url)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    for n in range(3):
        elb.create_load_balancer(Name=f"lb-{n}", Subnets=subnets)
    page = elb.describe_load_balancers(PageSize=2)
    assert len(page["LoadBalancers"]) == 2 and page["NextMarker"] == "lb-1"

    iam = boto_client("iam", moto_url)
    iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    lam = boto_client("lambda", moto_url)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("h.py", "def h(e, c):\n    return 1\n")
    for n in range(3):
        lam.create_function(FunctionName=f"fn-{n}", Runtime="python3.12", Handler="h.h", Code={
            "ZipFile": code.getvalue()}, Role=f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/fn")
    page = lam.list_functions(MaxItems=2)  # MaxItems ignored: everything, no NextMarker
    assert len(page["Functions"]) == 3 and not page.get("NextMarker")


# ------------------------------------------------------------------ the proxy: records

def test_proxy_records_service_region_operation_and_key(fault_proxy: FaultProxy) -> None:
    url = fault_proxy.url
    boto_client("ec2", url, region="eu-west-1").describe_instances()
    boto_client("rds", url).describe_db_instances()
    boto_client("elbv2", url).describe_load_balancers()
    boto_client("cloudwatch", url).list_metrics()
    s3 = boto_client("s3", url)
    s3.create_bucket(Bucket="recorded")
    s3.put_object(Bucket="recorded", Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket="recorded", Key="a/b.txt")["Body"].read() == b"hello"
    s3.list_objects_v2(Bucket="recorded")
    s3.head_object(Bucket="recorded", Key="a/b.txt")
    boto_client("lambda", url).list_functions()
    creds = assumed_credentials(url, f"arn:aws:iam::{SECOND_ACCOUNT}:role/r")
    boto_client("sts", url, **creds).get_caller_identity()

    assert fault_proxy.operations("ec2") == ["DescribeInstances"]
    assert fault_proxy.operations("rds") == ["DescribeDBInstances"]
    assert fault_proxy.operations("elbv2") == ["DescribeLoadBalancers"]
    assert fault_proxy.operations("cloudwatch") == ["ListMetrics"]
    assert fault_proxy.operations("s3") == ["CreateBucket", "PutObject", "GetObject", "ListObjectsV2",
                                            "HeadObject"]
    assert fault_proxy.operations("lambda") == ["ListFunctions"]
    assert fault_proxy.operations("sts") == ["AssumeRole", "GetCallerIdentity"]
    first = fault_proxy.requests[0]
    assert (first.region, first.access_key, first.status) == ("eu-west-1", TEST_KEY, 200)
    assert not first.faulted
    assert fault_proxy.requests[-1].access_key == creds["access_key"] != TEST_KEY
    fault_proxy.clear()
    assert fault_proxy.requests == [] and fault_proxy.operations() == []


def test_rest_operation_matches_http_bindings() -> None:
    assert rest_operation("s3", "GET", "/bkt", {}) == "ListObjects"
    assert rest_operation("s3", "GET", "/bkt", {"list-type": ["2"]}) == "ListObjectsV2"
    assert rest_operation("s3", "GET", "/bkt", {"location": [""]}) == "GetBucketLocation"
    assert rest_operation("s3", "PUT", "/bkt/k", {}, ["x-amz-copy-source"]) == "CopyObject"
    assert rest_operation("s3", "GET", "/bkt/k", {"uploadId": ["1"]}) == "ListParts"
    assert rest_operation("lambda", "GET", "/2015-03-31/functions/fn/configuration", {}) == \
        "GetFunctionConfiguration"
    assert rest_operation("lambda", "GET", "/nowhere/at/all", {}) == "GET /nowhere/at/all"


# ------------------------------------------------------------------ the proxy: faults

CALLS: dict[str, Callable[[str], Any]] = {
    "ec2": lambda url: boto_client("ec2", url).describe_instances(),
    "rds": lambda url: boto_client("rds", url).describe_db_instances(),
    "elbv2": lambda url: boto_client("elbv2", url).describe_load_balancers(),
    "cloudwatch": lambda url: boto_client("cloudwatch", url).list_metrics(),
    "s3": lambda url: boto_client("s3", url).list_buckets(),
    "lambda": lambda url: boto_client("lambda", url).list_functions(),
    "sts": lambda url: boto_client("sts", url).get_caller_identity(),
}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_every_fault_kind_surfaces_as_client_error(fault_proxy: FaultProxy, service: str) -> None:
    call = CALLS[service]
    for kind in PRESETS:
        fault_proxy.add_fault(service, kind=kind, times=1)
        with pytest.raises(ClientError) as err:
            call(fault_proxy.url)
        status, code = preset(kind, service)
        assert err.value.response["Error"]["Code"] == code, kind
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, kind
        call(fault_proxy.url)  # times=1: used up
    assert [r.faulted for r in fault_proxy.requests] == [True, False] * len(PRESETS)


def test_preset_codes_follow_each_service() -> None:
    assert preset(ACCESS_DENIED, "ec2") == (403, "UnauthorizedOperation")
    assert preset(ACCESS_DENIED, "rds") == (403, "AccessDenied")
    assert preset(ACCESS_DENIED, "lambda") == (403, "AccessDeniedException")
    assert preset(THROTTLING, "ec2") == (503, "RequestLimitExceeded")
    assert preset(THROTTLING, "cloudwatch") == (400, "Throttling")  # JSON, query-compatible codes
    assert preset(THROTTLING, "logs") == (400, "ThrottlingException")  # plain JSON protocol
    assert preset(OPT_IN_REQUIRED, "ec2") == (401, "OptInRequired")
    assert preset(EXPIRED_TOKEN, "ec2") == (400, "RequestExpired")
    assert preset(EXPIRED_TOKEN, "sts") == (400, "ExpiredToken")
    assert preset(INTERNAL_ERROR, "s3") == (500, "InternalError")


def test_custom_code_and_message(fault_proxy: FaultProxy) -> None:
    fault_proxy.add_fault("rds", operation="DescribeDBInstances", status=404, code="DBInstanceNotFound",
                          message="gone fishing")
    with pytest.raises(ClientError) as err:
        boto_client("rds", fault_proxy.url).describe_db_instances()
    assert err.value.response["Error"] == {"Type": "Sender", "Code": "DBInstanceNotFound",
                                           "Message": "gone fishing"}


def test_rules_match_region_operation_and_key(fault_proxy: FaultProxy) -> None:
    url = fault_proxy.url
    fault_proxy.disable_region("ap-east-1")
    fault_proxy.deny("ec2", operation="DescribeVolumes")
    fault_proxy.expire_token("AKIDEXPIRED")
    assert boto_client("ec2", url, region="us-east-1").describe_instances()
    with pytest.raises(ClientError, match="OptInRequired"):
        boto_client("ec2", url, region="ap-east-1").describe_instances()
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        boto_client("ec2", url).describe_volumes()
    with pytest.raises(ClientError, match="RequestExpired"):
        boto_client("ec2", url, access_key="AKIDEXPIRED").describe_instances()
    fault_proxy.clear_faults()
    assert boto_client("ec2", url, region="ap-east-1").describe_instances()


def test_times_counts_down_and_newest_rule_wins(fault_proxy: FaultProxy) -> None:
    ec2 = boto_client("ec2", fault_proxy.url)
    fault_proxy.deny("ec2")
    fault_proxy.throttle("ec2", times=2)
    codes = []
    for _ in range(3):
        with pytest.raises(ClientError) as err:
            ec2.describe_instances()
        codes.append(err.value.response["Error"]["Code"])
    assert codes == ["RequestLimitExceeded", "RequestLimitExceeded", "UnauthorizedOperation"]


def test_botocore_retries_are_visible(fault_proxy: FaultProxy) -> None:
    """With retries on, a throttled-once call succeeds and the proxy saw both attempts."""
    import boto3
    from botocore.config import Config

    fault_proxy.throttle("ec2", times=1)
    ec2 = boto3.client("ec2", endpoint_url=fault_proxy.url, region_name="us-east-1",
                       aws_access_key_id=TEST_KEY, aws_secret_access_key=TEST_KEY,
                       config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    ec2.describe_instances()
    assert [r.status for r in fault_proxy.requests] == [503, 200]


def test_delay_slows_without_failing(fault_proxy: FaultProxy) -> None:
    fault_proxy.add_fault("sts", delay=0.3, times=1)
    started = time.monotonic()
    boto_client("sts", fault_proxy.url).get_caller_identity()
    assert time.monotonic() - started >= 0.3
    with pytest.raises(ValueError, match="needs kind"):
        fault_proxy.add_fault("sts")


def test_proxy_reports_a_dead_upstream_as_502(aws_env: None) -> None:
    with FaultProxy(unused_local_url()) as proxy:
        with pytest.raises(ClientError) as err:
            boto_client("sts", proxy.url).get_caller_identity()
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert err.value.response["Error"]["Code"] == "BadGateway"


def test_close_leaves_no_thread_or_port(moto_url: str) -> None:
    before = set(threading.enumerate())
    proxy = FaultProxy(moto_url)
    ec2 = boto_client("ec2", proxy.url)
    ec2.describe_instances()  # leaves a keep-alive connection parked in the proxy
    ec2.describe_instances()
    assert len(proxy.requests) == 2
    proxy.close()
    proxy.close()  # idempotent
    assert _refused(proxy.port)
    assert _wait_threads_gone(lambda t: t not in before and t.name.startswith("fault-proxy")) == []

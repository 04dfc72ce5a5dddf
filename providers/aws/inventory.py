"""Blocking fetchers, one per service: a client in, plain records out.

They run in the runtime's worker threads. Every list call goes through a
paginator, so an account with thousands of instances is read completely.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from providers.aws.page_memo import PageMemo
from providers.aws.records import (
    EbsVolume,
    Ec2Instance,
    LambdaFunction,
    LoadBalancer,
    RdsInstance,
    S3Bucket,
    Tags,
    TargetGroupHealth,
    tag_value,
)

# "User initiated (2026-11-20 10:11:12 GMT)": when an instance stopped.
_TRANSITION_TIME = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")
# Page sizes per list call (the APIs' maxima, fewest round trips); tests shrink them.
PAGE_SIZE = {
    "describe_instances": 1000,
    "describe_volumes": 500,
    "describe_db_instances": 100,
    "list_buckets": 1000,
    "list_functions": 50,
    "describe_load_balancers": 400,
    "describe_target_groups": 400,
}


def epoch(value: Any) -> float | None:
    """A datetime or an ISO-8601 text (as Lambda gives) as UTC epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    text = str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo else parsed.replace(tzinfo=UTC).timestamp()


def tags_of(raw: Iterable[Mapping[str, str]] | None) -> Tags:
    return tuple(sorted((t.get("Key", ""), t.get("Value", "")) for t in raw or ()))


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterable[Any]:
    config = {"PageSize": PAGE_SIZE[operation]} if operation in PAGE_SIZE else {}
    for page in client.get_paginator(operation).paginate(PaginationConfig=config, **kwargs):
        yield from page.get(key, ())


def _records(client: Any, operation: str, region: str, memo: PageMemo | None,
             build: Callable[[dict[str, Any]], list[Any]]) -> list[Any]:
    """Every page's records; with a memo, unchanged pages are not parsed again."""
    config = {"PageSize": PAGE_SIZE[operation]} if operation in PAGE_SIZE else {}
    pages = iter(client.get_paginator(operation).paginate(PaginationConfig=config))
    if memo is None:
        return [record for page in pages for record in build(page)]
    return memo.records((operation, region), pages, build)


def fetch_ec2(client: Any, account: str, region: str, memo: PageMemo | None = None) -> list[Ec2Instance]:
    def build(page: dict[str, Any]) -> list[Ec2Instance]:
        return [_ec2_instance(raw, account, region)
                for reservation in page.get("Reservations", ()) for raw in reservation.get("Instances", ())]

    return _records(client, "describe_instances", region, memo, build)


def _ec2_instance(raw: Mapping[str, Any], account: str, region: str) -> Ec2Instance:
    tags = tags_of(raw.get("Tags"))
    state = raw.get("State", {}).get("Name", "unknown")
    transition = raw.get("StateTransitionReason", "") or ""
    since = None
    if state in ("stopped", "stopping", "terminated") and (m := _TRANSITION_TIME.search(transition)):
        since = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    reason = raw.get("StateReason", {}).get("Message", "") or transition
    return Ec2Instance(
        account=account,
        region=region,
        id=raw["InstanceId"],
        name=tag_value(tags, "Name"),
        type=raw.get("InstanceType", ""),
        state=state,
        az=raw.get("Placement", {}).get("AvailabilityZone", ""),
        private_ip=raw.get("PrivateIpAddress", "") or "",
        public_ip=raw.get("PublicIpAddress", "") or "",
        launch_time=epoch(raw.get("LaunchTime")),
        platform=raw.get("PlatformDetails") or raw.get("Platform") or "Linux/UNIX",
        state_reason=reason if state != "running" else "",
        state_since=since,
        volume_ids=tuple(m["Ebs"]["VolumeId"] for m in raw.get("BlockDeviceMappings", ())
                         if "Ebs" in m and "VolumeId" in m["Ebs"]),
        security_groups=tuple(g.get("GroupName") or g.get("GroupId", "")
                              for g in raw.get("SecurityGroups", ())),
        tags=tags,
    )


def fetch_ebs(client: Any, account: str, region: str, memo: PageMemo | None = None) -> list[EbsVolume]:
    def build(page: dict[str, Any]) -> list[EbsVolume]:
        return [_ebs_volume(raw, account, region) for raw in page.get("Volumes", ())]

    return _records(client, "describe_volumes", region, memo, build)


def _ebs_volume(raw: Mapping[str, Any], account: str, region: str) -> EbsVolume:
    tags = tags_of(raw.get("Tags"))
    attached = raw.get("Attachments") or [{}]
    return EbsVolume(
        account=account,
        region=region,
        id=raw["VolumeId"],
        name=tag_value(tags, "Name"),
        size_gib=int(raw.get("Size", 0)),
        type=raw.get("VolumeType", ""),
        iops=raw.get("Iops"),
        state=raw.get("State", ""),
        instance_id=attached[0].get("InstanceId", ""),
        device=attached[0].get("Device", ""),
        encrypted=bool(raw.get("Encrypted")),
        created=epoch(raw.get("CreateTime")),
        tags=tags,
    )


def fetch_rds(client: Any, account: str, region: str) -> list[RdsInstance]:
    out = []
    for raw in _pages(client, "describe_db_instances", "DBInstances"):
        endpoint = raw.get("Endpoint") or {}
        address = endpoint.get("Address", "")
        out.append(RdsInstance(
            account=account,
            region=region,
            id=raw["DBInstanceIdentifier"],
            engine=raw.get("Engine", ""),
            engine_version=raw.get("EngineVersion", ""),
            instance_class=raw.get("DBInstanceClass", ""),
            status=raw.get("DBInstanceStatus", ""),
            multi_az=bool(raw.get("MultiAZ")),
            allocated_gib=int(raw.get("AllocatedStorage", 0) or 0),
            endpoint=f"{address}:{endpoint['Port']}" if address and endpoint.get("Port") else address,
            replica_of=_short_db_id(raw.get("ReadReplicaSourceDBInstanceIdentifier", "") or ""),
            replicas=tuple(_short_db_id(r) for r in raw.get("ReadReplicaDBInstanceIdentifiers", ())),
            encrypted=bool(raw.get("StorageEncrypted")),
            publicly_accessible=bool(raw.get("PubliclyAccessible")),
            tags=tags_of(raw.get("TagList")),
        ))
    return out


def _short_db_id(value: str) -> str:
    """A same-region replica is named by id; a cross-region one by ARN: keep the id."""
    return value.rsplit(":", 1)[-1] if value.startswith("arn:") else value


def fetch_s3(client: Any, account: str) -> list[S3Bucket]:
    """Buckets are global per account; each bucket's region comes with the list
    (BucketRegion) or, from older endpoints, one GetBucketLocation per bucket."""
    if client.can_paginate("list_buckets"):
        raw_buckets = list(_pages(client, "list_buckets", "Buckets"))
    else:
        raw_buckets = client.list_buckets().get("Buckets", [])
    out = []
    for raw in raw_buckets:
        region = raw.get("BucketRegion") or ""
        if not region:
            location = client.get_bucket_location(Bucket=raw["Name"]).get("LocationConstraint")
            region = location or "us-east-1"  # None means us-east-1, by S3's old convention
        out.append(S3Bucket(account=account, region=region, name=raw["Name"],
                            created=epoch(raw.get("CreationDate"))))
    return out


def fetch_lambda(client: Any, account: str, region: str) -> list[LambdaFunction]:
    return [
        LambdaFunction(
            account=account,
            region=region,
            name=raw["FunctionName"],
            runtime=raw.get("Runtime", "") or raw.get("PackageType", ""),
            memory_mb=int(raw.get("MemorySize", 0) or 0),
            timeout_s=int(raw.get("Timeout", 0) or 0),
            last_modified=epoch(raw.get("LastModified")),
            code_size=int(raw.get("CodeSize", 0) or 0),
        )
        for raw in _pages(client, "list_functions", "Functions")
    ]


def fetch_elb(client: Any, account: str, region: str) -> list[LoadBalancer]:
    balancers = list(_pages(client, "describe_load_balancers", "LoadBalancers"))
    groups_by_lb: dict[str, list[TargetGroupHealth]] = {}
    for group in _pages(client, "describe_target_groups", "TargetGroups"):
        states = Counter(
            d.get("TargetHealth", {}).get("State", "unavailable")
            for d in client.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            .get("TargetHealthDescriptions", ())
        )
        health = TargetGroupHealth(
            name=group.get("TargetGroupName", ""),
            healthy=states.pop("healthy", 0),
            unhealthy=states.pop("unhealthy", 0),
            other=sum(states.values()),
        )
        for lb_arn in group.get("LoadBalancerArns", ()):
            groups_by_lb.setdefault(lb_arn, []).append(health)
    return [
        LoadBalancer(
            account=account,
            region=region,
            name=raw.get("LoadBalancerName", ""),
            arn=raw["LoadBalancerArn"],
            type=raw.get("Type", ""),
            state=raw.get("State", {}).get("Code", ""),
            dns=raw.get("DNSName", ""),
            scheme=raw.get("Scheme", ""),
            target_groups=tuple(groups_by_lb.get(raw["LoadBalancerArn"], ())),
        )
        for raw in balancers
    ]

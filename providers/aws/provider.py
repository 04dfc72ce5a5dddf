"""One provider per AWS service, each covering every account and region.

A poll reads all account/region partitions concurrently (through the runtime's
bounded thread pool). A partition that fails keeps its last good items on
screen, marked with one line saying what to fix, and is retried with its own
backoff; the others carry on. Only when every partition fails does the poll
fail as a whole (and the runtime backs off the provider).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from config.model import AwsMetricSettings
from providers.aws import inventory
from providers.aws.action_specs import ACTIONS_BY_SERVICE
from providers.aws.cloudwatch import (
    EC2_METRICS,
    ELB_METRICS,
    RDS_METRICS,
    S3_OBJECTS,
    S3_PERIOD,
    S3_SIZE,
    S3_WINDOW,
    MetricQuery,
    aligned_window,
    fetch_windows,
    queries_for,
)
from providers.aws.errors import explain
from providers.aws.records import AwsRecord, Ec2Instance, LoadBalancer, PartitionStatus, RdsInstance, S3Bucket
from providers.aws.session import AccountClients
from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionCallable, ActionResult, ActionSpec, ActionTarget, Provider

log = logging.getLogger(__name__)

GLOBAL = "global"  # the region label of S3's account-wide partition
ALL_ENABLED = "all-enabled"
REGIONS_CACHE_SECONDS = 3600.0
PARTITION_BACKOFF_CAP = 900.0
# The AWS client behind each service (EBS volumes are an EC2 API).
CLIENT_OF = {"ec2": "ec2", "ebs": "ec2", "rds": "rds", "s3": "s3", "lambda": "lambda", "elb": "elbv2"}
FETCHERS: dict[str, Callable[[Any, str, str], list[Any]]] = {
    "rds": inventory.fetch_rds,
    "lambda": inventory.fetch_lambda,
    "elb": inventory.fetch_elb,
}


class AwsUnavailable(RuntimeError):
    """Every account/region of a service failed; the message is the first reason."""


@dataclass
class _Partition:
    items: tuple[AwsRecord, ...] = ()
    fetched_at: float | None = None
    error: str | None = None
    failures: int = 0
    retry_at: float = 0.0
    answered: bool = False  # answered in this poll


class AwsServiceProvider(Provider):
    """`aws.<service>` over every configured account and region."""

    def __init__(
        self,
        service: str,
        accounts: Sequence[AccountClients],
        *,
        interval: float,
        timeout: float,
        metrics: AwsMetricSettings | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(f"aws.{service}", interval, timeout)
        if service not in CLIENT_OF:
            raise ValueError(f"unknown AWS service {service!r}")
        self.service = service
        self.accounts = {a.name: a for a in accounts}
        self.metrics = metrics if metrics is not None else AwsMetricSettings()
        self._clock = clock
        self._monotonic = monotonic
        self._partitions: dict[tuple[str, str], _Partition] = {}
        self._regions: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._rng = random.Random()

    # -- polling -----------------------------------------------------------

    async def poll(self) -> AwsSnapshot:
        pairs = await self._pairs()
        for pair in list(self._partitions):
            if pair not in pairs:  # a region dropped from all-enabled, or an account error resolved
                del self._partitions[pair]
        await asyncio.gather(*(self._poll_partition(account, region) for account, region in pairs))
        statuses = []
        items: list[AwsRecord] = []
        for (account, region), part in sorted(self._partitions.items()):
            items.extend(part.items)
            statuses.append(PartitionStatus(account, region, part.error is None or part.answered,
                                            len(part.items), part.error, part.fetched_at))
        if statuses and not any(s.ok for s in statuses):
            first = statuses[0]
            more = f" (and {len(statuses) - 1} more account/regions)" if len(statuses) > 1 else ""
            raise AwsUnavailable(f"{first.account}/{first.region}: {first.error}{more}")
        return AwsSnapshot(taken_at=self._clock(), service=self.service, items=tuple(items),
                           partitions=tuple(statuses))

    async def _pairs(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for account in self.accounts.values():
            if self.service == "s3":
                pairs.append((account.name, GLOBAL))
                continue
            try:
                regions = await self._account_regions(account)
            except Exception as exc:
                message = explain(exc, account=account.name, region=ALL_ENABLED, service="ec2",
                                  endpoint=account.account.endpoint_url, role_arn=account.account.role_arn)
                part = self._partitions.setdefault((account.name, ALL_ENABLED), _Partition())
                part.error, part.answered = message, False
                pairs.append((account.name, ALL_ENABLED))
                continue
            pairs.extend((account.name, region) for region in regions)
        return pairs

    async def _account_regions(self, account: AccountClients) -> tuple[str, ...]:
        configured = account.account.regions
        if ALL_ENABLED not in configured:
            return configured
        cached = self._regions.get(account.name)
        if cached and self._monotonic() - cached[0] < REGIONS_CACHE_SECONDS:
            return cached[1]
        client = account.client("ec2", account.home_region)
        answer = await self.run_blocking(lambda: client.describe_regions(AllRegions=False))
        regions = tuple(sorted(r["RegionName"] for r in answer.get("Regions", ())))
        self._regions[account.name] = (self._monotonic(), regions)
        return regions

    async def _poll_partition(self, account_name: str, region: str) -> None:
        part = self._partitions.setdefault((account_name, region), _Partition())
        part.answered = False
        if region == ALL_ENABLED:
            return  # the region list itself failed; reported by _pairs
        if self._monotonic() < part.retry_at:
            return  # backing off after failures; the last good items stay on screen
        account = self.accounts[account_name]
        try:
            items = await self.run_blocking(self._fetch, account, region)
        except Exception as exc:
            part.failures += 1
            part.error = explain(exc, account=account_name, region=region, service=self.service,
                                 endpoint=account.account.endpoint_url, role_arn=account.account.role_arn)
            delay = min(self.interval * 2 ** (part.failures - 1), PARTITION_BACKOFF_CAP)
            part.retry_at = self._monotonic() + delay * (1 + self._rng.uniform(0, 0.2))
            log.warning("aws %s %s/%s failed: %s", self.service, account_name, region, part.error)
            return
        part.failures, part.retry_at, part.error = 0, 0.0, None
        part.fetched_at = self._clock()
        part.answered = True
        if self.metrics.enabled:
            try:
                items = await self.run_blocking(self._with_metrics, account, items)
            except Exception as exc:
                # The inventory is good; say why the sparklines are missing and keep the old ones.
                part.error = "metrics: " + explain(exc, account=account_name, region=region,
                                                   service="cloudwatch",
                                                   endpoint=account.account.endpoint_url)
                previous = {item.key: item for item in part.items}
                items = [_keep_metrics(item, previous.get(item.key)) for item in items]
        part.items = tuple(items)

    def _fetch(self, account: AccountClients, region: str) -> list[AwsRecord]:
        client_region = account.home_region if region == GLOBAL else region
        client = account.client(CLIENT_OF[self.service], client_region)
        if self.service == "s3":
            return list(inventory.fetch_s3(client, account.name))
        if self.service == "ec2":
            return list(inventory.fetch_ec2(client, account.name, region, account.pages))
        if self.service == "ebs":
            return list(inventory.fetch_ebs(client, account.name, region, account.pages))
        return list(FETCHERS[self.service](client, account.name, region))

    # -- CloudWatch ----------------------------------------------------------

    def _with_metrics(self, account: AccountClients, items: list[AwsRecord]) -> list[AwsRecord]:
        """Attach CloudWatch windows; one batched GetMetricData series per region."""
        if self.service == "s3":
            return self._s3_metrics(account, items)
        by_region: dict[str, list[MetricQuery]] = {}
        for item in items:
            queries = _metric_queries(item)
            if queries:
                by_region.setdefault(item.region, []).extend(queries)
        if not by_region:
            return items
        period = int(self.metrics.period)
        start, end = aligned_window(self._clock(), period, self.metrics.window)
        windows: dict[str, dict[str, Any]] = {}
        for region, queries in by_region.items():
            client = account.client("cloudwatch", region)
            windows.update(fetch_windows(client, queries, start=start, end=end, period=period))
        return [dataclasses.replace(i, metrics=windows.get(i.key, {}))  # type: ignore[call-arg]
                if hasattr(i, "metrics") else i for i in items]

    def _s3_metrics(self, account: AccountClients, items: list[AwsRecord]) -> list[AwsRecord]:
        by_region: dict[str, list[MetricQuery]] = {}
        for bucket in items:
            assert isinstance(bucket, S3Bucket)
            by_region.setdefault(bucket.region, []).extend([
                MetricQuery(bucket.key, S3_SIZE, (("BucketName", bucket.name),
                                                  ("StorageType", "StandardStorage"))),
                MetricQuery(bucket.key, S3_OBJECTS, (("BucketName", bucket.name),
                                                     ("StorageType", "AllStorageTypes"))),
            ])
        start, end = aligned_window(self._clock(), S3_PERIOD, S3_WINDOW)
        windows: dict[str, dict[str, Any]] = {}
        for region, queries in by_region.items():
            client = account.client("cloudwatch", region)
            windows.update(fetch_windows(client, queries, start=start, end=end, period=S3_PERIOD))
        out: list[AwsRecord] = []
        for bucket in items:
            assert isinstance(bucket, S3Bucket)
            found = windows.get(bucket.key, {})
            size, objects = found.get("size"), found.get("objects")
            out.append(dataclasses.replace(bucket, size_bytes=size.last() if size else None,
                                           objects=objects.last() if objects else None))
        return out

    # -- actions ---------------------------------------------------------------

    def actions(self) -> list[ActionSpec]:
        return list(ACTIONS_BY_SERVICE.get(self.service, ()))

    def action_callable(self, action_id: str) -> ActionCallable:
        calls: dict[str, Callable[[str, str, str], Any]] = {
            "aws.ec2.start": self.start_instance,
            "aws.ec2.stop": self.stop_instance,
            "aws.ec2.reboot": self.reboot_instance,
            "aws.rds.reboot": self.reboot_db_instance,
        }
        if action_id not in calls or action_id.split(".")[1] != self.service:
            raise KeyError(action_id)
        call = calls[action_id]

        async def run(target: ActionTarget) -> ActionResult:
            account, region = target.details["account"], target.details["region"]
            resource_id = target.details.get("instance_id") or target.details.get("db_instance_id", "")
            if account not in self.accounts or not resource_id:
                return ActionResult(False, f"{target.name}: unknown account or id — refresh and retry")
            try:
                return await call(account, region, resource_id)
            except Exception as exc:
                return ActionResult(False, f"{target.name}: " + explain(
                    exc, account=account, region=region, service=CLIENT_OF[self.service]))

        return run

    async def start_instance(self, account: str, region: str, instance_id: str) -> ActionResult:
        return await self._ec2_state_change("start_instances", "StartingInstances", account, region,
                                            instance_id)

    async def stop_instance(self, account: str, region: str, instance_id: str) -> ActionResult:
        return await self._ec2_state_change("stop_instances", "StoppingInstances", account, region,
                                            instance_id)

    async def reboot_instance(self, account: str, region: str, instance_id: str) -> ActionResult:
        client = self.accounts[account].client("ec2", region)
        await self.run_blocking(lambda: client.reboot_instances(InstanceIds=[instance_id]))
        return ActionResult(True, f"Reboot of {instance_id} requested ({account}/{region})")

    async def reboot_db_instance(self, account: str, region: str, db_id: str) -> ActionResult:
        client = self.accounts[account].client("rds", region)
        answer = await self.run_blocking(lambda: client.reboot_db_instance(DBInstanceIdentifier=db_id))
        status = answer.get("DBInstance", {}).get("DBInstanceStatus", "rebooting")
        return ActionResult(True, f"Reboot of database {db_id} requested ({account}/{region}): {status}")

    async def _ec2_state_change(self, operation: str, answer_key: str, account: str, region: str,
                                instance_id: str) -> ActionResult:
        client = self.accounts[account].client("ec2", region)
        answer = await self.run_blocking(
            lambda: getattr(client, operation)(InstanceIds=[instance_id]))
        change = next(iter(answer.get(answer_key, ())), {})
        before = change.get("PreviousState", {}).get("Name", "?")
        after = change.get("CurrentState", {}).get("Name", "?")
        verb = "Starting" if operation == "start_instances" else "Stopping"
        return ActionResult(True, f"{verb} {instance_id} ({account}/{region}): {before} → {after}")

    async def close(self) -> None:
        for account in self.accounts.values():
            account.close()


def _metric_queries(item: AwsRecord) -> list[MetricQuery]:
    if isinstance(item, Ec2Instance):
        if item.state != "running":
            return []
        return queries_for(item.key, EC2_METRICS, (("InstanceId", item.id),))
    if isinstance(item, RdsInstance):
        specs = RDS_METRICS if item.replica_of else [s for s in RDS_METRICS if s.name != "replica_lag"]
        return queries_for(item.key, specs, (("DBInstanceIdentifier", item.id),))
    if isinstance(item, LoadBalancer) and item.type == "application" and "loadbalancer/" in item.arn:
        dimension = item.arn.split("loadbalancer/", 1)[1]
        return queries_for(item.key, ELB_METRICS, (("LoadBalancer", dimension),))
    return []


def _keep_metrics(item: AwsRecord, previous: AwsRecord | None) -> AwsRecord:
    if previous is None or not hasattr(item, "metrics"):
        return item
    return dataclasses.replace(item, metrics=previous.metrics)  # type: ignore[union-attr,call-arg]

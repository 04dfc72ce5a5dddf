"""Credentials, clients and the read-only guard for one AWS account.

Every boto3 session stacktop creates passes through `guarded_session`, which
registers a botocore ``before-call`` handler: in read-only mode any operation
not on READ_OPERATIONS raises before a byte leaves the process, so a bug in
our own code cannot stop an instance from `stacktop watch`. In read-write
mode the same handler still limits calls to the operations stacktop uses.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

from config.model import AwsAccountSettings
from providers.aws.page_memo import PageMemo, fast_timestamp

# Exactly the read calls stacktop makes (not every Describe*/List*/Get*: GetObject reads data).
READ_OPERATIONS = frozenset({
    # sts (credentials; mutates nothing)
    "AssumeRole", "GetCallerIdentity",
    # ec2 (snapshots: the Backups tab's EBS source)
    "DescribeInstances", "DescribeVolumes", "DescribeRegions", "DescribeSnapshots",
    # rds
    "DescribeDBInstances", "DescribeDBSnapshots",
    # backup (AWS Backup: recovery points, running and failed jobs, the plans' rules)
    "ListRecoveryPointsByBackupVault", "ListBackupJobs", "ListBackupPlans", "GetBackupPlan",
    # s3 (ListObjectsV2: dump files under a prefix; names and sizes, never contents)
    "ListBuckets", "GetBucketLocation", "ListObjectsV2",
    # lambda
    "ListFunctions",
    # elbv2
    "DescribeLoadBalancers", "DescribeTargetGroups", "DescribeTargetHealth",
    # cloudwatch
    "GetMetricData",
    # costs: Cost Explorer (0.01 USD a request: cached, hourly), AWS Budgets, and the
    # waste finder's addresses and images (an AMI keeps its snapshots)
    "GetCostAndUsage", "GetCostForecast", "GetReservationPurchaseRecommendation",
    "GetSavingsPlansPurchaseRecommendation", "DescribeBudgets", "DescribeAddresses", "DescribeImages",
    # security findings: ingress rules; S3 encryption and public access (configuration only,
    # never objects); IAM access keys (metadata, never secrets) and the credential report
    "DescribeSecurityGroups", "GetBucketEncryption", "GetPublicAccessBlock", "GetBucketPolicyStatus",
    "GetBucketAcl", "ListAccessKeys", "GetCredentialReport",
    # GenerateCredentialReport only (re)builds IAM's credential report, a read-only CSV of the
    # users' credential dates; it changes no user, key or policy, so read-only sessions may send it.
    "GenerateCredentialReport",
})
# The mutating calls behind stacktop's actions; refused whenever the session is read-only.
ACTION_OPERATIONS = frozenset({
    "StartInstances", "StopInstances", "RebootInstances", "RebootDBInstance",
    # backups: backup now and prune
    "CreateSnapshot", "DeleteSnapshot", "CreateDBSnapshot", "DeleteDBSnapshot", "DeleteRecoveryPoint",
    # dump files in S3: GetObject downloads a dump for a restore test (data, hence not a read here)
    "GetObject", "DeleteObject",
    # costs: the waste finder's two fixes
    "DeleteVolume", "ReleaseAddress",
})

CREDENTIAL_DURATION = 3600  # seconds; botocore refreshes assumed-role credentials 15 min before expiry


class ReadOnlyViolation(RuntimeError):
    """A mutating AWS call was attempted from a read-only session."""


def _guard(read_only: bool) -> Any:
    allowed = READ_OPERATIONS if read_only else READ_OPERATIONS | ACTION_OPERATIONS

    def before_call(model: Any, context: Mapping[str, Any] | None = None, **_: Any) -> None:
        if model.name in allowed:
            return
        service = model.service_model.endpoint_prefix
        if read_only:
            raise ReadOnlyViolation(
                f"read-only session: {service}:{model.name} refused (watch mode never changes AWS)"
            )
        raise ReadOnlyViolation(f"{service}:{model.name} is not an operation stacktop makes")

    return before_call


def guarded_session(session: boto3.Session, read_only: bool) -> boto3.Session:
    """Register the guard on `session`'s event system; returns it for chaining."""
    session.events.register("before-call", _guard(read_only), unique_id="stacktop-read-only-guard")
    return session


def client_config(max_attempts: int) -> Config:
    """Standard retry mode: exponential backoff with full jitter on throttling and 5xx.
    No client-side parameter validation: our requests are built by code the tests
    cover, and validating 500 metric queries a call cost more than sending them."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        parameter_validation=False,
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=16,
        user_agent_extra="stacktop",
    )


class _AssumeRoleProvider(CredentialProvider):
    METHOD = "assume-role"
    CANONICAL_NAME = "stacktop-assume-role"

    def __init__(self, base: boto3.Session, account: AwsAccountSettings, region: str,
                 config: Config) -> None:
        super().__init__()
        self._base = base
        self._account = account
        self._region = region
        self._config = config

    def load(self) -> DeferredRefreshableCredentials:
        # Deferred: the first AssumeRole happens on the first real call, in a worker
        # thread, never while the UI starts. Refreshed by botocore before expiry.
        return DeferredRefreshableCredentials(refresh_using=self._refresh, method=self.METHOD)

    def _refresh(self) -> dict[str, str]:
        sts = self._base.client("sts", region_name=self._region,
                                endpoint_url=self._account.endpoint_url, config=self._config)
        kwargs: dict[str, Any] = {
            "RoleArn": self._account.role_arn,
            "RoleSessionName": self._account.session_name,
            "DurationSeconds": CREDENTIAL_DURATION,
        }
        if self._account.external_id:
            kwargs["ExternalId"] = self._account.external_id
        creds = sts.assume_role(**kwargs)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }


def _core_session() -> botocore.session.Session:
    """A botocore session whose clients parse AWS timestamps the fast way."""
    core = botocore.session.Session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
    return core


def build_session(account: AwsAccountSettings, *, read_only: bool, max_attempts: int,
                  home_region: str, memo: PageMemo | None = None) -> boto3.Session:
    """A guarded session with this account's credentials (profile, static keys,
    default chain, each optionally followed by AssumeRole)."""
    if account.access_key_id:
        base = boto3.Session(aws_access_key_id=account.access_key_id,
                             aws_secret_access_key=account.secret_access_key,
                             botocore_session=_core_session())
    else:  # profile None: the default chain
        base = boto3.Session(profile_name=account.profile, botocore_session=_core_session())
    guarded_session(base, read_only)
    session = base
    if account.role_arn:
        core = _core_session()
        provider = _AssumeRoleProvider(base, account, home_region, client_config(max_attempts))
        core.register_component("credential_provider", CredentialResolver([provider]))
        session = guarded_session(boto3.Session(botocore_session=core), read_only)
    if memo is not None:
        memo.register(session.events)
    return session


class AccountClients:
    """One account's session and its clients, created once and shared by the
    providers of every service (botocore clients are thread-safe; sessions are not,
    hence the lock around creation)."""

    def __init__(self, account: AwsAccountSettings, *, read_only: bool, max_attempts: int = 3) -> None:
        self.account = account
        self.name = account.name
        self.read_only = read_only
        self.max_attempts = max_attempts
        self.home_region = next((r for r in account.regions if r != "all-enabled"), "us-east-1")
        self._config = client_config(max_attempts)
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self.pages = PageMemo()

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            found = self._clients.get((service, region))
            if found is None:
                if self._session is None:
                    self._session = build_session(self.account, read_only=self.read_only,
                                                  max_attempts=self.max_attempts,
                                                  home_region=self.home_region, memo=self.pages)
                found = self._session.client(service, region_name=region,
                                             endpoint_url=self.account.endpoint_url, config=self._config)
                self._clients[(service, region)] = found
            return found

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

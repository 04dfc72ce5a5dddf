"""AWS security findings: blocking reads, run by the security provider in worker threads.

Per region (source "aws:<account>/<region>"):

- sg-open-port: an ingress rule of a security group (DescribeSecurityGroups) that lets
  0.0.0.0/0 (IpRanges) or ::/0 (Ipv6Ranges) reach a port of `security.ports`. TCP and
  UDP rules count by their FromPort..ToPort range: a range yields ONE FINDING PER
  CONFIGURED PORT IT COVERS (resource "sg-0abc:22", so `security.ignore` accepts one
  port at a time and each port keeps its own severity); IpProtocol "-1" (all traffic)
  yields one finding, "sg-0abc:all". ICMP and other protocols have no ports. IPv4 and
  IPv6 rules for the same port make one finding. Critical on database ports, high on
  22, 3389 and any other configured port.
- ebs-unencrypted: DescribeVolumes, Encrypted false.
- rds-unencrypted / rds-public: DescribeDBInstances, StorageEncrypted false /
  PubliclyAccessible true.

Per account, once (source "aws:<account>/global", clients of the account's first region):

- s3-unencrypted: GetBucketEncryption answers ServerSideEncryptionConfigurationNotFoundError.
- s3-public, the rule: a bucket is public when its ACL (GetBucketAcl) grants anything to
  the AllUsers or AuthenticatedUsers group and the bucket's public access block
  (GetPublicAccessBlock) does not set IgnorePublicAcls, OR its policy is public
  (GetBucketPolicyStatus IsPublic) and the block does not set RestrictPublicBuckets.
  A missing block (NoSuchPublicAccessBlockConfiguration) stops nothing, so a private
  bucket without one (owner-only ACL, no public policy) is NOT a finding, and a bucket
  whose block sets all four flags is never read further. The account-level block
  (s3control) is not read: a public bucket it neutralises is still reported.
- iam-user-no-mfa, iam-old-access-key, root-account-used: the credential report
  (GenerateCredentialReport until COMPLETE, then GetCredentialReport, CSV). A user with
  password_enabled true and mfa_active false has no MFA. The report has no key ids:
  for a user whose report row shows an active key older than `security.key_max_age`,
  ListAccessKeys gives the ids, and each active key created before the cut-off is a
  finding ("key/<user>/AKIA…WXYZ", redacted as everywhere). The `<root_account>` row's
  password_last_used and access_key_N_last_used_date within `security.root_use_window`
  make root-account-used.

Every failure is one line per source naming what to grant or fix; a failing call stops
only its own check (one bucket's error, not the other buckets'), so what did answer is
still reported.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from config.model import SECURITY_PORTS, SecuritySettings
from config.redaction import redact
from providers.aws.errors import ACCESS_DENIED, error_code, explain
from providers.aws.session import AccountClients
from providers.security.model import Check, Finding, Severity, SourceStatus

log = logging.getLogger(__name__)

ALL_ENABLED = "all-enabled"
PARALLEL_SOURCES = 6
"""Regions (and the global source) of one account scanned at once."""
GLOBAL = "global"
DAY = 86400.0
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"
DATABASE_PORTS = frozenset(SECURITY_PORTS) - {22, 3389}
PORT_NAMES = {22: "SSH", 3389: "RDP", 1433: "SQL Server", 1521: "Oracle", 3306: "MySQL",
              5432: "PostgreSQL", 5439: "Redshift", 6379: "Redis", 9200: "Elasticsearch",
              11211: "Memcached", 27017: "MongoDB"}
PORT_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
PUBLIC_GROUPS = {"http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers"}
BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
ROOT_ROW = "<root_account>"
REPORT_TRIES = 3
REPORT_WAIT = 2.0
"""Seconds between the 2nd and 3rd GenerateCredentialReport (moto completes on the 2nd,
so tests never wait); still in progress after that: the next scan reads it."""
NOT_IMPLEMENTED = {"NotImplemented", "NotImplementedException", "InvalidAction", "UnknownOperationException"}
PERMISSIONS = {"ListBuckets": "s3:ListAllMyBuckets", "GetBucketEncryption": "s3:GetEncryptionConfiguration",
               "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock"}
"""IAM action names that differ from service:Operation."""


class ApiError(Exception):
    """One AWS call failed; carries what `describe` needs to say so in one line."""

    def __init__(self, service: str, operation: str, cause: BaseException) -> None:
        super().__init__(f"{service}:{operation}: {cause}")
        self.service = service
        self.operation = operation
        self.cause = cause


class ReportPending(Exception):
    """The credential report is still being generated."""


def call(client: Any, operation: str, **params: Any) -> Any:
    """client.<operation>(**params), its failure tagged with the operation's name."""
    try:
        return getattr(client, xform_name(operation))(**params)
    except Exception as exc:
        raise ApiError(client.meta.service_model.service_name, operation, exc) from exc


def pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[Any]:
    """Every item under `key` across the operation's pages."""
    try:
        for page in client.get_paginator(xform_name(operation)).paginate(**params):
            yield from page.get(key, ())
    except Exception as exc:
        raise ApiError(client.meta.service_model.service_name, operation, exc) from exc


def describe(exc: ApiError, clients: AccountClients, region: str) -> str:
    """One line: what failed and what to grant or fix."""
    cause, account = exc.cause, clients.account
    action = f"{exc.service}:{exc.operation}"
    if isinstance(cause, ClientError) and error_code(cause) in ACCESS_DENIED:
        permission = PERMISSIONS.get(exc.operation, action)
        return (f"access denied to {action} — grant {permission} to the role or user of account "
                f"{clients.name} (the SecurityAudit policy covers every check)")
    if isinstance(cause, ResponseParserError) or (isinstance(cause, ClientError)
                                                   and error_code(cause) in NOT_IMPLEMENTED):
        return f"{action} is not available at this endpoint ({account.endpoint_url or 'AWS'})"
    return explain(cause, account=clients.name, region=region, service=exc.service,
                   endpoint=account.endpoint_url, role_arn=account.role_arn)


@dataclass
class Scan:
    """What one source's checks found, examined and failed at."""

    clients: AccountClients
    region: str
    settings: SecuritySettings
    now: float
    findings: list[Finding] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    checks: int = 0

    @property
    def source(self) -> str:
        return f"aws:{self.clients.name}/{self.region}"

    def add(self, check: Check, severity: Severity, resource: str, title: str, evidence: str,
            remedy: str) -> None:
        self.findings.append(Finding(check, severity, self.source, resource, title, evidence, remedy))

    def run(self, check: Callable[[Scan], None]) -> None:
        """Run one check; its failure becomes an error line, the other checks go on."""
        try:
            check(self)
        except ApiError as exc:
            self.fail(exc)
        except ReportPending:
            self.fail_text("credential report still being generated; next scan reads it")
        except Exception as exc:  # a bug in one check must not hide the others' findings
            log.exception("security check %s of %s failed", check.__name__, self.source)
            self.fail_text(f"{check.__name__} failed: {type(exc).__name__}: {exc}".splitlines()[0])

    def fail(self, exc: ApiError) -> None:
        self.fail_text(describe(exc, self.clients, self.region))

    def fail_text(self, text: str) -> None:
        self.errors[text] = self.errors.get(text, 0) + 1

    def status(self) -> SourceStatus:
        parts = [text if n == 1 else f"{text} (x{n})" for text, n in self.errors.items()]
        return SourceStatus(self.source, error="; ".join(parts) or None, scanned_at=self.now,
                            checks=self.checks)

    def client(self, service: str) -> Any:
        return client_of(self.clients, service, self.clients.home_region if self.region == GLOBAL
                         else self.region)


def client_of(clients: AccountClients, service: str, region: str) -> Any:
    """The account's client; a session that cannot be built (no profile...) fails like a call."""
    try:
        return clients.client(service, region)
    except Exception as exc:
        raise ApiError(service, "session", exc) from exc


# --------------------------------------------------------------------------- entry points

def scan_account(clients: AccountClients, settings: SecuritySettings,
                 now: float) -> tuple[list[Finding], list[SourceStatus]]:
    """Every region of the account and its global services (S3, IAM), a few sources at a
    time (an account with every region enabled is ~20 sources of 3 requests each)."""
    findings: list[Finding] = []
    statuses: list[SourceStatus] = []
    regions, error = account_regions(clients)
    if error:
        statuses.append(SourceStatus(f"aws:{clients.name}/{ALL_ENABLED}", error=error, scanned_at=now))
    jobs: list[Callable[[], Scan]] = [partial(scan_region, clients, r, settings, now) for r in regions]
    jobs.append(partial(scan_global, clients, settings, now))
    with ThreadPoolExecutor(max_workers=min(PARALLEL_SOURCES, len(jobs)),
                            thread_name_prefix=f"security-{clients.name}") as pool:
        for scan in pool.map(lambda job: job(), jobs):
            findings += scan.findings
            statuses.append(scan.status())
    return findings, statuses


def account_regions(clients: AccountClients) -> tuple[list[str], str | None]:
    """The account's regions, "all-enabled" expanded by DescribeRegions."""
    named = [r for r in clients.account.regions if r != ALL_ENABLED]
    if ALL_ENABLED not in clients.account.regions:
        return named, None
    try:
        answer = call(client_of(clients, "ec2", clients.home_region), "DescribeRegions", AllRegions=False)
    except ApiError as exc:
        return named, describe(exc, clients, ALL_ENABLED)
    return sorted(set(named) | {r["RegionName"] for r in answer.get("Regions", ())}), None


def scan_region(clients: AccountClients, region: str, settings: SecuritySettings, now: float) -> Scan:
    scan = Scan(clients, region, settings, now)
    for check in (check_security_groups, check_volumes, check_databases):
        scan.run(check)
    return scan


def scan_global(clients: AccountClients, settings: SecuritySettings, now: float) -> Scan:
    scan = Scan(clients, GLOBAL, settings, now)
    for check in (check_buckets, check_iam):
        scan.run(check)
    return scan


# --------------------------------------------------------------------------- security groups

@dataclass
class _Opening:
    """What lets the world reach one port (or all traffic) of one group."""

    rules: list[tuple[str, str]] = field(default_factory=list)
    """("tcp 9000-9300" or "all traffic", world CIDR) of each rule behind it."""
    permissions: list[str] = field(default_factory=list)
    """The rules as `--ip-permissions` shorthand, to revoke them."""


def check_security_groups(scan: Scan) -> None:
    for group in pages(scan.client("ec2"), "DescribeSecurityGroups", "SecurityGroups"):
        scan.checks += 1
        for target, opening in group_openings(group, scan.settings.ports).items():
            report_opening(scan, group, target, opening)


def group_openings(group: dict[str, Any], ports: tuple[int, ...]) -> dict[int | str, _Opening]:
    """Configured port (or "all") -> the world-open ingress rules that reach it."""
    out: dict[int | str, _Opening] = {}
    for rule in group.get("IpPermissions", ()):
        world = world_cidrs(rule)
        if not world or not ports:
            continue
        protocol = str(rule.get("IpProtocol", ""))
        if protocol in ("-1", "all"):
            targets: list[int | str] = ["all"]
            span = "all traffic"
        elif protocol in PORT_PROTOCOLS:
            low, high = int(rule.get("FromPort", 0)), int(rule.get("ToPort", 65535))
            targets = [p for p in ports if low <= p <= high]
            span = f"{PORT_PROTOCOLS[protocol]} " + (str(low) if low == high else f"{low}-{high}")
        else:
            continue
        shorthand = _shorthand(rule, world)
        for target in targets:
            opening = out.setdefault(target, _Opening())
            opening.rules += [(span, cidr) for cidr in world]
            if shorthand not in opening.permissions:
                opening.permissions.append(shorthand)
    return out


def world_cidrs(rule: dict[str, Any]) -> list[str]:
    """0.0.0.0/0 and/or ::/0 when the rule admits them (other CIDRs are someone's choice)."""
    v4 = any(r.get("CidrIp") == WORLD_V4 for r in rule.get("IpRanges", ()))
    v6 = any(r.get("CidrIpv6") == WORLD_V6 for r in rule.get("Ipv6Ranges", ()))
    return [WORLD_V4] * v4 + [WORLD_V6] * v6


def _shorthand(rule: dict[str, Any], world: list[str]) -> str:
    parts = [f"IpProtocol={rule.get('IpProtocol')}"]
    if "FromPort" in rule and str(rule.get("IpProtocol")) != "-1":
        parts += [f"FromPort={rule['FromPort']}", f"ToPort={rule['ToPort']}"]
    if WORLD_V4 in world:
        parts.append(f"IpRanges=[{{CidrIp={WORLD_V4}}}]")
    if WORLD_V6 in world:
        parts.append(f"Ipv6Ranges=[{{CidrIpv6={WORLD_V6}}}]")
    return ",".join(parts)


def port_severity(ports: list[int]) -> Severity:
    return Severity.CRITICAL if any(p in DATABASE_PORTS for p in ports) else Severity.HIGH


def report_opening(scan: Scan, group: dict[str, Any], target: int | str, opening: _Opening) -> None:
    gid, name = group["GroupId"], group.get("GroupName", "")
    if target == "all":
        severity = port_severity(list(scan.settings.ports))
        what = "every port and protocol"
    else:
        assert isinstance(target, int)
        severity = port_severity([target])
        what = f"port {target}" + (f" ({PORT_NAMES[target]})" if target in PORT_NAMES else "")
    rules = ", ".join(f"{span} from {cidr}" for span, cidr in opening.rules)
    permissions = " ".join(f"'{p}'" for p in opening.permissions)
    scan.add(Check.SG_OPEN_PORT, severity, f"{gid}:{target}",
             f"Security group {name or gid} is open to the internet on {what}",
             f"inbound {rules} in {gid} ({name}, {group.get('VpcId', 'no VPC')})",
             f"aws ec2 revoke-security-group-ingress --region {scan.region} --group-id {gid} "
             f"--ip-permissions {permissions}, then allow only the addresses that need it "
             "(a VPN or office CIDR, or SSM Session Manager instead of SSH/RDP)")


# --------------------------------------------------------------------------- EBS and RDS

def check_volumes(scan: Scan) -> None:
    for volume in pages(scan.client("ec2"), "DescribeVolumes", "Volumes"):
        scan.checks += 1
        if volume.get("Encrypted"):
            continue
        vid = volume["VolumeId"]
        attached = ", ".join(a["InstanceId"] for a in volume.get("Attachments", ()) if "InstanceId" in a)
        scan.add(Check.EBS_UNENCRYPTED, Severity.MEDIUM, vid,
                 f"EBS volume {_tag_name(volume) or vid} is not encrypted",
                 f"Encrypted false; {volume.get('Size', '?')} GiB {volume.get('VolumeType', '')} in "
                 f"{volume.get('AvailabilityZone', scan.region)}, "
                 + (f"attached to {attached}" if attached else "not attached"),
                 "a volume cannot be encrypted in place: aws ec2 create-snapshot --region "
                 f"{scan.region} --volume-id {vid}, copy it with aws ec2 copy-snapshot --encrypted, "
                 "create a volume from the copy and swap it in; and turn on "
                 f"aws ec2 enable-ebs-encryption-by-default --region {scan.region}")


def check_databases(scan: Scan) -> None:
    for db in pages(scan.client("rds"), "DescribeDBInstances", "DBInstances"):
        scan.checks += 1
        ident = db["DBInstanceIdentifier"]
        engine = f"{db.get('Engine', '')} {db.get('DBInstanceClass', '')}".strip()
        if not db.get("StorageEncrypted"):
            scan.add(Check.RDS_UNENCRYPTED, Severity.MEDIUM, ident,
                     f"RDS instance {ident} stores its data unencrypted",
                     f"StorageEncrypted false ({engine})",
                     f"encryption cannot be turned on in place: aws rds create-db-snapshot --region "
                     f"{scan.region} --db-instance-identifier {ident} --db-snapshot-identifier "
                     f"{ident}-plain, aws rds copy-db-snapshot --kms-key-id alias/aws/rds to an "
                     "encrypted copy, restore it with restore-db-instance-from-db-snapshot and switch over")
        if db.get("PubliclyAccessible"):
            endpoint = db.get("Endpoint") or {}
            address = f"{endpoint.get('Address', '?')}:{endpoint.get('Port', '?')}"
            scan.add(Check.RDS_PUBLIC, Severity.HIGH, ident,
                     f"RDS instance {ident} is publicly accessible",
                     f"PubliclyAccessible true; {address} resolves to a public address ({engine})",
                     f"aws rds modify-db-instance --region {scan.region} --db-instance-identifier "
                     f"{ident} --no-publicly-accessible --apply-immediately")


def _tag_name(resource: dict[str, Any]) -> str:
    return next((t["Value"] for t in resource.get("Tags", ()) if t.get("Key") == "Name"), "")


# --------------------------------------------------------------------------- S3

def check_buckets(scan: Scan) -> None:
    s3 = scan.client("s3")
    for bucket in call(s3, "ListBuckets").get("Buckets", ()):
        scan.checks += 1
        try:
            check_bucket(scan, s3, bucket["Name"])
        except ApiError as exc:
            if error_code(exc.cause) != "NoSuchBucket":  # deleted since ListBuckets: nothing to say
                scan.fail(exc)


def check_bucket(scan: Scan, s3: Any, name: str) -> None:
    if not bucket_encrypted(s3, name):
        scan.add(Check.S3_UNENCRYPTED, Severity.MEDIUM, name,
                 f"S3 bucket {name} has no default encryption",
                 "GetBucketEncryption: ServerSideEncryptionConfigurationNotFoundError",
                 f"aws s3api put-bucket-encryption --bucket {name} --server-side-encryption-configuration "
                 "'{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"}}]}'")
    why = bucket_public(s3, name)
    if why:
        scan.add(Check.S3_PUBLIC, Severity.CRITICAL, name, f"S3 bucket {name} is public", why,
                 f"check nothing needs public access, then aws s3api put-public-access-block --bucket "
                 f"{name} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,"
                 "BlockPublicPolicy=true,RestrictPublicBuckets=true")


def bucket_encrypted(s3: Any, name: str) -> bool:
    try:
        call(s3, "GetBucketEncryption", Bucket=name)
    except ApiError as exc:
        if error_code(exc.cause) == "ServerSideEncryptionConfigurationNotFoundError":
            return False
        raise
    return True


def bucket_public(s3: Any, name: str) -> str:
    """Why the bucket is public (the evidence), or "" (see the module docstring for the rule)."""
    block = public_access_block(s3, name)
    reasons = []
    if not block.get("IgnorePublicAcls"):
        grants = call(s3, "GetBucketAcl", Bucket=name).get("Grants", ())
        public = sorted({f"{PUBLIC_GROUPS[g['Grantee']['URI']]} {g.get('Permission', '')}" for g in grants
                         if g.get("Grantee", {}).get("URI") in PUBLIC_GROUPS})
        if public:
            reasons.append("ACL grants " + ", ".join(public))
    if not block.get("RestrictPublicBuckets") and policy_public(s3, name):
        reasons.append("bucket policy is public (GetBucketPolicyStatus IsPublic)")
    if not reasons:
        return ""
    missing = [flag for flag in BLOCK_FLAGS if not block.get(flag)]
    shield = "no public access block" if not block else "public access block lacks " + ", ".join(missing)
    return f"{'; '.join(reasons)}; {shield}"


def public_access_block(s3: Any, name: str) -> dict[str, bool]:
    """The bucket's public access block flags; {} when it has none."""
    try:
        answer = call(s3, "GetPublicAccessBlock", Bucket=name)
    except ApiError as exc:
        if error_code(exc.cause) == "NoSuchPublicAccessBlockConfiguration":
            return {}
        raise
    return dict(answer.get("PublicAccessBlockConfiguration", {}))


def policy_public(s3: Any, name: str) -> bool:
    try:
        answer = call(s3, "GetBucketPolicyStatus", Bucket=name)
    except ApiError as exc:
        if error_code(exc.cause) == "NoSuchBucketPolicy":
            return False
        raise
    return bool(answer.get("PolicyStatus", {}).get("IsPublic"))


# --------------------------------------------------------------------------- IAM

def check_iam(scan: Scan) -> None:
    iam = scan.client("iam")
    rows = credential_report(iam)
    scan.checks += len(rows)
    for row in rows:
        if row.get("user") == ROOT_ROW:
            check_root(scan, row)
            continue
        if row.get("password_enabled") == "true" and row.get("mfa_active") == "false":
            report_no_mfa(scan, row)
        if any(_old_key(scan, row, n) for n in (1, 2)):
            check_keys(scan, iam, row)


def credential_report(iam: Any) -> list[dict[str, str]]:
    """The report's rows; ReportPending while AWS still builds it."""
    for attempt in range(REPORT_TRIES):
        if call(iam, "GenerateCredentialReport").get("State") == "COMPLETE":
            break
        if attempt == REPORT_TRIES - 1:
            raise ReportPending
        if attempt:
            time.sleep(REPORT_WAIT)
    try:
        content = call(iam, "GetCredentialReport").get("Content", b"")
    except ApiError as exc:
        if error_code(exc.cause) in ("ReportInProgress", "ReportNotPresent"):
            raise ReportPending from exc
        raise
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text)))


def report_no_mfa(scan: Scan, row: dict[str, str]) -> None:
    user = row["user"]
    scan.add(Check.IAM_NO_MFA, Severity.HIGH, f"user/{user}",
             f"IAM user {user} signs in to the console without MFA",
             f"credential report: password_enabled true, mfa_active false (password last used "
             f"{_day(row.get('password_last_used', ''))})",
             f"assign an MFA device (console: IAM → Users → {user} → Security credentials → Assign MFA "
             f"device), or remove the password if the user needs none: aws iam delete-login-profile "
             f"--user-name {user}")


def _report_time(value: str | None) -> float | None:
    """A report timestamp as epoch seconds; None for N/A, no_information, not_supported."""
    try:
        return datetime.fromisoformat(value or "").timestamp()
    except ValueError:
        return None


def _day(value: str) -> str:
    """A report timestamp as its date, "never" when it has none."""
    when = _report_time(value)
    return _date(when) if when is not None else "never"


def _date(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d")


def _old_key(scan: Scan, row: dict[str, str], n: int) -> bool:
    rotated = _report_time(row.get(f"access_key_{n}_last_rotated"))
    return (row.get(f"access_key_{n}_active") == "true" and rotated is not None
            and scan.now - rotated > scan.settings.key_max_age)


def check_keys(scan: Scan, iam: Any, row: dict[str, str]) -> None:
    """The report says an old key is active; ListAccessKeys names it (the report has no ids)."""
    user = row["user"]
    last_used = {int(_report_time(row.get(f"access_key_{n}_last_rotated")) or 0):
                 row.get(f"access_key_{n}_last_used_date", "") for n in (1, 2)}
    for key in pages(iam, "ListAccessKeys", "AccessKeyMetadata", UserName=user):
        created = key["CreateDate"].timestamp()
        age = scan.now - created
        if key.get("Status") != "Active" or age <= scan.settings.key_max_age:
            continue
        shown = redact(key["AccessKeyId"])
        used = _day(last_used.get(int(created), ""))
        scan.add(Check.IAM_OLD_KEY, Severity.MEDIUM, f"key/{user}/{shown}",
                 f"Access key {shown} of {user} is {int(age // DAY)} days old",
                 f"active, created {_date(created)} (limit "
                 f"{int(scan.settings.key_max_age // DAY)} days), last used {used}",
                 f"rotate it: aws iam create-access-key --user-name {user}, move the callers to the new "
                 f"key, then aws iam update-access-key --user-name {user} --access-key-id <the old id> "
                 "--status Inactive and delete it once nothing fails")


def check_root(scan: Scan, row: dict[str, str]) -> None:
    uses = [(what, _report_time(row.get(column))) for what, column in (
        ("password", "password_last_used"), ("access key 1", "access_key_1_last_used_date"),
        ("access key 2", "access_key_2_last_used_date"))]
    recent = [(what, when) for what, when in uses
              if when is not None and scan.now - when <= scan.settings.root_use_window]
    if not recent:
        return
    said = ", ".join(f"{what} last used {datetime.fromtimestamp(when, UTC):%Y-%m-%d %H:%M} UTC"
                     f" ({int((scan.now - when) // DAY)} days ago)" for what, when in recent)
    scan.add(Check.ROOT_USED, Severity.CRITICAL, "root",
             "The root account was used recently",
             f"credential report <root_account>: {said} (window "
             f"{int(scan.settings.root_use_window // DAY)} days)",
             "check CloudTrail for who signed in as root (eventName ConsoleLogin, userIdentity.type Root); "
             "delete root access keys (console: account menu → Security credentials), make sure root has "
             "MFA, and use IAM roles for daily work")

"""An estate with exactly known security holes, for the AWS checks' tests and the demo.

`seed_security_fleet` creates, in one account and region of a moto server, one of
each misconfiguration the AWS checks report (providers/security/aws_checks.py) and
clean look-alikes they must NOT report, and returns what a scan must find:

  finding (check, resource, severity)                clean look-alike
  sg-open-port  sec-ssh-world:22      high           sec-https-world (443 to the world)
  sg-open-port  sec-pg-world-v6:5432  critical       sec-ssh-internal (22 from 10.0.0.0/8 only)
  sg-open-port  sec-all-traffic:all   critical       sec-range-clean (8000-8100 to the world:
  sg-open-port  sec-search-range:9200 critical         no configured port in it)
  ebs-unencrypted  sec-plain-volume   medium         sec-encrypted-volume
  rds-unencrypted  sec-plain-db       medium         sec-private-db (encrypted, private)
  rds-public    sec-public-db         high           (sec-public-db is encrypted)
  s3-unencrypted  ...-plain-...       medium         ...-private-... (encrypted, owner-only ACL,
  s3-public     ...-public-...        critical         no public access block)
                                                     ...-blocked-... (public-read ACL, but a
                                                       block with all four flags)
  iam-user-no-mfa  user/sec-console-no-mfa  high     sec-console-mfa (virtual MFA device)
  iam-old-access-key key/sec-old-key/AKIA…  medium   sec-api-fresh (key made today),
                                                     sec-old-inactive (200 days, Inactive)
  root-account-used  root             critical       (clean=True: root last used 200 days ago)

`clean=True` seeds only the look-alikes: a scan must then report nothing.
`global_resources=False` seeds only the regional part (security groups, volumes,
databases): S3 buckets and IAM users belong to the account, so a second region of
the same account is seeded without them. Bucket names carry the account and region
(S3 names are global).

Ages cannot be set through the API: an access key's CreateDate is backdated in
moto's IAM backend, so moto must run IN THIS PROCESS (ThreadedMotoServer, as the
tests and the demo start it). moto's credential report has no `<root_account>`
row at all (it lists only `iam_backend.users`); the least invasive way to get one
is to put a moto User named "<root_account>" into that dict, with a password (so
its row has a password_last_used column) and password_last_used set. It also
shows in ListUsers, which no part of stacktop reads.

No Textual here: tests and the demo backend both use it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from config.redaction import redact
from providers.security.model import Check, Severity
from tui.demo.costs_fleet import (
    DAY,
    InProcessMotoRequired,
    _backend,
    _client,
    _credentials,
    _naive,
)

ROOT_ROW = "<root_account>"
OLD_KEY_DAYS = 120
ROOT_USED_DAYS = 3
"""The seeded root use (clean=True: ROOT_OLD_DAYS, outside the 30-day window)."""
ROOT_OLD_DAYS = 200
DEMO_PASSWORD = "Stacktop-demo-console-1"
"""The seeded console users' password (moto only; never a real account's)."""


@dataclass(frozen=True, slots=True)
class ExpectedFinding:
    check: Check
    resource: str
    severity: Severity
    scope: str
    """The region, or "global" (S3, IAM): the source is "aws:<account name>/<scope>"."""
    why: str


@dataclass
class ExpectedFindings:
    """What seed_security_fleet created: the findings a scan must report, and the clean
    look-alikes it must not (resource -> why it is fine)."""

    account_id: str
    region: str
    findings: tuple[ExpectedFinding, ...] = ()
    clean: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    """Seeded name -> id (security groups, volumes, key ids)."""

    def triples(self) -> set[tuple[str, str, str]]:
        """{(check, resource, severity)}: what tests compare with a scan."""
        return {(f.check.value, f.resource, f.severity.value) for f in self.findings}

    def keys(self) -> set[tuple[str, str]]:
        """{(check, resource)}."""
        return {(f.check.value, f.resource) for f in self.findings}

    def sourced(self, account_name: str) -> set[tuple[str, str, str]]:
        """{(check, resource, source)} with the account's providers.aws name."""
        return {(f.check.value, f.resource, f"aws:{account_name}/{f.scope}") for f in self.findings}


class _Seeder:
    def __init__(self, endpoint_url: str, account_id: str, region: str, now: float) -> None:
        self.out = ExpectedFindings(account_id, region)
        self.now = now
        creds = _credentials(endpoint_url, account_id)
        self.ec2, self.rds, self.s3, self.iam = (_client(s, endpoint_url, region, creds)
                                                 for s in ("ec2", "rds", "s3", "iam"))
        vpcs = self.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        self.vpc = vpcs[0]["VpcId"]
        self.zone = self.ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]

    def expect(self, check: Check, resource: str, severity: Severity, why: str, *, scope: str = "") -> None:
        self.out.findings += (ExpectedFinding(check, resource, severity, scope or self.out.region, why),)

    def clean(self, resource: str, why: str) -> None:
        self.out.clean[resource] = why

    def name(self, name: str, ident: str) -> str:
        self.out.ids[name] = ident
        return ident

    # -- regional
    def group(self, name: str, *rules: dict[str, Any]) -> str:
        gid = self.ec2.create_security_group(GroupName=name, Description=f"stacktop security demo: {name}",
                                             VpcId=self.vpc)["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(rules))
        return self.name(name, gid)

    def volume(self, name: str, *, encrypted: bool) -> str:
        vol = self.ec2.create_volume(
            AvailabilityZone=self.zone, Size=20, VolumeType="gp3", Encrypted=encrypted,
            TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name}]}])
        return self.name(name, vol["VolumeId"])

    def database(self, name: str, *, encrypted: bool, public: bool) -> str:
        self.rds.create_db_instance(
            DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
            MasterUsername="stacktop", MasterUserPassword=DEMO_PASSWORD, StorageEncrypted=encrypted,
            PubliclyAccessible=public)
        return self.name(name, name)

    # -- global
    def bucket(self, kind: str, *, encrypted: bool, acl: str = "private", block: bool = False) -> str:
        name = f"stacktop-sec-{kind}-{self.out.account_id}-{self.out.region}"
        extra: dict[str, Any] = {}
        if self.out.region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.out.region}
        self.s3.create_bucket(Bucket=name, ACL=acl, **extra)
        if encrypted:
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        if block:
            self.s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
        return self.name(f"bucket-{kind}", name)

    def user(self, name: str, *, console: bool = False, mfa: bool = False) -> str:
        self.iam.create_user(UserName=name)
        if console:
            self.iam.create_login_profile(UserName=name, Password=DEMO_PASSWORD)
        if mfa:
            serial = self.iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
            self.iam.enable_mfa_device(UserName=name, SerialNumber=serial["SerialNumber"],
                                       AuthenticationCode1="123456", AuthenticationCode2="654321")
        return name

    def access_key(self, user: str, *, age_days: float = 0, active: bool = True) -> str:
        key_id = self.iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
        if not active:
            self.iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
        if age_days:
            backdate_access_key(self.out.account_id, user, key_id, self.now - age_days * DAY)
        self.name(f"key-{user}", key_id)
        return f"key/{user}/{redact(key_id)}"


def backdate_access_key(account_id: str, user: str, key_id: str, created: float) -> None:
    """Set an IAM access key's CreateDate (what the credential report calls last_rotated)."""
    found = _iam_backend(account_id).users.get(user)
    key = next((k for k in getattr(found, "access_keys", ()) if k.access_key_id == key_id), None)
    if key is None:
        raise InProcessMotoRequired(f"access key of {user} is not in this process's moto ({account_id}): "
                                    "backdating needs an in-process ThreadedMotoServer")
    key.create_date = _naive(created)


def set_root_use(account_id: str, used: float) -> None:
    """Give moto's credential report a <root_account> row whose password was last used at `used`."""
    from moto.iam.models import User

    backend = _iam_backend(account_id)
    root = User(account_id, "us-east-1", ROOT_ROW)
    root.password = "set-by-the-seed"  # any value: the row then has real password columns
    root.password_last_used = _naive(used)
    backend.users[ROOT_ROW] = root


def _iam_backend(account_id: str) -> Any:
    return _backend("iam", account_id, "aws")  # IAM is global: moto keys it by partition


def seed_security_fleet(endpoint_url: str, account_id: str, region: str, *, clean: bool = False,
                        global_resources: bool = True, now: float | None = None) -> ExpectedFindings:
    """Seed the holes (unless `clean`) and the look-alikes; return what a scan must find."""
    s = _Seeder(endpoint_url, account_id, region, time.time() if now is None else now)
    _seed_regional_clean(s)
    if not clean:
        _seed_regional_holes(s)
    if global_resources:
        _seed_global_clean(s)
        if not clean:
            _seed_global_holes(s)
        else:
            set_root_use(account_id, s.now - ROOT_OLD_DAYS * DAY)
            s.clean("root", f"root last used {ROOT_OLD_DAYS} days ago (window 30 days)")
    return s.out


def _world(protocol: str, low: int, high: int, *, v6: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {"IpProtocol": protocol, "FromPort": low, "ToPort": high}
    if protocol == "-1":
        rule = {"IpProtocol": "-1"}
    key, cidr = ("Ipv6Ranges", {"CidrIpv6": "::/0"}) if v6 else ("IpRanges", {"CidrIp": "0.0.0.0/0"})
    return {**rule, key: [cidr]}


def _seed_regional_clean(s: _Seeder) -> None:
    s.clean(s.group("sec-https-world", _world("tcp", 443, 443), _world("tcp", 443, 443, v6=True)),
            "443 is not a configured port")
    s.clean(s.group("sec-ssh-internal", {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}),
            "22 from 10.0.0.0/8 only")
    s.clean(s.group("sec-range-clean", _world("tcp", 8000, 8100)), "no configured port in 8000-8100")
    s.clean(s.volume("sec-encrypted-volume", encrypted=True), "encrypted")
    s.clean(s.database("sec-private-db", encrypted=True, public=False), "encrypted and private")


def _seed_regional_holes(s: _Seeder) -> None:
    ssh = s.group("sec-ssh-world", _world("tcp", 22, 22))
    s.expect(Check.SG_OPEN_PORT, f"{ssh}:22", Severity.HIGH, "tcp 22 from 0.0.0.0/0")
    pg = s.group("sec-pg-world-v6", _world("tcp", 5432, 5432, v6=True))
    s.expect(Check.SG_OPEN_PORT, f"{pg}:5432", Severity.CRITICAL, "tcp 5432 from ::/0 (a database port)")
    everything = s.group("sec-all-traffic", _world("-1", 0, 0))
    s.expect(Check.SG_OPEN_PORT, f"{everything}:all", Severity.CRITICAL, "all traffic from 0.0.0.0/0")
    search = s.group("sec-search-range", _world("tcp", 9000, 9300))
    s.expect(Check.SG_OPEN_PORT, f"{search}:9200", Severity.CRITICAL, "9000-9300 covers 9200 (Elasticsearch)")
    s.expect(Check.EBS_UNENCRYPTED, s.volume("sec-plain-volume", encrypted=False), Severity.MEDIUM,
             "Encrypted false")
    s.expect(Check.RDS_UNENCRYPTED, s.database("sec-plain-db", encrypted=False, public=False),
             Severity.MEDIUM, "StorageEncrypted false")
    s.expect(Check.RDS_PUBLIC, s.database("sec-public-db", encrypted=True, public=True), Severity.HIGH,
             "PubliclyAccessible true")


def _seed_global_clean(s: _Seeder) -> None:
    s.clean(s.bucket("private", encrypted=True), "encrypted, owner-only ACL, no public access block")
    s.clean(s.bucket("blocked", encrypted=True, acl="public-read", block=True),
            "public-read ACL, but the public access block ignores it")
    s.clean("user/" + s.user("sec-console-mfa", console=True, mfa=True), "console user with a virtual MFA")
    s.clean(s.access_key(s.user("sec-api-fresh"), age_days=0), "API-only user, key made today")
    s.clean(s.access_key(s.user("sec-old-inactive"), age_days=200, active=False), "200 days old but inactive")


def _seed_global_holes(s: _Seeder) -> None:
    g = "global"
    s.expect(Check.S3_UNENCRYPTED, s.bucket("plain", encrypted=False), Severity.MEDIUM,
             "no default encryption", scope=g)
    s.expect(Check.S3_PUBLIC, s.bucket("public", encrypted=True, acl="public-read"), Severity.CRITICAL,
             "ACL grants AllUsers READ, no public access block", scope=g)
    s.expect(Check.IAM_NO_MFA, "user/" + s.user("sec-console-no-mfa", console=True), Severity.HIGH,
             "console password, no MFA device", scope=g)
    s.expect(Check.IAM_OLD_KEY, s.access_key(s.user("sec-old-key"), age_days=OLD_KEY_DAYS), Severity.MEDIUM,
             f"active key created {OLD_KEY_DAYS} days ago", scope=g)
    set_root_use(s.out.account_id, s.now - ROOT_USED_DAYS * DAY)
    s.expect(Check.ROOT_USED, "root", Severity.CRITICAL, f"root password used {ROOT_USED_DAYS} days ago",
             scope=g)

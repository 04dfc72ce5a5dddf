"""AWS security findings against moto in server mode.

The estate seeded by tui/demo/security_fleet.py holds one of each hole and clean
look-alikes; the scan goes through stacktop's own guarded, read-only account
session, so it also proves every call it makes is an allowed read. Failures are
one line per source and never hide what the other checks found.
"""

from __future__ import annotations

import time

import pytest

from config.model import AwsAccountSettings, SecuritySettings
from providers.aws.session import READ_OPERATIONS, AccountClients
from providers.security import aws_checks
from providers.security.aws_checks import scan_account
from providers.security.model import Finding, SourceStatus
from tests.support.aws import DEFAULT_ACCOUNT, SECOND_ACCOUNT, TEST_KEY, FaultProxy, unused_local_url
from tui.demo.security_fleet import seed_security_fleet

pytestmark = pytest.mark.integration

SCAN_READS = {"DescribeSecurityGroups", "DescribeVolumes", "DescribeDBInstances", "ListBuckets",
              "GetBucketEncryption", "GetPublicAccessBlock", "GetBucketAcl", "GetBucketPolicyStatus",
              "GenerateCredentialReport", "GetCredentialReport", "ListAccessKeys"}


def clients_for(url: str, *, name: str = "prod", regions: tuple[str, ...] = ("us-east-1",),
                role_arn: str | None = None) -> AccountClients:
    account = AwsAccountSettings(name=name, regions=regions, endpoint_url=url, access_key_id=TEST_KEY,
                                 secret_access_key=TEST_KEY, role_arn=role_arn)
    return AccountClients(account, read_only=True, max_attempts=1)


def scan(clients: AccountClients, settings: SecuritySettings | None = None
         ) -> tuple[list[Finding], dict[str, SourceStatus]]:
    try:
        findings, statuses = scan_account(clients, settings or SecuritySettings(), time.time())
    finally:
        clients.close()
    return findings, {s.source: s for s in statuses}


def triples(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.check.value, f.resource, f.severity.value) for f in findings}


def test_the_seeded_estate_gives_exactly_the_expected_findings(moto_url: str,
                                                               fault_proxy: FaultProxy) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")

    findings, statuses = scan(clients_for(fault_proxy.url))

    ids = fleet.ids
    key = f"key/sec-old-key/{ids['key-sec-old-key'][:4]}…{ids['key-sec-old-key'][-4:]}"
    assert triples(findings) == fleet.triples() == {
        ("sg-open-port", f"{ids['sec-ssh-world']}:22", "high"),
        ("sg-open-port", f"{ids['sec-pg-world-v6']}:5432", "critical"),
        ("sg-open-port", f"{ids['sec-all-traffic']}:all", "critical"),
        ("sg-open-port", f"{ids['sec-search-range']}:9200", "critical"),
        ("ebs-unencrypted", ids["sec-plain-volume"], "medium"),
        ("rds-unencrypted", "sec-plain-db", "medium"),
        ("rds-public", "sec-public-db", "high"),
        ("s3-unencrypted", "stacktop-sec-plain-123456789012-us-east-1", "medium"),
        ("s3-public", "stacktop-sec-public-123456789012-us-east-1", "critical"),
        ("iam-user-no-mfa", "user/sec-console-no-mfa", "high"),
        ("iam-old-access-key", key, "medium"),
        ("root-account-used", "root", "critical"),
    }
    assert len(findings) == len(fleet.findings)  # one finding per hole, no duplicates
    assert not {f.resource.split(":")[0] for f in findings} & set(fleet.clean)
    assert {(f.check.value, f.resource, f.source) for f in findings} == fleet.sourced("prod")
    assert all(f.title and f.evidence and f.remedy for f in findings)
    assert {s: (st.error, st.checks > 0) for s, st in statuses.items()} == {
        "aws:prod/us-east-1": (None, True), "aws:prod/global": (None, True)}
    # Every call is an allowed read; the credential report is read once per scan.
    assert set(fault_proxy.operations()) == SCAN_READS
    assert SCAN_READS <= READ_OPERATIONS
    assert fault_proxy.operations("iam").count("GetCredentialReport") == 1


def test_what_each_finding_says(moto_url: str) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    findings, _ = scan(clients_for(moto_url))
    by = {f.key: f for f in findings}

    ssh = by[f"sg-open-port:{fleet.ids['sec-ssh-world']}:22"]
    assert ssh.title == "Security group sec-ssh-world is open to the internet on port 22 (SSH)"
    assert ssh.evidence.startswith("inbound tcp 22 from 0.0.0.0/0")
    assert ssh.remedy.startswith(f"aws ec2 revoke-security-group-ingress --region us-east-1 --group-id "
                                 f"{fleet.ids['sec-ssh-world']} --ip-permissions 'IpProtocol=tcp,FromPort=22,"
                                 "ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]'")
    assert by[f"sg-open-port:{fleet.ids['sec-pg-world-v6']}:5432"].evidence.startswith(
        "inbound tcp 5432 from ::/0")
    assert by[f"sg-open-port:{fleet.ids['sec-search-range']}:9200"].evidence.startswith(
        "inbound tcp 9000-9300 from 0.0.0.0/0")
    assert by["rds-public:sec-public-db"].remedy == (
        "aws rds modify-db-instance --region us-east-1 --db-instance-identifier sec-public-db "
        "--no-publicly-accessible --apply-immediately")
    public = by["s3-public:stacktop-sec-public-123456789012-us-east-1"]
    assert public.evidence == "ACL grants AllUsers READ; no public access block"
    assert "put-public-access-block --bucket stacktop-sec-public-123456789012-us-east-1" in public.remedy
    [old] = [f for f in findings if f.check.value == "iam-old-access-key"]
    assert old.title.endswith("of sec-old-key is 120 days old")
    assert fleet.ids["key-sec-old-key"] not in old.title + old.evidence + old.remedy + old.resource
    root = by["root-account-used:root"]
    assert "password last used" in root.evidence and "(3 days ago)" in root.evidence
    assert time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400)) in root.evidence
    assert by["iam-user-no-mfa:user/sec-console-no-mfa"].remedy.startswith("assign an MFA device")


def test_a_clean_estate_has_no_findings(moto_url: str) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1", clean=True)
    assert fleet.findings == () and len(fleet.clean) == 11

    findings, statuses = scan(clients_for(moto_url))

    assert findings == []
    assert all(s.error is None and s.checks > 0 for s in statuses.values())


def test_findings_carry_their_account_and_region(moto_url: str) -> None:
    prod_east = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    prod_west = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "eu-west-1", global_resources=False)
    staging = seed_security_fleet(moto_url, SECOND_ACCOUNT, "eu-west-1")
    role = f"arn:aws:iam::{SECOND_ACCOUNT}:role/stacktop-security"

    prod_findings, prod_statuses = scan(clients_for(moto_url, regions=("us-east-1", "eu-west-1")))
    staging_findings, staging_statuses = scan(
        clients_for(moto_url, name="staging", regions=("eu-west-1",), role_arn=role))

    sourced = {(f.check.value, f.resource, f.source) for f in prod_findings + staging_findings}
    assert sourced == prod_east.sourced("prod") | prod_west.sourced("prod") | staging.sourced("staging")
    assert {f.source for f in prod_findings if f.resource == "sec-plain-db"} == {
        "aws:prod/us-east-1", "aws:prod/eu-west-1"}
    assert {f.source for f in staging_findings} == {"aws:staging/eu-west-1", "aws:staging/global"}
    assert set(prod_statuses) == {"aws:prod/us-east-1", "aws:prod/eu-west-1", "aws:prod/global"}
    assert set(staging_statuses) == {"aws:staging/eu-west-1", "aws:staging/global"}
    assert all(s.error is None for s in [*prod_statuses.values(), *staging_statuses.values()])


def test_all_enabled_regions_are_expanded(moto_url: str) -> None:
    seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "eu-west-1")
    findings, statuses = scan(clients_for(moto_url, regions=("all-enabled",)))
    assert "aws:prod/eu-west-1" in statuses and "aws:prod/us-east-1" in statuses
    assert {f.source for f in findings} == {"aws:prod/eu-west-1", "aws:prod/global"}
    assert all(s.error is None for s in statuses.values())


def test_denied_iam_is_one_line_and_hides_nothing_else(moto_url: str, fault_proxy: FaultProxy) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    fault_proxy.deny("iam", operation="GenerateCredentialReport")

    findings, statuses = scan(clients_for(fault_proxy.url))

    error = statuses["aws:prod/global"].error
    assert error == ("access denied to iam:GenerateCredentialReport — grant iam:GenerateCredentialReport to "
                     "the role or user of account prod (the SecurityAudit policy covers every check)")
    assert "\n" not in error
    iam_checks = {"iam-user-no-mfa", "iam-old-access-key", "root-account-used"}
    expected = {t for t in fleet.triples() if t[0] not in iam_checks}
    assert triples(findings) == expected  # buckets and every regional check still reported
    assert statuses["aws:prod/us-east-1"].error is None


def test_a_denied_s3_call_is_one_line_for_every_bucket(moto_url: str, fault_proxy: FaultProxy) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    fault_proxy.deny("s3", operation="GetBucketEncryption")

    findings, statuses = scan(clients_for(fault_proxy.url))

    assert statuses["aws:prod/global"].error == (
        "access denied to s3:GetBucketEncryption — grant s3:GetEncryptionConfiguration to the role or "
        "user of account prod (the SecurityAudit policy covers every check) (x4)")
    assert triples(findings) == {t for t in fleet.triples() if not t[0].startswith("s3-")}


def test_an_operation_the_endpoint_lacks_is_said_so(moto_url: str, fault_proxy: FaultProxy) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    fault_proxy.add_fault("rds", operation="DescribeDBInstances", status=501, code="NotImplemented",
                          message="not yet implemented")

    findings, statuses = scan(clients_for(fault_proxy.url))

    assert statuses["aws:prod/us-east-1"].error == (
        f"rds:DescribeDBInstances is not available at this endpoint ({fault_proxy.url})")
    assert triples(findings) == {t for t in fleet.triples() if not t[0].startswith("rds-")}


def test_an_unreachable_endpoint_is_one_line_per_source(aws_env: None) -> None:
    url = unused_local_url()
    findings, statuses = scan(clients_for(url))
    assert findings == []
    assert set(statuses) == {"aws:prod/us-east-1", "aws:prod/global"}
    for status in statuses.values():
        assert status.error is not None and "\n" not in status.error
        assert status.error.startswith(f"cannot reach {url} — check the network")


def test_a_credential_report_still_being_built_is_read_by_the_next_scan(
        moto_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    monkeypatch.setattr(aws_checks, "REPORT_TRIES", 1)  # moto answers STARTED to the first request

    findings, statuses = scan(clients_for(moto_url))

    assert statuses["aws:prod/global"].error == "credential report still being generated; next scan reads it"
    assert {f.check.value for f in findings} >= {"s3-public", "sg-open-port"}
    monkeypatch.setattr(aws_checks, "REPORT_TRIES", 3)
    findings, statuses = scan(clients_for(moto_url))
    assert triples(findings) == fleet.triples() and statuses["aws:prod/global"].error is None


def test_settings_decide_ports_and_ages(moto_url: str) -> None:
    fleet = seed_security_fleet(moto_url, DEFAULT_ACCOUNT, "us-east-1")
    settings = SecuritySettings(ports=(22, 443), key_max_age=200 * 86400.0, root_use_window=86400.0)

    findings, _ = scan(clients_for(moto_url), settings)

    found = triples(findings)
    ids = fleet.ids
    assert {t for t in found if t[0] == "sg-open-port"} == {
        ("sg-open-port", f"{ids['sec-ssh-world']}:22", "high"),
        ("sg-open-port", f"{ids['sec-https-world']}:443", "high"),
        ("sg-open-port", f"{ids['sec-all-traffic']}:all", "high"),  # no database port configured
    }
    assert not {t for t in found if t[0] in ("iam-old-access-key", "root-account-used")}


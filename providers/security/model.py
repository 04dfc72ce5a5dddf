"""What the Security tab, the report and the alert rules see of a scan."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from providers.base import Sample, Snapshot, labels_of


class Severity(enum.Enum):
    """Ordered: critical sorts first on the tab and in reports."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Check(enum.Enum):
    """One kind of finding; the value is the id used in `security.ignore` and reports."""

    SG_OPEN_PORT = "sg-open-port"
    EBS_UNENCRYPTED = "ebs-unencrypted"
    RDS_UNENCRYPTED = "rds-unencrypted"
    RDS_PUBLIC = "rds-public"
    S3_UNENCRYPTED = "s3-unencrypted"
    S3_PUBLIC = "s3-public"
    IAM_NO_MFA = "iam-user-no-mfa"
    IAM_OLD_KEY = "iam-old-access-key"
    ROOT_USED = "root-account-used"
    K8S_PRIVILEGED = "k8s-privileged"
    K8S_ROOT = "k8s-runs-as-root"
    K8S_HOST_NETWORK = "k8s-host-network"
    K8S_HOST_PATH = "k8s-host-path"
    K8S_PUBLIC_LB = "k8s-public-load-balancer"


@dataclass(frozen=True, slots=True)
class Finding:
    check: Check
    severity: Severity
    source: str
    """Where: "aws:<account>/<region>" (region "global" for IAM and S3) or "k8s:<context>"."""
    resource: str
    """The thing to fix, as its console names it: sg-0abc:22, vol-0abc, db-1, bucket, user
    bob, key …WXYZ of bob, pod ns/name/container, service ns/name."""
    title: str
    """One line: what is wrong."""
    evidence: str
    """What was seen: the rule, the flag, the date."""
    remedy: str
    """What to do, concretely (a command or console step)."""

    @property
    def key(self) -> str:
        """CHECK:RESOURCE, what `security.ignore` lists to accept a finding."""
        return f"{self.check.value}:{self.resource}"


@dataclass(frozen=True)
class SourceStatus:
    """One scanned source (account/region or context): None error when it answered."""

    source: str
    error: str | None = None
    scanned_at: float | None = None
    checks: int = 0
    """Resources examined, so an empty result can be told from an empty account."""


@dataclass(frozen=True)
class SecuritySnapshot(Snapshot):
    findings: tuple[Finding, ...] = ()
    """Sorted: severity, then source, check and resource."""
    sources: tuple[SourceStatus, ...] = ()
    ignored: int = 0
    scanning: bool = False
    """The first scan has not finished yet (the tab says so instead of "no findings")."""

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def metrics(self) -> dict[str, float]:
        counts = self.counts()
        return {"findings": float(len(self.findings)),
                **{f"findings.{k}": float(v) for k, v in counts.items()}}

    def alert_samples(self, provider: str) -> Iterable[Sample]:
        """security.findings{severity} so a rule can fire on any critical finding."""
        yield Sample(f"{provider}.findings", (), float(len(self.findings)), self.taken_at)
        for severity, n in self.counts().items():
            yield Sample(f"{provider}.findings", labels_of(severity=severity), float(n), self.taken_at)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (f.severity.rank, f.source, f.check.value, f.resource)))

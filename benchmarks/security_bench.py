"""Issue 10 figures: audit append and verify, redaction per line, a security scan.

    python benchmarks/security_bench.py [--records 10000] [--runs 5] [--groups 300]

Prints medians. The audit append includes its fsyncs (log, head file, directory), so
the figure is the disk's; the scan runs against an in-process moto server with
`--groups` security groups, as many volumes, a tenth as many buckets and IAM users.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.model import SecuritySettings
from config.redaction import redact
from providers.audit.log import AuditLog
from providers.audit.query import read_records
from providers.audit.verify import verify

RECORD = {"time": "2026-11-22T10:00:00.000Z", "user": "alice", "role": "operator", "host": "bastion",
          "ssh_client": "10.0.0.5", "profile": "prod", "action": "aws.ec2.stop", "risk": "disruptive",
          "target": {"kind": "instance", "id": "i-0abc", "name": "web-1"}, "params": {},
          "result": "ok", "message": "Stop instance requested for web-1", "duration_s": 0.8}
LINES = [
    '{"ts": "2026-11-22T10:00:00Z", "level": "info", "msg": "poll of aws.ec2 took 0.42 s"}',
    "connect to postgres://monitor:hunter2@db-1:5432/app failed: timeout",
    "GET https://api.example.com/health 200 in 41 ms; Authorization: Bearer abcdef0123456789",
    "instance i-0abc1234def567890 in sg-0123456789abcdef0 tagged Owner=alice",
]


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.3f} ms"


def bench_audit(records: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog(Path(tmp) / "audit.jsonl", lambda s: redact(s, ()))
        samples = []
        for _ in range(200):
            started = time.perf_counter()
            log.append_sync(RECORD)
            samples.append(time.perf_counter() - started)
        print(f"audit append (fsync'ed, chained), median of 200: {median_ms(samples)}")
        fast = AuditLog(Path(tmp) / "big.jsonl")
        # Build a large trail quickly: the same chain code, fsync is the disk's cost above.
        original = os.fsync
        os.fsync = lambda fd: None  # type: ignore[assignment]
        try:
            for _ in range(records):
                fast.append_sync(RECORD)
        finally:
            os.fsync = original  # type: ignore[assignment]
        times, lists = [], []
        for _ in range(runs):
            started = time.perf_counter()
            report = verify(Path(tmp) / "big.jsonl")
            times.append(time.perf_counter() - started)
            assert report.ok, report.problems
            started = time.perf_counter()
            read_records(Path(tmp) / "big.jsonl")
            lists.append(time.perf_counter() - started)
        print(f"audit verify of {records:,} records, median of {runs}: {median_ms(times)}")
        print(f"audit list (read_records) of {records:,} records, median of {runs}: {median_ms(lists)}")


def bench_redaction(runs: int) -> None:
    corpus = LINES * 250
    for label, secrets in (("", ("hunter2", "s3cr3t-value")),
                           (", plus a 3-character secret", ("hunter2", "s3cr3t-value", "pw1"))):
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            for line in corpus:
                redact(line, secrets)
            samples.append((time.perf_counter() - started) / len(corpus))
        print(f"redact one line (mixed corpus of {len(corpus)}{label}), median of {runs}: "
              f"{statistics.median(samples) * 1e6:.1f} us")


def bench_scan(groups: int, runs: int) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from config.model import AwsAccountSettings
    from providers.aws.session import AccountClients
    from providers.security.aws_checks import scan_account

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from tui.demo.aws_fleet import silence_werkzeug

    silence_werkzeug()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        kw = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "testing",
              "aws_secret_access_key": "testing"}
        ec2, s3, iam = boto3.client("ec2", **kw), boto3.client("s3", **kw), boto3.client("iam", **kw)
        for n in range(groups):
            sg = ec2.create_security_group(GroupName=f"g{n}", Description="bench")["GroupId"]
            port_ = 22 if n % 10 == 0 else 443
            world = [{"CidrIp": "0.0.0.0/0"}]
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": port_, "ToPort": port_, "IpRanges": world}])
            ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=n % 2 == 0)
        for n in range(max(groups // 10, 1)):
            s3.create_bucket(Bucket=f"bench-bucket-{n}")
            iam.create_user(UserName=f"user{n}")
        account = AwsAccountSettings(name="bench", regions=("us-east-1",), endpoint_url=url,
                                     access_key_id="testing", secret_access_key="testing")
        clients = AccountClients(account, read_only=True)
        samples, found = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            findings, _statuses = scan_account(clients, SecuritySettings(), time.time())
            samples.append(time.perf_counter() - started)
            found = len(findings)
        clients.close()
        print(f"security scan of {groups} groups, {groups} volumes, {groups // 10} buckets and users "
              f"({found} findings), median of {runs}: {median_ms(samples)}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--groups", type=int, default=300)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    bench_redaction(args.runs)
    bench_audit(args.records, args.runs)
    bench_scan(args.groups, args.runs)


if __name__ == "__main__":
    main()

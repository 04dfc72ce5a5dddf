"""`stacktop report costs` as an operator runs it, against moto with injected Cost Explorer
answers: the three formats carry the month's exact figures, --output writes the file and
nothing else, a past month is reported whole, and every refusal is one line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from tests.support.aws import DEFAULT_ACCOUNT, SECOND_ACCOUNT, TEST_KEY, FaultProxy, boto_client
from tui.cli import month_argument
from tui.demo.ce_results import cost_and_usage_result, inject

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "tests" / "data" / "costs" / "report.schema.json").read_text(encoding="utf-8"))
SECRET = "report-secret-31f7"
EC2 = "Amazon Elastic Compute Cloud - Compute"
RDS = "Amazon Relational Database Service"
S3 = "Amazon Simple Storage Service"
EVIL = "<script>alert(1)</script>"


def stacktop(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, as cron or an operator runs it."""
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=180, env={**os.environ, "STACKTOP_TEST_AWS_SECRET": SECRET},
                          stdin=subprocess.DEVNULL)


def months(today: date) -> tuple[str, str, str]:
    """This month, the one before, and the one before that ("YYYY-MM")."""
    first = today.replace(day=1)
    last = (first - timedelta(days=1)).replace(day=1)
    before = (last - timedelta(days=1)).replace(day=1)
    return first.strftime("%Y-%m"), last.strftime("%Y-%m"), before.strftime("%Y-%m")


def bill(today: date) -> dict[str, dict[tuple[str, str], float]]:
    """Three months of daily spend up to yesterday: two services in prod, one in staging.

    Amounts in whole cents chosen so that every day differs, so a day dropped or
    counted twice changes a total."""
    days: dict[str, dict[tuple[str, str], float]] = {}
    start = (today.replace(day=1) - timedelta(days=40)).replace(day=1)
    day, n = start, 0
    while day < today:
        n += 1
        days[day.isoformat()] = {(EC2, DEFAULT_ACCOUNT): 40 + n * 0.25, (RDS, DEFAULT_ACCOUNT): 12.5,
                                 (S3, SECOND_ACCOUNT): 1 + (n % 7) * 0.01}
        day += timedelta(days=1)
    return days


def total(days: dict[str, dict[tuple[str, str], float]], month: str, service: str | None = None,
          account: str | None = None) -> float:
    return round(sum(amount for day, groups in days.items() if day.startswith(month)
                     for (svc, acct), amount in groups.items()
                     if service in (None, svc) and account in (None, acct)), 2)


def write_config(tmp_path: Path, endpoint: str) -> Path:
    path = tmp_path / "stacktop.yaml"
    path.write_text(f"""
providers:
  aws:
    accounts:
      - name: prod
        regions: [us-east-1]
        endpoint_url: {endpoint}
        access_key_id: {TEST_KEY}
        secret_access_key: ${{STACKTOP_TEST_AWS_SECRET}}
    max_attempts: 1
costs:
  cache_file: {tmp_path / "costs-cache.json"}
  aws_budgets: false
  budgets:
    - {{name: monthly, amount: 900}}
    - {{name: rds, amount: 100, service: {RDS}}}
""")
    return path


class Estate:
    def __init__(self, tmp_path: Path, moto_url: str, endpoint: str | None = None) -> None:
        self.today = datetime.now(UTC).date()
        self.month, self.last, self.before = months(self.today)
        self.days = bill(self.today)
        estimated_from = (self.today - timedelta(days=2)).isoformat()
        # One answer per distinct query: enough for the current month and one past month.
        answer = cost_and_usage_result(self.days, account_names={SECOND_ACCOUNT: "staging"},
                                       estimated_from=estimated_from)
        inject(moto_url, [answer, answer])
        ec2 = boto_client("ec2", moto_url, region="us-east-1")
        tags = [{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": EVIL}]}]
        self.volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=500, VolumeType="gp3",
                                        TagSpecifications=tags)["VolumeId"]
        self.config = write_config(tmp_path, endpoint or moto_url)


@pytest.fixture
def estate(tmp_path: Path, moto_url: str) -> Estate:
    return Estate(tmp_path, moto_url)


def report(estate: Estate, fmt: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return stacktop("report", "costs", "--config", str(estate.config), "--format", fmt, *extra)


def test_json_report_has_the_month_to_date_by_service_and_account(estate: Estate) -> None:
    done = report(estate, "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and SECRET not in done.stdout
    doc = json.loads(done.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert (doc["month"], doc["currency"], doc["complete"]) == (estate.month, "USD", False)
    totals = doc["totals"]
    assert totals["month_to_date"] == total(estate.days, estate.month)
    assert totals["last_month"] == total(estate.days, estate.last)
    assert totals["forecast_method"] == "estimated: mean of last 7 days"  # moto has no GetCostForecast
    assert {s["label"]: s["month_to_date"] for s in doc["by_service"]} == {
        svc: total(estate.days, estate.month, service=svc) for svc in (EC2, RDS, S3)}
    assert {a["label"]: (a["key"], a["month_to_date"]) for a in doc["by_account"]} == {
        "prod": (DEFAULT_ACCOUNT, total(estate.days, estate.month, account=DEFAULT_ACCOUNT)),
        "staging": (SECOND_ACCOUNT, total(estate.days, estate.month, account=SECOND_ACCOUNT))}
    this_month = [d for d in doc["daily"] if d["day"].startswith(estate.month)]
    assert len(this_month) == estate.today.day - 1
    assert [b["name"] for b in doc["budgets"]] == ["monthly", "rds"]
    assert doc["budgets"][1]["spent"] == total(estate.days, estate.month, service=RDS)
    [volume] = [f for f in doc["findings"] if f["resource_id"] == estate.volume]
    assert volume["kind"] == "unattached-volume" and volume["monthly_savings"] > 0
    assert totals["potential_savings_monthly"] == round(sum(f["monthly_savings"] for f in doc["findings"]), 2)
    assert any(n["part"] == "recommendations" and "not available" in n["text"] for n in doc["notes"])


def test_csv_report_has_the_documented_columns(estate: Estate) -> None:
    done = report(estate, "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout, newline="")))
    assert list(rows[0]) == ["section", "name", "account", "region", "amount", "last_month", "detail"]
    totals = {r["name"]: r for r in rows if r["section"] == "total"}
    assert totals["month_to_date"]["amount"] == f"{total(estate.days, estate.month):.2f}"
    assert totals["month_to_date"]["last_month"] == f"{total(estate.days, estate.last):.2f}"
    accounts = {r["name"]: (r["account"], r["amount"]) for r in rows if r["section"] == "account"}
    staging = total(estate.days, estate.month, account=SECOND_ACCOUNT)
    assert accounts["staging"] == (SECOND_ACCOUNT, f"{staging:.2f}")
    [volume] = [r for r in rows if r["section"] == "finding" and estate.volume in r["detail"]]
    assert volume["name"] == EVIL and volume["region"] == "us-east-1"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_written_to_a_file(estate: Estate, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "costs.html"
    out.parent.mkdir()
    done = report(estate, "html", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == f"stacktop: wrote the html costs report of {estate.month} to {out}"
    assert [p.name for p in out.parent.iterdir()] == ["costs.html"]  # no temporary file left
    html = out.read_text(encoding="utf-8")
    parsed = Tags()
    parsed.feed(html)
    text = " ".join(parsed.text)
    assert f"stacktop costs — {estate.month}" in text
    assert f"{total(estate.days, estate.month):,.2f} USD" in text
    assert parsed.tags.count("svg") == 1 and "script" not in parsed.tags
    assert EVIL in text  # the Name tag, as text
    assert SECRET not in html


def test_a_past_month_is_reported_whole(estate: Estate) -> None:
    done = report(estate, "json", "--month", estate.last)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["month"], doc["complete"]) == (estate.last, True)
    assert doc["totals"]["month_to_date"] == total(estate.days, estate.last)
    assert doc["totals"]["last_month"] == total(estate.days, estate.before)


def test_a_second_report_within_the_hour_asks_cost_explorer_nothing(tmp_path: Path, moto_url: str,
                                                                     fault_proxy: FaultProxy) -> None:
    estate = Estate(tmp_path, moto_url, endpoint=fault_proxy.url)
    first = report(estate, "json")
    assert first.returncode == 0, first.stderr
    asked = fault_proxy.operations("ce").count("GetCostAndUsage")
    assert asked == 1
    again = report(estate, "csv")
    assert again.returncode == 0, again.stderr
    assert fault_proxy.operations("ce").count("GetCostAndUsage") == asked


def test_cost_explorer_denied_is_one_line_and_exit_1(tmp_path: Path, moto_url: str,
                                                     fault_proxy: FaultProxy) -> None:
    estate = Estate(tmp_path, moto_url, endpoint=fault_proxy.url)
    fault_proxy.deny("ce")
    out = tmp_path / "costs.json"
    done = report(estate, "json", "--output", str(out))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("stacktop: ") and "GetCostAndUsage" in line and "denied" in line
    assert done.stdout == "" and not out.exists()


@pytest.mark.parametrize(("month", "message"), [
    ("2026-1", "stacktop: --month must look like 2026-10"),
    ("october", "stacktop: --month must look like 2026-10"),
    ("2026-13", "stacktop: --month must look like 2026-10"),
    ("2999-01", "stacktop: --month 2999-01 is in the future — the latest is "),
])
def test_a_bad_month_is_one_line_and_exit_2(tmp_path: Path, month: str, message: str) -> None:
    done = stacktop("report", "costs", "--config", str(write_config(tmp_path, "http://127.0.0.1:9")),
                    "--format", "json", "--month", month)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(message)


def test_month_argument_refuses_only_months_to_come() -> None:
    now = datetime(2026, 10, 31, 23, 59, tzinfo=UTC)
    assert month_argument("2026-10", now) == "2026-10" and month_argument("2025-12", now) == "2025-12"
    assert month_argument(None, now) is None
    with pytest.raises(Exception, match="in the future — the latest is 2026-10"):
        month_argument("2026-11", now)


def test_an_unwritable_output_is_one_line_and_exit_2(estate: Estate, tmp_path: Path) -> None:
    done = report(estate, "csv", "--output", str(tmp_path / "missing" / "costs.csv"))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line == f"stacktop: cannot write {tmp_path / 'missing' / 'costs.csv'}: No such file or directory"


def test_report_help_lists_costs_and_usage_errors_exit_2() -> None:
    helped = stacktop("report", "--help")
    assert helped.returncode == 0 and "costs" in helped.stdout
    assert "report" in stacktop("--help").stdout
    for args in (["report"], ["report", "costs"], ["report", "costs", "--format", "xml"]):
        done = stacktop(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, args


def test_the_report_never_imports_textual(estate: Estate, tmp_path: Path) -> None:
    """Headless on a bastion or in cron: no terminal UI is loaded, let alone started."""
    code = ("import sys; from tui.cli import main; rc = main(sys.argv[1:]); "
            "sys.exit(rc if rc else 3 if 'textual' in sys.modules else 0)")
    out = tmp_path / "costs.json"
    args = ["report", "costs", "--config", str(estate.config), "--format", "json", "--output", str(out)]
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env={**os.environ, "STACKTOP_TEST_AWS_SECRET": SECRET},
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["schema"] == "stacktop.costs.report/1"

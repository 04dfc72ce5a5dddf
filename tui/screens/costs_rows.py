"""What the Costs tab shows, as plain functions of the `costs` provider's
CostsSnapshot: the totals lines, the daily spend as sparkline values and chart
bars, the one table (section rows SPEND BY SERVICE / BY ACCOUNT / BUDGETS /
FINDINGS / RECOMMENDATIONS / KUBERNETES NAMESPACES, each naming what its cells
hold), its columns for 80 and 120 cells, the tab's label, the detail pane's lines
and the ActionTarget of a finding.

No Textual here (Rich text only): everything is easy to test on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text

from providers.base import ActionTarget
from providers.costs.action_specs import DELETE_VOLUME, RELEASE_ADDRESS, TARGET_KIND
from providers.costs.model import (
    BudgetState,
    BudgetStatus,
    CostLine,
    CostsSnapshot,
    Finding,
    FindingKind,
    NamespaceCost,
    Recommendation,
    Spend,
)
from tui.screens.ha_rows import Tinted
from tui.screens.sections import TextDoc, field_lines, section_key
from widgets.formatting import human_bytes
from widgets.resource_table import Column

PROVIDER = "costs"
"""The provider whose CostsSnapshot the tab shows; its presence makes the tab exist."""

SERVICE_LIMIT = 10
"""Services listed one by one; the rest share one row (the detail pane lists them)."""

# -- money and words -------------------------------------------------------------------------------

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(value: float, currency: str = "USD", whole_from: float = 10_000.0) -> str:
    """`$1,234.56`; whole units from `whole_from` up (`$12,345`), millions as `$1.23M`."""
    sign = CURRENCY_SIGNS.get(currency, f"{currency} ")
    size = abs(value)
    if size >= 1e6:
        body = f"{size / 1e6:.2f}M"
    elif size >= whole_from:
        body = f"{size:,.0f}"
    else:
        body = f"{size:,.2f}"
    return f"{'-' if value < 0 and round(size, 2) else ''}{sign}{body}"


def compact_money(value: float, currency: str = "USD", thousands_from: float = 10_000.0) -> str:
    """A tab label's figure: `$1,234`, `$12.3k`, `$1.2M` (`$8.3k` with thousands_from=1000)."""
    sign = CURRENCY_SIGNS.get(currency, f"{currency} ")
    if value >= 1e6:
        return f"{sign}{value / 1e6:.1f}M"
    if value >= thousands_from:
        return f"{sign}{value / 1e3:.1f}k"
    return f"{sign}{value:,.0f}"


def hourly_text(value: float, currency: str = "USD", unit: str = "/h") -> str:
    """`$0.42/h`; under a cent `<$0.01/h` (a namespace with tiny requests is not free, just small).
    The table's column says hourly: its cells leave the unit out."""
    if 0 < value < 0.005:
        return f"<{money(0.01, currency)}{unit}"
    return f"{money(value, currency)}{unit}"


def ratio_text(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.0f}%"


def age_words(seconds: float) -> str:
    """`12 min`, `3 h 5 min`, `2 d`: the data's age in words an operator reads at a glance."""
    s = max(0, int(seconds))
    if s < 60:
        return "under a minute"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{s // 86400} d"


SERVICE_SHORT = {
    "Amazon Elastic Compute Cloud - Compute": "EC2 - Compute",
    "Amazon Relational Database Service": "RDS",
    "Amazon Simple Storage Service": "S3",
    "Amazon Elastic Load Balancing": "ELB",
    "Amazon Elastic Container Service for Kubernetes": "EKS",
    "Amazon Elastic Kubernetes Service": "EKS",
    "Amazon Elastic Container Service": "ECS",
    "Amazon EC2 Container Registry (ECR)": "ECR",
    "Amazon Elastic File System": "EFS",
    "Amazon Virtual Private Cloud": "VPC",
    "Amazon Simple Queue Service": "SQS",
    "Amazon Simple Notification Service": "SNS",
    "AWS Key Management Service": "KMS",
    "AmazonCloudWatch": "CloudWatch",
}
"""Cost Explorer's long service names, as the table's first column has room for them
(the detail pane shows the full name)."""


def short_service(name: str) -> str:
    if name in SERVICE_SHORT:
        return SERVICE_SHORT[name]
    for prefix in ("Amazon ", "AWS "):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


KIND_WORDS = {
    FindingKind.UNATTACHED_VOLUME: "EBS volume",
    FindingKind.UNASSOCIATED_EIP: "Elastic IP",
    FindingKind.STOPPED_INSTANCE: "EC2 stopped",
    FindingKind.OLD_SNAPSHOT: "EBS snapshot",
    FindingKind.IDLE_RDS: "RDS idle",
    FindingKind.IDLE_LB: "load balancer",
    FindingKind.LOW_CPU_EC2: "EC2 low CPU",
    FindingKind.PREVIOUS_GENERATION: "EC2 old type",
}
"""A finding's kind in the 13 cells of the Where column."""

KIND_TITLES = {
    FindingKind.UNATTACHED_VOLUME: "unattached EBS volume",
    FindingKind.UNASSOCIATED_EIP: "unassociated Elastic IP",
    FindingKind.STOPPED_INSTANCE: "stopped EC2 instance",
    FindingKind.OLD_SNAPSHOT: "old EBS snapshot",
    FindingKind.IDLE_RDS: "idle RDS database",
    FindingKind.IDLE_LB: "idle load balancer",
    FindingKind.LOW_CPU_EC2: "low-utilisation EC2 instance",
    FindingKind.PREVIOUS_GENERATION: "previous-generation instance type",
}

FIXES = {DELETE_VOLUME.id: FindingKind.UNATTACHED_VOLUME, RELEASE_ADDRESS.id: FindingKind.UNASSOCIATED_EIP}
"""The finding each console fix applies to (the finder names the fix in Finding.action_id:
an address without an allocation id, say, has none)."""
FIX_SPECS = {DELETE_VOLUME.id: DELETE_VOLUME, RELEASE_ADDRESS.id: RELEASE_ADDRESS}

STATE_HEALTH = {BudgetState.OK: "ok", BudgetState.WARN: "warn", BudgetState.OVER: "error"}
STATE_STYLES = {BudgetState.OK: "green", BudgetState.WARN: "yellow", BudgetState.OVER: "bold red"}


def tinted_health(value: object) -> str | None:
    """The colour class a cell carries (Tinted.health): ok / warn / error / info / muted."""
    return getattr(value, "health", "") or None


# -- the month ---------------------------------------------------------------------------------------


def month_bounds(month: str) -> tuple[float, float, int]:
    """(start, end) in UTC seconds and the number of days of "YYYY-MM"."""
    year, mon = (int(p) for p in month.split("-"))
    first = datetime(year, mon, 1, tzinfo=UTC)
    after = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=UTC)
    return first.timestamp(), after.timestamp(), (after - first).days


def month_elapsed(spend: Spend, now: float) -> float:
    """How much of the month is behind us (1.0 for a complete month)."""
    if spend.complete:
        return 1.0
    start, end, _ = month_bounds(spend.month)
    return min(1.0, max(0.0, (now - start) / (end - start)))


PACE_MIN_ELAPSED = 0.1
"""Before ~3 days of a month a pace says more about the calendar than the bill."""


def pace_change(line: CostLine, elapsed: float) -> float | None:
    """This month's spend at its pace to the month's end, against last month: -0.12 is 12 %
    less. Month to date against a whole last month would read -60 % on every 12th."""
    if line.last_month <= 0 or elapsed < PACE_MIN_ELAPSED:
        return None
    return line.month_to_date / elapsed / line.last_month - 1.0


def change_cell(line: CostLine, elapsed: float) -> Tinted:
    if line.last_month <= 0:
        return Tinted("new", "warn") if line.month_to_date > 0 else Tinted("—")
    change = pace_change(line, elapsed)
    if change is None:
        return Tinted("—")
    return Tinted(f"{change * 100:+.0f}%", "warn" if change >= 0.2 else "")


BAR_EIGHTHS = "▏▎▍▌▋▊▉"
"""Left eighths of a cell, 1/8 to 7/8: a bar's ragged end."""


def share_bar(part: float, total: float, ascii: bool = False, width: int = 7) -> str:
    """`████▌   42%`: a part's share of the total as a bar in eighths of a cell."""
    share = part / total if total > 0 else 0.0
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, rest = divmod(eighths, 8)
    if ascii:
        bar = "#" * full + ("+" if rest >= 4 else "")
    else:
        bar = "█" * full + (BAR_EIGHTHS[rest - 1] if rest else "")
    return f"{bar:<{width}} {share * 100:3.0f}%"


# -- the table -----------------------------------------------------------------------------------

COLUMNS = (
    Column("item", "Item", min_width=21, flex=3, kind="status", severity=tinted_health),
    Column("where", "Where", width=13),
    Column("place", "Account/region", width=18),
    Column("detail", "Detail", min_width=10, flex=2),
    Column("amount", "Month", width=9, align="right"),
    Column("compare", "Compare", width=9, align="right"),
    Column("pct", "%", width=7, align="right", kind="status", severity=tinted_health),
    Column("note", "Action", min_width=12, flex=2),
)
"""Every column a row has; `fit_columns` picks those a width shows. The sections put
different figures in them: each section's own row names its cells."""

WIDE = ("item", "where", "place", "detail", "amount", "compare", "pct", "note")
NARROW = ("item", "where", "detail", "amount", "compare", "pct")
"""On 80 cells the account/region and the action give way (the detail pane has both)."""
WIDE_MIN_WIDTH = 110
_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}


def fit_columns(width: int) -> tuple[Column, ...]:
    keys = WIDE if width >= WIDE_MIN_WIDTH else NARROW
    columns = tuple(COLUMNS[_INDEX[k]] for k in keys)
    if keys is WIDE:  # the reason gets the item's room; the action what is left
        columns = tuple(Column(c.key, c.label, min_width=c.min_width, flex=3) if c.key == "detail" else c
                        for c in columns)
    return columns


def project(row: Sequence[object], columns: Sequence[Column]) -> tuple[object, ...]:
    """A full row's values for the columns shown."""
    return tuple(row[_INDEX[c.key]] for c in columns)


SERVICES, ACCOUNTS, BUDGETS, FINDINGS, RECOMMENDATIONS, NAMESPACES = (
    "services", "accounts", "budgets", "findings", "recommendations", "namespaces")
SECTION_TITLES = {SERVICES: "SPEND BY SERVICE", ACCOUNTS: "BY ACCOUNT", BUDGETS: "BUDGETS",
                  FINDINGS: "FINDINGS", RECOMMENDATIONS: "RECOMMENDATIONS",
                  NAMESPACES: "KUBERNETES NAMESPACES"}
SECTION_CELLS = {
    SERVICES: ("share of MTD", "", "", "MTD", "last mon", "change", ""),
    ACCOUNTS: ("share of MTD", "", "account id", "MTD", "last mon", "change", ""),
    BUDGETS: ("scope", "", "forecast · source", "spent", "budget", "used", ""),
    FINDINGS: ("kind", "account/region", "reason", "cost/mo", "saves/mo", "fix", "action"),
    RECOMMENDATIONS: ("term", "payment", "purchase", "upfront", "saves/mo", "saves", ""),
    NAMESPACES: ("context", "", "pods · CPU · memory", "MTD", "month", "hourly", ""),
}
"""What each section's cells hold, in COLUMNS order after the item."""


def section_row(section: str, title: str | None = None) -> tuple[object, ...]:
    return (Tinted(title or SECTION_TITLES[section], "info"), *SECTION_CELLS[section])


NOTE_PREFIX = "note:"


def is_note(key: str | None) -> bool:
    """A section's note row: the table draws its text across the whole line."""
    return key is not None and key.startswith(NOTE_PREFIX)


def note_row(text: str, health: str = "muted") -> tuple[object, ...]:
    """A section's one-line note (nothing found, not available, an error) in the first cell,
    which the table draws across the line (`is_note`)."""
    return (Tinted(text, health), "", "", "", "", "", Tinted(""), "")


def line_row(line: CostLine, total: float, elapsed: float, currency: str, detail: str,
             ascii: bool = False) -> tuple[object, ...]:
    return (Tinted(short_service(line.label)), share_bar(line.month_to_date, total, ascii), "", detail,
            money(line.month_to_date, currency), money(line.last_month, currency),
            change_cell(line, elapsed), "")


def budget_row(b: BudgetStatus, currency: str) -> tuple[object, ...]:
    health = STATE_HEALTH[b.state]
    forecast = f"forecast {ratio_text(b.forecast_ratio)}" if b.forecast_ratio is not None else "no forecast"
    return (Tinted(b.name, health), b.scope, "", f"{forecast} · {b.source}", money(b.spent, currency),
            money(b.amount, currency), Tinted(ratio_text(b.ratio), health), "")


def resource_word(f: Finding) -> str:
    return f.name if f.name else f.resource_id


def finding_row(f: Finding, currency: str) -> tuple[object, ...]:
    return (Tinted(resource_word(f)), KIND_WORDS.get(f.kind, f.kind.value), f"{f.account}/{f.region}",
            f.reason, money(f.monthly_cost, currency), money(f.monthly_savings, currency),
            Tinted(fix_word(f), "warn" if fix_word(f) else ""), f.action)


def fix_word(f: Finding) -> str:
    """The console key that fixes it (`^d`, `^r`), or nothing when it is only advice."""
    spec = FIX_SPECS.get(f.action_id)
    return spec.key.replace("ctrl+", "^") if spec is not None else ""


def recommendation_row(r: Recommendation, currency: str) -> tuple[object, ...]:
    percent = Tinted(f"{r.savings_percent:.0f}%" if r.savings_percent is not None else "—")
    return (Tinted(r.kind), r.term, r.payment, r.description, money(r.upfront, currency),
            money(r.monthly_savings, currency), percent, "")


def namespace_row(ns: NamespaceCost, currency: str) -> tuple[object, ...]:
    return (Tinted(ns.namespace), ns.context, "", namespace_usage(ns), money(ns.month_to_date, currency),
            money(ns.month_projection, currency), Tinted(hourly_text(ns.hourly, currency, "")), "")


def namespace_usage(ns: NamespaceCost) -> str:
    return (f"{ns.pods} pod{'s' if ns.pods != 1 else ''} · {ns.cpu_request:.2f} CPU · "
            f"{human_bytes(ns.memory_request)}")


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Largest monthly savings first (then the costliest, then a stable order)."""
    return sorted(findings, key=lambda f: (-f.monthly_savings, -f.monthly_cost, f.kind.value, f.account,
                                           f.region, f.resource_id))


def finding_key(f: Finding) -> str:
    return f"finding:{f.kind.value}:{f.account}:{f.region}:{f.resource_id}"


OTHER_SERVICES = "service:*"


@dataclass(frozen=True)
class Listing:
    """The table's rows (full COLUMNS rows, keyed) and what each key stands for."""

    rows: tuple[tuple[str, tuple[object, ...]], ...]
    items: Mapping[str, object]
    """Row key -> the CostLine, BudgetStatus, Finding, Recommendation or NamespaceCost it shows
    (the other services' row: a tuple of CostLines; a note row: its text)."""

    def finding(self, key: str | None) -> Finding | None:
        found = self.items.get(key) if key else None
        return found if isinstance(found, Finding) else None


def listing(snap: CostsSnapshot | None, now: float, ascii: bool = False) -> Listing:
    rows: list[tuple[str, tuple[object, ...]]] = []
    items: dict[str, object] = {}
    if snap is None:
        return Listing((), {})
    spend = snap.spend
    currency = spend.currency if spend is not None else "USD"

    def add(key: str, row: tuple[object, ...], item: object) -> None:
        rows.append((key, row))
        items[key] = item

    if spend is not None:
        elapsed = month_elapsed(spend, now)
        total = spend.month_to_date
        services = sorted(spend.by_service, key=lambda c: (-c.month_to_date, c.label))
        if services:
            rows.append((section_key(SERVICES), section_row(SERVICES)))
            for line in services[:SERVICE_LIMIT]:
                add(f"service:{line.key}", line_row(line, total, elapsed, currency, "", ascii), line)
            rest = tuple(services[SERVICE_LIMIT:])
            if rest:
                other = CostLine("*", f"{len(rest)} more services", sum(c.month_to_date for c in rest),
                                 sum(c.last_month for c in rest))
                add(OTHER_SERVICES, line_row(other, total, elapsed, currency, "", ascii), rest)
        accounts = sorted(spend.by_account, key=lambda c: (-c.month_to_date, c.label))
        if accounts:
            rows.append((section_key(ACCOUNTS), section_row(ACCOUNTS)))
            for line in accounts:
                detail = line.key if line.key != line.label else ""
                add(f"account:{line.key}", line_row(line, total, elapsed, currency, detail, ascii), line)
    if snap.budgets:
        rows.append((section_key(BUDGETS), section_row(BUDGETS)))
        for b in snap.budgets:
            add(f"budget:{b.source}:{b.name}", budget_row(b, currency), b)
    findings = sort_findings(snap.findings)
    if reads_aws(snap):  # Kubernetes alone: nothing is scanned, no section says it waits
        title = f"FINDINGS ({len(findings)})" if findings else None
        rows.append((section_key(FINDINGS), section_row(FINDINGS, title)))
        for f in findings:
            key = finding_key(f)
            if key not in items:
                add(key, finding_row(f, currency), f)
        if snap.findings_error:
            add(f"{NOTE_PREFIX}findings", note_row(snap.findings_error, "error"), snap.findings_error)
        elif not findings:
            text = ("no idle or wasted resource found" if snap.findings_at is not None
                    else "waiting for the first scan for idle resources…")
            add(f"{NOTE_PREFIX}findings", note_row(text), text)
    if snap.recommendations or snap.recommendations_note:
        rows.append((section_key(RECOMMENDATIONS), section_row(RECOMMENDATIONS)))
        for i, r in enumerate(sorted(snap.recommendations, key=lambda r: -r.monthly_savings)):
            add(f"recommendation:{i}", recommendation_row(r, currency), r)
        if not snap.recommendations:
            note = snap.recommendations_note
            add(f"{NOTE_PREFIX}recommendations", note_row(note), note)
    if snap.namespaces:
        rows.append((section_key(NAMESPACES), section_row(NAMESPACES)))
        for ns in sorted(snap.namespaces, key=lambda n: (-n.month_projection, n.context, n.namespace)):
            add(f"namespace:{ns.context}/{ns.namespace}", namespace_row(ns, currency), ns)
    return Listing(tuple(rows), items)


def reads_aws(snap: CostsSnapshot) -> bool:
    """Whether the provider reads AWS (Cost Explorer, the waste finder): at its first poll it
    has spend or says why not; without an AWS account it has only Kubernetes namespaces."""
    return bool(snap.spend is not None or snap.spend_error or snap.findings or snap.findings_error
                or snap.findings_at is not None or snap.ce_requests)


def empty_text(snap: CostsSnapshot | None, error: str | None) -> str:
    if snap is None:
        return f"no data: {error}" if error else "waiting for the first costs poll…"
    return "nothing to show yet"


# -- the totals, the daily spend -----------------------------------------------------------------


def tightest_budget(budgets: Sequence[BudgetStatus]) -> BudgetStatus | None:
    """The budget closest to (or furthest past) its amount: the worst state, then the highest ratio."""
    rank = {BudgetState.OK: 0, BudgetState.WARN: 1, BudgetState.OVER: 2}
    return max(budgets, key=lambda b: (rank[b.state], b.ratio, b.forecast_ratio or 0.0), default=None)


def _sep(out: Text) -> None:
    out.append("  ")


def _figure(out: Text, label: str, value: str, style: str = "bold") -> None:
    out.append(f"{label} ", style="dim")
    out.append(value, style=style)


def totals_line(snap: CostsSnapshot | None, error: str | None = None) -> Text:
    """`MTD $1,235  forecast $2,346  budget 82% (monthly)  savings $123/mo  last month $2,100`:
    the most wanted first, since a narrow line keeps only its start. A Cost Explorer
    failure is this one line instead; the findings below still show."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if snap is None:
        if error:
            out.append(f"no data: {error}", style="bold red")
        else:
            out.append("waiting for the first costs poll…", style="dim")
        return out
    spend = snap.spend
    if snap.spend_error:
        out.append(snap.spend_error, style="bold red")
        return out
    if spend is None:
        out.append("no AWS spend: Cost Explorer needs an account in providers.aws" if not reads_aws(snap)
                   else "Cost Explorer: no spend data yet", style="dim")
        return out
    currency = spend.currency
    _figure(out, "MTD", money(spend.month_to_date, currency, 100))
    if spend.forecast is not None and not spend.complete:
        _sep(out)
        _figure(out, "forecast", money(spend.forecast.amount, currency, 100))
    budget = tightest_budget(snap.budgets)
    if budget is not None:
        _sep(out)
        _figure(out, "budget", f"{ratio_text(budget.ratio)} used", STATE_STYLES[budget.state])
        out.append(f" ({budget.name})", style=STATE_STYLES[budget.state])
    _sep(out)
    _figure(out, "savings", f"{money(snap.potential_savings, currency, 100)}/mo",
            "bold green" if snap.potential_savings else "bold")
    _sep(out)
    _figure(out, "last month", money(spend.last_month, currency, 100))
    return out


def provenance_line(snap: CostsSnapshot | None, now: float) -> Text:
    """`forecast: estimated: mean of last 7 days · Cost Explorer data 12 min old · 2 CE requests
    this session · waste scan 5 min ago · prices: …`: where the figures come from and what they cost."""
    out = Text(no_wrap=True, overflow="ellipsis", end="", style="dim")
    if snap is None:
        return out
    parts: list[str] = []
    spend = snap.spend
    if snap.spend_error:
        currency = spend.currency if spend is not None else "USD"
        parts.append(f"savings {money(snap.potential_savings, currency, 100)}/mo")
    elif spend is not None:
        if spend.forecast is not None and not spend.complete:
            f = spend.forecast
            span = (f" ({money(f.low, spend.currency, 100)} to {money(f.high, spend.currency, 100)})"
                    if f.low is not None and f.high is not None else "")
            parts.append(f"forecast: {f.method}{span}")
        parts.append(f"{spend.month} complete" if spend.complete
                     else f"Cost Explorer data {age_words(now - spend.fetched_at)} old")
    requests = snap.ce_requests
    parts.append(f"{requests} CE request{'s' if requests != 1 else ''} this session")
    if snap.findings_at is not None:
        parts.append(f"waste scan {age_words(now - snap.findings_at)} ago")
    if snap.price_note:
        parts.append(snap.price_note)
    out.append(" · ".join(parts))
    return out


def spark_series(spend: Spend | None, width: int) -> tuple[tuple[float, ...], str]:
    """This month's daily spend for a sparkline `width` cells wide, each day as many cells as
    the whole month has room for (the bars keep their width all month), and the text beside
    its label: the newest day, the mean and the highest."""
    if spend is None:
        return (), ""
    days = spend.this_month()
    if not days:
        return (), f"{spend.month}: no day yet"
    _, _, month_days = month_bounds(spend.month)
    cells = max(1, min(4, width // month_days))
    values = tuple(d.amount for d in days for _ in range(cells))
    last = days[-1]
    top = max(days, key=lambda d: d.amount)
    mean = sum(d.amount for d in days) / len(days)
    cur = spend.currency
    newest = f"{money(last.amount, cur)} on {last.day[5:]}{' (estimated)' if last.estimated else ''}"
    return values, (f"{spend.month}: {newest} · mean {money(mean, cur)}/day · "
                    f"highest {money(top.amount, cur)} on {top.day[5:]}")


def chart_bars(spend: Spend) -> tuple[str, tuple[float, ...], tuple[float, ...],
                                      tuple[tuple[float, str], ...], tuple[float, float]]:
    """(title, day numbers, amounts, ticks, x range) of this month's daily spend: the month's
    whole width, so the days still to come show as room."""
    days = spend.this_month()
    _, _, month_days = month_bounds(spend.month)
    positions = tuple(float(int(d.day[8:10])) for d in days)
    values = tuple(d.amount for d in days)
    ticks = tuple((float(n), str(n)) for n in (1, 5, 10, 15, 20, 25, month_days))
    return (f"Daily spend {spend.month} ({spend.currency})", positions, values, ticks,
            (0.4, month_days + 0.6))


# -- the tab's label and the status line --------------------------------------------------------


def tab_labels(key: str, title: str, snap: CostsSnapshot | None, failed: bool) -> list[str]:
    """`5 Costs $1,234 MTD`, then shorter ones for a narrow tab bar; `!` marks a budget at its
    warning level or a source that does not answer, `OVER` a budget spent."""
    if snap is None:
        return [f"{key} {title} !" if failed else f"{key} {title}"]
    budget = tightest_budget(snap.budgets)
    mark = ""
    if budget is not None and budget.state is BudgetState.OVER:
        mark = " OVER"
    elif (budget is not None and budget.state is BudgetState.WARN) or snap.spend_error or failed:
        mark = " !"
    spend = snap.spend
    if spend is None:
        return [f"{key} {title}{mark}"]
    figure = compact_money(spend.month_to_date, spend.currency)
    short = compact_money(spend.month_to_date, spend.currency, 1000)
    return [f"{key} {title} {figure} MTD{mark}", f"{key} {title} {figure}{mark}",
            f"{key} {title} {short}{mark}", f"{key} {title}{mark}"]


def costs_problem(snapshot: object) -> str | None:
    """What the costs provider could not read (Cost Explorer, the waste scan), for the status line."""
    if not isinstance(snapshot, CostsSnapshot):
        return None
    return snapshot.spend_error or snapshot.findings_error


# -- the detail pane -------------------------------------------------------------------------------


CostDoc = TextDoc
"""The detail pane's lines for one row."""


def fix_text(f: Finding) -> str:
    if f.action_id == DELETE_VOLUME.id:
        return f"{DELETE_VOLUME.key} deletes it here (type the volume id to confirm; checked again first)"
    if f.action_id == RELEASE_ADDRESS.id:
        return f"{RELEASE_ADDRESS.key} releases it here (type the address to confirm; checked again first)"
    return "no fix from the console: do it in AWS"


def finding_title(f: Finding) -> str:
    return f"{resource_word(f)} · {KIND_TITLES.get(f.kind, f.kind.value)} · {f.account}/{f.region}"


def finding_doc(f: Finding, currency: str, price_note: str) -> CostDoc:
    fields: list[tuple[str, str, str]] = [
        ("kind", KIND_TITLES.get(f.kind, f.kind.value), ""),
        ("resource", f.resource_id, ""),
    ]
    if f.name and f.name != f.resource_id:
        fields.append(("name", f.name, ""))
    fields += [
        ("account", f.account, ""),
        ("region", f.region, ""),
        ("reason", f.reason, "yellow"),
        ("evidence", f.evidence, ""),
        ("costs", f"{money(f.monthly_cost, currency)}/month (estimate)", ""),
        ("saves", f"{money(f.monthly_savings, currency)}/month", "bold green"),
        ("action", f.action, ""),
        ("from here", fix_text(f), "dim"),
    ]
    fields += [(k, v, "") for k, v in f.details]
    lines = field_lines(fields)
    if price_note:
        lines += [Text(""), Text(price_note, style="dim")]
    return CostDoc(lines)


def budget_doc(b: BudgetStatus, currency: str) -> CostDoc:
    forecast = ("no forecast" if b.forecast is None
                else f"{money(b.forecast, currency)} by the month's end ({ratio_text(b.forecast_ratio)})")
    return CostDoc(field_lines([
        ("scope", b.scope, ""),
        ("source", b.source, ""),
        ("spent", money(b.spent, currency), ""),
        ("budget", money(b.amount, currency), ""),
        ("used", ratio_text(b.ratio), STATE_STYLES[b.state]),
        ("forecast", forecast, ""),
        ("warns at", ratio_text(b.warn), "dim"),
        ("state", b.state.value, STATE_STYLES[b.state]),
    ]))


def line_doc(line: CostLine, spend: Spend, now: float, what: str) -> CostDoc:
    """A service's or an account's figures, and how the change is reckoned."""
    cur = spend.currency
    elapsed = month_elapsed(spend, now)
    change = pace_change(line, elapsed)
    share = line.month_to_date / spend.month_to_date if spend.month_to_date > 0 else 0.0
    fields: list[tuple[str, str, str]] = [(what, line.label, "")]
    if line.key != line.label:
        fields.append(("id" if what == "account" else "key", line.key, ""))
    fields += [
        ("month to date", money(line.month_to_date, cur), ""),
        ("last month", money(line.last_month, cur), ""),
        ("share", f"{share * 100:.1f}% of {money(spend.month_to_date, cur)}", ""),
        ("change", "—" if change is None else f"{change * 100:+.1f}%", ""),
    ]
    lines = field_lines(fields)
    lines += [Text(""), Text(f"change: this month at its pace so far ({elapsed * 100:.0f}% of the month "
                             "gone) against the whole of last month", style="dim")]
    return CostDoc(lines)


def others_doc(rest: Sequence[CostLine], currency: str) -> CostDoc:
    width = max((len(c.label) for c in rest), default=0)
    lines = [Text("month to date · last month", style="bold dim")]
    for c in rest:
        lines.append(Text(f"{c.label:<{width}}  {money(c.month_to_date, currency):>10}  "
                          f"{money(c.last_month, currency):>10}", no_wrap=True, overflow="ellipsis", end=""))
    return CostDoc(lines)


def recommendation_doc(r: Recommendation, currency: str) -> CostDoc:
    return CostDoc(field_lines([
        ("purchase", r.description, ""),
        ("term", r.term, ""),
        ("payment", r.payment, ""),
        ("upfront", money(r.upfront, currency), ""),
        ("saves", f"{money(r.monthly_savings, currency)}/month", "bold green"),
        ("saves %", "—" if r.savings_percent is None else f"{r.savings_percent:.1f}%", ""),
    ]))


def namespace_doc(ns: NamespaceCost, currency: str) -> CostDoc:
    lines = field_lines([
        ("context", ns.context, ""),
        ("namespace", ns.namespace, ""),
        ("pods", str(ns.pods), ""),
        ("CPU requested", f"{ns.cpu_request:.3f} cores", ""),
        ("memory requested", human_bytes(ns.memory_request), ""),
        ("hourly", hourly_text(ns.hourly, currency), ""),
        ("month to date", money(ns.month_to_date, currency), ""),
        ("month projection", money(ns.month_projection, currency), "bold"),
    ])
    lines += [Text(""), Text("CPU and memory requests times the node's hourly price, shared by request "
                             "(the OpenCost method); estimates", style="dim")]
    return CostDoc(lines)


def detail_for(key: str | None, item: object, snap: CostsSnapshot | None,
               now: float) -> tuple[str, CostDoc | None]:
    """(title, lines) of the selected row."""
    if snap is None or item is None or key is None:
        return "", None
    spend = snap.spend
    currency = spend.currency if spend is not None else "USD"
    if isinstance(item, Finding):
        return finding_title(item), finding_doc(item, currency, snap.price_note)
    if isinstance(item, BudgetStatus):
        return f"budget {item.name} · {item.scope} · {item.source}", budget_doc(item, currency)
    if isinstance(item, NamespaceCost):
        return f"namespace {item.namespace} · {item.context}", namespace_doc(item, currency)
    if isinstance(item, Recommendation):
        return f"{item.kind} · {item.description}", recommendation_doc(item, currency)
    if isinstance(item, CostLine) and spend is not None:
        what = "account" if key.startswith("account:") else "service"
        return f"{what} {item.label}", line_doc(item, spend, now, what)
    if isinstance(item, tuple) and key == OTHER_SERVICES:
        return f"{len(item)} more services", others_doc(item, currency)
    if isinstance(item, str):
        return item, CostDoc([Text(item)])
    return "", None


# -- actions ------------------------------------------------------------------------------------


def target_for(action_id: str, f: Finding | None) -> ActionTarget | str:
    """The selected finding as what `action_id` acts on, or one line saying why it cannot be."""
    spec = FIX_SPECS.get(action_id)
    if spec is None:
        return f"{action_id}: not an action of the Costs tab"
    wanted = FIXES[action_id]
    if f is None:
        return f"{spec.title}: select an {KIND_TITLES[wanted]} in the FINDINGS section first"
    if f.action_id != action_id or f.kind is not wanted:
        other = FIX_SPECS.get(f.action_id)
        if other is not None:
            return f"{spec.title}: this is an {KIND_TITLES[f.kind]}: {other.key} is its fix"
        return f"no fix from the console for this finding: {f.action}"
    details = {"account": f.account, "region": f.region}
    if f.kind is FindingKind.UNATTACHED_VOLUME:
        details["volume_id"] = f.detail("volume_id") or f.resource_id
        name = details["volume_id"]
    else:
        details["allocation_id"] = f.detail("allocation_id") or f.resource_id
        details["public_ip"] = f.detail("public_ip") or f.name
        name = details["public_ip"] or f.resource_id
    return ActionTarget(kind=TARGET_KIND[action_id], id=f.resource_id, name=name, details=details)

"""What the HTML reports share (costs, security): one stylesheet, cards, escaping, UTC
times, and the atomic write that keeps a half-written report from being mailed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime
from html import escape
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` so that a reader (or a crash) sees the old file or the new, never half.

    The file gets the permissions a plain open() would give (0666 less the umask), not
    mkstemp's 0600: a report is meant to be shared. Raises OSError.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------- shared helpers


STYLE = """
:root { --fg: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --bg: #ffffff; --card: #f5f7fa;
  --bar: #2f6fb3; --bar-est: #9bbbe0; --last: #8a94a3; --ok: #1f7a3a; --warn: #a86500; --over: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta, .note { color: var(--muted); }
.note { margin: 6px 0; }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px;
  margin-top: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
tfoot td { font-weight: 600; border-top: 2px solid var(--fg); }
.share { display: inline-block; height: 8px; background: var(--bar); border-radius: 2px; }
.meter { display: inline-block; width: 120px; height: 8px; background: var(--line); border-radius: 2px;
  vertical-align: middle; overflow: hidden; }
.meter span { display: block; height: 100%; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .over { color: var(--over); }
.meter .ok { background: var(--ok); } .meter .warn { background: var(--warn); }
.meter .over { background: var(--over); }
.id { color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .bar { fill: var(--bar); } svg.chart .bar.est { fill: var(--bar-est); }
svg.chart .last { fill: none; stroke: var(--last); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart text { fill: var(--muted); font-size: 11px; }
.legend span { margin-right: 16px; color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  padding-top: 8px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  section, tr, .card { break-inside: avoid; }
  .card { border-color: #999; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def h(value: object) -> str:
    return escape(str(value), quote=True)


def card(label: str, value: str, sub: str = "", cls: str = "") -> str:
    klass = f"value {cls}".strip()
    return (f'<div class="card"><div class="label">{h(label)}</div><div class="{klass}">{value}</div>'
            + (f'<div class="sub">{sub}</div>' if sub else "") + "</div>")


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""What the peers cost next to stacktop: htop, btop, glances and `stacktop watch --demo`.

A figure for stacktop alone says little; the same figures for the tools people already
run say what "cheap" means. Each program runs in its own private tmux server at the
same size and TERM, with a temp HOME (and TMPDIR) so no user config or state changes
what it draws, and gets the same measurement as tui_watch.py: first frame, CPU % of one
core, RSS and bytes written per second over a steady-state window. Runs are
interleaved (htop, btop, glances, stacktop, then again) so a slow minute of the machine
does not land on one program only.

    python benchmarks/peers.py --runs 3 --seconds 60     # the reference run, ~15 min
    python benchmarks/peers.py --runs 1 --seconds 10 --only htop,btop

Missing peers are installed with apt-get (root only; --no-install to skip). Each
program keeps its own default refresh; the table shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tmuxbench import (
    TERM,
    BenchError,
    format_table,
    have_tmux,
    machine,
    machine_line,
    measure_session,
    median_range,
)

GLANCES_SYSTEM_CONF = Path("/etc/glances/glances.conf")


@dataclass(frozen=True)
class Program:
    """How to start one peer and how to tell its first real frame."""

    name: str
    binary: str
    args: tuple[str, ...]
    markers: tuple[str, ...]
    """All must show; each includes something only drawn once data has arrived."""
    refresh: str
    """The program's default refresh, which we keep: it is what a user gets."""
    apt_package: str | None = None
    prepare: Callable[[Path], list[str]] | None = None
    """Writes config into the temp HOME; returns extra arguments."""


def _btop_config(home: Path) -> list[str]:
    """Pin btop's defaults that drive its cost, so a distro default change shows up here.

    btop starts without prompts either way; it would write this file itself on exit.
    """
    conf = home / ".config" / "btop" / "btop.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text('color_theme = "Default"\ntheme_background = True\ntruecolor = True\n'
                    "update_ms = 2000\n")
    return []


def _glances_config(home: Path) -> list[str]:
    """The system glances.conf with every network call turned off.

    glances reads only the first config it finds, so we copy the distro's (to keep its
    defaults) and override: no PyPI update check, no public-IP lookup, no scan of the
    default gateway. The cloud plugin needs `requests` and is idle without it.
    """
    text = GLANCES_SYSTEM_CONF.read_text() if GLANCES_SYSTEM_CONF.exists() else ""
    overrides = {
        "global": {"check_update": "false"},
        "ip": {"public_ip_disabled": "True"},
        "ports": {"port_default_gateway": "False"},
    }
    conf = home / ".config" / "glances" / "glances.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(override_ini(text, overrides))
    return ["-C", str(conf), "--disable-check-update"]


def override_ini(text: str, overrides: dict[str, dict[str, str]]) -> str:
    """Set key=value in INI sections, keeping every other line (and comment) as it was."""
    out: list[str] = []
    pending = {sec: dict(keys) for sec, keys in overrides.items()}
    section = ""

    def flush(sec: str) -> None:
        for key, value in pending.pop(sec, {}).items():
            out.append(f"{key}={value}")

    for line in text.splitlines():
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            flush(section)
            section = header.group(1)
            out.append(line)
            continue
        key = re.match(r"^\s*([A-Za-z0-9_]+)\s*=", line)
        if key and key.group(1) in pending.get(section, {}):
            out.append(f"{key.group(1)}={pending[section].pop(key.group(1))}")
            continue
        out.append(line)
    flush(section)
    for sec in list(pending):
        out.append(f"[{sec}]")
        flush(sec)
    return "\n".join(out) + "\n"


PROGRAMS: tuple[Program, ...] = (
    Program("htop", "htop", (), ("Load average", "PID"), "1.5 s", "htop"),
    Program("btop", "btop", (), ("cpu", "LAV:", "Pid:"), "2 s", "btop", _btop_config),
    Program("glances", "glances", (), ("LOAD", "MEM", "TASKS"), "2 s", "glances", _glances_config),
    Program("stacktop", "stacktop", ("watch", "--demo"), ("PID", "host ● ok"), "2 s"),
)


@dataclass
class PeerRun:
    """The raw figures of one program in one run; --json writes these."""

    program: str
    command: str
    first_frame_s: float
    window_s: float
    bytes_written: int
    bytes_per_s: float
    cpu_percent: float
    rss_mb: float
    rss_children_mb: float
    pane_size: str
    children: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ install


def ensure_installed(programs: list[Program], install: bool) -> None:
    """apt-get the peers that are missing, so a fresh machine runs the suite unaided."""
    missing = [p for p in programs if shutil.which(p.binary) is None]
    if not missing:
        return
    names = ", ".join(p.name for p in missing)
    packages = [p.apt_package for p in missing if p.apt_package]
    if len(packages) < len(missing) or not install:
        raise BenchError(f"not installed: {names}")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BenchError(f"not installed: {names} (apt-get install needs root and apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"peers: installing {' '.join(packages)} with apt-get", file=sys.stderr)
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BenchError(f"{' '.join(argv[:2])} failed: {last}")
    still = [p.name for p in missing if shutil.which(p.binary) is None]
    if still:
        raise BenchError(f"still not installed after apt-get: {', '.join(still)}")


# ------------------------------------------------------------------------ one run


def resolve(binary: str) -> str:
    """The real executable; a pyenv shim would add ~70 ms of bash to the first frame."""
    path = shutil.which(binary) or binary
    if "/shims/" in path and shutil.which("pyenv"):
        proc = subprocess.run(["pyenv", "which", binary], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    return path


def command_for(program: Program, home: Path, work: Path) -> str:
    """`exec env HOME=… prog …`: exec keeps the pane's pid the program's pid."""
    args = [resolve(program.binary), *program.args]
    if program.prepare:
        args += program.prepare(home)
    if program.name == "stacktop":
        args += ["--log-file", str(work / "stacktop.log")]  # keep logs out of any state dir
    env = [f"HOME={home}", f"TMPDIR={work}", f"XDG_CONFIG_HOME={home / '.config'}",
           f"XDG_CACHE_HOME={home / '.cache'}", f"XDG_STATE_HOME={home / '.local' / 'state'}"]
    if "UTF-8" not in " ".join(os.environ.get(v, "") for v in ("LC_ALL", "LC_CTYPE", "LANG")).upper():
        env.append("LANG=C.UTF-8")  # btop refuses to start without a UTF-8 locale
    return "exec env " + shlex.join([*env, *args])


def one_run(program: Program, args: argparse.Namespace) -> PeerRun:
    """Launch, wait for the first frame, measure the window, kill our tmux server."""
    with tempfile.TemporaryDirectory(prefix=f"stacktop-peers-{program.name}-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        command = command_for(program, home, work)
        try:
            session = measure_session(work, args.width, args.height, command, program.markers,
                                      args.seconds, args.first_frame_timeout)
        except BenchError as exc:
            raise BenchError(f"{program.name}: {exc}") from None
    window = session.window
    return PeerRun(
        program=program.name, command=command, first_frame_s=session.first_frame_s,
        window_s=window.seconds,
        bytes_written=window.bytes_written, bytes_per_s=window.bytes_per_s,
        cpu_percent=window.cpu_percent, rss_mb=window.rss_mb,
        rss_children_mb=window.rss_children_mb, pane_size=session.pane_size, children=window.children,
    )


# ------------------------------------------------------------------------ report


def report(args: argparse.Namespace, programs: list[Program], runs: list[PeerRun],
           info: dict[str, str]) -> str:
    """One row per program: median (min-max) of each figure over the runs."""
    rows = [["program", "refresh", "first frame s", "CPU %", "RSS MB", "KB/s"]]
    for program in programs:
        mine = [r for r in runs if r.program == program.name]
        cells = [program.name, program.refresh]
        for attr, fmt, scale in (("first_frame_s", "{:.2f}", 1.0), ("cpu_percent", "{:.1f}", 1.0),
                                 ("rss_mb", "{:.1f}", 1.0), ("bytes_per_s", "{:.1f}", 1 / 1024)):
            median, spread = median_range((getattr(r, attr) * scale for r in mine), fmt)
            cells.append(f"{median} ({spread})")
        rows.append(cells)
    lines = [
        machine_line(info),
        f"terminal: {args.width}x{args.height}, TERM={TERM}; window {args.seconds:g} s; "
        f"{args.runs} run(s) each, median (min-max); CPU is % of one core incl. children; "
        "1 KB = 1024 bytes",
        "",
        format_table(rows),
    ]
    kids = {r.program for r in runs if r.rss_children_mb}
    if kids:
        lines.append(f"note: RSS excludes child processes of {', '.join(sorted(kids))} (see --json)")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="First frame, CPU, RSS and terminal bytes/s of htop, btop, glances and stacktop.")
    parser.add_argument("--runs", type=int, default=3, help="runs per program (default 3)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="steady-state window per run (default 60)")
    parser.add_argument("--only", metavar="NAMES",
                        help=f"comma-separated subset of {','.join(p.name for p in PROGRAMS)}")
    parser.add_argument("--first-frame-timeout", type=float, default=20.0, metavar="SECONDS",
                        help="give up if a first frame has not shown by then (default 20)")
    parser.add_argument("--width", type=int, default=120, help="pane columns (default 120)")
    parser.add_argument("--height", type=int, default=40, help="pane rows (default 40)")
    parser.add_argument("--no-install", action="store_true",
                        help="fail instead of apt-get installing missing peers")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.seconds <= 0 or args.first_frame_timeout <= 0:
        parser.error("--runs, --seconds and --first-frame-timeout must be positive")
    names = {p.name for p in PROGRAMS}
    args.only = [n.strip() for n in args.only.split(",")] if args.only else [p.name for p in PROGRAMS]
    unknown = set(args.only) - names
    if unknown:
        parser.error(f"unknown program(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not have_tmux():
        print("peers: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    programs = [p for p in PROGRAMS if p.name in args.only]
    runs: list[PeerRun] = []
    try:
        ensure_installed(programs, install=not args.no_install)
        info = machine()
        for index in range(args.runs):
            for program in programs:
                run = one_run(program, args)
                runs.append(run)
                print(f"run {index + 1}/{args.runs} {program.name}: first frame "
                      f"{run.first_frame_s:.2f} s, CPU {run.cpu_percent:.1f} %, "
                      f"RSS {run.rss_mb:.1f} MB, {run.bytes_per_s / 1024:.1f} KB/s", file=sys.stderr)
                time.sleep(1.0)  # let the last program's exit settle before the next starts
    except BenchError as exc:
        print(f"peers: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("peers: interrupted", file=sys.stderr)
        return 130
    print(report(args, programs, runs, info))
    if args.json:
        document = {
            "machine": info, "term": TERM, "size": f"{args.width}x{args.height}",
            "seconds": args.seconds, "runs_per_program": args.runs,
            "programs": {p.name: {"markers": list(p.markers), "refresh": p.refresh} for p in programs},
            "runs": [asdict(r) for r in runs],
        }
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

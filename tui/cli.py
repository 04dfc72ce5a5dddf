"""Command line: the console, `watch`, `check`, `snapshot`, `backups export-schedule`,
`agent` (headless alerting), `rules list|export`, `report costs|security` and
`audit verify|list`.

Exit codes: 0 ok, 1 runtime failure (a provider failed in `snapshot`, the
app crashed), 2 usage or configuration error. User-caused errors print one
line that says what to fix; never a traceback.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
COMMANDS = ("watch", "check", "snapshot", "backups", "agent", "rules", "report", "audit")
DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"


class UsageError(Exception):
    """Bad flags or values; exit 2 with the message."""


def _version() -> str:
    # Imported here: importlib.metadata costs ~20 ms that every start would pay.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stacktop")
    except PackageNotFoundError:
        return "0+unknown"


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds like 2 or 0.5, got '{text}'") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0.1 and 3600 seconds, got {text}")
    return value


def _common(parser: argparse.ArgumentParser, console: bool) -> None:
    parser.add_argument("--config", metavar="PATH",
                        help="configuration file (default: $STACKTOP_CONFIG, "
                             "~/.config/stacktop/config.yaml, then the bundled default)")
    parser.add_argument("--profile", metavar="NAME", help="profile of the file to use")
    if console:
        parser.add_argument("--demo", action="store_true",
                            help="start embedded demo backends; needs no cloud account")
        parser.add_argument("--refresh", type=_positive_seconds, metavar="SECONDS",
                            help="poll interval for every provider, overriding the config")
        parser.add_argument("--log-file", metavar="PATH",
                            help="JSON-lines log (default: ~/.local/state/stacktop/stacktop.log)")
        parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                            help="log verbosity (default: from config, else info)")


def build_parsers() -> dict[str, argparse.ArgumentParser]:
    main = argparse.ArgumentParser(
        prog="stacktop",
        description="A keyboard-driven console for hosts, clouds, clusters, databases, "
                    "backups, alerts and costs.",
        epilog="commands:\n"
               "  watch      read-only console: actions refused, READ-ONLY badge shown\n"
               "  check      validate the configuration and list what would be polled\n"
               "  snapshot   poll every provider once and print JSON or text\n"
               "  backups    export-schedule TARGET: print a dump job as a crontab line or CronJob\n"
               "  agent      headless: poll, evaluate alert rules and send notifications (systemd, k8s)\n"
               "  rules      list the alert rules, or export them as a Prometheus rule file\n"
               "  report     costs | security: write the month's costs or the security findings\n"
               "  audit      verify the audit trail's chain, or list its records\n"
               "Run 'stacktop COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    main.add_argument("--version", action="version", version=f"stacktop {_version()}")
    _common(main, console=True)
    main.add_argument("--read-only", action="store_true", help="refuse every action (as 'watch')")

    watch = argparse.ArgumentParser(prog="stacktop watch",
                                    description="Read-only console: no action can run.")
    _common(watch, console=True)

    check = argparse.ArgumentParser(prog="stacktop check",
                                    description="Validate the configuration; exit 2 on any error.")
    _common(check, console=False)

    snapshot = argparse.ArgumentParser(
        prog="stacktop snapshot",
        description="Poll each configured provider once and print the result; exit 1 if one failed.",
    )
    _common(snapshot, console=False)
    snapshot.add_argument("--format", choices=("json", "text"), default="json")
    snapshot.add_argument("--only", metavar="NAME,...", help="poll only these providers")
    snapshot.add_argument("--demo", action="store_true", help="use the embedded demo backends")
    snapshot.add_argument("--sample-window", type=_positive_seconds, metavar="SECONDS",
                          help="wait between baseline and sample, so rates exist "
                               "(default: what the providers ask for, 0.5 s for the host)")
    backups = argparse.ArgumentParser(prog="stacktop backups",
                                      description="Backup jobs, printed for the scheduler that runs them.")
    backup_commands = backups.add_subparsers(dest="backups_command", metavar="COMMAND", required=True)
    export = backup_commands.add_parser(
        "export-schedule", help="print a target's backup job as a crontab line or a Kubernetes CronJob",
        description="Print the job that takes TARGET's backups (pg_dump of a dumps target into its "
                    "directory, or an incremental pgbackrest backup) with its configured schedule. "
                    "stacktop does not run schedules; cron or Kubernetes does. Exit 2 when the "
                    "target has no such job (AWS schedules live in AWS Backup or DLM).")
    export.add_argument("target", metavar="TARGET", help="a name from backups.targets")
    _common(export, console=False)
    export.add_argument("--format", choices=("cron", "k8s"), required=True,
                        help="cron: a commented crontab line; k8s: a batch/v1 CronJob manifest")
    export.add_argument("--image", metavar="IMAGE",
                        help="container image of the CronJob (default: postgres:17 for pg_dump)")
    agent = argparse.ArgumentParser(
        prog="stacktop agent",
        description="Run the providers, the alert rules and the notifications with no UI until "
                    "SIGTERM/SIGINT (for systemd or a Kubernetes Deployment). Alert transitions and "
                    "provider failures are logged to stderr, one line each. Only one stacktop per "
                    "state file sends notifications: a console started beside the agent only shows.")
    _common(agent, console=False)
    agent.add_argument("--log-file", metavar="PATH", help="JSON-lines log (default: from config)")
    agent.add_argument("--log-level", choices=("debug", "info", "warning", "error"),
                       help="log verbosity (default: from config, else info)")
    rules = argparse.ArgumentParser(prog="stacktop rules", description="The alert rules of a profile.")
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
    listing = rule_commands.add_parser("list", help="print each rule: name, expression, for, origin")
    _common(listing, console=False)
    export_rules = rule_commands.add_parser(
        "export", help="write the rules that map to PromQL as a Prometheus rule file",
        description="Write the rules whose metrics Prometheus also has (node exporter figures, "
                    "configured Prometheus queries) as a Prometheus rule file, and list on stderr "
                    "the rules that do not map, with why.")
    _common(export_rules, console=False)
    export_rules.add_argument("--format", choices=("prometheus",), required=True)
    export_rules.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    report = argparse.ArgumentParser(prog="stacktop report",
                                     description="Reports written headless, for mail or a spreadsheet.")
    reports = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    costs = reports.add_parser(
        "costs", help="the month's spend, forecast, budgets, waste and savings as HTML, CSV or JSON",
        description="Read Cost Explorer (through the console's disk cache), the budgets, a waste scan "
                    "and the namespace costs once, and write the month's report: html is one "
                    "self-contained printable page, csv one file with a section column, json the "
                    "schema stacktop.costs.report/1. Read-only; exit 1 when the costs cannot be read.")
    _common(costs, console=False)
    costs.add_argument("--month", metavar="YYYY-MM", help="a past month (default: this month so far, UTC)")
    costs.add_argument("--format", choices=("html", "csv", "json"), required=True)
    costs.add_argument("--output", metavar="FILE", help="write here (atomically) instead of stdout")
    security = reports.add_parser(
        "security", help="security findings of every AWS account and Kubernetes context",
        description="Scan once (security groups, EBS, RDS, S3, IAM credential report; pods and "
                    "services) and write the findings: html is one self-contained printable page, "
                    "json the schema stacktop.security.report/1. Read-only; findings listed in "
                    "security.ignore are left out. Exit 1 when a source could not be scanned (the "
                    "others are still reported).")
    _common(security, console=False)
    security.add_argument("--format", choices=("html", "json"), required=True)
    security.add_argument("--output", metavar="FILE", help="write here (atomically) instead of stdout")
    audit = argparse.ArgumentParser(prog="stacktop audit",
                                    description="The audit trail of every action attempted (audit.file).")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain: exit 1 naming each edited, removed or reordered record",
        description="Read the audit file and its rotated predecessors, oldest first, and check that "
                    "every record's hash and its link to the one before are intact. Exit 0 when the "
                    "chain is whole, 1 naming FILE:LINE of each problem.")
    _common(verify, console=False)
    listing_audit = audit_commands.add_parser(
        "list", help="print the records of a period, newest last",
        description="Print the audit records of the last period (all rotated files included).")
    _common(listing_audit, console=False)
    listing_audit.add_argument("--since", metavar="DURATION", default="24h",
                               help="how far back, e.g. 30m, 24h, 7d (default 24h)")
    listing_audit.add_argument("--user", metavar="USER", help="only this Unix user's records")
    listing_audit.add_argument("--format", choices=("text", "json"), default="text",
                               help="text: one line per record; json: one JSON object per line")
    return {"console": main, "watch": watch, "check": check, "snapshot": snapshot, "backups": backups,
            "agent": agent, "rules": rules, "report": report, "audit": audit}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = args_list[0] if args_list and args_list[0] in COMMANDS else "console"
    if command != "console":
        args_list = args_list[1:]
    parser = build_parsers()[command]
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        if command == "check":
            return run_check(args)
        if command == "snapshot":
            return run_snapshot(args)
        if command == "backups":
            return run_backups_export(args)
        if command == "agent":
            return run_agent(args)
        if command == "rules":
            return run_rules(args)
        if command == "report":
            return run_report(args)
        if command == "audit":
            return run_audit(args)
        return run_console(args, read_only=command == "watch" or args.read_only)
    except UsageError as exc:
        print(f"stacktop: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILURE


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Settings from the chosen file; ConfigError becomes one line and exit 2."""
    from config import ConfigError, load_settings

    path = args.config
    if path is None and getattr(args, "demo", False) and not os.environ.get("STACKTOP_CONFIG"):
        path = str(DEMO_CONFIG)
    try:
        return load_settings(path, args.profile)
    except ConfigError as exc:
        raise UsageError(f"config error: {exc}") from None


def run_check(args: argparse.Namespace) -> int:
    settings = _load(args)
    from providers.registry import build_providers

    if args.profile is None:
        # Without --profile, every profile of the file must load: a typo in
        # 'staging' should not wait until someone runs it during an incident.
        for other in settings.profiles:
            if other != settings.profile:
                _load(argparse.Namespace(config=settings.source, profile=other, demo=False))
    print(f"configuration OK: {settings.source} ({settings.source_kind})")
    for line in settings.describe():
        print(f"  {line}")
    from config.identity import resolve_identity

    who = resolve_identity(settings.roles, settings.role)
    via = " via sudo" if who.via_sudo else ""
    print(f"  you       {who.user}{via}: {who.role} ({who.why})")
    warning = _config_warning(settings)
    if warning:
        print(f"warning: {warning}")
    names = [p.name for p in build_providers(settings)]
    print("would poll: " + (", ".join(names) if names else "nothing (no provider enabled)"))
    if args.profile is None and len(settings.profiles) > 1:
        print(f"all profiles load: {', '.join(settings.profiles)}")
    return EXIT_OK


def _config_warning(settings) -> str | None:  # type: ignore[no-untyped-def]
    """One line when the config file holds secrets others can read, else None."""
    from config.permissions import secret_file_warning

    return secret_file_warning(settings.source, settings.secrets)


def run_backups_export(args: argparse.Namespace) -> int:
    """`backups export-schedule`: the job is printed, never installed or run."""
    settings = _load(args)
    from providers.backups.export import ExportError, export_schedule

    try:
        text = export_schedule(settings.backups, args.target, args.format, image=args.image)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    print(settings.redact(text), end="")
    return EXIT_OK


def run_rules(args: argparse.Namespace) -> int:
    settings = _load(args)
    from config.durations import format_duration
    from providers.alerts.build import rule_from_settings

    rules = [rule_from_settings(r) for r in settings.alerts.rules]
    if args.rules_command == "list":
        for rule in rules:
            wait = f" for {format_duration(rule.for_)}" if rule.for_ else ""
            print(f"{rule.name}  [{rule.severity}]  {rule.expr}{wait}  ({rule.origin})")
        print(f"{len(rules)} rule(s)")
        return EXIT_OK
    from providers.alerts.export import export_prometheus

    prometheus = settings.providers.prometheus
    result = export_prometheus(rules, prometheus.queries if prometheus else ())
    if args.output:
        try:
            Path(args.output).write_text(result.text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        print(result.text, end="")
    print(f"stacktop: exported {len(result.exported)} rule(s)"
          + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    for name, reason in result.unmapped:
        print(f"stacktop: not exported: {name}: {reason}", file=sys.stderr)
    return EXIT_OK


def month_argument(text: str | None, now: datetime.datetime | None = None) -> str | None:
    """--month as Cost Explorer wants it; a month that has not started has no costs."""
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise UsageError("--month must look like 2026-10")
    current = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m")
    if text > current:
        raise UsageError(f"--month {text} is in the future — the latest is {current}")
    return text


def run_audit(args: argparse.Namespace) -> int:
    """`audit verify|list`: reads the trail only; never starts Textual or a provider."""
    settings = _load(args)
    from tui.audit_cli import run_audit_list, run_audit_verify

    run = run_audit_verify if args.audit_command == "verify" else run_audit_list
    return run(settings, args)


def run_report(args: argparse.Namespace) -> int:
    """`report KIND`: one function per kind of report."""
    return {"costs": run_report_costs, "security": run_report_security}[args.report_command](args)


def run_report_security(args: argparse.Namespace) -> int:
    """`report security`: one scan, one render, one write; never starts Textual."""
    import asyncio
    import time

    settings = _load(args)
    _setup_logs(settings, None, None)
    from providers.html_page import write_atomic
    from providers.security.build import SecurityError, collect_security
    from providers.security.report import render

    try:
        snapshot = asyncio.run(collect_security(settings))
    except SecurityError as exc:
        print(f"stacktop: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    text = settings.redact(render(snapshot, args.format, profile=settings.profile, generated_at=time.time()))
    failed = [s for s in snapshot.sources if s.error]
    for status in failed:
        print(settings.redact(f"stacktop: {status.source}: {status.error}"), file=sys.stderr)
    if args.output:
        try:
            write_atomic(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"stacktop: wrote the {args.format} security report ({len(snapshot.findings)} findings) "
              f"to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_FAILURE if failed else EXIT_OK


def run_report_costs(args: argparse.Namespace) -> int:
    """`report costs`: one read, one render, one write; never starts Textual."""
    import asyncio

    month = month_argument(args.month)
    settings = _load(args)
    _setup_logs(settings, None, None)
    from providers.costs.build import collect_report
    from providers.costs.explorer import CostsError
    from providers.costs.report import render, report_month, write_atomic

    try:
        snapshot = asyncio.run(collect_report(settings, month))
    except CostsError as exc:
        print(f"stacktop: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if snapshot.spend is None and snapshot.spend_error:
        print(f"stacktop: {snapshot.spend_error}", file=sys.stderr)
        return EXIT_FAILURE
    text = render(snapshot, args.format)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(args.output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"stacktop: wrote the {args.format} costs report of {report_month(snapshot)} to {args.output}",
          file=sys.stderr)
    return EXIT_OK


def run_agent(args: argparse.Namespace) -> int:
    """Headless alerting. Read-only towards the infrastructure: no action can run here."""
    import asyncio

    settings = _load(args)
    _setup_logs(settings, args.log_file, args.log_level)
    from providers.registry import build_providers
    from providers.runtime import Runtime
    from providers.store import Store
    from tui.agent import log_to_stderr
    from tui.agent import run_agent as agent_loop

    log_to_stderr(settings.redact)
    providers = build_providers(settings, read_only=True, alerting=True)
    if not any(p.name == "alerts" for p in providers):
        raise UsageError("no alert rules in this profile: add alerts.rules or keep alerts.default_rules on")
    runtime = Runtime(providers, Store(settings.ui.history_points),
                      max_concurrency=settings.runtime.max_concurrency,
                      backoff_cap=settings.runtime.backoff_cap, jitter=settings.runtime.jitter,
                      stale_after=settings.runtime.stale_after, redact=settings.redact)
    alerts = settings.alerts
    describe = (f"profile {settings.profile}; {len(providers)} providers "
                f"({', '.join(p.name for p in providers)}); {len(alerts.rules)} rules every "
                f"{alerts.evaluation_interval:g}s; {len(alerts.channels)} channel(s)")
    asyncio.run(agent_loop(runtime, describe))
    return EXIT_OK


def _demo(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from tui.demo.harness import DemoHarness, default_backends

    if args.demo:
        # Seeding the demo estate takes a few seconds before the screen appears: say so.
        print("stacktop: starting the demo backends (moto with a seeded AWS estate, "
              "a test Kubernetes API with a generated cluster, a simulated Patroni cluster "
              "and MariaDB pair, a backup history, services to health-check and a notification "
              "receiver)…", file=sys.stderr)
    return DemoHarness(default_backends() if args.demo else [])


def _setup_logs(settings, log_file: str | None, log_level: str | None) -> None:  # type: ignore[no-untyped-def]
    from tui.logs import LogSetupError, setup_logging

    try:
        setup_logging(log_file or settings.log.file, log_level or settings.log.level, settings.redact)
    except LogSetupError as exc:
        raise UsageError(str(exc)) from None


def run_snapshot(args: argparse.Namespace) -> int:
    settings = _load(args)
    _setup_logs(settings, None, None)
    from providers.registry import build_providers
    from providers.runtime import Runtime
    from providers.store import Store
    from tui.demo.harness import DemoError
    from tui.headless import collect, failed, render_text, to_json

    try:
        with _demo(args) as demo:
            settings = demo.configure(settings)
            providers = build_providers(settings)
            names = [p.name for p in providers]
            if args.only:
                wanted = [n.strip() for n in args.only.split(",") if n.strip()]
                unknown = [n for n in wanted if n not in names]
                if unknown:
                    raise UsageError(f"unknown provider '{unknown[0]}' in --only — configured: "
                                     f"{', '.join(names) or 'none'}")
                names = wanted
            runtime = Runtime(providers, Store(settings.ui.history_points),
                              max_concurrency=settings.runtime.max_concurrency,
                              stale_after=settings.runtime.stale_after, redact=settings.redact)
            document = collect(runtime, settings.profile, names, args.sample_window)
    except DemoError as exc:
        print(f"stacktop: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(settings.redact(to_json(document) if args.format == "json" else render_text(document)))
    bad = failed(document)
    if bad:
        for name in bad:
            entry = document["providers"][name]
            print(f"stacktop: provider {name} {entry['status']}: {entry['error']}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _audit_log(settings):  # type: ignore[no-untyped-def]
    """The profile's audit trail; a key_file that cannot be used is a one-line usage error."""
    from providers.audit.log import AuditError, AuditLog, load_key

    try:
        key = load_key(settings.audit.key_file) if settings.audit.key_file else None
    except AuditError as exc:
        raise UsageError(str(exc)) from None
    return AuditLog(settings.audit.file, settings.redact, rotate_bytes=settings.audit.rotate_bytes, key=key)


def run_console(args: argparse.Namespace, read_only: bool) -> int:
    settings = _load(args)
    from config.identity import resolve_identity

    if args.refresh is not None:
        settings = settings.with_overrides(refresh=args.refresh)
    _setup_logs(settings, args.log_file, args.log_level)
    from providers.actions import ActionGate
    from providers.registry import build_providers
    from providers.runtime import Runtime
    from providers.store import Store
    from tui.app import StacktopApp
    from tui.demo.harness import DemoError

    try:
        with _demo(args) as demo:
            settings = demo.configure(settings)
            providers = build_providers(settings, read_only=read_only, alerting=not read_only)
            runtime = Runtime(
                providers, Store(settings.ui.history_points),
                max_concurrency=settings.runtime.max_concurrency,
                backoff_cap=settings.runtime.backoff_cap, jitter=settings.runtime.jitter,
                stale_after=settings.runtime.stale_after, redact=settings.redact,
            )
            profile = f"{settings.profile} (demo)" if args.demo else settings.profile
            who = resolve_identity(settings.roles, settings.role)
            gate = ActionGate(
                runtime.providers, _audit_log(settings),
                read_only=read_only, role=who.role, user=who.user,
                refresh=runtime.refresh, redact=settings.redact,
                host=who.host, ssh_client=who.ssh_client, profile=profile,
            )
            ui_refresh = settings.ui.watch_refresh if read_only else settings.ui.refresh
            warning = _config_warning(settings)
            app = StacktopApp(runtime, gate, profile=profile, read_only=read_only,
                              ui_refresh=ui_refresh, warnings=[warning] if warning else [])
            app.run()
            return EXIT_OK if app.return_code in (None, 0) else EXIT_FAILURE
    except DemoError as exc:
        print(f"stacktop: {exc}", file=sys.stderr)
        return EXIT_FAILURE




if __name__ == "__main__":
    sys.exit(main())

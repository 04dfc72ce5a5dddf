"""Restore tests: restore a backup into a scratch PostgreSQL and run sanity checks.

Both entry points are blocking (subprocesses, psycopg): the provider runs them in a
worker thread. They never raise for what a backup or a check can do wrong — a corrupt
dump, a failing check, the deadline — but return ``Verification(ok=False,
message=<one line>)``; the scratch server is stopped and its directory removed in
every case (:class:`~providers.backups.scratch.ScratchPostgres` guarantees it).

Checks: each configured query must return a single value within [min, max]; a check
without bounds passes when its value is true (non-null, non-zero, non-empty, not
false). With no checks configured, one default check asks that the database has at
least one user table: an empty restore is not a good one.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.model import BackupSettings, VerifyCheckSettings, VerifySettings
from providers.backups.model import Check, Verification
from providers.backups.scratch import Deadline, ScratchError, ScratchPostgres, ScratchTimeout, last_line

DEFAULT_CHECK = VerifyCheckSettings(
    query="SELECT count(*) FROM pg_catalog.pg_class c"
          " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
          " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
          " AND n.nspname NOT LIKE 'pg\\_toast%'",
    min=1, name="user tables")

CUSTOM_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"


def verify_pg_dump(path: str | Path, verify: VerifySettings, settings: BackupSettings, *, target: str,
                   backup_id: str, clock: Callable[[], float] = time.time) -> Verification:
    """Restore a pg_dump file (custom/tar/directory format with pg_restore, plain SQL —
    optionally gzipped — with psql) into a fresh scratch server's `verify.database`,
    then run the checks."""
    try:  # before anything starts: a dump that is not there costs no initdb
        dump_format(Path(path))
    except OSError as exc:
        return Verification(target, clock(), False, 0.0, backup_id, "pg_dump",
                            f"cannot read {path}: {exc.strerror or exc}")

    def restore(scratch: ScratchPostgres, deadline: Deadline) -> None:
        scratch.initdb(deadline)
        _create_database(scratch, verify.database, deadline)
        _restore_dump(scratch, Path(path), verify.database, deadline)

    return _run(restore, verify, settings, target=target, backup_id=backup_id, method="pg_dump", clock=clock)


def verify_restored_dir(restore: Callable[[str], None], verify: VerifySettings, settings: BackupSettings, *,
                        target: str, backup_id: str, method: str = "pgbackrest",
                        clock: Callable[[], float] = time.time) -> Verification:
    """Restore a physical backup with `restore(directory)` into an empty scratch data directory,
    start it there and wait for recovery to end, then run the checks in `verify.database`.

    `directory` exists, is empty, mode 0700 and owned by the user the server runs as
    (``postgres`` when stacktop is root: run the restore as that user). `restore` should
    honour its own time limit; the deadline is checked when it returns. The server counts
    as restored once it accepts connections with hot_standby off and pg_is_in_recovery()
    is false, i.e. recovery reached its end and the copy promoted (see ScratchPostgres.adopt).
    """
    def run(scratch: ScratchPostgres, deadline: Deadline) -> None:
        directory = scratch.empty_data_dir()
        deadline.step = "the restore"
        try:
            restore(str(directory))
        except subprocess.TimeoutExpired:
            raise ScratchTimeout(deadline.expired()) from None
        deadline.remaining()
        scratch.adopt(directory, timeout=deadline)

    return _run(run, verify, settings, target=target, backup_id=backup_id, method=method, clock=clock)


# --------------------------------------------------------------------- the run
def _run(restore: Callable[[ScratchPostgres, Deadline], None], verify: VerifySettings,
         settings: BackupSettings, *, target: str, backup_id: str, method: str,
         clock: Callable[[], float]) -> Verification:
    at = clock()
    started = time.monotonic()
    deadline = Deadline(verify.timeout)
    checks: tuple[Check, ...] = ()
    try:
        with ScratchPostgres(settings) as scratch:
            restore(scratch, deadline)
            checks = run_checks(scratch.connect_dsn(verify.database), verify.checks or (DEFAULT_CHECK,),
                                deadline)
    except ScratchError as exc:
        return Verification(target, at, False, time.monotonic() - started, backup_id, method,
                            _one_line(str(exc)), checks)
    except subprocess.TimeoutExpired:
        return Verification(target, at, False, time.monotonic() - started, backup_id, method,
                            deadline.expired(), checks)
    except Exception as exc:  # the restore callable's or psycopg's: still one line, never a traceback
        return Verification(target, at, False, time.monotonic() - started, backup_id, method,
                            _one_line(f"restore test failed: {exc}"), checks)
    duration = time.monotonic() - started
    failed = [c for c in checks if not c.ok]
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        expected = f" (expected {first.expected})" if first.expected else ""
        message = f"check '{first.name}' failed: {first.value}{expected}{more}"
        return Verification(target, at, False, duration, backup_id, method, _one_line(message), checks)
    return Verification(target, at, True, duration, backup_id, method,
                        f"restored {backup_id} and passed {len(checks)} check"
                        f"{'' if len(checks) == 1 else 's'} in {duration:.1f} s", checks)


def run_checks(dsn: str, checks: tuple[VerifyCheckSettings, ...], deadline: Deadline) -> tuple[Check, ...]:
    """Each query in its own autocommit statement (one failing query does not hide the others),
    under a statement_timeout of what is left of the deadline."""
    import psycopg

    results: list[Check] = []
    deadline.step = "the checks"
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, int(deadline.remaining())))
    except psycopg.OperationalError as exc:
        raise ScratchError(_one_line(f"cannot connect to the restored database: {last_line(str(exc))}")) \
            from None
    with conn:
        for check in checks:
            name = check.name or _shorten(check.query)
            deadline.step = f"check '{name}'"
            ms = max(1, int(deadline.remaining() * 1000))
            try:
                conn.execute(f"SET statement_timeout = {ms}")
                row = conn.execute(check.query).fetchone()  # type: ignore[arg-type]
            except psycopg.errors.QueryCanceled:
                raise ScratchTimeout(deadline.expired()) from None
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                results.append(Check(name, _one_line(f"error: {first}"), False, _expected(check)))
                continue
            value = None if row is None or not row else row[0]
            results.append(_judge(name, value, check))
    return tuple(results)


def _judge(name: str, value: Any, check: VerifyCheckSettings) -> Check:
    expected = _expected(check)
    shown = _show(value)
    if check.min is None and check.max is None:
        return Check(name, shown, bool(value), expected)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Check(name, shown, False, expected)
    ok = (check.min is None or number >= check.min) and (check.max is None or number <= check.max)
    return Check(name, shown, ok, expected)


def _expected(check: VerifyCheckSettings) -> str:
    if check.min is not None and check.max is not None:
        return f"{_num(check.min)}..{_num(check.max)}"
    if check.min is not None:
        return f">= {_num(check.min)}"
    if check.max is not None:
        return f"<= {_num(check.max)}"
    return "true"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _show(value: Any) -> str:
    if value is None:
        return "no value"
    if isinstance(value, float):
        return _num(value)
    return _shorten(str(value), 60)


def _shorten(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ restoring
def _create_database(scratch: ScratchPostgres, name: str, deadline: Deadline) -> None:
    if name == "postgres":
        return
    import psycopg
    from psycopg import sql

    deadline.step = "creating the database"
    with psycopg.connect(scratch.connect_dsn(), autocommit=True,
                         connect_timeout=max(1, int(deadline.remaining()))) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def dump_format(path: Path) -> str:
    """custom | tar | directory | gzip | plain, from the file's first bytes (not its name)."""
    if path.is_dir():
        return "directory"
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(CUSTOM_MAGIC):
        return "custom"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return "plain"


def _restore_dump(scratch: ScratchPostgres, path: Path, database: str, deadline: Deadline) -> None:
    try:
        kind = dump_format(path)
    except OSError as exc:
        raise ScratchError(f"cannot read {path}: {exc.strerror or exc}") from None
    if kind in ("custom", "tar", "directory"):
        # Owners and grants name roles the scratch server does not have; the data is what we test.
        _tool(scratch, [scratch.tool("pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges",
                        "-d", database, str(path)], deadline, "pg_restore")
        return
    source = path
    if kind == "gzip":
        assert scratch.base is not None
        source = scratch.base / "dump.sql"
        deadline.step = "decompressing the dump"
        try:
            with gzip.open(path, "rb") as src, source.open("wb") as dst:
                _copy(src, dst, deadline)
        except (OSError, EOFError) as exc:
            raise ScratchError(f"cannot decompress {path.name}: {exc}") from None
    _create_roles(scratch, _roles_named(source, deadline), deadline)
    _tool(scratch, [scratch.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database,
                    "-f", str(source)], deadline, "psql")


def _copy(src: Any, dst: Any, deadline: Deadline) -> None:
    while chunk := src.read(1 << 20):
        dst.write(chunk)
        deadline.remaining()


_OWNER = re.compile(r"\bOWNER TO (\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)\s*;")
_GRANTEE = re.compile(r"^(?:GRANT|REVOKE)\b.*\b(?:TO|FROM)\s+(.+?)\s*;\s*$")


def _roles_named(path: Path, deadline: Deadline) -> set[str]:
    """Roles a plain dump's ALTER … OWNER TO / GRANT … TO lines name: created (NOLOGIN) before
    psql runs, so ON_ERROR_STOP stops on real errors, not on the production's role names."""
    roles: set[str] = set()
    deadline.step = "reading the dump"
    with path.open("r", errors="replace") as f:
        for n, line in enumerate(f):
            if n % 100_000 == 0:
                deadline.remaining()
            if "OWNER TO" in line:
                roles.update(_unquote(m) for m in _OWNER.findall(line))
            elif line.startswith(("GRANT", "REVOKE")):
                m = _GRANTEE.match(line)
                if m:
                    roles.update(_unquote(r.strip()) for r in m.group(1).split(",")
                                 if r.strip() and not r.strip().upper().startswith("GROUP "))
    roles.discard("PUBLIC")
    roles.discard("public")
    return {r for r in roles if r and not r.upper().startswith(("CURRENT_", "SESSION_"))}


def _unquote(name: str) -> str:
    name = name.split(" WITH ")[0].strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def _create_roles(scratch: ScratchPostgres, roles: set[str], deadline: Deadline) -> None:
    if not roles:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(scratch.connect_dsn(), autocommit=True,
                         connect_timeout=max(1, int(deadline.remaining()))) as conn:
        existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
        for role in sorted(roles - existing):
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))


def _tool(scratch: ScratchPostgres, cmd: list[str], deadline: Deadline, name: str) -> None:
    deadline.step = name
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=scratch.client_env(),
                              timeout=deadline.remaining())
    except subprocess.TimeoutExpired:
        raise ScratchTimeout(deadline.expired()) from None
    if done.returncode != 0:
        text = (done.stdout + done.stderr).decode(errors="replace")
        line = last_line(text, f"{name} exited {done.returncode}")
        raise ScratchError(_one_line(f"restore failed: {line}"))

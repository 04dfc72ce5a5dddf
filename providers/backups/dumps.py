"""Dump files (pg_dump, mysqldump, tar) in a local directory or an S3 prefix.

The listing is the inventory: one Backup per file (local: the file name; S3: the key),
its time taken from the name when a pattern with strftime fields is configured (UTC
unless the pattern has %z) and from the modification time otherwise. With a pattern,
names that do not match are not ours and are ignored. A file still being written — a
``.partial``/``.tmp``/``.part`` suffix, or a pg_dump this process is running — is RUNNING;
such a file nobody has written to for an hour is FAILED ("incomplete").

``backup_now("pg_dump")`` writes ``<name>.partial`` and only a complete, fsync'ed dump
gets its final name, so a crash never leaves a file that looks complete. The password
goes to pg_dump in PGPASSWORD, never on its command line or in a message.

All methods block (filesystem, subprocess, boto3): the provider calls them in a thread.
Errors are one line that says what to fix (:class:`DumpSourceError`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from config.model import BackupSettings, BackupSourceSettings, VerifySettings
from providers.backups.model import COMPLETED, FAILED, RUNNING, Backup, SourceReading, Verification
from providers.backups.scratch import ScratchError, find_bin_dir, last_line

IN_PROGRESS_SUFFIXES = (".partial", ".tmp", ".part", ".inprogress")
PARTIAL = ".partial"
STALE_PARTIAL = 3600.0
"""A file with an in-progress suffix that nobody wrote to for this long is a failed dump."""
DEFAULT_PATTERN = "{target}-%Y%m%d-%H%M%S.dump"
CHUNK = 1 << 20


class DumpSourceError(RuntimeError):
    """One line for the operator."""


# ------------------------------------------------------------------ name patterns
_DIRECTIVES: dict[str, tuple[str, str]] = {
    "Y": (r"\d{4}", "year"), "y": (r"\d{2}", "year2"), "m": (r"\d{2}", "month"),
    "d": (r"\d{2}", "day"), "H": (r"\d{2}", "hour"), "M": (r"\d{2}", "minute"),
    "S": (r"\d{2}", "second"), "f": (r"\d{1,6}", "micro"), "j": (r"\d{3}", "yday"),
    "b": (r"[A-Za-z]{3}", "monthname"), "z": (r"Z|[+-]\d{2}:?\d{2}", "offset"), "s": (r"\d+", "epoch"),
}
_EXPANSIONS = {"F": "%Y-%m-%d", "T": "%H:%M:%S"}
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), start=1)}


@dataclass(frozen=True)
class NamePattern:
    """A file-name pattern: strftime fields (%Y %y %m %d %H %M %S %f %j %b %z %s, %F, %T),
    ``*`` for any text, everything else literal. Timed when it has a date field."""

    pattern: str
    regex: re.Pattern[str]
    fields: tuple[str, ...]

    @classmethod
    def compile(cls, pattern: str) -> NamePattern:
        if "/" in pattern:
            raise DumpSourceError(f"dump pattern {pattern!r} names a directory — patterns match file names; "
                                  "put the directory in source.directory or source.prefix")
        for short, full in _EXPANSIONS.items():
            pattern = pattern.replace(f"%{short}", full)
        parts: list[str] = []
        fields: list[str] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "%":
                code = pattern[i + 1:i + 2]
                if code == "%":
                    parts.append("%")
                elif code in _DIRECTIVES:
                    regex, field = _DIRECTIVES[code]
                    parts.append(f"({regex})")
                    fields.append(field)
                else:
                    raise DumpSourceError(f"dump pattern {pattern!r}: %{code} is not supported — use "
                                          "%Y %y %m %d %H %M %S %f %j %b %z %s %F %T, or * for any text")
                i += 2
                continue
            parts.append(".*?" if ch == "*" else re.escape(ch))
            i += 1
        return cls(pattern, re.compile("".join(parts) + r"\Z", re.DOTALL), tuple(fields))

    @property
    def timed(self) -> bool:
        return bool(set(self.fields) - {"offset"})

    def matches(self, name: str) -> bool:
        return self.regex.match(name) is not None

    def time(self, name: str) -> float | None:
        """UTC epoch seconds the name encodes; None when it does not match, has no date fields
        or names an impossible date (a month 13 is not a dump of ours)."""
        m = self.regex.match(name)
        if m is None or not self.timed:
            return None
        values = dict(zip(self.fields, m.groups(), strict=True))
        try:
            if "epoch" in values:
                return float(values["epoch"])
            if "year" in values:
                year = int(values["year"])
            else:  # POSIX strptime: 69-99 are 1969-1999, 00-68 are 2000-2068
                short = int(values.get("year2", "0"))
                year = short + (1900 if short >= 69 else 2000)
            if "monthname" in values:
                month = _MONTHS[values["monthname"].lower()]
            else:
                month = int(values.get("month", "1"))
            tz = _offset(values["offset"]) if "offset" in values else UTC
            micro = int(values.get("micro", "0").ljust(6, "0"))
            if "yday" in values and "month" not in values and "day" not in values:
                base = datetime(year, 1, 1, tzinfo=tz) + timedelta(days=int(values["yday"]) - 1)
                month, day = base.month, base.day
            else:
                day = int(values.get("day", "1"))
            when = datetime(year, month, day, int(values.get("hour", "0")), int(values.get("minute", "0")),
                            int(values.get("second", "0")), micro, tzinfo=tz)
        except (KeyError, ValueError, OverflowError):
            return None
        return when.timestamp()

    def name_for(self, when: datetime) -> str:
        """The name a dump taken at `when` (UTC) gets (``*`` becomes "stacktop")."""
        return when.strftime(self.pattern.replace("*", "stacktop"))


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if text[0] == "-" else delta)


def strip_in_progress(name: str) -> tuple[str, bool]:
    """(the name without an in-progress suffix, whether it had one)."""
    for suffix in IN_PROGRESS_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], True
    return name, False


# ------------------------------------------------------------------ the source
@dataclass
class _Running:
    proc: subprocess.Popen[bytes]
    partial: str
    started: float


class DumpFilesSource:
    """A target's dump files: a local `directory`, or `bucket` + `prefix` in S3.

    `clients` is called (once, lazily) for S3 access and returns either an S3 client or an
    object with ``client(service, region)`` (providers.aws.session.AccountClients).
    `pg_bin_dir` (BackupSettings.pg_bin_dir) is where pg_dump is looked for first;
    `tmp_dir` (BackupSettings.scratch_dir) is where S3 objects are downloaded for verify.
    """

    kind = "dumps"
    page_size = 1000
    """Keys per ListObjectsV2 page (S3's maximum)."""

    def __init__(self, settings: BackupSourceSettings, target_name: str,
                 clients: Callable[[], Any] | None = None, *, pg_bin_dir: str | None = None,
                 tmp_dir: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.target = target_name
        self._clients = clients
        self._s3_client: Any = None
        self._pg_bin_dir = pg_bin_dir
        self._tmp_dir = tmp_dir
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self.pattern = NamePattern.compile(settings.pattern) if settings.pattern else None
        self.directory = Path(settings.directory) if settings.directory else None
        if self.directory is None and not settings.bucket:
            raise DumpSourceError(f"target {target_name}: dumps need source.directory or source.bucket")
        self.s3 = self.directory is None
        self.verifiable = settings.format == "pg_dump"
        self.backup_modes: tuple[str, ...] = (
            ("pg_dump",) if settings.format == "pg_dump" and settings.dsn and not self.s3 else ())

    # ------------------------------------------------------------- describing
    @property
    def where(self) -> str:
        if self.directory is not None:
            return str(self.directory)
        return f"s3://{self.settings.bucket}/{self.settings.prefix}"

    def _facts(self) -> tuple[tuple[str, str], ...]:
        facts = [("location", self.where), ("format", self.settings.format),
                 ("times from", f"name pattern {self.settings.pattern}" if self.pattern and self.pattern.timed
                  else "modification time")]
        if self.backup_modes:
            facts.append(("backup now", "pg_dump --format=custom into this directory"))
        elif self.s3:
            facts.append(("backup now", "not from stacktop for S3 dumps (take them where they are uploaded)"))
        elif self.settings.format == "pg_dump":
            facts.append(("backup now", "needs source.dsn (the database pg_dump reads)"))
        return tuple(facts)

    # ---------------------------------------------------------------- reading
    def read(self) -> SourceReading:
        backups = self._list_s3() if self.s3 else self._list_local()
        backups.sort(key=lambda b: (b.time, b.id), reverse=True)
        label = f"{self.settings.format} dumps in {self.where}"
        return SourceReading(tuple(backups), label=label, facts=self._facts())

    def _classify(self, name: str, mtime: float) -> tuple[float, str, str] | None:
        """(time, status, note) of a listed name, or None when it is not one of ours."""
        base, in_progress = strip_in_progress(name)
        if self.pattern is not None and not self.pattern.matches(base):
            return None
        when = self.pattern.time(base) if self.pattern is not None else None
        if self.pattern is not None and self.pattern.timed and when is None:
            return None  # matches the shape but names no real date
        if when is None:
            when = mtime
        with self._lock:
            ours = name in {r.partial for r in self._running.values()}
        if ours:
            return when, RUNNING, "pg_dump running (started by stacktop)"
        if in_progress:
            idle = self._clock() - mtime
            if idle > STALE_PARTIAL:
                hours = f"{idle / 3600:.0f} h"
                return when, FAILED, f"incomplete: not written to for {hours} (an interrupted dump?)"
            return when, RUNNING, "being written"
        return when, COMPLETED, ""

    def _list_local(self) -> list[Backup]:
        assert self.directory is not None
        out: list[Backup] = []
        try:
            entries = list(os.scandir(self.directory))
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    st = entry.stat()
                except FileNotFoundError:
                    continue  # deleted while we listed
                judged = self._classify(entry.name, st.st_mtime)
                if judged is None:
                    continue
                when, status, note = judged
                out.append(Backup(entry.name, when, status, st.st_size, self.settings.format, note=note,
                                  details=(("path", str(self.directory / entry.name)),)))
        except PermissionError as exc:
            raise DumpSourceError(f"backup directory {self.directory} is not readable: "
                                  f"{exc.strerror or 'Permission denied'} — check its permissions for "
                                  f"user {_user()}") from None
        except FileNotFoundError:
            raise DumpSourceError(f"backup directory {self.directory} does not exist — create it or fix "
                                  f"source.directory of target {self.target}") from None
        except NotADirectoryError:
            raise DumpSourceError(f"backup directory {self.directory} is not a directory — point "
                                  f"source.directory of target {self.target} at the folder of the dumps") \
                from None
        except OSError as exc:
            raise DumpSourceError(f"backup directory {self.directory} cannot be listed: "
                                  f"{exc.strerror or exc}") from None
        return out

    def _list_s3(self) -> list[Backup]:
        s3 = self._s3()
        bucket, prefix = self.settings.bucket, self.settings.prefix
        out: list[Backup] = []
        try:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/", PaginationConfig={"PageSize": self.page_size})
            for page in pages:
                for obj in page.get("Contents", ()):
                    key = obj["Key"]
                    name = key.rsplit("/", 1)[-1]
                    if not name or name.startswith("."):
                        continue
                    modified = obj["LastModified"].timestamp()
                    judged = self._classify(name, modified)
                    if judged is None:
                        continue
                    when, status, note = judged
                    details = (("s3", f"s3://{bucket}/{key}"),
                               ("storage class", str(obj.get("StorageClass", ""))))
                    out.append(Backup(key, when, status, int(obj.get("Size", 0)), self.settings.format,
                                      note=note, details=details))
        except Exception as exc:
            raise DumpSourceError(self._s3_error(exc, "list")) from None
        return out

    # ------------------------------------------------------------ backup now
    def backup_now(self, mode: str) -> str:
        if mode not in self.backup_modes:
            if self.s3:
                raise DumpSourceError(f"{self.target}: backup now is not available for S3 dumps")
            raise DumpSourceError(f"{self.target}: backup now needs format pg_dump and source.dsn "
                                  f"(mode {mode!r} is not available)")
        assert self.directory is not None and self.settings.dsn
        now = datetime.fromtimestamp(self._clock(), UTC)
        name = (self.pattern.name_for(now) if self.pattern is not None
                else now.strftime(DEFAULT_PATTERN.replace("{target}", self.target)))
        final, partial = self.directory / name, self.directory / (name + PARTIAL)
        with self._lock:
            if self._running:
                other = next(iter(self._running.values()))
                raise DumpSourceError(f"a pg_dump of {self.target} is already running ({other.partial}) — "
                                      "wait for it to finish")
            if final.exists():
                raise DumpSourceError(f"{name} already exists — the pattern gives one name per period; "
                                      "add %H%M%S to it, or delete the existing dump first")
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise DumpSourceError(f"cannot write {partial}: {exc.strerror or exc} — check the "
                                      f"permissions of {self.directory} for user {_user()}") from None
            started = time.monotonic()
            argv: list[str] = []
            try:
                argv, env = self._pg_dump_command()
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=subprocess.PIPE,
                                        env=env, start_new_session=True)
            except BaseException as exc:
                os.close(fd)
                partial.unlink(missing_ok=True)
                if isinstance(exc, DumpSourceError):
                    raise
                if isinstance(exc, OSError):
                    raise DumpSourceError(f"cannot run {argv[0] if argv else 'pg_dump'}: "
                                          f"{exc.strerror or exc} — set backups.pg_bin_dir") from None
                raise
            self._running[name] = _Running(proc, partial.name, time.time())
        ok, err = False, b""
        try:
            _, err = proc.communicate()
            ok = proc.returncode == 0
            if ok:
                os.fsync(fd)
        finally:
            os.close(fd)
            with self._lock:
                self._running.pop(name, None)
            if not ok:
                if proc.poll() is None:  # interrupted while waiting: do not leave pg_dump behind
                    proc.kill()
                    proc.wait()
                partial.unlink(missing_ok=True)
        if not ok:
            text = self._hide(err.decode(errors="replace"))
            line = last_line(text, f"exit {proc.returncode}")
            raise DumpSourceError(f"pg_dump of {self.target} failed: {line}")
        try:
            _publish(partial, final)
        except FileExistsError:
            partial.unlink(missing_ok=True)
            raise DumpSourceError(f"{name} appeared while pg_dump ran — kept it, discarded ours") from None
        size = final.stat().st_size
        return f"pg_dump wrote {name} ({_size(size)} in {time.monotonic() - started:.1f} s)"

    def _pg_dump_command(self) -> tuple[list[str], dict[str, str]]:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        try:
            pg_dump = str(find_bin_dir(self._pg_bin_dir, ("pg_dump",)) / "pg_dump")
        except ScratchError as exc:
            raise DumpSourceError(str(exc)) from None
        try:
            params = conninfo_to_dict(self.settings.dsn or "")
        except Exception:
            raise DumpSourceError(f"source.dsn of target {self.target} is not a valid libpq DSN") from None
        password = params.pop("password", None) or self.settings.password
        env = dict(os.environ)
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        env.pop("PGPASSWORD", None)
        if password:
            env["PGPASSWORD"] = str(password)
        return [pg_dump, "--format=custom", "--no-password", f"--dbname={make_conninfo(**params)}"], env

    def _hide(self, text: str) -> str:
        """pg_dump's output with the password (config or DSN) replaced: it must never reach a message."""
        secrets = [self.settings.password or ""]
        with contextlib.suppress(Exception):
            from psycopg.conninfo import conninfo_to_dict

            secrets.append(str(conninfo_to_dict(self.settings.dsn or "").get("password") or ""))
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    # ----------------------------------------------------------------- delete
    def delete(self, backup: Backup) -> str:
        if self.s3:
            key = backup.id
            if not key.startswith(self.settings.prefix) or "/" in key[len(self.settings.prefix):]:
                raise DumpSourceError(f"refused: {key} is not under s3://{self.settings.bucket}/"
                                      f"{self.settings.prefix}")
            try:
                self._s3().delete_object(Bucket=self.settings.bucket, Key=key)
            except Exception as exc:
                raise DumpSourceError(self._s3_error(exc, "delete")) from None
            return f"deleted s3://{self.settings.bucket}/{key}"
        path = self._local_path(backup.id)
        with self._lock:
            if backup.id in {r.partial for r in self._running.values()}:
                raise DumpSourceError(f"refused: {backup.id} is being written by a running pg_dump")
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            raise DumpSourceError(f"{backup.id} is already gone from {self.directory}") from None
        except PermissionError as exc:
            raise DumpSourceError(f"cannot delete {path}: {exc.strerror or 'Permission denied'} — check "
                                  f"the permissions of {self.directory} for user {_user()}") from None
        except OSError as exc:
            raise DumpSourceError(f"cannot delete {path}: {exc.strerror or exc}") from None
        return f"deleted {backup.id} ({_size(size)})"

    def _local_path(self, name: str) -> Path:
        assert self.directory is not None
        if not name or "/" in name or name in (".", ".."):
            raise DumpSourceError(f"refused: {name!r} is not a file name in {self.directory}")
        return self.directory / name

    # ------------------------------------------------------------------ fetch
    @contextlib.contextmanager
    def fetch(self, backup: Backup) -> Iterator[Path]:
        """A local path to the dump for the block: the file itself, or an S3 object downloaded
        to a private temporary directory that is removed afterwards."""
        if not self.s3:
            path = self._local_path(backup.id)
            if not path.is_file():
                raise DumpSourceError(f"{backup.id} is no longer in {self.directory}")
            yield path
            return
        tmp = Path(tempfile.mkdtemp(prefix="stacktop-dump-", dir=self._tmp_dir))
        try:
            local = tmp / (backup.id.rsplit("/", 1)[-1] or "dump")
            try:
                body = self._s3().get_object(Bucket=self.settings.bucket, Key=backup.id)["Body"]
                with local.open("wb") as out:
                    while chunk := body.read(CHUNK):
                        out.write(chunk)
                body.close()
            except OSError as exc:
                raise DumpSourceError(f"cannot download s3://{self.settings.bucket}/{backup.id} to {tmp}: "
                                      f"{exc.strerror or exc}") from None
            except Exception as exc:
                raise DumpSourceError(self._s3_error(exc, "download", backup.id)) from None
            yield local  # read by pg_restore/psql, which run as this process's user: the 0700 dir is fine
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def verify(self, backup: Backup, verify: VerifySettings, settings: BackupSettings, *,
               clock: Callable[[], float] = time.time) -> Verification:
        """Fetch the dump and restore-test it (pg_dump format only); failures are a Verification."""
        from providers.backups.verify import verify_pg_dump

        if not self.verifiable:
            return Verification(self.target, clock(), False, 0.0, backup.id, "pg_dump",
                                f"{self.settings.format} dumps cannot be restore-tested (only pg_dump)")
        started = time.monotonic()
        try:
            with self.fetch(backup) as path:
                return verify_pg_dump(path, verify, settings, target=self.target, backup_id=backup.id,
                                      clock=clock)
        except DumpSourceError as exc:
            return Verification(self.target, clock(), False, time.monotonic() - started, backup.id,
                                "pg_dump", str(exc))

    # ------------------------------------------------------------------ S3
    def _s3(self) -> Any:
        if self._s3_client is None:
            if self._clients is None:
                raise DumpSourceError(f"target {self.target}: S3 dumps need an AWS account (source.account)")
            try:
                made = self._clients()
            except Exception as exc:
                raise DumpSourceError(f"target {self.target}: no AWS client for account "
                                      f"{self.settings.account}: {_first(exc)}") from None
            if hasattr(made, "list_objects_v2"):
                self._s3_client = made
            elif hasattr(made, "client"):
                self._s3_client = made.client("s3", self.settings.region or "us-east-1")
            else:
                raise DumpSourceError(f"target {self.target}: AWS account {self.settings.account!r} is not "
                                      "configured — add it to providers.aws.accounts or fix source.account")
        return self._s3_client

    def _s3_error(self, exc: BaseException, doing: str, key: str | None = None) -> str:
        from providers.aws.errors import error_code, explain

        code = error_code(exc)
        where = f"s3://{self.settings.bucket}/{key if key is not None else self.settings.prefix}"
        if code == "NoSuchBucket":
            return (f"S3 bucket {self.settings.bucket} does not exist — check source.bucket of target "
                    f"{self.target} (and its account/region)")
        if code in ("NoSuchKey", "404"):
            return f"{where} does not exist (deleted since it was listed?)"
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            action = {"list": "s3:ListBucket", "delete": "s3:DeleteObject", "download": "s3:GetObject"}[doing]
            return (f"S3 denied {doing} of {where} ({code}) — grant {action} to the credentials of account "
                    f"{self.settings.account}")
        return f"S3 {doing} of {where}: " + explain(exc, account=self.settings.account or "?",
                                                      region=self.settings.region or "?", service="s3")

    def close(self) -> None:
        """Stop a pg_dump still running (by its PID; its partial file is removed by backup_now)."""
        with self._lock:
            running = list(self._running.values())
        for r in running:
            if r.proc.poll() is None:
                r.proc.terminate()


def _publish(partial: Path, final: Path) -> None:
    """Give the complete dump its name without ever replacing an existing file."""
    try:
        os.link(partial, final)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if final.exists():
            raise FileExistsError(final) from None
        os.rename(partial, final)
    else:
        partial.unlink()
    with contextlib.suppress(OSError):
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"

"""pgBackRest as a backup source: `pgbackrest info --output=json` for the listing,
`backup`, `expire --set` and `restore` for the actions.

Everything goes through the operator's argv prefix (`settings.command`, e.g.
``sudo -u postgres pgbackrest --config=/etc/pgbackrest/pgbackrest.conf``), run
without a shell, in a process group of its own so a timeout stops pgBackRest and its
children (not just a sudo/runuser wrapper in front of them).

Mapping (pgBackRest 2.x JSON):

- id = label; time = timestamp.stop (the point a restore of it reaches); kind = type;
  size = info.repository.size (what it takes in the repository); duration = stop - start;
- depends_on = the prior chain plus the reference list: everything pgBackRest needs to
  restore it, and everything whose `expire --set` would take it along;
- pgBackRest lists completed backups only. A backup in progress shows only as the
  stanza's backup lock (``status.lock.backup.held``; 2.48+ adds ``size``/``size-cplt``
  progress). That lock is also held by `expire`, and is seen only on the host where
  `info` runs. A held lock becomes one RUNNING row (id ``(running)``), so retention keeps
  it and the tab shows it.

Errors are :class:`PgBackRestError`: one line naming the command and pgBackRest's first
``ERROR: [nnn]: …`` line. Values of secret options (``--repo1-cipher-pass=…``,
``PGBACKREST_REPO1_CIPHER_PASS`` and the like) are masked in every message.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.model import BackupSourceSettings
from providers.backups.model import COMPLETED, RUNNING, Backup, SourceReading

RUNNING_ID = "(running)"
"""The id of the row a held backup lock shows as (never a pgBackRest label)."""
RETENTION_MAX = "9999999"
"""pgBackRest's largest retention: `expire --set` with it removes no other backup by retention."""
BACKUP_TIMEOUT = 6 * 3600.0
"""`backup` and `restore` of a large cluster take hours; a poll's timeout would cut them."""
_STOP_GRACE = 5.0
_SECRET_NAME = re.compile(r"(pass|secret|key|token)", re.IGNORECASE)
_SECRET_OPTION = re.compile(r"^--?([A-Za-z0-9-]+)=(.+)$")
_WRAPPERS = frozenset({"sudo", "runuser", "su", "doas", "env", "ssh"})


class PgBackRestError(RuntimeError):
    """A pgBackRest command failed; the message is one line, secrets masked."""


class PgBackRestSource:
    """One stanza of a pgBackRest repository (blocking calls; the provider runs them in threads)."""

    kind = "pgbackrest"
    backup_modes: tuple[str, ...] = ("full", "diff", "incr")

    def __init__(self, settings: BackupSourceSettings, timeout: float, *,
                 backup_timeout: float = BACKUP_TIMEOUT, clock: Callable[[], float] = time.time) -> None:
        if not settings.stanza:
            raise ValueError("pgbackrest source: `stanza` is required")
        if not settings.command:
            raise ValueError("pgbackrest source: `command` is empty")
        self.settings = settings
        self.stanza = settings.stanza
        self.command = tuple(settings.command)
        self.timeout = timeout
        self.backup_timeout = backup_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._ours: tuple[str, float] | None = None
        """(mode, start time) of the backup this source is taking now."""

    # -- reading -----------------------------------------------------------------

    def read(self) -> SourceReading:
        payload = self._info()
        with self._lock:
            ours = self._ours
        return parse_info(payload, self.stanza, now=self._clock(), ours=ours)

    def _info(self) -> Any:
        out = self._run("info", ["--output=json", "info"], self.timeout)
        return _load_json(out, self._what("info"), self._secrets())

    # -- actions -----------------------------------------------------------------

    def backup_now(self, mode: str) -> str:
        """Take a `mode` backup now and wait for it; the new backup's label and size in one line.

        Blocks until pgBackRest is done (minutes for a large cluster), with `backup_timeout`.
        pgBackRest turns a diff or incr into a full when there is no full yet: the line says so.
        """
        if mode not in self.backup_modes:
            raise PgBackRestError(f"pgbackrest backup: unknown type {mode!r} (full, diff or incr)")
        before = {b.id for b in self.read().backups}
        started = time.monotonic()
        with self._lock:
            self._ours = (mode, self._clock())
        try:
            self._run("backup", [f"--type={mode}", "backup"], self.backup_timeout)
        finally:
            with self._lock:
                self._ours = None
        took = time.monotonic() - started
        new = [b for b in self.read().backups if b.id not in before and b.status == COMPLETED]
        if not new:
            return f"pgBackRest {mode} backup finished in {took:.1f} s, but info lists no new backup"
        made = max(new, key=lambda b: b.time)
        changed = f" (asked {mode}: pgBackRest took a {made.kind})" if made.kind != mode else ""
        size = f", {_human(made.size)} in the repository" if made.size is not None else ""
        return f"pgBackRest {made.kind} backup {made.id} done in {took:.1f} s{size}{changed}"

    def delete(self, backup: Backup) -> str:
        """Remove one backup with pgBackRest's own `expire --set=<label>`.

        pgBackRest expires the set *and every backup that depends on it* (incrs and diffs of
        a full). Retention's depends_on never plans that case; this refuses it anyway, so a
        delete removes exactly the backup asked for. Retention settings are overridden to
        the maximum for this run (pgBackRest's own advice for ad-hoc expiry), so no other
        backup goes by count. Checked afterwards with a fresh info.
        """
        what = self._what("expire")
        listed = {b.id: b for b in self.read().backups if b.status == COMPLETED}
        current = listed.get(backup.id)
        if current is None:
            raise PgBackRestError(f"{what}: backup {backup.id} is not in stanza {self.stanza} "
                                  "(already expired?)")
        needed_by = sorted(b.id for b in listed.values() if backup.id in b.depends_on)
        if needed_by:
            raise PgBackRestError(f"{what}: {backup.id} is needed by {', '.join(needed_by)} (expire would "
                                  "remove them too); delete those first")
        repo = _detail(current, "repo")
        args = []
        if repo:
            args += [f"--repo={repo}", f"--repo{repo}-retention-full={RETENTION_MAX}",
                     f"--repo{repo}-retention-diff={RETENTION_MAX}"]
        self._run("expire", [*args, "expire", f"--set={backup.id}"], self.timeout)
        after = {b.id for b in self.read().backups if b.status == COMPLETED}
        if backup.id in after:
            raise PgBackRestError(f"{what}: {backup.id} is still listed after expire --set")
        also = sorted(set(listed) - after - {backup.id})
        extra = f"; pgBackRest also removed {', '.join(also)}" if also else ""
        size = f", {_human(current.size)}" if current.size is not None else ""
        return f"expired pgBackRest {current.kind} backup {backup.id}{size}{extra}"

    def restore_to(self, label: str, directory: str, *, run_as: str | None = None,
                   timeout: float | None = None) -> str:
        """Restore backup `label` into `directory` so a scratch PostgreSQL can start there.

        Contract: `directory` exists and is empty, writable by the user pgBackRest runs as;
        the files pgBackRest writes belong to that user, which must be the one the scratch
        server runs as. That user is `run_as` when given (needs root); else, when we are root
        and `command` is not itself a sudo/runuser wrapper, the owner of `directory`
        (postgres); else whoever runs stacktop.

        The result is a cluster that replays the WAL of that backup from the repository
        (restore_command: `pgbackrest archive-get`, so its user must be able to run pgBackRest
        with the same configuration), stops at the first consistent point
        (`--type=immediate`) and promotes (`--target-action=promote`). Archiving is off in it
        (`--archive-mode=off`: it never pushes WAL into the repository); tablespaces are put
        under `directory`/pg_tblspc_restored; symlinks (a moved pg_wal) become plain
        directories. Its postgresql.conf is production's: start it with its own port,
        listen_addresses and unix_socket_directories (ScratchPostgres.adopt does).
        Returns one line; raises PgBackRestError (one line) on any failure.
        """
        what = self._what("restore")
        target = Path(directory)
        try:
            if any(target.iterdir()):
                raise PgBackRestError(f"{what}: {directory} is not empty (restore needs an empty directory)")
        except OSError as exc:
            raise PgBackRestError(f"{what}: cannot use {directory}: {exc.strerror or exc}") from None
        backup = next((b for b in self.read().backups if b.id == label and b.status == COMPLETED), None)
        if backup is None:
            raise PgBackRestError(f"{what}: no backup {label} in stanza {self.stanza}")
        user = run_as if run_as is not None else self._restore_user(target)
        repo = _detail(backup, "repo")
        args = [f"--pg1-path={target}", f"--set={label}", "--type=immediate", "--target-action=promote",
                "--archive-mode=off", f"--tablespace-map-all={target / 'pg_tblspc_restored'}"]
        if repo:
            args.append(f"--repo={repo}")
        started = time.monotonic()
        self._run("restore", [*args, "restore"], timeout if timeout is not None else self.backup_timeout,
                  user=user)
        return f"restored pgBackRest backup {label} into {target} in {time.monotonic() - started:.1f} s"

    def _restore_user(self, directory: Path) -> str | None:
        if os.geteuid() != 0 or Path(self.command[0]).name in _WRAPPERS:
            return None
        import pwd

        owner = directory.stat().st_uid
        return None if owner == 0 else pwd.getpwuid(owner).pw_name

    def close(self) -> None:
        """Nothing is held open between calls."""

    # -- running pgBackRest -------------------------------------------------------

    def _what(self, sub: str) -> str:
        return f"{_program(self.command)} {sub} (stanza {self.stanza})"

    def _secrets(self) -> list[str]:
        return secrets_of(self.command, os.environ)

    def _run(self, sub: str, args: Sequence[str], timeout: float, *, user: str | None = None) -> str:
        """Run `command --stanza=S args…`; its stdout, or PgBackRestError with one line."""
        what = self._what(sub)
        secrets = self._secrets()
        argv = [*self.command, f"--stanza={self.stanza}", *args]
        extra: dict[str, Any] = {}
        if user is not None:
            if os.geteuid() != 0:
                raise PgBackRestError(f"{what}: running it as {user} needs root")
            extra = {"user": user, "group": _group_of(user), "extra_groups": []}
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True, **extra)
        except OSError as exc:
            raise PgBackRestError(mask(f"{what}: cannot run {self.command[0]}: {exc.strerror or exc}",
                                       secrets)) from None
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            raise PgBackRestError(f"{what}: no answer within {timeout:.0f} s (stopped it)") from None
        stdout = out.decode(errors="replace")
        if proc.returncode != 0:
            line = first_error_line(err.decode(errors="replace"), stdout) or f"exit code {proc.returncode}"
            raise PgBackRestError(mask(f"{what}: {line}", secrets))
        return stdout


# --------------------------------------------------------------- parsing (pure)

def parse_info(payload: Any, stanza: str, *, now: float,
               ours: tuple[str, float] | None = None) -> SourceReading:
    """The reading of one stanza from `pgbackrest --stanza=S --output=json info`.

    `ours` is (mode, start) of a backup this process is taking, to name the running row."""
    entry = _stanza_entry(payload, stanza)
    name = str(entry.get("name") or stanza)
    status = _map(entry.get("status"))
    code = _int(status.get("code"))
    message = str(status.get("message") or "")
    repos = [_map(r) for r in entry.get("repo") or [] if isinstance(r, Mapping)]
    dbs = {_int(d.get("id")): _map(d) for d in entry.get("db") or [] if isinstance(d, Mapping)}
    raw = [_map(b) for b in entry.get("backup") or [] if isinstance(b, Mapping) and b.get("label")]
    prior = {str(b["label"]): str(b["prior"]) for b in raw if b.get("prior")}

    backups: list[Backup] = [_backup(b, prior, dbs) for b in raw]
    problems: list[str] = []
    if code not in (None, 0):
        problems.append(f"stanza {name}: {message or f'status code {code}'}")
    if len(repos) > 1:
        for repo in repos:
            rs = _map(repo.get("status"))
            if _int(rs.get("code")) not in (None, 0):
                problems.append(f"stanza {name} repo{repo.get('key')}: {rs.get('message') or rs.get('code')}")
    problems += [f"backup {b.id}: {b.note}" for b in backups if b.note]

    facts: list[tuple[str, str]] = [("stanza", name), ("status", _status_text(code, message))]
    lock = _map(_map(status.get("lock")).get("backup"))
    if lock.get("held"):
        progress = _progress(lock)
        facts.append(("lock", "backup/expire running" + (f" ({progress})" if progress else "")))
        backups.append(_running(now, ours, progress))
    cipher = entry.get("cipher")
    if cipher:
        facts.append(("cipher", str(cipher)))
    for repo in repos:
        rs = _map(repo.get("status"))
        facts.append((f"repo{repo.get('key', '?')}",
                      f"{rs.get('message') or rs.get('code', '?')}, cipher {repo.get('cipher', '?')}"))
    for archive in entry.get("archive") or []:
        a = _map(archive)
        if a.get("min") or a.get("max"):
            facts.append((f"WAL archive {a.get('id', '')}".strip(),
                          f"{a.get('min') or '—'} … {a.get('max') or '—'}"))
    current_db = max(dbs.values(), key=lambda d: _int(d.get("id")) or 0, default=None)
    if current_db is not None:
        facts.append(("PostgreSQL",
                      f"{current_db.get('version', '?')} (system id {current_db.get('system-id', '?')})"))

    backups.sort(key=lambda b: b.time, reverse=True)
    version = f" (PostgreSQL {current_db['version']})" if current_db and current_db.get("version") else ""
    return SourceReading(backups=tuple(backups), label=f"pgBackRest stanza {name}{version}",
                         facts=tuple(facts), problems=tuple(problems))


def _stanza_entry(payload: Any, stanza: str) -> Mapping[str, Any]:
    if not isinstance(payload, list):
        raise PgBackRestError(f"pgbackrest info (stanza {stanza}): expected a JSON list of stanzas")
    entries = [e for e in payload if isinstance(e, Mapping)]
    found = next((e for e in entries if e.get("name") == stanza), None)
    if found is None:
        if len(entries) == 1 and not entries[0].get("name"):
            return entries[0]
        raise PgBackRestError(f"pgbackrest info (stanza {stanza}): the stanza is not in the output")
    return found


def _backup(b: Mapping[str, Any], prior: Mapping[str, str],
            dbs: Mapping[int | None, Mapping[str, Any]]) -> Backup:
    label = str(b["label"])
    stamp = _map(b.get("timestamp"))
    start, stop = _int(stamp.get("start")), _int(stamp.get("stop"))
    info = _map(b.get("info"))
    repo_info = _map(info.get("repository"))
    archive = _map(b.get("archive"))
    lsn = _map(b.get("lsn"))
    database = _map(b.get("database"))
    db = dbs.get(_int(database.get("id")), {})

    chain: list[str] = []
    step = prior.get(label) or (str(b["prior"]) if b.get("prior") else None)
    while step and step not in chain:
        chain.append(step)
        step = prior.get(step)
    for ref in b.get("reference") or []:
        if str(ref) not in chain and str(ref) != label:
            chain.append(str(ref))

    details: list[tuple[str, str]] = [("label", label), ("type", str(b.get("type", "")))]
    if b.get("prior"):
        details.append(("prior", str(b["prior"])))
    if b.get("reference"):
        details.append(("reference", ", ".join(str(r) for r in b["reference"])))
    if start is not None:
        details.append(("started", _when(start)))
    if stop is not None:
        details.append(("stopped", _when(stop)))
    if archive.get("start") or archive.get("stop"):
        details.append(("WAL start/stop", f"{archive.get('start') or '—'} / {archive.get('stop') or '—'}"))
    if lsn.get("start") or lsn.get("stop"):
        details.append(("LSN start/stop", f"{lsn.get('start') or '—'} / {lsn.get('stop') or '—'}"))
    for key, value in (("database size", info.get("size")), ("database backup delta", info.get("delta")),
                       ("repository size", repo_info.get("size")),
                       ("repository delta", repo_info.get("delta"))):
        if _int(value) is not None:
            details.append((key, _human(_int(value))))
    if database.get("repo-key") is not None:
        details.append(("repo", str(database["repo-key"])))
    if db.get("version"):
        details.append(("PostgreSQL", str(db["version"])))
    backrest = _map(b.get("backrest"))
    if backrest.get("version"):
        details.append(("pgBackRest", str(backrest["version"])))
    note = ""
    if b.get("error"):
        note = "pgBackRest found page checksum errors in it (pgbackrest verify tells more)"
        details.append(("errors", "page checksum errors"))

    return Backup(id=label, time=float(stop if stop is not None else start or 0), status=COMPLETED,
                  size=_int(repo_info.get("size")), kind=str(b.get("type", "")),
                  depends_on=tuple(chain),
                  duration=float(stop - start) if start is not None and stop is not None else None,
                  note=note, details=tuple(details))


def _running(now: float, ours: tuple[str, float] | None, progress: str) -> Backup:
    kind, started = ours if ours is not None else ("", now)
    who = "this stacktop" if ours is not None else "pgBackRest's backup lock"
    note = f"running ({who})" + (f": {progress}" if progress else "")
    return Backup(id=RUNNING_ID, time=started, status=RUNNING, kind=kind, deletable=False, note=note,
                  details=(("lock", "backup/expire running"),))


def _progress(lock: Mapping[str, Any]) -> str:
    total, done = _int(lock.get("size")), _int(lock.get("size-cplt"))
    if not total or done is None:
        return ""
    return f"{100.0 * done / total:.1f}% of {_human(total)} copied"


def _status_text(code: int | None, message: str) -> str:
    if code == 0:
        return message or "ok"
    return f"error {code}: {message}" if message else f"error {code}"


# ---------------------------------------------------------------- small helpers

def first_error_line(stderr: str, stdout: str = "") -> str:
    """pgBackRest's first `ERROR: [nnn]: …` line (stderr, then stdout) with its first HINT,
    else the first line that is not a warning or a hint; trailing colons dropped."""
    for text in (stderr, stdout):
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith("ERROR:"):
                found = line.strip().rstrip(":")
                for more in lines[i + 1:]:
                    if not more[:1].isspace():
                        break
                    if more.strip().startswith("HINT:"):
                        found += f"; {more.strip()}"
                        break
                return _clip(found)
    for text in (stderr, stdout):
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and not line[:1].isspace() and not stripped.startswith(("WARN:", "HINT:", "INFO:")):
                return _clip(stripped.rstrip(":"))
    return ""


def secrets_of(command: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """Values that must never show: secret-looking options in `command` (`--repo1-cipher-pass=…`,
    `--repo1-s3-key-secret=…`) and PGBACKREST_* variables with such names."""
    found: list[str] = []
    for arg in command:
        m = _SECRET_OPTION.match(arg)
        if m and _SECRET_NAME.search(m.group(1)) and m.group(1) not in ("repo-cipher-type",):
            found.append(m.group(2))
    for name, value in env.items():
        if name.startswith("PGBACKREST_") and _SECRET_NAME.search(name) and value:
            found.append(value)
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _load_json(text: str, what: str, secrets: Sequence[str]) -> Any:
    """Parse info's JSON; log lines before it (a console log level above warn) are skipped."""
    start = text.find("[")
    if start >= 0:
        with contextlib.suppress(ValueError):
            return json.JSONDecoder().raw_decode(text[start:])[0]
    head = " ".join(text.split())[:60]
    raise PgBackRestError(mask(f"{what}: output is not JSON"
                               + (f" (starts {head!r})" if head else " (empty)"), secrets))


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group we started (pgBackRest releases its locks), SIGKILL after a grace."""
    for sig, wait in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, _STOP_GRACE)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _group_of(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def _program(command: Sequence[str]) -> str:
    names = [Path(arg).name for arg in command if not arg.startswith("-")]
    return next((n for n in names if n.startswith("pgbackrest")), names[0] if names else "pgbackrest")


def _detail(backup: Backup, key: str) -> str | None:
    return next((v for k, v in backup.details if k == key), None)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _human(n: int | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _clip(line: str, limit: int = 300) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"

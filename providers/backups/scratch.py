"""A throwaway PostgreSQL for restore tests: a temporary data directory and a free port.

A backup nobody restored is a hope; this is where the restore happens. Two ways in:

- :meth:`ScratchPostgres.initdb` — a fresh cluster (pg_dump files are restored into it);
- :meth:`ScratchPostgres.adopt` — a data directory a restore produced (pgBackRest,
  a base backup): its port, listen and socket settings are rewritten and archiving is
  switched off before it starts, so the copy never pushes WAL into the production
  repository nor streams from the production primary.

It is a sync context manager (the provider runs it in a worker thread). Leaving the
block ALWAYS stops the postmaster by its PID (SIGINT = fast shutdown, then SIGQUIT,
then SIGKILL after deadlines) and removes the temporary directory, whether the restore,
the checks or a deadline failed. Restored data is production data: the server listens
on 127.0.0.1 but its pg_hba refuses TCP; clients come in over the unix socket in a
0700 directory (see :meth:`connect_dsn`).

initdb and postgres refuse to run as root. Running as root, both run as the
``postgres`` user (``Popen(user=...)``) and the directories they write are chowned to
it; without such a user the error says what to fix.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from config.model import BackupSettings

RUN_AS = "postgres"
"""The unprivileged OS user initdb/postgres run as when stacktop runs as root."""
SUPERUSER = "postgres"
"""The database superuser initdb creates (and the default role adopt() logs in as)."""
PREFIX = "stacktop-scratch-"

_BEGIN = "# stacktop scratch restore: settings below override the restored ones (begin)"
_END = "# stacktop scratch restore (end)"
_HBA = "# stacktop scratch restore: unix socket only, TCP is refused\nlocal all all trust\n"


class ScratchError(RuntimeError):
    """A scratch instance could not be created or started; the message is one line."""


class ScratchTimeout(ScratchError):
    """The restore test's deadline passed."""


class Deadline:
    """One budget shared by every step of a restore test (initdb, restore, recovery, checks)."""

    def __init__(self, seconds: float, what: str = "restore test") -> None:
        self.seconds = seconds
        self.what = what
        self.step = ""
        """What is running now (for the timeout message): "initdb", "pg_restore", "check orders"…"""
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; raises ScratchTimeout when none are."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise ScratchTimeout(self.expired())
        return left

    def expired(self) -> str:
        during = f" during {self.step}" if self.step else ""
        return f"{self.what} timed out after {self.seconds:g} s{during} (verify.timeout)"


def find_bin_dir(pg_bin_dir: str | None, programs: tuple[str, ...] = ("initdb", "postgres")) -> Path:
    """Where the PostgreSQL programs live: the configured directory, else PATH (symlinks
    resolved, so the client tools match the server's version), else the newest
    /usr/lib/postgresql/<version>/bin that has them all."""
    if pg_bin_dir:
        base = Path(pg_bin_dir)
        missing = [p for p in programs if not (base / p).is_file()]
        if missing:
            raise ScratchError(f"backups.pg_bin_dir {base} has no {', '.join(missing)} — "
                               "point it at PostgreSQL's bin directory")
        return base
    found = [shutil.which(p) for p in programs]
    if all(found):
        # Symlinks resolved, so pg_restore matches the server it talks to; Debian's pg_wrapper
        # (/usr/bin/pg_dump -> /usr/share/postgresql-common/pg_wrapper) is used as it is.
        for resolve in (True, False):
            dirs = {(Path(f).resolve() if resolve else Path(f)).parent for f in found if f}
            if len(dirs) == 1 and all((d / p).is_file() for d in dirs for p in programs):
                return dirs.pop()
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin")
                       if all((p / prog).is_file() for prog in programs)),
                      key=lambda p: _version_key(p.parent.name))
    if versions:
        return versions[-1]
    raise ScratchError(f"no PostgreSQL {'/'.join(programs)} found — set backups.pg_bin_dir "
                       "or install PostgreSQL (apt-get install postgresql)")


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (0,)


def run_as_user() -> str | None:
    """The OS user the server must run as: None when not root, else 'postgres'."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        raise ScratchError(f"running as root, a scratch PostgreSQL needs the '{RUN_AS}' user to run "
                           f"initdb/postgres as — create it (adduser --system {RUN_AS}) or run stacktop "
                           "as a non-root user") from None
    return RUN_AS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_group(cmd: list[str], timeout: float, **popen: Any) -> subprocess.CompletedProcess[bytes]:
    """subprocess.run in a process group of its own, killed whole on timeout: initdb's
    ``postgres --single`` child would otherwise outlive it and write into a directory we remove."""
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True, **popen) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:  # the timeout, or the caller interrupted
            # The leader is not reaped yet, so its PID (= the group id) cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def last_line(text: str, default: str = "") -> str:
    """The most telling line of a tool's output: the last FATAL/ERROR/PANIC line, else the last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for marker in ("FATAL:", "PANIC:", "ERROR:", "error:", "fatal:"):
        hits = [ln for ln in lines if marker in ln]
        if hits:
            return hits[-1]
    return lines[-1] if lines else default


# Instances alive in this process: stopped at interpreter exit if a thread still holds one.
_LIVE: set[ScratchPostgres] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _close_all() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for scratch in live:
        scratch.close()


class ScratchPostgres:
    """A temporary PostgreSQL, owned by this process from ``__enter__`` to ``__exit__``."""

    def __init__(self, settings: BackupSettings | None = None, *, superuser: str = SUPERUSER,
                 stop_timeout: float = 10.0) -> None:
        settings = settings or BackupSettings()
        self.bin_dir = find_bin_dir(settings.pg_bin_dir)
        self.run_as = run_as_user()
        self.parent = Path(settings.scratch_dir) if settings.scratch_dir else Path(tempfile.gettempdir())
        self.superuser = superuser
        self.stop_timeout = stop_timeout
        self.base: Path | None = None
        self.data_dir: Path | None = None
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> ScratchPostgres:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self.base = Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.parent))
        except OSError as exc:
            raise ScratchError(f"cannot create a scratch directory in {self.parent}: "
                               f"{exc.strerror or exc} — check backups.scratch_dir") from None
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            if self.run_as is not None:
                blocked = _first_unreachable(self.base.parent, self.run_as)
                if blocked is not None:
                    raise ScratchError(f"user {self.run_as} cannot enter {blocked}, so the scratch server "
                                       f"cannot use {self.parent} — set backups.scratch_dir to a directory "
                                       f"{self.run_as} can reach (e.g. /var/tmp)")
            self.socket_dir.mkdir(mode=0o700)
            self._own(self.base)
            self._own(self.socket_dir)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the postmaster (by PID) and remove the temporary directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
        finally:
            # An adopted directory outside `base` is the caller's, and the caller's to remove.
            if self.base is not None:
                _remove_tree(self.base)
            with _LIVE_LOCK:
                _LIVE.discard(self)

    # ----------------------------------------------------------- locations
    @property
    def socket_dir(self) -> Path:
        assert self.base is not None, "use ScratchPostgres in a with block"
        return self.base / "s"

    @property
    def log_path(self) -> Path:
        assert self.base is not None, "use ScratchPostgres in a with block"
        return self.base / "postgres.log"

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def tool(self, name: str) -> str:
        """A client program (pg_restore, psql…) from the server's own bin directory: same version."""
        path = self.bin_dir / name
        if not path.is_file():
            raise ScratchError(f"{name} not found in {self.bin_dir} — set backups.pg_bin_dir")
        return str(path)

    def empty_data_dir(self) -> Path:
        """An empty 0700 directory inside the scratch area, owned by the server's user: where a
        restore (pgBackRest, a base backup copy) writes before :meth:`adopt`."""
        assert self.base is not None, "use ScratchPostgres in a with block"
        target = self.base / "data"
        target.mkdir(mode=0o700)
        self._own(target)
        return target

    # ------------------------------------------------------------- ways in
    def initdb(self, timeout: float | Deadline = 120.0) -> None:
        """A fresh cluster (superuser ``postgres``, UTF8) started and accepting connections.
        `timeout` may be the caller's Deadline, so one budget covers every step."""
        deadline = timeout if isinstance(timeout, Deadline) else Deadline(timeout, "scratch PostgreSQL start")
        assert self.base is not None, "use ScratchPostgres in a with block"
        deadline.step = "initdb"
        self.data_dir = self.base / "data"
        cmd = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.superuser,
               "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        try:
            done = run_group(cmd, deadline.remaining(), cwd=self.base, env=self._server_env(),
                             **self._as_server())
        except subprocess.TimeoutExpired:
            raise ScratchTimeout(deadline.expired()) from None
        if done.returncode != 0:
            out = (done.stdout + done.stderr).decode(errors="replace")
            raise ScratchError(f"initdb failed: {last_line(out, f'exit {done.returncode}')}")
        deadline.step = "the scratch server's start"
        self._start(deadline)

    def adopt(self, data_dir: str | os.PathLike[str] | None = None, *,
              timeout: float | Deadline = 600.0) -> None:
        """Start a restored data directory (default: :meth:`empty_data_dir`'s) as a scratch server
        and wait until recovery has ended.

        Before starting: a settings block is appended to postgresql.auto.conf (read last,
        so it wins) with our port, listen address, socket directory, an hba file that only
        lets the unix socket in, archive_mode=off, archive_command='', primary_conninfo=''
        and recovery_target_action=promote; standby.signal is removed (a copy must not
        follow the production primary); postgresql.conf is created empty when the restore
        did not bring one (Debian keeps it in /etc).

        Recovery: hot_standby=off, so the server accepts connections only once recovery
        (crash recovery from the backup label, or archive recovery with pgBackRest's
        restore_command) has ended and it has promoted; we then also require
        pg_is_in_recovery() to be false.
        """
        deadline = timeout if isinstance(timeout, Deadline) else Deadline(timeout, "scratch recovery")
        assert self.base is not None, "use ScratchPostgres in a with block"
        self.data_dir = Path(data_dir) if data_dir is not None else self.base / "data"
        if not (self.data_dir / "PG_VERSION").is_file():
            raise ScratchError(f"{self.data_dir} is not a PostgreSQL data directory (no PG_VERSION) — "
                               "the restore did not produce one")
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "standby.signal").unlink()
        conf = self.data_dir / "postgresql.conf"
        if not conf.exists():
            conf.write_text("# written by stacktop: the restored directory had none\n")
        self._own_tree(self.data_dir)
        os.chmod(self.data_dir, 0o700)
        deadline.step = "recovery of the restored copy"
        self._start(deadline, adopted=True)
        self._wait_promoted(deadline)

    # ------------------------------------------------------------ starting
    def _settings_block(self, adopted: bool) -> str:
        assert self.base is not None
        hba, ident = self.base / "pg_hba.conf", self.base / "pg_ident.conf"
        lines = [
            _BEGIN,
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.socket_dir}'",
            f"hba_file = '{hba}'",
            f"ident_file = '{ident}'",
            "archive_mode = off",
            "archive_command = ''",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "logging_collector = off",
            "log_destination = 'stderr'",
            "external_pid_file = ''",
            "ssl = off",
            "max_connections = 20",
            "shared_buffers = '32MB'",
        ]
        if adopted:
            lines += ["archive_library = ''", "hot_standby = off", "primary_conninfo = ''",
                      "primary_slot_name = ''", "recovery_target_action = 'promote'",
                      "synchronous_standby_names = ''"]
        return "\n".join([*lines, _END]) + "\n"

    def _write_settings(self, adopted: bool) -> None:
        assert self.base is not None and self.data_dir is not None
        for name, text in (("pg_hba.conf", _HBA), ("pg_ident.conf", "")):
            path = self.base / name
            path.write_text(text)
            self._own(path)
        auto = self.data_dir / "postgresql.auto.conf"
        kept = ""
        if auto.exists():
            kept = auto.read_text(errors="replace")
            if _BEGIN in kept:
                kept = kept.split(_BEGIN, 1)[0]
            if kept and not kept.endswith("\n"):
                kept += "\n"
        auto.write_text(kept + self._settings_block(adopted))
        self._own(auto)

    def _start(self, deadline: Deadline, adopted: bool = False) -> None:
        """Start on a free port; another process may take the port between the check and the
        bind, so a bind failure picks another one (three tries)."""
        for attempt in range(3):
            self.port = free_port()
            self._write_settings(adopted)
            try:
                self._launch(deadline)
                return
            except _StartFailed as exc:
                if "could not bind" not in exc.log or attempt == 2:
                    raise ScratchError(exc.line) from None

    def _launch(self, deadline: Deadline) -> None:
        assert self.base is not None and self.data_dir is not None
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.base,
                env=self._server_env(), start_new_session=True, **self._as_server())
        while True:
            if self._proc.poll() is not None:
                text = self._log_since(offset)
                code = self._proc.returncode
                self._proc = None
                raise _StartFailed(f"scratch PostgreSQL exited on start ({code}): "
                                   f"{last_line(text, 'see its log')}", text)
            if self._accepts():
                return
            if deadline.remaining() <= 0:  # pragma: no cover - remaining() raises first
                break
            time.sleep(0.05)

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.connect_dsn(), connect_timeout=2, autocommit=True):
                return True
        except psycopg.OperationalError:
            return False

    def _wait_promoted(self, deadline: Deadline) -> None:
        import psycopg

        while True:
            try:
                with psycopg.connect(self.connect_dsn(), connect_timeout=2, autocommit=True) as conn:
                    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                    if row is not None and row[0] is False:
                        return
            except psycopg.OperationalError:
                pass
            if self._proc is None or self._proc.poll() is not None:
                raise ScratchError("scratch PostgreSQL stopped during recovery: "
                                   f"{last_line(self._log_since(0), 'see its log')}")
            deadline.remaining()
            time.sleep(0.1)

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    # ------------------------------------------------------------ stopping
    def stop(self) -> None:
        """Fast shutdown by PID (SIGINT); SIGQUIT, then SIGKILL, when a deadline passes."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            for sig, wait in ((signal.SIGINT, self.stop_timeout), (signal.SIGQUIT, 5.0),
                              (signal.SIGKILL, 10.0)):
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if sig == signal.SIGKILL:
                self._wait_children_gone()

    def _wait_children_gone(self, timeout: float = 5.0) -> None:
        """After a SIGKILL the backends notice their postmaster's death on their own; give them
        a moment so the directory is not removed under them."""
        if self.data_dir is None:
            return
        end = time.monotonic() + timeout
        while processes_in(self.data_dir) and time.monotonic() < end:
            time.sleep(0.05)

    # ---------------------------------------------------------- connecting
    def connect_dsn(self, dbname: str = "postgres") -> str:
        """A libpq DSN over the unix socket (the only way in), as the superuser."""
        assert self.port is not None, "start the scratch server first (initdb or adopt)"
        return f"host={self.socket_dir} port={self.port} dbname={dbname} user={self.superuser}"

    def client_env(self) -> dict[str, str]:
        """Environment for pg_restore/psql against this server: no inherited PG* settings
        (a PGPASSWORD or PGSERVICE of the operator must not leak in or redirect us)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=str(self.socket_dir), PGPORT=str(self.port), PGUSER=self.superuser,
                   PGCONNECT_TIMEOUT="10")
        return env

    # ---------------------------------------------------------------- util
    def _as_server(self) -> dict[str, Any]:
        if self.run_as is None:
            return {}
        return {"user": self.run_as, "group": pwd.getpwnam(self.run_as).pw_gid, "extra_groups": []}

    def _server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self.run_as is not None:
            home = pwd.getpwnam(self.run_as).pw_dir
            env.update(HOME=home, USER=self.run_as, LOGNAME=self.run_as)
        return env

    def _own(self, path: Path) -> None:
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _own_tree(self, root: Path) -> None:
        if self.run_as is None:
            return
        entry = pwd.getpwnam(self.run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in (*dirnames, *filenames):
                os.chown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _remove_tree(path: Path, timeout: float = 5.0) -> None:
    """rmtree until the directory is gone: a process that is still exiting may add a file."""
    end = time.monotonic() + timeout
    while True:
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists() or time.monotonic() > end:
            return
        time.sleep(0.05)


def _first_unreachable(directory: Path, user: str) -> Path | None:
    """The first directory from / down to `directory` that `user` may not search (x bit), or None."""
    import grp

    entry = pwd.getpwnam(user)
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    path = Path("/")
    for part in directory.resolve().parts[1:]:
        path = path / part
        try:
            st = path.stat()
        except OSError:
            return path
        if st.st_uid == entry.pw_uid:
            bit = st.st_mode & 0o100
        elif st.st_gid in gids:
            bit = st.st_mode & 0o010
        else:
            bit = st.st_mode & 0o001
        if not bit:
            return path
    return None


class _StartFailed(Exception):
    def __init__(self, line: str, log: str) -> None:
        super().__init__(line)
        self.line = line
        self.log = log


def processes_in(directory: str | os.PathLike[str]) -> list[int]:
    """PIDs whose working directory is `directory` or below it (PostgreSQL's processes chdir
    into their data directory): how tests and cleanup see a server that is still there."""
    target = os.path.realpath(directory)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        cwd = cwd.removesuffix(" (deleted)")
        if cwd == target or cwd.startswith(target + os.sep):
            found.append(int(entry.name))
    return found

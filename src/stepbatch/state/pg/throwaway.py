"""`ThrowawayPostgres`: a real, private PostgreSQL cluster for tests and benches, removed afterwards.

It runs the installed server's own `initdb` and `pg_ctl` (Debian: `/usr/lib/postgresql/<v>/bin`; elsewhere
the first `initdb` on PATH, or the folder named by `STEPBATCH_PG_BIN`). PostgreSQL refuses to run as root,
so as root the cluster belongs to the `postgres` system user and both tools run through `runuser`.
The server listens on 127.0.0.1 and a free port only, with its unix socket inside its own folder, and
trusts every local connection: it holds nothing but test data and lives as long as the test session.

Windows: PostgreSQL's Windows installer puts `initdb.exe` and `pg_ctl.exe` in `C:\\Program Files\\
PostgreSQL\\<v>\\bin`; add it to PATH or set `STEPBATCH_PG_BIN`. Without them `find_pg_bin()` is None
and the test suite skips the PostgreSQL tests (or fails, when the `CI` variable is set).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

_EXE = ".exe" if sys.platform == "win32" else ""


class PostgresNotInstalled(RuntimeError):
    """No `initdb`/`pg_ctl` on this machine."""


def find_pg_bin() -> Path | None:
    """The folder holding `initdb` and `pg_ctl` (the newest Debian version first), or None."""
    candidates: list[Path] = []
    if os.environ.get("STEPBATCH_PG_BIN"):
        candidates.append(Path(os.environ["STEPBATCH_PG_BIN"]))
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(debian)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / f"initdb{_EXE}").is_file() and (folder / f"pg_ctl{_EXE}").is_file():
            return folder
    return None


def _version_key(bin_dir: Path) -> tuple[int, str]:
    name = bin_dir.parent.name
    return (int(name), name) if name.isdigit() else (0, name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class ThrowawayPostgres:
    """One private cluster: `start()`, `dsn`, `new_database()`, `restart()`, `stop()` (removes it all)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else Path(tempfile.gettempdir())
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise PostgresNotInstalled(
                "PostgreSQL's initdb/pg_ctl were not found (Debian: apt-get install postgresql, "
                "or `make postgresql`; elsewhere put its bin folder on PATH or in STEPBATCH_PG_BIN)"
            )
        self.bin_dir = bin_dir
        self.dir: Path | None = None
        self.port: int | None = None
        self.pid: int | None = None
        self._as_postgres = _is_root()

    # -- paths and commands ------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.dir is not None, "not started"
        return self.dir / "data"

    @property
    def log_path(self) -> Path:
        assert self.dir is not None, "not started"
        return self.dir / "server.log"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        if self.port is None:
            raise RuntimeError("the throwaway PostgreSQL is not started")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / f"{tool}{_EXE}"), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(
            cmd, cwd=self.dir, capture_output=True, text=True, encoding="utf-8", errors="replace"
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args[:2])} failed ({proc.returncode}): {self._tail(proc)}")
        return proc

    def _tail(self, proc: subprocess.CompletedProcess[str]) -> str:
        text = (proc.stderr or "") + (proc.stdout or "")
        if self.dir is not None and self.log_path.exists():
            text += self.log_path.read_text(encoding="utf-8", errors="replace")
        return text.strip()[-2000:]

    # -- life cycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        if self.dir is None:
            self._init()
        last: Exception | None = None
        for _ in range(5):  # another process may grab the free port between the probe and the bind
            if self.port is None:
                self._configure(free_port())
            try:
                self._start_server()
                return
            except RuntimeError as exc:
                last = exc
                self.port = None
        raise RuntimeError(f"the throwaway PostgreSQL did not start: {last}")

    def _init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="stepbatch-pg-", dir=self.root))
        if self._as_postgres:
            shutil.chown(self.dir, user="postgres", group="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        )
        atexit.register(self.stop)

    def _configure(self, port: int) -> None:
        self.port = port
        sockets = "" if sys.platform == "win32" else str(self.dir / "sock")
        if sockets:
            (self.dir / "sock").mkdir(exist_ok=True)
            if self._as_postgres:
                shutil.chown(self.dir / "sock", user="postgres", group="postgres")
        conf = self.data_dir / "postgresql.auto.conf"
        lines = [
            "listen_addresses = '127.0.0.1'",
            f"port = {port}",
            f"unix_socket_directories = '{sockets}'",
            "fsync = on",
            "max_connections = 200",
            "shared_buffers = '32MB'",
        ]
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if self._as_postgres:
            shutil.chown(conf, user="postgres", group="postgres")

    def _start_server(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "-t", "60", "start")
        pid_file = self.data_dir / "postmaster.pid"
        self.pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])

    def restart(self) -> None:
        """Stop the server (`pg_ctl stop -m fast`: every connection is cut) and start it on the same port."""
        self._stop_server()
        self._start_server()

    def stop(self) -> None:
        """Stop the server it started (by its postmaster's pid if pg_ctl cannot) and remove its folder."""
        if self.dir is None:
            return
        self._stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        self.port = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def _stop_server(self) -> None:
        if self.pid is None:
            return
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop", check=False)
        with contextlib.suppress(psutil.NoSuchProcess):
            postmaster = psutil.Process(self.pid)
            if postmaster.status() != psutil.STATUS_ZOMBIE:
                postmaster.kill()
                postmaster.wait(timeout=30)
        self.pid = None

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------------------------------

    def new_database(self, name: str | None = None) -> str:
        """Create an empty database (a fresh name unless given) and return its DSN."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever is still connected to it."""
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def wait_accepting(self, timeout_s: float = 30) -> None:
        """Until the server answers a query (after `start`/`restart` it already does)."""
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


_shared: ThrowawayPostgres | None = None


def shared_server() -> ThrowawayPostgres:
    """This process's one throwaway cluster, started on first use (raises PostgresNotInstalled)."""
    global _shared
    if _shared is None:
        server = ThrowawayPostgres()
        server.start()
        _shared = server
    return _shared


def stop_shared_server() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None

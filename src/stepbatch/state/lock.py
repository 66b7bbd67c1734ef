"""One run per account at a time, across processes.

The lock is an OS lock (`filelock`: flock on POSIX, msvcrt locking on Windows) on
`<state>/locks/<account>.lock`, so the OS releases it when the holder dies, even by SIGKILL: a stale
lock cannot exist. `<account>.json` beside it describes the holder for error messages and `status`;
it may outlive a killed holder, so it is only believed when the lock is actually held.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import psutil
from filelock import FileLock, Timeout

from stepbatch.errors import EXIT_LOCKED, UserError
from stepbatch.state.fsio import atomic_write_text, safe_name
from stepbatch.state.store import AccountLease


class AccountBusy(UserError):
    exit_code = EXIT_LOCKED


@dataclass(frozen=True)
class LockHolder:
    account: str
    step: str
    pid: int
    host: str
    started_at: str  # local time, ISO-8601 with offset
    create_time: float | None = None  # of the holder process, to tell a reused pid apart

    def describe(self) -> str:
        try:
            since = datetime.fromisoformat(self.started_at).strftime("%H:%M")
        except ValueError:
            since = self.started_at
        return f"{self.step} (pid {self.pid} on {self.host} since {since})"

    def is_alive(self) -> bool | None:
        """True/False for a holder on this host; None when it runs on another host (cannot tell)."""
        if self.host != socket.gethostname():
            return None
        try:
            proc = psutil.Process(self.pid)
            if self.create_time is not None and abs(proc.create_time() - self.create_time) > 1.0:
                return False
            return proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return True


def lock_paths(state_dir: Path, account: str) -> tuple[Path, Path]:
    base = Path(state_dir) / "locks" / safe_name(account)
    return base.with_suffix(".lock"), base.with_suffix(".json")


def read_holder(state_dir: Path, account: str) -> LockHolder | None:
    """The recorded holder of the account's lock (possibly stale: check `is_alive`)."""
    _, info = lock_paths(state_dir, account)
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
        return LockHolder(**data)
    except (OSError, ValueError, TypeError):
        return None


class AccountLock(AccountLease):
    """Context manager holding the account's run lock; raises AccountBusy at once if it is taken.

    The file backend's `AccountLease`, declared as its base (a type checker then reports a missing member).
    """

    def __init__(self, state_dir: Path, account: str, step: str) -> None:
        self.state_dir = Path(state_dir)
        self.account = account
        self.step = step
        self.lock_path, self.info_path = lock_paths(self.state_dir, account)
        self._lock = FileLock(self.lock_path, timeout=0, thread_local=False)

    def acquire(self) -> None:
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire(timeout=0, blocking=False)
        except Timeout:
            holder = read_holder(self.state_dir, self.account)
            what = holder.describe() if holder else "a step (holder unknown)"
            raise AccountBusy(f"account {self.account} is already running {what}") from None
        except OSError as exc:  # read-only or full state folder
            raise UserError(
                f"{self.lock_path}: cannot take the run lock of account {self.account} "
                f"({exc.strerror or exc})"
            ) from None
        try:
            self._write_holder()
        except OSError as exc:
            self.release()
            raise UserError(
                f"{self.info_path}: cannot write the run lock's holder file ({exc.strerror or exc})"
            ) from None

    def _write_holder(self) -> None:
        me = psutil.Process()
        holder = LockHolder(
            self.account,
            self.step,
            os.getpid(),
            socket.gethostname(),
            datetime.now().astimezone().isoformat(timespec="seconds"),
            me.create_time(),
        )
        atomic_write_text(self.info_path, json.dumps(asdict(holder), ensure_ascii=False, indent=1))

    def release(self) -> None:
        if self._lock.is_locked:
            self.info_path.unlink(missing_ok=True)
            self._lock.release()

    def __enter__(self) -> AccountLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def watch(self, on_lost: Callable[[str], None]) -> None:
        """An OS lock is held until released or the process dies: it is never lost."""


def is_locked(state_dir: Path, account: str) -> LockHolder | None:
    """The live holder of the account's lock, or None. Never takes the lock (no race with a starting run)."""
    holder = read_holder(state_dir, account)
    if holder is None:
        return None
    return holder if holder.is_alive() is not False else None

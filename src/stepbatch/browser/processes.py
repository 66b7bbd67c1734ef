"""A browser's process tree: finding it, measuring its memory, killing it by PID.

Nothing here talks to Playwright or Selenium, so every method may be called from any thread (the
engine's watchdog kills a browser while the main thread is blocked in a driver call).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

import psutil

log = logging.getLogger("stepbatch.browser")

_MB = 1024 * 1024
TREE_REFRESH_S = 5.0  # re-list children at most this often (a child's death forces it at once): 3 ms a list
# A PSS read walks every mapping of every process: about 50 ms for a Chromium tree on 2 cores, at every
# product boundary. Between full reads, at most this far apart, the last PSS is carried forward by the
# change in the tree's RSS (one cheap read a process): new private pages (a leaking page's heap and DOM)
# move both alike; pages shared between the tree's processes move RSS once per process, so the estimate
# drifts from PSS only by those, and the next full read resets it.
PSS_REUSE_S = 10.0


@dataclass(frozen=True)
class ProcRecord:
    """A process identity that survives PID reuse: the pid plus its create time."""

    pid: int
    create_time: float


def find_by_cmdline_marker(marker: str) -> list[psutil.Process]:
    """Live processes whose command line contains `marker` (e.g. a unique --user-data-dir)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if any(marker in arg for arg in cmdline) and _is_live(proc):
            found.append(proc)
    return found


def find_root_by_marker(marker: str, timeout_s: float = 10.0) -> psutil.Process | None:
    """The topmost process carrying `marker`: the one whose parent does not carry it."""
    deadline = time.monotonic() + timeout_s
    while True:
        procs = find_by_cmdline_marker(marker)
        pids = {p.pid for p in procs}
        roots = [p for p in procs if _safe_ppid(p) not in pids]
        if roots:
            return min(roots, key=_safe_create_time)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)  # polling the OS process table: there is no event to wait on


def kill_processes(procs: list[psutil.Process], timeout_s: float = 5.0) -> list[int]:
    """SIGKILL (TerminateProcess on Windows) each live process; wait for them. Returns killed pids."""
    killed = []
    for proc in procs:
        if not _is_live(proc):  # gone, or a zombie waiting for its parent: nothing to kill
            continue
        try:
            proc.kill()  # psutil refuses if the pid now belongs to another process
            killed.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    if killed:
        psutil.wait_procs([p for p in procs if p.pid in killed], timeout=timeout_s)
    return killed


class ProcessTree:
    """The process tree below one root (chromium, or chromedriver for Selenium), cached cheaply."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._procs: list[psutil.Process] = [root]
        self._listed_at = 0.0
        self._pss: tuple[float, float, frozenset[int], float] | None = None  # taken at, MB, pids, RSS MB
        self._reader: threading.Thread | None = None  # a full read running in the background
        self._refresh(force=True)

    @property
    def pids(self) -> list[int]:
        self._refresh()
        with self._lock:
            return [p.pid for p in self._procs]

    def known_pids(self) -> frozenset[int]:
        """The PIDs as last listed, without looking at the OS again."""
        with self._lock:
            return frozenset(p.pid for p in self._procs)

    def records(self) -> list[ProcRecord]:
        self._refresh()
        with self._lock:
            procs = list(self._procs)
        out = []
        for proc in procs:
            try:
                out.append(ProcRecord(proc.pid, proc.create_time()))
            except psutil.NoSuchProcess:
                continue
        return out

    def is_alive(self) -> bool:
        return _is_live(self.root)

    def memory_mb(self, max_age_s: float = PSS_REUSE_S) -> float:
        """PSS summed over the tree (shared pages counted once); USS, then RSS where PSS is missing.

        Between full reads the last one is carried forward by the tree's RSS change (an estimate: see
        PSS_REUSE_S). A full read due after `max_age_s` (or once the processes changed) runs in a
        background thread, so the caller gets the estimate at once; only the first read waits for it."""
        self._refresh()
        with self._lock:
            procs = list(self._procs)
            last = self._pss
        pids = frozenset(p.pid for p in procs)
        rss = _rss_mb(procs)
        if last is None or rss is None:
            return self._full_read(procs, pids, rss)
        if time.monotonic() - last[0] >= max_age_s or last[2] != pids:
            self._full_read_behind(procs, pids, rss)
        return max(last[1] + rss - last[3], 0.0)

    def _full_read_behind(self, procs: list[psutil.Process], pids: frozenset[int], rss: float) -> None:
        with self._lock:
            if self._reader is not None and self._reader.is_alive():
                return
            self._reader = threading.Thread(
                target=self._full_read, args=(procs, pids, rss), name="stepbatch-pss", daemon=True
            )
            self._reader.start()

    def wait_full_read(self, timeout_s: float = 10.0) -> None:
        """Until the background full read, if one is running, is over."""
        reader = self._reader
        if reader is not None:
            reader.join(timeout_s)

    def _full_read(self, procs: list[psutil.Process], pids: frozenset[int], rss: float | None) -> float:
        total = 0
        lost_one = False
        for proc in procs:
            try:
                total += _proc_memory(proc)
            except psutil.NoSuchProcess:
                lost_one = True
            except psutil.AccessDenied:
                continue
        if lost_one:
            self._refresh(force=True)
        with self._lock:
            self._pss = None if lost_one or rss is None else (time.monotonic(), total / _MB, pids, rss)
        return total / _MB

    def kill(self, timeout_s: float = 5.0) -> list[int]:
        """Kill the root and every descendant known now or before; safe from any thread."""
        with self._lock:
            procs = list(self._procs)
        with contextlib.suppress(psutil.NoSuchProcess):
            procs += self.root.children(recursive=True)
        unique = list({p.pid: p for p in procs}.values())
        return kill_processes(unique, timeout_s)

    def _refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._listed_at < TREE_REFRESH_S and all(map(_is_live, self._procs)):
                return
            try:
                children = self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            alive = [p for p in [self.root, *children] if _is_live(p)]
            self._procs = alive or [self.root]
            self._listed_at = now


def _rss_mb(procs: list[psutil.Process]) -> float | None:
    """The tree's resident size in MB (statm: cheap), None when a process is gone or hidden."""
    try:
        return sum(p.memory_info().rss for p in procs) / _MB
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _proc_memory(proc: psutil.Process) -> int:
    try:
        full = proc.memory_full_info()
    except psutil.AccessDenied:
        return proc.memory_info().rss
    pss = getattr(full, "pss", None)  # Linux only
    if pss is not None:
        return pss
    uss = getattr(full, "uss", None)  # Windows, macOS
    return uss if uss is not None else full.rss


def _is_live(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _safe_ppid(proc: psutil.Process) -> int | None:
    try:
        return proc.ppid()
    except psutil.NoSuchProcess:
        return None


def _safe_create_time(proc: psutil.Process) -> float:
    try:
        return proc.create_time()
    except psutil.NoSuchProcess:
        return float("inf")

"""A worker's heartbeat thread: its `sb_worker` row, and the operators' cancel requests of its jobs.

Every `every_s` it upserts the row (jobs running, the Chromium processes below this process and their
RSS summed) and reads `cancel_requested_at` of the requests it runs; a cancelled one gets its stop
switch pulled ("cancelled by operator"): the run stops at its next product boundary. A database that is
away only skips beats (one warning). `close()` stops the thread and deletes the row.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psutil

log = logging.getLogger("stepbatch.cluster.heartbeat")

_MB = 1024 * 1024

UPSERT_SQL = """
INSERT INTO sb_worker (name, host, pid, concurrency, jobs_running, browsers_open, memory_mb,
                       started_at, heartbeat_at)
VALUES (%(name)s, %(host)s, %(pid)s, %(concurrency)s, %(jobs)s, %(browsers)s, %(mb)s, now(), now())
ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,
       concurrency = EXCLUDED.concurrency, jobs_running = EXCLUDED.jobs_running,
       browsers_open = EXCLUDED.browsers_open, memory_mb = EXCLUDED.memory_mb,
       started_at = CASE WHEN sb_worker.pid IS DISTINCT FROM EXCLUDED.pid THEN now()
                         ELSE sb_worker.started_at END,
       heartbeat_at = now()
"""
CANCELLED_SQL = "SELECT job_id FROM sb_run_request WHERE job_id = ANY(%s) AND cancel_requested_at IS NOT NULL"


def browser_processes(root: psutil.Process | None = None) -> list[psutil.Process]:
    """Live chromium/chrome processes below `root` (this process by default)."""
    found = []
    try:
        children = (root or psutil.Process()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if "chrom" in child.name().lower() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
    return found


def browsers_now() -> tuple[int, float]:
    """(how many browser processes, their RSS summed in MB)."""
    procs = browser_processes()
    rss = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            rss += proc.memory_info().rss
    return len(procs), round(rss / _MB, 1)


class Heartbeat:
    """The thread; `running_jobs()` gives the job ids in hand, `cancel(job_id)` stops one of them."""

    def __init__(
        self,
        dsn: str,
        name: str,
        concurrency: int,
        *,
        running_jobs: Callable[[], Iterable[int]],
        cancel: Callable[[int], None],
        every_s: float = 5.0,
    ) -> None:
        self.dsn = dsn
        self.name = name
        self.concurrency = concurrency
        self.running_jobs = running_jobs
        self.cancel = cancel
        self.every_s = every_s
        self._stop = threading.Event()
        self._warned = False
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat {name}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def beat(self) -> None:
        """One upsert and one cancel poll (also what the thread does every `every_s`)."""
        from stepbatch.cluster.db import transact

        jobs = sorted(self.running_jobs())
        browsers, mb = browsers_now()
        params = {
            "name": self.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "concurrency": self.concurrency,
            "jobs": len(jobs),
            "browsers": browsers,
            "mb": mb,
        }

        def work(cur: Any) -> list[int]:
            cur.execute(UPSERT_SQL, params)
            if not jobs:
                return []
            cur.execute(CANCELLED_SQL, (jobs,))
            return [row[0] for row in cur.fetchall()]

        for job_id in transact(self.dsn, work):
            self.cancel(job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
                self._warned = False
            except Exception as exc:  # the database away, a process gone mid-read: skip this beat
                if not self._warned:
                    log.warning("worker heartbeat skipped: %s", " ".join(str(exc).split())[:200])
                    self._warned = True
            self._stop.wait(self.every_s)

    def close(self) -> None:
        """Stop the thread; delete the row (a clean exit: the worker is no longer there)."""
        from stepbatch.cluster.db import transact

        self._stop.set()
        self._thread.join(timeout=self.every_s + 10)
        try:
            transact(self.dsn, lambda cur: cur.execute("DELETE FROM sb_worker WHERE name = %s", (self.name,)))
        except Exception as exc:
            log.warning("could not remove worker %s from sb_worker: %s", self.name, exc)


__all__ = ["Heartbeat", "browser_processes", "browsers_now"]

"""The cluster's worker processes as their heartbeats (`sb_worker`) show them: for `status` and the web page.

Each worker upserts its row every few seconds (cluster/heartbeat.py) and deletes it on a clean exit; a row
whose heartbeat is older than `stale_s` is a worker that died or is paused (`alive` False).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORKERS_SQL = """
SELECT name, host, pid, concurrency, jobs_running, browsers_open, memory_mb,
       EXTRACT(EPOCH FROM now() - heartbeat_at)
  FROM sb_worker
 ORDER BY name
"""


@dataclass
class WorkerRow:
    name: str
    host: str | None
    pid: int | None
    concurrency: int | None
    jobs_running: int
    browsers_open: int
    memory_mb: float | None  # RSS of its browsers' processes, summed
    heartbeat_age_s: float | None
    alive: bool  # heartbeat younger than stale_s


def collect_workers(dsn: str, *, stale_s: float = 30) -> list[WorkerRow]:
    """Every worker that sent a heartbeat and has not exited cleanly since; [] before migration 101."""
    from stepbatch.cluster.db import transact

    def work(cur: Any) -> list[tuple]:
        cur.execute("SELECT to_regclass('sb_worker')")
        if cur.fetchone()[0] is None:
            return []
        cur.execute(WORKERS_SQL)
        return cur.fetchall()

    out = []
    for name, host, pid, concurrency, running, browsers, mb, age in transact(dsn, work):
        age_s = None if age is None else float(age)
        out.append(
            WorkerRow(
                name=name,
                host=host,
                pid=pid,
                concurrency=concurrency,
                jobs_running=running or 0,
                browsers_open=browsers or 0,
                memory_mb=None if mb is None else round(float(mb), 1),
                heartbeat_age_s=None if age_s is None else round(age_s, 1),
                alive=age_s is not None and age_s < stale_s,
            )
        )
    return out


def format_workers(rows: list[WorkerRow]) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(title="workers")
    for column in ("worker", "host", "pid", "jobs", "browsers", "MB", "heartbeat", "alive"):
        table.add_column(column)
    for w in rows:
        table.add_row(
            w.name,
            w.host or "-",
            "-" if w.pid is None else str(w.pid),
            f"{w.jobs_running}/{w.concurrency if w.concurrency is not None else '?'}",
            str(w.browsers_open),
            "-" if w.memory_mb is None else f"{w.memory_mb:.0f}",
            "-" if w.heartbeat_age_s is None else f"{w.heartbeat_age_s:.0f}s",
            "yes" if w.alive else "NO",
        )
    buffer = StringIO()
    Console(file=buffer, width=140, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


__all__ = ["WorkerRow", "collect_workers", "format_workers"]

"""`stepbatch status`: per account × step, its latest request: state, worker, progress, heartbeat.

States: queued (waiting for a worker), running, stalled (running, but no heartbeat for longer than the
lease: its worker may be dead or paused; the reaper re-queues it after `stale_s`), done, failed.
Progress comes from the PostgreSQL progress tables (products done of those found so far).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from typing import Any

STATUS_SQL = """
SELECT DISTINCT ON (r.account, r.step, r.status = 'skipped')
       r.account, r.step, r.server, r.status, r.worker, r.last_error, r.job_id, j.status, j.attempts,
       l.holder, l.released_at IS NULL AND l.account IS NOT NULL,
       EXTRACT(EPOCH FROM now() - l.renewed_at), EXTRACT(EPOCH FROM now() - w.last_heartbeat), r.summary
  FROM sb_run_request r
  LEFT JOIN procrastinate_jobs j ON j.id = r.job_id
  LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
  LEFT JOIN sb_lease l ON l.account = r.account AND l.step = r.step
 -- a skipped request (a chain's step, a schedule's firing) beside the latest other one, until a newer one
 WHERE NOT (r.status = 'skipped' AND EXISTS (SELECT 1 FROM sb_run_request n WHERE n.account = r.account
            AND n.step = r.step AND n.status <> 'skipped' AND n.id > r.id))
 ORDER BY r.account, r.step, r.status = 'skipped', r.id DESC
"""


@dataclass
class AccountStatus:
    account: str
    step: str
    server: str | None
    state: str  # queued | running | stalled | done | failed
    worker: str | None
    job_id: int | None
    attempts: int
    heartbeat_age_s: float | None
    last_error: str | None
    codes_done: int | None = None
    codes_total: int | None = None
    products_done: int | None = None
    products_found: int | None = None  # None: not known yet
    products_more: bool = False  # some codes not searched yet: more products may come


def state_of(request_status: str, job_status: str | None, age_s: float | None, lease_s: float) -> str:
    if job_status == "todo":
        return "queued"
    if job_status == "doing":
        return "running" if age_s is not None and age_s <= lease_s else "stalled"
    if request_status in ("done", "failed"):
        return request_status
    return "failed" if job_status in ("failed", "aborted", "cancelled") else request_status


def collect(dsn: str, *, lease_s: float = 30.0) -> list[AccountStatus]:
    from stepbatch.cluster.db import transact
    from stepbatch.cluster.submit import require_schema

    def work(cur: Any) -> list[tuple]:
        require_schema(cur)
        cur.execute(STATUS_SQL)
        return cur.fetchall()

    out = []
    for row in transact(dsn, work):
        (account, step, server, status, worker, error, job_id, job_status, attempts) = row[:9]
        holder, lease_live, lease_age, beat_age, _summary = row[9:]
        age = float(lease_age) if lease_live and lease_age is not None else _float(beat_age)
        state = state_of(status, job_status, age, lease_s)
        shown_worker = (holder.rpartition(":")[0] or holder) if lease_live and holder else worker
        item = AccountStatus(account, step, server, state, shown_worker, job_id, attempts or 0, age, error)
        _add_progress(item, dsn)
        out.append(item)
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _add_progress(item: AccountStatus, dsn: str) -> None:
    """Codes and products from the progress tables; left unknown when they cannot be read."""
    try:
        from stepbatch.state.pg.backend import PgBackend

        store = PgBackend(dsn, holder="status").read_store(item.account, item.step, item.server)
        try:
            records = store.unit_records()
        finally:
            store.close(compact=False)
    except Exception:  # progress is a nicety here: the table still shows the queue's view
        return
    item.codes_total = len(records)
    item.codes_done = sum(1 for r in records if r.status.value == "done")
    item.products_done = sum(r.items_done for r in records)
    found = [r.total_found for r in records if r.total_found is not None]
    item.products_found = sum(found) if found else None
    item.products_more = len(found) < len(records)


def format_table(rows: list[AccountStatus]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="accounts")
    for column in ("account", "step", "state", "worker", "codes", "products", "heartbeat", "last error"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.account,
            r.step + (f" {r.server}" if r.server else ""),
            r.state,
            r.worker or "-",
            "-" if r.codes_total is None else f"{r.codes_done}/{r.codes_total}",
            _products(r),
            "-"
            if r.heartbeat_age_s is None or r.state not in ("running", "stalled")
            else f"{r.heartbeat_age_s:.0f}s",
            (r.last_error or "")[:60],
        )
    buffer = StringIO()
    Console(file=buffer, width=140, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


def _products(r: AccountStatus) -> str:
    if r.products_done is None:
        return "-"
    total = "?" if r.products_found is None else f"{r.products_found}{'+' if r.products_more else ''}"
    return f"{r.products_done}/{total}"


__all__ = ["AccountStatus", "collect", "format_table", "state_of"]

"""`stepbatch status`: per account × step, its latest request: state, worker, progress, heartbeat.

States: queued (waiting for a worker), running, stalled (running, but no heartbeat for longer than the
lease: its worker may be dead or paused; the reaper re-queues it after `stale_s`), done, partial (some
codes or products failed, the rest done), failed, stopped (cancelled by an operator; `stepbatch requeue`
resumes it). Progress comes from the PostgreSQL progress tables (products done of those found so far);
the live fields (current code and product, ETA, browser memory, retries) from the request's `live`
column, which its worker writes every few seconds (cluster/live.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from stepbatch.cluster.schema import FINISHED_STATUSES

STATUS_SQL = """
SELECT DISTINCT ON (r.account, r.step, r.status = 'skipped')
       r.account, r.step, r.server, r.status, r.worker, r.last_error, r.job_id, j.status, j.attempts,
       l.holder, l.released_at IS NULL AND l.account IS NOT NULL,
       EXTRACT(EPOCH FROM now() - l.renewed_at), EXTRACT(EPOCH FROM now() - w.last_heartbeat), r.summary,
       r.live, r.cancel_requested_at IS NOT NULL, r.id
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
    state: str  # queued | running | stalled | done | partial | failed | stopped (| skipped)
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
    request_id: int | None = None
    products_failed: int | None = None
    current_code: str | None = None  # live: the code in hand, the last product reported in it
    current_product: str | None = None
    eta_s: float | None = None
    memory_mb: float | None = None  # live: the browser's memory now
    memory: list[list[float]] = field(default_factory=list)  # live: [[t_s, MB], …], the last 60 samples
    retries: int = 0
    relogins: int = 0
    cancel_requested: bool = False  # `stepbatch cancel` asked it to stop; it does at a product boundary
    run_dir: str | None = None  # on the worker's machine
    report: str | None = None  # report.html in run_dir, once the run ended
    live: dict[str, Any] | None = None  # the whole ProgressModel.snapshot() as the worker last wrote it


def state_of(request_status: str, job_status: str | None, age_s: float | None, lease_s: float) -> str:
    if job_status == "todo":
        return "queued"
    if job_status == "doing":
        return "running" if age_s is not None and age_s <= lease_s else "stalled"
    if request_status in FINISHED_STATUSES or request_status == "skipped":
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
        holder, lease_live, lease_age, beat_age, summary, live, cancel_requested, request_id = row[9:]
        age = float(lease_age) if lease_live and lease_age is not None else _float(beat_age)
        state = state_of(status, job_status, age, lease_s)
        shown_worker = (holder.rpartition(":")[0] or holder) if lease_live and holder else worker
        item = AccountStatus(account, step, server, state, shown_worker, job_id, attempts or 0, age, error)
        item.request_id = request_id
        item.cancel_requested = bool(cancel_requested) and state in ("running", "stalled", "queued")
        _add_progress(item, dsn)
        _add_live(item, _json(live), _json(summary))
        out.append(item)
    return out


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def _add_live(item: AccountStatus, live: dict[str, Any] | None, summary: dict[str, Any] | None) -> None:
    """The worker's live snapshot (and, once ended, its summary): what the progress tables do not hold."""
    summary = summary or {}
    item.run_dir = summary.get("run_dir")
    if not live:
        return
    item.live = live
    running = item.state in ("running", "stalled")
    item.current_code = live.get("code") if running else None
    item.current_product = live.get("product") if running else None
    item.eta_s = live.get("eta_s") if running else None
    item.memory_mb = live.get("browser_mb") if running else None
    item.memory = [list(sample) for sample in live.get("memory") or []]
    item.retries = int(live.get("retries") or 0)
    item.relogins = int(live.get("relogins") or 0)
    item.products_failed = live.get("products_failed")
    item.run_dir = live.get("run_dir") or item.run_dir
    item.report = live.get("report")
    if item.codes_total is None and live.get("codes_total") is not None:
        item.codes_total = live.get("codes_total")
        item.codes_done = live.get("codes_done")
    if item.products_done is None and live.get("products_done") is not None:
        item.products_done = live.get("products_done")
        item.products_found = live.get("products_found")


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
    columns = (
        "account",
        "step",
        "state",
        "worker",
        "codes",
        "products",
        "ETA",
        "MB",
        "heartbeat",
        "last error",
    )
    for column in columns:
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.account,
            r.step + (f" {r.server}" if r.server else ""),
            r.state + (" (cancelling)" if r.cancel_requested and r.state != "queued" else ""),
            r.worker or "-",
            "-" if r.codes_total is None else f"{r.codes_done}/{r.codes_total}",
            _products(r),
            "-" if r.eta_s is None else _duration(r.eta_s),
            "-" if r.memory_mb is None else f"{r.memory_mb:.0f}",
            "-"
            if r.heartbeat_age_s is None or r.state not in ("running", "stalled")
            else f"{r.heartbeat_age_s:.0f}s",
            (r.last_error or "")[:50],
        )
    buffer = StringIO()
    Console(file=buffer, width=140, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _products(r: AccountStatus) -> str:
    if r.products_done is None:
        return "-"
    total = "?" if r.products_found is None else f"{r.products_found}{'+' if r.products_more else ''}"
    return f"{r.products_done}/{total}"


__all__ = ["AccountStatus", "collect", "format_table", "state_of"]

"""`stepbatch cancel` / `stepbatch requeue`: an operator stops a request, or queues a finished one again.

Both act on the latest request of an account × step, in one transaction under the submits' advisory
lock, the request's procrastinate job locked (a worker's fetch skips a locked job):
- cancel: a queued job is cancelled at once (its request ends `stopped`); a running one gets
  `cancel_requested_at`, which its worker polls: the run stops at the next product boundary and the
  request ends `stopped`, its progress kept, its job finished (not re-queued).
- requeue: a request that ended failed, partial or stopped is queued again with a new job (the same
  request row, so its id stays); the queueing lock `<account>/<step>` still refuses a duplicate.
Anything else is a UserError naming the account and step; nothing is changed then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepbatch.cluster.requests import ACCOUNT_QUEUE, RUN_TASK, job_lock
from stepbatch.cluster.schema import REQUEUEABLE_STATUSES
from stepbatch.errors import UserError

CANCELLED_BY_OPERATOR = "cancelled by operator"

_LATEST_SQL = """
SELECT r.id, r.status, r.job_id, r.worker, r.cancel_requested_at IS NOT NULL, j.status::text
  FROM sb_run_request r LEFT JOIN procrastinate_jobs j ON j.id = r.job_id
 WHERE r.account = %s AND r.step = %s
 ORDER BY r.status = 'skipped', r.id DESC LIMIT 1  -- a skipped firing is not the run to act on
   FOR UPDATE OF r
"""
_LOCK_JOB_SQL = "SELECT status::text FROM procrastinate_jobs WHERE id = %s FOR UPDATE"
_CANCEL_JOB_SQL = "SELECT procrastinate_cancel_job_v1(%s, false, false)"
_MARK_STOPPED_SQL = """
UPDATE sb_run_request SET status = 'stopped', last_error = %s, cancel_requested_at = now(),
       worker = NULL, updated_at = now()
 WHERE id = %s
"""
_ASK_STOP_SQL = "UPDATE sb_run_request SET cancel_requested_at = now(), updated_at = now() WHERE id = %s"
_DEFER_SQL = (
    "SELECT unnest(procrastinate_defer_jobs_v1("
    "ARRAY[ROW(%s, %s, 0, %s, %s, %s, NULL)::procrastinate_job_to_defer_v1])) AS id"
)
_REQUEUED_SQL = """
UPDATE sb_run_request SET status = 'queued', job_id = %s, worker = NULL, last_error = NULL,
       cancel_requested_at = NULL, live = NULL, updated_at = now()
 WHERE id = %s
"""


@dataclass(frozen=True)
class _Latest:
    request_id: int
    status: str  # the request's status, corrected by its job's (see `state`)
    job_id: int | None
    job_status: str | None
    worker: str | None
    cancel_requested: bool

    @property
    def state(self) -> str:
        """queued | running | done | partial | failed | stopped | … as the operator sees it."""
        if self.job_status == "todo":
            return "queued"
        if self.job_status == "doing":
            return "running"
        if self.status in ("queued", "running") and self.job_status in ("failed", "aborted", "cancelled"):
            return "failed"
        return self.status


def cancel_run(dsn: str, account: str, step: str) -> str:
    """Cancel the latest request of `account` × `step`; returns a one-line message."""
    from stepbatch.cluster.db import transact

    def work(cur: Any) -> str:
        latest = _locked_latest(cur, account, step)
        where = f"{account} {step}"
        if latest.state == "queued":
            cur.execute(_CANCEL_JOB_SQL, (latest.job_id,))
            cur.execute(_MARK_STOPPED_SQL, (CANCELLED_BY_OPERATOR, latest.request_id))
            return f"{where}: cancelled before it started (request {latest.request_id}, now stopped)"
        if latest.state == "running":
            on = f" on {latest.worker}" if latest.worker else ""
            if latest.cancel_requested:
                return f"{where}: a stop was already asked{on}; it stops at the next product boundary"
            cur.execute(_ASK_STOP_SQL, (latest.request_id,))
            rid = latest.request_id
            return f"{where}: asked the worker{on} to stop at the next product boundary (request {rid})"
        raise UserError(f"{where} is {latest.state}, not queued or running: nothing to cancel")

    return transact(dsn, work)


def requeue_run(dsn: str, account: str, step: str) -> str:
    """Queue the latest request of `account` × `step` again (it ended failed, partial or stopped)."""
    from psycopg.types.json import Jsonb

    from stepbatch.cluster.db import transact

    def work(cur: Any) -> str:
        latest = _locked_latest(cur, account, step)
        where = f"{account} {step}"
        if latest.state not in REQUEUEABLE_STATUSES:
            raise UserError(
                f"{where} is {latest.state}: only a failed, partial or stopped run can be re-queued"
            )
        lock = job_lock(account, step)
        cur.execute(
            "SELECT id FROM procrastinate_jobs WHERE lock = %s AND status IN ('todo', 'doing') LIMIT 1",
            (lock,),
        )
        busy = cur.fetchone()
        if busy is not None:
            raise UserError(f"{where} already has job {busy[0]} queued or running; nothing re-queued")
        cur.execute(
            _DEFER_SQL, (ACCOUNT_QUEUE, RUN_TASK, lock, lock, Jsonb({"request_id": latest.request_id}))
        )
        job_id = cur.fetchone()[0]
        cur.execute(_REQUEUED_SQL, (job_id, latest.request_id))
        return f"{where}: re-queued (was {latest.state}; request {latest.request_id}, job {job_id})"

    return transact(dsn, work)


def finished_status(summary: Any) -> str:
    """The request status a run that ended on its own gives (RunSummary): done, partial or failed.

    partial: some codes or products failed and others are done (this run or earlier runs of the cycle);
    failed: nothing done, or the account itself stopped (StopAccount: a login refused, a site down).
    """
    if summary.exit_code == 0:
        return "done"
    cumulative = summary.cumulative or {}
    some_done = any(
        (summary.units_done, summary.items_done, cumulative.get("units_done"), cumulative.get("items_done"))
    )
    account_stopped = (summary.stop_reason or "").startswith("StopAccount")
    if some_done and not account_stopped and (summary.outcome == "failed" or summary.items_failed):
        return "partial"
    return "failed"


def _locked_latest(cur: Any, account: str, step: str) -> _Latest:
    from stepbatch.cluster.submit import require_schema

    require_schema(cur)
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('stepbatch-submit'))")
    cur.execute(_LATEST_SQL, (account, step))
    found = cur.fetchone()
    if found is None:
        raise UserError(
            f"{account} {step}: no such request in the cluster database (see `stepbatch status --db …`)"
        )
    request_id, status, job_id, worker, cancel_requested, _ = found
    job_status = None
    if job_id is not None:
        cur.execute(_LOCK_JOB_SQL, (job_id,))
        job = cur.fetchone()
        job_status = job[0] if job else None
    return _Latest(request_id, status, job_id, job_status, worker, bool(cancel_requested))


__all__ = ["CANCELLED_BY_OPERATOR", "cancel_run", "finished_status", "requeue_run"]

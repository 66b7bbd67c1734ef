"""Steps in order per account in the cluster: `stepbatch submit step2,step3`.

`submit` stores one request per account × step, linked: `chain_id` (the chain's first request),
`chain_pos` (0, 1, …) and `chain_next` (the request that runs after this one). Only the first step's job
is deferred; the others are `waiting` (no job yet). When a worker records that a request ended (done,
partial, failed, stopped), it calls `fenced_finish`, in the same transaction as that final status:
- done, and the run complete → the next request gets its job and is `queued`;
- anything else → every later waiting request of the chain becomes `skipped`, `last_error` saying why
  (`step2 ended failed: StopAccount: login refused …`).
A `skipped` next step is queued after all if its previous step is re-queued and then ends done.
`sweep` (run every minute by the schedules' periodic task) catches a chain whose previous step ended
without a worker (a queued job cancelled by an operator): its waiting requests are queued or skipped.
Every change here takes the submits' advisory lock first, so it serialises with `submit` and the
operators' cancel/requeue, and a next job never collides with a queued one of the same account × step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from stepbatch.cluster.requests import RunRequestRow, fenced_update, insert_params, insert_sql, job_lock

# Migration 102 (with schedules.SCHEDULE_SQL): the chain links, and the schedule firing a request came from.
CHAIN_SQL = """
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS chain_id bigint;
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS chain_pos integer;
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS chain_next bigint;
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS schedule text;
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS fired_for timestamptz;
CREATE INDEX IF NOT EXISTS sb_run_request_chain ON sb_run_request (chain_next);
CREATE INDEX IF NOT EXISTS sb_run_request_schedule ON sb_run_request (schedule, account);
"""

SUBMIT_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('stepbatch-submit'))"
ENDED = ("done", "partial", "failed", "stopped")
WAITING = "waiting"
SKIPPED = "skipped"

_DEFER_SQL = (
    "SELECT unnest(procrastinate_defer_jobs_v1("
    "ARRAY[ROW(%s, %s, 0, %s, %s, %s, NULL)::procrastinate_job_to_defer_v1])) AS id"
)
_LINK_SQL = """
UPDATE sb_run_request SET chain_id = %(chain_id)s, chain_pos = %(pos)s, chain_next = %(next)s,
       schedule = %(schedule)s, fired_for = %(fired_for)s, status = %(status)s, last_error = %(why)s
 WHERE id = %(id)s
"""
_BUSY_SQL = """
SELECT 'job ' || j.id, CASE WHEN j.status = 'doing' THEN 'running' ELSE 'queued' END
  FROM procrastinate_jobs j WHERE j.lock = %(lock)s AND j.status IN ('todo', 'doing')
UNION ALL
SELECT 'request ' || r.id, 'waiting in a chain'
  FROM sb_run_request r WHERE r.account = %(account)s AND r.step = %(step)s AND r.status = 'waiting'
 LIMIT 1
"""
_WAITING_AFTER_ENDED_SQL = """
SELECT p.id, p.step, p.status, j.status::text, p.last_error, p.summary
  FROM sb_run_request n
  JOIN sb_run_request p ON p.chain_next = n.id
  LEFT JOIN procrastinate_jobs j ON j.id = p.job_id
 WHERE n.status = 'waiting'
   AND (j.status IS NULL OR j.status NOT IN ('todo', 'doing'))
   AND p.status <> 'waiting'
"""


# --- storing a chain ------------------------------------------------------------------------------------


def store_chain(
    cur: Any,
    chain: Sequence[RunRequestRow],
    *,
    schedule: str | None = None,
    fired_for: Any = None,
    skipped_why: str | None = None,
) -> tuple[list[int], int | None]:
    """Insert one account's requests in step order, linked; defer the first one's job (none when
    `skipped_why`: every request is stored `skipped` with that reason). Returns (request ids, job id)."""
    ids = []
    for row in chain:
        cur.execute(insert_sql(), insert_params(row))
        ids.append(cur.fetchone()[0])
    for pos, request_id in enumerate(ids):
        status = SKIPPED if skipped_why else ("queued" if pos == 0 else WAITING)
        cur.execute(
            _LINK_SQL,
            {
                "chain_id": ids[0],
                "pos": pos,
                "next": ids[pos + 1] if pos + 1 < len(ids) else None,
                "schedule": schedule,
                "fired_for": fired_for,
                "status": status,
                "why": skipped_why,
                "id": request_id,
            },
        )
    job_id = None if skipped_why else defer(cur, ids[0], chain[0].account, chain[0].step)
    return ids, job_id


def defer(cur: Any, request_id: int, account: str, step: str) -> int:
    """The procrastinate job of a request (lock and queueing lock `<account>/<step>`); it is `queued`."""
    from psycopg.types.json import Jsonb

    from stepbatch.cluster.requests import ACCOUNT_QUEUE, RUN_TASK

    lock = job_lock(account, step)
    cur.execute(_DEFER_SQL, (ACCOUNT_QUEUE, RUN_TASK, lock, lock, Jsonb({"request_id": request_id})))
    job_id = cur.fetchone()[0]
    cur.execute(
        "UPDATE sb_run_request SET job_id = %s, status = 'queued', last_error = NULL, updated_at = now() "
        "WHERE id = %s",
        (job_id, request_id),
    )
    return job_id


def busy_reason(cur: Any, account: str, step: str) -> str | None:
    """Why `account` × `step` cannot be queued now (a job queued or running, a request waiting)."""
    cur.execute(_BUSY_SQL, {"lock": job_lock(account, step), "account": account, "step": step})
    found = cur.fetchone()
    return None if found is None else f"{account} {step} is already {found[1]} ({found[0]})"


def refuse_waiting(cur: Any, rows: Sequence[RunRequestRow]) -> None:
    """`submit`'s duplicate check for the later steps of chains (no job yet): exit 3, nothing stored."""
    from stepbatch.errors import EXIT_LOCKED, UserError

    for row in rows:
        cur.execute(
            "SELECT id FROM sb_run_request WHERE account = %s AND step = %s AND status = 'waiting' LIMIT 1",
            (row.account, row.step),
        )
        found = cur.fetchone()
        if found is not None:
            raise UserError(
                f"{row.account} {row.step} is already waiting in a chain (request {found[0]}); "
                "nothing submitted",
                exit_code=EXIT_LOCKED,
            )


def submit_chain(reqs: Sequence[Any], *, out: TextIO) -> int:
    """`stepbatch submit step2,step3 …`: every step checked for every account first, then one chain per
    account stored in one transaction (exit 3 and nothing stored when one is already queued)."""
    from stepbatch.cluster.db import transact
    from stepbatch.cluster.submit import refuse_busy, require_schema
    from stepbatch.errors import EXIT_OK

    chains = build_chains(reqs)
    dsn = reqs[0].dsn

    def work(cur: Any) -> list[tuple[list[int], int | None]]:
        cur.execute(SUBMIT_LOCK_SQL)
        require_schema(cur)
        require_chains(cur)
        refuse_busy(cur, [row for chain in chains for row in chain])
        return [store_chain(cur, chain) for chain in chains]

    for chain, (ids, job_id) in zip(chains, transact(dsn, work), strict=True):
        out.write(submitted_line(chain, ids, job_id) + "\n")
    return EXIT_OK


def build_chains(reqs: Sequence[Any]) -> list[list[RunRequestRow]]:
    """One SubmitRequest per step → per account, its requests in step order (every check made here)."""
    from stepbatch.cluster.submit import build_requests

    per_step = [build_requests(req) for req in reqs]
    return [list(rows) for rows in zip(*per_step, strict=True)]


def submitted_line(chain: Sequence[RunRequestRow], ids: Sequence[int], job_id: int | None) -> str:
    from stepbatch.text import plural

    first = chain[0]
    steps = " → ".join(row.step + (f" {row.server}" if row.server else "") for row in chain)
    codes = ", ".join(plural(len(row.units), "code") for row in chain)
    later = ", ".join(row.step for row in chain[1:])
    then = f"; {later} after it" if later else ""
    requests = ", ".join(map(str, ids))
    return (
        f"submitted {first.account} {steps}: {codes} "
        f"(requests {requests}, job {job_id} for {first.step}{then})"
    )


def require_chains(cur: Any) -> None:
    from stepbatch.errors import UserError

    cur.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'sb_run_request' AND column_name = 'chain_next'"
    )
    if not cur.fetchone()[0]:
        raise UserError(
            "the database's stepbatch tables are older than this stepbatch: run `stepbatch db init --db …`"
        )


# --- a request ended: the worker's hook -----------------------------------------------------------------


def fenced_finish(cur: Any, request_id: int, job_id: int, attempts: int, **values: Any) -> bool:
    """`fenced_update`; when it records an end (done/partial/failed/stopped), the chain moves on in the
    same transaction: the next step queued (done, run complete) or the rest skipped (anything else)."""
    status = values.get("status")
    if status not in ENDED:
        return fenced_update(cur, request_id, job_id, attempts, **values)
    cur.execute(SUBMIT_LOCK_SQL)  # before any row lock, as submit and cancel/requeue take it
    updated = fenced_update(cur, request_id, job_id, attempts, **values)
    if updated:
        advance(cur, request_id, status, values.get("summary"), values.get("last_error"))
    return updated


def advance(cur: Any, request_id: int, status: str, summary: Any = None, error: str | None = None) -> None:
    """The request ended with `status`: queue its chain's next step, or skip the rest with the reason."""
    from stepbatch.app.chain import outcome_detail, step_outcome

    cur.execute("SELECT chain_next, step FROM sb_run_request WHERE id = %s", (request_id,))
    found = cur.fetchone()
    if found is None or found[0] is None:
        return
    next_id, step = found
    summary = json.loads(summary) if isinstance(summary, str) else summary
    outcome = step_outcome(summary) if status == "done" and summary else status
    if outcome == "done":
        queue_next(cur, next_id)
        return
    detail = error or outcome_detail(summary)
    skip_rest(cur, next_id, f"{step} ended {outcome}" + (f": {detail}" if detail else ""))


def queue_next(cur: Any, next_id: int) -> None:
    cur.execute("SELECT account, step, status FROM sb_run_request WHERE id = %s FOR UPDATE", (next_id,))
    found = cur.fetchone()
    if found is None or found[2] not in (WAITING, SKIPPED):
        return  # queued again by hand, or already on its way
    account, step, _ = found
    busy = busy_reason_of_jobs(cur, account, step)
    if busy is not None:
        skip_rest(cur, next_id, busy, also_skipped=True)
        return
    defer(cur, next_id, account, step)


def busy_reason_of_jobs(cur: Any, account: str, step: str) -> str | None:
    cur.execute(
        "SELECT id FROM procrastinate_jobs WHERE queueing_lock = %s AND status = 'todo' LIMIT 1",
        (job_lock(account, step),),
    )
    found = cur.fetchone()
    return None if found is None else f"{account} {step} was already queued (job {found[0]})"


def skip_rest(cur: Any, first_id: int | None, why: str, *, also_skipped: bool = False) -> list[int]:
    """Mark `first_id` and the requests after it `skipped` (only those still waiting)."""
    statuses = [WAITING, SKIPPED] if also_skipped else [WAITING]
    skipped, current = [], first_id
    while current is not None:
        cur.execute(
            "UPDATE sb_run_request SET status = 'skipped', last_error = %s, updated_at = now() "
            "WHERE id = %s AND status = ANY(%s) RETURNING chain_next",
            (why, current, statuses),
        )
        found = cur.fetchone()
        if found is None:
            break
        skipped.append(current)
        current = found[0]
    return skipped


def sweep(cur: Any) -> int:
    """Waiting requests whose previous step ended without the worker's hook: queued or skipped now."""
    cur.execute(SUBMIT_LOCK_SQL)
    cur.execute(_WAITING_AFTER_ENDED_SQL)
    moved = 0
    for request_id, _step, status, job_status, error, summary in cur.fetchall():
        if status in ("queued", "running"):  # its job ended without a word (failed, aborted, cancelled)
            status = "failed"
            error = error or f"its job ended {job_status or 'without a job'}"
        if status in ENDED or status == SKIPPED:
            advance(cur, request_id, status if status in ENDED else SKIPPED, summary, error)
            moved += 1
    return moved


__all__ = [
    "CHAIN_SQL",
    "ENDED",
    "advance",
    "build_chains",
    "busy_reason",
    "fenced_finish",
    "refuse_waiting",
    "skip_rest",
    "store_chain",
    "submit_chain",
    "sweep",
]

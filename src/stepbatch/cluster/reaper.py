"""Taking over the accounts of workers that stopped answering (SIGKILLed, paused, cut off).

procrastinate never retries a job whose worker died; the reaper (a periodic task, one at a time) does,
but only when nobody can still be working on the account: the job's worker has not sent a heartbeat for
`stale_s` (or is gone) AND the account's lease is not live (released, absent, or not renewed for
`stale_s`, by the database's clock). It also re-queues at once a job whose holder is dead: its lease
not renewed for `lease_s` and its session's advisory lock free (see DEAD_HOLDER_SQL). A worker that is
alive but lost its lease re-queues its job itself.
The re-queue is fenced like every job bookkeeping (`status = 'doing' AND attempts = <seen>`).
"""

from __future__ import annotations

import logging
from typing import Any

from stepbatch.cluster.requests import RUN_TASK

log = logging.getLogger("stepbatch.cluster.reaper")

STALLED_SQL = """
SELECT j.id, j.attempts, r.id AS request_id, r.account, r.step
  FROM procrastinate_jobs j
  JOIN sb_run_request r ON r.job_id = j.id
  LEFT JOIN sb_lease l ON l.account = r.account AND l.step = r.step
  LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
 WHERE j.status = 'doing' AND j.task_name = %(task_name)s
   AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => %(stale_s)s))
   AND (l.account IS NULL OR l.released_at IS NOT NULL
        OR l.renewed_at < now() - make_interval(secs => %(stale_s)s))
"""

# A job whose own holding is silent for longer than `lease_s` and whose holder's session advisory lock is
# free: its process is gone (SIGKILL, a crash), so waiting `stale_s` for the heartbeat would only delay.
# A live holder renews every lease_s/3 and takes its advisory lock again on reconnect (a PostgreSQL
# restart drops them all for a moment), so silence for lease_s plus a free lock means a dead holder.
DEAD_HOLDER_SQL = """
SELECT j.id, j.attempts, r.id AS request_id, r.account, r.step, l.fence
  FROM procrastinate_jobs j
  JOIN sb_run_request r ON r.job_id = j.id
  JOIN sb_lease l ON l.account = r.account AND l.step = r.step
 WHERE j.status = 'doing' AND j.task_name = %(task_name)s
   AND l.released_at IS NULL AND l.holder LIKE '%%:' || j.id::text
   AND l.renewed_at < now() - make_interval(secs => %(lease_s)s)
"""

HOLDER_GONE_SQL = "SELECT pg_try_advisory_xact_lock(%(key)s) AS gone"

REQUEUE_SQL = """
WITH mine AS (SELECT id FROM procrastinate_jobs
               WHERE id = %(job_id)s AND status = 'doing' AND attempts = %(attempts)s FOR UPDATE)
SELECT mine.id, procrastinate_retry_job_v2(mine.id, now(), NULL, NULL, NULL) FROM mine
"""

MARK_REQUEUED_SQL = """
UPDATE sb_run_request SET status = 'queued', worker = NULL, updated_at = now(),
       last_error = %(note)s
 WHERE id = %(request_id)s AND job_id = %(job_id)s AND status = 'running'
"""


async def _dead_holders(connector: Any, lease_s: float) -> list[dict[str, Any]]:
    from stepbatch.state.pg.lease import lock_key

    rows = await connector.execute_query_all_async(
        query=DEAD_HOLDER_SQL, task_name=RUN_TASK, lease_s=float(lease_s)
    )
    dead = []
    for row in rows:
        probe = await connector.execute_query_one_async(
            query=HOLDER_GONE_SQL, key=lock_key(row["account"], int(row["fence"]))
        )
        if probe and probe["gone"]:
            dead.append(row)
    return dead


async def reap_stalled(connector: Any, stale_s: float, lease_s: float | None = None) -> list[int]:
    """Re-queue every stalled account job (and, given `lease_s`, every job whose holder is dead);
    returns their ids."""
    rows = await connector.execute_query_all_async(
        query=STALLED_SQL, task_name=RUN_TASK, stale_s=float(stale_s)
    )
    silent = f"its worker stopped answering for more than {stale_s:g}s"
    notes = {row["id"]: silent for row in rows}
    if lease_s is not None:
        dead = [row for row in await _dead_holders(connector, lease_s) if row["id"] not in notes]
        notes |= {row["id"]: f"its holder is gone (lease silent for more than {lease_s:g}s)" for row in dead}
        rows += dead
    requeued = []
    for row in rows:
        done = await connector.execute_query_all_async(
            query=REQUEUE_SQL, job_id=row["id"], attempts=row["attempts"]
        )
        if not done:
            continue  # finished or re-queued meanwhile
        note = f"taken over: {notes[row['id']]}"
        await connector.execute_query_async(
            query=MARK_REQUEUED_SQL, request_id=row["request_id"], job_id=row["id"], note=note
        )
        log.warning("re-queued job %s (%s/%s): %s", row["id"], row["account"], row["step"], note)
        requeued.append(row["id"])
    return requeued


__all__ = ["STALLED_SQL", "reap_stalled"]

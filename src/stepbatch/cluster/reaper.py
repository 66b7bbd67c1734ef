"""Taking over the accounts of workers that stopped answering (SIGKILLed, paused, cut off).

procrastinate never retries a job whose worker died; the reaper (a periodic task, one at a time) does,
but only when nobody can still be working on the account: the job's worker has not sent a heartbeat for
`stale_s` (or is gone) AND the account's lease is not live (released, absent, or not renewed for
`stale_s`, by the database's clock). A worker that is alive but lost its lease re-queues its job itself.
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


async def reap_stalled(connector: Any, stale_s: float) -> list[int]:
    """Re-queue every stalled account job; returns their ids."""
    rows = await connector.execute_query_all_async(
        query=STALLED_SQL, task_name=RUN_TASK, stale_s=float(stale_s)
    )
    requeued = []
    for row in rows:
        done = await connector.execute_query_all_async(
            query=REQUEUE_SQL, job_id=row["id"], attempts=row["attempts"]
        )
        if not done:
            continue  # finished or re-queued meanwhile
        note = f"taken over: its worker stopped answering for more than {stale_s:g}s"
        await connector.execute_query_async(
            query=MARK_REQUEUED_SQL, request_id=row["request_id"], job_id=row["id"], note=note
        )
        log.warning("re-queued job %s (%s/%s): %s", row["id"], row["account"], row["step"], note)
        requeued.append(row["id"])
    return requeued


__all__ = ["STALLED_SQL", "reap_stalled"]

"""The procrastinate App of the cluster: the account task, the reaper task, and fenced job bookkeeping.

procrastinate does not fence: a worker that was paused and replaced would still mark "its" job finished
(or re-queue it) when it wakes. `FencedJobManager` finishes or retries a job only while it is the attempt
that worker fetched (`status = 'doing' AND attempts = <fetched>`). It is also patient: the queue's own
loops (fetching, heartbeats, LISTEN, periodic defers) ride out a PostgreSQL restart instead of stopping
the worker, and a job's final status is retried until the database is back.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, exceptions, manager, retry
from procrastinate import jobs as jobs_module

from stepbatch.cluster.db import PATIENCE_S
from stepbatch.cluster.requests import ACCOUNT_QUEUE, RUN_TASK
from stepbatch.cluster.schedules import SCHEDULE_LOCK, SCHEDULE_TASK

log = logging.getLogger("stepbatch.cluster")

REAP_TASK = "stepbatch.reap"
REAPER_QUEUE = "stepbatch-reaper"
REAPER_LOCK = "stepbatch/reaper"
DB_RETRY_S = 1.0

_FINISH_IF_CURRENT = """
WITH mine AS (SELECT id FROM procrastinate_jobs
               WHERE id = %(job_id)s AND status = 'doing' AND attempts = %(attempts)s FOR UPDATE)
SELECT procrastinate_finish_job_v1(mine.id, %(status)s::procrastinate_job_status, %(delete_job)s) FROM mine
"""
RETRY_IF_CURRENT = """
WITH mine AS (SELECT id FROM procrastinate_jobs
               WHERE id = %(job_id)s AND status = 'doing' AND attempts = %(attempts)s FOR UPDATE)
SELECT mine.id, procrastinate_retry_job_v2(mine.id, %(retry_at)s, %(priority)s, %(queue)s, %(lock)s)
  FROM mine
"""


class Resumable(Exception):
    """The job stops unfinished and goes back to the queue: a stop request, a lost lease, a busy account."""

    def __init__(self, reason: str, retry_in_s: float = 0.0) -> None:
        super().__init__(reason)
        self.retry_in_s = retry_in_s


class ResumeLater(retry.BaseRetryStrategy):
    """Only `Resumable` re-queues a job (as soon as it may run again); any other error fails it."""

    def get_retry_decision(
        self, *, exception: BaseException, job: jobs_module.Job
    ) -> retry.RetryDecision | None:
        if not isinstance(exception, Resumable):
            return None
        return retry.RetryDecision(retry_in={"seconds": exception.retry_in_s})


class FencedJobManager(manager.JobManager):
    """procrastinate's JobManager, fenced by the fetched attempt and patient with the database."""

    async def finish_job(self, job: jobs_module.Job, status: jobs_module.Status, delete_job: bool) -> None:
        await self._patiently(
            lambda: self.connector.execute_query_async(
                query=_FINISH_IF_CURRENT,
                job_id=job.id,
                attempts=job.attempts,
                status=status.value,
                delete_job=delete_job,
            )
        )

    async def retry_job(
        self,
        job: jobs_module.Job,
        retry_at: datetime.datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        await self._patiently(
            lambda: self.connector.execute_query_async(
                query=RETRY_IF_CURRENT,
                job_id=job.id,
                attempts=job.attempts,
                retry_at=retry_at or datetime.datetime.now(datetime.UTC),
                priority=priority,
                queue=queue,
                lock=lock,
            )
        )

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> jobs_module.Job | None:
        try:
            return await super().fetch_job(queues, worker_id)
        except exceptions.ConnectorException as exc:
            log.warning("cannot fetch jobs now (database unavailable): %s", _cause(exc))
            return None

    async def update_heartbeat(self, worker_id: int) -> None:
        try:
            await super().update_heartbeat(worker_id)
        except exceptions.ConnectorException as exc:
            log.warning("heartbeat skipped (database unavailable): %s", _cause(exc))

    async def defer_periodic_job(
        self, job: jobs_module.Job, periodic_id: str, defer_timestamp: int
    ) -> int | None:
        try:
            return await super().defer_periodic_job(job, periodic_id, defer_timestamp)
        except exceptions.UniqueViolation:
            raise
        except exceptions.ConnectorException as exc:
            log.warning("periodic defer skipped (database unavailable): %s", _cause(exc))
            return None

    async def listen_for_jobs(self, **kwargs: Any) -> None:
        while True:
            try:
                await super().listen_for_jobs(**kwargs)
                return
            except exceptions.ConnectorException as exc:
                log.warning("LISTEN lost (database unavailable), again in %gs: %s", DB_RETRY_S, _cause(exc))
                await asyncio.sleep(DB_RETRY_S)  # waiting for PostgreSQL to come back

    async def unregister_worker(self, worker_id: int) -> None:
        try:
            await super().unregister_worker(worker_id)
        except exceptions.ConnectorException as exc:
            log.warning("could not unregister the worker: %s", _cause(exc))

    async def _patiently(self, call: Callable[[], Awaitable[Any]]) -> None:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                await call()
                return
            except exceptions.ConnectorException as exc:
                if time.monotonic() >= deadline:
                    raise
                log.warning("job status not saved yet (database unavailable): %s", _cause(exc))
                await asyncio.sleep(DB_RETRY_S)  # waiting for PostgreSQL to come back


def _cause(exc: BaseException) -> str:
    inner = exc.__cause__ or exc
    return " ".join(f"{type(inner).__name__}: {inner}".split())[:200]


JobRunner = Callable[[JobContext, int], None]
Reaper = Callable[[App], Awaitable[None]]


def make_app(dsn: str, runner: JobRunner, reaper: Reaper, *, reap_every_s: int = 10) -> App:
    """The App a worker runs: `runner(context, request_id)` per account job, `reaper(app)` periodically,
    and the schedules' check every minute."""
    connector = PsycopgConnector(conninfo=dsn, min_size=1, max_size=6, timeout=10)
    app = App(connector=connector)
    app.job_manager = FencedJobManager(connector=connector)

    @app.task(name=RUN_TASK, queue=ACCOUNT_QUEUE, pass_context=True, retry=ResumeLater())
    def run_request(context: JobContext, request_id: int) -> None:
        runner(context, request_id)

    every = max(1, min(int(reap_every_s), 30))

    # croniter takes seconds as the sixth field: "*/10 * * * * *" would mean every second of every
    # tenth minute (the reaper then sleeps up to ten minutes at a time).
    @app.periodic(cron=f"* * * * * */{every}", periodic_id="reaper")
    @app.task(name=REAP_TASK, queue=REAPER_QUEUE, lock=REAPER_LOCK, queueing_lock=REAPER_LOCK)
    async def reap(timestamp: int) -> None:
        await reaper(app)

    # Schedules (cluster/schedules.py), due minutes claimed in the database: once each, whoever runs it.
    @app.periodic(cron="* * * * *", periodic_id="schedules")
    @app.task(name=SCHEDULE_TASK, queue=REAPER_QUEUE, lock=SCHEDULE_LOCK, queueing_lock=SCHEDULE_LOCK)
    async def fire_schedules(timestamp: int) -> None:
        from stepbatch.cluster.schedules import tick

        try:
            await asyncio.to_thread(tick, dsn, timestamp)
        except Exception:
            log.exception("schedules: this minute's check failed")

    return app


__all__ = [
    "REAPER_QUEUE",
    "REAP_TASK",
    "RETRY_IF_CURRENT",
    "FencedJobManager",
    "Resumable",
    "ResumeLater",
    "make_app",
]

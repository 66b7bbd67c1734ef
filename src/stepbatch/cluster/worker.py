"""`stepbatch worker`: a procrastinate worker whose jobs are account runs on the PostgreSQL backend.

Each job is one `run_account` in a thread of its own, with its own Chromium and run folder under
`--state-dir`, its progress and fenced lease in PostgreSQL. SIGINT/SIGTERM (SIGBREAK) ask every job to
stop at its next product boundary (a second signal kills the browsers); the jobs go back to the queue
and the worker exits once they have. A job whose lease was lost (`LeaseLost`) ends without touching its
request: the worker holding the lease now owns it. A second procrastinate worker in the same process
serves only the reaper's queue, so a take-over never waits for an account slot to free up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import psutil

from stepbatch.cluster.db import PATIENCE_S, redact_dsn, transact
from stepbatch.cluster.requests import ACCOUNT_QUEUE, RunRequestRow, load_request
from stepbatch.engine.errors import LeaseLost
from stepbatch.engine.options import RunOptions
from stepbatch.engine.signals import StopSwitch, install_signal_handlers
from stepbatch.errors import EXIT_OK, UserError

log = logging.getLogger("stepbatch.cluster.worker")

GIB_PER_BROWSER = 0.9  # a Chromium on these pages takes 300-900 MB


@dataclass(frozen=True)
class WorkerSettings:
    dsn: str
    name: str
    concurrency: int
    state_dir: Path
    lease_s: float = 30.0
    stale_s: float = 90.0
    browser: str = "playwright"
    chrome_binary: Path | None = None
    headed: bool = False

    def check(self) -> None:
        if self.concurrency < 1:
            raise UserError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.lease_s <= 0:
            raise UserError(f"--lease-s must be greater than 0, got {self.lease_s:g}")
        if self.stale_s <= self.lease_s:
            raise UserError(
                f"--stale-s ({self.stale_s:g}) must be greater than --lease-s ({self.lease_s:g}): a worker "
                "kills its own browser after --lease-s, before anyone may take its account over"
            )

    @property
    def heartbeat_s(self) -> float:
        return max(0.5, min(10.0, self.stale_s / 4))

    @property
    def reap_every_s(self) -> int:
        return max(1, min(10, int(self.stale_s / 3)))


def default_concurrency() -> int:
    """One job per core, as far as the free memory holds a browser for each; at least one."""
    cores = psutil.cpu_count() or 1
    free_gib = psutil.virtual_memory().available / 2**30
    return max(1, min(cores, int(free_gib / GIB_PER_BROWSER)))


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class JobFailed(Exception):
    """The request cannot run here (its password, its site, its options): the job fails, not retried."""


class AccountJobs:
    """The account task's body (`__call__`), and the stop switches of the jobs running now."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._switches: dict[int, StopSwitch] = {}
        self._stopping: str | None = None
        self._cancelled: set[int] = set()  # jobs an operator cancelled (`stepbatch cancel`)

    def running_jobs(self) -> list[int]:
        with self._lock:
            return list(self._switches)

    def cancel(self, job_id: int) -> None:
        """An operator's cancel (polled by the heartbeat): stop the job at its next product, once."""
        from stepbatch.cluster.control import CANCELLED_BY_OPERATOR

        with self._lock:
            switch = self._switches.get(job_id)
            if switch is None or job_id in self._cancelled:
                return
            self._cancelled.add(job_id)
        log.info("job %s: %s; stopping at the next product", job_id, CANCELLED_BY_OPERATOR)
        switch.request(CANCELLED_BY_OPERATOR)

    def stop_all(self, reason: str) -> None:
        with self._lock:
            self._stopping = reason
            switches = list(self._switches.values())
        for switch in switches:
            switch.request(reason)

    def _attach(self, job_id: int) -> StopSwitch:
        switch = StopSwitch()
        with self._lock:
            self._switches[job_id] = switch
            stopping = self._stopping
        if stopping:
            switch.request(stopping)
        return switch

    def _detach(self, job_id: int) -> None:
        with self._lock:
            self._switches.pop(job_id, None)
            self._cancelled.discard(job_id)

    def __call__(self, context: Any, request_id: int) -> None:
        job = context.job
        dsn = self.settings.dsn
        row = transact(dsn, lambda cur: load_request(cur, request_id), patience_s=PATIENCE_S)
        if row is None:
            log.warning("job %s: request %s is gone; nothing to do", job.id, request_id)
            return
        where = f"job {job.id} ({row.account}/{row.step})"
        self._record(job, request_id, status="running", worker=self.settings.name, last_error=None)
        log.info("%s: started on %s (attempt %s)", where, self.settings.name, job.attempts + 1)
        switch = self._attach(job.id)
        from stepbatch.cluster.live import LiveFeed

        live = LiveFeed(dsn, request_id, job.id, job.attempts)
        try:
            summary = self._run(row, job, switch, live)
        except LeaseLost as exc:
            log.warning(
                "%s: LeaseLost (%s); nothing more recorded, the account is another worker's", where, exc
            )
            from stepbatch.cluster.queue import Resumable

            raise Resumable(f"lease lost: {exc}") from None
        except UserError as exc:
            raise self._busy_or_fail(job, request_id, where, exc) from None
        except Exception as exc:
            self._record(job, request_id, status="failed", last_error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            live.stop()
            cancelled = job.id in self._cancelled
            self._detach(job.id)
        self._conclude(job, request_id, where, summary, stopped=switch.requested, cancelled=cancelled)
        from stepbatch.cluster.run_files import store_run_files_quietly  # for `stepbatch web --db`

        store_run_files_quietly(dsn, request_id, summary.run_dir)

    def _busy_or_fail(self, job: Any, request_id: int, where: str, exc: UserError) -> Exception:
        """What to raise for a one-line error: a busy account waits in the queue, anything else fails."""
        from stepbatch.cluster.queue import Resumable
        from stepbatch.state.lock import AccountBusy

        if isinstance(exc, AccountBusy):
            log.warning("%s: %s; back to the queue", where, exc)
            return Resumable(str(exc), retry_in_s=min(self.settings.stale_s / 3, 10.0))
        log.error("%s: failed: %s", where, exc)
        self._record(job, request_id, status="failed", last_error=str(exc))
        return JobFailed(str(exc))

    def _conclude(
        self, job: Any, request_id: int, where: str, summary: Any, *, stopped: bool, cancelled: bool = False
    ) -> None:
        from stepbatch.cluster.control import CANCELLED_BY_OPERATOR, finished_status
        from stepbatch.cluster.queue import Resumable

        data = json.loads(json.dumps(summary.to_dict(), ensure_ascii=False, default=str))
        if cancelled and summary.outcome in ("interrupted", "stopped"):  # finished, not re-queued
            self._record(job, request_id, status="stopped", worker=None, summary=data,
                         last_error=CANCELLED_BY_OPERATOR)  # fmt: skip
            log.info("%s: stopped (%s); `stepbatch requeue` resumes it", where, CANCELLED_BY_OPERATOR)
            return
        if stopped and summary.outcome == "interrupted":
            self._record(job, request_id, status="queued", worker=None, summary=data)
            log.info("%s: stopped (%s); back to the queue", where, summary.stop_reason)
            raise Resumable(f"worker stopping: {summary.stop_reason}")
        ok = summary.exit_code == 0
        error = None if ok else (summary.errors[0] if summary.errors else summary.message)
        self._record(job, request_id, status=finished_status(summary), summary=data, last_error=error)
        log.info(
            "%s: %s, %s products done, %s failed (exit %s)",
            where,
            summary.outcome,
            summary.items_done,
            summary.items_failed,
            summary.exit_code,
        )

    def _record(self, job: Any, request_id: int, **values: Any) -> None:
        from stepbatch.cluster.chains import fenced_finish  # an end also moves the request's chain on

        transact(
            self.settings.dsn,
            lambda cur: fenced_finish(cur, request_id, job.id, job.attempts, **values),
            patience_s=PATIENCE_S,
        )

    def _run(self, row: RunRequestRow, job: Any, switch: StopSwitch, live: Any = None) -> Any:
        from stepbatch.app.preflight import translation_gate
        from stepbatch.app.run import RunRequest, account_rig
        from stepbatch.engine.runner import run_account
        from stepbatch.report.html import write_report_quietly
        from stepbatch.state.pg.backend import PgBackend

        s = self.settings
        account = row.account_with(read_password(row.password_ref, row.account))
        options = run_options(row.options, row.step)
        run_req = RunRequest(
            step=row.step,
            workbook=Path(row.workbook_name),
            account=account.email,
            server=row.server,
            base_url=row.base_url,
            state_dir=s.state_dir,
            options=options,
            headed=s.headed,
            chrome_binary=s.chrome_binary,
            browser=s.browser,
        )
        rig = account_rig(run_req, account)
        if rig.killed:
            log.info("ended %s leftover browser process(es) of %s", len(rig.killed), account.nickname)
        backend = PgBackend(s.dsn, holder=f"{s.name}:{job.id}", lease_s=s.lease_s, stale_s=s.stale_s)
        summary = run_account(
            state_dir=s.state_dir,
            account=account,
            step=row.step,
            server=row.server,
            units=row.unit_list(),
            processor=rig.processor,
            browser_factory=rig.browser_factory,
            options=options,
            handle_signals=False,
            resume_hint=f"stepbatch submit {row.step} --accounts {account.nickname} …",
            skipped_rows=row.skipped_rows,
            translation_gate=translation_gate(row.step, options.translate_all),
            backend=backend,
            stop_switch=switch,
            listeners=[live] if live is not None else (),
        )
        report = write_report_quietly(summary.run_dir)
        if live is not None:
            live.close(run_dir=str(summary.run_dir), report=str(report) if report else None)
        return summary


def run_options(stored: dict[str, Any], step: str) -> RunOptions:
    known = {f.name for f in fields(RunOptions)}
    return RunOptions(**{k: v for k, v in stored.items() if k in known and k != "step"}, step=step)


def read_password(ref: dict[str, str], nickname: str) -> str:
    """The password a request points to: an environment variable, or one cell of this machine's workbook."""
    if "env" in ref:
        value = os.environ.get(ref["env"])
        if not value:
            raise UserError(f"the password of {nickname} comes from ${ref['env']}, not set on this worker")
        return value
    from stepbatch.workbook import load_workbook

    path = Path(ref["workbook"])
    if not path.is_file():
        raise UserError(f"{path}: the workbook holding the password of {nickname} is not on this worker")
    return load_workbook(path).account(ref.get("account", nickname)).password.reveal()


# --- the process -----------------------------------------------------------------------------------------


def run_worker(settings: WorkerSettings) -> int:
    """Serve jobs until SIGINT/SIGTERM; then let the jobs stop, re-queue them and return."""
    settings.check()
    if sys.platform == "win32":  # psycopg's async connections need the selector loop on Windows
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())  # type: ignore[attr-defined]
    _check_database(settings.dsn)
    Path(settings.state_dir).mkdir(parents=True, exist_ok=True)
    log.info(
        "worker %s: concurrency %s, lease %gs, stale after %gs, state %s, db %s",
        settings.name,
        settings.concurrency,
        settings.lease_s,
        settings.stale_s,
        settings.state_dir,
        redact_dsn(settings.dsn),
    )
    asyncio.run(_serve(settings))
    log.info("worker %s: stopped", settings.name)
    return EXIT_OK


def _check_database(dsn: str) -> None:
    from stepbatch.cluster.submit import require_schema

    transact(dsn, require_schema)


async def _serve(settings: WorkerSettings) -> None:
    from procrastinate.worker import Worker

    from stepbatch.cluster.heartbeat import Heartbeat
    from stepbatch.cluster.queue import REAPER_QUEUE, make_app
    from stepbatch.cluster.reaper import reap_stalled

    jobs = AccountJobs(settings)
    beat = Heartbeat(settings.dsn, settings.name, settings.concurrency, running_jobs=jobs.running_jobs,
                     cancel=jobs.cancel, every_s=min(5.0, settings.heartbeat_s)).start()  # fmt: skip

    async def reaper(app: Any) -> None:
        await reap_stalled(app.connector, settings.stale_s, settings.lease_s)

    app = make_app(settings.dsn, jobs, reaper, reap_every_s=settings.reap_every_s)
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=settings.concurrency + 2))
    common: dict[str, Any] = {
        "install_signal_handlers": False,
        "update_heartbeat_interval": settings.heartbeat_s,
        "stalled_worker_timeout": settings.stale_s,
        "fetch_job_polling_interval": 1.0,
    }
    async with app.open_async():
        workers = [
            Worker(
                app, queues=[ACCOUNT_QUEUE], name=settings.name, concurrency=settings.concurrency, **common
            ),
            Worker(app, queues=[REAPER_QUEUE], name=f"{settings.name}/reaper", concurrency=1, **common),
        ]

        def stop(reason: str) -> None:
            log.info(
                "worker %s: %s: stopping; running jobs finish their product and go back",
                settings.name,
                reason,
            )
            jobs.stop_all(reason)
            for worker in workers:
                worker.stop()

        def on_signal(signum: int, _frame: Any) -> None:
            loop.call_soon_threadsafe(stop, f"signal {signal.Signals(signum).name}")

        restore = install_signal_handlers(on_signal)
        log.info("worker %s: ready", settings.name)
        try:
            await asyncio.gather(*(worker.run() for worker in workers))
        finally:
            if restore is not None:
                restore()
            beat.close()


__all__ = ["AccountJobs", "WorkerSettings", "default_concurrency", "default_name", "run_worker"]

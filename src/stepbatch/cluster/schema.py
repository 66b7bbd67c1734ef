"""stepbatch's cluster tables, as migrations applied after the progress tables (versions 100+).

A run request holds everything a worker on another machine needs, except the password: `password_ref`
names where the worker finds it (an environment variable, or one cell of its own copy of the workbook).
"""

from __future__ import annotations

from stepbatch.cluster.chains import CHAIN_SQL
from stepbatch.cluster.run_files import RUN_FILES_SQL
from stepbatch.cluster.schedules import SCHEDULE_SQL

RUN_REQUEST_SQL = """
CREATE TABLE IF NOT EXISTS sb_run_request (
    id            bigserial PRIMARY KEY,
    account       text NOT NULL,
    step          text NOT NULL,
    server        text,
    base_url      text NOT NULL,
    login         jsonb NOT NULL,
    units         jsonb NOT NULL,
    options       jsonb NOT NULL,
    skipped_rows  jsonb NOT NULL DEFAULT '[]'::jsonb,
    password_ref  jsonb NOT NULL,
    workbook_name text NOT NULL,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    job_id        bigint,
    status        text NOT NULL DEFAULT 'queued',
    worker        text,
    last_error    text,
    summary       jsonb,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sb_run_request_account_step ON sb_run_request (account, step, id);
CREATE INDEX IF NOT EXISTS sb_run_request_job ON sb_run_request (job_id);
"""

# 101: the control plane. `cancel_requested_at` (an operator asked a running request to stop; its worker
# stops it at the next product boundary), `live` (the run's ProgressModel.snapshot(), written by its
# worker every few seconds), and `sb_worker` (one row per worker process, its heartbeat and browsers).
CONTROL_SQL = """
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS cancel_requested_at timestamptz;
ALTER TABLE sb_run_request ADD COLUMN IF NOT EXISTS live jsonb;
CREATE TABLE IF NOT EXISTS sb_worker (
    name          text PRIMARY KEY,
    host          text,
    pid           integer,
    concurrency   integer,
    jobs_running  integer,
    browsers_open integer,
    memory_mb     real,
    started_at    timestamptz,
    heartbeat_at  timestamptz
);
"""

CLUSTER_MIGRATIONS: list[tuple[int, str, str]] = [
    (100, "cluster_run_request", RUN_REQUEST_SQL),
    (101, "cluster_control", CONTROL_SQL),
]
CLUSTER_MIGRATIONS.append((102, "cluster_chains_schedules", CHAIN_SQL + SCHEDULE_SQL))  # chains, schedules
CLUSTER_MIGRATIONS.append((103, "cluster_run_files", RUN_FILES_SQL))  # finished runs' reports, for the page

# No CHECK constraint on the status column: later migrations may add states (a chain's `skipped`).
# partial: the run ended with some codes or products failed and the rest done.
# stopped: cancelled by an operator (`stepbatch cancel`); its progress is kept for `stepbatch requeue`.
REQUEST_STATUSES = ("queued", "running", "done", "partial", "failed", "stopped")
FINISHED_STATUSES = ("done", "partial", "failed", "stopped")
REQUEUEABLE_STATUSES = ("failed", "partial", "stopped")

__all__ = [
    "CLUSTER_MIGRATIONS",
    "CONTROL_SQL",
    "FINISHED_STATUSES",
    "REQUEST_STATUSES",
    "REQUEUEABLE_STATUSES",
    "RUN_REQUEST_SQL",
]

"""stepbatch's tables in PostgreSQL: versioned migrations, each applied once, in order.

`stepbatch_schema(version, name, applied_at)` records what was applied. `apply_migrations` runs in one
transaction under a transaction-level advisory lock, so workers starting at once apply each migration
exactly once and never see half a schema. Versions 1–99 are the state tables (here); the cluster's
tables (procrastinate jobs' requests) come as `extra` with versions 100 and up.

Tables of 0001 (the scope of a progress store is account × step × server, server '' when none):
- `sb_lease`: one row per account; `fence` increments at every new holding (see `lease.py`).
- `sb_progress`: the store's meta (cycle, complete, completed_at, totals, …) as jsonb.
- `sb_unit`, `sb_item`, `sb_run`: one row per unit / item / run, the record as jsonb; `seq` keeps the
  order items and runs were first written in.
- `sb_progress_archive`: the whole store as one jsonb document at each `mark_complete` (per cycle).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

_LOCK_KEY = 0x5B5C4E4D  # pg_advisory_xact_lock key of stepbatch's migrations

_0001 = """
CREATE TABLE sb_lease (
    account     text PRIMARY KEY,
    step        text NOT NULL,
    holder      text NOT NULL,
    fence       bigint NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    renewed_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz
);
CREATE TABLE sb_progress (
    account    text NOT NULL,
    step       text NOT NULL,
    server     text NOT NULL,
    meta       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, step, server)
);
CREATE TABLE sb_unit (
    account  text NOT NULL,
    step     text NOT NULL,
    server   text NOT NULL,
    unit_key text NOT NULL,
    ord      integer NOT NULL,
    record   jsonb NOT NULL,
    PRIMARY KEY (account, step, server, unit_key),
    FOREIGN KEY (account, step, server) REFERENCES sb_progress ON DELETE CASCADE
);
CREATE TABLE sb_item (
    account  text NOT NULL,
    step     text NOT NULL,
    server   text NOT NULL,
    unit_key text NOT NULL,
    item_id  text NOT NULL,
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    record   jsonb NOT NULL,
    PRIMARY KEY (account, step, server, unit_key, item_id),
    FOREIGN KEY (account, step, server, unit_key) REFERENCES sb_unit ON DELETE CASCADE
);
CREATE TABLE sb_run (
    account text NOT NULL,
    step    text NOT NULL,
    server  text NOT NULL,
    run_id  text NOT NULL,
    seq     bigint GENERATED ALWAYS AS IDENTITY,
    record  jsonb NOT NULL,
    PRIMARY KEY (account, step, server, run_id),
    FOREIGN KEY (account, step, server) REFERENCES sb_progress ON DELETE CASCADE
);
CREATE TABLE sb_progress_archive (
    account     text NOT NULL,
    step        text NOT NULL,
    server      text NOT NULL,
    cycle       integer NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now(),
    state       jsonb NOT NULL,
    PRIMARY KEY (account, step, server, cycle)
);
"""

MIGRATIONS: list[tuple[int, str, str]] = [(1, "progress", _0001)]

_applied_here: set[str] = set()  # DSNs this process already brought up to date


def apply_migrations(conn: psycopg.Connection, extra: Sequence[tuple[int, str, str]] = ()) -> list[int]:
    """Apply the migrations (and `extra`) not applied yet, in version order; returns those applied now.

    Idempotent; commits. Raises ValueError when two migrations share a version.
    """
    wanted = sorted([*MIGRATIONS, *extra])
    versions = [version for version, _, _ in wanted]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {versions}")
    applied_now: list[int] = []
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            cur.execute(
                "CREATE TABLE IF NOT EXISTS stepbatch_schema ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in cur.execute("SELECT version FROM stepbatch_schema")}
            for version, name, sql in wanted:
                if version in done:
                    continue
                cur.execute(sql)  # type: ignore[arg-type]  # our own constant SQL
                cur.execute("INSERT INTO stepbatch_schema (version, name) VALUES (%s, %s)", [version, name])
                applied_now.append(version)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return applied_now


def ensure_schema(conn: psycopg.Connection, dsn: str) -> None:
    """The state tables exist (applied once per database and process; cheap afterwards)."""
    if dsn not in _applied_here:
        apply_migrations(conn)
        _applied_here.add(dsn)

"""`stepbatch db init`: procrastinate's schema (once), then stepbatch's versioned migrations."""

from __future__ import annotations

from contextlib import closing

from stepbatch.cluster.db import connect
from stepbatch.cluster.schema import CLUSTER_MIGRATIONS

_INIT_LOCK = 0x5B5C4E4E  # pg_advisory_xact_lock key: two `db init` at once apply procrastinate's schema once


def init_database(dsn: str) -> tuple[bool, list[int]]:
    """Returns (procrastinate's schema applied now, stepbatch migration versions applied now)."""
    from procrastinate.schema import SchemaManager

    from stepbatch.state.pg.migrations import apply_migrations

    with closing(connect(dsn)) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_INIT_LOCK,))
            cur.execute("SELECT to_regclass('procrastinate_jobs')")
            fresh = cur.fetchone()[0] is None
            if fresh:
                cur.execute(SchemaManager.get_schema())
        conn.commit()
        applied = apply_migrations(conn, extra=CLUSTER_MIGRATIONS)
    return fresh, applied


__all__ = ["init_database"]

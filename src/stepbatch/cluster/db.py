"""Short transactions on the cluster database, patient with a PostgreSQL that restarts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any, TypeVar

from stepbatch.errors import UserError

T = TypeVar("T")
log = logging.getLogger("stepbatch.cluster")

PATIENCE_S = 60.0  # how long a worker keeps retrying a transaction while the database is away
RETRY_EVERY_S = 1.0


def connect(dsn: str, *, timeout_s: float = 10) -> Any:
    from stepbatch.state.pg.connect import connect as pg_connect

    return pg_connect(dsn, timeout_s=timeout_s)


def redact_dsn(dsn: str) -> str:
    from stepbatch.state.pg.connect import redact_dsn as pg_redact

    return pg_redact(dsn)


def transact(dsn: str, work: Callable[[Any], T], *, patience_s: float = 0.0) -> T:
    """`work(cursor)` in one transaction, committed; retried for `patience_s` on a lost connection."""
    import psycopg

    deadline = time.monotonic() + patience_s
    while True:
        try:
            with closing(connect(dsn, timeout_s=5)) as conn:
                with conn.cursor() as cur:
                    result = work(cur)
                conn.commit()
                return result
        except (psycopg.OperationalError, UserError) as exc:
            if isinstance(exc, UserError) and not _unreachable(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            log.warning("database unavailable, retrying: %s", _one_line(exc, dsn))
            time.sleep(RETRY_EVERY_S)  # waiting for PostgreSQL to come back, not for another thread


def _unreachable(exc: UserError) -> bool:
    return "connect" in str(exc).lower()


def _one_line(exc: BaseException, dsn: str) -> str:
    text = " ".join(str(exc).split())
    return text.replace(dsn, redact_dsn(dsn))


__all__ = ["PATIENCE_S", "connect", "redact_dsn", "transact"]

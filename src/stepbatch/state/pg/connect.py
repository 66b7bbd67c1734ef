"""Connecting to PostgreSQL: one place for the connection options, and DSNs without their password.

A connection is opened with `autocommit=False` (every write is an explicit transaction) and TCP
keepalives plus `tcp_user_timeout`, so a server that vanished from the network (not only one that
closed the socket) breaks the connection within seconds instead of hanging a renewal or a write.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict

from stepbatch.errors import UserError

log = logging.getLogger(__name__)

_URL_PASSWORD = re.compile(r"(://[^:/@?#]*:)([^@/?#]*)(@)")
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)

_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms: unacknowledged data for this long → the connection is broken
}


def redact_dsn(dsn: str) -> str:
    """The DSN with its password (URL user info, `password=` keyword or query parameter) as ***."""
    out = _URL_PASSWORD.sub(r"\1***\3", dsn)
    out = _QUERY_PASSWORD.sub(r"\1***", out)
    return _KEYWORD_PASSWORD.sub(r"\1***", out)


def scrub(message: str, dsn: str) -> str:
    """`message` with the DSN's password removed wherever it appears (a driver error may quote it)."""
    password = _password_of(dsn)
    return message.replace(password, "***") if password else message


def _password_of(dsn: str) -> str | None:
    try:
        return conninfo_to_dict(dsn).get("password") or None  # type: ignore[return-value]
    except psycopg.ProgrammingError:
        return None


# A lease holder's transaction (the fence check row-locks the account's lease) that goes this long without
# a word from its client belongs to a paused or hung process: the server ends that session, so the lock
# does not block the worker taking the account over (the paused one, resumed, finds its write refused).
IDLE_IN_TRANSACTION_S = 10.0


def open_connection(dsn: str, *, timeout_s: float = 10, holder: bool = False) -> psycopg.Connection:
    """A new connection; raises psycopg.OperationalError (callers that retry use this one). `holder`: a
    lease holder's connection, whose idle transactions the server ends (`IDLE_IN_TRANSACTION_S`)."""
    conn = psycopg.connect(dsn, autocommit=False, connect_timeout=max(1, round(timeout_s)), **_KEEPALIVE)
    if holder:
        try:
            conn.execute(f"SET idle_in_transaction_session_timeout = {int(IDLE_IN_TRANSACTION_S * 1000)}")
            conn.commit()
        except BaseException:
            conn.close()
            raise
    return conn


def connect(dsn: str, *, timeout_s: float = 10, holder: bool = False) -> psycopg.Connection:
    """A new connection (`autocommit=False`); UserError naming the redacted DSN when it cannot connect."""
    try:
        return open_connection(dsn, timeout_s=timeout_s, holder=holder)
    except psycopg.Error as exc:
        reason = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, dsn)
        raise UserError(f"cannot connect to PostgreSQL at {redact_dsn(dsn)}: {reason}") from None


Work = Callable[[psycopg.Cursor[Any]], None]


class Session:
    """One connection that reopens itself: `transaction(work)` runs `work` in one transaction and, when
    the connection drops (the server restarted, the network blinked), reconnects and runs it again for
    up to `retry_s`. `work` must be safe to run twice (a COMMIT's answer may be what was lost)."""

    def __init__(
        self, dsn: str, *, retry_s: float = 60.0, conn: psycopg.Connection | None = None, holder: bool = False
    ) -> None:
        self.dsn = dsn
        self.retry_s = retry_s
        self.holder = holder  # reconnect as a lease holder (see open_connection)
        self._conn = conn

    def connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self.close()
            self._conn = open_connection(self.dsn, holder=self.holder)
        return self._conn

    def transaction(self, work: Work) -> None:
        deadline = time.monotonic() + self.retry_s
        delay = 0.1
        while True:
            try:
                conn = self.connection()
                with conn.cursor() as cur:
                    work(cur)
                conn.commit()
                return
            except (psycopg.OperationalError, psycopg.errors.IdleInTransactionSessionTimeout) as exc:
                # the connection is gone (an idle transaction ended by the server included): again, anew
                self.rollback()
                message = scrub(str(exc).strip(), self.dsn)
                if time.monotonic() + delay > deadline:
                    raise UserError(
                        f"lost PostgreSQL at {redact_dsn(self.dsn)} and could not write "
                        f"for {self.retry_s:.0f} s: {message}"
                    ) from None
                log.info("a write to PostgreSQL failed (%s); retrying", message)
                time.sleep(delay)  # back-off between reconnection attempts
                delay = min(delay * 2, 2.0)
            except BaseException:
                self.rollback()
                raise

    def rollback(self) -> None:
        if self._conn is None:
            return
        if self._conn.closed or self._conn.broken:
            self.close()
            return
        try:
            self._conn.rollback()
        except psycopg.Error:
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

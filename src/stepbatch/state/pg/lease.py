"""`PgLease`: an account's lease in PostgreSQL, fenced, renewed in the background, losable.

One `sb_lease` row per account (one run of an account at a time, whatever its step, as with the file
lock). Every new holding increments the row's `fence`; a holder proves it still holds the account by
its (holder, fence) pair in the same transaction as each progress write (`check`), which row-locks the
lease so a take-over cannot interleave with the write. A paused or partitioned worker therefore cannot
record anything once another worker took the account over, nor once its own lease expired by the
database's clock (`renewed_at` older than `lease_s`), even before anyone took it over.

Taking a held lease over:
- when its `renewed_at` is older than `stale_s` (a paused, hung or cut-off holder), or
- at once when the holder's process is gone: each holding keeps a session-level advisory lock (keyed
  by account and fence) on its own connection, which PostgreSQL frees when that connection closes, as
  the OS frees a file lock when its process dies. A holder whose connection merely dropped (the server
  restarted) takes it again when it reconnects; if another worker took the account over meanwhile,
  the fence says so and the holder's next renewal or write is refused.

The renewal thread (`watch`) renews every `renew_every_s`; a refused renewal, or none that succeeded
for `lease_s` (database unreachable, process paused), calls `on_lost(reason)` at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import psycopg.errors

from stepbatch.contracts.errors import LeaseLost
from stepbatch.errors import UserError
from stepbatch.state.lock import AccountBusy
from stepbatch.state.pg.connect import connect, open_connection, scrub
from stepbatch.state.pg.migrations import ensure_schema
from stepbatch.state.store import AccountLease

log = logging.getLogger(__name__)

BUSY_WAIT_S = 0.5  # how long a holder's advisory lock is waited for (a just-killed holder's may linger)
_JOIN_S = 15.0
RELEASE_RETRY_S = 10.0  # a release on a dropped connection is tried again on new ones this long

_RENEW = """UPDATE sb_lease SET renewed_at = now()
 WHERE account = %(account)s AND holder = %(holder)s AND fence = %(fence)s AND released_at IS NULL
   AND renewed_at > now() - make_interval(secs => %(lease_s)s)
 RETURNING fence"""

_CURRENT = """SELECT step, holder, fence, released_at IS NOT NULL,
        renewed_at < now() - make_interval(secs => %(stale_s)s),
        extract(epoch FROM now() - renewed_at)::float8
   FROM sb_lease WHERE account = %(account)s"""


def lock_key(account: str, fence: int) -> int:
    """The advisory lock key of one holding (64 bits: a collision between accounts is negligible)."""
    digest = hashlib.blake2b(f"stepbatch-lease\0{account}\0{fence}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PgLease(AccountLease):
    """The lease of one account (for one step's run), held by `holder` ("<worker>:<job id>")."""

    def __init__(
        self,
        dsn: str,
        account: str,
        step: str,
        *,
        holder: str,
        lease_s: float = 30.0,
        stale_s: float = 90.0,
        renew_every_s: float | None = None,
    ) -> None:
        if not 0 < lease_s <= stale_s:
            raise ValueError(f"need 0 < lease_s <= stale_s (got lease_s={lease_s}, stale_s={stale_s})")
        self.dsn = dsn
        self.account = account
        self.step = step
        self.holder = holder
        self.lease_s = float(lease_s)
        self.stale_s = float(stale_s)
        self.renew_every_s = float(renew_every_s) if renew_every_s else self.lease_s / 3
        self.fence: int | None = None
        self.lost = False
        self.lost_reason: str | None = None
        self._released = False
        self._conn: psycopg.Connection | None = None
        self._conn_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._callbacks: list[Callable[[str], None]] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._last_ok = 0.0  # monotonic time a successful renewal (or the acquire) started

    @property
    def held(self) -> bool:
        """Acquired, not released and not known to be lost (a write may still find it expired)."""
        return self.fence is not None and not self._released and not self.lost

    # -- acquire / release -------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the account: free, released, stale, or its holder's connection gone; else AccountBusy."""
        if self.held:
            raise RuntimeError(f"the lease of account {self.account} is already held by this object")
        started = time.monotonic()
        conn = connect(self.dsn, holder=True)
        try:
            ensure_schema(conn, self.dsn)
            fence = self._take(conn)
        except BaseException:
            conn.close()
            raise
        with self._state_lock:
            self._conn, self.fence, self._last_ok = conn, fence, started
            self._released, self.lost, self.lost_reason = False, False, None
            self._stop = threading.Event()

    def _take(self, conn: psycopg.Connection) -> int:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO sb_lease (account, step, holder, fence, released_at)"
                " VALUES (%s, %s, '', 0, now()) ON CONFLICT (account) DO NOTHING",
                [self.account, self.step],
            )
            row = cur.execute(
                _CURRENT + " FOR UPDATE", {"account": self.account, "stale_s": self.stale_s}
            ).fetchone()
            assert row is not None
            step, holder, fence, released, stale, age = row
            if not (released or stale) and self._holder_alive(conn, cur, fence):
                conn.rollback()
                raise AccountBusy(
                    f"account {self.account} is already running {step} "
                    f"(holder {holder}, last heartbeat {age:.0f} s ago)"
                )
            new = int(fence) + 1
            cur.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(self.account, new)])
            cur.execute(
                "UPDATE sb_lease SET step = %s, holder = %s, fence = %s, acquired_at = now(),"
                " renewed_at = now(), released_at = NULL WHERE account = %s",
                [self.step, self.holder, new, self.account],
            )
        conn.commit()
        if not released:
            how = "stale" if stale else "its holder's connection is gone"
            log.warning("took over the lease of %s from %s (%s; fence %s)", self.account, holder, how, new)
        return new

    def _holder_alive(self, conn: psycopg.Connection, cur: psycopg.Cursor[Any], fence: int) -> bool:
        try:
            with conn.transaction():  # a savepoint: a timeout leaves the outer transaction usable
                cur.execute(f"SET LOCAL lock_timeout = '{int(BUSY_WAIT_S * 1000)}ms'")
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(self.account, fence)])
        except psycopg.errors.LockNotAvailable:
            return True
        return False

    def release(self) -> None:
        """Give the account back, only if the fence is still ours. Never raises LeaseLost."""
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=_JOIN_S)
        self._threads = []
        if self.fence is None or self._released:
            return
        self._released = True
        if not self._conn_lock.acquire(timeout=_JOIN_S):
            log.warning(
                "could not release the lease of account %s (busy); it frees itself once stale", self.account
            )
            return
        try:
            self._write_release()
        except (psycopg.Error, OSError) as exc:
            log.warning(
                "could not release the lease of account %s (%s); it frees itself once stale",
                self.account,
                scrub(str(exc), self.dsn),
            )
        finally:
            self._close()
            self._conn_lock.release()

    def _write_release(self) -> None:
        """The fenced release, again on a new connection while the old one turns out dead (the server
        restarted since the last renewal) for up to `RELEASE_RETRY_S`: the update is idempotent."""
        deadline = time.monotonic() + RELEASE_RETRY_S
        while True:
            try:
                conn = self._connection()
                with conn.cursor() as cur:
                    cur.execute(
                        "UPDATE sb_lease SET released_at = now() WHERE account = %(account)s"
                        " AND holder = %(holder)s AND fence = %(fence)s AND released_at IS NULL",
                        self._params(),
                    )
                conn.commit()
                return
            except psycopg.OperationalError:
                self._close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def __enter__(self) -> PgLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- the fence -----------------------------------------------------------------------------------

    def check(self, cur: psycopg.Cursor[Any]) -> None:
        """Inside a write transaction: still ours and not expired (renewed now), or LeaseLost."""
        if self.lost:
            raise LeaseLost(self.lost_reason or f"the lease of account {self.account} was lost")
        if self.fence is None or self._released:
            raise LeaseLost(f"the lease of account {self.account} is not held")
        if cur.execute(_RENEW, self._params()).fetchone() is None:
            reason = self._why_refused(cur)
            self._mark_lost(reason)
            raise LeaseLost(reason)

    def _params(self) -> dict[str, Any]:
        return {"account": self.account, "holder": self.holder, "fence": self.fence, "lease_s": self.lease_s}

    def _why_refused(self, cur: psycopg.Cursor[Any]) -> str:
        row = cur.execute(_CURRENT, {"account": self.account, "stale_s": self.stale_s}).fetchone()
        if row is None:
            return f"the lease of account {self.account} is gone"
        _, holder, fence, released, _, age = row
        if fence != self.fence or holder != self.holder:
            return f"account {self.account} was taken over by {holder} (fence {fence}, ours {self.fence})"
        if released:
            return f"the lease of account {self.account} was released"
        return (
            f"the lease of account {self.account} expired: not renewed for {age:.0f} s "
            f"(lease {self.lease_s:g} s)"
        )

    # -- renewal ---------------------------------------------------------------------------------------

    def watch(self, on_lost: Callable[[str], None]) -> None:
        """Renew in the background; `on_lost(reason)` (from the lease's thread) once it is lost."""
        with self._state_lock:
            self._callbacks.append(on_lost)
            lost, reason = self.lost, self.lost_reason
            start = not lost and self.held and not self._threads
            if start:
                name = f"lease-{self.account}"
                self._threads = [
                    threading.Thread(target=self._renew_loop, name=f"{name}-renew", daemon=True),
                    threading.Thread(target=self._deadline_loop, name=f"{name}-deadline", daemon=True),
                ]
        if lost:
            _call(on_lost, reason or "lost")
        if start:
            for thread in self._threads:
                thread.start()

    def _renew_loop(self) -> None:
        stop, wait = self._stop, self.renew_every_s
        while not stop.wait(wait) and not self.lost:
            started = time.monotonic()
            try:
                refused = self._renew_once()
            except (psycopg.Error, UserError, OSError) as exc:
                log.info("renewing the lease of %s failed (%s)", self.account, scrub(str(exc), self.dsn))
                self._drop()
                wait = min(1.0, self.renew_every_s)
                continue
            if refused:
                self._mark_lost(refused)
                return
            self._last_ok = max(self._last_ok, started)
            wait = self.renew_every_s

    def _renew_once(self) -> str | None:
        with self._conn_lock:
            conn = self._connection()
            try:
                with conn.cursor() as cur:
                    row = cur.execute(_RENEW, self._params()).fetchone()
                    refused = None if row is not None else self._why_refused(cur)
                conn.commit()
            except BaseException:
                self._rollback()
                raise
            return refused

    def _deadline_loop(self) -> None:
        stop, tick = self._stop, min(0.25, self.lease_s / 10)
        while not stop.wait(tick) and not self.lost:
            silent = time.monotonic() - self._last_ok
            if silent >= self.lease_s:
                self._mark_lost(
                    f"the lease of account {self.account} could not be renewed for {silent:.0f} s "
                    f"(lease {self.lease_s:g} s)"
                )
                return

    def _mark_lost(self, reason: str) -> None:
        with self._state_lock:
            if self.lost:
                return
            self.lost, self.lost_reason = True, reason
            callbacks = list(self._callbacks)
        log.warning("%s", reason)
        for callback in callbacks:
            _call(callback, reason)

    # -- the lease's own connection (callers hold _conn_lock) ---------------------------------------

    def _connection(self) -> psycopg.Connection:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        self._close()
        conn = open_connection(self.dsn, timeout_s=min(10.0, max(1.0, self.renew_every_s)), holder=True)
        try:  # a new session: take this holding's advisory lock again (see the module's doc)
            conn.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(self.account, self.fence or 0)])
            conn.commit()
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _rollback(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.rollback()
            except psycopg.Error:
                self._close()

    def _drop(self) -> None:
        with self._conn_lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def _call(callback: Callable[[str], None], reason: str) -> None:
    try:
        callback(reason)
    except Exception:
        log.exception("a lease-lost callback failed")

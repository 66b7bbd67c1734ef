"""`PgBackend`: progress and account leases in one PostgreSQL database (several machines share it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from stepbatch.state.pg.lease import PgLease
from stepbatch.state.pg.store import PgProgressStore

log = logging.getLogger(__name__)


@dataclass
class PgBackend:
    """A `StateBackend` on PostgreSQL. `holder` names this worker and job ("<worker>:<job id>").

    `open_store` writes under the lease this backend handed out last for that account × step (the engine
    enters `lease()` first); without one held, the store takes a lease of its own, renews it and
    releases it at `close()`, so every progress write is fenced either way.
    """

    dsn: str
    holder: str
    lease_s: float = 30.0
    stale_s: float = 90.0
    _leases: dict[tuple[str, str], PgLease] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def lease(self, account: str, step: str) -> PgLease:
        lease = PgLease(
            self.dsn, account, step, holder=self.holder, lease_s=self.lease_s, stale_s=self.stale_s
        )
        self._leases[(account, step)] = lease
        return lease

    def open_store(
        self, account: str, step: str, server: str | None, *, compact_every: int | None = None
    ) -> PgProgressStore:
        """The store, fenced by the lease (compact_every means nothing here: commits are rows)."""
        lease = self._leases.get((account, step))
        if lease is not None and lease.held:
            return PgProgressStore.open(self.dsn, account, step, server, lease=lease)
        own = self.lease(account, step)
        own.acquire()
        own.watch(lambda reason: log.warning("progress store of %s: %s", account, reason))
        try:
            store = PgProgressStore.open(self.dsn, account, step, server, lease=own)
        except BaseException:
            own.release()
            raise
        store.owns_lease = True
        return store

    def read_store(self, account: str, step: str, server: str | None) -> PgProgressStore:
        """The store read-only (status, report): no lease, and every write raises RuntimeError."""
        return PgProgressStore.open(self.dsn, account, step, server, lease=None, readonly=True)

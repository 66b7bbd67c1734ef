"""The progress store and the account lock as interfaces; backends implement them.

A backend is chosen where a run is wired together (`app/`); the engine sees only these Protocols.
Today's backends: `state.file_store.FileProgressStore` (snapshot + fsynced journal, one machine) and
`state.lock.AccountLock` (filelock). A new backend passes `tests/state/test_state_store_contract.py`
and `tests/state/test_state_lease_contract.py` (parametrized over every backend; a backend adds a
factory in `tests/state/state_store_backends.py`) and nothing else has to change.

The store's contract, whatever the backend:
- Every mutation is durable when the call returns (a crash right after loses nothing it recorded).
- Reads reflect every mutation made through the same store object, at once.
- One writer per account × step × server at a time: the caller holds the account's lock while it writes.
- Records come back typed (`UnitRecord`, `ItemRecord`, `RunRecord`), copies the caller may keep.
- An open (intent/edited) item keeps its plan and checkpoint; a done item may lose them (they exist to
  resume it), never its status or error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from stepbatch.contracts.records import ItemRecord, RunRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.workbook.models import Unit


@runtime_checkable
class ProgressStore(Protocol):
    """Progress of one account × step × server: units, their items, run history, cycle state."""

    warnings: list[str]  # recoveries made while opening (the engine emits them as `warning` events)

    # -- reads -------------------------------------------------------------------------------------
    @property
    def location(self) -> str: ...  # where it lives, for messages (a path, a database row)
    @property
    def complete(self) -> bool: ...
    @property
    def completed_at(self) -> str | None: ...
    @property
    def cycle(self) -> int: ...
    def unit(self, key: str) -> UnitRecord | None: ...
    def unit_records(self) -> list[UnitRecord]: ...  # in the order they were added
    def unit_status(self, key: str) -> UnitStatus | None: ...
    def item(self, key: str, item_id: str) -> ItemRecord | None: ...
    def unfinished_items(self, key: str) -> list[ItemRecord]: ...  # intent/edited items of the unit
    def run_records(self) -> list[RunRecord]: ...
    def counts(self) -> dict[str, int]: ...  # units by status, units_total, items_done, items_failed

    # -- mutations (each durable before it returns) ------------------------------------------------
    def add_units(self, units: Iterable[Unit]) -> list[str]: ...  # the keys that were new
    def update_unit(self, key: str, **fields: Any) -> None: ...
    def item_started(
        self, key: str, item_id: str, plan: Sequence[str], checkpoint: Mapping[str, Any] | None
    ) -> None: ...
    def item_checkpoint(self, key: str, item_id: str, data: Mapping[str, Any]) -> None: ...
    def item_status(self, key: str, item_id: str, status: ItemStatus, error: str | None = None) -> None: ...
    def set_meta(self, **fields: Any) -> None: ...
    def update_run(self, run_id: str, **fields: Any) -> None: ...
    def reset_failed(self) -> int: ...
    def mark_complete(self) -> Path | str: ...  # where the completed copy went
    def start_new_cycle(self) -> None: ...

    # -- housekeeping ------------------------------------------------------------------------------
    def compact(self, *, force: bool = False) -> None: ...  # a batch boundary: fold what can be folded
    def close(self, *, compact: bool = True) -> None: ...


@runtime_checkable
class AccountLease(Protocol):
    """Held while one run of an account works; a second `acquire` anywhere raises `AccountBusy`.

    A lease that can be lost (a shared database's, renewed in the background) calls `on_lost(reason)`
    from its own thread the moment it knows it no longer holds the account, and from then on every
    progress write of a store opened under it raises `LeaseLost`. An OS lock cannot be lost: `watch`
    does nothing.
    """

    account: str

    def acquire(self) -> None: ...
    def release(self) -> None: ...
    def watch(self, on_lost: Callable[[str], None]) -> None: ...
    def __enter__(self) -> AccountLease: ...
    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class StateBackend(Protocol):
    """Where progress and leases live: files on this machine, or (later) a shared database."""

    def open_store(
        self, account: str, step: str, server: str | None, *, compact_every: int | None = None
    ) -> ProgressStore: ...  # raises UserError when the stored progress cannot be trusted
    def lease(self, account: str, step: str) -> AccountLease: ...

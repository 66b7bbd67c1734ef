"""The contract of `stepbatch.state.store`, run against every backend, through the Protocols only.

Parametrized over `state_store_backends.STORE_FACTORIES`: a new backend adds a factory there and must
pass every test here unchanged. Nothing here reads a backend's internals (no state dicts, no file
paths). The lease's contract is in test_state_lease_contract.py.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from state_store_backends import STORE_FACTORIES, StoreBackendFactory
from state_store_child import hard_kill, read_line, spawn

from stepbatch.contracts.records import ItemRecord, RunRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.state.store import AccountLease, ProgressStore, StateBackend
from stepbatch.workbook.models import Unit

ACCOUNT, STEP, SERVER = "ABC", "step3", "서버2-1"


def units(*codes: str) -> list[Unit]:
    return [Unit(ACCOUNT, STEP, SERVER, code, "대기2") for code in codes]


def key(code: str) -> str:
    return f"{code}@{SERVER}"


class Stores:
    """Opens stores on one backend's storage; closes whatever is still open at the end."""

    def __init__(self, factory: StoreBackendFactory) -> None:
        self.factory = factory
        self.opened: list[ProgressStore] = []

    def open(self, backend: StateBackend | None = None, **kw: Any) -> ProgressStore:
        store = (backend or self.factory.backend()).open_store(ACCOUNT, STEP, SERVER, **kw)
        self.opened.append(store)
        return store

    def reopen(self, store: ProgressStore, *, compact: bool = True, **kw: Any) -> ProgressStore:
        """Close `store` and open its storage again, as a new process would."""
        store.close(compact=compact)
        self.opened.remove(store)
        return self.open(self.factory.reopen(), **kw)

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=sorted(STORE_FACTORIES))
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackendFactory:
    return STORE_FACTORIES[request.param].create(tmp_path)


@pytest.fixture
def stores(factory: StoreBackendFactory) -> Iterator[Stores]:
    opened = Stores(factory)
    yield opened
    opened.close_all()


@pytest.fixture
def store(stores: Stores) -> ProgressStore:
    return stores.open()


def item_view(record: ItemRecord | None) -> tuple[Any, ...] | None:
    """What a store keeps of an item: all of an open one; of a done one only status and error (its
    plan and checkpoint exist to resume it and may be dropped)."""
    if record is None:
        return None
    if record.status in (ItemStatus.INTENT, ItemStatus.EDITED):
        return (record.status, record.plan, record.checkpoint, record.error)
    return (record.status, record.error)


def view(store: ProgressStore, items: dict[str, list[str]]) -> dict[str, Any]:
    """Everything the Protocol can read back, for comparing a store before and after a reopen."""
    return {
        "units": store.unit_records(),
        "items": {k: [item_view(store.item(k, i)) for i in ids] for k, ids in items.items()},
        "unfinished": {k: [item_view(r) for r in store.unfinished_items(k)] for k in items},
        "runs": store.run_records(),
        "counts": store.counts(),
        "state": (store.cycle, store.complete, store.completed_at),
    }


# -- the Protocols ----------------------------------------------------------------------------------


def test_backend_store_and_lease_satisfy_the_protocols(factory: StoreBackendFactory, store) -> None:
    backend = factory.backend()
    assert isinstance(backend, StateBackend)
    assert isinstance(store, ProgressStore)
    assert isinstance(backend.lease(ACCOUNT, STEP), AccountLease)
    assert isinstance(store.location, str) and store.location


def test_a_new_store_is_empty(store: ProgressStore) -> None:
    assert store.unit_records() == []
    assert store.run_records() == []
    assert (store.cycle, store.complete, store.completed_at) == (1, False, None)
    assert store.warnings == []
    counts = store.counts()
    assert {counts[s.value] for s in UnitStatus} == {0}
    assert (counts["units_total"], counts["items_done"], counts["items_failed"]) == (0, 0, 0)
    assert store.unit("A00@nowhere") is None and store.unit_status("A00@nowhere") is None
    assert store.unfinished_items("A00@nowhere") == []


# -- units ------------------------------------------------------------------------------------------


def test_add_units_returns_only_the_new_keys_in_order(store: ProgressStore) -> None:
    assert store.add_units(units("C", "A", "B")) == [key("C"), key("A"), key("B")]
    assert store.add_units(units("A", "D", "C", "E")) == [key("D"), key("E")]
    assert store.add_units(units("A")) == []
    records = store.unit_records()
    assert [r.key for r in records] == [key(c) for c in "CABDE"]
    assert [r.order for r in records] == [0, 1, 2, 3, 4]


def test_unit_records_are_typed(store: ProgressStore) -> None:
    store.add_units(units("A00"))
    record = store.unit(key("A00"))
    assert type(record) is UnitRecord
    assert record == UnitRecord(key("A00"), "A00", SERVER, 0)
    assert type(record.status) is UnitStatus and record.status == UnitStatus.PENDING
    assert store.unit_records() == [record]
    assert store.unit_status(key("A00")) is UnitStatus.PENDING


def test_update_unit(store: ProgressStore) -> None:
    store.add_units(units("A00", "A01"))
    store.update_unit(key("A00"), status=UnitStatus.FAILED, attempts=2, last_error="boom", total_found=7)
    store.update_unit(key("A01"), status="in_progress")
    failed = store.unit(key("A00"))
    assert (failed.status, failed.attempts, failed.last_error, failed.total_found) == (
        UnitStatus.FAILED,
        2,
        "boom",
        7,
    )
    assert failed.retryable and failed.completed_at is None
    assert store.unit_status(key("A01")) is UnitStatus.IN_PROGRESS
    store.update_unit(key("A00"), permanent=True)
    assert not store.unit(key("A00")).retryable
    store.update_unit(key("A01"), status=UnitStatus.DONE)
    assert store.unit(key("A01")).completed_at is not None


# -- items ------------------------------------------------------------------------------------------


def test_item_lifecycle_intent_checkpoint_edited_done(store: ProgressStore) -> None:
    store.add_units(units("A00"))
    k = key("A00")
    store.item_started(k, "p1", ["image_delete first:1", "title_replace"], {"ops_done": 0})
    item = store.item(k, "p1")
    assert type(item) is ItemRecord and type(item.status) is ItemStatus
    assert item == ItemRecord(
        "p1", ItemStatus.INTENT, ["image_delete first:1", "title_replace"], {"ops_done": 0}
    )
    store.item_checkpoint(k, "p1", {"op": 0, "before": 9})
    store.item_checkpoint(k, "p1", {"ops_done": 1})
    assert store.item(k, "p1").checkpoint == {"ops_done": 1, "op": 0, "before": 9}
    assert [r.item_id for r in store.unfinished_items(k)] == ["p1"]
    store.item_status(k, "p1", ItemStatus.EDITED)
    assert store.unfinished_items(k) == [store.item(k, "p1")]
    assert store.item(k, "p1").status is ItemStatus.EDITED
    store.item_status(k, "p1", ItemStatus.DONE)
    assert store.item(k, "p1").status is ItemStatus.DONE
    assert store.unfinished_items(k) == []
    assert store.unit(k).items_done == 1 and store.counts()["items_done"] == 1


def test_records_are_copies(store: ProgressStore) -> None:
    store.add_units(units("A00"))
    store.item_started(key("A00"), "p1", ["x"], {"ops_done": 0})
    item = store.item(key("A00"), "p1")
    item.checkpoint["ops_done"] = 99
    item.plan.append("y")
    assert store.item(key("A00"), "p1") == ItemRecord("p1", ItemStatus.INTENT, ["x"], {"ops_done": 0})


def test_unfinished_items_in_the_order_they_started(store: ProgressStore) -> None:
    store.add_units(units("A00", "A01"))
    k = key("A00")
    for item_id in ("p3", "p1", "p2", "p4"):
        store.item_started(k, item_id, ["x"], None)
    store.item_status(k, "p1", ItemStatus.DONE)
    store.item_status(k, "p2", ItemStatus.EDITED)
    store.item_status(k, "p4", ItemStatus.FAILED, error="gone")
    assert [r.item_id for r in store.unfinished_items(k)] == ["p3", "p2"]
    assert store.unfinished_items(key("A01")) == []
    assert store.item(k, "p4").error == "gone"
    assert store.item(k, "p3").checkpoint == {}
    assert store.item(k, "nope") is None


def test_a_checkpoint_or_status_without_intent_raises_key_error(stores: Stores, store) -> None:
    store.add_units(units("A00"))
    k = key("A00")
    with pytest.raises(KeyError):
        store.item_checkpoint(k, "p1", {"ops_done": 1})
    for status in (ItemStatus.INTENT, ItemStatus.EDITED, ItemStatus.DONE):
        with pytest.raises(KeyError):
            store.item_status(k, "p1", status)
    with pytest.raises(KeyError):
        store.item_checkpoint(key("nope"), "p1", {})
    assert store.item(k, "p1") is None
    assert stores.reopen(store).item(k, "p1") is None  # nothing was committed


def test_an_item_may_fail_without_intent(stores: Stores, store) -> None:
    store.add_units(units("A00"))
    k = key("A00")
    store.item_status(k, "p1", ItemStatus.FAILED, error="no such product")
    assert store.item(k, "p1") == ItemRecord("p1", ItemStatus.FAILED, [], {}, "no such product")
    assert store.unit(k).items_failed == 1 and store.counts()["items_failed"] == 1
    assert store.unfinished_items(k) == []
    again = stores.reopen(store)
    assert item_view(again.item(k, "p1")) == (ItemStatus.FAILED, "no such product")
    assert again.counts()["items_failed"] == 1


# -- counts, runs, failed units ---------------------------------------------------------------------


def test_counts(store: ProgressStore) -> None:
    store.add_units(units("A", "B", "C", "D", "E"))
    store.update_unit(key("A"), status=UnitStatus.DONE)
    store.update_unit(key("B"), status=UnitStatus.DONE)
    store.update_unit(key("C"), status=UnitStatus.FAILED)
    store.update_unit(key("D"), status=UnitStatus.PARTIAL)
    for n, status in enumerate((ItemStatus.DONE, ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.EDITED)):
        store.item_started(key("D"), f"p{n}", ["x"], None)
        store.item_status(key("D"), f"p{n}", status)
    assert store.counts() == {
        "pending": 1,
        "in_progress": 0,
        "done": 2,
        "partial": 1,
        "failed": 1,
        "units_total": 5,
        "items_done": 2,
        "items_failed": 1,
    }
    store.item_status(key("D"), "p0", ItemStatus.FAILED)  # a done item found broken later moves over
    assert (store.counts()["items_done"], store.counts()["items_failed"]) == (1, 2)


def test_update_run_and_run_records(store: ProgressStore) -> None:
    store.update_run("r1", cycle=1, outcome="running", started_at="2024-01-01T00:00:00+00:00")
    store.update_run("r2", cycle=1, outcome="running")
    store.update_run("r1", outcome="completed", items_done=4, restarts={"browser": 1}, duration_s=2.5)
    runs = store.run_records()
    assert all(type(r) is RunRecord for r in runs)
    assert [(r.run_id, r.outcome) for r in runs] == [("r1", "completed"), ("r2", "running")]
    first = runs[0]
    assert (first.items_done, dict(first.restarts), first.duration_s, first.started_at) == (
        4,
        {"browser": 1},
        2.5,
        "2024-01-01T00:00:00+00:00",
    )


def test_reset_failed(store: ProgressStore) -> None:
    store.add_units(units("A", "B", "C"))
    assert store.reset_failed() == 0
    store.update_unit(key("A"), status=UnitStatus.FAILED, attempts=3, permanent=True, last_error="x")
    store.update_unit(key("B"), status=UnitStatus.FAILED, attempts=1, last_error="y")
    store.update_unit(key("C"), status=UnitStatus.DONE, attempts=1)
    assert store.reset_failed() == 2
    for code in "AB":
        assert store.unit(key(code)) == UnitRecord(key(code), code, SERVER, "AB".index(code))
    assert store.unit(key("C")).status is UnitStatus.DONE and store.unit(key("C")).attempts == 1
    assert store.reset_failed() == 0


# -- cycles -----------------------------------------------------------------------------------------


def test_mark_complete(stores: Stores, store) -> None:
    store.add_units(units("A"))
    store.update_unit(key("A"), status=UnitStatus.DONE)
    where = store.mark_complete()
    assert isinstance(where, Path | str) and str(where)
    assert store.complete and store.completed_at is not None
    again = stores.reopen(store)
    assert again.complete and again.completed_at == store.completed_at


def test_start_new_cycle_keeps_the_cycle_number_and_run_history(stores: Stores, store) -> None:
    store.add_units(units("A", "B"))
    store.update_run("r1", cycle=1, outcome="completed")
    store.mark_complete()
    store.start_new_cycle()
    assert (store.cycle, store.complete, store.completed_at) == (2, False, None)
    assert store.unit_records() == [] and store.counts()["units_total"] == 0
    assert [r.run_id for r in store.run_records()] == ["r1"]
    again = stores.reopen(store)
    assert (again.cycle, again.complete, again.unit_records()) == (2, False, [])
    assert [r.run_id for r in again.run_records()] == ["r1"]
    assert again.add_units(units("A", "B")) == [key("A"), key("B")]


# -- durability -------------------------------------------------------------------------------------


def every_mutation(store: ProgressStore) -> dict[str, list[str]]:
    """One of each mutation (and a compaction among them); returns the items made, by unit."""
    store.add_units(units("A", "B", "C"))
    store.update_unit(key("A"), status=UnitStatus.IN_PROGRESS, total_found=3)
    store.item_started(key("A"), "p1", ["image_delete first:1"], {"ops_done": 0})
    store.item_checkpoint(key("A"), "p1", {"ops_done": 1, "before": 9})
    store.item_status(key("A"), "p1", ItemStatus.EDITED)
    store.item_status(key("A"), "p1", ItemStatus.DONE)
    store.compact()
    store.item_started(key("A"), "p2", ["x", "y"], None)
    store.item_checkpoint(key("A"), "p2", {"ops_done": 1})
    store.item_status(key("A"), "p3", ItemStatus.FAILED, error="gone")
    store.update_unit(key("B"), status=UnitStatus.FAILED, attempts=1, last_error="boom")
    store.update_unit(key("C"), status=UnitStatus.DONE)
    store.set_meta(current_batch_start_time="2024-01-01T00:00:00+00:00")
    store.update_run("r1", cycle=1, outcome="running")
    store.update_run("r1", outcome="stopped", items_done=1)
    store.reset_failed()
    return {key("A"): ["p1", "p2", "p3"], key("B"): [], key("C"): []}


@pytest.mark.parametrize("compact", [True, False], ids=["close", "close-without-compaction"])
@pytest.mark.parametrize("compact_every", [None, 2], ids=["default", "compact-every-2"])
def test_every_mutation_survives_close_and_reopen(stores: Stores, compact: bool, compact_every) -> None:
    store = stores.open(compact_every=compact_every)
    items = every_mutation(store)
    before = view(store, items)
    again = stores.reopen(store, compact=compact)
    assert view(again, items) == before
    assert again.warnings == []


def test_a_completed_and_restarted_store_survives_reopen(stores: Stores, store) -> None:
    items = every_mutation(store)
    store.mark_complete()
    store.start_new_cycle()
    store.add_units(units("Z"))
    before = view(store, {**items, key("Z"): []})
    assert view(stores.reopen(store), {**items, key("Z"): []}) == before


def test_every_acknowledged_commit_survives_a_kill(stores: Stores, factory: StoreBackendFactory) -> None:
    child = spawn("commits", factory.spec())
    try:
        acks = [read_line(child) for _ in range(80)]  # ~20 items, with compactions in between
    finally:
        hard_kill(child)
    if hasattr(signal, "SIGKILL"):
        assert child.returncode == -signal.SIGKILL
    store = stores.open(factory.reopen())
    k = key("A00")
    assert store.unit(k) is not None
    for line in acks:
        _, op, number = line.split()
        n = int(number)
        item = store.item(k, f"p{n}")
        if op == "started":
            assert item is not None, line
        elif op == "checkpoint":
            assert item is not None and (
                item.status is ItemStatus.DONE or item.checkpoint["ops_done"] == 1
            ), line
        elif op == "done":
            assert item is not None and item.status is ItemStatus.DONE, line
        elif op == "run":
            assert store.run_records()[0].items_done >= n + 1, line
    done = sum(1 for line in acks if line.startswith("ACK done "))
    assert store.unit(k).items_done >= done
    store.item_started(k, "after", ["x"], None)  # the store reopened after a kill takes commits again
    assert stores.reopen(store).item(k, "after") is not None

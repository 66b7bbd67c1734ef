"""A lease lost mid-run (a shared database's): the browser is killed at once, nothing more is recorded,
`LeaseLost` comes out of `run_account`, and the run that takes over finishes the work exactly once.
Also `StopSwitch`: a run stopped from another thread stops at an item boundary and resumes cleanly."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import Harness, check_exactly_once

from stepbatch.engine.errors import LeaseLost
from stepbatch.engine.signals import StopSwitch
from stepbatch.state.backends import FileBackend
from stepbatch.state.lock import AccountLock

MUTATIONS = (
    "add_units",
    "update_unit",
    "item_started",
    "item_checkpoint",
    "item_status",
    "set_meta",
    "update_run",
    "reset_failed",
    "mark_complete",
    "start_new_cycle",
)


class LosableLease:
    """An OS lock that the test can declare lost, as a database lease's renew thread would."""

    def __init__(self, lock: AccountLock) -> None:
        self.lock = lock
        self.account = lock.account
        self.on_lost: Callable[[str], None] | None = None
        self.lost = False

    def acquire(self) -> None:
        self.lock.acquire()

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> LosableLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def watch(self, on_lost: Callable[[str], None]) -> None:
        self.on_lost = on_lost

    def lose(self, reason: str) -> None:
        self.lost = True
        assert self.on_lost is not None, "the engine did not watch its lease"
        self.on_lost(reason)


class FencedStore:
    """The file store, refusing every mutation once the lease is lost (as the database's fence does)."""

    def __init__(self, store: Any, lease: LosableLease) -> None:
        self._store = store
        self._lease = lease
        self.refused: list[str] = []
        self.writes_after_loss = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in MUTATIONS:
            return attr

        def fenced(*args: Any, **kwargs: Any) -> Any:
            if self._lease.lost:
                self.refused.append(name)
                raise LeaseLost("the lease was taken over")
            return attr(*args, **kwargs)

        return fenced


class LosableBackend:
    def __init__(self, state_dir: Path) -> None:
        self.files = FileBackend(state_dir)
        self.lease_obj: LosableLease | None = None
        self.store_obj: FencedStore | None = None

    def lease(self, account: str, step: str) -> LosableLease:
        self.lease_obj = LosableLease(self.files.lease(account, step))  # type: ignore[arg-type]
        return self.lease_obj

    def open_store(self, account: str, step: str, server: str | None, *, compact_every: int | None = None):
        assert self.lease_obj is not None
        store = self.files.open_store(account, step, server, compact_every=compact_every)
        self.store_obj = FencedStore(store, self.lease_obj)
        return self.store_obj


def test_a_lost_lease_kills_the_browser_records_nothing_more_and_raises(tmp_path: Path) -> None:
    run = Harness(tmp_path, [3, 3], seed=3)
    backend = LosableBackend(run.state_dir)
    items = 0
    killed_at_once: list[bool] = []

    def lose_after_two_items(event: dict) -> None:
        nonlocal items
        if event["event"] == "item":
            items += 1
            if items == 2:
                backend.lease_obj.lose("taken over by worker-2")  # type: ignore[union-attr]
                killed_at_once.append(run.factory.browsers[-1].killed.is_set())

    with pytest.raises(LeaseLost):
        run.run(listeners=[lose_after_two_items], engine={"backend": backend})
    store = backend.store_obj
    assert store is not None
    assert killed_at_once == [True]  # by on_lost itself, before the engine's next step
    assert not run.factory.browsers[-1].closed  # killed, not closed politely (that takes time)
    assert store.refused, "the engine never tried to record after the loss: the test proves nothing"
    assert len(store.refused) == 1  # the first refused write ends the run: no reaction writes again
    assert not run.factory.unclosed

    # The worker that takes over (a plain file lease here) finishes the rest exactly once.
    summary = run.run()
    assert summary.outcome == "complete"
    assert check_exactly_once(run.site) == []


def test_a_stop_switch_stops_the_run_from_another_thread_and_it_resumes(tmp_path: Path) -> None:
    run = Harness(tmp_path, [4, 4], seed=3)
    switch = StopSwitch()
    first_item = threading.Event()

    def on_event(event: dict) -> None:
        if event["event"] == "item" and not first_item.is_set():
            first_item.set()
            stopper = threading.Thread(target=switch.request, args=("signal SIGTERM (worker)",))
            stopper.start()
            stopper.join()

    summary = run.run(listeners=[on_event], engine={"stop_switch": switch})
    assert summary.outcome in ("interrupted", "stopped")
    assert summary.stop_reason == "signal SIGTERM (worker)"
    assert summary.items_done < 8
    assert not run.factory.unclosed
    resumed = run.run()
    assert resumed.outcome == "complete"
    assert check_exactly_once(run.site) == []


def test_a_stop_requested_before_the_run_attaches_still_stops_it(tmp_path: Path) -> None:
    run = Harness(tmp_path, [2], seed=3)
    switch = StopSwitch()
    switch.request("signal SIGINT (worker)")
    summary = run.run(engine={"stop_switch": switch})
    assert summary.stop_reason == "signal SIGINT (worker)"
    assert summary.items_done == 0
